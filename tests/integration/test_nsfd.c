/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nsfd.c - what a client can do with the namespace fd a MAP reply
 * gives it (issue 10, item 6).
 *
 * A client with DAX access may store anywhere in the namespace, as it
 * could on /dev/daxX.Y.  It must not be able to kill the daemon or
 * destroy the fake NVDIMM's identity (its header copies and its label
 * area, which lie outside the namespace in the same image file).  Each
 * case starts its own daemon with --dax-group users; the hostile client
 * is a child process that drops to uid 65534 in group users (root when
 * there is no such group), maps a file of its own through libdaxlease,
 * finds the image among its fds and then does what the case says:
 * ftruncate to 0 or into the namespace, a punch of the whole file, or
 * stores over the header through a mapping of its own.  A read-only MAP
 * must give a read-only fd.
 *
 * Needs root (to run the child as another user): skips (77) otherwise.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_util.h"
#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "leased.h"
#include "namespace.h"

#define MiB (1ULL << 20)
#define KiB 1024ULL
#define NOBODY 65534
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
/* the image's header copies and label area: everything before 144 KiB */
#define META_BYTES (144 * KiB)

static gid_t dax_gid = (gid_t)-1;	/* "users", if there is one */

/* ---- the daemon ---------------------------------------------------------- */

struct nsfd_case {
	struct dlh_daemon d;
	struct daxlease_ctx *root;	/* the test's own client (root) */
	uint8_t uuid[16];		/* the namespace's, from HELLO */
	uint64_t ns_size;
	uint64_t image_size;
};

static int case_start(struct nsfd_case *t, const char *name)
{
	struct dlh_opts o = { .name = name };
	struct daxlease_info info;
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (dax_gid != (gid_t)-1) {
		o.extra[0] = "--dax-group";
		o.extra[1] = "users";
	}
	if (dlh_start(&t->d, &o))
		return -1;
	/* only SO_PEERCRED decides who may do what */
	chmod(t->d.socket, 0666);
	if (daxlease_new(&t->root, t->d.socket) || stat(t->d.image, &st))
		return -1;
	daxlease_get_info(t->root, &info);
	memcpy(t->uuid, info.ns_uuid, sizeof(t->uuid));
	t->ns_size = info.ns_size;
	t->image_size = (uint64_t)st.st_size;
	return 0;
}

/* SIGTERM; the wait status (the image is not checked: see image_ok). */
static int case_stop(struct nsfd_case *t)
{
	int status = -1;

	if (t->root)
		daxlease_unref(t->root);
	t->root = NULL;
	if (t->d.pid <= 0)
		return -1;
	kill(t->d.pid, SIGTERM);
	if (waitpid(t->d.pid, &status, 0) != t->d.pid)
		status = -1;
	t->d.pid = -1;
	if (status)
		fprintf(stderr, "daxleased ended with wait status %#x%s\n",
			status, WIFSIGNALED(status) &&
			WTERMSIG(status) == SIGBUS ? " (SIGBUS)" : "");
	return status;
}

/* Is the daemon alive?  (Prints its stderr if it died.) */
static bool case_alive(struct nsfd_case *t)
{
	return dlh_alive(&t->d) != 0;
}

/*
 * The fake NVDIMM's identity survived: the image has its size, and it
 * opens as a namespace (both header copies checked, the label area
 * checked against the header) with the uuid it had.
 */
static void image_ok(const struct nsfd_case *t)
{
	struct dl_err err = { 0 };
	struct dl_ns_info info;
	struct dl_ns *ns = NULL;
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(stat(t->d.image, &st), 0);
	CU_ASSERT_EQUAL((uint64_t)st.st_size, t->image_size);
	CU_ASSERT_EQUAL(dl_nvdimm_open(t->d.image, DL_MAP_READ_ONLY, &ns,
				       &err), 0);
	if (!ns) {
		fprintf(stderr, "reopen %s: %s\n", t->d.image, err.msg);
		return;
	}
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(memcmp(info.uuid, t->uuid, sizeof(t->uuid)), 0);
	CU_ASSERT_EQUAL(info.size, t->ns_size);
	dl_ns_close(&ns);
}

