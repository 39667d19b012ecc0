// SPDX-License-Identifier: BSD-3-Clause
/*
 * sync.c - what daxlease_fsync and daxlease_close report about writes.
 *
 * daxleased commits writes in groups (daxleased(8), --commit-interval): a
 * WRITE's reply means the data is in the namespace and visible, not that
 * it survives the daemon.  A daemon that dies takes its uncommitted
 * writes with it, and the library cannot tell a daemon that died from a
 * connection that was only shut down.  So, as Linux reports a lost
 * writeback at the next fsync, a file written on a connection that was
 * lost since gets -EIO from its next fsync (or close) - once: the caller
 * writes the data again, and the fsync after that means what it says.
 */
#include <errno.h>
#include <pthread.h>

#include "private.h"

uint64_t dl_epoch(struct daxlease_ctx *ctx)
{
	uint64_t e;

	pthread_mutex_lock(&ctx->map_lock);
	e = ctx->epoch;
	pthread_mutex_unlock(&ctx->map_lock);
	return e;
}

void dl_sync_wrote(struct daxlease_file *f, uint64_t epoch)
{
	uint64_t none = 0;

	/* the oldest unsynced write decides: keep a mark already there */
	__atomic_compare_exchange_n(&f->unsynced, &none, epoch + 1, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

int dl_sync_result(struct daxlease_file *f, int rc)
{
	uint64_t mark = __atomic_load_n(&f->unsynced, __ATOMIC_RELAXED);

	if (!mark)
		return rc;
	if (mark != dl_epoch(f->ctx) + 1) {
		/* written on a lost connection: report it once */
		__atomic_compare_exchange_n(&f->unsynced, &mark, 0, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		return rc ? rc : -EIO;
	}
	if (!rc)
		__atomic_compare_exchange_n(&f->unsynced, &mark, 0, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return rc;
}
