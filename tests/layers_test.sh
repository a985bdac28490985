#!/usr/bin/env bash
# The layering check passes on the tree, and fails on a copy where worker/ includes handlers/
# and http/ includes worker/ (so the check itself is known to bite).
set -euo pipefail
src="$1"
"$src/scripts/check-layers.sh" "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/http" "$src/worker" "$src/shm" "$src/websocket" "$tmp/"
echo '#include "handlers/router.hpp"' >> "$tmp/worker/log.hpp"
echo '#include "worker/server.hpp"' >> "$tmp/http/parser.hpp"
echo '#include <uv.h>' >> "$tmp/websocket/frame_parser.hpp"
if out=$("$src/scripts/check-layers.sh" "$tmp"); then
  echo "check-layers.sh accepted worker/ -> handlers/ and http/ -> worker/"; exit 1
fi
grep -q 'worker/ may not include handlers/' <<<"$out"
grep -q 'http/ may not include worker/' <<<"$out"
grep -q 'websocket/ does no I/O' <<<"$out"
echo "layers_test: violations are caught"
