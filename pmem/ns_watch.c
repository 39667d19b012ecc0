// SPDX-License-Identifier: BSD-3-Clause
/*
 * ns_watch.c - notice, report and undo what others did to the namespace
 * file behind our back (see namespace.h, "The image changed behind our
 * back").
 *
 * The file a fake NVDIMM lives in holds more than the namespace: its two
 * header copies and its label area come first, and they are its identity.
 * Whoever holds an fd of the file - daxleased's clients with DAX access
 * get one - can truncate it, punch holes in it, or write over the header,
 * and no fd can be limited to a range of its file.  So the namespace
 * keeps what only it may change and checks the file against it:
 *
 *   - the file's size (a fake NVDIMM's is data_offset + size exactly);
 *   - the first label_offset + label_size bytes: both header copies and
 *     the label area, as we last wrote them (open, then every
 *     header commit updates the copy);
 *   - the faults the SIGBUS guard absorbed (guard.h).
 *
 * A check looks at the file with fstat and pread, never through the
 * mapping, so it cannot fault.  What it finds is undone at once: the size
 * set back (whatever was cut off reads as zeros), the header and labels
 * written back from the copy and synced.  The finding stays in the
 * health bits, which make the filesystem refuse every change (fs.c's
 * dl_fs_writable): after its image changed under it, the owner no longer
 * knows what the namespace holds, and only a restart (with
 * check-namespace) decides.
 *
 * When does a check run?  inotify reports every write(2), ftruncate(2)
 * and fallocate(2) of the file by anyone (ours too: those checks find
 * nothing); dl_ns_check(ns, false) reads those events and checks only if
 * there were some, or a new fault, which costs one read(2) - every
 * filesystem change calls it first, so a change never runs on an image
 * known to have changed.  Stores through a mapping raise no event: the
 * owner runs dl_ns_check(ns, true) now and then, and close always does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "namespace_private.h"

#define SZ(buf, n) dl_fmt_size(buf, sizeof(buf), n)

struct dl_ns_watch {
	int ifd;			/* inotify: the file was written */
	uint64_t file_size;		/* what the file must measure */
	uint8_t *meta;			/* [0, meta_len) as we wrote it */
	uint8_t *scratch;		/* a read of the same bytes */
	size_t meta_len;		/* 0: no header (a real namespace) */
	uint64_t faults_seen;
	dl_ns_health_fn *fn;
	void *arg;
};

