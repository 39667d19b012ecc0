// SPDX-License-Identifier: BSD-3-Clause
/*
 * dispatch.c - one received message: decode it, run the opcode's handler,
 * send the reply.  The reply is built in srv->tx; its header echoes the
 * request's opcode and request_id.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

static dl_handler_fn *const handlers[] = {
	[DL_OP_HELLO] = dl_handle_hello,
	[DL_OP_STATUS] = dl_handle_status,
	[DL_OP_REATTACH] = dl_handle_reattach,
	[DL_OP_OPEN] = dl_handle_open,
	[DL_OP_CLOSE] = dl_handle_close,
	[DL_OP_STAT] = dl_handle_stat,
	[DL_OP_LIST] = dl_handle_list,
	[DL_OP_UNLINK] = dl_handle_unlink,
	[DL_OP_RENAME] = dl_handle_rename,
	[DL_OP_READ] = dl_handle_read,
	[DL_OP_WRITE] = dl_handle_write,
	[DL_OP_FSYNC] = dl_handle_fsync,
	[DL_OP_TRUNCATE] = dl_handle_truncate,
	[DL_OP_FALLOCATE] = dl_handle_fallocate,
	[DL_OP_SETATTR] = dl_handle_setattr,
	[DL_OP_MAP] = dl_handle_map,
	[DL_OP_UNMAP] = dl_handle_unmap,
	[DL_OP_PIN] = dl_handle_pin,
	[DL_OP_UNPIN] = dl_handle_unpin,
	[DL_OP_BUSY] = dl_handle_busy,
	[DL_OP_BUSY_SUMMARY] = dl_handle_busy_summary,
	[DL_OP_BLOCKED] = dl_handle_blocked,
	[DL_OP_QUARANTINE] = dl_handle_quarantine,
	[DL_OP_DIRTY] = dl_handle_dirty,
	[DL_OP_LEASE_ACQUIRE] = dl_handle_lease_acquire,
	[DL_OP_LEASE_RELEASE] = dl_handle_lease_release,
	[DL_OP_LEASE_QUERY] = dl_handle_lease_query,
	[DL_OP_LEASES] = dl_handle_leases,
};

static void send_reply(struct dl_client *c, const struct dl_msg_hdr *req,
		       int status, const struct dl_reply *rp)
{
	struct dl_msg_hdr *h = c->srv->tx;
	uint32_t len = status && !rp->with_error ? 0 : rp->len;

	*h = (struct dl_msg_hdr){
		.magic = DL_PROTO_MAGIC,
		.version = c->version,
		.opcode = req->opcode,
		.flags = DL_MSG_REPLY,
		.length = len,
		.request_id = req->request_id,
		.status = status,
	};
	dl_conn_send(c, h, sizeof(*h) + len, rp->fds, status ? 0 : rp->nfds);
}

void dl_reply_status(struct dl_client *c, const struct dl_msg_hdr *req,
		     int status)
{
	struct dl_reply rp = { 0 };

	send_reply(c, req, status, &rp);
}

void dl_dispatch(struct dl_client *c, const void *buf, size_t len)
{
	dl_dispatch_fds(c, buf, len, NULL, 0);
}

void dl_dispatch_fds(struct dl_client *c, const void *buf, size_t len,
		     int *fds, int nfds)
{
	struct dl_reply rp = {
		.payload = (char *)c->srv->tx + sizeof(struct dl_msg_hdr),
	};
	struct dl_request rq;
	int rc = dl_decode(buf, len, c->version, &rq);

	rq.fds = fds;
	rq.nfds = nfds;
	if (rc == DL_DECODE_DISCONNECT) {
		dl_conn_drop(c, "malformed message (cannot frame it)");
		return;
	}
	if (!rc)
		rc = handlers[rq.hdr->opcode](c, &rq, &rp);
	if (rc == DL_SUSPENDED)
		return;		/* wait.c replies when it has run */
	if (rc)
		log_debug("%s: opcode %u request %llu: %s", dl_conn_who(c),
			  rq.hdr->opcode,
			  (unsigned long long)rq.hdr->request_id,
			  strerror(-rc));
	send_reply(c, rq.hdr, rc, &rp);
}
