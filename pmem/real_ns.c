// SPDX-License-Identifier: BSD-3-Clause
/*
 * real_ns.c - real namespaces: listing through libndctl and libdaxctl,
 * and opening a device-dax character device or a file on a DAX-mounted
 * file system as a struct dl_ns.
 *
 * Neither library is asked to print anything (pmem/ prints nothing), and
 * a machine without the nvdimm or dax subsystems is simply a machine with
 * no namespaces.  A real namespace has no daxlease header: its facts come
 * from the kernel, its badblocks from pmem2 (read once at open), and its
 * whole extent is namespace data.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpmem2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>

#include "namespace_private.h"
#include "real_ns.h"

#define MIN_NS_SIZE (16 * DL_MiB)

#define SZ(buf, n) dl_fmt_size(buf, sizeof(buf), n)

/* ---- quiet library contexts ------------------------------------------------ */

static void ndctl_quiet(struct ndctl_ctx *ctx, int priority, const char *file,
			int line, const char *fn, const char *format,
			va_list args)
{
	(void)ctx, (void)priority, (void)file, (void)line, (void)fn;
	(void)format, (void)args;
}

static void daxctl_quiet(struct daxctl_ctx *ctx, int priority,
			 const char *file, int line, const char *fn,
			 const char *format, va_list args)
{
	(void)ctx, (void)priority, (void)file, (void)line, (void)fn;
	(void)format, (void)args;
}

/* NULL when the nvdimm subsystem (or memory) is missing: no namespaces. */
static struct ndctl_ctx *ndctl_open_quiet(void)
{
	struct ndctl_ctx *ctx;
	struct daxctl_ctx *dctx;

	if (ndctl_new(&ctx))
		return NULL;
	ndctl_set_log_fn(ctx, ndctl_quiet);
	dctx = ndctl_get_daxctl_ctx(ctx);
	if (dctx)
		daxctl_set_log_fn(dctx, daxctl_quiet);
	return ctx;
}

static struct daxctl_ctx *daxctl_open_quiet(void)
{
	struct daxctl_ctx *ctx;

	if (daxctl_new(&ctx))
		return NULL;
	daxctl_set_log_fn(ctx, daxctl_quiet);
	return ctx;
}

/* ---- growing arrays ------------------------------------------------------------ */

