/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * format.h - every on-media structure of daxlease, in one place.
 *
 * All integers are little-endian (checked at compile time: daxlease runs
 * where NVDIMMs exist, i.e. x86_64, aarch64, ppc64le).  Every structure has
 * a fixed size asserted below; tests/unit/test_format.c asserts offsets.
 * docs/format.md is the prose version of this file - change both together.
 *
 * An image file (fake NVDIMM) is:
 *
 *   0          device header, copy A                      4 KiB
 *   4 KiB      device header, copy B                      4 KiB
 *   8 KiB      reserved                                   8 KiB
 *   16 KiB     label area (index blocks + labels)       128 KiB
 *   ...        padding up to data_offset (sparse)
 *   data_offset                                  namespace data, `size` bytes
 *
 * data_offset is a multiple of the namespace align (>= 256 KiB), so that
 * namespace offset X and image offset data_offset+X have the same
 * alignment: a 2 MiB-aligned extent in the namespace is 2 MiB aligned in
 * the file too.  A real namespace (device-dax, or a file on fsdax) is the
 * namespace data alone; its header facts come from libndctl.
 *
 * The namespace data holds the filesystem, in 4 KiB blocks:
 *
 *   block 0    superblock (primary)
 *   block 1    superblock (secondary copy, written at format only)
 *   journal    redo log: header block + record area
 *   bitmap     one bit per block, 1 = in use (metadata, file, detached)
 *   inodes     fixed table of DL_INODE_SIZE records; the name lives in the
 *              inode (the directory is flat: one name per file)
 *   detached   table of extents detached from files but not yet free
 *   pins       reserved: pin records for restart safety (later)
 *   csums      reserved: per-block data checksums (later); 0 blocks now
 *   data       everything else: file data and extent-map overflow blocks
 */
#ifndef DAXLEASE_PMEM_FORMAT_H
#define DAXLEASE_PMEM_FORMAT_H

#include <stddef.h>
#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "daxlease on-media structures are little-endian");

#define DL_KiB (1ULL << 10)
#define DL_MiB (1ULL << 20)
#define DL_GiB (1ULL << 30)
#define DL_TiB (1ULL << 40)

/* ======================================================================
 * Fake NVDIMM device header (image offset 0 and 4 KiB)
 * ====================================================================== */

#define DL_NVDIMM_SIGNATURE "DAXLEASE-NVDIMM"	/* 15 chars + NUL */
#define DL_NVDIMM_MAJOR 1	/* incompatible layout changes */
#define DL_NVDIMM_MINOR 0	/* compatible additions */
#define DL_NVDIMM_HDR_SIZE 4096
#define DL_NVDIMM_HDR_COPIES 2
#define DL_NVDIMM_LABEL_OFFSET (16 * DL_KiB)
#define DL_NVDIMM_LABEL_SIZE (128 * DL_KiB)
#define DL_NVDIMM_MIN_DATA_OFFSET (256 * DL_KiB)
#define DL_NVDIMM_NAME_MAX 64		/* including the NUL */
#define DL_NVDIMM_MAX_BADBLOCKS 224
#define DL_BADBLOCK_SECTOR 512		/* badblocks are tracked per sector */

/* feature flags: none defined yet; an unknown incompat bit refuses open,
 * an unknown ro_compat bit allows read-only open only */
#define DL_NVDIMM_INCOMPAT_KNOWN 0ULL
#define DL_NVDIMM_RO_COMPAT_KNOWN 0ULL

enum dl_nvdimm_state {
	DL_NVDIMM_STATE_CLEAN = 1,	/* closed cleanly */
	DL_NVDIMM_STATE_OPEN = 2,	/* open read-write, or not closed */
};

struct dl_badblock_rec {
	uint64_t offset;	/* bytes from the namespace start, sector aligned */
	uint64_t length;	/* bytes, a multiple of DL_BADBLOCK_SECTOR */
};

