#!/usr/bin/env bash
# Benchmarks that ../shared/bench/compare.sh does not cover, with its bench.py, in alternating
# runs on the same machine (read ratios, not absolute numbers):
#   static  — 1 KiB and 1 MiB files, fastfork --root vs nginx (sendfile on), 1 worker each
#   stats   — fastfork with stats against a build with them compiled out (-DFF_STATS=OFF)
#   log     — fastfork with the access log on against off
#   baseline — this tree's build against another build of fastfork (FF_BASELINE=/path/to/fastfork,
#             e.g. an older commit's, built in a worktree): plaintext and a 1 KiB file, 1 worker
#             (--single-process) each; not part of "all"
# Usage: bench/variants.sh [static|stats|log|all|baseline] [ROUNDS]   (default: all, 2 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
rounds="${2:-2}"
shared="${FF_SHARED_BENCH:-../shared/bench}"
scratch="${TMPDIR:-/tmp}/fastfork-bench/variants"
results="$scratch/results-$(date +%Y%m%dT%H%M%S).jsonl"
mkdir -p "$scratch"
bench() { python3 "$shared/bench.py" --results "$results" --idle-conns 0 --sys-duration 0 "$@"; }

make --no-print-directory build >/dev/null
fastfork="$PWD/build/master/fastfork"

if [ "$what" = static ] || [ "$what" = all ]; then
  root="$scratch/www"
  mkdir -p "$root" "$scratch/nginx"
  head -c 1024 /dev/urandom > "$root/file1k.bin"
  head -c $((1024 * 1024)) /dev/urandom > "$root/file1m.bin"
  cat > "$scratch/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $scratch/nginx/body;
    proxy_temp_path $scratch/nginx/proxy;
    fastcgi_temp_path $scratch/nginx/fastcgi;
    uwsgi_temp_path $scratch/nginx/uwsgi;
    scgi_temp_path $scratch/nginx/scgi;
    types { application/octet-stream bin; }
    server { listen 127.0.0.1:18110 reuseport backlog=4096; root $root; }
}
CONF
  for r in $(seq "$rounds"); do
    for f in file1k file1m; do
      bench --label "nginx-$f" --port 18110 --run "$r" --no-verify --path "/$f.bin" --scenarios ka64 \
        --cmd "nginx -c $scratch/nginx/nginx.conf"
      bench --label "fastfork-$f" --port 18112 --run "$r" --no-verify --path "/$f.bin" --scenarios ka64 \
        --cmd "$fastfork --single-process --listen 127.0.0.1:18112 --root $root"
    done
  done
fi

if [ "$what" = stats ] || [ "$what" = all ]; then
  cmake -S . -B build-nostats -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFF_STATS=OFF -DFF_TESTS=OFF >/dev/null
  cmake --build build-nostats -j "$(nproc)" --target fastfork >/dev/null
  for r in $(seq "$rounds"); do
    bench --label stats-on --port 18114 --run "$r" --scenarios ka64,pipe16 \
      --cmd "$fastfork --single-process --listen 127.0.0.1:18114"
    bench --label stats-off --port 18116 --run "$r" --scenarios ka64,pipe16 \
      --cmd "$PWD/build-nostats/master/fastfork --single-process --listen 127.0.0.1:18116"
  done
fi

if [ "$what" = log ] || [ "$what" = all ]; then
  for r in $(seq "$rounds"); do
    bench --label log-off --port 18118 --run "$r" --scenarios ka64,pipe16 \
      --cmd "$fastfork --single-process --listen 127.0.0.1:18118"
    rm -f "$scratch/access.log"
    bench --label log-on --port 18120 --run "$r" --scenarios ka64,pipe16 \
      --cmd "$fastfork --single-process --listen 127.0.0.1:18120 --access-log $scratch/access.log"
  done
fi

if [ "$what" = baseline ]; then
  baseline="${FF_BASELINE:?baseline: set FF_BASELINE to the fastfork binary to compare with}"
  [ -x "$baseline" ] || { echo "variants.sh: FF_BASELINE=$baseline is not an executable" >&2; exit 2; }
  root="$scratch/www"
  mkdir -p "$root"
  head -c 1024 /dev/urandom > "$root/file1k.bin"
  for r in $(seq "$rounds"); do
    for build in baseline this; do
      bin="$fastfork"
      [ "$build" = baseline ] && bin="$baseline"
      bench --label "$build-plaintext" --port 18122 --run "$r" --scenarios ka64,pipe16 \
        --cmd "$bin --single-process --listen 127.0.0.1:18122 --root $root"
      bench --label "$build-file1k" --port 18124 --run "$r" --no-verify --path /file1k.bin --scenarios ka64 \
        --cmd "$bin --single-process --listen 127.0.0.1:18124 --root $root"
    done
  done
fi

python3 "$shared/summarize.py" --results "$results" || true
echo "results: $results"
