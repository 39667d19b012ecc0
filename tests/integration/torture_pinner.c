/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_pinner.c - a pinner process of the torture test: "DMA" into
 * pinned ranges of its own file while layout processes change that file.
 *
 * One transfer: a shared lease on a random range, a write mapping, a
 * write pin, then passes of the transfer's pattern into the pinned
 * range.  A lease break is answered at once (the lease goes back), but
 * the transfer goes on to its end and a few passes more, as a NIC
 * finishes the descriptors it was given: the pin, not the lease, is what
 * must keep the blocks in place now.  Before unpinning, the range is read
 * back through the service and must hold the last pattern.
 *
 * Why map, then pin, then write through the mapping is safe: MAP and PIN
 * both need an unrevoked lease, and a layout change invalidates the range
 * only after the lease is returned or revoked.  So if both succeeded, the
 * blocks the mapping reaches are the blocks the pin holds.
 *
 * Several threads (TT config `threads`) may transfer at once on one
 * connection; their ranges never overlap (each checks its own words).
 * The lease events of the connection are drained by whichever thread
 * looks, under the pinner's lock, and each goes to the thread whose
 * lease it names.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "torture.h"

struct pinner;

struct slot {			/* one pinning thread */
	struct pinner *p;
	unsigned thread;
	uint64_t rng;
	uint64_t *readback;
	/* under p->lock */
	uint64_t lease_id;
	bool lease_held, broken, busy;
	uint64_t off, len;		/* its transfer's range, while busy */
	struct tt_report r;
};

struct pinner {
	const struct tt_config *cfg;
	unsigned index;
	struct daxlease_ctx *ctx;
	struct daxlease_file *f;
	char name[32];
	pthread_mutex_t lock;
	struct slot slot[TT_MAX_THREADS];
};

/* One transfer in progress. */
struct xfer {
	struct slot *s;
	uint64_t off, len, seq;
	struct daxlease_map *m;
	uint64_t pin_id;
};

static void error(struct slot *s, const char *what, int rc)
{
	fprintf(stderr, "torture: pinner %u.%u: %s: %s\n", s->p->index,
		s->thread, what, strerror(-rc));
	s->r.errors++;
}

/* A break (or revocation) of a lease one of our threads holds: give it
 * back now, and tell that thread its transfer was broken; under p->lock. */
static void lease_event(struct pinner *p, const struct daxlease_event *e)
{
	for (unsigned t = 0; t < p->cfg->threads; t++) {
		struct slot *s = &p->slot[t];
		int rc;

		if (!s->lease_held || s->lease_id != e->lease_id)
			continue;
		s->lease_held = false;
		if (s->busy)
			s->broken = true;
		rc = daxlease_lease_release(p->ctx, e->lease_id);
		if (rc)
			error(s, "lease release on a break", rc);
	}
}

/* Answer every lease event that has arrived; true if s's lease broke. */
static bool drain_events(struct slot *s)
{
	struct pinner *p = s->p;
	struct daxlease_event e;
	bool broken;
	int rc;

	pthread_mutex_lock(&p->lock);
	while ((rc = daxlease_next_event(p->ctx, &e, 0)) == 1)
		lease_event(p, &e);
	if (rc < 0)
		error(s, "next event", rc);
	broken = s->broken;
	pthread_mutex_unlock(&p->lock);
	return broken;
}

static void lease_forget(struct slot *s)
{
	struct pinner *p = s->p;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (s->lease_held)
		rc = daxlease_lease_release(p->ctx, s->lease_id);
	s->lease_held = s->busy = s->broken = false;
	pthread_mutex_unlock(&p->lock);
	if (rc)
		error(s, "lease release", rc);
}

/* A random block-aligned range of the file that no other thread of this
 * pinner is using, claimed; false if the file is too small now. */
