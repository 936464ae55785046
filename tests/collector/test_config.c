/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_config.c - the configuration system: defaults, every value type,
 * the three sources and their precedence, list and librdkafka-family
 * semantics, error texts (each names the source and the key), the dump
 * and the reference documentation written from the key table.
 *
 * Expected values are written out from the design, not read back from the
 * key table, so a wrong row in config_keys.h fails here.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "st_codec.h"
#include "st_config.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

/* Write text to a fresh temporary .yaml file; the caller unlinks and frees. */
static char *yaml_file(const char *text)
{
	char *path = strdup("/tmp/st_config_test_XXXXXX.yaml");
	int fd;
	FILE *fp;

	cr_assert_not_null(path);
	fd = mkstemps(path, 5);
	cr_assert(fd >= 0, "mkstemps: %s", strerror(errno));
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Load YAML text into cfg; returns the loader's result, err filled. */
static int load_yaml_text(st_config_t *cfg, const char *text, char *err, size_t errlen,
                          char **pathp)
{
	char *path = yaml_file(text);
	int rc = st_config_load_yaml(cfg, path, err, errlen);

	unlink(path);
	if (pathp)
		*pathp = path;
	else
		free(path);
	return rc;
}

static char *dump_str(const st_config_t *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	st_config_dump(cfg, fp);
	fclose(fp);
	return buf;
}

static char *markdown_str(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	st_config_markdown(fp);
	fclose(fp);
	return buf;
}

/* The dump without the "  # source" comments, to compare values only. */
static char *strip_comments(const char *dump)
{
	char *out = malloc(strlen(dump) + 1);
	char *o = out;

	cr_assert_not_null(out);
	for (const char *line = dump; *line;) {
		const char *nl = strchr(line, '\n');
		const char *end = nl ? nl : line + strlen(line);
		const char *hash = strstr(line, "  # ");

		if (line[0] == '#') {
			line = nl ? nl + 1 : end;
			continue;
		}
		if (hash && hash < end)
			end = hash;
		memcpy(o, line, (size_t)(end - line));
		o += end - line;
		*o++ = '\n';
		line = nl ? nl + 1 : end;
	}
	*o = '\0';
	return out;
}

/* --set key=value must fail with exactly msg, leaving cfg as it was. */
static void expect_set_error(const char *key, const char *value, const char *msg)
{
	st_config_t cfg;
	char err[512] = "";
	char *before, *after;

	cr_assert_eq(st_config_init(&cfg), 0);
	before = dump_str(&cfg);
	cr_assert_eq(st_config_set(&cfg, key, value, NULL, err, sizeof(err)), ST_ERR_CONFIG,
	             "%s=%s accepted", key, value);
	cr_assert_str_eq(err, msg);
	after = dump_str(&cfg);
	cr_assert_str_eq(before, after, "a failed --set changed the configuration");
	free(before);
	free(after);
	st_config_free(&cfg);
}

/* --set key=value must succeed. */
static void set_ok(st_config_t *cfg, const char *key, const char *value)
{
	char err[512] = "";

	cr_assert_eq(st_config_set(cfg, key, value, NULL, err, sizeof(err)), 0,
	             "%s=%s rejected: %s", key, value, err);
}

/* --set key=value must fail; err must contain every needle. */
static void set_fails_with(st_config_t *cfg, const char *key, const char *value, const char *needle)
{
	char err[512] = "";

	cr_assert_eq(st_config_set(cfg, key, value, NULL, err, sizeof(err)), ST_ERR_CONFIG,
	             "%s=%s accepted", key, value);
	cr_assert(strstr(err, needle), "error for %s=%s lacks '%s': %s", key, value, needle, err);
}

/* ------------------------------------------------------------------ */
/* defaults                                                           */
/* ------------------------------------------------------------------ */

Test(config, defaults_match_the_design)
{
	/* 0x80000000 (enterprise 0, high bit set), format 04 (text), "stormtrap" */
	static const uint8_t engine_id[] = {0x80, 0x00, 0x00, 0x00, 0x04, 's', 't',
	                                    'o',  'r',  'm',  't',  'r',  'a', 'p'};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(cfg.listen.n, 1);
	cr_assert_str_eq(cfg.listen.v[0], "udp://0.0.0.0:162");
	cr_assert_null(cfg.listen.v[1]);
	cr_assert_eq(cfg.output.n, 1);
	cr_assert_str_eq(cfg.output.v[0], "stdout");
	cr_assert_eq(cfg.communities.n, 1);
	cr_assert_str_eq(cfg.communities.v[0], "public");
	cr_assert_str_eq(cfg.users_file, "");
	cr_assert_eq(cfg.ingest_backend, ST_BACKEND_AUTO);
	cr_assert_eq(cfg.ingest_rcvbuf, 32u * 1024 * 1024);
	cr_assert_eq(cfg.ingest_ring_bytes, 4u * 1024 * 1024);
	cr_assert_eq(cfg.ingest_batch, 64);
	cr_assert_eq(cfg.threads_ingest, 0);
	cr_assert_eq(cfg.threads_workers, 0);
	cr_assert_eq(cfg.threads_affinity, false);
	cr_assert_eq(cfg.output_community, true);
	cr_assert_eq(cfg.output_raw, false);
	cr_assert_eq(cfg.output_batch_bytes, 256u * 1024);
	cr_assert_eq(cfg.snmp_engine_id.len, sizeof(engine_id));
	cr_assert_arr_eq(cfg.snmp_engine_id.v, engine_id, sizeof(engine_id));
	cr_assert_eq(cfg.snmp_engine_boots, 1);
	cr_assert_eq(cfg.snmp_engine_epoch, 1767225600); /* 2026-01-01T00:00:00Z */
	cr_assert_eq(cfg.usm_timeliness, ST_USM_TIMELINESS_LEARN);
	cr_assert_eq(cfg.usm_max_engines, 200000);
	cr_assert_str_eq(cfg.metrics_listen, "");
	cr_assert_eq(cfg.log_level, ST_LOG_INFO);
	cr_assert_eq(cfg.log_format, ST_CONFIG_LOG_FORMAT_TEXT);
	cr_assert_eq(cfg.log_bad_packets, false);
	cr_assert_eq(cfg.shutdown_timeout_ms, 10000);
	cr_assert_str_eq(cfg.output_kafka_topic, "");
	cr_assert_eq(cfg.output_kafka_key, ST_KAFKA_KEY_SRC_IP);
	cr_assert_eq(cfg.output_kafka_headers, true);
	cr_assert_str_eq(cfg.output_kafka_spool_dir, "/var/spool/stormtrap");
	cr_assert_eq(cfg.output_kafka_spool_max, 1024ull * 1024 * 1024);
	cr_assert_eq(cfg.output_kafka_queue_timeout_ms, 5000);
	cr_assert_eq(cfg.output_kafka_rdkafka.n, 0);
	st_config_free(&cfg);
}

Test(config, default_collector_name_is_the_host_name)
{
	char host[256] = "";
	st_config_t cfg;

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_str_eq(cfg.collector_name, host);
	st_config_free(&cfg);
}

Test(config, defaults_pass_validation)
{
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* value types                                                        */
/* ------------------------------------------------------------------ */

Test(config, bool_accepts_every_spelling)
{
	static const struct {
		const char *text;
		bool v;
	} cases[] = {{"true", true}, {"false", false}, {"yes", true},  {"no", false},
	             {"on", true},   {"off", false},   {"1", true},    {"0", false},
	             {"TRUE", true}, {"Off", false},   {" yes ", true}};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ok(&cfg, "threads.affinity", cases[i].text);
		cr_assert_eq(cfg.threads_affinity, cases[i].v, "'%s'", cases[i].text);
		/* flip it back so the next case is not a no-op */
		cfg.threads_affinity = !cases[i].v;
	}
	st_config_free(&cfg);
}

Test(config, bool_rejects_other_words)
{
	expect_set_error("output.raw", "maybe",
	                 "--set: output.raw: expected a boolean (true/false, yes/no, on/off, 1/0), "
	                 "got 'maybe'");
	expect_set_error("output.raw", "2",
	                 "--set: output.raw: expected a boolean (true/false, yes/no, on/off, 1/0), "
	                 "got '2'");
}

Test(config, integer_bounds_and_error_text)
{
	st_config_t cfg;

	expect_set_error("threads.ingest", "many",
	                 "--set: threads.ingest: expected an integer 0..64, got 'many'");
	expect_set_error("threads.ingest", "65",
	                 "--set: threads.ingest: expected an integer 0..64, got '65'");
	expect_set_error("threads.workers", "-1",
	                 "--set: threads.workers: expected an integer 0..64, got '-1'");
	expect_set_error("ingest.batch", "0",
	                 "--set: ingest.batch: expected an integer 1..1024, got '0'");
	expect_set_error("ingest.batch", "1025",
	                 "--set: ingest.batch: expected an integer 1..1024, got '1025'");
	expect_set_error("ingest.batch", "1.5",
	                 "--set: ingest.batch: expected an integer 1..1024, got '1.5'");
	expect_set_error("ingest.batch", "0x10",
	                 "--set: ingest.batch: expected an integer 1..1024, got '0x10'");
	expect_set_error("ingest.batch", "",
	                 "--set: ingest.batch: expected an integer 1..1024, got nothing");
	expect_set_error("snmp.engine_boots", "2147483648",
	                 "--set: snmp.engine_boots: expected an integer 1..2147483647, got "
	                 "'2147483648'");
	expect_set_error("usm.max_engines", "99999999999999999999999",
	                 "--set: usm.max_engines: expected an integer 16..100000000, got "
	                 "'99999999999999999999999'");

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "threads.ingest", "64");
	cr_assert_eq(cfg.threads_ingest, 64);
	set_ok(&cfg, "ingest.batch", " 1024 ");
	cr_assert_eq(cfg.ingest_batch, 1024);
	set_ok(&cfg, "snmp.engine_boots", "2147483647");
	cr_assert_eq(cfg.snmp_engine_boots, 2147483647u);
	set_ok(&cfg, "usm.max_engines", "16");
	cr_assert_eq(cfg.usm_max_engines, 16);
	st_config_free(&cfg);
}

