/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_sinks.h - where notifications go: stdout, files, Kafka.
 *
 * Every sink has the same shape. Workers hand it finished JSON lines with
 * st_sink_write() and close a batch with st_sink_flush(); the result of both
 * says whether the sink accepted the line (written or queued), wants the
 * caller to retry, or dropped it. The collector acks an inform only when
 * every sink accepted its line AND the flush of its batch succeeded.
 *
 * Threads: a sink is created and freed by the main thread. After
 * st_sink_start(), st_sink_write()/st_sink_flush() may be called by worker
 * threads, each passing its own worker index (0 .. nworkers-1): a sink keeps
 * per-worker state (batch buffers, counters) indexed by it, so the per-line
 * path takes no shared lock. A file or stdout sink takes its own mutex once
 * per flushed batch so that lines from different workers never interleave.
 * st_sink_reopen() and st_sink_stats() are safe from any thread.
 */
#ifndef ST_SINKS_H
#define ST_SINKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of handing a line to a sink. */
typedef enum st_sink_result {
	ST_SINK_ACCEPTED = 0, /* written, or queued for sure delivery */
	ST_SINK_RETRY = 1,    /* not taken now; nothing is lost yet */
	ST_SINK_DROPPED = 2,  /* lost; the sink counted why */
} st_sink_result_t;

/** What a sink may want besides the line (Kafka key and headers). */
typedef struct st_sink_rec {
	const char *line; /* one JSON document ending in '\n' */
	size_t len;
	const char *src_ip; /* borrowed spans, not NUL-terminated */
	size_t src_ip_len;
	const char *agent_addr;
	size_t agent_addr_len;
	const char *trap_oid;
	size_t trap_oid_len;
	const char *version; /* "v1", "v2c", "v3" (NUL-terminated) */
	const char *pdu;     /* "trap", "inform" */
} st_sink_rec_t;

/** Counters of one sink, summed over workers. */
typedef struct st_sink_stats {
	uint64_t accepted;  /* lines taken (written or queued) */
	uint64_t written;   /* lines written / delivered */
	uint64_t retried;   /* st_sink_write() answered RETRY */
	uint64_t dropped;   /* lines lost, all reasons */
	uint64_t errors;    /* write errors (I/O, delivery failures) */
	uint64_t in_flight; /* queued but not delivered (Kafka) */
	uint64_t spooled;   /* lines in the on-disk spool (Kafka) */
	uint64_t spool_bytes;
	uint64_t evicted;  /* spooled lines evicted for space (Kafka) */
	uint64_t replayed; /* spooled lines produced again (Kafka) */
	/* Kafka delivery failures by reason, after librdkafka's own retries
	 * (their sum is part of errors): */
	uint64_t failed_timeout;  /* timed out (message.timeout.ms): spooled */
	uint64_t failed_purged;   /* purged behind a failed one: spooled; or at
	                           * shutdown and not spooled (then also lost) */
	uint64_t failed_rejected; /* refused for good (too large, invalid): dropped */
	uint64_t failed_other;    /* any other error: spooled */
	/* undelivered when the sink closed (shutdown.timeout), purged from
	 * librdkafka into the spool (the journal keeps them): not a failure,
	 * not in errors */
	uint64_t shutdown_spooled;
	/* Kafka with acceptance journal (spooled/spool_bytes are then the
	 * journal's lines and bytes not yet confirmed by Kafka): */
	uint64_t journal_oldest_ms; /* age of the oldest unconfirmed line, 0: none */
	uint64_t journal_full;      /* lines refused: journal full (journal_full: reject) */
	uint64_t recovered;         /* lines an earlier run left in the journal/spool */
	uint64_t recovered_dups;    /* of those, already handed to Kafka once: they
	                             * may arrive twice (an estimate, from above) */
	/* file: partial last lines cut at open (left by a crash) */
	uint64_t torn_lines;
} st_sink_stats_t;

/**
 * Severity of a log message: one enum for the whole program (the
 * collector's st_log() and every sink use it; log.level names its words).
 */
typedef enum st_log_level {
	ST_LOG_ERROR = 0,
	ST_LOG_WARN = 1,
	ST_LOG_INFO = 2,
	ST_LOG_DEBUG = 3,
} st_log_level_t;

/**
 * Where a sink's messages go: state changes (Kafka unreachable, spooling,
 * replaying) and librdkafka's own log. Called from the sink's and
 * librdkafka's threads, never once per line; msg starts with
 * "output '<uri>': " and has no newline.
 */
typedef void (*st_sink_log_fn)(st_log_level_t level, const char *msg, void *arg);

/** When a Kafka output accepts a line (output.kafka.acceptance). */
typedef enum st_kafka_acceptance {
	ST_KAFKA_ACCEPT_JOURNAL = 0, /* once in the on-disk journal (page cache) */
	ST_KAFKA_ACCEPT_MEMORY,      /* once in librdkafka's queue (spool on outage) */
} st_kafka_acceptance_t;

/** When the journal/spool is flushed to disk (output.kafka.fsync). */
typedef enum st_kafka_fsync {
	ST_KAFKA_FSYNC_OFF = 0,  /* never: the kernel's writeback */
	ST_KAFKA_FSYNC_INTERVAL, /* about once a second */
	ST_KAFKA_FSYNC_ALWAYS,   /* every batch, before informs are acked */
} st_kafka_fsync_t;

/** What a full journal does (output.kafka.journal_full). */
typedef enum st_kafka_full {
	ST_KAFKA_FULL_DROP_OLDEST = 0, /* evict the oldest segments (counted: evicted) */
	ST_KAFKA_FULL_REJECT,          /* refuse new lines (counted: journal_full) */
} st_kafka_full_t;

