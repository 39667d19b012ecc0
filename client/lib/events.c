/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c - events (request id 0) that arrive while a caller waits for
 * its reply.  They are kept, in order, for the event API of the leases
 * issue; the queue is bounded and drops its oldest event past the limit,
 * so a client that never reads events cannot grow without end.
 * Callers of the dl_event_* functions hold ctx->lock.
 *
 * daxlease_next_event() takes the oldest queued event; with none, it
 * receives itself when no other thread is receiving (handing any reply it
 * gets to its caller), or waits for the thread that is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

static void drop_oldest(struct daxlease_ctx *ctx)
{
	struct dl_event *ev = ctx->ev_head;

	ctx->ev_head = ev->next;
	if (!ctx->ev_head)
		ctx->ev_tail = NULL;
	ctx->nevents--;
	ctx->events_dropped++;
	free(ev);
}

void dl_event_queue(struct daxlease_ctx *ctx, const struct dl_msg_hdr *hdr,
		    const void *payload)
{
	struct dl_event *ev = malloc(sizeof(*ev) + hdr->length);

	if (!ev) {
		ctx->events_dropped++;
		return;
	}
	ev->next = NULL;
	ev->opcode = hdr->opcode;
	ev->length = hdr->length;
	memcpy(ev->payload, payload, hdr->length);
	if (ctx->nevents >= DL_EVENT_QUEUE_MAX)
		drop_oldest(ctx);
	if (ctx->ev_tail)
		ctx->ev_tail->next = ev;
	else
		ctx->ev_head = ev;
	ctx->ev_tail = ev;
	ctx->nevents++;
}

void dl_event_free_all(struct daxlease_ctx *ctx)
{
	while (ctx->ev_head)
		drop_oldest(ctx);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void event_from_wire(struct daxlease_event *out,
			    const struct dl_event *ev)
{
	struct dl_ev_lease w = { 0 };

	memcpy(&w, ev->payload, ev->length < sizeof(w) ? ev->length :
	       sizeof(w));
	memset(out, 0, sizeof(*out));
	out->type = ev->opcode;
	out->lease_id = w.lease_id;
	out->opcode = w.opcode;
	out->pid = (int)w.pid;
	out->uid = w.uid;
	memcpy(out->comm, w.comm, sizeof(out->comm) - 1);
	out->ino = w.ino;
	out->offset = w.offset;
	out->length = w.length;
	out->deadline_ns = w.deadline_ns;
	out->remaining_ms = w.remaining_ms;
}

/* Another thread receives: wait for it, at most left ms (-1: for ever). */
static void wait_reader(struct daxlease_ctx *ctx, int left)
{
	struct timespec ts;

	if (left < 0) {
		pthread_cond_wait(&ctx->cond, &ctx->lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (long)(left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts);
}

/* Under ctx->lock: 1 with *out, 0 at the deadline, or -errno. */
static int next_locked(struct daxlease_ctx *ctx, struct daxlease_event *out,
		       int timeout_ms)
{
	int64_t end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int left = timeout_ms, rc;

	for (;;) {
		struct dl_event *ev = ctx->ev_head;

		if (ev) {
			event_from_wire(out, ev);
			ctx->ev_head = ev->next;
			if (!ctx->ev_head)
				ctx->ev_tail = NULL;
			ctx->nevents--;
			free(ev);
			return 1;
		}
		if (dl_is_dead(ctx))
			return -ENOTCONN;
		if (timeout_ms >= 0) {
			left = (int)(end - now_ms());
			if (left < 0)
				left = 0;
		}
		if (ctx->reading) {
			if (!left)
				return 0;
			wait_reader(ctx, left);
			continue;
		}
		rc = dl_receive_one(ctx, left);
		if (rc < 0)
			return rc;
		if (!rc && !left)
			return 0;
	}
}

DAXLEASE_EXPORT int daxlease_next_event(struct daxlease_ctx *ctx,
					struct daxlease_event *out,
					int timeout_ms)
{
	int rc;

	if (!ctx || !out || timeout_ms < -1)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	rc = next_locked(ctx, out, timeout_ms);
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

DAXLEASE_EXPORT int daxlease_get_event_fd(struct daxlease_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return dl_is_dead(ctx) ? -ENOTCONN : ctx->sock;
}
