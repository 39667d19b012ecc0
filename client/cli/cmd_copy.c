/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_copy.c - `daxlease put LOCAL PATH` and `daxlease get PATH LOCAL`:
 * copy a file into daxleased or out of it ('-' is stdin or stdout).
 *
 * The fast path, for a local regular file and a client allowed DAX
 * access: take a layout lease on the file, map its whole blocks and
 * read(2) straight into the mapping (put) or write(2) straight out of it
 * (get) - one copy, no messages per 64 KiB; the tail (under one block)
 * and everything else goes through pwrite/pread requests.  A lease or
 * mapping the service refuses (no DAX access, say) falls back to the
 * requests from the start.  A progress line goes to a terminal.
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <daxlease/libdaxlease.h>

#include "cli.h"
#include "progress.h"

/* Bytes per read and write; the library splits them into requests. */
#define CLI_COPY_CHUNK (1024 * 1024)
/* The bytes of whole blocks the fast path maps. */
#define CLI_BLOCK 4096ULL
/* A fast path that was not taken (nothing done): not an exit status. */
#define NOT_MAPPED (-1)

static const char put_usage[] =
	"usage: daxlease [--socket PATH] put [-u] LOCAL PATH\n"
	"\n"
	"Copy the local file LOCAL ('-': standard input) into file PATH,\n"
	"creating it (with LOCAL's permission bits, 0644 for '-') or\n"
	"truncating it first, make it durable, and print PATH's JSON object.\n"
	"\n"
	"  -u, --human        sizes with units, times in ISO 8601\n"
	"  -h, --help         this text\n";

static const char get_usage[] =
	"usage: daxlease [--socket PATH] get PATH LOCAL\n"
	"\n"
	"Copy file PATH out to the local file LOCAL ('-': standard output),\n"
	"creating or truncating LOCAL.\n"
	"\n"
	"  -h, --help         this text\n";

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Local data into f from off on; on failure says which side failed. */
static int copy_in(const struct cli_ctx *ctx, int in, const char *local,
		   struct daxlease_file *f, const char *path, uint8_t *buf,
		   uint64_t off, struct cli_progress *pg)
{
	ssize_t n, w;

	for (;;) {
		n = read_full(in, buf, CLI_COPY_CHUNK);
		if (n < 0)
			return cli_fail(ctx, local, (int)n);
		if (n == 0)
			return CLI_EXIT_OK;
		w = daxlease_pwrite(f, buf, (size_t)n, off);
		if (w >= 0 && w < n)
			w = -ENOSPC;
		if (w < 0)
			return cli_fail(ctx, path, (int)w);
		off += (uint64_t)n;
		cli_progress_add(pg, (uint64_t)n);
	}
}

/* The file's data from off on out to a local fd. */
static int copy_out(const struct cli_ctx *ctx, struct daxlease_file *f,
		    const char *path, int out, const char *local,
		    uint8_t *buf, uint64_t off, struct cli_progress *pg)
{
	ssize_t n;
	int rc;

	for (;;) {
		n = daxlease_pread(f, buf, CLI_COPY_CHUNK, off);
		if (n < 0)
			return cli_fail(ctx, path, (int)n);
		if (n == 0)
			return CLI_EXIT_OK;
		rc = write_full(out, buf, (size_t)n);
		if (rc)
			return cli_fail(ctx, local, rc);
		off += (uint64_t)n;
		cli_progress_add(pg, (uint64_t)n);
	}
}

/* A lease and a mapping of f's first len bytes (whole blocks), or
 * nothing (the caller falls back to requests). */
static bool map_whole(struct daxlease_ctx *dl, struct daxlease_file *f,
		      uint64_t len, bool write, uint64_t *lease,
		      struct daxlease_map **m)
{
	unsigned prot = DAXLEASE_PROT_READ | (write ? DAXLEASE_PROT_WRITE : 0);

	*m = NULL;
	if (!len || daxlease_lease_acquire(f, 0, len, write ?
					   DAXLEASE_LEASE_EXCLUSIVE :
					   DAXLEASE_LEASE_SHARED, 0, lease))
		return false;
	if (!daxlease_map(f, 0, len, prot, m))
		return true;
	daxlease_lease_release(dl, *lease);
	return false;
}

