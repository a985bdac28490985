#!/usr/bin/env bash
# Instructions per keep-alive request in the serving process, counted by callgrind.
#
# Unlike requests/s or CPU time, an instruction count does not move with the machine's load, so
# two builds can be compared on a busy 2-core machine and a change of a few percent shows. It
# counts user-space instructions only (libuv and libc included); the kernel's share (syscalls,
# loopback TCP) is not in it: compare.sh's perf/strace columns count syscalls per request.
#
# For each binary and route: fastfork --single-process (the process callgrind runs is the one
# that serves) under `valgrind --tool=callgrind`, 1,000 warm-up requests, then the counters are
# zeroed, N1 requests sent on one keep-alive connection (one at a time, no pipelining), the
# counters dumped, zeroed again, N2 requests, dumped again. Instructions per request =
# (Ir(N2) - Ir(N1)) / (N2 - N1): whatever a window costs regardless of its request count (the
# zero/dump handshake) cancels out. The idle loop (the sweep timer, 4 a second) costs about
# 3,000 Ir a second, under 0.05 % of a window. Repeated runs agree to about 0.05 %.
#
# Usage: bench/instructions.sh [--requests N1,N2] [--top K] [LABEL=BINARY ...]
#   default: one binary, this tree's build/master/fastfork (built first with `make build`).
#   With two or more LABEL=BINARY, a last table gives each label's Ir/request ÷ the first's,
#   and per route the functions whose own Ir/request changed most.
# Prints Markdown on stdout; callgrind's dumps stay in ${TMPDIR:-/tmp}/fastfork-bench/instructions.<pid>/
# (one folder per run, so two runs at once do not overwrite each other's dumps).
set -euo pipefail
cd "$(dirname "$0")/.."

requests="20000,40000"
top=15
binaries=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *=*) binaries+=("$1"); shift ;;
    *) echo "instructions.sh: unknown argument \"$1\" (expected --requests N1,N2, --top K or LABEL=BINARY)" >&2; exit 2 ;;
  esac
done
n1="${requests%,*}"
n2="${requests#*,}"
if ! [[ "$n1" =~ ^[0-9]+$ && "$n2" =~ ^[0-9]+$ ]] || [ "$n2" -le "$n1" ]; then
  echo "instructions.sh: --requests wants N1,N2 with N2 > N1 (got \"$requests\")" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
if [ ${#binaries[@]} -eq 0 ]; then
  make --no-print-directory build >/dev/null
  binaries=("this tree=$PWD/build/master/fastfork")
fi
for b in "${binaries[@]}"; do
  [ -x "${b#*=}" ] || { echo "instructions.sh: \"${b#*=}\" is not an executable" >&2; exit 2; }
done

scratch="${TMPDIR:-/tmp}/fastfork-bench/instructions.$$"
root="$scratch/www"
mkdir -p "$root"
# 1 KiB of fixed bytes: the same file (and so the same ETag input) for every build.
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64))' > "$root/file1k.txt"
client="bench/keepalive_requests.py"

# route name, path, expected status
routes=("plaintext /plaintext 200" "file1k /file1k.txt 200" "404 /no-such-file 404")

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

summary_of() { sed -n 's/^summary: *//p' "$1"; }

# measure SLUG BINARY PATH STATUS -> leaves $scratch/SLUG.cg.1 and .2
measure() {
  local slug="$1" binary="$2" path="$3" status="$4" port out
  port=$(free_port)
  out="$scratch/$slug.cg"
  rm -f "$out" "$out".*
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$binary" --single-process --listen "127.0.0.1:$port" --root "$root" > "$scratch/$slug.log" 2>&1 &
  server_pid=$!
  local ready=0
  for _ in $(seq 300); do
    if python3 "$client" 127.0.0.1 "$port" "$path" 1 "$status" 2>/dev/null; then ready=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$ready" -ne 1 ]; then
    echo "instructions.sh: $binary did not answer $path on port $port; its output:" >&2
    tail -n 20 "$scratch/$slug.log" >&2
    exit 1
  fi
  python3 "$client" 127.0.0.1 "$port" "$path" 1000 "$status"
  # callgrind_control's commands are taken when the server runs: at the latest at its next
  # sweep timer (4 a second), so each returns within a second.
  callgrind_control -z "$server_pid" >/dev/null 2>&1
  python3 "$client" 127.0.0.1 "$port" "$path" "$n1" "$status"
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  callgrind_control -z "$server_pid" >/dev/null 2>&1
  python3 "$client" 127.0.0.1 "$port" "$path" "$n2" "$status"
  callgrind_control -d "$server_pid" >/dev/null 2>&1
  stop_server
  [ -s "$out.1" ] && [ -s "$out.2" ] || { echo "instructions.sh: callgrind left no dumps for $slug" >&2; exit 1; }
}

