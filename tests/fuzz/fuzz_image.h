/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_image.h - the freshly formatted image that FZ_IMAGE inputs patch.
 *
 * Made once per process (dl_nvdimm_create + dl_nvdimm_open + dl_fs_format)
 * and kept in a memfd, reopened by path through /proc/self/fd, so that
 * thousands of inputs a second neither touch a disk nor leave files behind
 * when the fuzzer dies.  Without a usable memfd it falls back to an
 * unlinked-at-exit file in $TMPDIR.
 *
 * A formatted image is all zeros but for a few pages (device headers,
 * labels, superblocks, the bitmap's first bytes), so the pristine state is
 * kept as that list of pages, and restoring is "punch the whole file,
 * write the pages back": cheap whatever an input managed to dirty.
 */
#ifndef DAXLEASE_TESTS_FUZZ_IMAGE_H
#define DAXLEASE_TESTS_FUZZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "fuzz_input.h"

struct fz_page {
	uint64_t off;		/* image offset, page aligned */
	uint8_t *bytes;		/* 4 KiB */
};

struct fz_region {
	uint64_t off;		/* image offset */
	uint64_t len;
};

struct fz_image {
	int fd;
	char path[4096];	/* what dl_nvdimm_open is given */
	uint8_t *map;		/* the whole image, shared with the file */
	size_t size;
	uint64_t data_offset;	/* image offset of namespace byte 0 */
	struct dl_superblock sb;	/* the pristine geometry */
	struct fz_region regions[FZ_NREGIONS];
	struct fz_page *pages;	/* the non-zero pages of the pristine image */
	size_t npages;
};

/* Create, format and map the image; 0 or -errno (and says why). */
int fz_image_setup(struct fz_image *im);
/* Put the image back into its pristine state. */
int fz_image_restore(struct fz_image *im);
void fz_image_teardown(struct fz_image *im);

#endif
