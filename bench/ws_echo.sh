#!/usr/bin/env bash
# WebSocket echo: fastfork's ws_echo (one worker, --single-process) against the npm `ws` echo
# server (Node, one process), same client (tests/integration/ws_node/load_client.js, npm ws):
# 64-byte binary messages over 64 connections, one in flight per connection, for SECONDS each;
# messages/s, server CPU per message (utime+stime of the server process), and bytes per idle
# WebSocket (PSS growth over 2,000 idle connections). Bounded: about 4 x SECONDS + 20 s.
# Usage: bench/ws_echo.sh [SECONDS]   (default 10)   Appends to bench/results/ws_echo.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
conns=64
size=64
idle=2000
node_dir="${FF_NODE_DIR:-build/ws_node}"
bin=build/master/fastfork
[ -x "$bin" ] || { echo "ws_echo: build first (make build)" >&2; exit 2; }
mkdir -p "$node_dir"
cp tests/integration/ws_node/{package.json,package-lock.json,*.js} "$node_dir"/
[ -d "$node_dir/node_modules/ws" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

# measure NAME PID PORT: prints one result line.
measure() {
  local name=$1 pid=$2 url="ws://127.0.0.1:$3/ws"
  local t0 t1 out msgs secs
  # Idle first, on a fresh server (a garbage-collected one would shrink under the measurement):
  # PSS before and after opening $idle WebSockets that then stay silent.
  local p0 p1
  p0=$(pss_kib "$pid")
  mkfifo "$tmp/hold.$name"
  node "$node_dir/load_client.js" "$url" "$idle" idle < "$tmp/hold.$name" > "$tmp/idle.$name" &
  local holder=$!
  exec 9> "$tmp/hold.$name"
  for _ in $(seq 100); do grep -q open "$tmp/idle.$name" 2>/dev/null && break; sleep 0.2; done
  sleep 1
  p1=$(pss_kib "$pid")
  exec 9>&-
  wait "$holder" || true
  node "$node_dir/load_client.js" "$url" "$conns" 1 "$size" > /dev/null  # warm-up
  t0=$(cpu_ticks "$pid")
  out=$(node "$node_dir/load_client.js" "$url" "$conns" "$seconds" "$size")
  t1=$(cpu_ticks "$pid")
  msgs=$(echo "$out" | sed 's/.*"messages":\([0-9]*\).*/\1/')
  secs=$(echo "$out" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')
  local hz; hz=$(getconf CLK_TCK)
  awk -v n="$name" -v m="$msgs" -v s="$secs" -v c0="$t0" -v c1="$t1" -v hz="$hz" -v p0="$p0" -v p1="$p1" -v idle="$idle" \
    'BEGIN { idle_b = p1 >= p0 ? sprintf("%6.0f B", (p1 - p0) * 1024 / idle) : "n/a (PSS fell: GC)";
            printf "%-9s %10.0f msg/s  %6.2f us CPU/msg  %s/idle WebSocket\n", n, m / s, (c1 - c0) / hz / m * 1e6, idle_b }'
}

port_ff=$((20000 + RANDOM % 10000)); port_ws=$((port_ff + 1))
cat > "$tmp/ff.json" <<JSON
{"routes": [{"prefix": "/ws", "handler": "ws_echo"}, {"prefix": "/healthz", "handler": "healthz"}],
 "websocket_deflate": false, "access_log": ""}
JSON
"$bin" --single-process --listen "127.0.0.1:$port_ff" -c "$tmp/ff.json" > "$tmp/ff.log" 2>&1 &
pids+=($!); ff_pid=$!
node "$node_dir/echo_server.js" "$port_ws" > "$tmp/ws.log" 2>&1 &
pids+=($!); ws_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port_ff/healthz" > /dev/null && grep -q listening "$tmp/ws.log" && break; sleep 0.1; done

{
  echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(nproc) cores: ${size}-byte echo, $conns connections, ${seconds}s; idle: $idle"
  echo "# client: npm ws $(node -p "require('$(realpath "$node_dir")/node_modules/ws/package.json').version") on node $(node --version) (same machine, shares the cores)"
  measure fastfork "$ff_pid" "$port_ff"
  measure ws "$ws_pid" "$port_ws"
} | tee -a bench/results/ws_echo.txt
