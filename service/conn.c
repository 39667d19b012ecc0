// SPDX-License-Identifier: BSD-3-Clause
/*
 * conn.c - client connections (accept.c takes them in): credentials,
 * receive, the outbox, and dropping a client.
 *
 * Nothing here waits: sockets are non-blocking, a reply that does not fit
 * in the socket goes to the outbox and EPOLLOUT sends it later, and while
 * a client has queued replies we stop reading its requests (it must read
 * before it may ask again).  A client that lets the outbox grow past
 * DL_OUTBOX_MAX (events, later), or past what --queued-bytes-max leaves
 * of all clients' queued bytes (limits.c), is dropped rather than waited
 * for.
 *
 * Dropping a client is two steps; the rule is at dl_conn_drop().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "server.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define RECV_PER_WAKEUP 16	/* fairness between busy clients */
#define CMSG_FDS_MAX 16

const char *dl_conn_who(const struct dl_client *c)
{
	static char buf[160];
	char comm[4 * sizeof(c->comm) + 1];

	/* comm is the process's own claim: escaped and quoted (log.h) */
	snprintf(buf, sizeof(buf), "client %llu pid=%d uid=%u comm=\"%s\"",
		 (unsigned long long)c->id, (int)c->cred.pid,
		 (unsigned)c->cred.uid,
		 dl_log_escape(comm, sizeof(comm), c->comm, sizeof(c->comm)));
	return buf;
}

static int peer_groups(struct dl_client *c, int fd)
{
	socklen_t len = 32 * sizeof(gid_t);

	for (;;) {
		gid_t *g = realloc(c->groups, len);

		if (!g)
			return -ENOMEM;
		c->groups = g;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len))
			break;
		/* ERANGE tells us the size needed in len */
		if (errno != ERANGE)
			return 0;	/* old kernel: primary group only */
	}
	c->cred.groups = c->groups;
	c->cred.ngroups = len / sizeof(gid_t);
	return 0;
}

static int peer_cred(struct dl_client *c, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return -errno;
	c->cred.pid = uc.pid;
	c->cred.uid = uc.uid;
	c->cred.gid = uc.gid;
	dl_proc_comm(c->cred.pid, c->comm, sizeof(c->comm));
	/* with the pid, who the process is for pin records (proc.h); no
	 * fd to read it with is not the process being gone */
	rc = dl_proc_start_time(c->cred.pid, &c->start_time);
	if (rc)
		return rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM ? rc :
		       -ESRCH;
	return peer_groups(c, fd);
}

static void conn_pid_died(struct dl_source *src, uint32_t events)
{
	struct dl_client *c = src->data;

	(void)events;
	c->process_gone = true;
	/* level-triggered: no more reports until the teardown closes it */
	dl_loop_del(c->srv->loop, &c->pidfd);
	if (!c->dead) {
		dl_conn_drop(c, "process exited");
		return;
	}
	log_info("%s: process exited: what it held is released",
		 dl_conn_who(c));
	dl_conn_queue_teardown(c);
}

/*
 * A pidfd becomes readable when the process exits: the client goes at
 * once, even if another process inherited its socket.  Without pidfd
 * support (Linux < 5.3) the socket's hangup is all we have.
 */
static int watch_pid(struct dl_client *c)
{
	long fd = syscall(SYS_pidfd_open, c->cred.pid, 0);

	c->pidfd.fd = -1;
	if (fd < 0) {
		/* out of fds or memory is no reason to lose the watch: the
		 * caller tries again later (accept.c) */
		if (errno == ESRCH || errno == EMFILE || errno == ENFILE ||
		    errno == ENOMEM)
			return -errno;
		log_debug("%s: no pidfd (%s)", dl_conn_who(c), strerror(errno));
		return 0;
	}
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	c->pidfd.fd = (int)fd;
	c->pidfd.fn = conn_pid_died;
	c->pidfd.data = c;
	return dl_loop_add(c->srv->loop, &c->pidfd, EPOLLIN);
}

/*
 * The client's wake-up eventfd (sent with its counter region): an unpin
 * that takes a counter to zero while we asked for wake-ups (the region's
 * `waiting` word) writes it.  A layout change waiting for pins, or a
 * quarantine hold on a lockless pin, then looks again - from the loop's
 * after-batch hook, like every other retry.  A client that writes it for
 * nothing only costs itself a rescan.
 */
static void conn_wake(struct dl_source *src, uint32_t events)
{
	struct dl_client *c = src->data;
	uint64_t n;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) == sizeof(n))
		c->srv->kick = true;
}

