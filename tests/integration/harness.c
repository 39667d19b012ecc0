/* SPDX-License-Identifier: BSD-3-Clause */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "fs.h"
#include "namespace.h"

#define WAIT_STEP_MS 10
#define WAIT_STEPS 1000		/* 10 s */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *dlh_daemon_path(void)
{
	const char *p = getenv("DAXLEASE_DAEMON");

	return p && *p ? p : NULL;
}

int dlh_image_create(const char *path, uint64_t size, uint64_t align)
{
	struct dl_ns_params p = { .size = size, .align = align, .name = "it" };
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	rc = dl_nvdimm_create(path, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns, &err);
	if (!rc)
		rc = dl_fs_format(ns, NULL, &err);
	if (ns)
		dl_ns_close(&ns);
	if (rc)
		fprintf(stderr, "harness: image %s: %s\n", path, err.msg);
	return rc;
}

static int image_unsafe_shutdowns(const char *path, uint64_t *unsafe,
				  bool *clean)
{
	struct dl_err err = { 0 };
	struct dl_ns_info info;
	struct dl_ns *ns = NULL;
	int rc = dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns, &err);

	if (rc) {
		fprintf(stderr, "harness: open %s: %s\n", path, err.msg);
		return rc;
	}
	dl_ns_get_info(ns, &info);
	*unsafe = info.unsafe_shutdowns;
	*clean = info.was_clean;
	dl_ns_close(&ns);
	return 0;
}

void dlh_dump_stderr(const struct dlh_daemon *d)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(d->errlog, "r");

	if (!f)
		return;
	fprintf(stderr, "---- daxleased stderr (%s) ----\n", d->errlog);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of daxleased stderr ----\n");
	fclose(f);
}

