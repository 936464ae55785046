/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kafka.c - the kafka:// sink against librdkafka's mock cluster, run
 * in this process: lines arrive once with key and headers; an outage
 * spools and replays in order; a sink closed during an outage leaves a
 * spool the next one replays; bad settings are start-up errors naming the
 * setting; eviction is counted. Those run with acceptance memory; the
 * journal's tests (at the end) check that a line is in the journal only
 * once flushed, that a close during an outage is quick and the next start
 * sends everything once, and that a full journal with reject refuses,
 * counts and reports not ready.
 *
 * Each test has its own cluster and spool directory, so Criterion may run
 * them in parallel. Timeouts are shortened through librdkafka properties.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "st_sinks.h"

#define TOPIC      "traps"
#define PARTITIONS 4
#define SOURCES    8

typedef struct cluster {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	char bootstrap[512];
	int brokers;
} cluster_t;

static char spool_dir[64];

static void setup(void)
{
	strcpy(spool_dir, "/tmp/st_kspool_XXXXXX");
	cr_assert_not_null(mkdtemp(spool_dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(kafka, .init = setup, .fini = teardown, .timeout = 90);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cluster_start(cluster_t *c, int brokers)
{
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
	c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	cr_assert_not_null(c->rk, "%s", errstr);
	c->mc = rd_kafka_mock_cluster_new(c->rk, brokers);
	cr_assert_not_null(c->mc);
	c->brokers = brokers;
	cr_assert_eq(rd_kafka_mock_topic_create(c->mc, TOPIC, PARTITIONS, 1), 0);
	snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(c->mc));
}

static void cluster_set(cluster_t *c, int up)
{
	for (int id = 1; id <= c->brokers; id++)
		cr_assert_eq(up ? rd_kafka_mock_broker_set_up(c->mc, id)
		                : rd_kafka_mock_broker_set_down(c->mc, id),
		             0);
}

static void cluster_stop(cluster_t *c)
{
	rd_kafka_mock_cluster_destroy(c->mc);
	rd_kafka_destroy(c->rk);
}

/* librdkafka properties that make outages quick to notice in a test */
// clang-format off
static const char *const fast_props[] = {
	"message.timeout.ms", "5000",
	"reconnect.backoff.ms", "100",
	"reconnect.backoff.max.ms", "500",
	"socket.connection.setup.timeout.ms", "1000",
	"log_level", "0",
	NULL,
};
// clang-format on

/* output.kafka.* as the collector hands them over: typed, validated */
static st_kafka_conf_t kconf_make(st_kafka_key_t key, uint64_t spool_max, const char *const *props)
{
	st_kafka_conf_t kc = ST_KAFKA_CONF_DEFAULT;

	kc.key = key;
	kc.spool_dir = spool_dir;
	kc.spool_max = spool_max;
	kc.queue_timeout_ms = 500;
	kc.rdkafka = props ? props : fast_props;
	/* the tests before the journal's own are about acceptance memory */
	kc.acceptance = ST_KAFKA_ACCEPT_MEMORY;
	return kc;
}

static int sink_make(const cluster_t *c, const st_kafka_conf_t *kc, st_sink_t **sink, char *err,
                     size_t errlen)
{
	char uri[600];
	st_sink_conf_t conf = {
	        .nworkers = 2,
	        .batch_bytes = 64 * 1024,
	        .kafka = kc,
	};

	snprintf(uri, sizeof(uri), "kafka://%s/" TOPIC, c ? c->bootstrap : "127.0.0.1:1");
	return st_sink_new(uri, &conf, sink, err, errlen);
}

static st_sink_t *sink_start(const cluster_t *c, const st_kafka_conf_t *kc)
{
	char err[512] = "";
	st_sink_t *sink = NULL;
	int rc;

	rc = sink_make(c, kc, &sink, err, sizeof(err));
	cr_assert_eq(rc, 0, "st_sink_new: %s", err);
	cr_assert_eq(st_sink_start(sink, err, sizeof(err)), 0, "%s", err);
	return sink;
}

static st_sink_t *sink_open(const cluster_t *c, st_kafka_key_t key, uint64_t spool_max)
{
	st_kafka_conf_t kc = kconf_make(key, spool_max, NULL);

	return sink_start(c, &kc);
}

/*
 * Notification n comes from source 192.0.2.(n % SOURCES), and the worker
 * of a source is source % 2, as the collector hashes sources to workers.
 * The line is {"n":<n>,"src_ip":"192.0.2.<s>"} plus padding to `pad` bytes.
 */
static st_sink_result_t write_n(st_sink_t *sink, int n, size_t pad)
{
	char line[4096], ip[32];
	int src = n % SOURCES;
	int len;
	st_sink_rec_t rec = {0};
	static const char oid[] = "1.3.6.1.6.3.1.1.5.3";

	snprintf(ip, sizeof(ip), "192.0.2.%d", src);
	len = snprintf(line, sizeof(line), "{\"n\":%d,\"src_ip\":\"%s\",\"pad\":\"", n, ip);
	while ((size_t)len < pad && len < (int)sizeof(line) - 4)
		line[len++] = 'p';
	len += snprintf(line + len, sizeof(line) - (size_t)len, "\"}\n");
	rec.line = line;
	rec.len = (size_t)len;
	rec.src_ip = ip;
	rec.src_ip_len = strlen(ip);
	rec.agent_addr = n % 3 ? "198.51.100.1" : NULL;
	rec.agent_addr_len = n % 3 ? 12 : 0;
	rec.trap_oid = oid;
	rec.trap_oid_len = sizeof(oid) - 1;
	rec.version = "v2c";
	rec.pdu = n % 2 ? "inform" : "trap";
	return st_sink_write(sink, (unsigned)(src % 2), &rec);
}

static void write_range(st_sink_t *sink, int from, int to, int sleep_us)
{
	for (int n = from; n < to; n++) {
		cr_assert_eq(write_n(sink, n, 0), ST_SINK_ACCEPTED, "line %d", n);
		if (sleep_us)
			usleep((useconds_t)sleep_us);
	}
	st_sink_flush(sink, 0);
	st_sink_flush(sink, 1);
}

static void wait_stat(st_sink_t *sink, size_t off, uint64_t want, int ms, const char *what)
{
	int64_t end = now_ms() + ms;
	st_sink_stats_t st;

	for (;;) {
		st_sink_stats(sink, &st);
		if (*(uint64_t *)((char *)&st + off) >= want)
			return;
		cr_assert_lt(now_ms(), end, "%s: %llu, want %llu", what,
		             (unsigned long long)*(uint64_t *)((char *)&st + off),
		             (unsigned long long)want);
		usleep(20000);
	}
}

#define WAIT_STAT(sink, field, want, ms)                                                           \
	wait_stat(sink, offsetof(st_sink_stats_t, field), want, ms, #field)

/* what a consumer saw */
typedef struct seen {
	int count[100000]; /* deliveries of each n */
	int last[SOURCES]; /* last n of each source, for order */
	int total;
	int out_of_order;
	int bad; /* wrong key, header or JSON */
} seen_t;

static const char *hdr(rd_kafka_headers_t *hdrs, const char *name, size_t *len)
{
	const void *v = NULL;

	if (!hdrs || rd_kafka_header_get_last(hdrs, name, &v, len))
		return NULL;
	return v;
}

/*
 * Read the whole topic from the beginning until `want` messages arrived
 * and then `quiet_ms` passed without more (to catch duplicates).
 */
static void consume(const cluster_t *c, const char *key_mode, int want, int quiet_ms, int ms,
                    seen_t *s)
{
	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_t *rk;
	int64_t end = now_ms() + ms, last_msg = now_ms();

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < SOURCES; i++)
		s->last[i] = -1;
	rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "group.id", "st-test", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	cr_assert_not_null(rk, "%s", errstr);
	rd_kafka_poll_set_consumer(rk);
	parts = rd_kafka_topic_partition_list_new(PARTITIONS);
	for (int p = 0; p < PARTITIONS; p++)
		rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset =
		        RD_KAFKA_OFFSET_BEGINNING;
	cr_assert_eq(rd_kafka_assign(rk, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);

	while (now_ms() < end && (s->total < want || now_ms() - last_msg < quiet_ms)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		rd_kafka_headers_t *hdrs = NULL;
		json_t *doc, *jn, *jsrc;
		json_error_t jerr;
		size_t len;
		const char *v;
		int n, src;

		if (!m)
			continue;
		if (m->err) {
			rd_kafka_message_destroy(m);
			continue;
		}
		last_msg = now_ms();
		s->total++;
		doc = json_loadb(m->payload, m->len, 0, &jerr);
		jn = doc ? json_object_get(doc, "n") : NULL;
		jsrc = doc ? json_object_get(doc, "src_ip") : NULL;
		if (!jn || !json_is_integer(jn) || !jsrc ||
		    ((const char *)m->payload)[m->len - 1] == '\n') {
			s->bad++;
			json_decref(doc);
			rd_kafka_message_destroy(m);
			continue;
		}
		n = (int)json_integer_value(jn);
		src = n % SOURCES;
		if (n >= 0 && n < (int)(sizeof(s->count) / sizeof(s->count[0])))
			s->count[n]++;
		/* per source, notifications arrive in the order written */
		if (n <= s->last[src] && s->out_of_order++ < 5 && !strcmp(key_mode, "src_ip"))
			fprintf(stderr, "source %d: %d after %d (partition %d offset %lld)\n", src,
			        n, s->last[src], (int)m->partition, (long long)m->offset);
		s->last[src] = n;
		/* key */
		if (!strcmp(key_mode, "src_ip")) {
			const char *ip = json_string_value(jsrc);

			if (!m->key || m->key_len != strlen(ip) || memcmp(m->key, ip, m->key_len))
				s->bad++;
		} else if (!strcmp(key_mode, "agent_addr")) {
			const char *want_key = n % 3 ? "198.51.100.1" : json_string_value(jsrc);

			if (!m->key || m->key_len != strlen(want_key) ||
			    memcmp(m->key, want_key, m->key_len))
				s->bad++;
		} else if (m->key) {
			s->bad++;
		}
		/* headers */
		rd_kafka_message_headers(m, &hdrs);
		v = hdr(hdrs, "version", &len);
		if (!v || len != 3 || memcmp(v, "v2c", 3))
			s->bad++;
		v = hdr(hdrs, "pdu", &len);
		if (!v || len != strlen(n % 2 ? "inform" : "trap") ||
		    memcmp(v, n % 2 ? "inform" : "trap", len))
			s->bad++;
		v = hdr(hdrs, "trap_oid", &len);
		if (!v || len != 19 || memcmp(v, "1.3.6.1.6.3.1.1.5.3", 19))
			s->bad++;
		json_decref(doc);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* every n in [0, total) exactly once, in order per source, all valid */
static void assert_exactly_once(const seen_t *s, int total)
{
	int missing = 0, dup = 0;

	for (int n = 0; n < total; n++) {
		if (s->count[n] == 0)
			missing++;
		if (s->count[n] > 1)
			dup++;
	}
	cr_assert_eq(missing, 0, "%d notifications never arrived", missing);
	cr_assert_eq(dup, 0, "%d notifications arrived more than once", dup);
	cr_assert_eq(s->total, total, "messages: %d, want %d", s->total, total);
	cr_assert_eq(s->bad, 0, "%d messages with a wrong key, header or JSON", s->bad);
	cr_assert_eq(s->out_of_order, 0, "%d messages out of order for their source",
	             s->out_of_order);
}

static seen_t seen;

Test(kafka, delivers_each_line_once_with_key_and_headers)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;

	cluster_start(&c, 3);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	write_range(sink, 0, 2000, 0);
	WAIT_STAT(sink, written, 2000, 20000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.accepted, 2000);
	cr_assert_eq(st.written, 2000);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.spooled, 0);
	cr_assert_eq(st.errors, 0);
	cr_assert_str_eq(st_sink_kind(sink), "kafka");
	st_sink_free(sink);
	consume(&c, "src_ip", 2000, 500, 20000, &seen);
	assert_exactly_once(&seen, 2000);
	cluster_stop(&c);
}

Test(kafka, key_agent_addr_falls_back_to_the_source)
{
	cluster_t c;
	st_sink_t *sink;

	cluster_start(&c, 1);
	sink = sink_open(&c, ST_KAFKA_KEY_AGENT_ADDR, 64 << 20);
	write_range(sink, 0, 300, 0);
	cr_assert_eq(st_sink_close(sink, 10000), 0);
	st_sink_free(sink);
	consume(&c, "agent_addr", 300, 300, 20000, &seen);
	/* one source's lines have two keys here (relayed or not), so they
	 * may land on two partitions: no order to check across them */
	seen.out_of_order = 0;
	assert_exactly_once(&seen, 300);
	cluster_stop(&c);
}

Test(kafka, key_none_sends_no_key)
{
	cluster_t c;
	st_sink_t *sink;

	cluster_start(&c, 1);
	sink = sink_open(&c, ST_KAFKA_KEY_NONE, 64 << 20);
	write_range(sink, 0, 100, 0);
	cr_assert_eq(st_sink_close(sink, 10000), 0);
	st_sink_free(sink);
	consume(&c, "none", 100, 300, 20000, &seen);
	/* without a key librdkafka spreads messages over partitions, so
	 * only presence and uniqueness are checked, not order */
	seen.out_of_order = 0;
	assert_exactly_once(&seen, 100);
	cluster_stop(&c);
}

Test(kafka, outage_spools_then_replays_in_order_once)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;

	cluster_start(&c, 3);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	write_range(sink, 0, 500, 0);
	WAIT_STAT(sink, written, 500, 20000);

	cluster_set(&c, 0);
	/* 3 s of traffic while the brokers are away: the first lines wait
	 * in librdkafka, then the sink notices (queue_timeout 500 ms) and
	 * spools */
	write_range(sink, 500, 2000, 2000);
	st_sink_stats(sink, &st);
	cr_assert_gt(st.spooled, 0, "nothing went to the spool during the outage");
	cr_assert_eq(st.accepted, 2000);
	cr_assert_eq(st.written, 500, "nothing can be delivered while down");
	cr_assert_eq(st_sink_ready(sink), 1, "a spool with room keeps the sink ready");

	cluster_set(&c, 1);
	/* traffic goes on while the spool is replayed */
	write_range(sink, 2000, 2500, 1000);
	WAIT_STAT(sink, written, 2500, 40000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.written, 2500);
	cr_assert_eq(st.spooled, 0);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.dropped, 0);
	cr_assert_gt(st.replayed, 0);
	st_sink_free(sink);

	consume(&c, "src_ip", 2500, 1000, 30000, &seen);
	assert_exactly_once(&seen, 2500);
	cluster_stop(&c);
}

Test(kafka, failures_during_replay_are_sent_again_in_order)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;
	rd_kafka_resp_err_t errs[300];
	uint64_t timeouts_before;

	cluster_start(&c, 3);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	write_range(sink, 0, 300, 0);
	WAIT_STAT(sink, written, 300, 20000);
	cluster_set(&c, 0);
	write_range(sink, 300, 3300, 250);
	WAIT_STAT(sink, spooled, 3000, 15000);

	/*
	 * When the brokers return, they refuse produce requests for a while
	 * with a retriable error (nothing written): the replay stalls, the
	 * sink goes back to spooling, librdkafka gives up on the replayed
	 * records after message.timeout.ms and they are rescued, sorted,
	 * and sent again ahead of the rest of the spool.
	 *
	 * (The mock cluster of librdkafka 2.0 does not de-duplicate the
	 * retries of an idempotent producer that is not transactional, so
	 * a test that takes the brokers down while requests are on the wire
	 * would see duplicates a real broker never writes; refusals leave
	 * nothing on the wire.)
	 */
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		errs[i] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
	rd_kafka_mock_push_request_errors_array(c.mc, 0 /* Produce */,
	                                        sizeof(errs) / sizeof(errs[0]), errs);
	st_sink_stats(sink, &st);
	timeouts_before = st.failed_timeout;
	cluster_set(&c, 1);
	write_range(sink, 3300, 3500, 5000);
	WAIT_STAT(sink, written, 3500, 60000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.spooled, 0);
	cr_assert_gt(st.failed_timeout, timeouts_before,
	             "replayed records timed out and were rescued");
	cr_assert_gt(st.replayed, 3200, "some records were replayed twice");
	st_sink_free(sink);

	consume(&c, "src_ip", 3500, 1000, 30000, &seen);
	assert_exactly_once(&seen, 3500);
	cluster_stop(&c);
}

