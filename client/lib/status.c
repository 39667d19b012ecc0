/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * status.c - STATUS: the service's own facts (version, uptime, clients,
 * namespace usage).
 */
#include <errno.h>
#include <string.h>

#include "private.h"

DAXLEASE_EXPORT int daxlease_status(struct daxlease_ctx *ctx,
				    struct daxlease_status *out)
{
	struct dl_status_rep rep;
	int rc;

	if (!ctx || !out)
		return -EINVAL;
	rc = dl_call_simple(ctx, DL_OP_STATUS, NULL, 0, &rep, sizeof(rep));
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	memcpy(out->server_version, rep.server_version,
	       sizeof(out->server_version) - 1);
	out->pid = rep.pid;
	out->uptime_ns = rep.uptime_ns;
	out->clients = rep.clients;
	out->orphans = rep.orphans;
	out->ns_size = rep.ns_size;
	out->ns_align = rep.ns_align;
	out->blocks_total = rep.blocks_total;
	out->blocks_free = rep.blocks_free;
	out->files = rep.files;
	out->inodes_free = rep.inodes_free;
	out->transactions = rep.transactions;
	out->unsafe_shutdowns = rep.unsafe_shutdowns;
	memcpy(out->ns_name, rep.ns_name, sizeof(out->ns_name) - 1);
	memcpy(out->ns_path, rep.ns_path, sizeof(out->ns_path) - 1);
	return 0;
}
