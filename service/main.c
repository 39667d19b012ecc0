// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - daxleased: command line, then the server (server.c) runs in
 * the foreground until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

#define DEFAULT_TABLE_ENTRIES 65536
#define DEFAULT_RECORDS_PER_PROCESS 64
#define MAX_RECORDS_PER_PROCESS 1024
#define DEFAULT_LEASE_TIMEOUT 10000u	/* ms */
#define DEFAULT_LEASE_MAX_TIMEOUT 60000u
#define MAX_TABLE_ENTRIES DL_TABLE_ENTRIES_MAX
#define DEFAULT_DIRTY_MAX 65536		/* about 6 MiB of records */
#define MAX_DIRTY_MAX (1ULL << 24)
#define DEFAULT_DIRTY_EXPIRE 30000u	/* ms, as vm.dirty_expire_centisecs */
#define DEFAULT_COMMIT_INTERVAL 200u	/* ms: writes durable at the latest */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: daxleased (--image IMAGE | --namespace NAME) [options]\n"
		"\n"
		"  -i, --image IMAGE        serve a fake NVDIMM image\n"
		"  -n, --namespace NAME     serve a real namespace (dax0.0, namespace0.0, ...)\n"
		"  -s, --socket PATH        listen here (default: /run/daxlease/daxleased.sock\n"
		"                           for root, else $XDG_RUNTIME_DIR/daxlease/daxleased.sock)\n"
		"  -l, --log-level LEVEL    err, warn, info (default) or debug; also $DAXLEASE_LOG\n"
		"      --dax-group NAME     members may map files (receive the namespace fd)\n"
		"      --admin-group NAME   members may use admin requests\n"
		"      --table-entries N    mapping-table entries per client (default %d;\n"
		"                           32 bytes in the table, 64 in its counters)\n"
		"      --detach             layout changes never wait for pins: pinned\n"
		"                           blocks go to quarantine until unpinned\n"
		"      --lease-timeout MS   break timeout of a lease that asks none\n"
		"                           (default %u)\n"
		"      --lease-max-timeout MS  the most a lease may ask (default %u)\n"
		"      --advisory-leases    MAP and PIN need no lease (by default they\n"
		"                           fail with ENOLCK unless the caller holds a\n"
		"                           lease covering the range)\n"
		"      --pin-records-per-process N  namespace ranges recorded per\n"
		"                           process and connection for a restart\n"
		"                           (default %d, 1 .. %d; fewer: coarser)\n"
		"      --dirty-max N        dirty records in total (default %d); at the\n"
		"                           limit a range merges with its file's nearest\n"
		"                           record, or the oldest record is written back\n"
		"      --dirty-expire MS    write dirty records back this long after they\n"
		"                           were first dirtied (default %u, 0: at once)\n"
		"      --commit-interval MS group commit: a WRITE is durable at FSYNC,\n"
		"                           at CLOSE of a writable handle, at the next\n"
		"                           other change, or this long after it at the\n"
		"                           latest (default %u; 0: when WRITE returns)\n"
		"limits (LIMITS in daxleased(8)):\n",
		DEFAULT_TABLE_ENTRIES, DEFAULT_LEASE_TIMEOUT,
		DEFAULT_LEASE_MAX_TIMEOUT, DEFAULT_RECORDS_PER_PROCESS,
		MAX_RECORDS_PER_PROCESS, DEFAULT_DIRTY_MAX, DEFAULT_DIRTY_EXPIRE,
		DEFAULT_COMMIT_INTERVAL);
	dl_limits_usage(f);
	fprintf(f,
		"  -h, --help               this help\n"
		"  -V, --version            print the version\n");
}

static int parse_group(const char *name, gid_t *out)
{
	struct group *g = getgrnam(name);

	if (!g) {
		fprintf(stderr, "daxleased: no group named '%s'\n", name);
		return -ENOENT;
	}
	*out = g->gr_gid;
	return 0;
}

