#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# setup.sh - install what daxlease needs on a Debian bookworm machine.
#
# Asks dpkg first and touches apt only for packages that are missing, so a
# second run is instant and needs no root.  Run as root, or as a user who
# may use sudo.
set -euo pipefail

# package            why
PACKAGES=(
	build-essential    # gcc, make, libc headers
	cmake              # the build
	pkg-config         # CMake finds every library through it
	libpmem2-dev       # mapping and persistence (pmem/persist.c)
	libndctl-dev       # real namespaces (pmem/real_ns.c)
	libdaxctl-dev      # device-dax devices
	libcunit1-dev      # unit tests
	libjson-c-dev      # the CLI's JSON output
	clang              # libFuzzer targets, and the sanitizer builds
	libclang-rt-14-dev # clang's ASan/UBSan/TSan/libFuzzer runtimes
	python3            # JSON assertions in tests/cli/test_cli.sh
	spin               # model checking of the concurrency protocol
	liburing-dev       # benchmarks
)

missing_packages() {
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		if [[ "$status" != "install ok installed" ]]; then
			echo "$pkg"
		fi
	done
}

# Prefix for commands that need root: nothing as root, else sudo.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "setup.sh: installing packages needs root: run as root or" \
		     "install sudo (missing: ${MISSING[*]})" >&2
		exit 1
	fi
}

mapfile -t MISSING < <(missing_packages)
if [[ ${#MISSING[@]} -eq 0 ]]; then
	echo "setup.sh: all ${#PACKAGES[@]} packages installed"
	exit 0
fi

echo "setup.sh: installing ${MISSING[*]}"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${MISSING[@]}"
