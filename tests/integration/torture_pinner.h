/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_pinner.h - what a pinner process's files share: its threads
 * (slots), and what torture_race.c needs of torture_pinner.c.
 */
#ifndef DAXLEASE_TESTS_TORTURE_PINNER_H
#define DAXLEASE_TESTS_TORTURE_PINNER_H

#include <pthread.h>

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
	bool lease_breaking;		/* lockless: broken, not given back */
	uint64_t off, len;		/* its transfer's range, while busy */
	/* lockless: the window it pins in (NULL: none yet) */
	struct daxlease_map *win;
	uint64_t win_off, win_len;
	unsigned win_pins;
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

/* An unexpected return code: printed, counted. */
void slot_error(struct slot *s, const char *what, int rc);
/* The thread's id in its DMA words. */
unsigned slot_who(const struct slot *s);
/* Claim [off, off+len) if no other thread of the pinner uses any of it. */
bool slot_claim(struct slot *s, uint64_t off, uint64_t len);
/* The transfer is over: its range is free for the other threads. */
void slot_release_range(struct slot *s);
/* Unmap the thread's window and return its lease. */
void slot_close_window(struct slot *s);
/* A refusal that only means "try again" (the layout moved on). */
bool tt_raced(int rc);

/* Race the invalidation of the thread's window (torture_race.c). */
void tt_race_window(struct slot *s, uint64_t seq);

#endif
