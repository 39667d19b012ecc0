// SPDX-License-Identifier: BSD-3-Clause
/*
 * server.c - bring the service up and down: namespace and filesystem,
 * the listening socket, signals, the timer, the loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <time.h>

#include "listen.h"
#include "log.h"
#include "real_ns.h"
#include "server.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_storage(struct dl_server *srv)
{
	const struct dl_options *o = &srv->opt;
	const struct dl_err *warnings;
	struct dl_err err = { 0 };
	size_t nwarnings;
	int rc;

	if (o->image)
		rc = dl_nvdimm_open(o->image, DL_MAP_READ_WRITE, &srv->ns, &err);
	else
		rc = dl_real_ns_open(o->namespace, DL_MAP_READ_WRITE, &srv->ns,
				     &err);
	if (rc) {
		log_err("cannot open %s: %s", o->image ? o->image : o->namespace,
			err.errnum ? err.msg : strerror(-rc));
		return rc;
	}
	/* replays a committed journal transaction left by a crash */
	rc = dl_fs_open(srv->ns, &srv->fs, &err);
	if (rc) {
		log_err("cannot open the filesystem: %s",
			err.errnum ? err.msg : strerror(-rc));
		return rc;
	}
	/* what the open found wrong and repaired, or could live with */
	nwarnings = dl_fs_open_warnings(srv->fs, &warnings);
	for (size_t i = 0; i < nwarnings; i++)
		log_warn("%s", warnings[i].msg);
	dl_ns_get_info(srv->ns, &srv->nsinfo);
	/* processes that may still write where their records say: held
	 * before anything can be freed, and before the detached blocks of
	 * an earlier run are looked at */
	rc = dl_records_open(srv);
	if (rc)
		return rc;
	dl_quarantine_init(srv);
	rc = dl_ns_fds_open(srv);
	if (!rc)
		rc = dl_image_watch_start(srv);
	if (rc)
		return rc;
	if (!srv->nsinfo.was_clean)
		log_warn("%s was not shut down cleanly (unsafe shutdowns: %llu)",
			 srv->nsinfo.path,
			 (unsigned long long)srv->nsinfo.unsafe_shutdowns);
	return 0;
}

static void on_signal(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("signal %u: shutting down", si.ssi_signo);
	dl_loop_quit(srv->loop);
}

/* Armed for the earliest deadline of a waiting request (wait.c). */
static void on_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	dl_wait_expire(srv);
}

int dl_server_add_source(struct dl_server *srv, struct dl_source *s, int fd,
			 dl_source_fn fn)
{
	if (fd < 0)
		return -errno;
	s->fd = fd;
	s->fn = fn;
	s->data = srv;
	return dl_loop_add(srv->loop, s, EPOLLIN);
}

static int setup_signals(struct dl_server *srv)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	/* a client that goes away mid-reply must not kill us */
	signal(SIGPIPE, SIG_IGN);
	return dl_server_add_source(srv, &srv->signals,
				    signalfd(-1, &set,
					     SFD_NONBLOCK | SFD_CLOEXEC),
				    on_signal);
}

static int setup_listen(struct dl_server *srv)
{
	int fd = dl_listen_activated();

	if (fd >= 0) {
		log_info("using the socket passed by systemd");
		return dl_server_add_source(srv, &srv->listen, fd,
					    dl_accept_ready);
	}
	if (fd != -1)
		return fd;
	srv->socket_path = srv->opt.socket ? strdup(srv->opt.socket) :
			   dl_listen_default_path();
	if (!srv->socket_path)
		return -EINVAL;
	fd = dl_listen_open(srv->socket_path);
	if (fd < 0)
		return fd;
	srv->unlink_socket = true;
	return dl_server_add_source(srv, &srv->listen, fd, dl_accept_ready);
}

static int alloc_buffers(struct dl_server *srv)
{
	/* 8-byte aligned: the payload structs are read in place */
	srv->rx = aligned_alloc(64, DL_PROTO_MAX_MSG);
	srv->tx = aligned_alloc(64, DL_PROTO_MAX_MSG);
	return srv->rx && srv->tx ? 0 : -ENOMEM;
}

int dl_server_open(struct dl_server *srv)
{
	int rc;

	srv->listen.fd = srv->signals.fd = srv->timer.fd = -1;
	srv->trim_timer.fd = srv->commit_timer.fd = -1;
	srv->image_watch.fd = srv->image_timer.fd = -1;
	srv->acceptor.timer.fd = -1;
	/* ids clients hold across a restart (pins, mappings) never meet the
	 * ids a later daemon hands out: start where the clock is */
	srv->next_pin_id = srv->next_map_id = (uint64_t)realtime_ns();
	srv->client_ns_fd = srv->client_ns_ro_fd = -1;
	srv->start_ns = dl_server_now_ns();
	rc = alloc_buffers(srv);
	if (!rc)
		rc = dl_loop_new(&srv->loop);
	if (rc)
		return rc;
	dl_loop_set_after(srv->loop, dl_conn_after_batch, srv);
	rc = open_storage(srv);
	if (!rc)
		rc = dl_dirty_init(srv);
	if (!rc)
		rc = dl_commit_init(srv);
	if (!rc)
		rc = setup_signals(srv);
	if (!rc)
		rc = dl_server_add_source(srv, &srv->timer,
					  timerfd_create(CLOCK_MONOTONIC,
							 TFD_NONBLOCK | TFD_CLOEXEC),
					  on_timer);
	if (!rc)
		rc = dl_accept_open(srv);
	if (!rc) {
		dl_limits_fit_nofile(&srv->opt.limits);
		rc = setup_listen(srv);
	}
	return rc;
}

int dl_server_run(struct dl_server *srv)
{
	log_info("ready: %s on %s, socket %s", srv->nsinfo.name[0] ?
		 srv->nsinfo.name : "namespace", srv->nsinfo.path,
		 srv->socket_path ? srv->socket_path : "(from systemd)");
	return dl_loop_run(srv->loop);
}

static void close_source(struct dl_server *srv, struct dl_source *s)
{
	if (s->fd < 0)
		return;
	dl_loop_del(srv->loop, s);
	close(s->fd);
	s->fd = -1;
}

unsigned dl_server_close(struct dl_server *srv)
{
	unsigned health = 0;

	if (srv->loop) {
		dl_records_close(srv);
		dl_conn_drop_all(srv);
		/* what the clients stored behind our back is durable too */
		if (srv->fs)
			dl_dirty_write_back_all(srv);
		dl_dirty_free_all(srv);
		dl_commit_fini(srv);
		dl_quarantine_free(srv);
		dl_leases_free_all(srv);
		dl_accept_close(srv);
		close_source(srv, &srv->listen);
		close_source(srv, &srv->signals);
		close_source(srv, &srv->timer);
		dl_image_watch_stop(srv);
	}
	if (srv->unlink_socket)
		unlink(srv->socket_path);
	free(srv->socket_path);
	dl_ns_fds_close(srv);
	/* closing marks the namespace clean: a clean shutdown (unless the
	 * image was changed behind our back: pmem/ns_watch.c) */
	dl_fs_close(&srv->fs);
	if (srv->ns)
		health = dl_ns_check(srv->ns, true);
	dl_ns_close(&srv->ns);
	dl_loop_free(srv->loop);
	free(srv->rx);
	free(srv->tx);
	memset(srv, 0, sizeof(*srv));
	return health;
}
