// SPDX-License-Identifier: BSD-3-Clause
/*
 * badblocks.c - injectable media errors, in bytes from the namespace start.
 *
 * A fake NVDIMM keeps its badblocks in the device header: a sorted table
 * of disjoint, sector-aligned ranges, so it survives a restart like a real
 * DIMM's error list does.  Adjacent ranges are merged, which keeps the
 * table short and makes a range's membership a simple overlap test.
 * A real namespace's list comes from the kernel at open (real_ns.c) and
 * cannot be changed here.
 */
#include <errno.h>
#include <string.h>

#include "namespace_private.h"

#define SECTOR ((uint64_t)DL_BADBLOCK_SECTOR)

#define SZ(buf, n) dl_fmt_size(buf, sizeof(buf), n)

struct bb_table {
	struct dl_badblock_rec r[DL_NVDIMM_MAX_BADBLOCKS + 1];
	uint32_t n;
};

static const struct dl_badblock_rec *ns_bb(const struct dl_ns *ns,
					   uint32_t *n)
{
	if (ns->kind == DL_NS_FAKE) {
		*n = ns->hdr.nbadblocks;
		return ns->hdr.badblocks;
	}
	*n = ns->nbb;
	return ns->bb;
}

static uint64_t rec_end(const struct dl_badblock_rec *r)
{
	return r->offset + r->length;
}

int dl_badblocks_table_check(const struct dl_badblock_rec *bb, uint32_t n,
			     uint64_t size, struct dl_err *err)
{
	uint64_t prev_end = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct dl_badblock_rec *r = &bb[i];

		if (r->offset % SECTOR || r->length % SECTOR || !r->length ||
		    r->offset < prev_end || r->offset > size ||
		    r->length > size - r->offset)
			return dl_err_set(err, EINVAL,
					  "badblock %u (offset %llu, length %llu) is unaligned, empty, out of order or beyond the namespace",
					  i, (unsigned long long)r->offset,
					  (unsigned long long)r->length);
		prev_end = rec_end(r);
	}
	return 0;
}

/* ---- range rules ------------------------------------------------------------ */

static int check_range(const struct dl_ns *ns, uint64_t offset,
		       uint64_t length, struct dl_err *err)
{
	char o[32], l[32], s[32];
	uint64_t size = dl_ns_size(ns);

	if (!length)
		return dl_err_set(err, EINVAL,
				  "length is 0: a badblock range covers at least one byte");
	if (offset > size || length > size - offset)
		return dl_err_set(err, ERANGE,
				  "offset+length beyond the namespace size: %s + %s > %s",
				  SZ(o, offset), SZ(l, length), SZ(s, size));
	return 0;
}

static int check_writable(const struct dl_ns *ns, struct dl_err *err)
{
	if (ns->kind != DL_NS_FAKE)
		return dl_err_set(err, EOPNOTSUPP,
				  "badblocks of a real namespace cannot be changed here: use ndctl inject-error on real hardware");
	if (ns->read_only)
		return dl_err_set(err, EROFS,
				  "the namespace is open read-only: badblocks cannot change");
	return 0;
}

/* ---- inject ------------------------------------------------------------------ */

/* Table with [start, end) added: merged with what it overlaps or touches. */
static void table_add(const struct dl_badblock_rec *bb, uint32_t n,
		      uint64_t start, uint64_t end, struct bb_table *t)
{
	uint32_t i = 0;

	t->n = 0;
	for (; i < n && rec_end(&bb[i]) < start; i++)
		t->r[t->n++] = bb[i];
	for (; i < n && bb[i].offset <= end; i++) {
		if (bb[i].offset < start)
			start = bb[i].offset;
		if (rec_end(&bb[i]) > end)
			end = rec_end(&bb[i]);
	}
	t->r[t->n].offset = start;
	t->r[t->n++].length = end - start;
	for (; i < n && t->n <= DL_NVDIMM_MAX_BADBLOCKS; i++)
		t->r[t->n++] = bb[i];
}

static void table_commit(struct dl_ns *ns, const struct bb_table *t)
{
	struct dl_nvdimm_hdr h = ns->hdr;

	memset(h.badblocks, 0, sizeof(h.badblocks));
	memcpy(h.badblocks, t->r, t->n * sizeof(t->r[0]));
	h.nbadblocks = t->n;
	dl_nvdimm_hdr_commit(ns, &h);
}

static int table_fits(const struct bb_table *t, struct dl_err *err)
{
	if (t->n <= DL_NVDIMM_MAX_BADBLOCKS)
		return 0;
	return dl_err_set(err, ENOSPC,
			  "the badblock table is full: it holds %d ranges; clear some first",
			  DL_NVDIMM_MAX_BADBLOCKS);
}

