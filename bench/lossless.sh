#!/usr/bin/env bash
# Requests lost while fastfork (and nginx, where it has an equivalent) reloads, upgrades its
# binary, scales down and recycles workers, each event fired EVENTS times (default 20) under the
# same wrk load: 64 keep-alive connections, then 64 connections with `Connection: close`.
# Loopback only; every server is fresh per row and stopped by PID; wrk is bounded by -d and
# stopped with SIGINT (it prints its summary) once the events are done.
# Usage: bench/lossless.sh [EVENTS]   (root: nginx runs as root, the sysctl is toggled)
# Prints a Markdown table on stdout; logs go to a temporary directory named on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-20}"
ff="${FF_BIN:-$PWD/build/master/fastfork}"
ctl="${FF_CTL:-$PWD/build/tools/fastforkctl}"
nginx="${NGINX:-/usr/sbin/nginx}"
port="${PORT:-18310}"
[ -x "$ff" ] && [ -x "$ctl" ] || { echo "lossless: build first (make build)" >&2; exit 2; }
[ -x "$nginx" ] || { echo "lossless: $nginx missing (../shared/bench/setup.sh)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "lossless: wrk missing" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "lossless: run as root (sysctl, nginx)" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ff-lossless.XXXXXX")"
echo "lossless: logs in $tmp" >&2
migrate_before="$(sysctl -n net.ipv4.tcp_migrate_req)"
server_pids=() # every master we started or saw; stopped by PID at the end of each row
wrk_pid=""

