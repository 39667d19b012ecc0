/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctx.c - a context is one connection to daxleased: connect, HELLO,
 * references.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "private.h"

#define DL_SOCKET_NAME "daxleased.sock"
#define DL_SOCKET_DEFAULT "/run/daxlease/" DL_SOCKET_NAME

DAXLEASE_EXPORT const char *daxlease_default_socket(void)
{
	static __thread char buf[PATH_MAX];
	const char *env = getenv("DAXLEASE_SOCKET");
	size_t n;

	if (env && *env)
		return env;
	env = getenv("RUNTIME_DIRECTORY");	/* systemd: "a:b" for several */
	if (env && *env) {
		n = strcspn(env, ":");
		if (n + sizeof("/" DL_SOCKET_NAME) > sizeof(buf))
			return DL_SOCKET_DEFAULT;
		memcpy(buf, env, n);
		memcpy(buf + n, "/" DL_SOCKET_NAME, sizeof("/" DL_SOCKET_NAME));
		return buf;
	}
	env = getenv("XDG_RUNTIME_DIR");	/* daxleased run by a user */
	if (geteuid() != 0 && env && *env) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s/daxlease/%s", env,
				     DL_SOCKET_NAME) >= sizeof(buf))
			return DL_SOCKET_DEFAULT;
		return buf;
	}
	return DL_SOCKET_DEFAULT;
}

int dl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	while (rc && errno == EINTR);
	if (rc) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static struct daxlease_ctx *ctx_alloc(void)
{
	struct daxlease_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *window;

	if (!ctx)
		return NULL;
	ctx->bufsize = sizeof(struct dl_msg_hdr) + DL_PROTO_MAX_MSG;
	ctx->txbuf = malloc(ctx->bufsize);
	ctx->rxbuf = malloc(ctx->bufsize);
	if (!ctx->txbuf || !ctx->rxbuf) {
		free(ctx->txbuf);
		free(ctx->rxbuf);
		free(ctx);
		return NULL;
	}
	ctx->refcount = 1;
	ctx->sock = -1;
	ctx->ns_fd = -1;
	ctx->next_id = 1;
	ctx->serial = dl_ctx_serial_next();
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);
	pthread_mutex_init(&ctx->send_lock, NULL);
	pthread_mutex_init(&ctx->map_lock, NULL);
	pthread_cond_init(&ctx->map_cond, NULL);
	window = getenv("DAXLEASE_TEST_PIN_WINDOW_US");
	if (window)
		ctx->pin_window_us = (unsigned)strtoul(window, NULL, 10);
	return ctx;
}

static void ctx_free(struct daxlease_ctx *ctx)
{
	dl_table_release(ctx);
	dl_spins_free(ctx);
	free(ctx->socket_path);
	dl_stats_release(ctx);
	dl_event_free_all(ctx);
	if (ctx->sock >= 0)
		close(ctx->sock);
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->send_lock);
	pthread_mutex_destroy(&ctx->map_lock);
	pthread_cond_destroy(&ctx->map_cond);
	free(ctx->txbuf);
	free(ctx->rxbuf);
	free(ctx);
}

DAXLEASE_EXPORT int daxlease_new(struct daxlease_ctx **out,
				 const char *socket_path)
{
	struct daxlease_ctx *ctx;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ctx = ctx_alloc();
	if (!ctx)
		return -ENOMEM;
	ctx->socket_path = strdup(socket_path ? socket_path :
				  daxlease_default_socket());
	if (!ctx->socket_path) {
		rc = -ENOMEM;
		goto err;
	}
	rc = dl_connect(ctx->socket_path);
	if (rc < 0)
		goto err;
	ctx->sock = rc;
	rc = dl_hello(ctx);
	if (rc)
		goto err;
	*out = ctx;
	return 0;
err:
	ctx_free(ctx);
	return rc;
}

DAXLEASE_EXPORT struct daxlease_ctx *daxlease_ref(struct daxlease_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

DAXLEASE_EXPORT struct daxlease_ctx *daxlease_unref(struct daxlease_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (__atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		ctx_free(ctx);
	return NULL;
}

DAXLEASE_EXPORT void daxlease_get_info(const struct daxlease_ctx *ctx,
				       struct daxlease_info *out)
{
	const struct dl_hello_rep *h = &ctx->hello;

	memset(out, 0, sizeof(*out));
	out->protocol_version = ctx->version;
	out->server_flags = h->server_flags;
	out->ns_size = h->ns_size;
	out->ns_align = h->ns_align;
	memcpy(out->server_version, h->server_version,
	       sizeof(out->server_version) - 1);
	memcpy(out->ns_name, h->ns_name, sizeof(out->ns_name) - 1);
	memcpy(out->ns_uuid, h->ns_uuid, sizeof(out->ns_uuid));
}
