#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_cli_daemon.sh DAXLEASE DAXLEASED MAP_WRITE - the `daxlease` verbs
# that talk to daxleased, end to end.
#
# Starts daxleased on a fresh fake NVDIMM in a temporary directory, runs
# every daemon verb through the real CLI (and examples/map-write.c for a
# write through a DAX mapping), checks exit statuses, messages and the JSON
# (parsed with python3), stops the daemon with SIGTERM and checks the
# filesystem.  Every check runs even after one fails; the last line is
# "N passed, N failed".  Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail

cli=${1:-}
daemon=${2:-}
map_write=${3:-}
if [[ ! -x $cli || ! -x $daemon || ! -x $map_write ]]; then
	echo "usage: test_cli_daemon.sh DAXLEASE DAXLEASED MAP_WRITE" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed for the JSON checks" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-cli-daemon.XXXXXX")
image=$tmp/ns.img
sock=$tmp/daxleased.sock
daemon_pid=

cleanup() {
	if [[ -n $daemon_pid ]]; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/cli/report.sh
. "$(dirname "${BASH_SOURCE[0]}")/report.sh"

# run ARGS...: the CLI on our socket; status in $rc, output in $tmp/out, err.
run() {
	last_cmd="$*"
	rc=0
	DAXLEASE_SOCKET=$sock "$cli" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null ||
		rc=$?
}

# expect_json PYTHON-EXPR DESCRIPTION: EXPR over d, the parsed stdout.
expect_json() {
	if python3 - "$tmp/out" "$1" <<'PY'; then ok "$2"; else not_ok "$2"; fi
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print("  not JSON:", e)
    sys.exit(1)
try:
    good = eval(sys.argv[2])
except (KeyError, IndexError, TypeError) as e:
    print("  unexpected JSON shape:", repr(e))
    sys.exit(1)
sys.exit(0 if good else 1)
PY
}

expect_err() {
	if grep -qF -- "$1" "$tmp/err"; then ok "$2"; else not_ok "$2 (want '$1' on stderr)"; fi
}

# ---- no daemon yet ------------------------------------------------------------

run status
expect_rc 1 "status without a daemon fails"
expect_err "daxlease: cannot reach daxleased at $sock" "the message names the socket"

# ---- start one ---------------------------------------------------------------

"$cli" create-namespace --size 1G --align 2M --name clitest "$image" >/dev/null
"$daemon" --image "$image" --socket "$sock" --lease-timeout 1 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
	if DAXLEASE_SOCKET=$sock "$cli" status >/dev/null 2>&1; then
		break
	fi
	sleep 0.05
done

run status
expect_rc 0 "status"
expect_json 'd["namespace"]["name"] == "clitest" and d["namespace"]["size"] == 1 << 30 and d["namespace"]["align"] == 2 << 20 and d["clients"] >= 1 and d["pid"] > 0 and isinstance(d["uptime_ns"], int) and d["namespace"]["health"] == {"state": "ok"}' \
	"status: namespace facts, clients, pid, uptime, health"
run --socket "$sock" status -u
expect_json 'd["namespace"]["size"].startswith("1.00 GiB") and isinstance(d["uptime_ns"], str)' \
	"--socket and -u: human values, same keys"

run ls
expect_rc 0 "ls on an empty filesystem"
expect_json 'd == []' "ls: [] when there are no files"

# ---- put, get, stat ------------------------------------------------------------

head -c 200000 /dev/urandom >"$tmp/rand"
chmod 0640 "$tmp/rand"
run put "$tmp/rand" rand
expect_rc 0 "put a 200000-byte file"
expect_json 'd["name"] == "rand" and d["size"] == 200000 and d["mode"] == "0640"' \
	"put prints the file: size, the local file's mode"
run get rand "$tmp/rand.out"
expect_rc 0 "get it back"
if cmp -s "$tmp/rand" "$tmp/rand.out"; then ok "get: same bytes"; else not_ok "get: same bytes"; fi

last_cmd="put - piped"
rc=0
printf 'from stdin\n' | DAXLEASE_SOCKET=$sock "$cli" put - piped >"$tmp/out" 2>"$tmp/err" || rc=$?
expect_rc 0 "put - (stdin)"
last_cmd="get piped -"
rc=0
DAXLEASE_SOCKET=$sock "$cli" get piped - >"$tmp/out" 2>"$tmp/err" || rc=$?
if [[ $rc -eq 0 && $(cat "$tmp/out") == "from stdin" ]]; then
	ok "get - (stdout)"
else
	not_ok "get - (stdout)"
fi

run stat rand
expect_json 'd["name"] == "rand" and d["blocks"] >= 49 and d["ino"] > 0 and all(k in d for k in ("uid", "gid", "extents", "layout_seq", "atime", "mtime", "ctime", "btime"))' \
	"stat: the file object's fields"
run stat missing
expect_rc 1 "stat of a missing file fails"
expect_err "daxlease stat: missing: No such file or directory" "stat: the error names the file"

run ls
expect_json 'isinstance(d, list) and sorted(f["name"] for f in d) == ["piped", "rand"]' \
	"ls: both files"
run list --files
expect_json 'isinstance(d, list) and len(d) == 2' "list --files: the same array"

# ---- truncate, fallocate ---------------------------------------------------------

run truncate rand 8K
expect_rc 0 "truncate"
expect_json 'd["size"] == 8192 and d["blocks"] == 2' "truncate: size and blocks"
run fallocate rand 0 1M
expect_json 'd["size"] == 1 << 20 and d["blocks"] == 256' "fallocate: allocate and extend"
run fallocate --punch rand 4K 4K
expect_json 'd["size"] == 1 << 20 and d["blocks"] == 255' "fallocate --punch keeps the size"
run fallocate --collapse rand 0 4K
expect_json 'd["size"] == (1 << 20) - 4096' "fallocate --collapse shifts down"
run fallocate --insert rand 0 8K
expect_json 'd["size"] == (1 << 20) + 4096' "fallocate --insert shifts up"
run fallocate --zero --keep-size rand 0 16K
expect_rc 0 "fallocate --zero --keep-size"
run fallocate --collapse rand 1 4K
expect_rc 1 "fallocate --collapse of a misaligned range fails"
expect_err "Invalid argument" "the error is Linux's EINVAL"
run fallocate --punch --zero rand 0 4K
expect_rc 2 "two fallocate modes are a usage error"

# ---- a write through a DAX mapping ---------------------------------------------

rc=0
"$map_write" --socket "$sock" mapped "through the mapping" >"$tmp/out" 2>"$tmp/err" || rc=$?
last_cmd="(example-map-write)"
expect_rc 0 "example-map-write"
last_cmd="get mapped -"
rc=0
DAXLEASE_SOCKET=$sock "$cli" get mapped - 2>"$tmp/err" | head -c 19 >"$tmp/out" || rc=$?
if [[ $(cat "$tmp/out") == "through the mapping" ]]; then
	ok "get shows what the mapping stored"
else
	not_ok "get shows what the mapping stored"
fi

# ---- pin, busy, blocked, busy policies ------------------------------------------

# wait_for COMMAND...: retry (every 50 ms, up to 10 s) until it succeeds
wait_for() {
	for _ in $(seq 200); do
		if "$@"; then return 0; fi
		sleep 0.05
	done
	return 1
}

blocked_count_is() {
	run blocked
	python3 -c 'import json, sys; sys.exit(len(json.load(open(sys.argv[1]))) != int(sys.argv[2]))' "$tmp/out" "$1"
}

DAXLEASE_SOCKET=$sock "$cli" pin --write rand 0 8K >"$tmp/pin.out" 2>"$tmp/pin.err" </dev/null &
pin_pid=$!
wait_for grep -q '}' "$tmp/pin.out" || true
cp "$tmp/pin.out" "$tmp/out"
last_cmd="pin --write rand 0 8K"
expect_json 'd["access"] == "write" and d["length"] == 8192 and d["file"] == "rand"' "pin prints the pin"
run busy
expect_json "len(d) == 1 and d[0]['pid'] == $pin_pid and d[0]['file'] == 'rand' and d[0]['ns_offset'] is not None" "busy names the pinner"
run busy --summary
expect_json "d['pins'] == 1 and d['bytes'] == 8192 and d['processes'][0]['pid'] == $pin_pid and d['processes'][0]['pins'] == 1 and d['files'][0]['file'] == 'rand' and d['files'][0]['pins'] == 1" "busy --summary adds the pins up per process and per file"
run busy --pid "$pin_pid" --file rand --range 4K:4K
expect_json "len(d) == 1 and d[0]['pid'] == $pin_pid" "busy --pid --file --range: the pin meets them"
run busy --range 8K:4K
expect_json 'd == []' "busy --range: a range beside the pin shows nothing"
run busy --file other
expect_json 'd == []' "busy --file: another file's pins only"
run busy --summary --pid 1
expect_json "d['pins'] == 0 and d['processes'] == [] and d['files'] == []" "busy --summary --pid: the filtered totals"
run busy --range 4K
expect_rc 2 "busy --range without a length is a usage error"
run busy --pid zero
expect_rc 2 "busy --pid that is not a number is a usage error"
run leases
expect_json "len(d) == 1 and d[0]['pid'] == $pin_pid and d[0]['file'] == 'rand' and d[0]['state'] == 'held'" "leases names the pinner's lease and its file"
run truncate --nonblock rand 0
expect_rc 1 "truncate --nonblock on a pinned range fails"
expect_err "Device or resource busy" "the error is EBUSY"
expect_json "len(d) == 2 and d[0]['pid'] == $pin_pid and d[1]['pid'] == $pin_pid and 'pin_id' in d[0] and d[1]['type'] == 'shared' and 'lease_id' in d[1]" "truncate --nonblock prints the blockers: the pin, then its lease"
run fallocate --punch --deadline 100 rand 0 4K
expect_rc 1 "fallocate --deadline on a pinned range fails"
expect_err "timed out" "the error is ETIMEDOUT"
run fallocate --punch rand 64K 4K
expect_rc 0 "a punch beside the pin does not wait"
run truncate --nonblock --deadline 5 rand 0
expect_rc 2 "--nonblock with --deadline is a usage error"
DAXLEASE_SOCKET=$sock "$cli" truncate rand 4K >/dev/null 2>&1 </dev/null &
tr_pid=$!
wait_for blocked_count_is 1 || true
expect_json "d[0]['op'] == 'truncate' and d[0]['pid'] == $tr_pid and d[0]['waits_for'] == 'pins'" "blocked shows the waiting truncate"
kill -TERM "$pin_pid"
rc=0
wait "$pin_pid" || rc=$?
last_cmd="(pin, then SIGTERM)"
expect_rc 0 "pin unpins and exits 0 on SIGTERM"
rc=0
wait "$tr_pid" || rc=$?
last_cmd="(truncate waiting for the pin)"
expect_rc 0 "the waiting truncate completes after the unpin"
run stat rand
expect_json 'd["size"] == 4096' "the truncate was applied"
run busy
expect_json 'd == []' "no pin is left"
run dirty
expect_json 'any(r["offset"] == 0 and r["length"] == 8192 for r in d)' "the write pin's range is dirty"
cp "$tmp/pin.err" "$tmp/err"
last_cmd="(pin's stderr)"
expect_err "break: opcode 20 by pid" "pin reports the lease break (the punch with a deadline)"
expect_err "revoked: opcode 20 by pid" "pin reports the revocation (daxleased --lease-timeout 1)"
run pin --help
expect_rc 0 "pin --help"
run leases
expect_json 'd == []' "leases: none held"
run leases -u
expect_rc 0 "leases -u"
run leases --help
expect_rc 0 "leases --help"

# ---- mv, rm ---------------------------------------------------------------------

run mv piped moved
expect_rc 0 "mv"
expect_json 'd["name"] == "moved"' "mv prints the new name"
run mv --no-replace moved rand
expect_rc 1 "mv --no-replace onto an existing file fails"
expect_err "File exists" "the error is EEXIST"
run rm moved
expect_rc 0 "rm"
run stat moved
expect_rc 1 "a removed file is gone"
run rm moved
expect_rc 1 "rm of a missing file fails"

run put --help
expect_rc 0 "put --help"
run fallocate --help
expect_rc 0 "fallocate --help"

# ---- stop ---------------------------------------------------------------------

kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
last_cmd="(daxleased stopped by SIGTERM)"
expect_rc 0 "daxleased exits 0 on SIGTERM"
run status
expect_rc 1 "status after the daemon stopped fails"
run check-namespace "$image"
expect_rc 0 "check-namespace: clean after the stop"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
