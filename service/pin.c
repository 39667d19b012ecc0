// SPDX-License-Identifier: BSD-3-Clause
/*
 * pin.c - pins: file ranges clients hold for "DMA", counted per client
 * and per range.  A write pin leaves its range dirty (dirty.c).
 *
 * A pin is dropped by UNPIN, by the client's disconnect and by its
 * process's death (conn.c drops the client on the pidfd).  Every drop
 * sets srv->kick, so a layout change waiting for the range is run again
 * from the loop's after-batch hook - no polling.
 *
 * A pin holds blocks (rangeset.h): a layout change is held up by a pin
 * when the blocks it may free or move - its file range's extents - meet
 * the pin's, wherever in the file a collapse or an insert has put them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

bool dl_range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	uint64_t aend = alen > UINT64_MAX - a ? UINT64_MAX : a + alen;
	uint64_t bend = blen > UINT64_MAX - b ? UINT64_MAX : b + blen;

	return a < bend && b < aend;
}

#define pin_of(n) \
	((struct dl_pin *)((char *)(n) - offsetof(struct dl_pin, by_id)))

static int cmp_pin_id(const struct dl_tree_node *n, const void *key)
{
	uint64_t id = pin_of(n)->id, k = *(const uint64_t *)key;

	return id < k ? -1 : id > k;
}

const struct dl_pin *dl_pin_after(const struct dl_server *srv, uint64_t id)
{
	struct dl_tree_node *n = dl_tree_above(srv->pins_by_id, &id,
					       cmp_pin_id);

	return n ? pin_of(n) : NULL;
}

struct dl_pin *dl_pin_add(struct dl_client *c, uint32_t ino, uint32_t gen,
			  uint64_t offset, uint64_t length, bool write,
			  struct dl_rangeset *blocks)
{
	struct dl_server *srv = c->srv;
	struct dl_pin *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->client = c;
	p->id = ++srv->next_pin_id;
	p->ino = ino;
	p->generation = gen;
	p->offset = offset;
	p->length = length;
	p->write = write;
	p->first_ns = blocks->n ? blocks->v[0].off : UINT64_MAX;
	p->blocks = *blocks;
	*blocks = (struct dl_rangeset){ 0 };
	dl_rangeset_normalize(&p->blocks);
	p->since_ns = dl_server_now_ns();
	p->next = srv->pins;
	srv->pins = p;
	dl_tree_insert(&srv->pins_by_id, &p->by_id, &p->id, cmp_pin_id);
	srv->npins++;
	c->npins++;
	return p;
}

void dl_pin_renumber(struct dl_server *srv, struct dl_pin *p, uint64_t id)
{
	/* its place in the tree goes with its id */
	dl_tree_remove(&srv->pins_by_id, &p->id, cmp_pin_id);
	p->id = id;
	dl_tree_insert(&srv->pins_by_id, &p->by_id, &p->id, cmp_pin_id);
}

static void pin_free(struct dl_server *srv, struct dl_pin **link)
{
	struct dl_pin *p = *link;

	*link = p->next;
	/* a write pin's range may have been written by "DMA" (unless its
	 * file is gone, or it never had one: a restored hold) */
	if (p->write && p->ino)
		dl_dirty_add(srv, p->ino, p->offset, p->length);
	dl_quarantine_unpin(srv, p->id);
	dl_tree_remove(&srv->pins_by_id, &p->id, cmp_pin_id);
	srv->npins--;
	p->client->npins--;
	srv->kick = true;	/* a waiting layout change may go now */
	dl_rangeset_free(&p->blocks);
	free(p);
}

int dl_pin_drop(struct dl_client *c, uint64_t pin_id)
{
	for (struct dl_pin **l = &c->srv->pins; *l; l = &(*l)->next) {
		struct dl_client *owner = (*l)->client;

		/* its own, or a lost connection's it re-attached */
		if ((*l)->id == pin_id &&
		    (owner == c || owner->adopter == c)) {
			pin_free(c->srv, l);
			dl_records_changed(owner);
			return 0;
		}
	}
	return -EINVAL;
}

void dl_pins_drop_client(struct dl_client *c)
{
	struct dl_pin **l = &c->srv->pins;

	while (*l) {
		if ((*l)->client == c)
			pin_free(c->srv, l);
		else
			l = &(*l)->next;
	}
}

void dl_blocker_of_client(const struct dl_client *c,
			  struct dl_wire_blocker *w)
{
	memset(w, 0, sizeof(*w));
	w->pid = (uint32_t)c->cred.pid;
	w->uid = c->cred.uid;
	memcpy(w->comm, c->comm, strnlen(c->comm, sizeof(w->comm) - 1));
	if (c->orphan && !c->adopter)	/* a re-attached one is held again */
		w->flags = DL_BLOCKER_ORPHAN;
	if (c->restored)
		w->flags |= DL_BLOCKER_RESTORED;
}

uint32_t dl_orphan_ms(const struct dl_client *c, int64_t now)
{
	int64_t ms = (now - c->orphan_since_ns) / 1000000;

	if (!c->orphan || ms < 0)
		return 0;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void dl_pin_to_wire(const struct dl_pin *p, struct dl_wire_blocker *w)
{
	dl_blocker_of_client(p->client, w);
	w->pin_id = p->id;
	w->offset = p->offset;
	w->length = p->length;
	w->write = p->write;
}

int dl_file_blocks(struct dl_server *srv, uint32_t ino, uint64_t offset,
		   uint64_t length, struct dl_rangeset *out)
{
	uint64_t end = length > UINT64_MAX - offset ? UINT64_MAX
						     : offset + length;
	struct dl_extent e[64];
	uint64_t pos = offset;
	size_t n;

	while (pos < end) {
		int rc = dl_fs_extents(srv->fs, ino, pos, end - pos, e, 64, &n);

		if (rc == -ENOENT || rc == -ESTALE)
			break;		/* no file: no blocks */
		if (rc)
			return rc;
		for (size_t i = 0; i < n && i < 64; i++) {
			uint64_t e_end = e[i].file_offset + e[i].length;
			uint64_t s = e[i].file_offset > pos ? e[i].file_offset
							     : pos;
			uint64_t t = e_end < end ? e_end : end;

			if (s < t && dl_rangeset_add(out, e[i].ns_offset +
						     (s - e[i].file_offset),
						     t - s))
				return -ENOMEM;
			if (t > pos)
				pos = t;
		}
		if (n <= 64)
			break;
	}
	dl_rangeset_normalize(out);
	return 0;
}

uint32_t dl_pins_scan(struct dl_server *srv, uint32_t ino, uint64_t offset,
		      uint64_t length, struct dl_wire_blocker *out,
		      uint32_t max)
{
	struct dl_rangeset blocks = { 0 };
	uint32_t n = 0;

	if (dl_file_blocks(srv, ino, offset, length, &blocks)) {
		dl_rangeset_free(&blocks);
		return 1;	/* cannot tell what is pinned: all of it */
	}
	for (struct dl_pin *p = srv->pins; p; p = p->next) {
		if (!dl_rangesets_meet(&p->blocks, &blocks))
			continue;
		if (n < max)
			dl_pin_to_wire(p, &out[n]);
		n++;
	}
	/* and the lockless ones, after the socket pins in the reply */
	n += dl_counters_scan(srv, ino, &blocks,
			      out ? out + (n < max ? n : max) : NULL,
			      n < max ? max - n : 0);
	dl_rangeset_free(&blocks);
	return n;
}
