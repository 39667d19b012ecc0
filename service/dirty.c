// SPDX-License-Identifier: BSD-3-Clause
/*
 * dirty.c - the service's dirty records (dirty.h) and writing them back.
 *
 * What a record means: a client may have stored into this file range
 * behind our back - a write pin's "DMA", stores through a writable
 * mapping - and nothing has made those stores durable yet.  Recorded
 * when a write pin goes (pin.c), and for a writable mapping both at MAP
 * (the admin sees the range while it is mapped) and when the mapping
 * goes (handle_map.c, mapping.c): a store may come after any writeback,
 * so the end of the last writer is what makes a range dirty for good.
 *
 * Writing a record back makes the blocks that back the range durable
 * (dl_ns_persist: an msync of the image on a fake NVDIMM, cache-line
 * flushes on real pmem) and removes the record.  That happens
 *   - at FSYNC of the file, for all of its records, before the reply;
 *   - in the background, for records first dirtied --dirty-expire ago,
 *     oldest first, a bounded batch per timer tick, so a client that is
 *     gone (dead, disconnected, or just done) leaves nothing behind for
 *     long - the kernel's periodic writeback;
 *   - at once for the oldest record when a file with no record yet needs
 *     one and the set is at --dirty-max;
 *   - for every record at a clean stop, after the clients are gone.
 * A writer still at work is not a reason to keep a record: its own end
 * records the range again.  A range never loses its record without being
 * written back, and if no record can be allocated the range is written
 * back at once instead.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

/* One background tick writes back at most this much, then lets the loop
 * serve others for DIRTY_PAUSE_NS before it goes on. */
#define DIRTY_TICK_RECORDS 64
#define DIRTY_TICK_BYTES (2ULL << 20)
#define DIRTY_PAUSE_NS 10000000LL
/* "at the limit" warnings: at most one a minute, with a count */
#define DIRTY_LIMIT_LOG_NS (60LL * 1000000000)
#define EXTENTS_PER_LOOKUP 16

static void on_timer(struct dl_source *src, uint32_t events);

int dl_dirty_init(struct dl_server *srv)
{
	struct dl_dirty_records *r = &srv->dirty;
	int fd;

	dl_dirty_set_init(&r->set, srv->opt.dirty_max);
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r->timer = (struct dl_source){ .fd = fd, .fn = on_timer, .data = srv };
	return dl_loop_add(srv->loop, &r->timer, EPOLLIN);
}

static void arm_at(struct dl_dirty_records *r, int64_t at_ns)
{
	struct itimerspec its = { 0 };

	if (r->timer.fd < 0 || !r->timer.fn)
		return;
	if (at_ns < 1)
		at_ns = 1;	/* 0 would disarm it */
	its.it_value.tv_sec = at_ns / 1000000000;
	its.it_value.tv_nsec = at_ns % 1000000000;
	if (!timerfd_settime(r->timer.fd, TFD_TIMER_ABSTIME, &its, NULL))
		r->timer_at = at_ns;
}

/* Armed for the oldest record's expiry, unless armed earlier already. */
static void arm_for_oldest(struct dl_server *srv)
{
	struct dl_dirty_records *r = &srv->dirty;
	const struct dl_dirty *d = dl_dirty_set_oldest(&r->set);
	int64_t at;

	if (!d)
		return;	/* a tick with nothing to do disarms it */
	at = d->since_ns + (int64_t)srv->opt.dirty_expire_ms * 1000000;
	if (!r->timer_at || at < r->timer_at)
		arm_at(r, at);
}

/*
 * Make the blocks backing [*pos, end) of ino durable, at most *budget
 * bytes of them (holes and unwritten extents hold no stores and cost
 * nothing).  *pos ends where it stopped: end when all is done.
 */
static void persist_range(struct dl_server *srv, uint32_t ino, uint64_t *pos,
			  uint64_t end, uint64_t *budget)
{
	uint8_t *base = dl_ns_base(srv->ns);

	while (*pos < end) {
		struct dl_extent e[EXTENTS_PER_LOOKUP];
		size_t n = 0;

		if (dl_fs_extents(srv->fs, ino, *pos, end - *pos, e,
				  EXTENTS_PER_LOOKUP, &n) || !n) {
			*pos = end;	/* no file, or nothing allocated */
			return;
		}
		for (size_t i = 0; i < n && i < EXTENTS_PER_LOOKUP; i++) {
			uint64_t s = e[i].file_offset > *pos ?
				     e[i].file_offset : *pos;
			uint64_t t = e[i].file_offset + e[i].length < end ?
				     e[i].file_offset + e[i].length : end;

			if (s < t && !e[i].unwritten) {
				uint64_t len = t - s < *budget ? t - s : *budget;

				if (len)
					dl_ns_persist(srv->ns, base +
						      e[i].ns_offset +
						      (s - e[i].file_offset),
						      len);
				*budget -= len;
				if (s + len < t) {
					*pos = s + len;	/* out of budget */
					return;
				}
			}
			if (t > *pos)
				*pos = t;
		}
		if (n <= EXTENTS_PER_LOOKUP)
			*pos = end;	/* that was every extent of the range */
	}
}

