/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parsers.c - libFuzzer target for everything daxlease reads from
 * media: device headers, the label area, superblocks, journal areas, and
 * whole images (open, recover, a few operations, check).
 *
 * The input format is in fuzz_input.h.  The rule every target enforces is
 * the one a corrupt or hostile image must meet: no crash, no leak, no read
 * or write outside what the image and the buffers hold.  Buffers handed to
 * the parsers are heap copies of exactly the size given, so AddressSanitizer
 * sees a one-byte overread.
 *
 * Built with -fsanitize=fuzzer as fuzz_parsers (DAXLEASE_FUZZ=ON), and
 * always as fuzz_smoke with smoke_main.c as its driver.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc.h"
#include "fs.h"
#include "fuzz_image.h"
#include "fuzz_input.h"
#include "fuzz_known.h"
#include "image_edit.h"
#include "namespace.h"

#define PAGE 4096ULL
#define MAX_FILES 16		/* files an image input reads and changes */
#define IO_MAX (16 * 1024)	/* bytes per read or write */
#define SPAN (32ULL << 20)	/* file offsets the operations use */

/* Namespace sizes the geometry checks are run against. */
static const uint64_t ns_sizes[] = {
	16 * DL_MiB, 4 * DL_GiB, 1 * DL_TiB, 64 * DL_TiB,
};

/* Parsers get somewhere to put their message: formatting it reads the
 * fields it names, which is worth exercising too. */
static struct dl_err perr;

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* A heap copy of exactly want bytes (zero-padded): overreads are caught. */
static uint8_t *copy_of(const uint8_t *data, size_t size, size_t want)
{
	uint8_t *buf = malloc(want ? want : 1);

	if (!buf)
		return NULL;
	memset(buf, 0, want);
	memcpy(buf, data, size < want ? size : want);
	return buf;
}

/* ---- FZ_HDR: device header copies ---------------------------------------- */

static void fuzz_hdr(const uint8_t *data, size_t size, unsigned v)
{
	size_t len = v & FZ_V_PAD && size < 2 * PAGE ? 2 * PAGE : size;
	uint8_t *img = copy_of(data, size, len);
	bool w = v & FZ_V_WRITE;
	int which = -1;

	if (!img)
		return;
	for (size_t off = 0; v & FZ_V_SEAL && off + PAGE <= len; off += PAGE)
		if (off < 2 * PAGE)
			ie_seal32(img + off, PAGE,
			       offsetof(struct dl_nvdimm_hdr, checksum));
	dl_nvdimm_hdr_check(img, len, w, &perr);
	if (len > PAGE)
		dl_nvdimm_hdr_check(img + PAGE, len - PAGE, w, &perr);
	if (!dl_nvdimm_hdr_pick(img, len, w, &which, &perr) &&
	    (which < 0 || which > 1))
		abort();	/* a pick must name copy A or B */
	free(img);
}

/* ---- FZ_LABELS: label area against a valid header ------------------------ */

static void hdr_default(struct dl_nvdimm_hdr *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->signature, DL_NVDIMM_SIGNATURE, sizeof(DL_NVDIMM_SIGNATURE));
	h->major = DL_NVDIMM_MAJOR;
	h->minor = DL_NVDIMM_MINOR;
	h->generation = 1;
	h->uuid[0] = 1;
	strcpy(h->name, "fuzz");
	h->size = FZ_IMAGE_SIZE;
	h->align = FZ_IMAGE_ALIGN;
	h->data_offset = DL_NVDIMM_MIN_DATA_OFFSET;
	h->label_offset = DL_NVDIMM_LABEL_OFFSET;
	h->label_size = DL_NVDIMM_LABEL_SIZE;
	h->state = DL_NVDIMM_STATE_CLEAN;
}

/* Let the header agree with the label in slot 0, where that still gives
 * a valid header: then the fuzzer can reach the matching rules. */
