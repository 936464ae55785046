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
#include <sys/stat.h>
#include <unistd.h>

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

	if (strcmp(uri, "stdout") == 0)
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

/* Create and remove a probe file in dir: the one test that also holds for
 * root, read-only mounts and ACLs. */
static int dir_probe(const char *dir)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/.stormtrap-check-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(path);
	return 0;
}

int st_sink_dir_writable(const char *dir, int may_create, char *why, size_t whylen)
{
	char buf[4096];
	struct stat st;
	char *slash;
	int e;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(why, whylen, "is not a directory");
			return -ENOTDIR;
		}
		if ((e = dir_probe(dir)) < 0) {
			snprintf(why, whylen, "is not writable: %s", strerror(-e));
			return e;
		}
		return 0;
	}
	e = errno;
	if (e != ENOENT || !may_create) {
		snprintf(why, whylen, "%s", e == ENOENT ? "does not exist" : strerror(e));
		return -e;
	}
	/* mkdir -p: the nearest directory that exists must take a new entry */
	if (strlen(dir) >= sizeof(buf)) {
		snprintf(why, whylen, "%s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	strcpy(buf, dir);
	while ((slash = strrchr(buf, '/')) != NULL) {
		const char *parent = slash == buf ? "/" : buf;

		*slash = '\0';
		if (stat(parent, &st) < 0)
			continue;
		e = S_ISDIR(st.st_mode) ? dir_probe(parent) : -ENOTDIR;
		if (e < 0) {
			snprintf(why, whylen, "does not exist and cannot be created in '%s': %s",
			         parent, strerror(-e));
			return e;
		}
		return 0;
	}
	return 0; /* relative: made in the working directory at start */
}

int st_sink_reportf(st_sink_report_fn report, void *arg, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(msg, arg);
}

int st_sink_check(const char *uri, const st_sink_conf_t *conf, st_sink_report_fn report, void *arg)
{
	int n = 0;

	if (strcmp(uri, "stdout") == 0)
		n = 0;
	else if (strncmp(uri, "file:", 5) == 0)
		n = st_sink_file_check(uri, uri + 5, report, arg);
	else if (strncmp(uri, "kafka://", 8) == 0)
		n = st_sink_kafka_check(uri, conf, report, arg);
	else
		n = 1, st_sink_reportf(report, arg,
		                       "output '%s': unknown sink (expected stdout, file:/path or "
		                       "kafka://host:port/topic)",
		                       uri);
	return n < 0 ? n : n > 0 ? -EINVAL : 0;
}

void st_sink_log(const st_sink_t *sink, st_log_level_t level, const char *fmt, ...)
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