Test(kafka, refused_deliveries_are_spooled_and_sent_again_in_order)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;
	rd_kafka_resp_err_t errs[4];

	cluster_start(&c, 1);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	write_range(sink, 0, 200, 0);
	WAIT_STAT(sink, written, 200, 20000);
	/* the broker refuses the next produce requests with an error that
	 * librdkafka does not retry and that says nothing was written */
	for (int i = 0; i < 4; i++)
		errs[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
	rd_kafka_mock_push_request_errors_array(c.mc, 0 /* Produce */, 4, errs);
	write_range(sink, 200, 3000, 200);
	WAIT_STAT(sink, written, 3000, 40000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_gt(st.failed_other, 0, "the refusals reached the sink");
	cr_assert_gt(st.replayed, 0);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.spooled, 0);
	st_sink_free(sink);

	consume(&c, "src_ip", 3000, 1000, 30000, &seen);
	assert_exactly_once(&seen, 3000);
	cluster_stop(&c);
}

Test(kafka, close_during_outage_leaves_a_spool_the_next_start_replays)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;

	cluster_start(&c, 3);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	write_range(sink, 0, 300, 0);
	WAIT_STAT(sink, written, 300, 20000);
	cluster_set(&c, 0);
	/* some lines go to librdkafka's queue, the rest straight to disk */
	write_range(sink, 300, 1000, 1000);
	cr_assert_eq(st_sink_close(sink, 1000), 0, "everything was spooled");
	st_sink_stats(sink, &st);
	cr_assert_eq(st.written, 300);
	cr_assert_eq(st.spooled, 700);
	cr_assert_eq(st.dropped, 0);
	/* what librdkafka still held was purged into the spool: spooled at
	 * shutdown, not a delivery failure, not an error */
	cr_assert_gt(st.shutdown_spooled, 0);
	cr_assert_eq(st.failed_purged, 0);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(st.in_flight, 0);
	st_sink_free(sink);

	/* a new run: the spool goes first, new lines queue behind it */
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 64 << 20);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.spooled, 700, "the spool survived the restart");
	write_range(sink, 1000, 1200, 0);
	cluster_set(&c, 1);
	WAIT_STAT(sink, written, 900, 40000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_free(sink);

	consume(&c, "src_ip", 1200, 1000, 30000, &seen);
	assert_exactly_once(&seen, 1200);
	cluster_stop(&c);
}

