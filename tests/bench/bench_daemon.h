/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_daemon.h - a real daxleased for the service and pin sections: a
 * fresh fake NVDIMM in a temporary directory, the daemon started on it
 * through the integration harness (tests/integration/harness.h), and one
 * libdaxlease context connected to it.
 */
#ifndef DAXLEASE_BENCH_DAEMON_H
#define DAXLEASE_BENCH_DAEMON_H

#include "bench.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"

#define BENCH_RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define BENCH_CREATE (BENCH_RW | DAXLEASE_O_CREATE | DAXLEASE_O_TRUNC)

struct bench_daemon {
	struct dlh_daemon d;
	struct daxlease_ctx *ctx;
};

/*
 * Start daxleased (o->daemon) on a new size-byte image of this align,
 * with the extra daemon arguments (NULL-terminated, may be NULL), and
 * connect.  The harness starts it with --lease-timeout 1; extra may
 * override that.  0, or BENCH_ERR with the reason printed.
 */
int bench_daemon_start(const struct bench_opts *o, struct bench_daemon *bd,
		       uint64_t size, uint64_t align,
		       const char *const *extra);
/* Disconnect, SIGTERM, and check the daemon stopped cleanly: 0 or
 * BENCH_ERR. */
int bench_daemon_stop(struct bench_daemon *bd);

/* Create (or truncate) name and write size bytes into it: 0 or -errno. */
int bench_file_written(struct daxlease_ctx *ctx, const char *name,
		       uint64_t size, struct daxlease_file **out);

#endif