/* Room for one more element of size elem in *arr (holding n). */
static void *grow(void **arr, size_t n, size_t *cap, size_t elem)
{
	void *p;

	if (n < *cap)
		return (char *)*arr + n * elem;
	p = realloc(*arr, (*cap ? *cap * 2 : 8) * elem);
	if (!p)
		return NULL;
	*arr = p;
	*cap = *cap ? *cap * 2 : 8;
	return (char *)p + n * elem;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* ---- namespaces (libndctl) ------------------------------------------------------ */

static const char *mode_name(enum ndctl_namespace_mode mode)
{
	switch (mode) {
	case NDCTL_NS_MODE_FSDAX:
		return "fsdax";
	case NDCTL_NS_MODE_SECTOR:
		return "sector";
	case NDCTL_NS_MODE_RAW:
		return "raw";
	case NDCTL_NS_MODE_DEVDAX:
		return "devdax";
	default:
		return "unknown";
	}
}

static void uuid_text(char *buf, size_t n, const unsigned char *u)
{
	static const int dash[16] = { [4] = 1, [6] = 1, [8] = 1, [10] = 1 };
	size_t o = 0;

	for (int i = 0; i < 16 && o + 3 < n; i++) {
		if (dash[i])
			buf[o++] = '-';
		o += (size_t)snprintf(buf + o, n - o, "%02x", u[i]);
	}
	buf[o < n ? o : n - 1] = '\0';
}

static bool uuid_set(const unsigned char *u)
{
	for (int i = 0; i < 16; i++)
		if (u[i])
			return true;
	return false;
}

/* The character device of a devdax namespace, e.g. "dax0.0", or NULL. */
static const char *ndns_chardev(struct ndctl_namespace *ndns)
{
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
	struct daxctl_region *region;
	struct daxctl_dev *dev;

	if (!dax)
		return NULL;
	region = ndctl_dax_get_daxctl_region(dax);
	dev = region ? daxctl_dev_get_first(region) : NULL;
	return dev ? daxctl_dev_get_devname(dev) : NULL;
}

static void ndns_fill(struct dl_real_ns *r, struct ndctl_bus *bus,
		      struct ndctl_region *region,
		      struct ndctl_namespace *ndns)
{
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
	unsigned char uu[16] = { 0 };

	memset(r, 0, sizeof(*r));
	copy_str(r->bus, sizeof(r->bus), ndctl_bus_get_provider(bus));
	copy_str(r->region, sizeof(r->region), ndctl_region_get_devname(region));
	copy_str(r->dev, sizeof(r->dev), ndctl_namespace_get_devname(ndns));
	copy_str(r->mode, sizeof(r->mode),
		 mode_name(ndctl_namespace_get_mode(ndns)));
	copy_str(r->name, sizeof(r->name), ndctl_namespace_get_alt_name(ndns));
	ndctl_namespace_get_uuid(ndns, uu);
	if (uuid_set(uu))
		uuid_text(r->uuid, sizeof(r->uuid), uu);
	r->size = ndctl_namespace_get_size(ndns);
	/* the personality (pfn or dax device) owns the align and the device */
	if (pfn) {
		r->align = ndctl_pfn_get_align(pfn);
		copy_str(r->blockdev, sizeof(r->blockdev),
			 ndctl_pfn_get_block_device(pfn));
	} else if (dax) {
		r->align = ndctl_dax_get_align(dax);
		copy_str(r->chardev, sizeof(r->chardev), ndns_chardev(ndns));
	} else {
		copy_str(r->blockdev, sizeof(r->blockdev),
			 ndctl_namespace_get_block_device(ndns));
	}
	r->enabled = ndctl_namespace_is_active(ndns);
}

/*
 * Calls fn for every configured namespace (size 0 ones are the kernel's
 * idle seeds); stops at the first non-zero return and passes it back.
 */
static int ndns_walk(struct ndctl_ctx *ctx,
		     int (*fn)(struct ndctl_bus *, struct ndctl_region *,
			       struct ndctl_namespace *, void *),
		     void *arg)
{
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;
	int rc;

	ndctl_bus_foreach(ctx, bus)
		ndctl_region_foreach(bus, region)
			ndctl_namespace_foreach(region, ndns) {
				if (!ndctl_namespace_get_size(ndns))
					continue;
				rc = fn(bus, region, ndns, arg);
				if (rc)
					return rc;
			}
	return 0;
}

struct ns_array {
	struct dl_real_ns *v;
	size_t n, cap;
};

static int ns_collect(struct ndctl_bus *bus, struct ndctl_region *region,
		      struct ndctl_namespace *ndns, void *arg)
{
	struct ns_array *a = arg;
	struct dl_real_ns *r;

	r = grow((void **)&a->v, a->n, &a->cap, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ndns_fill(r, bus, region, ndns);
	a->n++;
	return 0;
}

int dl_real_ns_list(struct dl_real_ns **out, size_t *count, struct dl_err *err)
{
	struct ns_array a = { 0 };
	struct ndctl_ctx *ctx;
	int rc = 0;

	*out = NULL;
	*count = 0;
	ctx = ndctl_open_quiet();
	if (!ctx)
		return 0;
	rc = ndns_walk(ctx, ns_collect, &a);
	ndctl_unref(ctx);
	if (rc) {
		free(a.v);
		return dl_err_set(err, -rc, "out of memory listing namespaces");
	}
	*out = a.v;
	*count = a.n;
	return 0;
}

/* ---- dax devices (libdaxctl) ---------------------------------------------------- */

static void dax_fill(struct dl_real_dax *d, struct daxctl_region *region,
		     struct daxctl_dev *dev)
{
	int node = daxctl_dev_get_target_node(dev);

	memset(d, 0, sizeof(*d));
	snprintf(d->region, sizeof(d->region), "region%d",
		 daxctl_region_get_id(region));
	copy_str(d->dev, sizeof(d->dev), daxctl_dev_get_devname(dev));
	/* a device whose memory the kernel onlined is system RAM, not DAX */
	copy_str(d->mode, sizeof(d->mode),
		 daxctl_dev_get_memory(dev) ? "system-ram" : "devdax");
	d->size = daxctl_dev_get_size(dev);
	d->align = daxctl_dev_get_align(dev);
	if (node >= 0)
		snprintf(d->target_node, sizeof(d->target_node), "%d", node);
}

int dl_real_dax_list(struct dl_real_dax **out, size_t *count,
		     struct dl_err *err)
{
	struct daxctl_region *region;
	struct daxctl_dev *dev;
	struct daxctl_ctx *ctx;
	struct dl_real_dax *v = NULL, *d;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	ctx = daxctl_open_quiet();
	if (!ctx)
		return 0;
	daxctl_region_foreach(ctx, region)
		daxctl_dev_foreach(region, dev) {
			if (!daxctl_dev_get_size(dev))
				continue;	/* an idle seed */
			d = grow((void **)&v, n, &cap, sizeof(*d));
			if (!d) {
				free(v);
				daxctl_unref(ctx);
				return dl_err_set(err, ENOMEM,
						  "out of memory listing dax devices");
			}
			dax_fill(d, region, dev);
			n++;
		}
	daxctl_unref(ctx);
	*out = v;
	*count = n;
	return 0;
}

/* ---- resolving a name ---------------------------------------------------------- */

struct ns_target {
	const char *name;	/* what the user typed */
	char path[4096];	/* what to open */
	char alt_name[DL_NVDIMM_NAME_MAX];
	unsigned char uuid[16];
	char mode[16];
	char blockdev[64];
	bool found;
};

static int ns_match(struct ndctl_bus *bus, struct ndctl_region *region,
		    struct ndctl_namespace *ndns, void *arg)
{
	struct ns_target *t = arg;
	const char *alt = ndctl_namespace_get_alt_name(ndns);
	const char *chardev = ndns_chardev(ndns);
	struct dl_real_ns r;

	if (strcmp(t->name, ndctl_namespace_get_devname(ndns)) &&
	    (!alt || !*alt || strcmp(t->name, alt)))
		return 0;
	ndns_fill(&r, bus, region, ndns);
	t->found = true;
	copy_str(t->alt_name, sizeof(t->alt_name), alt);
	copy_str(t->mode, sizeof(t->mode), r.mode);
	copy_str(t->blockdev, sizeof(t->blockdev), r.blockdev);
	ndctl_namespace_get_uuid(ndns, t->uuid);
	if (chardev)
		snprintf(t->path, sizeof(t->path), "/dev/%s", chardev);
	return 1;
}

static int resolve_ndns(struct ns_target *t, struct dl_err *err)
{
	struct ndctl_ctx *ctx = ndctl_open_quiet();

	if (ctx) {
		ndns_walk(ctx, ns_match, t);
		ndctl_unref(ctx);
	}
	if (!t->found)
		return dl_err_set(err, ENOENT,
				  "no namespace, dax device or file is named %s",
				  t->name);
	if (!t->path[0] && !strcmp(t->mode, "fsdax"))
		return dl_err_set(err, EINVAL,
				  "%s is an fsdax namespace: mount /dev/%s with -o dax and give a file on it",
				  t->name, t->blockdev);
	if (!t->path[0])
		return dl_err_set(err, EINVAL,
				  "%s is a %s namespace: daxlease needs devdax (a dax character device) or fsdax",
				  t->name, t->mode);
	return 0;
}

/* "daxX.Y", the kernel's name for a device-dax instance */
static bool is_dax_devname(const char *name)
{
	unsigned int region, id;
	int end = 0;

	return sscanf(name, "dax%u.%u%n", &region, &id, &end) == 2 &&
	       !name[end];
}

/* "dax0.0" is /dev/dax0.0; anything with a '/' is a path. */
static int resolve(struct ns_target *t, struct dl_err *err)
{
	if (strchr(t->name, '/')) {
		copy_str(t->path, sizeof(t->path), t->name);
		return 0;
	}
	if (is_dax_devname(t->name)) {
		snprintf(t->path, sizeof(t->path), "/dev/%s", t->name);
		return 0;
	}
	return resolve_ndns(t, err);
}

/* ---- open ------------------------------------------------------------------------ */

static int open_dev(struct dl_ns *ns, const char *path, struct dl_err *err)
{
	int fd, e;

	fd = open(path, (ns->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return dl_err_set(err, ENOENT, "%s does not exist", path);
	if (fd < 0)
		return dl_err_set(err, errno, "cannot open %s: %s", path,
				  strerror(errno));
	/* two services on one namespace would hand out the same blocks */
	if (flock(fd, (ns->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return dl_err_set(err, EBUSY,
					  "%s is in use by another process",
					  path);
		return dl_err_set(err, e, "cannot lock %s: %s", path,
				  strerror(e));
	}
	ns->fd = fd;
	return 0;
}

static int check_kind(struct dl_ns *ns, const char *path, struct dl_err *err)
{
	struct stat st;

	if (fstat(ns->fd, &st))
		return dl_err_set(err, errno, "cannot stat %s: %s", path,
				  strerror(errno));
	if (S_ISCHR(st.st_mode)) {
		ns->kind = DL_NS_DEVDAX;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		ns->kind = DL_NS_FSDAX_FILE;
		return 0;
	}
	return dl_err_set(err, EINVAL,
			  "%s is neither a device-dax character device nor a file on a DAX file system",
			  path);
}

/* Size and align as pmem2 sees them (sysfs for device-dax). */
static int source_facts(struct pmem2_source *src, const char *path,
			struct dl_ns_info *info, struct dl_err *err)
{
	size_t size, align;

	if (pmem2_source_size(src, &size) || pmem2_source_alignment(src, &align))
		return dl_err_set(err, EINVAL, "cannot size %s: %s", path,
				  pmem2_errormsg());
	info->size = size;
	/* a file maps in pages; device-dax in its own align */
	info->align = align > 4096 ? align : 4096;
	return 0;
}

static int check_size(const struct dl_ns_info *info, const char *path,
		      struct dl_err *err)
{
	char s[32], a[32];

	if (info->size < MIN_NS_SIZE)
		return dl_err_set(err, EINVAL,
				  "%s is %s, below the minimum 16 MiB: the filesystem needs room for its superblock, journal and tables",
				  path, SZ(s, info->size));
	if (info->size % info->align)
		return dl_err_set(err, EINVAL,
				  "%s is %s, not a multiple of its align %s",
				  path, SZ(s, info->size), SZ(a, info->align));
	return 0;
}

static int bb_cmp(const void *a, const void *b)
{
	const struct dl_badblock_rec *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Sorted and merged, as the fake NVDIMM keeps them. */
static void bb_normalize(struct dl_ns *ns)
{
	uint32_t i, n = 0;

	if (!ns->nbb)
		return;
	qsort(ns->bb, ns->nbb, sizeof(*ns->bb), bb_cmp);
	for (i = 1; i < ns->nbb; i++) {
		struct dl_badblock_rec *last = &ns->bb[n], *r = &ns->bb[i];

		if (r->offset <= last->offset + last->length) {
			if (r->offset + r->length > last->offset + last->length)
				last->length = r->offset + r->length -
					       last->offset;
		} else {
			ns->bb[++n] = *r;
		}
	}
	ns->nbb = n + 1;
}

/*
 * Badblocks the kernel knows of, in namespace offsets.  Best effort: a
 * source pmem2 cannot relate to a region (a file on a non-pmem disk) has
 * none to report.
 */
static void read_badblocks(struct dl_ns *ns, struct pmem2_source *src)
{
	struct pmem2_badblock_context *ctx;
	struct pmem2_badblock bb;
	size_t cap = 0, n = 0;
	struct dl_badblock_rec *r;

	if (pmem2_badblock_context_new(&ctx, src))
		return;
	while (!pmem2_badblock_next(ctx, &bb)) {
		r = grow((void **)&ns->bb, n, &cap, sizeof(*r));
		if (!r)
			break;
		r->offset = bb.offset;
		r->length = bb.length;
		n++;
	}
	pmem2_badblock_context_delete(&ctx);
	ns->nbb = (uint32_t)n;
	bb_normalize(ns);
}

static int source_read(struct dl_ns *ns, const char *path, struct dl_err *err)
{
	struct pmem2_source *src;
	uint64_t usc;
	int rc;

	rc = pmem2_source_from_fd(&src, ns->fd);
	if (rc && ns->kind == DL_NS_DEVDAX)
		return dl_err_set(err, ENODEV,
				  "%s is a character device but not a device-dax instance",
				  path);
	if (rc)
		return dl_err_set(err, EINVAL, "cannot use %s: %s", path,
				  *pmem2_errormsg() ? pmem2_errormsg() :
				  strerror(rc < 0 && rc > -4096 ? -rc : EINVAL));
	rc = source_facts(src, path, &ns->info, err);
	if (!rc)
		rc = check_size(&ns->info, path, err);
	if (!rc) {
		read_badblocks(ns, src);
		/* the DIMMs' own unsafe shutdown count, where the kernel has it */
		if (!pmem2_source_device_usc(src, &usc))
			ns->info.unsafe_shutdowns = usc;
	}
	pmem2_source_delete(&src);
	return rc;
}

static bool non_dax_allowed(void)
{
	const char *s = getenv("DAXLEASE_ALLOW_NON_DAX");

	return s && !strcmp(s, "1");
}

/*
 * A file on a file system without -o dax maps through the page cache:
 * pmem2 then offers only page granularity (no MAP_SYNC).  Stores would
 * not be DAX at all, so refuse - except for tests, which exercise the
 * fsdax path on an ordinary disk.
 */
static int map_dev(struct dl_ns *ns, const char *path, struct dl_err *err)
{
	enum dl_map_mode mode = ns->read_only ? DL_MAP_READ_ONLY :
						DL_MAP_READ_WRITE;
	int rc;

	rc = dl_map_new(ns->fd, ns->info.size, mode, &ns->map, err);
	if (rc)
		return rc;
	ns->image = ns->base = dl_map_addr(ns->map);
	ns->info.granularity = dl_map_granularity(ns->map);
	if (ns->kind == DL_NS_FSDAX_FILE &&
	    ns->info.granularity == DL_GRANULARITY_PAGE && !non_dax_allowed())
		return dl_err_set(err, EOPNOTSUPP,
				  "%s is not on a DAX-mounted file system: mount it with -o dax so that mappings reach persistent memory",
				  path);
	return 0;
}

static void fill_info(struct dl_ns *ns, const struct ns_target *t)
{
	struct dl_ns_info *i = &ns->info;

	i->kind = ns->kind;
	copy_str(i->path, sizeof(i->path), t->path);
	copy_str(i->name, sizeof(i->name), t->alt_name);
	memcpy(i->uuid, t->uuid, sizeof(i->uuid));
	i->data_offset = 0;
	i->was_clean = true;
	i->read_only = ns->read_only;
}

static void free_real(struct dl_ns *ns)
{
	dl_map_delete(&ns->map);
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns->bb);
	free(ns);
}

static int open_real(struct dl_ns *ns, struct ns_target *t,
		     struct dl_err *err)
{
	int rc;

	rc = resolve(t, err);
	if (!rc)
		rc = open_dev(ns, t->path, err);
	if (!rc)
		rc = check_kind(ns, t->path, err);
	if (!rc)
		rc = source_read(ns, t->path, err);
	if (!rc)
		rc = map_dev(ns, t->path, err);
	return rc;
}

int dl_real_ns_open(const char *name, enum dl_map_mode mode, struct dl_ns **out,
		    struct dl_err *err)
{
	struct ns_target *t;
	struct dl_ns *ns;
	int rc;

	*out = NULL;
	if (!name || !*name)
		return dl_err_set(err, EINVAL, "no namespace name given");
	ns = calloc(1, sizeof(*ns));
	t = calloc(1, sizeof(*t));
	if (!ns || !t) {
		free(ns);
		free(t);
		return dl_err_set(err, ENOMEM, "out of memory for a namespace");
	}
	ns->fd = -1;
	ns->read_only = mode == DL_MAP_READ_ONLY;
	t->name = name;
	rc = open_real(ns, t, err);
	if (!rc)
		fill_info(ns, t);
	free(t);
	if (rc) {
		free_real(ns);
		return rc;
	}
	*out = ns;
	return 0;
}
