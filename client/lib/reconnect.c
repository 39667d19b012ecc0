/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reconnect.c - daxlease_reconnect: a context whose connection was lost
 * (its socket shut down, or daxleased died and was started again) takes
 * back what it held on a new one (proto.h, REATTACH).
 *
 * Pins belong to the process, not to the connection: the daemon keeps a
 * lost connection's pins (orphan.c) or, once restarted, everything its
 * pin records say the process may reach.  Here the context tells the new
 * connection what it still holds so that those holds become exact again:
 *
 *   1. every mapping of the lost connection is marked lost (a seq_cst
 *      store each, then a fence): its lockless pins back off from now on
 *      (pinfast.c loads the flag after its increments), so the counters
 *      handed over in step 3 can only go down;
 *   2. connect and HELLO; the namespace must be the one we had;
 *   3. REATTACH: the lost token, every open file, every lost table with
 *      its mappings (the table, counter and wake fds go with it), every
 *      socket pin, then END.
 *
 * Old mappings stay usable for what they hold: their lockless unpins
 * count down on their own table's counters, and new pins on them go
 * through the socket (the file handles keep their values).  Leases do not
 * come back: the daemon revoked them with the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

/* ---- what a reconnect hands over -------------------------------------------- */

void dl_track_file(struct daxlease_file *f)
{
	struct daxlease_ctx *ctx = f->ctx;

	pthread_mutex_lock(&ctx->map_lock);
	f->prev = NULL;
	f->next = ctx->files;
	if (ctx->files)
		ctx->files->prev = f;
	ctx->files = f;
	pthread_mutex_unlock(&ctx->map_lock);
}

void dl_untrack_file(struct daxlease_file *f)
{
	struct daxlease_ctx *ctx = f->ctx;

	pthread_mutex_lock(&ctx->map_lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		ctx->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&ctx->map_lock);
}

void dl_track_map(struct daxlease_map *m)
{
	struct daxlease_ctx *ctx = m->ctx;

	pthread_mutex_lock(&ctx->map_lock);
	m->prev = NULL;
	m->next = ctx->maps;
	if (ctx->maps)
		ctx->maps->prev = m;
	ctx->maps = m;
	pthread_mutex_unlock(&ctx->map_lock);
}

void dl_untrack_map(struct daxlease_map *m)
{
	struct daxlease_ctx *ctx = m->ctx;

	pthread_mutex_lock(&ctx->map_lock);
	if (m->prev)
		m->prev->next = m->next;
	else
		ctx->maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	pthread_mutex_unlock(&ctx->map_lock);
}

/* ---- 1: stop pinning through the lost tables --------------------------------- */

static void lose_mappings(struct daxlease_ctx *ctx)
{
	pthread_mutex_lock(&ctx->map_lock);
	ctx->epoch++;
	for (struct daxlease_map *m = ctx->maps; m; m = m->next)
		__atomic_store_n(&m->lost, 1, __ATOMIC_SEQ_CST);
	/* the lost connection's table is no longer the current one */
	if (ctx->gen) {
		struct dl_tgen *g = ctx->gen;

		ctx->gen = NULL;
		dl_gen_put(ctx, g);
	}
	ctx->table_failed = false;
	pthread_mutex_unlock(&ctx->map_lock);
	/* every store above before anything is sent to the new daemon */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- 2: a new connection ------------------------------------------------------ */

/* 0 once no call of the lost connection is still in flight. */
static int drain_calls(struct daxlease_ctx *ctx)
{
	for (int i = 0; i < 5000; i++) {
		bool idle;

		pthread_mutex_lock(&ctx->lock);
		idle = !ctx->pending && !ctx->reading;
		pthread_mutex_unlock(&ctx->lock);
		if (idle)
			return 0;
		usleep(1000);	/* each of them sees -ENOTCONN at once */
	}
	return -EBUSY;
}

static int new_connection(struct daxlease_ctx *ctx)
{
	uint8_t uuid[sizeof(ctx->hello.ns_uuid)];
	int fd, rc;

	memcpy(uuid, ctx->hello.ns_uuid, sizeof(uuid));
	fd = dl_connect(ctx->socket_path);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&ctx->lock);
	close(ctx->sock);
	ctx->sock = fd;
	__atomic_store_n(&ctx->version, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ctx->dead, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ctx->lock);
	rc = dl_hello(ctx);
	if (!rc && memcmp(uuid, ctx->hello.ns_uuid, sizeof(uuid)))
		rc = -ESTALE;	/* another namespace: nothing to take back */
	if (rc)
		dl_kill(ctx);
	return rc;
}

