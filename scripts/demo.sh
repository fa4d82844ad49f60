#!/usr/bin/env bash
# `make demo`: on the bundled State of the Union corpus (data/sotu), train the small default model four times
# with the same steps and seed - dense Adam; Adam with sketched state (cs-mv: m in a Count-Sketch, v in a
# Count-Min sketch, 5x smaller, on the embedding and softmax); and cs-v-nom (no first moment on those tables, v in
# a 5x Count-Min, conservative update, cleaned x0.2 every 125 steps: 10x smaller); and bf16 (every moment dense
# in bfloat16 with stochastic rounding: 2x smaller) - then print the perplexities and
# memory plans side by side, and generate a few sentences from the cs-mv model. Everything lands in out/demo/.
# Usage: scripts/demo.sh [BUILD_DIR]   (DEMO_STEPS, DEMO_THREADS override the defaults)
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin/sketchgrad
DATA=data/sotu
OUT=out/demo
STEPS=${DEMO_STEPS:-600}
THREADS=${DEMO_THREADS:-0}
[[ -x $BIN ]] || { echo "demo: $BIN not found (run make build)" >&2; exit 1; }
[[ -d $DATA ]] || { echo "demo: bundled corpus $DATA is missing (it is part of the repository)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

common=(--data "$DATA" --preset small --steps "$STEPS" --threads "$THREADS" --seed 1 --progress-every 50)
STATES=(dense cs-mv cs-v-nom bf16)
for state in "${STATES[@]}"; do
  echo "== training with --state $state ($STEPS steps) =="
  "$BIN" train "${common[@]}" --state "$state" --checkpoint "$OUT/$state" --log "$OUT/$state.jsonl" \
    --summary-json "$OUT/$state.summary.json"
done

echo
echo "== memory plan of this configuration, the policies side by side =="
"$BIN" plan --data "$DATA" --preset small --threads "$THREADS" --compare-states "${STATES[@]}" \
  --svg "$OUT/plan.svg" | sed -n '/side by side/,$p'

echo
echo "== results after $STEPS steps (held-out: data/sotu heldout shard, full softmax) =="
python3 - "$OUT" "${STATES[@]}" <<'PY'
import json, re, sys
out, states = sys.argv[1], sys.argv[2:]
rows = {s: json.load(open(f"{out}/{s}.summary.json")) for s in states}
UNIT = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
def table_state(s):
    """Optimizer state bytes of the embedding and softmax matrices, from the optimizer's description."""
    total = 0
    for line in rows[s]["optimizer"].splitlines():
        if line.startswith(("embedding/W", "softmax/W")):
            total += sum(float(v) * UNIT[u] for v, u in re.findall(r"([0-9.]+) (B|KiB|MiB|GiB)", line))
    return total
def all_state(s):
    return sum(v for k, v in rows[s]["planned_peak_bytes"].items() if k.startswith("opt_state"))
others = states[1:]
print(f"{'':34}{'dense':>10}" + "".join(f"{s:>10}{'ratio':>7}" for s in others))
def row(name, f, fmt):
    base = f("dense")
    print(f"{name:34}{fmt.format(base):>10}" +
          "".join(f"{fmt.format(f(s)):>10}{f(s) / base:>7.3f}" for s in others))
row("held-out perplexity", lambda s: rows[s]["heldout_perplexity"], "{:.2f}")
row("words/s", lambda s: rows[s]["words_per_s"], "{:.0f}")
row("emb+softmax optimizer state (MB)", lambda s: table_state(s) / 1e6, "{:.2f}")
row("all optimizer state (MB)", lambda s: all_state(s) / 1e6, "{:.2f}")
row("planned memory (MB)", lambda s: rows[s]["planned_bytes"] / 1e6, "{:.2f}")
PY

echo
echo "== sentences from the cs-mv model (temperature 0.8, top-k 40) =="
"$BIN" generate --checkpoint "$OUT/cs-mv" --count 4 --temperature 0.8 --top-k 40 --seed 7 --threads "$THREADS"
echo
echo "demo outputs: $OUT (checkpoints, JSON-lines logs, summaries, plan.svg)"
