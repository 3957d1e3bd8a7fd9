#!/usr/bin/env bash
# Cold start of the release app to an interactive dashboard, in the demo: each run gets an empty
# HEADROOM_DATA_DIR (so the demo opens by itself and writes its history first) and a throwaway
# HOME, under Xvfb. The time runs from the app's exec to the first meter card in the DOM
# (bench/startup.mjs, through tauri-driver). Prints each run and the median.
# Usage: bench/startup.sh [RUNS] [HISTORY_DAYS]   (default: 5 runs, 365 days of demo history)
# Env: HEADROOM_APP (default: the release build). Needs xvfb-run, dbus-run-session, tauri-driver
# and tests/e2e's node modules (npm ci in tests/e2e).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-5}" days="${2:-365}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
export HEADROOM_APP="${HEADROOM_APP:-$target/release/headroom-app}"
export HEADROOM_DEMO_HISTORY_DAYS="$days"
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$0" "$@"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
times=()
for run in $(seq 1 "$runs"); do
  work="$(mktemp -d)"
  export HEADROOM_DATA_DIR="$work/data" TAURI_DRIVER_PORT="$(free_port)"
  mkdir -p "$work/home"
  HOME="$work/home" tauri-driver --port "$TAURI_DRIVER_PORT" --native-port "$(free_port)" >"$work/driver.log" 2>&1 &
  driver=$!
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$TAURI_DRIVER_PORT") 2>/dev/null && break; sleep 0.1; done
  read -r ms cards <<<"$(timeout 180 node "$here/startup.mjs" 2>>"$work/node.log")"
  kill "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true
  rm -rf "$work"
  echo "run $run: ${ms} ms from exec to the dashboard ($cards cards, $days days of history)"
  times+=("$ms")
  sleep 1
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "median of $runs: $median ms"
