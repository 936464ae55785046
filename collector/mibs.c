/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mibs.c - the collector's side of MIB translation: loading the operator's
 * MIB files (mibs.* keys, -M, -m), publishing the lookup structure to the
 * workers, its metrics, and `stormtrap --translate`.
 *
 * Loading runs on the main thread only: at start, before any worker
 * exists, and on SIGHUP while workers run. st_mib_load() parses in a child
 * process and hands back one immutable block, so a reload costs the hot
 * path nothing: the main thread swaps the pointer workers read once per
 * batch (rt->mib) and frees the old structure once every worker has begun a
 * batch since, by the same epoch as the communities (st_rt_swap_auth()).
 * A load that fails as a whole is an error at start and keeps the running
 * MIBs on reload; a broken module only costs that module (logged once per
 * file and line, counted in the metrics).
 *
 * The numbers /metrics shows describe the structure in use (gauges) and
 * every load since start (counters). They are written by the main thread
 * and read by the HTTP thread, hence atomics.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector.h"
#include "mibs.h"

/* parser messages, at warn, "mib: FILE:LINE: text" */
static void mibs_log(void *ctx, int severity, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)severity;
	if (file && file[0] && line > 0)
		st_log(ST_LOG_WARN, "mib: %s:%d: %s", file, line, msg);
	else if (file && file[0])
		st_log(ST_LOG_WARN, "mib: %s: %s", file, msg);
	else
		st_log(ST_LOG_WARN, "mib: %s", msg);
}

/* "ALL" among the modules (any case, as Net-SNMP) means every module, as
 * no list does */
static int all_modules(const st_config_list_t *modules)
{
	for (size_t i = 0; i < modules->n; i++)
		if (strcasecmp(modules->v[i], "ALL") == 0)
			return 1;
	return modules->n == 0;
}

int st_mibs_load(const st_config_t *cfg, st_mib_t **out, st_mib_stats_t *stats, char *err,
                 size_t errlen)
{
	st_mib_opts_t opts = {
	        .prefer = cfg->mibs_prefer.n ? (const char *const *)cfg->mibs_prefer.v : NULL,
	        .timeout_s = (int)((cfg->mibs_timeout_ms + 999) / 1000),
	        .log = mibs_log,
	};
	const char *const *modules = NULL;
	char why[512] = "";
	int rc;

	*out = NULL;
	memset(stats, 0, sizeof(*stats));
	if (!cfg->mibs_dirs.n)
		return 0;
	if (!all_modules(&cfg->mibs_modules))
		modules = (const char *const *)cfg->mibs_modules.v;
	rc = st_mib_load((const char *const *)cfg->mibs_dirs.v, modules, &opts, out, stats, why,
	                 sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "mibs.dirs: cannot load MIBs: %s",
		         why[0] ? why : st_mib_strerror(rc));
		return rc;
	}
	return 0;
}

void st_mibs_publish(st_rt_t *rt, st_mib_t *mib, const st_mib_stats_t *stats)
{
	st_mib_t *old = atomic_exchange(&rt->mib, mib);

	atomic_store(&rt->mib_metrics.modules, mib ? stats->modules : 0);
	atomic_store(&rt->mib_metrics.failed, mib ? stats->failed : 0);
	atomic_store(&rt->mib_metrics.nodes, mib ? stats->nodes : 0);
	atomic_store(&rt->mib_metrics.bytes, mib ? stats->bytes : 0);
	if (mib) {
		atomic_fetch_add(&rt->mib_metrics.loads_ok, 1);
		atomic_fetch_add(&rt->mib_metrics.failed_total, stats->failed);
	}
	if (old) {
		st_rt_quiesce(rt);
		st_mib_free(old);
	}
}

void st_mibs_failed(st_rt_t *rt)
{
	atomic_fetch_add(&rt->mib_metrics.loads_failed, 1);
}

