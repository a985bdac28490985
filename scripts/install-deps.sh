#!/usr/bin/env bash
# Installs the Debian 12 packages fastfork needs to build and test, and only the missing ones.
# Uses sudo when not root; runs `apt-get update` only when a package is unknown to apt or the
# first install attempt fails (a fresh machine has empty package lists).
set -euo pipefail

packages=(
  cmake g++ make pkg-config                          # build
  libuv1-dev nlohmann-json3-dev libssl-dev openssl   # runtime libraries (OpenSSL 3: TLS; CLI: test certs)
  libboost-context-dev libboost-test-dev             # fibers, unit tests
  libbenchmark-dev zlib1g-dev valgrind               # micro-benchmarks, gzip, make instructions
  clang libclang-rt-14-dev                           # libFuzzer and sanitizer runtimes
  python3 curl wrk strace procps iproute2            # integration tests' clients and probes
  prometheus                                         # promtool, and a real Prometheus scraping /metrics
  dpkg-dev fakeroot lintian man-db groff-base        # make deb: shlibdeps, checks, man pages
  python3-yaml                                       # the Kubernetes manifest test (/usr/bin/python3)
  python3-websockets nodejs                          # WebSocket tests: python websockets and npm ws
  chromium                                           # the dashboard test's browser (large: ~100 MB)
)
# Debian's nodejs comes without npm (NodeSource's bundles it, and conflicts with Debian's npm).
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
unknown=0
for p in "${missing[@]}"; do
  apt-cache show "$p" >/dev/null 2>&1 || unknown=1
done
if [ "$unknown" -eq 1 ]; then
  $sudo apt-get update -q
fi
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
