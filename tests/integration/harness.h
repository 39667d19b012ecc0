/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.h - integration tests: a real daxleased on a fresh fake NVDIMM.
 *
 * dlh_start() creates a fake NVDIMM image in the test's temporary
 * directory (dl_nvdimm_create + dl_fs_format), starts the daemon binary
 * named by $DAXLEASE_DAEMON on it with its socket beside it and its
 * stderr in a file, and waits until the socket accepts a connection.
 * The daemon runs with --lease-timeout 1 (before the test's own extra
 * arguments, which may override it): MAP and PIN need a lease
 * (leased.h), and a test that changes a range it leased itself then
 * waits a millisecond for its own lease, not ten seconds.
 * dlh_stop() sends SIGTERM and checks what a clean stop means: exit
 * status 0, the image marked clean (no new unsafe shutdown) and
 * check-namespace finding nothing.
 *
 * The raw client is a SOCK_SEQPACKET socket driven with hand-built
 * proto.h messages, for the tests that must send what libdaxlease never
 * would.
 *
 * Every function returns 0 (or a value) on success and prints why on
 * failure, so a CUnit assertion on its result is enough.
 */
#ifndef DAXLEASE_TESTS_HARNESS_H
#define DAXLEASE_TESTS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <CUnit/CUnit.h>

#include "daxlease/proto.h"

#define DLH_MAX_ARGS 16

struct dlh_opts {
	uint64_t size;		/* 0: 64 MiB */
	uint64_t align;		/* 0: 2 MiB */
	const char *name;	/* directory name under the test tmpdir; NULL: "d<N>" */
	const char *extra[DLH_MAX_ARGS];	/* more daemon arguments */
	bool reuse_image;	/* restart on the image already in the
				   directory (after a crash, say) */
	int socket_activation;	/* bind the socket here and pass it as fd 3
				   (LISTEN_FDS/LISTEN_PID), no --socket */
};

struct dlh_daemon {
	char dir[PATH_MAX - 64];
	char image[PATH_MAX];
	char socket[PATH_MAX];
	char errlog[PATH_MAX];
	pid_t pid;
	uint64_t unsafe_before;	/* unsafe_shutdowns once the daemon opened it */
	uint64_t pin_records;	/* left on the image at the last dlh_stop */
};

/* The daemon binary ($DAXLEASE_DAEMON), or NULL when it is not set. */
const char *dlh_daemon_path(void);

/* Create and format a fake NVDIMM image (size, align). */
int dlh_image_create(const char *path, uint64_t size, uint64_t align);

/* Create the image and start the daemon; 0 or -1 (stderr printed). */
int dlh_start(struct dlh_daemon *d, const struct dlh_opts *o);
/* SIGTERM, exit status 0, image clean, check clean: 0 or -1. */
int dlh_stop(struct dlh_daemon *d);
/* The same with another signal (SIGINT). */
int dlh_stop_with(struct dlh_daemon *d, int sig);
/* Run the daemon binary with these arguments (NULL-terminated), stderr to
 * errlog, and wait up to 10 s for it to exit: its wait status, or -1 if
 * it was still running (then it is killed). */
int dlh_run_expect_exit(const char *const *args, const char *errlog);
/* Does daxleased --image image opt val exit with status 2, a usage
 * error (the status printed if not)? */
bool dlh_usage_error(const char *image, const char *opt, const char *val);
/* Kill without checks (cleanup after a failed test). */
void dlh_kill(struct dlh_daemon *d);
/* Is the daemon still running (not exited, not a zombie)? */
int dlh_alive(struct dlh_daemon *d);
/* Print the daemon's stderr so far. */
void dlh_dump_stderr(const struct dlh_daemon *d);

/* Number of open fds of a process (/proc/PID/fd), or -1. */
int dlh_count_fds(pid_t pid);
/* A "Key:   N kB" line of /proc/PID/status (VmRSS, RssAnon...), in KiB;
 * -1 if there is none. */
long dlh_proc_status_kib(pid_t pid, const char *key);
/* The CPU time a process has used (user + system), in clock ticks
 * (sysconf(_SC_CLK_TCK) a second), from /proc/PID/stat; -1 on error. */
long dlh_cpu_ticks(pid_t pid);
/* How many lines of the daemon's stderr so far hold s. */
int dlh_log_lines_with(const struct dlh_daemon *d, const char *s);
/* Become uid and gid 65534, no supplementary groups (a hostile local
 * user), when running as root; nothing otherwise.  0 or -1. */
int dlh_drop_to_nobody(void);
/* The name of the caller's own group (for --admin-group: admin views
 * for whoever runs the test, root or not), or NULL. */
const char *dlh_own_group(void);

/* Connect a SOCK_SEQPACKET socket to path, retrying up to ~10 s while
 * the socket is not there yet; -1 on failure. */
int dlh_connect(const char *path);

/* ---- raw client ---------------------------------------------------------- */

/* Send one message (header + payload), with fds as SCM_RIGHTS if nfds. */
int dlh_raw_send(int sock, uint16_t version, uint16_t opcode,
		 uint64_t request_id, const void *payload, size_t len,
		 const int *fds, int nfds);
/* Send bytes exactly as given (no header added). */
int dlh_raw_send_bytes(int sock, const void *buf, size_t len);
/*
 * Receive one message: returns the payload length (>= 0), or -1 on a
 * read error, or -2 when the peer closed (recv returned 0), or -3 when
 * the message is shorter than a header.  Received fds go to fds[]
 * (closed if fds is NULL); *nfds is set when given.  Events (request id
 * 0) are skipped.
 */
ssize_t dlh_raw_recv(int sock, struct dl_msg_hdr *hdr, void *payload,
		     size_t max, int *fds, int *nfds);
/* HELLO asking for [1, 1]; returns the negotiated version or -errno,
 * fills rep if given. */
int dlh_raw_hello(int sock, struct dl_hello_rep *rep);
/*
 * Request/reply round trip with the negotiated version 1: returns the
 * reply status (0 or -errno), or INT32_MIN if no reply came (closed or
 * malformed).  The reply payload is copied to rep (up to max bytes) and
 * its length stored in *replen if given.
 */
int dlh_raw_call(int sock, uint16_t opcode, const void *req, size_t len,
		 void *rep, size_t max, size_t *replen);
#define DLH_NO_REPLY INT32_MIN

/* Would a recv() on sock see EOF (the peer closed), waiting up to 10 s? */
int dlh_peer_closed(int sock);

/*
 * Ordering pipes: processes write one byte per event as it happens and the
 * test reads them in order, so tests assert the order of events, never
 * times.  dlh_ev_pipe makes the read end non-blocking (0 or -errno);
 * dlh_ev_empty says no byte has arrived yet; dlh_ev_next returns the next
 * byte, waiting up to 30 s (0 if none came).
 */
int dlh_ev_pipe(int ev[2]);
bool dlh_ev_empty(int ev);
char dlh_ev_next(int ev);

/*
 * What every integration test's main() does first: ignore SIGPIPE (a
 * daemon that drops us must show as an error, not kill the test) and check
 * that CMake told us where the daemon is.  Returns 0, or DL_TEST_SKIP with
 * the reason printed.
 */
int dlh_prepare(void);
/* main() of a suite whose images belong in memory (they are about the
 * daemon, not the disk): TMPDIR=/dev/shm unless it is set or there is
 * none, dlh_prepare(), then the suites: the exit status. */
int dlh_main_in_memory(CU_SuiteInfo *suites);

#endif
