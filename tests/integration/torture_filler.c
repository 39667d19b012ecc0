/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_filler.c - a filler process of the torture test: creates victim
 * files, fills them with their pattern (through write calls, or through a
 * write mapping), rewrites them with a new generation, verifies them
 * through the service, and unlinks some, so the blocks the layout
 * processes free are soon handed out again - into a victim.  A DMA that
 * outlived its blocks then shows as a pinner's word inside a victim.
 *
 * The filler keeps at most cfg->filler_bytes of victims (the parent sizes
 * it from the free space), and answers -ENOSPC by unlinking the oldest.
 * Its model (id, generation, size of each live victim) goes to the parent
 * at the end, which verifies every victim once more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torture.h"

#define MAX_VICTIM (256 * 1024ULL)

struct filler {
	const struct tt_config *cfg;
	unsigned index;
	uint64_t rng;
	struct daxlease_ctx *ctx;
	struct tt_victim v[TT_MAX_VICTIMS];
	uint32_t nv;
	uint64_t bytes;		/* of live victims */
	uint32_t next;		/* next victim number */
	uint64_t *buf;
	char who[32];
	struct tt_report r;
};

static void error(struct filler *fl, const char *what,
		  const struct tt_victim *v, int rc)
{
	fprintf(stderr, "torture: %s: %s v%u: %s\n", fl->who, what, v->id,
		strerror(-rc));
	fl->r.errors++;
}

static void pattern(uint64_t *buf, const struct tt_victim *v)
{
	for (uint64_t i = 0; i < v->size / 8; i++)
		buf[i] = tt_victim_word(v->id, v->gen, 8 * i);
}

static int fill_by_write(struct filler *fl, struct daxlease_file *f,
			 const struct tt_victim *v)
{
	ssize_t n;

	pattern(fl->buf, v);
	n = daxlease_pwrite(f, fl->buf, v->size, 0);
	if (n < 0)
		return (int)n;
	/* short, like write(2): the namespace filled up on the way */
	return n == (ssize_t)v->size ? 0 : -ENOSPC;
}

/* Lease, write mapping, the pattern by stores, persist, unmap, release:
 * the first error. */
static int fill_by_map(struct filler *fl, struct daxlease_file *f,
		       const struct tt_victim *v)
{
	struct daxlease_map *m = NULL;
	uint64_t lease;
	int rc = daxlease_lease_acquire(f, 0, v->size, DAXLEASE_LEASE_SHARED,
					0, &lease), rc2;

	if (rc)
		return rc;
	rc = daxlease_map(f, 0, v->size, DAXLEASE_PROT_READ |
			  DAXLEASE_PROT_WRITE, &m);
	if (!rc) {
		pattern(daxlease_map_addr(m), v);
		rc = daxlease_map_persist(m, 0, v->size);
		rc2 = daxlease_unmap(m);
		rc = rc ? rc : rc2;
	}
	rc2 = daxlease_lease_release(fl->ctx, lease);
	rc = rc ? rc : rc2;
	fl->r.mapped_fills += !rc;
	return rc;
}

/* The whole victim, with its current generation. */
static int fill(struct filler *fl, const struct tt_victim *v, bool create)
{
	unsigned flags = DAXLEASE_O_READ | DAXLEASE_O_WRITE;
	struct daxlease_file *f = NULL;
	char name[32];
	int rc;

	if (create)
		flags |= DAXLEASE_O_CREATE | DAXLEASE_O_EXCL;
	rc = daxlease_open(fl->ctx, tt_victim_name(v->id, name, sizeof(name)),
			   flags, 0644, &f);
	if (rc)
		return rc;
	/* mappings need whole blocks */
	if (v->size % TT_BLK || tt_below(&fl->rng, 2)) {
		rc = fill_by_write(fl, f, v);
	} else {
		if (create)
			rc = daxlease_truncate(f, v->size);
		if (!rc)
			rc = fill_by_map(fl, f, v);
	}
	daxlease_close(f);
	return rc;
}

static void forget(struct filler *fl, uint32_t i)
{
	char name[32];
	int rc = daxlease_unlink(fl->ctx, tt_victim_name(fl->v[i].id, name,
							  sizeof(name)));

	if (rc)
		error(fl, "unlink", &fl->v[i], rc);
	fl->bytes -= fl->v[i].size;
	fl->v[i] = fl->v[--fl->nv];
	fl->r.unlinked++;
}

