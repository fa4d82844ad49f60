#!/usr/bin/env bash
# The GPU measurements of issue 6 on a machine with an NVIDIA GPU (the device tool), in stages that each fit its
# 10-minute limit per command:
#   build    configure and build with CUDA (Release, build-gpu/)
#   test     the whole test suite on the GPU (ctest)
#   bench    `plan` of the paper model, optim_bench's CUDA sketch/Adam timings (update and query apart), nsys if
#            present
#   compare  the paper's LM1B model (`--preset paper-lm1b`, V = 793,471) on a synthetic LM1B-scale corpus with
#            dense, cs-mv and cs-v-nom Adam, sketchgrad beside PyTorch (bench/compare_pytorch.py --variant all)
# Usage: bench/gpu_run.sh OUT_DIR [STAGES] [STEPS]   STAGES: comma list, default build,test,bench,compare;
#        STEPS: training steps per compare run (default 100). TF32=on: both trainers with TF32 tensor cores.
# Device tool: run `bench/gpu_run.sh $OUT build,test,bench` (about 5 minutes), then at once (the machine stays warm
# 30 s, and build-gpu/ with it) `bench/gpu_run.sh $OUT build,compare` (build is then a no-op). What lands in OUT_DIR
# (at most 8 files): machine.txt, build-tail.txt, ctest.log, plan-paper.txt, optim_bench.txt, nsys-optim.txt,
# compare.txt, compare-*.json.
set -uo pipefail
DEST=${1:?usage: bench/gpu_run.sh OUT_DIR [STAGES] [STEPS]}
STAGES=",${2:-build,test,bench,compare},"
STEPS=${3:-100}
TF32=${TF32:-off}
mkdir -p "$DEST"
export OMP_WAIT_POLICY=passive PYTHONUNBUFFERED=1
has() { [[ "$STAGES" == *",$1,"* ]]; }
{ nvidia-smi; nproc; date -u; git log -1 --format=%H 2>/dev/null; } >"$DEST/machine.txt" 2>&1
if has build; then
  { cmake -S . -B build-gpu -DSKETCHGRAD_CUDA=ON -DCMAKE_BUILD_TYPE=Release &&
    cmake --build build-gpu -j "$(nproc)"; } >/tmp/gpu-build.log 2>&1
  rc=$?
  tail -40 /tmp/gpu-build.log >"$DEST/build-tail.txt"
  echo "build rc=$rc $(date -u +%T)"
  [ $rc -eq 0 ] || { cat "$DEST/build-tail.txt"; exit 1; }
fi
if has test; then
  (cd build-gpu && ctest -j 8 --output-on-failure >"$DEST/ctest.log" 2>&1)
  echo "ctest rc=$? $(date -u +%T)"
  grep -E "tests passed|tests failed|\(Failed\)|\(Skipped\)" "$DEST/ctest.log" | head -20
fi
if has bench; then
  build-gpu/bin/sketchgrad plan --preset paper-lm1b --optimizer adam --compare >"$DEST/plan-paper.txt" 2>&1
  # Where the sketch overhead goes (issue 6: 10.7 % of the step vs 3 %): update and query timed apart.
  build-gpu/bin/optim_bench --benchmark_filter='memcpy/cuda|sketch.*/cuda|adam_step/cuda/(embedding|softmax_sampled)' \
    --benchmark_min_time=0.3 >"$DEST/optim_bench.txt" 2>&1
  if command -v nsys >/dev/null; then
    nsys profile --stats=true -o /tmp/optim_sketch build-gpu/bin/optim_bench \
      --benchmark_filter='adam_step/cuda/embedding_sparse/cs-mv' --benchmark_min_time=0.3 >"$DEST/nsys-optim.txt" 2>&1
  fi
  echo "bench done $(date -u +%T)"
fi
if has compare; then
  python3 bench/compare_pytorch.py --preset paper-lm1b --device cuda --variant all --steps "$STEPS" \
    --synth-sentences 400000 --eval-tokens 20000 --tf32 "$TF32" --sketchgrad build-gpu/bin/sketchgrad \
    --python python3 --out "$DEST" --work-dir /tmp/compare 2>&1 | tee "$DEST/compare.txt"
  echo "compare done $(date -u +%T)"
fi
