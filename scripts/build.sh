#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# build.sh [BUILD_DIR] [CMAKE ARGS...] - configure (when needed) and build.
#
#   scripts/build.sh                          build/ with the defaults
#   scripts/build.sh build-asan -DDAXLEASE_SANITIZE=address
#
# A relative BUILD_DIR is taken from the top of the source tree.  CMake is
# run only when BUILD_DIR has no cache yet or CMAKE ARGS are given; otherwise
# the build itself re-runs CMake if a CMakeLists.txt changed.
# The environment's CC picks the compiler of a new build directory.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build}
if [[ $# -gt 0 ]]; then
	shift
fi
case $build_dir in
/*) ;;
*) build_dir=$top/$build_dir ;;
esac

if [[ ! -f $build_dir/CMakeCache.txt || $# -gt 0 ]]; then
	cmake -S "$top" -B "$build_dir" "$@"
fi
cmake --build "$build_dir" -j "$(nproc)"