static void report(struct dl_ns *ns, unsigned bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct dl_ns *ns, unsigned bit, const char *fmt, ...)
{
	struct dl_ns_watch *w = ns->watch;
	char why[512];
	va_list ap;

	ns->health |= bit;
	if (!w->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	w->fn(w->arg, bit, why);
}

/* ---- the checks --------------------------------------------------------- */

static void check_faults(struct dl_ns *ns)
{
	struct dl_ns_watch *w = ns->watch;
	uint64_t faults = dl_map_faults(ns->map);

	if (faults == w->faults_seen)
		return;
	report(ns, DL_NS_HEALTH_FAULT,
	       "%llu access(es) to the mapping of %s faulted: the file was cut short under it, or the disk under it could not store a page",
	       (unsigned long long)(faults - w->faults_seen), ns->info.path);
	w->faults_seen = faults;
}

static void check_size(struct dl_ns *ns)
{
	struct dl_ns_watch *w = ns->watch;
	char have[32], want[32];
	struct stat st;
	bool shorter;

	if (fstat(ns->fd, &st) || (uint64_t)st.st_size == w->file_size)
		return;
	shorter = (uint64_t)st.st_size < w->file_size;
	SZ(have, (uint64_t)st.st_size);
	SZ(want, w->file_size);
	if (ftruncate(ns->fd, (off_t)w->file_size))
		report(ns, DL_NS_HEALTH_RESIZED,
		       "%s was %s to %s by another process, and setting it back to %s failed: %s",
		       ns->info.path, shorter ? "cut short" : "extended", have,
		       want, strerror(errno));
	else
		report(ns, DL_NS_HEALTH_RESIZED,
		       "%s was %s to %s by another process; set back to %s%s",
		       ns->info.path, shorter ? "cut short" : "extended", have,
		       want, shorter ? ": what was cut off reads as zeros" : "");
}

static bool meta_intact(struct dl_ns *ns)
{
	struct dl_ns_watch *w = ns->watch;
	ssize_t n = pread(ns->fd, w->scratch, w->meta_len, 0);

	return n == (ssize_t)w->meta_len && !memcmp(w->scratch, w->meta,
						    w->meta_len);
}

static int meta_rewrite(struct dl_ns *ns)
{
	struct dl_ns_watch *w = ns->watch;
	size_t done = 0;

	while (done < w->meta_len) {
		ssize_t n = pwrite(ns->fd, w->meta + done, w->meta_len - done,
				   (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return fdatasync(ns->fd) ? -errno : 0;
}

static void check_meta(struct dl_ns *ns)
{
	int rc;

	if (!ns->watch->meta_len || meta_intact(ns))
		return;
	rc = meta_rewrite(ns);
	if (rc)
		report(ns, DL_NS_HEALTH_META,
		       "the header or label area of %s was overwritten by another process, and writing it back failed: %s",
		       ns->info.path, strerror(-rc));
	else
		report(ns, DL_NS_HEALTH_META,
		       "the header or label area of %s was overwritten or punched by another process; written back from the copy kept since open",
		       ns->info.path);
}

/* Read every pending event; were there any? */
static bool drain_events(struct dl_ns_watch *w)
{
	char buf[4096] __attribute__((aligned(8)));
	bool any = false;

	while (read(w->ifd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

unsigned dl_ns_check(struct dl_ns *ns, bool full)
{
	struct dl_ns_watch *w = ns->watch;

	if (!w)
		return dl_ns_health(ns);
	if (w->ifd < 0 || drain_events(w))
		full = true;
	if (full || dl_map_faults(ns->map) != w->faults_seen) {
		check_faults(ns);
		/* the size first: a short file would make the header
		 * read short too */
		check_size(ns);
		check_meta(ns);
	}
	return ns->health;
}

unsigned dl_ns_health(const struct dl_ns *ns)
{
	return ns->health | (dl_map_faults(ns->map) ? DL_NS_HEALTH_FAULT : 0);
}

int dl_ns_watch_fd(const struct dl_ns *ns)
{
	return ns->watch ? ns->watch->ifd : -1;
}

void dl_ns_meta_written(struct dl_ns *ns, size_t off, const void *buf,
			size_t len)
{
	struct dl_ns_watch *w = ns->watch;

	if (w && off < w->meta_len && len <= w->meta_len - off)
		memcpy(w->meta + off, buf, len);
}

/* ---- start and stop ----------------------------------------------------- */

static void watch_free(struct dl_ns_watch *w)
{
	if (w->ifd >= 0)
		close(w->ifd);
	free(w->meta);
	free(w->scratch);
	free(w);
}

/* The file as it is now is the truth: copy what only we may change. */
static int watch_fill(struct dl_ns *ns, struct dl_ns_watch *w,
		      struct dl_err *err)
{
	const char *path = ns->info.path;
	char proc[64];
	struct stat st;

	if (fstat(ns->fd, &st))
		return dl_err_set(err, errno, "cannot stat %s: %s", path,
				  strerror(errno));
	w->file_size = (uint64_t)st.st_size;
	if (ns->kind == DL_NS_FAKE) {
		w->meta_len = ns->hdr.label_offset + ns->hdr.label_size;
		w->meta = malloc(w->meta_len);
		w->scratch = malloc(w->meta_len);
		if (!w->meta || !w->scratch)
			return dl_err_set(err, ENOMEM,
					  "out of memory for a copy of the header");
		if (pread(ns->fd, w->meta, w->meta_len, 0) !=
		    (ssize_t)w->meta_len)
			return dl_err_set(err, EIO,
					  "cannot read the header of %s", path);
	}
	/* without inotify (its per-user limits reached, say) every
	 * dl_ns_check() is a full one: a few microseconds per change */
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0)
		return 0;
	/* the magic link names the inode we have open, wherever its path
	 * went since */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", ns->fd);
	if (inotify_add_watch(w->ifd, proc, IN_MODIFY | IN_ATTRIB) < 0) {
		close(w->ifd);
		w->ifd = -1;
	}
	return 0;
}

int dl_ns_watch(struct dl_ns *ns, dl_ns_health_fn *fn, void *arg,
		struct dl_err *err)
{
	struct dl_ns_watch *w;
	struct stat st;
	int rc;

	if (ns->watch || ns->read_only)
		return 0;
	if (fstat(ns->fd, &st))
		return dl_err_set(err, errno, "cannot stat %s: %s",
				  ns->info.path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;	/* a device cannot be resized or punched */
	w = calloc(1, sizeof(*w));
	if (!w)
		return dl_err_set(err, ENOMEM, "out of memory for a watch");
	w->ifd = -1;
	w->fn = fn;
	w->arg = arg;
	rc = watch_fill(ns, w, err);
	if (!rc) {
		rc = dl_map_guard(ns->map);
		if (rc)
			dl_err_set(err, -rc, "cannot guard the mapping of %s: %s",
				   ns->info.path, strerror(-rc));
	}
	if (rc) {
		watch_free(w);
		return rc;
	}
	ns->watch = w;
	return 0;
}

void dl_ns_unwatch(struct dl_ns *ns)
{
	if (!ns->watch)
		return;
	watch_free(ns->watch);
	ns->watch = NULL;
}
