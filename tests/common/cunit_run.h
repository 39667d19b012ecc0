/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cunit_run.h - run CUnit suites with exit codes ctest understands.
 *
 * CU_basic_run_tests() returns 0 even when assertions fail, so a test
 * binary must look at the run summary itself: dl_cunit_main() returns 0
 * only when the run returned CUE_SUCCESS and no suite, test or assertion
 * failed; 77 (ctest SKIP_RETURN_CODE) when the caller decided to skip;
 * 1 otherwise.
 */
#ifndef DAXLEASE_TESTS_CUNIT_RUN_H
#define DAXLEASE_TESTS_CUNIT_RUN_H

#include <CUnit/CUnit.h>

#define DL_TEST_SKIP 77

/* ThreadSanitizer's shadow memory leaves too little address space to map
 * a 1 TiB namespace reliably; tests map smaller ones under it. */
#if defined(__SANITIZE_THREAD__)
#define DL_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DL_UNDER_TSAN 1
#endif
#endif
#ifndef DL_UNDER_TSAN
#define DL_UNDER_TSAN 0
#endif

/* Register suites, run them in verbose mode, and return the exit code. */
int dl_cunit_main(CU_SuiteInfo *suites);

/* A fresh temporary directory for this test binary (removed at exit). */
const char *dl_test_tmpdir(void);
/* dl_test_tmpdir()/name, in a static rotating buffer. */
const char *dl_test_path(const char *name);

#endif