/* Does the daemon's stderr in path hold a line with both words? */
static bool log_has(const char *path, const char *a, const char *b)
{
	char line[2048];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && strstr(line, b);
	fclose(f);
	if (!found)
		fprintf(stderr, "%s: no line with \"%s\" and \"%s\"\n", path,
			a, b);
	return found;
}

/* Does a new client hear from HELLO that the service refuses changes? */
static bool says_read_only(const struct nsfd_case *t)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_info info;

	if (daxlease_new(&c, t->d.socket))
		return false;
	daxlease_get_info(c, &info);
	daxlease_unref(c);
	return info.server_flags & DL_SRV_READ_ONLY;
}

/* The same, polled for up to 20 s: a store through a mapping raises no
 * event, the daemon's own look now and then finds it. */
static bool comes_to_say_read_only(const struct nsfd_case *t)
{
	for (int tries = 0; tries < 2000; tries++) {
		if (says_read_only(t))
			return true;
		usleep(10000);
	}
	return false;
}

/* The service refuses every change, and new mappings; reads and STATUS
 * still work. */
static void refuses_changes(struct nsfd_case *t)
{
	struct daxlease_file *f = NULL, *g = NULL;
	struct daxlease_map *m = NULL;
	struct daxlease_status st;
	char buf[4096];

	CU_ASSERT_EQUAL(daxlease_open(t->root, "data", RW, 0, &f), 0);
	if (!f)
		return;
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "after", 5, 0), -EIO);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 0), -EIO);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0, 0, 2 * MiB), -EIO);
	/* a mapping's reach is recorded on the namespace before its reply
	 * (records.c): a change too, refused even for reading */
	CU_ASSERT_EQUAL(leased_map(f, 0, 64 * KiB, DAXLEASE_PROT_READ, &m),
			-EIO);
	CU_ASSERT_EQUAL(leased_map(f, 0, 64 * KiB, DAXLEASE_PROT_READ |
				   DAXLEASE_PROT_WRITE, &m), -EIO);
	CU_ASSERT_EQUAL(daxlease_open(t->root, "new-file",
				      RW | DAXLEASE_O_CREATE, 0600, &g), -EIO);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_status(t->root, &st), 0);
	CU_ASSERT_TRUE(case_alive(t));
}

/* A 64 KiB file "data" and a 12 MiB file "big", written by root (big
 * through a mapping: one msync, not 192 WRITEs that sync each). */
static void write_files(struct nsfd_case *t)
{
	static uint8_t chunk[64 * KiB];
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;

	memset(chunk, 'd', sizeof(chunk));
	CU_ASSERT_EQUAL_FATAL(daxlease_open(t->root, "data",
					    RW | DAXLEASE_O_CREATE, 0644, &f),
			      0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, chunk, sizeof(chunk), 0),
			(ssize_t)sizeof(chunk));
	daxlease_close(f);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(t->root, "big",
					    RW | DAXLEASE_O_CREATE, 0644, &f),
			      0);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 12 * MiB), 0);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 12 * MiB, DAXLEASE_PROT_READ |
					 DAXLEASE_PROT_WRITE, &m), 0);
	memset(daxlease_map_addr(m), 'b', 12 * MiB);
	CU_ASSERT_EQUAL(daxlease_map_persist(m, 0, 12 * MiB), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	daxlease_close(f);
}

/* Read all of "big" (whatever it holds now): the daemon must answer. */
static void read_big(struct nsfd_case *t)
{
	static uint8_t chunk[64 * KiB];
	struct daxlease_file *f = NULL;

	CU_ASSERT_EQUAL(daxlease_open(t->root, "big", DAXLEASE_O_READ, 0, &f),
			0);
	if (!f)
		return;
	for (uint64_t off = 0; off < 12 * MiB; off += sizeof(chunk))
		if (daxlease_pread(f, chunk, sizeof(chunk), off) !=
		    (ssize_t)sizeof(chunk)) {
			CU_FAIL("read of big failed");
			break;
		}
	daxlease_close(f);
}

