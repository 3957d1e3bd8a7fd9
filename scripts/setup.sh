#!/usr/bin/env bash
# Installs what Headroom needs to build, run and test on Debian 12: system packages (as root, or
# prints the exact sudo line), the UI's npm packages, and tauri-driver for the end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  libxdo-dev libssl-dev libdbus-1-dev build-essential pkg-config file curl
  xvfb xauth webkit2gtk-driver dbus-daemon dbus-x11 dunst libnotify-bin x11-utils python3
)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "==> installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Headroom needs these system packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

npm_install() {
  local dir=$1
  # Reinstall only when the lock file changed since the last install.
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install ui
if [ "${1:-}" = "--test" ]; then
  npm_install tests/e2e
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> cargo install tauri-driver (2.x)"
    cargo install tauri-driver --version '^2' --locked
  fi
fi
