// SPDX-License-Identifier: BSD-3-Clause
/* handle_session.c - HELLO (version negotiation) and STATUS. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	/* the rest of the field stays zero: it goes on the wire */
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* A connection's token: random, so that a stale one names nothing. */
static uint32_t new_token(void)
{
	uint32_t t = 0;

	while (!t)
		if (getrandom(&t, sizeof(t), 0) != sizeof(t))
			t = (uint32_t)dl_server_now_ns();
	return t;
}

static uint32_t client_flags(const struct dl_client *c)
{
	const struct dl_options *o = &c->srv->opt;
	uint32_t f = 0;

	if (dl_access_group_or_root(&c->cred, o->dax_gid))
		f |= DL_SRV_DAX_ALLOWED;
	if (dl_access_group_or_root(&c->cred, o->admin_gid))
		f |= DL_SRV_ADMIN;
	return f;
}

static void hello_fill(const struct dl_client *c, struct dl_hello_rep *r)
{
	const struct dl_ns_info *ni = &c->srv->nsinfo;

	memset(r, 0, sizeof(*r));
	r->version = c->version;
	r->server_flags = c->server_flags;
	/* the service's state, not the client's: said here because
	 * STATUS has no field to spare */
	if (dl_ns_health(c->srv->ns))
		r->server_flags |= DL_SRV_READ_ONLY;
	r->ns_size = ni->size;
	r->ns_align = ni->align;
	/* the namespace fd of a fake NVDIMM is the image: skip its header */
	r->ns_fd_offset = ni->kind == DL_NS_FAKE ? ni->data_offset : 0;
	r->max_msg = DL_PROTO_MAX_MSG;
	r->max_data = DL_PROTO_MAX_DATA;
	r->max_iov = DL_PROTO_MAX_IOV;
	r->token = c->token;
	copy_str(r->server_version, sizeof(r->server_version),
		 DAXLEASE_VERSION_STRING);
	copy_str(r->ns_name, sizeof(r->ns_name), ni->name);
	memcpy(r->ns_uuid, ni->uuid, sizeof(r->ns_uuid));
}

int dl_handle_hello(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_hello_req *r = rq->payload;
	uint16_t v = r->max_version < DL_PROTO_VERSION_MAX ?
		     r->max_version : DL_PROTO_VERSION_MAX;

	if (r->min_version > r->max_version || v < DL_PROTO_VERSION_MIN ||
	    v < r->min_version)
		return -EPROTONOSUPPORT;
	c->version = v;
	c->server_flags = client_flags(c);
	c->token = new_token();
	memcpy(c->name, r->client_name, sizeof(r->client_name));
	c->name[sizeof(r->client_name)] = 0;
	dl_ns_check(c->srv->ns, false);	/* DL_SRV_READ_ONLY as of now */
	hello_fill(c, rp->payload);
	rp->len = sizeof(struct dl_hello_rep);
	log_debug("%s: hello from \"%s\", version %u, flags %#x",
		  dl_conn_who(c), dl_log_str(c->name, sizeof(c->name)), v,
		  c->server_flags);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int dl_handle_status(struct dl_client *c, const struct dl_request *rq,
		     struct dl_reply *rp)
{
	const struct dl_server *srv = c->srv;
	struct dl_status_rep *r = rp->payload;
	struct dl_ns_info ni;
	struct dl_statfs sf;

	(void)rq;
	dl_ns_get_info(srv->ns, &ni);
	dl_fs_statfs(srv->fs, &sf);
	memset(r, 0, sizeof(*r));
	copy_str(r->server_version, sizeof(r->server_version),
		 DAXLEASE_VERSION_STRING);
	r->pid = (uint64_t)getpid();
	r->uptime_ns = (uint64_t)(now_ns() - srv->start_ns);
	r->clients = srv->nclients;
	r->orphans = dl_orphans_unadopted(srv);
	r->ns_size = ni.size;
	r->ns_align = ni.align;
	r->blocks_total = sf.blocks;
	r->blocks_free = sf.free_blocks;
	r->files = sf.files;
	r->inodes_free = sf.free_inodes;
	r->transactions = sf.transactions;
	r->unsafe_shutdowns = ni.unsafe_shutdowns;
	copy_str(r->ns_name, sizeof(r->ns_name), ni.name);
	copy_str(r->ns_path, sizeof(r->ns_path), ni.path);
	rp->len = sizeof(*r);
	return 0;
}

int64_t dl_server_now_ns(void)
{
	return now_ns();
}
