/* SPDX-License-Identifier: BSD-3-Clause */
#include "fs_fixture.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"

int fx_create(struct fs_fixture *fx, const char *name, uint64_t size,
	      uint64_t align)
{
	struct dl_ns_params p = { .size = size, .align = align, .name = name };
	struct dl_err err = { 0 };
	int rc;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->path, sizeof(fx->path), "%s", dl_test_path(name));
	unlink(fx->path);
	rc = dl_nvdimm_create(fx->path, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(fx->path, DL_MAP_READ_WRITE, &fx->ns, &err);
	if (!rc)
		rc = dl_fs_format(fx->ns, NULL, &err);
	if (!rc)
		rc = dl_fs_open(fx->ns, &fx->fs, &err);
	if (rc)
		fprintf(stderr, "fixture %s: %s\n", name, err.msg);
	return rc;
}

void fx_close(struct fs_fixture *fx)
{
	dl_fs_close(&fx->fs);
	dl_ns_close(&fx->ns);
}

int fx_reopen(struct fs_fixture *fx)
{
	struct dl_err err = { 0 };
	int rc;

	fx_close(fx);
	rc = dl_nvdimm_open(fx->path, DL_MAP_READ_WRITE, &fx->ns, &err);
	if (!rc)
		rc = dl_fs_open(fx->ns, &fx->fs, &err);
	if (rc)
		fprintf(stderr, "reopen %s: %s\n", fx->path, err.msg);
	return rc;
}

size_t fx_check(struct fs_fixture *fx)
{
	struct dl_check_report rep;
	struct dl_err err = { 0 };
	size_t n;

	fx_close(fx);
	if (dl_nvdimm_open(fx->path, DL_MAP_READ_WRITE, &fx->ns, &err) ||
	    dl_fs_check(fx->ns, &rep, &err)) {
		fprintf(stderr, "check %s: %s\n", fx->path, err.msg);
		return 1000;
	}
	n = rep.nproblems;
	for (size_t i = 0; i < n && i < DL_CHECK_MAX_PROBLEMS; i++)
		fprintf(stderr, "problem %s: %s\n", rep.problems[i].kind,
			rep.problems[i].detail);
	dl_ns_close(&fx->ns);
	if (fx_reopen(fx))
		return 1000;
	return n;
}