stop_servers() {
  local p
  for p in "${server_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in "${server_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${server_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  server_pids=()
}
cleanup() {
  [ -n "$wrk_pid" ] && kill -INT "$wrk_pid" 2>/dev/null || true
  stop_servers
  sysctl -qw net.ipv4.tcp_migrate_req="$migrate_before" || true
}
trap cleanup EXIT

gone() { # pid $1 exited (a zombie counts as exited)
  [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
wait_port() {
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/plaintext" && return 0
    sleep 0.1
  done
  echo "lossless: nothing answers on $port" >&2
  return 1
}
track_pidfile() { # remember the master named by pid file $1
  local p
  p="$(cat "$1" 2>/dev/null || true)"
  [ -n "$p" ] && server_pids+=("$p")
}

# ---- fastfork
ff_start() { # $1 = extra JSON keys
  local d="$tmp/ff-$row"
  mkdir -p "$d"
  cat >"$d/ff.json" <<EOF
{"listen": ["127.0.0.1:$port"], "workers": 2, "name": "lossless$port",
 "pid_file": "$d/ff.pid", "error_log": "$d/error.log", "drain_idle_grace": "1s"$1}
EOF
  "$ff" -c "$d/ff.json" >"$d/stdout" 2>&1 &
  server_pids+=("$!")
  wait_port
  ffdir="$d"
}
ffctl() { "$ctl" --name "lossless$port" "$@" >>"$ffdir/ctl.log" 2>&1; }
ff_reload() { ffctl reload --timeout 30; }
ff_upgrade() {
  local old
  old="$(cat "$ffdir/ff.pid")"
  ffctl upgrade --timeout 30
  track_pidfile "$ffdir/ff.pid"
  # the next upgrade is refused until the previous master has drained and exited
  for _ in $(seq 100); do gone "$old" && break; sleep 0.1; done
}
ff_scale_down() { ffctl remove-worker; sleep 0.5; ffctl add-worker; sleep 0.5; }
ff_recycles() { grep -c "recycled worker" "$ffdir/error.log" 2>/dev/null || true; }

# ---- nginx (configuration as ../shared/bench/peers/nginx.conf.in, worker count variable)
ng_conf() { # $1 = worker_processes
  cat >"$ngdir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $1;
worker_rlimit_nofile 20000;
pid $ngdir/nginx.pid;
error_log $ngdir/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    client_body_temp_path $ngdir/body;
    proxy_temp_path $ngdir/proxy;
    fastcgi_temp_path $ngdir/fastcgi;
    uwsgi_temp_path $ngdir/uwsgi;
    scgi_temp_path $ngdir/scgi;
    server {
        listen 127.0.0.1:$port reuseport backlog=4096;
        location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
    }
}
EOF
}
ng_start() {
  ngdir="$tmp/nginx-$row"
  mkdir -p "$ngdir"
  ng_conf 2
  # nginx ignores USR2 while its parent is the one it started with (that parent would be left
  # with two masters), so it starts from a subshell that exits once nginx is up.
  ("$nginx" -p "$ngdir" -c "$ngdir/nginx.conf" >"$ngdir/stdout" 2>&1 &
    sleep 0.5)
  wait_port
  track_pidfile "$ngdir/nginx.pid"
}
ng_reload() { "$nginx" -p "$ngdir" -c "$ngdir/nginx.conf" -s reload 2>>"$ngdir/ctl.log"; sleep 0.5; }
ng_upgrade() {
  local old new=""
  old="$(cat "$ngdir/nginx.pid")"
  kill -USR2 "$old"
  for _ in $(seq 100); do # the old master renames its pid file, the new one writes nginx.pid
    if [ -s "$ngdir/nginx.pid.oldbin" ] && [ -s "$ngdir/nginx.pid" ]; then
      new="$(cat "$ngdir/nginx.pid")"
      [ "$new" != "$old" ] && break
    fi
    sleep 0.05
  done
  [ -n "$new" ] && [ "$new" != "$old" ] || { echo "lossless: nginx upgrade stalled" >&2; return 1; }
  server_pids+=("$new")
  sleep 0.5 # the new master's workers start
  kill -WINCH "$old"
  sleep 0.5 # the old workers finish their requests
  kill -QUIT "$old"
  for _ in $(seq 100); do gone "$old" && break; sleep 0.1; done
}
ng_scale_down() { ng_conf 1; ng_reload; ng_conf 2; ng_reload; }

# ---- one row: start the server, load it, fire the events, stop
results="$tmp/rows.tsv"
: >"$results"
row=0
run_row() { # $1 server, $2 event label, $3 load (ka|close), $4 start cmd, $5 event cmd ('' = recycles)
  local server="$1" label="$2" load="$3" start="$4" event="$5" hdr=() n=0
  row=$((row + 1))
  [ "$load" = close ] && hdr=(-H "Connection: close")
  $start
  local out="$tmp/wrk-$row.txt"
  wrk -t2 -c64 -d300s "${hdr[@]}" "http://127.0.0.1:$port/plaintext" >"$out" 2>&1 &
  wrk_pid=$!
  sleep 1
  if [ -n "$event" ]; then
    for _ in $(seq "$events"); do $event || echo "lossless: row $row: $event failed" >&2; n=$((n + 1)); done
  else
    for _ in $(seq 1200); do # until $events recycles, at most 120 s
      n="$(ff_recycles)"
      [ "$n" -ge "$events" ] && break
      sleep 0.1
    done
  fi
  sleep 1
  kill -INT "$wrk_pid"
  wait "$wrk_pid" || true
  wrk_pid=""
  stop_servers
  local reqs secs conn rd wr to non
  reqs="$(awk '/requests in/ {print $1}' "$out")"
  secs="$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$out")"
  read -r conn rd wr to < <(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out") || true
  non="$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$out")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$label" "$load" "$n" "${secs:-?}" "${reqs:-?}" \
    "${conn:-0}" "${rd:-0}" "${wr:-0}" "${to:-0}" "${non:-0}" >>"$results"
  echo "lossless: row $row $server $label $load done: $(tail -1 "$results")" >&2
}

ff_plain() { ff_start ""; }
ff_recycle_ka() { ff_start ', "max_requests": 30000, "max_requests_jitter": 3000'; }
ff_recycle_close() { ff_start ', "max_requests": 6000, "max_requests_jitter": 600'; }

for load in ka close; do
  sysctl -qw net.ipv4.tcp_migrate_req=1
  run_row fastfork "reload (fastforkctl reload)" "$load" ff_plain ff_reload
  run_row nginx "reload (nginx -s reload)" "$load" ng_start ng_reload
  run_row fastfork "upgrade (fastforkctl upgrade)" "$load" ff_plain ff_upgrade
  run_row nginx "upgrade (USR2, WINCH, QUIT)" "$load" ng_start ng_upgrade
  run_row fastfork "scale-down (TTOU, TTIN), tcp_migrate_req=1" "$load" ff_plain ff_scale_down
  run_row nginx "scale-down (reload 2→1→2 workers)" "$load" ng_start ng_scale_down
  run_row fastfork "recycle (max_requests)" "$load" ff_recycle_$load ""
done
sysctl -qw net.ipv4.tcp_migrate_req=0
run_row fastfork "scale-down (TTOU, TTIN), tcp_migrate_req=0" close ff_plain ff_scale_down
sysctl -qw net.ipv4.tcp_migrate_req="$migrate_before"

echo "| server | event ×$events | load | events | seconds | requests | connect | read | write | timeout | non-2xx | lost |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r s l load n t r c rd wr to non; do
  [ "$load" = ka ] && load="64 keep-alive" || load="64 Connection: close"
  echo "| $s | $l | $load | $n | $t | $r | $c | $rd | $wr | $to | $non | $((c + rd + wr + to + non)) |"
done <"$results"
echo "| nginx | recycle | — | n/a | | | | | | | | |"
