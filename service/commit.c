// SPDX-License-Identifier: BSD-3-Clause
/*
 * commit.c - group commit: when the writes the filesystem holds in one
 * transaction become durable (pmem/fs.h, dl_fs_set_group_commit).
 *
 * A WRITE stores its data and joins the batch; it is durable when the
 * client calls FSYNC, when it closes a handle it could write through,
 * when any other change runs (the filesystem commits the batch first),
 * when the batch outgrows its share of the journal, or at the latest
 * --commit-interval ms after the first write of the batch (a timerfd),
 * and at a clean shutdown.  --commit-interval 0 turns group commit off:
 * every WRITE is durable when its reply is sent, as before.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static void commit_now(struct dl_server *srv, const char *why)
{
	struct dl_err err = { 0 };
	int rc = dl_fs_sync(srv->fs, &err);

	if (rc)
		log_err("group commit (%s) failed: %s", why,
			err.errnum ? err.msg : strerror(-rc));
}

static void on_commit_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	srv->commit_armed = false;
	commit_now(srv, "timer");
}

int dl_commit_init(struct dl_server *srv)
{
	int fd;

	srv->commit_timer.fd = -1;
	if (!srv->opt.commit_interval_ms)
		return 0;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	srv->commit_timer = (struct dl_source){ .fd = fd,
						.fn = on_commit_timer,
						.data = srv };
	dl_fs_set_group_commit(srv->fs, true);
	return dl_loop_add(srv->loop, &srv->commit_timer, EPOLLIN);
}

void dl_commit_written(struct dl_server *srv)
{
	uint32_t ms = srv->opt.commit_interval_ms;
	struct itimerspec its = { 0 };

	if (srv->commit_armed || srv->commit_timer.fd < 0 ||
	    !dl_fs_unsynced_writes(srv->fs))
		return;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (!timerfd_settime(srv->commit_timer.fd, 0, &its, NULL))
		srv->commit_armed = true;
	else
		commit_now(srv, "no timer");
}

int dl_commit_sync(struct dl_server *srv, struct dl_err *err)
{
	return dl_fs_sync(srv->fs, err);
}

void dl_commit_fini(struct dl_server *srv)
{
	if (srv->fs)
		commit_now(srv, "shutdown");
	if (srv->commit_timer.fd < 0)
		return;
	dl_loop_del(srv->loop, &srv->commit_timer);
	close(srv->commit_timer.fd);
	srv->commit_timer.fd = -1;
	srv->commit_armed = false;
}
