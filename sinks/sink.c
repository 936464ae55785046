/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink.c - the public sink interface: picks a kind from the URI and
 * dispatches to its ops (see sink_impl.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_impl.h"

int st_sink_new(const char *uri, const st_sink_conf_t *conf, st_sink_t **out, char *err,
                size_t errlen)
{
	st_sink_t *sink;
	int rc;

	*out = NULL;
	if (!conf || conf->nworkers == 0) {
		snprintf(err, errlen, "output '%s': no workers configured", uri);
		return -EINVAL;
	}
	sink = calloc(1, sizeof(*sink));
	if (!sink)
		return -ENOMEM;
	sink->uri = strdup(uri);
	sink->nworkers = conf->nworkers;
	sink->log = conf->log;
	sink->log_arg = conf->log_arg;
	if (!sink->uri) {
		free(sink);
		return -ENOMEM;
	}

	if (strcmp(uri, "stdout") == 0 || strcmp(uri, "-") == 0)
		rc = st_sink_file_new(uri, NULL, conf, sink, err, errlen);
	else if (strncmp(uri, "file:", 5) == 0)
		rc = st_sink_file_new(uri, uri + 5, conf, sink, err, errlen);
	else if (strncmp(uri, "kafka://", 8) == 0)
		rc = st_sink_kafka_new(uri, conf, sink, err, errlen);
	else {
		snprintf(err, errlen,
		         "output '%s': unknown sink (expected stdout, file:/path or "
		         "kafka://host:port/topic)",
		         uri);
		rc = -EINVAL;
	}
	if (rc < 0) {
		free(sink->uri);
		free(sink);
		return rc;
	}
	*out = sink;
	return 0;
}

void st_sink_log(const st_sink_t *sink, st_sink_log_level_t level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char msg[1024];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "output '%s': ", sink->uri);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (sink->log)
		sink->log(level, msg, sink->log_arg);
	else
		fprintf(stderr, "stormtrap %s: %s\n", names[level & 3], msg);
}

int st_sink_start(st_sink_t *sink, char *err, size_t errlen)
{
	return sink->ops->start ? sink->ops->start(sink, err, errlen) : 0;
}

st_sink_result_t st_sink_write(st_sink_t *sink, unsigned worker, const st_sink_rec_t *rec)
{
	return sink->ops->write(sink, worker, rec);
}

st_sink_result_t st_sink_flush(st_sink_t *sink, unsigned worker)
{
	return sink->ops->flush(sink, worker);
}

int st_sink_reopen(st_sink_t *sink)
{
	return sink->ops->reopen ? sink->ops->reopen(sink) : 0;
}

int st_sink_ready(const st_sink_t *sink)
{
	return sink->ops->ready ? sink->ops->ready(sink) : 1;
}

int st_sink_close(st_sink_t *sink, int timeout_ms)
{
	return sink->ops->close ? sink->ops->close(sink, timeout_ms) : 0;
}

void st_sink_stats(const st_sink_t *sink, st_sink_stats_t *stats)
{
	memset(stats, 0, sizeof(*stats));
	sink->ops->stats(sink, stats);
}

const char *st_sink_uri(const st_sink_t *sink)
{
	return sink->uri;
}

const char *st_sink_kind(const st_sink_t *sink)
{
	return sink->ops->kind;
}

void st_sink_free(st_sink_t *sink)
{
	if (!sink)
		return;
	if (sink->ops && sink->ops->free)
		sink->ops->free(sink);
	free(sink->uri);
	free(sink);
}
