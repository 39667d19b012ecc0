/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_race.c - a lockless pinner thread races the invalidation of its
 * window (torture_pinner.c opens the windows and runs the transfers).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "torture_pinner.h"

/* Racing pins: the whole window (512 PTE entries of a
 * 2 MiB one) up to 4096 entries - the more entries, the longer between
 * the loads of the entries and the counter increments, for the service's
 * invalidate-fence-scan to fall inside - and at most RACE_PINS of them
 * per window. */
#define RACING_PIN (16 * 1024 * 1024ULL)
#define READ_IOVS 1024		/* a vectored read's limit */
#define RACE_PINS 20000

/*
 * Racing the invalidation.  The window's lease broke: a lockless pinner
 * does not give it back but ends its transfer and pins big ranges of the
 * window back to back, never waiting for the service, while the service
 * revokes the lease at its deadline (--lease-timeout) and invalidates the
 * entries - so a pin may be under way, between its loads of the entries
 * and its counter increments, just as they go invalid.  With the re-read it backs off;
 * without it (no-revalidate) it holds blocks the change frees.  The racer
 * stops when a pin notices (the socket path then refuses it: the lease is
 * gone).
 *
 * Which pin to check: the last one that succeeded before a failing one -
 * a stale pin is followed by a failing pin, since the entries are invalid
 * from then on.  A checker thread holds each pin until a newer one
 * arrives (then drops it unchecked), or until the racer has been quiet
 * for RACE_QUIET_NS - it is then inside the socket path, which waits for
 * the change, which waits for this pin if it is a real one - and checks
 * it through the service (the first word of each page) before dropping
 * it.  The racer never waits for the service while it holds a pin, so it
 * cannot block the change it races.
 */
#define RACE_QUIET_NS 200000

struct race {
	struct slot *s;
	uint64_t off, len, seq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct daxlease_pin next;	/* handed over, not taken yet */
	bool have_next, done;
	uint64_t checked, mismatches, errors;
};

static void race_dma(struct race *r, const struct daxlease_pin *pin)
{
	unsigned id = slot_who(r->s);

	for (uint64_t at = r->off; at < r->off + r->len; at += TT_BLK) {
		uint64_t contig, *w = daxlease_pin_dma(pin, at, &contig);

		if (w)
			*w = tt_dma_word(id, r->seq, at);
	}
}

/* The first word of each page, read back through the service (while
 * the pin still holds). */
static void race_check(struct race *r)
{
	static __thread struct daxlease_iovec iov[RACING_PIN / TT_BLK];
	static __thread uint64_t got[RACING_PIN / TT_BLK];
	unsigned n = (unsigned)(r->len / TT_BLK), id = slot_who(r->s), have = 0;

	for (unsigned i = 0; i < n; i++)
		iov[i] = (struct daxlease_iovec){ &got[i], 8,
						  r->off + i * TT_BLK };
	for (unsigned i = 0; i < n; i += READ_IOVS) {
		unsigned k = n - i < READ_IOVS ? n - i : READ_IOVS;
		ssize_t len = daxlease_preadv(r->s->p->f, iov + i, (int)k);

		if (len != (ssize_t)k * 8)
			break;
		have += k;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t at = r->off + i * TT_BLK;
		uint64_t want = tt_dma_word(id, r->seq, at);
		char w[96], g[96];

		if (i < have && got[i] == want)
			continue;
		tt_describe(want, w, sizeof(w));
		if (i < have)
			tt_describe(got[i], g, sizeof(g));
		else
			snprintf(g, sizeof(g), "nothing (short read)");
		if (r->mismatches++ < 4)
			fprintf(stderr, "torture: MISMATCH pinner %u.%u: %s, "
				"racing pin [%#" PRIx64 ", +%#" PRIx64 ") at "
				"offset %#" PRIx64 ": expected %s, found %s\n",
				r->s->p->index, r->s->thread, r->s->p->name,
				r->off, r->len, at, w, g);
	}
	r->checked++;
}

static void race_drop(struct race *r, struct daxlease_pin *pin, bool check)
{
	if (check)
		race_check(r);
	if (daxlease_map_unpin(pin))
		r->errors++;
}

static void *race_checker(void *arg)
{
	struct race *r = arg;
	struct daxlease_pin held;
	bool have = false;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->have_next) {
			struct daxlease_pin older = held;
			bool drop = have;

			held = r->next;
			have = true;
			r->have_next = false;
			pthread_cond_broadcast(&r->cond);
			pthread_mutex_unlock(&r->lock);
			if (drop)	/* not the last: a newer one came */
				race_drop(r, &older, false);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		if (r->done)
			break;
		if (!have) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		{
			struct timespec t;

			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += RACE_QUIET_NS;
			if (t.tv_nsec >= 1000000000L) {
				t.tv_sec++;
				t.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&r->cond, &r->lock, &t) ==
			    ETIMEDOUT && !r->have_next) {
				pthread_mutex_unlock(&r->lock);
				race_drop(r, &held, true);
				have = false;
				pthread_mutex_lock(&r->lock);
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (have)
		race_drop(r, &held, true);
	return NULL;
}

/* Pin until a pin fails; each pin goes to the checker. */
static int race_pins(struct race *r)
{
	for (unsigned i = 0; i < RACE_PINS; i++) {
		struct daxlease_pin pin;
		int rc = daxlease_map_pin(r->s->win, r->off, r->len,
					  DAXLEASE_PIN_WRITE, &pin);

		if (rc)
			return rc;
		r->s->r.pins++;
		r->s->r.racing_pins++;
		race_dma(r, &pin);
		pthread_mutex_lock(&r->lock);
		while (r->have_next)
			pthread_cond_wait(&r->cond, &r->lock);
		r->next = pin;
		r->have_next = true;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return 0;
}

void tt_race_window(struct slot *s, uint64_t seq)
{
	struct race r = { .s = s, .seq = seq };
	pthread_t checker;
	int rc;

	r.off = s->win_off;
	r.len = s->win_len < RACING_PIN ? s->win_len : RACING_PIN;
	if (!slot_claim(s, r.off, r.len)) {
		sched_yield();
		return;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	if (pthread_create(&checker, NULL, race_checker, &r)) {
		slot_error(s, "checker thread", -EAGAIN);
	} else {
		rc = race_pins(&r);
		/* -E2BIG: the socket path's limit of extents per PIN (a
		 * fragmented window), also the end of the race */
		if (rc && rc != -E2BIG && !tt_raced(rc))
			slot_error(s, "racing map_pin", rc);
		pthread_mutex_lock(&r.lock);
		r.done = true;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
		pthread_join(checker, NULL);
	}
	s->r.mismatches += r.mismatches;
	s->r.errors += r.errors;
	s->r.races++;
	s->r.races_checked += r.checked;
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	slot_release_range(s);
	slot_close_window(s);
}
