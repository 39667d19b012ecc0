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
 * Lockless (cfg->lockless): each thread leases and maps a window of the
 * file - whole leaves of the namespace align, so the window has PTE, PMD
 * or PUD leaves - and pins ranges of it with daxlease_map_pin, DMA going
 * where daxlease_pin_dma says (never through the mapping, which a layout
 * change leaves stale).  On a break the thread ends its transfer and
 * races the invalidation (torture_race.c): once the change has invalidated
 * the entries, a pin must notice (its re-read) and go to the socket,
 * which refuses it (-ENOLCK, no lease) - then a new window.  A pin that
 * did not notice DMAs into blocks the change frees: the read-back, or a
 * victim, shows it.
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
#include "torture_pinner.h"

/* One transfer in progress. */
struct xfer {
	struct slot *s;
	uint64_t off, len, seq;
	struct daxlease_map *m;		/* socket: DMA through the mapping */
	uint64_t pin_id;
	struct daxlease_pin pin;	/* lockless: DMA where pin_dma says */
	bool lockless;
};

/* Pins in one window before the next (the leaves change, too). */
#define WINDOW_PINS 32

void slot_error(struct slot *s, const char *what, int rc)
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
		if (s->busy)
			s->broken = true;
		if (p->cfg->lockless) {
			/* kept for the racer: torture_race.c */
			s->lease_breaking = true;
			continue;
		}
		s->lease_held = false;
		rc = daxlease_lease_release(p->ctx, e->lease_id);
		if (rc)
			slot_error(s, "lease release on a break", rc);
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
		slot_error(s, "next event", rc);
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
	s->lease_held = false;
	pthread_mutex_unlock(&p->lock);
	if (rc)
		slot_error(s, "lease release", rc);
}

/* A change is on its way to the window: its lease broke or is gone. */
static bool window_doomed(struct slot *s)
{
	bool doomed;

	pthread_mutex_lock(&s->p->lock);
	doomed = !s->lease_held || s->lease_breaking;
	pthread_mutex_unlock(&s->p->lock);
	return doomed;
}

/* The transfer is over: its range is free for the other threads. */
void slot_release_range(struct slot *s)
{
	pthread_mutex_lock(&s->p->lock);
	s->busy = s->broken = false;
	pthread_mutex_unlock(&s->p->lock);
}

/* Claim [off, off+len) if no other thread of this pinner uses any of
 * it. */
