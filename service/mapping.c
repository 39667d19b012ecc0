// SPDX-License-Identifier: BSD-3-Clause
/*
 * mapping.c - the cross-client side of mappings: invalidating every entry
 * that maps a range whose layout changes, and a client's teardown.
 *
 * A layout change clears VALID (and bumps the generation) in every table
 * that maps its range, then fences; only then does wait.c read the pin
 * counters (counters.c) - the order the lockless pin path relies on.
 */
#include <stdlib.h>

#include "server.h"

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	uint64_t aend = alen > UINT64_MAX - a ? UINT64_MAX : a + alen;
	uint64_t bend = blen > UINT64_MAX - b ? UINT64_MAX : b + blen;

	return a < bend && b < aend;
}

static void invalidate_mapping(struct dl_maptable *t, const struct dl_mapping *m,
			       uint64_t offset, uint64_t length)
{
	for (uint64_t i = m->first; i < m->first + m->nentries; i++) {
		const struct dl_table_entry *e = &t->ent[i];
		uint64_t size = dl_leaf_size(dl_pte_level(e->pte));

		if (overlaps(e->file_offset, size, offset, length))
			dl_maptable_invalidate(t, i);
	}
}

void dl_mappings_invalidate(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length)
{
	for (struct dl_client *c = srv->clients; c; c = c->next) {
		for (struct dl_mapping *m = c->maps; m; m = m->next) {
			if (m->ino != ino ||
			    !overlaps(m->offset, m->length, offset, length))
				continue;
			invalidate_mapping(c->table, m, offset, length);
		}
	}
	/* entries are invalid before any block moves (DESIGN.md's order) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void dl_mappings_free_client(struct dl_client *c)
{
	/* its lockless pins go with its counter region */
	dl_quarantine_drop_client(c);
	if (c->table)
		c->srv->kick = true;
	while (c->maps) {
		struct dl_mapping *m = c->maps;

		c->maps = m->next;
		dl_limits_map_gone(c, m);
		dl_maptable_release(c->table, m->first, m->nentries);
		dl_dirty_map_gone(c->srv, m);
		dl_mapping_free(m);
	}
	dl_maptable_free(c->table);
	c->table = NULL;
}
