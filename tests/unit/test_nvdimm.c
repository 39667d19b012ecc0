// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_nvdimm.c - the fake NVDIMM: create/open, every validation rule
 * (errno and message), header copies, unsafe shutdowns, badblocks, locks,
 * and images damaged in every way we could think of.
 *
 * Images are patched with pread/pwrite and re-checksummed here with
 * dl_crc32c_skip(), independently of nvdimm.c, so the tests also pin the
 * on-media checksum rule ("CRC-32C of the 4 KiB with the field zero").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crc.h"
#include "cunit_run.h"
#include "namespace.h"

#define SMALL (16 * DL_MiB)
#define HDR_CSUM_OFF offsetof(struct dl_nvdimm_hdr, checksum)

static struct dl_err err;

/* Create name in the test dir; returns its path or NULL. */
static const char *make_image(const char *name, uint64_t size, uint64_t align)
{
	struct dl_ns_params p = { .size = size, .align = align, .name = name };
	const char *path = dl_test_path(name);

	unlink(path);
	if (dl_nvdimm_create(path, &p, &err)) {
		fprintf(stderr, "create %s: %s\n", path, err.msg);
		return NULL;
	}
	return path;
}

static bool msg_has(const char *want)
{
	if (strstr(err.msg, want))
		return true;
	fprintf(stderr, "\nmessage \"%s\" lacks \"%s\"\n", err.msg, want);
	return false;
}

static int open_rc(const char *path, enum dl_map_mode mode)
{
	struct dl_ns *ns = NULL;
	int rc;

	dl_err_clear(&err);
	rc = dl_nvdimm_open(path, mode, &ns, &err);
	dl_ns_close(&ns);
	return rc;
}

static bool read_hdr(const char *path, int copy, struct dl_nvdimm_hdr *h)
{
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && pread(fd, h, sizeof(*h), copy * 4096) ==
			     (ssize_t)sizeof(*h);

	if (fd >= 0)
		close(fd);
	return ok;
}

static void seal(struct dl_nvdimm_hdr *h)
{
	h->checksum = dl_crc32c_skip(h, sizeof(*h), HDR_CSUM_OFF, 4);
}

static bool write_hdr(const char *path, int copy, struct dl_nvdimm_hdr *h,
		      bool reseal)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (reseal)
		seal(h);
	ok = fd >= 0 && pwrite(fd, h, sizeof(*h), copy * 4096) ==
			(ssize_t)sizeof(*h);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Apply fn to both header copies, resealing them. */
static void patch_both(const char *path, void (*fn)(struct dl_nvdimm_hdr *))
{
	struct dl_nvdimm_hdr h;

	for (int i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(read_hdr(path, i, &h));
		fn(&h);
		CU_ASSERT_FATAL(write_hdr(path, i, &h, true));
	}
}

static int current_copy(const char *path)
{
	struct dl_nvdimm_hdr a, b;

	if (!read_hdr(path, 0, &a) || !read_hdr(path, 1, &b))
		return -1;
	return b.generation > a.generation;
}

/* ---- create and open ------------------------------------------------------- */

static void roundtrip(const char *name, uint64_t size, uint64_t align)
{
	const char *path = make_image(name, size, align);
	struct dl_ns_info info;
	struct dl_ns *ns;
	char buf[8];
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(info.kind, DL_NS_FAKE);
	CU_ASSERT_STRING_EQUAL(info.path, path);
	CU_ASSERT_STRING_EQUAL(info.name, name);
	CU_ASSERT_EQUAL(info.size, size);
	CU_ASSERT_EQUAL(info.align, align);
	CU_ASSERT_EQUAL(info.data_offset, align > 256 * DL_KiB ? align :
					  256 * DL_KiB);
	CU_ASSERT_EQUAL(info.version_major, DL_NVDIMM_MAJOR);
	CU_ASSERT_EQUAL(info.version_minor, DL_NVDIMM_MINOR);
	CU_ASSERT_EQUAL(info.uuid[6] >> 4, 4);		/* random uuid */
	CU_ASSERT_EQUAL(info.uuid[8] & 0xc0, 0x80);
	CU_ASSERT(info.create_time > 0);
	CU_ASSERT(info.was_clean);
	CU_ASSERT_EQUAL(info.unsafe_shutdowns, 0);
	CU_ASSERT_EQUAL(info.granularity, DL_GRANULARITY_PAGE);
	CU_ASSERT(!info.read_only);
	CU_ASSERT(info.image_bytes_allocated > 0);
	CU_ASSERT_EQUAL(dl_ns_size(ns), size);
	CU_ASSERT_EQUAL(dl_ns_align(ns), align);
	CU_ASSERT(!dl_ns_read_only(ns));
	CU_ASSERT(dl_ns_fd(ns) >= 0);
	/* namespace byte 0 is image byte data_offset; the last byte exists */
	memcpy(dl_ns_base(ns), "byte0", 6);
	dl_ns_persist(ns, dl_ns_base(ns), 6);
	((char *)dl_ns_base(ns))[size - 1] = 'z';
	dl_ns_flush(ns, (char *)dl_ns_base(ns) + size - 1, 1);
	dl_ns_drain(ns);
	dl_ns_close(&ns);
	CU_ASSERT_PTR_NULL(ns);

	fd = open(path, O_RDONLY);
	CU_ASSERT_EQUAL(pread(fd, buf, 6, (off_t)info.data_offset), 6);
	CU_ASSERT_STRING_EQUAL(buf, "byte0");
	close(fd);

	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	CU_ASSERT(dl_ns_read_only(ns));
	CU_ASSERT_EQUAL(memcmp(dl_ns_base(ns), "byte0", 6), 0);
	CU_ASSERT_EQUAL(((char *)dl_ns_base(ns))[size - 1], 'z');
	dl_ns_get_info(ns, &info);
	CU_ASSERT(info.read_only);
	CU_ASSERT_STRING_EQUAL(info.name, name);
	dl_ns_close(&ns);
}

