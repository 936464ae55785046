/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - start-up, reload and shutdown messages on stderr, as text for
 * people or one JSON object per line for log pipelines. Never called per
 * datagram: the hot path counts, it does not log.
 *
 * One message, one write: librdkafka's threads log too (through the Kafka
 * sink), so a line is built whole and handed to stdio in a single call,
 * which never interleaves with another thread's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"

static st_log_level_t log_level = ST_LOG_INFO;
static int log_json;

void st_log_setup(st_log_level_t level, int json)
{
	log_level = level;
	log_json = json;
}

static const char *level_name(st_log_level_t level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	return level <= ST_LOG_DEBUG ? names[level] : "info";
}

/* "2026-01-01T00:00:00.000Z" */
static void time_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* s[0..len) as the inside of a JSON string; returns the bytes written to
 * out, at most cap (cut between characters, never inside an escape) */
static size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			if (n + 2 > cap)
				break;
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			if (n + 6 > cap)
				break;
			n += (size_t)snprintf(out + n, 7, "\\u%04x", c);
		} else {
			if (n + 1 > cap)
				break;
			out[n++] = (char)c;
		}
	}
	return n;
}

void st_log(st_log_level_t level, const char *fmt, ...)
{
	char msg[2048], stamp[40], line[8192];
	size_t n;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_stamp(stamp, sizeof(stamp));
	if (!log_json) {
		/* fits: msg, stamp and the level are bounded */
		n = (size_t)snprintf(line, sizeof(line), "%s stormtrap %s: %s\n", stamp,
		                     level_name(level), msg);
		fwrite(line, 1, n, stderr);
		return;
	}
	n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
	                     stamp, level_name(level));
	/* a message full of control bytes is cut rather than overflow */
	n += json_escape(line + n, sizeof(line) - n - 3, msg, strlen(msg));
	memcpy(line + n, "\"}\n", 3);
	fwrite(line, 1, n + 3, stderr);
}

/* the sinks' messages (state changes, librdkafka's log) */
void st_log_sink(st_log_level_t level, const char *msg, void *arg)
{
	(void)arg;
	st_log(level, "%s", msg);
}

/* one "name{labels} value" sample as "name{labels}":value, */
static void json_sample(FILE *out, const char *line, size_t len, int first)
{
	const char *sp = memchr(line, ' ', len), *last = sp;
	char key[1024], *end;
	double v;

	while (sp) { /* label values may hold spaces: the value is after the last */
		last = sp;
		sp = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line));
	}
	if (!last)
		return;
	fputs(first ? "\"" : ",\"", out);
	fwrite(key, 1, json_escape(key, sizeof(key), line, (size_t)(last - line)), out);
	fputs("\":", out);
	v = strtod(last + 1, &end);
	if (end == line + len && end != last + 1 && isfinite(v))
		fwrite(last + 1, 1, len - (size_t)(last + 1 - line), out);
	else
		fputs("null", out);
}

void st_log_counters(const st_rt_t *rt)
{
	char *text = NULL, *json = NULL, stamp[40];
	size_t len = 0, jlen = 0;
	FILE *m = open_memstream(&text, &len);
	int first = 1;

	if (!m)
		return;
	st_metrics_write(rt, m);
	if (fclose(m) != 0 || !text) {
		free(text);
		return;
	}
	if (!log_json) {
		fwrite(text, 1, len, stderr);
		free(text);
		return;
	}
	/* one object: {"time","level","msg":"counters","counters":{sample:value}} */
	m = open_memstream(&json, &jlen);
	if (!m) {
		free(text);
		return;
	}
	time_stamp(stamp, sizeof(stamp));
	fprintf(m, "{\"time\":\"%s\",\"level\":\"info\",\"msg\":\"counters\",\"counters\":{",
	        stamp);
	for (const char *p = text, *eol; p < text + len; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(text + len - p));
		if (!eol)
			eol = text + len;
		if (eol > p && *p != '#') {
			json_sample(m, p, (size_t)(eol - p), first);
			first = 0;
		}
	}
	fputs("}}\n", m);
	if (fclose(m) == 0 && json)
		fwrite(json, 1, jlen, stderr);
	free(json);
	free(text);
}
