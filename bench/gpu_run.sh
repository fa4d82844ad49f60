#!/usr/bin/env bash
# The GPU measurements of issue 6, in one go on a machine with an NVIDIA GPU (used through the device tool):
# build with CUDA, run the whole test suite on the GPU, then the paper's LM1B model (`--preset paper-lm1b`) on a
# synthetic LM1B-scale corpus with dense and cs-mv Adam, sketchgrad beside PyTorch (bench/compare_pytorch.py).
# Usage: bench/gpu_run.sh OUT_DIR [STEPS]     (TF32=on: both trainers with TF32 tensor cores; default strict FP32)
set -uo pipefail
DEST=${1:?usage: bench/gpu_run.sh OUT_DIR [STEPS]}
STEPS=${2:-100}
TF32=${TF32:-off}
OUT=/tmp/gpu-results  # everything lands here, then one archive + the key texts go to DEST
rm -rf "$OUT" && mkdir -p "$OUT" "$DEST"
trap 'tar czf "$DEST/gpu-results.tgz" -C /tmp gpu-results /tmp/compare 2>/dev/null; cp "$OUT"/*.txt "$OUT"/ctest.log "$DEST/" 2>/dev/null' EXIT
export OMP_WAIT_POLICY=passive PYTHONUNBUFFERED=1
{ nvidia-smi; nproc; date -u; git log -1 --format=%H; } >"$OUT/machine.txt" 2>&1
cmake -S . -B build-gpu -DSKETCHGRAD_CUDA=ON -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1 &&
  cmake --build build-gpu -j "$(nproc)" >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
echo "build done $(date -u +%T)"
(cd build-gpu && ctest -j 8 --output-on-failure >"$OUT/ctest.log" 2>&1); echo "ctest rc=$? $(date -u +%T)"
grep -E "tests passed|tests failed|Skipped|Failed" "$OUT/ctest.log" | head -20
build-gpu/bin/sketchgrad plan --preset paper-lm1b --optimizer adam --compare >"$OUT/plan-paper.txt" 2>&1
# Where the sketch overhead goes (issue 6: 10.7 % of the step vs 3 %): update and query timed apart.
build-gpu/bin/optim_bench --benchmark_filter='memcpy/cuda|sketch.*/cuda|adam_step/cuda/(embedding|softmax_sampled)' \
  --benchmark_min_time=0.3 >"$OUT/optim_bench.txt" 2>&1
if command -v nsys >/dev/null; then
  nsys profile --stats=true -o "$OUT/optim_sketch" build-gpu/bin/optim_bench \
    --benchmark_filter='adam_step/cuda/embedding_sparse/cs-mv' --benchmark_min_time=0.3 >"$OUT/nsys-optim.txt" 2>&1
fi
python3 bench/compare_pytorch.py --preset paper-lm1b --device cuda --variant all --steps "$STEPS" \
  --synth-sentences 400000 --eval-tokens 20000 --tf32 "$TF32" --sketchgrad build-gpu/bin/sketchgrad --python python3 \
  --out "$OUT" --work-dir /tmp/compare 2>&1 | tee "$OUT/compare.txt"
echo "all done $(date -u +%T)"
