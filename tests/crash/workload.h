/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * workload.h - the crash test's scripted workload and its model.
 *
 * A deterministic list of operations over a handful of files (create,
 * write, truncate, punch, collapse, insert, zero, allocate, rename,
 * unlink).  The same list drives the filesystem (in the child that will
 * crash) and an in-memory model (in the parent that checks).
 */
#ifndef DAXLEASE_TESTS_WORKLOAD_H
#define DAXLEASE_TESTS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs.h"

#define WL_FILES 8
#define WL_MAX_SIZE (384 * 1024)

enum wl_kind {
	WL_CREATE, WL_WRITE, WL_TRUNCATE, WL_PUNCH, WL_COLLAPSE, WL_INSERT,
	WL_ZERO, WL_ALLOC, WL_RENAME, WL_UNLINK,
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
};

/* Build nops operations from seed; only operations valid in the model's
 * state at that point are generated. */
void wl_generate(struct wl_op *ops, size_t nops, unsigned seed);
const char *wl_name(int file);
const char *wl_describe(const struct wl_op *op, char *buf, size_t len);
/* The byte a write by operation index k puts at file offset i. */
uint8_t wl_byte(size_t k, uint64_t i);

void wl_model_reset(struct wl_model *m);
void wl_model_apply(struct wl_model *m, const struct wl_op *op, size_t k);
/* Run op k against the filesystem; 0 or -errno. */
int wl_fs_apply(struct dl_fs *fs, const struct wl_op *op, size_t k);
/* The byte range an operation may leave half-written if interrupted. */
bool wl_data_range(const struct wl_op *op, uint64_t *off, uint64_t *len);

#endif