static bool claim_range(struct slot *s, uint64_t *off, uint64_t *len)
{
	struct pinner *p = s->p;
	struct daxlease_stat st;
	uint64_t size, blocks;
	bool ok = true;
	int rc = daxlease_fstat(p->f, &st);

	if (rc) {
		error(s, "fstat", rc);
		return false;
	}
	size = st.size & ~(TT_BLK - 1);
	if (!size)
		return false;
	blocks = size / TT_BLK;
	*off = tt_below(&s->rng, blocks) * TT_BLK;
	*len = (1 + tt_below(&s->rng, p->cfg->max_pin / TT_BLK)) * TT_BLK;
	if (*len > size - *off)
		*len = size - *off;
	pthread_mutex_lock(&p->lock);
	for (unsigned t = 0; t < p->cfg->threads; t++) {
		struct slot *o = &p->slot[t];

		if (o != s && o->busy && *off < o->off + o->len &&
		    o->off < *off + *len)
			ok = false;
	}
	if (ok) {
		s->off = *off;
		s->len = *len;
		s->busy = true;
		s->broken = false;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static int take_lease(struct slot *s, uint64_t off, uint64_t len)
{
	uint64_t id;
	int rc = daxlease_lease_acquire(s->p->f, off, len,
					DAXLEASE_LEASE_SHARED, 0, &id);

	if (rc)
		return rc;
	pthread_mutex_lock(&s->p->lock);
	s->lease_id = id;
	s->lease_held = true;
	pthread_mutex_unlock(&s->p->lock);
	return 0;
}

/* Races that only mean "try again": the file shrank under the range,
 * the lease was revoked before MAP or PIN, or the fillers have the
 * namespace full just now (the write mapping allocates holes). */
static bool raced(int rc)
{
	return rc == -ENXIO || rc == -EINVAL || rc == -ENOLCK ||
	       rc == -EAGAIN || rc == -ENOSPC;
}

/* ---- the DMA --------------------------------------------------------------- */

static unsigned who(const struct slot *s)
{
	return s->p->index * TT_MAX_THREADS + s->thread;
}

static void dma_pass(struct xfer *x)
{
	uint64_t *w = daxlease_map_addr(x->m);
	unsigned id = who(x->s);

	for (uint64_t i = 0; i < x->len / 8; i++)
		w[i] = tt_dma_word(id, x->seq, x->off + 8 * i);
	x->s->r.dma_words += x->len / 8;
}

static uint64_t victims_created(const struct slot *s)
{
	return __atomic_load_n(&s->p->cfg->shared->victims_created,
			       __ATOMIC_RELAXED);
}

/*
 * Passes until the transfer is done.  After a break, the DMA goes on
 * until the fillers have created TAIL_VICTIMS more victims (or for
 * TAIL_PASSES passes at most): if the service let the change free the
 * blocks anyway, they are handed out again while we still write them.
 */
#define TAIL_VICTIMS 2
#define TAIL_PASSES 1000
#define PASS_GAP_NS 200000	/* a NIC is slower than a CPU: 200 us */

static void dma_transfer(struct xfer *x)
{
	struct slot *s = x->s;
	uint64_t passes = 1 + tt_below(&s->rng, 8), after = 0, created = 0;
	struct timespec gap = { 0, PASS_GAP_NS };
	bool broken = false;

	for (uint64_t pass = 0;; pass++) {
		dma_pass(x);
		if (broken) {
			after++;
		} else if (drain_events(s)) {
			broken = true;
			created = victims_created(s);
		}
		if (pass + 1 >= passes &&
		    (!broken || after >= TAIL_PASSES ||
		     victims_created(s) >= created + TAIL_VICTIMS ||
		     tt_stopped(s->p->cfg)))
			break;
		/* and leaves the CPUs to the fillers and the service */
		nanosleep(&gap, NULL);
	}
	if (broken)
		s->r.transfers_broken++;
}

static uint64_t dma_expect(const void *arg, uint64_t off)
{
	const struct xfer *x = arg;

	return tt_dma_word(who(x->s), x->seq, off);
}

/* The range, read through the service, holds the last pass. */
static void check_transfer(struct xfer *x)
{
	struct slot *s = x->s;
	char what[96];
	ssize_t n = daxlease_pread(s->p->f, s->readback, x->len, x->off);

	snprintf(what, sizeof(what), "pinner %u.%u: %s, pinned range "
		 "[%#" PRIx64 ", +%#" PRIx64 ")", s->p->index, s->thread,
		 s->p->name, x->off, x->len);
	if (n < 0) {
		error(s, "pread of the pinned range", (int)n);
		n = 0;
	}
	s->r.mismatches += tt_compare(what, s->readback, (size_t)n, x->off,
				      x->len, dma_expect, x);
}

/* lease, map, pin, DMA, check, unpin, unmap */
static void transfer(struct slot *s, uint64_t seq)
{
	struct xfer x = { .s = s, .seq = seq };
	int rc;

	if (!claim_range(s, &x.off, &x.len)) {
		sched_yield();
		return;
	}
	rc = take_lease(s, x.off, x.len);
	if (!rc)
		rc = daxlease_map(s->p->f, x.off, x.len,
				  DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE,
				  &x.m);
	if (!rc) {
		rc = daxlease_pin(s->p->f, x.off, x.len, DAXLEASE_PIN_WRITE,
				  &x.pin_id);
		if (rc)
			daxlease_unmap(x.m);
	}
	if (rc) {
		lease_forget(s);
		if (raced(rc))
			s->r.pin_retries++;
		else
			error(s, "lease, map or pin", rc);
		return;
	}
	s->r.pins++;
	dma_transfer(&x);
	check_transfer(&x);
	rc = daxlease_unpin(s->p->ctx, x.pin_id);
	if (rc)
		error(s, "unpin", rc);
	rc = daxlease_unmap(x.m);
	if (rc)
		error(s, "unmap", rc);
	lease_forget(s);
}

static void *slot_main(void *arg)
{
	struct slot *s = arg;

	for (uint64_t seq = 1; !tt_stopped(s->p->cfg); seq++)
		transfer(s, seq);
	return NULL;
}

static void add_report(struct tt_report *to, const struct tt_report *r)
{
	to->pins += r->pins;
	to->transfers_broken += r->transfers_broken;
	to->pin_retries += r->pin_retries;
	to->dma_words += r->dma_words;
	to->mismatches += r->mismatches;
	to->errors += r->errors;
}

void tt_pinner_main(const struct tt_config *cfg, unsigned index, int out)
{
	static struct pinner p;
	struct tt_report r = { .role = TT_PINNER, .index = index };
	pthread_t th[TT_MAX_THREADS];
	unsigned started = 0;
	int rc;

	p.cfg = cfg;
	p.index = index;
	pthread_mutex_init(&p.lock, NULL);
	p.ctx = tt_connect(cfg, "pinner");
	tt_pinned_name(index, p.name, sizeof(p.name));
	rc = daxlease_open(p.ctx, p.name, DAXLEASE_O_READ | DAXLEASE_O_WRITE,
			   0, &p.f);
	if (rc) {
		fprintf(stderr, "torture: pinner %u: open %s: %s\n", index,
			p.name, strerror(-rc));
		_exit(2);
	}
	for (unsigned t = 0; t < cfg->threads; t++) {
		struct slot *s = &p.slot[t];

		s->p = &p;
		s->thread = t;
		s->rng = tt_seed_for(cfg, TT_PINNER, index * TT_MAX_THREADS + t);
		s->readback = malloc(cfg->max_pin);
		if (!s->readback)
			_exit(2);
	}
	/* thread 0 is this one: a single-threaded pinner stays one */
	for (unsigned t = 1; t < cfg->threads; t++) {
		if (pthread_create(&th[t], NULL, slot_main, &p.slot[t])) {
			fprintf(stderr, "torture: pinner %u: no thread\n",
				index);
			r.errors++;
			break;
		}
		started = t;
	}
	slot_main(&p.slot[0]);
	for (unsigned t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
	for (unsigned t = 0; t < cfg->threads; t++)
		add_report(&r, &p.slot[t].r);
	daxlease_close(p.f);
	daxlease_unref(p.ctx);
	tt_child_exit(out, &r, NULL, 0);
}
