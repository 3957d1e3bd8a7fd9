#!/usr/bin/env bash
# The app's life on a desktop, with the real binary in a real (virtual) X display:
#   - its window comes up (and how fast);
#   - a second launch on the same data directory exits at once with status 0, one window;
#   - with no tray host, closing the window quits;
#   - with a tray host (a stand-in: the fake-tray-host example), the tray icon registers with it,
#     closing hides the window and Headroom keeps running, and a second launch shows it again;
#   - `--background` (the login entry's argument) starts it in the tray without its window;
#   - SIGTERM quits with status 0 and saves the window's size and place, which the next start
#     restores.
# Usage: tests/desktop/run.sh [APP_BINARY]  (default: the debug build). Needs DISPLAY and a
# session bus of its own: scripts/test.sh runs it under xvfb-run and dbus-run-session.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
: "${DISPLAY:?no DISPLAY: run this under xvfb-run (see scripts/test.sh)}"
: "${DBUS_SESSION_BUS_ADDRESS:?no session bus: run this under dbus-run-session (see scripts/test.sh)}"
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
app="${1:-$target/debug/headroom-app}"
fake_host="${HEADROOM_FAKE_TRAY_HOST:-$target/debug/examples/fake-tray-host}"
[ -x "$app" ] || { echo "no app binary at $app" >&2; exit 1; }
[ -x "$fake_host" ] || { echo "no fake tray host at $fake_host (cargo build -p headroom-app --example fake-tray-host)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Nothing here touches the real home: autostart entries, config and caches go to a throwaway one.
export HOME="$work/home" HEADROOM_DATA_DIR="$work/data"
mkdir -p "$HOME"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL $*"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The Headroom top-level windows (GTK also makes unmapped helper windows, without the title).
windows() { xwininfo -root -children | awk '/"Headroom"/ {print $1}'; }
map_state() { xwininfo -id "$1" 2>/dev/null | awk -F': ' '/Map State/ {print $2}'; }
viewable() { for w in $(windows); do [ "$(map_state "$w")" = IsViewable ] && echo "$w"; done; true; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local until=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -ge "$until" ] && return 1; sleep 0.1; done
}
shown() { [ -n "$(viewable)" ]; }
hidden() { [ -z "$(viewable)" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
launch() { "$app" "$@" >>"$work/app.log" 2>&1 & app_pid=$!; pids+=("$app_pid"); }
exit_status() { local s=0; wait "$1" || s=$?; echo "$s"; }

echo "==> desktop life of $app"

# 1. The window comes up.
start=$(ms)
launch
if wait_for 60 shown; then ok "the window comes up ($(( $(ms) - start )) ms from launch to a mapped window)"; else fail "no Headroom window within 60 s"; fi

# 2. Single instance.
start=$(ms)
second=0
timeout 20 "$app" >>"$work/app.log" 2>&1 || second=$?
took=$(( $(ms) - start ))
if [ "$second" = 0 ] && [ "$took" -lt 5000 ]; then ok "a second launch exits with status 0 in $took ms"; else fail "a second launch: status $second after $took ms"; fi
count=$(windows | wc -l)
if [ "$count" = 1 ] && kill -0 "$app_pid"; then ok "one window, and the first instance runs on"; else fail "$count windows after a second launch"; fi

# 3. No tray host: closing quits.
python3 "$here/xclose.py" "$(viewable | head -n1)"
if wait_for 15 gone "$app_pid"; then
  status=$(exit_status "$app_pid")
  [ "$status" = 0 ] && ok "with no tray host, closing the window quits (status 0)" || fail "closing quit with status $status"
else
  fail "with no tray host, the app still runs 15 s after its window was closed"
fi

# 4. A tray host: the icon registers, closing hides, a second launch shows the window again.
"$fake_host" >"$work/host.log" 2>&1 &
host_pid=$!
pids+=("$host_pid")
wait_for 10 grep -q ready "$work/host.log" || fail "the fake tray host did not start"
launch
wait_for 60 shown || fail "no window with a tray host"
if wait_for 15 grep -q registered "$work/host.log"; then ok "the tray icon registers with the tray host"; else fail "the tray icon never registered with the tray host"; fi
python3 "$here/xclose.py" "$(viewable | head -n1)"
if wait_for 10 hidden && sleep 1 && kill -0 "$app_pid"; then ok "with a tray host, closing hides the window and Headroom runs on"; else fail "with a tray host, closing did not just hide the window"; fi
timeout 20 "$app" >>"$work/app.log" 2>&1 || true
if wait_for 10 shown; then ok "a second launch shows the hidden window"; else fail "a second launch did not show the hidden window"; fi

# 5. SIGTERM quits cleanly and saves the window state (hiding saved it too: start afresh).
state="$HEADROOM_DATA_DIR/window-state.json"
rm -f "$state"
kill -TERM "$app_pid"
if wait_for 15 gone "$app_pid"; then
  status=$(exit_status "$app_pid")
  [ "$status" = 0 ] && ok "SIGTERM quits with status 0" || fail "SIGTERM: status $status"
else
  fail "the app still runs 15 s after SIGTERM"
fi
if [ -s "$state" ]; then ok "the window state is saved in $(basename "$state")"; else fail "no window state at $state"; fi

# 6. The saved size and place come back; `--background` starts without the window.
python3 - "$state" <<'PY'
import json, sys
path = sys.argv[1]
states = json.load(open(path))
states["main"].update(width=900, height=640, x=40, y=30, maximized=False, fullscreen=False)
json.dump(states, open(path, "w"))
PY
launch
if wait_for 60 shown; then
  geometry=$(xwininfo -id "$(viewable | head -n1)" | awk '/Width:/ {w=$2} /Height:/ {h=$2} END {print w "x" h}')
  [ "$geometry" = 900x640 ] && ok "the saved size comes back ($geometry)" || fail "restored size $geometry, saved 900x640"
else
  fail "no window after restoring its state"
fi
kill -TERM "$app_pid"; wait_for 15 gone "$app_pid" || true
registered=$(grep -c registered "$work/host.log")
more_registered() { [ "$(grep -c registered "$work/host.log")" -gt "$registered" ]; }
launch --background
if wait_for 60 more_registered && sleep 3 && hidden && kill -0 "$app_pid"; then
  ok "--background with a tray host: running, no window"
else
  fail "--background with a tray host showed a window or did not run"
fi
kill -TERM "$app_pid"; wait_for 15 gone "$app_pid" || true

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "--- app log (last 40 lines)"; tail -n 40 "$work/app.log"
  exit 1
fi