static int fill_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		fprintf(stderr, "harness: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

static int connect_once(const char *path)
{
	struct sockaddr_un sun;
	int s;

	if (fill_sun(&sun, path))
		return -1;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	return s;
}

int dlh_connect(const char *path)
{
	for (int i = 0; i < WAIT_STEPS; i++) {
		int s = connect_once(path);

		if (s >= 0)
			return s;
		if (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN) {
			fprintf(stderr, "harness: connect %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "harness: %s did not accept within 10 s\n", path);
	return -1;
}

static int bind_listener(const char *path)
{
	struct sockaddr_un sun;
	int s;

	if (fill_sun(&sun, path))
		return -1;
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(s, 64)) {
		perror("harness: listening socket");
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static void child_exec(const struct dlh_daemon *d, const struct dlh_opts *o,
		       int listen_fd)
{
	const char *argv[DLH_MAX_ARGS + 8];
	int n = 0, fd;

	fd = open(d->errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	argv[n++] = dlh_daemon_path();
	argv[n++] = "--image";
	argv[n++] = d->image;
	if (listen_fd >= 0) {
		char pid[32];

		if (listen_fd != 3) {
			if (dup2(listen_fd, 3) < 0)
				_exit(126);
			close(listen_fd);
		} else {
			fcntl(3, F_SETFD, 0);
		}
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", pid, 1);
	} else {
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		argv[n++] = "--socket";
		argv[n++] = d->socket;
	}
	/* a test that changes a range it leased itself waits 1 ms for its
	 * own lease, not the default 10 s (extra arguments may override) */
	argv[n++] = "--lease-timeout";
	argv[n++] = "1";
	for (int i = 0; i < DLH_MAX_ARGS && o->extra[i]; i++)
		argv[n++] = o->extra[i];
	argv[n] = NULL;
	/* close everything else the test had open */
	for (int i = 4; i < 1024; i++)
		close(i);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int dlh_start(struct dlh_daemon *d, const struct dlh_opts *o)
{
	static unsigned count;
	static const struct dlh_opts dflt;
	char name[64];
	bool clean;
	int listen_fd = -1, s;

	if (!o)
		o = &dflt;
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (!dlh_daemon_path()) {
		fprintf(stderr, "harness: DAXLEASE_DAEMON is not set\n");
		return -1;
	}
	if (o->name)
		snprintf(name, sizeof(name), "%s", o->name);
	else
		snprintf(name, sizeof(name), "d%u", count++);
	snprintf(d->dir, sizeof(d->dir), "%s", dl_test_path(name));
	if (mkdir(d->dir, 0755) && errno != EEXIST) {
		perror(d->dir);
		return -1;
	}
	/* the directory is searchable by anyone: access tests connect as
	 * another user */
	chmod(d->dir, 0755);
	chmod(dl_test_tmpdir(), 0755);
	snprintf(d->image, sizeof(d->image), "%s/nvdimm.img", d->dir);
	snprintf(d->socket, sizeof(d->socket), "%s/daxleased.sock", d->dir);
	snprintf(d->errlog, sizeof(d->errlog), "%s/daxleased.stderr", d->dir);
	if (!o->reuse_image &&
	    dlh_image_create(d->image, o->size ? o->size : 64ULL << 20,
			     o->align ? o->align : 2ULL << 20))
		return -1;
	if (image_unsafe_shutdowns(d->image, &d->unsafe_before, &clean))
		return -1;
	/* the daemon's open counts an unclean close once */
	if (!clean)
		d->unsafe_before++;
	if (o->socket_activation) {
		listen_fd = bind_listener(d->socket);
		if (listen_fd < 0)
			return -1;
	}
	fflush(NULL);
	d->pid = fork();
	if (d->pid < 0) {
		perror("fork");
		return -1;
	}
	if (d->pid == 0)
		child_exec(d, o, listen_fd);
	if (listen_fd >= 0)
		close(listen_fd);
	/* ready when it accepts; an early exit is a failure at once */
	for (int i = 0; i < WAIT_STEPS; i++) {
		int status;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "harness: daxleased exited before it "
				"was ready (status 0x%x)\n", status);
			d->pid = -1;
			dlh_dump_stderr(d);
			return -1;
		}
		s = connect_once(d->socket);
		if (s >= 0) {
			close(s);
			return 0;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "harness: daxleased did not accept on %s within "
		"10 s\n", d->socket);
	dlh_kill(d);
	dlh_dump_stderr(d);
	return -1;
}

void dlh_kill(struct dlh_daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = -1;
}

int dlh_alive(struct dlh_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return 0;
	if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
		fprintf(stderr, "harness: daxleased died (status 0x%x)\n",
			status);
		dlh_dump_stderr(d);
		d->pid = -1;
		return 0;
	}
	return 1;
}

static int check_image(struct dlh_daemon *d)
{
	struct dl_check_report *rep = calloc(1, sizeof(*rep));
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	struct dl_ns_info info;
	int rc, bad = 0;

	if (!rep)
		return -1;
	rc = dl_nvdimm_open(d->image, DL_MAP_READ_ONLY, &ns, &err);
	if (rc) {
		fprintf(stderr, "harness: reopen %s: %s\n", d->image, err.msg);
		free(rep);
		return -1;
	}
	dl_ns_get_info(ns, &info);
	if (!info.was_clean || info.unsafe_shutdowns != d->unsafe_before) {
		fprintf(stderr, "harness: image not marked clean after stop "
			"(was_clean %d, unsafe_shutdowns %llu, before %llu)\n",
			info.was_clean,
			(unsigned long long)info.unsafe_shutdowns,
			(unsigned long long)d->unsafe_before);
		bad = 1;
	}
	rc = dl_fs_check(ns, rep, &err);
	if (rc) {
		fprintf(stderr, "harness: check %s: %s\n", d->image, err.msg);
		bad = 1;
	} else {
		for (size_t i = 0; i < rep->nproblems &&
				   i < DL_CHECK_MAX_PROBLEMS; i++)
			fprintf(stderr, "harness: check: %s: %s\n",
				rep->problems[i].kind, rep->problems[i].detail);
		if (rep->nproblems)
			bad = 1;
		d->pin_records = rep->pin_records;
		if (strcmp(rep->journal_state, "clean")) {
			fprintf(stderr, "harness: check: journal %s\n",
				rep->journal_state);
			bad = 1;
		}
	}
	dl_ns_close(&ns);
	free(rep);
	return bad ? -1 : 0;
}

int dlh_run_expect_exit(const char *const *args, const char *errlog)
{
	const char *argv[DLH_MAX_ARGS + 2];
	int n = 0, status;
	pid_t pid;

	argv[n++] = dlh_daemon_path();
	while (n <= DLH_MAX_ARGS && args[n - 1]) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < WAIT_STEPS; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		sleep_ms(WAIT_STEP_MS);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

bool dlh_usage_error(const char *image, const char *opt, const char *val)
{
	const char *args[] = { "--image", image, opt, val, NULL };
	int st = dlh_run_expect_exit(args, dl_test_path("usage.stderr"));

	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2)
		return true;
	fprintf(stderr, "harness: daxleased %s %s: status %#x, not a usage "
		"error\n", opt, val, st);
	return false;
}

int dlh_stop(struct dlh_daemon *d)
{
	return dlh_stop_with(d, SIGTERM);
}

int dlh_stop_with(struct dlh_daemon *d, int sig)
{
	int status = 0, bad = 0;
	pid_t r = 0;

	if (d->pid <= 0) {
		fprintf(stderr, "harness: no daemon to stop\n");
		return -1;
	}
	if (kill(d->pid, sig)) {
		perror("harness: SIGTERM");
		return -1;
	}
	/* bounded: a daemon that ignores SIGTERM fails the test */
	for (int i = 0; i < 3 * WAIT_STEPS; i++) {
		r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid)
			break;
		sleep_ms(WAIT_STEP_MS);
	}
	if (r != d->pid) {
		fprintf(stderr, "harness: daxleased did not exit within 30 s "
			"of SIGTERM\n");
		dlh_kill(d);
		dlh_dump_stderr(d);
		return -1;
	}
	d->pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "harness: daxleased stopped with status 0x%x "
			"(want exit 0)\n", status);
		bad = 1;
	}
	if (check_image(d))
		bad = 1;
	if (bad)
		dlh_dump_stderr(d);
	return bad ? -1 : 0;
}

int dlh_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

long dlh_proc_status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

long dlh_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* the command may hold spaces and parentheses: fields after the
	 * last ')' are "state ppid ..."; utime and stime are 14 and 15 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %lu %lu", &utime, &stime) != 2)
		return -1;
	return (long)(utime + stime);
}

int dlh_log_lines_with(const struct dlh_daemon *d, const char *s)
{
	FILE *f = fopen(d->errlog, "r");
	char line[4096];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, s) != NULL;
	if (f)
		fclose(f);
	return n;
}