static void test_roundtrip_4k(void)
{
	roundtrip("ns-4k", SMALL, 4 * DL_KiB);
}

static void test_roundtrip_2m(void)
{
	roundtrip("ns-2m", 32 * DL_MiB, 2 * DL_MiB);
}

static void test_roundtrip_1g(void)
{
	roundtrip("ns-1g", DL_GiB, DL_GiB);
}

static void test_default_align_and_uuid(void)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
					  9, 10, 11, 12, 13, 14, 15, 16 };
	struct dl_ns_params p = { .size = SMALL, .uuid = uuid };
	const char *path = dl_test_path("defaults");
	struct dl_ns_info info;
	struct dl_ns *ns;

	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_create(path, &p, &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(info.align, 2 * DL_MiB);
	CU_ASSERT_EQUAL(memcmp(info.uuid, uuid, 16), 0);
	CU_ASSERT_STRING_EQUAL(info.name, "");
	dl_ns_close(&ns);
}

static void test_sparse_1t(void)
{
	const char *path = make_image("sparse-1t", DL_TiB, 2 * DL_MiB);
	struct dl_ns_info info;
	struct dl_ns *ns;
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, (off_t)(DL_TiB + 2 * DL_MiB));
	/* two header pages and one label page, plus file system overhead */
	CU_ASSERT((uint64_t)st.st_blocks * 512 <= 64 * DL_KiB);
	if (DL_UNDER_TSAN)
		return;	/* creating is the point; mapping 1 TiB is not */
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(info.size, DL_TiB);
	CU_ASSERT(info.image_bytes_allocated <= 64 * DL_KiB);
	dl_ns_close(&ns);
}

/* ---- creation rules ------------------------------------------------------------ */

static int create_rc(uint64_t size, uint64_t align, const char *name)
{
	struct dl_ns_params p = { .size = size, .align = align, .name = name };
	const char *path = dl_test_path("rules");
	int rc;

	unlink(path);
	dl_err_clear(&err);
	rc = dl_nvdimm_create(path, &p, &err);
	/* a refused create leaves nothing behind */
	if (rc)
		CU_ASSERT_EQUAL(access(path, F_OK), -1);
	return rc;
}

