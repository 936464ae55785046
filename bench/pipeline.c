/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.c - st-pipeline: how many notifications one core turns from a
 * datagram into a JSON line, without sockets.
 *
 * This is the collector's worker path in isolation: st_snmp_decode(), for
 * v3 st_usm_process() (authenticate, check time, decrypt), then
 * st_json_encode(). The corpus is built at start with the load generator's
 * own templates and v3 sender (16 engines, so the USM cache sees more than
 * one), plus the real Net-SNMP and pysnmp datagrams of testdata/captures.h.
 * Each scenario cycles through its corpus on one thread; the rate is
 * messages per second of that thread's CPU time (CLOCK_THREAD_CPUTIME_ID),
 * so it is a per-core figure even when the machine is busy with something
 * else. Every message must go through: a failure is reported and makes the
 * exit status non-zero, so a broken pipeline cannot post a fast number.
 *
 * For profiling, each scenario is also run cut short after decode, after
 * USM and after translation, so the report shows what each stage costs (ns
 * per message).
 *
 * The scenarios ending in "-mib" run with MIB translation on, as a worker
 * does with -M/-m: st_mib_translate() names the notification and every
 * varbind (name, enumeration label, DISPLAY-HINT rendering) over the
 * standard MIB set, and the encoder writes those names. Their corpus is the
 * linkDown the issue describes (ifIndex, ifDescr, ifAdminStatus,
 * ifOperStatus), every OID of which the standard set names: a message that
 * comes out with an OID left unnamed is a failure, like a message that does
 * not decode. The MIB directories are --mibs DIR (repeatable), else
 * $ST_MIB_DIR, else what scripts/fetch-mibs gathers; when none can be had,
 * these scenarios are reported as skipped, with the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "captures.h"
#include "st_codec.h"
#include "st_mib.h"
#include "st_usm.h"

#define PIPE_CORPUS_MAX  32
#define PIPE_ENGINES     16
#define PIPE_CLOCK_BATCH 64 /* one receive timestamp per this many messages, as recvmmsg */
#define PIPE_RUNS_MAX    15
#define PIPE_SCENARIOS   7
#define PIPE_MIB_DIRS    16
#define PIPE_MIB_ARENA   (64 * 1024) /* the names of one message */
#define PIPE_ERR_UNNAMED (-9001)     /* an OID translation left without a name */

typedef struct pipe_dgram {
	uint8_t *buf;
	size_t len;
} pipe_dgram_t;

typedef struct pipe_scenario {
	const char *name;
	const char *what;
	double target; /* messages/s per core the project aims for; 0: none */
	pipe_dgram_t dg[PIPE_CORPUS_MAX];
	size_t n;
	int v3;
	int mib; /* translation on */
} pipe_scenario_t;

enum { STAGE_DECODE = 0, STAGE_USM = 1, STAGE_MIB = 2, STAGE_JSON = 3, STAGE_COUNT };
static const char *const stage_names[STAGE_COUNT] = {"decode", "decode+usm", "decode+usm+mib",
                                                     "decode+usm+mib+json"};

typedef struct pipe_ctx {
	st_usm_t *usm;
	st_usm_worker_t *w;
	st_msg_t *msg;
	char *json;
	size_t json_cap;
	struct sockaddr_in src, dst;
	st_mib_t *mib; /* the standard set, for the -mib scenarios */
	st_json_names_t names;
	st_json_vbname_t *vb;
	char *arena;
	uint64_t failures;
	int last_err;
} pipe_ctx_t;

/* The users the corpus was made for, in snmptrapd.conf syntax. */
static const char users_text[] =
        "createUser bench-auth SHA authpass123\n"
        "createUser bench-priv SHA authpass123 AES privpass123\n"
        /* the captured datagrams' users (testdata/captures.h) */
        "createUser -e 0x8000000001020304 bob\n"
        "createUser -e 0x80001f8880aabbccdd alice SHA authpass123 AES privpass123\n";

static int add_dgram(pipe_scenario_t *sc, const uint8_t *buf, size_t len)
{
	if (sc->n == PIPE_CORPUS_MAX)
		return -ENOSPC;
	sc->dg[sc->n].buf = malloc(len);
	if (!sc->dg[sc->n].buf)
		return -ENOMEM;
	memcpy(sc->dg[sc->n].buf, buf, len);
	sc->dg[sc->n].len = len;
	sc->n++;
	return 0;
}