/* ---- 3: REATTACH --------------------------------------------------------------- */

static int reattach(struct daxlease_ctx *ctx, uint32_t kind, uint32_t token,
		    const void *entries, size_t count, size_t len,
		    const int *fds, int nfds, void *rep, size_t rep_len)
{
	struct dl_reattach_req req = {
		.kind = kind, .count = (uint32_t)count, .token = token,
	};
	struct iovec riov[2] = { { &req, sizeof(req) },
				 { (void *)entries, len } };
	struct iovec piov = { rep, rep_len };
	struct dl_call call = {
		.opcode = DL_OP_REATTACH,
		.req_iov = riov, .req_niov = len ? 2 : 1,
		.rep_iov = &piov, .rep_niov = rep ? 1 : 0,
		.rep_min = rep_len,
		.send_fds = fds, .nsend_fds = nfds,
	};

	return dl_call(ctx, &call);
}

static void give_back_files(struct daxlease_ctx *ctx,
			    struct daxlease_reattached *out)
{
	struct dl_reattach_file *e;
	size_t n = 0, k = 0;

	/* copied: map_lock is never held across a round trip (private.h) */
	pthread_mutex_lock(&ctx->map_lock);
	for (struct daxlease_file *f = ctx->files; f; f = f->next)
		n++;
	e = calloc(n ? n : 1, sizeof(*e));
	for (struct daxlease_file *f = ctx->files; e && f; f = f->next)
		e[k++] = (struct dl_reattach_file){
			.fh = f->fh, .ino = f->ino,
			.generation = f->generation, .flags = f->flags,
		};
	pthread_mutex_unlock(&ctx->map_lock);
	if (!e) {
		out->files_lost += (unsigned)n;
		return;
	}
	/* one a message: each gets its own answer */
	for (size_t i = 0; i < k; i++) {
		if (reattach(ctx, DL_REATTACH_FILES, 0, &e[i], 1,
			     sizeof(e[i]), NULL, 0, NULL, 0))
			out->files_lost++;
		else
			out->files++;
	}
	free(e);
}

/* The lost mappings of table g, as REATTACH describes them. */
static size_t describe_maps(struct daxlease_ctx *ctx, const struct dl_tgen *g,
			    struct dl_reattach_map *out, size_t max)
{
	size_t n = 0;

	for (struct daxlease_map *m = ctx->maps; m; m = m->next) {
		if (m->gen != g)
			continue;
		if (n < max)
			out[n] = (struct dl_reattach_map){
				.map_id = m->map_id, .ino = m->ino,
				.generation = m->generation,
				.prot = DL_MAP_PROT_READ |
					(m->writable ? DL_MAP_PROT_WRITE : 0),
				.offset = m->offset, .length = m->length,
				.first_entry = m->first_entry,
				.nentries = m->nentries,
			};
		n++;
	}
	return n;
}

#define MAPS_PER_MESSAGE ((DL_PROTO_MAX_MSG - sizeof(struct dl_reattach_req)) / \
			  sizeof(struct dl_reattach_map))

static void give_back_table(struct daxlease_ctx *ctx, struct dl_tgen *g,
			    struct daxlease_reattached *out)
{
	int fds[DL_REATTACH_NFDS] = { g->table_fd, g->counters_fd, g->wake_fd };
	struct dl_reattach_map *d;
	size_t n;

	pthread_mutex_lock(&ctx->map_lock);
	n = describe_maps(ctx, g, NULL, 0);
	d = calloc(n ? n : 1, sizeof(*d));
	if (d)
		n = describe_maps(ctx, g, d, n);
	pthread_mutex_unlock(&ctx->map_lock);
	if (!d) {
		out->maps_lost += (unsigned)n;
		return;
	}
	for (size_t i = 0; i < n; i += MAPS_PER_MESSAGE) {
		size_t k = n - i < MAPS_PER_MESSAGE ? n - i : MAPS_PER_MESSAGE;

		if (reattach(ctx, DL_REATTACH_TABLE, 0, d + i, k,
			     k * sizeof(*d), fds, DL_REATTACH_NFDS, NULL, 0))
			out->maps_lost += (unsigned)k;
		else
			out->maps += (unsigned)k;
	}
	free(d);
}

static void give_back_tables(struct daxlease_ctx *ctx,
			     struct daxlease_reattached *out)
{
	struct dl_tgen *g;

