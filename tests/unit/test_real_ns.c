// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_real_ns.c - real namespaces on whatever machine runs the tests.
 *
 * Most CI machines have no NVDIMM: listing must then succeed with no
 * entries, and names must fail with ENOENT.  The fsdax path is exercised
 * on an ordinary file, which must be refused (not DAX-mounted) unless
 * DAXLEASE_ALLOW_NON_DAX=1 - the override exists for this test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "real_ns.h"

#define FILE_SIZE (16 * DL_MiB)

static struct dl_err err;

static bool msg_has(const char *want)
{
	if (strstr(err.msg, want))
		return true;
	fprintf(stderr, "\nmessage \"%s\" lacks \"%s\"\n", err.msg, want);
	return false;
}

/* Does sysfs show an nvdimm bus?  (/sys/bus/nd/devices/ndbusN) */
static bool have_nd_bus(void)
{
	DIR *d = opendir("/sys/bus/nd/devices");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "ndbus", 5))
			found = true;
	closedir(d);
	return found;
}

static void test_list_namespaces(void)
{
	struct dl_real_ns *v = (void *)1;
	size_t n = 99;

	CU_ASSERT_EQUAL_FATAL(dl_real_ns_list(&v, &n, &err), 0);
	if (!have_nd_bus()) {
		CU_ASSERT_EQUAL(n, 0);
	}
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(v[i].dev[0] != '\0');
		CU_ASSERT(v[i].mode[0] != '\0');
		CU_ASSERT(v[i].size > 0);
	}
	free(v);
}

static void test_list_dax(void)
{
	struct dl_real_dax *v = (void *)1;
	size_t n = 99;

	CU_ASSERT_EQUAL_FATAL(dl_real_dax_list(&v, &n, &err), 0);
	if (!have_nd_bus() && access("/dev/dax0.0", F_OK)) {
		CU_ASSERT_EQUAL(n, 0);
	}
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(v[i].dev[0] != '\0');
		CU_ASSERT(!strcmp(v[i].mode, "devdax") ||
			  !strcmp(v[i].mode, "system-ram"));
	}
	free(v);
}

static int open_rc(const char *name, enum dl_map_mode mode)
{
	struct dl_ns *ns = (void *)1;
	int rc;

	dl_err_clear(&err);
	rc = dl_real_ns_open(name, mode, &ns, &err);
	if (rc)
		CU_ASSERT_PTR_NULL(ns);
	dl_ns_close(&ns);
	return rc;
}

static void test_open_missing(void)
{
	if (!have_nd_bus()) {
		CU_ASSERT_EQUAL(open_rc("namespace9.9", DL_MAP_READ_WRITE),
				-ENOENT);
		CU_ASSERT_STRING_EQUAL(err.msg,
				       "no namespace, dax device or file is named namespace9.9");
		CU_ASSERT_EQUAL(open_rc("pmem-store", DL_MAP_READ_ONLY),
				-ENOENT);
	}
	CU_ASSERT_EQUAL(open_rc("dax97.3", DL_MAP_READ_WRITE), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err.msg, "/dev/dax97.3 does not exist");
	CU_ASSERT_EQUAL(open_rc("/no/such/file", DL_MAP_READ_WRITE), -ENOENT);
	CU_ASSERT(msg_has("/no/such/file does not exist"));
	CU_ASSERT_EQUAL(open_rc("", DL_MAP_READ_WRITE), -EINVAL);
}

static void test_open_not_dax(void)
{
	/* a directory, and a character device that is not device-dax */
	CU_ASSERT_EQUAL(open_rc(dl_test_tmpdir(), DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("is neither a device-dax character device"));
	CU_ASSERT_EQUAL(open_rc("/dev/null", DL_MAP_READ_ONLY), -ENODEV);
	CU_ASSERT(msg_has("/dev/null is a character device but not a device-dax instance"));
}

static const char *make_file(const char *name, uint64_t size)
{
	const char *path = dl_test_path(name);
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* True if the test directory is itself on a DAX file system. */
static bool tmpdir_is_dax(const char *path)
{
	struct dl_map *map;
	bool dax;
	int fd = open(path, O_RDWR);

	if (fd < 0 || dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE, &map, NULL)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	dax = dl_map_granularity(map) != DL_GRANULARITY_PAGE;
	dl_map_delete(&map);
	close(fd);
	return dax;
}

static void test_fsdax_refused(void)
{
	const char *path = make_file("not-dax", FILE_SIZE);
	char want[4200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	unsetenv("DAXLEASE_ALLOW_NON_DAX");
	if (tmpdir_is_dax(path))
		return;		/* nothing to refuse here */
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EOPNOTSUPP);
	snprintf(want, sizeof(want),
		 "%s is not on a DAX-mounted file system", path);
	CU_ASSERT(msg_has(want));
	CU_ASSERT(msg_has("-o dax"));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EOPNOTSUPP);
	/* only "1" switches the check off */
	setenv("DAXLEASE_ALLOW_NON_DAX", "yes", 1);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EOPNOTSUPP);
	unsetenv("DAXLEASE_ALLOW_NON_DAX");
}

