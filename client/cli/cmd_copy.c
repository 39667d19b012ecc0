/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_copy.c - `daxlease put LOCAL PATH` and `daxlease get PATH LOCAL`:
 * copy a file into daxleased or out of it ('-' is stdin or stdout).
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

/* Bytes per read and write; the library splits them into requests. */
#define CLI_COPY_CHUNK (1024 * 1024)

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

/* Local data into f; on failure says which side failed. */
static int copy_in(const struct cli_ctx *ctx, int in, const char *local,
		   struct daxlease_file *f, const char *path, uint8_t *buf)
{
	uint64_t off = 0;
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
	}
}

/* The file's data out to a local fd. */
static int copy_out(const struct cli_ctx *ctx, struct daxlease_file *f,
		    const char *path, int out, const char *local,
		    uint8_t *buf)
{
	uint64_t off = 0;
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
	}
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

static int put(const struct cli_ctx *ctx, struct daxlease_ctx *dl, int in,
	       const char *local, const char *path, unsigned mode)
{
	struct daxlease_file *f;
	uint8_t *buf;
	int rc;

	buf = malloc(CLI_COPY_CHUNK);
	if (!buf)
		return cli_fail(ctx, path, -ENOMEM);
	rc = daxlease_open(dl, path, DAXLEASE_O_WRITE | DAXLEASE_O_CREATE |
			   DAXLEASE_O_TRUNC, mode, &f);
	if (rc) {
		free(buf);
		return cli_fail(ctx, path, rc);
	}
	rc = copy_in(ctx, in, local, f, path, buf);
	if (!rc) {
		rc = daxlease_fsync(f);
		if (rc)
			rc = cli_fail(ctx, path, rc);
	}
	daxlease_close(f);
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
	struct daxlease_file *f;
	uint8_t *buf;
	int rc, out;

	rc = daxlease_open(dl, path, DAXLEASE_O_READ, 0, &f);
	if (rc)
		return cli_fail(ctx, path, rc);
	buf = malloc(CLI_COPY_CHUNK);
	out = strcmp(local, "-") ? open(local, O_WRONLY | O_CREAT | O_TRUNC |
					O_CLOEXEC, 0644) : STDOUT_FILENO;
	if (!buf)
		rc = cli_fail(ctx, path, -ENOMEM);
	else if (out < 0)
		rc = cli_fail(ctx, local, -errno);
	else
		rc = copy_out(ctx, f, path, out, local, buf);
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
