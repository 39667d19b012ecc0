/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maptable.h - the service side of a client's mapping table
 * (include/daxlease/table.h is the layout the client reads).
 *
 * A sealed memfd: the service keeps its own writable mapping (made before
 * sealing), the client can only map it read-only.  Entries are handed out
 * as contiguous runs, first fit.
 */
#ifndef DAXLEASED_MAPTABLE_H
#define DAXLEASED_MAPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <daxlease/table.h>

#include "error.h"

struct dl_maptable {
	int fd;				/* the memfd sent to the client */
	void *base;
	size_t map_len;
	struct dl_table_hdr *hdr;
	struct dl_table_entry *ent;
	uint64_t cap;
	uint8_t *used;			/* one byte per entry */
	uint64_t hint;			/* where the next search starts */
};

int dl_maptable_new(uint64_t cap, struct dl_maptable **out,
		    struct dl_err *err);
void dl_maptable_free(struct dl_maptable *t);

/* First index of n free consecutive entries, now reserved; or -ENOSPC. */
int64_t dl_maptable_alloc(struct dl_maptable *t, uint64_t n);
/* Point entry idx at a leaf: file_offset and map_id first, the pte word
 * last with one 64-bit release store. */
void dl_maptable_set(struct dl_maptable *t, uint64_t idx, uint64_t file_offset,
		     uint64_t map_id, uint64_t ns_offset,
		     enum dl_leaf_level level, bool write);
/* Clear VALID and bump the generation (one release store). */
void dl_maptable_invalidate(struct dl_maptable *t, uint64_t idx);
/* Invalidate and free n entries from first. */
void dl_maptable_release(struct dl_maptable *t, uint64_t first, uint64_t n);

#endif
