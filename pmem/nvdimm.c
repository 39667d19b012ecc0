// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvdimm.c - the fake NVDIMM: an image file that behaves like a namespace.
 *
 * The image starts with two copies of the device header (format.h).  Every
 * update writes the copy that is not current, with the next generation, and
 * persists it; open takes the valid copy with the highest generation.  So
 * a write torn by a crash costs at most the update, never the header.
 *
 * Everything read from an image is checked before it is used: the header
 * parsers are also fed random bytes by the fuzz target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc.h"
#include "namespace_private.h"

#define MIN_NS_SIZE (16 * DL_MiB)
#define MAX_NS_SIZE (64 * DL_TiB)
#define HDR_AREA (DL_NVDIMM_HDR_COPIES * DL_NVDIMM_HDR_SIZE)

#define SZ(buf, n) dl_fmt_size(buf, sizeof(buf), n)

/* ---- rules shared by create and open -------------------------------------- */

bool dl_ns_align_valid(uint64_t align)
{
	return align == 4 * DL_KiB || align == 2 * DL_MiB || align == DL_GiB;
}

uint64_t dl_nvdimm_data_offset(uint64_t align)
{
	return align > DL_NVDIMM_MIN_DATA_OFFSET ? align :
	       DL_NVDIMM_MIN_DATA_OFFSET;
}

static int check_align(uint64_t align, const char *who, struct dl_err *err)
{
	char a[32];

	if (dl_ns_align_valid(align))
		return 0;
	return dl_err_set(err, EINVAL,
			  "%salign %s is not supported: use 4K, 2M or 1G (the device-dax alignments)",
			  who, SZ(a, align));
}

/* size against align and the limits; align already checked */
static int check_size(uint64_t size, uint64_t align, const char *who,
		      struct dl_err *err)
{
	char s[32], a[32];

	if (size < MIN_NS_SIZE)
		return dl_err_set(err, EINVAL,
				  "%ssize %s is below the minimum 16 MiB: the filesystem needs room for its superblock, journal and tables",
				  who, SZ(s, size));
	if (size > MAX_NS_SIZE)
		return dl_err_set(err, EINVAL,
				  "%ssize %s is above the maximum 64 TiB",
				  who, SZ(s, size));
	if (size % align)
		return dl_err_set(err, EINVAL,
				  "%ssize %s is not a multiple of align %s",
				  who, SZ(s, size), SZ(a, align));
	return 0;
}