int dlh_drop_to_nobody(void)
{
	if (getuid())
		return 0;
	return setgroups(0, NULL) || setgid(65534) || setuid(65534) ? -1 : 0;
}

const char *dlh_own_group(void)
{
	static char name[64];
	struct group *g = getgrgid(getgid());

	if (!g)
		return NULL;
	snprintf(name, sizeof(name), "%s", g->gr_name);
	return name;
}

/* ---- raw client ------------------------------------------------------------ */

int dlh_raw_send_bytes(int sock, const void *buf, size_t len)
{
	ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);

	return n == (ssize_t)len ? 0 : -1;
}

int dlh_raw_send(int sock, uint16_t version, uint16_t opcode,
		 uint64_t request_id, const void *payload, size_t len,
		 const int *fds, int nfds)
{
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC, .version = version, .opcode = opcode,
		.length = (uint32_t)len, .request_id = request_id,
	};
	struct iovec iov[2] = {
		{ &h, sizeof(h) }, { (void *)payload, len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (nfds > 16)
		return -1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	n = sendmsg(sock, &m, MSG_NOSIGNAL);
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

ssize_t dlh_raw_recv(int sock, struct dl_msg_hdr *hdr, void *payload,
		     size_t max, int *fds, int *nfds)
{
	static char buf[DL_PROTO_MAX_MSG + 4096];
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} u;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = u.b, .msg_controllen = sizeof(u.b),
		};
		struct cmsghdr *c;
		ssize_t n, plen;
		int got = 0;

		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n < 0)
			return -1;
		if (n == 0)
			return -2;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			int *p = (int *)CMSG_DATA(c);
			size_t k;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				if (fds && got < 16)
					fds[got++] = p[i];
				else
					close(p[i]);
			}
		}
		if (nfds)
			*nfds = got;
		if ((size_t)n < sizeof(*hdr))
			return -3;
		memcpy(hdr, buf, sizeof(*hdr));
		if (hdr->request_id == 0 && (hdr->flags & DL_MSG_EVENT)) {
			for (int i = 0; fds && i < got; i++)
				close(fds[i]);
			continue;
		}
		plen = n - (ssize_t)sizeof(*hdr);
		if (payload)
			memcpy(payload, buf + sizeof(*hdr),
			       (size_t)plen < max ? (size_t)plen : max);
		return plen;
	}
}

