// SPDX-License-Identifier: BSD-3-Clause
/*
 * pinstats.c - daxlease_get_pin_stats: what this context's pins did.
 *
 * The lockless pin must scale across threads, so its statistics never
 * touch a cache line another thread writes: each thread gets a slot of
 * its own per context (found through a tiny thread-local cache keyed by
 * the context's serial number, which is never reused, so a freed and
 * reallocated context cannot be mistaken for the old one).  Only the
 * owning thread writes a slot - a relaxed load and store, no locked
 * instruction - and daxlease_get_pin_stats sums the slots with relaxed
 * loads.  A thread that cannot get a slot (no memory) does not count:
 * the numbers are advice, never worth a failed pin.
 */
#include <stdlib.h>

#include "private.h"

struct dl_stat_slot {
	uint64_t v[DL_STAT_NR];
	const void *owner;		/* the thread: &thread_token */
	struct dl_stat_slot *next;	/* under ctx->map_lock */
} __attribute__((aligned(64)));

#define TL_CACHE 4

/*
 * initial-exec: a thread-local of a shared library is otherwise reached
 * through a __tls_get_addr call, several per pin.  These few bytes fit
 * the static TLS surplus glibc keeps for libraries loaded later.
 */
#define DL_TLS __thread __attribute__((tls_model("initial-exec")))

static DL_TLS char thread_token;
static DL_TLS struct {
	uint64_t serial;
	struct dl_stat_slot *slot;
} tl_cache[TL_CACHE];
static DL_TLS unsigned tl_next;

static uint64_t next_serial = 1;

uint64_t dl_ctx_serial_next(void)
{
	return __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
}

/* Ours in ctx's list, or a new one; NULL when out of memory. */
static struct dl_stat_slot *slot_lookup(struct daxlease_ctx *ctx)
{
	struct dl_stat_slot *s;

	pthread_mutex_lock(&ctx->map_lock);
	for (s = ctx->stat_slots; s; s = s->next)
		if (s->owner == &thread_token)
			break;
	if (!s) {
		s = aligned_alloc(64, sizeof(*s));
		if (s) {
			*s = (struct dl_stat_slot){ .owner = &thread_token,
						    .next = ctx->stat_slots };
			ctx->stat_slots = s;
		}
	}
	pthread_mutex_unlock(&ctx->map_lock);
	return s;
}

static struct dl_stat_slot *slot_get(struct daxlease_ctx *ctx)
{
	struct dl_stat_slot *s;
	unsigned i;

	for (i = 0; i < TL_CACHE; i++)
		if (tl_cache[i].serial == ctx->serial)
			return tl_cache[i].slot;
	s = slot_lookup(ctx);
	if (!s)
		return NULL;
	i = tl_next++ % TL_CACHE;
	tl_cache[i].serial = ctx->serial;
	tl_cache[i].slot = s;
	return s;
}

void dl_stat_inc(struct daxlease_ctx *ctx, enum dl_pin_stat which)
{
	struct dl_stat_slot *s = slot_get(ctx);

	if (!s)
		return;
	/* this thread is the only writer: no locked instruction needed */
	__atomic_store_n(&s->v[which],
			 __atomic_load_n(&s->v[which], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

DAXLEASE_EXPORT void daxlease_get_pin_stats(struct daxlease_ctx *ctx,
					    struct daxlease_pin_stats *out)
{
	uint64_t sum[DL_STAT_NR] = { 0 };
	struct dl_stat_slot *s;

	if (!out)
		return;
	if (ctx) {
		pthread_mutex_lock(&ctx->map_lock);
		for (s = ctx->stat_slots; s; s = s->next)
			for (int i = 0; i < DL_STAT_NR; i++)
				sum[i] += __atomic_load_n(&s->v[i],
							  __ATOMIC_RELAXED);
		pthread_mutex_unlock(&ctx->map_lock);
	}
	*out = (struct daxlease_pin_stats){
		.fast = sum[DL_STAT_FAST], .backoffs = sum[DL_STAT_BACKOFFS],
		.slow = sum[DL_STAT_SLOW], .wakeups = sum[DL_STAT_WAKEUPS],
	};
}

void dl_stats_release(struct daxlease_ctx *ctx)
{
	struct dl_stat_slot *s, *next;

	for (s = ctx->stat_slots; s; s = next) {
		next = s->next;
		free(s);
	}
	ctx->stat_slots = NULL;
}
