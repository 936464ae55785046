/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the stormtrap daemon: command line, configuration, start-up,
 * signals and the orderly drain at shutdown.
 *
 * Start-up builds everything that can fail before any thread starts
 * (configuration, users, sinks, rings, sockets), so an error is one clear
 * message and exit code 1. Then workers start, then ingest threads, and the
 * main thread waits for signals:
 *   SIGTERM, SIGINT  drain: ingest reads what the kernel still holds and
 *                    stops, workers empty their rings, sinks flush (Kafka
 *                    waits up to shutdown.timeout, then spools), exit 0.
 *   SIGHUP           reload users and communities (an error keeps the old
 *                    ones and names the file and line), reopen files.
 *   SIGUSR1          print every counter (Prometheus text) on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "st_util.h"
#include "http.h"
#include "mibs.h"
#include "preflight.h"
#include "st_config.h"

extern char **environ;

void st_ingest_free(st_rt_t *rt);
void st_worker_free_all(st_rt_t *rt);

/* what the command line said, applied after the file and the environment */
typedef struct st_cli {
	const char *config_file;
	const char *users_file;
	const char **sets; /* "KEY=VALUE" */
	size_t nsets;
	const char **lists; /* key, value pairs for -l, -o, --community, -M, -m */
	size_t nlists;
	int check;
	int translate; /* --translate: oids are the operands */
	char **oids;
	size_t noids;
} st_cli_t;

static void usage(FILE *out)
{
	fputs("usage: stormtrap [-c FILE] [-l ADDR]... [-o SINK]... [-u USERS] [--community "
	      "NAME]...\n"
	      "                 [-M DIR]... [-m MODULES] [--set KEY=VALUE]... [-T] [--health URL]\n"
	      "                 [--version] [-h]\n"
	      "       stormtrap [-c FILE] [-M DIR]... [-m MODULES] [--set KEY=VALUE]... "
	      "--translate OID...\n"
	      "\n"
	      "  -c FILE            YAML configuration file\n"
	      "  -l ADDR            listen address, udp://IPv4:port or udp://[IPv6]:port "
	      "(repeatable)\n"
	      "  -o SINK            stdout | file:/path/traps.jsonl | "
	      "kafka://host:9092[,host2]/topic\n"
	      "                     (repeatable)\n"
	      "  -u FILE            SNMPv3 users, snmptrapd.conf createUser syntax\n"
	      "  --community NAME   accepted v1/v2c community, '*' for any (repeatable)\n"
	      "  -M DIR             directory of MIB files, searched recursively (repeatable;\n"
	      "                     DIR:DIR also works, as in snmptrapd)\n"
	      "  -m MODULES         MIB modules to load, separated by ',' or ':' (as snmptrapd),\n"
	      "                     or ALL (the default)\n"
	      "  --translate OID... print the name each OID gets in a JSON line, or why none;\n"
	      "                     exit 0 when every OID has a name, 2 when one has not\n"
	      "  --set KEY=VALUE    set any configuration key (see docs/CONFIGURATION.md)\n"
	      "  -T                 check the configuration and what start-up needs (directories,\n"
	      "                     ports, users file, librdkafka properties): list every\n"
	      "                     problem and exit 1, or print the effective one and exit 0\n"
	      "  --health URL       GET URL (http://127.0.0.1:9163/healthz), exit 0 on 2xx, else "
	      "1\n"
	      "  --version          print the version\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "Every key can also be set in the environment: STORMTRAP_ + key upper-cased,\n"
	      "dots as __ (STORMTRAP_INGEST__BACKEND=recvmmsg).\n"
	      "Signals: TERM/INT drain and exit, HUP reload users, communities and MIBs and\n"
	      "reopen files, USR1 print counters.\n",
	      out);
}

/* Error lines, in the order found; start-up and -T print them all. */
#define ST_ERRS_MAX 64
typedef struct st_errs {
	char *v[ST_ERRS_MAX];
	size_t n;    /* kept in v */
	size_t more; /* found but not kept */
} st_errs_t;

