/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pin_fast.c - the pin loops: the floor, the lockless path, the
 * socket path and the two-thread scaling run (bench_pin.h).
 *
 * A floor or lockless pin + unpin takes tens of nanoseconds, about what
 * reading the clock costs, so those are timed in batches: one sample is
 * a batch of pins one after the other, divided by the batch size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench_pin.h"

/* ---- the floor --------------------------------------------------------------- */

/* One counter on a cache line of its own, as the counter region has. */
static struct {
	_Alignas(64) int64_t refs;
	char pad[64 - sizeof(int64_t)];
} floor_line;

static void floor_batch(size_t batch)
{
	for (size_t k = 0; k < batch; k++) {
		__atomic_fetch_add(&floor_line.refs, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__atomic_fetch_sub(&floor_line.refs, 1, __ATOMIC_RELEASE);
	}
}

void pin_floor(size_t batch, size_t n, struct stats *out)
{
	uint64_t *t = samples_new(n);

	if (!t)
		return;
	floor_batch(batch);		/* warm */
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		floor_batch(batch);
		t[i] = (now_ns() - t0) / batch;
	}
	stats_of(t, n, out);
	free(t);
}

/* ---- the lockless path ------------------------------------------------------- */

/* batch pins + unpins of [off, off+length): 0, or -errno, -EAGAIN for
 * a pin that went through the socket after all. */
static int fast_batch(struct daxlease_map *m, uint64_t off, uint64_t length,
		      size_t batch)
{
	struct daxlease_pin p;

	for (size_t k = 0; k < batch; k++) {
		int rc = daxlease_map_pin(m, off, length, 0, &p);

		if (rc)
			return rc;
		if (!(p.flags & DAXLEASE_PINNED_FAST)) {
			daxlease_map_unpin(&p);
			return -EAGAIN;
		}
		rc = daxlease_map_unpin(&p);
		if (rc)
			return rc;
	}
	return 0;
}

int pin_fast(struct daxlease_map *m, uint64_t length, size_t batch,
	     size_t n, struct stats *out)
{
	uint64_t *t = samples_new(n);
	int rc = t ? 0 : -ENOMEM;

	if (!rc)
		rc = fast_batch(m, 0, length, batch);	/* warm */
	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t t0 = now_ns();

		rc = fast_batch(m, 0, length, batch);
		t[i] = (now_ns() - t0) / batch;
	}
	if (!rc)
		stats_of(t, n, out);
	free(t);
	return rc;
}

/* ---- the socket path --------------------------------------------------------- */

struct slow_run {
	struct daxlease_ctx *ctx;
	struct daxlease_file *f;
	uint64_t length;
};

static int slow_op(void *arg, size_t i)
{
	struct slow_run *s = arg;
	uint64_t id;
	int rc;

	(void)i;
	rc = daxlease_pin(s->f, 0, s->length, 0, &id);
	return rc ? rc : daxlease_unpin(s->ctx, id);
}

int pin_slow(struct daxlease_ctx *ctx, struct daxlease_file *f,
	     uint64_t length, size_t n, struct stats *out)
{
	struct slow_run s = { .ctx = ctx, .f = f, .length = length };
	int rc = slow_op(&s, 0);	/* warm */

	return rc ? rc : time_runs(slow_op, &s, n, out);
}

/* ---- two threads ------------------------------------------------------------- */

struct scale_thread {
	pthread_t tid;
	struct daxlease_map *m;
	uint64_t off, leaf;
	size_t ops;
	pthread_barrier_t *start;	/* NULL: alone */
	uint64_t ns;			/* per pin + unpin */
	int rc;
};

static void *scale_main(void *arg)
{
	struct scale_thread *s = arg;
	uint64_t t0;

	if (s->start)
		pthread_barrier_wait(s->start);
	t0 = now_ns();
	s->rc = fast_batch(s->m, s->off, s->leaf, s->ops);
	s->ns = (now_ns() - t0) / s->ops;
	return NULL;
}

/* One repetition: entry 0 alone, then entries 0 and 1 at once. */
static int scale_rep(struct scale_thread th[2], uint64_t *one, uint64_t two[2])
{
	pthread_barrier_t start;
	int rc;

	th[0].start = NULL;
	scale_main(&th[0]);
	if (th[0].rc)
		return th[0].rc;
	*one = th[0].ns;
	if (pthread_barrier_init(&start, NULL, 2))
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		th[i].start = &start;
		rc = pthread_create(&th[i].tid, NULL, scale_main, &th[i]);
		if (rc) {
			/* the first thread waits at the barrier for ever
			 * otherwise: let it through alone */
			if (i == 1) {
				pthread_barrier_wait(&start);
				pthread_join(th[0].tid, NULL);
			}
			pthread_barrier_destroy(&start);
			return -rc;
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i].tid, NULL);
	pthread_barrier_destroy(&start);
	two[0] = th[0].ns;
	two[1] = th[1].ns;
	return th[0].rc ? th[0].rc : th[1].rc;
}

int pin_scaling(struct daxlease_map *m, uint64_t leaf, size_t reps,
		size_t ops, struct pin_scaling *out)
{
	uint64_t *one = samples_new(reps), *two[2];
	struct scale_thread th[2];
	int rc;

	two[0] = samples_new(reps);
	two[1] = samples_new(reps);
	rc = one && two[0] && two[1] ? 0 : -ENOMEM;
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 2; i++) {
		th[i].m = m;
		th[i].off = (uint64_t)i * leaf;
		th[i].leaf = leaf;
		th[i].ops = ops;
	}
	for (size_t r = 0; !rc && r < reps; r++) {
		uint64_t pair[2] = { 0, 0 };

		rc = scale_rep(th, &one[r], pair);
		two[0][r] = pair[0];
		two[1][r] = pair[1];
	}
	if (!rc) {
		stats_of(one, reps, &out->one);
		stats_of(two[0], reps, &out->two[0]);
		stats_of(two[1], reps, &out->two[1]);
	}
	free(one);
	free(two[0]);
	free(two[1]);
	return rc;
}