Test(config, engine_epoch_is_bounded_by_now)
{
	char future[32];
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "snmp.engine_epoch", "0");
	cr_assert_eq(cfg.snmp_engine_epoch, 0);
	set_ok(&cfg, "snmp.engine_epoch", "1700000000");
	cr_assert_eq(cfg.snmp_engine_epoch, 1700000000);
	snprintf(future, sizeof(future), "%lld", (long long)time(NULL) + 3600);
	set_fails_with(&cfg, "snmp.engine_epoch", future,
	               "--set: snmp.engine_epoch: expected an integer 0..");
	set_fails_with(&cfg, "snmp.engine_epoch", "-1", "(now), got '-1'");
	cr_assert_eq(cfg.snmp_engine_epoch, 1700000000);
	st_config_free(&cfg);
}

Test(config, size_suffixes)
{
	static const struct {
		const char *text;
		uint64_t v;
	} cases[] = {
	        {"65536", 65536},
	        {"64k", 64 * 1024},
	        {"64K", 64 * 1024},
	        {"64KiB", 64 * 1024},
	        {"64 kib", 64 * 1024},
	        {"1M", 1024 * 1024},
	        {"3MiB", 3 * 1024 * 1024},
	        {"2g", 2ull * 1024 * 1024 * 1024},
	        {"2GiB", 2ull * 1024 * 1024 * 1024},
	        {"100000b", 100000},
	};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ok(&cfg, "ingest.rcvbuf", cases[i].text);
		cr_assert_eq(cfg.ingest_rcvbuf, cases[i].v, "'%s' -> %llu", cases[i].text,
		             (unsigned long long)cfg.ingest_rcvbuf);
	}
	set_ok(&cfg, "output.kafka.spool_max", "1T");
	cr_assert_eq(cfg.output_kafka_spool_max, 1ull << 40);
	st_config_free(&cfg);
}

Test(config, size_rejects_bad_units_and_bounds)
{
	const char *expect = "--set: ingest.rcvbuf: expected a size 64KiB..2GiB (bytes, or with "
	                     "k/KiB, M/MiB, G/GiB, T/TiB), got ";
	static const char *const bad[] = {
	        "32KiB ",  "1.5M", "63KiB", "65535",        "3G",
	        "2049MiB", "M",    "-1M",   "17179869184T", "99999999999999999999"};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s'%s'", expect, bad[i]);
		set_fails_with(&cfg, "ingest.rcvbuf", bad[i], msg);
	}
	cr_assert_eq(cfg.ingest_rcvbuf, 32u * 1024 * 1024);
	st_config_free(&cfg);
}

Test(config, duration_suffixes)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} cases[] = {{"500ms", 500},  {"10s", 10000}, {"2m", 120000},
	             {"1h", 3600000}, {"0", 0},       {"3 S", 3000}};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_ok(&cfg, "shutdown.timeout", cases[i].text);
		cr_assert_eq(cfg.shutdown_timeout_ms, cases[i].ms, "'%s'", cases[i].text);
	}
	st_config_free(&cfg);
	expect_set_error("shutdown.timeout", "10x",
	                 "--set: shutdown.timeout: expected a duration 0ms..1h (e.g. 500ms, 10s, "
	                 "2m, 1h), got '10x'");
	expect_set_error("shutdown.timeout", "61m",
	                 "--set: shutdown.timeout: expected a duration 0ms..1h (e.g. 500ms, 10s, "
	                 "2m, 1h), got '61m'");
	expect_set_error("output.kafka.queue_timeout", "99ms",
	                 "--set: output.kafka.queue_timeout: expected a duration 100ms..24h (e.g. "
	                 "500ms, 10s, 2m, 1h), got '99ms'");
}

/* The keys of one type, from the reference table ("| `key`<br>`VAR` | size |"),
 * so a key added later is covered without editing this test. */
static size_t keys_of_type(const char *type, char names[][64], size_t max)
{
	char *md = markdown_str(), *p = md;
	char needle[64];
	size_t n = 0;

	snprintf(needle, sizeof(needle), "` | %s | ", type);
	while ((p = strstr(p, "\n| `")) != NULL && n < max) {
		char *name = p + 4, *end = strchr(name, '`'), *eol = strchr(name, '\n');

		p = name;
		if (!end || !eol || end - name >= 64)
			continue;
		*eol = '\0';
		if (strstr(name, needle)) {
			memcpy(names[n], name, (size_t)(end - name));
			names[n++][end - name] = '\0';
		}
		*eol = '\n';
	}
	free(md);
	return n;
}

Test(config, every_duration_refuses_a_bare_number)
{
	char names[16][64], msg[256];
	size_t n = keys_of_type("duration", names, 16);

	cr_assert_geq(n, 2, "shutdown.timeout and output.kafka.queue_timeout at least");
	for (size_t i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "--set: %s: '200' needs a unit: ms, s, m, h (e.g. 200s)",
		         names[i]);
		expect_set_error(names[i], "200", msg);
	}
	/* the message quotes the value as trimmed */
	expect_set_error("shutdown.timeout", " 10 ",
	                 "--set: shutdown.timeout: '10' needs a unit: ms, s, m, h (e.g. 10s)");
}

Test(config, every_size_refuses_decimal_units_with_the_binary_one)
{
	static const struct {
		const char *text, *write;
	} cases[] = {{"32MB", "32MiB (1 MiB = 1048576 bytes)"},
	             {"512kb", "512KiB (1 KiB = 1024 bytes)"},
	             {"1 GB", "1GiB (1 GiB = 1073741824 bytes)"},
	             {"1TB", "1TiB (1 TiB = 1099511627776 bytes)"}};
	char names[16][64], msg[256];
	size_t n = keys_of_type("size", names, 16);

	cr_assert_geq(n, 4, "rcvbuf, ring_bytes, batch_bytes, spool_max at least");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizeof(cases) / sizeof(cases[0]); j++) {
			snprintf(msg, sizeof(msg),
			         "--set: %s: '%s': sizes are binary: write %s, or the number of "
			         "bytes",
			         names[i], cases[j].text, cases[j].write);
			expect_set_error(names[i], cases[j].text, msg);
		}
}