bool slot_claim(struct slot *s, uint64_t off, uint64_t len)
{
	struct pinner *p = s->p;
	bool ok = true;

	pthread_mutex_lock(&p->lock);
	for (unsigned t = 0; t < p->cfg->threads; t++) {
		struct slot *o = &p->slot[t];

		if (o != s && o->busy && off < o->off + o->len &&
		    o->off < off + len)
			ok = false;
	}
	if (ok) {
		s->off = off;
		s->len = len;
		s->busy = true;
		s->broken = false;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* A random block-aligned range inside [lo, hi), at most max long, that
 * no other thread of this pinner is using, claimed; false if none now. */
static bool claim_range(struct slot *s, uint64_t lo, uint64_t hi,
			uint64_t max, uint64_t *off, uint64_t *len)
{
	if (hi < lo + TT_BLK)
		return false;
	*off = lo + tt_below(&s->rng, (hi - lo) / TT_BLK) * TT_BLK;
	*len = (1 + tt_below(&s->rng, max / TT_BLK)) * TT_BLK;
	if (*len > hi - *off)
		*len = hi - *off;
	return slot_claim(s, *off, *len);
}

/* The file's size in whole blocks, or 0. */
static uint64_t file_blocks_end(struct slot *s)
{
	struct daxlease_stat st;
	int rc = daxlease_fstat(s->p->f, &st);

	if (rc) {
		slot_error(s, "fstat", rc);
		return 0;
	}
	return st.size & ~(TT_BLK - 1);
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
	s->lease_breaking = false;
	pthread_mutex_unlock(&s->p->lock);
	return 0;
}

/* Races that only mean "try again": the file shrank under the range,
 * the lease was revoked before MAP or PIN, or the fillers have the
 * namespace full just now (the write mapping allocates holes). */
bool tt_raced(int rc)
{
	return rc == -ENXIO || rc == -EINVAL || rc == -ENOLCK ||
	       rc == -EAGAIN || rc == -ENOSPC;
}

/* ---- the DMA --------------------------------------------------------------- */

unsigned slot_who(const struct slot *s)
{
	return s->p->index * TT_MAX_THREADS + s->thread;
}

/* Where the DMA of file offset off goes, and how far it may go on. */
static uint64_t *dma_addr(const struct xfer *x, uint64_t off, uint64_t *contig)
{
	if (x->lockless)
		return daxlease_pin_dma(&x->pin, off, contig);
	*contig = x->off + x->len - off;
	return (uint64_t *)((char *)daxlease_map_addr(x->m) + (off - x->off));
}

static void dma_pass(struct xfer *x)
{
	unsigned id = slot_who(x->s);
	uint64_t contig;

	for (uint64_t off = x->off; off < x->off + x->len; off += contig) {
		uint64_t *w = dma_addr(x, off, &contig);

		if (!w || !contig || contig % 8) {
			slot_error(x->s, "pin_dma", w ? -EPROTO : -errno);
			return;
		}
		for (uint64_t i = 0; i < contig / 8; i++)
			w[i] = tt_dma_word(id, x->seq, off + 8 * i);
		x->s->r.dma_words += contig / 8;
	}
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
			/* lockless: stop now, and race the invalidation */
			if (x->lockless)
				break;
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

	return tt_dma_word(slot_who(x->s), x->seq, off);
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
		slot_error(s, "pread of the pinned range", (int)n);
		n = 0;
	}
	s->r.mismatches += tt_compare(what, s->readback, (size_t)n, x->off,
				      x->len, dma_expect, x);
}

/* socket pins: lease, map, pin, DMA, check, unpin, unmap */
static void transfer(struct slot *s, uint64_t seq)
{
	struct xfer x = { .s = s, .seq = seq };
	int rc;

	if (!claim_range(s, 0, file_blocks_end(s), s->p->cfg->max_pin,
			 &x.off, &x.len)) {
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
		slot_release_range(s);
		if (tt_raced(rc))
			s->r.pin_retries++;
		else
			slot_error(s, "lease, map or pin", rc);
		return;
	}
	s->r.pins++;
	dma_transfer(&x);
	check_transfer(&x);
	rc = daxlease_unpin(s->p->ctx, x.pin_id);
	if (rc)
		slot_error(s, "unpin", rc);
	rc = daxlease_unmap(x.m);
	if (rc)
		slot_error(s, "unmap", rc);
	lease_forget(s);
	slot_release_range(s);
}

/* ---- lockless pins ----------------------------------------------------------- */

void slot_close_window(struct slot *s)
{
	int rc = daxlease_unmap(s->win);

	if (rc)
		slot_error(s, "unmap of the window", rc);
	s->win = NULL;
	lease_forget(s);
}

static int map_window(struct slot *s, uint64_t off, uint64_t len)
{
	int rc;

	s->win_off = off;
	s->win_len = len;
	rc = take_lease(s, off, len);
	if (!rc)
		rc = daxlease_map(s->p->f, off, len,
				  DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE,
				  &s->win);
	if (rc) {
		s->win = NULL;
		lease_forget(s);
	}
	return rc;
}

/*
 * Lease and map a window: one of the file's whole windows (whole leaves),
 * or the whole file when it is shorter than one.  A 1 GiB window that
 * the layout changes have split into small leaves needs more table
 * entries than a client has (-ENOSPC): then a SMALL_WINDOW inside it.
 */
#define SMALL_WINDOW (8 * 1024 * 1024ULL)

static int open_window(struct slot *s)
{
	const struct tt_config *cfg = s->p->cfg;
	uint64_t end = file_blocks_end(s), off, len, pte, pmd, pud;
	int rc;

	if (!end)
		return -ENXIO;
	off = tt_below(&s->rng, end / cfg->window) * cfg->window;
	len = end < cfg->window ? end : cfg->window;
	rc = map_window(s, off, len);
	if (rc == -ENOSPC && len > SMALL_WINDOW) {
		off += tt_below(&s->rng, len / SMALL_WINDOW) * SMALL_WINDOW;
		rc = map_window(s, off, SMALL_WINDOW);
		s->r.small_windows += !rc;
	}
	if (rc)
		return rc;
	daxlease_map_leaves(s->win, &pte, &pmd, &pud);
	s->r.leaves[0] += pte;
	s->r.leaves[1] += pmd;
	s->r.leaves[2] += pud;
	s->win_pins = 0;
	return 0;
}

/* lockless: (window,) map_pin, DMA by pin_dma, check, map_unpin */
static void transfer_lockless(struct slot *s, uint64_t seq)
{
	struct xfer x = { .s = s, .seq = seq, .lockless = true };
	int rc = s->win ? 0 : open_window(s);

	if (rc) {
		if (!tt_raced(rc))
			slot_error(s, "lease or map of a window", rc);

		s->r.pin_retries++;
		sched_yield();
		return;
	}
	if (window_doomed(s)) {
		tt_race_window(s, seq);
		return;
	}
	if (!claim_range(s, s->win_off, s->win_off + s->win_len,
			 s->p->cfg->max_pin, &x.off, &x.len)) {
		sched_yield();
		return;
	}
	rc = daxlease_map_pin(s->win, x.off, x.len, DAXLEASE_PIN_WRITE,
			      &x.pin);
	if (rc) {
		/* the window went stale and its lease is gone: a new one */
		slot_release_range(s);
		slot_close_window(s);
		if (tt_raced(rc))
			s->r.pin_retries++;
		else
			slot_error(s, "map_pin", rc);
		return;
	}
	s->r.pins++;
	dma_transfer(&x);
	check_transfer(&x);
	rc = daxlease_map_unpin(&x.pin);
	if (rc)
		slot_error(s, "map_unpin", rc);
	slot_release_range(s);
	if (++s->win_pins >= WINDOW_PINS)
		slot_close_window(s);
}

static void *slot_main(void *arg)
{
	struct slot *s = arg;

	/* the layout processes start once each pinner's first window is
	 * mapped, while the file still has the big leaves it was made with */
	if (s->p->cfg->lockless && !s->thread) {
		transfer_lockless(s, 0);
		__atomic_add_fetch(&s->p->cfg->shared->pinners_ready, 1,
				   __ATOMIC_RELEASE);
	}

	for (uint64_t seq = 1; !tt_stopped(s->p->cfg); seq++) {
		if (s->p->cfg->lockless)
			transfer_lockless(s, seq);
		else
			transfer(s, seq);
	}
	if (s->win)
		slot_close_window(s);
	return NULL;
}

static void add_report(struct tt_report *to, const struct tt_report *r)
{
	to->pins += r->pins;
	to->racing_pins += r->racing_pins;
	to->races += r->races;
	to->races_checked += r->races_checked;
	to->small_windows += r->small_windows;
	to->transfers_broken += r->transfers_broken;
	to->pin_retries += r->pin_retries;
	to->dma_words += r->dma_words;
	to->mismatches += r->mismatches;
	to->errors += r->errors;
	for (int i = 0; i < 3; i++)
		to->leaves[i] += r->leaves[i];
}

void tt_pinner_main(const struct tt_config *cfg, unsigned index, int out)
{
	static struct pinner p;
	struct tt_report r = { .role = TT_PINNER, .index = index };
	struct daxlease_pin_stats stats;
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
	daxlease_get_pin_stats(p.ctx, &stats);
	r.fast_pins = stats.fast;
	r.backoffs = stats.backoffs;
	r.slow_pins = stats.slow;
	daxlease_close(p.f);
	daxlease_unref(p.ctx);
	tt_child_exit(out, &r, NULL, 0);
}