static void test_rule_multiple(void)
{
	CU_ASSERT_EQUAL(create_rc(1001 * DL_MiB, 2 * DL_MiB, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "size 1001 MiB is not a multiple of align 2 MiB");
	CU_ASSERT_EQUAL(err.errnum, EINVAL);
	CU_ASSERT_EQUAL(create_rc(1000 * DL_MiB, DL_GiB, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "size 1000 MiB is not a multiple of align 1 GiB");
	CU_ASSERT_EQUAL(create_rc(SMALL + 4096, 4096, NULL), 0);
}

static void test_rule_align(void)
{
	CU_ASSERT_EQUAL(create_rc(SMALL, 8 * DL_KiB, NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "align 8 KiB is not supported: use 4K, 2M or 1G (the device-dax alignments)");
	CU_ASSERT_EQUAL(create_rc(SMALL, 1, NULL), -EINVAL);
	CU_ASSERT(msg_has("align 1 B is not supported"));
}

static void test_rule_limits(void)
{
	CU_ASSERT_EQUAL(create_rc(0, 0, NULL), -EINVAL);
	CU_ASSERT(msg_has("size 0 B is below the minimum 16 MiB"));
	CU_ASSERT_EQUAL(create_rc(8 * DL_MiB, 0, NULL), -EINVAL);
	CU_ASSERT(msg_has("size 8 MiB is below the minimum 16 MiB: the filesystem needs room"));
	CU_ASSERT_EQUAL(create_rc(128 * DL_TiB, 0, NULL), -EINVAL);
	CU_ASSERT(msg_has("size 128 TiB is above the maximum 64 TiB"));
	CU_ASSERT_EQUAL(create_rc(SMALL, 0, NULL), 0);
}

static void test_rule_name(void)
{
	char name[80];

	memset(name, 'n', 63);
	name[63] = '\0';
	CU_ASSERT_EQUAL(create_rc(SMALL, 0, name), 0);
	memset(name, 'n', 64);
	name[64] = '\0';
	CU_ASSERT_EQUAL(create_rc(SMALL, 0, name), -EINVAL);
	CU_ASSERT(msg_has("the limit is 63"));
	CU_ASSERT_EQUAL(create_rc(SMALL, 0, "bad\nname"), -EINVAL);
	CU_ASSERT(msg_has("non-printable byte at offset 3"));
}

static void test_rule_nil_uuid(void)
{
	static const uint8_t nil[16];
	struct dl_ns_params p = { .size = SMALL, .uuid = nil };

	CU_ASSERT_EQUAL(dl_ns_params_check(&p, &err), -EINVAL);
	CU_ASSERT(msg_has("nil uuid"));
}

static void test_rule_exists(void)
{
	const char *path = make_image("exists", SMALL, 0);
	struct dl_ns_params p = { .size = SMALL };
	char want[4200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL(dl_nvdimm_create(path, &p, &err), -EEXIST);
	snprintf(want, sizeof(want), "%s already exists", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	/* the existing image is untouched */
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), 0);
	CU_ASSERT_EQUAL(dl_nvdimm_create(dl_test_path("no/such/dir"), &p,
					 &err), -ENOENT);
	CU_ASSERT(msg_has("cannot create"));
}

static void test_align_valid(void)
{
	CU_ASSERT(dl_ns_align_valid(4096));
	CU_ASSERT(dl_ns_align_valid(2 * DL_MiB));
	CU_ASSERT(dl_ns_align_valid(DL_GiB));
	CU_ASSERT(!dl_ns_align_valid(0));
	CU_ASSERT(!dl_ns_align_valid(64 * DL_KiB));
	CU_ASSERT(!dl_ns_align_valid(2 * DL_GiB));
}

/* ---- header copies and health ---------------------------------------------- */

static void test_generations_alternate(void)
{
	const char *path = make_image("gens", SMALL, 0);
	struct dl_nvdimm_hdr a, b;
	struct dl_ns *ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT(read_hdr(path, 0, &a) && read_hdr(path, 1, &b));
	CU_ASSERT_EQUAL(a.generation, 1);
	CU_ASSERT_EQUAL(b.generation, 1);
	CU_ASSERT_EQUAL(a.state, DL_NVDIMM_STATE_CLEAN);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	/* open wrote copy B: state open, next generation */
	CU_ASSERT(read_hdr(path, 0, &a) && read_hdr(path, 1, &b));
	CU_ASSERT_EQUAL(a.generation, 1);
	CU_ASSERT_EQUAL(b.generation, 2);
	CU_ASSERT_EQUAL(b.state, DL_NVDIMM_STATE_OPEN);
	dl_ns_close(&ns);
	CU_ASSERT(read_hdr(path, 0, &a) && read_hdr(path, 1, &b));
	CU_ASSERT_EQUAL(a.generation, 3);
	CU_ASSERT_EQUAL(a.state, DL_NVDIMM_STATE_CLEAN);
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(&a, sizeof(a), true, &err), 0);
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(&b, sizeof(b), true, &err), 0);
}

static void test_read_only_changes_nothing(void)
{
	const char *path = make_image("ro-nochange", SMALL, 0);
	struct dl_nvdimm_hdr before[2], after[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT(read_hdr(path, 0, &before[0]) && read_hdr(path, 1, &before[1]));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), 0);
	CU_ASSERT(read_hdr(path, 0, &after[0]) && read_hdr(path, 1, &after[1]));
	CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
}

static uint64_t unsafe_count(const char *path, bool *was_clean)
{
	struct dl_ns_info info;
	struct dl_ns *ns;

	*was_clean = false;
	if (dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns, &err))
		return ~0ULL;
	dl_ns_get_info(ns, &info);
	dl_ns_close(&ns);
	*was_clean = info.was_clean;
	return info.unsafe_shutdowns;
}

