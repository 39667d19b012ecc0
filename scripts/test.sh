#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test.sh [--quick] [--long] - install, build and run the whole test suite.
#
# The README's second command, and what CI runs.  Three stages, each its
# own build directory so they never share objects:
#
#   normal  build/       default compiler        ctest -LE long
#   asan    build-asan/  clang, ASan+UBSan,      ctest -LE long
#                        libFuzzer targets on
#   tsan    build-tsan/  clang, TSan             ctest -LE long
#
# The sanitizer builds use clang because the fuzz targets need libFuzzer,
# and one compiler for both keeps their warnings the same.  A directory
# configured earlier with another compiler is reconfigured, not kept.  A stage that
# fails does not stop the next: the summary shows every stage, and the exit
# status is non-zero if any failed.
#
#   --quick  the normal stage only
#   --long   also run tests labelled "long"
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	# the header comment, from its first line of text to its end
	awk 'NR > 3 && /^#/ { sub(/^# ?/, ""); print; next } NR > 3 { exit }' \
		"${BASH_SOURCE[0]}"
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

# A build directory configured with another compiler is reconfigured from
# scratch: CMake cannot switch compilers in place (it runs the old
# configuration first, which fails when an option needs the new compiler).
# forget_other_compiler BUILD_DIR COMPILER
forget_other_compiler() {
	local cache=$top/$1/CMakeCache.txt
	if [[ -f $cache ]] &&
	   ! grep -q "^CMAKE_C_COMPILER:[A-Z]*=.*$2\$" "$cache"; then
		echo "test.sh: $1 was configured with another compiler: reconfiguring"
		rm -rf "$cache" "$top/$1/CMakeFiles"
	fi
}

# A stage: build, then test.  Returns 0, 1 (build failed) or 2 (tests).
# stage BUILD_DIR COMPILER "CMAKE ARGS" CTEST ARGS...  (COMPILER "": default)
stage() {
	local dir=$1 cc=$2 cmake_args=$3
	shift 3
	if [[ -n $cc ]]; then
		forget_other_compiler "$dir" "$cc"
		cmake_args="-DCMAKE_C_COMPILER=$cc $cmake_args"
	fi
	# shellcheck disable=SC2086 # cmake_args is a word list on purpose
	"$top/scripts/build.sh" "$dir" $cmake_args </dev/null || return 1
	run_ctest "$dir" "$@" || return 2
}

names=()
results=()
failed=()

# record NAME DESCRIPTION STAGE-ARGS...: run a stage, remember its result.
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
		failed+=("$name")
	fi
}

banner "setup"
"$top/scripts/setup.sh" </dev/null

record normal "default build, ctest ${exclude_long[*]}" \
	build "" "" "${exclude_long[@]}"

if [[ $quick -eq 0 ]]; then
	record asan "ASan+UBSan, ctest ${exclude_long[*]}" build-asan clang \
		"-DDAXLEASE_SANITIZE=address -DDAXLEASE_FUZZ=ON" \
		"${exclude_long[@]}"
	record tsan "TSan, ctest ${exclude_long[*]}" build-tsan clang \
		"-DDAXLEASE_SANITIZE=thread" \
		"${exclude_long[@]}"
fi

banner "summary"
for i in "${!names[@]}"; do
	printf '  %-12s %s\n' "${results[$i]}" "${names[$i]}"
done
if [[ ${#failed[@]} -ne 0 ]]; then
	echo "test.sh: FAILED: ${failed[*]} (${#failed[@]} of ${#names[@]} stages)"
	exit 1
fi
echo "test.sh: OK: every stage passed (${#names[@]})"
