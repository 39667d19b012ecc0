/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json_ns.c - the JSON objects that describe a namespace: a fake NVDIMM
 * image (create-namespace, list --image, info), a namespace found through
 * libndctl, and a device-dax device found through libdaxctl (list).
 *
 * Every object of one kind has the same keys whatever the device holds
 * (an absent name is "", not a missing key): scripts index them blindly.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"
#include "namespace.h"
#include "real_ns.h"

static const char *kind_name(enum dl_ns_kind kind)
{
	switch (kind) {
	case DL_NS_FAKE:
		return "fake-nvdimm";
	case DL_NS_DEVDAX:
		return "devdax";
	case DL_NS_FSDAX_FILE:
		return "fsdax";
	}
	return "unknown";
}

/* The unsafe-shutdown count, and whether this open found it closed. */
static struct json_object *health_json(const struct dl_ns_info *info)
{
	struct json_object *jhealth = json_object_new_object();

	if (!jhealth)
		return NULL;
	if (cli_json_add(jhealth, "state",
			 cli_json_string(info->was_clean ? "clean" : "dirty")) ||
	    cli_json_add(jhealth, "unsafe_shutdowns",
			 cli_json_count(info->unsafe_shutdowns)))
		goto err;
	return jhealth;
err:
	json_object_put(jhealth);
	return NULL;
}

static struct json_object *ns_info_json(const struct dl_ns_info *info,
					size_t nbadblocks, unsigned flags)
{
	struct json_object *jns = json_object_new_object();
	char uuid[37], version[32];

	if (!jns)
		return NULL;
	snprintf(version, sizeof(version), "%u.%u", info->version_major,
		 info->version_minor);
	if (cli_json_add(jns, "dev", cli_json_string(info->path)) ||
	    cli_json_add(jns, "kind", cli_json_string(kind_name(info->kind))) ||
	    cli_json_add(jns, "name", cli_json_string(info->name)) ||
	    cli_json_add(jns, "uuid",
			 cli_json_string(cli_fmt_uuid(uuid, info->uuid))) ||
	    cli_json_add(jns, "size", cli_json_size(info->size, flags)) ||
	    cli_json_add(jns, "align", cli_json_size(info->align, flags)) ||
	    cli_json_add(jns, "data_offset",
			 cli_json_offset(info->data_offset, flags)) ||
	    cli_json_add(jns, "version", cli_json_string(version)) ||
	    cli_json_add(jns, "health", health_json(info)) ||
	    cli_json_add(jns, "badblock_count", cli_json_count(nbadblocks)) ||
	    cli_json_add(jns, "allocated",
			 cli_json_size(info->image_bytes_allocated, flags)) ||
	    cli_json_add(jns, "granularity",
			 cli_json_string(dl_granularity_name(info->granularity))))
		goto err;
	return jns;
err:
	json_object_put(jns);
	return NULL;
}

struct json_object *cli_json_ns(const struct dl_ns *ns, unsigned flags)
{
	struct dl_badblock unused;
	struct dl_ns_info info;
	size_t nbadblocks = 0;

	dl_ns_get_info(ns, &info);
	/* max 0: only the count is wanted */
	if (dl_ns_list_errors(ns, &unused, 0, &nbadblocks))
		return NULL;
	return ns_info_json(&info, nbadblocks, flags);
}

struct json_object *cli_json_image(const struct cli_ctx *ctx,
				   const char *path, unsigned flags)
{
	struct dl_err err = { 0 };
	struct json_object *jns;
	struct dl_ns *ns = NULL;
	int rc;

	rc = dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns, &err);
	if (rc) {
		cli_error(ctx, "%s: %s", path, cli_err_msg(&err, rc));
		return NULL;
	}
	jns = cli_json_ns(ns, flags);
	dl_ns_close(&ns);
	if (!jns)
		cli_error(ctx, "%s: cannot build its description", path);
	return jns;
}

struct json_object *cli_json_real_ns(const struct dl_real_ns *rns,
				     unsigned flags)
{
	struct json_object *jns = json_object_new_object();

	if (!jns)
		return NULL;
	if (cli_json_add(jns, "dev", cli_json_string(rns->dev)) ||
	    cli_json_add(jns, "kind", cli_json_string("namespace")) ||
	    cli_json_add(jns, "mode", cli_json_string(rns->mode)) ||
	    cli_json_add(jns, "bus", cli_json_string(rns->bus)) ||
	    cli_json_add(jns, "region", cli_json_string(rns->region)) ||
	    cli_json_add(jns, "name", cli_json_string(rns->name)) ||
	    cli_json_add(jns, "uuid", cli_json_string(rns->uuid)) ||
	    cli_json_add(jns, "size", cli_json_size(rns->size, flags)) ||
	    cli_json_add(jns, "align", cli_json_size(rns->align, flags)) ||
	    cli_json_add(jns, "blockdev", cli_json_string(rns->blockdev)) ||
	    cli_json_add(jns, "chardev", cli_json_string(rns->chardev)) ||
	    cli_json_add(jns, "enabled",
			 json_object_new_boolean(rns->enabled != 0)))
		goto err;
	return jns;
err:
	json_object_put(jns);
	return NULL;
}

struct json_object *cli_json_real_dax(const struct dl_real_dax *dax,
				      unsigned flags)
{
	struct json_object *jdax = json_object_new_object();

	if (!jdax)
		return NULL;
	if (cli_json_add(jdax, "dev", cli_json_string(dax->dev)) ||
	    cli_json_add(jdax, "kind", cli_json_string("dax-device")) ||
	    cli_json_add(jdax, "mode", cli_json_string(dax->mode)) ||
	    cli_json_add(jdax, "region", cli_json_string(dax->region)) ||
	    cli_json_add(jdax, "size", cli_json_size(dax->size, flags)) ||
	    cli_json_add(jdax, "align", cli_json_size(dax->align, flags)) ||
	    cli_json_add(jdax, "target_node",
			 cli_json_string(dax->target_node)))
		goto err;
	return jdax;
err:
	json_object_put(jdax);
	return NULL;
}
