/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink_impl.h - what a sink kind implements (private to sinks/).
 *
 * st_sink_t is a small dispatcher: the public functions in sink.c check
 * their arguments and call the kind's ops. A kind keeps its state behind
 * sink->impl and its per-worker state in arrays indexed by worker.
 */
#ifndef ST_SINK_IMPL_H
#define ST_SINK_IMPL_H

#include <stdatomic.h>

#include "st_sinks.h"
#include "st_util.h"

struct st_sink_ops {
	const char *kind;
	int (*start)(st_sink_t *sink, char *err, size_t errlen);
	st_sink_result_t (*write)(st_sink_t *sink, unsigned worker, const st_sink_rec_t *rec);
	st_sink_result_t (*flush)(st_sink_t *sink, unsigned worker);
	int (*reopen)(st_sink_t *sink);
	int (*ready)(const st_sink_t *sink);
	int (*close)(st_sink_t *sink, int timeout_ms);
	void (*stats)(const st_sink_t *sink, st_sink_stats_t *stats);
	void (*free)(st_sink_t *sink);
};

struct st_sink {
	const struct st_sink_ops *ops;
	char *uri;
	unsigned nworkers;
	st_sink_log_fn log;
	void *log_arg;
	void *impl;
};

/* "output '<uri>': " + the message, to the sink's log function */
void st_sink_log(const st_sink_t *sink, st_log_level_t level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* per-worker counters are st_counter_t (util/st_util.h): one writer each,
 * summed by st_sink_stats() */

/* constructors of each kind; uri is the full output URI */
int st_sink_file_new(const char *uri, const char *path, const st_sink_conf_t *conf, st_sink_t *sink,
                     char *err, size_t errlen);
int st_sink_kafka_new(const char *uri, const st_sink_conf_t *conf, st_sink_t *sink, char *err,
                      size_t errlen);
/* preflight checks of each kind (see st_sink_check()); the number of
 * problems reported, or -ENOMEM */
int st_sink_file_check(const char *uri, const char *path, st_sink_report_fn report, void *arg);
int st_sink_kafka_check(const char *uri, const st_sink_conf_t *conf, st_sink_report_fn report,
                        void *arg);
/* can entries be created in dir (may_create: or can mkdir -p make it)?
 * 0, or -errno with why saying what is wrong ("does not exist", ...) */
int st_sink_dir_writable(const char *dir, int may_create, char *why, size_t whylen);
/* report one problem, formatted; returns what report returned */
int st_sink_reportf(st_sink_report_fn report, void *arg, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* the file mode outputs are created with when the configuration gives none */
#define ST_SINK_FILE_MODE 0640

#endif /* ST_SINK_IMPL_H */