/* n v1/v2c messages from the bench template, request-ids varied */
static int add_v12(pipe_scenario_t *sc, int version, unsigned nvarbinds, unsigned n)
{
	st_bench_tmpl_t *t = malloc(sizeof(*t));
	int rc = t ? 0 : -ENOMEM;

	if (!rc)
		rc = st_bench_tmpl_v12(t, version,
		                       version == ST_SNMP_V1 ? ST_PDU_TRAPV1 : ST_PDU_TRAPV2,
		                       "public", nvarbinds, htonl(0xc0000207u));
	for (unsigned i = 0; !rc && i < n; i++) {
		if (t->reqid_off)
			st_bench_put_reqid(t->buf, t->reqid_off, (int32_t)(0x1000 + i * 7919));
		rc = add_dgram(sc, t->buf, t->len);
	}
	free(t);
	return rc;
}

/* n v3 traps from PIPE_ENGINES engines, as stormtrap-bench sends them */
static int add_v3(pipe_scenario_t *sc, const char *user, int auth, int priv, unsigned nvarbinds,
                  unsigned n, char *err, size_t errlen)
{
	st_bench_tmpl_t *t = malloc(sizeof(*t));
	st_usm_sender_t *s = NULL;
	uint8_t eid[13] = {0x80, 0x00, 0x1f, 0x88, 0x05, 'p', 'i', 'p', 'e', 0, 0, 0, 0};
	uint8_t out[ST_BENCH_TMPL_MAX + 512];
	struct timespec now;
	int rc;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!t)
		return -ENOMEM;
	rc = st_bench_tmpl_scoped(t, ST_PDU_TRAPV2, eid, sizeof(eid), nvarbinds);
	if (rc == 0) {
		st_usm_sender_conf_t conf = {
		        .user = user,
		        .auth = auth,
		        .auth_pass = "authpass123",
		        .priv = priv,
		        .priv_pass = "privpass123",
		        .engine_id = eid,
		        .engine_id_len = sizeof(eid),
		        .engine_boots = 1,
		};
		rc = st_usm_sender_new(&conf, &now, &s, err, errlen);
	}
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		eid[sizeof(eid) - 1] = (uint8_t)(i % PIPE_ENGINES);
		rc = st_usm_sender_set_engine(s, eid, sizeof(eid), 1, 100, &now);
		if (rc < 0)
			break;
		memcpy(t->buf + t->ctx_engine_off, eid, sizeof(eid));
		st_bench_put_reqid(t->buf, t->reqid_off, (int32_t)(0x2000 + i * 7919));
		rc = st_usm_sender_encode(s, (int32_t)(100 + i), 0, t->buf, t->len, &now, out,
		                          sizeof(out));
		if (rc > 0)
			rc = add_dgram(sc, out, (size_t)rc);
	}
	if (rc < 0 && err[0] == 0)
		snprintf(err, errlen, "building the %s corpus: %s", sc->name, st_strerror(rc));
	st_usm_sender_free(s);
	free(t);
	return rc < 0 ? rc : 0;
}

