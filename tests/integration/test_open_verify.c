/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_open_verify.c - what a real daxleased does with an image that is
 * damaged, or that check-namespace looked at:
 *
 *   - an image whose CRCs all pass but where one file's blocks are marked
 *     free and handed to another file (issue 10, row 8): the daemon
 *     refuses to start, exit status non-zero, with a message that names
 *     `daxlease check-namespace`;
 *   - a damaged primary superblock: the daemon starts, logs a warning,
 *     and the primary is rewritten on media;
 *   - check-namespace between a daemon crash and its restart leaves the
 *     unsafe-shutdown state as it was: the restarted daemon still sees
 *     the unclean shutdown and counts it once.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "fs.h"
#include "harness.h"
#include "image_edit.h"
#include "namespace.h"

static uint8_t buf[64 * 1024];

static int put_file(const struct dlh_daemon *d, const char *name,
		    unsigned mode, uint8_t fill, size_t len)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	int rc;

	rc = daxlease_new(&c, d->socket);
	if (!rc)
		rc = daxlease_open(c, name, DAXLEASE_O_READ | DAXLEASE_O_WRITE |
				   DAXLEASE_O_CREATE, mode, &f);
	memset(buf, fill, len);
	if (!rc && daxlease_pwrite(f, buf, len, 0) != (ssize_t)len)
		rc = -1;
	if (f)
		daxlease_close(f);
	if (c)
		daxlease_unref(c);
	return rc;
}

/* Is every byte of the file name `fill`, for len bytes? */
static bool file_holds(const struct dlh_daemon *d, const char *name,
		       uint8_t fill, size_t len)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	bool ok = false;

	if (daxlease_new(&c, d->socket))
		return false;
	if (!daxlease_open(c, name, DAXLEASE_O_READ, 0, &f) &&
	    daxlease_pread(f, buf, len, 0) == (ssize_t)len) {
		ok = true;
		for (size_t i = 0; i < len; i++)
			ok &= buf[i] == fill;
	}
	if (f)
		daxlease_close(f);
	daxlease_unref(c);
	return ok;
}

/* Open the (stopped) daemon's image and let edit() damage it. */
static int edit_image(const char *image, int (*edit)(void *base))
{
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	rc = dl_nvdimm_open(image, DL_MAP_READ_WRITE, &ns, &err);
	if (rc) {
		fprintf(stderr, "open %s: %s\n", image, err.msg);
		return rc;
	}
	rc = edit(dl_ns_base(ns));
	dl_ns_persist(ns, dl_ns_base(ns), dl_ns_size(ns));
	dl_ns_close(&ns);
	return rc;
}

