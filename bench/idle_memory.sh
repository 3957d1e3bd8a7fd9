#!/usr/bin/env bash
# Idle memory of the release app's whole process tree (the app, WebKitWebProcess,
# WebKitNetworkProcess and anything else it started) 30 s after start in the demo: the sum of Pss
# (and Rss) from /proc/<pid>/smaps_rollup. Empty HEADROOM_DATA_DIR and throwaway HOME, under Xvfb.
# Usage: bench/idle_memory.sh [SECONDS] [HISTORY_DAYS]   (default: 30 s, the demo's 30 days)
set -euo pipefail
wait_s="${1:-30}" days="${2:-30}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
app="${HEADROOM_APP:-$target/release/headroom-app}"
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$0" "$@"
fi
work="$(mktemp -d)"
mkdir -p "$work/home"
HOME="$work/home" HEADROOM_DATA_DIR="$work/data" HEADROOM_DEMO_HISTORY_DAYS="$days" "$app" >"$work/app.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
sleep "$wait_s"
# The app and every descendant, by parent pid.
tree() {
  local all; all="$(ps -e -o pid=,ppid=)"
  local found="$1" frontier="$1"
  while [ -n "$frontier" ]; do
    local next=""
    for p in $frontier; do next="$next $(awk -v p="$p" '$2 == p {print $1}' <<<"$all")"; done
    frontier="$(echo $next)"; found="$found $frontier"
  done
  echo $found
}
total_pss=0 total_rss=0
printf '%-8s %-24s %10s %10s\n' pid name "PSS MiB" "RSS MiB"
for p in $(tree "$pid"); do
  [ -r "/proc/$p/smaps_rollup" ] || continue
  read -r rss pss < <(awk '/^Rss:/ {r=$2} /^Pss:/ {s=$2} END {print r, s}' "/proc/$p/smaps_rollup")
  printf '%-8s %-24s %10.1f %10.1f\n' "$p" "$(cat /proc/$p/comm)" "$(echo "$pss/1024" | bc -l)" "$(echo "$rss/1024" | bc -l)"
  total_pss=$((total_pss + pss)) total_rss=$((total_rss + rss))
done
printf 'tree, %s s after start (%s days of demo history): PSS %.1f MiB, RSS %.1f MiB\n' \
  "$wait_s" "$days" "$(echo "$total_pss/1024" | bc -l)" "$(echo "$total_rss/1024" | bc -l)"