void st_mibs_metrics(const st_rt_t *rt, FILE *out)
{
	const st_mib_metrics_t *m = &rt->mib_metrics;

	fprintf(out,
	        "# HELP stormtrap_mib_modules MIB modules in the translation in use, by state "
	        "(failed: asked for or found but not loaded)\n"
	        "# TYPE stormtrap_mib_modules gauge\n"
	        "stormtrap_mib_modules{state=\"loaded\"} %" PRIu64 "\n"
	        "stormtrap_mib_modules{state=\"failed\"} %" PRIu64 "\n"
	        "# HELP stormtrap_mib_nodes Named OIDs in the translation in use\n"
	        "# TYPE stormtrap_mib_nodes gauge\n"
	        "stormtrap_mib_nodes %" PRIu64 "\n"
	        "# HELP stormtrap_mib_bytes Size of the MIB lookup structure in use\n"
	        "# TYPE stormtrap_mib_bytes gauge\n"
	        "stormtrap_mib_bytes %" PRIu64 "\n"
	        "# HELP stormtrap_mib_loads_total MIB loads (start and SIGHUP), by result "
	        "(failed: the running MIBs were kept)\n"
	        "# TYPE stormtrap_mib_loads_total counter\n"
	        "stormtrap_mib_loads_total{result=\"ok\"} %" PRIu64 "\n"
	        "stormtrap_mib_loads_total{result=\"failed\"} %" PRIu64 "\n"
	        "# HELP stormtrap_mib_module_failures_total MIB modules that could not be loaded, "
	        "summed over every load\n"
	        "# TYPE stormtrap_mib_module_failures_total counter\n"
	        "stormtrap_mib_module_failures_total %" PRIu64 "\n",
	        atomic_load(&m->modules), atomic_load(&m->failed), atomic_load(&m->nodes),
	        atomic_load(&m->bytes), atomic_load(&m->loads_ok), atomic_load(&m->loads_failed),
	        atomic_load(&m->failed_total));
}

/* ---- --translate --------------------------------------------------------- */

/* the deepest named node at or above the OID's first len octets, or NULL */
static const st_mib_node_t *named_above(const st_mib_t *mib, const uint8_t *oid, size_t len)
{
	for (size_t p = len; p > 0; p--) {
		const st_mib_node_t *node;
		size_t suffix = 1;

		if (oid[p - 1] & 0x80)
			continue; /* not the end of a sub-identifier */
		node = st_mib_lookup_ber(mib, oid, p, &suffix);
		if (node && suffix == 0)
			return node;
	}
	return NULL;
}

int st_mibs_translate(const st_mib_t *mib, char *const *oids, size_t n, FILE *out)
{
	uint8_t ber[ST_OID_MAX_SUBIDS * 5];
	char name[ST_OID_STR_MAX + 1024];
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		const st_mib_node_t *node, *above;
		size_t suffix = 0;
		int len = st_oid_parse(oids[i], ber, sizeof(ber));

		if (len <= 0 || st_oid_check(ber, (size_t)len) < 0) {
			fprintf(out, "%s\tnot an OID\n", oids[i]);
			failed++;
			continue;
		}
		node = st_mib_lookup_ber(mib, ber, (size_t)len, &suffix);
		if (node && st_mib_render_name(mib, node, ber, (size_t)len, suffix, name,
		                               sizeof(name)) >= 0) {
			fprintf(out, "%s\t%s\n", oids[i], name);
			continue;
		}
		failed++;
		above = named_above(mib, ber, (size_t)len);
		if (above)
			fprintf(out,
			        "%s\tunknown: below %s::%s, which is not an object, and no loaded "
			        "MIB names this part of its subtree\n",
			        oids[i], st_mib_node_module(mib, above),
			        st_mib_node_name(mib, above));
		else
			fprintf(out, "%s\tunknown: no loaded MIB names it or any OID above it\n",
			        oids[i]);
	}
	return failed;
}
