#!/usr/bin/env bash
# `make demo`: on the bundled State of the Union corpus (data/sotu), train the small default model twice with the
# same steps and seed - dense Adam, then Adam with sketched state (cs-mv: m in a Count-Sketch, v in a Count-Min
# sketch, 5x smaller, on the embedding and softmax) - then print both held-out perplexities and memory plans side
# by side, and generate a few sentences from the sketched model. Everything lands in out/demo/.
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
for state in dense cs-mv; do
  echo "== training with --state $state ($STEPS steps) =="
  "$BIN" train "${common[@]}" --state "$state" --checkpoint "$OUT/$state" --log "$OUT/$state.jsonl" \
    --summary-json "$OUT/$state.summary.json"
done

echo
echo "== memory plan of this configuration, dense vs sketched =="
"$BIN" plan --data "$DATA" --preset small --compare --svg "$OUT/plan.svg" | sed -n '/dense vs sketched/,$p'

echo
echo "== results after $STEPS steps (held-out: data/sotu heldout shard, full softmax) =="
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = {s: json.load(open(f"{out}/{s}.summary.json")) for s in ("dense", "cs-mv")}
def state_bytes(s):
    c = rows[s]["planned_peak_bytes"]
    return sum(v for k, v in c.items() if k.startswith("optimizer"))
print(f"{'':28}{'dense':>14}{'cs-mv':>14}")
print(f"{'held-out perplexity':28}{rows['dense']['heldout_perplexity']:>14.2f}{rows['cs-mv']['heldout_perplexity']:>14.2f}")
print(f"{'words/s':28}{rows['dense']['words_per_s']:>14.0f}{rows['cs-mv']['words_per_s']:>14.0f}")
print(f"{'optimizer state (MB)':28}{state_bytes('dense')/1e6:>14.2f}{state_bytes('cs-mv')/1e6:>14.2f}")
print(f"{'planned memory (MB)':28}{rows['dense']['planned_bytes']/1e6:>14.2f}{rows['cs-mv']['planned_bytes']/1e6:>14.2f}")
d, s = rows['dense']['heldout_perplexity'], rows['cs-mv']['heldout_perplexity']
print(f"cs-mv / dense perplexity: {s / d:.3f}   optimizer state: {state_bytes('cs-mv') / state_bytes('dense'):.2f}x")
PY

echo
echo "== sentences from the cs-mv model (temperature 0.8, top-k 40) =="
"$BIN" generate --checkpoint "$OUT/cs-mv" --count 4 --temperature 0.8 --top-k 40 --seed 7 --threads "$THREADS"
echo
echo "demo outputs: $OUT (checkpoints, JSON-lines logs, summaries, plan.svg)"
