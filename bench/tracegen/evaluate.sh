#!/usr/bin/env bash
# Backtests the forecaster on freshly generated traces (bench/tracegen/gen.py) and prints, per
# shape, its scores pooled over the seeds beside the two predict_linear baselines'.
# Usage: bench/tracegen/evaluate.sh [SEEDS] [PER_SHAPE]   (default: seeds 1,2,3,4,5; 3 per shape)
# Env: HEADROOM (default: the release build of the CLI). Work files go to $TMPDIR/headroom-tracegen.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seeds="${1:-1,2,3,4,5}" per_shape="${2:-3}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
headroom="${HEADROOM:-$target/release/headroom}"
work="${TMPDIR:-/tmp}/headroom-tracegen"
mkdir -p "$work"
for seed in ${seeds//,/ }; do
  dir="$work/seed$seed"
  if [ ! -f "$dir/truth.json" ]; then
    python3 "$here/gen.py" --out "$dir" --seed "$seed" --per-shape "$per_shape" >/dev/null
    # The baseline reads every *.json as a trace, truth.json included: give it the traces only.
    mkdir -p "$dir.traces" && for f in "$dir"/*-*.json; do ln -sf "$f" "$dir.traces/"; done
    for window in 24 168; do
      python3 "$root/tools/baseline_predict_linear.py" "$dir.traces" "$dir.linear$window.jsonl" --window-h "$window" >/dev/null
    done
  fi
  "$headroom" backtest --traces "$dir" --out "$dir.forecast.jsonl" >/dev/null
done
python3 "$here/pool.py" "$work" "$seeds" "$root/tools"
