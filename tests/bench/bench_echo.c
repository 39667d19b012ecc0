/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_echo.c - the baseline of the service section: one round trip of
 * a small message over a bare SOCK_SEQPACKET socket pair to another
 * process that sends it straight back.  A daxlease request costs at
 * least this (the same socket type and size, a process on each side);
 * whatever a call costs beyond it is the service's work.
 */
#include <errno.h>
#include <signal.h>
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

static int round_trip(int s, char *buf, size_t len)
{
	if (send(s, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	return recv(s, buf, len, 0) == (ssize_t)len ? 0 : -EPROTO;
}

struct echo_run {
	int s;
	char *buf;
	size_t len;
};

static int echo_op(void *arg, size_t i)
{
	struct echo_run *e = arg;

	(void)i;
	return round_trip(e->s, e->buf, e->len);
}

int svc_echo(size_t len, size_t n, struct stats *out)
{
	struct echo_run e = { .len = len };
	int sv[2], rc = 0, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return bench_fail("echo socketpair", NULL, errno);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return bench_fail("echo fork", NULL, errno);
	}
	if (pid == 0) {
		close(sv[0]);
		echo_child(sv[1], len);
	}
	close(sv[1]);
	e.s = sv[0];
	e.buf = calloc(1, len);
	if (!e.buf)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < WARMUP; i++)
		rc = round_trip(e.s, e.buf, len);
	if (!rc)
		rc = time_runs(echo_op, &e, n, out);
	close(sv[0]);		/* the child sees EOF and exits */
	waitpid(pid, &status, 0);
	free(e.buf);
	return rc ? bench_fail("echo", NULL, rc) : 0;
}