int dl_conn_watch_wake(struct dl_client *c, int fd)
{
	c->wake.fd = fd;
	c->wake.fn = conn_wake;
	c->wake.data = c;
	return dl_loop_add(c->srv->loop, &c->wake, EPOLLIN);
}

static int watch_wake(struct dl_client *c)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : dl_conn_watch_wake(c, fd);
}

static void conn_event(struct dl_source *src, uint32_t events);

static void client_link(struct dl_server *srv, struct dl_client *c)
{
	c->next = srv->clients;
	if (srv->clients)
		srv->clients->prev = c;
	srv->clients = c;
	srv->nclients++;
}

static void close_client_source(struct dl_server *srv, struct dl_source *s)
{
	if (s->fd < 0)
		return;
	dl_loop_del(srv->loop, s);
	close(s->fd);
	s->fd = -1;
}

/* Everything that can fail comes before the link: a client that could
 * not be set up leaves nothing behind. */
static int client_setup(struct dl_server *srv, struct dl_client *c, int fd)
{
	int rc;

	c->srv = srv;
	c->sock.fd = fd;
	c->sock.fn = conn_event;
	c->sock.data = c;
	c->pidfd.fd = -1;
	c->wake.fd = -1;
	rc = peer_cred(c, fd);
	if (!rc)
		rc = watch_wake(c);
	if (!rc)
		rc = watch_pid(c);
	if (!rc)
		rc = dl_loop_add(srv->loop, &c->sock, EPOLLIN);
	if (rc) {
		close_client_source(srv, &c->pidfd);
		close_client_source(srv, &c->wake);
		return rc;
	}
	c->id = ++srv->next_client_id;
	client_link(srv, c);
	return 0;
}

/*
 * A client for a living process that has no connection: an orphan from
 * the start, with no table and no pin yet (its caller gives it those).
 * The pidfd is taken before the start time is checked again, so it
 * cannot watch a newer process that reused the pid.
 */
int dl_conn_stand_in(struct dl_server *srv, const struct dl_pin_owner *key,
		     struct dl_client **out)
{
	struct dl_client *c = calloc(1, sizeof(*c));
	uint64_t start;
	uid_t uid;
	int rc;

	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->id = ++srv->next_client_id;
	c->sock.fd = c->wake.fd = -1;
	c->cred.pid = (pid_t)key->pid;
	c->start_time = key->start_time;
	c->token = key->token;
	rc = watch_pid(c);
	if (!rc && (c->pidfd.fd < 0 ||
		    dl_proc_start_time(c->cred.pid, &start) ||
		    start != key->start_time))
		rc = -ESRCH;
	if (rc) {
		if (c->pidfd.fd >= 0) {
			dl_loop_del(srv->loop, &c->pidfd);
			close(c->pidfd.fd);
		}
		free(c);
		return rc;
	}
	if (!dl_proc_uid(c->cred.pid, &uid))
		c->cred.uid = uid;
	dl_proc_comm(c->cred.pid, c->comm, sizeof(c->comm));
	c->dead = c->orphan = true;
	c->orphan_since_ns = dl_server_now_ns();
	srv->norphans++;
	client_link(srv, c);
	srv->nclients--;	/* client_link counts connections */
	*out = c;
	return 0;
}

/*
 * A restarted daemon's stand-in for a process its pin records name,
 * alive: one pin on everything recorded for it.
 */
int dl_conn_restored(struct dl_server *srv, const struct dl_pin_owner *key,
		     const struct dl_rangeset *held, struct dl_client **out)
{
	struct dl_rangeset blocks = { 0 };
	int rc = dl_conn_stand_in(srv, key, out);

	if (rc)
		return rc;
	(*out)->restored = true;
	rc = dl_rangeset_add_all(&blocks, held);
	if (!rc && !dl_pin_add(*out, 0, 0, held->n ? held->v[0].off : 0,
			       dl_rangeset_bytes(held), true, &blocks))
		rc = -ENOMEM;
	dl_rangeset_free(&blocks);
	return rc;
}

int dl_conn_open(struct dl_server *srv, int fd)
{
	struct dl_client *c = calloc(1, sizeof(*c));
	int rc = c ? client_setup(srv, c, fd) : -ENOMEM;

	if (rc) {
		if (c)
			free(c->groups);
		free(c);
		return rc;
	}
	log_info("%s connected", dl_conn_who(c));
	return 0;
}

/* ---- receive ----------------------------------------------------------------- */

/*
 * The fds a message carried, for its handler (only REATTACH takes any;
 * dispatch closes the rest): up to CMSG_FDS_MAX, the others closed here.
 */
