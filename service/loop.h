/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loop.h - the service's one event loop: a thin epoll wrapper.
 *
 * A source is an fd plus a callback; the caller embeds it in its own
 * object.  The loop never blocks on anything but epoll_wait, so every
 * callback must be non-blocking.  Sources removed during a batch of events
 * may still be reported in that batch: an owner that frees a source must
 * defer the free until dl_loop_run's after-batch hook (see conn.c).
 */
#ifndef DAXLEASED_LOOP_H
#define DAXLEASED_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct dl_loop;
struct dl_source;

typedef void (*dl_source_fn)(struct dl_source *src, uint32_t events);

struct dl_source {
	int fd;
	dl_source_fn fn;
	void *data;
	bool dead;		/* removed: ignore late events */
};

int dl_loop_new(struct dl_loop **out);
void dl_loop_free(struct dl_loop *loop);
int dl_loop_add(struct dl_loop *loop, struct dl_source *src, uint32_t events);
int dl_loop_mod(struct dl_loop *loop, struct dl_source *src, uint32_t events);
/* Remove from epoll and mark dead; does not close the fd. */
void dl_loop_del(struct dl_loop *loop, struct dl_source *src);

/* Called after each batch of events: where deferred frees happen. */
void dl_loop_set_after(struct dl_loop *loop, void (*fn)(void *), void *arg);
/* Run until dl_loop_quit; returns 0 or -errno from epoll_wait. */
int dl_loop_run(struct dl_loop *loop);
/* One batch: wait up to timeout_ms (-1: for ever) for events, run them,
 * then the after-batch hook.  The events run (0: none came), or -errno.
 * For a caller that drives the loop itself (the service fuzz target). */
int dl_loop_run_once(struct dl_loop *loop, int timeout_ms);
void dl_loop_quit(struct dl_loop *loop);

#endif
