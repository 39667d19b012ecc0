// SPDX-License-Identifier: BSD-3-Clause
/*
 * listen.c - the listening SOCK_SEQPACKET socket.
 *
 * The socket file is mode 0666: who may do what is decided per request
 * from SO_PEERCRED, not by who can connect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define SD_LISTEN_FDS_START 3

static int check_listening_seqpacket(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int type = 0, acc = 0;
	socklen_t tlen = sizeof(type), alen = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		return -errno;
	if (sa.sun_family != AF_UNIX || type != SOCK_SEQPACKET || !acc)
		return -ENOTSOCK;
	return 0;
}

int dl_listen_activated(void)
{
	const char *pid = getenv("LISTEN_PID");
	const char *fds = getenv("LISTEN_FDS");
	int rc;

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return -1;
	/* not for our children */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (strtol(fds, NULL, 10) < 1)
		return -1;
	rc = check_listening_seqpacket(SD_LISTEN_FDS_START);
	if (rc) {
		log_err("socket activation: fd 3 is not a listening AF_UNIX SOCK_SEQPACKET socket");
		return rc;
	}
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	fcntl(SD_LISTEN_FDS_START, F_SETFL,
	      fcntl(SD_LISTEN_FDS_START, F_GETFL) | O_NONBLOCK);
	return SD_LISTEN_FDS_START;
}

static char *path_in(const char *dir, mode_t mode)
{
	char *p;

	if (mkdir(dir, mode) && errno != EEXIST) {
		log_err("cannot create %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (asprintf(&p, "%s/daxleased.sock", dir) < 0)
		return NULL;
	return p;
}

char *dl_listen_default_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[4096];

	if (geteuid() == 0)
		return path_in("/run/daxlease", 0755);
	if (!xdg || !*xdg) {
		log_err("not root and XDG_RUNTIME_DIR is not set: give --socket PATH");
		return NULL;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/daxlease", xdg) >= sizeof(dir))
		return NULL;
	return path_in(dir, 0700);
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_err("socket path %s is longer than %zu bytes", path,
			sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Someone answers on path: another daxleased is running. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ||
		errno != ECONNREFUSED;
	close(fd);
	return alive;
}

static int bind_replacing_stale(int fd, const struct sockaddr_un *sa)
{
	struct stat st;

	if (!bind(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	/* unlink only a socket file nobody is listening on */
	if (lstat(sa->sun_path, &st) || !S_ISSOCK(st.st_mode) ||
	    socket_alive(sa))
		return -EADDRINUSE;
	log_info("removing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path))
		return -errno;
	return bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
}

int dl_listen_open(const char *path)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = fill_addr(&sa, path);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = bind_replacing_stale(fd, &sa);
	if (rc) {
		log_err("cannot bind %s: %s", path, rc == -EADDRINUSE ?
			"another daxleased is listening there" : strerror(-rc));
		goto err;
	}
	if (chmod(path, 0666) || listen(fd, 128)) {
		rc = -errno;
		log_err("cannot listen on %s: %s", path, strerror(errno));
		unlink(path);
		goto err;
	}
	return fd;
err:
	close(fd);
	return rc;
}
