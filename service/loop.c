// SPDX-License-Identifier: BSD-3-Clause
/* loop.c - epoll wrapper; see loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH 64

struct dl_loop {
	int epfd;
	bool quit;
	void (*after)(void *);
	void *after_arg;
};

int dl_loop_new(struct dl_loop **out)
{
	struct dl_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int rc = -errno;

		free(loop);
		return rc;
	}
	*out = loop;
	return 0;
}

void dl_loop_free(struct dl_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop);
}

static int loop_ctl(struct dl_loop *loop, int op, struct dl_source *src,
		    uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epfd, op, src->fd, &ev) ? -errno : 0;
}

int dl_loop_add(struct dl_loop *loop, struct dl_source *src, uint32_t events)
{
	src->dead = false;
	return loop_ctl(loop, EPOLL_CTL_ADD, src, events);
}

int dl_loop_mod(struct dl_loop *loop, struct dl_source *src, uint32_t events)
{
	return loop_ctl(loop, EPOLL_CTL_MOD, src, events);
}

void dl_loop_del(struct dl_loop *loop, struct dl_source *src)
{
	if (src->fd >= 0 && !src->dead)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	src->dead = true;
}

void dl_loop_set_after(struct dl_loop *loop, void (*fn)(void *), void *arg)
{
	loop->after = fn;
	loop->after_arg = arg;
}

void dl_loop_quit(struct dl_loop *loop)
{
	loop->quit = true;
}

int dl_loop_run_once(struct dl_loop *loop, int timeout_ms)
{
	struct epoll_event ev[LOOP_BATCH];
	int n = epoll_wait(loop->epfd, ev, LOOP_BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct dl_source *src = ev[i].data.ptr;

		if (!src->dead)
			src->fn(src, ev[i].events);
	}
	if (loop->after)
		loop->after(loop->after_arg);
	return n;
}

int dl_loop_run(struct dl_loop *loop)
{
	while (!loop->quit) {
		int rc = dl_loop_run_once(loop, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}
