/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hello.c - the HELLO exchange: offer DL_PROTO_VERSION_MIN..MAX and the
 * program name, keep the version and limits the service chose.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

extern char *program_invocation_short_name;

/* The service's limits, never above what this library was built for. */
static int hello_check(struct dl_hello_rep *h)
{
	if (h->version < DL_PROTO_VERSION_MIN ||
	    h->version > DL_PROTO_VERSION_MAX)
		return -EPROTO;
	if (!h->max_data || !h->max_iov || !h->max_msg)
		return -EPROTO;
	if (h->max_data > DL_PROTO_MAX_DATA)
		h->max_data = DL_PROTO_MAX_DATA;
	if (h->max_iov > DL_PROTO_MAX_IOV)
		h->max_iov = DL_PROTO_MAX_IOV;
	if (h->max_msg > DL_PROTO_MAX_MSG)
		h->max_msg = DL_PROTO_MAX_MSG;
	h->server_version[sizeof(h->server_version) - 1] = '\0';
	h->ns_name[sizeof(h->ns_name) - 1] = '\0';
	return 0;
}

int dl_hello(struct daxlease_ctx *ctx)
{
	struct dl_hello_req req = {
		.min_version = DL_PROTO_VERSION_MIN,
		.max_version = DL_PROTO_VERSION_MAX,
	};
	struct dl_hello_rep rep;
	const char *name = program_invocation_short_name;
	int rc;

	if (name)
		strncpy(req.client_name, name, sizeof(req.client_name) - 1);
	rc = dl_call_simple(ctx, DL_OP_HELLO, &req, sizeof(req),
			    &rep, sizeof(rep));
	if (rc)
		return rc;
	rc = hello_check(&rep);
	if (rc) {
		dl_kill(ctx);
		return rc;
	}
	ctx->hello = rep;
	__atomic_store_n(&ctx->version, rep.version, __ATOMIC_RELEASE);
	return 0;
}