/** What a Kafka message's key is (output.kafka.key). */
typedef enum st_kafka_key {
	ST_KAFKA_KEY_SRC_IP = 0, /* the sender's address */
	ST_KAFKA_KEY_AGENT_ADDR, /* agent_addr, else the sender's address */
	ST_KAFKA_KEY_NONE,       /* no key */
} st_kafka_key_t;

/**
 * Settings of kafka:// outputs (output.kafka.*), typed and already
 * validated by whoever fills it (the collector's configuration checks each
 * against its bounds); the sink uses them as they are. Strings are
 * borrowed and must outlive st_sink_new().
 */
typedef struct st_kafka_conf {
	const char *topic;                /* for URIs that name none; NULL or "": none */
	st_kafka_key_t key;               /* message key */
	int headers;                      /* add the headers version, pdu, trap_oid */
	int queue_timeout_ms;             /* brokers away this long: spool (> 0) */
	const char *spool_dir;            /* NULL or "": no spool */
	uint64_t spool_max;               /* bytes the spool may hold (>= 1 MiB) */
	st_kafka_acceptance_t acceptance; /* JOURNAL needs spool_dir */
	st_kafka_fsync_t fsync;
	st_kafka_full_t full;
	const char *const *rdkafka; /* librdkafka properties: name, value, ..., NULL;
	                             * NULL: none (checked by librdkafka itself) */
} st_kafka_conf_t;

/** The defaults of st_kafka_conf_t (those of the configuration keys). */
#define ST_KAFKA_CONF_DEFAULT                                                                      \
	{                                                                                          \
		.topic = NULL, .key = ST_KAFKA_KEY_SRC_IP, .headers = 1, .queue_timeout_ms = 5000, \
		.spool_dir = NULL, .spool_max = 1024ull * 1024 * 1024,                             \
		.acceptance = ST_KAFKA_ACCEPT_JOURNAL, .fsync = ST_KAFKA_FSYNC_INTERVAL,           \
		.full = ST_KAFKA_FULL_DROP_OLDEST, .rdkafka = NULL                                 \
	}

/** Settings shared by all sinks. */
typedef struct st_sink_conf {
	unsigned nworkers;
	size_t batch_bytes;           /* per-worker batch buffer */
	unsigned file_mode;           /* file: outputs are created with it (0: 0640) */
	const st_kafka_conf_t *kafka; /* kafka:// outputs; NULL: the defaults */
	st_sink_log_fn log;           /* NULL: one line on stderr */
	void *log_arg;
} st_sink_conf_t;

typedef struct st_sink st_sink_t;

/**
 * @brief Create a sink from an output URI: "stdout", "file:/path",
 * "kafka://host:9092[,host2:9092]/topic".
 * @return 0 and *out, or a negative error with err naming what is wrong.
 */
int st_sink_new(const char *uri, const st_sink_conf_t *conf, st_sink_t **out, char *err,
                size_t errlen);

/**
 * A preflight finding: one line naming the key, file or property that is
 * wrong. Return 0 to hear about the next one, non-zero to stop.
 */
typedef int (*st_sink_report_fn)(const char *msg, void *arg);

/**
 * @brief Check what st_sink_new() and st_sink_start() would need from the
 * system, leaving nothing behind (a directory is tried with a probe file
 * that is removed again, an existing file is opened for appending): a file output's
 * directory exists and the file can be created or written there; a Kafka
 * output's URI and topic, every librdkafka property (librdkafka itself
 * says which it knows and which values it takes), and a spool directory
 * that exists and is writable or can be created. Every problem is handed
 * to @p report; the check goes on after each (stormtrap -T lists them
 * all).
 * @return 0 when nothing was reported, -EINVAL when something was, or
 *         -ENOMEM.
 */
int st_sink_check(const char *uri, const st_sink_conf_t *conf, st_sink_report_fn report, void *arg);

/** @brief Start background machinery (Kafka poller, spool replay). */
int st_sink_start(st_sink_t *sink, char *err, size_t errlen);

/** @brief Hand one line to the sink (worker thread @p worker). */
st_sink_result_t st_sink_write(st_sink_t *sink, unsigned worker, const st_sink_rec_t *rec);

/**
 * @brief End of a worker's batch: write out what this worker buffered.
 * @return ST_SINK_ACCEPTED when everything accepted since the last flush
 *         is written/queued; otherwise those lines were counted as dropped.
 */
st_sink_result_t st_sink_flush(st_sink_t *sink, unsigned worker);

/** @brief Reopen files (SIGHUP, logrotate). */
int st_sink_reopen(st_sink_t *sink);

/** @brief Can the sink accept lines now (readiness)? */
int st_sink_ready(const st_sink_t *sink);

/**
 * @brief Drain at shutdown: flush every worker's buffer (workers must be
 * stopped), wait up to @p timeout_ms for delivery, spool what is left.
 */
int st_sink_close(st_sink_t *sink, int timeout_ms);

/** @brief Counters, summed over workers; safe from any thread. */
void st_sink_stats(const st_sink_t *sink, st_sink_stats_t *stats);

/** @brief The sink's URI as given, and its kind ("stdout", "file", "kafka"). */
const char *st_sink_uri(const st_sink_t *sink);
const char *st_sink_kind(const st_sink_t *sink);

void st_sink_free(st_sink_t *sink);

#ifdef __cplusplus
}
#endif

#endif /* ST_SINKS_H */