static void test_fsdax_too_small(void)
{
	const char *path = make_file("small", DL_MiB);

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("DAXLEASE_ALLOW_NON_DAX", "1", 1);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EINVAL);
	CU_ASSERT(msg_has("is 1 MiB, below the minimum 16 MiB"));
	unsetenv("DAXLEASE_ALLOW_NON_DAX");
}

static void test_fsdax_override(void)
{
	const char *path = make_file("fsdax", FILE_SIZE);
	struct dl_badblock bb[4];
	struct dl_ns_info info;
	struct dl_ns *ns, *other;
	char buf[8];
	size_t n = 99;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	setenv("DAXLEASE_ALLOW_NON_DAX", "1", 1);
	CU_ASSERT_EQUAL_FATAL(dl_real_ns_open(path, DL_MAP_READ_WRITE, &ns,
					      &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(info.kind, DL_NS_FSDAX_FILE);
	CU_ASSERT_STRING_EQUAL(info.path, path);
	CU_ASSERT_EQUAL(info.size, FILE_SIZE);
	CU_ASSERT_EQUAL(info.align, 4096);
	CU_ASSERT_EQUAL(info.data_offset, 0);
	CU_ASSERT(!info.read_only);
	CU_ASSERT_EQUAL(dl_ns_size(ns), FILE_SIZE);

	/* namespace byte 0 is file byte 0 */
	memcpy(dl_ns_base(ns), "real", 5);
	dl_ns_persist(ns, dl_ns_base(ns), 5);
	CU_ASSERT_EQUAL(pread(dl_ns_fd(ns), buf, 5, 0), 5);
	CU_ASSERT_STRING_EQUAL(buf, "real");
	CU_ASSERT_EQUAL(dl_ns_read(ns, 0, buf, 5), 0);

	/* badblocks belong to the hardware */
	CU_ASSERT_EQUAL(dl_ns_list_errors(ns, bb, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(!dl_ns_range_is_bad(ns, 0, FILE_SIZE));
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 0, 512, &err), -EOPNOTSUPP);
	CU_ASSERT(msg_has("use ndctl inject-error on real hardware"));
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 0, 512, &err), -EOPNOTSUPP);

	/* one owner at a time */
	CU_ASSERT_EQUAL(dl_real_ns_open(path, DL_MAP_READ_WRITE, &other, &err),
			-EBUSY);
	CU_ASSERT(msg_has("is in use by another process"));
	dl_ns_close(&ns);
	CU_ASSERT_PTR_NULL(ns);

	CU_ASSERT_EQUAL_FATAL(dl_real_ns_open(path, DL_MAP_READ_ONLY, &ns,
					      &err), 0);
	CU_ASSERT(dl_ns_read_only(ns));
	CU_ASSERT_EQUAL(memcmp(dl_ns_base(ns), "real", 5), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 0, 512, &err), -EOPNOTSUPP);
	dl_ns_close(&ns);
	unsetenv("DAXLEASE_ALLOW_NON_DAX");
}

static CU_TestInfo list_tests[] = {
	{ "namespaces", test_list_namespaces },
	{ "dax devices", test_list_dax },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo open_tests[] = {
	{ "missing names", test_open_missing },
	{ "not a dax device", test_open_not_dax },
	{ "fsdax file not DAX-mounted", test_fsdax_refused },
	{ "fsdax file too small", test_fsdax_too_small },
	{ "fsdax file with the test override", test_fsdax_override },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "list", NULL, NULL, NULL, NULL, list_tests },
	{ "open", NULL, NULL, NULL, NULL, open_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	unsetenv("DAXLEASE_CRASH_AT");
	return dl_cunit_main(suites);
}
