/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_lease.c - layout leases through a real daxleased:
 *
 *   lease          daxlease_lease_acquire + daxlease_lease_release of a
 *                  shared lease nobody else holds (two round trips)
 *   lease break    a holder process keeps a shared lease on a file; the
 *                  benchmark truncates the file, which breaks the lease;
 *                  the holder returns it as soon as the break event
 *                  arrives, and the truncate completes.  Timed: the
 *                  truncate call, from request to reply.  Control: the
 *                  same truncate with no lease held (it includes the
 *                  journal commit a truncate costs anyway).
 *   truncate 1G    a file fully allocated again before each run
 *                  (fallocate, untimed), then truncated to 0 (timed);
 *                  no lease, no pin, no mapping
 *
 * The holder asks for a 10 s break timeout, so the service never revokes
 * it while it is answering; a revocation would be counted and printed.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_daemon.h"
#include "bench_service.h"

#define HOLDER_TIMEOUT_MS 10000
#define LEASE_FILE_BYTES 4096
#define WARMUP 20

int svc_say(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -EPIPE;
}

char svc_hear(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? c : 0;
}

/* ---- acquire + release ----------------------------------------------------- */

struct lease_run {
	struct daxlease_ctx *ctx;
	struct daxlease_file *f;
};

static int lease_op(void *arg, size_t i)
{
	struct lease_run *l = arg;
	uint64_t id;
	int rc;

	(void)i;
	rc = daxlease_lease_acquire(l->f, 0, LEASE_FILE_BYTES,
				    DAXLEASE_LEASE_SHARED, 0, &id);
	return rc ? rc : daxlease_lease_release(l->ctx, id);
}

static int bench_acquire(struct bench_daemon *bd, struct echo_peer *e,
			 size_t n, struct svc_timed *out)
{
	struct lease_run l = { .ctx = bd->ctx };
	int rc = bench_file_written(bd->ctx, "lease", LEASE_FILE_BYTES, &l.f);

	for (size_t i = 0; !rc && i < WARMUP; i++)
		rc = lease_op(&l, i);
	if (!rc) {
		static const struct paired_op p = { .op = lease_op };

		rc = time_paired(e, &p, &l, n, out);
	}
	if (l.f)
		daxlease_close(l.f);
	return rc ? bench_fail("lease acquire + release", NULL, rc) : 0;
}

/* ---- a break with a cooperative holder -------------------------------------- */

/* Wait for the break (or revocation) of lease id and return the lease:
 * 'B' broken and returned, 'V' revoked first, 0 on error. */
static char holder_answer(struct daxlease_ctx *c, uint64_t id)
{
	struct daxlease_event ev;

	for (;;) {
		int rc = daxlease_next_event(c, &ev, -1);

		if (rc < 0)
			return 0;
		if (rc == 0 || ev.lease_id != id)
			continue;
		if (daxlease_lease_release(c, id))
			return 0;
		return ev.type == DAXLEASE_EVENT_LEASE_REVOKED ? 'V' : 'B';
	}
}

/* The holder process: on each 'G' take the lease, say 'R', return it on
 * its break and say how ('B' or 'V'); EOF on go ends it. */
static void holder_main(const char *sock, int go, int said)
{
	struct daxlease_file *f = NULL;
	struct daxlease_ctx *c;
	uint64_t id;

	if (daxlease_new(&c, sock) || daxlease_open(c, "break", BENCH_RW, 0,
						    &f))
		_exit(2);
	while (svc_hear(go) == 'G') {
		char how;

		/* length 0: to the largest size, so any truncate breaks it */
		if (daxlease_lease_acquire(f, 0, 0, DAXLEASE_LEASE_SHARED,
					   HOLDER_TIMEOUT_MS, &id) ||
		    svc_say(said, 'R'))
			_exit(3);
		how = holder_answer(c, id);
		if (!how || svc_say(said, how))
			_exit(4);
	}
	_exit(0);
}

struct break_run {
	struct daxlease_file *f;
	int go, said;
	struct echo_peer *e;
	struct svc_break *out;
};

/* The file gets a block back (untimed), then the timed truncate. */
static int refill_truncate(struct daxlease_file *f, uint64_t *t)
{
	static const char blk[4096];
	uint64_t t0;
	int rc;

	if (daxlease_pwrite(f, blk, sizeof(blk), 0) != sizeof(blk))
		return -EIO;
	t0 = now_ns();
	rc = daxlease_truncate(f, 0);
	*t = now_ns() - t0;
	return rc;
}