/* ---- the hostile client, in a child process ------------------------------ */

static int failures;

#define EXPECT(cond)                                                        \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "client uid %d: line %d: %s (%s)\n", \
				(int)getuid(), __LINE__, #cond,             \
				strerror(errno));                           \
			failures++;                                         \
		}                                                           \
	} while (0)

/* Which of our fds are the image: a bit per fd number (< 1024). */
struct fdset {
	uint64_t bits[16];
};

static void image_fds(const char *image, struct fdset *set)
{
	struct stat want, st;
	struct dirent *e;
	DIR *dir;

	memset(set, 0, sizeof(*set));
	if (stat(image, &want))
		return;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(dir) || fd >= 1024 ||
		    fstat(fd, &st))
			continue;
		if (st.st_dev == want.st_dev && st.st_ino == want.st_ino)
			set->bits[fd / 64] |= 1ULL << (fd % 64);
	}
	closedir(dir);
}

/* The one image fd in now that is not in before (what MAP gave us), or
 * -1.  A forked child also has the test's own (its context's). */
static int new_image_fd(const char *image, const struct fdset *before)
{
	struct fdset now;
	int found = -1;

	image_fds(image, &now);
	for (int fd = 0; fd < 1024; fd++) {
		uint64_t bit = 1ULL << (fd % 64);

		if ((now.bits[fd / 64] & bit) && !(before->bits[fd / 64] & bit)) {
			EXPECT(found < 0);	/* one fd for the image */
			found = fd;
		}
	}
	return found;
}

static int drop_to_dax_member(void)
{
	if (dax_gid == (gid_t)-1)
		return 0;	/* root: still a client with DAX access */
	if (setgroups(1, &dax_gid) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("drop privileges");
		return -1;
	}
	return 0;
}

enum attack {
	TRUNCATE_TO_0,
	TRUNCATE_INTO_NS,
	PUNCH_ALL,
	SCRIBBLE_META,
};

/* Connect, map a file of our own (for read: its one written block),
 * get the image fd. */
static int client_map(const struct nsfd_case *t, struct daxlease_ctx **c,
		      struct daxlease_map **m, unsigned prot,
		      struct fdset *before)
{
	struct daxlease_file *f = NULL;

	image_fds(t->d.image, before);

	if (drop_to_dax_member() || daxlease_new(c, t->d.socket))
		return -1;
	if (daxlease_open(*c, "mine", RW | DAXLEASE_O_CREATE, 0600, &f) ||
	    daxlease_truncate(f, 2 * MiB) ||
	    daxlease_pwrite(f, "mine", 4, 0) != 4)
		return -1;
	if (leased_map(f, 0, prot & DAXLEASE_PROT_WRITE ? 2 * MiB : 4096, prot,
		       m))
		return -1;
	return new_image_fd(t->d.image, before);
}

static int attack(const struct nsfd_case *t, enum attack what)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_map *m = NULL;
	struct fdset before;
	struct stat st;
	void *p;
	int fd;

	fd = client_map(t, &c, &m, DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE,
			&before);
	if (fd < 0)
		return 3;
	EXPECT((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	EXPECT(fstat(fd, &st) == 0);
	switch (what) {
	case TRUNCATE_TO_0:
		EXPECT(ftruncate(fd, 0) == 0);
		break;
	case TRUNCATE_INTO_NS:
		/* 8 MiB of the namespace left: "big" lies beyond it */
		EXPECT(ftruncate(fd, st.st_size - (off_t)t->ns_size +
				 (off_t)(8 * MiB)) == 0);
		break;
	case PUNCH_ALL:
		EXPECT(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				 FALLOC_FL_KEEP_SIZE, 0, st.st_size) == 0);
		break;
	case SCRIBBLE_META:
		/* stores, not syscalls: nothing tells the daemon */
		p = mmap(NULL, META_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		EXPECT(p != MAP_FAILED);
		if (p != MAP_FAILED) {
			memset(p, 0xa5, META_BYTES);
			EXPECT(msync(p, META_BYTES, MS_SYNC) == 0);
			munmap(p, META_BYTES);
		}
		break;
	}
	/* the connection goes with the process: nothing else to undo */
	return failures ? 1 : 0;
}

static int run_child(int (*fn)(const struct nsfd_case *, enum attack),
		     const struct nsfd_case *t, enum attack what)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(t, what));
	return dlc_wait_exit(pid);
}

