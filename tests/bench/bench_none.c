/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_none.c - the service and pin sections in a build without
 * daxleased or libdaxlease: they run nothing and say so.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static int none_run(const struct bench_opts *o, void **res)
{
	(void)o;
	*res = NULL;
	return 0;
}

static void none_print(const void *res)
{
	(void)res;
}

static struct json_object *none_json(const void *res)
{
	(void)res;
	return json_object_new_object();
}

const struct bench_section bench_service_section = {
	.name = "service", .run = none_run, .print = none_print,
	.json = none_json, .release = free,
};

const struct bench_section bench_pin_section = {
	.name = "pin", .run = none_run, .print = none_print,
	.json = none_json, .release = free,
};

const struct bench_section bench_copy_section = {
	.name = "copy", .run = none_run, .print = none_print,
	.json = none_json, .release = free,
};
