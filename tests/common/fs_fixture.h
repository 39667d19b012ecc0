/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_fixture.h - a fresh fake NVDIMM with a filesystem, for fs tests.
 */
#ifndef DAXLEASE_TESTS_FS_FIXTURE_H
#define DAXLEASE_TESTS_FS_FIXTURE_H

#include "fs.h"
#include "namespace.h"

struct fs_fixture {
	char path[4096];
	struct dl_ns *ns;
	struct dl_fs *fs;
};

/* Create IMAGE (size, align) in the test tmpdir, format, open.  Returns 0
 * or -errno (and prints why). */
int fx_create(struct fs_fixture *fx, const char *name, uint64_t size,
	      uint64_t align);
int fx_reopen(struct fs_fixture *fx);
void fx_close(struct fs_fixture *fx);
/* Run check-namespace on the image (closing and reopening around it);
 * returns the number of problems and prints them. */
size_t fx_check(struct fs_fixture *fx);

#endif