/* A child opens the image and dies without closing it. */
static void die_holding(const char *path)
{
	struct dl_ns *ns;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns, NULL) ? 1 : 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_unsafe_shutdown(void)
{
	const char *path = make_image("unsafe", SMALL, 0);
	struct dl_ns_info info;
	struct dl_ns *ns;
	bool clean;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	die_holding(path);
	/* a read-only open sees the unclean state but counts nothing */
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT(!info.was_clean);
	CU_ASSERT_EQUAL(info.unsafe_shutdowns, 0);
	dl_ns_close(&ns);

	CU_ASSERT_EQUAL(unsafe_count(path, &clean), 1);
	CU_ASSERT(!clean);
	/* that open was closed cleanly: no new count */
	CU_ASSERT_EQUAL(unsafe_count(path, &clean), 1);
	CU_ASSERT(clean);
	die_holding(path);
	die_holding(path);
	CU_ASSERT_EQUAL(unsafe_count(path, &clean), 3);
	CU_ASSERT(!clean);
}

/* check-namespace's open: the health state stays as found, byte for byte,
 * after a clean close and after a crash alike. */
static void test_open_for_check_keeps_health(void)
{
	const char *path = make_image("for-check", SMALL, 0);
	struct dl_nvdimm_hdr before[2], after[2];
	struct dl_ns *ns;
	bool clean;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	for (int crashed = 0; crashed <= 1; crashed++) {
		if (crashed)
			die_holding(path);
		CU_ASSERT(read_hdr(path, 0, &before[0]) &&
			  read_hdr(path, 1, &before[1]));
		CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open_for_check(path,
							       DL_MAP_READ_WRITE,
							       &ns, &err), 0);
		dl_ns_close(&ns);
		CU_ASSERT(read_hdr(path, 0, &after[0]) &&
			  read_hdr(path, 1, &after[1]));
		CU_ASSERT_EQUAL(memcmp(before, after, sizeof(before)), 0);
	}
	/* the crash is still there for the next real open to count */
	CU_ASSERT_EQUAL(unsafe_count(path, &clean), 1);
	CU_ASSERT(!clean);
}

static void test_torn_header(void)
{
	const char *path = make_image("torn", SMALL, 0);
	struct dl_nvdimm_hdr h, other;
	struct dl_ns_info info;
	struct dl_ns *ns;
	int cur;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), 0);
	cur = current_copy(path);
	CU_ASSERT_FATAL(cur == 0 || cur == 1);
	CU_ASSERT(read_hdr(path, !cur, &other));
	/* tear the current copy: half of it is garbage */
	CU_ASSERT(read_hdr(path, cur, &h));
	memset((char *)&h + 2048, 0xee, 2048);
	CU_ASSERT(write_hdr(path, cur, &h, false));

	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(info.size, SMALL);
	CU_ASSERT(info.was_clean == (other.state == DL_NVDIMM_STATE_CLEAN));
	dl_ns_close(&ns);
	/* two commits later both copies are whole again */
	CU_ASSERT(read_hdr(path, 0, &h));
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(&h, sizeof(h), true, &err), 0);
	CU_ASSERT(read_hdr(path, 1, &h));
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(&h, sizeof(h), true, &err), 0);
}

/* A copy that says it is newer wins, even if the other is valid. */
static void test_pick_highest_generation(void)
{
	const char *path = make_image("pick", SMALL, 0);
	struct dl_nvdimm_hdr h;
	char img[8192];
	int which = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT(read_hdr(path, 1, &h));
	h.generation = 7;
	h.unsafe_shutdowns = 42;
	seal(&h);
	CU_ASSERT(read_hdr(path, 0, (struct dl_nvdimm_hdr *)img));
	memcpy(img + 4096, &h, sizeof(h));
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_pick(img, sizeof(img), true, &which,
					   &err), 0);
	CU_ASSERT_EQUAL(which, 1);
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_pick(img, 100, true, &which, &err),
			-EINVAL);
	CU_ASSERT(msg_has("truncated"));
}

/* ---- damaged images -------------------------------------------------------- */

static void test_bad_truncated(void)
{
	const char *path = make_image("trunc", SMALL, 0);
	char want[4200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL(truncate(path, SMALL), 0);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s is truncated: 16 MiB, the header needs 18 MiB", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	CU_ASSERT_EQUAL(truncate(path, 4000), 0);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s is truncated: 4000 B, a header needs 8 KiB", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	CU_ASSERT_EQUAL(truncate(path, 0), 0);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("is truncated: 0 B"));
}

static void test_bad_extended(void)
{
	const char *path = make_image("extended", SMALL, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	/* align 2M: data starts at 2 MiB */
	CU_ASSERT_EQUAL(truncate(path, 2 * DL_MiB + SMALL + 4096), 0);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EINVAL);
	CU_ASSERT(msg_has("the header says 18 MiB"));
}

static void flip_name(struct dl_nvdimm_hdr *h)
{
	h->name[0] ^= 1;
}

