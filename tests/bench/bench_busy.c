/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_busy.c - what a busy-page scan costs: a file fully allocated
 * (fallocate), mapped whole by a client, one 4 KiB range pinned at its
 * end; then truncates to 0 with the NONBLOCK policy.  Each one
 * invalidates the mapping's entries (already invalid after the first
 * call: a no-op) and scans the range for pins before it fails with
 * EBUSY, so the calls after the first measure the scan.  The cost should
 * grow with the entries of the range, not with its bytes.  Beside it,
 * one full listing of the admin BUSY view, the other reader of every
 * counter of the entries in use.
 *
 * The daemon runs with --advisory-leases: a NONBLOCK change that meets a
 * lease reports the lease and goes no further (it breaks nothing), so a
 * lease on the mapping would stop the call before the scan.
 *
 * The brief's cases are 1 TiB mapped with align 1G (1,024 PUD leaves)
 * and align 2M (524,288 PMD leaves).  A write mapping first zeroes the
 * fallocated (unwritten) blocks, and a read mapping refuses them, so on
 * a fake NVDIMM mapping 1 TiB writes 1 TiB into the image.  The first
 * case measures how much of its file the setup wrote to the image's
 * disk; the 1 TiB cases run only when that is (nearly) nothing.  The
 * 2 GiB cases show the same growth with both axes separated: 2 GiB as 2
 * PUD, 1,024 PMD or 524,288 PTE leaves, and 1,024 leaves as 2 GiB (PMD)
 * or 4 MiB (PTE).
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_daemon.h"
#include "bench_service.h"
#include "error.h"

#define KiB4 4096ULL
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)
#define TABLE_ENTRIES "600000"

struct scan_case {
	const char *label;
	uint64_t ns_size, align, bytes;
	bool big;		/* needs sparse zeroing (1 TiB) */
};

static const struct scan_case full_cases[] = {
	{ "2 GiB, align 1G (PUD)", 4 * GiB, GiB, 2 * GiB, false },
	{ "2 GiB, align 2M (PMD)", 4 * GiB, 2 * MiB, 2 * GiB, false },
	{ "4 MiB, align 4K (PTE)", 64 * MiB, KiB4, 4 * MiB, false },
	{ "2 GiB, align 4K (PTE)", 4 * GiB, KiB4, 2 * GiB, false },
	{ "1 TiB, align 1G (PUD)", TiB + 4 * GiB, GiB, TiB, true },
	{ "1 TiB, align 2M (PMD)", TiB + 4 * GiB, 2 * MiB, TiB, true },
};

static const struct scan_case quick_cases[] = {
	{ "64 MiB, align 2M (PMD)", 256 * MiB, 2 * MiB, 64 * MiB, false },
	{ "128 KiB, align 4K (PTE)", 64 * MiB, KiB4, 128 * 1024, false },
	{ "64 MiB, align 4K (PTE)", 256 * MiB, KiB4, 64 * MiB, false },
};

static uint64_t disk_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

/* What one case holds while it runs. */
struct scan_setup {
	struct bench_daemon bd;
	struct daxlease_file *f;
	struct daxlease_map *m;
	uint64_t pin_id;
	bool pinned;
	uint64_t busy_rows;	/* what the last BUSY listing had */
};

/* Lines of /proc/self/maps: the process's VMAs (vm.max_map_count). */
static long count_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/*
 * Map the written file whole, timed, with the VMAs it took: the library
 * maps each leaf, and leaves that follow each other on the namespace
 * merge into one VMA only if the kernel can merge them.
 */
static int scan_map(struct scan_setup *s, struct svc_scan *out)
{
	long before = count_vmas();
	uint64_t t0 = now_ns();
	int rc;

	rc = daxlease_map(s->f, 0, out->bytes, DAXLEASE_PROT_READ |
			  DAXLEASE_PROT_WRITE, &s->m);
	out->map_ns = now_ns() - t0;
	out->vmas = rc ? 0 : count_vmas() - before;
	return rc;
}

/*
 * Fallocate and map whole (the write mapping zeroes the blocks: setup),
 * unmap, map again (now only the mapping: timed), pin the last 4 KiB.
 */
static int scan_prepare(struct scan_setup *s, struct svc_scan *out)
{
	uint64_t t0 = now_ns();
	int rc;

	rc = daxlease_open(s->bd.ctx, "scan", BENCH_CREATE, 0644, &s->f);
	if (!rc)
		rc = daxlease_fallocate(s->f, 0, 0, out->bytes);
	if (!rc)
		rc = daxlease_map(s->f, 0, out->bytes, DAXLEASE_PROT_READ |
				  DAXLEASE_PROT_WRITE, &s->m);
	if (!rc) {
		rc = daxlease_unmap(s->m);
		s->m = NULL;
	}
	if (!rc)
		rc = scan_map(s, out);
	if (rc) {
		snprintf(out->skipped, sizeof(out->skipped),
			 "fallocate + map of %llu bytes: %s",
			 (unsigned long long)out->bytes, strerror(-rc));
		return rc;
	}
	daxlease_map_leaves(s->m, &out->pte, &out->pmd, &out->pud);
	out->entries = out->pte + out->pmd + out->pud;
	rc = daxlease_pin(s->f, out->bytes - KiB4, KiB4, 0, &s->pin_id);
	if (rc)
		return bench_fail("busy scan: pin", NULL, rc);
	s->pinned = true;
	out->setup_ns = now_ns() - t0;
	out->disk_bytes = disk_bytes(s->bd.d.image);
	return 0;
}