Test(kafka, spool_eviction_is_counted)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;
	int total = 6000;
	uint64_t evicted;

	cluster_start(&c, 1);
	sink = sink_open(&c, ST_KAFKA_KEY_SRC_IP, 1 << 20);
	cluster_set(&c, 0);
	/* wait until the sink has noticed the outage, then write ~3 MB of
	 * 500-byte lines into a 1 MiB spool */
	cr_assert_eq(write_n(sink, 0, 500), ST_SINK_ACCEPTED);
	WAIT_STAT(sink, spooled, 1, 15000);
	for (int n = 1; n < total; n++)
		cr_assert_eq(write_n(sink, n, 500), ST_SINK_ACCEPTED);
	st_sink_stats(sink, &st);
	cr_assert_gt(st.evicted, 0);
	cr_assert_leq(st.spool_bytes, 1 << 20);
	cr_assert_eq(st.spooled + st.evicted, (uint64_t)total, "kept or counted, each line");
	cr_assert_eq(st.dropped, st.evicted, "evictions are counted as losses");
	evicted = st.evicted;

	cluster_set(&c, 1);
	WAIT_STAT(sink, written, (uint64_t)total - evicted, 40000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.written, (uint64_t)total - evicted);
	st_sink_free(sink);

	/* the oldest were evicted: what arrives is the newest, once each */
	consume(&c, "src_ip", total - (int)evicted, 500, 30000, &seen);
	cr_assert_eq(seen.total, total - (int)evicted);
	for (int n = 0; n < total; n++)
		cr_assert_eq(seen.count[n], n < (int)evicted ? 0 : 1, "n=%d evicted=%d", n,
		             (int)evicted);
	cr_assert_eq(seen.out_of_order, 0);
	cluster_stop(&c);
}

