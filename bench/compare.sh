#!/usr/bin/env bash
# fastfork against nginx and fasthttp on this machine, through ../shared/bench (see its README):
# one worker each (fastfork --single-process), then two workers each (fastfork's master).
# Usage: bench/compare.sh [ROUNDS]     (default 3; about 10 minutes per worker count)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shared="${FF_SHARED_BENCH:-../shared/bench}"
[ -x "$shared/compare.sh" ] || { echo "compare: $shared/compare.sh not found" >&2; exit 2; }
make --no-print-directory build
"$shared/setup.sh"
"$shared/compare.sh" --workers 1 --rounds "$rounds" --label fastfork \
  --cmd 'build/master/fastfork --single-process --listen 127.0.0.1:{port}'
"$shared/compare.sh" --workers 2 --rounds "$rounds" --label fastfork \
  --cmd 'build/master/fastfork --listen 127.0.0.1:{port} --workers {workers}'
