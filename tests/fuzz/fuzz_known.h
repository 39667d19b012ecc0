/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_known.h - inputs that hit bugs already reported (fuzz_known.c).
 */
#ifndef DAXLEASE_TESTS_FUZZ_KNOWN_H
#define DAXLEASE_TESTS_FUZZ_KNOWN_H

#include <stdbool.h>

#include "fuzz_image.h"

/* True when DAXLEASE_FUZZ_SKIP_KNOWN is set (and not "0"). */
bool fz_skip_known_wanted(void);

/*
 * True if the patched image would hit a known bug: the target then skips
 * it.  May also clear flags that alone trigger one (FZ_NULL_ERR).
 */
bool fz_known_bug(const struct fz_image *im, unsigned *flags);

#endif