static int unmap_whole(struct daxlease_ctx *dl, uint64_t lease,
		       struct daxlease_map *m)
{
	int rc = daxlease_unmap(m), rc2;

	rc2 = daxlease_lease_release(dl, lease);
	return rc ? rc : rc2;
}

/* put's fast path: read(2) the first len bytes of in into f's blocks.
 * NOT_MAPPED (nothing done), or an exit status. */
static int put_mapped(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
		      int in, const char *local, struct daxlease_file *f,
		      const char *path, uint64_t len, struct cli_progress *pg)
{
	struct daxlease_map *m;
	uint64_t lease, off = 0;
	uint8_t *dst;
	ssize_t n;
	int rc;

	if (daxlease_truncate(f, len) ||
	    !map_whole(dl, f, len, true, &lease, &m))
		return NOT_MAPPED;
	dst = daxlease_map_addr(m);
	while (off < len) {
		size_t want = len - off < CLI_COPY_CHUNK ? len - off :
							    CLI_COPY_CHUNK;

		n = read_full(in, dst + off, want);
		if (n <= 0)
			break;
		off += (uint64_t)n;
		cli_progress_add(pg, (uint64_t)n);
	}
	rc = n < 0 ? cli_fail(ctx, local, (int)n) :
	     off < len ? cli_fail(ctx, local, -EIO) : CLI_EXIT_OK;
	n = daxlease_map_persist(m, 0, len);
	if (!rc && n)
		rc = cli_fail(ctx, path, (int)n);
	n = unmap_whole(dl, lease, m);
	if (!rc && n)
		rc = cli_fail(ctx, path, (int)n);
	return rc;
}

/* get's fast path: write(2) f's first len bytes out of its blocks. */
static int get_mapped(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
		      struct daxlease_file *f, const char *path, int out,
		      const char *local, uint64_t len, struct cli_progress *pg)
{
	struct daxlease_map *m;
	uint64_t lease;
	int rc = CLI_EXIT_OK, rc2;

	if (!map_whole(dl, f, len, false, &lease, &m))
		return NOT_MAPPED;
	for (uint64_t off = 0; off < len && !rc;) {
		size_t n = len - off < CLI_COPY_CHUNK ? len - off :
							CLI_COPY_CHUNK;

		rc2 = write_full(out, (uint8_t *)daxlease_map_addr(m) + off, n);
		if (rc2)
			rc = cli_fail(ctx, local, rc2);
		off += n;
		cli_progress_add(pg, n);
	}
	rc2 = unmap_whole(dl, lease, m);
	if (!rc && rc2)
		rc = cli_fail(ctx, path, rc2);
	return rc;
}

static int open_local_in(const struct cli_ctx *ctx, const char *local,
			 unsigned *mode)
{
	struct stat st;
	int fd;

	*mode = 0644;
	if (!strcmp(local, "-"))
		return STDIN_FILENO;
	fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_fail(ctx, local, -errno);
		return -1;
	}
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		*mode = st.st_mode & 0777;
	return fd;
}

/* The bytes of in the fast path can map: whole blocks of a regular file
 * read from its start; 0 for anything else. */
static uint64_t mappable_input(int in, uint64_t *size)
{
	struct stat st;

	*size = 0;
	if (fstat(in, &st) || !S_ISREG(st.st_mode) ||
	    lseek(in, 0, SEEK_CUR) != 0)
		return 0;
	*size = (uint64_t)st.st_size;
	return *size & ~(CLI_BLOCK - 1);
}

