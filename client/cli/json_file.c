/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_file.c - JSON objects for what daxleased reports: a file (ls,
 * stat, ...) and the service itself (status).  Field names are listed in
 * daxlease(1) and do not change; -u changes values only.
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include <daxlease/libdaxlease.h>
#include <daxlease/proto.h>

#include "cli.h"

/* Nanoseconds since the epoch, or with -u an ISO 8601 UTC time. */
static struct json_object *json_time(int64_t ns, unsigned flags)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[64];

	if (!(flags & CLI_JSON_HUMAN) || ns < 0 || !gmtime_r(&sec, &tm))
		return json_object_new_int64(ns);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)(ns % 1000000000));
	return json_object_new_string(buf);
}

/* Nanoseconds, or with -u seconds with a unit. */
static struct json_object *json_duration(uint64_t ns, unsigned flags)
{
	char buf[32];

	if (!(flags & CLI_JSON_HUMAN))
		return json_object_new_uint64(ns);
	snprintf(buf, sizeof(buf), "%.3f s", (double)ns / 1e9);
	return json_object_new_string(buf);
}

/* Permission bits as the octal string chmod takes: "0644". */
static struct json_object *json_mode(uint32_t mode)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04o", mode & 07777);
	return json_object_new_string(buf);
}

struct json_object *cli_json_file(const struct daxlease_stat *st,
				  unsigned flags)
{
	struct json_object *jf = json_object_new_object();

	if (!jf)
		return NULL;
	if (cli_json_add(jf, "name", cli_json_string(st->name)) ||
	    cli_json_add(jf, "ino", cli_json_count(st->ino)) ||
	    cli_json_add(jf, "generation", cli_json_count(st->generation)) ||
	    cli_json_add(jf, "size", cli_json_size(st->size, flags)) ||
	    cli_json_add(jf, "blocks", cli_json_count(st->blocks)) ||
	    cli_json_add(jf, "extents", cli_json_count(st->extents)) ||
	    cli_json_add(jf, "mode", json_mode(st->mode)) ||
	    cli_json_add(jf, "uid", cli_json_count(st->uid)) ||
	    cli_json_add(jf, "gid", cli_json_count(st->gid)) ||
	    cli_json_add(jf, "layout_seq", cli_json_count(st->layout_seq)) ||
	    cli_json_add(jf, "atime", json_time(st->atime_ns, flags)) ||
	    cli_json_add(jf, "mtime", json_time(st->mtime_ns, flags)) ||
	    cli_json_add(jf, "ctime", json_time(st->ctime_ns, flags)) ||
	    cli_json_add(jf, "btime", json_time(st->btime_ns, flags)))
		goto err;
	return jf;
err:
	json_object_put(jf);
	return NULL;
}

/* "ok", or "read-only": the service refuses changes since its image was
 * changed behind its back (DL_SRV_READ_ONLY of HELLO). */
static struct json_object *status_health(uint32_t server_flags)
{
	struct json_object *jh = json_object_new_object();

	if (!jh)
		return NULL;
	if (cli_json_add(jh, "state",
			 cli_json_string(server_flags & DL_SRV_READ_ONLY ?
					 "read-only" : "ok"))) {
		json_object_put(jh);
		return NULL;
	}
	return jh;
}

static struct json_object *status_ns(const struct daxlease_status *st,
				     uint32_t server_flags, unsigned flags)
{
	struct json_object *jns = json_object_new_object();

	if (!jns)
		return NULL;
	if (cli_json_add(jns, "name", cli_json_string(st->ns_name)) ||
	    cli_json_add(jns, "path", cli_json_string(st->ns_path)) ||
	    cli_json_add(jns, "size", cli_json_size(st->ns_size, flags)) ||
	    cli_json_add(jns, "align", cli_json_size(st->ns_align, flags)) ||
	    cli_json_add(jns, "blocks_total", cli_json_count(st->blocks_total)) ||
	    cli_json_add(jns, "blocks_free", cli_json_count(st->blocks_free)) ||
	    cli_json_add(jns, "files", cli_json_count(st->files)) ||
	    cli_json_add(jns, "inodes_free", cli_json_count(st->inodes_free)) ||
	    cli_json_add(jns, "transactions", cli_json_count(st->transactions)) ||
	    cli_json_add(jns, "unsafe_shutdowns",
			 cli_json_count(st->unsafe_shutdowns)) ||
	    cli_json_add(jns, "health", status_health(server_flags)))
		goto err;
	return jns;
err:
	json_object_put(jns);
	return NULL;
}

struct json_object *cli_json_status(const struct daxlease_status *st,
				    uint32_t server_flags, unsigned flags)
{
	struct json_object *js = json_object_new_object();

	if (!js)
		return NULL;
	if (cli_json_add(js, "version", cli_json_string(st->server_version)) ||
	    cli_json_add(js, "pid", cli_json_count(st->pid)) ||
	    cli_json_add(js, "uptime_ns", json_duration(st->uptime_ns, flags)) ||
	    cli_json_add(js, "clients", cli_json_count(st->clients)) ||
	    cli_json_add(js, "orphans", cli_json_count(st->orphans)) ||
	    cli_json_add(js, "namespace", status_ns(st, server_flags, flags)))
		goto err;
	return js;
err:
	json_object_put(js);
	return NULL;
}
#endif
