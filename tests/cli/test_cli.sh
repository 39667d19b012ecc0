#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_cli.sh [DAXLEASE] - the `daxlease` command line, end to end.
#
# Runs the real binary on images in a temporary directory and checks exit
# statuses, messages and the JSON it prints (with python3: parsing, not
# grepping, so the test holds the output to being JSON).  Every check runs
# even after one fails; the last line is "N passed, N failed".
# Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail

cli=${1:-${DAXLEASE_CLI:-}}
if [[ -z $cli || ! -x $cli ]]; then
	echo "usage: test_cli.sh DAXLEASE (or set DAXLEASE_CLI)" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed for the JSON checks" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The big image is 1 TiB, to show that a namespace costs only the disk its
# metadata uses.  ThreadSanitizer keeps most of the address space for its
# shadow, so a 1 TiB mapping does not reliably fit: tests/cli/CMakeLists.txt
# asks for a smaller one in a TSan build.
big_gib=${DAXLEASE_CLI_BIG_GIB:-1024}
big_bytes=$((big_gib << 30))
if [[ $((big_gib % 1024)) -eq 0 ]]; then
	big_size=$((big_gib / 1024))T
	big_human="$((big_gib / 1024)).00 TiB"
else
	big_size=${big_gib}G
	big_human="${big_gib}.00 GiB"
fi

if ! truncate -s "$big_size" "$tmp/probe" 2>/dev/null; then
	echo "SKIP: $tmp cannot hold a $big_size sparse file (set TMPDIR)" >&2
	exit 77
fi
rm -f "$tmp/probe"

# shellcheck source=tests/cli/report.sh
. "$(dirname "${BASH_SOURCE[0]}")/report.sh"

# run ARGS...: run the CLI; its status in $rc, output in $tmp/out, $tmp/err.
run() {
	last_cmd="$*"
	rc=0
	"$cli" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
}

# expect_json PYTHON-EXPR DESCRIPTION: EXPR over d, the parsed stdout, and
# big, the size of the big image in bytes.
expect_json() {
	if python3 - "$tmp/out" "$1" "$big_bytes" <<'EOF'; then ok "$2"; else not_ok "$2"; fi
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print("  not JSON: %s" % e)
    sys.exit(1)
# parenthesised so that an expression may span lines
ctx = {"d": d, "big": int(sys.argv[3])}
try:
    sys.exit(0 if eval("(" + sys.argv[2] + ")", ctx) else 1)
except (LookupError, TypeError, AttributeError) as e:
    print("  unexpected shape: %r" % e)
    sys.exit(1)
EOF
}

expect_stderr() {
	if grep -qF -- "$1" "$tmp/err"; then ok "$2"; else not_ok "$2"; fi
}

expect_empty_stdout() {
	if [[ ! -s $tmp/out ]]; then ok "$1"; else not_ok "$1"; fi
}

# ---------------------------------------------------------------------------

img=$tmp/big.img
small=$tmp/small.img
bad=$tmp/bad.img

test_create() {
	run create-namespace --size "$big_size" --align 2M --name t1 "$img"
	expect_rc 0 "create-namespace $big_size/2M succeeds"
	expect_json 'd["size"] == big and d["align"] == 2097152' \
		"create-namespace prints size and align in bytes"
	expect_json 'd["name"] == "t1" and d["kind"] == "fake-nvdimm" and
		d["dev"].endswith("/big.img") and d["version"] == "1.0" and
		d["badblock_count"] == 0 and
		d["health"]["state"] == "clean" and
		d["health"]["unsafe_shutdowns"] == 0' \
		"create-namespace prints name, kind, dev, version, health"
	expect_json 'd["data_offset"] % d["align"] == 0 and
		d["data_offset"] >= 262144' \
		"data_offset is a multiple of align"
	expect_json 'd["allocated"] < (1 << 30)' "the $big_size image is sparse"
	if [[ $(stat -c %s "$img" 2>/dev/null || echo 0) -ge $big_bytes ]]; then
		ok "the image file spans the namespace"
	else
		not_ok "the image file spans the namespace"
	fi

	run create-namespace --size 64M --align 4K "$img"
	expect_rc 1 "create-namespace refuses an existing image"
	if [[ $(stat -c %s "$img") -ge $big_bytes ]]; then
		ok "... and leaves it alone"
	else
		not_ok "... and leaves it alone"
	fi

	run create-namespace --size 64M --align 4K --no-format \
		--uuid 01234567-89ab-cdef-0123-456789abcdef "$small"
	expect_rc 0 "create-namespace --no-format --uuid succeeds"
	expect_json 'd["uuid"] == "01234567-89ab-cdef-0123-456789abcdef" and
		d["name"] == "" and d["align"] == 4096' \
		"the uuid given is the uuid printed; no name is \"\""
}