Test(kafka, unknown_rdkafka_property_names_it)
{
	const char *const props[] = {"linger.mss", "5", NULL};
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, props);
	char err[512] = "";
	st_sink_t *sink = NULL;

	cr_assert_lt(sink_make(NULL, &kc, &sink, err, sizeof(err)), 0);
	cr_assert_null(sink);
	cr_assert(strstr(err, "output.kafka.rdkafka.linger.mss: "), "err: %s", err);
	cr_assert(strstr(err, "No such configuration property"), "err: %s", err);
}

Test(kafka, bad_rdkafka_value_names_it)
{
	const char *const props[] = {"linger.ms", "soon", NULL};
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, props);
	char err[512] = "";
	st_sink_t *sink = NULL;

	cr_assert_lt(sink_make(NULL, &kc, &sink, err, sizeof(err)), 0);
	cr_assert(strstr(err, "output.kafka.rdkafka.linger.ms: "), "err: %s", err);
}

/* collects what st_sink_check() reports */
typedef struct found {
	char text[4096];
	int n;
} found_t;

static int found_add(const char *msg, void *arg)
{
	found_t *f = arg;
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%s\n", msg);
	f->n++;
	return 0;
}

Test(kafka, check_lists_every_bad_property_and_the_spool_dir)
{
	const char *const props[] = {"linger.mss",        "5",   "linger.ms", "soon",
	                             "bootstrap.servers", "x:1", NULL};
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, props);
	st_sink_conf_t conf = {.nworkers = 1, .kafka = &kc};
	found_t f = {.n = 0};

	kc.spool_dir = "/proc/stormtrap-spool"; /* /proc takes no new directory */
	cr_assert_eq(st_sink_check("kafka://127.0.0.1:1/t", &conf, found_add, &f), -EINVAL);
	cr_assert_eq(f.n, 4, "%s", f.text);
	cr_assert(strstr(f.text, "output.kafka.rdkafka.linger.mss: No such configuration property"),
	          "%s", f.text);
	cr_assert(strstr(f.text, "output.kafka.rdkafka.linger.ms: "), "%s", f.text);
	cr_assert(strstr(f.text, "output.kafka.rdkafka.bootstrap.servers: the brokers are set in "
	                         "the output URI"),
	          "%s", f.text);
	cr_assert(strstr(f.text, "output.kafka.spool_dir: '/proc/stormtrap-spool' does not exist "
	                         "and cannot be created in '/proc'"),
	          "%s", f.text);

	/* a good configuration: nothing to say, and nothing created */
	memset(&f, 0, sizeof(f));
	kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, NULL);
	cr_assert_eq(st_sink_check("kafka://127.0.0.1:1/t", &conf, found_add, &f), 0, "%s", f.text);
	cr_assert_eq(f.n, 0);
}

