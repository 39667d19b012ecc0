/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * table.h - the per-client mapping table: the shared-memory contract
 * between daxleased and a client (and, later, the lockless pin path).
 *
 * The service creates one table per client: a memfd it writes and then
 * seals with F_SEAL_FUTURE_WRITE|F_SEAL_SHRINK|F_SEAL_GROW, so the client
 * can only map it read-only.  It reaches the client with the first MAP
 * reply, together with the namespace fd.  The table is a header page and
 * then an array of entries; a mapping owns a contiguous run of entries,
 * one per leaf, in file order.  A leaf is the largest of PUD (1 GiB), PMD
 * (2 MiB) and PTE (4 KiB) that the extent's alignment in both file and
 * namespace, its length, and the namespace align allow.
 *
 * Each entry's `pte` word is what a lockless reader loads, and loads again
 * after taking a reference: the service changes it (clears VALID and bumps
 * the generation) before it changes anything the entry points to.  The
 * word is written with a single aligned 64-bit store.
 *
 * Next to the table, each client gets a *counter region* (a second
 * memfd, the one shared page set the client writes): counter i counts the
 * client's lockless pins of table entry i.  The first MAP reply carries
 * four fds: [table memfd, namespace fd, counter memfd, wake eventfd].
 * docs/pin-protocol.md gives the memory-ordering argument; in short:
 *
 *   client pin:    v = load(pte); refs += 1 (seq_cst RMW: the fence);
 *                  if load(pte) != v (seq_cst) undo
 *   service:       pte &= ~VALID (gen+1); fence; scan refs; free if all 0
 *   client unpin:  if (refs -= 1) == 0 and load(waiting): write(wake fd)
 *
 * Entries whose counter is not zero are never reused for another mapping,
 * so a reference always names the blocks it was taken on.
 */
#ifndef DAXLEASE_TABLE_H
#define DAXLEASE_TABLE_H

#include <stdint.h>

#define DL_TABLE_MAGIC 0x454c4254454c4144ULL	/* "DALETBLE" */
#define DL_TABLE_VERSION 2	/* 2: the counter region and wake fd */
#define DL_TABLE_HDR_SIZE 4096

enum dl_leaf_level {
	DL_LEAF_PTE = 0,	/* 4 KiB */
	DL_LEAF_PMD = 1,	/* 2 MiB */
	DL_LEAF_PUD = 2,	/* 1 GiB */
};

/* the pte word */
#define DL_PTE_VALID 0x1ULL
#define DL_PTE_WRITE 0x2ULL
#define DL_PTE_LEVEL_SHIFT 2		/* 2 bits: enum dl_leaf_level */
#define DL_PTE_LEVEL_MASK (0x3ULL << DL_PTE_LEVEL_SHIFT)
#define DL_PTE_GEN_SHIFT 4		/* 12 bits: bumped on every rewrite */
#define DL_PTE_GEN_MASK (0xfffULL << DL_PTE_GEN_SHIFT)
#define DL_PTE_PFN_SHIFT 16		/* 48 bits: namespace offset >> 12 */

static inline uint64_t dl_pte_ns_offset(uint64_t pte)
{
	return (pte >> DL_PTE_PFN_SHIFT) << 12;
}

static inline enum dl_leaf_level dl_pte_level(uint64_t pte)
{
	return (enum dl_leaf_level)((pte & DL_PTE_LEVEL_MASK) >>
				    DL_PTE_LEVEL_SHIFT);
}

static inline uint64_t dl_leaf_size(enum dl_leaf_level level)
{
	return level == DL_LEAF_PUD ? 1ULL << 30 :
	       level == DL_LEAF_PMD ? 1ULL << 21 : 1ULL << 12;
}

struct dl_table_hdr {
	uint64_t magic;		/* DL_TABLE_MAGIC */
	uint32_t version;	/* DL_TABLE_VERSION */
	uint32_t entry_size;	/* sizeof(struct dl_table_entry) */
	uint64_t nentries;	/* capacity */
	uint8_t reserved[DL_TABLE_HDR_SIZE - 24];
};
_Static_assert(sizeof(struct dl_table_hdr) == DL_TABLE_HDR_SIZE, "");

struct dl_table_entry {
	uint64_t pte;		/* see DL_PTE_*; 0 = never used */
	uint64_t file_offset;	/* file byte offset of the leaf */
	uint64_t map_id;	/* owning mapping */
	uint64_t reserved;
};
_Static_assert(sizeof(struct dl_table_entry) == 32, "");

/* ---- the counter region -------------------------------------------------- */

#define DL_COUNTERS_MAGIC 0x53544e434e495044ULL	/* "DPINCNTS" */
#define DL_COUNTERS_VERSION 1
#define DL_COUNTER_STRIDE 64		/* one cache line per counter */

struct dl_counters_hdr {
	uint64_t magic;		/* DL_COUNTERS_MAGIC */
	uint32_t version;	/* DL_COUNTERS_VERSION */
	uint32_t stride;	/* DL_COUNTER_STRIDE */
	uint64_t nentries;	/* the table's capacity */
	uint8_t pad0[40];
	/*
	 * Written by the service only (a client that changes it only delays
	 * its own wake-ups): nonzero while a layout change or a quarantine
	 * hold waits for this client's counters.  An unpin that takes a
	 * counter to zero then writes 1 to the wake eventfd.
	 */
	uint64_t waiting;	/* at offset 64: a cache line of its own */
	uint8_t reserved[DL_TABLE_HDR_SIZE - 72];
};
_Static_assert(sizeof(struct dl_counters_hdr) == DL_TABLE_HDR_SIZE, "");

/*
 * refs: the client's lockless pins of the entry with the same index.  The
 * service reads it as untrusted: any value but 0 keeps the blocks (a
 * negative or huge one is reported as corrupt in the BUSY view).
 */
struct dl_pin_counter {
	int64_t refs;
	uint8_t pad[DL_COUNTER_STRIDE - 8];
};
_Static_assert(sizeof(struct dl_pin_counter) == DL_COUNTER_STRIDE, "");

static inline uint64_t dl_counters_size(uint64_t nentries)
{
	return DL_TABLE_HDR_SIZE + nentries * DL_COUNTER_STRIDE;
}

#endif