static int build_corpus(pipe_scenario_t *sc, size_t *nsc, char *err, size_t errlen)
{
	int rc = 0;

	memset(sc, 0, sizeof(*sc) * PIPE_SCENARIOS);
	sc[0] = (pipe_scenario_t){.name = "v2c",
	                          .target = 2e6,
	                          .what = "v2c traps: 16 from the bench template (2 varbinds), "
	                                  "4 captured from Net-SNMP and pysnmp"};
	sc[1] = (pipe_scenario_t){.name = "v1",
	                          .what = "v1 traps: 8 from the bench template, "
	                                  "2 captured from Net-SNMP"};
	sc[2] = (pipe_scenario_t){.name = "v3-noAuthNoPriv",
	                          .v3 = 1,
	                          .what = "v3 noAuthNoPriv trap captured from Net-SNMP"};
	sc[3] = (pipe_scenario_t){.name = "v3-authNoPriv",
	                          .v3 = 1,
	                          .what = "v3 SHA traps: 16 from the bench sender, 16 engines"};
	sc[4] = (pipe_scenario_t){.name = "v3-authPriv",
	                          .v3 = 1,
	                          .target = 7e5,
	                          .what = "v3 SHA/AES-128 traps: 16 from the bench sender, "
	                                  "16 engines, 1 captured from Net-SNMP"};
	sc[5] = (pipe_scenario_t){
	        .name = "v2c-mib",
	        .target = 1.5e6,
	        .mib = 1,
	        .what = "v2c linkDown traps with translation: 16 from the bench "
	                "template (ifIndex, ifDescr, ifAdminStatus, ifOperStatus)"};
	sc[6] = (pipe_scenario_t){.name = "v3-authPriv-mib",
	                          .v3 = 1,
	                          .mib = 1,
	                          .target = 7e5,
	                          .what = "v3 SHA/AES-128 linkDown traps with translation: 16 from "
	                                  "the bench sender, 16 engines, the same 4 varbinds"};
	*nsc = PIPE_SCENARIOS;
	if ((rc = add_v12(&sc[0], ST_SNMP_V2C, 2, 16)) < 0 ||
	    (rc = add_dgram(&sc[0], cap_v2c_types, sizeof(cap_v2c_types))) < 0 ||
	    (rc = add_dgram(&sc[0], cap_v2c_opaque, sizeof(cap_v2c_opaque))) < 0 ||
	    (rc = add_dgram(&sc[0], cap_v2c_inform, sizeof(cap_v2c_inform))) < 0 ||
	    (rc = add_dgram(&sc[0], cap_pysnmp_v2c, sizeof(cap_pysnmp_v2c))) < 0 ||
	    (rc = add_v12(&sc[1], ST_SNMP_V1, 2, 8)) < 0 ||
	    (rc = add_dgram(&sc[1], cap_v1_generic, sizeof(cap_v1_generic))) < 0 ||
	    (rc = add_dgram(&sc[1], cap_v1_specific, sizeof(cap_v1_specific))) < 0 ||
	    (rc = add_dgram(&sc[2], cap_v3_noauth, sizeof(cap_v3_noauth))) < 0 ||
	    (rc = add_dgram(&sc[4], cap_v3_authpriv, sizeof(cap_v3_authpriv))) < 0 ||
	    (rc = add_v12(&sc[5], ST_SNMP_V2C, 4, 16)) < 0) {
		snprintf(err, errlen, "building the corpus: %s", st_strerror(rc));
		return rc;
	}
	if ((rc = add_v3(&sc[3], "bench-auth", ST_USM_AUTH_SHA1, ST_USM_PRIV_NONE, 2, 16, err,
	                 errlen)) < 0 ||
	    (rc = add_v3(&sc[4], "bench-priv", ST_USM_AUTH_SHA1, ST_USM_PRIV_AES128, 2, 16, err,
	                 errlen)) < 0 ||
	    (rc = add_v3(&sc[6], "bench-priv", ST_USM_AUTH_SHA1, ST_USM_PRIV_AES128, 4, 16, err,
	                 errlen)) < 0)
		return rc;
	return 0;
}

/* One notification through the pipeline, up to and including @p stage. */
static inline int one(pipe_ctx_t *c, const pipe_dgram_t *d, int v3, int mib, int stage,
                      const struct timespec *now)
{
	st_json_meta_t meta = {
	        .time = *now,
	        .collector = "pipeline",
	        .src = (const struct sockaddr *)&c->src,
	        .dst = (const struct sockaddr *)&c->dst,
	        .community = 1,
	};
	size_t rlen;
	int rc = st_snmp_decode(d->buf, d->len, c->msg);

	if (rc < 0 || stage == STAGE_DECODE)
		return rc;
	if (v3) {
		st_usm_note_source(c->w, (const struct sockaddr *)&c->src);
		rc = st_usm_process(c->w, d->buf, d->len, c->msg, now, NULL, 0, &rlen);
		if (rc < 0 || stage == STAGE_USM)
			return rc;
	}
	if (mib) {
		/* as the worker: every OID of this corpus has a name, and the
		 * line must fit the buffer with the names */
		if (st_mib_translate(c->mib, c->msg, &c->names, c->vb, ST_SNMP_MAX_VARBINDS,
		                     c->arena, PIPE_MIB_ARENA) != 0 ||
		    !c->names.trap_name)
			return PIPE_ERR_UNNAMED;
		if (st_json_bound_names(d->len, &c->names) > c->json_cap)
			return ST_ERR_JSON_SPACE;
		if (stage == STAGE_MIB)
			return 0;
		meta.names = &c->names;
	}
	rc = st_json_encode(c->msg, &meta, c->json, c->json_cap, NULL);
	return rc < 0 ? rc : 0;
}

static const char *pipe_strerror(int err)
{
	return err == PIPE_ERR_UNNAMED ? "an OID without a name" : st_strerror(err);
}

