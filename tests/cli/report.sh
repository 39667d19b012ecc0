# SPDX-License-Identifier: BSD-3-Clause
# report.sh - sourced by the CLI tests: count and print checks.
#
# The test defines run() (which sets $rc and fills $tmp/out and $tmp/err,
# and $last_cmd) and ends with: echo "$passed passed, $failed failed".

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	echo "  command: daxlease ${last_cmd:-}"
	echo "  exit status: ${rc:-}"
	sed 's/^/  stdout: /' "$tmp/out" 2>/dev/null | head -40 || true
	sed 's/^/  stderr: /' "$tmp/err" 2>/dev/null | head -20 || true
}

# expect_rc STATUS DESCRIPTION: the last run() exited with STATUS.
expect_rc() {
	if [[ $rc -eq $1 ]]; then ok "$2"; else not_ok "$2 (want exit $1)"; fi
}
