/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rangeset.h - a set of namespace byte ranges, kept sorted and merged.
 *
 * A pin holds blocks, not file offsets: a collapse or an insert moves a
 * pinned block to another file offset and the pin must keep it, as the
 * kernel's page reference keeps the page whatever the file does.  So
 * what a layout change may free or move is a set of namespace ranges (the
 * extents of its file range), and what each pin holds is one too; "is
 * this pin in the way" is "do the two sets meet".
 */
#ifndef DAXLEASED_RANGESET_H
#define DAXLEASED_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dl_range {
	uint64_t off, len;		/* bytes; len > 0 */
};

struct dl_rangeset {
	struct dl_range *v;
	size_t n, cap;
	bool sorted;			/* sorted and merged */
};

/* Add a range (an empty one adds nothing); 0 or -ENOMEM. */
int dl_rangeset_add(struct dl_rangeset *s, uint64_t off, uint64_t len);
/* Add every range of from. */
int dl_rangeset_add_all(struct dl_rangeset *s, const struct dl_rangeset *from);
/* Sort and merge overlapping and adjacent ranges (the queries need it). */
void dl_rangeset_normalize(struct dl_rangeset *s);
/* Does any range of s (normalized) meet [off, off+len)? */
bool dl_rangeset_meets(const struct dl_rangeset *s, uint64_t off, uint64_t len);
/* Does one range of s (normalized) hold all of [off, off+len)? */
bool dl_rangeset_covers(const struct dl_rangeset *s, uint64_t off,
			uint64_t len);
/* Does s (normalized) hold every range of t? */
bool dl_rangeset_covers_all(const struct dl_rangeset *s,
			    const struct dl_rangeset *t);
/* Do two normalized sets meet? */
bool dl_rangesets_meet(const struct dl_rangeset *a, const struct dl_rangeset *b);
/*
 * At most max ranges (normalized, max >= 1): merge across the smallest
 * gaps.  The result holds everything s held, and more - which is how a
 * bounded record may over-approximate but never lose a range.
 */
void dl_rangeset_coarsen(struct dl_rangeset *s, size_t max);
/* Total bytes (normalized). */
uint64_t dl_rangeset_bytes(const struct dl_rangeset *s);
void dl_rangeset_clear(struct dl_rangeset *s);
void dl_rangeset_free(struct dl_rangeset *s);

#endif