/* A decimal number in [min, max] for --opt. */
static int parse_count(const char *opt, const char *s, unsigned long long min,
		       unsigned long long max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max || s[0] == '-') {
		fprintf(stderr, "daxleased: --%s: %llu .. %llu\n", opt, min,
			max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_entries(const char *s, uint64_t *out)
{
	return parse_count("table-entries", s, 1, MAX_TABLE_ENTRIES, out);
}

/* 0 .. an hour of milliseconds */
static int parse_ms_count(const char *opt, const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_count(opt, s, 0, 3600000, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_dirty_expire(const char *s, uint32_t *out)
{
	return parse_ms_count("dirty-expire", s, out);
}

static int parse_ms(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v || v > 3600000 || s[0] == '-') {
		fprintf(stderr, "daxleased: --%s: 1 .. 3600000 ms\n", opt);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_records(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v || v > MAX_RECORDS_PER_PROCESS || s[0] == '-') {
		fprintf(stderr, "daxleased: --pin-records-per-process: 1 .. %d\n",
			MAX_RECORDS_PER_PROCESS);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_level(const char *s)
{
	enum dl_log_level level;

	if (dl_log_parse_level(s, &level)) {
		fprintf(stderr, "daxleased: unknown log level '%s' (err, warn, info, debug)\n", s);
		return -EINVAL;
	}
	dl_log_set_level(level);
	return 0;
}

enum { OPT_DAX_GROUP = 256, OPT_ADMIN_GROUP, OPT_TABLE_ENTRIES, OPT_DETACH,
       OPT_LEASE_TIMEOUT, OPT_LEASE_MAX_TIMEOUT, OPT_ADVISORY_LEASES,
       OPT_RECORDS_PER_PROCESS, OPT_DIRTY_MAX, OPT_DIRTY_EXPIRE,
       OPT_COMMIT_INTERVAL,
       OPT_LIMIT /* the limits' options follow, one each (limits.h) */ };

static const struct option fixed_opts[] = {
	{ "image", required_argument, NULL, 'i' },
	{ "namespace", required_argument, NULL, 'n' },
	{ "socket", required_argument, NULL, 's' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "dax-group", required_argument, NULL, OPT_DAX_GROUP },
	{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
	{ "table-entries", required_argument, NULL, OPT_TABLE_ENTRIES },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "lease-timeout", required_argument, NULL, OPT_LEASE_TIMEOUT },
	{ "lease-max-timeout", required_argument, NULL, OPT_LEASE_MAX_TIMEOUT },
	{ "advisory-leases", no_argument, NULL, OPT_ADVISORY_LEASES },
	{ "pin-records-per-process", required_argument, NULL,
	  OPT_RECORDS_PER_PROCESS },
	{ "dirty-max", required_argument, NULL, OPT_DIRTY_MAX },
	{ "dirty-expire", required_argument, NULL, OPT_DIRTY_EXPIRE },
	{ "commit-interval", required_argument, NULL, OPT_COMMIT_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};

#define NFIXED (sizeof(fixed_opts) / sizeof(fixed_opts[0]))

/* The fixed options, then the limits', then the terminator: malloc'ed. */
static struct option *all_opts(void)
{
	unsigned n = dl_limits_nopts();
	struct option *o = calloc(NFIXED + n + 1, sizeof(*o));

	if (!o)
		return NULL;
	memcpy(o, fixed_opts, sizeof(fixed_opts));
	for (unsigned i = 0; i < n; i++)
		o[NFIXED + i] = (struct option){
			dl_limits_opt_name(i), required_argument, NULL,
			OPT_LIMIT + (int)i,
		};
	return o;
}

/* 0: run; 1: exit 0 (help, version); -1: usage error. */
static int parse_one(int opt, struct dl_options *o)
{
	switch (opt) {
	case 'i':
		o->image = optarg;
		return 0;
	case 'n':
		o->namespace = optarg;
		return 0;
	case 's':
		o->socket = optarg;
		return 0;
	case 'l':
		return parse_level(optarg) ? -1 : 0;
	case OPT_DAX_GROUP:
		return parse_group(optarg, &o->dax_gid) ? -1 : 0;
	case OPT_ADMIN_GROUP:
		return parse_group(optarg, &o->admin_gid) ? -1 : 0;
	case OPT_TABLE_ENTRIES:
		return parse_entries(optarg, &o->table_entries) ? -1 : 0;
	case OPT_DETACH:
		o->detach = true;
		return 0;
	case OPT_LEASE_TIMEOUT:
		return parse_ms("lease-timeout", optarg,
				&o->lease_timeout_ms) ? -1 : 0;
	case OPT_LEASE_MAX_TIMEOUT:
		return parse_ms("lease-max-timeout", optarg,
				&o->lease_max_timeout_ms) ? -1 : 0;
	case OPT_ADVISORY_LEASES:
		o->require_leases = false;
		return 0;
	case OPT_RECORDS_PER_PROCESS:
		return parse_records(optarg, &o->records_per_process) ? -1 : 0;
	case OPT_DIRTY_MAX:
		return parse_count("dirty-max", optarg, 1, MAX_DIRTY_MAX,
				   &o->dirty_max) ? -1 : 0;
	case OPT_DIRTY_EXPIRE:
		return parse_dirty_expire(optarg, &o->dirty_expire_ms) ? -1 : 0;
	case OPT_COMMIT_INTERVAL:
		return parse_ms_count("commit-interval", optarg,
				      &o->commit_interval_ms) ? -1 : 0;
	case 'h':
		usage(stdout);
		return 1;
	case 'V':
		printf("daxleased %s\n", DAXLEASE_VERSION_STRING);
		return 1;
	default:
		if (opt >= OPT_LIMIT && opt < OPT_LIMIT + (int)dl_limits_nopts())
			return dl_limits_parse(&o->limits,
					       (unsigned)(opt - OPT_LIMIT),
					       optarg) ? -1 : 0;
		usage(stderr);
		return -1;
	}
}

static int parse_args(int argc, char **argv, struct dl_options *o)
{
	struct option *opts = all_opts();
	int opt, rc = 0;

	if (!opts)
		return -1;
	while (!rc && (opt = getopt_long(argc, argv, "i:n:s:l:hV", opts,
					 NULL)) != -1)
		rc = parse_one(opt, o);
	free(opts);
	if (rc)
		return rc;
	if (optind < argc || !o->image == !o->namespace) {
		fprintf(stderr, "daxleased: give exactly one of --image IMAGE and --namespace NAME\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static void log_from_env(void)
{
	const char *env = getenv("DAXLEASE_LOG");
	enum dl_log_level level;

	dl_log_init();
	if (env && !dl_log_parse_level(env, &level))
		dl_log_set_level(level);
}

int main(int argc, char **argv)
{
	static struct dl_server srv;
	unsigned health;
	int rc;

	log_from_env();
	srv.opt.dax_gid = srv.opt.admin_gid = (gid_t)-1;
	srv.opt.table_entries = DEFAULT_TABLE_ENTRIES;
	srv.opt.lease_timeout_ms = DEFAULT_LEASE_TIMEOUT;
	srv.opt.lease_max_timeout_ms = DEFAULT_LEASE_MAX_TIMEOUT;
	srv.opt.require_leases = true;
	srv.opt.records_per_process = DEFAULT_RECORDS_PER_PROCESS;
	srv.opt.dirty_max = DEFAULT_DIRTY_MAX;
	srv.opt.dirty_expire_ms = DEFAULT_DIRTY_EXPIRE;
	dl_limits_default(&srv.opt.limits);
	srv.opt.commit_interval_ms = DEFAULT_COMMIT_INTERVAL;
	rc = parse_args(argc, argv, &srv.opt);
	if (rc)
		return rc > 0 ? 0 : 2;
	rc = dl_server_open(&srv);
	if (!rc)
		rc = dl_server_run(&srv);
	if (rc)
		log_err("exiting: %s", strerror(-rc));
	health = dl_server_close(&srv);
	if (!rc && !health)
		log_info("stopped; namespace closed cleanly");
	else if (!rc)
		log_err("stopped; the image was changed behind daxleased's back, so it is left marked open, not clean");
	return rc ? 1 : 0;
}
