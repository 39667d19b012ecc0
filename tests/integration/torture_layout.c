/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_layout.c - a layout process of the torture test: truncates
 * (down and back up), punches, collapses, inserts and zeroes ranges of
 * the pinned files, with the default policy (wait for pins), until its
 * share of the layout-op budget is done.
 *
 * Sizes stay between the config's pinned_min and pinned_max, so the
 * pinners always find something to pin and the namespace never fills.
 * On a namespace with big leaves, half of the offsets and lengths
 * are whole leaves: those changes keep PMD/PUD leaves whole (or free
 * them for a new aligned allocation), the others split them.
 * Half of the changes are first tried with NONBLOCK: an -EBUSY that names
 * pins counts as a change that found a DMA in its way (the report's
 * "found pins"); the change is then made for real, waiting.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "torture.h"

enum layout_op { OP_SHRINK, OP_GROW, OP_PUNCH, OP_COLLAPSE, OP_INSERT,
		 OP_ZERO, OP_NR };

static const char *const op_names[OP_NR] = {
	"truncate down", "truncate up", "punch", "collapse", "insert", "zero",
};

static const int op_mode[OP_NR] = {
	[OP_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[OP_COLLAPSE] = FALLOC_FL_COLLAPSE_RANGE,
	[OP_INSERT] = FALLOC_FL_INSERT_RANGE,
	[OP_ZERO] = FALLOC_FL_ZERO_RANGE,
};

struct change {
	enum layout_op op;
	uint64_t a, b;		/* truncate: size; fallocate: offset, length */
};

/* Whole blocks up to cfg->max_change, or (leafy) one or two whole leaves;
 * at most room. */
static uint64_t blocks_upto(const struct tt_config *cfg, uint64_t *rng,
			    uint64_t room, bool leafy)
{
	uint64_t n;

	if (leafy && room >= cfg->leaf) {
		n = (1 + tt_below(rng, 2)) * cfg->leaf;
		return n <= room ? n : cfg->leaf;
	}
	n = (1 + tt_below(rng, cfg->max_change / TT_BLK)) * TT_BLK;
	return n < room ? n : room;
}

/* An offset below end: a block, or a leaf when leafy. */
static uint64_t offset_below(const struct tt_config *cfg, uint64_t *rng,
			     uint64_t end, bool leafy)
{
	uint64_t unit = leafy && end > cfg->leaf ? cfg->leaf : TT_BLK;

	return tt_below(rng, (end + unit - 1) / unit) * unit;
}

/* Pick a change that keeps the size in [min, max]; false: none fits. */
static bool pick(const struct tt_config *cfg, uint64_t *rng, uint64_t size,
		 struct change *c)
{
	uint64_t blocks = size / TT_BLK;
	bool leafy = cfg->leaf > TT_BLK && tt_below(rng, 2);

	if (size >= cfg->pinned_max)
		c->op = tt_below(rng, 2) ? OP_SHRINK : OP_COLLAPSE;
	else if (size <= cfg->pinned_min)
		c->op = tt_below(rng, 2) ? OP_GROW : OP_INSERT;
	else
		c->op = (enum layout_op)tt_below(rng, OP_NR);
	switch (c->op) {
	case OP_SHRINK:
		c->a = size - blocks_upto(cfg, rng, size - cfg->pinned_min / 2,
					  leafy);
		return c->a < size;
	case OP_GROW:
		c->a = size + blocks_upto(cfg, rng, cfg->pinned_max - size,
					  leafy);
		return c->a > size;
	case OP_COLLAPSE:	/* must end before EOF */
		if (blocks < 2)
			return false;
		c->a = offset_below(cfg, rng, size - TT_BLK, leafy);
		c->b = blocks_upto(cfg, rng, size - c->a - TT_BLK, leafy);
		return c->b > 0;
	case OP_INSERT:
		c->a = offset_below(cfg, rng, size, leafy);
		c->b = blocks_upto(cfg, rng, cfg->max_change, leafy);
		return true;
	default:		/* punch, zero: unaligned a quarter of the time */
		if (!size)
			return false;
		c->a = offset_below(cfg, rng, size, leafy);
		c->b = blocks_upto(cfg, rng, cfg->max_change, leafy);
		if (!leafy && !tt_below(rng, 4)) {
			c->a += tt_below(rng, TT_BLK);
			c->b -= tt_below(rng, TT_BLK);
		}
		return c->a < size;
	}
}

static int apply(struct daxlease_file *f, const struct change *c,
		 struct daxlease_policy *pol)
{
	if (c->op == OP_SHRINK || c->op == OP_GROW)
		return daxlease_truncate_policy(f, c->a, pol);
	return daxlease_fallocate_policy(f, op_mode[c->op], c->a, c->b, pol);
}

/* NONBLOCK first: did a pin stand in the way?  0 if it already ran. */
static int probe(struct daxlease_file *f, const struct change *c,
		 struct tt_report *r)
{
	struct daxlease_policy pol = { .flags = DAXLEASE_POLICY_NONBLOCK };
	int rc = apply(f, c, &pol);

	if (rc == -EBUSY && pol.nblockers)
		r->layout_found_pins++;
	return rc;
}

void tt_layout_main(const struct tt_config *cfg, unsigned index, int out)
{
	struct tt_report r = { .role = TT_LAYOUT, .index = index };
	struct daxlease_file *f[TT_MAX_PINNERS];
	uint64_t rng = tt_seed_for(cfg, TT_LAYOUT, index);
	uint64_t budget = cfg->ops / cfg->layouts +
			  (index < cfg->ops % cfg->layouts);
	uint64_t counts[OP_NR] = { 0 };
	struct daxlease_ctx *ctx = tt_connect(cfg, "layout");

	for (unsigned k = 0; k < cfg->pinners; k++) {
		char name[32];
		int rc = daxlease_open(ctx, tt_pinned_name(k, name,
				       sizeof(name)), DAXLEASE_O_READ |
				       DAXLEASE_O_WRITE, 0, &f[k]);

		if (rc) {
			fprintf(stderr, "torture: layout %u: open %s: %s\n",
				index, name, strerror(-rc));
			_exit(2);
		}
	}
	/* lockless: after each pinner has mapped its first window */
	while (cfg->lockless && !tt_stopped(cfg) &&
	       __atomic_load_n(&cfg->shared->pinners_ready,
			       __ATOMIC_ACQUIRE) < cfg->pinners)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	while (r.layout_ops < budget) {
		struct daxlease_file *file = f[tt_below(&rng, cfg->pinners)];
		struct daxlease_stat st;
		struct change c = { .op = OP_SHRINK };
		int rc = daxlease_fstat(file, &st);

		if (rc) {
			fprintf(stderr, "torture: layout %u: fstat: %s\n",
				index, strerror(-rc));
			r.errors++;
			break;
		}
		if (!pick(cfg, &rng, st.size & ~(TT_BLK - 1), &c))
			continue;
		rc = -EBUSY;
		if (c.op != OP_GROW && tt_below(&rng, 2))
			rc = probe(file, &c, &r);
		if (rc == -EBUSY)
			rc = apply(file, &c, NULL);
		__atomic_add_fetch(&cfg->shared->layout_progress, 1,
				   __ATOMIC_RELAXED);
		if (!rc) {
			r.layout_ops++;
			counts[c.op]++;
		} else if (rc == -EINVAL || rc == -ENOSPC) {
			/* the other layout process changed the size since
			 * our fstat (collapse or insert past the new EOF),
			 * or a zero range found the namespace full */
			r.layout_raced++;
		} else {
			fprintf(stderr, "torture: layout %u: %s %#llx %#llx: "
				"%s\n", index, op_names[c.op],
				(unsigned long long)c.a,
				(unsigned long long)c.b, strerror(-rc));
			r.errors++;
			if (r.errors > 10)
				break;
		}
	}
	printf("torture: layout %u:", index);
	for (int i = 0; i < OP_NR; i++)
		printf(" %s %llu", op_names[i], (unsigned long long)counts[i]);
	printf("\n");
	fflush(stdout);
	for (unsigned k = 0; k < cfg->pinners; k++)
		daxlease_close(f[k]);
	daxlease_unref(ctx);
	tt_child_exit(out, &r, NULL, 0);
}
