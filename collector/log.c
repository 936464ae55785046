/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - start-up, reload and shutdown messages on stderr, as text for
 * people or one JSON object per line for log pipelines. Never called per
 * datagram: the hot path counts, it does not log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collector.h"

static int log_level = ST_LOG_INFO;
static int log_json;

void st_log_setup(int level, int json)
{
	log_level = level;
	log_json = json;
}

static const char *level_name(int level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	return level >= 0 && level <= ST_LOG_DEBUG ? names[level] : "info";
}

void st_log(int level, const char *fmt, ...)
{
	char msg[2048], stamp[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (!log_json) {
		fprintf(stderr, "%s.%03ldZ stormtrap %s: %s\n", stamp, ts.tv_nsec / 1000000,
			level_name(level), msg);
		return;
	}
	fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", stamp,
		ts.tv_nsec / 1000000, level_name(level));
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(stderr, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(stderr, "\\u%04x", *p);
		else
			fputc(*p, stderr);
	}
	fputs("\"}\n", stderr);
}
