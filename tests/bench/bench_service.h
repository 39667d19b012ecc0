/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_service.h - the service section of daxlease-bench: layout
 * leases, their breaks, truncate and busy-page scans, each against a bare
 * SOCK_SEQPACKET echo round trip measured in the same run.  Its parts
 * live in their own files and fill one struct svc_res.
 */
#ifndef DAXLEASE_BENCH_SERVICE_H
#define DAXLEASE_BENCH_SERVICE_H

#include <sys/types.h>

#include "bench.h"

#define SVC_WHY 160		/* room for a reason something was skipped */

struct svc_iters {
	size_t echo;		/* echo round trips */
	size_t lease;		/* acquire + release pairs */
	size_t brk;		/* lease breaks, each kind */
	size_t trunc;		/* 1 GiB truncates */
	size_t scan;		/* NONBLOCK truncates per busy-scan case */
	size_t records;		/* round trips per pin-record case */
};

/* A measurement, and the echo round trips taken one before each of its
 * runs: the baseline its ratio is to. */
struct svc_timed {
	struct stats t;
	struct stats echo;
};

/* A lease break with a cooperative holder, end to end. */
struct svc_break {
	struct svc_timed t;
	struct stats control;	/* the same change with no lease to break */
	uint64_t revoked;	/* holders the service revoked instead */
	char fs[32];		/* kernel: the file system of the file */
	char skipped[SVC_WHY];	/* non-empty: not measured, and why */
};

/* One busy-scan case: a mapping, one 4 KiB pin at its end, NONBLOCK
 * truncates to 0 that each invalidate and scan the whole range. */
struct svc_scan {
	const char *label;
	uint64_t ns_size, align, bytes;	/* namespace, mapped file */
	uint64_t entries, pte, pmd, pud;	/* leaves of the mapping */
	uint64_t setup_ns;		/* create, fallocate, map, pin */
	uint64_t map_ns;		/* daxlease_map of the written file */
	long vmas;			/* the VMAs that mapping took */
	uint64_t disk_bytes;		/* the image's disk use after setup */
	uint64_t first_ns;		/* the first call (entries were valid) */
	struct svc_timed t;		/* the calls after it */
	uint64_t blockers;		/* what EBUSY reported */
	struct svc_timed busy_view;	/* one full listing of BUSY */
	uint64_t busy_rows;		/* the rows it had */
	char skipped[SVC_WHY];
};

#define SVC_MAX_SCANS 6

struct svc_res {
	char skipped[SVC_WHY];		/* the whole section */
	struct svc_iters it;
	uint32_t msg_bytes;		/* the echo's message size */
	struct stats echo;		/* alone, at the start */
	struct stats echo_after;	/* again at the end: did the load change? */
	struct svc_timed lease;		/* acquire + release */
	struct svc_break brk, kbrk;	/* daxlease, the kernel's F_SETLEASE */
	uint64_t trunc_bytes;
	struct svc_timed trunc;		/* truncate of an allocated file to 0 */
	struct svc_scan scan[SVC_MAX_SCANS];
	size_t nscans;
	/* bench_records.c: MAP+UNMAP and PIN+UNPIN, recorded or not */
	struct svc_timed map_recorded, map_new, pin_recorded, pin_new;
	char scan_note[512];		/* what the scan cases can and cannot show */
};

/* ---- bench_echo.c: the echo peer, a process that sends back ------------- */

struct echo_peer {
	int s;
	pid_t pid;
	size_t len;		/* bytes each way */
	char *buf;
};

/* Fork the peer and warm it up: 0 or BENCH_ERR (printed). */
int echo_open(struct echo_peer *e, size_t len);
void echo_close(struct echo_peer *e);
/* One timed round trip: 0 or -errno. */
int echo_once(struct echo_peer *e, uint64_t *ns);
/* n round trips in a row: 0 or BENCH_ERR (printed). */
int echo_runs(struct echo_peer *e, size_t n, struct stats *out);
/* What time_paired runs: prepare (untimed, may be NULL), then one echo
 * round trip, then op (timed).  Each returns 0 or -errno. */
struct paired_op {
	int (*prepare)(void *arg, size_t i);
	int (*op)(void *arg, size_t i);
};
/* n runs of p on arg: out->t times op, out->echo the round trips. */
int time_paired(struct echo_peer *e, const struct paired_op *p, void *arg,
		size_t n, struct svc_timed *out);

/* ---- the parts -------------------------------------------------------------- */

/* bench_lease.c: acquire+release, a daxlease lease break, 1 GiB truncate */
int svc_leases(const struct bench_opts *o, struct echo_peer *e,
	       struct svc_res *r);
/* bench_kernel_lease.c: the kernel's own lease break (F_SETLEASE). */
int svc_kernel_break(const struct bench_opts *o, struct echo_peer *e,
		     size_t n, struct svc_break *out);
/* bench_records.c: what recording costs MAP and PIN. */
int svc_records(const struct bench_opts *o, struct echo_peer *e,
		struct svc_res *r);
/* bench_busy.c: the busy-scan cases. */
int svc_busy_scans(const struct bench_opts *o, struct echo_peer *e,
		   struct svc_res *r);

/* A fork()ed helper's end of the conversation: write one byte, read one
 * byte (0 at EOF or on error). */
int svc_say(int fd, char c);
char svc_hear(int fd);

#endif