static void test_bad_checksum_both(void)
{
	const char *path = make_image("csum", SMALL, 0);
	struct dl_nvdimm_hdr h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(read_hdr(path, i, &h));
		flip_name(&h);
		CU_ASSERT(write_hdr(path, i, &h, false));
	}
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "header checksum mismatch in both copies");
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(&h, sizeof(h), false, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "header checksum mismatch");
}

static void set_major2(struct dl_nvdimm_hdr *h)
{
	h->major = 2;
}

static void test_bad_version(void)
{
	const char *path = make_image("major2", SMALL, 0);
	struct dl_nvdimm_hdr h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	patch_both(path, set_major2);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EPROTONOSUPPORT);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "image version 2.0 is newer than this daxlease (1.0)");

	/* one copy written by a newer daxlease is enough to refuse */
	path = make_image("major2-one", SMALL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT(read_hdr(path, 1, &h));
	set_major2(&h);
	h.generation = 2;
	CU_ASSERT(write_hdr(path, 1, &h, true));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EPROTONOSUPPORT);
}

static void test_bad_garbage(void)
{
	const char *path = dl_test_path("garbage");
	char buf[65536];
	int fd;

	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)rand();
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "not a daxlease NVDIMM image (bad signature)");
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(buf, sizeof(buf), true, &err),
			-EINVAL);
	CU_ASSERT_EQUAL(dl_nvdimm_hdr_check(buf, 10, true, &err), -EINVAL);
	CU_ASSERT(msg_has("header is truncated: 10 bytes"));
}

static void set_incompat(struct dl_nvdimm_hdr *h)
{
	h->incompat |= 0x100;
}

static void set_ro_compat(struct dl_nvdimm_hdr *h)
{
	h->ro_compat |= 0x4;
}

static void test_bad_features(void)
{
	const char *path = make_image("incompat", SMALL, 0);
	struct dl_ns *ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	patch_both(path, set_incompat);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EPROTONOSUPPORT);
	CU_ASSERT(msg_has("incompatible features 0x100"));

	path = make_image("rocompat", SMALL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	patch_both(path, set_ro_compat);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EROFS);
	CU_ASSERT(msg_has("features 0x4"));
	CU_ASSERT(msg_has("open it read-only"));
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	dl_ns_close(&ns);
}

static void set_align_8k(struct dl_nvdimm_hdr *h)
{
	h->align = 8 * DL_KiB;
}

static void set_size_odd(struct dl_nvdimm_hdr *h)
{
	h->size += 4096;
}

static void set_data_offset(struct dl_nvdimm_hdr *h)
{
	h->data_offset = 512 * DL_KiB;
}

static void set_state(struct dl_nvdimm_hdr *h)
{
	h->state = 9;
}

static void set_bb_unsorted(struct dl_nvdimm_hdr *h)
{
	h->nbadblocks = 2;
	h->badblocks[0].offset = 4096;
	h->badblocks[0].length = 512;
	h->badblocks[1].offset = 0;
	h->badblocks[1].length = 512;
}

static void set_nbb_huge(struct dl_nvdimm_hdr *h)
{
	h->nbadblocks = 100000;
}

static void set_name_unterminated(struct dl_nvdimm_hdr *h)
{
	memset(h->name, 'x', sizeof(h->name));
}

static void bad_geometry(const char *name, void (*fn)(struct dl_nvdimm_hdr *),
			 const char *want)
{
	const char *path = make_image(name, SMALL, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	patch_both(path, fn);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has(want));
}

static void test_bad_geometry(void)
{
	bad_geometry("g-align", set_align_8k,
		     "image header align 8 KiB is not supported");
	bad_geometry("g-size", set_size_odd,
		     "image header size 16388 KiB is not a multiple of align 2 MiB");
	bad_geometry("g-doff", set_data_offset,
		     "data offset 512 KiB does not match align 2 MiB");
	bad_geometry("g-state", set_state, "state 9");
	bad_geometry("g-bb", set_bb_unsorted, "badblock 1");
	bad_geometry("g-nbb", set_nbb_huge, "100000 badblocks");
	bad_geometry("g-name", set_name_unterminated, "not NUL-terminated");
}