static void verify(struct filler *fl, const struct tt_victim *v)
{
	uint64_t bad = tt_verify_victim(fl->ctx, fl->who, v);

	fl->r.victim_words += bad;
	fl->r.victims_hit += bad != 0;
	fl->r.verified++;
}

/* A victim number no live victim has (numbers wrap at 4096). */
static uint32_t new_id(struct filler *fl)
{
	for (;;) {
		uint32_t id = fl->index << 12 | (fl->next++ & 0xfff);
		bool used = false;

		for (uint32_t i = 0; i < fl->nv; i++)
			used |= fl->v[i].id == id;
		if (!used)
			return id;
	}
}

static void create(struct filler *fl)
{
	struct tt_victim v = { .id = new_id(fl), .gen = 1 };
	char name[32];
	int rc;

	/* whole blocks half of the time (then a mapping may fill it) */
	if (tt_below(&fl->rng, 2))
		v.size = (1 + tt_below(&fl->rng, MAX_VICTIM / TT_BLK)) * TT_BLK;
	else
		v.size = (1 + tt_below(&fl->rng, MAX_VICTIM / 512)) * 512;
	rc = fill(fl, &v, true);
	if (rc == -ENOSPC) {
		/* the layout processes and pinners hold more just now */
		fl->r.enospc++;
		daxlease_unlink(fl->ctx, tt_victim_name(v.id, name,
							sizeof(name)));
		if (fl->nv)
			forget(fl, 0);
		return;
	}
	if (rc) {
		error(fl, "create", &v, rc);
		daxlease_unlink(fl->ctx, tt_victim_name(v.id, name,
							sizeof(name)));
		return;
	}
	fl->v[fl->nv++] = v;
	fl->bytes += v.size;
	fl->r.created++;
	__atomic_add_fetch(&fl->cfg->shared->victims_created, 1,
			   __ATOMIC_RELAXED);
	/* read back at once half of the time: a DMA into a block just
	 * handed out shows here */
	if (tt_below(&fl->rng, 2))
		verify(fl, &fl->v[fl->nv - 1]);
}

/* A new generation over the same blocks (or, since a write may go to
 * fresh blocks first, -ENOSPC: then what the file holds is no model's,
 * and it goes). */
static void rewrite(struct filler *fl, struct tt_victim *v)
{
	int rc;

	v->gen = (v->gen + 1) & 0xff;
	rc = fill(fl, v, false);
	if (rc == -ENOSPC) {
		fl->r.enospc++;
		forget(fl, (uint32_t)(v - fl->v));
		return;
	}
	if (rc) {
		error(fl, "rewrite", v, rc);
		return;
	}
	fl->r.rewrites++;
	verify(fl, v);
}

/*
 * Fill up to the byte budget first, then keep it full: unlink one now
 * and then, and the next create takes the blocks back.
 */
static void step(struct filler *fl)
{
	uint64_t what = tt_below(&fl->rng, 100);
	bool room = fl->nv < TT_MAX_VICTIMS &&
		    fl->bytes + MAX_VICTIM <= fl->cfg->filler_bytes;
	struct tt_victim *v = fl->nv ?
			      &fl->v[tt_below(&fl->rng, fl->nv)] : NULL;

	if (!v || (room && what < 60))
		create(fl);
	else if (!room && what < 30)
		forget(fl, (uint32_t)(v - fl->v));
	else if (what < 70)
		rewrite(fl, v);
	else
		verify(fl, v);
}

void tt_filler_main(const struct tt_config *cfg, unsigned index, int out)
{
	static struct filler fl;

	fl.cfg = cfg;
	fl.index = index;
	fl.rng = tt_seed_for(cfg, TT_FILLER, index);
	fl.r.role = TT_FILLER;
	fl.r.index = index;
	snprintf(fl.who, sizeof(fl.who), "filler %u", index);
	fl.buf = malloc(MAX_VICTIM);
	if (!fl.buf)
		_exit(2);
	fl.ctx = tt_connect(cfg, fl.who);
	while (!tt_stopped(cfg) && fl.r.errors < 10)
		step(&fl);
	daxlease_unref(fl.ctx);
	free(fl.buf);
	tt_child_exit(out, &fl.r, fl.v, fl.nv);
}
