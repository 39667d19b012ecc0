/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listen.h - the listening socket: one handed over by systemd (socket
 * activation), or one we create at --socket PATH or the default path.
 */
#ifndef DAXLEASED_LISTEN_H
#define DAXLEASED_LISTEN_H

#include <stdbool.h>

/* fd 3 from systemd: -1 if not activated, -errno if the fd is unusable. */
int dl_listen_activated(void);
/* The default path, malloc'ed: /run/daxlease/daxleased.sock for root,
 * $XDG_RUNTIME_DIR/daxlease/daxleased.sock otherwise; NULL if none. */
char *dl_listen_default_path(void);
/* Create, bind, listen; a stale socket file nobody answers on is
 * replaced.  Returns the fd or -errno (and logs why). */
int dl_listen_open(const char *path);

#endif
