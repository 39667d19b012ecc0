/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * image_edit.h - damage a formatted namespace on purpose, through pmem's
 * own on-media structures (format.h), the way a bug, a stray write or a
 * hostile editor of the image would, and seal what was edited (its CRC
 * recomputed) so that only the rules behind the checksums can catch it.
 *
 * Every function takes the namespace's byte 0 (dl_ns_base()) and changes
 * memory only: the caller persists, or closes the namespace.  Geometry
 * comes from the secondary superblock, which nothing but format writes, so
 * the helpers still work on an image whose primary a test has damaged.
 */
#ifndef DAXLEASE_TESTS_IMAGE_EDIT_H
#define DAXLEASE_TESTS_IMAGE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Store the CRC-32C of buf[0, len), its checksum field at csum_off taken
 * as zero, in that field. */
void ie_seal32(void *buf, size_t len, size_t csum_off);

/* Superblock copy 0 (primary) or 1 (secondary). */
struct dl_superblock *ie_sb(void *base, int copy);
void ie_seal_sb(struct dl_superblock *sb);

/* The record of inode ino (1-based). */
struct dl_inode_rec *ie_inode(void *base, uint32_t ino);
/* The in-use record named name, its number in *ino if asked; NULL if none. */
struct dl_inode_rec *ie_inode_named(void *base, const char *name,
				    uint32_t *ino);
void ie_seal_inode(struct dl_inode_rec *rec);

/* The detached-table entry i. */
struct dl_detached_rec *ie_detached(void *base, uint64_t i);

/* Mark blocks [start, start+n) used or free in the bitmap. */
void ie_mark(void *base, uint64_t start, uint64_t n, bool used);
bool ie_marked(const void *base, uint64_t block);

/*
 * The "two files, one set of blocks" image: victim's blocks are marked
 * free in the bitmap, and thief's record is pointed at them (victim's
 * inline extents, block count and size), its CRC recomputed.  Every CRC
 * passes.  0, or -1 if a file is missing or victim's extents are not
 * inline (at most DL_INLINE_EXTENTS).
 */
int ie_hand_over_blocks(void *base, const char *victim, const char *thief);

#endif