struct dl_nvdimm_hdr {
	char signature[16];
	uint32_t major;
	uint32_t minor;
	uint64_t compat;
	uint64_t incompat;
	uint64_t ro_compat;
	uint64_t generation;	/* the copy with the highest valid one wins */
	uint8_t uuid[16];
	char name[DL_NVDIMM_NAME_MAX];
	uint64_t size;		/* namespace data bytes */
	uint64_t align;		/* 4 KiB, 2 MiB or 1 GiB */
	uint64_t data_offset;	/* image offset of namespace byte 0 */
	uint64_t label_offset;
	uint64_t label_size;
	uint64_t create_time;	/* seconds since the epoch */
	uint64_t unsafe_shutdowns;
	uint32_t state;		/* enum dl_nvdimm_state */
	uint32_t nbadblocks;
	uint8_t reserved[256 - 200];
	struct dl_badblock_rec badblocks[DL_NVDIMM_MAX_BADBLOCKS];
	uint8_t pad[DL_NVDIMM_HDR_SIZE - 256 -
		    DL_NVDIMM_MAX_BADBLOCKS * sizeof(struct dl_badblock_rec) - 8];
	uint32_t reserved2;
	uint32_t checksum;	/* CRC-32C of the 4 KiB with this field zero */
};
_Static_assert(sizeof(struct dl_nvdimm_hdr) == DL_NVDIMM_HDR_SIZE,
	       "device header is one 4 KiB block");
_Static_assert(offsetof(struct dl_nvdimm_hdr, badblocks) == 256,
	       "badblock table starts at 256");

/* ======================================================================
 * Label area (image offset 16 KiB, 128 KiB): shaped like an NVDIMM
 * namespace label storage area - two index blocks and label slots.
 * ====================================================================== */

#define DL_LABEL_INDEX_SIG "DL_NS_INDEX"	/* 11 chars + NUL */
#define DL_LABEL_INDEX_SIZE 256
#define DL_LABEL_SIZE 256
#define DL_LABEL_NSLOT ((DL_NVDIMM_LABEL_SIZE - 2 * DL_LABEL_INDEX_SIZE) / \
			DL_LABEL_SIZE)

struct dl_label_index {
	char sig[16];
	uint64_t seq;		/* the valid index with the higher seq wins */
	uint64_t myoff;		/* offset of this index within the label area */
	uint64_t otheroff;
	uint64_t labeloff;	/* offset of slot 0 */
	uint32_t nslot;
	uint16_t major;
	uint16_t minor;
	uint8_t free[64];	/* bit set = slot free; DL_LABEL_NSLOT <= 512 */
	uint8_t reserved[DL_LABEL_INDEX_SIZE - 120 - 4];
	uint32_t checksum;	/* CRC-32C, field zero */
};
_Static_assert(sizeof(struct dl_label_index) == DL_LABEL_INDEX_SIZE, "");
_Static_assert(DL_LABEL_NSLOT <= 64 * 8, "free bitmap covers every slot");

struct dl_ns_label {
	uint8_t uuid[16];
	char name[DL_NVDIMM_NAME_MAX];
	uint32_t flags;
	uint16_t nlabel;	/* labels in the set: 1 for a fake NVDIMM */
	uint16_t position;
	uint64_t isetcookie;
	uint64_t lbasize;	/* 0: not a sector (BTT) namespace */
	uint64_t dpa;		/* "DIMM physical address": data_offset */
	uint64_t rawsize;	/* namespace size */
	uint32_t slot;
	uint32_t reserved0;
	uint64_t align;
	uint8_t abstraction_guid[16];	/* zero: "devdax-like" */
	uint8_t reserved[DL_LABEL_SIZE - 152 - 8];
	uint32_t reserved1;
	uint32_t checksum;	/* CRC-32C, field zero */
};
_Static_assert(sizeof(struct dl_ns_label) == DL_LABEL_SIZE, "");
_Static_assert(offsetof(struct dl_ns_label, reserved) == 152, "no hidden padding");

/* ======================================================================
 * Filesystem (inside the namespace data)
 * ====================================================================== */

#define DL_BLOCK_SIZE 4096ULL
#define DL_BLOCK_SHIFT 12
#define DL_PMD_BLOCKS 512ULL		/* 2 MiB / 4 KiB */
#define DL_PUD_BLOCKS 262144ULL		/* 1 GiB / 4 KiB */

