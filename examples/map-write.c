/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * map-write.c - write into a daxlease file through a DAX mapping.
 *
 *   example-map-write [--socket PATH] [FILE [MESSAGE]]
 *
 * Connects to daxleased, creates FILE (default "hello.txt") or opens it,
 * makes it one 2 MiB chunk long, takes a layout lease on it (a mapping
 * needs one: -ENOLCK otherwise), maps it for writing, stores
 * MESSAGE at offset 0 with a plain memcpy - no request to the service, the
 * store goes straight to the namespace's blocks - makes the store durable,
 * unmaps, returns the lease and closes.  `daxlease get FILE -` then shows the message.
 *
 * Build your own copy with:
 *   cc map-write.c $(pkg-config --cflags --libs libdaxlease)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daxlease/libdaxlease.h>

#define FILE_SIZE (2u << 20)	/* one PMD leaf on a 2 MiB-aligned namespace */

static int fail(const char *what, int rc)
{
	fprintf(stderr, "map-write: %s: %s\n", what, strerror(-rc));
	return 1;
}

/* Map the file, store the message, persist, unmap. */
static int map_and_store(struct daxlease_file *f, const char *msg)
{
	struct daxlease_map *m;
	uint64_t pte, pmd, pud;
	int rc;

	rc = daxlease_map(f, 0, FILE_SIZE, DAXLEASE_PROT_READ |
			  DAXLEASE_PROT_WRITE, &m);
	if (rc)
		return fail("map", rc);
	daxlease_map_leaves(m, &pte, &pmd, &pud);
	printf("mapped %u bytes at %p: %llu PUD, %llu PMD, %llu PTE leaves\n",
	       FILE_SIZE, daxlease_map_addr(m), (unsigned long long)pud,
	       (unsigned long long)pmd, (unsigned long long)pte);

	memcpy(daxlease_map_addr(m), msg, strlen(msg));
	printf("stored %zu bytes through the mapping\n", strlen(msg));

	rc = daxlease_map_persist(m, 0, strlen(msg));
	if (rc) {
		daxlease_unmap(m);
		return fail("persist", rc);
	}
	printf("persisted\n");
	rc = daxlease_unmap(m);
	if (rc)
		return fail("unmap", rc);
	printf("unmapped\n");
	return 0;
}

/*
 * Under a shared lease of the whole file: nobody changes its layout
 * without telling us first (a break event; this short program does not
 * wait for events - see lease-holder.c for one that does).
 */
static int write_through_map(struct daxlease_ctx *ctx,
			     struct daxlease_file *f, const char *msg)
{
	uint64_t lease;
	int rc;

	rc = daxlease_lease_acquire(f, 0, FILE_SIZE, DAXLEASE_LEASE_SHARED, 0,
				    &lease);
	if (rc)
		return fail("lease", rc);
	printf("leased\n");
	rc = map_and_store(f, msg);
	if (daxlease_lease_release(ctx, lease) && !rc)
		return fail("release the lease", -EIO);
	return rc;
}

static int run(struct daxlease_ctx *ctx, const char *name, const char *msg)
{
	struct daxlease_file *f;
	int rc;

	rc = daxlease_open(ctx, name, DAXLEASE_O_READ | DAXLEASE_O_WRITE |
			   DAXLEASE_O_CREATE, 0644, &f);
	if (rc)
		return fail(name, rc);
	printf("opened %s\n", name);

	/* Truncate to 0 first so that old contents past the message go. */
	rc = daxlease_truncate(f, 0);
	if (!rc)
		rc = daxlease_truncate(f, FILE_SIZE);
	if (rc) {
		daxlease_close(f);
		return fail("truncate", rc);
	}
	printf("size set to %u bytes\n", FILE_SIZE);

	rc = write_through_map(ctx, f, msg);
	if (rc) {
		daxlease_close(f);
		return rc;
	}
	rc = daxlease_close(f);
	if (rc)
		return fail("close", rc);
	printf("closed %s\n", name);
	return 0;
}

int main(int argc, char **argv)
{
	const char *socket = NULL, *name = "hello.txt";
	const char *msg = "hello from a DAX mapping\n";
	struct daxlease_ctx *ctx;
	struct daxlease_info info;
	int rc, i = 1;

	if (argc > 2 && !strcmp(argv[1], "--socket")) {
		socket = argv[2];
		i = 3;
	}
	if (i < argc)
		name = argv[i++];
	if (i < argc)
		msg = argv[i++];

	rc = daxlease_new(&ctx, socket);
	if (rc)
		return fail(socket ? socket : daxlease_default_socket(), rc);
	daxlease_get_info(ctx, &info);
	printf("connected to daxleased %s (protocol %u), namespace %s\n",
	       info.server_version, info.protocol_version, info.ns_name);

	rc = run(ctx, name, msg);
	daxlease_unref(ctx);
	return rc;
}