static bool patch_label(const char *path, size_t off, const void *data,
			size_t len, bool reseal_label)
{
	char label[256];
	uint32_t csum;
	int fd = open(path, O_RDWR);
	bool ok = fd >= 0;

	/* the label in slot 0 sits after the two 256-byte index blocks */
	off_t at = (off_t)(DL_NVDIMM_LABEL_OFFSET + 512);

	ok = ok && pread(fd, label, sizeof(label), at) == sizeof(label);
	memcpy(label + off, data, len);
	if (reseal_label) {
		csum = dl_crc32c_skip(label, sizeof(label),
				      offsetof(struct dl_ns_label, checksum), 4);
		memcpy(label + offsetof(struct dl_ns_label, checksum), &csum, 4);
	}
	ok = ok && pwrite(fd, label, sizeof(label), at) == sizeof(label);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_bad_labels(void)
{
	const char *path = make_image("lbl-uuid", SMALL, 0);
	uint8_t uuid[16] = { 0xde, 0xad };
	uint64_t size = 2 * SMALL;
	char zeros[512] = { 0 };
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT(patch_label(path, 0, uuid, sizeof(uuid), true));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("label uuid does not match the header uuid"));

	path = make_image("lbl-size", SMALL, 0);
	CU_ASSERT(patch_label(path, offsetof(struct dl_ns_label, rawsize),
			      &size, sizeof(size), true));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("label size 32 MiB does not match the header size 16 MiB"));

	path = make_image("lbl-csum", SMALL, 0);
	CU_ASSERT(patch_label(path, 20, "x", 1, false));
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("label slot 0 is in use but its checksum does not match"));

	path = make_image("lbl-index", SMALL, 0);
	fd = open(path, O_RDWR);
	CU_ASSERT(pwrite(fd, zeros, sizeof(zeros), DL_NVDIMM_LABEL_OFFSET) ==
		  sizeof(zeros));
	close(fd);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "label area has no valid index block");

	CU_ASSERT_EQUAL(dl_nvdimm_labels_check(zeros, sizeof(zeros), NULL,
					       &err), -EINVAL);
	CU_ASSERT(msg_has("label area is truncated"));
}

/* One torn label index block: the other one still describes the labels. */
static void test_label_index_torn(void)
{
	const char *path = make_image("lbl-torn", SMALL, 0);
	char junk[100];
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	memset(junk, 0x77, sizeof(junk));
	fd = open(path, O_RDWR);
	/* index 1 has the higher seq: tear it */
	CU_ASSERT(pwrite(fd, junk, sizeof(junk),
			 DL_NVDIMM_LABEL_OFFSET + 256 + 100) == sizeof(junk));
	close(fd);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), 0);
}

static void test_bad_not_a_file(void)
{
	CU_ASSERT_EQUAL(open_rc(dl_test_tmpdir(), DL_MAP_READ_ONLY), -EINVAL);
	CU_ASSERT(msg_has("is not a regular file"));
	CU_ASSERT_EQUAL(open_rc(dl_test_path("missing"), DL_MAP_READ_ONLY),
			-ENOENT);
	CU_ASSERT(msg_has("missing does not exist"));
}

/*
 * Random damage to the metadata of a good image: open must fail cleanly
 * or succeed, never crash.  Half of the damaged headers are resealed so
 * that the checks behind the checksum see the damage too.
 */
static void test_random_damage(void)
{
	const char *path = make_image("damage", SMALL, 4096);
	char pristine[DL_NVDIMM_LABEL_OFFSET + 1024];
	int fd, opened = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, pristine, sizeof(pristine), 0) ==
			sizeof(pristine));
	srand(42);
	for (int iter = 0; iter < 400; iter++) {
		char img[sizeof(pristine)];
		int nflips = 1 + rand() % 8;

		memcpy(img, pristine, sizeof(img));
		for (int k = 0; k < nflips; k++)
			img[rand() % (int)sizeof(img)] = (char)rand();
		if (iter % 2)
			for (int c = 0; c < 2; c++)
				seal((struct dl_nvdimm_hdr *)(img + c * 4096));
		CU_ASSERT_FATAL(pwrite(fd, img, sizeof(img), 0) == sizeof(img));
		opened += open_rc(path, iter % 3 ? DL_MAP_READ_ONLY :
					       DL_MAP_READ_WRITE) == 0;
	}
	close(fd);
	CU_ASSERT(opened > 0 && opened < 400);
}

/* ---- locking ---------------------------------------------------------------- */

static void test_concurrent_open(void)
{
	const char *path = make_image("busy", SMALL, 0);
	struct dl_ns *a, *b;
	char want[4200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &a,
					     &err), 0);
	CU_ASSERT_EQUAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &b, &err),
			-EBUSY);
	CU_ASSERT_PTR_NULL(b);
	snprintf(want, sizeof(want), "%s is in use by another process", path);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_ONLY), -EBUSY);
	dl_ns_close(&a);

	/* readers share; a writer waits for them all */
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &a,
					     &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &b,
					     &err), 0);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), -EBUSY);
	dl_ns_close(&a);
	dl_ns_close(&b);
	CU_ASSERT_EQUAL(open_rc(path, DL_MAP_READ_WRITE), 0);
}

/* ---- badblocks ---------------------------------------------------------------- */

