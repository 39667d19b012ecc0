/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_known.c - recognise FZ_IMAGE inputs that hit a bug already found
 * and reported, so that a long fuzzing run can look past it.
 *
 * Off by default: the smoke test and a plain fuzzer run must keep failing
 * on an open bug until it is fixed (its reproducer is a corpus file named
 * crash-*).  DAXLEASE_FUZZ_SKIP_KNOWN=1 turns it on.  A rule looks at the
 * patched image (fz_image.map) the way the library will, names the bug
 * it stands for, and goes when the bug is fixed.
 *
 * No bug is open.  The rules that were here (detached-table and extent
 * ranges that wrapped, ndetached * 32 wrapping, the checker sizing memory
 * by a media extent count, err->msg with err == NULL) went with the fixes
 * in 5117099 and 5135258; their inputs are the corpus files regress-*.
 * A finding that only UBSan's nonnull-attribute check reports is easier
 * to look past with DAXLEASE_FUZZ_EXTRA_FLAGS=-fno-sanitize=nonnull-attribute.
 */
#include "fuzz_known.h"

#include <stdlib.h>
#include <string.h>

bool fz_skip_known_wanted(void)
{
	static int wanted = -1;

	if (wanted < 0) {
		const char *s = getenv("DAXLEASE_FUZZ_SKIP_KNOWN");

		wanted = s && *s && strcmp(s, "0");
	}
	return wanted;
}

bool fz_known_bug(const struct fz_image *im, unsigned *flags)
{
	(void)im;
	(void)flags;
	return false;
}
