#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh - install, build, and show daxlease on a fake NVDIMM.
#
# The README's first command.  Everything happens in a temporary directory
# that is removed at the end, even on failure: create a fake NVDIMM, look
# at it, inject and clear a media error, then start daxleased on it, copy
# a file in, write another through a DAX mapping, read it back with the
# CLI, stop the service and check the filesystem.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$top/scripts/setup.sh"
"$top/scripts/build.sh" build

daxlease=$top/build/daxlease
daxleased=$top/build/daxleased
map_write=$top/build/example-map-write
work=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-demo.XXXXXX")
image=$work/demo.img
sock=$work/daxleased.sock
daemon_pid=

# Stop daxleased if a step failed while it ran, then remove everything.
cleanup() {
	if [[ -n $daemon_pid ]]; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

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

step "Stop daxleased (SIGTERM: it closes the namespace cleanly)"
run kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
sed 's/^/  | /' "$work/daxleased.log" | tail -n 3

step "Check the filesystem after the service stopped (exit 0: clean)"
dl check-namespace "$image"

step "Done: removing $work"
