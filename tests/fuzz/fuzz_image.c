/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_image.c - the pristine formatted image of the FZ_IMAGE target
 * (see fuzz_image.h).
 */
#include "fuzz_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "namespace.h"

#define PAGE 4096ULL

/* A fixed uuid: seeds made by make_corpus.c describe the same image. */
static const uint8_t fz_uuid[16] = {
	0xda, 0x71, 0xea, 0x5e, 0xf0, 0x22, 0x4a, 0x11,
	0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static int fail(int rc, const char *what, const char *why)
{
	fprintf(stderr, "fuzz image: %s: %s\n", what, why);
	return rc < 0 ? rc : -EIO;
}

/* A new directory under $TMPDIR for the image dl_nvdimm_create makes. */
static int make_tmpdir(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");
	int n;

	n = snprintf(dir, len, "%s/daxlease-fuzz.XXXXXX",
		     base && *base ? base : "/tmp");
	if (n < 0 || (size_t)n >= len)
		return fail(-ENAMETOOLONG, "TMPDIR", "path too long");
	if (!mkdtemp(dir))
		return fail(-errno, dir, strerror(errno));
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Copy the non-zero pages of fd into memfd: the image is sparse. */
static int copy_sparse(int from, int to, size_t size)
{
	uint8_t buf[PAGE];

	if (ftruncate(to, (off_t)size))
		return -errno;
	for (size_t off = 0; off < size; off += PAGE) {
		ssize_t n = pread(from, buf, PAGE, (off_t)off);

		if (n != (ssize_t)PAGE)
			return n < 0 ? -errno : -EIO;
		if (!all_zero(buf, PAGE) &&
		    pwrite(to, buf, PAGE, (off_t)off) != (ssize_t)PAGE)
			return -errno;
	}
	return 0;
}

/*
 * Move the image at path into a memfd, reachable by a path of its own.
 * On success path names the memfd and the file is gone; on failure the
 * file stays and is used as it is.
 */
static void into_memfd(struct fz_image *im, const char *path)
{
	int src, mfd;

	mfd = memfd_create("daxlease-fuzz-image", MFD_CLOEXEC);
	if (mfd < 0)
		return;
	src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0 || copy_sparse(src, mfd, im->size)) {
		if (src >= 0)
			close(src);
		close(mfd);
		return;
	}
	close(src);
	snprintf(im->path, sizeof(im->path), "/proc/self/fd/%d", mfd);
	if (access(im->path, R_OK | W_OK)) {
		close(mfd);
		snprintf(im->path, sizeof(im->path), "%s", path);
		return;
	}
	im->fd = mfd;
	unlink(path);
}

/* The fallback image file, removed when the process exits normally. */
static char fallback_path[PATH_MAX];

static void remove_fallback(void)
{
	char *slash;

	if (!fallback_path[0])
		return;
	unlink(fallback_path);
	slash = strrchr(fallback_path, '/');
	if (slash) {
		*slash = '\0';
		rmdir(fallback_path);
	}
	fallback_path[0] = '\0';
}

static int create_image(struct fz_image *im, const char *path)
{
	struct dl_ns_params p = {
		.size = FZ_IMAGE_SIZE, .align = FZ_IMAGE_ALIGN,
		.name = "fuzz", .uuid = fz_uuid,
	};
	struct dl_err err;

	if (dl_nvdimm_create(path, &p, &err))
		return fail(-err.errnum, "dl_nvdimm_create", err.msg);
	im->data_offset = FZ_IMAGE_ALIGN > DL_NVDIMM_MIN_DATA_OFFSET ?
			  FZ_IMAGE_ALIGN : DL_NVDIMM_MIN_DATA_OFFSET;
	im->size = im->data_offset + FZ_IMAGE_SIZE;
	return 0;
}

static int format_image(struct fz_image *im)
{
	/* few inodes and the smallest journal: opening and checking decode
	 * every inode record, and their checksums would dominate the time
	 * of each input */
	static const struct dl_mkfs_params mkfs = {
		.ninodes = FZ_IMAGE_INODES, .journal_bytes = FZ_IMAGE_JOURNAL,
	};
	struct dl_ns *ns;
	struct dl_err err;
	int rc;

	rc = dl_nvdimm_open(im->path, DL_MAP_READ_WRITE, &ns, &err);
	if (rc)
		return fail(rc, "dl_nvdimm_open", err.msg);
	rc = dl_fs_format(ns, &mkfs, &err);
	if (rc) {
		dl_ns_close(&ns);
		return fail(rc, "dl_fs_format", err.msg);
	}
	memcpy(&im->sb, dl_ns_base(ns), sizeof(im->sb));
	dl_ns_close(&ns);
	return 0;
}

static int map_image(struct fz_image *im)
{
	if (im->fd < 0)
		im->fd = open(im->path, O_RDWR | O_CLOEXEC);
	if (im->fd < 0)
		return fail(-errno, im->path, strerror(errno));
	im->map = mmap(NULL, im->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       im->fd, 0);
	if (im->map == MAP_FAILED) {
		im->map = NULL;
		return fail(-errno, "mmap", strerror(errno));
	}
	return 0;
}

static int save_pages(struct fz_image *im)
{
	for (uint64_t off = 0; off < im->size; off += PAGE) {
		struct fz_page *p;

		if (all_zero(im->map + off, PAGE))
			continue;
		p = realloc(im->pages, (im->npages + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		im->pages = p;
		p = &im->pages[im->npages];
		p->bytes = malloc(PAGE);
		if (!p->bytes)
			return -ENOMEM;
		memcpy(p->bytes, im->map + off, PAGE);
		p->off = off;
		im->npages++;
	}
	return 0;
}

static void set_region(struct fz_image *im, enum fz_region_id r, uint64_t off,
		       uint64_t len)
{
	im->regions[r] = (struct fz_region){ off, len };
}

/* Namespace areas become image ranges. */
static void set_area(struct fz_image *im, enum fz_region_id r,
		     const struct dl_area *a)
{
	set_region(im, r, im->data_offset + a->start * DL_BLOCK_SIZE,
		   a->nblocks * DL_BLOCK_SIZE);
}

static void find_regions(struct fz_image *im)
{
	const struct dl_superblock *sb = &im->sb;
	uint64_t data = sb->nblocks - sb->data_start;
	uint64_t data_off = im->data_offset + sb->data_start * DL_BLOCK_SIZE;

	set_region(im, FZ_R_HDR_A, 0, DL_NVDIMM_HDR_SIZE);
	set_region(im, FZ_R_HDR_B, DL_NVDIMM_HDR_SIZE, DL_NVDIMM_HDR_SIZE);
	set_region(im, FZ_R_LABELS, DL_NVDIMM_LABEL_OFFSET,
		   DL_NVDIMM_LABEL_SIZE);
	set_region(im, FZ_R_SB, im->data_offset, DL_BLOCK_SIZE);
	set_region(im, FZ_R_SB2, im->data_offset + DL_BLOCK_SIZE,
		   DL_BLOCK_SIZE);
	set_area(im, FZ_R_JOURNAL, &sb->journal);
	set_area(im, FZ_R_BITMAP, &sb->bitmap);
	set_area(im, FZ_R_INODES, &sb->inodes);
	set_area(im, FZ_R_DETACHED, &sb->detached);
	if (data > FZ_DATA_BLOCKS)
		data = FZ_DATA_BLOCKS;
	set_region(im, FZ_R_DATA, data_off, data * DL_BLOCK_SIZE);
}

int fz_image_setup(struct fz_image *im)
{
	char dir[PATH_MAX - 16], path[PATH_MAX];
	int rc;

	memset(im, 0, sizeof(*im));
	im->fd = -1;
	rc = make_tmpdir(dir, sizeof(dir));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/image", dir);
	rc = create_image(im, path);
	if (rc) {
		rmdir(dir);
		return rc;
	}
	snprintf(im->path, sizeof(im->path), "%s", path);
	into_memfd(im, path);
	if (im->fd >= 0) {
		rmdir(dir);
	} else {
		/* the fallback keeps the file until teardown or exit */
		snprintf(fallback_path, sizeof(fallback_path), "%s", path);
		atexit(remove_fallback);
	}
	rc = format_image(im);
	if (!rc)
		rc = map_image(im);
	if (!rc)
		rc = save_pages(im);
	if (rc) {
		fz_image_teardown(im);
		return rc;
	}
	find_regions(im);
	return 0;
}

int fz_image_restore(struct fz_image *im)
{
	/* punching makes the file sparse again in one call; where the file
	 * system cannot punch, zero it through the map */
	if (fallocate(im->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)im->size))
		memset(im->map, 0, im->size);
	for (size_t i = 0; i < im->npages; i++)
		memcpy(im->map + im->pages[i].off, im->pages[i].bytes, PAGE);
	return 0;
}

void fz_image_teardown(struct fz_image *im)
{
	if (im->map)
		munmap(im->map, im->size);
	if (im->fd >= 0)
		close(im->fd);
	remove_fallback();
	for (size_t i = 0; i < im->npages; i++)
		free(im->pages[i].bytes);
	free(im->pages);
	memset(im, 0, sizeof(*im));
	im->fd = -1;
}