/* an st_sink_report_fn: keep one more line */
static int errs_add(const char *msg, void *arg)
{
	st_errs_t *errs = arg;
	char *line = errs->n < ST_ERRS_MAX ? strdup(msg) : NULL;

	if (line)
		errs->v[errs->n++] = line;
	else
		errs->more++;
	return 0;
}

static void errs_free(st_errs_t *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i]);
	errs->n = errs->more = 0;
}

/* each line as "stormtrap: <line>" on stderr */
static void errs_print(const st_errs_t *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "stormtrap: %s\n", errs->v[i]);
	if (errs->more)
		fprintf(stderr, "stormtrap: ... and %zu more\n", errs->more);
}

/*
 * One flag's value into a list key. -M and -m take snmptrapd's forms:
 * DIR:DIR, and MOD:MOD (Net-SNMP splits its module list on ':') or MOD,MOD,
 * each item possibly with snmptrapd's leading '+' (add to the defaults;
 * there are none here, so it changes nothing).
 */
static int list_add_flag(st_config_t *cfg, const char *key, const char *value, char *err,
                         size_t errlen)
{
	const char *sep = strcmp(key, "mibs.dirs") == 0      ? ":"
	                  : strcmp(key, "mibs.modules") == 0 ? ",:"
	                                                     : NULL;
	char *copy, *item, *save = NULL;
	size_t added = 0;
	int rc = 0;

	if (!sep)
		return st_config_list_add(cfg, key, value, err, errlen);
	if (!(copy = strdup(value))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (item = strtok_r(copy, sep, &save); item && rc == 0; item = strtok_r(NULL, sep, &save))
		if (*item == '+' ? item[1] : *item) {
			rc = st_config_list_add(cfg, key, item + (*item == '+'), err, errlen);
			added++;
		}
	free(copy);
	/* -M "" or -m ",": an error as -l "" is, not a flag silently ignored */
	if (rc == 0 && !added)
		rc = st_config_list_add(cfg, key, "", err, errlen);
	return rc;
}

/*
 * defaults < file < environment < --set < flags. A source that fails
 * leaves the configuration as it was and the next one is applied anyway,
 * so one run names every bad source; the cross-key checks run only when
 * every source applied (on a half-applied configuration they would
 * mislead). Returns 0, or the number of errors added to errs (cfg freed).
 */
static int config_build(const st_cli_t *cli, st_config_t *cfg, st_errs_t *errs)
{
	size_t before = errs->n + errs->more;
	char err[1024];

	if (st_config_init(cfg) < 0) {
		errs_add("out of memory", errs);
		return 1;
	}
	if (cli->config_file && st_config_load_yaml(cfg, cli->config_file, err, sizeof(err)) < 0)
		errs_add(err, errs);
	if (st_config_load_env(cfg, environ, err, sizeof(err)) < 0)
		errs_add(err, errs);
	for (size_t i = 0; i < cli->nsets; i++) {
		char key[256];
		const char *eq = strchr(cli->sets[i], '=');

		if (!eq || eq == cli->sets[i] || (size_t)(eq - cli->sets[i]) >= sizeof(key)) {
			snprintf(err, sizeof(err), "--set '%s': expected KEY=VALUE", cli->sets[i]);
			errs_add(err, errs);
			continue;
		}
		memcpy(key, cli->sets[i], (size_t)(eq - cli->sets[i]));
		key[eq - cli->sets[i]] = '\0';
		if (st_config_set(cfg, key, eq + 1, NULL, err, sizeof(err)) < 0)
			errs_add(err, errs);
	}
	if (cli->users_file &&
	    st_config_set(cfg, "users_file", cli->users_file, "-u", err, sizeof(err)) < 0)
		errs_add(err, errs);
	for (size_t i = 0; i < cli->nlists; i++)
		if (list_add_flag(cfg, cli->lists[2 * i], cli->lists[2 * i + 1], err, sizeof(err)) <
		    0)
			errs_add(err, errs);
	if (errs->n + errs->more == before && st_config_validate(cfg, err, sizeof(err)) < 0)
		errs_add(err, errs);
	if (errs->n + errs->more == before)
		return 0;
	st_config_free(cfg);
	return (int)(errs->n + errs->more - before);
}

static int cli_parse(int argc, char **argv, st_cli_t *cli)
{
	enum { OPT_COMMUNITY = 256, OPT_SET, OPT_VERSION, OPT_MARKDOWN, OPT_HEALTH, OPT_TRANSLATE };
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"listen", required_argument, NULL, 'l'},
	        {"output", required_argument, NULL, 'o'},
	        {"users", required_argument, NULL, 'u'},
	        {"community", required_argument, NULL, OPT_COMMUNITY},
	        {"set", required_argument, NULL, OPT_SET},
	        {"check", no_argument, NULL, 'T'},
	        {"version", no_argument, NULL, OPT_VERSION},
	        {"config-markdown", no_argument, NULL, OPT_MARKDOWN},
	        {"health", required_argument, NULL, OPT_HEALTH},
	        {"mibdirs", required_argument, NULL, 'M'},
	        {"mibs", required_argument, NULL, 'm'},
	        {"translate", no_argument, NULL, OPT_TRANSLATE},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	cli->sets = calloc((size_t)argc, sizeof(char *));
	cli->lists = calloc((size_t)argc * 2, sizeof(char *));
	if (!cli->sets || !cli->lists)
		return -1;
	while ((c = getopt_long(argc, argv, "c:l:o:u:M:m:Th", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->config_file = optarg;
			break;
		case 'l':
		case 'o':
		case 'M':
		case 'm':
		case OPT_COMMUNITY:
			cli->lists[2 * cli->nlists] = c == 'l'   ? "listen"
			                              : c == 'o' ? "output"
			                              : c == 'M' ? "mibs.dirs"
			                              : c == 'm' ? "mibs.modules"
			                                         : "communities";
			cli->lists[2 * cli->nlists + 1] = optarg;
			cli->nlists++;
			break;
		case 'u':
			cli->users_file = optarg;
			break;
		case OPT_SET:
			cli->sets[cli->nsets++] = optarg;
			break;
		case 'T':
			cli->check = 1;
			break;
		case OPT_TRANSLATE:
			cli->translate = 1;
			break;
		case OPT_VERSION:
			printf("stormtrap %s\n", ST_VERSION);
			exit(0);
		case OPT_MARKDOWN:
			st_config_markdown(stdout);
			exit(0);
		case OPT_HEALTH: {
			/* a container HEALTHCHECK: no configuration, no threads */
			char herr[512];

			if (st_health_check(optarg, herr, sizeof(herr)) < 0) {
				fprintf(stderr, "stormtrap: unhealthy: %s\n", herr);
				exit(1);
			}
			exit(0);
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (cli->translate) {
		cli->oids = argv + optind;
		cli->noids = (size_t)(argc - optind);
		if (!cli->noids) {
			fprintf(stderr, "stormtrap: --translate: no OID given\n");
			return -1;
		}
	} else if (optind < argc) {
		fprintf(stderr, "stormtrap: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static unsigned ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

/* "loaded MIBs: ..." after a load at start or on reload */
static void log_mibs(const char *what, const st_config_t *cfg, const st_mib_stats_t *stats)
{
	if (!cfg->mibs_dirs.n) {
		st_log(ST_LOG_INFO, "%s: none (no mibs.dirs): numeric names only", what);
		return;
	}
	st_log(ST_LOG_INFO,
	       "%s: %u modules (%u failed), %u names, %u notifications, %llu KiB, from %zu "
	       "director%s",
	       what, stats->modules, stats->failed, stats->nodes, stats->notifications,
	       (unsigned long long)(stats->bytes + 1023) / 1024, cfg->mibs_dirs.n,
	       cfg->mibs_dirs.n == 1 ? "y" : "ies");
}

static int load_users(const st_config_t *cfg, st_usm_users_t **users, char *err, size_t errlen)
{
	*users = NULL;
	if (!cfg->users_file[0])
		return 0;
	return st_usm_users_load(cfg->users_file, users, err, errlen);
}

/*
 * The effective configuration, secrets redacted, one key per log line
 * ("config: ingest.backend: recvmmsg  # command line"), at info: the log
 * then says what every run ran with, and one key is one grep away.
 */
static void log_config(const st_config_t *cfg)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	st_config_dump(cfg, f);
	if (fclose(f) != 0 || !text) {
		free(text);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			st_log(ST_LOG_INFO, "config: %s", line);
	free(text);
}

typedef struct st_app {
	st_cli_t cli;
	st_config_t cfg;
	st_rt_t rt;
	st_kafka_conf_t kafka; /* borrows from cfg */
	size_t nusers;         /* SNMPv3 users loaded at start */
	st_sink_conf_t sink_conf;
} st_app_t;

/* the sinks' settings, from the validated configuration: typed, once */
static void sink_conf_fill(st_app_t *app, unsigned nworkers)
{
	const st_config_t *cfg = &app->cfg;

	app->kafka = (st_kafka_conf_t){
	        .topic = cfg->output_kafka_topic,
	        .key = (st_kafka_key_t)cfg->output_kafka_key,
	        .headers = cfg->output_kafka_headers,
	        .queue_timeout_ms = (int)cfg->output_kafka_queue_timeout_ms,
	        .spool_dir = cfg->output_kafka_spool_dir,
	        .spool_max = cfg->output_kafka_spool_max,
	        .acceptance = (st_kafka_acceptance_t)cfg->output_kafka_acceptance,
	        .fsync = (st_kafka_fsync_t)cfg->output_kafka_fsync,
	        .full = (st_kafka_full_t)cfg->output_kafka_journal_full,
	        .rdkafka = (const char *const *)cfg->output_kafka_rdkafka.kv,
	};
	app->sink_conf = (st_sink_conf_t){
	        .nworkers = nworkers,
	        .batch_bytes = cfg->output_batch_bytes,
	        .file_mode = cfg->output_file_mode,
	        .kafka = &app->kafka,
	        .log = st_log_sink,
	};
}

static int sinks_open(st_app_t *app, char *err, size_t errlen)
{
	st_config_t *cfg = &app->cfg;
	st_rt_t *rt = &app->rt;
	int rc;

	sink_conf_fill(app, rt->nworkers);
	rt->sinks = calloc(cfg->output.n, sizeof(st_sink_t *));
	if (!rt->sinks)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->output.n; i++) {
		rc = st_sink_new(cfg->output.v[i], &app->sink_conf, &rt->sinks[i], err, errlen);
		if (rc < 0)
			return rc;
		rt->nsinks++;
	}
	for (unsigned i = 0; i < rt->nsinks; i++)
		if ((rc = st_sink_start(rt->sinks[i], err, errlen)) < 0)
			return rc;
	return 0;
}

static int runtime_build(st_app_t *app, char *err, size_t errlen)
{
	st_config_t *cfg = &app->cfg;
	st_rt_t *rt = &app->rt;
	st_usm_users_t *users = NULL;
	st_auth_t *auth = NULL;
	st_usm_conf_t uconf;
	int rc;

	rt->ningest = cfg->threads_ingest ? cfg->threads_ingest : ncores();
	rt->nworkers = cfg->threads_workers ? cfg->threads_workers : ncores();
	rt->backend = cfg->ingest_backend;
	rt->rcvbuf = cfg->ingest_rcvbuf;
	rt->ring_bytes = cfg->ingest_ring_bytes;
	rt->batch = cfg->ingest_batch;
	rt->affinity = cfg->threads_affinity;
	rt->name = cfg->collector_name;
	rt->engine_id = cfg->snmp_engine_id.v;
	rt->engine_id_len = cfg->snmp_engine_id.len;
	rt->out_community = cfg->output_community;
	rt->out_big_numbers = cfg->output_big_numbers == ST_CONFIG_BIG_NUMBERS_STRING
	                              ? ST_JSON_BIG_STRING
	                              : ST_JSON_BIG_NUMBER;
	rt->out_raw = cfg->output_raw;
	rt->log_bad_packets = cfg->log_bad_packets;
	rt->discovery = cfg->snmp_discovery;
	rt->reports_rate = cfg->snmp_reports_rate;
	rt->reports_per_source_rate = cfg->snmp_reports_per_source_rate;

	rt->lis = calloc(cfg->listen.n, sizeof(*rt->lis));
	if (!rt->lis)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->listen.n; i++) {
		if ((rc = st_listener_parse(cfg->listen.v[i], &rt->lis[i], err, errlen)) < 0)
			return rc;
		rt->nlis++;
	}

	if ((rc = load_users(cfg, &users, err, errlen)) < 0)
		return rc;
	app->nusers = users ? st_usm_users_count(users) : 0;
	{
		st_mib_t *mib = NULL;
		st_mib_stats_t stats;

		if ((rc = st_mibs_load(cfg, &mib, &stats, err, errlen)) < 0) {
			st_usm_users_free(users);
			return rc;
		}
		st_mibs_publish(rt, mib, &stats);
		if (mib)
			log_mibs("loaded MIBs", cfg, &stats);
	}
	uconf = (st_usm_conf_t){
	        .engine_id = cfg->snmp_engine_id.v,
	        .engine_id_len = cfg->snmp_engine_id.len,
	        .engine_boots = (int32_t)cfg->snmp_engine_boots,
	        .engine_epoch = cfg->snmp_engine_epoch,
	        .timeliness = cfg->usm_timeliness,
	        .max_engines = cfg->usm_max_engines,
	};
	if ((rc = st_usm_new(&uconf, users, &rt->usm, err, errlen)) < 0)
		return rc;

	if ((rc = st_auth_new(cfg->communities.v, cfg->communities.n, &auth)) < 0)
		return rc;
	atomic_init(&rt->auth, auth);

	rt->rings = calloc((size_t)rt->ningest * rt->nworkers, sizeof(st_ring_t));
	/* aligned: each worker's futex word sits on a cache line of its own */
	rt->workers = aligned_alloc(ST_CACHELINE, rt->nworkers * sizeof(st_worker_t));
	if (rt->workers)
		memset(rt->workers, 0, rt->nworkers * sizeof(st_worker_t));
	if (!rt->rings || !rt->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < rt->ningest * rt->nworkers; i++)
		if ((rc = st_ring_init(&rt->rings[i], rt->ring_bytes)) < 0) {
			snprintf(err, errlen, "ingest.ring_bytes: cannot allocate rings: %s",
			         strerror(-rc));
			return rc;
		}
	return sinks_open(app, err, errlen);
}

static void runtime_free(st_rt_t *rt)
{
	st_ingest_free(rt);
	st_worker_free_all(rt);
	free(rt->workers);
	for (unsigned i = 0; rt->rings && i < rt->ningest * rt->nworkers; i++)
		st_ring_destroy(&rt->rings[i]);
	free(rt->rings);
	for (unsigned i = 0; i < rt->nsinks; i++)
		st_sink_free(rt->sinks[i]);
	free(rt->sinks);
	st_usm_free(rt->usm);
	st_auth_free(atomic_load(&rt->auth));
	st_mib_free(atomic_load(&rt->mib));
	for (unsigned i = 0; i < rt->nlis; i++)
		free(rt->lis[i].uri);
	free(rt->lis);
}

/* SIGHUP: the MIBs, built here while workers go on with the old ones */
static void reload_mibs(st_app_t *app, const st_config_t *cfg)
{
	st_mib_t *mib = NULL;
	st_mib_stats_t stats;
	char err[1024];

	if (!cfg->mibs_dirs.n && !atomic_load(&app->rt.mib))
		return; /* no MIBs before, none now: nothing to say */
	if (st_mibs_load(cfg, &mib, &stats, err, sizeof(err)) < 0) {
		st_mibs_failed(&app->rt);
		st_log(ST_LOG_ERROR, "reload: %s; keeping the running MIBs", err);
		return;
	}
	st_mibs_publish(&app->rt, mib, &stats);
	log_mibs("reloaded MIBs", cfg, &stats);
}

/* SIGHUP: MIBs, users, communities and files; keep the old on any error */
static void reload(st_app_t *app)
{
	st_config_t cfg;
	st_usm_users_t *users = NULL;
	st_auth_t *auth = NULL;
	st_errs_t errs = {.n = 0};
	char err[1024];

	if (config_build(&app->cli, &cfg, &errs) > 0) {
		for (size_t i = 0; i < errs.n; i++)
			st_log(ST_LOG_ERROR, "reload: %s", errs.v[i]);
		st_log(ST_LOG_ERROR, "reload: keeping the running configuration");
		errs_free(&errs);
		return;
	}
	reload_mibs(app, &cfg);
	if (load_users(&cfg, &users, err, sizeof(err)) < 0 ||
	    (users && st_usm_users_check(users, err, sizeof(err)) < 0)) {
		st_log(ST_LOG_ERROR, "reload: %s; keeping the running users and communities", err);
		st_usm_users_free(users);
		st_config_free(&cfg);
		return;
	}
	if (st_auth_new(cfg.communities.v, cfg.communities.n, &auth) < 0) {
		st_log(ST_LOG_ERROR, "reload: out of memory; keeping the running configuration");
		st_usm_users_free(users);
		st_config_free(&cfg);
		return;
	}
	st_usm_set_users(app->rt.usm, users);
	st_rt_swap_auth(&app->rt, auth);
	for (unsigned i = 0; i < app->rt.nsinks; i++)
		if (st_sink_reopen(app->rt.sinks[i]) < 0)
			st_log(ST_LOG_ERROR, "reload: cannot reopen output '%s'",
			       st_sink_uri(app->rt.sinks[i]));
	st_log(ST_LOG_INFO, "reloaded: %zu SNMPv3 users, %zu communities, files reopened",
	       users ? st_usm_users_count(users) : 0, cfg.communities.n);
	st_config_free(&cfg);
}

/* -T: the configuration is valid; now what start-up needs from the system.
 * Every problem on its own line and exit 1, or the effective configuration
 * on stdout and exit 0. */
static int check_only(st_app_t *app)
{
	st_errs_t errs = {.n = 0};
	int n;

	sink_conf_fill(app, 1);
	n = st_preflight(&app->cfg, &app->sink_conf, errs_add, &errs);
	if (n < 0)
		errs_add("out of memory", &errs);
	if (n == 0)
		st_config_dump(&app->cfg, stdout);
	errs_print(&errs);
	errs_free(&errs);
	st_config_free(&app->cfg);
	return n == 0 ? 0 : 1;
}

/* --translate OID...: what the collector would name each OID */
static int translate_only(st_app_t *app)
{
	st_mib_t *mib = NULL;
	st_mib_stats_t stats;
	char err[1024];
	int code = 1;

	if (!app->cfg.mibs_dirs.n) {
		fprintf(stderr, "stormtrap: --translate: no MIBs to translate with: give -M DIR or "
		                "set mibs.dirs\n");
		goto out;
	}
	if (st_mibs_load(&app->cfg, &mib, &stats, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormtrap: %s\n", err);
		goto out;
	}
	code = st_mibs_translate(mib, app->cli.oids, app->cli.noids, stdout) ? 2 : 0;
out:
	st_mib_free(mib);
	st_config_free(&app->cfg);
	return code;
}

int main(int argc, char **argv)
{
	static st_app_t app;
	st_rt_t *rt = &app.rt;
	st_http_t *http = NULL;
	char err[1024] = "";
	st_errs_t errs = {.n = 0};
	sigset_t sigs;
	int rc, code = 1;

	if (cli_parse(argc, argv, &app.cli) < 0)
		return 1;
	if (config_build(&app.cli, &app.cfg, &errs) > 0) {
		/* with -T, files, ports and librdkafka are checked once these are fixed */
		errs_print(&errs);
		errs_free(&errs);
		return 1;
	}
	st_log_setup((st_log_level_t)app.cfg.log_level,
	             app.cfg.log_format == ST_CONFIG_LOG_FORMAT_JSON);
	if (app.cli.check)
		return check_only(&app);
	if (app.cli.translate)
		return translate_only(&app);

	/* signals go to the main thread only: block them before any thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = runtime_build(&app, err, sizeof(err));
	if (rc == 0)
		rc = st_worker_start(rt, err, sizeof(err));
	if (rc == 0) {
		atomic_store(&rt->threads_running, 1);
		rc = st_ingest_start(rt, err, sizeof(err));
		if (rc < 0)
			st_worker_join(rt);
	}
	if (rc == 0 && app.cfg.metrics_listen[0]) {
		rc = st_http_start(app.cfg.metrics_listen, rt, &http, err, sizeof(err));
		if (rc < 0) {
			st_ingest_join(rt);
			st_worker_join(rt);
			atomic_store(&rt->threads_running, 0);
		}
	}
	if (rc < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", st_strerror(rc));
		fprintf(stderr, "stormtrap: %s\n", err);
		goto out;
	}

	for (unsigned i = 0; i < rt->nlis; i++) {
		char addr[ST_ADDR_TEXT_MAX];

		st_addr_format(&rt->lis[i].addr.sa, addr, sizeof(addr));
		st_log(ST_LOG_INFO, "listening on udp://%s (%s, %u ingest, %u workers)", addr,
		       st_backend_name(rt->ingest[0].backend), rt->ningest, rt->nworkers);
	}
	for (unsigned i = 0; i < rt->nsinks; i++)
		st_log(ST_LOG_INFO, "output %s", st_sink_uri(rt->sinks[i]));
	st_log(ST_LOG_INFO, "loaded %zu SNMPv3 users%s%s, %zu communities", app.nusers,
	       app.cfg.users_file[0] ? " from " : "", app.cfg.users_file, app.cfg.communities.n);
	log_config(&app.cfg);

	for (int64_t next = 0;;) {
		/* samples /proc when due; the wait ends at the next deadline */
		int64_t left = st_ingest_sample_tick(rt, &next);
		struct timespec to = {.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000L};
		int sig = sigtimedwait(&sigs, NULL, &to);

		if (sig == SIGTERM || sig == SIGINT) {
			st_log(ST_LOG_INFO, "%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (sig == SIGHUP)
			reload(&app);
		else if (sig == SIGUSR1) {
			st_ingest_sample_drops(rt); /* asked for: fresh drop counts */
			st_log_counters(rt);
		}
	}

	st_ingest_join(rt);
	st_ingest_sample_drops(rt);
	st_worker_join(rt);
	atomic_store(&rt->threads_running, 0);
	code = 0;
	for (unsigned i = 0; i < rt->nsinks; i++)
		if (st_sink_close(rt->sinks[i], (int)app.cfg.shutdown_timeout_ms) < 0) {
			st_log(ST_LOG_ERROR, "output '%s': not everything could be delivered",
			       st_sink_uri(rt->sinks[i]));
			code = 1;
		}
	st_log_counters(rt);
	st_log(ST_LOG_INFO, "stopped");
out:
	st_http_stop(http);
	runtime_free(rt);
	st_config_free(&app.cfg);
	free(app.cli.sets);
	free(app.cli.lists);
	return code;
}
