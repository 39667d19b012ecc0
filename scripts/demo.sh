#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh - install, build, and show daxlease on a fake NVDIMM.
#
# The README's first command.  Everything happens in a temporary directory
# that is removed at the end, even on failure.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$top/scripts/setup.sh"
"$top/scripts/build.sh" build

daxlease=$top/build/daxlease
work=$(mktemp -d "${TMPDIR:-/tmp}/daxlease-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
image=$work/demo.img

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

step "Done: removing $work"
