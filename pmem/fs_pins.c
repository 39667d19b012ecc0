// SPDX-License-Identifier: BSD-3-Clause
/*
 * fs_pins.c - pin records: which process may still reach which namespace
 * ranges (format.h, struct dl_pin_rec), for a service that restarts.
 *
 * The area is a fixed table of 64-byte slots.  DRAM mirrors it; a change
 * marks slots dirty and commits, so the records change through the
 * journal like every other metadata and a crash leaves either the old set
 * or the new one.  The service decides what to record; this file only
 * keeps the table honest: ranges aligned and inside the namespace, and
 * at most a journal's worth of slots changed in one transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_private.h"

#define RECS_PER_BLOCK (DL_BLOCK_SIZE / sizeof(struct dl_pin_rec))

bool dl_pin_owner_eq(const struct dl_pin_owner *a,
		     const struct dl_pin_owner *b)
{
	return a->pid == b->pid && a->token == b->token &&
	       a->start_time == b->start_time &&
	       !memcmp(a->boot_id, b->boot_id, sizeof(a->boot_id));
}

static void owner_of(const struct dl_pin_rec *r, struct dl_pin_owner *o)
{
	o->pid = r->pid;
	o->token = r->token;
	o->start_time = r->start_time;
	memcpy(o->boot_id, r->boot_id, sizeof(o->boot_id));
}

static bool owned_by(const struct dl_pin_rec *r, const struct dl_pin_owner *o)
{
	struct dl_pin_owner ro;

	if (!(r->flags & DL_PINREC_F_USED))
		return false;
	owner_of(r, &ro);
	return dl_pin_owner_eq(&ro, o);
}

/* A range a record may hold: 4 KiB aligned, inside the namespace. */
static bool range_ok(const struct dl_fs *fs, uint64_t off, uint64_t len)
{
	return !(off % DL_BLOCK_SIZE) && !(len % DL_BLOCK_SIZE) &&
	       dl_run_inside(off / DL_BLOCK_SIZE, len / DL_BLOCK_SIZE, 0,
			     fs->sb.nblocks);
}

int dl_fs_pins_load(struct dl_fs *fs, struct dl_err *err)
{
	const struct dl_pin_rec *media = dl_fs_block(fs, fs->sb.pins.start);

	fs->npinrecs = fs->sb.pins.nblocks * RECS_PER_BLOCK;
	fs->pinrecs = calloc(fs->npinrecs ? fs->npinrecs : 1,
			     sizeof(*fs->pinrecs));
	fs->pinrec_dirty = calloc(fs->npinrecs ? fs->npinrecs : 1, 1);
	if (!fs->pinrecs || !fs->pinrec_dirty)
		return dl_err_set(err, ENOMEM, "out of memory");
	memcpy(fs->pinrecs, media, fs->npinrecs * sizeof(*media));
	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		const struct dl_pin_rec *r = &fs->pinrecs[i];

		if (!r->flags)
			continue;
		if (r->flags != DL_PINREC_F_USED ||
		    !range_ok(fs, r->ns_offset, r->length))
			return dl_err_set(err, EUCLEAN,
					  "pin record %llu is invalid",
					  (unsigned long long)i);
	}
	return 0;
}

void dl_fs_pins_free(struct dl_fs *fs)
{
	free(fs->pinrecs);
	free(fs->pinrec_dirty);
	fs->pinrecs = NULL;
	fs->pinrec_dirty = NULL;
}

int dl_fs_pins_serialize(struct dl_fs *fs)
{
	struct dl_pin_rec *media = dl_fs_block(fs, fs->sb.pins.start);

	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		int rc;

		if (!fs->pinrec_dirty[i])
			continue;
		fs->pinrec_dirty[i] = false;
		rc = dl_fs_tx_diff(fs, &fs->pinrecs[i], &media[i],
				   sizeof(media[i]));
		if (rc)
			return rc;
	}
	return 0;
}

size_t dl_fs_pins_capacity(const struct dl_fs *fs)
{
	return fs->npinrecs;
}

size_t dl_fs_pins_unused(const struct dl_fs *fs)
{
	size_t n = 0;

	for (uint64_t i = 0; i < fs->npinrecs; i++)
		n += !fs->pinrecs[i].flags;
	return n;
}