static size_t list(struct dl_ns *ns, struct dl_badblock *bb, size_t max)
{
	size_t n = 0;

	CU_ASSERT_EQUAL(dl_ns_list_errors(ns, bb, max, &n), 0);
	return n;
}

static bool bb_is(const struct dl_badblock *bb, uint64_t off, uint64_t len)
{
	return bb->offset == off && bb->length == len;
}

static void test_badblocks_inject_merge(void)
{
	const char *path = make_image("bb", SMALL, 0);
	struct dl_badblock bb[8];
	struct dl_ns *ns;
	char buf[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 0);
	/* widened to the sector */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 100, 10, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 1);
	CU_ASSERT(bb_is(&bb[0], 0, 512));
	/* adjacent: merged */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 512, 512, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 1);
	CU_ASSERT(bb_is(&bb[0], 0, 1024));
	/* apart: sorted */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 8192 + 1, 1, &err), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 4096, 1000, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 3);
	CU_ASSERT(bb_is(&bb[1], 4096, 1024));
	CU_ASSERT(bb_is(&bb[2], 8192, 512));
	/* spanning several: one range */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 1000, 7500, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 1);
	CU_ASSERT(bb_is(&bb[0], 0, 8704));
	/* count is the total even when out has no room */
	CU_ASSERT_EQUAL(list(ns, bb, 0), 1);

	CU_ASSERT(dl_ns_range_is_bad(ns, 8703, 1));
	CU_ASSERT(!dl_ns_range_is_bad(ns, 8704, 100));
	CU_ASSERT(!dl_ns_range_is_bad(ns, 0, 0));
	CU_ASSERT_EQUAL(dl_ns_read(ns, 8000, buf, 512), -EIO);
	CU_ASSERT_EQUAL(dl_ns_read(ns, 8704, buf, 512), 0);
	CU_ASSERT_EQUAL(dl_ns_read(ns, SMALL - 100, buf, 512), -ERANGE);
	dl_ns_close(&ns);
}

static void test_badblocks_errors(void)
{
	const char *path = make_image("bb-err", SMALL, 0);
	struct dl_ns *ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, SMALL - 10, 20, &err), -ERANGE);
	CU_ASSERT(msg_has("offset+length beyond the namespace size"));
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, ~0ULL - 5, 20, &err), -ERANGE);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 0, 0, &err), -EINVAL);
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 100, 512, &err), -EINVAL);
	CU_ASSERT(msg_has("whole 512-byte sectors"));
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 0, 100, &err), -EINVAL);
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, SMALL, 512, &err), -ERANGE);
	/* the last sector is fine */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, SMALL - 1, 1, &err), 0);
	dl_ns_close(&ns);

	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 0, 1, &err), -EROFS);
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 0, 512, &err), -EROFS);
	CU_ASSERT(dl_ns_range_is_bad(ns, SMALL - 512, 512));
	dl_ns_close(&ns);
}

static void test_badblocks_clear(void)
{
	const char *path = make_image("bb-clear", SMALL, 0);
	struct dl_badblock bb[8];
	struct dl_ns *ns;
	char *base;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	base = dl_ns_base(ns);
	memset(base, 0xaa, 16384);
	dl_ns_persist(ns, base, 16384);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 4096, 2048, &err), 0);
	/* clearing the middle splits the range and zeroes what it cleared */
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 4096 + 512, 1024, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 2);
	CU_ASSERT(bb_is(&bb[0], 4096, 512));
	CU_ASSERT(bb_is(&bb[1], 4096 + 1536, 512));
	CU_ASSERT_EQUAL((unsigned char)base[4096 + 512], 0);
	CU_ASSERT_EQUAL((unsigned char)base[4096 + 1535], 0);
	CU_ASSERT_EQUAL((unsigned char)base[4096 + 511], 0xaa);
	CU_ASSERT_EQUAL((unsigned char)base[4096 + 1536], 0xaa);
	/* a wide clear removes both; good sectors it covers keep their data */
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 0, 16384, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 0);
	CU_ASSERT_EQUAL((unsigned char)base[0], 0xaa);
	CU_ASSERT_EQUAL((unsigned char)base[4096], 0);
	CU_ASSERT_EQUAL((unsigned char)base[8192], 0xaa);
	/* clearing nothing is fine */
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 0, 512, &err), 0);
	dl_ns_close(&ns);
}

static void test_badblocks_persist(void)
{
	const char *path = make_image("bb-persist", SMALL, 0);
	struct dl_badblock bb[8];
	struct dl_ns *ns;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 2 * DL_MiB, 4096, &err), 0);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 512, 1, &err), 0);
	dl_ns_close(&ns);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 2);
	CU_ASSERT(bb_is(&bb[0], 512, 512));
	CU_ASSERT(bb_is(&bb[1], 2 * DL_MiB, 4096));
	dl_ns_close(&ns);
	/* and across a crash: the list is in the header, not in memory */
	die_holding(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, 8), 2);
	dl_ns_close(&ns);
}