static void hdr_from_label(struct dl_nvdimm_hdr *h, const uint8_t *area,
			   size_t len)
{
	struct dl_nvdimm_hdr t = *h;
	struct dl_ns_label l;
	size_t off = 2 * DL_LABEL_INDEX_SIZE;

	if (len < off + sizeof(l))
		return;
	memcpy(&l, area + off, sizeof(l));
	memcpy(t.uuid, l.uuid, sizeof(t.uuid));
	memcpy(t.name, l.name, sizeof(t.name) - 1);
	t.size = l.rawsize;
	t.align = l.align;
	t.data_offset = l.dpa;
	ie_seal32(&t, sizeof(t), offsetof(struct dl_nvdimm_hdr, checksum));
	if (!dl_nvdimm_hdr_check(&t, sizeof(t), true, &perr))
		*h = t;
}

/* Seal both index blocks and every label slot. */
static void seal_labels(uint8_t *area, size_t len)
{
	size_t off, ix = DL_LABEL_INDEX_SIZE;
	size_t ix_csum = offsetof(struct dl_label_index, checksum);

	for (off = 0; off < 2 * ix && off + ix <= len; off += ix)
		ie_seal32(area + off, ix, ix_csum);
	for (; off + DL_LABEL_SIZE <= len; off += DL_LABEL_SIZE)
		ie_seal32(area + off, DL_LABEL_SIZE,
		       offsetof(struct dl_ns_label, checksum));
}

static void fuzz_labels(const uint8_t *data, size_t size, unsigned v)
{
	size_t len = v & FZ_V_PAD && size < DL_NVDIMM_LABEL_SIZE ?
		     DL_NVDIMM_LABEL_SIZE : size;
	uint8_t *area = copy_of(data, size, len);
	struct dl_nvdimm_hdr h;

	if (!area)
		return;
	if (v & FZ_V_SEAL)
		seal_labels(area, len);
	hdr_default(&h);
	ie_seal32(&h, sizeof(h), offsetof(struct dl_nvdimm_hdr, checksum));
	if (v & FZ_V_MATCH)
		hdr_from_label(&h, area, len);
	if (dl_nvdimm_hdr_check(&h, sizeof(h), true, &perr))
		abort();	/* the harness must hand over a valid header */
	dl_nvdimm_labels_check(area, len, &h, &perr);
	free(area);
}

/* ---- FZ_SB: superblock --------------------------------------------------- */

static void fuzz_sb(const uint8_t *data, size_t size, unsigned v)
{
	size_t len = v & FZ_V_PAD && size < PAGE ? PAGE : size;
	uint8_t *sb = copy_of(data, size, len);

	if (!sb)
		return;
	if (v & FZ_V_SEAL && len >= PAGE)
		ie_seal32(sb, PAGE, offsetof(struct dl_superblock, checksum));
	for (size_t i = 0; i < sizeof(ns_sizes) / sizeof(ns_sizes[0]); i++)
		dl_superblock_check(sb, len, ns_sizes[i], &perr);
	if (len >= PAGE)	/* the size the superblock itself claims */
		dl_superblock_check(sb, len, DL_BLOCK_SIZE *
				    get_le(sb + offsetof(struct dl_superblock,
							 nblocks), 8), &perr);
	free(sb);
}

/* ---- FZ_JOURNAL: journal area -------------------------------------------- */

/* Recompute the CRC-64 over header and records, if the length fits. */
static void seal_journal(uint8_t *area, size_t len)
{
	struct dl_journal_hdr h;
	uint64_t crc;

	if (len < sizeof(h))
		return;
	memcpy(&h, area, sizeof(h));
	if (h.length > len - sizeof(h))
		return;
	h.checksum = 0;
	crc = dl_crc64(dl_crc64(0, &h, sizeof(h)), area + sizeof(h), h.length);
	memcpy(area + offsetof(struct dl_journal_hdr, checksum), &crc,
	       sizeof(crc));
}

static void fuzz_journal(const uint8_t *data, size_t size, unsigned v)
{
	size_t len = v & FZ_V_PAD && size < 2 * PAGE ? 2 * PAGE : size;
	uint8_t *area = copy_of(data, size, len);
	int rc;

	if (!area)
		return;
	if (v & FZ_V_SEAL)
		seal_journal(area, len);
	for (size_t i = 0; i < sizeof(ns_sizes) / sizeof(ns_sizes[0]); i++) {
		rc = dl_journal_check(area, len, ns_sizes[i], &perr);
		if (rc != 0 && rc != 1 && rc != -EINVAL)
			abort();	/* the contract has three answers */
	}
	free(area);
}

