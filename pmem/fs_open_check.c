/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_open_check.c - what dl_fs_open() verifies before it serves an image,
 * and what it repairs.
 *
 * Loading checks one record at a time (its CRC, its fields, its ranges).
 * What that cannot see is records that each pass but disagree with each
 * other: a block in two files, in a file and the detached table, or in
 * use but marked free - which the allocator would hand out again, so a
 * new file would overwrite an old one and the old one would read the new
 * one's data.  So every open runs check-namespace's own cross-check
 * (fs_xcheck.c) over the records it loaded and refuses such an image,
 * naming check-namespace for the whole report.  Blocks marked in use that
 * nothing owns only lose space: reported, not refused.
 *
 * A damaged primary superblock (the open is running on the secondary) is
 * then rewritten from the secondary and persisted before open returns.
 * Nothing updates the superblock after format, so the secondary holds
 * exactly what the primary held; a torn rewrite leaves a primary that
 * still fails its CRC, and the next open falls back and rewrites again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_private.h"

static void warn(struct dl_fs *fs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct dl_fs *fs, const char *fmt, ...)
{
	struct dl_err *w;
	va_list ap;

	if (fs->nwarnings >= DL_FS_MAX_WARNINGS)
		return;
	w = &fs->warnings[fs->nwarnings++];
	w->errnum = 0;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

size_t dl_fs_open_warnings(const struct dl_fs *fs, const struct dl_err **out)
{
	*out = fs->warnings;
	return fs->nwarnings;
}

/* Every owner open knows of, claimed in the checker's order (so the
 * first problem is the one check-namespace lists first). */
static void claim_all(const struct dl_fs *fs, struct dl_xcheck *x)
{
	dl_xcheck_claim(x, 0, fs->sb.data_start, "filesystem metadata");
	for (dl_ino_t ino = 1; ino <= fs->ninodes; ino++)
		if (fs->inodes[ino])
			dl_xcheck_claim_file(x, ino, fs->inodes[ino]);
	dl_xcheck_claim_detached(x, &fs->sb, fs->detached);
	dl_xcheck_bitmap(x, dl_fs_block(fs, fs->sb.bitmap.start));
}

/* Refuse on anything but lost space; warn about that. */
static int judge(struct dl_fs *fs, const struct dl_check_report *rep,
		 struct dl_err *err)
{
	size_t n = rep->nproblems < DL_CHECK_MAX_PROBLEMS ?
		   rep->nproblems : DL_CHECK_MAX_PROBLEMS;

	for (size_t i = 0; i < n; i++) {
		const struct dl_check_problem *p = &rep->problems[i];

		if (strcmp(p->kind, "block-leaked"))
			return dl_err_set(err, EUCLEAN,
					  "inconsistent filesystem, not opened "
					  "('daxlease check-namespace' lists "
					  "%zu problem(s)): %s",
					  rep->nproblems, p->detail);
		warn(fs, "%s: space lost, no file affected "
		     "('daxlease check-namespace' reports it)", p->detail);
	}
	return 0;
}

static void repair_primary(struct dl_fs *fs)
{
	if (!fs->primary_damage.errnum)
		return;
	if (dl_ns_read_only(fs->ns)) {
		warn(fs, "primary superblock is damaged (%s); using the "
		     "secondary copy, not rewritten: the namespace is open "
		     "read-only", fs->primary_damage.msg);
		return;
	}
	memcpy(fs->base, &fs->sb, sizeof(fs->sb));
	dl_ns_persist(fs->ns, fs->base, sizeof(fs->sb));
	warn(fs, "primary superblock was damaged (%s); rewritten from the "
	     "secondary copy", fs->primary_damage.msg);
}

int dl_fs_open_check(struct dl_fs *fs, struct dl_err *err)
{
	struct dl_check_report *rep = calloc(1, sizeof(*rep));
	struct dl_xcheck x;
	int rc;

	if (!rep || dl_xcheck_init(&x, fs->sb.nblocks, rep)) {
		free(rep);
		return dl_err_set(err, ENOMEM,
				  "out of memory for the open-time check");
	}
	claim_all(fs, &x);
	dl_xcheck_fini(&x);
	rc = judge(fs, rep, err);
	free(rep);
	if (!rc)
		repair_primary(fs);
	return rc;
}