Test(config, file_mode_is_octal_and_lets_the_owner_write)
{
	st_config_t cfg;
	char err[512] = "";

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(cfg.output_file_mode, 0640, "default %o", cfg.output_file_mode);
	set_ok(&cfg, "output.file.mode", "0600");
	cr_assert_eq(cfg.output_file_mode, 0600);
	set_ok(&cfg, "output.file.mode", "644");
	cr_assert_eq(cfg.output_file_mode, 0644);
	char *dump = dump_str(&cfg);
	cr_assert(strstr(dump, "output.file.mode: 0644  # command line\n"), "%s", dump);
	free(dump);
	for (const char *const *bad = (const char *const[]){"0800", "64", "rw-r-----", "1777",
	                                                    "00640", "0x1a4", NULL};
	     *bad; bad++) {
		char msg[256];

		snprintf(msg, sizeof(msg),
		         "--set: output.file.mode: expected an octal file mode 0000..0777 (e.g. "
		         "0640), got '%s'",
		         *bad);
		set_fails_with(&cfg, "output.file.mode", *bad, msg);
	}
	/* a mode stormtrap could not reopen its own file with */
	set_ok(&cfg, "output.file.mode", "0440");
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert(strstr(err, "output.file.mode: 0440 does not let stormtrap write"), "%s", err);
	st_config_free(&cfg);
}

Test(config, enum_words)
{
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "ingest.backend", "recvmmsg");
	cr_assert_eq(cfg.ingest_backend, ST_BACKEND_RECVMMSG);
	set_ok(&cfg, "ingest.backend", "IO_URING");
	cr_assert_eq(cfg.ingest_backend, ST_BACKEND_IO_URING);
	set_ok(&cfg, "log.level", "debug");
	cr_assert_eq(cfg.log_level, ST_LOG_DEBUG);
	set_ok(&cfg, "usm.timeliness", "off");
	cr_assert_eq(cfg.usm_timeliness, ST_USM_TIMELINESS_OFF);
	set_ok(&cfg, "output.kafka.key", "none");
	cr_assert_eq(cfg.output_kafka_key, ST_KAFKA_KEY_NONE);
	set_ok(&cfg, "log.format", "json");
	cr_assert_eq(cfg.log_format, ST_CONFIG_LOG_FORMAT_JSON);
	st_config_free(&cfg);

	expect_set_error("ingest.backend", "uring",
	                 "--set: ingest.backend: expected one of auto, io_uring, recvmmsg, got "
	                 "'uring'");
	expect_set_error("log.level", "warning",
	                 "--set: log.level: expected one of error, warn, info, debug, got "
	                 "'warning'");
}

Test(config, hex_engine_id)
{
	/* 0x80001f88 (enterprise 8072), format 80 (random), then 4 octets */
	static const uint8_t want[] = {0x80, 0x00, 0x1f, 0x88, 0x80, 0xaa, 0xbb, 0xcc, 0xdd};
	/* 5 octets, the shortest engine ID RFC 3411 allows */
	static const uint8_t shortest[] = {0x01, 0x02, 0x03, 0x04, 0x05};
	const char *expect =
	        "--set: snmp.engine_id: expected 5..32 octets in hex (0x optional), got ";
	char msg[256], too_long[80];
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "snmp.engine_id", "0x80001f8880aabbccdd");
	cr_assert_eq(cfg.snmp_engine_id.len, sizeof(want));
	cr_assert_arr_eq(cfg.snmp_engine_id.v, want, sizeof(want));
	set_ok(&cfg, "snmp.engine_id", "0102030405");
	cr_assert_eq(cfg.snmp_engine_id.len, sizeof(shortest));
	cr_assert_arr_eq(cfg.snmp_engine_id.v, shortest, sizeof(shortest));
	set_ok(&cfg, "snmp.engine_id", "80001F8880AABBCCDD");
	cr_assert_arr_eq(cfg.snmp_engine_id.v, want, sizeof(want));

	set_fails_with(&cfg, "snmp.engine_id", "0x8000", expect);      /* 2 octets */
	set_fails_with(&cfg, "snmp.engine_id", "0102030405f", expect); /* odd digits */
	set_fails_with(&cfg, "snmp.engine_id", "01020304zz", expect);  /* not hex */
	set_fails_with(&cfg, "snmp.engine_id", "0x", expect);          /* empty */
	memset(too_long, 'a', 66);                                     /* 33 octets */
	too_long[66] = '\0';
	/* the error echoes at most 64 characters of a value */
	snprintf(msg, sizeof(msg), "%s'%.64s...'", expect, too_long);
	set_fails_with(&cfg, "snmp.engine_id", too_long, msg);
	/* 32 octets is the maximum */
	too_long[64] = '\0';
	set_ok(&cfg, "snmp.engine_id", too_long);
	cr_assert_eq(cfg.snmp_engine_id.len, 32);
	cr_assert_eq(cfg.snmp_engine_id.v[31], 0xaa);
	st_config_free(&cfg);
}

Test(config, string_keys_and_metrics_address)
{
	static const char *const good[] = {"127.0.0.1:9163", "localhost:9163",           ":9163",
	                                   "[::1]:9163",     "metrics-1.example.net:80", ""};
	static const char *const bad[] = {"9163",  "127.0.0.1", "127.0.0.1:0", "host:65536",
	                                  "[::1]", "[zz]:80",   "a b:80",      "host:port"};
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "users_file", "/etc/stormtrap/users.conf");
	cr_assert_str_eq(cfg.users_file, "/etc/stormtrap/users.conf");
	set_ok(&cfg, "collector.name", "  st-1 ");
	cr_assert_str_eq(cfg.collector_name, "  st-1 "); /* strings are verbatim */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		set_ok(&cfg, "metrics.listen", good[i]);
		cr_assert_str_eq(cfg.metrics_listen, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		set_fails_with(&cfg, "metrics.listen", bad[i],
		               "--set: metrics.listen: expected host:port, [IPv6]:port or :port");
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* lists                                                              */
/* ------------------------------------------------------------------ */

Test(config, lists_split_at_commas)
{
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "communities", " public , private,,netops ");
	cr_assert_eq(cfg.communities.n, 3);
	cr_assert_str_eq(cfg.communities.v[0], "public");
	cr_assert_str_eq(cfg.communities.v[1], "private");
	cr_assert_str_eq(cfg.communities.v[2], "netops");
	cr_assert_null(cfg.communities.v[3]);
	set_ok(&cfg, "communities", "");
	cr_assert_eq(cfg.communities.n, 0);
	st_config_free(&cfg);
}

Test(config, uri_lists_keep_kafka_broker_lists_whole)
{
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "output",
	       "kafka://k1:9092,k2:9092,k3:9092/traps, stdout,file:/var/log/a,b.jsonl");
	cr_assert_eq(cfg.output.n, 3);
	cr_assert_str_eq(cfg.output.v[0], "kafka://k1:9092,k2:9092,k3:9092/traps");
	cr_assert_str_eq(cfg.output.v[1], "stdout");
	cr_assert_str_eq(cfg.output.v[2], "file:/var/log/a,b.jsonl");
	set_ok(&cfg, "listen", "udp://0.0.0.0:162,udp://[::]:162");
	cr_assert_eq(cfg.listen.n, 2);
	cr_assert_str_eq(cfg.listen.v[1], "udp://[::]:162");
	st_config_free(&cfg);
}

