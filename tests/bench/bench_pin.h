/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pin.h - the pin section of daxlease-bench: the lockless pin path
 * (daxlease_map_pin/unpin) against the floor any counter-based pin pays
 * (an atomic increment, a full fence and a decrement on one cache line),
 * the socket path (daxlease_pin/unpin) and the kernel's own long-term pin
 * (registering an io_uring fixed buffer), for the same sizes; and two
 * threads pinning different entries at once against one alone.
 */
#ifndef DAXLEASE_BENCH_PIN_H
#define DAXLEASE_BENCH_PIN_H

#include "bench.h"
#include "daxlease/libdaxlease.h"

#define PIN_WHY 160

/* A loop that never blocks, timed by the wall clock and by the thread's
 * CPU time (which leaves out the time other processes took the core). */
struct pin_timed {
	struct stats wall, cpu;
};

/* One size: its lockless, socket and kernel pin + unpin. */
struct pin_case {
	const char *label;
	uint64_t ns_size, align, bytes;
	uint64_t entries;		/* the pin's table entries (leaves) */
	struct pin_timed fast;
	struct stats slow, kernel;
	size_t fast_batch;		/* pins timed together per sample */
	char fast_skip[PIN_WHY], slow_skip[PIN_WHY], kernel_skip[PIN_WHY];
};

/* Two threads on different entries, each one's time per pin + unpin
 * against one thread alone, by one clock (medians over repetitions). */
struct pin_clock {
	struct stats one, two[2];
	struct stats same[2];	/* control: both threads on entry 0 */
};

/* By the wall clock and by each thread's CPU time (bench_pin_fast.c). */
struct pin_scaling {
	struct pin_clock wall, cpu;
	/* both threads' CPU time over the pair's wall time, in thousandths
	 * (2000: truly in parallel), for the pair and the control */
	struct stats parallel, parallel_same;
	char skipped[PIN_WHY];
};

#define PIN_CASES 3

struct pin_res {
	char skipped[PIN_WHY];
	size_t floor_batch;
	struct pin_timed floor;
	struct pin_case c[PIN_CASES];
	struct pin_scaling scale;
};

struct pin_iters {
	size_t samples;		/* batched samples of the floor and fast path */
	size_t slow;		/* socket pins per size */
	size_t kernel_small;	/* io_uring registrations of 2 MiB */
	size_t kernel_big;	/* ... of 1 GiB */
	size_t scale_reps;	/* scaling repetitions */
	size_t scale_ops;	/* pins per thread per repetition */
	bool big;		/* the 1 GiB (PUD) case */
};

/* The floor: n samples of batch increment + fence + decrement. */
int pin_floor(size_t batch, size_t n, struct pin_timed *out);
/* Lockless pin + unpin of [0, length) of m, batched; 0, or -errno (a
 * pin that did not go the lockless way: -EAGAIN). */
int pin_fast(struct daxlease_map *m, uint64_t length, size_t batch,
	     size_t n, struct pin_timed *out);
/* Socket pin + unpin of [0, length) of f, one by one. */
int pin_slow(struct daxlease_ctx *ctx, struct daxlease_file *f,
	     uint64_t length, size_t n, struct stats *out);
/* Two threads pinning entry 0 and entry 1 (each leaf bytes) of m. */
int pin_scaling(struct daxlease_map *m, uint64_t leaf, size_t reps,
		size_t ops, struct pin_scaling *out);

/* bench_uring.c: register + unregister an io_uring fixed buffer of
 * bytes of anonymous memory, n times; 0 with why[] set when the kernel
 * will not let us, or -errno. */
int pin_kernel(uint64_t bytes, size_t n, struct stats *out, char *why,
	       size_t whylen);

#endif
