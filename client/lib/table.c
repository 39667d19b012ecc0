/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * table.c - the per-client mapping table (include/daxlease/table.h).
 *
 * The first MAP reply of a connection brings four fds: the table memfd,
 * which the service has sealed so that it can only be mapped read-only,
 * the namespace fd, the counter memfd and the wake eventfd (counters.c).
 * The table is mapped PROT_READ and MAP_SHARED: the service's later
 * rewrites of entries show through.  The namespace fd is read-only when
 * that MAP was; the first MAP for write then brings a read-write one
 * (DL_MAP_NS_RW), which dup3() puts in the same fd number.
 *
 * Table, counters and wake fd are one generation (private.h): a mapping
 * holds the one it was made on, so a reconnect can hand a lost table
 * back while new mappings use the new connection's.  The namespace fd is
 * the context's: the same image or device whatever the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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

static int table_map(struct dl_tgen *g, int table_fd)
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
	g->table = p;
	g->table_size = (size_t)st.st_size;
	g->table_entries = (uint64_t)n;
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

static void gen_free(struct dl_tgen *g)
{
	dl_counters_release(g);
	if (g->table)
		munmap((void *)g->table, g->table_size);
	if (g->table_fd >= 0)
		close(g->table_fd);
	if (g->counters_fd >= 0)
		close(g->counters_fd);
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	free(g);
}

int dl_table_install(struct daxlease_ctx *ctx, const int fds[DL_MAP_NFDS])
{
	struct dl_tgen *g;
	int rc;

	if (ctx->gen) {
		/* a second copy: ours is the same table */
		close_all(fds);
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		close_all(fds);
		return -ENOMEM;
	}
	g->table_fd = fds[0];
	g->counters_fd = fds[2];	/* kept: a reconnect hands it back */
	g->wake_fd = fds[3];
	rc = table_map(g, fds[0]);
	if (!rc)
		rc = dl_counters_install(g, fds[2]);
	if (rc) {
		close(fds[1]);
		gen_free(g);
		return rc;
	}
	/* the namespace is the same whichever connection sent it (a
	 * read-write fd replaces our read-only one in place) */
	if (ctx->ns_fd < 0) {
		ctx->ns_fd = fds[1];
		ctx->ns_rw = fd_writable(fds[1]);
	} else if (!ctx->ns_rw && fd_writable(fds[1])) {
		dl_ns_fd_upgrade(ctx, fds[1]);
	} else {
		close(fds[1]);
	}
	g->refs = 1;		/* the context's, while it is current */
	g->next = ctx->gens;
	ctx->gens = g;
	ctx->gen = g;
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

const struct dl_table_entry *dl_gen_entry(const struct dl_tgen *g,
					  uint64_t index)
{
	if (!g || index >= g->table_entries)
		return NULL;
	return (const struct dl_table_entry *)
		((const uint8_t *)g->table + DL_TABLE_HDR_SIZE) + index;
}

struct dl_tgen *dl_gen_get(struct dl_tgen *g)
{
	if (g)
		g->refs++;
	return g;
}

void dl_gen_put(struct daxlease_ctx *ctx, struct dl_tgen *g)
{
	struct dl_tgen **l;

	if (!g || --g->refs)
		return;
	for (l = &ctx->gens; *l && *l != g; l = &(*l)->next)
		;
	if (*l)
		*l = g->next;
	gen_free(g);
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
	while (ctx->gens) {
		struct dl_tgen *g = ctx->gens;

		ctx->gens = g->next;
		gen_free(g);
	}
	ctx->gen = NULL;
	if (ctx->ns_fd >= 0)
		close(ctx->ns_fd);
	ctx->ns_fd = -1;
	ctx->ns_rw = false;
}