/* a report function that asks to stop after the first finding */
static int found_first(const char *msg, void *arg)
{
	found_add(msg, arg);
	return 1;
}

Test(kafka, check_stops_when_the_report_asks)
{
	const char *const props[] = {"linger.mss", "5", NULL};
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, props);
	st_sink_conf_t conf = {.nworkers = 1, .kafka = &kc};
	found_t f = {.n = 0};

	/* a bad property, then a spool directory that cannot be made: the
	 * report asked to stop at the first */
	kc.spool_dir = "/proc/stormtrap-spool";
	cr_assert_eq(st_sink_check("kafka://127.0.0.1:1/t", &conf, found_first, &f), -EINVAL);
	cr_assert_eq(f.n, 1, "%s", f.text);
	cr_assert(strstr(f.text, "linger.mss"), "%s", f.text);
}

Test(kafka, check_names_a_missing_topic)
{
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, NULL);
	st_sink_conf_t conf = {.nworkers = 1, .kafka = &kc};
	found_t f = {.n = 0};

	cr_assert_eq(st_sink_check("kafka://127.0.0.1:1", &conf, found_add, &f), -EINVAL);
	cr_assert_eq(f.n, 1, "%s", f.text);
	cr_assert(strstr(f.text, "no topic"), "%s", f.text);
}