static bool log_has(const char *path, const char *what)
{
	static char text[256 * 1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (!strstr(text, what)) {
		fprintf(stderr, "%s does not say \"%s\"; it says:\n%s\n", path,
			what, text);
		return false;
	}
	return true;
}

/* Run `daxlease check-namespace [--read-only] IMAGE`: its exit status. */
static int run_check(const char *image, bool read_only, const char *out)
{
	const char *cli = getenv("DAXLEASE_CLI");
	int status;
	pid_t pid;

	if (!cli) {
		fprintf(stderr, "DAXLEASE_CLI is not set\n");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (read_only)
			execl(cli, cli, "check-namespace", "--read-only", image,
			      (char *)NULL);
		else
			execl(cli, cli, "check-namespace", image, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The image's health as a read-only open (which changes nothing) sees it. */
static int health(const char *image, bool *clean, uint64_t *unsafe)
{
	struct dl_err err = { 0 };
	struct dl_ns_info info;
	struct dl_ns *ns = NULL;

	if (dl_nvdimm_open(image, DL_MAP_READ_ONLY, &ns, &err)) {
		fprintf(stderr, "open %s: %s\n", image, err.msg);
		return -1;
	}
	dl_ns_get_info(ns, &info);
	*clean = info.was_clean;
	*unsafe = info.unsafe_shutdowns;
	dl_ns_close(&ns);
	return 0;
}

/* ---- an inconsistent image: refused ------------------------------------- */

static int give_a_to_b(void *base)
{
	return ie_hand_over_blocks(base, "a", "b");
}

static void test_blocks_in_two_files_refused(void)
{
	struct dlh_opts o = { .name = "stolen" };
	struct dlh_daemon d;
	char log[PATH_MAX + 32], sock[PATH_MAX + 32], out[PATH_MAX + 32];
	int status;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_EQUAL_FATAL(put_file(&d, "a", 0600, 0xaa, 20000), 0);
	CU_ASSERT_EQUAL_FATAL(put_file(&d, "b", 0644, 0xbb, 8192), 0);
	CU_ASSERT_EQUAL_FATAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL_FATAL(edit_image(d.image, give_a_to_b), 0);
	/* check-namespace sees it */
	snprintf(out, sizeof(out), "%s/check.out", d.dir);
	CU_ASSERT_EQUAL(run_check(d.image, true, out), 1);
	CU_ASSERT(log_has(out, "block-double-use"));
	CU_ASSERT(log_has(out, "block-free-but-used"));
	/* and so must the daemon, before it serves b with a's data */
	snprintf(log, sizeof(log), "%s/refused.stderr", d.dir);
	snprintf(sock, sizeof(sock), "%s/refused.sock", d.dir);
	{
		const char *args[] = { "--image", d.image, "--socket", sock,
				       NULL };

		status = dlh_run_expect_exit(args, log);
	}
	if (status == -1)
		fprintf(stderr, "daxleased started on the inconsistent image\n");
	CU_ASSERT(status != -1 && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 1);
	CU_ASSERT(log_has(log, "cannot open the filesystem"));
	CU_ASSERT(log_has(log, "daxlease check-namespace"));
	CU_ASSERT(log_has(log, "in use"));
}

/* ---- a damaged primary superblock: reported and repaired ---------------- */

static int damage_primary(void *base)
{
	((uint8_t *)base)[100] ^= 0xff;
	return 0;
}

static bool primary_is_repaired(const char *image)
{
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	const uint8_t *b;
	bool ok;

	if (dl_nvdimm_open(image, DL_MAP_READ_ONLY, &ns, &err))
		return false;
	b = dl_ns_base(ns);
	ok = !memcmp(b, b + DL_BLOCK_SIZE, DL_BLOCK_SIZE) &&
	     !dl_superblock_check(b, DL_BLOCK_SIZE, dl_ns_size(ns), &err);
	dl_ns_close(&ns);
	return ok;
}

static void test_damaged_primary_superblock(void)
{
	struct dlh_opts o = { .name = "primary" };
	struct dlh_daemon d;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_EQUAL_FATAL(put_file(&d, "kept", 0644, 0x5a, 12345), 0);
	CU_ASSERT_EQUAL_FATAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL_FATAL(edit_image(d.image, damage_primary), 0);
	CU_ASSERT_FALSE(primary_is_repaired(d.image));

	o.reuse_image = true;
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT(log_has(d.errlog, "warning: primary superblock"));
	CU_ASSERT(file_holds(&d, "kept", 0x5a, 12345));
	/* the stop's check-namespace finds nothing, the primary included */
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	/* (the image is locked while the daemon runs: looked at after) */
	CU_ASSERT(primary_is_repaired(d.image));
}

/* ---- check-namespace keeps the unsafe-shutdown state -------------------- */

static void test_check_keeps_unsafe_shutdown(void)
{
	struct dlh_opts o = { .name = "unsafe" };
	char out[PATH_MAX + 32];
	struct dlh_daemon d;
	uint64_t unsafe;
	bool clean;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_EQUAL_FATAL(put_file(&d, "f", 0644, 0x33, 4096), 0);
	dlh_kill(&d);	/* the daemon dies: an unsafe shutdown */
	CU_ASSERT_EQUAL_FATAL(health(d.image, &clean, &unsafe), 0);
	CU_ASSERT_FALSE(clean);
	CU_ASSERT_EQUAL(unsafe, 0);

	snprintf(out, sizeof(out), "%s/check.out", d.dir);
	/* read-write first: it replays what the journal still holds */
	CU_ASSERT_EQUAL(run_check(d.image, false, out), 0);
	CU_ASSERT_EQUAL(run_check(d.image, true, out), 0);
	CU_ASSERT(log_has(out, "\"status\":\"clean\""));
	/* neither check counted it, nor made the image look clean */
	CU_ASSERT_EQUAL_FATAL(health(d.image, &clean, &unsafe), 0);
	CU_ASSERT_FALSE(clean);
	CU_ASSERT_EQUAL(unsafe, 0);

	/* the restarted daemon sees the crash and counts it, once */
	o.reuse_image = true;
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT(log_has(d.errlog,
			  "was not shut down cleanly (unsafe shutdowns: 1)"));
	CU_ASSERT(file_holds(&d, "f", 0x33, 4096));
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL_FATAL(health(d.image, &clean, &unsafe), 0);
	CU_ASSERT_TRUE(clean);
	CU_ASSERT_EQUAL(unsafe, 1);
}

static CU_TestInfo tests[] = {
	{ "blocks in two files: daxleased refuses, names check-namespace", test_blocks_in_two_files_refused },
	{ "a damaged primary superblock: warned, rewritten", test_damaged_primary_superblock },
	{ "check-namespace keeps the unsafe-shutdown state", test_check_keeps_unsafe_shutdown },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "open-verify", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}
