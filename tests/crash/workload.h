/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * workload.h - the crash test's scripted workload and its model.
 *
 * A deterministic list of operations over a handful of files (create,
 * write, truncate, punch, collapse, insert, zero, allocate, rename,
 * unlink, fsync), and the pin records of a few made-up processes (set).
 * The same list drives the filesystem (in the child that will crash)
 * and an in-memory model (in the parent that checks).
 */
#ifndef DAXLEASE_TESTS_WORKLOAD_H
#define DAXLEASE_TESTS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs.h"

#define WL_FILES 8
#define WL_MAX_SIZE (384 * 1024)
#define WL_OWNERS 3		/* processes with pin records */
#define WL_OWNER_RANGES 4	/* ranges per process, at most */

enum wl_kind {
	WL_CREATE, WL_WRITE, WL_TRUNCATE, WL_PUNCH, WL_COLLAPSE, WL_INSERT,
	WL_ZERO, WL_ALLOC, WL_RENAME, WL_UNLINK,
	WL_PINREC,		/* owner `file` gets `len` ranges (wl_pin_range) */
	WL_FSYNC,		/* dl_fs_sync: every write so far durable */
};

struct wl_op {
	enum wl_kind kind;
	int file, file2;	/* indexes into the name table */
	uint64_t off, len;
	bool keep_size;
};

struct wl_file {
	bool exists;
	uint64_t size;
	uint8_t data[WL_MAX_SIZE * 2];
};

struct wl_model {
	struct wl_file f[WL_FILES];
	size_t npins[WL_OWNERS];
	struct dl_ns_range pins[WL_OWNERS][WL_OWNER_RANGES];
};

/* Build nops operations from seed; only operations valid in the model's
 * state at that point are generated.  write_heavy: every other one a
 * write, so that group commit batches many (holes filled, extents
 * merged inside one batch). */
void wl_generate(struct wl_op *ops, size_t nops, unsigned seed,
		 bool write_heavy);
const char *wl_name(int file);
const char *wl_describe(const struct wl_op *op, char *buf, size_t len);
/* The byte a write by operation index k puts at file offset i. */
uint8_t wl_byte(size_t k, uint64_t i);

void wl_model_reset(struct wl_model *m);
void wl_model_apply(struct wl_model *m, const struct wl_op *op, size_t k);
/* Run op k against the filesystem; 0 or -errno. */
int wl_fs_apply(struct dl_fs *fs, const struct wl_op *op, size_t k);
/* The process pin records of owner o name. */
void wl_pin_owner(int o, struct dl_pin_owner *out);
/* Range i of the records operation k sets. */
struct dl_ns_range wl_pin_range(size_t k, size_t i);
/* Is op a write (under group commit: durable only at a later commit)? */
bool wl_is_write(const struct wl_op *op);
/* The byte range an operation may leave half-written if interrupted. */
bool wl_data_range(const struct wl_op *op, uint64_t *off, uint64_t *len);

#endif
