/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture.h - the DMA-after-free torture test (test_torture.c): what its
 * processes share.
 *
 * Every 8-byte word any process writes says who wrote it, so a mismatch
 * explains itself: a word a pinner "DMA"ed names the pinner, its transfer
 * and the file offset it was meant for; a word of a victim file names the
 * victim, its generation and its offset.  A victim block that reads as a
 * pinner's word is a block that was freed (and reused) under a DMA.
 */
#ifndef DAXLEASE_TESTS_TORTURE_H
#define DAXLEASE_TESTS_TORTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daxlease/libdaxlease.h"

#define TT_BLK 4096ULL
#define TT_MAX_PINNERS 8
#define TT_MAX_THREADS 8	/* pinning threads per pinner (lockless) */
#define TT_MAX_VICTIMS 512	/* live victim files per filler */

/* ---- the words ------------------------------------------------------------ */

#define TT_TAG_DMA 0xd3ULL
#define TT_TAG_VICTIM 0x71ULL

/* A pinner's DMA word: who (pinner * TT_MAX_THREADS + thread), which
 * transfer, which file offset. */
static inline uint64_t tt_dma_word(unsigned who, uint64_t seq, uint64_t off)
{
	return TT_TAG_DMA << 56 | (uint64_t)(who & 0xff) << 48 |
	       (seq & 0xffff) << 32 | ((off >> 3) & 0xffffffffULL);
}

/* A victim's word: its id, its generation (each rewrite), its offset. */
static inline uint64_t tt_victim_word(unsigned id, unsigned gen, uint64_t off)
{
	return TT_TAG_VICTIM << 56 | (uint64_t)(id & 0xffff) << 40 |
	       (uint64_t)(gen & 0xff) << 32 | ((off >> 3) & 0xffffffffULL);
}

/* "pinner 1.2 transfer 77 for offset 0x3000", "victim ...", "zeros". */
void tt_describe(uint64_t word, char *buf, size_t len);

/*
 * Compare len bytes read at file offset off with the words expect(off)
 * gives; print the first few differing words (decoded) under `what`, and
 * return how many words differ.  A short read counts its missing words.
 */
typedef uint64_t (*tt_expect_fn)(const void *arg, uint64_t off);
uint64_t tt_compare(const char *what, const uint64_t *got, size_t got_len,
		    uint64_t off, size_t len, tt_expect_fn expect,
		    const void *arg);

/* ---- the run --------------------------------------------------------------- */

struct tt_config {
	unsigned long long seed;
	uint64_t ops;			/* layout-op budget, all layout procs */
	unsigned pinners, layouts, fillers;
	unsigned threads;		/* pinning threads per pinner */
	bool lockless;			/* daxlease_map_pin + pin_dma */
	uint64_t pinned_min, pinned_max;	/* pinned file sizes */
	uint64_t max_pin;		/* largest pinned range */
	uint64_t leaf;			/* the namespace align */
	uint64_t window;		/* lockless: mapped, then pinned in */
	uint64_t max_change;		/* longest layout change */
	uint64_t filler_bytes;		/* victim bytes each filler keeps */
	const char *socket;
	int stop;			/* readable (EOF) once it is time */
	struct tt_shared *shared;	/* one page all processes share */
};

/* Counters every process sees (a MAP_SHARED page, atomics only). */
struct tt_shared {
	uint64_t victims_created;	/* fresh blocks handed to victims */
	uint64_t pinners_ready;		/* have mapped their first window */
	uint64_t layout_progress;	/* layout requests answered */
};

/* The name of pinned file k ("pinned<k>"). */
const char *tt_pinned_name(unsigned k, char *buf, size_t len);

/* xorshift64*, one per process or thread: choices repeat with the seed. */
static inline uint64_t tt_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t tt_below(uint64_t *s, uint64_t n)
{
	return n ? tt_rnd(s) % n : 0;
}

uint64_t tt_seed_for(const struct tt_config *cfg, unsigned role,
		     unsigned index);

/* Has the parent said stop (closed the stop pipe)? */
bool tt_stopped(const struct tt_config *cfg);

/* What each child reports through its pipe when it is done. */
enum tt_role { TT_PINNER, TT_LAYOUT, TT_FILLER };

struct tt_report {
	uint32_t role, index;
	/* layout processes */
	uint64_t layout_ops;		/* done (returned 0) */
	uint64_t layout_raced;		/* -EINVAL: another changed the size */
	uint64_t layout_found_pins;	/* a NONBLOCK probe named pins */
	/* pinners */
	uint64_t pins, transfers_broken, pin_retries, dma_words;
	uint64_t fast_pins, backoffs, slow_pins;
	uint64_t racing_pins;		/* lockless, after the lease went */
	uint64_t races, races_checked;	/* race_window: runs, pins checked */
	uint64_t leaves[3];		/* lockless windows: PTE, PMD, PUD */
	uint64_t small_windows;		/* 1 GiB windows too split to map */
	/* fillers */
	uint64_t created, mapped_fills, rewrites, verified, unlinked, enospc;
	/* the verdict */
	uint64_t mismatches;		/* pinners: words not their last pass */
	uint64_t victim_words;		/* fillers: victim words not theirs */
	uint64_t victims_hit;		/* fillers: victim reads with any */
	uint64_t errors;		/* unexpected return codes */
	uint32_t nvictims;		/* fillers: tt_victim records follow */
	uint32_t pad;
};

/* A live victim, as its filler's model has it. */
struct tt_victim {
	uint32_t id;
	uint32_t gen;
	uint64_t size;
};

/* The victim's file name ("v<id>"). */
const char *tt_victim_name(unsigned id, char *buf, size_t len);

/* Read the whole victim through the service and compare it with its
 * model; the number of words that differ (a missing file: all). */
uint64_t tt_verify_victim(struct daxlease_ctx *ctx, const char *who,
			  const struct tt_victim *v);

/* The children: each runs until done or told to stop, writes its report
 * (and fillers their victims) to out, and _exits (0: no error). */
void tt_pinner_main(const struct tt_config *cfg, unsigned index, int out)
	__attribute__((noreturn));
void tt_layout_main(const struct tt_config *cfg, unsigned index, int out)
	__attribute__((noreturn));
void tt_filler_main(const struct tt_config *cfg, unsigned index, int out)
	__attribute__((noreturn));

/* Write the report (and n victims) to out; _exit with 1 on errors. */
void tt_child_exit(int out, struct tt_report *r, struct tt_victim *v,
		   uint32_t n) __attribute__((noreturn));
/* All len bytes through a pipe (out: write, else read); 0 or -1. */
int tt_pipe_io(int fd, void *buf, size_t len, bool out);

/* A child's connection (and an error message and _exit(2) if none). */
struct daxlease_ctx *tt_connect(const struct tt_config *cfg, const char *who);

#endif