static void test_badblocks_full(void)
{
	const char *path = make_image("bb-full", SMALL, 0);
	struct dl_badblock bb[DL_NVDIMM_MAX_BADBLOCKS];
	struct dl_ns *ns;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns,
					     &err), 0);
	/* three sectors bad, one good, repeated */
	for (i = 0; i < DL_NVDIMM_MAX_BADBLOCKS; i++)
		CU_ASSERT_EQUAL(dl_ns_inject_error(ns, (uint64_t)i * 2048,
						   1536, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, DL_NVDIMM_MAX_BADBLOCKS),
			DL_NVDIMM_MAX_BADBLOCKS);
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 1 * DL_MiB, 1, &err), -ENOSPC);
	CU_ASSERT(msg_has("badblock table is full"));
	/* clearing the middle of a range splits it: one entry more */
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 2048 + 512, 512, &err), -ENOSPC);
	CU_ASSERT(dl_ns_range_is_bad(ns, 2048 + 512, 512));
	/* trimming an end needs no room */
	CU_ASSERT_EQUAL(dl_ns_clear_error(ns, 2048, 512, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, DL_NVDIMM_MAX_BADBLOCKS),
			DL_NVDIMM_MAX_BADBLOCKS);
	/* filling a gap merges two ranges into one */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 2048 + 1536, 512, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, DL_NVDIMM_MAX_BADBLOCKS),
			DL_NVDIMM_MAX_BADBLOCKS - 1);
	CU_ASSERT(bb_is(&bb[1], 2048 + 512, 2048 + 1536 - 512));
	/* and one wide range replaces them all */
	CU_ASSERT_EQUAL(dl_ns_inject_error(ns, 0, 1 * DL_MiB, &err), 0);
	CU_ASSERT_EQUAL(list(ns, bb, DL_NVDIMM_MAX_BADBLOCKS), 1);
	dl_ns_close(&ns);
}

static CU_TestInfo create_tests[] = {
	{ "roundtrip, align 4K", test_roundtrip_4k },
	{ "roundtrip, align 2M", test_roundtrip_2m },
	{ "roundtrip, align 1G", test_roundtrip_1g },
	{ "default align, given uuid", test_default_align_and_uuid },
	{ "1 TiB image is sparse", test_sparse_1t },
	{ "rule: size is a multiple of align", test_rule_multiple },
	{ "rule: align is 4K, 2M or 1G", test_rule_align },
	{ "rule: size limits", test_rule_limits },
	{ "rule: name", test_rule_name },
	{ "rule: nil uuid", test_rule_nil_uuid },
	{ "rule: image must not exist", test_rule_exists },
	{ "align_valid", test_align_valid },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo header_tests[] = {
	{ "updates alternate copies", test_generations_alternate },
	{ "read-only open writes nothing", test_read_only_changes_nothing },
	{ "unsafe shutdown count", test_unsafe_shutdown },
	{ "an open for a check keeps the health state", test_open_for_check_keeps_health },
	{ "torn header: the other copy", test_torn_header },
	{ "highest generation wins", test_pick_highest_generation },
	{ "concurrent opens", test_concurrent_open },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo damage_tests[] = {
	{ "truncated image", test_bad_truncated },
	{ "extended image", test_bad_extended },
	{ "checksum bad in both copies", test_bad_checksum_both },
	{ "newer major version", test_bad_version },
	{ "random garbage", test_bad_garbage },
	{ "unknown features", test_bad_features },
	{ "inconsistent geometry", test_bad_geometry },
	{ "label area disagrees", test_bad_labels },
	{ "torn label index", test_label_index_torn },
	{ "not a file, no file", test_bad_not_a_file },
	{ "random damage never crashes", test_random_damage },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo badblock_tests[] = {
	{ "inject, merge, read", test_badblocks_inject_merge },
	{ "range and mode errors", test_badblocks_errors },
	{ "clear splits and zeroes", test_badblocks_clear },
	{ "persistent across reopen and crash", test_badblocks_persist },
	{ "table full", test_badblocks_full },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "create", NULL, NULL, NULL, NULL, create_tests },
	{ "header", NULL, NULL, NULL, NULL, header_tests },
	{ "damage", NULL, NULL, NULL, NULL, damage_tests },
	{ "badblocks", NULL, NULL, NULL, NULL, badblock_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	/* this suite tests the image, not the crash simulation */
	unsetenv("DAXLEASE_CRASH_AT");
	return dl_cunit_main(suites);
}
