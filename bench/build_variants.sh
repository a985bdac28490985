#!/usr/bin/env bash
# Builds fastfork with each compiler setting issue 11.3 weighs, one build folder each
# (build-variant-NAME, ignored by git), and prints NAME=BINARY lines for bench/instructions.sh:
#   bench/instructions.sh $(bench/build_variants.sh)
# Variants: o2 (RelWithDebInfo: -O2 -g), o3 (-O3 -g), lto (-O2 -g + CMAKE_INTERPROCEDURAL_OPTIMIZATION),
# noplt (-O2 -g -fno-plt), and their combinations. Pass names to build only some. The -O3 ones
# build with FF_WERROR=OFF: GCC 12 at -O3 reports a false -Wrestrict inside std::string.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A flags=(
  [o2]=""
  [o3]="-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DFF_WERROR=OFF"
  [lto]="-DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON"
  [noplt]="-DCMAKE_C_FLAGS=-fno-plt|-DCMAKE_CXX_FLAGS=-fno-plt"
  [o2-lto-noplt]="-DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON|-DCMAKE_C_FLAGS=-fno-plt|-DCMAKE_CXX_FLAGS=-fno-plt"
  [o3-lto]="-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DFF_WERROR=OFF|-DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON"
  [o3-lto-noplt]="-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O3 -g -DNDEBUG|-DFF_WERROR=OFF|-DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON|-DCMAKE_C_FLAGS=-fno-plt|-DCMAKE_CXX_FLAGS=-fno-plt"
)
order=(o2 o3 lto noplt o2-lto-noplt o3-lto o3-lto-noplt)
[ $# -gt 0 ] && order=("$@")
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
for name in "${order[@]}"; do
  [ -n "${flags[$name]+x}" ] || { echo "build_variants.sh: unknown variant \"$name\" (known: ${order[*]})" >&2; exit 2; }
  dir="build-variant-$name"
  IFS='|' read -r -a extra <<<"${flags[$name]}"
  # The build type is pinned: the variants differ only in the flags above (the project's own
  # default may change with issue 11.3's choice).
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFF_TESTS=OFF "${launcher[@]}" ${extra[@]+"${extra[@]}"} >&2
  cmake --build "$dir" -j "${JOBS:-$(nproc)}" --target fastfork >&2
  echo "$name=$PWD/$dir/master/fastfork"
done
