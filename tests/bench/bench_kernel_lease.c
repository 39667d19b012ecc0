/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_kernel_lease.c - the anchor for a daxlease lease break: the
 * kernel's own lease break on a local file, measured the same way.
 *
 * A holder process opens the file read-only and takes F_SETLEASE F_RDLCK
 * with the break signal (SIGIO, blocked and taken with sigwaitinfo).  The
 * breaker's open(O_WRONLY | O_TRUNC) blocks in the kernel until the
 * holder, on the signal, gives the lease up with F_SETLEASE F_UNLCK; the
 * open is timed; the control is the same open with no lease held.  The
 * file lives on tmpfs (/dev/shm) when there is one,
 * else in the benchmark's directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include "bench_service.h"

#define WARMUP 5

/* The holder: on each 'G' take the lease, say 'R'; on the break signal
 * give it up and say 'B'.  EOF on go ends it. */
static void holder_main(const char *path, int go, int said)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fcntl(fd, F_SETSIG, 0))
		_exit(2);
	while (svc_hear(go) == 'G') {
		siginfo_t si;

		if (fcntl(fd, F_SETLEASE, F_RDLCK) || svc_say(said, 'R'))
			_exit(3);
		while (sigwaitinfo(&set, &si) < 0)
			if (errno != EINTR)
				_exit(4);
		if (fcntl(fd, F_SETLEASE, F_UNLCK) || svc_say(said, 'B'))
			_exit(5);
	}
	_exit(0);
}

/* The timed open for write, which breaks a lease if there is one. */
static int open_truncate(const char *path, uint64_t *t)
{
	uint64_t t0 = now_ns();
	int fd = open(path, O_WRONLY | O_TRUNC);

	*t = now_ns() - t0;
	if (fd < 0)
		return -errno;
	/* the holder cannot take a read lease while a writer has it open */
	close(fd);
	return 0;
}

/* One break: the holder takes its lease, then the timed open breaks it. */
static int break_once(const char *path, int go, int said, uint64_t *t)
{
	int rc;

	if (svc_say(go, 'G') || svc_hear(said) != 'R')
		return -EPIPE;
	rc = open_truncate(path, t);
	return rc ? rc : svc_hear(said) == 'B' ? 0 : -EPIPE;
}

struct kbreak_run {
	const char *path;
	int go, said;
	struct echo_peer *e;
};

static int break_runs(const struct kbreak_run *k, size_t n,
		      struct svc_break *out)
{
	uint64_t *t = samples_new(n), *c = samples_new(n), *e = samples_new(n);
	uint64_t w;
	int rc = t && c && e ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < WARMUP; i++)
		rc = break_once(k->path, k->go, k->said, &w);
	/* interleaved, so all three see the same load on the machine */
	for (size_t i = 0; !rc && i < n; i++) {
		rc = echo_once(k->e, &e[i]);
		if (!rc)
			rc = break_once(k->path, k->go, k->said, &t[i]);
		if (!rc)
			rc = open_truncate(k->path, &c[i]);
	}
	if (!rc) {
		stats_of(t, n, &out->t.t);
		stats_of(e, n, &out->t.echo);
		stats_of(c, n, &out->control);
	}
	free(t);
	free(c);
	free(e);
	return rc;
}

/* A file for the lease: on tmpfs if we can, else in dir. */
static int lease_file(const struct bench_opts *o, char *path, size_t len,
		      struct svc_break *out)
{
	static const char *const dirs[] = { "/dev/shm", NULL };
	struct statfs sf;
	int fd = -1;

	for (size_t i = 0; fd < 0 && i < 2; i++) {
		snprintf(path, len, "%s/daxlease-bench-lease.%d",
			 dirs[i] ? dirs[i] : o->dir, (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	}
	if (fd < 0)
		return -errno;
	snprintf(out->fs, sizeof(out->fs), "%s",
		 fstatfs(fd, &sf) ? "unknown" :
		 sf.f_type == TMPFS_MAGIC ? "tmpfs" :
		 sf.f_type == EXT4_SUPER_MAGIC ? "ext4" :
		 sf.f_type == OVERLAYFS_SUPER_MAGIC ? "overlayfs" : "other");
	close(fd);
	return 0;
}

int svc_kernel_break(const struct bench_opts *o, struct echo_peer *e,
		     size_t n, struct svc_break *out)
{
	struct kbreak_run k = { .e = e };
	int go[2], said[2], rc, status;
	sigset_t set, old;
	char path[PATH_MAX];
	pid_t pid;

	rc = lease_file(o, path, sizeof(path), out);
	if (rc)
		return bench_fail("kernel lease: file", NULL, rc);
	if (pipe(go) || pipe(said)) {
		unlink(path);
		return bench_fail("kernel lease: pipe", NULL, errno);
	}
	/* blocked before the fork, so no break signal can be lost */
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(said[0]);
		holder_main(path, go[0], said[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(go[0]);
	close(said[1]);
	k.path = path;
	k.go = go[1];
	k.said = said[0];
	rc = pid < 0 ? -errno : break_runs(&k, n, out);
	close(go[1]);
	close(said[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	/* a holder that could not take the lease (leases disabled, a file
	 * system without them) makes the anchor unmeasured, not an error */
	if (rc && pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(out->skipped, sizeof(out->skipped),
			 "F_SETLEASE refused on %s (fs.leases-enable?)",
			 out->fs);
	unlink(path);
	if (rc && !out->skipped[0])
		return bench_fail("kernel lease break", NULL, rc);
	return 0;
}