	/* a table stays listed while a mapping holds it: it cannot go
	 * while we send, and a new one is not lost */
	pthread_mutex_lock(&ctx->map_lock);
	for (g = ctx->gens; g; g = g->next) {
		dl_gen_get(g);
		pthread_mutex_unlock(&ctx->map_lock);
		give_back_table(ctx, g, out);
		pthread_mutex_lock(&ctx->map_lock);
		dl_gen_put(ctx, g);
	}
	pthread_mutex_unlock(&ctx->map_lock);
}

static int give_back_pin(struct daxlease_ctx *ctx, const struct dl_spin *s)
{
	size_t segs = s->nsegs * sizeof(s->segs[0]);
	struct dl_reattach_pin *e = malloc(sizeof(*e) + segs);
	int rc;

	if (!e)
		return -ENOMEM;
	*e = (struct dl_reattach_pin){
		.pin_id = s->pin_id, .ino = s->ino,
		.generation = s->generation, .flags = s->flags,
		.offset = s->offset, .length = s->length, .nsegs = s->nsegs,
	};
	memcpy(e + 1, s->segs, segs);
	rc = reattach(ctx, DL_REATTACH_PIN, 0, e, 1, sizeof(*e) + segs,
		      NULL, 0, NULL, 0);
	free(e);
	return rc;
}

static void give_back_pins(struct daxlease_ctx *ctx,
			   struct daxlease_reattached *out)
{
	uint64_t *ids;
	size_t n = 0, k = 0;

	pthread_mutex_lock(&ctx->map_lock);
	for (struct dl_spin *s = ctx->spins; s; s = s->next)
		n++;
	ids = calloc(n ? n : 1, sizeof(*ids));
	for (struct dl_spin *s = ctx->spins; ids && s; s = s->next)
		ids[k++] = s->pin_id;
	pthread_mutex_unlock(&ctx->map_lock);
	if (!ids) {
		out->pins_lost += (unsigned)n;
		return;
	}
	for (size_t i = 0; i < k; i++) {
		struct dl_spin *s, *copy = NULL;

		/* a copy: another thread may unpin (and free) it meanwhile */
		pthread_mutex_lock(&ctx->map_lock);
		for (s = ctx->spins; s && s->pin_id != ids[i]; s = s->next)
			;
		if (s) {
			size_t sz = sizeof(*s) + s->nsegs * sizeof(s->segs[0]);

			copy = malloc(sz);
			if (copy)
				memcpy(copy, s, sz);
		}
		pthread_mutex_unlock(&ctx->map_lock);
		if (!s)
			continue;
		if (copy && !give_back_pin(ctx, copy)) {
			out->pins++;
		} else {
			out->pins_lost++;
			dl_spin_forget(ctx, ids[i]);	/* not held any more */
		}
		free(copy);
	}
	free(ids);
}

DAXLEASE_EXPORT int daxlease_reconnect(struct daxlease_ctx *ctx,
				       struct daxlease_reattached *out)
{
	struct daxlease_reattached mine;
	struct dl_reattach_rep rep;
	uint32_t token;
	int rc;

	if (!ctx)
		return -EINVAL;
	if (!out)
		out = &mine;
	memset(out, 0, sizeof(*out));
	if (!dl_is_dead(ctx))
		return -EISCONN;
	if (__atomic_exchange_n(&ctx->reconnecting, 1, __ATOMIC_ACQ_REL))
		return -EALREADY;
	ctx->reconnector = pthread_self();
	token = ctx->hello.token;
	lose_mappings(ctx);
	rc = drain_calls(ctx);
	if (!rc)
		rc = new_connection(ctx);
	/* this connection goes on as the lost one: the same records, and
	 * the same token for the next reconnect - even when this one fails
	 * half-way (another HELLO's token names nothing we hold) */
	ctx->hello.token = token;
	if (!rc)
		rc = reattach(ctx, DL_REATTACH_BEGIN, token, NULL, 0, 0, NULL,
			      0, NULL, 0);
	if (!rc) {
		give_back_files(ctx, out);
		give_back_tables(ctx, out);
		give_back_pins(ctx, out);
		rc = reattach(ctx, DL_REATTACH_END, 0, NULL, 0, 0, NULL, 0,
			      &rep, sizeof(rep));
	}
	if (!rc)
		out->counted = rep.counted;
	else
		dl_kill(ctx);	/* half taken back is not taken back */
	__atomic_store_n(&ctx->reconnecting, 0, __ATOMIC_RELEASE);
	return rc;
}
