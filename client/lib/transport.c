/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transport.c - one request/reply round trip, the only code that touches
 * the socket.
 *
 * Round trips overlap (the service answers out of order: it may hold a
 * request that waits for a pin while it serves the UNPIN).  A call takes
 * a request id and joins the pending list under ctx->lock, sends under
 * send_lock, then waits for its reply: one waiting thread at a time is
 * the reader, which receives and hands each reply to the pending call
 * with that id (events received meanwhile are queued, events.c); the
 * others sleep on ctx->cond.  The connection dies - shutdown, and every
 * later call returns -ENOTCONN at once - when the service goes away (EOF,
 * ECONNRESET, EPIPE), when a socket call fails, and when the service
 * sends something that cannot be framed (short, truncated, bad magic or
 * version, a length that disagrees with the packet, a reply to a request
 * we did not send): that call returns -EPROTO, and the calls still
 * waiting -ENOTCONN.  Nothing ever waits for a reply on a connection that
 * is known to be dead.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "private.h"

void dl_kill(struct daxlease_ctx *ctx)
{
	int expected = 0;

	if (__atomic_compare_exchange_n(&ctx->dead, &expected, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		shutdown(ctx->sock, SHUT_RDWR);
}

/*
 * A transport failure: kill, and say what the caller should see.  The
 * socket failing in any way (the peer gone, or the fd no longer a socket
 * at all) is a lost connection, -ENOTCONN, like every call after it - the
 * one error daxlease_reconnect answers; only what the service sent that
 * cannot be understood stays -EPROTO.
 */
static int dl_fail(struct daxlease_ctx *ctx, int err)
{
	dl_kill(ctx);
	return err == -EPROTO ? -EPROTO : -ENOTCONN;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t total = 0;
	int i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

/* Gather the request into txbuf after its header; its length or -EMSGSIZE. */
static ssize_t build_request(struct daxlease_ctx *ctx, struct dl_call *call,
			     uint64_t id)
{
	struct dl_msg_hdr *hdr = (struct dl_msg_hdr *)ctx->txbuf;
	size_t len = iov_total(call->req_iov, call->req_niov);
	uint8_t *p = ctx->txbuf + sizeof(*hdr);
	int i;

	if (len > DL_PROTO_MAX_MSG)
		return -EMSGSIZE;
	*hdr = (struct dl_msg_hdr) {
		.magic = DL_PROTO_MAGIC,
		.version = ctx->version,
		.opcode = call->opcode,
		.length = (uint32_t)len,
		.request_id = id,
	};
	for (i = 0; i < call->req_niov; i++) {
		if (call->req_iov[i].iov_len)
			memcpy(p, call->req_iov[i].iov_base,
			       call->req_iov[i].iov_len);
		p += call->req_iov[i].iov_len;
	}
	return (ssize_t)(sizeof(*hdr) + len);
}

static int send_request(struct daxlease_ctx *ctx, size_t len,
			const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(DL_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { ctx->txbuf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds < 0 || nfds > DL_MAX_FDS)
		return -EINVAL;
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
	do
		n = sendmsg(ctx->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dl_fail(ctx, -errno);
	if ((size_t)n != len)
		return dl_fail(ctx, -EPROTO);
	return 0;
}

static void close_fds(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* The fds of one SCM_RIGHTS message; returns how many (into fds). */
static int collect_fds(struct msghdr *msg, int *fds)
{
	struct cmsghdr *c;
	int n = 0, k, cnt;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(fd));
			if (n < DL_MAX_FDS)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* Receive one packet into rxbuf; its length, or a transport failure. */
static ssize_t recv_packet(struct daxlease_ctx *ctx, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(DL_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { ctx->rxbuf, ctx->bufsize };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(ctx->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dl_fail(ctx, -errno);
	*nfds = collect_fds(&msg, fds);
	if (n == 0)
		return dl_fail(ctx, 0);
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(fds, *nfds);
		*nfds = 0;
		return dl_fail(ctx, -EPROTO);
	}
	return n;
}

static bool hdr_ok(const struct daxlease_ctx *ctx,
		   const struct dl_msg_hdr *hdr, size_t n)
{
	if (n < sizeof(*hdr) || hdr->magic != DL_PROTO_MAGIC)
		return false;
	if (hdr->length != n - sizeof(*hdr))
		return false;
	/* The HELLO reply may carry 0 or the version it chose. */
	return !ctx->version || hdr->version == ctx->version;
}

/* Scatter the reply payload over the caller's buffers. */
static int deliver(struct dl_call *call, const uint8_t *p, size_t len)
{
	size_t room = iov_total(call->rep_iov, call->rep_niov), chunk;
	int i;

	if (len < call->rep_min || len > room)
		return -EPROTO;
	call->rep_len = len;
	for (i = 0; i < call->rep_niov && len; i++) {
		chunk = call->rep_iov[i].iov_len < len ?
			call->rep_iov[i].iov_len : len;
		memcpy(call->rep_iov[i].iov_base, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/* Hand the fds of our reply to the caller, closing any it did not ask for. */
static void give_fds(struct dl_call *call, const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i < call->nfds_max)
			call->fds[call->nfds++] = fds[i];
		else
			close(fds[i]);
	}
}

/* A call waiting for its reply (on its caller's stack). */
struct dl_pending {
	struct dl_pending *next;
	struct dl_call *call;
	uint64_t id;
	int rc;
	bool done;
};

static struct dl_pending *pending_find(struct daxlease_ctx *ctx, uint64_t id)
{
	struct dl_pending *p;

	for (p = ctx->pending; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void pending_unlink(struct daxlease_ctx *ctx, struct dl_pending *p)
{
	struct dl_pending **pp;

	for (pp = &ctx->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/*
 * One received packet, under ctx->lock: a reply is handed to its pending
 * call (done, with its status), an event is queued; 0, or -EPROTO when
 * the packet cannot be framed or matches no call (the connection dies).
 */
static int handle_packet(struct daxlease_ctx *ctx, size_t n, const int *fds,
			 int nfds)
{
	const struct dl_msg_hdr *hdr = (const struct dl_msg_hdr *)ctx->rxbuf;
	const uint8_t *payload = ctx->rxbuf + sizeof(*hdr);
	struct dl_pending *p;

	if (!hdr_ok(ctx, hdr, n))
		goto proto;
	if (hdr->flags & DL_MSG_EVENT) {
		close_fds(fds, nfds);
		dl_event_queue(ctx, hdr, payload);
		return 0;
	}
	p = (hdr->flags & DL_MSG_REPLY) ? pending_find(ctx, hdr->request_id)
					: NULL;
	if (!p || p->done || hdr->opcode != p->call->opcode ||
	    hdr->status > 0)
		goto proto;
	p->done = true;
	if (hdr->status < 0) {
		close_fds(fds, nfds);
		p->rc = hdr->status;
		/* NONBLOCK's -EBUSY names its blockers */
		if (p->call->error_payload && hdr->length &&
		    deliver(p->call, payload, hdr->length)) {
			p->rc = -EPROTO;
			return dl_fail(ctx, -EPROTO);
		}
		return 0;
	}
	if (deliver(p->call, payload, hdr->length)) {
		p->rc = -EPROTO;
		goto proto;
	}
	give_fds(p->call, fds, nfds);
	p->rc = 0;
	return 0;
proto:
	close_fds(fds, nfds);
	return dl_fail(ctx, -EPROTO);
}

/* Wait for p's reply, receiving for everyone while no one else does. */
static void wait_reply(struct daxlease_ctx *ctx, struct dl_pending *p)
{
	int fds[DL_MAX_FDS], nfds, rc;
	ssize_t n;

	while (!p->done) {
		if (dl_is_dead(ctx)) {
			p->rc = -ENOTCONN;
			return;
		}
		if (ctx->reading) {
			pthread_cond_wait(&ctx->cond, &ctx->lock);
			continue;
		}
		ctx->reading = true;
		pthread_mutex_unlock(&ctx->lock);
		n = recv_packet(ctx, fds, &nfds);
		pthread_mutex_lock(&ctx->lock);
		ctx->reading = false;
		rc = n < 0 ? (int)n : handle_packet(ctx, (size_t)n, fds, nfds);
		pthread_cond_broadcast(&ctx->cond);
		if (rc && !p->done) {
			p->rc = rc;	/* this reader saw the failure */
			return;
		}
	}
}

int dl_receive_one(struct daxlease_ctx *ctx, int timeout_ms)
{
	struct pollfd pfd = { .fd = ctx->sock, .events = POLLIN };
	int fds[DL_MAX_FDS], nfds, rc;
	ssize_t n;

	ctx->reading = true;
	pthread_mutex_unlock(&ctx->lock);
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	n = rc > 0 ? recv_packet(ctx, fds, &nfds) : 0;
	pthread_mutex_lock(&ctx->lock);
	ctx->reading = false;
	if (rc > 0)
		rc = n < 0 ? (int)n : handle_packet(ctx, (size_t)n, fds, nfds);
	else
		rc = rc < 0 ? -errno : -ETIME;
	/* a reply for another caller may have come: let them look */
	pthread_cond_broadcast(&ctx->cond);
	return rc == -ETIME ? 0 : rc ? rc : 1;
}

int dl_call(struct daxlease_ctx *ctx, struct dl_call *call)
{
	struct dl_pending p = { .call = call };
	ssize_t n;
	int rc;

	call->rep_len = 0;
	call->nfds = 0;
	if (dl_is_dead(ctx))
		return -ENOTCONN;
	if (__atomic_load_n(&ctx->reconnecting, __ATOMIC_ACQUIRE) &&
	    !pthread_equal(ctx->reconnector, pthread_self()))
		return -ENOTCONN;
	pthread_mutex_lock(&ctx->lock);
	if (dl_is_dead(ctx)) {
		pthread_mutex_unlock(&ctx->lock);
		return -ENOTCONN;
	}
	p.id = ctx->next_id++;
	p.next = ctx->pending;
	ctx->pending = &p;
	pthread_mutex_unlock(&ctx->lock);

	pthread_mutex_lock(&ctx->send_lock);
	n = build_request(ctx, call, p.id);
	rc = n < 0 ? (int)n : send_request(ctx, (size_t)n, call->send_fds,
					    call->nsend_fds);
	pthread_mutex_unlock(&ctx->send_lock);

	pthread_mutex_lock(&ctx->lock);
	if (rc) {
		p.done = true;
		p.rc = rc;
	}
	wait_reply(ctx, &p);
	pending_unlink(ctx, &p);
	pthread_mutex_unlock(&ctx->lock);
	return p.rc;
}

int dl_call_simple(struct daxlease_ctx *ctx, uint16_t opcode,
		   const void *req, size_t req_len, void *rep, size_t rep_len)
{
	struct iovec riov = { (void *)req, req_len };
	struct iovec piov = { rep, rep_len };
	struct dl_call call = {
		.opcode = opcode,
		.req_iov = &riov, .req_niov = req ? 1 : 0,
		.rep_iov = &piov, .rep_niov = rep ? 1 : 0,
		.rep_min = rep ? rep_len : 0,
	};

	return dl_call(ctx, &call);
}
