/* SPDX-License-Identifier: Apache-2.0 */
/*
 * preflight.c - stormtrap -T checks what the real start would trip over,
 * and lists every problem rather than the first.
 *
 * The configuration's own errors (unknown keys, bad values, cross-key
 * rules) are found while it is built (main.c). What is checked here needs
 * the system: files and directories, ports, librdkafka. Each check does
 * what start-up does as far as it can without side effects that outlive
 * it: the users file is loaded and checked as at start, listen and metrics
 * addresses are bound and closed again (a port another process holds
 * fails here, as it would at start), outputs are asked st_sink_check()
 * (probe files are removed again, nothing is produced). The systemd unit
 * runs -T as ExecStartPre (deploy/stormtrap.service), so a start that
 * would fail fails there with the whole list. Because ports are bound, -T
 * next to a running collector reports that collector's own ports as in
 * use: run it before the start, not beside it (docs/OPERATIONS.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "collector.h"
#include "http.h"
#include "mibs.h"
#include "preflight.h"

/* counts what it passes on, so the caller learns how many there were */
typedef struct st_preflight_ctx {
	st_sink_report_fn report;
	void *arg;
	int n;
} st_preflight_ctx_t;

static int preflight_report(const char *msg, void *arg)
{
	st_preflight_ctx_t *ctx = arg;

	ctx->n++;
	return ctx->report(msg, ctx->arg);
}

static void preflight_users(const st_config_t *cfg, st_preflight_ctx_t *ctx)
{
	st_usm_users_t *users = NULL;
	char err[1024];

	if (!cfg->users_file[0])
		return;
	if (st_usm_users_load(cfg->users_file, &users, err, sizeof(err)) < 0 ||
	    st_usm_users_check(users, err, sizeof(err)) < 0)
		preflight_report(err, ctx);
	st_usm_users_free(users);
}

static void preflight_ports(const st_config_t *cfg, st_preflight_ctx_t *ctx)
{
	char err[1024];

	for (size_t i = 0; i < cfg->listen.n; i++) {
		st_listener_t lis;

		if (st_listener_parse(cfg->listen.v[i], &lis, err, sizeof(err)) < 0 ||
		    st_listener_probe(&lis, err, sizeof(err)) < 0)
			preflight_report(err, ctx);
		free(lis.uri);
	}
	if (cfg->metrics_listen[0] && st_http_probe(cfg->metrics_listen, err, sizeof(err)) < 0)
		preflight_report(err, ctx);
}

/*
 * The MIBs are loaded as at start. Broken modules do not stop the start, so
 * they are no problem here either: each parser message is logged (warn, on
 * stderr, "mib: FILE:LINE: ..."), and only a load that fails as a whole is
 * one (docs/MIB.md).
 */
static void preflight_mibs(const st_config_t *cfg, st_preflight_ctx_t *ctx)
{
	st_mib_t *mib = NULL;
	st_mib_stats_t stats;
	char err[1024];

	if (st_mibs_load(cfg, &mib, &stats, err, sizeof(err)) < 0) {
		preflight_report(err, ctx);
		return;
	}
	if (mib)
		st_log(ST_LOG_INFO, "MIBs: %u modules loaded, %u failed, %u names, %u messages",
		       stats.modules, stats.failed, stats.nodes, stats.messages);
	st_mib_free(mib);
}

int st_preflight(const st_config_t *cfg, const st_sink_conf_t *sconf, st_sink_report_fn report,
                 void *arg)
{
	st_preflight_ctx_t ctx = {.report = report, .arg = arg};

	preflight_users(cfg, &ctx);
	preflight_mibs(cfg, &ctx);
	preflight_ports(cfg, &ctx);
	for (size_t i = 0; i < cfg->output.n; i++)
		if (st_sink_check(cfg->output.v[i], sconf, preflight_report, &ctx) == -ENOMEM)
			return -ENOMEM;
	return ctx.n;
}
