#!/usr/bin/env bash
# Builds and starts the Headroom desktop app. With nothing configured it opens the built-in demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
npm --prefix ui run build --silent
cargo build --release -p headroom-app
exec "$CARGO_TARGET_DIR/release/headroom-app" "$@"