int dlh_raw_hello(int sock, struct dl_hello_rep *rep)
{
	struct dl_hello_req req = {
		.min_version = DL_PROTO_VERSION_MIN,
		.max_version = DL_PROTO_VERSION_MAX,
	};
	struct dl_hello_rep r;
	struct dl_msg_hdr h;
	ssize_t n;

	strcpy(req.client_name, "it-raw");
	if (dlh_raw_send(sock, 0, DL_OP_HELLO, 1, &req, sizeof(req), NULL, 0))
		return -EIO;
	memset(&r, 0, sizeof(r));
	n = dlh_raw_recv(sock, &h, &r, sizeof(r), NULL, NULL);
	if (n < 0)
		return -EIO;
	if (h.status)
		return h.status;
	if (rep)
		*rep = r;
	return r.version;
}

int dlh_raw_call(int sock, uint16_t opcode, const void *req, size_t len,
		 void *rep, size_t max, size_t *replen)
{
	static uint64_t next_id = 1000;
	uint64_t id = next_id++;
	struct dl_msg_hdr h;
	ssize_t n;

	if (dlh_raw_send(sock, 1, opcode, id, req, len, NULL, 0))
		return DLH_NO_REPLY;
	n = dlh_raw_recv(sock, &h, rep, max, NULL, NULL);
	if (n < 0 || h.magic != DL_PROTO_MAGIC || h.request_id != id ||
	    !(h.flags & DL_MSG_REPLY)) {
		if (n >= 0)
			fprintf(stderr, "harness: odd reply (magic %#x id %llu "
				"want %llu flags %#x)\n", h.magic,
				(unsigned long long)h.request_id,
				(unsigned long long)id, h.flags);
		return DLH_NO_REPLY;
	}
	if (replen)
		*replen = (size_t)n;
	return h.status;
}

int dlh_peer_closed(int sock)
{
	char buf[DL_PROTO_MAX_MSG + 4096];

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return 0;	/* nothing within 10 s: not closed */
		n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == ECONNRESET;
		/* a message (an error reply?) before the close: read on */
	}
}

int dlh_ev_pipe(int ev[2])
{
	if (pipe(ev))
		return -errno;
	return fcntl(ev[0], F_SETFL, O_NONBLOCK) ? -errno : 0;
}

bool dlh_ev_empty(int ev)
{
	char b;

	return read(ev, &b, 1) < 0 && errno == EAGAIN;
}

char dlh_ev_next(int ev)
{
	struct pollfd p = { .fd = ev, .events = POLLIN };
	char b = 0;

	if (poll(&p, 1, 30000) == 1 && read(ev, &b, 1) != 1)
		b = 0;
	return b;
}

int dlh_prepare(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!dlh_daemon_path()) {
		printf("skip: DAXLEASE_DAEMON is not set\n");
		return DL_TEST_SKIP;
	}
	return 0;
}

int dlh_main_in_memory(CU_SuiteInfo *suites)
{
	if (!getenv("TMPDIR") && !access("/dev/shm", W_OK))
		setenv("TMPDIR", "/dev/shm", 0);
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}
