#!/usr/bin/env bash
# Regenerates docs/dashboard-1280.png and docs/dashboard-phone.png, the README's pictures of the
# live dashboard, from a real server under about 40 s of loopback load (needs wrk and chromium,
# both installed by scripts/install-deps.sh). Usage: scripts/dashboard-screenshots.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ -x "$build/master/fastfork" ] || { echo "dashboard-screenshots: no $build/master/fastfork (build first)" >&2; exit 1; }
exec python3 "$root/scripts/dashboard_screenshots.py" --build "$build" --out "$root/docs"
