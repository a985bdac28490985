#!/usr/bin/env bash
# Fails when an #include runs against the layering (docs/ARCHITECTURE.md): each folder may
# include only itself and the layers below it, and http/ does no I/O. Run by CTest (layers).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

declare -A allowed=(
  [http]="http"
  [websocket]="websocket http"
  [shm]="shm"
  [tls]="tls http shm"
  [worker]="worker websocket tls http shm"
  [handlers]="handlers worker websocket tls http shm"
  [master]="master handlers worker websocket tls http shm"
  [tools]="tools shm"
)
# System headers a layer must not use: http/ is protocol only, no loop and no fibers.
declare -A forbidden_system=(
  [http]="uv.h boost/context"
  [shm]="uv.h boost/context"
  [websocket]="uv.h boost/context sys/socket.h"
  [tls]="uv.h boost/context"
)

status=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS=: read -r file line text; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$text")
    case " ${allowed[$layer]} " in
      *" $target "*) ;;
      *) echo "$file:$line: $layer/ may not include $target/ ($text)"; status=1 ;;
    esac
  done < <(grep -rnE '^\s*#\s*include "[a-z_]+/' "$layer" --include='*.hpp' --include='*.cpp' || true)
  for header in ${forbidden_system[$layer]:-}; do
    if hits=$(grep -rnE "^\s*#\s*include <$header" "$layer" --include='*.hpp' --include='*.cpp'); then
      echo "$hits" | sed "s|\$| ($layer/ does no I/O: no <$header>)|"
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "layers: every include runs downwards"
exit "$status"
