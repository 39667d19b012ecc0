/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_stream.h - JSON written as it is produced, for reports too large
 * to build in memory (a million pins is 300 MB of JSON): constant memory,
 * the same layout as cli_json_print (json_out.c: two-space indent,
 * "key":value, an empty array or object as [] or {}), the same string
 * rules (UTF-8 repaired, json-c's escapes, '/' not escaped).
 *
 * Keys are NULL inside arrays.  Calls nest as the document does; errors
 * are sticky and reported by js_finish.
 */
#ifndef DAXLEASE_CLI_JSON_STREAM_H
#define DAXLEASE_CLI_JSON_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

#define JS_MAX_DEPTH 16
#define JS_BUF_SIZE (256u * 1024)

struct json_stream {
	FILE *f;
	/* our own buffer: stdio's locks and calls per field cost more
	 * than the formatting */
	char buf[JS_BUF_SIZE];
	size_t len;
	int depth;
	bool has_items[JS_MAX_DEPTH];	/* the open container has an item */
	bool overflow;
};

void js_init(struct json_stream *js, FILE *f);
void js_begin_array(struct json_stream *js, const char *key);
void js_end_array(struct json_stream *js);
void js_begin_object(struct json_stream *js, const char *key);
void js_end_object(struct json_stream *js);
void js_u64(struct json_stream *js, const char *key, uint64_t v);
void js_i64(struct json_stream *js, const char *key, int64_t v);
void js_bool(struct json_stream *js, const char *key, bool v);
void js_null(struct json_stream *js, const char *key);
void js_string(struct json_stream *js, const char *key, const char *s);
/* A scalar json-c built (cli_json_size with -u, say); takes the reference;
 * NULL is an error. */
void js_value(struct json_stream *js, const char *key, struct json_object *v);
/* The final newline, and everything written out; 0, or -EIO (a write
 * failed) or -ENOMEM. */
int js_finish(struct json_stream *js);

#endif