/* ---- the cases ------------------------------------------------------------- */

/*
 * The attack, then what must hold: the daemon is alive and answers
 * reads, refuses every change, stops with exit status 0, has said what
 * happened, and the image is still the namespace it was.
 */
static void survive(struct nsfd_case *t, const char *name, enum attack what)
{
	CU_ASSERT_FATAL(case_start(t, name) == 0);
	write_files(t);
	CU_ASSERT_EQUAL(run_child(attack, t, what), 0);
	read_big(t);
	CU_ASSERT_TRUE_FATAL(case_alive(t));
	refuses_changes(t);
	CU_ASSERT_TRUE(says_read_only(t));
	CU_ASSERT_EQUAL(case_stop(t), 0);
	CU_ASSERT_TRUE(log_has(t->d.errlog, "error:", "read-only until"));
	image_ok(t);
}

static void test_truncate_to_zero(void)
{
	struct nsfd_case t;

	survive(&t, "trunc0", TRUNCATE_TO_0);
	dlh_kill(&t.d);
}

static void test_truncate_into_namespace(void)
{
	struct nsfd_case t;

	survive(&t, "trunc8m", TRUNCATE_INTO_NS);
	dlh_kill(&t.d);
}

static void test_punch_everything(void)
{
	const char *args[] = { "--image", NULL, "--socket", NULL, NULL };
	struct nsfd_case t;
	char log[PATH_MAX + 16];
	int status;

	survive(&t, "punch", PUNCH_ALL);
	/* the namespace opens again; what the punch did to the filesystem
	 * in it is what stores of zeros would have done */
	args[1] = t.d.image;
	args[3] = t.d.socket;
	snprintf(log, sizeof(log), "%s.restart", t.d.errlog);
	status = dlh_run_expect_exit(args, log);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	CU_ASSERT_TRUE(log_has(log, "error:", "cannot open the filesystem"));
	dlh_kill(&t.d);
}

static void test_scribble_over_header(void)
{
	struct nsfd_case t;

	CU_ASSERT_FATAL(case_start(&t, "scribble") == 0);
	write_files(&t);
	CU_ASSERT_EQUAL(run_child(attack, &t, SCRIBBLE_META), 0);
	CU_ASSERT_TRUE_FATAL(case_alive(&t));
	/* found by the daemon's own look now and then */
	CU_ASSERT_TRUE(comes_to_say_read_only(&t));
	refuses_changes(&t);
	CU_ASSERT_EQUAL(case_stop(&t), 0);
	CU_ASSERT_TRUE(log_has(t.d.errlog, "error:", "header"));
	image_ok(&t);
	dlh_kill(&t.d);
}

/*
 * A read-only MAP gives a read-only fd; the first MAP for write after it
 * brings a read-write one, in the same fd slot, and a read pin's DMA
 * mapping made from the read-only fd does not stop a write pin's DMA.
 */
