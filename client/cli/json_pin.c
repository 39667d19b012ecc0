/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_pin.c - JSON objects for pins (pin, a refused --nonblock layout
 * change) and waiting requests (blocked); busy streams its own
 * (cmd_busy.c).  Field names are listed in daxlease(1) and do not
 * change; -u changes values only.
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <stdio.h>

#include <json-c/json.h>

#include <daxlease/libdaxlease.h>
#include <daxlease/proto.h>

#include <time.h>

#include "cli.h"

/* Nanoseconds, or with -u seconds with a unit. */
static struct json_object *json_age(uint64_t ns, unsigned flags)
{
	char buf[32];

	if (!(flags & CLI_JSON_HUMAN))
		return json_object_new_uint64(ns);
	snprintf(buf, sizeof(buf), "%.3f s", (double)ns / 1e9);
	return json_object_new_string(buf);
}

static const char *op_name(unsigned opcode)
{
	switch (opcode) {
	case DL_OP_TRUNCATE:
		return "truncate";
	case DL_OP_FALLOCATE:
		return "fallocate";
	case DL_OP_UNLINK:
		return "unlink";
	case DL_OP_RENAME:
		return "rename";
	case DL_OP_OPEN:
		return "open";
	case DL_OP_WRITE:
		return "write";
	case DL_OP_MAP:
		return "map";
	case DL_OP_PIN:
		return "pin";
	case DL_OP_LEASE_ACQUIRE:
		return "lease";
	default:
		return "other";
	}
}

/* A length that may mean "to the end of the file". */
static struct json_object *json_length(uint64_t len, unsigned flags)
{
	if (len == UINT64_MAX)
		return json_object_new_string("eof");
	return cli_json_size(len, flags);
}

/*
 * Who: the pid and uid the kernel gave the service (SO_PEERCRED), and
 * the process name, which the process chose itself (prctl(PR_SET_NAME)
 * sets /proc/PID/comm to anything): "comm_claimed": true says so.
 */
static int add_process(struct json_object *o, uint32_t pid, uint32_t uid,
		       const char *comm)
{
	return cli_json_add(o, "pid", cli_json_count(pid)) ||
	       cli_json_add(o, "uid", cli_json_count(uid)) ||
	       cli_json_add(o, "comm", cli_json_string(comm)) ||
	       cli_json_add(o, "comm_claimed", json_object_new_boolean(1));
}

/* A lease in a NONBLOCK change's way: its id and type, not a pin's. */
static int add_lease_blocker(struct json_object *o,
			     const struct daxlease_blocker *b, unsigned flags)
{
	return cli_json_add(o, "lease_id", cli_json_count(b->pin_id)) ||
	       add_process(o, (uint32_t)b->pid, b->uid, b->comm) ||
	       cli_json_add(o, "offset", cli_json_offset(b->offset, flags)) ||
	       cli_json_add(o, "length", json_length(b->length, flags)) ||
	       cli_json_add(o, "type", cli_json_string(b->write ? "exclusive" :
							"shared"));
}

static int add_blocker(struct json_object *o, const struct daxlease_blocker *b,
		       unsigned flags)
{
	if (b->lease)
		return add_lease_blocker(o, b, flags);
	return cli_json_add(o, "pin_id", cli_json_count(b->pin_id)) ||
	       add_process(o, (uint32_t)b->pid, b->uid, b->comm) ||
	       cli_json_add(o, "offset", cli_json_offset(b->offset, flags)) ||
	       cli_json_add(o, "length", cli_json_size(b->length, flags)) ||
	       cli_json_add(o, "access", cli_json_string(b->write ? "write" :
							  "read")) ||
	       /* counter pins: pin_id is the table entry, the range its
		* leaf; corrupt: a negative or huge count */
	       cli_json_add(o, "lockless", json_object_new_boolean(b->lockless)) ||
	       cli_json_add(o, "corrupt", json_object_new_boolean(b->corrupt)) ||
	       /* its connection is gone, its process lives */
	       cli_json_add(o, "orphaned", json_object_new_boolean(b->orphaned)) ||
	       /* a restarted daemon holds it from its pin records */
	       cli_json_add(o, "restored", json_object_new_boolean(b->restored));
}

