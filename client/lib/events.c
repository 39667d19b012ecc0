/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.c - events (request id 0) that arrive while a caller waits for
 * its reply.  They are kept, in order, for the event API of the leases
 * issue; the queue is bounded and drops its oldest event past the limit,
 * so a client that never reads events cannot grow without end.
 * Callers hold ctx->lock.
 */
#include <stdlib.h>
#include <string.h>

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