#define DL_SB_MAGIC 0x534641454c584144ULL	/* "DAXLEAFS" */
#define DL_SB_MAJOR 1
#define DL_SB_MINOR 0
#define DL_SB_COPIES 2

/* superblock feature bits */
#define DL_FS_COMPAT_KNOWN 0ULL
#define DL_FS_INCOMPAT_KNOWN 0ULL
#define DL_FS_RO_COMPAT_KNOWN 0ULL

struct dl_area {
	uint64_t start;		/* first block */
	uint64_t nblocks;
};

struct dl_superblock {
	uint64_t magic;
	uint32_t major;
	uint32_t minor;
	uint64_t compat;
	uint64_t incompat;
	uint64_t ro_compat;
	uint8_t uuid[16];	/* filesystem uuid */
	uint8_t ns_uuid[16];	/* the namespace it was made on */
	uint64_t block_size;	/* DL_BLOCK_SIZE */
	uint64_t nblocks;	/* namespace blocks */
	uint64_t ns_align;	/* namespace align when formatted */
	uint64_t ninodes;
	uint64_t ndetached;	/* detached-table entries */
	uint64_t create_time;
	struct dl_area journal;
	struct dl_area bitmap;
	struct dl_area inodes;
	struct dl_area detached;
	struct dl_area pins;		/* pin records: restart safety */
	struct dl_area csums;		/* reserved: data checksums */
	uint8_t mirror_uuid[16];	/* reserved: mirror namespace */
	uint64_t data_start;		/* first block the allocator may hand out */
	uint8_t reserved[4096 - 240 - 8];
	uint32_t reserved1;
	uint32_t checksum;		/* CRC-32C of the block, field zero */
};
_Static_assert(sizeof(struct dl_superblock) == DL_BLOCK_SIZE, "");
_Static_assert(offsetof(struct dl_superblock, reserved) == 240, "no hidden padding");

/* ---- inodes ---------------------------------------------------------- */

#define DL_INODE_SIZE 512
#define DL_NAME_MAX 255
#define DL_INLINE_EXTENTS 5
#define DL_ROOT_NONE 0		/* inode numbers start at 1 */

#define DL_INODE_F_USED 0x1		/* slot holds a file */
#define DL_INODE_F_NODATASUM 0x2	/* reserved: data checksums */

#define DL_EXTENT_F_UNWRITTEN 0x1	/* allocated, reads as zeros */

struct dl_extent_rec {
	uint64_t file_block;	/* file offset / 4 KiB */
	uint64_t phys_block;	/* namespace block */
	uint32_t nblocks;
	uint32_t flags;		/* DL_EXTENT_F_* */
};
_Static_assert(sizeof(struct dl_extent_rec) == 24, "");

struct dl_inode_rec {
	uint32_t flags;		/* DL_INODE_F_* */
	uint32_t generation;	/* bumped on every reuse of the slot */
	uint32_t mode;		/* S_IFREG | permission bits */
	uint32_t uid;
	uint32_t gid;
	uint32_t nextents;	/* <= DL_INLINE_EXTENTS: inline, else chain */
	uint64_t size;		/* bytes */
	uint64_t nblocks;	/* data blocks mapped (written + unwritten) */
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	int64_t btime_ns;
	uint64_t layout_seq;	/* bumped by every extent-map change */
	uint64_t ext_chain;	/* first extent block, 0 = none */
	uint64_t reserved[3];	/* soft-dirty, checksums: later */
	struct dl_extent_rec inline_ext[DL_INLINE_EXTENTS];
	uint16_t name_len;
	char name[DL_NAME_MAX + 1];	/* not NUL-terminated on media */
	uint8_t pad[DL_INODE_SIZE - 490 - 4];
	uint32_t checksum;	/* CRC-32C of the record, field zero */
};
_Static_assert(sizeof(struct dl_inode_rec) == DL_INODE_SIZE, "");
_Static_assert(offsetof(struct dl_inode_rec, name) == 234, "no hidden padding");

/* An extent block: a chain of these holds a file's extents in file order
 * when it has more than DL_INLINE_EXTENTS. */
