// SPDX-License-Identifier: BSD-3-Clause
/*
 * accept.c - new connections: the limits first, and never a spin.
 *
 * The listening socket is level-triggered: while a connection waits in
 * its backlog, every turn of the loop reports it.  So when accept() fails
 * for want of fds or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), the loop
 * stops watching the socket for PAUSE_MS and a timerfd puts it back; the
 * connections meanwhile wait in the backlog (their connect() has
 * returned, their HELLO waits), and are served as soon as fds come back.
 * A spin instead would take a whole CPU and write a log line each time.
 * A connection accepted that then finds no fd for its pidfd, its eventfd
 * or a look at /proc is not closed either: it is parked, the loop pauses,
 * and its set-up is tried again first when the pause ends.
 *
 * A connection over --connections-max or --connections-per-uid
 * (limits.c) is accepted only to be told so: the answer to its first
 * message (its HELLO) is a reply with that errno, then it is closed, so
 * daxlease_new() returns -EAGAIN or -EUSERS rather than a bare hangup.
 * At most DL_REFUSALS_MAX are being answered at once, each for at most
 * REFUSAL_MS; past that the loop pauses too.  Their slots are never
 * freed, so an event of one that was closed in this batch only finds a
 * socket with nothing to read (the callback trusts recv(), not events).
 *
 * The lines about it are rate-limited (log.h): one a second at most.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "accept.h"
#include "log.h"
#include "server.h"

#define PAUSE_MS 100
#define REFUSAL_MS 1000
#define LINE_INTERVAL_MS 1000

static struct dl_acceptor *acceptor(struct dl_server *srv)
{
	return &srv->acceptor;
}

/* The timer goes off at the end of the pause or the first deadline. */
static void arm(struct dl_server *srv)
{
	struct dl_acceptor *a = acceptor(srv);
	struct itimerspec its = { 0 };
	int64_t first = a->paused_until_ns;

	for (int i = 0; i < DL_REFUSALS_MAX; i++) {
		const struct dl_refusal *r = &a->refusals[i];

		if (r->sock.fd >= 0 && (!first || r->deadline_ns < first))
			first = r->deadline_ns;
	}
	its.it_value.tv_sec = first / 1000000000;
	its.it_value.tv_nsec = first % 1000000000;
	timerfd_settime(a->timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void pause_accepting(struct dl_server *srv, int err)
{
	static struct dl_ratelimit rl = DL_RATELIMIT(LINE_INTERVAL_MS);
	struct dl_acceptor *a = acceptor(srv);

	if (!a->paused_until_ns)
		dl_loop_del(srv->loop, &srv->listen);
	a->paused_until_ns = dl_server_now_ns() + PAUSE_MS * 1000000LL;
	dl_log_limited(&rl, DL_LOG_WARN,
		       "not accepting connections for %d ms: %s", PAUSE_MS,
		       strerror(err));
	arm(srv);
}

/* Does this failure mean: no fds or no memory now, try again later? */
static bool out_of_room(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

static void admit(struct dl_server *srv, int fd);

/* The pause is over: the parked connection first, then the backlog. */
static void resume_accepting(struct dl_server *srv)
{
	struct dl_acceptor *a = acceptor(srv);
	int fd = a->parked_fd, rc;

	a->paused_until_ns = 0;
	a->parked_fd = -1;
	if (fd >= 0)
		admit(srv, fd);
	if (a->paused_until_ns)
		return;		/* parked again: still no room */
	rc = dl_loop_add(srv->loop, &srv->listen, EPOLLIN);
	if (rc)
		pause_accepting(srv, -rc);
}

/* ---- refused connections --------------------------------------------------- */

static void refusal_close(struct dl_refusal *r)
{
	dl_loop_del(r->srv->loop, &r->sock);
	close(r->sock.fd);
	r->sock.fd = -1;
}

/* Its first message: answered with the errno, then it goes. */
static void refusal_event(struct dl_source *src, uint32_t events)
{
	struct dl_refusal *r = src->data;
	struct dl_msg_hdr req, rep;
	ssize_t n;

	(void)events;
	/* a longer message is cut to its header: that is all we need */
	n = recv(src->fd, &req, sizeof(req), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == (ssize_t)sizeof(req) && req.magic == DL_PROTO_MAGIC) {
		rep = (struct dl_msg_hdr){
			.magic = DL_PROTO_MAGIC,
			.opcode = req.opcode,
			.flags = DL_MSG_REPLY,
			.request_id = req.request_id,
			.status = r->status,
		};
		send(src->fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	refusal_close(r);
}

static void refuse(struct dl_server *srv, int fd, int status)
{
	struct dl_acceptor *a = acceptor(srv);

	for (int i = 0; i < DL_REFUSALS_MAX; i++) {
		struct dl_refusal *r = &a->refusals[i];

		if (r->sock.fd >= 0)
			continue;
		r->sock.fd = fd;
		r->sock.fn = refusal_event;
		r->sock.data = r;
		r->status = status;
		r->deadline_ns = dl_server_now_ns() + REFUSAL_MS * 1000000LL;
		if (dl_loop_add(srv->loop, &r->sock, EPOLLIN)) {
			close(fd);
			r->sock.fd = -1;
			return;
		}
		arm(srv);
		return;
	}
	/* as many being refused as we answer at once: wait a moment */
	close(fd);
	pause_accepting(srv, -status);
}

/* ---- the timer and the listening socket ---------------------------------------- */

static void on_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	struct dl_acceptor *a = acceptor(srv);
	int64_t now = dl_server_now_ns();
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	for (int i = 0; i < DL_REFUSALS_MAX; i++)
		if (a->refusals[i].sock.fd >= 0 &&
		    a->refusals[i].deadline_ns <= now)
			refusal_close(&a->refusals[i]);	/* said nothing */
	if (a->paused_until_ns && a->paused_until_ns <= now)
		resume_accepting(srv);
	arm(srv);
}

int dl_accept_open(struct dl_server *srv)
{
	struct dl_acceptor *a = acceptor(srv);
	int fd;

	for (int i = 0; i < DL_REFUSALS_MAX; i++) {
		a->refusals[i].sock.fd = -1;
		a->refusals[i].srv = srv;
	}
	a->parked_fd = -1;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->timer.fd = fd;
	if (fd < 0)
		return -errno;
	a->timer.fn = on_timer;
	a->timer.data = srv;
	return dl_loop_add(srv->loop, &a->timer, EPOLLIN);
}

void dl_accept_close(struct dl_server *srv)
{
	struct dl_acceptor *a = acceptor(srv);

	for (int i = 0; i < DL_REFUSALS_MAX; i++)
		if (a->refusals[i].sock.fd >= 0 && a->refusals[i].srv)
			refusal_close(&a->refusals[i]);
	if (a->timer.fd >= 0) {
		dl_loop_del(srv->loop, &a->timer);
		close(a->timer.fd);
		a->timer.fd = -1;
		if (a->parked_fd >= 0)
			close(a->parked_fd);
		a->parked_fd = -1;
	}
}

static int peer_of(int fd, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) ? -errno : 0;
}

/* A connection taken from the backlog: the limits, then a client. */
static void admit(struct dl_server *srv, int fd)
{
	struct ucred uc;
	int rc;

	if (peer_of(fd, &uc)) {
		close(fd);
		return;
	}
	rc = dl_limit_connection(srv, uc.uid, uc.pid);
	if (rc) {
		refuse(srv, fd, rc);
		return;
	}
	rc = dl_conn_open(srv, fd);
	if (!rc)
		return;
	if (out_of_room(-rc)) {
		acceptor(srv)->parked_fd = fd;
		pause_accepting(srv, -rc);
		return;
	}
	log_debug("connection of pid %d refused: %s", (int)uc.pid,
		  strerror(-rc));
	close(fd);
}

void dl_accept_ready(struct dl_source *src, uint32_t events)
{
	static struct dl_ratelimit rl = DL_RATELIMIT(LINE_INTERVAL_MS);
	struct dl_server *srv = src->data;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		admit(srv, fd);
		return;
	}
	if (out_of_room(errno))
		pause_accepting(srv, errno);
	else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		dl_log_limited(&rl, DL_LOG_WARN, "accept: %s", strerror(errno));
}