static int check_name(const char *name, struct dl_err *err)
{
	size_t len;

	if (!name)
		return 0;
	len = strnlen(name, DL_NVDIMM_NAME_MAX);
	if (len >= DL_NVDIMM_NAME_MAX)
		return dl_err_set(err, EINVAL,
				  "name is %zu bytes or more, the limit is %d",
				  len, DL_NVDIMM_NAME_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return dl_err_set(err, EINVAL,
					  "name has a non-printable byte at offset %zu: names are printable ASCII",
					  i);
	return 0;
}

static bool uuid_is_nil(const uint8_t *uuid)
{
	for (int i = 0; i < 16; i++)
		if (uuid[i])
			return false;
	return true;
}

int dl_ns_params_check(const struct dl_ns_params *p, struct dl_err *err)
{
	uint64_t align = p->align ? p->align : 2 * DL_MiB;
	int rc;

	rc = check_align(align, "", err);
	if (!rc)
		rc = check_size(p->size, align, "", err);
	if (!rc)
		rc = check_name(p->name, err);
	if (!rc && p->uuid && uuid_is_nil(p->uuid))
		rc = dl_err_set(err, EINVAL,
				"uuid is all zeros: the nil uuid names no namespace");
	return rc;
}

/* ---- header checks --------------------------------------------------------- */

/* How far a copy got through the checks: later failures matter more. */
enum hdr_stage {
	HDR_BAD_SIG,
	HDR_BAD_MAJOR,
	HDR_BAD_CSUM,
	HDR_BAD_FEATURES,
	HDR_BAD_GEOMETRY,
	HDR_OK,
};

void dl_nvdimm_hdr_seal(struct dl_nvdimm_hdr *hdr)
{
	hdr->checksum = 0;
	hdr->checksum = dl_crc32c(0, hdr, sizeof(*hdr));
}

static bool hdr_csum_ok(const struct dl_nvdimm_hdr *h)
{
	return h->checksum == dl_crc32c_skip(h, sizeof(*h),
					     offsetof(struct dl_nvdimm_hdr, checksum),
					     sizeof(h->checksum));
}

static int hdr_check_features(const struct dl_nvdimm_hdr *h, bool want_write,
			      struct dl_err *err)
{
	uint64_t incompat = h->incompat & ~DL_NVDIMM_INCOMPAT_KNOWN;
	uint64_t ro_compat = h->ro_compat & ~DL_NVDIMM_RO_COMPAT_KNOWN;

	if (incompat)
		return dl_err_set(err, EPROTONOSUPPORT,
				  "image uses incompatible features 0x%llx that this daxlease does not know",
				  (unsigned long long)incompat);
	if (ro_compat && want_write)
		return dl_err_set(err, EROFS,
				  "image uses features 0x%llx that this daxlease can only read: open it read-only",
				  (unsigned long long)ro_compat);
	return 0;
}

static int hdr_check_layout(const struct dl_nvdimm_hdr *h, struct dl_err *err)
{
	char a[32], b[32], c[32];

	if (h->label_offset != DL_NVDIMM_LABEL_OFFSET ||
	    h->label_size != DL_NVDIMM_LABEL_SIZE)
		return dl_err_set(err, EINVAL,
				  "image header puts the label area at %s, %s long: it must be at 16 KiB, 128 KiB long",
				  SZ(a, h->label_offset), SZ(b, h->label_size));
	if (h->data_offset != dl_nvdimm_data_offset(h->align))
		return dl_err_set(err, EINVAL,
				  "image header data offset %s does not match align %s: it must be %s",
				  SZ(a, h->data_offset), SZ(b, h->align),
				  SZ(c, dl_nvdimm_data_offset(h->align)));
	return 0;
}

static int hdr_check_fields(const struct dl_nvdimm_hdr *h, struct dl_err *err)
{
	if (strnlen(h->name, sizeof(h->name)) == sizeof(h->name))
		return dl_err_set(err, EINVAL,
				  "image header name is not NUL-terminated");
	if (h->state != DL_NVDIMM_STATE_CLEAN &&
	    h->state != DL_NVDIMM_STATE_OPEN)
		return dl_err_set(err, EINVAL,
				  "image header state %u is neither clean (1) nor open (2)",
				  h->state);
	if (h->nbadblocks > DL_NVDIMM_MAX_BADBLOCKS)
		return dl_err_set(err, EINVAL,
				  "image header lists %u badblocks, the table holds %d",
				  h->nbadblocks, DL_NVDIMM_MAX_BADBLOCKS);
	return 0;
}

static int hdr_check_geometry(const struct dl_nvdimm_hdr *h,
			      struct dl_err *err)
{
	int rc;

	rc = check_align(h->align, "image header ", err);
	if (!rc)
		rc = check_size(h->size, h->align, "image header ", err);
	if (!rc)
		rc = hdr_check_layout(h, err);
	if (!rc)
		rc = hdr_check_fields(h, err);
	if (!rc)
		rc = dl_badblocks_table_check(h->badblocks, h->nbadblocks,
					      h->size, err);
	return rc;
}

/*
 * The signature and the major version come first: they stay where they
 * are in every version, while a newer major may move the checksum.
 */
static int hdr_verify(const struct dl_nvdimm_hdr *h, bool want_write,
		      enum hdr_stage *stage, struct dl_err *err)
{
	int rc;

	*stage = HDR_BAD_SIG;
	if (memcmp(h->signature, DL_NVDIMM_SIGNATURE,
		   sizeof(DL_NVDIMM_SIGNATURE)))
		return dl_err_set(err, EINVAL,
				  "not a daxlease NVDIMM image (bad signature)");
	*stage = HDR_BAD_MAJOR;
	if (h->major > DL_NVDIMM_MAJOR)
		return dl_err_set(err, EPROTONOSUPPORT,
				  "image version %u.%u is newer than this daxlease (%d.%d)",
				  h->major, h->minor, DL_NVDIMM_MAJOR,
				  DL_NVDIMM_MINOR);
	if (h->major < 1)
		return dl_err_set(err, EINVAL,
				  "image version %u.%u does not exist",
				  h->major, h->minor);
	*stage = HDR_BAD_CSUM;
	if (!hdr_csum_ok(h))
		return dl_err_set(err, EINVAL, "header checksum mismatch");
	*stage = HDR_BAD_FEATURES;
	rc = hdr_check_features(h, want_write, err);
	if (rc)
		return rc;
	*stage = HDR_BAD_GEOMETRY;
	rc = hdr_check_geometry(h, err);
	if (rc)
		return rc;
	*stage = HDR_OK;
	return 0;
}

int dl_nvdimm_hdr_check(const void *buf, size_t len, bool want_write,
			struct dl_err *err)
{
	struct dl_nvdimm_hdr h;
	enum hdr_stage stage;

	if (len < sizeof(h))
		return dl_err_set(err, EINVAL,
				  "header is truncated: %zu bytes, a header needs 4 KiB",
				  len);
	memcpy(&h, buf, sizeof(h));	/* buf may be unaligned */
	return hdr_verify(&h, want_write, &stage, err);
}

struct hdr_copy {
	struct dl_nvdimm_hdr h;
	enum hdr_stage stage;
	int rc;
	struct dl_err err;
};

/*
 * A copy that passed its checksum but failed a later check was written
 * that way on purpose (by a newer daxlease, say): if it is newer than the
 * good copy, falling back would silently roll the image back.  A newer
 * major is trusted without a checksum, since a newer major may checksum
 * differently.
 */
static bool copy_blocks(const struct hdr_copy *c, const struct hdr_copy *ok)
{
	if (c->stage == HDR_BAD_MAJOR && c->rc == -EPROTONOSUPPORT)
		return true;
	if (c->stage < HDR_BAD_FEATURES || c->stage == HDR_OK)
		return false;
	return !ok || c->h.generation > ok->h.generation;
}

static int pick_failed(const struct hdr_copy c[2], struct dl_err *err)
{
	const struct hdr_copy *w = c[1].stage > c[0].stage ? &c[1] : &c[0];

	if (c[0].stage == HDR_BAD_CSUM && c[1].stage == HDR_BAD_CSUM)
		return dl_err_set(err, EINVAL,
				  "header checksum mismatch in both copies");
	return dl_err_set(err, -w->rc, "%s", w->err.msg);
}

int dl_nvdimm_hdr_pick(const void *image, size_t len, bool want_write,
		       int *which, struct dl_err *err)
{
	struct hdr_copy c[DL_NVDIMM_HDR_COPIES];
	const struct hdr_copy *ok = NULL;
	char l[32];
	int i;

	if (len < HDR_AREA)
		return dl_err_set(err, EINVAL,
				  "image is truncated: %s, a header needs 8 KiB",
				  SZ(l, len));
	for (i = 0; i < DL_NVDIMM_HDR_COPIES; i++) {
		memcpy(&c[i].h, (const char *)image + i * DL_NVDIMM_HDR_SIZE,
		       sizeof(c[i].h));
		c[i].rc = hdr_verify(&c[i].h, want_write, &c[i].stage,
				     &c[i].err);
		/* ties go to copy A, which create writes last */
		if (!c[i].rc && (!ok || c[i].h.generation > ok->h.generation))
			ok = &c[i];
	}
	for (i = 0; i < DL_NVDIMM_HDR_COPIES; i++)
		if (copy_blocks(&c[i], ok))
			return dl_err_set(err, -c[i].rc, "%s", c[i].err.msg);
	if (!ok)
		return pick_failed(c, err);
	*which = (int)(ok - c);
	return 0;
}

/* ---- header updates -------------------------------------------------------- */

void dl_nvdimm_hdr_commit(struct dl_ns *ns, const struct dl_nvdimm_hdr *hdr)
{
	int next = !ns->hdr_copy;
	char *dst = ns->image + next * DL_NVDIMM_HDR_SIZE;

	if (hdr != &ns->hdr)
		ns->hdr = *hdr;
	ns->hdr.generation++;
	dl_nvdimm_hdr_seal(&ns->hdr);
	memcpy(dst, &ns->hdr, sizeof(ns->hdr));
	dl_map_persist(ns->map, dst, sizeof(ns->hdr));
	dl_ns_meta_written(ns, (size_t)next * DL_NVDIMM_HDR_SIZE, &ns->hdr,
			   sizeof(ns->hdr));
	ns->hdr_copy = next;
}

/* ---- create ------------------------------------------------------------------ */

static int make_uuid(uint8_t *uuid, const uint8_t *given)
{
	if (given) {
		memcpy(uuid, given, 16);
		return 0;
	}
	if (getrandom(uuid, 16, 0) != 16)
		return -errno;
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4: random */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	return 0;
}

static int hdr_build(struct dl_nvdimm_hdr *h, const struct dl_ns_params *p,
		     struct dl_err *err)
{
	uint64_t align = p->align ? p->align : 2 * DL_MiB;
	int rc;

	memset(h, 0, sizeof(*h));
	memcpy(h->signature, DL_NVDIMM_SIGNATURE, sizeof(DL_NVDIMM_SIGNATURE));
	h->major = DL_NVDIMM_MAJOR;
	h->minor = DL_NVDIMM_MINOR;
	h->generation = 1;
	rc = make_uuid(h->uuid, p->uuid);
	if (rc)
		return dl_err_set(err, -rc, "cannot make a random uuid: %s",
				  strerror(-rc));
	if (p->name)
		strcpy(h->name, p->name);	/* length checked */
	h->size = p->size;
	h->align = align;
	h->data_offset = dl_nvdimm_data_offset(align);
	h->label_offset = DL_NVDIMM_LABEL_OFFSET;
	h->label_size = DL_NVDIMM_LABEL_SIZE;
	h->create_time = (uint64_t)time(NULL);
	h->state = DL_NVDIMM_STATE_CLEAN;
	dl_nvdimm_hdr_seal(h);
	return 0;
}

static int create_file(const char *path, uint64_t bytes, int *fdp,
		       struct dl_err *err)
{
	char s[32];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return dl_err_set(err, EEXIST, "%s already exists", path);
	if (fd < 0)
		return dl_err_set(err, errno, "cannot create %s: %s", path,
				  strerror(errno));
	/* sparse: the file system allocates blocks only as they are written */
	if (ftruncate(fd, (off_t)bytes)) {
		int e = errno;

		close(fd);
		unlink(path);
		return dl_err_set(err, e,
				  "cannot make %s %s long: %s (is the file system large enough?)",
				  path, SZ(s, bytes), strerror(e));
	}
	*fdp = fd;
	return 0;
}

/*
 * Labels first, then copy B, then copy A: an image whose creation was
 * interrupted has no valid header and is not mistaken for a namespace.
 */
static int write_meta(int fd, const struct dl_nvdimm_hdr *h,
		      struct dl_err *err)
{
	struct dl_map *map;
	size_t used;
	char *img;
	int rc;

	rc = dl_map_new(fd, h->data_offset, DL_MAP_READ_WRITE, &map, err);
	if (rc)
		return rc;
	img = dl_map_addr(map);
	/* the fresh file reads as zeros: write only what is not zero */
	used = dl_nvdimm_labels_init(img + h->label_offset, h);
	dl_map_persist(map, img + h->label_offset, used);
	for (int i = DL_NVDIMM_HDR_COPIES - 1; i >= 0; i--) {
		memcpy(img + i * DL_NVDIMM_HDR_SIZE, h, sizeof(*h));
		dl_map_persist(map, img + i * DL_NVDIMM_HDR_SIZE, sizeof(*h));
	}
	dl_map_delete(&map);
	return 0;
}

int dl_nvdimm_create(const char *path, const struct dl_ns_params *p,
		     struct dl_err *err)
{
	struct dl_nvdimm_hdr h;
	int fd = -1, rc;

	rc = dl_ns_params_check(p, err);
	if (!rc)
		rc = hdr_build(&h, p, err);
	if (!rc)
		rc = create_file(path, h.data_offset + h.size, &fd, err);
	if (rc)
		return rc;
	rc = write_meta(fd, &h, err);
	if (!rc && fsync(fd))
		rc = dl_err_set(err, errno, "cannot sync %s: %s", path,
				strerror(errno));
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

/* ---- open -------------------------------------------------------------------- */

static int open_locked(const char *path, enum dl_map_mode mode, int *fdp,
		       struct dl_err *err)
{
	bool rw = mode == DL_MAP_READ_WRITE;
	int fd, e;

	fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return dl_err_set(err, ENOENT, "%s does not exist", path);
	if (fd < 0)
		return dl_err_set(err, errno, "cannot open %s: %s", path,
				  strerror(errno));
	if (!flock(fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
		*fdp = fd;
		return 0;
	}
	e = errno;
	close(fd);
	if (e == EWOULDBLOCK)
		return dl_err_set(err, EBUSY,
				  "%s is in use by another process", path);
	return dl_err_set(err, e, "cannot lock %s: %s", path, strerror(e));
}

static int check_file(int fd, const char *path, struct stat *st,
		      struct dl_err *err)
{
	char s[32];

	if (fstat(fd, st))
		return dl_err_set(err, errno, "cannot stat %s: %s", path,
				  strerror(errno));
	if (!S_ISREG(st->st_mode))
		return dl_err_set(err, EINVAL,
				  "%s is not a regular file: a fake NVDIMM is an image file",
				  path);
	if (st->st_size < (off_t)HDR_AREA)
		return dl_err_set(err, EINVAL,
				  "%s is truncated: %s, a header needs 8 KiB",
				  path, SZ(s, (uint64_t)st->st_size));
	return 0;
}

static int read_hdr(struct dl_ns *ns, const char *path, struct dl_err *err)
{
	char buf[HDR_AREA];
	ssize_t n;
	int rc;

	n = pread(ns->fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf))
		return dl_err_set(err, n < 0 ? errno : EIO,
				  "cannot read the header of %s", path);
	rc = dl_nvdimm_hdr_pick(buf, sizeof(buf), !ns->read_only,
				&ns->hdr_copy, err);
	if (rc)
		return rc;
	memcpy(&ns->hdr, buf + ns->hdr_copy * DL_NVDIMM_HDR_SIZE,
	       sizeof(ns->hdr));
	return 0;
}

static int check_image_size(const struct dl_ns *ns, const char *path,
			    uint64_t file_size, struct dl_err *err)
{
	uint64_t want = ns->hdr.data_offset + ns->hdr.size;
	char have[32], need[32];

	if (file_size < want)
		return dl_err_set(err, EINVAL,
				  "%s is truncated: %s, the header needs %s",
				  path, SZ(have, file_size), SZ(need, want));
	if (file_size > want)
		return dl_err_set(err, EINVAL,
				  "%s is %s, the header says %s: it was extended or the header is not its own",
				  path, SZ(have, file_size), SZ(need, want));
	return 0;
}

static int map_image(struct dl_ns *ns, enum dl_map_mode mode,
		     struct dl_err *err)
{
	int rc;

	rc = dl_map_new(ns->fd, ns->hdr.data_offset + ns->hdr.size, mode,
			&ns->map, err);
	if (rc)
		return rc;
	ns->image = dl_map_addr(ns->map);
	ns->base = ns->image + ns->hdr.data_offset;
	return dl_nvdimm_labels_check(ns->image + ns->hdr.label_offset,
				      ns->hdr.label_size, &ns->hdr, err);
}

/* An image still marked open was not closed: count an unsafe shutdown. */
static void mark_open(struct dl_ns *ns)
{
	struct dl_nvdimm_hdr h = ns->hdr;

	ns->info.was_clean = h.state == DL_NVDIMM_STATE_CLEAN;
	if (ns->read_only || ns->keep_health)
		return;
	if (!ns->info.was_clean)
		h.unsafe_shutdowns++;
	h.state = DL_NVDIMM_STATE_OPEN;
	dl_nvdimm_hdr_commit(ns, &h);
}

static void fill_info(struct dl_ns *ns, const char *path)
{
	struct dl_ns_info *i = &ns->info;
	const struct dl_nvdimm_hdr *h = &ns->hdr;

	i->kind = DL_NS_FAKE;
	snprintf(i->path, sizeof(i->path), "%s", path);
	memcpy(i->name, h->name, sizeof(i->name));
	memcpy(i->uuid, h->uuid, sizeof(i->uuid));
	i->size = h->size;
	i->align = h->align;
	i->data_offset = h->data_offset;
	i->version_major = h->major;
	i->version_minor = h->minor;
	i->compat = h->compat;
	i->incompat = h->incompat;
	i->ro_compat = h->ro_compat;
	i->create_time = h->create_time;
	i->granularity = dl_map_granularity(ns->map);
	i->read_only = ns->read_only;
}

static int open_image(struct dl_ns *ns, const char *path,
		      enum dl_map_mode mode, struct dl_err *err)
{
	struct stat st;
	int rc;

	rc = open_locked(path, mode, &ns->fd, err);
	if (rc)
		return rc;
	rc = check_file(ns->fd, path, &st, err);
	if (!rc)
		rc = read_hdr(ns, path, err);
	if (!rc)
		rc = check_image_size(ns, path, (uint64_t)st.st_size, err);
	if (!rc)
		rc = map_image(ns, mode, err);
	return rc;
}

static int open_fake(const char *path, enum dl_map_mode mode,
		     bool keep_health, struct dl_ns **out, struct dl_err *err)
{
	struct dl_ns *ns;
	int rc;

	*out = NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return dl_err_set(err, ENOMEM, "out of memory for a namespace");
	ns->kind = DL_NS_FAKE;
	ns->fd = -1;
	ns->read_only = mode == DL_MAP_READ_ONLY;
	ns->keep_health = keep_health;
	rc = open_image(ns, path, mode, err);
	if (rc) {
		dl_map_delete(&ns->map);
		if (ns->fd >= 0)
			close(ns->fd);
		free(ns);
		return rc;
	}
	fill_info(ns, path);
	mark_open(ns);
	*out = ns;
	return 0;
}

int dl_nvdimm_open(const char *path, enum dl_map_mode mode, struct dl_ns **out,
		   struct dl_err *err)
{
	return open_fake(path, mode, false, out, err);
}

int dl_nvdimm_open_for_check(const char *path, enum dl_map_mode mode,
			     struct dl_ns **out, struct dl_err *err)
{
	return open_fake(path, mode, true, out, err);
}

void dl_ns_close(struct dl_ns **nsp)
{
	struct dl_ns *ns = nsp ? *nsp : NULL;
	struct dl_nvdimm_hdr h;

	if (!ns)
		return;
	/* a last look: the image must leave with its own header, and one
	 * changed behind our back is not clean (nor is the mapping sure to
	 * still reach the file: the header is not written through it) */
	if (!dl_ns_check(ns, true) && ns->kind == DL_NS_FAKE &&
	    !ns->read_only && !ns->keep_health) {
		h = ns->hdr;
		h.state = DL_NVDIMM_STATE_CLEAN;
		dl_nvdimm_hdr_commit(ns, &h);
	}
	dl_ns_unwatch(ns);
	dl_map_delete(&ns->map);
	if (ns->fd >= 0)
		close(ns->fd);	/* drops the flock */
	free(ns->bb);
	free(ns);
	*nsp = NULL;
}

/* ---- getters and persistence ----------------------------------------------- */

void dl_ns_get_info(const struct dl_ns *ns, struct dl_ns_info *out)
{
	struct stat st;

	*out = ns->info;
	if (ns->kind == DL_NS_FAKE)
		out->unsafe_shutdowns = ns->hdr.unsafe_shutdowns;
	out->image_bytes_allocated = fstat(ns->fd, &st) ? 0 :
				     (uint64_t)st.st_blocks * 512;
}

uint64_t dl_ns_size(const struct dl_ns *ns)
{
	return ns->info.size;
}

uint64_t dl_ns_align(const struct dl_ns *ns)
{
	return ns->info.align;
}

bool dl_ns_read_only(const struct dl_ns *ns)
{
	return ns->read_only;
}

void *dl_ns_base(const struct dl_ns *ns)
{
	return ns->base;
}

int dl_ns_fd(const struct dl_ns *ns)
{
	return ns->fd;
}

void dl_ns_flush(struct dl_ns *ns, const void *addr, size_t len)
{
	dl_map_flush(ns->map, addr, len);
}

void dl_ns_drain(struct dl_ns *ns)
{
	dl_map_drain(ns->map);
}

void dl_ns_persist(struct dl_ns *ns, const void *addr, size_t len)
{
	dl_map_persist(ns->map, addr, len);
}

int dl_ns_punch_zero(struct dl_ns *ns, uint64_t off, uint64_t len)
{
	return dl_map_punch_zero(ns->map, (uint8_t *)dl_ns_base(ns) + off,
				 len);
}

int dl_ns_punch_sync(struct dl_ns *ns)
{
	return dl_map_punch_sync(ns->map);
}

void dl_ns_persist_stats(const struct dl_ns *ns, struct dl_persist_stats *out)
{
	dl_map_stats(ns->map, out);
}