#define DL_EXTBLK_MAGIC 0x4b4c425458454c44ULL	/* "DLEXTBLK" */
#define DL_EXTBLK_CAPACITY ((DL_BLOCK_SIZE - 40) / sizeof(struct dl_extent_rec))

struct dl_extent_block {
	uint64_t magic;
	uint32_t ino;		/* owner, for the checker */
	uint32_t count;		/* records used */
	uint64_t next;		/* next block in the chain, 0 = last */
	uint64_t generation;	/* owner inode's generation */
	uint32_t reserved;
	uint32_t checksum;	/* CRC-32C of the block, field zero */
	struct dl_extent_rec ext[DL_EXTBLK_CAPACITY];
	uint8_t pad[DL_BLOCK_SIZE - 40 - DL_EXTBLK_CAPACITY * 24];
};
_Static_assert(sizeof(struct dl_extent_block) == DL_BLOCK_SIZE, "");

/* ---- detached extents ------------------------------------------------ */

/*
 * Blocks detached from a file by truncate/punch/collapse/unlink but not
 * yet returned to free space: their bitmap bits stay set.  A later
 * transaction releases them.  `tag` names the owner (the layout operation
 * or quarantine that holds them); restart safety will use it.
 */
struct dl_detached_rec {
	uint64_t phys_block;	/* 0 = unused slot (block 0 is the superblock) */
	uint64_t nblocks;
	uint64_t tag;
	uint64_t reserved;
};
_Static_assert(sizeof(struct dl_detached_rec) == 32, "");

/* ---- pin records ------------------------------------------------------ */

/*
 * What a restarted service must not reuse: namespace ranges a process may
 * still reach - it mapped or pinned them - named by the process (pid and
 * start time, in one boot) and the connection's token.  Written through
 * the journal before the process is told where the blocks are; removed,
 * lazily, once it can reach them no more.  A record may cover more than
 * the process reaches (records are coarsened to stay few), never less.
 */
#define DL_PINREC_F_USED 0x1

struct dl_pin_rec {
	uint32_t flags;		/* DL_PINREC_F_*; 0 = unused slot */
	uint32_t pid;
	uint64_t start_time;	/* /proc/PID/stat starttime (clock ticks
				 * after boot) */
	uint8_t boot_id[16];	/* /proc/sys/kernel/random/boot_id */
	uint64_t ns_offset;	/* bytes from the namespace start */
	uint64_t length;	/* bytes, > 0 */
	uint32_t token;		/* the connection's (HELLO reply) */
	uint32_t reserved0;
	uint64_t reserved;
};
_Static_assert(sizeof(struct dl_pin_rec) == 64, "");

/* ---- journal (redo log) ---------------------------------------------- */

#define DL_JOURNAL_MAGIC 0x4c4e524a454c4144ULL	/* "DALEJRNL" */

enum dl_jrec_type {
	DL_JREC_BYTES = 1,	/* copy `len` bytes of payload to namespace `off` */
	DL_JREC_BITS_SET = 2,	/* set bitmap bits [off, off+len) */
	DL_JREC_BITS_CLEAR = 3,	/* clear bitmap bits [off, off+len) */
};

/*
 * The journal area starts with this header; records follow it, each a
 * dl_jrec and (for BYTES) its payload padded to 8 bytes.  A transaction is
 * committed when the header's checksum - CRC-64 over the header (field
 * zero) and `length` bytes of records - matches.  Replaying a committed
 * transaction is idempotent, so recovery simply replays whatever is
 * committed.  See docs/format.md for why two persist points suffice.
 */
struct dl_journal_hdr {
	uint64_t magic;
	uint64_t seq;		/* transaction number */
	uint64_t length;	/* bytes of records after this header */
	uint32_t nrecords;
	uint32_t reserved;
	uint64_t checksum;
};
_Static_assert(sizeof(struct dl_journal_hdr) == 40, "");

struct dl_jrec {
	uint32_t type;		/* enum dl_jrec_type */
	uint32_t len;		/* BYTES: payload bytes; BITS: count (low 32) */
	uint64_t off;		/* BYTES: namespace byte offset; BITS: block */
	uint64_t len_hi;	/* BITS: count (high 32 bits) */
};
_Static_assert(sizeof(struct dl_jrec) == 24, "");

#endif
