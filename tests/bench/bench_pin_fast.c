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
#include <time.h>

#include "bench_pin.h"

/* This thread's CPU time: what a loop costs while it runs, whatever else
 * the machine does (preemption shows on the wall clock only). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* n samples of run(arg, batch), per operation, by both clocks. */
static int batched(int (*run)(void *arg, size_t batch), void *arg,
		   size_t batch, size_t n, struct pin_timed *out)
{
	uint64_t *w = samples_new(n), *c = samples_new(n);
	int rc = w && c ? 0 : -ENOMEM;

	if (!rc)
		rc = run(arg, batch);		/* warm */
	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t w0 = now_ns(), c0 = thread_cpu_ns();

		rc = run(arg, batch);
		c[i] = (thread_cpu_ns() - c0) / batch;
		w[i] = (now_ns() - w0) / batch;
	}
	if (!rc) {
		stats_of(w, n, &out->wall);
		stats_of(c, n, &out->cpu);
	}
	free(w);
	free(c);
	return rc;
}

/* ---- the floor --------------------------------------------------------------- */

/* One counter on a cache line of its own, as the counter region has. */
static struct {
	_Alignas(64) int64_t refs;
	char pad[64 - sizeof(int64_t)];
} floor_line;

static int floor_batch(void *arg, size_t batch)
{
	(void)arg;
	for (size_t k = 0; k < batch; k++) {
		__atomic_fetch_add(&floor_line.refs, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__atomic_fetch_sub(&floor_line.refs, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

int pin_floor(size_t batch, size_t n, struct pin_timed *out)
{
	return batched(floor_batch, NULL, batch, n, out);
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

struct fast_run {
	struct daxlease_map *m;
	uint64_t length;
};

static int fast_run_batch(void *arg, size_t batch)
{
	struct fast_run *f = arg;

	return fast_batch(f->m, 0, f->length, batch);
}

int pin_fast(struct daxlease_map *m, uint64_t length, size_t batch,
	     size_t n, struct pin_timed *out)
{
	struct fast_run f = { .m = m, .length = length };

	return batched(fast_run_batch, &f, batch, n, out);
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

/*
 * Each thread's time per pin + unpin by two clocks: the wall clock (what
 * an application sees, including time other processes take the core
 * away on a shared machine) and the thread's own CPU time (what the pins
 * cost while it runs: shared cache lines between the threads would show
 * here, preemption would not).
 */
enum { CLK_WALL, CLK_CPU, NCLK };
#define NSCALE 5		/* alone, a pair, the control pair */

struct scale_thread {
	pthread_t tid;
	struct daxlease_map *m;
	uint64_t off, leaf;
	size_t ops;
	pthread_barrier_t *start;	/* NULL: alone */
	uint64_t ns[NCLK];		/* per pin + unpin */
	uint64_t begin, end, cpu;	/* wall clock, CPU time used */
	int rc;
};

static void *scale_main(void *arg)
{
	struct scale_thread *s = arg;
	uint64_t w0, c0;

	if (s->start)
		pthread_barrier_wait(s->start);
	w0 = now_ns();
	c0 = thread_cpu_ns();
	s->rc = fast_batch(s->m, s->off, s->leaf, s->ops);
	s->cpu = thread_cpu_ns() - c0;
	s->end = now_ns();
	s->begin = w0;
	s->ns[CLK_CPU] = s->cpu / s->ops;
	s->ns[CLK_WALL] = (s->end - w0) / s->ops;
	return NULL;
}

/*
 * How parallel the pair ran, in thousandths: CPU time of both over the
 * wall time from the first start to the last end.  2000: both on a core
 * the whole time; 1000: one after the other (a busy machine), and then
 * the pair's times say nothing about how the pins share.
 */
static uint64_t pair_parallelism(const struct scale_thread th[2])
{
	uint64_t b = th[0].begin < th[1].begin ? th[0].begin : th[1].begin;
	uint64_t e = th[0].end > th[1].end ? th[0].end : th[1].end;

	return e > b ? (th[0].cpu + th[1].cpu) * 1000 / (e - b) : 0;
}

/* Entries 0 and 1 at once, one thread each. */
static int scale_pair(struct scale_thread th[2])
{
	pthread_barrier_t start;
	int rc;

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
	return th[0].rc ? th[0].rc : th[1].rc;
}

/*
 * One repetition into t[clock][k][rep], k: 0 alone, 1 and 2 the pair on
 * entries 0 and 1, 3 and 4 the control pair both on entry 0 (one
 * counter's cache line bouncing between the cores: what sharing costs,
 * so a reader can see the CPU clock would show it).
 */
static int scale_rep(struct scale_thread th[2], uint64_t *t[NCLK][NSCALE],
		     uint64_t *par[2], size_t rep)
{
	int rc;

	th[0].start = NULL;
	scale_main(&th[0]);
	if (th[0].rc)
		return th[0].rc;
	for (int c = 0; c < NCLK; c++)
		t[c][0][rep] = th[0].ns[c];
	for (int k = 1; k < NSCALE; k += 2) {
		th[1].off = k == 1 ? th[1].leaf : 0;
		rc = scale_pair(th);
		if (rc)
			return rc;
		for (int c = 0; c < NCLK; c++) {
			t[c][k][rep] = th[0].ns[c];
			t[c][k + 1][rep] = th[1].ns[c];
		}
		par[k / 2][rep] = pair_parallelism(th);
	}
	return 0;
}

int pin_scaling(struct daxlease_map *m, uint64_t leaf, size_t reps,
		size_t ops, struct pin_scaling *out)
{
	struct pin_clock *clk[NCLK] = { &out->wall, &out->cpu };
	struct scale_thread th[2];
	uint64_t *t[NCLK][NSCALE], *par[2];
	int rc = 0;

	for (int c = 0; c < NCLK; c++)
		for (int k = 0; k < NSCALE; k++)
			if (!(t[c][k] = samples_new(reps)))
				rc = -ENOMEM;
	for (int k = 0; k < 2; k++)
		if (!(par[k] = samples_new(reps)))
			rc = -ENOMEM;
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 2; i++) {
		th[i].m = m;
		th[i].leaf = leaf;
		th[i].ops = ops;
	}
	for (size_t r = 0; !rc && r < reps; r++)
		rc = scale_rep(th, t, par, r);
	for (int c = 0; !rc && c < NCLK; c++) {
		stats_of(t[c][0], reps, &clk[c]->one);
		stats_of(t[c][1], reps, &clk[c]->two[0]);
		stats_of(t[c][2], reps, &clk[c]->two[1]);
		stats_of(t[c][3], reps, &clk[c]->same[0]);
		stats_of(t[c][4], reps, &clk[c]->same[1]);
	}
	if (!rc) {
		stats_of(par[0], reps, &out->parallel);
		stats_of(par[1], reps, &out->parallel_same);
	}
	for (int c = 0; c < NCLK; c++)
		for (int k = 0; k < NSCALE; k++)
			free(t[c][k]);
	free(par[0]);
	free(par[1]);
	return rc;
}
