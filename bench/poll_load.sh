#!/usr/bin/env bash
# The headless poller (`headroom poll`, the same core as the app) polling N simulated DeepSeek
# accounts served by `headroom sim`, with the poller's CPU time and memory sampled over the run.
# Usage: bench/poll_load.sh [--sources N] [--interval 5s|1m|…] [--minutes M] [--every SECONDS]
#   e.g. --sources 50 --interval 5s --minutes 9  (memory: about 5,400 polls, more than a day of
#          50 meters polled every 15 minutes; 5 s is the shortest interval `sources add` takes)
#        --sources 200 --interval 1m --minutes 4 --every 30  (CPU of 200 sources every minute)
# Prints one sample a line (seconds, poller CPU s, poller RSS/PSS KiB, sim CPU s), then a summary:
# readings stored, CPU % of one core for the poller and (separately) the simulator, PSS
# first/last and its least-squares slope, RSS first/last. Uses the release CLI ($CARGO_TARGET_DIR/release/headroom).
set -euo pipefail
cd "$(dirname "$0")/.."
sources=50 interval=1s minutes=4 every=10
while [ $# -gt 0 ]; do
  case "$1" in
    --sources) sources=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
target="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
cli="${HEADROOM_CLI:-$target/release/headroom}"
[ -x "$cli" ] || { echo "no release CLI at $cli (cargo build --release -p headroom-cli)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export HEADROOM_DATA_DIR="$work/data"

# A scenario of N DeepSeek accounts, each with its own key (keys must differ).
python3 - "$sources" >"$work/scenario.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"name": "load", "accounts": [
    {"provider": "deepseek", "name": f"acct-{i}", "key": f"sk-sim-load-{i:04d}",
     "currency": "USD", "total_credits": "1000", "granted_credits": "0",
     "usage_now": "10", "burn_per_hour": "0.5"} for i in range(n)]}))
PY
"$cli" sim --scenario "$work/scenario.json" >"$work/sim.out" 2>"$work/sim.err" &
sim=$!; pids+=("$sim")
for _ in $(seq 1 100); do [ -s "$work/sim.out" ] && break; sleep 0.1; done
base_url="$(head -n1 "$work/sim.out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["base_url"])')"
for i in $(seq 0 $((sources - 1))); do
  export "HEADROOM_LOAD_KEY_$i=sk-sim-load-$(printf %04d "$i")"
  "$cli" sources add deepseek --name "acct-$i" --base-url "$base_url" \
    --key-env "HEADROOM_LOAD_KEY_$i" --interval "$interval" >/dev/null
done

"$cli" poll >"$work/poll.out" 2>"$work/poll.err" &
poller=$!; pids+=("$poller")
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
mem() { awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} END {print r, p}' "/proc/$1/smaps_rollup"; }
sleep 2 # past start-up (opening the store, the first round of polls)
start=$SECONDS
echo "# t_s poller_cpu_s poller_rss_kib poller_pss_kib sim_cpu_s"
{
  while :; do
    kill -0 "$poller" 2>/dev/null || { echo "the poller exited:" >&2; tail "$work/poll.err" >&2; exit 1; }
    echo "$((SECONDS - start)) $(cpu "$poller") $(mem "$poller") $(cpu "$sim")"
    [ $((SECONDS - start)) -ge $((minutes * 60)) ] && break
    sleep "$every"
  done
} | tee "$work/samples"
polls="$(python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])' "$HEADROOM_DATA_DIR/headroom.sqlite")"
python3 - "$work/samples" "$polls" "$sources" "$interval" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if not l.startswith("#")]
polls, sources, interval = sys.argv[2], sys.argv[3], sys.argv[4]
t0, t1 = rows[0], rows[-1]
span = t1[0] - t0[0]
xs = [r[0] for r in rows]; ys = [r[3] for r in rows]
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
print(f"\n{sources} sources every {interval}, {span:.0f} s sampled, {polls} readings stored in all")
print(f"poller CPU: {(t1[1] - t0[1]) / span * 100:.2f}% of one core")
print(f"sim CPU:    {(t1[4] - t0[4]) / span * 100:.2f}% of one core (not the poller's)")
print(f"poller PSS: first {t0[3] / 1024:.1f} MiB, last {t1[3] / 1024:.1f} MiB, max {max(ys) / 1024:.1f} MiB,"
      f" slope {slope * 3600 / 1024:+.2f} MiB/hour; RSS first {t0[2] / 1024:.1f}, last {t1[2] / 1024:.1f} MiB")
PY
