/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * persist.h - mapping a namespace and making stores durable, via libpmem2.
 *
 * This is the only module that calls pmem2's persist/flush/drain.  Every
 * other module writes through a struct dl_map and then calls
 * dl_map_flush() for each range it stored to and dl_map_drain() once: the
 * drain is a *persist point* (a barrier), the thing crash tests stop at and
 * benchmarks count.  On an ordinary file pmem2's store granularity is the
 * page and a flush is an msync, so the number of flushes matters too: both
 * are counted in struct dl_persist_stats.
 *
 * Crash simulation (DAXLEASE_FAULT_INJECTION builds): when the environment
 * holds DAXLEASE_CRASH_AT=N, a writable mapping is made MAP_PRIVATE, so
 * stores reach the file only when a drain writes the ranges flushed since
 * the previous drain through with pwrite().  At the Nth drain the process
 * writes through a random subset of the pending 64-byte lines (seed from
 * DAXLEASE_CRASH_SEED; none if DAXLEASE_CRASH_EVICT=0) and exits with
 * DL_CRASH_EXIT_CODE - the image then looks as after a power failure at
 * that point, including cache lines evicted early.
 */
#ifndef DAXLEASE_PMEM_PERSIST_H
#define DAXLEASE_PMEM_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define DL_CRASH_EXIT_CODE 86

enum dl_granularity {
	DL_GRANULARITY_BYTE,		/* eADR: stores are durable on reach */
	DL_GRANULARITY_CACHE_LINE,	/* ADR: flush cache lines, then fence */
	DL_GRANULARITY_PAGE,		/* ordinary file: msync */
};

enum dl_map_mode {
	DL_MAP_READ_WRITE,
	DL_MAP_READ_ONLY,
};

struct dl_persist_stats {
	uint64_t flushes;	/* dl_map_flush calls that reached pmem2 */
	uint64_t drains;	/* persist points */
};

struct dl_map;

/*
 * Map len bytes of fd from offset 0 (a regular file, a file on a DAX
 * filesystem, or a device-dax character device) with the finest store
 * granularity the source supports.
 */
int dl_map_new(int fd, size_t len, enum dl_map_mode mode, struct dl_map **out,
	       struct dl_err *err);
void dl_map_delete(struct dl_map **map);

void *dl_map_addr(const struct dl_map *map);
size_t dl_map_size(const struct dl_map *map);
enum dl_granularity dl_map_granularity(const struct dl_map *map);
const char *dl_granularity_name(enum dl_granularity g);

/* Queue [addr, addr+len) for durability; durable after the next drain. */
void dl_map_flush(struct dl_map *map, const void *addr, size_t len);
/* A persist point: everything flushed so far is durable on return. */
void dl_map_drain(struct dl_map *map);
/* flush + drain. */
void dl_map_persist(struct dl_map *map, const void *addr, size_t len);

void dl_map_stats(const struct dl_map *map, struct dl_persist_stats *out);

/*
 * Survive the mapped file shrinking under the mapping (guard.h): a fault
 * past its end reads zeros and drops stores instead of killing the
 * process, and is counted.  Regular files only (a device cannot shrink:
 * 0, nothing done).  0 or -errno.
 */
int dl_map_guard(struct dl_map *map);
/* Faults the guard absorbed in this mapping (0 when not guarded). */
uint64_t dl_map_faults(const struct dl_map *map);

/*
 * Zero [addr, addr+len) (4 KiB aligned) of a mapping of a regular file by
 * punching a hole in the file: nothing is written, so a sparse image
 * stays sparse and a 1 TiB fallocate followed by a write mapping costs
 * metadata only.  Durable after dl_map_punch_sync().  -ENOTSUP when the
 * mapping cannot (a device, or a crash-simulation mapping, which does not
 * show the file): the caller then stores zeros and flushes them.
 */
int dl_map_punch_zero(struct dl_map *map, const void *addr, size_t len);
/* Make the holes punched so far durable (fdatasync): 0 or -errno. */
int dl_map_punch_sync(struct dl_map *map);

/* Process-wide count of persist points (drains), for crash-test harnesses. */
uint64_t dl_persist_points(void);

#endif