Test(kafka, topic_from_uri_or_setting)
{
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, NULL);
	st_sink_conf_t conf = {.nworkers = 1, .kafka = &kc};
	char err[512] = "";
	st_sink_t *sink = NULL;

	/* no topic anywhere */
	st_kafka_conf_t none = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, NULL);
	st_sink_conf_t conf2 = {.nworkers = 1, .kafka = &none};

	kc.topic = "fallback";
	cr_assert_lt(st_sink_new("kafka://127.0.0.1:1", &conf2, &sink, err, sizeof(err)), 0);
	cr_assert(strstr(err, "no topic"), "err: %s", err);
	/* bad topic name */
	cr_assert_lt(st_sink_new("kafka://127.0.0.1:1/bad topic", &conf2, &sink, err, sizeof(err)),
	             0);
	cr_assert(strstr(err, "bad topic"), "err: %s", err);
	/* no brokers */
	cr_assert_lt(st_sink_new("kafka:///t", &conf2, &sink, err, sizeof(err)), 0);
	cr_assert(strstr(err, "no brokers"), "err: %s", err);

	/* the setting serves when the URI names no topic: its spool lives
	 * under <spool_dir>/<topic> */
	cr_assert_eq(st_sink_new("kafka://127.0.0.1:1", &conf, &sink, err, sizeof(err)), 0, "%s",
	             err);
	char path[128];
	snprintf(path, sizeof(path), "%s/fallback/LOCK", spool_dir);
	cr_assert_eq(access(path, F_OK), 0, "spool in %s", path);
	st_sink_free(sink);
	/* the URI's topic wins */
	cr_assert_eq(st_sink_new("kafka://127.0.0.1:1/fromuri", &conf, &sink, err, sizeof(err)), 0,
	             "%s", err);
	snprintf(path, sizeof(path), "%s/fromuri/LOCK", spool_dir);
	cr_assert_eq(access(path, F_OK), 0, "spool in %s", path);
	st_sink_free(sink);
}

