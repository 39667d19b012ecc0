/* SPDX-License-Identifier: BSD-3-Clause */
#include "workload.h"

#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *names[WL_FILES] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
	"a-file-name-that-is-rather-long-to-exercise-the-inode-name-field",
};

const char *wl_name(int file)
{
	return names[file];
}

uint8_t wl_byte(size_t k, uint64_t i)
{
	return (uint8_t)(k * 31 + i * 7 + (i >> 12) + 1);
}

static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Block-aligned offset below limit (limit > 0). */
static uint64_t aligned_below(unsigned *s, uint64_t limit)
{
	return (next_rand(s) % ((limit + 4095) / 4096)) * 4096;
}

static uint64_t any_below(unsigned *s, uint64_t limit)
{
	return limit ? next_rand(s) % limit : 0;
}

static int pick_file(unsigned *s, const struct wl_model *m, bool exists)
{
	int start = (int)(next_rand(s) % WL_FILES);

	for (int i = 0; i < WL_FILES; i++) {
		int f = (start + i) % WL_FILES;

		if (m->f[f].exists == exists)
			return f;
	}
	return -1;
}

/* One valid operation for the model's current state. */
static void gen_one(unsigned *s, const struct wl_model *m, struct wl_op *op,
		    bool write_heavy)
{
	for (;;) {
		int f = pick_file(s, m, true), g;
		uint64_t size = f >= 0 ? m->f[f].size : 0;
		unsigned pick = next_rand(s) % 14;

		if (write_heavy && next_rand(s) % 2)
			pick = 2;	/* a write */
		memset(op, 0, sizeof(*op));
		op->file = f;
		switch (pick) {
		case 0:
		case 1:
			g = pick_file(s, m, false);
			if (g < 0)
				continue;
			op->kind = WL_CREATE;
			op->file = g;
			return;
		case 2:
		case 3:
		case 4:
			if (f < 0)
				continue;
			op->kind = WL_WRITE;
			op->off = next_rand(s) % 2 ? aligned_below(s, size + 8192)
						   : any_below(s, size + 8192);
			op->len = 1 + any_below(s, 65536);
			if (next_rand(s) % 2)
				op->len = (op->len + 4095) & ~4095ULL;
			break;
		case 5:
			if (f < 0)
				continue;
			op->kind = WL_TRUNCATE;
			op->off = any_below(s, size + 16384);
			break;
		case 6:
		case 7:
			if (f < 0)
				continue;
			op->kind = next_rand(s) % 2 ? WL_PUNCH : WL_ZERO;
			op->off = any_below(s, size + 4096);
			op->len = 1 + any_below(s, 32768);
			op->keep_size = op->kind == WL_PUNCH || next_rand(s) % 2;
			break;
		case 8:
			if (f < 0 || size < 8192)
				continue;
			op->kind = next_rand(s) % 2 ? WL_COLLAPSE : WL_INSERT;
			op->off = aligned_below(s, size - 4096);
			op->len = 4096 * (1 + next_rand(s) % 4);
			if (op->kind == WL_COLLAPSE && op->off + op->len >= size)
				continue;
			break;
		case 9:
			if (f < 0)
				continue;
			op->kind = WL_ALLOC;
			op->off = any_below(s, size + 8192);
			op->len = 1 + any_below(s, 32768);
			op->keep_size = next_rand(s) % 2;
			break;
		case 10:
			if (f < 0)
				continue;
			op->kind = WL_RENAME;
			op->file2 = (int)(next_rand(s) % WL_FILES);
			if (op->file2 == f)
				continue;
			return;
		case 11:
			if (f < 0)
				continue;
			op->kind = WL_UNLINK;
			return;
		case 13:
			op->kind = WL_FSYNC;
			op->file = 0;
			return;
		case 12:
			op->kind = WL_PINREC;
			op->file = (int)(next_rand(s) % WL_OWNERS);
			op->len = next_rand(s) % (WL_OWNER_RANGES + 1);
			return;
		}
		/* keep files within the model's buffers */
		if (op->off + op->len + (op->kind == WL_INSERT ? size : 0) >
		    WL_MAX_SIZE)
			continue;
		return;
	}
}

void wl_generate(struct wl_op *ops, size_t nops, unsigned seed,
		 bool write_heavy)
{
	struct wl_model *m = malloc(sizeof(*m));

	wl_model_reset(m);
	for (size_t k = 0; k < nops; k++) {
		gen_one(&seed, m, &ops[k], write_heavy);
		wl_model_apply(m, &ops[k], k);
	}
	free(m);
}

const char *wl_describe(const struct wl_op *op, char *buf, size_t len)
{
	static const char *kinds[] = {
		"create", "write", "truncate", "punch", "collapse", "insert",
		"zero", "allocate", "rename", "unlink", "pin-records", "fsync",
	};

	if (op->kind == WL_FSYNC) {
		snprintf(buf, len, "fsync");
		return buf;
	}
	if (op->kind == WL_PINREC) {
		snprintf(buf, len, "pin-records of process %d: %llu range(s)",
			 op->file, (unsigned long long)op->len);
		return buf;
	}
	snprintf(buf, len, "%s %s %llu+%llu%s%s%s", kinds[op->kind],
		 names[op->file], (unsigned long long)op->off,
		 (unsigned long long)op->len, op->keep_size ? " keep" : "",
		 op->kind == WL_RENAME ? " -> " : "",
		 op->kind == WL_RENAME ? names[op->file2] : "");
	return buf;
}

void wl_model_reset(struct wl_model *m)
{
	for (int i = 0; i < WL_FILES; i++) {
		m->f[i].exists = false;
		m->f[i].size = 0;
	}
	memset(m->npins, 0, sizeof(m->npins));
}

