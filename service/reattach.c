// SPDX-License-Identifier: BSD-3-Clause
/*
 * reattach.c - REATTACH: a new connection takes over what a lost one of
 * the same process held (include/daxlease/proto.h has the exchange).
 *
 * Two cases, and the client cannot tell which it is in:
 *
 *   - the same daemon: the lost connection is an orphan (orphan.c) with
 *     its table, mappings and pins; BEGIN makes the new connection its
 *     adopter - it unpins and unmaps through it - and the rest of the
 *     exchange only re-creates file handles;
 *   - a restarted daemon: all it knows is its pin records, held by a
 *     restored stand-in (records.c).  The client hands back its lost
 *     tables and describes its mappings and socket pins; each is checked
 *     against those records, taken over, and at END the stand-in's hold
 *     on everything recorded is replaced by these exact holds.
 *
 * Nothing a client says here can make us hold a block that is not
 * recorded for its own process (pid and start time from SO_PEERCRED,
 * never from the message), nor make us read memory that can shrink under
 * us (the memfds must be sealed).  A lying client can only lose its own
 * protection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

static bool same_owner(const struct dl_client *a, const struct dl_client *b)
{
	struct dl_pin_owner ka, kb;

	dl_client_owner(a, &ka);
	dl_client_owner(b, &kb);
	return dl_pin_owner_eq(&ka, &kb);
}

/* Nothing opened, mapped, pinned or leased on this connection yet. */
static bool fresh(const struct dl_client *c)
{
	if (c->fhs.nused || c->maps || c->table || c->nleases || c->nwaiting)
		return false;
	for (const struct dl_pin *p = c->srv->pins; p; p = p->next)
		if (p->client == c)
			return false;
	return true;
}

static int reattach_begin(struct dl_client *c, const struct dl_reattach_req *r)
{
	if (c->reattaching || !fresh(c))
		return -EBUSY;
	c->token = r->token;
	c->reattaching = true;
	for (struct dl_client *o = c->srv->clients; o; o = o->next) {
		if (o == c || !o->orphan || !same_owner(o, c))
			continue;
		if (o->restored)
			c->stand_in = o;
		else
			o->adopter = c;
	}
	log_info("%s re-attaches token %#x: %s", dl_conn_who(c), r->token,
		 c->stand_in ? "a restarted daemon holds its records" :
		 "its lost connections are taken over");
	return 0;
}

static int reattach_file(struct dl_client *c, const struct dl_reattach_file *f)
{
	unsigned want = (f->flags & DL_O_READ ? DL_ACCESS_R : 0) |
			(f->flags & DL_O_WRITE ? DL_ACCESS_W : 0);
	struct dl_stat st;
	int rc;

	if (!want || f->flags & ~(DL_O_READ | DL_O_WRITE) ||
	    f->ino > UINT32_MAX)
		return -EINVAL;
	if (dl_fs_stat(c->srv->fs, (uint32_t)f->ino, &st) ||
	    st.generation != f->generation)
		return -ESTALE;
	/* a new open, as far as the rules go */
	rc = dl_access_file(&c->cred, st.mode, st.uid, st.gid, want);
	if (!rc)
		rc = dl_fh_put(&c->fhs, f->fh, st.ino, st.generation, want);
	return rc;
}

static int reattach_files(struct dl_client *c, const struct dl_request *rq)
{
	const struct dl_reattach_req *r = rq->payload;
	const struct dl_reattach_file *f = rq->entries;

	for (uint32_t i = 0; i < r->count; i++) {
		int rc = reattach_file(c, &f[i]);

		if (rc)
			return rc;
	}
	return 0;
}

/* ---- a lost table ------------------------------------------------------------ */