Test(config, listen_rejects_bad_addresses_naming_the_key)
{
	static const char *const bad[] = {
	        "udp://1.2.3.4",          "tcp://1.2.3.4:162",   "udp://[::1]:0",
	        "udp://host.example:162", "udp://::1:162",       "udp://1.2.3.4:65536",
	        "udp://[::1]162",         "udp://256.1.1.1:162", "udp://1.2.3.4:16x"};
	st_config_t cfg;

	expect_set_error("listen", "udp://1.2.3.4",
	                 "--set: listen: expected udp://IPv4:port or udp://[IPv6]:port, got "
	                 "'udp://1.2.3.4'");
	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		set_fails_with(&cfg, "listen", bad[i], "--set: listen: expected udp://IPv4:port");
	/* one bad item spoils the whole value */
	set_fails_with(&cfg, "listen", "udp://127.0.0.1:1162,udp://x:1", "got 'udp://x:1'");
	cr_assert_eq(cfg.listen.n, 1);
	cr_assert_str_eq(cfg.listen.v[0], "udp://0.0.0.0:162");
	st_config_free(&cfg);
}

Test(config, output_checks_the_scheme)
{
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "output", "stdout,file:traps.jsonl,kafka://k:9092/t,kafka://k:9092");
	cr_assert_eq(cfg.output.n, 4);
	set_fails_with(&cfg, "output", "stderr",
	               "--set: output: expected stdout, file:/path or "
	               "kafka://host:port[,host:port]/topic, got 'stderr'");
	set_fails_with(&cfg, "output", "file:", "got 'file:'");
	set_fails_with(&cfg, "output", "kafka://", "got 'kafka://'");
	set_fails_with(&cfg, "output", "http://x/y", "got 'http://x/y'");
	cr_assert_eq(cfg.output.n, 4);
	st_config_free(&cfg);
}

