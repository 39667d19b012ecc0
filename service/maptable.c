// SPDX-License-Identifier: BSD-3-Clause
/* maptable.c - sealed memfd mapping tables; see maptable.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maptable.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010	/* Linux 5.1 */
#endif

static int table_memfd(const char *name, size_t len, struct dl_err *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return dl_err_set(err, errno, "memfd_create: %s",
				  strerror(errno));
	if (ftruncate(fd, (off_t)len)) {
		int rc = dl_err_set(err, errno, "table memfd of %zu bytes: %s",
				    len, strerror(errno));

		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Seal after our own writable mapping exists: FUTURE_WRITE refuses every
 * later writable mapping (the client's) but keeps ours; SEAL_SEAL stops
 * anyone from loosening it.
 */
static int table_seal(int fd, int seals, struct dl_err *err)
{
	if (fcntl(fd, F_ADD_SEALS, seals))
		return dl_err_set(err, errno,
				  "cannot seal the table memfd (Linux >= 5.1 needed): %s",
				  strerror(errno));
	return 0;
}

static void table_fill_hdr(struct dl_maptable *t)
{
	t->hdr->magic = DL_TABLE_MAGIC;
	t->hdr->version = DL_TABLE_VERSION;
	t->hdr->entry_size = sizeof(struct dl_table_entry);
	t->hdr->nentries = t->cap;
}

static void counters_fill_hdr(struct dl_maptable *t)
{
	t->chdr->magic = DL_COUNTERS_MAGIC;
	t->chdr->version = DL_COUNTERS_VERSION;
	t->chdr->stride = DL_COUNTER_STRIDE;
	t->chdr->nentries = t->cap;
}

/*
 * The counter region: written by the client too, so only SHRINK (a
 * client's ftruncate would make our loads fault), GROW and SEAL.
 */
static int counters_new(struct dl_maptable *t, struct dl_err *err)
{
	void *p;
	int rc;

	t->cnt_len = dl_counters_size(t->cap);
	t->cnt_fd = table_memfd("daxlease-counters", t->cnt_len, err);
	if (t->cnt_fd < 0)
		return t->cnt_fd;
	p = mmap(NULL, t->cnt_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 t->cnt_fd, 0);
	if (p == MAP_FAILED) {
		rc = dl_err_set(err, errno, "mmap counters: %s",
				strerror(errno));
		close(t->cnt_fd);
		return rc;
	}
	t->chdr = p;
	t->cnt = (struct dl_pin_counter *)((char *)p + DL_TABLE_HDR_SIZE);
	counters_fill_hdr(t);
	rc = table_seal(t->cnt_fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
			err);
	if (rc) {
		munmap(p, t->cnt_len);
		close(t->cnt_fd);
	}
	return rc;
}

/*
 * The service's own arrays of cap entries (used, quiet_ns), straight from
 * mmap rather than malloc: a table of the default 65,536 entries has a
 * 64 KiB used[] (the BUSY view reads all of it), which malloc would take
 * from its heap and keep there when the client goes - a thousand clients
 * gone left the daemon 64 MB bigger for good.  Unmapped, they are the
 * kernel's again at once, and pages never touched cost nothing.
 */
static void *zeroed_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int entry_arrays_new(struct dl_maptable *t, uint64_t cap)
{
	t->cap = cap;
	t->used = zeroed_pages(cap);
	t->quiet_ns = zeroed_pages(cap * sizeof(*t->quiet_ns));
	return t->used && t->quiet_ns ? 0 : -ENOMEM;
}

static void entry_arrays_free(struct dl_maptable *t)
{
	if (t->used)
		munmap(t->used, t->cap);
	if (t->quiet_ns)
		munmap(t->quiet_ns, t->cap * sizeof(*t->quiet_ns));
	t->used = NULL;
	t->quiet_ns = NULL;
}

int dl_maptable_new(uint64_t cap, struct dl_maptable **out, struct dl_err *err)
{
	struct dl_maptable *t = calloc(1, sizeof(*t));
	int rc;

	if (!t || entry_arrays_new(t, cap)) {
		if (t)
			entry_arrays_free(t);
		free(t);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	t->map_len = DL_TABLE_HDR_SIZE + cap * sizeof(struct dl_table_entry);
	t->fd = table_memfd("daxlease-table", t->map_len, err);
	if (t->fd < 0) {
		rc = t->fd;
		goto err_free;
	}
	t->base = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       t->fd, 0);
	if (t->base == MAP_FAILED) {
		rc = dl_err_set(err, errno, "mmap table: %s", strerror(errno));
		goto err_close;
	}
	t->hdr = t->base;
	t->ent = (struct dl_table_entry *)((char *)t->base + DL_TABLE_HDR_SIZE);
	table_fill_hdr(t);
	rc = table_seal(t->fd, F_SEAL_SHRINK | F_SEAL_GROW |
			F_SEAL_FUTURE_WRITE | F_SEAL_SEAL, err);
	if (!rc)
		rc = counters_new(t, err);
	if (rc)
		goto err_unmap;
	*out = t;
	return 0;

err_unmap:
	munmap(t->base, t->map_len);
err_close:
	close(t->fd);
err_free:
	entry_arrays_free(t);
	free(t);
	return rc;
}

/* The seals a table or counter memfd must have for us to read it safely:
 * no shrinking under our loads (which would fault). */
static int check_seals(int fd, int need, const char *what, struct dl_err *err)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || (seals & need) != need)
		return dl_err_set(err, EINVAL, "the %s is not a sealed memfd",
				  what);
	return 0;
}

static int import_table(struct dl_maptable *t, int fd, struct dl_err *err)
{
	struct stat st;
	void *p;

	if (check_seals(fd, F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, "table", err))
		return -EINVAL;
	if (fstat(fd, &st) || st.st_size < DL_TABLE_HDR_SIZE)
		return dl_err_set(err, EINVAL, "the table is too small");
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return dl_err_set(err, errno, "mmap table: %s",
				  strerror(errno));
	t->base = p;
	t->map_len = (size_t)st.st_size;
	t->hdr = p;
	t->ent = (struct dl_table_entry *)((char *)p + DL_TABLE_HDR_SIZE);
	t->cap = t->hdr->nentries;
	if (t->hdr->magic != DL_TABLE_MAGIC ||
	    t->hdr->version != DL_TABLE_VERSION ||
	    t->hdr->entry_size != sizeof(struct dl_table_entry) ||
	    !t->cap || t->cap > (t->map_len - DL_TABLE_HDR_SIZE) /
				sizeof(struct dl_table_entry))
		return dl_err_set(err, EINVAL, "not a daxlease table");
	/* a sparse memfd can claim any size for free; what we allocate and
	 * walk per entry must stay what a table of ours could need */
	if (t->cap > DL_TABLE_ENTRIES_MAX)
		return dl_err_set(err, EINVAL, "a table of %llu entries: no "
				  "daxleased makes more than %llu",
				  (unsigned long long)t->cap,
				  (unsigned long long)DL_TABLE_ENTRIES_MAX);
	return 0;
}

static int import_counters(struct dl_maptable *t, int fd, struct dl_err *err)
{
	struct stat st;
	void *p;

	if (check_seals(fd, F_SEAL_SHRINK, "counter region", err))
		return -EINVAL;
	t->cnt_len = dl_counters_size(t->cap);
	if (fstat(fd, &st) || (uint64_t)st.st_size < t->cnt_len)
		return dl_err_set(err, EINVAL, "the counter region is too small");
	p = mmap(NULL, t->cnt_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return dl_err_set(err, errno, "mmap counters: %s",
				  strerror(errno));
	t->chdr = p;
	t->cnt = (struct dl_pin_counter *)((char *)p + DL_TABLE_HDR_SIZE);
	if (t->chdr->magic != DL_COUNTERS_MAGIC ||
	    t->chdr->version != DL_COUNTERS_VERSION ||
	    t->chdr->stride != DL_COUNTER_STRIDE ||
	    t->chdr->nentries != t->cap)
		return dl_err_set(err, EINVAL, "not that table's counters");
	return 0;
}

int dl_maptable_import(int table_fd, int cnt_fd, struct dl_maptable **out,
		       struct dl_err *err)
{
	struct dl_maptable *t = calloc(1, sizeof(*t));
	int rc;

	if (!t) {
		close(table_fd);
		close(cnt_fd);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	t->fd = table_fd;
	t->cnt_fd = cnt_fd;
	t->imported = true;
	rc = import_table(t, table_fd, err);
	if (!rc)
		rc = import_counters(t, cnt_fd, err);
	if (!rc && entry_arrays_new(t, t->cap))
		rc = dl_err_set(err, ENOMEM, "out of memory");
	if (rc) {
		dl_maptable_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void dl_maptable_free(struct dl_maptable *t)
{
	if (!t)
		return;
	if (t->base)
		munmap(t->base, t->map_len);
	close(t->fd);
	if (t->chdr)
		munmap(t->chdr, t->cnt_len);
	close(t->cnt_fd);
	entry_arrays_free(t);
	free(t);
}

static bool run_free(const struct dl_maptable *t, uint64_t i, uint64_t n,
		     uint64_t *skip)
{
	for (uint64_t j = 0; j < n; j++) {
		if (t->used[i + j]) {
			*skip = i + j + 1;
			return false;
		}
	}
	return true;
}

static int64_t search(struct dl_maptable *t, uint64_t from, uint64_t to,
		      uint64_t n)
{
	uint64_t i = from;

	while (i + n <= to) {
		uint64_t next;

		if (run_free(t, i, n, &next))
			return (int64_t)i;
		i = next;
	}
	return -ENOSPC;
}

/* Entries [first, first+n) are known unpinned now. */
static void set_quiet(struct dl_maptable *t, uint64_t first, uint64_t n)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	for (uint64_t k = 0; k < n; k++)
		t->quiet_ns[first + k] = now;
}

int64_t dl_maptable_alloc(struct dl_maptable *t, uint64_t n)
{
	int64_t i;

	if (!n || n > t->cap)
		return -ENOSPC;
	/* next fit from the hint, then from the start */
	i = search(t, t->hint, t->cap, n);
	if (i < 0)
		i = search(t, 0, t->cap, n);
	if (i < 0)
		return i;
	memset(t->used + i, 1, n);
	set_quiet(t, (uint64_t)i, n);	/* no pin through them yet */
	t->hint = (uint64_t)i + n;
	return i;
}

static uint64_t next_gen(uint64_t pte)
{
	return (pte + (1ULL << DL_PTE_GEN_SHIFT)) & DL_PTE_GEN_MASK;
}

void dl_maptable_set(struct dl_maptable *t, uint64_t idx, uint64_t file_offset,
		     uint64_t map_id, uint64_t ns_offset,
		     enum dl_leaf_level level, bool write)
{
	struct dl_table_entry *e = &t->ent[idx];
	uint64_t pte;

	pte = DL_PTE_VALID | (write ? DL_PTE_WRITE : 0) |
	      ((uint64_t)level << DL_PTE_LEVEL_SHIFT) | next_gen(e->pte) |
	      (ns_offset >> 12) << DL_PTE_PFN_SHIFT;
	e->file_offset = file_offset;
	e->map_id = map_id;
	e->reserved = 0;
	/* the other fields are visible before the word that validates them */
	__atomic_store_n(&e->pte, pte, __ATOMIC_RELEASE);
}

void dl_maptable_invalidate(struct dl_maptable *t, uint64_t idx)
{
	struct dl_table_entry *e = &t->ent[idx];
	uint64_t pte;

	if (t->imported)
		return;
	pte = e->pte;
	if (!(pte & DL_PTE_VALID))
		return;
	pte = (pte & ~(DL_PTE_VALID | DL_PTE_GEN_MASK)) | next_gen(pte);
	__atomic_store_n(&e->pte, pte, __ATOMIC_RELEASE);
}

void dl_maptable_revalidate(struct dl_maptable *t, uint64_t idx,
			    uint64_t old_pte)
{
	struct dl_table_entry *e = &t->ent[idx];

	if (t->imported || !(old_pte & DL_PTE_VALID))
		return;
	/* a new generation: a pin that read the word before sees a change */
	__atomic_store_n(&e->pte, (old_pte & ~DL_PTE_GEN_MASK) |
			 next_gen(e->pte), __ATOMIC_RELEASE);
}

void dl_maptable_release(struct dl_maptable *t, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++) {
		dl_maptable_invalidate(t, i);
		t->used[i] = 0;
	}
	/* a reader that sees an invalid pte must not rely on anything else */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
