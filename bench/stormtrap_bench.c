/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stormtrap_bench.c - stormtrap-bench, an SNMP notification originator for
 * load tests: v1, v2c and v3 traps and informs at a steady rate.
 *
 * How it works:
 *  - Setup encodes one template (bench.h): a whole v1/v2c message, or for
 *    v3 a plaintext ScopedPDU that the usm library's sender turns into a
 *    message (encrypt with a fresh salt, encode, HMAC) for every datagram,
 *    as a real agent does. v3 traps come from --engines distinct
 *    authoritative engine IDs, each with its own localized keys (the
 *    passphrases are hashed once; each engine costs one localization). A
 *    sender object carries large buffers, so a thread keeps at most
 *    BENCH_SENDER_POOL of them and re-localizes one for engines beyond.
 *  - Each thread owns its sockets (--sources spread over the threads; each
 *    source is a socket bound to its own 127.0.0.x address and port) and
 *    sends batches with sendmmsg(), one socket per batch, round-robin.
 *  - Pacing: batch k is due at start + k * batch / rate. The thread sleeps
 *    to that absolute deadline (clock_nanosleep, timer slack 1 ns), so the
 *    rate stays even at hundreds of thousands per second. A thread that
 *    falls behind by more than two batches and 5 ms (it was preempted) does
 *    not burst to catch up: it moves its schedule (counted as "late"), and
 *    the achieved rate says so.
 *    --rate max sends without pacing.
 *  - Informs: request-ids are unique per thread (a random base plus a
 *    sequence number); a window indexed by sequence number holds each
 *    outstanding inform's send time. Responses are read on the same thread
 *    (epoll over its sockets while it waits for the next deadline), matched
 *    by request-id, and their latency goes into the thread's histogram.
 *    An inform not answered within --timeout counts as timed out; nothing
 *    is retransmitted. v3 informs start with RFC 3414 discovery: a probe,
 *    the receiver's Report teaches its engine ID, boots and time.
 *  - The main thread prints a progress line each second on a terminal,
 *    then one report (text, or JSON with --json) when the threads are done.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "st_codec.h"
#include "st_usm.h"
#include "st_util.h"

#define BENCH_MAX_BATCH         64    /* datagrams per sendmmsg() */
#define BENCH_RECV_BATCH        64    /* responses per recvmmsg() */
#define BENCH_RECV_MAX          65536 /* largest response read */
#define BENCH_V3_OVERHEAD       256   /* v3 header + USM parameters + padding */
#define BENCH_WINDOW_MAX        (1u << 20)
#define BENCH_SOCKBUF           (4 << 20)
#define BENCH_ENGINE_PREFIX_MAX 28
#define BENCH_SENDER_POOL       256

static atomic_int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, 1);
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

typedef struct bench_opts {
	const char *target_str;
	struct sockaddr_storage target;
	socklen_t target_len;
	double rate; /* 0: max */
	double duration;
	int have_duration;
	uint64_t count;
	int version; /* ST_SNMP_* */
	int inform;
	const char *community;
	const char *user, *auth_name, *auth_pass, *priv_name, *priv_pass;
	int auth, priv;
	uint8_t engine_prefix[BENCH_ENGINE_PREFIX_MAX];
	size_t engine_prefix_len;
	unsigned engines, sources, varbinds, threads, batch, timeout_ms;
	int json;
	int progress;
} bench_opts_t;

/* Engine i: the prefix, then i as 4 octets, big-endian. */
static size_t engine_id(const bench_opts_t *o, unsigned i, uint8_t *out)
{
	memcpy(out, o->engine_prefix, o->engine_prefix_len);
	out[o->engine_prefix_len] = (uint8_t)(i >> 24);
	out[o->engine_prefix_len + 1] = (uint8_t)(i >> 16);
	out[o->engine_prefix_len + 2] = (uint8_t)(i >> 8);
	out[o->engine_prefix_len + 3] = (uint8_t)i;
	return o->engine_prefix_len + 4;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: stormtrap-bench --target udp://HOST:PORT [options]\n"
	        "  --target URL        udp://127.0.0.1:1162 or udp://[::1]:1162\n"
	        "  --rate N|max        notifications per second, all threads (default 10000)\n"
	        "  --duration S        send for S seconds (default 10 unless --count)\n"
	        "  --count N           send N notifications in total\n"
	        "  --version 1|2c|3    SNMP version (default 2c)\n"
	        "  --inform            send InformRequests and wait for Responses (2c, 3)\n"
	        "  --community C       v1/v2c community (default public)\n"
	        "  --user NAME         v3 user (default stormtrap)\n"
	        "  --auth P            MD5|SHA|SHA-224|SHA-256|SHA-384|SHA-512 (default none)\n"
	        "  --auth-pass P       authentication passphrase\n"
	        "  --priv P            DES|3DES|AES|AES-192|AES-256|AES-192-C|AES-256-C\n"
	        "  --priv-pass P       privacy passphrase (default: the auth passphrase)\n"
	        "  --engines N         v3 traps: N sender engine IDs (default 1)\n"
	        "  --engine-id HEX     v3 traps: engine ID prefix; engine i is HEX, then i as\n"
	        "                      4 octets (default 80001f880573746200)\n"
	        "  --sources N         N source sockets, bound across 127.0.0.1-254 (default 1)\n"
	        "  --varbinds N        extra varbinds after sysUpTime.0/snmpTrapOID.0 (default 2)\n"
	        "  --threads N         sending threads (default 1)\n"
	        "  --batch N           datagrams per sendmmsg (default: by rate, at most 64)\n"
	        "  --timeout MS        inform timeout (default 1000)\n"
	        "  --json              print the report as JSON\n"
	        "  --no-progress       no progress line\n"
	        "exit status: 0 when something was delivered, 1 for bad options or a failed\n"
	        "setup, 2 when nothing was (every send failed, or no inform was acked), with\n"
	        "the reason on stderr, e.g. \"no inform acked: 20 Reports "
	        "usmStatsUnknownUserNames\"\n");
}

