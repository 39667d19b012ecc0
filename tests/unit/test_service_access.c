// SPDX-License-Identifier: BSD-3-Clause
/* test_service_access.c - the daemon's permission rules (service/access.c). */
#include <errno.h>

#include "access.h"
#include "cunit_run.h"

static const gid_t groups[] = { 100, 200 };
static const struct dl_cred user = {
	.pid = 1, .uid = 1000, .gid = 1000, .groups = groups, .ngroups = 2,
};
static const struct dl_cred root = { .pid = 1 };

static void test_mode_bits(void)
{
	/* owner class decides for the owner, even if "other" grants more */
	CU_ASSERT_EQUAL(dl_access_file(&user, 0406, 1000, 1, DL_ACCESS_R), 0);
	CU_ASSERT_EQUAL(dl_access_file(&user, 0406, 1000, 1, DL_ACCESS_W),
			-EACCES);
	CU_ASSERT_EQUAL(dl_access_file(&user, 0066, 1000, 1000, DL_ACCESS_R),
			-EACCES);
	/* a supplementary group */
	CU_ASSERT_EQUAL(dl_access_file(&user, 0060, 1, 200,
				       DL_ACCESS_R | DL_ACCESS_W), 0);
	CU_ASSERT_EQUAL(dl_access_file(&user, 0604, 1, 300, DL_ACCESS_R), 0);
	CU_ASSERT_EQUAL(dl_access_file(&user, 0640, 1, 300, DL_ACCESS_R),
			-EACCES);
	CU_ASSERT_EQUAL(dl_access_file(&root, 0, 1, 1,
				       DL_ACCESS_R | DL_ACCESS_W), 0);
}

static void test_owner(void)
{
	CU_ASSERT_EQUAL(dl_access_owner(&user, 1000), 0);
	CU_ASSERT_EQUAL(dl_access_owner(&user, 1001), -EPERM);
	CU_ASSERT_EQUAL(dl_access_owner(&root, 1001), 0);
}

static void test_chown(void)
{
	CU_ASSERT_EQUAL(dl_access_chown(&user, 1000, 1000, true, 0, false, 0),
			-EPERM);
	CU_ASSERT_EQUAL(dl_access_chown(&user, 1000, 1000, false, 0, true,
					200), 0);
	CU_ASSERT_EQUAL(dl_access_chown(&user, 1000, 1000, false, 0, true,
					300), -EPERM);
	CU_ASSERT_EQUAL(dl_access_chown(&user, 1, 1, false, 0, true, 200),
			-EPERM);
	CU_ASSERT_EQUAL(dl_access_chown(&root, 1, 1, true, 5, true, 6), 0);
}

static void test_groups(void)
{
	CU_ASSERT_TRUE(dl_access_group_or_root(&root, (gid_t)-1));
	CU_ASSERT_FALSE(dl_access_group_or_root(&user, (gid_t)-1));
	CU_ASSERT_TRUE(dl_access_group_or_root(&user, 100));
	CU_ASSERT_TRUE(dl_access_group_or_root(&user, 1000));
	CU_ASSERT_FALSE(dl_access_group_or_root(&user, 300));
}

/* F_SETLEASE's rule: F_WRLCK needs write access or ownership. */
static void test_leases(void)
{
	const unsigned r = DL_ACCESS_R, w = DL_ACCESS_W;

	/* a read handle of another's file: a reader */
	CU_ASSERT_FALSE(dl_access_writer(&user, r, 1));
	CU_ASSERT_EQUAL(dl_access_lease(&user, r, 1, true), -EACCES);
	CU_ASSERT_EQUAL(dl_access_lease(&user, r, 1, false), 0);
	/* a write handle, the owner, root: writers */
	CU_ASSERT_TRUE(dl_access_writer(&user, w, 1));
	CU_ASSERT_TRUE(dl_access_writer(&user, r, 1000));
	CU_ASSERT_TRUE(dl_access_writer(&root, r, 1));
	CU_ASSERT_EQUAL(dl_access_lease(&user, w, 1, true), 0);
	CU_ASSERT_EQUAL(dl_access_lease(&user, r, 1000, true), 0);
	CU_ASSERT_EQUAL(dl_access_lease(&root, r, 1, true), 0);
	/* a handle with no access at all (not one OPEN makes): nothing */
	CU_ASSERT_EQUAL(dl_access_lease(&user, 0, 1, false), -EACCES);
	CU_ASSERT_EQUAL(dl_access_lease(&user, w, 1, false), 0);
}

static CU_TestInfo access_tests[] = {
	{ "owner/group/other bits", test_mode_bits },
	{ "owner-only operations", test_owner },
	{ "chown rules", test_chown },
	{ "dax and admin groups", test_groups },
	{ "leases and write access", test_leases },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "access", NULL, NULL, NULL, NULL, access_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}
