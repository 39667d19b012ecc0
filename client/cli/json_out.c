/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_out.c - how daxlease prints JSON.
 *
 * The rules every verb follows (daxlease(1) lists the fields):
 * - pretty printed, two-space indent, as `ndctl list` prints;
 * - a list is always an array, even of zero or one element, so scripts
 *   never special-case the count;
 * - -u changes how a value prints (sizes with units, offsets in hex),
 *   never which keys exist.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"

struct unit {
	uint64_t bytes;
	const char *name;
};

static const struct unit binary_units[] = {
	{ 1ULL << 50, "PiB" }, { 1ULL << 40, "TiB" }, { 1ULL << 30, "GiB" },
	{ 1ULL << 20, "MiB" }, { 1ULL << 10, "KiB" },
};

static const struct unit decimal_units[] = {
	{ 1000000000000000ULL, "PB" }, { 1000000000000ULL, "TB" },
	{ 1000000000ULL, "GB" }, { 1000000ULL, "MB" }, { 1000ULL, "kB" },
};

#define NUNITS (sizeof(binary_units) / sizeof(binary_units[0]))

/* The largest unit not above bytes, or NULL below the smallest unit. */
static const struct unit *pick_unit(const struct unit *units, uint64_t bytes)
{
	size_t i;

	for (i = 0; i < NUNITS; i++)
		if (bytes >= units[i].bytes)
			return &units[i];
	return NULL;
}

/*
 * "1.00 TiB (1.10 TB)": binary first because namespace sizes and aligns
 * are powers of two; the decimal figure is what disk vendors print.
 */
static struct json_object *human_size(uint64_t bytes)
{
	const struct unit *bin = pick_unit(binary_units, bytes);
	const struct unit *dec = pick_unit(decimal_units, bytes);
	char buf[64];

	if (!bin)
		snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
	else
		snprintf(buf, sizeof(buf), "%.2f %s (%.2f %s)",
			 (double)bytes / (double)bin->bytes, bin->name,
			 (double)bytes / (double)dec->bytes, dec->name);
	return json_object_new_string(buf);
}

struct json_object *cli_json_size(uint64_t bytes, unsigned flags)
{
	if (flags & CLI_JSON_HUMAN)
		return human_size(bytes);
	return json_object_new_uint64(bytes);
}

struct json_object *cli_json_offset(uint64_t offset, unsigned flags)
{
	char buf[32];

	if (!(flags & CLI_JSON_HUMAN))
		return json_object_new_uint64(offset);
	snprintf(buf, sizeof(buf), "0x%" PRIx64, offset);
	return json_object_new_string(buf);
}

struct json_object *cli_json_count(uint64_t n)
{
	return json_object_new_uint64(n);
}

struct json_object *cli_json_string(const char *s)
{
	return json_object_new_string(s ? s : "");
}

int cli_json_add(struct json_object *obj, const char *key,
		 struct json_object *val)
{
	int rc;

	if (!val)
		return -ENOMEM;
	if (key)
		rc = json_object_object_add(obj, key, val);
	else
		rc = json_object_array_add(obj, val);
	if (rc) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Scalars and keys: json-c's own quoting, without escaping '/' in paths. */
static void print_plain(FILE *f, struct json_object *v)
{
	fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE), f);
}

static void print_key(FILE *f, const char *key)
{
	struct json_object *jkey = json_object_new_string(key);

	if (jkey)
		print_plain(f, jkey);
	json_object_put(jkey);
}

static void print_value(FILE *f, struct json_object *v, int depth);

static void print_object(FILE *f, struct json_object *obj, int depth)
{
	int n = json_object_object_length(obj), i = 0;

	if (!n) {
		fputs("{}", f);
		return;
	}
	fputs("{\n", f);
	json_object_object_foreach(obj, key, val) {
		fprintf(f, "%*s", 2 * (depth + 1), "");
		print_key(f, key);
		fputc(':', f);
		print_value(f, val, depth + 1);
		fputs(++i < n ? ",\n" : "\n", f);
	}
	fprintf(f, "%*s}", 2 * depth, "");
}

static void print_array(FILE *f, struct json_object *arr, int depth)
{
	size_t i, n = json_object_array_length(arr);

	if (!n) {
		fputs("[]", f);
		return;
	}
	fputs("[\n", f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%*s", 2 * (depth + 1), "");
		print_value(f, json_object_array_get_idx(arr, i), depth + 1);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fprintf(f, "%*s]", 2 * depth, "");
}

static void print_value(FILE *f, struct json_object *v, int depth)
{
	switch (json_object_get_type(v)) {
	case json_type_object:
		print_object(f, v, depth);
		break;
	case json_type_array:
		print_array(f, v, depth);
		break;
	default:
		print_plain(f, v);
		break;
	}
}

/*
 * Our own pretty printer rather than JSON_C_TO_STRING_PRETTY, whose empty
 * array is "[\n]": a machine with nothing to list must print exactly [].
 * Otherwise the layout is json-c's (and so ndctl's): two-space indent,
 * "key":value.
 */
int cli_json_print(struct json_object *obj)
{
	print_value(stdout, obj, 0);
	fputc('\n', stdout);
	return ferror(stdout) ? -EIO : 0;
}