/* One break: the holder takes its lease, the truncate breaks it. */
static int break_once(struct break_run *b, uint64_t *t)
{
	char how;
	int rc;

	if (svc_say(b->go, 'G') || svc_hear(b->said) != 'R')
		return -EPIPE;
	rc = refill_truncate(b->f, t);
	how = svc_hear(b->said);
	if (how == 'V')
		b->out->revoked++;
	return rc ? rc : how ? 0 : -EPIPE;
}

static int break_runs(struct break_run *b, size_t n)
{
	uint64_t *t = samples_new(n), *c = samples_new(n), *e = samples_new(n);
	uint64_t w;
	int rc = t && c && e ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < WARMUP / 4; i++)
		rc = break_once(b, &w);
	b->out->revoked = 0;
	/* interleaved, so all three see the same load on the machine */
	for (size_t i = 0; !rc && i < n; i++) {
		rc = echo_once(b->e, &e[i]);
		if (!rc)
			rc = break_once(b, &t[i]);
		if (!rc)
			rc = refill_truncate(b->f, &c[i]);
	}
	if (!rc) {
		stats_of(t, n, &b->out->t.t);
		stats_of(e, n, &b->out->t.echo);
		stats_of(c, n, &b->out->control);
	}
	free(t);
	free(c);
	free(e);
	return rc;
}

static int bench_break(struct bench_daemon *bd, struct echo_peer *e,
		       size_t n, struct svc_break *out)
{
	struct break_run b = { .e = e, .out = out };
	int go[2], said[2], rc, status;
	pid_t pid;

	rc = daxlease_open(bd->ctx, "break", BENCH_CREATE, 0644, &b.f);
	if (rc)
		return bench_fail("lease break: create", NULL, rc);
	if (pipe(go) || pipe(said)) {
		daxlease_close(b.f);
		return bench_fail("lease break: pipe", NULL, errno);
	}
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(said[0]);
		holder_main(bd->d.socket, go[0], said[1]);
	}
	close(go[0]);
	close(said[1]);
	b.go = go[1];
	b.said = said[0];
	rc = pid < 0 ? -errno : break_runs(&b, n);
	close(go[1]);		/* EOF: the holder exits */
	close(said[0]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && !rc &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = -ECHILD;
	daxlease_close(b.f);
	return rc ? bench_fail("lease break", NULL, rc) : 0;
}

/* ---- truncate of an allocated file -------------------------------------------- */

struct trunc_run {
	struct daxlease_file *f;
	uint64_t bytes;
};

/* The file fully allocated again (untimed)... */
static int trunc_prepare(void *arg, size_t i)
{
	struct trunc_run *tr = arg;

	(void)i;
	return daxlease_fallocate(tr->f, 0, 0, tr->bytes);
}

/* ... then truncated (timed). */
static int trunc_op(void *arg, size_t i)
{
	struct trunc_run *tr = arg;

	(void)i;
	return daxlease_truncate(tr->f, 0);
}

static int bench_truncate(struct bench_daemon *bd, struct echo_peer *e,
			  uint64_t bytes, size_t n, struct svc_timed *out)
{
	static const struct paired_op p = {
		.prepare = trunc_prepare, .op = trunc_op,
	};
	struct trunc_run tr = { .bytes = bytes };
	int rc;

	rc = daxlease_open(bd->ctx, "big", BENCH_CREATE, 0644, &tr.f);
	if (!rc)
		rc = time_paired(e, &p, &tr, n, out);
	if (tr.f)
		daxlease_close(tr.f);
	return rc ? bench_fail("truncate of an allocated file", NULL, rc) : 0;
}

int svc_leases(const struct bench_opts *o, struct echo_peer *e,
	       struct svc_res *r)
{
	/* a default daemon but for the break timeout a lease gets when it
	 * asks none: the service default, not the harness's 1 ms */
	static const char *const extra[] = { "--lease-timeout", "10000",
					     NULL };
	struct bench_daemon bd;
	int rc, stop;

	r->trunc_bytes = o->quick ? 64ULL << 20 : 1ULL << 30;
	rc = bench_daemon_start(o, &bd, 4ULL << 30, 2ULL << 20, extra);
	if (rc)
		return rc;
	rc = bench_acquire(&bd, e, r->it.lease, &r->lease);
	if (!rc)
		rc = bench_break(&bd, e, r->it.brk, &r->brk);
	if (!rc)
		rc = bench_truncate(&bd, e, r->trunc_bytes, r->it.trunc,
				    &r->trunc);
	stop = bench_daemon_stop(&bd);
	return rc ? rc : stop;
}
