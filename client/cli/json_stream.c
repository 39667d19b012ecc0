/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_stream.c - JSON written as it is produced (json_stream.h).
 *
 * Numbers are formatted here and plain strings copied as they are, into
 * a buffer of our own, since a report writes millions of them; anything
 * else (a string that needs escaping or UTF-8 repair, a value json-c
 * built) goes through json_out.c, so the output is byte for byte what
 * cli_json_print would print.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "json_stream.h"

void js_init(struct json_stream *js, FILE *f)
{
	js->f = f;
	js->len = 0;
	js->depth = -1;		/* no container open yet */
	js->overflow = false;
}

static void flush(struct json_stream *js)
{
	if (js->len)
		fwrite(js->buf, 1, js->len, js->f);
	js->len = 0;
}

static void put(struct json_stream *js, const char *s, size_t n)
{
	if (js->len + n > sizeof(js->buf)) {
		flush(js);
		if (n > sizeof(js->buf)) {
			fwrite(s, 1, n, js->f);
			return;
		}
	}
	memcpy(js->buf + js->len, s, n);
	js->len += n;
}

static void put_str(struct json_stream *js, const char *s)
{
	put(js, s, strlen(s));
}

static void put_char(struct json_stream *js, char c)
{
	put(js, &c, 1);
}

static void indent(struct json_stream *js, int depth)
{
	static const char spaces[] = "                                ";

	for (int n = 2 * depth; n > 0; n -= (int)sizeof(spaces) - 1)
		put(js, spaces, n < (int)sizeof(spaces) - 1 ? (size_t)n :
		    sizeof(spaces) - 1);
}

/* Does s need nothing but its quotes (printable ASCII, no '"' or '\')? */
static bool plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static void quoted(struct json_stream *js, const char *s)
{
	if (!plain(s)) {
		flush(js);
		cli_json_fputs(js->f, s);
		return;
	}
	put_char(js, '"');
	put_str(js, s);
	put_char(js, '"');
}

/* Before an item: the separator, the indent and the key. */
static void item(struct json_stream *js, const char *key)
{
	if (js->depth < 0)
		return;		/* the document itself */
	put_str(js, js->has_items[js->depth] ? ",\n" : "\n");
	js->has_items[js->depth] = true;
	indent(js, js->depth + 1);
	if (key) {
		quoted(js, key);
		put_char(js, ':');
	}
}

static void begin(struct json_stream *js, const char *key, char open)
{
	item(js, key);
	put_char(js, open);
	if (js->depth + 1 >= JS_MAX_DEPTH) {
		js->overflow = true;
		return;
	}
	js->has_items[++js->depth] = false;
}

static void end(struct json_stream *js, char close)
{
	if (js->depth < 0)
		return;
	if (js->has_items[js->depth]) {
		put_char(js, '\n');
		indent(js, js->depth);
	}
	put_char(js, close);
	js->depth--;
}

void js_begin_array(struct json_stream *js, const char *key)
{
	begin(js, key, '[');
}

void js_end_array(struct json_stream *js)
{
	end(js, ']');
}

void js_begin_object(struct json_stream *js, const char *key)
{
	begin(js, key, '{');
}

void js_end_object(struct json_stream *js)
{
	end(js, '}');
}

static void put_u64(struct json_stream *js, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(js, p, (size_t)(buf + sizeof(buf) - p));
}

void js_u64(struct json_stream *js, const char *key, uint64_t v)
{
	item(js, key);
	put_u64(js, v);
}

void js_i64(struct json_stream *js, const char *key, int64_t v)
{
	item(js, key);
	if (v < 0) {
		put_char(js, '-');
		put_u64(js, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(js, (uint64_t)v);
	}
}

void js_bool(struct json_stream *js, const char *key, bool v)
{
	item(js, key);
	put_str(js, v ? "true" : "false");
}

void js_null(struct json_stream *js, const char *key)
{
	item(js, key);
	put_str(js, "null");
}

void js_string(struct json_stream *js, const char *key, const char *s)
{
	item(js, key);
	quoted(js, s ? s : "");
}

void js_value(struct json_stream *js, const char *key, struct json_object *v)
{
	if (!v) {
		js->overflow = true;	/* its builder failed */
		return;
	}
	item(js, key);
	put_str(js, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
}

int js_finish(struct json_stream *js)
{
	put_char(js, '\n');
	flush(js);
	if (fflush(js->f) || ferror(js->f))
		return -EIO;
	return js->overflow ? -ENOMEM : 0;
}
