/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * make_corpus.c - write the seed corpus of fuzz_parsers:
 *
 *   fuzz_make_corpus DIR
 *
 * Seeds are real structures made by the library itself, so the fuzzer
 * starts past the signatures and checksums: the device headers and label
 * area of a fresh image, its superblock, a committed journal transaction,
 * and FZ_IMAGE patch lists that turn the pristine image into one with
 * files (inline extents, an extent chain, unwritten and detached blocks),
 * a transaction left for recovery, or a torn one.  The patch lists are
 * diffs against the same pristine image the target makes (fuzz_image.c),
 * so regenerate the seeds when the on-media format changes.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fuzz_image.h"
#include "fuzz_input.h"
#include "namespace.h"

#define SEED_MAX (64 * 1024)

static struct fz_image image;
static uint8_t *pristine;	/* the whole pristine image */
static const char *outdir;

struct seed {
	uint8_t buf[SEED_MAX];
	size_t len;
};

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > SEED_MAX) {
		fprintf(stderr, "make_corpus: a seed outgrew %d bytes\n",
			SEED_MAX);
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put_u8(struct seed *s, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(s, &b, 1);
}

static void write_seed(const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A parser seed: selector byte, then len bytes of the live image. */
static void parser_seed(const char *name, unsigned target, unsigned variant,
			uint64_t image_off, size_t len)
{
	static struct seed s;

	s.len = 0;
	put_u8(&s, target + variant * FZ_NTARGETS);
	put(&s, image.map + image_off, len);
	write_seed(name, &s);
}

/* ---- FZ_IMAGE seeds: diffs against the pristine image -------------------- */

static void image_start(struct seed *s, unsigned flags, const uint8_t *args)
{
	s->len = 0;
	put_u8(s, FZ_IMAGE);
	put_u8(s, flags);
	put(s, args, FZ_OP_ARGS);
}

static void put_patch(struct seed *s, unsigned r, uint64_t off,
		      const uint8_t *p, size_t len)
{
	while (len) {
		size_t n = len < FZ_PATCH_MAX ? len : FZ_PATCH_MAX;
		uint32_t o = (uint32_t)off;

		put_u8(s, r);
		put(s, &o, sizeof(o));	/* little-endian, as format.h */
		put_u8(s, (unsigned)n);
		put(s, p, n);
		off += n;
		p += n;
		len -= n;
	}
}

/* Patches for the bytes of region r that differ from the pristine image;
 * runs closer than 16 bytes are joined, as one patch is cheaper. */
static void diff_region(struct seed *s, unsigned r)
{
	const struct fz_region *reg = &image.regions[r];
	const uint8_t *now = image.map + reg->off, *was = pristine + reg->off;
	uint64_t i = 0;

	while (i < reg->len) {
		uint64_t start, end, gap;

		if (now[i] == was[i]) {
			i++;
			continue;
		}
		start = i;
		end = i + 1;
		for (gap = 0, i++; i < reg->len && gap < 16; i++) {
			if (now[i] != was[i]) {
				end = i + 1;
				gap = 0;
			} else {
				gap++;
			}
		}
		put_patch(s, r, start, now + start, end - start);
		i = end;
	}
}

/* Which regions a seed carries: the device headers change with every
 * open, so no seed does. */
#define FS_REGIONS (((1u << FZ_NREGIONS) - 1) & ~((1u << FZ_R_SB) - 1))
#define JOURNAL_ONLY (1u << FZ_R_JOURNAL)
#define NO_JOURNAL (FS_REGIONS & ~JOURNAL_ONLY)

static void diff_fs(struct seed *s, unsigned regions)
{
	for (unsigned r = FZ_R_SB; r < FZ_NREGIONS; r++)
		if (regions & (1u << r))
			diff_region(s, r);
}

static void die(const char *what, const struct dl_err *err)
{
	fprintf(stderr, "make_corpus: %s: %s\n", what, err->msg);
	exit(1);
}

static void fs_open(struct dl_ns **ns, struct dl_fs **fs)
{
	struct dl_err err;

	if (dl_nvdimm_open(image.path, DL_MAP_READ_WRITE, ns, &err))
		die("dl_nvdimm_open", &err);
	if (dl_fs_open(*ns, fs, &err))
		die("dl_fs_open", &err);
}

static dl_ino_t create(struct dl_fs *fs, const char *name)
{
	struct dl_err err;
	dl_ino_t ino;

	if (dl_fs_create(fs, name, 0640, 1000, 1000, &ino, &err))
		die(name, &err);
	return ino;
}

static void write_at(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
		     const char *text)
{
	struct dl_err err;

	if (dl_fs_write(fs, ino, off, text, strlen(text), &err) < 0)
		die("dl_fs_write", &err);
}

/* Files of every shape the loader knows. */
static void make_files(struct dl_fs *fs)
{
	struct dl_err err;
	dl_ino_t a, b, c, d;

	a = create(fs, "inline");
	write_at(fs, a, 0, "hello, persistent world\n");
	write_at(fs, a, 5000, "second block\n");
	/* every other block: one extent each, more than fit inline */
	b = create(fs, "chained");
	for (uint64_t blk = 0; blk < 16; blk += 2)
		write_at(fs, b, blk * 4096 + 7, "x");
	/* preallocated: an unwritten 2 MiB extent */
	c = create(fs, "prealloc");
	if (dl_fs_fallocate(fs, c, 0, 0, 2 * DL_MiB, 0, &err))
		die("fallocate", &err);
	/* detached under tag 5: its block stays out of free space */
	d = create(fs, "detached");
	write_at(fs, d, 0, "soon detached\n");
	if (dl_fs_truncate(fs, d, 0, 5, &err))
		die("truncate", &err);
}

static void image_seed(const char *name, unsigned flags, const uint8_t *args,
		       unsigned regions)
{
	static struct seed s;

	image_start(&s, flags, args);
	diff_fs(&s, regions);
	write_seed(name, &s);
}

/* Seeds from a populated image, taken while the fs is open: the journal
 * then still holds the last committed transaction. */
static void populated_seeds(void)
{
	static const uint8_t ops[FZ_OP_ARGS] = {
		0x10, 0x20, 0, 0, 0, 0, 0, 0,	/* off 8208 */
		0x40, 0x10, 0, 0,		/* len 4160 */
		0x7f, 1, 2, 0xa5,		/* ops, file, mode, fill */
	};
	static const uint8_t none[FZ_OP_ARGS];
	static const uint8_t truncate_op[FZ_OP_ARGS] = { [12] = 0x08 };
	unsigned fix = FZ_FIX_SB | FZ_FIX_JOURNAL | FZ_FIX_INODES |
		       FZ_FIX_EXTBLK;
	struct dl_ns *ns;
	struct dl_fs *fs;

	fs_open(&ns, &fs);
	make_files(fs);
	image_seed("image-files-ops", fix, ops, FS_REGIONS);
	image_seed("image-files-readonly", fix | FZ_READ_ONLY, none,
		   FS_REGIONS);
	image_seed("image-files-open-only", FZ_NO_OPS, none, FS_REGIONS);
	/* fixed in 5135258: journal.c dl_flush_all() called qsort(NULL, 0)
	 * when a truncate with nothing to zero was the first operation
	 * after an open that replayed nothing (UBSan nonnull-attribute) */
	image_seed("regress-ubsan-truncate-first-qsort-null", 0, truncate_op,
		   NO_JOURNAL);
	dl_fs_close(&fs);
	dl_ns_close(&ns);
	fz_image_restore(&image);
}

/* The first transaction after format, committed but not applied: what a
 * crash between the two persist points leaves; and the same torn. */
static void recovery_seeds(void)
{
	static const uint8_t ops[FZ_OP_ARGS] = {
		0, 0x30, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0x1b, 0, 5, 0x5a,
	};
	static struct seed s;
	struct dl_ns *ns;
	struct dl_fs *fs;
	dl_ino_t a;

	fs_open(&ns, &fs);
	a = create(fs, "replayed");
	(void)a;
	image_seed("image-replay", 0, ops, JOURNAL_ONLY);
	image_seed("image-replay-readonly", FZ_READ_ONLY, ops, JOURNAL_ONLY);
	/* flip a record byte: the checksum no longer matches (torn) */
	image_start(&s, 0, ops);
	diff_fs(&s, JOURNAL_ONLY);
	if (s.len > 1 + 1 + FZ_OP_ARGS + FZ_PATCH_HDR + 48)
		s.buf[1 + 1 + FZ_OP_ARGS + FZ_PATCH_HDR + 48] ^= 0x40;
	write_seed("image-torn", &s);
	/* the same transaction as a journal-area seed */
	parser_seed("journal-committed", FZ_JOURNAL, 0,
		    image.regions[FZ_R_JOURNAL].off, 2048);
	parser_seed("journal-sealed", FZ_JOURNAL, FZ_V_SEAL | FZ_V_PAD,
		    image.regions[FZ_R_JOURNAL].off, 2048);
	dl_fs_close(&fs);
	dl_ns_close(&ns);
	fz_image_restore(&image);
}

static void pristine_seeds(void)
{
	static const uint8_t ops[FZ_OP_ARGS] = {
		0, 0x10, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0x17, 0, 0, 0x11,
	};
	static struct seed s;
	uint64_t labels = image.regions[FZ_R_LABELS].off;
	uint64_t sb = image.regions[FZ_R_SB].off;

	parser_seed("hdr-copies", FZ_HDR, 0, 0, 2 * DL_NVDIMM_HDR_SIZE);
	parser_seed("hdr-sealed-write", FZ_HDR, FZ_V_SEAL | FZ_V_WRITE, 0,
		    2 * DL_NVDIMM_HDR_SIZE);
	parser_seed("hdr-one-copy", FZ_HDR, FZ_V_PAD, 0, DL_NVDIMM_HDR_SIZE);
	parser_seed("labels-match", FZ_LABELS, FZ_V_PAD | FZ_V_MATCH, labels,
		    1024);
	parser_seed("labels-sealed", FZ_LABELS,
		    FZ_V_PAD | FZ_V_MATCH | FZ_V_SEAL, labels, 1024);
	parser_seed("labels-short", FZ_LABELS, 0, labels, 1024);
	parser_seed("sb-primary", FZ_SB, 0, sb, DL_BLOCK_SIZE);
	parser_seed("sb-sealed", FZ_SB, FZ_V_SEAL, sb, DL_BLOCK_SIZE);
	image_start(&s, 0, ops);
	write_seed("image-pristine-ops", &s);
}

/*
 * Reproducers of bugs the fuzzer found: crash-* while a bug is open
 * (fuzz_known.c can let a long run look past it), regress-* once it is
 * fixed, kept as regression seeds.
 */

/* One patch of a structure built here; flags say what to re-seal. */
static void repro(const char *name, unsigned flags, const uint8_t *args,
		  unsigned region, uint64_t off, const void *p, size_t len)
{
	static const uint8_t none[FZ_OP_ARGS];
	static struct seed s;

	image_start(&s, flags, args ? args : none);
	put_patch(&s, region, off, p, len);
	write_seed(name, &s);
}

/* A used inode record named "x" with one extent. */
static void inode_one_extent(struct dl_inode_rec *rec, uint64_t phys,
			     uint32_t nblocks)
{
	memset(rec, 0, sizeof(*rec));
	rec->flags = DL_INODE_F_USED;
	rec->generation = 1;
	rec->mode = 0100644;
	rec->nextents = 1;
	rec->size = (uint64_t)nblocks * DL_BLOCK_SIZE;
	rec->nblocks = nblocks;
	rec->inline_ext[0] = (struct dl_extent_rec){
		.file_block = 0, .phys_block = phys, .nblocks = nblocks,
	};
	rec->name_len = 1;
	rec->name[0] = 'x';
}

static void reproducers(void)
{
	static const uint8_t create_op[FZ_OP_ARGS] = { [12] = 0x01 };
	const struct dl_superblock *sb = &image.sb;
	struct dl_superblock big = *sb;
	struct dl_detached_rec det = {
		.phys_block = sb->data_start, .nblocks = 1ULL << 40, .tag = 1,
	};
	struct {
		struct dl_journal_hdr h;
		struct dl_jrec r;
	} tx = {
		.h = { .magic = DL_JOURNAL_MAGIC, .seq = 1,
		       .length = sizeof(struct dl_jrec), .nrecords = 1 },
		.r = { .type = 99 },
	};
	struct dl_journal_hdr empty = {
		.magic = DL_JOURNAL_MAGIC, .seq = 1,
	};
	struct dl_inode_rec rec;

	/* fixed in 5135258: fs_check.c check_journal() formatted
	 * err->msg with err == NULL */
	repro("regress-fs-check-null-err", FZ_NULL_ERR | FZ_FIX_JOURNAL |
	      FZ_NO_OPS, NULL, FZ_R_JOURNAL, 0, &tx, sizeof(tx));
	/* fixed in 5117099: fs.c load_detached(), fs_check.c
	 * check_detached(): the range check wrapped for an entry longer
	 * than the namespace */
	repro("regress-detached-length-wraps", FZ_NO_OPS, NULL, FZ_R_DETACHED,
	      0, &det, sizeof(det));
	/* fixed in 5117099: fs_inode.c check_extents(), the same wrap for
	 * an extent; reads through it left the mapping */
	inode_one_extent(&rec, sb->data_start, 0xfffff000u);
	repro("regress-extent-length-wraps", FZ_FIX_INODES | FZ_NO_OPS, NULL,
	      FZ_R_INODES, 0, &rec, offsetof(struct dl_inode_rec, pad));
	/* fixed in 5135258: fs.c dl_superblock_check() let ndetached * 32
	 * wrap; the checker then walked the table off the mapping */
	big.ndetached = (1ULL << 59) + 128;
	repro("regress-ndetached-wraps", FZ_FIX_SB | FZ_NO_OPS, NULL, FZ_R_SB,
	      offsetof(struct dl_superblock, ndetached), &big.ndetached,
	      sizeof(big.ndetached));
	/* fixed in 5135258: the checker reserved nextents + 4 extents
	 * (96 GiB here) before reading the chain; ASan and libFuzzer
	 * aborted, a plain build got NULL and reported ENOMEM */
	inode_one_extent(&rec, sb->data_start, 1);
	rec.nextents = 0xfffffff0u;
	rec.ext_chain = sb->data_start;
	repro("regress-oom-checker-nextents", FZ_FIX_INODES | FZ_NO_OPS, NULL,
	      FZ_R_INODES, 0, &rec, offsetof(struct dl_inode_rec, pad));
	/* fixed in 5135258: journal.c dl_flush_all(), qsort(NULL, 0, ...)
	 * when nothing was queued, here by replaying a committed empty
	 * transaction (UBSan nonnull-attribute) */
	repro("regress-ubsan-flush-all-qsort-null", FZ_FIX_JOURNAL | FZ_NO_OPS,
	      NULL, FZ_R_JOURNAL, 0, &empty, sizeof(empty));
	/* fixed in 8aac263: fs_inode.c dl_inode_encode(), memcpy from the
	 * NULL extent array of a new, empty file (UBSan nonnull-attribute) */
	repro("regress-ubsan-encode-null-extents", 0, create_op, FZ_R_SB, 0,
	      NULL, 0);
}

static int load_pristine(void)
{
	pristine = calloc(1, image.size);
	if (!pristine)
		return -ENOMEM;
	for (size_t i = 0; i < image.npages; i++)
		memcpy(pristine + image.pages[i].off, image.pages[i].bytes,
		       4096);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (fz_image_setup(&image) || load_pristine())
		return 1;
	pristine_seeds();
	reproducers();
	recovery_seeds();
	populated_seeds();
	fz_image_teardown(&image);
	free(pristine);
	return 0;
}
