#!/usr/bin/env bash
# Bash completion (issue 15.3): sources the generated scripts, checks `complete -p`, and
# completes a subcommand prefix and an option prefix through COMP_WORDS/COMP_CWORD.
set -euo pipefail
dir="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$dir/fastforkctl"
source "$dir/fastfork"
complete -p fastforkctl | grep -q -- '-F _fastforkctl' || fail "complete -p fastforkctl"
complete -p fastfork | grep -q -- '-F _fastfork' || fail "complete -p fastfork"

COMP_WORDS=(fastforkctl re); COMP_CWORD=1; COMPREPLY=()
_fastforkctl
[ "${COMPREPLY[*]}" = "reload reopen remove-worker" ] || fail "fastforkctl re → '${COMPREPLY[*]}'"
COMP_WORDS=(fastforkctl stats --pro); COMP_CWORD=2; COMPREPLY=()
_fastforkctl
[ "${COMPREPLY[*]}" = "--prometheus" ] || fail "fastforkctl stats --pro → '${COMPREPLY[*]}'"
COMP_WORDS=(fastforkctl stats s); COMP_CWORD=2; COMPREPLY=()
_fastforkctl
[ ${#COMPREPLY[@]} -eq 0 ] || fail "no second command after stats: '${COMPREPLY[*]}'"
COMP_WORDS=(fastfork --header-t); COMP_CWORD=1; COMPREPLY=()
_fastfork
[ "${COMPREPLY[*]}" = "--header-timeout" ] || fail "fastfork --header-t → '${COMPREPLY[*]}'"
echo "completion: ok"
