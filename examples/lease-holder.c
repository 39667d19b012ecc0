/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease-holder.c - keep a file mapped under a layout lease, and give it
 * back when the service asks.
 *
 *   example-lease-holder [--socket PATH] FILE [SECONDS]
 *
 * Opens FILE, takes a shared layout lease on all of it, maps it and waits
 * (SECONDS, default: until a break) for events on the connection's fd with
 * poll(2), as a program with other fds to watch would.  When a layout
 * change (a truncate, a punch, ...) of the file breaks the lease, it says
 * who asked and how long it has, unmaps, returns the lease and exits 0 -
 * the change then goes on at once instead of at the lease's deadline.
 *
 * Build your own copy with:
 *   cc lease-holder.c $(pkg-config --cflags --libs libdaxlease)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daxlease/libdaxlease.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "lease-holder: %s: %s\n", what, strerror(-rc));
	return 1;
}

/* Wait for the next event: 1 and *e, 0 when the time is up, -errno. */
static int wait_event(struct daxlease_ctx *ctx, struct daxlease_event *e,
		      int timeout_ms)
{
	struct pollfd p = { .fd = daxlease_get_event_fd(ctx),
			    .events = POLLIN };
	int rc;

	for (;;) {
		/* something may be queued already: look before sleeping */
		rc = daxlease_next_event(ctx, e, 0);
		if (rc)
			return rc;
		rc = poll(&p, 1, timeout_ms);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (!rc)
			return 0;
	}
}

static int hold(struct daxlease_ctx *ctx, struct daxlease_file *f,
		int timeout_ms)
{
	struct daxlease_stat st;
	struct daxlease_map *m = NULL;
	struct daxlease_event e;
	uint64_t lease;
	int rc;

	rc = daxlease_lease_acquire(f, 0, 0, DAXLEASE_LEASE_SHARED, 0, &lease);
	if (rc)
		return fail("lease", rc);
	rc = daxlease_fstat(f, &st);
	if (!rc && st.size >= 4096)
		rc = daxlease_map(f, 0, st.size & ~4095ull,
				  DAXLEASE_PROT_READ, &m);
	if (rc) {
		daxlease_lease_release(ctx, lease);
		return fail("map", rc);
	}
	printf("lease %llu held, %llu bytes mapped; waiting for a break\n",
	       (unsigned long long)lease,
	       (unsigned long long)(m ? daxlease_map_length(m) : 0));
	fflush(stdout);

	rc = wait_event(ctx, &e, timeout_ms);
	if (rc == 1 && e.type == DAXLEASE_EVENT_LEASE_BREAK && e.length == UINT64_MAX)
		printf("break: opcode %u by pid %d (%s, uid %u) on [%llu, EOF);"
		       " %u ms left\n", e.opcode, e.pid, e.comm, e.uid,
		       (unsigned long long)e.offset, e.remaining_ms);
	else if (rc == 1 && e.type == DAXLEASE_EVENT_LEASE_BREAK)
		printf("break: opcode %u by pid %d (%s, uid %u) on [%llu, +%llu);"
		       " %u ms left\n", e.opcode, e.pid, e.comm, e.uid,
		       (unsigned long long)e.offset,
		       (unsigned long long)e.length, e.remaining_ms);
	else if (rc == 1)
		printf("event %u on lease %llu\n", e.type,
		       (unsigned long long)e.lease_id);
	else if (!rc)
		printf("time is up\n");
	/* stop using the mapping first, then give the lease back */
	if (m)
		daxlease_unmap(m);
	if (daxlease_lease_release(ctx, lease) == 0)
		printf("lease returned\n");
	return rc < 0 ? fail("events", rc) : 0;
}

int main(int argc, char **argv)
{
	const char *socket = NULL;
	struct daxlease_ctx *ctx;
	struct daxlease_file *f;
	int rc, i = 1, timeout_ms = -1;

	if (argc > 2 && !strcmp(argv[1], "--socket")) {
		socket = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: example-lease-holder [--socket PATH] "
			"FILE [SECONDS]\n");
		return 2;
	}
	if (i + 1 < argc)
		timeout_ms = atoi(argv[i + 1]) * 1000;
	rc = daxlease_new(&ctx, socket);
	if (rc)
		return fail(socket ? socket : daxlease_default_socket(), rc);
	rc = daxlease_open(ctx, argv[i], DAXLEASE_O_READ, 0, &f);
	if (rc) {
		daxlease_unref(ctx);
		return fail(argv[i], rc);
	}
	rc = hold(ctx, f, timeout_ms);
	daxlease_close(f);
	daxlease_unref(ctx);
	return rc;
}
