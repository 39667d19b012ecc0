// SPDX-License-Identifier: BSD-3-Clause
/*
 * ns_fds.c - the namespace fds clients get, and which MAP reply carries
 * which (docs/protocol.md, "Mappings").
 *
 * Clients map the namespace themselves, so a client with DAX access gets
 * an fd of the image (or device).  What that fd allows is the open file
 * description's access mode, nothing else: a read-only fd cannot write,
 * truncate or punch the file, nor map it writable.  So there are two:
 *
 *   - read-only, for a client whose first MAP is a read mapping;
 *   - read-write, with the first MAP for write.  A client that got the
 *     read-only one first gets this one with its first write MAP
 *     (DL_MAP_NS_RW), and the library puts it in the old one's place.
 *
 * Both are reopened through /proc/self/fd: the same inode whatever
 * happened to its path since, in open file descriptions of their own, so
 * neither carries our flock (a client holding one cannot keep a restarted
 * daxleased out).  The reopen checks the inode's permissions as for any
 * open, so the read-only fd cannot be reopened read-write by a client
 * that could not open the image read-write itself.
 *
 * A read-write fd still reaches the whole image, header and labels
 * included - no fd can be limited to a range of its file - which is why
 * the namespace watches its image (pmem/ns_watch.c, image_watch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static int reopen(struct dl_server *srv, int flags, int *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dl_ns_fd(srv->ns));
	*out = open(path, flags | O_CLOEXEC);
	if (*out >= 0)
		return 0;
	log_err("cannot reopen %s for clients: %s", srv->nsinfo.path,
		strerror(errno));
	return -errno;
}

int dl_ns_fds_open(struct dl_server *srv)
{
	int rc = reopen(srv, O_RDWR, &srv->client_ns_fd);

	return rc ? rc : reopen(srv, O_RDONLY, &srv->client_ns_ro_fd);
}

void dl_ns_fds_close(struct dl_server *srv)
{
	if (srv->client_ns_fd >= 0)
		close(srv->client_ns_fd);
	if (srv->client_ns_ro_fd >= 0)
		close(srv->client_ns_ro_fd);
	srv->client_ns_fd = srv->client_ns_ro_fd = -1;
}

void dl_map_reply_fds(struct dl_client *c, bool write, struct dl_map_rep *o,
		      struct dl_reply *rp)
{
	struct dl_server *srv = c->srv;

	if (!c->fds_sent) {
		o->flags = DL_MAP_FDS;
		rp->fds[0] = c->table->fd;
		rp->fds[1] = write ? srv->client_ns_fd : srv->client_ns_ro_fd;
		rp->fds[2] = c->table->cnt_fd;
		rp->fds[3] = c->wake.fd;
		rp->nfds = DL_MAP_NFDS;
		c->fds_sent = true;
		c->ns_rw_sent = write;
	} else if (write && !c->ns_rw_sent) {
		o->flags = DL_MAP_NS_RW;
		rp->fds[0] = srv->client_ns_fd;
		rp->nfds = 1;
		c->ns_rw_sent = true;
	}
}
