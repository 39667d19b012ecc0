/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kill.h - the kill tests (test_kill.c): a mixed load whose processes
 * outlive the daemon, or lose their own connections, and go on.
 *
 * The load (kill_load.c) is the torture test's in spirit, with its words
 * (torture.h): pinners "DMA" into pinned blocks - lockless and socket pins
 * - while layout processes truncate, punch, collapse, insert and zero
 * their files, and fillers keep victim files written and fsync'ed on a
 * nearly full namespace.  Every process takes any -ENOTCONN as "the
 * connection is lost": it reconnects (daxlease_reconnect, waiting for the
 * daemon to come back) and carries on where it was, its pins and its DMA
 * never interrupted.  So a victim block that reads as a pinner's word was
 * freed under a DMA - by a restart that forgot a pin, or a disconnect that
 * dropped one.
 */
#ifndef DAXLEASE_TESTS_KILL_H
#define DAXLEASE_TESTS_KILL_H

#include <stdbool.h>
#include <stdint.h>

#include "torture.h"

#define KL_MAX_PINNERS 8
#define KL_MAX_VICTIMS 256	/* live victims per filler */

struct kl_config {
	const char *socket;
	unsigned long long seed;
	unsigned pinners, layouts, fillers;
	uint64_t pinned_size;		/* each pinner's file */
	uint64_t max_pin;		/* largest pinned range */
	uint64_t filler_bytes;		/* victim bytes each filler keeps */
	int stop;			/* readable (EOF) once it is time */
	struct kl_shared *shared;	/* a page all processes share */
};

/* What the parent watches (a MAP_SHARED page, atomics only). */
struct kl_shared {
	uint64_t transfers;		/* pinners' transfers done */
	uint64_t layout_ops;		/* layout requests answered */
	uint64_t victims;		/* fillers' victims written */
};

enum kl_role { KL_PINNER, KL_LAYOUT, KL_FILLER };

struct kl_report {
	uint32_t role, index;
	uint64_t reconnects;		/* daxlease_reconnect that worked */
	uint64_t taken_back;		/* pins a reconnect took back */
	uint64_t counted_back;		/* lockless entries it took back */
	uint64_t lost_back;		/* files, maps, pins it could not */
	/* pinners */
	uint64_t transfers, fast_pins, slow_pins, dma_words;
	uint64_t mismatches;		/* read-back words not their DMA */
	/* layout processes */
	uint64_t layout_ops, layout_timeouts, layout_refused;
	/* fillers */
	uint64_t created, verified, unlinked, enospc;
	uint64_t rewritten;		/* fsync said a lost connection's
					 * writes may be lost: written again */
	uint64_t victim_words;		/* victim words not theirs */
	uint64_t errors;		/* unexpected return codes */
	uint32_t nvictims;		/* fillers: tt_victim records follow */
	uint32_t pad;
};

/* A pinner's commands (its command pipe, read between passes). */
#define KL_CMD_SHUTDOWN 'd'	/* shutdown() its socket */
#define KL_CMD_CLOSE 'c'	/* its socket replaced by /dev/null */

/* The children: each runs until told to stop, writes its report (and
 * fillers their victims) to out, and _exits (0: no error). */
void kl_pinner_main(const struct kl_config *cfg, unsigned index, int cmd,
		    int out) __attribute__((noreturn));
void kl_layout_main(const struct kl_config *cfg, unsigned index, int out)
	__attribute__((noreturn));
void kl_filler_main(const struct kl_config *cfg, unsigned index, int out)
	__attribute__((noreturn));

/* The name of pinner k's file ("kp<k>"). */
const char *kl_pinned_name(unsigned k, char *buf, size_t len);

#endif
