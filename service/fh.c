// SPDX-License-Identifier: BSD-3-Clause
/* fh.c - per-connection handle table; see fh.h. */
#include <errno.h>
#include <stdlib.h>

#include "fh.h"

/* fh = serial << 32 | (slot + 1): never 0, and stale values never match */
static uint64_t fh_value(const struct dl_fh_table *t, size_t slot)
{
	return (uint64_t)t->v[slot].serial << 32 | (uint64_t)(slot + 1);
}

static int fh_grow(struct dl_fh_table *t)
{
	size_t n = t->n ? t->n * 2 : 16;
	struct dl_fh *v;

	if (n > DL_FH_MAX)
		n = DL_FH_MAX;
	if (n <= t->n)
		return -EMFILE;
	v = realloc(t->v, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = t->n; i < n; i++)
		v[i] = (struct dl_fh){ 0 };
	t->v = v;
	t->n = n;
	return 0;
}

int dl_fh_add(struct dl_fh_table *t, uint32_t ino, uint32_t generation,
	      unsigned access, uint64_t *fh)
{
	size_t slot;
	int rc;

	if (t->nused == t->n) {
		rc = fh_grow(t);
		if (rc)
			return rc;
	}
	for (slot = 0; slot < t->n && t->v[slot].used; slot++)
		;
	t->v[slot].ino = ino;
	t->v[slot].generation = generation;
	t->v[slot].access = access;
	t->v[slot].serial++;
	t->v[slot].used = true;
	t->nused++;
	*fh = fh_value(t, slot);
	return 0;
}

int dl_fh_put(struct dl_fh_table *t, uint64_t fh, uint32_t ino,
	      uint32_t generation, unsigned access)
{
	uint64_t slot = (fh & 0xffffffffu) - 1;
	int rc;

	if (!(fh & 0xffffffffu) || !(fh >> 32))
		return -EINVAL;
	if (slot >= DL_FH_MAX)
		return -EMFILE;
	while (slot >= t->n) {
		rc = fh_grow(t);
		if (rc)
			return rc;
	}
	if (t->v[slot].used)
		return -EEXIST;
	t->v[slot] = (struct dl_fh){
		.ino = ino, .generation = generation,
		.serial = (uint32_t)(fh >> 32), .access = access, .used = true,
	};
	t->nused++;
	return 0;
}

struct dl_fh *dl_fh_get(struct dl_fh_table *t, uint64_t fh)
{
	uint64_t slot = (fh & 0xffffffffu) - 1;

	if (!fh || slot >= t->n || !t->v[slot].used ||
	    fh_value(t, slot) != fh)
		return NULL;
	return &t->v[slot];
}

int dl_fh_del(struct dl_fh_table *t, uint64_t fh)
{
	struct dl_fh *h = dl_fh_get(t, fh);

	if (!h)
		return -EBADF;
	h->used = false;
	t->nused--;
	return 0;
}

void dl_fh_table_free(struct dl_fh_table *t)
{
	free(t->v);
	*t = (struct dl_fh_table){ 0 };
}
