/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * array.h - growing a malloc'ed array, the one way pmem/ does it.
 */
#ifndef DAXLEASE_PMEM_ARRAY_H
#define DAXLEASE_PMEM_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/*
 * Make *arrp (of *cap elements of elem bytes) hold at least need
 * elements, doubling from 8.  Returns 0 or -ENOMEM (the array unchanged).
 */
static inline int dl_array_reserve(void *arrp, size_t *cap, size_t need,
				   size_t elem)
{
	void **arr = arrp;
	size_t n = *cap ? *cap : 8;
	void *v;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	v = realloc(*arr, n * elem);
	if (!v)
		return -ENOMEM;
	*arr = v;
	*cap = n;
	return 0;
}

#endif