/* Is fd the memfd t was made from (the same daemon's own table)? */
static bool same_file(int fd, const struct dl_maptable *t)
{
	struct stat a, b;

	return !fstat(fd, &a) && !fstat(t->fd, &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/* An eventfd, and nothing that could always be readable? (fdinfo) */
static bool is_eventfd(int fd)
{
	char path[64], buf[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && !found && fgets(buf, sizeof(buf), f))
		found = !strncmp(buf, "eventfd-count:", 14);
	if (f)
		fclose(f);
	return found;
}

/* The blocks of entries [first, first+n), each one checked: this mapping's,
 * a real leaf, and inside what is recorded for the process. */
static int check_entries(const struct dl_maptable *t,
			 const struct dl_reattach_map *d,
			 const struct dl_rangeset *recorded,
			 struct dl_rangeset *blocks, uint64_t *counted)
{
	for (uint64_t i = d->first_entry; i < d->first_entry + d->nentries;
	     i++) {
		const struct dl_table_entry *e = &t->ent[i];
		uint64_t pte = __atomic_load_n(&e->pte, __ATOMIC_ACQUIRE);
		uint64_t ns = dl_pte_ns_offset(pte), size;

		if (dl_pte_level(pte) > DL_LEAF_PUD || e->map_id != d->map_id)
			return -ESTALE;
		size = dl_leaf_size(dl_pte_level(pte));
		if (!dl_rangeset_covers(recorded, ns, size)) {
			log_info("mapping %llu: entry %llu's leaf %#llx+%#llx "
				 "is not recorded for the process",
				 (unsigned long long)d->map_id,
				 (unsigned long long)i, (unsigned long long)ns,
				 (unsigned long long)size);
			return -ESTALE;
		}
		if (dl_rangeset_add(blocks, ns, size))
			return -ENOMEM;
		*counted += dl_maptable_refs(t, i) != 0;
	}
	dl_rangeset_normalize(blocks);
	return 0;
}

static int import_map(struct dl_client *o, const struct dl_reattach_map *d,
		      const struct dl_rangeset *recorded, uint64_t *counted)
{
	struct dl_maptable *t = o->table;
	struct dl_mapping *m;
	int rc;

	if (!d->nentries || d->first_entry >= t->cap ||
	    d->nentries > t->cap - d->first_entry || d->ino > UINT32_MAX ||
	    !d->prot || d->prot & ~(DL_MAP_PROT_READ | DL_MAP_PROT_WRITE))
		return -EINVAL;
	for (uint64_t i = d->first_entry; i < d->first_entry + d->nentries;
	     i++)
		if (t->used[i])
			return -EINVAL;	/* two mappings on one entry */
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = check_entries(t, d, recorded, &m->blocks, counted);
	if (rc) {
		dl_mapping_free(m);
		return rc;
	}
	m->id = d->map_id;
	m->ino = (uint32_t)d->ino;
	m->generation = d->generation;
	m->offset = d->offset;
	m->length = d->length;
	m->first = d->first_entry;
	m->nentries = d->nentries;
	m->write = d->prot & DL_MAP_PROT_WRITE;
	memset(t->used + m->first, 1, m->nentries);
	m->next = o->maps;
	o->maps = m;
	dl_limits_map_added(o, m);
	return 0;
}

/* The stand-in's restored pin: everything recorded for the process. */
static const struct dl_rangeset *recorded_of(const struct dl_client *s)
{
	for (const struct dl_pin *p = s->srv->pins; p; p = p->next)
		if (p->client == s)
			return &p->blocks;
	return NULL;
}

/*
 * A restarted daemon: the lost table, taken over by a new orphan of the
 * process (adopted by c) whose counters hold what they count.
 */
static int import_table(struct dl_client *c, const struct dl_request *rq,
			uint64_t *counted)
{
	const struct dl_reattach_req *r = rq->payload;
	const struct dl_reattach_map *d = rq->entries;
	const struct dl_rangeset *recorded = recorded_of(c->stand_in);
	struct dl_err err = { 0 };
	struct dl_pin_owner key;
	struct dl_client *o;
	int rc;

	if (!recorded)
		return -ESTALE;
	if (!is_eventfd(rq->fds[2]))
		return -EINVAL;
	dl_client_owner(c, &key);
	rc = dl_conn_stand_in(c->srv, &key, &o);
	if (rc)
		return rc;
	rc = dl_maptable_import(rq->fds[0], rq->fds[1], &o->table, &err);
	rq->fds[0] = rq->fds[1] = -1;	/* taken, whatever happened */
	if (rc)
		log_info("%s: a lost table refused: %s", dl_conn_who(c),
			 err.msg);
	if (!rc) {
		rc = dl_conn_watch_wake(o, rq->fds[2]);
		rq->fds[2] = -1;
	}
	for (uint32_t i = 0; !rc && i < r->count; i++)
		rc = import_map(o, &d[i], recorded, counted);
	if (rc)
		log_info("%s: a lost table's mappings refused: %s",
			 dl_conn_who(c), strerror(-rc));
	/* its handles came first (FILES): they say whose pins these are */
	for (struct dl_mapping *m = o->maps; m; m = m->next)
		m->reader = !m->write && dl_hostage_ino_reader(c, m->ino);
	o->adopter = c;
	if (rc)
		/* what was imported goes again; the stand-in still holds */
		dl_conn_queue_teardown(o);
	return rc;
}

static int reattach_table(struct dl_client *c, const struct dl_request *rq,
			  uint64_t *counted)
{
	if (rq->nfds != DL_REATTACH_NFDS)
		return -EINVAL;
	/* the same daemon: one of the orphans it adopted */
	for (struct dl_client *o = c->srv->clients; o; o = o->next)
		if (o->adopter == c && o->table &&
		    same_file(rq->fds[0], o->table))
			return 0;
	if (!c->stand_in) {
		/* nothing of it is held any more */
		log_info("%s: a lost table, but nothing recorded is held for "
			 "the process", dl_conn_who(c));
		return -ESTALE;
	}
	return import_table(c, rq, counted);
}

/* ---- a socket pin ------------------------------------------------------------ */

static struct dl_pin *pin_by_id(struct dl_server *srv, uint64_t id)
{
	for (struct dl_pin *p = srv->pins; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static int reattach_pin(struct dl_client *c, const struct dl_request *rq)
{
	const struct dl_reattach_pin *d = rq->entries;
	const struct dl_wire_seg *seg = (const void *)(d + 1);
	const struct dl_rangeset *recorded;
	struct dl_rangeset blocks = { 0 };
	struct dl_pin *p = pin_by_id(c->srv, d->pin_id);
	int rc = 0;

	/* the same daemon: an adopted orphan holds it */
	if (p && p->client->adopter == c)
		return 0;
	if (p || !d->pin_id || d->ino > UINT32_MAX)
		return p ? -EEXIST : -EINVAL;
	recorded = c->stand_in ? recorded_of(c->stand_in) : NULL;
	if (!recorded)
		return -ESTALE;
	for (uint32_t i = 0; !rc && i < d->nsegs; i++) {
		if (seg[i].ns_offset == UINT64_MAX)
			continue;	/* a hole of a read pin */
		if (!dl_rangeset_covers(recorded, seg[i].ns_offset,
					seg[i].length))
			rc = -ESTALE;
		else
			rc = dl_rangeset_add(&blocks, seg[i].ns_offset,
					     seg[i].length);
	}
	p = rc ? NULL : dl_pin_add(c, (uint32_t)d->ino, d->generation,
				   d->offset, d->length,
				   d->flags & DL_PIN_WRITE, &blocks);
	dl_rangeset_free(&blocks);
	if (rc || !p)
		return rc ? rc : -ENOMEM;
	/* the id it holds (ids never meet, server.c) */
	dl_pin_renumber(c->srv, p, d->pin_id);
	p->reader = !p->write && dl_hostage_ino_reader(c, p->ino);
	return 0;
}

/* ---- the end ----------------------------------------------------------------- */

static void count_adopted(const struct dl_client *c, struct dl_reattach_rep *o)
{
	for (const struct dl_client *a = c->srv->clients; a; a = a->next) {
		if (a->adopter != c)
			continue;
		o->tables += a->table != NULL;
		for (const struct dl_mapping *m = a->maps; m; m = m->next) {
			o->maps++;
			for (uint64_t i = m->first; i < m->first + m->nentries;
			     i++)
				o->counted += dl_maptable_refs(a->table, i) != 0;
		}
	}
	for (const struct dl_pin *p = c->srv->pins; p; p = p->next)
		o->pins += p->client == c || p->client->adopter == c;
	o->files = (uint32_t)c->fhs.nused;
}

static int reattach_end(struct dl_client *c, struct dl_reply *rp)
{
	struct dl_reattach_rep *o = rp->payload;
	struct dl_client *s = c->stand_in;

	memset(o, 0, sizeof(*o));
	count_adopted(c, o);
	if (s) {
		/* what it took over holds exactly what it needs now */
		for (const struct dl_pin *p = c->srv->pins; p; p = p->next)
			if (p->client == s)
				dl_quarantine_handover(c->srv, p->id, c);
		dl_pins_drop_client(s);
		dl_conn_queue_teardown(s);
		c->stand_in = NULL;
	}
	c->reattaching = false;
	dl_records_changed(c);
	log_info("%s re-attached: %u file(s), %u table(s) with %u mapping(s) "
		 "(%llu entries counted), %u socket pin(s)", dl_conn_who(c),
		 o->files, o->tables, o->maps, (unsigned long long)o->counted,
		 o->pins);
	rp->len = sizeof(*o);
	return 0;
}

int dl_handle_reattach(struct dl_client *c, const struct dl_request *rq,
		       struct dl_reply *rp)
{
	const struct dl_reattach_req *r = rq->payload;
	uint64_t counted = 0;

	if (r->kind == DL_REATTACH_BEGIN)
		return reattach_begin(c, r);
	if (!c->reattaching)
		return -EINVAL;	/* BEGIN first */
	switch (r->kind) {
	case DL_REATTACH_FILES:
		return reattach_files(c, rq);
	case DL_REATTACH_TABLE:
		return reattach_table(c, rq, &counted);
	case DL_REATTACH_PIN:
		return reattach_pin(c, rq);
	case DL_REATTACH_END:
		return reattach_end(c, rp);
	default:
		return -EINVAL;
	}
}