int dl_ns_inject_error(struct dl_ns *ns, uint64_t offset, uint64_t length,
		       struct dl_err *err)
{
	uint64_t start, end;
	struct bb_table t;
	int rc;

	rc = check_writable(ns, err);
	if (!rc)
		rc = check_range(ns, offset, length, err);
	if (rc)
		return rc;
	/* the device tracks whole sectors; size is a multiple of one */
	start = offset & ~(SECTOR - 1);
	end = (offset + length + SECTOR - 1) & ~(SECTOR - 1);
	table_add(ns->hdr.badblocks, ns->hdr.nbadblocks, start, end, &t);
	rc = table_fits(&t, err);
	if (!rc)
		table_commit(ns, &t);
	return rc;
}

/* ---- clear -------------------------------------------------------------------- */

static void table_push(struct bb_table *t, uint64_t start, uint64_t end)
{
	if (start < end && t->n <= DL_NVDIMM_MAX_BADBLOCKS) {
		t->r[t->n].offset = start;
		t->r[t->n++].length = end - start;
	}
}

/*
 * Table with [start, end) removed.  Clearing the middle of a range splits
 * it, so the result can be one entry longer than the table holds.
 */
static void table_remove(const struct dl_badblock_rec *bb, uint32_t n,
			 uint64_t start, uint64_t end, struct bb_table *t)
{
	t->n = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (rec_end(&bb[i]) <= start || bb[i].offset >= end) {
			table_push(t, bb[i].offset, rec_end(&bb[i]));
			continue;
		}
		table_push(t, bb[i].offset, start);
		table_push(t, end, rec_end(&bb[i]));
	}
}

/* Clearing rewrites the bad sectors with zeros, as on real hardware. */
static void zero_cleared(struct dl_ns *ns, uint64_t start, uint64_t end)
{
	const struct dl_badblock_rec *bb = ns->hdr.badblocks;
	bool zeroed = false;

	for (uint32_t i = 0; i < ns->hdr.nbadblocks; i++) {
		uint64_t s = bb[i].offset > start ? bb[i].offset : start;
		uint64_t e = rec_end(&bb[i]) < end ? rec_end(&bb[i]) : end;

		if (s >= e)
			continue;
		memset(ns->base + s, 0, e - s);
		dl_map_flush(ns->map, ns->base + s, e - s);
		zeroed = true;
	}
	if (zeroed)
		dl_map_drain(ns->map);
}

static int check_sectors(uint64_t offset, uint64_t length, struct dl_err *err)
{
	if (offset % SECTOR == 0 && length % SECTOR == 0)
		return 0;
	return dl_err_set(err, EINVAL,
			  "clear range offset %llu length %llu is not whole 512-byte sectors: clearing rewrites whole sectors",
			  (unsigned long long)offset,
			  (unsigned long long)length);
}

int dl_ns_clear_error(struct dl_ns *ns, uint64_t offset, uint64_t length,
		      struct dl_err *err)
{
	struct bb_table t;
	int rc;

	rc = check_writable(ns, err);
	if (!rc)
		rc = check_range(ns, offset, length, err);
	if (!rc)
		rc = check_sectors(offset, length, err);
	if (rc)
		return rc;
	table_remove(ns->hdr.badblocks, ns->hdr.nbadblocks, offset,
		     offset + length, &t);
	rc = table_fits(&t, err);
	if (rc)
		return rc;
	/* zeros durable before the header says the sectors are good */
	zero_cleared(ns, offset, offset + length);
	table_commit(ns, &t);
	return 0;
}

/* ---- queries -------------------------------------------------------------------- */

int dl_ns_list_errors(const struct dl_ns *ns, struct dl_badblock *out,
		      size_t max, size_t *count)
{
	const struct dl_badblock_rec *bb;
	uint32_t n;

	bb = ns_bb(ns, &n);
	for (uint32_t i = 0; i < n && i < max; i++) {
		out[i].offset = bb[i].offset;
		out[i].length = bb[i].length;
	}
	*count = n;
	return 0;
}

bool dl_ns_range_is_bad(const struct dl_ns *ns, uint64_t offset,
			uint64_t length)
{
	const struct dl_badblock_rec *bb;
	uint64_t end = offset + length;
	uint32_t n;

	if (!length)
		return false;
	if (end < offset)
		end = UINT64_MAX;
	bb = ns_bb(ns, &n);
	for (uint32_t i = 0; i < n && bb[i].offset < end; i++)
		if (rec_end(&bb[i]) > offset)
			return true;
	return false;
}

int dl_ns_read(const struct dl_ns *ns, uint64_t offset, void *buf,
	       size_t length)
{
	uint64_t size = dl_ns_size(ns);

	if (offset > size || length > size - offset)
		return -ERANGE;
	if (dl_ns_range_is_bad(ns, offset, length))
		return -EIO;
	memcpy(buf, ns->base + offset, length);
	return 0;
}
