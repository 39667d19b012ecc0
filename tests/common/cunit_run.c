/* SPDX-License-Identifier: BSD-3-Clause */
#include "cunit_run.h"

#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dl_cunit_main(CU_SuiteInfo *suites)
{
	CU_ErrorCode rc;
	unsigned failures, failed_tests, failed_suites;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	rc = CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	failed_tests = CU_get_number_of_tests_failed();
	failed_suites = CU_get_number_of_suites_failed();
	printf("\n%u passed, %u failed\n", CU_get_number_of_tests_run() -
	       failed_tests, failed_tests);
	CU_cleanup_registry();
	if (rc != CUE_SUCCESS || failures || failed_tests || failed_suites)
		return 1;
	return 0;
}

static char tmpdir[PATH_MAX];

static void remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	if (!tmpdir[0] || getenv("DAXLEASE_KEEP_TMP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *dl_test_tmpdir(void)
{
	const char *base;

	if (tmpdir[0])
		return tmpdir;
	base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/daxlease-test.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(remove_tmpdir);
	return tmpdir;
}

const char *dl_test_path(const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, PATH_MAX, "%s/%s", dl_test_tmpdir(), name);

	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "test path too long: %s\n", name);
		exit(1);
	}
	return b;
}
