/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_access.c - who may do what, decided by SO_PEERCRED.
 *
 * The daemon runs as root without --dax-group, so only root may map.
 * Each case forks a child that drops to uid/gid 65534 (no supplementary
 * groups) and connects on its own: the daemon knows it only by the
 * credentials of its socket.  Root then does the same things and may.
 * Needs root to change uid: skips (77) otherwise.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <sys/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "nobody.h"
#include "leased.h"

#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)

static struct dlh_daemon dmn;
static struct daxlease_ctx *root;

/* Unlink or rename of another's file: docs/protocol.md says the directory
 * behaves like a sticky one (/tmp), so -EPERM. */
#define UNLINK_DENIED(rc) ((rc) == -EPERM)

static int suite_init(void)
{
	struct daxlease_file *f;

	if (dlh_start(&dmn, NULL) || daxlease_new(&root, dmn.socket))
		return -1;
	/* the socket's permissions are the admin's choice: open it up so
	 * that only SO_PEERCRED decides */
	chmod(dmn.socket, 0666);
	if (daxlease_open(root, "root-private", RW | DAXLEASE_O_CREATE, 0600,
			  &f) || daxlease_pwrite(f, "secret", 6, 0) != 6 ||
	    daxlease_close(f))
		return -1;
	if (daxlease_open(root, "root-public", RW | DAXLEASE_O_CREATE, 0644,
			  &f) || daxlease_pwrite(f, "public", 6, 0) != 6 ||
	    daxlease_truncate(f, 64 * 1024) || daxlease_close(f))
		return -1;
	return 0;
}

static int suite_clean(void)
{
	if (root)
		daxlease_unref(root);
	dlh_kill(&dmn);
	return 0;
}

/* ---- the unprivileged side, in a child process ------------------------- */

static int as_nobody(void)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL, *g = NULL;
	struct daxlease_map *m = NULL;
	struct daxlease_info info;
	struct daxlease_stat st;
	char buf[8];
	int rc;

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("drop privileges");
		return 2;
	}
	rc = daxlease_new(&c, dmn.socket);
	if (rc) {
		fprintf(stderr, "nobody: connect: %s\n", strerror(-rc));
		return 3;
	}
	daxlease_get_info(c, &info);
	EXPECT(!(info.server_flags & DL_SRV_DAX_ALLOWED));
	EXPECT(!(info.server_flags & DL_SRV_ADMIN));

	/* a 0600 root file: no read, no write */
	EXPECT(daxlease_open(c, "root-private", DAXLEASE_O_READ, 0, &f) ==
	       -EACCES);
	EXPECT(daxlease_open(c, "root-private", RW, 0, &f) == -EACCES);
	/* a 0644 root file: read yes, write no */
	EXPECT(daxlease_open(c, "root-public", RW, 0, &f) == -EACCES);
	EXPECT(daxlease_open(c, "root-public", DAXLEASE_O_READ |
			     DAXLEASE_O_TRUNC, 0, &f) < 0);
	rc = daxlease_open(c, "root-public", DAXLEASE_O_READ, 0, &f);
	EXPECT(rc == 0);
	if (!rc) {
		EXPECT(daxlease_pread(f, buf, 6, 0) == 6 &&
		       !memcmp(buf, "public", 6));
		/* a read-only handle cannot change the file */
		EXPECT(daxlease_pwrite(f, "x", 1, 0) == -EBADF);
		/* ftruncate(2) on a read-only fd */
		EXPECT(daxlease_truncate(f, 0) == -EINVAL);
		EXPECT(daxlease_fallocate(f, 0, 0, 4096) == -EBADF);
		EXPECT(daxlease_setattr(f, DAXLEASE_ATTR_MODE, 0666, 0, 0) ==
		       -EPERM);
		/* no DAX access, not even for reading */
		EXPECT(leased_map(f, 0, 4096, DAXLEASE_PROT_READ, &m) ==
		       -EACCES);
		EXPECT(daxlease_close(f) == 0);
	}
	/* stat by name is allowed (the directory is readable) */
	EXPECT(daxlease_stat(c, "root-private", &st) == 0 && st.uid == 0);
	/* no unlink or rename of root's files */
	rc = daxlease_unlink(c, "root-public");
	EXPECT(UNLINK_DENIED(rc));
	rc = daxlease_rename(c, "root-public", "stolen", 0);
	EXPECT(UNLINK_DENIED(rc));
	EXPECT(daxlease_stat(c, "stolen", &st) == -ENOENT);

	/* its own file: owned by 65534, and everything but map works */
	rc = daxlease_open(c, "nobody-file", RW | DAXLEASE_O_CREATE, 0640, &g);
	EXPECT(rc == 0);
	if (!rc) {
		EXPECT(daxlease_fstat(g, &st) == 0);
		EXPECT(st.uid == NOBODY && st.gid == NOBODY);
		EXPECT((st.mode & 07777) == 0640);
		EXPECT(daxlease_pwrite(g, "mine", 4, 0) == 4);
		EXPECT(daxlease_truncate(g, 8192) == 0);
		EXPECT(daxlease_fallocate(g, 0, 0, 16384) == 0);
		EXPECT(leased_map(g, 0, 4096, DAXLEASE_PROT_READ |
				    DAXLEASE_PROT_WRITE, &m) == -EACCES);
		EXPECT(leased_map(g, 0, 4096, DAXLEASE_PROT_READ, &m) ==
		       -EACCES);
		/* giving the file away is root's business */
		EXPECT(daxlease_setattr(g, DAXLEASE_ATTR_UID, 0, 0, 0) ==
		       -EPERM);
		EXPECT(daxlease_setattr(g, DAXLEASE_ATTR_MODE, 0644, 0, 0) ==
		       0);
		EXPECT(daxlease_close(g) == 0);
	}
	daxlease_unref(c);
	return failures ? 1 : 0;
}

