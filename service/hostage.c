// SPDX-License-Identifier: BSD-3-Clause
/*
 * hostage.c - a reader never holds an owner's layout change hostage
 * (docs/protocol.md, "Readers' pins").
 *
 * A *reader* of a file is a client without write access to it: its handle
 * was opened read-only, it does not own the file and it is not root
 * (access.h).  Any local user who may read a file may pin it, so if its
 * pins held layout changes up for as long as it liked, a uid that can only
 * read root's file could keep root from ever truncating or unlinking it.
 * The kernel has the same question for leases and answers it with lease
 * break timeouts; so do we:
 *
 *   - a pin (socket pin or lockless counter) remembers whether it was
 *     taken by a reader: struct dl_pin.reader, struct dl_mapping.reader
 *     for the counters of a mapping's entries, decided when the pin or
 *     mapping is made (an orphan has no handles left to ask);
 *   - a layout change - always made by a client with write access: it
 *     needs a writable handle or ownership already - that finds readers'
 *     pins in its way waits for them only until the reader's *deadline*:
 *     the break deadline of the reader's lease that the change broke (so
 *     at once once that lease is revoked), or, for a reader that holds no
 *     lease of the range, the time the change began plus --lease-timeout;
 *   - at that deadline the change goes ahead with those pins' blocks in
 *     quarantine (quarantine.c, the --detach mechanism): the reader keeps
 *     its blocks, never reused while it pins them, and the owner keeps its
 *     file.
 *
 * Writers' pins keep the kernel-like behaviour: the change waits for them
 * (or fails with -EBUSY or -ETIMEDOUT, as its policy asks).  A change that
 * waits for both waits for the writers; the readers' pins go to quarantine
 * when it finally runs.  A restored stand-in's pin (records.c) says nothing
 * of its process's access, so it counts as a writer's.
 *
 * wait.c asks here at each run of a change (dl_layout_begin) and, for a
 * suspended one, whether it may run again (waiter_ready); the waiter keeps
 * the next reader deadline so that the timerfd runs it then.
 */
#include "log.h"
#include "server.h"

#define NS_PER_MS 1000000LL

struct scan {
	struct dl_server *srv;
	uint32_t ino;
	uint64_t offset, length;
	int64_t began_ns, now_ns;
	struct dl_hostage *h;
	/* the last reader's deadline: pins come in runs of one client */
	const struct dl_client *last;
	int64_t last_ns;
};

bool dl_hostage_is_reader(struct dl_client *c, const struct dl_fh *h)
{
	struct dl_stat st;

	/* a file we cannot stat: a writer's pin, which waits as before */
	if (dl_fs_stat(c->srv->fs, h->ino, &st))
		return false;
	return !dl_access_writer(&c->cred, h->access, st.uid);
}

bool dl_hostage_ino_reader(struct dl_client *c, uint32_t ino)
{
	struct dl_stat st;

	if (dl_fs_stat(c->srv->fs, ino, &st) ||
	    dl_access_writer(&c->cred, 0, st.uid))
		return false;
	for (size_t i = 0; i < c->fhs.n; i++) {
		const struct dl_fh *h = &c->fhs.v[i];

		if (h->used && h->ino == ino &&
		    h->generation == st.generation && h->access & DL_ACCESS_W)
			return false;
	}
	return true;
}

/*
 * When reader c's pins stop holding this change up: the latest deadline of
 * its leases of the range that a change broke (breaking, or revoked), or,
 * for a lease not broken yet, the change's start plus its timeout; with no
 * lease, the change's start plus the service's default.
 */
static int64_t reader_deadline(const struct scan *s, const struct dl_client *c)
{
	int64_t at = 0;

	for (const struct dl_lease *l = s->srv->leases; l; l = l->next) {
		int64_t t;

		if (l->client != c || l->ino != s->ino ||
		    !dl_range_overlaps(l->offset, l->length, s->offset,
				       s->length))
			continue;
		t = l->state == DL_LEASE_HELD ?
		    s->began_ns + l->timeout_ms * NS_PER_MS : l->deadline_ns;
		if (t > at)
			at = t;
	}
	if (!at)
		at = s->began_ns +
		     dl_leases_cap_timeout(s->srv, 0) * NS_PER_MS;
	return at;
}

static void count(struct scan *s, const struct dl_client *c, bool reader)
{
	struct dl_hostage *h = s->h;
	int64_t at;

	if (!reader) {
		h->writers++;
		return;
	}
	if (c != s->last) {
		s->last = c;
		s->last_ns = reader_deadline(s, c);
	}
	at = s->last_ns;
	if (at <= s->now_ns) {
		h->expired++;
		return;
	}
	h->readers++;
	if (!h->next_ns || at < h->next_ns)
		h->next_ns = at;
}

static void count_counter(struct dl_client *c, uint64_t idx, int64_t refs,
			  void *arg)
{
	const struct dl_mapping *m = dl_counters_mapping_of(c, idx);

	(void)refs;
	/* a count no mapping owns is made up: it holds like a writer's */
	count(arg, c, m && m->reader);
}

void dl_hostage_scan(struct dl_server *srv, uint32_t ino, uint64_t offset,
		     uint64_t length, int64_t began_ns, struct dl_hostage *h)
{
	struct scan s = {
		.srv = srv, .ino = ino, .offset = offset, .length = length,
		.began_ns = began_ns, .now_ns = dl_server_now_ns(), .h = h,
	};
	struct dl_rangeset blocks = { 0 };

	*h = (struct dl_hostage){ 0 };
	/* the same pins dl_pins_scan() finds, the same way */
	if (dl_file_blocks(srv, ino, offset, length, &blocks)) {
		h->writers = 1;	/* cannot tell whose: wait, as before */
		dl_rangeset_free(&blocks);
		return;
	}
	for (const struct dl_pin *p = srv->pins; p; p = p->next)
		if (dl_rangesets_meet(&p->blocks, &blocks))
			count(&s, p->client, p->reader);
	dl_counters_for_each(srv, ino, &blocks, count_counter, &s);
	dl_rangeset_free(&blocks);
}

bool dl_hostage_may_go(struct dl_server *srv, uint32_t ino, uint64_t offset,
		       uint64_t length, int64_t began_ns)
{
	struct dl_hostage h;

	dl_hostage_scan(srv, ino, offset, length, began_ns, &h);
	return !h.writers && !h.readers;
}

uint64_t dl_hostage_detach(struct dl_client *c, uint16_t opcode, uint32_t ino,
			   uint64_t offset, uint64_t length,
			   const struct dl_hostage *h, bool file_goes)
{
	log_warn("%s: opcode %u of inode %u goes ahead: %u pin(s) of "
		 "readers past their lease deadline keep their blocks in "
		 "quarantine", dl_conn_who(c), opcode, ino, h->expired);
	return dl_quarantine_begin(c->srv, ino, offset, length, file_goes);
}