Test(config, list_add_replaces_lower_sources_then_appends)
{
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	/* as if the file and the environment gave lists */
	set_ok(&cfg, "listen", "udp://10.0.0.1:162,udp://10.0.0.2:162");
	cr_assert_eq(st_config_list_add(&cfg, "listen", "udp://127.0.0.1:1162", err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(st_config_list_add(&cfg, "listen", "udp://[::1]:1162", err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(cfg.listen.n, 2);
	cr_assert_str_eq(cfg.listen.v[0], "udp://127.0.0.1:1162");
	cr_assert_str_eq(cfg.listen.v[1], "udp://[::1]:1162");
	cr_assert_null(cfg.listen.v[2]);

	/* one item, never split: a Kafka broker list stays whole */
	cr_assert_eq(
	        st_config_list_add(&cfg, "output", "kafka://a:9092,b:9092/t", err, sizeof(err)), 0,
	        "%s", err);
	cr_assert_eq(cfg.output.n, 1);
	cr_assert_str_eq(cfg.output.v[0], "kafka://a:9092,b:9092/t");

	/* communities untouched by flags for other lists */
	cr_assert_eq(cfg.communities.n, 1);
	cr_assert_eq(st_config_list_add(&cfg, "communities", "a,b", err, sizeof(err)), 0);
	cr_assert_eq(cfg.communities.n, 1);
	cr_assert_str_eq(cfg.communities.v[0], "a,b");
	st_config_free(&cfg);
}

Test(config, list_add_rejects_bad_items_and_non_lists)
{
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_list_add(&cfg, "listen", "udp://nowhere:1", err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err, "command line: listen: expected udp://IPv4:port or "
	                      "udp://[IPv6]:port, got 'udp://nowhere:1'");
	/* the failed flag did not begin the command-line list */
	cr_assert_eq(cfg.listen.n, 1);
	cr_assert_str_eq(cfg.listen.v[0], "udp://0.0.0.0:162");
	cr_assert_eq(st_config_list_add(&cfg, "log.level", "debug", err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err, "command line: log.level: not a list");
	cr_assert_eq(st_config_list_add(&cfg, "lisen", "udp://1.2.3.4:1", err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err, "command line: unknown key 'lisen' (did you mean 'listen'?)");
	cr_assert_eq(st_config_list_add(&cfg, "communities", "", err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_str_eq(err, "command line: communities: empty list item");
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* YAML                                                               */
/* ------------------------------------------------------------------ */

Test(config, yaml_nested_equals_dotted)
{
	const char *nested = "ingest:\n"
	                     "  backend: recvmmsg\n"
	                     "  rcvbuf: 8MiB\n"
	                     "threads: {workers: 4, affinity: yes}\n"
	                     "output:\n"
	                     "  - stdout\n"
	                     "output.kafka:\n"
	                     "  topic: traps\n"
	                     "  rdkafka:\n"
	                     "    linger.ms: 5\n"
	                     "    sasl: {username: st}\n"
	                     "snmp:\n"
	                     "  engine_boots: 7\n";
	const char *dotted = "ingest.backend: recvmmsg\n"
	                     "ingest.rcvbuf: 8MiB\n"
	                     "threads.workers: 4\n"
	                     "threads.affinity: yes\n"
	                     "output: [stdout]\n"
	                     "output.kafka.topic: traps\n"
	                     "output.kafka.rdkafka.linger.ms: 5\n"
	                     "output.kafka.rdkafka.sasl.username: st\n"
	                     "snmp.engine_boots: 7\n";
	char err[512] = "";
	st_config_t a, b, def;
	char *da, *db, *dd;

	cr_assert_eq(st_config_init(&a), 0);
	cr_assert_eq(st_config_init(&b), 0);
	cr_assert_eq(st_config_init(&def), 0);
	cr_assert_eq(load_yaml_text(&a, nested, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(load_yaml_text(&b, dotted, err, sizeof(err), NULL), 0, "%s", err);
	da = dump_str(&a);
	db = dump_str(&b);
	dd = dump_str(&def);
	cr_assert_str_eq(da, db);
	cr_assert_str_neq(da, dd);
	cr_assert_eq(a.ingest_backend, ST_BACKEND_RECVMMSG);
	cr_assert_eq(a.ingest_rcvbuf, 8u * 1024 * 1024);
	cr_assert_eq(a.threads_workers, 4);
	cr_assert_eq(a.threads_affinity, true);
	cr_assert_eq(a.snmp_engine_boots, 7);
	cr_assert_str_eq(a.output_kafka_topic, "traps");
	cr_assert_eq(a.output_kafka_rdkafka.n, 2);
	cr_assert_str_eq(a.output_kafka_rdkafka.kv[0], "linger.ms");
	cr_assert_str_eq(a.output_kafka_rdkafka.kv[1], "5");
	cr_assert_str_eq(a.output_kafka_rdkafka.kv[2], "sasl.username");
	cr_assert_str_eq(a.output_kafka_rdkafka.kv[3], "st");
	cr_assert_null(a.output_kafka_rdkafka.kv[4]);
	free(da);
	free(db);
	free(dd);
	st_config_free(&a);
	st_config_free(&b);
	st_config_free(&def);
}

Test(config, yaml_lists_as_sequences_or_strings)
{
	const char *text = "listen:\n"
	                   "  - udp://127.0.0.1:1162\n"
	                   "  - \"udp://[::1]:1162\"\n"
	                   "communities: public, private\n"
	                   "output: 'kafka://a:9092,b:9092/t'\n";
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, text, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(cfg.listen.n, 2);
	cr_assert_str_eq(cfg.listen.v[0], "udp://127.0.0.1:1162");
	cr_assert_str_eq(cfg.listen.v[1], "udp://[::1]:1162");
	cr_assert_eq(cfg.communities.n, 2);
	cr_assert_str_eq(cfg.communities.v[1], "private");
	cr_assert_eq(cfg.output.n, 1);
	cr_assert_str_eq(cfg.output.v[0], "kafka://a:9092,b:9092/t");
	st_config_free(&cfg);

	/* a sequence item is taken whole: a community may hold a comma */
	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, "communities: [\"a,b\", c]\n", err, sizeof(err), NULL), 0,
	             "%s", err);
	cr_assert_eq(cfg.communities.n, 2);
	cr_assert_str_eq(cfg.communities.v[0], "a,b");
	/* null empties a list */
	cr_assert_eq(load_yaml_text(&cfg, "communities:\n", err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(cfg.communities.n, 0);
	st_config_free(&cfg);
}

/* Load text, expect failure; err must equal "<path><rest>". */
static void expect_yaml_error(const char *text, const char *rest)
{
	char err[512] = "", want[600];
	st_config_t cfg;
	char *path;
	char *before, *after;

	cr_assert_eq(st_config_init(&cfg), 0);
	before = dump_str(&cfg);
	cr_assert_eq(load_yaml_text(&cfg, text, err, sizeof(err), &path), ST_ERR_CONFIG,
	             "accepted: %s", text);
	snprintf(want, sizeof(want), "%s%s", path, rest);
	cr_assert_str_eq(err, want);
	after = dump_str(&cfg);
	cr_assert_str_eq(before, after, "a failed load changed the configuration");
	free(before);
	free(after);
	free(path);
	st_config_free(&cfg);
}

Test(config, yaml_errors_name_file_line_and_key)
{
	expect_yaml_error("log:\n  level: info\nthreads:\n  ingest: many\n",
	                  ":4: threads.ingest: expected an integer 0..64, got 'many'");
	expect_yaml_error("# comment\ningest:\n  treads: 4\n", ":3: unknown key 'ingest.treads'");
	expect_yaml_error("ingest.backend: recvmmsg\ningest:\n  backend: auto\n",
	                  ":3: ingest.backend: set twice (first on line 1)");
	expect_yaml_error("ingest.backend: [recvmmsg]\n",
	                  ":1: ingest.backend: expected one of auto, io_uring, recvmmsg, got a "
	                  "list");
	expect_yaml_error("listen:\n  - udp://127.0.0.1:1162\n  - udp://localhost:1162\n",
	                  ":3: listen: expected udp://IPv4:port or udp://[IPv6]:port, got "
	                  "'udp://localhost:1162'");
	expect_yaml_error("listen:\n  - [udp://127.0.0.1:1162]\n",
	                  ":2: listen: list items must be plain values");
	expect_yaml_error("communities:\n  - ''\n", ":2: communities: empty list item");
	expect_yaml_error("- a\n- b\n", ":1: expected a mapping of keys at the top");
	expect_yaml_error("log.level: info\n---\nlog.level: debug\n",
	                  ":2: only one YAML document is allowed");
	expect_yaml_error("? [a, b]\n: c\n", ":1:3: keys must be plain names");
}

Test(config, yaml_syntax_errors_name_line_and_column)
{
	expect_yaml_error("log:\n  level: info\n format: json\n",
	                  ":3:2: did not find expected key (while parsing a block mapping)");
	expect_yaml_error("log.level: info\n\tlog.format: json\n",
	                  ":2:1: found a tab character that violates indentation (while scanning a "
	                  "plain scalar)");
	expect_yaml_error("collector.name: \"unterminated\n",
	                  ":2:1: found unexpected end of stream (while scanning a quoted scalar)");
}

Test(config, yaml_rejects_anchors_and_aliases)
{
	expect_yaml_error("log: &l\n  level: info\noutput.kafka: *l\n",
	                  ":1:6: anchors and aliases are not supported");
	expect_yaml_error("log.format: text\nlog.level: *x\n",
	                  ":2:12: anchors and aliases are not supported");
}

Test(config, yaml_empty_file_changes_nothing)
{
	static const char *const empties[] = {"", "# only a comment\n", "---\n", "---\n...\n"};
	char err[512] = "";
	st_config_t cfg, def;
	char *a, *b;

	cr_assert_eq(st_config_init(&def), 0);
	b = dump_str(&def);
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		cr_assert_eq(st_config_init(&cfg), 0);
		cr_assert_eq(load_yaml_text(&cfg, empties[i], err, sizeof(err), NULL), 0,
		             "'%s': %s", empties[i], err);
		a = dump_str(&cfg);
		cr_assert_str_eq(a, b);
		free(a);
		st_config_free(&cfg);
	}
	free(b);
	st_config_free(&def);
}

Test(config, yaml_missing_file_is_an_errno)
{
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_load_yaml(&cfg, "/nonexistent/stormtrap.yaml", err, sizeof(err)),
	             -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/stormtrap.yaml: No such file or directory");
	st_config_free(&cfg);
}

Test(config, yaml_failure_leaves_the_configuration_unchanged)
{
	/* the first three keys are fine, the fourth is not */
	const char *text = "log.level: debug\nlisten: [udp://127.0.0.1:1162]\n"
	                   "output.kafka.rdkafka.linger.ms: 9\nthreads.ingest: 99\n";
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "log.level", "warn");
	cr_assert_eq(load_yaml_text(&cfg, text, err, sizeof(err), NULL), ST_ERR_CONFIG);
	cr_assert_eq(cfg.log_level, ST_LOG_WARN);
	cr_assert_str_eq(cfg.listen.v[0], "udp://0.0.0.0:162");
	cr_assert_eq(cfg.output_kafka_rdkafka.n, 0);
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* environment, precedence, unknown keys                              */
/* ------------------------------------------------------------------ */

Test(config, environment_names_and_lists)
{
	char *envp[] = {"PATH=/usr/bin",
	                "STORMTRAP_INGEST__BACKEND=recvmmsg",
	                "STORMTRAP_INGEST__RING_BYTES=8M",
	                "STORMTRAP_USERS_FILE=/etc/st/users",
	                "STORMTRAP_COMMUNITIES=public,netops",
	                "STORMTRAP_OUTPUT=kafka://a:9092,b:9092/t,stdout",
	                "STORMTRAPX_LOG__LEVEL=nonsense",
	                "stormtrap_log__level=nonsense",
	                NULL};
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.ingest_backend, ST_BACKEND_RECVMMSG);
	cr_assert_eq(cfg.ingest_ring_bytes, 8u * 1024 * 1024);
	cr_assert_str_eq(cfg.users_file, "/etc/st/users");
	cr_assert_eq(cfg.communities.n, 2);
	cr_assert_str_eq(cfg.communities.v[1], "netops");
	cr_assert_eq(cfg.output.n, 2);
	cr_assert_str_eq(cfg.output.v[0], "kafka://a:9092,b:9092/t");
	cr_assert_str_eq(cfg.output.v[1], "stdout");
	cr_assert_eq(cfg.log_level, ST_LOG_INFO);
	st_config_free(&cfg);
}

Test(config, environment_errors_name_the_variable)
{
	char *bad_value[] = {"STORMTRAP_THREADS__INGEST=many", NULL};
	char *partly[] = {"STORMTRAP_LOG__LEVEL=debug", "STORMTRAP_INGEST__BATCH=0", NULL};
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_load_env(&cfg, bad_value, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_str_eq(err, "STORMTRAP_THREADS__INGEST: threads.ingest: expected an integer "
	                      "0..64, got 'many'");
	/* all or nothing */
	cr_assert_eq(st_config_load_env(&cfg, partly, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_eq(cfg.log_level, ST_LOG_INFO);
	st_config_free(&cfg);
}

Test(config, precedence_yaml_env_set)
{
	const char *text = "log.level: debug\n"
	                   "log.format: json\n"
	                   "threads.workers: 2\n"
	                   "output.kafka.rdkafka.linger.ms: 1\n"
	                   "output.kafka.rdkafka.acks: all\n";
	char *envp[] = {"STORMTRAP_LOG__LEVEL=warn", "STORMTRAP_THREADS__WORKERS=3",
	                "STORMTRAP_OUTPUT__KAFKA__RDKAFKA__LINGER__MS=2", NULL};
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, text, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	set_ok(&cfg, "threads.workers", "4");
	set_ok(&cfg, "output.kafka.rdkafka.acks", "1");

	cr_assert_eq(cfg.log_format, ST_CONFIG_LOG_FORMAT_JSON); /* file only */
	cr_assert_eq(cfg.log_level, ST_LOG_WARN);                /* env over file */
	cr_assert_eq(cfg.threads_workers, 4);                    /* --set over env */
	cr_assert_eq(cfg.output_kafka_rdkafka.n, 2);
	/* per property, in the order first set, values from the highest source */
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[0], "linger.ms");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[1], "2");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[2], "acks");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[3], "1");
	st_config_free(&cfg);
}

Test(config, each_source_replaces_a_list)
{
	char *envp[] = {"STORMTRAP_COMMUNITIES=env1,env2", NULL};
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, "communities: [f1, f2, f3]\n", err, sizeof(err), NULL), 0,
	             "%s", err);
	cr_assert_eq(cfg.communities.n, 3);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.communities.n, 2);
	cr_assert_str_eq(cfg.communities.v[0], "env1");
	set_ok(&cfg, "communities", "cli");
	cr_assert_eq(cfg.communities.n, 1);
	cr_assert_str_eq(cfg.communities.v[0], "cli");
	cr_assert_eq(st_config_list_add(&cfg, "communities", "flag1", err, sizeof(err)), 0);
	cr_assert_eq(st_config_list_add(&cfg, "communities", "flag2", err, sizeof(err)), 0);
	cr_assert_eq(cfg.communities.n, 2);
	cr_assert_str_eq(cfg.communities.v[0], "flag1");
	cr_assert_str_eq(cfg.communities.v[1], "flag2");
	st_config_free(&cfg);
}

Test(config, unknown_keys_from_each_source)
{
	char *envp[] = {"STORMTRAP_FOO=1", NULL};
	char *envp2[] = {"STORMTRAP_INGEST_BACKEND=auto", NULL};
	char err[512] = "";
	st_config_t cfg;
	char *path;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_set(&cfg, "ingest.treads", "4", NULL, err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err, "--set: unknown key 'ingest.treads'");
	cr_assert_eq(st_config_set(&cfg, "ingest.backed", "auto", NULL, err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err,
	                 "--set: unknown key 'ingest.backed' (did you mean 'ingest.backend'?)");
	cr_assert_eq(st_config_set(&cfg, "no.such.key", "1", "-x", err, sizeof(err)),
	             ST_ERR_CONFIG);
	cr_assert_str_eq(err, "-x: unknown key 'no.such.key'");
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_str_eq(err, "STORMTRAP_FOO: unknown key 'foo'");
	/* one underscore where two were meant */
	cr_assert_eq(st_config_load_env(&cfg, envp2, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_str_eq(err, "STORMTRAP_INGEST_BACKEND: unknown key 'ingest_backend' (did you "
	                      "mean STORMTRAP_INGEST__BACKEND?)");
	cr_assert_eq(load_yaml_text(&cfg, "log:\n  level: info\n  colour: red\n", err, sizeof(err),
	                            &path),
	             ST_ERR_CONFIG);
	cr_assert(strstr(err, path) == err && strcmp(err + strlen(path), ":3: unknown key "
	                                                                 "'log.colour'") == 0,
	          "%s", err);
	free(path);
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* the librdkafka family                                              */
/* ------------------------------------------------------------------ */

Test(config, rdkafka_family_from_every_source)
{
	const char *text = "output:\n"
	                   "  - kafka://k:9092/traps\n"
	                   "output.kafka:\n"
	                   "  rdkafka:\n"
	                   "    queue.buffering.max.ms: 10\n"
	                   "    security:\n"
	                   "      protocol: ssl\n";
	char *envp[] = {"STORMTRAP_OUTPUT__KAFKA__RDKAFKA__LINGER__MS=5",
	                "STORMTRAP_OUTPUT__KAFKA__RDKAFKA__SASL__PASSWORD=s3cr3t", NULL};
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, text, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	set_ok(&cfg, "output.kafka.rdkafka.client.id", "st-1");
	set_ok(&cfg, "output.kafka.rdkafka.queue.buffering.max.ms", "20");

	cr_assert_eq(cfg.output_kafka_rdkafka.n, 5);
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[0], "queue.buffering.max.ms");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[1], "20");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[2], "security.protocol");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[3], "ssl");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[4], "linger.ms");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[5], "5");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[6], "sasl.password");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[7], "s3cr3t");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[8], "client.id");
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[9], "st-1");
	cr_assert_null(cfg.output_kafka_rdkafka.kv[10]);
	st_config_free(&cfg);
}

