/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_input.h - the input format of the fuzz_parsers target, shared by
 * the target (fuzz_parsers.c), its corpus generator (make_corpus.c) and
 * the smoke driver (smoke_main.c).
 *
 * Byte 0 picks the target and a variant: target = byte % FZ_NTARGETS,
 * variant = byte / FZ_NTARGETS.  The rest of the input is the target's.
 *
 *   FZ_HDR      the rest is an image prefix: both device-header copies
 *   FZ_LABELS   the rest is a label area, checked against a valid header
 *   FZ_SB       the rest is a superblock
 *   FZ_JOURNAL  the rest is a journal area
 *   FZ_IMAGE    the rest patches a freshly formatted image:
 *                 u8 flags (FZ_FIX_*), 16 bytes of operation arguments,
 *                 then patches: u8 region, u32 offset (little-endian,
 *                 taken modulo the region size), u8 length, bytes.
 *
 * Checksums stop random bytes at the first check, so variants (and the
 * image flags) ask the target to recompute them after the mutation: the
 * fuzzer then reaches the rules behind the checksum.
 */
#ifndef DAXLEASE_TESTS_FUZZ_INPUT_H
#define DAXLEASE_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

enum fz_target {
	FZ_HDR,
	FZ_LABELS,
	FZ_SB,
	FZ_JOURNAL,
	FZ_IMAGE,
	FZ_NTARGETS
};

/* variant bits (byte 0 / FZ_NTARGETS) */
#define FZ_V_SEAL 0x1		/* recompute the checksums */
#define FZ_V_PAD 0x2		/* zero-pad to the full structure size */
#define FZ_V_WRITE 0x4		/* header checks: want_write */
#define FZ_V_MATCH 0x8		/* labels: header takes the label's facts */

/* FZ_IMAGE flags */
#define FZ_FIX_SB 0x01		/* both superblock copies */
#define FZ_FIX_JOURNAL 0x02	/* the journal header's CRC-64 */
#define FZ_FIX_INODES 0x04	/* every non-zero inode record */
#define FZ_FIX_EXTBLK 0x08	/* extent blocks in the patched data area */
#define FZ_FIX_NVDIMM 0x10	/* both device-header copies */
#define FZ_READ_ONLY 0x20	/* open the namespace read-only */
#define FZ_NO_OPS 0x40		/* open and check only */
#define FZ_NULL_ERR 0x80	/* err = NULL (error.h allows it) */

#define FZ_OP_ARGS 16

/* FZ_IMAGE patch regions (u8 region % FZ_NREGIONS) */
enum fz_region_id {
	FZ_R_HDR_A,		/* device header copy A (image offset 0) */
	FZ_R_HDR_B,		/* device header copy B */
	FZ_R_LABELS,		/* label area */
	FZ_R_SB,		/* superblock, primary */
	FZ_R_SB2,		/* superblock, secondary */
	FZ_R_JOURNAL,		/* journal area */
	FZ_R_BITMAP,		/* bitmap area */
	FZ_R_INODES,		/* inode table */
	FZ_R_DETACHED,		/* detached table */
	FZ_R_DATA,		/* the first FZ_DATA_BLOCKS data blocks */
	FZ_NREGIONS
};

#define FZ_DATA_BLOCKS 1024ULL	/* 4 MiB: small and 2 MiB-aligned runs */
#define FZ_PATCH_HDR 6		/* region, offset, length */
#define FZ_PATCH_MAX 255

/* The image every FZ_IMAGE input patches: geometry fixed, contents fresh. */
#define FZ_IMAGE_SIZE (16ULL << 20)
#define FZ_IMAGE_ALIGN 4096ULL
#define FZ_IMAGE_INODES 64
#define FZ_IMAGE_JOURNAL (256ULL << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
