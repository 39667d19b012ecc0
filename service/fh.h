/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fh.h - a connection's file handles.
 *
 * A handle remembers the inode and its generation at open time, and what
 * the open allowed; every use re-checks the generation, so a handle to a
 * file that was unlinked (and whose inode may have been reused) answers
 * -ESTALE instead of reaching another file.  Handle values carry a slot
 * and a per-slot serial, so a closed handle is never mistaken for the
 * next one opened in its slot.
 */
#ifndef DAXLEASED_FH_H
#define DAXLEASED_FH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DL_FH_MAX 65536		/* open handles per connection (EMFILE) */

struct dl_fh {
	uint32_t ino;
	uint32_t generation;
	uint32_t serial;
	unsigned access;	/* DL_ACCESS_R | DL_ACCESS_W */
	bool used;
};

struct dl_fh_table {
	struct dl_fh *v;
	size_t n;		/* slots allocated */
	size_t nused;
};

int dl_fh_add(struct dl_fh_table *t, uint32_t ino, uint32_t generation,
	      unsigned access, uint64_t *fh);
/* A handle with the value fh had in another table (a re-attach): 0,
 * -EINVAL (not a handle value), -EEXIST (its slot is in use), -EMFILE. */
int dl_fh_put(struct dl_fh_table *t, uint64_t fh, uint32_t ino,
	      uint32_t generation, unsigned access);
/* NULL if fh is not an open handle of this table. */
struct dl_fh *dl_fh_get(struct dl_fh_table *t, uint64_t fh);
int dl_fh_del(struct dl_fh_table *t, uint64_t fh);
void dl_fh_table_free(struct dl_fh_table *t);

#endif
