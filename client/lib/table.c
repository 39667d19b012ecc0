/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * table.c - the per-client mapping table (include/daxlease/table.h).
 *
 * The first MAP reply brings four fds: the table memfd, which the service
 * has sealed so that it can only be mapped read-only, the namespace fd,
 * the counter memfd and the wake eventfd (counters.c).  All live as long
 * as the context.  The namespace fd is read-only when that MAP was; the
 * first MAP for write then brings a read-write one (DL_MAP_NS_RW), which
 * dup3() puts in the same fd number.  The table is mapped PROT_READ and
 * MAP_SHARED: the service's later rewrites of entries show through.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

/* The header's facts; the capacity in entries, or -EPROTO. */
static int64_t table_check(const struct dl_table_hdr *hdr, size_t size)
{
	uint64_t room = (size - DL_TABLE_HDR_SIZE) /
			sizeof(struct dl_table_entry);

	if (hdr->magic != DL_TABLE_MAGIC || hdr->version != DL_TABLE_VERSION ||
	    hdr->entry_size != sizeof(struct dl_table_entry) ||
	    hdr->nentries > room)
		return -EPROTO;
	return (int64_t)hdr->nentries;
}

static int table_map(struct daxlease_ctx *ctx, int table_fd)
{
	struct stat st;
	int64_t n;
	void *p;

	if (fstat(table_fd, &st))
		return -errno;
	if (st.st_size < DL_TABLE_HDR_SIZE)
		return -EPROTO;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, table_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	n = table_check(p, (size_t)st.st_size);
	if (n < 0) {
		munmap(p, (size_t)st.st_size);
		return (int)n;
	}
	ctx->table = p;
	ctx->table_size = (size_t)st.st_size;
	ctx->table_entries = (uint64_t)n;
	return 0;
}

static bool fd_writable(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) == O_RDWR;
}

static void close_all(const int fds[DL_MAP_NFDS])
{
	for (int i = 0; i < DL_MAP_NFDS; i++)
		close(fds[i]);
}

/* The caller holds ctx->map_lock. */
int dl_table_install(struct daxlease_ctx *ctx, const int fds[DL_MAP_NFDS])
{
	int rc;

	if (ctx->table) {
		/* a second copy: ours is the same table */
		close_all(fds);
		return 0;
	}
	rc = table_map(ctx, fds[0]);
	if (!rc) {
		rc = dl_counters_install(ctx, fds[2]);
		if (rc) {
			munmap((void *)ctx->table, ctx->table_size);
			ctx->table = NULL;
		}
	}
	if (rc) {
		close_all(fds);
		return rc;
	}
	close(fds[2]);		/* the mapping keeps the region */
	ctx->table_fd = fds[0];
	ctx->ns_fd = fds[1];
	ctx->ns_rw = fd_writable(fds[1]);
	ctx->wake_fd = fds[3];
	return 0;
}

int dl_ns_fd_upgrade(struct daxlease_ctx *ctx, int fd)
{
	int rc = 0;

	if (ctx->ns_rw || !fd_writable(fd))
		rc = ctx->ns_rw ? 0 : -EPROTO;	/* a second copy, or not RW */
	else if (dup3(fd, ctx->ns_fd, O_CLOEXEC) < 0)
		rc = -errno;
	else
		ctx->ns_rw = true;
	close(fd);
	return rc;
}

/* The entry at index, or NULL when there is no table or no such entry. */
const struct dl_table_entry *dl_table_entry(struct daxlease_ctx *ctx,
					    uint64_t index)
{
	const struct dl_table_entry *e = NULL;

	pthread_mutex_lock(&ctx->map_lock);
	if (ctx->table && index < ctx->table_entries)
		e = (const struct dl_table_entry *)
			((const uint8_t *)ctx->table + DL_TABLE_HDR_SIZE) +
			index;
	pthread_mutex_unlock(&ctx->map_lock);
	return e;
}

int dl_ns_fd(struct daxlease_ctx *ctx)
{
	int fd;

	pthread_mutex_lock(&ctx->map_lock);
	fd = ctx->ns_fd;
	pthread_mutex_unlock(&ctx->map_lock);
	return fd;
}

void dl_table_release(struct daxlease_ctx *ctx)
{
	dl_ns_map_release(ctx);
	dl_counters_release(ctx);
	if (ctx->wake_fd >= 0)
		close(ctx->wake_fd);
	ctx->wake_fd = -1;
	if (ctx->table)
		munmap((void *)ctx->table, ctx->table_size);
	if (ctx->table_fd >= 0)
		close(ctx->table_fd);
	if (ctx->ns_fd >= 0)
		close(ctx->ns_fd);
	ctx->table = NULL;
	ctx->table_fd = -1;
	ctx->ns_fd = -1;
	ctx->ns_rw = false;
}
