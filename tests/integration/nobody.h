/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nobody.h - the suites that run a client as another user (uid 65534):
 * a child process drops to it and checks what it may do with EXPECT,
 * which prints the failed condition and counts it in `failures` (the
 * child's exit status says whether any failed; CUnit's assertions do not
 * cross a fork).  Changing uid needs root: nobody_main_check() says
 * whether to skip.
 */
#ifndef DAXLEASE_TESTS_NOBODY_H
#define DAXLEASE_TESTS_NOBODY_H

#include <stdio.h>
#include <unistd.h>

#include "cunit_run.h"

#define NOBODY 65534

static int failures;

#define EXPECT(cond)                                                        \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "uid %d: line %d: %s\n",            \
				(int)getuid(), __LINE__, #cond);            \
			failures++;                                         \
		}                                                           \
	} while (0)

/* 0, or DL_TEST_SKIP (printed why) when we cannot become another user. */
static inline int nobody_main_check(void)
{
	if (geteuid() == 0)
		return 0;
	printf("skip: needs root to run a client as uid %d\n", NOBODY);
	return DL_TEST_SKIP;
}

#endif