static int put(const struct cli_ctx *ctx, struct daxlease_ctx *dl, int in,
	       const char *local, const char *path, unsigned mode)
{
	struct cli_progress pg;
	struct daxlease_file *f;
	uint64_t size, whole = mappable_input(in, &size), off = 0;
	uint8_t *buf;
	int rc;

	buf = malloc(CLI_COPY_CHUNK);
	if (!buf)
		return cli_fail(ctx, path, -ENOMEM);
	/* a write mapping needs read access too */
	rc = daxlease_open(dl, path, DAXLEASE_O_READ | DAXLEASE_O_WRITE |
			   DAXLEASE_O_CREATE | DAXLEASE_O_TRUNC, mode, &f);
	if (rc) {
		free(buf);
		return cli_fail(ctx, path, rc);
	}
	cli_progress_start(&pg, ctx->prog, size);
	rc = whole ? put_mapped(ctx, dl, in, local, f, path, whole, &pg) :
		     NOT_MAPPED;
	if (rc == CLI_EXIT_OK)
		off = whole;	/* the tail through requests */
	else if (rc == NOT_MAPPED && whole && lseek(in, 0, SEEK_SET))
		rc = cli_fail(ctx, local, -errno);
	/* not mapped: everything through requests, from the start */
	if (rc == NOT_MAPPED || rc == CLI_EXIT_OK)
		rc = copy_in(ctx, in, local, f, path, buf, off, &pg);
	if (!rc) {
		rc = daxlease_fsync(f);
		if (rc)
			rc = cli_fail(ctx, path, rc);
	}
	cli_progress_end(&pg);
	/* a close can report lost writes too (libdaxlease(3)) */
	if (daxlease_close(f) && !rc)
		rc = cli_fail(ctx, path, -EIO);
	free(buf);
	return rc;
}

int cmd_put(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *local, *path;
	struct daxlease_ctx *dl;
	unsigned flags = 0, mode;
	int rc, in;

	rc = cli_parse_simple(argc, argv, ctx, put_usage, 2, &flags);
	if (rc >= 0)
		return rc;
	local = argv[optind];
	path = argv[optind + 1];
	in = open_local_in(ctx, local, &mode);
	if (in < 0)
		return CLI_EXIT_FAIL;
	dl = cli_connect(ctx);
	if (!dl)
		rc = CLI_EXIT_FAIL;
	else
		rc = put(ctx, dl, in, local, path, mode);
	if (!rc)
		rc = cli_print_file(ctx, dl, path, flags);
	daxlease_unref(dl);
	if (in != STDIN_FILENO)
		close(in);
	return rc;
}

static int get(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
	       const char *path, const char *local)
{
	struct cli_progress pg;
	struct daxlease_stat st = { 0 };
	struct daxlease_file *f;
	uint64_t whole, off = 0;
	uint8_t *buf;
	int rc, out;

	rc = daxlease_open(dl, path, DAXLEASE_O_READ, 0, &f);
	if (rc)
		return cli_fail(ctx, path, rc);
	buf = malloc(CLI_COPY_CHUNK);
	out = strcmp(local, "-") ? open(local, O_WRONLY | O_CREAT | O_TRUNC |
					O_CLOEXEC, 0644) : STDOUT_FILENO;
	daxlease_fstat(f, &st);
	whole = st.size & ~(CLI_BLOCK - 1);
	cli_progress_start(&pg, ctx->prog, st.size);
	if (!buf)
		rc = cli_fail(ctx, path, -ENOMEM);
	else if (out < 0)
		rc = cli_fail(ctx, local, -errno);
	else
		rc = whole ? get_mapped(ctx, dl, f, path, out, local, whole,
					&pg) : NOT_MAPPED;
	if (rc == CLI_EXIT_OK)
		off = whole;	/* the tail through requests */
	/* not mapped: everything through requests, from the start */
	if (rc == NOT_MAPPED || rc == CLI_EXIT_OK)
		rc = copy_out(ctx, f, path, out, local, buf, off, &pg);
	cli_progress_end(&pg);
	if (out >= 0 && out != STDOUT_FILENO && close(out) && !rc)
		rc = cli_fail(ctx, local, -errno);
	free(buf);
	daxlease_close(f);
	return rc;
}

int cmd_get(int argc, char **argv, struct cli_ctx *ctx)
{
	struct daxlease_ctx *dl;
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, get_usage, 2, &flags);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = get(ctx, dl, argv[optind], argv[optind + 1]);
	daxlease_unref(dl);
	return rc;
}
#endif