static void run_as_nobody(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(as_nobody());
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_unprivileged(void)
{
	struct daxlease_stat st;

	run_as_nobody();
	/* what the child was refused did not happen */
	CU_ASSERT_EQUAL(daxlease_stat(root, "root-public", &st), 0);
	CU_ASSERT_EQUAL(st.size, 64 * 1024);
	CU_ASSERT_EQUAL(daxlease_stat(root, "root-private", &st), 0);
	CU_ASSERT_EQUAL(st.mode & 07777, 0600);
	CU_ASSERT_EQUAL(daxlease_stat(root, "nobody-file", &st), 0);
	CU_ASSERT_EQUAL(st.uid, NOBODY);
	CU_ASSERT_EQUAL(st.mode & 07777, 0644);
	CU_ASSERT_EQUAL(st.size, 16384);
}

/* Root may do all of it, to anyone's files. */
static void test_root_may(void)
{
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	struct daxlease_info info;
	struct daxlease_stat st;
	char buf[8];

	daxlease_get_info(root, &info);
	CU_ASSERT_TRUE(info.server_flags & DL_SRV_DAX_ALLOWED);
	CU_ASSERT_TRUE(info.server_flags & DL_SRV_ADMIN);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(root, "nobody-file", RW, 0, &f), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, 4, 0), 4);
	CU_ASSERT_EQUAL(memcmp(buf, "mine", 4), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "root", 4, 0), 4);
	CU_ASSERT_EQUAL(leased_map(f, 0, 4096, DAXLEASE_PROT_READ |
				     DAXLEASE_PROT_WRITE, &m), 0);
	if (m) {
		CU_ASSERT_EQUAL(memcmp(daxlease_map_addr(m), "root", 4), 0);
		CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	}
	CU_ASSERT_EQUAL(daxlease_setattr(f, DAXLEASE_ATTR_UID |
					 DAXLEASE_ATTR_GID, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.uid, 0);
	CU_ASSERT_EQUAL(st.gid, 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_open(root, "root-private", RW, 0, &f), 0);
	if (f)
		CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_rename(root, "nobody-file", "renamed", 0), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "renamed"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "root-public"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "root-private"), 0);
}