/*
 * The standard MIB set for the -mib scenarios: --mibs directories, else
 * $ST_MIB_DIR's npm/, netsnmp/ and erlang/, else those of the directory
 * scripts/fetch-mibs prints (found from this file's path, as the tests find
 * it). 0, or a reason in why.
 */
static int load_mibs(pipe_ctx_t *c, const char **dirs, size_t ndirs, char *why, size_t whylen)
{
	char base[1024] = "", sub[3][1100], cmd[1200], err[512];
	const char *env = getenv("ST_MIB_DIR"), *std[4];
	st_mib_stats_t st;
	int rc;

	if (!ndirs) {
		if (env && *env) {
			snprintf(base, sizeof(base), "%s", env);
		} else {
			char root[1024], line[1024] = "";
			char *slash;
			FILE *p;
			snprintf(root, sizeof(root), "%s", __FILE__);
			for (int up = 0; up < 2 && (slash = strrchr(root, '/')); up++)
				*slash = 0; /* bench/pipeline.c -> the root */
			snprintf(cmd, sizeof(cmd), "'%s/scripts/fetch-mibs' 2>&1", root);
			p = popen(cmd, "r");
			while (p && fgets(line, sizeof(line), p))
				;
			if (!p || pclose(p) != 0) {
				line[strcspn(line, "\n")] = 0;
				snprintf(why, whylen, "no MIB set: scripts/fetch-mibs: %s",
				         line[0] ? line : "cannot run it");
				return -1;
			}
			line[strcspn(line, "\n")] = 0;
			snprintf(base, sizeof(base), "%s", line);
		}
		static const char *const part[3] = {"npm", "netsnmp", "erlang"};
		for (int i = 0; i < 3; i++) {
			snprintf(sub[i], sizeof(sub[i]), "%s/%s", base, part[i]);
			std[i] = sub[i];
		}
		std[3] = NULL;
		dirs = std;
	}
	rc = st_mib_load(dirs, NULL, NULL, &c->mib, &st, err, sizeof(err));
	if (rc < 0) {
		snprintf(why, whylen, "no MIB set: %s", err);
		return -1;
	}
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Messages per CPU-second over @p iters messages (or, with iters 0, over
 * at least @p seconds of CPU time). */
static double run(pipe_ctx_t *c, const pipe_scenario_t *sc, int stage, uint64_t iters,
                  double seconds)
{
	struct timespec now;
	uint64_t done = 0;
	double t0 = cpu_now(), t;
	size_t k = 0;

	for (;;) {
		uint64_t chunk = iters ? iters - done : 16384;

		if (chunk > 16384)
			chunk = 16384;
		for (uint64_t i = 0; i < chunk; i++) {
			if (i % PIPE_CLOCK_BATCH == 0)
				clock_gettime(CLOCK_REALTIME, &now);
			int rc = one(c, &sc->dg[k], sc->v3, sc->mib, stage, &now);
			if (rc < 0) {
				c->failures++;
				c->last_err = rc;
			}
			if (++k == sc->n)
				k = 0;
		}
		done += chunk;
		t = cpu_now() - t0;
		if (iters ? done >= iters : t >= seconds)
			break;
	}
	return t > 0 ? (double)done / t : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: st-pipeline [--iterations N | --seconds S] [--runs R] [--scenario NAME]"
	           " [--mibs DIR]... [--json] [--full-only]\n"
	           "  --iterations N  messages per run and stage (default: --seconds)\n"
	           "  --seconds S     CPU seconds per run and stage (default 1)\n"
	           "  --runs R        runs per scenario; the median is reported (default 3)\n"
	           "  --scenario NAME only v2c, v1, v3-noAuthNoPriv, v3-authNoPriv, v3-authPriv,\n"
	           "                  v2c-mib or v3-authPriv-mib\n"
	           "  --mibs DIR      MIB directory for the -mib scenarios (repeatable; default\n"
	           "                  $ST_MIB_DIR, else the set scripts/fetch-mibs gathers)\n"
	           "  --json          machine-readable report\n"
	           "  --full-only     skip the per-stage runs (for perf record)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"iterations", required_argument, NULL, 'i'},
	        {"seconds", required_argument, NULL, 's'},
	        {"runs", required_argument, NULL, 'r'},
	        {"scenario", required_argument, NULL, 'n'},
	        {"json", no_argument, NULL, 'j'},
	        {"full-only", no_argument, NULL, 'f'},
	        {"mibs", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	static pipe_scenario_t sc[PIPE_SCENARIOS];
	const char *mib_dirs[PIPE_MIB_DIRS + 1] = {NULL};
	size_t nmib_dirs = 0;
	char mib_skip[600] = "";
	st_usm_conf_t conf = {.timeliness = ST_USM_TIMELINESS_LEARN};
	st_usm_users_t *users = NULL;
	pipe_ctx_t c = {0};
	uint64_t iters = 0;
	double seconds = 1;
	unsigned runs = 3;
	const char *only = NULL;
	int json = 0, full_only = 0, opt, ret = 1, first = 1, rc;
	char err[512] = "";
	size_t nsc = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iters = strtoull(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			only = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'f':
			full_only = 1;
			break;
		case 'm':
			if (nmib_dirs == PIPE_MIB_DIRS) {
				fprintf(stderr, "st-pipeline: at most %d --mibs\n", PIPE_MIB_DIRS);
				return 1;
			}
			mib_dirs[nmib_dirs++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (runs < 1 || runs > PIPE_RUNS_MAX || !(seconds > 0)) {
		usage(stderr);
		return 1;
	}

	c.src.sin_family = c.dst.sin_family = AF_INET;
	c.src.sin_addr.s_addr = htonl(0xc0000207u); /* 192.0.2.7 */
	c.src.sin_port = htons(50123);
	c.dst.sin_addr.s_addr = htonl(0xc000020au); /* 192.0.2.10 */
	c.dst.sin_port = htons(162);
	c.msg = malloc(sizeof(*c.msg));
	/* room for a full arena of names, as the worker sizes its buffer */
	c.json_cap = st_json_bound(ST_USM_MSG_MAX) +
	             ST_JSON_NAMES_BOUND(PIPE_MIB_ARENA, ST_SNMP_MAX_VARBINDS);
	c.json = malloc(c.json_cap);
	c.vb = calloc(ST_SNMP_MAX_VARBINDS, sizeof(*c.vb));
	c.arena = malloc(PIPE_MIB_ARENA);
	if (!c.msg || !c.json || !c.vb || !c.arena) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (build_corpus(sc, &nsc, err, sizeof(err)) < 0)
		goto out;
	if (st_usm_users_parse(users_text, "pipeline users", &users, err, sizeof(err)) < 0)
		goto out;
	rc = st_usm_new(&conf, users, &c.usm, err, sizeof(err));
	users = NULL; /* taken over, also on failure */
	if (rc < 0)
		goto out;
	c.w = st_usm_worker_new(c.usm);
	if (!c.w) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nsc; i++) {
		if (sc[i].mib && (!only || strcmp(only, sc[i].name) == 0)) {
			if (load_mibs(&c, mib_dirs, nmib_dirs, mib_skip, sizeof(mib_skip)) < 0 &&
			    nmib_dirs) {
				/* directories asked for that do not load: an error */
				snprintf(err, sizeof(err), "%s", mib_skip);
				goto out;
			}
			break;
		}
	}

	if (json)
		printf("{\"runs\":%u,\"iterations\":%" PRIu64 ",\"seconds\":%g,\"scenarios\":[",
		       runs, iters, iters ? 0 : seconds);
	else
		printf("st-pipeline: messages per second of one core (median of %u runs, %s)\n"
		       "%-16s %7s %11s %11s %11s %9s %9s  %s\n",
		       runs, iters ? "fixed iterations" : "CPU-time runs", "scenario", "bytes",
		       "msgs/s", "ns/msg", "decode ns", "usm ns", "mib ns", "target");
	for (size_t i = 0; i < nsc; i++) {
		pipe_scenario_t *s = &sc[i];
		double rate[STAGE_COUNT][PIPE_RUNS_MAX], med[STAGE_COUNT];
		uint64_t fail_before = c.failures;
		size_t bytes = 0;

		if (only && strcmp(only, s->name) != 0)
			continue;
		if (s->mib && !c.mib) {
			if (json)
				printf("%s{\"name\":\"%s\",\"skipped\":\"%s\"}", first ? "" : ",",
				       s->name, mib_skip);
			else
				printf("%-16s skipped: %s\n", s->name, mib_skip);
			first = 0;
			continue;
		}
		for (size_t k = 0; k < s->n; k++)
			bytes += s->dg[k].len;
		/* warm up: the USM cache learns the engines, contexts get keyed */
		run(&c, s, STAGE_JSON, s->n * 4, 0);
		for (int st = 0; st < STAGE_COUNT; st++) {
			if ((st == STAGE_USM && !s->v3) || (st == STAGE_MIB && !s->mib) ||
			    (full_only && st != STAGE_JSON)) {
				med[st] = 0;
				continue;
			}
			for (unsigned r = 0; r < runs; r++)
				rate[st][r] = run(&c, s, st, iters, seconds);
			qsort(rate[st], runs, sizeof(double), cmp_double);
			med[st] = runs % 2 ? rate[st][runs / 2]
			                   : (rate[st][runs / 2 - 1] + rate[st][runs / 2]) / 2;
		}
		double ns_all = med[STAGE_JSON] > 0 ? 1e9 / med[STAGE_JSON] : 0;
		double ns_dec = med[STAGE_DECODE] > 0 ? 1e9 / med[STAGE_DECODE] : 0;
		double ns_usm = s->v3 && med[STAGE_USM] > 0 && ns_dec > 0
		                        ? 1e9 / med[STAGE_USM] - ns_dec
		                        : 0;
		double ns_mib = s->mib && med[STAGE_MIB] > 0 && ns_dec > 0
		                        ? 1e9 / med[STAGE_MIB] - ns_dec - ns_usm
		                        : 0;
		uint64_t fails = c.failures - fail_before;
		if (json) {
			printf("%s{\"name\":\"%s\",\"corpus\":%zu,\"avg_bytes\":%.1f,\"what\":\"%"
			       "s\","
			       "\"msgs_per_s\":%.0f,\"ns_per_msg\":%.1f,\"decode_ns\":%.1f,"
			       "\"usm_ns\":%.1f,\"mib_ns\":%.1f,\"json_ns\":%.1f,"
			       "\"mib\":%s,\"failures\":%" PRIu64,
			       first ? "" : ",", s->name, s->n, (double)bytes / s->n, s->what,
			       med[STAGE_JSON], ns_all, ns_dec, ns_usm, ns_mib,
			       ns_all - ns_dec - ns_usm - ns_mib, s->mib ? "true" : "false", fails);
			printf(",\"runs_msgs_per_s\":[");
			for (unsigned r = 0; r < runs; r++)
				printf("%s%.0f", r ? "," : "", rate[STAGE_JSON][r]);
			printf("]");
			if (s->target > 0)
				printf(",\"target\":%.0f,\"met\":%s", s->target,
				       med[STAGE_JSON] >= s->target ? "true" : "false");
			printf("}");
		} else {
			printf("%-16s %7.1f %11.0f %11.1f %11.1f %9.1f %9.1f  ", s->name,
			       (double)bytes / s->n, med[STAGE_JSON], ns_all, ns_dec, ns_usm,
			       ns_mib);
			if (s->target > 0)
				printf("%.0f %s", s->target,
				       med[STAGE_JSON] >= s->target ? "met" : "MISSED");
			else
				printf("-");
			if (fails)
				printf("  %" PRIu64 " FAILED (%s)", fails,
				       pipe_strerror(c.last_err));
			printf("\n");
		}
		first = 0;
	}
	if (json)
		printf("],\"failures\":%" PRIu64 ",\"stages\":[\"%s\",\"%s\",\"%s\",\"%s\"]}\n",
		       c.failures, stage_names[0], stage_names[1], stage_names[2], stage_names[3]);
	else {
		printf("ns/msg = decode + usm + mib (translation) + JSON encoding; corpora:\n");
		for (size_t i = 0; i < nsc; i++)
			if (!only || strcmp(only, sc[i].name) == 0)
				printf("  %-16s %s\n", sc[i].name, sc[i].what);
	}
	if (c.failures) {
		snprintf(err, sizeof(err), "%" PRIu64 " messages failed the pipeline: %s",
		         c.failures, pipe_strerror(c.last_err));
		goto out;
	}
	ret = 0;
out:
	if (ret && err[0])
		fprintf(stderr, "st-pipeline: %s\n", err);
	if (c.w)
		st_usm_worker_free(c.w);
	if (c.usm)
		st_usm_free(c.usm);
	st_usm_users_free(users);
	for (size_t i = 0; i < nsc; i++)
		for (size_t k = 0; k < sc[i].n; k++)
			free(sc[i].dg[k].buf);
	st_mib_free(c.mib);
	free(c.msg);
	free(c.json);
	free(c.vb);
	free(c.arena);
	return ret;
}
