#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_examples.sh BUILD_DIR - examples/rdma-pinner.c against
# examples/truncate-racer.c on a real daxleased, briefly.
#
# 1. A pinner that ignores lease breaks: the racer's NONBLOCK changes fail
#    with EBUSY naming it, and its "DMA" data are intact when it stops.
# 2. A cooperative pinner: it returns its lease on the break, the racer's
#    changes wait for its transfer to end, and its data are intact.
# 3. daxleased SIGKILLed under a pinner (lockless, then socket) and
#    started again on the image: the pinner's DMA never stops, it
#    reconnects and takes its pin back, the racer's changes still find the
#    pin in their way, and its data are intact when it stops.
# Events are waited for on the lines that report them (a FIFO), never by
# sleeping.  Last line "N passed, N failed"; exit 0 pass, 1 fail.
set -euo pipefail

build=${1:-}
for b in daxlease daxleased example-map-write example-rdma-pinner \
	 example-truncate-racer; do
	if [[ ! -x $build/$b ]]; then
		echo "usage: test_examples.sh BUILD_DIR (no $b there)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-examples.XXXXXX")
daemon_pid=
pinner_pid=

cleanup() {
	for p in $pinner_pid $daemon_pid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/cli/report.sh
source "$(dirname "${BASH_SOURCE[0]}")/report.sh"

# check DESCRIPTION COMMAND...: one check, from a command's exit status
check() {
	local what=$1

	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

"$build/daxlease" create-namespace --size 16G --align 2M --name t \
	"$tmp/ns.img" >/dev/null
# daemon_start: daxleased on the image, up once it answers STATUS
daemon_start() {
	"$build/daxleased" --image "$tmp/ns.img" --socket "$tmp/s.sock" \
		--lease-timeout 1 2>>"$tmp/daxleased.log" &
	daemon_pid=$!
	for _ in $(seq 100); do
		"$build/daxlease" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

export DAXLEASE_SOCKET=$tmp/s.sock
daemon_start
"$build/example-map-write" race.bin >/dev/null

# pinner_start ARGS...: start it in the background, wait for "pinned:"
pinner_start() {
	local line

	rm -f "$tmp/pinner.fifo"
	mkfifo "$tmp/pinner.fifo"
	"$build/example-rdma-pinner" "$@" >"$tmp/pinner.fifo" 2>&1 &
	pinner_pid=$!
	exec {pinner_fd}<"$tmp/pinner.fifo"
	while IFS= read -r -t 30 -u "$pinner_fd" line; do
		[[ $line == pinned:* ]] && return 0
	done
	return 1
}

# pinner_finish: the rest of its output to $tmp/pinner.out, status in prc
pinner_finish() {
	prc=0
	cat <&"$pinner_fd" >"$tmp/pinner.out"
	wait "$pinner_pid" || prc=$?
	pinner_pid=
	exec {pinner_fd}<&-
}

racer() {
	rrc=0
	"$build/example-truncate-racer" "$@" >"$tmp/racer.out" || rrc=$?
}

# pinner_wait PREFIX: the pinner's next line that starts with PREFIX
pinner_wait() {
	local line

	while IFS= read -r -t 30 -u "$pinner_fd" line; do
		echo "$line" >>"$tmp/pinner.early"
		[[ $line == "$1"* ]] && return 0
	done
	return 1
}

# restart_under_pinner HOW: SIGKILL the daemon under a pinner pinning the
# HOW way, start it again, and see the pinner through it
restart_under_pinner() {
	local how=$1 pid

	check "rdma-pinner $how says pinned" \
		pinner_start "$how" --ignore-breaks race.bin 1M 64K
	pid=$pinner_pid
	kill -KILL "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null || true
	check "daxleased starts again on the image ($how)" daemon_start
	check "the pinner reconnects and takes its pin back ($how)" \
		pinner_wait "reconnected:"
	racer --ops 10 --seed 5 --nonblock race.bin
	check "racer --nonblock after the restart exits 0 ($how)" \
		test "$rrc" -eq 0
	check "EBUSY names the pinner after the restart ($how)" \
		grep -q "^EBUSY: .* of pid $pid (example-rdma-pi)" \
		"$tmp/racer.out"
	kill -TERM "$pid"
	pinner_finish
	check "rdma-pinner exits 0 after the restart ($how)" \
		test "$prc" -eq 0
	check "its DMA data are in the file after the restart ($how)" \
		grep -q "^verified:" "$tmp/pinner.out"
}

# 1. a pin that ignores breaks
check "rdma-pinner --ignore-breaks says pinned" \
	pinner_start --ignore-breaks race.bin 1M 64K
pid=$pinner_pid
racer --ops 20 --seed 3 --nonblock race.bin
check "racer --nonblock exits 0" test "$rrc" -eq 0
check "EBUSY names the pinner" \
	grep -q "^EBUSY: .* of pid $pid (example-rdma-pi)" "$tmp/racer.out"
check "the racer's summary counts EBUSY" \
	grep -Eq "^ops 20 .*EBUSY [1-9]" "$tmp/racer.out"
kill -TERM "$pid"
pinner_finish
check "rdma-pinner exits 0 on SIGTERM" test "$prc" -eq 0
check "its DMA data are in the file" grep -q "^verified:" "$tmp/pinner.out"

# 2. a cooperative pin
check "rdma-pinner says pinned" pinner_start --transfer-ms 100 race.bin 1M 64K
racer --ops 20 --seed 3 race.bin
check "racer exits 0" test "$rrc" -eq 0
check "a change waited for the pin" \
	grep -Eq "^ops 20 .*waits [1-9]" "$tmp/racer.out"
pinner_finish
check "rdma-pinner let go and exits 0" test "$prc" -eq 0
check "it returned its lease on the break" \
	grep -q "lease returned" "$tmp/pinner.out"
check "its DMA data are in the file (2)" grep -q "^verified:" "$tmp/pinner.out"

# 3. the daemon dies under the pin
restart_under_pinner --lockless
restart_under_pinner --socket-pin

kill -TERM "$daemon_pid"
wait "$daemon_pid" || true
daemon_pid=
if [[ $failed -gt 0 ]]; then
	sed 's/^/  racer: /' "$tmp/racer.out"
	sed 's/^/  pinner: /' "$tmp/pinner.out"
	sed 's/^/  daxleased: /' "$tmp/daxleased.log" | tail -20
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
