/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.c - redo log: build, commit, apply, recover (see journal.h).
 */
#include "journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "crc.h"

#define JHDR sizeof(struct dl_journal_hdr)
#define JREC sizeof(struct dl_jrec)

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int dl_journal_init(struct dl_journal *j, struct dl_ns *ns,
		    const struct dl_superblock *sb)
{
	struct dl_ns_info info;

	memset(j, 0, sizeof(*j));
	j->ns = ns;
	j->base = dl_ns_base(ns);
	j->ns_size = dl_ns_size(ns);
	j->area = j->base + sb->journal.start * DL_BLOCK_SIZE;
	j->area_len = sb->journal.nblocks * DL_BLOCK_SIZE;
	j->bitmap = j->base + sb->bitmap.start * DL_BLOCK_SIZE;
	j->nblocks = sb->nblocks;
	dl_ns_get_info(ns, &info);
	j->flush_unit = info.granularity == DL_GRANULARITY_PAGE ? 4096 : 64;
	return 0;
}

void dl_journal_fini(struct dl_journal *j)
{
	free(j->buf);
	free(j->ranges);
	memset(j, 0, sizeof(*j));
}

static int tx_grow(struct dl_journal *j, size_t extra)
{
	return dl_array_reserve(&j->buf, &j->cap, j->len + extra, 1);
}

int dl_tx_bytes(struct dl_journal *j, uint64_t off, const void *data,
		size_t len)
{
	struct dl_jrec r = { .type = DL_JREC_BYTES, .len = (uint32_t)len,
			     .off = off };
	size_t need = JREC + pad8(len);
	int rc;

	if (len == 0)
		return 0;
	if (len > UINT32_MAX)
		return -EFBIG;
	rc = tx_grow(j, need);
	if (rc)
		return rc;
	memcpy(j->buf + j->len, &r, JREC);
	memcpy(j->buf + j->len + JREC, data, len);
	memset(j->buf + j->len + JREC + len, 0, pad8(len) - len);
	j->len += need;
	j->nrecords++;
	return 0;
}

int dl_tx_bits(struct dl_journal *j, uint64_t start, uint64_t count, bool set)
{
	struct dl_jrec r = {
		.type = set ? DL_JREC_BITS_SET : DL_JREC_BITS_CLEAR,
		.len = (uint32_t)count,
		.off = start,
		.len_hi = count >> 32,
	};
	int rc;

	if (count == 0)
		return 0;
	rc = tx_grow(j, JREC);
	if (rc)
		return rc;
	memcpy(j->buf + j->len, &r, JREC);
	j->len += JREC;
	j->nrecords++;
	return 0;
}

size_t dl_tx_size(const struct dl_journal *j)
{
	return JHDR + j->len;
}

size_t dl_journal_capacity(const struct dl_journal *j)
{
	return j->area_len;
}

bool dl_tx_empty(const struct dl_journal *j)
{
	return j->nrecords == 0;
}

void dl_tx_discard(struct dl_journal *j)
{
	j->len = 0;
	j->nrecords = 0;
}

void dl_tx_rewind(struct dl_journal *j, size_t len, uint32_t nrecords)
{
	if (len <= j->len) {
		j->len = len;
		j->nrecords = nrecords;
	}
}

/* ---- flush coalescing ------------------------------------------------- */

