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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence that starts s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;		/* no overlong forms, no surrogates */
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;		/* nothing above U+10FFFF */
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* s with every byte outside a valid sequence as U+FFFD (malloc'ed). */
static char *utf8_repaired(const char *s)
{
	static const char replacement[] = "\xef\xbf\xbd";
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_seq(p);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, replacement, 3);
			o += 3;
			p++;
		}
	}
	*o = 0;
	return out;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p; p += n)
		if (!(n = utf8_seq(p)))
			return false;
	return true;
}

struct json_object *cli_json_string(const char *s)
{
	struct json_object *o;
	char *fixed;

	if (!s || utf8_valid(s))
		return json_object_new_string(s ? s : "");
	fixed = utf8_repaired(s);
	o = fixed ? json_object_new_string(fixed) : NULL;
	free(fixed);
	return o;
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

void cli_json_fputs(FILE *f, const char *s)
{
	struct json_object *js = cli_json_string(s);

	if (js)
		print_plain(f, js);
	json_object_put(js);
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
