#!/usr/bin/env bash
# fastfork against nginx and fasthttp on this machine, through ../shared/bench (see its README):
# one worker each (fastfork --single-process), then two workers each (fastfork's master).
# After each comparison, wrk's latency (p50, p99; every scenario but pipe16, where wrk's figure
# is invalid) per server, median (min–max) over the rounds, from the same runs; then issue 11's
# goals table (bench/goals.py) with every round's ratio.
# Usage: bench/compare.sh [ROUNDS [COMPARE.SH OPTIONS]]   (default 3; about 10 minutes per worker
#        count). FF_COMPARE_WORKERS="2" runs only the given worker counts. The JSON lines go to
#        ${TMPDIR:-/tmp}/fastfork-bench/fastfork-compare-TIME-wN.jsonl (named on stderr).
# Example: FF_COMPARE_WORKERS=2 bench/compare.sh 3 --port-base 18460
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
shift || true
shared="${FF_SHARED_BENCH:-../shared/bench}"
[ -x "$shared/compare.sh" ] || { echo "compare: $shared/compare.sh not found" >&2; exit 2; }
make --no-print-directory build
"$shared/setup.sh"
scratch="${TMPDIR:-/tmp}/fastfork-bench"
mkdir -p "$scratch"
status=0
for workers in ${FF_COMPARE_WORKERS:-1 2}; do
  if [ "$workers" = 1 ]; then
    cmd='build/master/fastfork --single-process --listen 127.0.0.1:{port}'
  else
    cmd='build/master/fastfork --listen 127.0.0.1:{port} --workers {workers}'
  fi
  out="$scratch/fastfork-compare-$(date -u +%Y%m%dT%H%M%SZ)-w$workers.jsonl"
  echo "compare: $workers worker(s), results in $out" >&2
  "$shared/compare.sh" --workers "$workers" --rounds "$rounds" --label fastfork --out "$out" \
    --cmd "$cmd" "$@" || status=$?
  echo
  echo "### Latency, $workers worker(s) (wrk --latency)"
  echo
  python3 "$shared/tables.py" --results "$out" | awk '/^\*\*Latency/ {on = 1} /^\*\*Errors/ {on = 0} on'
  echo
  echo "### Issue 11's goals (stated for 2 workers), $workers worker(s)"
  echo
  python3 bench/goals.py "$out"
done
exit "$status"
