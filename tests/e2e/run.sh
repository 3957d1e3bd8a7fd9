#!/usr/bin/env bash
# Runs the end-to-end tests against the real app binary. Needs DISPLAY (scripts/test.sh wraps it
# in xvfb-run and dbus-run-session) and a debug build of headroom-app and the headroom CLI.
set -euo pipefail
cd "$(dirname "$0")"
# Wherever cargo put its builds (CARGO_TARGET_DIR, a cargo config, or ./target).
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export HEADROOM_APP="${HEADROOM_APP:-$(realpath "$target/debug/headroom-app")}"
export HEADROOM_CLI="${HEADROOM_CLI:-$(realpath "$target/debug/headroom")}"
export HEADROOM_DATA_DIR="$(mktemp -d)"
export HEADROOM_DEMO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export HEADROOM_SCREENSHOT_DIR="${HEADROOM_SCREENSHOT_DIR:-$(mktemp -d)}"
# The app inherits this through tauri-driver; the settings test names it as a key source.
export HEADROOM_E2E_KEY="sk-or-v1-e2e-env-key-not-real-000000"
: "${DISPLAY:?no DISPLAY: run this under xvfb-run (see scripts/test.sh)}"

# Free ports, so that two runs on one machine (a developer's and CI's) never share a driver.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export TAURI_DRIVER_PORT="${TAURI_DRIVER_PORT:-$(free_port)}"
native_port="$(free_port)"
# The app gets a throwaway HOME (through tauri-driver), so that what it writes there (the login
# entry of desktop.test.mjs, config, caches) stays out of the real one.
export HEADROOM_E2E_HOME="$(mktemp -d)"
HOME="$HEADROOM_E2E_HOME" tauri-driver --port "$TAURI_DRIVER_PORT" --native-port "$native_port" >"$HEADROOM_DATA_DIR/../tauri-driver.log" 2>&1 &
driver=$!
trap 'kill $driver 2>/dev/null || true; rm -rf "$HEADROOM_DATA_DIR" "$HEADROOM_E2E_HOME"' EXIT
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/"$TAURI_DRIVER_PORT") 2>/dev/null && break
  sleep 0.2
done
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
echo "screenshots: $HEADROOM_SCREENSHOT_DIR"
