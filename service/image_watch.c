// SPDX-License-Identifier: BSD-3-Clause
/*
 * image_watch.c - the namespace image changed behind our back: look, and
 * say so.
 *
 * A client with the read-write namespace fd can truncate the image,
 * punch it, or store over its header (ns_fds.c).  pmem/ns_watch.c notices
 * and undoes what it can (namespace.h); the service gives it the chances
 * to look - the image's inotify fd in the loop, for every write(2),
 * ftruncate(2) and fallocate(2) of it, and a slow timer for stores
 * through a mapping, which raise no event - and logs each finding at
 * error level, once per kind.  The filesystem refuses changes from then
 * on (-EIO), and HELLO tells every new client (DL_SRV_READ_ONLY: STATUS
 * has no field to spare).  Every filesystem change also
 * looks first (dl_fs_writable), so a change is never made on an image
 * already known to have changed, whatever order the loop sees things in.
 */
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define CHECK_INTERVAL_S 2	/* the timer's full check */

static void on_finding(void *arg, unsigned bit, const char *why)
{
	struct dl_server *srv = arg;

	if (srv->image_health_logged & bit) {
		log_debug("%s (again)", why);
		return;
	}
	srv->image_health_logged |= bit;
	log_err("the image changed behind daxleased's back (a client with the namespace fd?): %s; the filesystem is read-only until daxleased restarts (run daxlease check-namespace on the image first)",
		why);
}

static void on_written(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;

	(void)events;
	dl_ns_check(srv->ns, false);
}

static void on_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	uint64_t ticks;

	(void)events;
	/* stores through a mapping raise no event: a full look */
	if (read(src->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		dl_ns_check(srv->ns, true);
}

static int start_timer(struct dl_server *srv)
{
	struct itimerspec its = {
		.it_interval = { CHECK_INTERVAL_S, 0 },
		.it_value = { CHECK_INTERVAL_S, 0 },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int rc;

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		fd = -1;
	}
	rc = dl_server_add_source(srv, &srv->image_timer, fd, on_timer);
	if (rc && fd >= 0) {
		close(fd);
		srv->image_timer.fd = -1;
	}
	return rc;
}

int dl_image_watch_start(struct dl_server *srv)
{
	struct dl_err err = { 0 };
	int rc;

	srv->image_watch.fd = srv->image_timer.fd = -1;
	rc = dl_ns_watch(srv->ns, on_finding, srv, &err);
	if (rc) {
		log_err("%s", err.msg);
		return rc;
	}
	if (srv->nsinfo.kind == DL_NS_DEVDAX)
		return 0;	/* a device cannot be resized or punched */
	if (dl_ns_watch_fd(srv->ns) >= 0)
		rc = dl_server_add_source(srv, &srv->image_watch,
					  dl_ns_watch_fd(srv->ns), on_written);
	else
		log_warn("no inotify watch on %s: every change looks at the image first instead",
			 srv->nsinfo.path);
	if (!rc)
		rc = start_timer(srv);
	if (rc)
		log_err("cannot watch %s: %s", srv->nsinfo.path, strerror(-rc));
	return rc;
}

void dl_image_watch_stop(struct dl_server *srv)
{
	/* the inotify fd is the namespace's: closed with it */
	if (srv->image_watch.fd >= 0)
		dl_loop_del(srv->loop, &srv->image_watch);
	srv->image_watch.fd = -1;
	if (srv->image_timer.fd >= 0) {
		dl_loop_del(srv->loop, &srv->image_timer);
		close(srv->image_timer.fd);
	}
	srv->image_timer.fd = -1;
}