struct json_object *cli_json_blocker(const struct daxlease_blocker *b,
				     unsigned flags)
{
	struct json_object *o = json_object_new_object();

	if (o && add_blocker(o, b, flags)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static struct json_object *pin_ids(const struct daxlease_blocked *b)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < b->npins && i < 8; i++)
		if (cli_json_add(a, NULL, cli_json_count(b->pin_ids[i]))) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

struct json_object *cli_json_blocked(const struct daxlease_blocked *b,
				     unsigned flags)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (cli_json_add(o, "id", cli_json_count(b->wait_id)) ||
	    cli_json_add(o, "op", cli_json_string(op_name(b->opcode))) ||
	    cli_json_add(o, "ino", cli_json_count(b->ino)) ||
	    cli_json_add(o, "offset", cli_json_offset(b->offset, flags)) ||
	    cli_json_add(o, "length", json_length(b->length, flags)) ||
	    add_process(o, (uint32_t)b->pid, b->uid, b->comm) ||
	    cli_json_add(o, "waits_for", cli_json_string(b->on_leases ?
							 "leases" : b->on_pins ?
							 "pins" : "queue")) ||
	    cli_json_add(o, "pins", pin_ids(b)) ||
	    cli_json_add(o, "npins", cli_json_count(b->npins)) ||
	    cli_json_add(o, "age", json_age(b->age_ns, flags)) ||
	    cli_json_add(o, "deadline_left", json_age(b->deadline_ns, flags)))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

struct json_object *cli_json_quarantine(const struct daxlease_quarantine *q,
					unsigned flags)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ids = json_object_new_array();

	for (unsigned i = 0; ids && i < q->npins && i < 8; i++)
		if (cli_json_add(ids, NULL, cli_json_count(q->pin_ids[i]))) {
			json_object_put(ids);
			ids = NULL;
		}
	if (!o || cli_json_add(o, "ns_offset", cli_json_offset(q->ns_offset,
								 flags)) ||
	    cli_json_add(o, "length", cli_json_size(q->length, flags)) ||
	    cli_json_add(o, "tag", cli_json_count(q->tag)) ||
	    cli_json_add(o, "pins", ids) ||
	    cli_json_add(o, "pid", cli_json_count((uint64_t)q->pid))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
#endif

static const char *const lease_types[] = { "?", "shared", "exclusive" };
static const char *const lease_states[] = { "held", "breaking", "revoked" };

/* Nanoseconds left until a CLOCK_MONOTONIC deadline (0: none). */
static uint64_t left_ns(int64_t deadline_ns)
{
	struct timespec ts;
	int64_t now;

	if (!deadline_ns)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return deadline_ns > now ? (uint64_t)(deadline_ns - now) : 0;
}

struct json_object *cli_json_lease(const struct daxlease_lease *l,
				   unsigned flags)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (cli_json_add(o, "lease_id", cli_json_count(l->lease_id)) ||
	    cli_json_add(o, "file", cli_json_string(l->name)) ||
	    cli_json_add(o, "ino", cli_json_count(l->ino)) ||
	    cli_json_add(o, "offset", cli_json_offset(l->offset, flags)) ||
	    cli_json_add(o, "length", json_length(l->length, flags)) ||
	    cli_json_add(o, "type", cli_json_string(l->type < 3 ?
						    lease_types[l->type] :
						    "?")) ||
	    cli_json_add(o, "state", cli_json_string(l->state < 3 ?
						     lease_states[l->state] :
						     "?")) ||
	    add_process(o, (uint32_t)l->pid, l->uid, l->comm) ||
	    cli_json_add(o, "break_timeout_ms", cli_json_count(l->timeout_ms)) ||
	    cli_json_add(o, "deadline_ns", json_object_new_int64(l->deadline_ns)) ||
	    cli_json_add(o, "deadline_left", json_age(left_ns(l->deadline_ns),
						      flags)) ||
	    cli_json_add(o, "age", json_age(l->age_ns, flags))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
