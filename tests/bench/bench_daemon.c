/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_daemon.c - start, connect to and stop the daxleased a service
 * benchmark talks to (bench_daemon.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_daemon.h"

int bench_daemon_start(const struct bench_opts *o, struct bench_daemon *bd,
		       uint64_t size, uint64_t align,
		       const char *const *extra)
{
	struct dlh_opts ho = { .size = size, .align = align };
	int rc;

	memset(bd, 0, sizeof(*bd));
	bd->d.pid = -1;
	for (int i = 0; extra && extra[i] && i < DLH_MAX_ARGS; i++)
		ho.extra[i] = extra[i];
	/* the harness takes the daemon from the environment */
	if (!o->daemon || setenv("DAXLEASE_DAEMON", o->daemon, 1))
		return bench_fail("daxleased", "no daemon binary", 0);
	/* a daemon that drops us must show as an error, not kill us */
	signal(SIGPIPE, SIG_IGN);
	if (dlh_start(&bd->d, &ho))
		return bench_fail("daxleased", "did not start (see above)", 0);
	rc = daxlease_new(&bd->ctx, bd->d.socket);
	if (rc) {
		dlh_kill(&bd->d);
		return bench_fail("connect to daxleased", NULL, rc);
	}
	return 0;
}

int bench_daemon_stop(struct bench_daemon *bd)
{
	int rc = 0;

	if (bd->ctx)
		daxlease_unref(bd->ctx);
	bd->ctx = NULL;
	if (bd->d.pid > 0 && dlh_stop(&bd->d))
		rc = bench_fail("daxleased", "did not stop cleanly (see "
				"above)", 0);
	/*
	 * Now, not when the harness's directory goes at exit: an unlinked
	 * image's dirty pages are dropped instead of written back while
	 * the next benchmarks run (the mapping cases dirty gigabytes).
	 */
	if (bd->d.image[0])
		unlink(bd->d.image);
	return rc;
}

int bench_file_written(struct daxlease_ctx *ctx, const char *name,
		       uint64_t size, struct daxlease_file **out)
{
	size_t chunk = size < (8u << 20) ? (size_t)size : 8u << 20;
	uint8_t *buf = calloc(1, chunk ? chunk : 1);
	int rc;

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	memset(buf, 0x5a, chunk);
	rc = daxlease_open(ctx, name, BENCH_CREATE, 0644, out);
	for (uint64_t off = 0; !rc && off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		ssize_t w = daxlease_pwrite(*out, buf, n, off);

		if (w != (ssize_t)n)
			rc = w < 0 ? (int)w : -EIO;
	}
	free(buf);
	if (rc && *out) {
		daxlease_close(*out);
		*out = NULL;
	}
	return rc;
}
