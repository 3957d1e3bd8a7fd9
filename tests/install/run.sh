#!/usr/bin/env bash
# Installs the built .deb as a user would (dpkg -i), checks what it put where, runs the desktop
# life test (tests/desktop/run.sh) against the installed /usr/bin/headroom-app, and removes the
# package again. Root only: without root it says so and exits 0. Needs DISPLAY and a session bus
# of its own (scripts/test.sh runs it under xvfb-run and dbus-run-session) and a built .deb
# (scripts/bundle.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
  echo "install test skipped: installing a .deb needs root (run scripts/test.sh as root to include it)"
  exit 0
fi
if dpkg-query -W -f='${Status}' headroom 2>/dev/null | grep -q "install ok installed"; then
  echo "install test skipped: a headroom package is already installed here, and this test would replace and remove it"
  exit 0
fi
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
version="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "headroom-app"))')"
deb="$target/release/bundle/deb/Headroom_${version}_amd64.deb"
[ -f "$deb" ] || { echo "no package at $deb: build it with scripts/bundle.sh" >&2; exit 1; }

removed=0
remove() {
  [ "$removed" = 1 ] && return
  removed=1
  dpkg -r headroom >/dev/null
}
trap remove EXIT

echo "==> dpkg -i $(basename "$deb") ($(du -h "$deb" | cut -f1))"
if ! dpkg -i "$deb" >/dev/null; then
  echo "==> dpkg -i left dependencies missing: apt-get install -f"
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq --no-install-recommends >/dev/null
fi
dpkg-query -W -f='${Status}' headroom | grep -q "install ok installed" || { echo "headroom did not install" >&2; exit 1; }

failed=0
check() { if [ -e "$1" ]; then echo "  ok   $1"; else echo "  FAIL $1 is missing"; failed=1; fi; }
check /usr/bin/headroom-app
check /usr/share/applications/Headroom.desktop
for size in 32x32 64x64 128x128 512x512; do check "/usr/share/icons/hicolor/$size/apps/headroom-app.png"; done
entry=/usr/share/applications/Headroom.desktop
for line in "Name=Headroom" "Exec=headroom-app" "Icon=headroom-app" "Categories=Utility;Monitor;"; do
  if grep -qxF "$line" "$entry"; then echo "  ok   $line"; else echo "  FAIL no \"$line\" in $entry"; failed=1; fi
done
grep -q '^Comment=.' "$entry" || { echo "  FAIL no Comment in $entry"; failed=1; }

bash tests/desktop/run.sh /usr/bin/headroom-app || failed=1

remove
if dpkg-query -W -f='${Status}' headroom 2>/dev/null | grep -q "install ok installed" || [ -e /usr/bin/headroom-app ]; then
  echo "  FAIL dpkg -r left headroom installed"; failed=1
else
  echo "  ok   dpkg -r removes it"
fi
exit "$failed"
