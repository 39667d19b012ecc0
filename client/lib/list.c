/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * list.c - one page of the file list (LIST carries a cursor).
 */
#include <errno.h>
#include <stdlib.h>

#include "private.h"

static int list_page(struct daxlease_ctx *ctx, uint64_t *cursor,
		     struct daxlease_stat *out, uint32_t max,
		     struct dl_wire_stat *w)
{
	struct dl_list_req req = { .cursor = *cursor, .max = max };
	struct dl_list_rep rep;
	struct iovec riov = { &req, sizeof(req) };
	struct iovec piov[2] = {
		{ &rep, sizeof(rep) }, { w, (size_t)max * sizeof(*w) },
	};
	struct dl_call call = {
		.opcode = DL_OP_LIST,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = piov, .rep_niov = 2,
		.rep_min = sizeof(rep),
	};
	uint32_t i;
	int rc;

	rc = dl_call(ctx, &call);
	if (rc)
		return rc;
	if (rep.count > max ||
	    call.rep_len != sizeof(rep) + rep.count * sizeof(*w)) {
		dl_kill(ctx);
		return -EPROTO;
	}
	for (i = 0; i < rep.count; i++)
		dl_stat_from_wire(&out[i], &w[i]);
	*cursor = rep.next_cursor;
	return (int)rep.count;
}

DAXLEASE_EXPORT int daxlease_list(struct daxlease_ctx *ctx, uint64_t *cursor,
				  struct daxlease_stat *out, size_t max)
{
	struct dl_wire_stat *w;
	uint32_t n;
	int rc;

	if (!ctx || !cursor || (!out && max))
		return -EINVAL;
	if (!max)
		return 0;
	n = max > DL_PROTO_LIST_MAX ? DL_PROTO_LIST_MAX : (uint32_t)max;
	w = malloc((size_t)n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	rc = list_page(ctx, cursor, out, n, w);
	free(w);
	return rc;
}