static int take_passed_fds(struct dl_client *c, struct msghdr *mh, int *out)
{
	int kept = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(fd));
			if (kept < CMSG_FDS_MAX)
				out[kept++] = fd;
			else
				close(fd);
		}
	}
	if (kept)
		log_debug("%s: %d passed fd(s)", dl_conn_who(c), kept);
	return kept;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* 1: one message in srv->rx (*len) and its fds, 0: nothing more now,
 * <0: drop. */
static int conn_recv(struct dl_client *c, size_t *len, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(CMSG_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { c->srv->rx, DL_PROTO_MAX_MSG };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(c->sock.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*nfds = 0;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (mh.msg_controllen)
		*nfds = take_passed_fds(c, &mh, fds);
	if (n == 0 || mh.msg_flags & MSG_TRUNC) {
		close_fds(fds, *nfds);
		*nfds = 0;
		/* 0: an orderly shutdown by the peer */
		return n == 0 ? -ECONNRESET : -EMSGSIZE;
	}
	*len = (size_t)n;
	return 1;
}

static void conn_readable(struct dl_client *c)
{
	for (int i = 0; i < RECV_PER_WAKEUP && !c->dead && !c->out_head; i++) {
		int fds[CMSG_FDS_MAX], nfds;
		size_t len = 0;
		int rc = conn_recv(c, &len, fds, &nfds);

		if (rc == 0)
			return;
		if (rc < 0) {
			dl_conn_drop(c, rc == -ECONNRESET ? "disconnected" :
				     rc == -EMSGSIZE ? "message too long" :
				     strerror(-rc));
			return;
		}
		dl_dispatch_fds(c, c->srv->rx, len, fds, nfds);
		close_fds(fds, nfds);	/* those its handler did not keep */
	}
}

/* ---- send ----------------------------------------------------------------------- */

static int send_one(struct dl_client *c, const void *msg, size_t len,
		    const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(DL_MAP_NFDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	n = sendmsg(c->sock.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == ENOBUFS ? 0 : -errno;
	return 1;
}

static void update_events(struct dl_client *c)
{
	/* replies pending: wait for room, read no new requests meanwhile */
	uint32_t ev = c->out_head ? EPOLLOUT : EPOLLIN;

	dl_loop_mod(c->srv->loop, &c->sock, ev);
}

/* NULL, or why c is dropped instead. */
static const char *queue_msg(struct dl_client *c, const void *msg, size_t len,
			     const int *fds, int nfds)
{
	struct dl_outmsg *m;
	const char *why = c->out_bytes + len > DL_OUTBOX_MAX ?
			  "does not read its replies" :
			  dl_limit_outbox(c, sizeof(*m) + len);

	if (why)
		return why;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return "out of memory for its replies";
	m->next = NULL;
	m->len = len;
	m->nfds = nfds;
	if (nfds)	/* fds is NULL without any */
		memcpy(m->fds, fds, nfds * sizeof(int));	/* owned by the server */
	memcpy(m->buf, msg, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += len;
	c->srv->queued_bytes += sizeof(*m) + len;
	return NULL;
}

void dl_conn_send(struct dl_client *c, const void *msg, size_t len,
		  const int *fds, int nfds)
{
	const char *why;
	int rc;

	if (c->dead)
		return;
	if (!c->out_head) {
		rc = send_one(c, msg, len, fds, nfds);
		if (rc == 1)
			return;
		if (rc < 0) {
			dl_conn_drop(c, strerror(-rc));
			return;
		}
	}
	why = queue_msg(c, msg, len, fds, nfds);
	if (why) {
		dl_conn_drop(c, why);
		return;
	}
	update_events(c);
}

static void conn_writable(struct dl_client *c)
{
	while (c->out_head) {
		struct dl_outmsg *m = c->out_head;
		int rc = send_one(c, m->buf, m->len, m->fds, m->nfds);

		if (rc == 0)
			return;
		if (rc < 0) {
			dl_conn_drop(c, strerror(-rc));
			return;
		}
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_bytes -= m->len;
		c->srv->queued_bytes -= sizeof(*m) + m->len;
		free(m);
	}
	update_events(c);
	/* requests may already be waiting in the socket */
	conn_readable(c);
}

static void conn_event(struct dl_source *src, uint32_t events)
{
	struct dl_client *c = src->data;

	if (events & EPOLLERR) {
		dl_conn_drop(c, "socket error");
		return;
	}
	if (events & EPOLLOUT)
		conn_writable(c);
	if (!c->dead && events & EPOLLIN)
		conn_readable(c);
	/* a hangup with unread requests: read them first, drop after */
	if (!c->dead && events & EPOLLHUP && !(events & EPOLLIN))
		dl_conn_drop(c, "hung up");
}

/* ---- drop ------------------------------------------------------------------------ */

static void outbox_free(struct dl_client *c)
{
	while (c->out_head) {
		struct dl_outmsg *m = c->out_head;

		c->out_head = m->next;
		c->srv->queued_bytes -= sizeof(*m) + m->len;
		free(m);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

static void client_unlink(struct dl_server *srv, struct dl_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (srv->busy_resume == c)
		srv->busy_resume = NULL;
}

/*
 * THE RULE for a client's lifetime.  dl_conn_drop() only closes the
 * connection, marks the client dead and queues it; everything the client
 * owns - its waiting requests, leases, handles, pins, mappings and the
 * struct itself - is released by client_teardown(), which runs from the
 * loop's after-batch hook (dl_conn_after_batch), where no handler, no
 * replayed waiter and no event callback is on the stack.  So code that
 * sends (a reply, a lease event: either may drop the client it goes to,
 * the one being served included) may go on using what it looked up -
 * handles, the client, its table - until it returns.  A dead client's
 * requests are never run again (dl_wait_kick skips them), nothing is sent
 * to it, and no new request of it may wait (dl_wait_suspend).
 *
 * Until the teardown, a dead client stays in srv->clients, so its pins
 * and counters keep holding their blocks for every scan; the teardown
 * then decides whether it goes, or stays as an orphan because its process
 * lives and still holds pins (orphan.c).
 *
 * test_dropped_client (issue 10, row 1) and the service fuzzer
 * (tests/fuzz/fuzz_service.h) drop clients in all these places.
 */
void dl_conn_drop(struct dl_client *c, const char *why)
{
	struct dl_server *srv = c->srv;

	if (c->dead)
		return;
	c->dead = true;
	log_info("%s dropped: %s", dl_conn_who(c), why);
	dl_loop_del(srv->loop, &c->sock);
	close(c->sock.fd);
	c->sock.fd = -1;
	outbox_free(c);
	srv->nclients--;
	dl_conn_queue_teardown(c);
}

void dl_conn_queue_teardown(struct dl_client *c)
{
	struct dl_server *srv = c->srv;

	if (c->teardown_queued)
		return;
	c->teardown_queued = true;
	c->dead_next = srv->dead;
	srv->dead = c;
	srv->kick = true;	/* what it held may let waiters go */
}

/* Everything goes: pins, mappings, table, the struct. */
static void client_free(struct dl_client *c)
{
	struct dl_server *srv = c->srv;

	dl_records_changed(c);
	/* the orphans it took over are orphans again, for the next one */
	for (struct dl_client *o = srv->clients; o; o = o->next) {
		if (o->adopter == c)
			o->adopter = NULL;
		if (o->stand_in == c)
			o->stand_in = NULL;
	}
	dl_pins_drop_client(c);
	dl_mappings_free_client(c);
	if (c->orphan)
		srv->norphans--;
	close_client_source(srv, &c->pidfd);
	close_client_source(srv, &c->wake);
	client_unlink(srv, c);
	free(c->groups);
	free(c);
}

static void client_teardown(struct dl_client *c)
{
	c->teardown_queued = false;
	if (!c->orphan) {
		/* what only a connection can use goes now */
		dl_wait_drop_client(c);
		dl_leases_drop_client(c);
		dl_fh_table_free(&c->fhs);
		if (!c->srv->exiting && dl_orphan_keep(c))
			return;
	}
	client_free(c);
}

void dl_conn_after_batch(void *arg)
{
	struct dl_server *srv = arg;

	do {
		bool kicked = srv->kick;

		/* unpins, wake-ups and deaths of this batch let waiting
		 * requests go; their replies may drop clients */
		dl_wait_kick(srv);
		if (kicked && srv->norphans)
			dl_orphans_reap(srv);
		while (srv->dead) {
			struct dl_client *c = srv->dead;

			srv->dead = c->dead_next;
			client_teardown(c);
		}
	} while (srv->dead || srv->kick);
}

void dl_conn_drop_all(struct dl_server *srv)
{
	srv->exiting = true;
	for (struct dl_client *c = srv->clients; c; c = c->next) {
		dl_conn_drop(c, "server exiting");
		if (c->orphan)
			dl_conn_queue_teardown(c);
	}
	dl_conn_after_batch(srv);
}