Test(config, rdkafka_family_rejects_bad_names_and_lists)
{
	char err[512] = "";
	st_config_t cfg;
	char *path;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_fails_with(&cfg, "output.kafka.rdkafka.", "1",
	               "--set: output.kafka.rdkafka.: '' is not a librdkafka property name");
	set_fails_with(&cfg, "output.kafka.rdkafka.linger..ms", "1",
	               "'linger..ms' is not a librdkafka property name");
	set_fails_with(&cfg, "output.kafka.rdkafka.linger ms", "1", "is not a librdkafka");
	set_fails_with(&cfg, "output.kafka.rdkafka", "1",
	               "--set: unknown key 'output.kafka.rdkafka' (librdkafka properties are set "
	               "as output.kafka.rdkafka.<property>)");
	cr_assert_eq(load_yaml_text(
	                     &cfg, "output.kafka.rdkafka:\n  bootstrap.servers: [a:9092, b:9092]\n",
	                     err, sizeof(err), &path),
	             ST_ERR_CONFIG);
	cr_assert(strstr(err, ":2: output.kafka.rdkafka.bootstrap.servers: a librdkafka property "
	                      "takes one value, got a list"),
	          "%s", err);
	free(path);
	cr_assert_eq(cfg.output_kafka_rdkafka.n, 0);
	st_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* dump                                                               */
/* ------------------------------------------------------------------ */

Test(config, dump_redacts_secrets)
{
	static const char *const secret[] = {
	        "sasl.password",         "ssl.key.password",
	        "ssl.keystore.password", "sasl.oauthbearer.client.secret",
	        "ssl.key.pem",           "sasl.oauthbearer.config"};
	char key[128], value[64];
	st_config_t cfg;
	char *dump;

	cr_assert_eq(st_config_init(&cfg), 0);
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		snprintf(key, sizeof(key), "output.kafka.rdkafka.%s", secret[i]);
		snprintf(value, sizeof(value), "hush-%zu", i);
		set_ok(&cfg, key, value);
	}
	set_ok(&cfg, "output.kafka.rdkafka.sasl.username", "visible-user");
	dump = dump_str(&cfg);
	cr_assert_null(strstr(dump, "hush-"), "a secret leaked:\n%s", dump);
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		snprintf(key, sizeof(key), "output.kafka.rdkafka.%s: \"<redacted>\"\n", secret[i]);
		cr_assert(strstr(dump, key), "missing %s in\n%s", key, dump);
	}
	cr_assert(strstr(dump, "output.kafka.rdkafka.sasl.username: \"visible-user\"\n"), "%s",
	          dump);
	/* the configuration itself keeps the value for the sink */
	cr_assert_str_eq(cfg.output_kafka_rdkafka.kv[1], "hush-0");
	free(dump);
	st_config_free(&cfg);
}

Test(config, dump_shows_values_and_sources)
{
	char *envp[] = {"STORMTRAP_LOG__LEVEL=debug", NULL};
	char err[512] = "";
	st_config_t cfg;
	char *dump;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, "ingest.rcvbuf: 1048576\n", err, sizeof(err), NULL), 0);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0);
	set_ok(&cfg, "shutdown.timeout", "90000ms");
	set_ok(&cfg, "collector.name", "say \"hi\"\n");
	dump = dump_str(&cfg);
	cr_assert(strstr(dump, "\ningest.rcvbuf: 1MiB  # file\n"), "%s", dump);
	cr_assert(strstr(dump, "\nlog.level: debug  # environment\n"), "%s", dump);
	cr_assert(strstr(dump, "\nshutdown.timeout: 90s  # command line\n"), "%s", dump);
	cr_assert(strstr(dump, "\ncollector.name: \"say \\\"hi\\\"\\x0a\"  # command line\n"), "%s",
	          dump);
	cr_assert(strstr(dump, "\ningest.batch: 64\n"), "%s", dump);
	cr_assert(strstr(dump, "\nlisten: [\"udp://0.0.0.0:162\"]\n"), "%s", dump);
	cr_assert(strstr(dump, "\nsnmp.engine_id: \"800000000473746f726d74726170\"\n"), "%s", dump);
	free(dump);
	st_config_free(&cfg);
}