test_create_refused() {
	run create-namespace --size 1001M --align 2M "$tmp/mis.img"
	expect_rc 1 "a size that is not a multiple of align is refused"
	expect_stderr "is not a multiple of align" "... with the rule in the message"
	if [[ ! -e $tmp/mis.img ]]; then
		ok "... and no image is left behind"
	else
		not_ok "... and no image is left behind"
	fi

	run create-namespace --size 64M --align 3K "$tmp/a3k.img"
	if [[ $rc -ne 0 && -s $tmp/err ]]; then
		ok "align 3K is refused"
	else
		not_ok "align 3K is refused"
	fi
	run create-namespace --size 64M --align 8K "$tmp/a8k.img"
	if [[ $rc -ne 0 && -s $tmp/err ]]; then
		ok "align 8K is refused (4K, 2M or 1G only)"
	else
		not_ok "align 8K is refused (4K, 2M or 1G only)"
	fi

	run create-namespace --size lots "$tmp/x.img"
	expect_rc 2 "an unparsable size is a usage error"
	run create-namespace "$tmp/x.img"
	expect_rc 2 "a missing --size is a usage error"
	run create-namespace --size 64M --uuid not-a-uuid "$tmp/x.img"
	expect_rc 2 "a malformed uuid is a usage error"
}

test_list() {
	run list
	expect_rc 0 "list with no image exits 0"
	expect_json 'isinstance(d, list)' "list prints a JSON array"
	if [[ -z $(ls -A /sys/bus/nd/devices 2>/dev/null) &&
	      -z $(ls -A /sys/bus/dax/devices 2>/dev/null) ]]; then
		expect_json 'd == []' "list with no NVDIMM prints an empty array"
		if [[ $(<"$tmp/out") == "[]" ]]; then
			ok "... written exactly []"
		else
			not_ok "... written exactly []"
		fi
	fi

	run list --image "$img"
	expect_rc 0 "list --image exits 0"
	expect_json '[x["size"] for x in d if x["dev"].endswith("/big.img")]
		== [big]' "list --image shows the image"
	cp "$tmp/out" "$tmp/list.json"

	run list --image "$img" -u
	expect_rc 0 "list -u exits 0"
	cp "$tmp/out" "$tmp/list-u.json"
	if python3 - "$tmp/list.json" "$tmp/list-u.json" <<'EOF'; then
import json, sys
def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v]
    return None
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if shape(a) == shape(b) and a != b else 1)
EOF
		ok "-u changes values but not keys"
	else
		not_ok "-u changes values but not keys"
	fi
	expect_json '[x for x in d if x["dev"].endswith("/big.img")][0]["size"]
		.startswith("'"$big_human"'")' "-u prints sizes with units"
	expect_json '[x for x in d if x["dev"].endswith("/big.img")][0]
		["data_offset"].startswith("0x")' "-u prints offsets in hex"

	run list --image "$img" --image "$small"
	expect_rc 0 "list takes several --image"
	expect_json 'sum(1 for x in d if x.get("kind") == "fake-nvdimm") == 2' \
		"... and shows each"

	run info "$small"
	expect_rc 0 "info IMAGE exits 0"
	expect_json 'isinstance(d, list) and len(d) == 1 and
		d[0]["size"] == 67108864' "info prints an array of one"

	run list --image "$tmp/missing.img"
	expect_rc 1 "list --image of a missing file exits 1"
	expect_json 'isinstance(d, list)' "... and still prints an array"
	expect_stderr "missing.img" "... and names the image on stderr"
}

