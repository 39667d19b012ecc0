#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test.sh [--quick] [--long] - install, build and run the whole test suite.
#
# The README's second command, and what CI runs.  Three stages, each its
# own build directory so they never share objects:
#
#   normal  build/       default compiler        ctest -LE long
#   asan    build-asan/  clang, ASan+UBSan,      labels unit|crash|fuzz-smoke
#                        libFuzzer targets on
#   tsan    build-tsan/  clang, TSan             ctest -LE long
#
# The sanitizer builds use clang because the fuzz targets need libFuzzer,
# and one compiler for both keeps their warnings the same.  A stage that
# fails does not stop the next: the summary shows every stage, and the exit
# status is non-zero if any failed.
#
#   --quick  the normal stage only
#   --long   also run tests labelled "long"
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	sed -n 's/^# \{0,1\}//; 4,20p' "${BASH_SOURCE[0]}"
}

quick=0
long=0
for arg in "$@"; do
	case $arg in
	--quick) quick=1 ;;
	--long) long=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "test.sh: unknown option '$arg' (see --help)" >&2
		exit 2
		;;
	esac
done

# Tests labelled long are left out unless --long.
exclude_long=(-LE long)
if [[ $long -eq 1 ]]; then
	exclude_long=()
fi

banner() {
	printf '\n==== test.sh: %s\n' "$*"
}

# run_ctest BUILD_DIR [CTEST ARGS...]; no test at all is a failure too.
run_ctest() {
	local dir=$1
	shift
	ctest --test-dir "$top/$dir" --output-on-failure --no-tests=error \
		-j2 "$@" </dev/null
}

# A stage: build, then test.  Returns 0, 1 (build failed) or 2 (tests).
# stage BUILD_DIR "CMAKE ARGS" CTEST ARGS...
stage() {
	local dir=$1 cmake_args=$2
	shift 2
	# shellcheck disable=SC2086 # cmake_args is a word list on purpose
	"$top/scripts/build.sh" "$dir" $cmake_args </dev/null || return 1
	run_ctest "$dir" "$@" || return 2
}

names=()
results=()
failed=0

# record NAME DESCRIPTION -- STAGE ARGS...
record() {
	local name=$1 what=$2 rc=0
	shift 2
	banner "stage $name: $what"
	stage "$@" || rc=$?
	case $rc in
	0) results+=("PASS") ;;
	1) results+=("FAIL (build)") ;;
	*) results+=("FAIL (tests)") ;;
	esac
	names+=("$name: $what")
	if [[ $rc -ne 0 ]]; then
		failed=$((failed + 1))
	fi
}

banner "setup"
"$top/scripts/setup.sh" </dev/null

record normal "default build, ctest ${exclude_long[*]}" \
	build "" "${exclude_long[@]}"

if [[ $quick -eq 0 ]]; then
	CC=clang record asan "ASan+UBSan, labels unit|crash|fuzz-smoke" \
		build-asan "-DDAXLEASE_SANITIZE=address -DDAXLEASE_FUZZ=ON" \
		-L 'unit|crash|fuzz-smoke' "${exclude_long[@]}"
	CC=clang record tsan "TSan, ctest ${exclude_long[*]}" \
		build-tsan "-DDAXLEASE_SANITIZE=thread" "${exclude_long[@]}"
fi

banner "summary"
for i in "${!names[@]}"; do
	printf '  %-12s %s\n' "${results[$i]}" "${names[$i]}"
done
if [[ $failed -ne 0 ]]; then
	echo "test.sh: FAILED: $failed of ${#names[@]} stages failed"
	exit 1
fi
echo "test.sh: OK: all ${#names[@]} stages passed"
