#!/usr/bin/env bash
# Builds Headroom's release binary and its Linux packages with the Tauri CLI (the npm package in
# ui/, a prebuilt binary). Usage: scripts/bundle.sh [deb|appimage|deb,appimage]  (default: deb)
# The AppImage bundler downloads its tools (linuxdeploy, AppRun) while it builds: it needs the
# network, the .deb does not. Output: $CARGO_TARGET_DIR/release/bundle/<kind>/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/headroom-target}"
# The frontend is ui/ (the CLI would otherwise search the tree for a package.json).
export TAURI_FRONTEND_PATH=ui
bundles="${1:-deb}"
start=$(date +%s)
ui/node_modules/.bin/tauri build --ci --bundles "$bundles"
echo "==> built in $(( $(date +%s) - start )) s:"
ls -l "$CARGO_TARGET_DIR/release/headroom-app"
for kind in ${bundles//,/ }; do
  ls -l "$CARGO_TARGET_DIR/release/bundle/$kind/"
done