/* ---- --dax-group and --admin-group ------------------------------------------ */

static struct dlh_daemon grp_dmn;

/* A child in group `gid` (supplementary only, or primary): DAX and admin
 * by membership. */
static int as_member(gid_t gid, int supplementary)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	struct daxlease_info info;
	char buf[8];

	if (supplementary ? setgroups(1, &gid) || setgid(NOBODY) :
			    setgroups(0, NULL) || setgid(gid))
		return 2;
	if (setuid(NOBODY))
		return 2;
	if (daxlease_new(&c, grp_dmn.socket))
		return 3;
	daxlease_get_info(c, &info);
	EXPECT(info.server_flags & DL_SRV_DAX_ALLOWED);
	EXPECT(info.server_flags & DL_SRV_ADMIN);
	EXPECT(daxlease_open(c, supplementary ? "m-supp" : "m-prim",
			     RW | DAXLEASE_O_CREATE, 0600, &f) == 0);
	if (f) {
		EXPECT(daxlease_truncate(f, 4096) == 0);
		EXPECT(leased_map(f, 0, 4096, DAXLEASE_PROT_READ |
				    DAXLEASE_PROT_WRITE, &m) == 0);
		if (m) {
			memcpy(daxlease_map_addr(m), "mapped", 6);
			EXPECT(daxlease_map_persist(m, 0, 4096) == 0);
			EXPECT(daxlease_unmap(m) == 0);
		}
		EXPECT(daxlease_pread(f, buf, 6, 0) == 6 &&
		       !memcmp(buf, "mapped", 6));
		/* DAX access is not a licence for other people's files */
		{
			struct daxlease_file *g = NULL;

			EXPECT(daxlease_open(c, "g-root", DAXLEASE_O_READ, 0,
					     &g) == -EACCES);
		}
		EXPECT(daxlease_close(f) == 0);
	}
	daxlease_unref(c);
	return failures ? 1 : 0;
}

static int as_nonmember(void)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_info info;

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 2;
	if (daxlease_new(&c, grp_dmn.socket))
		return 3;
	daxlease_get_info(c, &info);
	EXPECT(!(info.server_flags & DL_SRV_DAX_ALLOWED));
	EXPECT(!(info.server_flags & DL_SRV_ADMIN));
	daxlease_unref(c);
	return failures ? 1 : 0;
}

static void run_child(int which)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(which == 0 ? as_member(100, 1) :
		      which == 1 ? as_member(100, 0) : as_nonmember());
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_groups(void)
{
	struct dlh_opts o = {
		.name = "groups",
		.extra = { "--dax-group", "users", "--admin-group", "users" },
	};
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;

	if (!getgrnam("users") || getgrnam("users")->gr_gid != 100) {
		printf("  (skipped: no group 'users' with gid 100)\n");
		return;
	}
	CU_ASSERT_FATAL(dlh_start(&grp_dmn, &o) == 0);
	chmod(grp_dmn.socket, 0666);
	CU_ASSERT_FATAL(daxlease_new(&c, grp_dmn.socket) == 0);
	CU_ASSERT_EQUAL(daxlease_open(c, "g-root", RW | DAXLEASE_O_CREATE,
				      0600, &f), 0);
	if (f)
		daxlease_close(f);
	run_child(0);	/* supplementary group */
	run_child(1);	/* primary group */
	run_child(2);	/* neither */
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&grp_dmn), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(root);
	root = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "uid 65534: refused what it may not do", test_unprivileged },
	{ "root may do all of it", test_root_may },
	{ "--dax-group and --admin-group members", test_groups },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "access", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare() || nobody_main_check())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}
