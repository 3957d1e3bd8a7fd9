#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust workspace's tests, the UI's linter and
# tests, the end-to-end test of the real app in a real (virtual) window, then the release build,
# its .deb, and (as root) the installed app's desktop life.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Each step says how long the run has taken so far (CI reads the stages' times from this).
step() { printf '\n==> %s  [%s s]\n' "$*" "$SECONDS"; }

step "UI: build, lint, type-check, unit tests"
npm --prefix ui run build --silent
npm --prefix ui run lint --silent
npm --prefix ui run check --silent
npm --prefix ui test --silent

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "core has no Tauri or WebKit dependency"
if cargo tree -p headroom-core --locked --prefix none | grep -Ei '^(tauri|webkit|wry)'; then
  echo "crates/core must not depend on tauri/webkit" >&2
  exit 1
fi
step "cargo test (workspace)"
cargo test --workspace --locked
# cargo test regenerates the UI's TypeScript types from Rust; committed ones must match.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- ui/src/lib/bindings; then
  git --no-pager diff --stat -- ui/src/lib/bindings
  echo "ui/src/lib/bindings is out of date with the Rust types: commit the regenerated files" >&2
  exit 1
fi

step "end-to-end: the real app under Xvfb through tauri-driver"
cargo build -p headroom-app -p headroom-cli --locked
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- timeout 600 bash tests/e2e/run.sh

step "release build and .deb (tauri build --bundles deb)"
bash scripts/bundle.sh deb
cargo build -p headroom-app --example fake-tray-host --locked
if [ "$(id -u)" -eq 0 ]; then
  step "install: dpkg -i the .deb, the installed app's desktop life (tray, single instance, window state), dpkg -r"
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- timeout 300 bash tests/install/run.sh
else
  step "desktop life of the release build (tray, single instance, window state)"
  echo "install test skipped: installing the .deb needs root; testing the release binary in place instead"
  target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- timeout 300 bash tests/desktop/run.sh "$target/release/headroom-app"
fi
step "all checks and tests passed"
