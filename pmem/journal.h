/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.h - the redo log through which every metadata change goes.
 *
 * A transaction is a list of records built in DRAM (dl_tx_bytes,
 * dl_tx_bits) and committed with two persist points:
 *
 *   1. records + header (with a CRC-64 over both) into the journal area,
 *      flush, drain            -> the transaction is committed
 *   2. records applied to their home locations, flush, drain
 *                              -> the journal may be overwritten
 *
 * A torn step 1 leaves a header whose checksum does not match, and the
 * previous transaction is already fully applied (its step 2 finished
 * before this one began), so recovery has nothing to do.  A crash during
 * or after step 2 leaves a committed transaction that recovery replays;
 * replay is idempotent (byte copies and bit sets), so replaying an
 * already-applied transaction is harmless.  See docs/format.md.
 */
#ifndef DAXLEASE_PMEM_JOURNAL_H
#define DAXLEASE_PMEM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "format.h"
#include "namespace.h"

struct dl_flush_range {
	uintptr_t start;
	uintptr_t end;
};

struct dl_journal {
	struct dl_ns *ns;
	uint8_t *base;		/* namespace byte 0 */
	uint64_t ns_size;
	uint8_t *area;		/* journal area */
	size_t area_len;
	uint8_t *bitmap;	/* bitmap area */
	uint64_t nblocks;	/* bits in the bitmap */
	uint64_t seq;		/* last committed transaction */
	/* the transaction being built */
	uint8_t *buf;
	size_t len, cap;
	uint32_t nrecords;
	/* flush coalescing */
	struct dl_flush_range *ranges;
	size_t nranges, ranges_cap;
	size_t flush_unit;	/* 4096 on page granularity, else 64 */
	uint64_t commits;
};

/* Bind the journal of the filesystem described by sb (already checked). */
int dl_journal_init(struct dl_journal *j, struct dl_ns *ns,
		    const struct dl_superblock *sb);
void dl_journal_fini(struct dl_journal *j);

/* Record "namespace bytes [off, off+len) become data". */
int dl_tx_bytes(struct dl_journal *j, uint64_t off, const void *data,
		size_t len);
/* Record "bitmap bits [start, start+count) become set/clear". */
int dl_tx_bits(struct dl_journal *j, uint64_t start, uint64_t count, bool set);
/* Bytes the transaction would take in the journal (header included). */
size_t dl_tx_size(const struct dl_journal *j);
size_t dl_journal_capacity(const struct dl_journal *j);
bool dl_tx_empty(const struct dl_journal *j);
void dl_tx_discard(struct dl_journal *j);
/* Drop the records added after the transaction was len bytes and
 * nrecords records long (the group commit's batch of writes stays). */
void dl_tx_rewind(struct dl_journal *j, size_t len, uint32_t nrecords);
/* Commit and apply; -EFBIG (nothing written) if it does not fit. */
int dl_tx_commit(struct dl_journal *j);

/*
 * Replay a committed transaction found in the journal area and then mark
 * the journal empty.  Returns 1 if one was replayed, 0 if none, -EUCLEAN
 * if a committed transaction is malformed (nothing applied).
 */
int dl_journal_recover(struct dl_journal *j, struct dl_err *err);
/* 1 if a committed transaction is present, 0 if not. */
int dl_journal_pending(const struct dl_journal *j);
/* Mark the journal empty (clean close). */
void dl_journal_clear(struct dl_journal *j);

/* Flush helpers shared with the filesystem's data path: collect ranges,
 * then flush them merged at the store granularity and drain once. */
int dl_flush_add(struct dl_journal *j, const void *addr, size_t len);
void dl_flush_all(struct dl_journal *j);

#endif