static int readonly_client(const struct nsfd_case *t, enum attack unused)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_map *m = NULL, *w = NULL;
	struct daxlease_file *f = NULL;
	struct daxlease_pin pin;
	struct fdset before;
	uint64_t contig;
	char buf[8];
	uint8_t *dma;
	void *p;
	int fd, rw;

	(void)unused;
	fd = client_map(t, &c, &m, DAXLEASE_PROT_READ, &before);
	if (fd < 0)
		return 3;
	EXPECT((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	EXPECT(write(fd, "x", 1) < 0 && errno == EBADF);
	EXPECT(pwrite(fd, "x", 1, 0) < 0 && errno == EBADF);
	EXPECT(ftruncate(fd, 0) < 0);
	EXPECT(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			 4096) < 0 && errno == EBADF);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT(p == MAP_FAILED && errno == EACCES);
	/* reading through it works, and the mapping is the file */
	EXPECT(memcmp(daxlease_map_addr(m), "mine", 4) == 0);
	/* a read pin's DMA view (made from the read-only fd) */
	EXPECT(daxlease_map_pin(m, 0, 4096, 0, &pin) == 0);
	dma = daxlease_pin_dma(&pin, 0, &contig);
	EXPECT(dma && memcmp(dma, "mine", 4) == 0);
	EXPECT(daxlease_map_unpin(&pin) == 0);

	/* now for write: a read-write fd, still one fd for the image */
	EXPECT(daxlease_open(c, "mine", RW, 0, &f) == 0);
	EXPECT(f && leased_map(f, 0, 2 * MiB, DAXLEASE_PROT_READ |
			       DAXLEASE_PROT_WRITE, &w) == 0);
	rw = new_image_fd(t->d.image, &before);
	EXPECT(rw == fd);	/* in the read-only one's place */
	EXPECT(rw >= 0 && (fcntl(rw, F_GETFL) & O_ACCMODE) == O_RDWR);
	if (w) {
		memcpy(daxlease_map_addr(w), "MAPW", 4);
		EXPECT(daxlease_map_persist(w, 0, 4096) == 0);
		EXPECT(daxlease_map_pin(w, 4096, 4096, DAXLEASE_PIN_WRITE,
					&pin) == 0);
		dma = daxlease_pin_dma(&pin, 4096, &contig);
		EXPECT(dma != NULL);
		if (dma)
			memcpy(dma, "DMAW", 4);	/* must not fault */
		EXPECT(daxlease_map_unpin(&pin) == 0);
		EXPECT(daxlease_unmap(w) == 0);
	}
	EXPECT(daxlease_pread(f, buf, 4, 0) == 4 && !memcmp(buf, "MAPW", 4));
	EXPECT(daxlease_pread(f, buf, 4, 4096) == 4 &&
	       !memcmp(buf, "DMAW", 4));
	EXPECT(daxlease_unmap(m) == 0);
	daxlease_close(f);
	daxlease_unref(c);
	return failures ? 1 : 0;
}

static void test_readonly_map_fd(void)
{
	struct nsfd_case t;

	CU_ASSERT_FATAL(case_start(&t, "rdonly") == 0);
	CU_ASSERT_EQUAL(run_child(readonly_client, &t, 0), 0);
	CU_ASSERT_TRUE(case_alive(&t));
	CU_ASSERT_FALSE(says_read_only(&t));
	if (t.root)
		daxlease_unref(t.root);
	t.root = NULL;
	/* nothing hostile happened: a clean stop, a clean namespace */
	CU_ASSERT_EQUAL(dlh_stop(&t.d), 0);
}

static CU_TestInfo tests[] = {
	{ "a read-only MAP gives a read-only fd", test_readonly_map_fd },
	{ "ftruncate(ns fd, 0)", test_truncate_to_zero },
	{ "ftruncate(ns fd) into the namespace", test_truncate_into_namespace },
	{ "punch the whole ns fd", test_punch_everything },
	{ "stores over the header and labels", test_scribble_over_header },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "nsfd", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	struct group *g;

	if (dlh_prepare())
		return DL_TEST_SKIP;
	if (geteuid() != 0) {
		printf("skip: needs root to run a client as uid %d\n", NOBODY);
		return DL_TEST_SKIP;
	}
	g = getgrnam("users");
	if (g)
		dax_gid = g->gr_gid;
	else
		printf("  (no group 'users': the hostile client is root)\n");
	return dl_cunit_main(suites);
}