functions="bench/callgrind_functions.py"

declare -A per_request
echo "## Instructions per keep-alive request (callgrind, user space)"
echo
echo "$(date -u +%Y-%m-%d), fastfork --single-process, one keep-alive connection, one request at a time;"
echo "Ir/request = (Ir of $n2 requests - Ir of $n1) / $((n2 - n1)). Valgrind $(valgrind --version | sed 's/valgrind-//')."
echo
for b in "${binaries[@]}"; do
  label="${b%%=*}"
  binary="${b#*=}"
  slug_base=$(printf %s "$label" | tr -c 'A-Za-z0-9' '_')
  echo "### $label"
  echo
  echo "\`$binary\`"
  echo
  echo "| route | Ir, $n1 requests | Ir, $n2 requests | Ir/request (difference) | Ir/request ($n2 alone) |"
  echo "|---|---|---|---|---|"
  for r in "${routes[@]}"; do
    read -r name path status <<<"$r"
    measure "$slug_base-$name" "$binary" "$path" "$status"
    ir1=$(summary_of "$scratch/$slug_base-$name.cg.1")
    ir2=$(summary_of "$scratch/$slug_base-$name.cg.2")
    diff=$(python3 -c "print(f'{($ir2 - $ir1) / ($n2 - $n1):.1f}')")
    per_request["$label/$name"]="$diff"
    python3 -c "print(f'| $name \`GET $path\` → $status | {$ir1:,} | {$ir2:,} | **{$diff:,.1f}** | {$ir2 / $n2:,.1f} |')"
  done
  echo
  for r in "${routes[@]}"; do
    read -r name path status <<<"$r"
    dump="$scratch/$slug_base-$name.cg.2"
    echo "<details><summary>$label, $name: top $top functions</summary>"
    echo
    echo "Inclusive (the function and what it calls; the loop's outer frames and libuv's unnamed ones left out):"
    echo
    echo "| Ir/request | share | function |"
    echo "|---|---|---|"
    python3 "$functions" top "$dump" "$n2" "$top" inclusive
    echo
    echo "Self (the function's own instructions, inlined code included):"
    echo
    echo "| Ir/request | share | function |"
    echo "|---|---|---|"
    python3 "$functions" top "$dump" "$n2" "$top" self
    echo
    echo "</details>"
    echo
  done
done

if [ ${#binaries[@]} -ge 2 ]; then
  first="${binaries[0]%%=*}"
  echo "### Ir/request side by side"
  echo
  header="| route |"
  rule="|---|"
  for b in "${binaries[@]}"; do header+=" ${b%%=*} |"; rule+="---|"; done
  for b in "${binaries[@]:1}"; do header+=" ${b%%=*} ÷ $first |"; rule+="---|"; done
  echo "$header"
  echo "$rule"
  for r in "${routes[@]}"; do
    read -r name _ _ <<<"$r"
    row="| $name |"
    for b in "${binaries[@]}"; do row+=" ${per_request[${b%%=*}/$name]} |"; done
    for b in "${binaries[@]:1}"; do
      row+=" $(python3 -c "print(f'{${per_request[${b%%=*}/$name]} / ${per_request[$first/$name]}:.3f}')") |"
    done
    echo "$row"
  done
  echo
  first_slug=$(printf %s "$first" | tr -c 'A-Za-z0-9' '_')
  for b in "${binaries[@]:1}"; do
    slug=$(printf %s "${b%%=*}" | tr -c 'A-Za-z0-9' '_')
    for r in "${routes[@]}"; do
      read -r name _ _ <<<"$r"
      echo "<details><summary>${b%%=*} against $first, $name: the $top largest changes of self Ir/request</summary>"
      echo
      echo "(worker:: and handlers:: are dropped from the names, so a function issue 9 moved is one row.)"
      echo
      echo "| $first | ${b%%=*} | change | function |"
      echo "|---|---|---|---|"
      python3 "$functions" diff "$scratch/$first_slug-$name.cg.2" "$scratch/$slug-$name.cg.2" "$n2" "$top"
      echo
      echo "</details>"
      echo
    done
  done
fi