Test(config, dump_loads_back_to_the_same_configuration)
{
	char *envp[] = {"STORMTRAP_OUTPUT=kafka://a:9092,b:9092/t,file:/tmp/x,y",
	                "STORMTRAP_COMMUNITIES=a\"b,c\\d", NULL};
	char err[512] = "";
	st_config_t cfg, back;
	char *d1, *d2, *s1, *s2, *path;

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	set_ok(&cfg, "ingest.rcvbuf", "100000");
	set_ok(&cfg, "output.kafka.queue_timeout", "1500ms");
	set_ok(&cfg, "snmp.engine_id", "0x80001f8880aabbccdd");
	set_ok(&cfg, "collector.name", "tab\there");
	set_ok(&cfg, "output.kafka.rdkafka.linger.ms", "5");
	set_ok(&cfg, "log.bad_packets", "on");
	d1 = dump_str(&cfg);
	path = yaml_file(d1);
	cr_assert_eq(st_config_init(&back), 0);
	cr_assert_eq(st_config_load_yaml(&back, path, err, sizeof(err)), 0, "%s\n%s", err, d1);
	unlink(path);
	free(path);
	d2 = dump_str(&back);
	s1 = strip_comments(d1);
	s2 = strip_comments(d2);
	cr_assert_str_eq(s1, s2);
	cr_assert_str_eq(back.collector_name, "tab\there");
	cr_assert_str_eq(back.communities.v[0], "a\"b");
	cr_assert_str_eq(back.communities.v[1], "c\\d");
	free(d1);
	free(d2);
	free(s1);
	free(s2);
	st_config_free(&cfg);
	st_config_free(&back);
}

/* ------------------------------------------------------------------ */
/* cross-key checks, listen addresses                                 */
/* ------------------------------------------------------------------ */

/* Validation of cfg must fail with exactly msg. */
static void expect_invalid(st_config_t *cfg, const char *msg)
{
	char err[512] = "";

	cr_assert_eq(st_config_validate(cfg, err, sizeof(err)), ST_ERR_CONFIG, "valid: %s", msg);
	cr_assert_str_eq(err, msg);
}

Test(config, validate_checks_across_keys)
{
	char err[512] = "";
	st_config_t cfg;

	cr_assert_eq(st_config_init(&cfg), 0);
	set_ok(&cfg, "listen", "");
	expect_invalid(&cfg, "listen: no address to listen on");
	set_ok(&cfg, "listen", "udp://0.0.0.0:162,udp://0.0.0.0:162");
	expect_invalid(&cfg, "listen: 'udp://0.0.0.0:162' is listed twice");
	set_ok(&cfg, "listen", "udp://0.0.0.0:162");

	set_ok(&cfg, "output", "");
	expect_invalid(&cfg, "output: no output configured");
	set_ok(&cfg, "output", "stdout,stdout");
	expect_invalid(&cfg, "output: 'stdout' is listed twice");
	set_ok(&cfg, "output", "kafka://k1:9092,k2:9092");
	expect_invalid(&cfg, "output: 'kafka://k1:9092,k2:9092' names no topic and "
	                     "output.kafka.topic is empty");
	set_ok(&cfg, "output.kafka.topic", "traps");
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	set_ok(&cfg, "output.kafka.spool_dir", "");
	expect_invalid(&cfg, "output.kafka.spool_dir: must not be empty with a kafka:// output");
	set_ok(&cfg, "output", "kafka://k1:9092/t");
	set_ok(&cfg, "output.kafka.topic", "");
	expect_invalid(&cfg, "output.kafka.spool_dir: must not be empty with a kafka:// output");
	set_ok(&cfg, "output", "stdout");
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);

	set_ok(&cfg, "collector.name", "");
	expect_invalid(&cfg, "collector.name: must not be empty");
	st_config_free(&cfg);
}