void wl_pin_owner(int o, struct dl_pin_owner *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = 1000 + (uint32_t)o;
	out->token = 7;
	out->start_time = 4242;
	out->boot_id[0] = 0xb0;
}

struct dl_ns_range wl_pin_range(size_t k, size_t i)
{
	/* inside any namespace the test formats: the first 16 MiB */
	return (struct dl_ns_range){
		.ns_offset = ((k * 7 + i * 131) % 4000) * 4096,
		.length = 4096 * (1 + (k + i) % 9),
	};
}

static void zero_in_file(struct wl_file *f, uint64_t off, uint64_t len)
{
	uint64_t end = off + len > f->size ? f->size : off + len;

	if (off < end)
		memset(f->data + off, 0, end - off);
}

/* Growing a file exposes zeros. */
static void set_size(struct wl_file *f, uint64_t size)
{
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
}

void wl_model_apply(struct wl_model *m, const struct wl_op *op, size_t k)
{
	struct wl_file *f = &m->f[op->file];

	switch (op->kind) {
	case WL_PINREC:
		m->npins[op->file] = op->len;
		for (size_t i = 0; i < op->len; i++)
			m->pins[op->file][i] = wl_pin_range(k, i);
		break;
	case WL_CREATE:
		f->exists = true;
		f->size = 0;
		break;
	case WL_WRITE:
		if (op->off + op->len > f->size)
			set_size(f, op->off + op->len);
		for (uint64_t i = 0; i < op->len; i++)
			f->data[op->off + i] = wl_byte(k, op->off + i);
		break;
	case WL_TRUNCATE:
		set_size(f, op->off);
		break;
	case WL_PUNCH:
		zero_in_file(f, op->off, op->len);
		break;
	case WL_ZERO:
		zero_in_file(f, op->off, op->len);
		if (!op->keep_size && op->off + op->len > f->size)
			set_size(f, op->off + op->len);
		break;
	case WL_ALLOC:
		if (!op->keep_size && op->off + op->len > f->size)
			set_size(f, op->off + op->len);
		break;
	case WL_COLLAPSE:
		memmove(f->data + op->off, f->data + op->off + op->len,
			f->size - op->off - op->len);
		f->size -= op->len;
		break;
	case WL_INSERT:
		memmove(f->data + op->off + op->len, f->data + op->off,
			f->size - op->off);
		memset(f->data + op->off, 0, op->len);
		f->size += op->len;
		break;
	case WL_RENAME:
		m->f[op->file2].exists = true;
		m->f[op->file2].size = f->size;
		memcpy(m->f[op->file2].data, f->data, f->size);
		f->exists = false;
		break;
	case WL_UNLINK:
		f->exists = false;
		break;
	case WL_FSYNC:
		break;
	}
}

int wl_fs_apply(struct dl_fs *fs, const struct wl_op *op, size_t k)
{
	static uint8_t buf[65536 + 4096];
	dl_ino_t ino = 0;

	if (op->kind == WL_PINREC) {
		struct dl_ns_range r[WL_OWNER_RANGES];
		struct dl_pin_owner o;

		wl_pin_owner(op->file, &o);
		for (size_t i = 0; i < op->len; i++)
			r[i] = wl_pin_range(k, i);
		return dl_fs_pins_set(fs, &o, r, op->len, NULL);
	}
	if (op->kind == WL_FSYNC)
		return dl_fs_sync(fs, NULL);
	if (op->kind != WL_CREATE && dl_fs_lookup(fs, names[op->file], &ino))
		return -ENOENT;
	switch (op->kind) {
	case WL_CREATE:
		return dl_fs_create(fs, names[op->file], 0644, 0, 0, NULL, NULL);
	case WL_WRITE:
		for (uint64_t i = 0; i < op->len; i++)
			buf[i] = wl_byte(k, op->off + i);
		return dl_fs_write(fs, ino, op->off, buf, op->len, NULL) ==
				       (ssize_t)op->len ? 0 : -EIO;
	case WL_TRUNCATE:
		return dl_fs_truncate(fs, ino, op->off, 0, NULL);
	case WL_PUNCH:
		return dl_fs_fallocate(fs, ino, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE, op->off, op->len,
				       0, NULL);
	case WL_ZERO:
		return dl_fs_fallocate(fs, ino, FALLOC_FL_ZERO_RANGE |
				       (op->keep_size ? FALLOC_FL_KEEP_SIZE : 0),
				       op->off, op->len, 0, NULL);
	case WL_ALLOC:
		return dl_fs_fallocate(fs, ino, op->keep_size ?
				       FALLOC_FL_KEEP_SIZE : 0, op->off,
				       op->len, 0, NULL);
	case WL_COLLAPSE:
		return dl_fs_fallocate(fs, ino, FALLOC_FL_COLLAPSE_RANGE,
				       op->off, op->len, 0, NULL);
	case WL_INSERT:
		return dl_fs_fallocate(fs, ino, FALLOC_FL_INSERT_RANGE,
				       op->off, op->len, 0, NULL);
	case WL_RENAME:
		return dl_fs_rename(fs, names[op->file], names[op->file2], 0,
				    0, NULL);
	case WL_UNLINK:
		return dl_fs_unlink(fs, names[op->file], 0, NULL);
	case WL_PINREC:
	case WL_FSYNC:
		break;
	}
	return -EINVAL;
}

bool wl_is_write(const struct wl_op *op)
{
	return op->kind == WL_WRITE;
}

bool wl_data_range(const struct wl_op *op, uint64_t *off, uint64_t *len)
{
	switch (op->kind) {
	case WL_WRITE:
	case WL_PUNCH:
	case WL_ZERO:
		*off = op->off;
		*len = op->len;
		return true;
	default:
		return false;
	}
}
