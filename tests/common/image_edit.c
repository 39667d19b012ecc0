/* SPDX-License-Identifier: BSD-3-Clause */
#include "image_edit.h"

#include <string.h>

#include "crc.h"

void ie_seal32(void *buf, size_t len, size_t csum_off)
{
	uint32_t c = dl_crc32c_skip(buf, len, csum_off, sizeof(c));

	memcpy((uint8_t *)buf + csum_off, &c, sizeof(c));
}

struct dl_superblock *ie_sb(void *base, int copy)
{
	return (void *)((uint8_t *)base + (uint64_t)copy * DL_BLOCK_SIZE);
}

void ie_seal_sb(struct dl_superblock *sb)
{
	ie_seal32(sb, sizeof(*sb), offsetof(struct dl_superblock, checksum));
}

static uint8_t *area(void *base, const struct dl_area *a)
{
	return (uint8_t *)base + a->start * DL_BLOCK_SIZE;
}

struct dl_inode_rec *ie_inode(void *base, uint32_t ino)
{
	const struct dl_superblock *sb = ie_sb(base, 1);

	return (void *)(area(base, &sb->inodes) +
			(uint64_t)(ino - 1) * DL_INODE_SIZE);
}

struct dl_inode_rec *ie_inode_named(void *base, const char *name,
				    uint32_t *ino)
{
	const struct dl_superblock *sb = ie_sb(base, 1);
	size_t len = strlen(name);

	for (uint32_t i = 1; i <= sb->ninodes; i++) {
		struct dl_inode_rec *rec = ie_inode(base, i);

		if (!(rec->flags & DL_INODE_F_USED) || rec->name_len != len ||
		    memcmp(rec->name, name, len))
			continue;
		if (ino)
			*ino = i;
		return rec;
	}
	return NULL;
}

void ie_seal_inode(struct dl_inode_rec *rec)
{
	ie_seal32(rec, sizeof(*rec), offsetof(struct dl_inode_rec, checksum));
}

struct dl_detached_rec *ie_detached(void *base, uint64_t i)
{
	const struct dl_superblock *sb = ie_sb(base, 1);

	return (struct dl_detached_rec *)area(base, &sb->detached) + i;
}

void ie_mark(void *base, uint64_t start, uint64_t n, bool used)
{
	uint8_t *bm = area(base, &ie_sb(base, 1)->bitmap);

	for (uint64_t b = start; b < start + n; b++) {
		if (used)
			bm[b >> 3] |= (uint8_t)(1u << (b & 7));
		else
			bm[b >> 3] &= (uint8_t)~(1u << (b & 7));
	}
}

bool ie_marked(const void *base, uint64_t block)
{
	const struct dl_superblock *sb = ie_sb((void *)base, 1);
	const uint8_t *bm = (const uint8_t *)base +
			    sb->bitmap.start * DL_BLOCK_SIZE;

	return bm[block >> 3] & (1u << (block & 7));
}

int ie_hand_over_blocks(void *base, const char *victim, const char *thief)
{
	struct dl_inode_rec *v = ie_inode_named(base, victim, NULL);
	struct dl_inode_rec *t = ie_inode_named(base, thief, NULL);

	if (!v || !t || v->nextents > DL_INLINE_EXTENTS)
		return -1;
	for (uint32_t i = 0; i < v->nextents; i++)
		ie_mark(base, v->inline_ext[i].phys_block,
			v->inline_ext[i].nblocks, false);
	memcpy(t->inline_ext, v->inline_ext, sizeof(t->inline_ext));
	t->nextents = v->nextents;
	t->nblocks = v->nblocks;
	t->size = v->size;
	t->ext_chain = 0;
	ie_seal_inode(t);
	return 0;
}