Test(kafka, one_spool_directory_per_output)
{
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, 1 << 20, NULL);
	st_sink_conf_t conf = {.nworkers = 1, .kafka = &kc};
	char err[512] = "";
	st_sink_t *a = NULL, *b = NULL;

	cr_assert_eq(st_sink_new("kafka://127.0.0.1:1/t", &conf, &a, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_lt(st_sink_new("kafka://127.0.0.2:1/t", &conf, &b, err, sizeof(err)), 0);
	cr_assert(strstr(err, "in use"), "err: %s", err);
	st_sink_free(a);
}

/* ---- acceptance journal ------------------------------------------------- */

static st_sink_t *journal_open(const cluster_t *c, uint64_t spool_max, st_kafka_full_t full)
{
	st_kafka_conf_t kc = kconf_make(ST_KAFKA_KEY_SRC_IP, spool_max, NULL);

	kc.acceptance = ST_KAFKA_ACCEPT_JOURNAL;
	kc.full = full;
	return sink_start(c, &kc);
}

Test(kafka, journal_delivers_each_line_once_and_empties)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;

	cluster_start(&c, 3);
	sink = journal_open(&c, 64 << 20, ST_KAFKA_FULL_DROP_OLDEST);
	write_range(sink, 0, 3000, 0);
	WAIT_STAT(sink, written, 3000, 20000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.accepted, 3000);
	cr_assert_eq(st.written, 3000);
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(st.spooled, 0, "everything confirmed: nothing left in the journal");
	cr_assert_eq(st.journal_oldest_ms, 0);
	st_sink_free(sink);
	consume(&c, "src_ip", 3000, 500, 20000, &seen);
	assert_exactly_once(&seen, 3000);
	cluster_stop(&c);
}

