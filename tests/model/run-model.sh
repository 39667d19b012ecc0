#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-model.sh - model-check the lockless pin protocol (tests/model/pin.pml)
# and what a pin is tied to across disconnects and daemon restarts
# (tests/model/lifetime.pml).
#
# Runs spin's exhaustive search on each intact model, which must verify,
# and on each mutant (one rule broken), which must fail with a trail: a
# model that cannot fail proves nothing.  Prints the states stored and the
# time of each run.
#
# usage: run-model.sh [--deep] [--keep DIR]
#   --deep   also verify two layout changes in a row (-DTWO_OPS: ~8M states,
#            ~0.5 GiB, 10-20 s)
#   --keep   copy the mutants' trails and the model to DIR
# exit:  0 all as expected, 1 otherwise, 77 spin or a C compiler is missing
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODEL=pin.pml
KEEP=
DEEP=false

while [[ $# -gt 0 ]]; do
	case "$1" in
	--deep) DEEP=true; shift ;;
	--keep) KEEP=$(realpath -m "${2:?--keep needs a directory}"); shift 2 ;;
	-h|--help) sed -n '4,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-model.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
	esac
done

if ! command -v spin >/dev/null 2>&1; then
	echo "run-model.sh: SKIP: spin is not installed (scripts/setup.sh installs it)"
	exit 77
fi
CC=${CC:-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "run-model.sh: SKIP: no C compiler ($CC) to build spin's verifier"
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-model.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp "$HERE/pin.pml" "$HERE/lifetime.pml" "$WORK/"
cd "$WORK"

# pan: safety only (assertions and invalid end states), states stored
# compressed (COLLAPSE), at most 1 GiB of memory, exhaustive (no bitstate).
# -O0: gcc -O2 spends longer on pan.c than pan spends on the small runs.
PAN_CFLAGS=(-O0 -DSAFETY -DCOLLAPSE -DMEMLIM=1024 -DVECTORSZ=512)
PAN_RUN=(-m10000 -w22)

FAILED=0

# run_pan NAME SWITCHES...: verify the model built with the switches; leaves
# pan's report in NAME.out
run_pan() {
	local name=$1
	shift
	rm -f "$MODEL.trail"
	spin -a "$@" "$MODEL" >"$name.spin" 2>&1 ||
		{ cat "$name.spin" >&2; return 1; }
	"$CC" "${PAN_CFLAGS[@]}" -o pan pan.c >"$name.cc" 2>&1 ||
		{ cat "$name.cc" >&2; return 1; }
	./pan "${PAN_RUN[@]}" >"$name.out" 2>&1 || true
}

# summary NAME: "N states, T s" from pan's report
summary() {
	local states secs
	states=$(awk '/states, stored/ { print $1; exit }' "$1.out")
	secs=$(awk '/elapsed time/ { print $4; exit }' "$1.out")
	echo "${states:-?} states stored, ${secs:-?} s"
}

complete_search() {
	! grep -qE 'max search depth too small|out of memory|search not completed' \
		"$1.out"
}

# expect_verified NAME SWITCHES...: 0 errors over the whole state space
expect_verified() {
	local name=$1
	shift
	if ! run_pan "$name" "$@"; then
		echo "FAIL  $name: spin or pan did not build"
		FAILED=1
		return
	fi
	if grep -q 'errors: 0' "$name.out" && complete_search "$name"; then
		echo "ok    $name: verified, $(summary "$name")"
	else
		echo "FAIL  $name: expected to verify, $(summary "$name")"
		grep -E '^pan|errors:' "$name.out" | sed 's/^/      /'
		FAILED=1
	fi
}

# expect_caught NAME WHAT SWITCHES...: a trail, and pan reports WHAT
expect_caught() {
	local name=$1 what=$2
	shift 2
	if ! run_pan "$name" "$@"; then
		echo "FAIL  $name: spin or pan did not build"
		FAILED=1
		return
	fi
	if [[ -f "$MODEL.trail" ]] && grep -q "$what" "$name.out"; then
		echo "ok    $name: caught ($(grep -m1 '^pan:1:' "$name.out" |
			sed 's/^pan:1: //')), $(summary "$name")"
		if [[ -n "$KEEP" ]]; then
			mkdir -p "$KEEP"
			cp "$MODEL.trail" "$KEEP/$name.trail"
		fi
	else
		echo "FAIL  $name: the broken rule went unnoticed, $(summary "$name")"
		FAILED=1
	fi
}

echo "run-model.sh: $(spin -V | head -n1); $HERE/$MODEL"
expect_verified intact
# on x86 the increment is a locked RMW, itself a full fence
expect_verified locked-inc-no-fence -DLOCKED_INC -DNO_FENCE
expect_caught no-reread 'assertion violated' -DNO_REREAD
expect_caught no-fence 'assertion violated' -DNO_FENCE
expect_caught reuse-busy-entry 'assertion violated' -DREUSE_BUSY_ENTRY
expect_caught reread-pfn-only 'assertion violated' -DREREAD_PFN_ONLY
expect_caught no-wake-fence 'invalid end state' -DNO_WAKE_FENCE
if $DEEP; then
	PAN_CFLAGS[0]=-O2
	PAN_RUN=(-m10000 -w24)
	expect_verified two-ops -DTWO_OPS
	expect_verified two-ops-locked-inc-no-fence -DTWO_OPS -DLOCKED_INC -DNO_FENCE
	PAN_CFLAGS[0]=-O0
	PAN_RUN=(-m10000 -w22)
fi

# lifetimes: disconnects and restarts under a pin in flight
MODEL=lifetime.pml
echo "run-model.sh: $HERE/$MODEL"
expect_verified lifetime
expect_caught no-record 'assertion violated' -DNO_RECORD
expect_caught no-lost-check 'assertion violated' -DNO_LOST_CHECK
expect_caught no-lost-fence 'assertion violated' -DNO_LOST_FENCE
expect_caught free-on-disconnect 'assertion violated' -DFREE_ON_DISCONNECT

if [[ -n "$KEEP" ]]; then
	cp pin.pml lifetime.pml "$KEEP/"
	echo "run-model.sh: trails in $KEEP (replay: cd $KEEP &&" \
	     "spin -t -p -DNO_REREAD -k no-reread.trail pin.pml)"
fi
if [[ $FAILED -ne 0 ]]; then
	echo "run-model.sh: FAILED"
	exit 1
fi
echo "run-model.sh: the protocol verifies and every broken rule is caught"
exit 0