/* ---- FZ_IMAGE: a whole image --------------------------------------------- */

static struct fz_image image;
static bool image_ready;

/* Which inode slots and data blocks the patches touched: only those get
 * their checksums recomputed, so untouched damage stays damage. */
struct touched {
	uint8_t inodes[FZ_IMAGE_INODES / 8];	/* bit per slot */
	uint8_t blocks[FZ_DATA_BLOCKS / 8];	/* bit per data-region block */
	bool sb;
};

static void mark_range(uint8_t *bits, uint64_t nbits, uint64_t first,
		       uint64_t last)
{
	for (uint64_t i = first; i <= last && i < nbits; i++)
		bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool marked(const uint8_t *bits, uint64_t i)
{
	return bits[i >> 3] & (1u << (i & 7));
}

static void note_patch(struct touched *t, unsigned r, uint64_t off,
		       uint64_t len)
{
	uint64_t last = off + len - 1;

	if (r == FZ_R_INODES)
		mark_range(t->inodes, FZ_IMAGE_INODES, off / DL_INODE_SIZE,
			   last / DL_INODE_SIZE);
	else if (r == FZ_R_DATA)
		mark_range(t->blocks, FZ_DATA_BLOCKS, off / DL_BLOCK_SIZE,
			   last / DL_BLOCK_SIZE);
	else if (r == FZ_R_SB || r == FZ_R_SB2)
		t->sb = true;
}

/* Copy each patch into its region, clipped to the region and the input. */
static void apply_patches(const uint8_t *p, size_t size, struct touched *t)
{
	while (size >= FZ_PATCH_HDR) {
		unsigned r = p[0] % FZ_NREGIONS;
		const struct fz_region *reg = &image.regions[r];
		uint64_t off = get_le(p + 1, 4) % reg->len;
		size_t len = p[5];

		p += FZ_PATCH_HDR;
		size -= FZ_PATCH_HDR;
		if (len > size)
			len = size;
		if (len > reg->len - off)
			len = (size_t)(reg->len - off);
		if (len) {
			memcpy(image.map + reg->off + off, p, len);
			note_patch(t, r, off, len);
		}
		p += len;
		size -= len;
	}
}

static void seal_block(enum fz_region_id r, size_t csum_off)
{
	ie_seal32(image.map + image.regions[r].off, DL_BLOCK_SIZE, csum_off);
}

static void seal_inodes(const struct touched *t)
{
	const struct fz_region *ino = &image.regions[FZ_R_INODES];

	for (uint64_t i = 0; i < ino->len / DL_INODE_SIZE &&
			     i < FZ_IMAGE_INODES; i++)
		if (marked(t->inodes, i))
			ie_seal32(image.map + ino->off + i * DL_INODE_SIZE,
			       DL_INODE_SIZE,
			       offsetof(struct dl_inode_rec, checksum));
}

/* Touched data blocks that carry the extent-block magic. */
static void seal_extent_blocks(const struct touched *t)
{
	const struct fz_region *dat = &image.regions[FZ_R_DATA];

	for (uint64_t b = 0; b < dat->len / DL_BLOCK_SIZE; b++) {
		uint8_t *blk = image.map + dat->off + b * DL_BLOCK_SIZE;

		if (marked(t->blocks, b) && get_le(blk, 8) == DL_EXTBLK_MAGIC)
			ie_seal32(blk, DL_BLOCK_SIZE,
			       offsetof(struct dl_extent_block, checksum));
	}
}

static void seal_image(unsigned flags, const struct touched *t)
{
	const struct fz_region *jr = &image.regions[FZ_R_JOURNAL];

	size_t hdr_csum = offsetof(struct dl_nvdimm_hdr, checksum);
	size_t sb_csum = offsetof(struct dl_superblock, checksum);

	if (flags & FZ_FIX_NVDIMM) {
		seal_block(FZ_R_HDR_A, hdr_csum);
		seal_block(FZ_R_HDR_B, hdr_csum);
	}
	if (flags & FZ_FIX_SB && t->sb) {
		seal_block(FZ_R_SB, sb_csum);
		seal_block(FZ_R_SB2, sb_csum);
	}
	if (flags & FZ_FIX_INODES)
		seal_inodes(t);
	if (flags & FZ_FIX_EXTBLK)
		seal_extent_blocks(t);
	if (flags & FZ_FIX_JOURNAL)
		seal_journal(image.map + jr->off, jr->len);
}

/* Operation arguments, decoded once. */
struct op_args {
	uint64_t off;		/* a file offset */
	uint32_t len;		/* a length or size */
	uint8_t ops;		/* which operations run */
	uint8_t file;		/* which file they pick; 0x80: setattr */
	uint8_t mode;		/* fallocate mode index; 0x80: prepare_write */
	uint8_t fill;		/* byte written */
};

static void read_file(struct dl_fs *fs, const struct dl_stat *st,
		      const struct op_args *a, uint8_t *buf, struct dl_err *err)
{
	struct dl_extent ext[8];
	size_t count;

	dl_fs_read(fs, st->ino, 0, buf, IO_MAX, err);
	dl_fs_read(fs, st->ino, a->off % (st->size + 1), buf, IO_MAX, err);
	if (st->size > IO_MAX / 2)	/* across the end of file */
		dl_fs_read(fs, st->ino, st->size - IO_MAX / 2, buf, IO_MAX,
			   err);
	dl_fs_extents(fs, st->ino, 0, UINT64_MAX, ext, 8, &count);
}

/* List every file, read the first few; returns the inode of the pick. */
static dl_ino_t list_files(struct dl_fs *fs, const struct op_args *a,
			   uint8_t *buf, struct dl_err *err)
{
	struct dl_stat st;
	uint64_t cursor = 0;
	dl_ino_t pick = 0;
	unsigned n = 0;

	while (dl_fs_next_file(fs, &cursor, &st) == 1) {
		if (n < MAX_FILES)
			read_file(fs, &st, a, buf, err);
		if (n == a->file % MAX_FILES || !pick)
			pick = st.ino;
		n++;
	}
	return pick;
}

static const int falloc_modes[] = {
	0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
};

static void change_files(struct dl_fs *fs, dl_ino_t pick,
			 const struct op_args *a, uint8_t *buf,
			 struct dl_err *err)
{
	uint64_t off = a->off % SPAN, len = a->len % (1u << 20) + 1;
	int mode = falloc_modes[a->mode % 6];
	struct dl_stat st;
	dl_ino_t ino = 0;

	memset(buf, a->fill, IO_MAX);
	if (a->ops & 0x01)
		dl_fs_create(fs, "fuzz-new", 0644, 1, 1, &ino, err);
	if (a->ops & 0x02 && pick)
		dl_fs_write(fs, pick, off, buf, a->len % IO_MAX + 1, err);
	if (a->ops & 0x04 && ino)
		dl_fs_write(fs, ino, off & ~(PAGE - 1), buf, IO_MAX, err);
	if (a->ops & 0x08 && pick)
		dl_fs_truncate(fs, pick, (a->len * PAGE + a->off) % SPAN,
			       a->ops & 0x80 ? 7 : 0, err);
	if (a->ops & 0x10 && pick) {
		/* collapse and insert want whole blocks */
		if (mode & (FALLOC_FL_COLLAPSE_RANGE |
			    FALLOC_FL_INSERT_RANGE)) {
			off &= ~(PAGE - 1);
			len = (len + PAGE - 1) & ~(PAGE - 1);
		}
		dl_fs_fallocate(fs, pick, mode, off, len, a->ops & 0x80 ? 7 : 0,
				err);
	}
	if (a->mode & 0x80 && pick)	/* the page_mkwrite step */
		dl_fs_prepare_write(fs, pick, off, len, err);
	if (a->file & 0x80 && pick)
		dl_fs_setattr(fs, pick, a->fill, a->len, a->len >> 16, err);
	if (a->ops & 0x20 && pick && !dl_fs_stat(fs, pick, &st))
		dl_fs_rename(fs, st.name, "fuzz-renamed", 0, 7, err);
	if (a->ops & 0x40 && pick && !dl_fs_stat(fs, pick, &st))
		dl_fs_unlink(fs, st.name, a->ops & 0x80 ? 7 : 0, err);
	dl_fs_release(fs, 7, 0, UINT64_MAX, err);
}

/* What the service and the tests read besides files. */
static void read_tables(struct dl_fs *fs, struct dl_err *err)
{
	struct dl_detached det[8];
	struct dl_statfs sfs;
	size_t count;

	dl_fs_statfs(fs, &sfs);
	dl_fs_detached(fs, det, 8, &count);
	dl_fs_verify_media(fs, err);	/* fuzzed media may differ: no verdict */
}

static void use_fs(struct dl_ns *ns, const struct op_args *a, bool ops,
		   struct dl_err *err)
{
	struct dl_fs *fs;
	uint8_t *buf;
	dl_ino_t pick;

	if (dl_fs_open(ns, &fs, err))
		return;
	buf = malloc(IO_MAX);
	if (buf) {
		read_tables(fs, err);
		pick = list_files(fs, a, buf, err);
		if (ops && !dl_ns_read_only(ns)) {
			change_files(fs, pick, a, buf, err);
			list_files(fs, a, buf, err);
			read_tables(fs, err);
		}
		free(buf);
	}
	dl_fs_close(&fs);
}

static void check_fs(struct dl_ns *ns, struct dl_err *err)
{
	struct dl_check_report *rep = malloc(sizeof(*rep));
	size_t listed;

	if (!rep)
		return;
	if (!dl_fs_check(ns, rep, err)) {
		/* every problem the report lists has a kind (fs.h) */
		listed = rep->nproblems < DL_CHECK_MAX_PROBLEMS ?
			 rep->nproblems : DL_CHECK_MAX_PROBLEMS;
		for (size_t i = 0; i < listed; i++)
			if (!rep->problems[i].kind[0])
				abort();
	}
	free(rep);
}

static void run_image(unsigned flags, const struct op_args *a)
{
	bool ro = flags & FZ_READ_ONLY;
	struct dl_err buf, *err = flags & FZ_NULL_ERR ? NULL : &buf;
	enum dl_map_mode mode = ro ? DL_MAP_READ_ONLY : DL_MAP_READ_WRITE;
	struct dl_ns *ns;

	if (dl_nvdimm_open(image.path, mode, &ns, err))
		return;
	/* read-only: check first (it sees a pending journal as such);
	 * read-write: let the open recover, then check what is left */
	if (ro)
		check_fs(ns, err);
	use_fs(ns, a, !(flags & FZ_NO_OPS), err);
	if (!ro)
		check_fs(ns, err);
	dl_ns_close(&ns);
}

static void fuzz_image(const uint8_t *data, size_t size)
{
	uint8_t args[FZ_OP_ARGS] = { 0 };
	struct touched *t;
	struct op_args a;
	unsigned flags;

	if (!image_ready) {
		if (fz_image_setup(&image))
			abort();	/* no image, no test: say so loudly */
		image_ready = true;
	}
	if (size < 1)
		return;
	flags = data[0];
	memcpy(args, data + 1, size - 1 < FZ_OP_ARGS ? size - 1 : FZ_OP_ARGS);
	a = (struct op_args){
		.off = get_le(args, 8), .len = (uint32_t)get_le(args + 8, 4),
		.ops = args[12], .file = args[13], .mode = args[14],
		.fill = args[15],
	};
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	if (size > 1 + FZ_OP_ARGS)
		apply_patches(data + 1 + FZ_OP_ARGS, size - 1 - FZ_OP_ARGS, t);
	seal_image(flags, t);
	free(t);
	if (!fz_skip_known_wanted() || !fz_known_bug(&image, &flags))
		run_image(flags, &a);
	fz_image_restore(&image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned target, variant;

	if (size < 1)
		return 0;
	target = data[0] % FZ_NTARGETS;
	variant = data[0] / FZ_NTARGETS;
	data++;
	size--;
	switch (target) {
	case FZ_HDR:
		fuzz_hdr(data, size, variant);
		break;
	case FZ_LABELS:
		fuzz_labels(data, size, variant);
		break;
	case FZ_SB:
		fuzz_sb(data, size, variant);
		break;
	case FZ_JOURNAL:
		fuzz_journal(data, size, variant);
		break;
	case FZ_IMAGE:
		fuzz_image(data, size);
		break;
	}
	return 0;
}