static int scan_once(struct daxlease_file *f, uint64_t *blockers)
{
	struct daxlease_blocker b[4];
	struct daxlease_policy p = {
		.flags = DAXLEASE_POLICY_NONBLOCK, .blockers = b, .max = 4,
	};
	int rc = daxlease_truncate_policy(f, 0, &p);

	*blockers = p.nblockers;
	/* anything but EBUSY means the pin did not hold the truncate back */
	return rc == -EBUSY ? 0 : rc ? rc : -EPROTO;
}

static int scan_op(void *arg, size_t i)
{
	struct scan_setup *s = arg;
	uint64_t blockers;

	(void)i;
	return scan_once(s->f, &blockers);
}

/* One full listing of the admin BUSY view, page after page. */
static int busy_view_op(void *arg, size_t i)
{
	static struct daxlease_busy page[64];
	struct scan_setup *s = arg;
	uint64_t cursor = 0;

	(void)i;
	s->busy_rows = 0;
	do {
		int n = daxlease_busy(s->bd.ctx, &cursor, page, 64);

		if (n < 0)
			return n;
		s->busy_rows += (uint64_t)n;
	} while (cursor);
	return 0;
}

/* Admin views for whoever runs this, root or not (as tests/integration
 * does): the name of our primary group. */
static const char *admin_group(void)
{
	static char name[64];
	struct group *g = getgrgid(getgid());

	snprintf(name, sizeof(name), "%s", g ? g->gr_name : "root");
	return name;
}

static int scan_case_run(const struct bench_opts *o, struct echo_peer *e,
			 const struct scan_case *c, size_t n,
			 struct svc_scan *out)
{
	static const struct paired_op p = { .op = scan_op };
	static const struct paired_op view = { .op = busy_view_op };
	const char *const extra[] = {
		"--table-entries", TABLE_ENTRIES, "--advisory-leases",
		"--admin-group", admin_group(), NULL,
	};
	struct scan_setup s = { 0 };
	uint64_t t0;
	int rc, stop;

	out->label = c->label;
	out->ns_size = c->ns_size;
	out->align = c->align;
	out->bytes = c->bytes;
	rc = bench_daemon_start(o, &s.bd, c->ns_size, c->align, extra);
	if (rc)
		return rc;
	rc = scan_prepare(&s, out);
	if (!rc) {
		t0 = now_ns();
		rc = scan_once(s.f, &out->blockers);
		out->first_ns = now_ns() - t0;
	}
	if (!rc)
		rc = time_paired(e, &p, &s, n, &out->t);
	if (!rc)
		rc = time_paired(e, &view, &s, n / 10 + 1, &out->busy_view);
	out->busy_rows = s.busy_rows;
	if (s.pinned && daxlease_unpin(s.bd.ctx, s.pin_id) && !rc)
		rc = -EIO;
	if (s.m && daxlease_unmap(s.m) && !rc)
		rc = -EIO;
	if (s.f)
		daxlease_close(s.f);
	stop = bench_daemon_stop(&s.bd);
	/* a mapping the service or the kernel would not make is reported,
	 * not fatal: the other cases still say something */
	if (rc && out->skipped[0])
		return stop;
	if (rc)
		return bench_fail(c->label, NULL, rc);
	return stop;
}

/* Did mapping the first case leave the image sparse?  Only a measured
 * "yes" lets a 1 TiB case run: a wrong guess writes 1 TiB. */
static bool zeroing_is_sparse(const struct svc_scan *first)
{
	return !first->skipped[0] && first->entries &&
	       first->disk_bytes < first->bytes / 16;
}

static void big_skipped(const struct scan_case *c,
			const struct svc_scan *first, struct svc_scan *out)
{
	char a[32], b[32];

	out->label = c->label;
	out->ns_size = c->ns_size;
	out->align = c->align;
	out->bytes = c->bytes;
	if (first->skipped[0] || !first->entries)
		snprintf(out->skipped, sizeof(out->skipped), "the first case "
			 "did not run: whether mapping writes the file into "
			 "the image is unknown");
	else
		snprintf(out->skipped, sizeof(out->skipped),
			 "mapping would write the whole file into the image "
			 "(the first case wrote %s for %s)",
			 dl_fmt_size(a, sizeof(a), first->disk_bytes),
			 dl_fmt_size(b, sizeof(b), first->bytes));
}

int svc_busy_scans(const struct bench_opts *o, struct echo_peer *e,
		   struct svc_res *r)
{
	const struct scan_case *cases = o->quick ? quick_cases : full_cases;
	size_t ncases = o->quick ? sizeof(quick_cases) / sizeof(*cases) :
				   sizeof(full_cases) / sizeof(*cases);
	int rc = 0;

	for (size_t i = 0; !rc && i < ncases; i++) {
		struct svc_scan *out = &r->scan[r->nscans++];

		if (cases[i].big && !zeroing_is_sparse(&r->scan[0])) {
			big_skipped(&cases[i], &r->scan[0], out);
			continue;
		}
		rc = scan_case_run(o, e, &cases[i], r->it.scan, out);
	}
	snprintf(r->scan_note, sizeof(r->scan_note),
		 "a write mapping zeroes fallocated blocks first (a read "
		 "mapping refuses them): on a fake NVDIMM by punching holes "
		 "in the image, so it stays sparse; the 1 TiB cases run only "
		 "where the 2 GiB one left the image sparse");
	return rc;
}