Test(kafka, journal_line_is_accepted_only_at_flush_and_not_before)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;

	cluster_start(&c, 1);
	sink = journal_open(&c, 64 << 20, ST_KAFKA_FULL_DROP_OLDEST);
	cr_assert_eq(write_n(sink, 0, 0), ST_SINK_ACCEPTED);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.spooled, 0, "in the worker's batch, not in the journal yet");
	cr_assert_eq(st_sink_flush(sink, 0), ST_SINK_ACCEPTED);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.spooled + st.written, 1, "in the journal once flushed");
	WAIT_STAT(sink, written, 1, 20000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_free(sink);
	cluster_stop(&c);
}

Test(kafka, journal_close_during_outage_is_quick_and_the_next_start_sends_all)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;
	int64_t t0;

	cluster_start(&c, 3);
	sink = journal_open(&c, 64 << 20, ST_KAFKA_FULL_DROP_OLDEST);
	write_range(sink, 0, 500, 0);
	WAIT_STAT(sink, written, 500, 20000);
	cluster_set(&c, 0);
	write_range(sink, 500, 3000, 200);
	st_sink_stats(sink, &st);
	cr_assert_gt(st.journal_oldest_ms, 0, "undelivered lines have an age");
	cr_assert(st_sink_ready(sink), "an outage alone does not make the journal unready");
	t0 = now_ms();
	cr_assert_eq(st_sink_close(sink, 10000), 0);
	cr_assert_lt(now_ms() - t0, 4000, "close waited for the brokers: %lld ms",
	             (long long)(now_ms() - t0));
	st_sink_stats(sink, &st);
	cr_assert_eq(st.written, 500);
	cr_assert_eq(st.spooled, 2500, "the journal keeps every undelivered line");
	cr_assert_eq(st.dropped, 0);
	cr_assert_eq(st.errors, 0);
	st_sink_free(sink);

	sink = journal_open(&c, 64 << 20, ST_KAFKA_FULL_DROP_OLDEST);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.recovered, 2500);
	cr_assert_leq(st.recovered_dups, 2500);
	write_range(sink, 3000, 3200, 0);
	cluster_set(&c, 1);
	WAIT_STAT(sink, written, 2700, 40000);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.replayed, 2500);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_free(sink);
	consume(&c, "src_ip", 3200, 1000, 30000, &seen);
	assert_exactly_once(&seen, 3200);
	cluster_stop(&c);
}

Test(kafka, journal_full_reject_refuses_counts_and_is_not_ready)
{
	cluster_t c;
	st_sink_t *sink;
	st_sink_stats_t st;
	int refused = 0, total = 6000;

	cluster_start(&c, 1);
	cluster_set(&c, 0);
	sink = journal_open(&c, 1 << 20, ST_KAFKA_FULL_REJECT);
	cr_assert(st_sink_ready(sink));
	for (int n = 0; n < total; n++) {
		cr_assert_eq(write_n(sink, n, 500), ST_SINK_ACCEPTED);
		if (n % 50 == 49)
			for (unsigned w = 0; w < 2; w++)
				refused += st_sink_flush(sink, w) != ST_SINK_ACCEPTED;
	}
	st_sink_stats(sink, &st);
	cr_assert_gt(refused, 0, "a flush into a full journal says so");
	cr_assert_gt(st.journal_full, 0);
	cr_assert_eq(st.evicted, 0);
	cr_assert_leq(st.spool_bytes, 1 << 20);
	cr_assert_eq(st.spooled + st.journal_full, (uint64_t)total, "kept or counted, each line");
	cr_assert_eq(st.dropped, st.journal_full);
	cr_assert_not(st_sink_ready(sink), "a nearly full journal is not ready");
	cluster_set(&c, 1);
	WAIT_STAT(sink, written, st.spooled, 40000);
	cr_assert_eq(st_sink_close(sink, 5000), 0);
	st_sink_free(sink);
	cluster_stop(&c);
}