static int parse_target(bench_opts_t *o, const char *s, char *err, size_t errlen)
{
	char why[192];

	if (st_addr_parse(s, ST_ADDR_LOCALHOST, &o->target, &o->target_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--target: %s", why);
		return -EINVAL;
	}
	return 0;
}

static int parse_uint(const char *name, const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || s[0] == '-') {
		snprintf(err, errlen, "%s: '%s' is not a number in %llu..%llu", name, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

enum {
	OPT_TARGET = 256,
	OPT_RATE,
	OPT_DURATION,
	OPT_COUNT,
	OPT_VERSION,
	OPT_INFORM,
	OPT_COMMUNITY,
	OPT_USER,
	OPT_AUTH,
	OPT_AUTH_PASS,
	OPT_PRIV,
	OPT_PRIV_PASS,
	OPT_ENGINES,
	OPT_ENGINE_ID,
	OPT_SOURCES,
	OPT_VARBINDS,
	OPT_THREADS,
	OPT_BATCH,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_NO_PROGRESS,
	OPT_HELP,
};

static const struct option longopts[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"count", required_argument, NULL, OPT_COUNT},
        {"version", required_argument, NULL, OPT_VERSION},
        {"inform", no_argument, NULL, OPT_INFORM},
        {"community", required_argument, NULL, OPT_COMMUNITY},
        {"user", required_argument, NULL, OPT_USER},
        {"auth", required_argument, NULL, OPT_AUTH},
        {"auth-pass", required_argument, NULL, OPT_AUTH_PASS},
        {"priv", required_argument, NULL, OPT_PRIV},
        {"priv-pass", required_argument, NULL, OPT_PRIV_PASS},
        {"engines", required_argument, NULL, OPT_ENGINES},
        {"engine-id", required_argument, NULL, OPT_ENGINE_ID},
        {"sources", required_argument, NULL, OPT_SOURCES},
        {"varbinds", required_argument, NULL, OPT_VARBINDS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
};

/*
 * Options by concern. Each opt_* function takes the options of its concern
 * and returns 0 (taken), -EINVAL (taken, bad value; err filled) or
 * OPT_NOT_MINE; each check_* function checks its concern's combination once
 * every option is read.
 */
#define OPT_NOT_MINE 1

static void opts_default(bench_opts_t *o)
{
	static const uint8_t default_prefix[] = {0x80, 0x00, 0x1f, 0x88, 0x05, 's', 't', 'b', 0x00};

	memset(o, 0, sizeof(*o));
	o->rate = 10000;
	o->version = ST_SNMP_V2C;
	o->community = "public";
	o->user = "stormtrap";
	o->engines = o->sources = o->threads = 1;
	o->varbinds = 2;
	o->timeout_ms = 1000;
	o->progress = 1;
	memcpy(o->engine_prefix, default_prefix, sizeof(default_prefix));
	o->engine_prefix_len = sizeof(default_prefix);
}

/* where to: --target, --sources */
static int opt_target(bench_opts_t *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long long v = 0;
	int rc;

	switch (c) {
	case OPT_TARGET:
		o->target_str = arg;
		return parse_target(o, arg, err, errlen);
	case OPT_SOURCES:
		rc = parse_uint("--sources", arg, 1, 100000, &v, err, errlen);
		o->sources = (unsigned)v;
		return rc;
	}
	return OPT_NOT_MINE;
}

/* how much and how fast: --rate, --duration, --count, --threads, --batch */
static int opt_rate(bench_opts_t *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long long v = 0;
	char *end;
	int rc;

	switch (c) {
	case OPT_RATE:
		if (strcmp(arg, "max") == 0) {
			o->rate = 0;
			return 0;
		}
		rc = parse_uint("--rate", arg, 1, 100000000, &v, err, errlen);
		o->rate = (double)v;
		return rc;
	case OPT_DURATION:
		o->duration = strtod(arg, &end);
		if (*end || !(o->duration > 0) || o->duration > 1e7) {
			snprintf(err, errlen,
			         "--duration: '%s' is not a positive number of seconds", arg);
			return -EINVAL;
		}
		o->have_duration = 1;
		return 0;
	case OPT_COUNT:
		rc = parse_uint("--count", arg, 1, UINT64_MAX / 2, &v, err, errlen);
		o->count = v;
		return rc;
	case OPT_THREADS:
		rc = parse_uint("--threads", arg, 1, 256, &v, err, errlen);
		o->threads = (unsigned)v;
		return rc;
	case OPT_BATCH:
		rc = parse_uint("--batch", arg, 1, BENCH_MAX_BATCH, &v, err, errlen);
		o->batch = (unsigned)v;
		return rc;
	}
	return OPT_NOT_MINE;
}

/* what is sent: --version, --inform, --community, --varbinds, --timeout */
static int opt_message(bench_opts_t *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long long v = 0;
	int rc;

	switch (c) {
	case OPT_VERSION:
		if (strcmp(arg, "1") == 0)
			o->version = ST_SNMP_V1;
		else if (strcmp(arg, "2c") == 0 || strcmp(arg, "2") == 0)
			o->version = ST_SNMP_V2C;
		else if (strcmp(arg, "3") == 0)
			o->version = ST_SNMP_V3;
		else {
			snprintf(err, errlen, "--version: '%s' is not 1, 2c or 3", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_INFORM:
		o->inform = 1;
		return 0;
	case OPT_COMMUNITY:
		o->community = arg;
		return 0;
	case OPT_VARBINDS:
		rc = parse_uint("--varbinds", arg, 0, ST_BENCH_MAX_VARBINDS, &v, err, errlen);
		o->varbinds = (unsigned)v;
		return rc;
	case OPT_TIMEOUT:
		rc = parse_uint("--timeout", arg, 1, 600000, &v, err, errlen);
		o->timeout_ms = (unsigned)v;
		return rc;
	}
	return OPT_NOT_MINE;
}

/* v3 security: --user, --auth, --auth-pass, --priv, --priv-pass, --engines,
 * --engine-id */
static int opt_security(bench_opts_t *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long long v = 0;
	int rc, n;

	switch (c) {
	case OPT_USER:
		o->user = arg;
		return 0;
	case OPT_AUTH:
		o->auth_name = arg;
		return 0;
	case OPT_AUTH_PASS:
		o->auth_pass = arg;
		return 0;
	case OPT_PRIV:
		o->priv_name = arg;
		return 0;
	case OPT_PRIV_PASS:
		o->priv_pass = arg;
		return 0;
	case OPT_ENGINES:
		rc = parse_uint("--engines", arg, 1, 1000000, &v, err, errlen);
		o->engines = (unsigned)v;
		return rc;
	case OPT_ENGINE_ID:
		n = st_hex_decode(arg, o->engine_prefix, sizeof(o->engine_prefix));
		if (n < 1) {
			snprintf(err, errlen, "--engine-id: '%s' is not 1..%d octets of hex", arg,
			         BENCH_ENGINE_PREFIX_MAX);
			return -EINVAL;
		}
		o->engine_prefix_len = (size_t)n;
		return 0;
	}
	return OPT_NOT_MINE;
}

/* how the result is shown: --json, --no-progress, --help */
static int opt_output(bench_opts_t *o, int c)
{
	switch (c) {
	case OPT_JSON:
		o->json = 1;
		return 0;
	case OPT_NO_PROGRESS:
		o->progress = 0;
		return 0;
	case 'h':
	case OPT_HELP:
		usage(stdout);
		exit(0);
	}
	return OPT_NOT_MINE;
}

static int check_rate(bench_opts_t *o, char *err, size_t errlen)
{
	if (!o->target_str) {
		snprintf(err, errlen, "--target is required");
		return -EINVAL;
	}
	if (o->have_duration && o->count) {
		snprintf(err, errlen, "--duration and --count exclude each other");
		return -EINVAL;
	}
	if (!o->have_duration && !o->count)
		o->duration = 10;
	if (o->inform && o->version == ST_SNMP_V1) {
		snprintf(err, errlen, "--inform needs --version 2c or 3 (v1 has no InformRequest)");
		return -EINVAL;
	}
	return 0;
}

static int check_security(bench_opts_t *o, char *err, size_t errlen)
{
	if (o->version != ST_SNMP_V3)
		return 0;
	o->auth = o->auth_name ? st_usm_auth_from_name(o->auth_name) : ST_USM_AUTH_NONE;
	o->priv = o->priv_name ? st_usm_priv_from_name(o->priv_name) : ST_USM_PRIV_NONE;
	if (o->auth < 0) {
		snprintf(err, errlen, "--auth: unknown protocol '%s'", o->auth_name);
		return -EINVAL;
	}
	if (o->priv < 0) {
		snprintf(err, errlen, "--priv: unknown protocol '%s'", o->priv_name);
		return -EINVAL;
	}
	if (o->priv != ST_USM_PRIV_NONE && o->auth == ST_USM_AUTH_NONE) {
		snprintf(err, errlen, "--priv needs --auth (there is no noAuthPriv level)");
		return -EINVAL;
	}
	if (o->auth != ST_USM_AUTH_NONE && !o->auth_pass) {
		snprintf(err, errlen, "--auth needs --auth-pass");
		return -EINVAL;
	}
	if (o->engines > 1 && o->inform) {
		snprintf(err, errlen,
		         "--engines applies to traps: for informs the receiver's engine is "
		         "authoritative");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(bench_opts_t *o, int argc, char **argv, char *err, size_t errlen)
{
	int c, rc;

	opts_default(o);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		rc = opt_target(o, c, optarg, err, errlen);
		if (rc == OPT_NOT_MINE)
			rc = opt_rate(o, c, optarg, err, errlen);
		if (rc == OPT_NOT_MINE)
			rc = opt_message(o, c, optarg, err, errlen);
		if (rc == OPT_NOT_MINE)
			rc = opt_security(o, c, optarg, err, errlen);
		if (rc == OPT_NOT_MINE)
			rc = opt_output(o, c);
		if (rc == OPT_NOT_MINE) {
			snprintf(err, errlen, "unknown option (see --help)");
			return -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	rc = check_rate(o, err, errlen);
	return rc < 0 ? rc : check_security(o, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Sending threads                                                    */
/* ------------------------------------------------------------------ */

/* Written by the owning thread only (relaxed), read by the progress line. */
typedef struct bench_counters {
	st_counter_t sent, errors, acked, timeouts, reports, unmatched, late;
	/* Reports by the usmStats counter they carry (ST_USM_STAT_*); 0: other */
	st_counter_t report_stat[ST_BENCH_REPORT_KINDS];
} bench_counters_t;

/* One outstanding inform: slot seq & win_mask of its thread's window. */
typedef struct bench_pending {
	uint64_t t_ns; /* when it was sent (CLOCK_MONOTONIC) */
	int32_t reqid;
	uint8_t pending;
} bench_pending_t;

typedef struct bench_thread {
	unsigned idx;
	pthread_t tid;
	const bench_opts_t *o;
	/* sockets: one per source; batch k goes out on fds[k % nfds] */
	int *fds;
	uint32_t *src_addr; /* v1 agent-addr of each socket, network order */
	unsigned nfds, cur;
	int epfd; /* informs: every socket, for responses; else -1 */
	/* work */
	uint64_t quota; /* notifications to send; UINT64_MAX: until --duration ends */
	double rate;    /* this thread's share; 0: unpaced */
	unsigned batch;
	/* messages */
	const st_bench_tmpl_t *tmpl;
	uint8_t *scoped;           /* v3: this thread's copy of the ScopedPDU, patched in place */
	st_usm_sender_t **senders; /* v3: a pool of senders, slot k % nsenders */
	unsigned *slot_engine;     /* the engine each slot addresses now */
	unsigned nsenders;
	unsigned neng, next_eng; /* v3 traps: engines this thread plays, round-robin */
	int64_t epoch;           /* unix seconds at which our engines booted */
	uint64_t relocalized;    /* times a slot was re-pointed at another engine */
	uint8_t *out;            /* batch x stride */
	size_t stride;
	struct mmsghdr mm[BENCH_MAX_BATCH];
	struct iovec iov[BENCH_MAX_BATCH];
	uint32_t reqid_base;
	uint32_t msg_id;
	uint64_t seq;    /* notifications built so far */
	size_t last_len; /* size of the last datagram built */
	/* informs */
	bench_pending_t *win;
	uint64_t win_mask, oldest, timeout_ns;
	uint8_t *rbuf;
	struct mmsghdr rmm[BENCH_RECV_BATCH];
	struct iovec riov[BENCH_RECV_BATCH];
	st_msg_t *msg;
	st_bench_hist_t *hist;
	/* results */
	uint64_t t_start, t_end; /* sending phase, CLOCK_MONOTONIC ns */
	atomic_int done;
	int err;
	int send_errno; /* the last send error; read after the join */
	char errmsg[256];
	bench_counters_t c __attribute__((aligned(64)));
} bench_thread_t;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
	                      .tv_nsec = (long)(ns % 1000000000u)};
	return ts;
}

static inline int32_t reqid_of(const bench_thread_t *t, uint64_t seq)
{
	return (int32_t)((t->reqid_base + (uint32_t)seq) & 0x7fffffffu);
}

/* A Response (or Report) came back: match it to its inform. */
static void on_reply(bench_thread_t *t, const uint8_t *buf, size_t len, uint64_t now)
{
	st_msg_t *msg = t->msg;
	bench_pending_t *p;
	uint32_t seq_low;

	if (st_snmp_decode(buf, len, msg) < 0) {
		st_counter_add(&t->c.unmatched, 1);
		return;
	}
	if (msg->version == ST_SNMP_V3) {
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		if (st_usm_sender_process(t->senders[0], buf, len, msg, &rt) < 0 ||
		    !msg->have_pdu) {
			st_counter_add(&t->c.unmatched, 1);
			return;
		}
	}
	if (msg->pdu.type == ST_PDU_REPORT) {
		int stat = st_usm_report_stat(&msg->pdu);

		st_counter_add(&t->c.reports, 1);
		st_counter_add(
		        &t->c.report_stat[stat > 0 && stat < ST_BENCH_REPORT_KINDS ? stat : 0], 1);
		return;
	}
	if (msg->pdu.type != ST_PDU_RESPONSE) {
		st_counter_add(&t->c.unmatched, 1);
		return;
	}
	seq_low = ((uint32_t)msg->pdu.request_id - t->reqid_base) & 0x7fffffffu;
	p = &t->win[seq_low & t->win_mask];
	if (!p->pending || p->reqid != msg->pdu.request_id) {
		st_counter_add(&t->c.unmatched, 1); /* a late or duplicate Response */
		return;
	}
	p->pending = 0;
	st_counter_add(&t->c.acked, 1);
	st_bench_hist_add(t->hist, now - p->t_ns);
}

static void drain(bench_thread_t *t, int fd)
{
	for (;;) {
		int n = recvmmsg(fd, t->rmm, BENCH_RECV_BATCH, MSG_DONTWAIT, NULL);
		uint64_t now = mono_ns();

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			on_reply(t, t->rbuf + (size_t)i * BENCH_RECV_MAX, t->rmm[i].msg_len, now);
		if (n < BENCH_RECV_BATCH)
			return;
	}
}

/* Count informs past their timeout; free their window slots. */
static void expire(bench_thread_t *t, uint64_t now)
{
	while (t->oldest < t->seq) {
		bench_pending_t *p = &t->win[t->oldest & t->win_mask];
		if (p->pending && p->reqid == reqid_of(t, t->oldest)) {
			if (now - p->t_ns < t->timeout_ns)
				break;
			p->pending = 0;
			st_counter_add(&t->c.timeouts, 1);
		}
		t->oldest++;
	}
}

/* Read responses until @p until (CLOCK_MONOTONIC ns; 0: only what is
 * there now), then expire. */
static void service(bench_thread_t *t, uint64_t until)
{
	struct epoll_event ev[16];

	for (;;) {
		uint64_t now = mono_ns();
		uint64_t left = until > now ? until - now : 0;
		struct timespec ts = ns_to_ts(left);
		int n = epoll_pwait2(t->epfd, ev, 16, &ts, NULL);

		for (int i = 0; i < n; i++)
			drain(t, t->fds[ev[i].data.u32]);
		expire(t, mono_ns());
		if (n <= 0 || mono_ns() >= until)
			return;
	}
}

static void wait_until(bench_thread_t *t, uint64_t due)
{
	if (t->epfd >= 0) {
		while (mono_ns() < due)
			service(t, due);
	} else {
		struct timespec ts = ns_to_ts(due);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
}

/* The engine a thread plays as its k-th: engines t, t + T, t + 2T, ...; or
 * engine t % N when there are fewer engines than threads. */
static unsigned thread_engine(const bench_thread_t *t, unsigned k)
{
	const bench_opts_t *o = t->o;

	if (o->engines >= o->threads)
		return t->idx + k * o->threads;
	return t->idx % o->engines;
}

/* Build the next n notifications into the batch buffers. */
static int fill(bench_thread_t *t, unsigned n, const struct timespec *rt)
{
	const st_bench_tmpl_t *tm = t->tmpl;
	const bench_opts_t *o = t->o;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *out = t->out + (size_t)i * t->stride;
		int32_t reqid = reqid_of(t, t->seq + i);
		size_t len;

		if (o->version == ST_SNMP_V3) {
			unsigned k = t->next_eng, slot = k % t->nsenders;
			st_usm_sender_t *s = t->senders[slot];
			int rc;

			st_bench_put_reqid(t->scoped, tm->reqid_off, reqid);
			if (!o->inform) {
				unsigned e = thread_engine(t, k);
				uint8_t eid[32];
				size_t eid_len = engine_id(o, e, eid);

				if (++t->next_eng == t->neng)
					t->next_eng = 0;
				if (t->slot_engine[slot] != e) {
					/* more engines than senders: one localization */
					rc = st_usm_sender_set_engine(
					        s, eid, eid_len, 1,
					        (int32_t)(rt->tv_sec - t->epoch), rt);
					if (rc < 0) {
						snprintf(t->errmsg, sizeof(t->errmsg),
						         "engine %u: %s", e, st_strerror(rc));
						return rc;
					}
					t->slot_engine[slot] = e;
					t->relocalized++;
				}
				/* a trap's contextEngineID is its sender's engine */
				memcpy(t->scoped + tm->ctx_engine_off, eid, eid_len);
			}
			t->msg_id = (t->msg_id + 1) & 0x7fffffffu;
			rc = st_usm_sender_encode(s, (int32_t)t->msg_id, o->inform, t->scoped,
			                          tm->len, rt, out, t->stride);
			if (rc < 0) {
				snprintf(t->errmsg, sizeof(t->errmsg), "building a v3 message: %s",
				         st_strerror(rc));
				return rc;
			}
			len = (size_t)rc;
		} else {
			memcpy(out, tm->buf, tm->len);
			if (tm->reqid_off)
				st_bench_put_reqid(out, tm->reqid_off, reqid);
			if (tm->agent_off)
				memcpy(out + tm->agent_off, &t->src_addr[t->cur], 4);
			len = tm->len;
		}
		t->iov[i].iov_len = len;
		t->last_len = len;
	}
	return 0;
}

/* sendmmsg() the batch on the current socket; note what went out. */
static void send_batch(bench_thread_t *t, unsigned n)
{
	int fd = t->fds[t->cur];
	uint8_t failed[BENCH_MAX_BATCH] = {0};
	unsigned done = 0, errors = 0;
	uint64_t now;

	while (done < n) {
		int r = sendmmsg(fd, t->mm + done, n - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* ECONNREFUSED (no listener yet), ENOBUFS: this datagram is lost */
			t->send_errno = errno;
			failed[done++] = 1;
			errors++;
			continue;
		}
		done += (unsigned)r;
	}
	now = mono_ns();
	if (t->win) {
		for (unsigned i = 0; i < n; i++) {
			bench_pending_t *p = &t->win[(t->seq + i) & t->win_mask];
			p->pending = !failed[i];
			p->reqid = reqid_of(t, t->seq + i);
			p->t_ns = now;
		}
	}
	t->seq += n;
	if (++t->cur == t->nfds)
		t->cur = 0;
	st_counter_add(&t->c.sent, n - errors);
	if (errors)
		st_counter_add(&t->c.errors, errors);
}

/* RFC 3414 4: learn the receiver's engine ID, boots and time. */
static int discover(bench_thread_t *t)
{
	st_usm_sender_t *s = t->senders[0];
	uint8_t probe[512];
	size_t elen;

	for (int attempt = 0; attempt < 3 && !atomic_load(&g_stop); attempt++) {
		int32_t id = reqid_of(t, 0x40000000u + (uint32_t)attempt);
		int len = st_usm_sender_encode_probe(s, id, id, probe, sizeof(probe));
		uint64_t until;

		if (len < 0) {
			snprintf(t->errmsg, sizeof(t->errmsg), "discovery probe: %s",
			         st_strerror(len));
			return len;
		}
		if (send(t->fds[0], probe, (size_t)len, 0) < 0 && errno != ECONNREFUSED) {
			snprintf(t->errmsg, sizeof(t->errmsg), "discovery probe: %s",
			         strerror(errno));
			return -errno;
		}
		until = mono_ns() + t->timeout_ns;
		while (mono_ns() < until) {
			struct timespec ts = ns_to_ts(until - mono_ns()), rt;
			struct epoll_event ev;
			ssize_t r;

			if (epoll_pwait2(t->epfd, &ev, 1, &ts, NULL) <= 0)
				continue;
			r = recv(t->fds[ev.data.u32], t->rbuf, BENCH_RECV_MAX, MSG_DONTWAIT);
			if (r <= 0 || st_snmp_decode(t->rbuf, (size_t)r, t->msg) < 0)
				continue;
			clock_gettime(CLOCK_REALTIME, &rt);
			if (st_usm_sender_process(s, t->rbuf, (size_t)r, t->msg, &rt) == 0 &&
			    st_usm_sender_engine(s, &elen) && elen > 0)
				return 0;
		}
	}
	snprintf(t->errmsg, sizeof(t->errmsg),
	         "no discovery Report from %s (is a v3 receiver listening there?)",
	         t->o->target_str);
	return -ETIMEDOUT;
}

static void *thread_main(void *arg)
{
	bench_thread_t *t = arg;
	const bench_opts_t *o = t->o;
	uint64_t due, now, end = UINT64_MAX, sched = 0, base, lag_max, built = 0;
	double ns_per_msg = t->rate > 0 ? 1e9 / t->rate : 0;
	struct timespec rt = {0, 0};
	char name[16];

	snprintf(name, sizeof(name), "bench/%u", t->idx);
	pthread_setname_np(pthread_self(), name);
	/* sleep to the deadline, not 50 us past it (the default slack) */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	if (o->version == ST_SNMP_V3 && o->inform && (t->err = discover(t)) < 0)
		goto out;

	t->t_start = base = mono_ns();
	if (o->duration > 0)
		end = t->t_start + (uint64_t)(o->duration * 1e9);
	/* behind by more than two batches (at least 5 ms, a preemption on a busy
	 * machine): move the schedule rather than burst to catch up */
	lag_max = (uint64_t)(ns_per_msg * 2 * t->batch);
	if (lag_max < 5000000)
		lag_max = 5000000;

	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && built < t->quota) {
		unsigned n = t->batch;

		if (t->quota - built < n)
			n = (unsigned)(t->quota - built);
		if (ns_per_msg > 0) {
			due = base + (uint64_t)((double)sched * ns_per_msg);
			now = mono_ns();
			if (now < due) {
				wait_until(t, due < end ? due : end);
			} else if (now - due > lag_max) {
				base += now - due;
				st_counter_add(&t->c.late, 1);
			}
		}
		if (mono_ns() >= end)
			break;
		if (t->win) {
			/* the window is full: wait for Responses or timeouts */
			while (t->seq + n - t->oldest > t->win_mask + 1 && !atomic_load(&g_stop))
				service(t, mono_ns() + 1000000);
		}
		if (o->version == ST_SNMP_V3)
			clock_gettime(CLOCK_REALTIME, &rt);
		if ((t->err = fill(t, n, &rt)) < 0)
			goto out;
		send_batch(t, n);
		sched += n;
		built += n;
		if (t->win)
			service(t, 0);
	}
	t->t_end = mono_ns();
	/* paced: the sending phase lasts until the next message would be due,
	 * so that n messages at rate r take n / r seconds */
	if (ns_per_msg > 0) {
		due = base + (uint64_t)((double)sched * ns_per_msg);
		if (due > t->t_end && due <= end)
			t->t_end = due;
	}
	/* the last informs get their full timeout */
	if (t->win) {
		while (t->oldest < t->seq)
			service(t, mono_ns() + 10000000);
	}
out:
	if (!t->t_end)
		t->t_end = mono_ns();
	atomic_store(&t->done, 1);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static int in_loopback4(const bench_opts_t *o)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&o->target;

	return o->target.ss_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

/* Source i: its own socket; on IPv4 loopback bound to 127.0.0.(1 + i % 254)
 * so that a receiver sees distinct agents (the port is the kernel's pick). */
static int open_source(const bench_opts_t *o, unsigned i, uint32_t *agent, char *err, size_t errlen)
{
	int fd = socket(o->target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int size = BENCH_SOCKBUF;
	struct sockaddr_in sin = {.sin_family = AF_INET};

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	/* FORCE needs CAP_NET_ADMIN; the plain option is capped by wmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (o->inform && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	sin.sin_addr.s_addr = htonl(0x7f000001u);
	if (in_loopback4(o) && o->sources > 1) {
		sin.sin_addr.s_addr = htonl(0x7f000000u | (1 + i % 254));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			snprintf(err, errlen, "bind %s: %s", inet_ntoa(sin.sin_addr),
			         strerror(errno));
			close(fd);
			return -errno;
		}
	}
	*agent = sin.sin_addr.s_addr;
	if (connect(fd, (const struct sockaddr *)&o->target, o->target_len) < 0) {
		snprintf(err, errlen, "connect %s: %s", o->target_str, strerror(errno));
		close(fd);
		return -errno;
	}
	return fd;
}

static void raise_nofile(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* Per-thread senders for v3. A sender carries its own buffers (over
 * 100 KiB), so a thread keeps at most BENCH_SENDER_POOL of them, each
 * localized to one engine at start; a thread playing more engines than that
 * re-points a pool slot (one key localization) when its engine comes up. */
static int setup_senders(bench_thread_t *t, const bench_opts_t *o, const st_usm_sender_t *base,
                         const struct timespec *now, char *err, size_t errlen)
{
	if (o->inform)
		t->neng = 1;
	else if (o->engines >= o->threads)
		t->neng = (o->engines - t->idx + o->threads - 1) / o->threads;
	else
		t->neng = 1;
	t->nsenders = t->neng < BENCH_SENDER_POOL ? t->neng : BENCH_SENDER_POOL;
	t->epoch = now->tv_sec;
	t->senders = calloc(t->nsenders, sizeof(*t->senders));
	t->slot_engine = calloc(t->nsenders, sizeof(*t->slot_engine));
	if (!t->senders || !t->slot_engine)
		return -ENOMEM;
	for (unsigned k = 0; k < t->nsenders; k++) {
		unsigned e = thread_engine(t, k);
		uint8_t eid[32];
		size_t elen = engine_id(o, e, eid);
		int rc;

		t->senders[k] = st_usm_sender_clone(base);
		if (!t->senders[k])
			return -ENOMEM;
		t->slot_engine[k] = e;
		if (!o->inform) {
			/* our engines boot once, at start; engineTime counts from there */
			rc = st_usm_sender_set_engine(t->senders[k], eid, elen, 1, 0, now);
			if (rc < 0) {
				snprintf(err, errlen, "engine %u: %s", e, st_strerror(rc));
				return rc;
			}
		}
	}
	return 0;
}

static int setup_thread(bench_thread_t *t, const bench_opts_t *o, const st_bench_tmpl_t *tmpl,
                        unsigned nsock, const st_usm_sender_t *base, const struct timespec *now,
                        char *err, size_t errlen)
{
	uint64_t win;
	int rc;

	t->o = o;
	t->tmpl = tmpl;
	t->epfd = -1;
	t->nfds = (nsock - t->idx + o->threads - 1) / o->threads;
	t->fds = calloc(t->nfds, sizeof(*t->fds));
	t->src_addr = calloc(t->nfds, sizeof(*t->src_addr));
	t->stride = (tmpl->len + BENCH_V3_OVERHEAD + 63) & ~(size_t)63;
	t->out = malloc(t->stride * BENCH_MAX_BATCH);
	t->hist = malloc(sizeof(*t->hist));
	t->msg = malloc(sizeof(*t->msg));
	if (!t->fds || !t->src_addr || !t->out || !t->hist || !t->msg)
		return -ENOMEM;
	st_bench_hist_init(t->hist);
	for (unsigned i = 0; i < t->nfds; i++)
		t->fds[i] = -1;
	for (unsigned i = 0; i < t->nfds; i++) {
		rc = open_source(o, t->idx + i * o->threads, &t->src_addr[i], err, errlen);
		if (rc < 0)
			return rc;
		t->fds[i] = rc;
	}
	for (unsigned i = 0; i < BENCH_MAX_BATCH; i++) {
		t->iov[i].iov_base = t->out + (size_t)i * t->stride;
		t->mm[i].msg_hdr.msg_iov = &t->iov[i];
		t->mm[i].msg_hdr.msg_iovlen = 1;
	}
	if (getrandom(&t->reqid_base, sizeof(t->reqid_base), 0) < 0)
		t->reqid_base = (uint32_t)mono_ns() ^ t->idx;
	t->msg_id = t->reqid_base >> 1;
	t->timeout_ns = (uint64_t)o->timeout_ms * 1000000u;

	if (o->inform || o->version == ST_SNMP_V3) {
		t->rbuf = malloc((size_t)BENCH_RECV_MAX * BENCH_RECV_BATCH);
		if (!t->rbuf)
			return -ENOMEM;
		for (unsigned i = 0; i < BENCH_RECV_BATCH; i++) {
			t->riov[i].iov_base = t->rbuf + (size_t)i * BENCH_RECV_MAX;
			t->riov[i].iov_len = BENCH_RECV_MAX;
			t->rmm[i].msg_hdr.msg_iov = &t->riov[i];
			t->rmm[i].msg_hdr.msg_iovlen = 1;
		}
	}
	if (o->inform) {
		/* room for every inform that can be outstanding within the timeout */
		win = t->rate > 0 ? (uint64_t)(t->rate * (o->timeout_ms / 1000.0) * 2)
		                  : BENCH_WINDOW_MAX;
		win = pow2_at_least(win < 1024 ? 1024 : win);
		if (win > BENCH_WINDOW_MAX)
			win = BENCH_WINDOW_MAX;
		t->win = calloc(win, sizeof(*t->win));
		if (!t->win)
			return -ENOMEM;
		t->win_mask = win - 1;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0)
			return -errno;
		for (unsigned i = 0; i < t->nfds; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
			if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->fds[i], &ev) < 0)
				return -errno;
		}
	}
	if (o->version == ST_SNMP_V3) {
		t->scoped = malloc(tmpl->len);
		if (!t->scoped)
			return -ENOMEM;
		memcpy(t->scoped, tmpl->buf, tmpl->len);
		rc = setup_senders(t, o, base, now, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void free_thread(bench_thread_t *t)
{
	for (unsigned i = 0; t->fds && i < t->nfds; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	if (t->epfd >= 0)
		close(t->epfd);
	for (unsigned i = 0; t->senders && i < t->nsenders; i++)
		st_usm_sender_free(t->senders[i]);
	free(t->senders);
	free(t->slot_engine);
	free(t->fds);
	free(t->src_addr);
	free(t->out);
	free(t->hist);
	free(t->msg);
	free(t->rbuf);
	free(t->win);
	free(t->scoped);
}

/* ------------------------------------------------------------------ */
/* Report                                                             */
/* ------------------------------------------------------------------ */

typedef struct bench_totals {
	uint64_t sent, errors, acked, timeouts, reports, unmatched, late;
	uint64_t report_stat[ST_BENCH_REPORT_KINDS];
	uint64_t relocalized; /* after the threads are joined only */
	int send_errno;       /* after the threads are joined only */
} bench_totals_t;

static void sum(bench_thread_t *th, unsigned n, bench_totals_t *s)
{
	const size_t stride = sizeof(th[0]);

	memset(s, 0, sizeof(*s));
	s->sent = st_counter_sum(&th[0].c.sent, n, stride);
	s->errors = st_counter_sum(&th[0].c.errors, n, stride);
	s->acked = st_counter_sum(&th[0].c.acked, n, stride);
	s->timeouts = st_counter_sum(&th[0].c.timeouts, n, stride);
	s->reports = st_counter_sum(&th[0].c.reports, n, stride);
	s->unmatched = st_counter_sum(&th[0].c.unmatched, n, stride);
	s->late = st_counter_sum(&th[0].c.late, n, stride);
	for (unsigned k = 0; k < ST_BENCH_REPORT_KINDS; k++)
		s->report_stat[k] = st_counter_sum(&th[0].c.report_stat[k], n, stride);
}

/* What the run delivered, for st_bench_verdict(). */
static int verdict(const bench_opts_t *o, const bench_totals_t *s, char *why, size_t len)
{
	st_bench_outcome_t out = {
	        .inform = o->inform,
	        .timeout_ms = o->timeout_ms,
	        .sent = s->sent,
	        .errors = s->errors,
	        .acked = s->acked,
	        .timeouts = s->timeouts,
	        .unmatched = s->unmatched,
	        .send_errno = s->send_errno,
	};

	memcpy(out.reports, s->report_stat, sizeof(out.reports));
	return st_bench_verdict(&out, why, len);
}

static const char *version_name(int v)
{
	return v == ST_SNMP_V1 ? "1" : v == ST_SNMP_V2C ? "2c" : "3";
}

static const char *level_name(const bench_opts_t *o)
{
	if (o->version != ST_SNMP_V3)
		return NULL;
	return o->priv ? "authPriv" : o->auth ? "authNoPriv" : "noAuthNoPriv";
}

static void report(const bench_opts_t *o, const bench_totals_t *s, const st_bench_hist_t *h,
                   double secs, size_t msg_len, const char *failed)
{
	static const double pcts[] = {50, 90, 99, 99.9};
	static const char *const pnames[] = {"p50", "p90", "p99", "p999"};
	double rate = secs > 0 ? (double)s->sent / secs : 0;
	const char *level = level_name(o);

	if (o->json) {
		printf("{\"target\":\"%s\",\"version\":\"%s\",\"pdu\":\"%s\",", o->target_str,
		       version_name(o->version), o->inform ? "inform" : "trap");
		if (level)
			printf("\"security_level\":\"%s\",\"auth\":\"%s\",\"priv\":\"%s\","
			       "\"engines\":%u,",
			       level, st_usm_auth_name(o->auth), st_usm_priv_name(o->priv),
			       o->engines);
		if (level && !o->inform)
			printf("\"relocalizations\":%" PRIu64 ",", s->relocalized);
		printf("\"threads\":%u,\"sources\":%u,\"varbinds\":%u,\"bytes\":%zu,", o->threads,
		       o->sources, o->varbinds, msg_len);
		if (o->rate > 0)
			printf("\"rate_target\":%.0f,", o->rate);
		else
			printf("\"rate_target\":\"max\",");
		printf("\"sent\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"late\":%" PRIu64
		       ",\"duration_s\":%.6f,\"rate\":%.1f",
		       s->sent, s->errors, s->late, secs, rate);
		if (o->inform) {
			printf(",\"acked\":%" PRIu64 ",\"timeouts\":%" PRIu64
			       ",\"reports\":%" PRIu64 ",\"unmatched\":%" PRIu64
			       ",\"timeout_ms\":%u",
			       s->acked, s->timeouts, s->reports, s->unmatched, o->timeout_ms);
			printf(",\"latency_us\":{\"count\":%" PRIu64 ",\"min\":%.1f", h->count,
			       h->min / 1e3);
			for (size_t i = 0; i < 4; i++)
				printf(",\"%s\":%.1f", pnames[i],
				       st_bench_hist_pct(h, pcts[i]) / 1e3);
			printf(",\"max\":%.1f}", h->max / 1e3);
		}
		if (failed) /* plain text: the reason holds no quote or backslash */
			printf(",\"failed\":\"%s\"", failed);
		printf("}\n");
		return;
	}
	printf("stormtrap-bench: v%s %s%s%s to %s, %u thread(s), %u source(s), %u varbind(s), "
	       "%zu bytes/message\n",
	       version_name(o->version), level ? level : "", level ? " " : "",
	       o->inform ? "informs" : "traps", o->target_str, o->threads, o->sources, o->varbinds,
	       msg_len);
	printf("  sent       %12" PRIu64 " in %.3f s = %.0f/s", s->sent, secs, rate);
	if (o->rate > 0)
		printf(" (target %.0f/s)\n", o->rate);
	else
		printf(" (unpaced)\n");
	printf("  errors     %12" PRIu64 "\n", s->errors);
	if (s->relocalized)
		printf("  relocalized%12" PRIu64 " (engines beyond %u per thread share senders)\n",
		       s->relocalized, BENCH_SENDER_POOL);
	if (s->late)
		printf("  late       %12" PRIu64
		       " (times the schedule slipped by > 2 batches and 5 ms)\n",
		       s->late);
	if (o->inform) {
		printf("  acked      %12" PRIu64 "\n", s->acked);
		printf("  timed out  %12" PRIu64 " (after %u ms)\n", s->timeouts, o->timeout_ms);
		if (s->reports)
			printf("  reports    %12" PRIu64 "\n", s->reports);
		if (s->unmatched)
			printf("  unmatched  %12" PRIu64 "\n", s->unmatched);
		if (h->count == 0)
			printf("  latency    no Responses\n");
		else
			printf("  latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
			       st_bench_hist_pct(h, 50) / 1e3, st_bench_hist_pct(h, 90) / 1e3,
			       st_bench_hist_pct(h, 99) / 1e3, st_bench_hist_pct(h, 99.9) / 1e3,
			       h->max / 1e3);
	}
}

static void progress(const bench_opts_t *o, bench_thread_t *th, uint64_t t0, uint64_t *last_sent,
                     uint64_t *last_t)
{
	bench_totals_t s;
	uint64_t now = mono_ns();
	double dt = (now - *last_t) / 1e9;

	sum(th, o->threads, &s);
	fprintf(stderr, "\r[%6.1fs] sent %" PRIu64 " (%.0f/s)", (now - t0) / 1e9, s.sent,
	        dt > 0 ? (s.sent - *last_sent) / dt : 0.0);
	if (o->inform)
		fprintf(stderr, " acked %" PRIu64 " timeouts %" PRIu64, s.acked, s.timeouts);
	if (s.errors)
		fprintf(stderr, " errors %" PRIu64, s.errors);
	fprintf(stderr, "\033[K");
	*last_sent = s.sent;
	*last_t = now;
}

int main(int argc, char **argv)
{
	bench_opts_t o;
	bench_thread_t *th = NULL;
	st_bench_tmpl_t *tmpl = NULL;
	st_usm_sender_t *base = NULL;
	st_bench_hist_t *hist = NULL;
	bench_totals_t s;
	struct timespec now;
	char err[512] = "";
	unsigned nsock, started = 0;
	uint64_t t_start = UINT64_MAX, t_end = 0, last_sent = 0, last_t, t0;
	size_t msg_len = 0;
	int rc, ret = 1, tty, failed;
	uint8_t pdu;

	if (parse_args(&o, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormtrap-bench: %s\n", err);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &now);

	/* the template */
	tmpl = malloc(sizeof(*tmpl));
	th = calloc(o.threads, sizeof(*th));
	hist = malloc(sizeof(*hist));
	if (!tmpl || !th || !hist) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	pdu = o.version == ST_SNMP_V1 ? ST_PDU_TRAPV1 : o.inform ? ST_PDU_INFORM : ST_PDU_TRAPV2;
	if (o.version == ST_SNMP_V3) {
		st_usm_sender_conf_t sc = {
		        .user = o.user,
		        .auth = o.auth,
		        .auth_pass = o.auth_pass,
		        .priv = o.priv,
		        .priv_pass = o.priv_pass,
		};
		uint8_t eid[32];
		size_t elen = engine_id(&o, 0, eid);

		rc = st_bench_tmpl_scoped(tmpl, pdu, eid, elen, o.varbinds);
		if (rc < 0) {
			snprintf(err, sizeof(err), "encoding the ScopedPDU: %s", st_strerror(rc));
			goto out;
		}
		if (!o.inform) {
			sc.engine_id = eid;
			sc.engine_id_len = elen;
			sc.engine_boots = 1;
		}
		rc = st_usm_sender_new(&sc, &now, &base, err, sizeof(err));
		if (rc < 0) {
			if (!err[0])
				snprintf(err, sizeof(err), "v3 sender: %s", st_strerror(rc));
			goto out;
		}
	} else {
		rc = st_bench_tmpl_v12(tmpl, o.version, pdu, o.community, o.varbinds,
		                       htonl(0x7f000001u));
		if (rc < 0) {
			snprintf(err, sizeof(err), "encoding the message: %s", st_strerror(rc));
			goto out;
		}
	}

	nsock = o.sources > o.threads ? o.sources : o.threads;
	raise_nofile(nsock);
	for (unsigned i = 0; i < o.threads; i++) {
		bench_thread_t *t = &th[i];
		uint64_t share;

		t->idx = i;
		t->epfd = -1;
		t->rate = o.rate / o.threads;
		if (o.count) {
			share = o.count / o.threads + (i < o.count % o.threads);
			t->quota = share;
		} else {
			t->quota = UINT64_MAX;
		}
		/* a batch every 0.5 ms or so: steady at low rates, few syscalls at high */
		t->batch = o.batch       ? o.batch
		           : t->rate > 0 ? (unsigned)(t->rate / 2000)
		                         : BENCH_MAX_BATCH;
		if (t->batch < 1)
			t->batch = 1;
		if (t->batch > BENCH_MAX_BATCH)
			t->batch = BENCH_MAX_BATCH;
		rc = setup_thread(t, &o, tmpl, nsock, base, &now, err, sizeof(err));
		if (rc < 0) {
			if (!err[0])
				snprintf(err, sizeof(err), "thread %u: %s", i, st_strerror(rc));
			goto out;
		}
	}
	t0 = last_t = mono_ns();
	for (; started < o.threads; started++) {
		rc = pthread_create(&th[started].tid, NULL, thread_main, &th[started]);
		if (rc) {
			snprintf(err, sizeof(err), "pthread_create: %s", strerror(rc));
			atomic_store(&g_stop, 1);
			break;
		}
	}
	tty = o.progress && !o.json && isatty(STDERR_FILENO);
	for (;;) {
		unsigned done = 0;
		struct timespec ts = {0, 100000000};

		for (unsigned i = 0; i < started; i++)
			done += (unsigned)atomic_load(&th[i].done);
		if (done == started)
			break;
		nanosleep(&ts, NULL);
		if (tty && mono_ns() - last_t >= 1000000000u)
			progress(&o, th, t0, &last_sent, &last_t);
	}
	if (tty)
		fputc('\n', stderr);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	if (started < o.threads)
		goto out;

	st_bench_hist_init(hist);
	for (unsigned i = 0; i < o.threads; i++) {
		if (th[i].err < 0) {
			snprintf(err, sizeof(err), "thread %u: %s", i,
			         th[i].errmsg[0] ? th[i].errmsg : st_strerror(th[i].err));
			goto out;
		}
		if (th[i].t_start < t_start)
			t_start = th[i].t_start;
		if (th[i].t_end > t_end)
			t_end = th[i].t_end;
		st_bench_hist_merge(hist, th[i].hist);
		if (th[i].last_len > msg_len)
			msg_len = th[i].last_len;
	}
	sum(th, o.threads, &s);
	for (unsigned i = 0; i < o.threads; i++) {
		s.relocalized += th[i].relocalized;
		if (th[i].send_errno)
			s.send_errno = th[i].send_errno;
	}
	failed = verdict(&o, &s, err, sizeof(err)) < 0;
	report(&o, &s, hist, t_end > t_start ? (t_end - t_start) / 1e9 : 0, msg_len,
	       failed ? err : NULL);
	ret = failed ? 2 : 0;
out:
	if (ret && err[0])
		fprintf(stderr, "stormtrap-bench: %s\n", err);
	for (unsigned i = 0; th && i < o.threads; i++)
		free_thread(&th[i]);
	st_usm_sender_free(base);
	free(th);
	free(tmpl);
	free(hist);
	return ret;
}
