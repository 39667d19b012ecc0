#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh - install, build, and show daxlease on a fake NVDIMM.
#
# The README's first command.  Everything happens in a temporary directory
# that is removed at the end, even on failure: create a fake NVDIMM, look
# at it, inject and clear a media error, then start daxleased on it, copy
# a file in, write another through a DAX mapping, read it back with the
# CLI.  Then the story of a truncate against DMA: a client maps that file
# under a layout lease, an RDMA-style client pins part of it for write, a
# truncate of that part breaks both leases and waits in the busy-page scan
# (busy, blocked and leases show who and why) until the pinner's transfer
# ends and it unpins.  Finally stop the service and check the filesystem.
# Every step that does not happen as told fails the demo (exit 1).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$top/scripts/setup.sh"
"$top/scripts/build.sh" build

daxlease=$top/build/daxlease
daxleased=$top/build/daxleased
map_write=$top/build/example-map-write
lease_holder=$top/build/example-lease-holder
rdma_pinner=$top/build/example-rdma-pinner
work=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-demo.XXXXXX")
image=$work/demo.img
sock=$work/daxleased.sock
daemon_pid=
holder_pid=
pinner_pid=
truncate_pid=

# Stop what a failed step left running (clients first, daxleased last),
# then remove everything.
cleanup() {
	local pid

	for pid in $truncate_pid $pinner_pid $holder_pid $daemon_pid; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

die() {
	echo "demo: $*" >&2
	exit 1
}

# Say what the next command shows, then show the command and run it.
step() {
	printf '\n== %s\n' "$1"
}

run() {
	printf '$ %s\n' "$*"
	"$@"
}

dl() {
	printf '$ daxlease %s\n' "$*"
	"$daxlease" "$@"
}

# bg NAME PROGRAM ARGS...: start PROGRAM in the background with its
# stdout on a FIFO, open for reading on fd ${NAME}_fd; its pid in
# ${NAME}_pid.
bg() {
	local name=$1 prog=$2 fifo=$work/$1.out fd

	shift 2
	printf '$ %s %s &\n' "$(basename "$prog")" "$*"
	mkfifo "$fifo"
	"$prog" "$@" >"$fifo" &
	printf -v "${name}_pid" '%s' "$!"
	exec {fd}<"$fifo"
	printf -v "${name}_fd" '%s' "$fd"
}

# await NAME PATTERN: show NAME's lines until one matches PATTERN (a glob);
# fail if it ends or says nothing for 30 s first.  What makes the demo
# wait for an event is the line that reports it, never a sleep.
await() {
	local name=$1 want=$2 fd line

	fd=${name}_fd
	while IFS= read -r -t 30 -u "${!fd}" line; do
		printf '  %s | %s\n' "$name" "$line"
		if [[ $line == $want ]]; then
			return 0
		fi
	done
	die "$name never said '$want'"
}

# finished NAME: wait for NAME's exit; fail unless it is 0.
finished() {
	local pid=${1}_pid

	if ! wait "${!pid}"; then
		printf -v "$pid" '%s' ''
		die "$1 failed"
	fi
	printf -v "$pid" '%s' ''
	printf '  %s | exit 0\n' "$1"
}

# show_admin VIEW ARGS...: print `daxlease VIEW` (captured: it is checked
# against what was just printed, not a later state), leave it in $out.
show_admin() {
	printf '$ daxlease %s\n' "$*"
	out=$("$daxlease" "$@") || die "daxlease $1 failed"
	printf '%s\n' "$out"
}

# Poll `daxlease blocked` until a request waits for pins: the one state
# here with no line to wait for (it happens inside daxleased).
await_blocked_on_pins() {
	local _

	for _ in $(seq 200); do
		if "$daxlease" blocked | grep -q '"waits_for":"pins"'; then
			return 0
		fi
		sleep 0.05
	done
	die "no request is waiting for pins"
}

step "Create a 1 TiB fake NVDIMM (a sparse image file), 2 MiB align, with an empty filesystem"
dl create-namespace --size 1T --align 2M --name demo "$image"

step "List it with human-readable sizes (-u changes values, never keys)"
dl list --image "$image" -u

step "The image is 1 TiB long but sparse: only the metadata written so far takes disk space"
run du -h --apparent-size "$image"
run du -h "$image"

step "Check the filesystem on it (exit 0: clean)"
dl check-namespace "$image"

step "Inject a media error: 4 KiB at 4 MiB from the namespace start (the one offset convention)"
dl inject-error "$image" --offset 4M --length 4K

step "List badblocks: offsets and lengths in bytes from the namespace start"
dl list-errors "$image"

step "Clear it (clearing rewrites the sectors with zeros, as on real hardware)"
dl clear-error "$image" --offset 4M --length 4K
dl list-errors "$image"

step "Start daxleased on the image, in the background, listening on a socket in $work"
printf '$ daxleased --image %s --socket %s &\n' "$image" "$sock"
"$daxleased" --image "$image" --socket "$sock" 2>"$work/daxleased.log" &
daemon_pid=$!
export DAXLEASE_SOCKET=$sock

# Wait (up to ~5 s) until it answers.
for _ in $(seq 50); do
	if "$daxlease" status >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		cat "$work/daxleased.log" >&2
		echo "demo: daxleased exited" >&2
		exit 1
	fi
	sleep 0.1
done

step "Ask it how it is (DAXLEASE_SOCKET=$sock from here on)"
dl status -u

step "Copy a small file in"
printf 'a small file, copied in with daxlease put\n' >"$work/small.txt"
dl put "$work/small.txt" small.txt -u

step "Write through a DAX mapping: example-map-write maps hello.txt and stores a message with memcpy"
run "$map_write" hello.txt

step "Read it back through the service with the CLI (the file is 2 MiB; show its first line)"
printf '$ daxlease get hello.txt %s\n' "$work/hello.out"
"$daxlease" get hello.txt "$work/hello.out"
msg=$(head -n 1 "$work/hello.out" | tr -d '\0')
printf '%s\n' "$msg"
if [[ $msg != "hello from a DAX mapping" ]]; then
	echo "demo: the file does not hold the message written through the mapping" >&2
	exit 1
fi
dl get small.txt -

step "List the files"
dl ls -u

step "A client maps hello.txt under a layout lease: example-lease-holder takes a shared lease on all of it, maps it and waits for a break"
bg holder "$lease_holder" hello.txt
await holder "lease * held*"

step "An RDMA-style client pins 8 KiB of it at 1 MiB for write: example-rdma-pinner leases and maps them, pins them lockless (a counter per page in memory it shares with daxleased, no round trip), then its \"DMA\" thread keeps writing into the pinned blocks (3 s transfers)"
bg pinner "$rdma_pinner" --transfer-ms 3000 hello.txt 1M 8K
await pinner "pinned:*"

step "An admin sees both layout leases and the pinned pages"
show_admin leases -u
[[ $(grep -c '"state":"held"' <<<"$out") -eq 2 ]] ||
	die "daxlease leases does not show two held leases"
show_admin busy -u
grep -q '"comm":"example-rdma-pi"' <<<"$out" ||
	die "daxlease busy does not show the pinner's pin"

step "Truncate hello.txt to 1 MiB, in the background: the change first breaks the leases of the range it frees"
printf '$ daxlease truncate hello.txt 1M &\n'
"$daxlease" truncate hello.txt 1M >"$work/truncate.out" &
truncate_pid=$!
await holder "break:*"
await holder "lease returned"
finished holder
await pinner "break:*"
await pinner "lease returned*"

step "Both leases are back, so the truncate went on to the busy-page scan: the pin holds it (busy says who, blocked says why)"
await_blocked_on_pins
show_admin blocked -u
grep -q '"op":"truncate"' <<<"$out" ||
	die "daxlease blocked does not show the truncate"
show_admin busy -u
grep -q '"comm":"example-rdma-pi"' <<<"$out" ||
	die "the pin was gone before daxlease busy could show it"
show_admin leases -u
[[ $out == "[]" ]] || die "daxlease leases still shows leases"
kill -0 "$truncate_pid" 2>/dev/null || die "the truncate did not wait for the pin"

step "The transfer ends: the pinner checks through the service that the file holds what its DMA wrote, unpins and unmaps; then the truncate completes"
await pinner "verified:*"
await pinner "unpinned"
await pinner "unmapped"
finished pinner
finished truncate
dl stat -u hello.txt
"$daxlease" stat hello.txt | grep -q '"size":1048576,' ||
	die "hello.txt is not 1 MiB long after the truncate"

step "The first MiB, where example-map-write stored its message, is untouched"
printf '$ daxlease get hello.txt %s\n' "$work/hello.out"
"$daxlease" get hello.txt "$work/hello.out"
msg=$(head -n 1 "$work/hello.out" | tr -d '\0')
printf '%s\n' "$msg"
[[ $msg == "hello from a DAX mapping" ]] || die "the message is gone"

step "Stop daxleased (SIGTERM: it closes the namespace cleanly)"
run kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
sed 's/^/  | /' "$work/daxleased.log" | tail -n 3

step "Check the filesystem after the service stopped (exit 0: clean)"
dl check-namespace "$image"

step "Done: removing $work"
