/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_echo.c - the baseline of the service section: one round trip of
 * a small message over a bare SOCK_SEQPACKET socket pair to another
 * process that sends it straight back.  A daxlease request costs at
 * least this (the same socket type and size, a process on each side);
 * whatever a call costs beyond it is the service's work.
 *
 * On a shared machine a round trip costs 8 us or 60 us depending on how
 * busy the other core is, and that changes within seconds, so each
 * service benchmark takes one echo round trip before each of its own
 * runs (time_paired): its ratio compares medians taken at the same
 * moments.  That round trip sees what the run sees: after a long
 * operation both peers have slept, and waking them costs tens of
 * microseconds on a VM, as it does the daemon; in a tight loop it does
 * not.  The section also prints round trips back to back, at its start
 * and at its end, as the warm figure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_service.h"

#define WARMUP 200

static void echo_child(int s, size_t len)
{
	char *buf = malloc(len);
	ssize_t n;

	if (!buf)
		_exit(1);
	while ((n = recv(s, buf, len, 0)) > 0)
		if (send(s, buf, (size_t)n, MSG_NOSIGNAL) != n)
			_exit(1);
	_exit(0);
}

static int round_trip(struct echo_peer *e)
{
	if (send(e->s, e->buf, e->len, MSG_NOSIGNAL) != (ssize_t)e->len)
		return -errno;
	return recv(e->s, e->buf, e->len, 0) == (ssize_t)e->len ? 0 :
	       -EPROTO;
}

int echo_open(struct echo_peer *e, size_t len)
{
	int sv[2], rc = 0;

	memset(e, 0, sizeof(*e));
	e->s = -1;
	e->len = len;
	e->buf = calloc(1, len);
	if (!e->buf)
		return bench_fail("echo", NULL, -ENOMEM);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		free(e->buf);
		return bench_fail("echo socketpair", NULL, errno);
	}
	e->pid = fork();
	if (e->pid == 0) {
		close(sv[0]);
		echo_child(sv[1], len);
	}
	close(sv[1]);
	e->s = sv[0];
	if (e->pid < 0)
		rc = -errno;
	for (size_t i = 0; !rc && i < WARMUP; i++)
		rc = round_trip(e);
	if (rc) {
		echo_close(e);
		return bench_fail("echo", NULL, rc);
	}
	return 0;
}

void echo_close(struct echo_peer *e)
{
	int status;

	if (e->s >= 0)
		close(e->s);	/* the child sees EOF and exits */
	if (e->pid > 0)
		waitpid(e->pid, &status, 0);
	free(e->buf);
	memset(e, 0, sizeof(*e));
	e->s = -1;
}

int echo_once(struct echo_peer *e, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int rc = round_trip(e);

	*ns = now_ns() - t0;
	return rc;
}

static int echo_op(void *arg, size_t i)
{
	(void)i;
	return round_trip(arg);
}

int echo_runs(struct echo_peer *e, size_t n, struct stats *out)
{
	int rc = time_runs(echo_op, e, n, out);

	return rc ? bench_fail("echo", NULL, rc) : 0;
}

int time_paired(struct echo_peer *e, const struct paired_op *p, void *arg,
		size_t n, struct svc_timed *out)
{
	uint64_t *t = samples_new(n), *b = samples_new(n);
	int rc = t && b ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t t0;

		if (p->prepare)
			rc = p->prepare(arg, i);
		if (!rc)
			rc = echo_once(e, &b[i]);
		if (rc)
			break;
		t0 = now_ns();
		rc = p->op(arg, i);
		t[i] = now_ns() - t0;
	}
	if (!rc) {
		stats_of(t, n, &out->t);
		stats_of(b, n, &out->echo);
	}
	free(t);
	free(b);
	return rc;
}
