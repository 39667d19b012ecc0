/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_uring.c - the kernel's long-term pin, as the anchor for a
 * daxlease pin: registering an io_uring fixed buffer pins its pages
 * (pin_user_pages with FOLL_LONGTERM) and unregistering unpins them.
 * Raw syscalls, so liburing is not needed.
 *
 * The buffer is anonymous memory with transparent huge pages turned off
 * for it (MADV_NOHUGEPAGE) and touched first, so the kernel pins every
 * 4 KiB page, as it would pin a buffer nothing special was done to.
 * Registration counts against RLIMIT_MEMLOCK unless the caller has
 * CAP_IPC_LOCK: the limit is raised when we may, else the size is
 * skipped with the reason, as it is when io_uring is disabled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include "bench_pin.h"

static int uring_setup(void)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	return (int)syscall(__NR_io_uring_setup, 1, &p);
}

static int uring_register(int fd, unsigned op, void *arg, unsigned n)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

/*
 * Raise RLIMIT_MEMLOCK for bytes where we may (as far as the hard limit
 * without CAP_SYS_RESOURCE).  Failing is not an error: with CAP_IPC_LOCK
 * the registration is not counted at all, so only it can tell.
 */
static void memlock_raise(uint64_t bytes)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= bytes + (1 << 20))
		return;
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) == 0)
		return;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_MEMLOCK, &rl);
}

static unsigned long long memlock_kib(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return (unsigned long long)rl.rlim_cur >> 10;
}

static int register_runs(int ring, struct iovec *iov, size_t n,
			 uint64_t *t)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (uring_register(ring, IORING_REGISTER_BUFFERS, iov, 1) ||
		    uring_register(ring, IORING_UNREGISTER_BUFFERS, NULL, 0))
			return -errno;
		t[i] = now_ns() - t0;
	}
	return 0;
}

int pin_kernel(uint64_t bytes, size_t n, struct stats *out, char *why,
	       size_t whylen)
{
	uint64_t *t = samples_new(n);
	struct iovec iov = { .iov_len = (size_t)bytes };
	int ring, rc = t ? 0 : -ENOMEM;

	ring = rc ? -1 : uring_setup();
	if (!rc && ring < 0) {
		snprintf(why, whylen, "io_uring_setup: %s (io_uring "
			 "disabled?)", strerror(errno));
		goto out;
	}
	iov.iov_base = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (iov.iov_base == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	madvise(iov.iov_base, (size_t)bytes, MADV_NOHUGEPAGE);
	memset(iov.iov_base, 1, (size_t)bytes);
	memlock_raise(bytes);
	rc = register_runs(ring, &iov, n, t);
	if (rc == -ENOMEM || rc == -EPERM || rc == -EFAULT ||
	    rc == -EOVERFLOW) {
		snprintf(why, whylen, "IORING_REGISTER_BUFFERS of %llu bytes: "
			 "%s (RLIMIT_MEMLOCK %llu KiB, 0: unlimited)",
			 (unsigned long long)bytes, strerror(-rc),
			 memlock_kib());
		rc = 0;
	} else if (!rc) {
		stats_of(t, n, out);
	}
	munmap(iov.iov_base, (size_t)bytes);
out:
	if (ring >= 0)
		close(ring);
	free(t);
	return rc;
}
