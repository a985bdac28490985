#!/usr/bin/env bash
# TLS 1.3 keep-alive GET /plaintext at c=64 with wrk: server CPU per request, fastfork ÷ nginx
# (issue 13 benchmark 1). Both get the same ECDSA P-256 certificate, one worker process, and
# nginx `ssl_protocols TLSv1.2 TLSv1.3`. Usage: bench/tls_keepalive.sh [FASTFORK_BIN] [SECONDS]
set -euo pipefail
bin=${1:-build/master/fastfork}
secs=${2:-5}
dir=$(mktemp -d /tmp/ff-tls-bench.XXXXXX)
trap 'kill $(cat "$dir"/*.pid 2>/dev/null) 2>/dev/null || true; sleep 0.3; rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/k.pem" -out "$dir/c.pem" \
    -days 2 -subj /CN=bench.test 2>/dev/null
ff_port=$((20000 + RANDOM % 10000)); ng_port=$((ff_port + 1)); plain=$((ff_port + 2))
cat > "$dir/ff.json" <<J
{"workers": 1, "listen": ["127.0.0.1:$plain",
 {"address": "127.0.0.1:$ff_port", "tls": {"certificate": "$dir/c.pem", "key": "$dir/k.pem"}}]}
J
cat > "$dir/nginx.conf" <<N
worker_processes 1; daemon off; pid $dir/nginx.master; error_log $dir/err.log;
events { worker_connections 4096; }
http { access_log off;
  server { listen 127.0.0.1:$ng_port ssl; ssl_certificate $dir/c.pem; ssl_certificate_key $dir/k.pem;
    ssl_protocols TLSv1.2 TLSv1.3; keepalive_requests 1000000;
    location /plaintext { default_type text/plain; return 200 "Hello, World!"; } } }
N
"$bin" -c "$dir/ff.json" > "$dir/ff.log" 2>&1 & echo $! > "$dir/ff.pid"
nginx -c "$dir/nginx.conf" > "$dir/ng.log" 2>&1 & echo $! > "$dir/ng.pid"
sleep 1.5
ticks() {  # utime + stime of the children of $1 (the worker processes), in clock ticks
    local sum=0
    for c in $(pgrep -P "$1"); do sum=$((sum + $(awk '{print $14 + $15}' /proc/"$c"/stat))); done
    echo $sum
}
run() {  # name master_pid port
    local t0 t1 reqs
    t0=$(ticks "$2")
    reqs=$(wrk -t1 -c64 -d"${secs}s" "https://127.0.0.1:$3/plaintext" | awk '/requests in/ {print $1}')
    t1=$(ticks "$2")
    awk -v n="$1" -v r="$reqs" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%-8s %9d requests  %6.2f CPU-s  %7.2f us/request\n", n, r, t / hz, t / hz * 1e6 / r }'
}
ff=$(run fastfork "$(cat "$dir/ff.pid")" "$ff_port")
ng=$(run nginx "$(cat "$dir/ng.pid")" "$ng_port")
echo "$ff"; echo "$ng"
awk -v a="$(echo "$ff" | awk '{print $6}')" -v b="$(echo "$ng" | awk '{print $6}')" \
    'BEGIN { printf "server CPU per request, fastfork / nginx: %.2f\n", a / b }'