int dl_flush_add(struct dl_journal *j, const void *addr, size_t len)
{
	struct dl_flush_range *r;
	uintptr_t unit = j->flush_unit;

	if (len == 0)
		return 0;
	if (dl_array_reserve(&j->ranges, &j->ranges_cap, j->nranges + 1,
			     sizeof(j->ranges[0]))) {
		/* cannot queue: flush this range right away */
		dl_ns_flush(j->ns, addr, len);
		return 0;
	}
	r = &j->ranges[j->nranges++];
	r->start = (uintptr_t)addr & ~(unit - 1);
	r->end = ((uintptr_t)addr + len + unit - 1) & ~(unit - 1);
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct dl_flush_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Flush every queued range, merged where they touch, then drain once.
 * On a page-granularity mapping each flush is an msync, so merging the
 * inode record, its checksum and its neighbours into one call matters.
 */
void dl_flush_all(struct dl_journal *j)
{
	size_t i = 0;

	if (j->nranges)
		qsort(j->ranges, j->nranges, sizeof(j->ranges[0]), range_cmp);
	while (i < j->nranges) {
		uintptr_t s = j->ranges[i].start, e = j->ranges[i].end;

		for (i++; i < j->nranges && j->ranges[i].start <= e; i++)
			if (j->ranges[i].end > e)
				e = j->ranges[i].end;
		dl_ns_flush(j->ns, (void *)s, e - s);
	}
	j->nranges = 0;
	dl_ns_drain(j->ns);
}

/* ---- applying records --------------------------------------------------- */

static void bits_apply(struct dl_journal *j, uint64_t start, uint64_t count,
		       bool set)
{
	uint8_t *bm = j->bitmap;
	uint64_t b = start, end = start + count;

	/* leading bits up to a byte boundary, whole bytes, trailing bits */
	for (; b < end && (b & 7); b++)
		bm[b >> 3] = set ? bm[b >> 3] | (uint8_t)(1u << (b & 7))
				 : bm[b >> 3] & (uint8_t)~(1u << (b & 7));
	if (end - b >= 8) {
		uint64_t nbytes = (end - b) >> 3;

		memset(bm + (b >> 3), set ? 0xff : 0, nbytes);
		b += nbytes << 3;
	}
	for (; b < end; b++)
		bm[b >> 3] = set ? bm[b >> 3] | (uint8_t)(1u << (b & 7))
				 : bm[b >> 3] & (uint8_t)~(1u << (b & 7));
	dl_flush_add(j, bm + (start >> 3), ((end - 1) >> 3) - (start >> 3) + 1);
}

/*
 * Walk the records of a transaction.  With apply false it only checks
 * that every record is well formed and lands inside the namespace and
 * outside the journal itself; recovery checks before it applies anything.
 */
static int records_walk(struct dl_journal *j, const uint8_t *recs,
			size_t len, uint32_t nrecords, bool apply)
{
	uint64_t jstart = (uint64_t)(j->area - j->base);
	size_t pos = 0;
	uint32_t n = 0;

	while (pos < len) {
		struct dl_jrec r;
		uint64_t count;

		if (len - pos < JREC)
			return -EUCLEAN;
		memcpy(&r, recs + pos, JREC);
		pos += JREC;
		switch (r.type) {
		case DL_JREC_BYTES:
			if (r.len == 0 || pad8(r.len) > len - pos ||
			    r.off > j->ns_size || r.len > j->ns_size - r.off ||
			    (r.off < jstart + j->area_len &&
			     r.off + r.len > jstart))
				return -EUCLEAN;
			if (apply) {
				memcpy(j->base + r.off, recs + pos, r.len);
				dl_flush_add(j, j->base + r.off, r.len);
			}
			pos += pad8(r.len);
			break;
		case DL_JREC_BITS_SET:
		case DL_JREC_BITS_CLEAR:
			count = r.len | (r.len_hi << 32);
			if (count == 0 || r.off > j->nblocks ||
			    count > j->nblocks - r.off)
				return -EUCLEAN;
			if (apply)
				bits_apply(j, r.off, count,
					   r.type == DL_JREC_BITS_SET);
			break;
		default:
			return -EUCLEAN;
		}
		n++;
	}
	return n == nrecords ? 0 : -EUCLEAN;
}

static uint64_t tx_checksum(const struct dl_journal_hdr *h, const void *recs)
{
	struct dl_journal_hdr tmp = *h;
	uint64_t crc;

	tmp.checksum = 0;
	crc = dl_crc64(0, &tmp, JHDR);
	return dl_crc64(crc, recs, h->length);
}

int dl_tx_commit(struct dl_journal *j)
{
	struct dl_journal_hdr h = {
		.magic = DL_JOURNAL_MAGIC,
		.seq = j->seq + 1,
		.length = j->len,
		.nrecords = j->nrecords,
	};
	int rc;

	if (j->nrecords == 0)
		return 0;
	if (JHDR + j->len > j->area_len)
		return -EFBIG;
#ifndef DAXLEASE_UNSAFE_NO_JOURNAL
	/* persist point 1: the transaction is committed when it is durable
	 * and its checksum matches */
	h.checksum = tx_checksum(&h, j->buf);
	memcpy(j->area + JHDR, j->buf, j->len);
	memcpy(j->area, &h, JHDR);
	dl_ns_flush(j->ns, j->area, JHDR + j->len);
	dl_ns_drain(j->ns);
#endif
	/* persist point 2: home locations */
	rc = records_walk(j, j->buf, j->len, j->nrecords, true);
	dl_flush_all(j);
	j->seq = h.seq;
	j->commits++;
	dl_tx_discard(j);
	return rc;
}

/* Read the header; 1 and *h if a committed transaction is there. */
static int committed(const struct dl_journal *j, struct dl_journal_hdr *h)
{
	memcpy(h, j->area, JHDR);
	if (h->magic != DL_JOURNAL_MAGIC || h->length > j->area_len - JHDR)
		return 0;
	return tx_checksum(h, j->area + JHDR) == h->checksum;
}

int dl_journal_pending(const struct dl_journal *j)
{
	struct dl_journal_hdr h;

	return committed(j, &h);
}

void dl_journal_clear(struct dl_journal *j)
{
	struct dl_journal_hdr h;

	memcpy(&h, j->area, JHDR);
	if (h.magic == 0)
		return;
	h.magic = 0;
	memcpy(j->area, &h, JHDR);
	dl_ns_persist(j->ns, j->area, JHDR);
}

int dl_journal_recover(struct dl_journal *j, struct dl_err *err)
{
	struct dl_journal_hdr h;
	const uint8_t *recs = j->area + JHDR;
	int rc;

	if (!committed(j, &h)) {
		j->seq = h.magic == DL_JOURNAL_MAGIC ? h.seq : 0;
		dl_journal_clear(j);
		return 0;
	}
	rc = records_walk(j, recs, h.length, h.nrecords, false);
	if (rc)
		return dl_err_set(err, EUCLEAN,
				  "journal transaction %llu is committed but "
				  "malformed; nothing was replayed",
				  (unsigned long long)h.seq);
	records_walk(j, recs, h.length, h.nrecords, true);
	dl_flush_all(j);
	j->seq = h.seq;
	dl_journal_clear(j);
	return 1;
}
