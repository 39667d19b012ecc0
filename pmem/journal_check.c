/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal_check.c - dl_journal_check(): validate a journal area image
 * without a filesystem around it (fs.h), for the fuzz target and tools.
 *
 * It applies the rules of journal.c's committed() and records_walk() to
 * a plain buffer: a transaction is committed when the header's magic is
 * right, its length fits the area and the CRC-64 over the header (checksum
 * field zero) and `length` bytes of records matches.  A committed
 * transaction must then be well formed: every record complete, of a known
 * type, non-empty, and landing inside the namespace; the record count must
 * match the header.
 *
 * One rule of records_walk() needs what this function is not given: a
 * BYTES record must not overwrite the journal area itself, and where that
 * area lies in the namespace is the superblock's business.  Recovery
 * (dl_journal_recover) still checks it before replaying anything.
 *
 * Nothing here reads outside [area, area + len): the header is copied out
 * only when the buffer holds one, and every record bound is tested
 * against the bytes left before it is read.
 */
#include <errno.h>
#include <string.h>

#include "crc.h"
#include "fs.h"

#define JHDR sizeof(struct dl_journal_hdr)
#define JREC sizeof(struct dl_jrec)

/* Payloads are padded to 8 bytes, as dl_tx_bytes() writes them. */
static uint64_t pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* CRC-64 of the header with its checksum field zero, then the records. */
static uint64_t tx_checksum(const struct dl_journal_hdr *h, const uint8_t *recs)
{
	struct dl_journal_hdr tmp = *h;

	tmp.checksum = 0;
	return dl_crc64(dl_crc64(0, &tmp, JHDR), recs, h->length);
}

/*
 * The commit rule: magic, a length that fits the area, matching checksum.
 * A torn or never-written header fails it: "nothing committed".
 */
static bool tx_committed(const uint8_t *area, size_t len,
			 struct dl_journal_hdr *h)
{
	if (len < JHDR)
		return false;
	memcpy(h, area, JHDR);	/* area may be unaligned */
	if (h->magic != DL_JOURNAL_MAGIC || h->length > len - JHDR)
		return false;
	return tx_checksum(h, area + JHDR) == h->checksum;
}

static int bad_rec(struct dl_err *err, uint32_t n, const char *why)
{
	return dl_err_set(err, EINVAL,
			  "journal record %u is malformed: %s", n, why);
}

static int check_bytes(const struct dl_jrec *r, uint64_t left,
		       uint64_t ns_size, uint32_t n, struct dl_err *err)
{
	if (r->len == 0)
		return bad_rec(err, n, "empty byte copy");
	if (pad8(r->len) > left)
		return bad_rec(err, n, "payload runs past the transaction");
	if (r->off > ns_size || r->len > ns_size - r->off)
		return bad_rec(err, n, "byte copy ends beyond the namespace");
	return 0;
}

static int check_bits(const struct dl_jrec *r, uint64_t nblocks, uint32_t n,
		      struct dl_err *err)
{
	uint64_t count = r->len | (r->len_hi << 32);

	if (count == 0)
		return bad_rec(err, n, "empty bitmap range");
	if (r->off > nblocks || count > nblocks - r->off)
		return bad_rec(err, n,
			       "bitmap range ends beyond the namespace");
	return 0;
}

/* Walk the records of a committed transaction; 0 if all are sound. */
static int records_check(const uint8_t *recs, const struct dl_journal_hdr *h,
			 uint64_t ns_size, struct dl_err *err)
{
	uint64_t pos = 0, nblocks = ns_size / DL_BLOCK_SIZE;
	uint32_t n = 0;
	int rc;

	while (pos < h->length) {
		struct dl_jrec r;

		if (h->length - pos < JREC)
			return bad_rec(err, n, "truncated record header");
		memcpy(&r, recs + pos, JREC);
		pos += JREC;
		switch (r.type) {
		case DL_JREC_BYTES:
			rc = check_bytes(&r, h->length - pos, ns_size, n, err);
			if (rc)
				return rc;
			pos += pad8(r.len);
			break;
		case DL_JREC_BITS_SET:
		case DL_JREC_BITS_CLEAR:
			rc = check_bits(&r, nblocks, n, err);
			if (rc)
				return rc;
			break;
		default:
			return bad_rec(err, n, "unknown record type");
		}
		n++;
	}
	if (n != h->nrecords)
		return dl_err_set(err, EINVAL,
				  "journal transaction %llu holds %u records, "
				  "its header says %u",
				  (unsigned long long)h->seq, n, h->nrecords);
	return 0;
}

int dl_journal_check(const void *area, size_t len, uint64_t ns_size,
		     struct dl_err *err)
{
	struct dl_journal_hdr h;
	int rc;

	if (!tx_committed(area, len, &h))
		return 0;
	rc = records_check((const uint8_t *)area + JHDR, &h, ns_size, err);
	return rc ? rc : 1;
}