Test(config, parse_listen_fills_the_address)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	/* ::1 */
	static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	socklen_t len = 0;

	cr_assert_eq(st_config_parse_listen("udp://192.0.2.7:1162", &ss, &len), 0);
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert_eq(ntohs(sin->sin_port), 1162);
	cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0xc0000207u); /* 192.0.2.7 */
	cr_assert_eq(len, sizeof(struct sockaddr_in));

	cr_assert_eq(st_config_parse_listen("udp://[::1]:162", &ss, &len), 0);
	cr_assert_eq(sin6->sin6_family, AF_INET6);
	cr_assert_eq(ntohs(sin6->sin6_port), 162);
	cr_assert_arr_eq(&sin6->sin6_addr, loop6, 16);
	cr_assert_eq(len, sizeof(struct sockaddr_in6));

	cr_assert_eq(st_config_parse_listen("udp://[::1]", &ss, &len), -EINVAL);
	cr_assert_eq(st_config_parse_listen("udp://1.2.3.4:", &ss, &len), -EINVAL);
	cr_assert_eq(st_config_parse_listen("udp://:162", &ss, &len), -EINVAL);
	cr_assert_eq(st_config_parse_listen("udp://1.2.3.4:+162", &ss, &len), -EINVAL);
	cr_assert_eq(st_config_parse_listen("UDP://1.2.3.4:162", &ss, &len), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* documentation                                                      */
/* ------------------------------------------------------------------ */

/* Every key of the design, with its environment variable. */
static const char *const all_keys[][2] = {
        {"collector.name", "STORMTRAP_COLLECTOR__NAME"},
        {"listen", "STORMTRAP_LISTEN"},
        {"output", "STORMTRAP_OUTPUT"},
        {"communities", "STORMTRAP_COMMUNITIES"},
        {"users_file", "STORMTRAP_USERS_FILE"},
        {"ingest.backend", "STORMTRAP_INGEST__BACKEND"},
        {"ingest.rcvbuf", "STORMTRAP_INGEST__RCVBUF"},
        {"ingest.ring_bytes", "STORMTRAP_INGEST__RING_BYTES"},
        {"ingest.batch", "STORMTRAP_INGEST__BATCH"},
        {"threads.ingest", "STORMTRAP_THREADS__INGEST"},
        {"threads.workers", "STORMTRAP_THREADS__WORKERS"},
        {"threads.affinity", "STORMTRAP_THREADS__AFFINITY"},
        {"output.community", "STORMTRAP_OUTPUT__COMMUNITY"},
        {"output.raw", "STORMTRAP_OUTPUT__RAW"},
        {"output.big_numbers", "STORMTRAP_OUTPUT__BIG_NUMBERS"},
        {"output.batch_bytes", "STORMTRAP_OUTPUT__BATCH_BYTES"},
        {"output.file.mode", "STORMTRAP_OUTPUT__FILE__MODE"},
        {"snmp.engine_id", "STORMTRAP_SNMP__ENGINE_ID"},
        {"snmp.engine_boots", "STORMTRAP_SNMP__ENGINE_BOOTS"},
        {"snmp.engine_epoch", "STORMTRAP_SNMP__ENGINE_EPOCH"},
        {"snmp.discovery", "STORMTRAP_SNMP__DISCOVERY"},
        {"snmp.reports.rate", "STORMTRAP_SNMP__REPORTS__RATE"},
        {"snmp.reports.per_source_rate", "STORMTRAP_SNMP__REPORTS__PER_SOURCE_RATE"},
        {"usm.timeliness", "STORMTRAP_USM__TIMELINESS"},
        {"usm.max_engines", "STORMTRAP_USM__MAX_ENGINES"},
        {"mibs.dirs", "STORMTRAP_MIBS__DIRS"},
        {"mibs.modules", "STORMTRAP_MIBS__MODULES"},
        {"mibs.prefer", "STORMTRAP_MIBS__PREFER"},
        {"mibs.timeout", "STORMTRAP_MIBS__TIMEOUT"},
        {"metrics.listen", "STORMTRAP_METRICS__LISTEN"},
        {"log.level", "STORMTRAP_LOG__LEVEL"},
        {"log.format", "STORMTRAP_LOG__FORMAT"},
        {"log.bad_packets", "STORMTRAP_LOG__BAD_PACKETS"},
        {"shutdown.timeout", "STORMTRAP_SHUTDOWN__TIMEOUT"},
        {"output.kafka.topic", "STORMTRAP_OUTPUT__KAFKA__TOPIC"},
        {"output.kafka.key", "STORMTRAP_OUTPUT__KAFKA__KEY"},
        {"output.kafka.headers", "STORMTRAP_OUTPUT__KAFKA__HEADERS"},
        {"output.kafka.spool_dir", "STORMTRAP_OUTPUT__KAFKA__SPOOL_DIR"},
        {"output.kafka.spool_max", "STORMTRAP_OUTPUT__KAFKA__SPOOL_MAX"},
        {"output.kafka.queue_timeout", "STORMTRAP_OUTPUT__KAFKA__QUEUE_TIMEOUT"},
        {"output.kafka.acceptance", "STORMTRAP_OUTPUT__KAFKA__ACCEPTANCE"},
        {"output.kafka.fsync", "STORMTRAP_OUTPUT__KAFKA__FSYNC"},
        {"output.kafka.journal_full", "STORMTRAP_OUTPUT__KAFKA__JOURNAL_FULL"},
};
#define NALL (sizeof(all_keys) / sizeof(all_keys[0]))

Test(config, markdown_documents_every_key)
{
	char *md = markdown_str();
	char *dump;
	char row[160];
	st_config_t cfg;

	cr_assert_eq(ST_CONFIG_NKEYS, NALL, "the table has keys the design does not list");
	cr_assert_eq(st_config_init(&cfg), 0);
	dump = dump_str(&cfg);
	for (size_t i = 0; i < NALL; i++) {
		char *envp[] = {row, NULL};
		char err[512];

		snprintf(row, sizeof(row), "| `%s`<br>`%s` |", all_keys[i][0], all_keys[i][1]);
		cr_assert(strstr(md, row), "no row for %s", all_keys[i][0]);
		snprintf(row, sizeof(row), "\n%s: ", all_keys[i][0]);
		cr_assert(strstr(dump, row), "%s not dumped", all_keys[i][0]);
		/* the documented variable really sets the key: an empty value is
		 * accepted or rejected by name, never as an unknown key */
		snprintf(row, sizeof(row), "%s=", all_keys[i][1]);
		err[0] = '\0';
		st_config_load_env(&cfg, envp, err, sizeof(err));
		cr_assert_null(strstr(err, "unknown key"), "%s", err);
	}
	cr_assert(strstr(md, "`output.kafka.rdkafka.*`"));
	cr_assert(strstr(md, "STORMTRAP_OUTPUT__KAFKA__RDKAFKA__LINGER__MS"));
	cr_assert(strstr(md, "| `ingest.rcvbuf`<br>`STORMTRAP_INGEST__RCVBUF` | size | `32MiB` | "
	                     "64KiB..2GiB | "),
	          "rcvbuf row");
	cr_assert(strstr(md, "| enum | `auto` | auto, io_uring, recvmmsg | "), "backend row");
	cr_assert(strstr(md, "| integer | `1767225600` | 0..now | "), "epoch row");
	free(dump);
	free(md);
	st_config_free(&cfg);
}

Test(config, docs_file_is_current)
{
#ifndef ST_SOURCE_DIR
	cr_skip_test("ST_SOURCE_DIR is not defined: built outside CMake");
#else
	const char *path = ST_SOURCE_DIR "/docs/CONFIGURATION.md";
	char *md = markdown_str();
	char *file = NULL;
	size_t cap = 0, len;
	FILE *fp = fopen(path, "r");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	len = (size_t)getdelim(&file, &cap, '\0', fp);
	fclose(fp);
	if (len != strlen(md) || memcmp(file, md, len) != 0) {
		FILE *out = fopen("CONFIGURATION.md.new", "w");

		if (out) {
			fputs(md, out);
			fclose(out);
		}
		cr_assert_fail("%s is stale: regenerate it with "
		               "stormtrap --config-markdown > docs/CONFIGURATION.md "
		               "(the new text is also in CONFIGURATION.md.new here)",
		               path);
	}
	free(file);
	free(md);
#endif
}

Test(config, docs_example_loads_and_validates)
{
	char *md = markdown_str();
	const char *start = strstr(md, "```yaml\n");
	const char *end;
	char *example, err[512] = "";
	char *envp[] = {"STORMTRAP_OUTPUT__KAFKA__RDKAFKA__SASL__PASSWORD=x", NULL};
	st_config_t cfg;

	cr_assert_not_null(start, "no YAML example");
	start += 8;
	end = strstr(start, "```");
	cr_assert_not_null(end);
	example = strndup(start, (size_t)(end - start));
	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(load_yaml_text(&cfg, example, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.collector_name, "st-1");
	cr_assert_eq(cfg.listen.n, 2);
	cr_assert_eq(cfg.ingest_rcvbuf, 64u * 1024 * 1024);
	cr_assert_eq(cfg.output_kafka_key, ST_KAFKA_KEY_AGENT_ADDR);
	cr_assert_eq(cfg.output_kafka_rdkafka.n, 6);
	free(example);
	free(md);
	st_config_free(&cfg);
}

Test(config, collector_name_must_fit_json_lines)
{
	st_config_t cfg;
	char err[512] = "", name[ST_JSON_COLLECTOR_MAX + 2];

	cr_assert_eq(st_config_init(&cfg), 0);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(st_config_set(&cfg, "collector.name", name, NULL, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert(strstr(err, "collector.name"), "%s", err);
	cr_assert_eq(st_config_set(&cfg, "collector.name", "bad\x01name", NULL, err, sizeof(err)),
	             0);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_eq(st_config_set(&cfg, "collector.name", "st-1", NULL, err, sizeof(err)), 0);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	st_config_free(&cfg);
}

/* fuzz_config found it: a value's newline went into the error, which then
 * spanned two lines of the log or of -T's output */
Test(config, error_quotes_control_characters_on_one_line)
{
	expect_set_error("output", "x\ny",
	                 "--set: output: expected stdout, file:/path or "
	                 "kafka://host:port[,host:port]/topic, got 'x\\x0ay'");
	expect_set_error("listen", "udp://\x1b[31m",
	                 "--set: listen: expected udp://IPv4:port or "
	                 "udp://[IPv6]:port, got 'udp://\\x1b[31m'");
}

Test(config, mib_modules_need_directories)
{
	st_config_t cfg;
	char err[512] = "";
	char *envp[] = {"STORMTRAP_MIBS__MODULES=IF-MIB,SNMPv2-MIB", NULL};

	cr_assert_eq(st_config_init(&cfg), 0);
	cr_assert_eq(cfg.mibs_dirs.n, 0);
	cr_assert_eq(cfg.mibs_timeout_ms, 60000);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st_config_load_env(&cfg, envp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.mibs_modules.n, 2);
	cr_assert_str_eq(cfg.mibs_modules.v[1], "SNMPv2-MIB");
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert(strstr(err, "mibs.modules: names MIB modules but mibs.dirs is empty"), "%s", err);
	cr_assert_eq(st_config_set(&cfg, "mibs.dirs", "/a,/b", NULL, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(cfg.mibs_dirs.n, 2);
	cr_assert_eq(st_config_validate(&cfg, err, sizeof(err)), 0, "%s", err);
	st_config_free(&cfg);
}