/* Slots one transaction may change: each costs a record header and a
 * 64-byte line, well under 128 bytes (as dl_fs_release counts). */
static size_t per_transaction(const struct dl_fs *fs)
{
	return (dl_journal_capacity(&fs->j) - 4096) / 128;
}

static void set_slot(struct dl_fs *fs, uint64_t i, const struct dl_pin_rec *r)
{
	if (!memcmp(&fs->pinrecs[i], r, sizeof(*r)))
		return;
	fs->pinrecs[i] = *r;
	fs->pinrec_dirty[i] = true;
}

static void make_rec(const struct dl_pin_owner *o, const struct dl_ns_range *r,
		     struct dl_pin_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = DL_PINREC_F_USED;
	out->pid = o->pid;
	out->token = o->token;
	out->start_time = o->start_time;
	memcpy(out->boot_id, o->boot_id, sizeof(out->boot_id));
	out->ns_offset = r->ns_offset;
	out->length = r->length;
}

static bool any_dirty(const struct dl_fs *fs)
{
	for (uint64_t i = 0; i < fs->npinrecs; i++)
		if (fs->pinrec_dirty[i])
			return true;
	return false;
}

int dl_fs_pins_set(struct dl_fs *fs, const struct dl_pin_owner *o,
		   const struct dl_ns_range *r, size_t n, struct dl_err *err)
{
	static const struct dl_pin_rec unused;
	size_t old = 0, free_slots = 0, j = 0;
	struct dl_pin_rec rec;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	for (size_t k = 0; k < n; k++)
		if (!range_ok(fs, r[k].ns_offset, r[k].length))
			return dl_err_set(err, EINVAL,
					  "pin record range %#llx+%#llx is "
					  "not 4 KiB aligned inside the "
					  "namespace",
					  (unsigned long long)r[k].ns_offset,
					  (unsigned long long)r[k].length);
	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		old += owned_by(&fs->pinrecs[i], o);
		free_slots += !fs->pinrecs[i].flags;
	}
	if (n > old + free_slots)
		return dl_err_set(err, ENOSPC,
				  "the pin record area is full (%zu of %llu "
				  "slots in use)", fs->npinrecs - free_slots,
				  (unsigned long long)fs->npinrecs);
	if ((n > old ? n : old) > per_transaction(fs))
		return dl_err_set(err, E2BIG,
				  "%zu pin records do not fit one transaction",
				  n > old ? n : old);
	/* the owner's own slots first (changed in place), then unused ones */
	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		if (!owned_by(&fs->pinrecs[i], o))
			continue;
		if (j < n) {
			make_rec(o, &r[j++], &rec);
			set_slot(fs, i, &rec);
		} else {
			set_slot(fs, i, &unused);
		}
	}
	for (uint64_t i = 0; i < fs->npinrecs && j < n; i++) {
		if (fs->pinrecs[i].flags || fs->pinrec_dirty[i])
			continue;
		make_rec(o, &r[j++], &rec);
		set_slot(fs, i, &rec);
	}
	return any_dirty(fs) ? dl_fs_commit(fs, err) : 0;
}

int dl_fs_pins_list(const struct dl_fs *fs, struct dl_pin_record *out,
		    size_t max, size_t *count)
{
	size_t n = 0;

	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		const struct dl_pin_rec *r = &fs->pinrecs[i];

		if (!r->flags)
			continue;
		if (out && n < max) {
			owner_of(r, &out[n].owner);
			out[n].range.ns_offset = r->ns_offset;
			out[n].range.length = r->length;
		}
		n++;
	}
	*count = n;
	return 0;
}

int dl_fs_pins_retain(struct dl_fs *fs,
		      bool (*keep)(const struct dl_pin_owner *, void *),
		      void *arg, struct dl_err *err)
{
	static const struct dl_pin_rec unused;
	size_t changed = 0, per_tx = per_transaction(fs);
	struct dl_pin_owner o;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < fs->npinrecs; i++) {
		if (!fs->pinrecs[i].flags)
			continue;
		owner_of(&fs->pinrecs[i], &o);
		if (keep(&o, arg))
			continue;
		set_slot(fs, i, &unused);
		if (++changed == per_tx) {
			rc = dl_fs_commit(fs, err);
			if (rc)
				return rc;
			changed = 0;
		}
	}
	return changed ? dl_fs_commit(fs, err) : 0;
}
