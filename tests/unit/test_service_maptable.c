// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_service_maptable.c - what dl_maptable_import() takes from a client
 * (service/maptable.c): a lost table and its counter region are the
 * client's memfds, so everything in them is a claim to check.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cunit_run.h"
#include "maptable.h"

/* A sealed memfd of size bytes (sparse) starting with hdr. */
static int sealed(const void *hdr, size_t hlen, uint64_t size, int seals)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	CU_ASSERT_FATAL(pwrite(fd, hdr, hlen, 0) == (ssize_t)hlen);
	CU_ASSERT_FATAL(fcntl(fd, F_ADD_SEALS, seals) == 0);
	return fd;
}

/* A table and counter region that claim n entries, as a client can. */
static int import_claiming(uint64_t n, struct dl_maptable **t)
{
	struct dl_table_hdr th = {
		.magic = DL_TABLE_MAGIC, .version = DL_TABLE_VERSION,
		.entry_size = sizeof(struct dl_table_entry), .nentries = n,
	};
	struct dl_counters_hdr ch = {
		.magic = DL_COUNTERS_MAGIC, .version = DL_COUNTERS_VERSION,
		.stride = DL_COUNTER_STRIDE, .nentries = n,
	};
	struct dl_err err = { 0 };
	int tfd = sealed(&th, sizeof(th), DL_TABLE_HDR_SIZE +
			 n * sizeof(struct dl_table_entry),
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
	int cfd = sealed(&ch, sizeof(ch), dl_counters_size(n),
			 F_SEAL_SHRINK | F_SEAL_GROW);

	*t = NULL;
	return dl_maptable_import(tfd, cfd, t, &err);
}

static void test_import_small(void)
{
	struct dl_maptable *t;

	CU_ASSERT_EQUAL(import_claiming(16, &t), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->cap, 16);
	CU_ASSERT_TRUE(t->imported);
	dl_maptable_free(t);
}

/*
 * A table the daemon made never has more than DL_TABLE_ENTRIES_MAX
 * entries (--table-entries).  One that claims more - a sparse memfd of
 * 2^30 entries costs its client nothing - must not make the daemon
 * allocate a byte per entry (1 GiB here, 16 GiB for 2^34), nor walk them.
 */
static void test_import_claims_too_many(void)
{
	struct dl_maptable *t;

	CU_ASSERT_EQUAL(import_claiming(DL_TABLE_ENTRIES_MAX, &t), 0);
	dl_maptable_free(t);
	CU_ASSERT_EQUAL(import_claiming(DL_TABLE_ENTRIES_MAX + 1, &t),
			-EINVAL);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(import_claiming(1ULL << 30, &t), -EINVAL);
	CU_ASSERT_PTR_NULL(t);
}

static void test_import_unsealed(void)
{
	struct dl_table_hdr th = {
		.magic = DL_TABLE_MAGIC, .version = DL_TABLE_VERSION,
		.entry_size = sizeof(struct dl_table_entry), .nentries = 16,
	};
	struct dl_err err = { 0 };
	struct dl_maptable *t = NULL;
	int tfd = sealed(&th, sizeof(th), DL_TABLE_HDR_SIZE + 16 * 32, 0);
	int cfd = memfd_create("c", MFD_CLOEXEC);

	CU_ASSERT_EQUAL(dl_maptable_import(tfd, cfd, &t, &err), -EINVAL);
	CU_ASSERT_PTR_NULL(t);
}

static CU_TestInfo maptable_tests[] = {
	{ "a lost table is imported", test_import_small },
	{ "a table claiming more entries than the daemon makes",
	  test_import_claims_too_many },
	{ "an unsealed table", test_import_unsealed },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "maptable", NULL, NULL, NULL, NULL, maptable_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}
