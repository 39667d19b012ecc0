/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * accept.h - taking new connections, without ever spinning (accept.c).
 *
 * The listening socket's callback.  A connection the limits refuse
 * (limits.h) is answered with the errno, as the reply to its first
 * message, and closed; when accept() itself fails for want of fds or
 * memory, the loop stops watching the listening socket for a moment.
 */
#ifndef DAXLEASED_ACCEPT_H
#define DAXLEASED_ACCEPT_H

#include <stdint.h>

#include "loop.h"

#define DL_REFUSALS_MAX 16	/* refused connections being answered */

struct dl_server;

/* A refused connection, until it has had its answer (or a second). */
struct dl_refusal {
	struct dl_source sock;		/* fd -1: a free slot */
	struct dl_server *srv;
	int status;			/* -errno to answer with */
	int64_t deadline_ns;
};

struct dl_acceptor {
	struct dl_source timer;		/* the end of a pause, deadlines */
	int64_t paused_until_ns;	/* 0: accepting */
	int parked_fd;			/* taken from the backlog when there
					 * was no fd to set it up with: set
					 * up first when the pause ends */
	struct dl_refusal refusals[DL_REFUSALS_MAX];
};

/* The timer (the listening socket is srv->listen, added by server.c). */
int dl_accept_open(struct dl_server *srv);
void dl_accept_close(struct dl_server *srv);
/* srv->listen's callback. */
void dl_accept_ready(struct dl_source *src, uint32_t events);

#endif