/* Write d back, at most *budget bytes: true when it is all done (and
 * removed), false when what is left of it stays for later. */
static bool write_back(struct dl_server *srv, struct dl_dirty *d,
		       uint64_t *budget)
{
	uint64_t pos = d->offset, end = d->offset + d->length;

	persist_range(srv, d->ino, &pos, end, budget);
	if (pos < end) {
		dl_dirty_set_trim(d, pos);
		return false;
	}
	dl_dirty_set_remove(&srv->dirty.set, d);
	return true;
}

static void write_back_oldest(struct dl_server *srv)
{
	struct dl_dirty *d = dl_dirty_set_oldest(&srv->dirty.set);
	uint64_t budget = UINT64_MAX;

	if (d)
		write_back(srv, d, &budget);
}

/* At the limit: say so, at most once a minute, with how many ranges
 * were merged with a neighbour or made room for since. */
static void note_limit(struct dl_server *srv)
{
	struct dl_dirty_records *r = &srv->dirty;
	int64_t now = dl_server_now_ns();

	if (!r->set.merged_at_limit ||
	    (r->limit_logged_ns && now - r->limit_logged_ns <
				   DIRTY_LIMIT_LOG_NS))
		return;
	log_warn("dirty records at the limit (--dirty-max %llu): %llu "
		 "range(s) merged with their neighbours or written back early",
		 (unsigned long long)r->set.max,
		 (unsigned long long)r->set.merged_at_limit);
	r->set.merged_at_limit = 0;
	r->limit_logged_ns = now;
}

void dl_dirty_add(struct dl_server *srv, uint32_t ino, uint64_t offset,
		  uint64_t length)
{
	struct dl_dirty_set *s = &srv->dirty.set;
	int64_t now = dl_server_now_ns();
	int rc = dl_dirty_set_add(s, ino, offset, length, now);

	if (rc == -ENOSPC) {
		/* a file's first record at the limit: the oldest goes first */
		write_back_oldest(srv);
		s->merged_at_limit++;
		rc = dl_dirty_set_add(s, ino, offset, length, now);
	}
	if (rc) {
		uint64_t budget = UINT64_MAX, pos = offset;

		/* no memory for a record: write the range back now */
		log_warn("out of memory: dirty range of inode %u written back "
			 "at once", ino);
		persist_range(srv, ino, &pos, offset + length, &budget);
	}
	note_limit(srv);
	arm_for_oldest(srv);
}

void dl_dirty_map_gone(struct dl_server *srv, const struct dl_mapping *m)
{
	if (m->write)
		dl_dirty_add(srv, m->ino, m->offset, m->length);
}

void dl_dirty_write_back_file(struct dl_server *srv, uint32_t ino)
{
	struct dl_dirty *d;
	uint64_t budget = UINT64_MAX;

	while ((d = dl_dirty_set_first_of(&srv->dirty.set, ino)))
		write_back(srv, d, &budget);
}

void dl_dirty_write_back_all(struct dl_server *srv)
{
	while (dl_dirty_set_oldest(&srv->dirty.set))
		write_back_oldest(srv);
}

/* A batch of the expired records, oldest first; is more expired left? */
static bool write_back_expired(struct dl_server *srv)
{
	int64_t expire_ns = (int64_t)srv->opt.dirty_expire_ms * 1000000;
	int64_t now = dl_server_now_ns();
	uint64_t budget = DIRTY_TICK_BYTES;
	struct dl_dirty *d;

	for (int n = 0; n < DIRTY_TICK_RECORDS; n++) {
		d = dl_dirty_set_oldest(&srv->dirty.set);
		if (!d || d->since_ns + expire_ns > now)
			return false;
		if (!write_back(srv, d, &budget))
			return true;
	}
	d = dl_dirty_set_oldest(&srv->dirty.set);
	return d && d->since_ns + expire_ns <= now;
}

static void on_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	struct dl_dirty_records *r = &srv->dirty;
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	r->timer_at = 0;
	if (write_back_expired(srv))
		arm_at(r, dl_server_now_ns() + DIRTY_PAUSE_NS);
	else
		arm_for_oldest(srv);
}

void dl_dirty_forget(struct dl_server *srv, uint32_t ino)
{
	dl_dirty_set_forget(&srv->dirty.set, ino);
}

void dl_dirty_free_all(struct dl_server *srv)
{
	struct dl_dirty_records *r = &srv->dirty;

	dl_dirty_set_clear(&r->set);
	if (r->timer.fn && r->timer.fd >= 0) {
		dl_loop_del(srv->loop, &r->timer);
		close(r->timer.fd);
	}
	r->timer.fd = -1;
	r->timer_at = 0;
}