test_check() {
	run check-namespace "$img"
	expect_rc 0 "check-namespace on a fresh image exits 0"
	expect_json 'd["status"] == "clean" and d["problems"] == [] and
		d["problem_count"] == 0 and d["files"] == 0' \
		"... and reports it clean"
	expect_json 'set(d["blocks"]) == {"total", "free", "file",
		"extent_maps", "detached", "metadata"} and
		d["blocks"]["total"] == big // 4096 and
		set(d["journal"]) == {"state", "seq"}' \
		"... with block counts and the journal state"

	run check-namespace --read-only "$img"
	expect_rc 0 "check-namespace --read-only exits 0"
	expect_json 'd["status"] == "clean"' "... and reports it clean"
}

test_errors() {
	run list-errors "$img"
	expect_rc 0 "list-errors exits 0"
	expect_json 'd == []' "a fresh image has no badblocks: []"

	run inject-error "$img" --offset 4M --length 4K
	expect_rc 0 "inject-error 4K at 4M exits 0"
	run list-errors "$img"
	expect_json 'd == [{"offset": 4194304, "length": 4096}]' \
		"list-errors shows it, in bytes from the namespace start"
	run list-errors -u "$img"
	expect_json 'd == [{"offset": "0x400000", "length": "4.00 KiB (4.10 kB)"}]' \
		"list-errors -u prints hex offsets and sized lengths"
	run list --image "$img"
	expect_json '[x["badblock_count"] for x in d
		if x["dev"].endswith("/big.img")] == [1]' \
		"list counts the badblock"

	run inject-error "$img" --offset 5000 --length 1
	expect_rc 0 "inject-error of one byte exits 0"
	run list-errors "$img"
	expect_json '{"offset": 4608, "length": 512} in d' \
		"... and is widened to its 512-byte sector"
	run clear-error "$img" --offset 4608 --length 512
	expect_rc 0 "clear-error of that sector exits 0"

	run clear-error "$img" --offset 0x400000 --length 4K
	expect_rc 0 "clear-error takes the hex offset -u printed"
	run list-errors "$img"
	expect_json 'd == []' "inject, list, clear: back to []"

	run inject-error "$img" --offset 4M
	expect_rc 2 "inject-error without --length is a usage error"
}

test_corrupt() {
	cp --sparse=always "$small" "$bad"
	# both device-header copies (image bytes 0 .. 8 KiB)
	head -c 8192 /dev/urandom | dd of="$bad" conv=notrunc status=none

	run check-namespace "$bad"
	expect_rc 1 "check-namespace on a corrupt header exits 1"
	expect_stderr "cannot open" "... saying it cannot open the image"
	expect_empty_stdout "... and printing no report"

	run list --image "$bad"
	expect_rc 1 "list --image of a corrupt image exits 1"
	expect_stderr "bad.img:" "... and names the image"

	run list-errors "$bad"
	expect_rc 1 "list-errors on a corrupt image exits 1"
}

test_usage() {
	local verb
	for verb in create-namespace list info check-namespace inject-error \
		    clear-error list-errors; do
		run "$verb" --help
		if [[ $rc -eq 0 ]] && grep -q "^usage: daxlease $verb" "$tmp/out"; then
			ok "$verb --help"
		else
			not_ok "$verb --help"
		fi
		run "$verb" -h
		expect_rc 0 "$verb -h"
		run help "$verb"
		expect_rc 0 "help $verb"
	done

	run help
	expect_rc 0 "help exits 0"
	if grep -q "create-namespace" "$tmp/out" && grep -q "list-errors" "$tmp/out"
	then ok "help lists the verbs"; else not_ok "help lists the verbs"; fi
	run --help
	expect_rc 0 "--help exits 0"
	run --version
	expect_rc 0 "--version exits 0"
	run --socket /tmp/x.sock help
	expect_rc 0 "--socket is accepted before the verb"

	run frobnicate
	expect_rc 2 "an unknown verb exits 2"
	expect_stderr "frobnicate" "... and names it"
	run
	expect_rc 2 "no verb exits 2"
	run list --bogus
	expect_rc 2 "an unknown option exits 2"
	expect_stderr "daxlease list" "... and names the verb"
	run check-namespace
	expect_rc 2 "a missing IMAGE exits 2"
}

test_create
test_create_refused
test_list
test_check
test_errors
test_corrupt
test_usage

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
