/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.c - the kafka:// sink: one JSON notification per Kafka message,
 * and nothing lost when the brokers blink (behaviour in docs/KAFKA.md).
 *
 * Normal path. A worker hands its line to rd_kafka_producev() (thread-safe,
 * RD_KAFKA_MSG_F_COPY) with the key and headers; nothing here is shared
 * between workers but one atomic load (is the spool engaged?). "Accepted"
 * means librdkafka has the message in its queue.
 *
 * The poller thread (started by st_sink_start) serves librdkafka's
 * delivery reports and runs this state machine:
 *
 *   DIRECT  workers produce. If something waits in librdkafka and nothing
 *           was delivered for queue_timeout, or every broker has been down
 *           that long, or a delivery fails, or librdkafka refuses a new
 *           message (queue full, topic refused for now):
 *           engage the spool and go to
 *   SPOOL   workers append to the spool's tail. What librdkafka holds
 *           stays there (its idempotent retries deliver it when the
 *           brokers return); what it gives up on (message.timeout.ms, or
 *           an error it does not retry), and what is queued behind that
 *           (purged), comes back in delivery reports and goes to the
 *           spool's rescue segment, which sorts before all others (it is
 *           older). Once librdkafka holds nothing, the rescue segment is
 *           closed; then every second a metadata request probes the
 *           cluster, and when it answers, go to
 *   REPLAY  the poller reads the spool oldest first and produces it, while
 *           workers keep appending behind it. A stall or a failure sends
 *           us back to SPOOL. When the poller has read everything, it
 *           disengages the spool under the spool's lock and workers
 *           produce directly again (DIRECT): what they send now queues
 *           behind the replay.
 *
 * So one source's notifications keep their order through an outage: its
 * messages that were in librdkafka's memory come back first, then those
 * that went to disk, then new ones. Replayed messages carry the Kafka
 * timestamp of when the sink first accepted them.
 *
 * Delivery reports carry a per-message opaque that says where the message
 * stands in the order of production: token+1 for a replayed spool record
 * (so the spool also learns which records Kafka confirmed), and for a
 * worker's message the top bit, the worker index and the worker's own
 * sequence number. librdkafka hands failed messages back in no reliable
 * order (a purge returns a partition's queue before the messages already
 * batched for a broker); the rescue segment is sorted by this opaque
 * before it is read, which restores each worker's order, and so each
 * source's.
 *
 * Shutdown (st_sink_close): stop the poller, rd_kafka_flush() up to the
 * timeout, purge what is still queued or in flight (back as delivery
 * reports, into the spool), sync the spool. The next start replays it
 * before anything new.
 *
 * Acceptance journal (the default) uses the same machinery with the spool
 * always engaged: workers encode their lines into per-worker batches that
 * st_sink_flush() appends with one write (a line is accepted, and its
 * inform acked, once that write returned); the poller is always the one
 * that produces, reading the journal in batches (REPLAY is the normal
 * state, SPOOL an outage, DIRECT never). Confirmations advance each
 * segment's confirmed position, persisted every ST_KAFKA_MARK_MS, so a
 * crash re-sends only what was unconfirmed; at most
 * ST_KAFKA_JOURNAL_WINDOW records are unconfirmed at a time. Close waits
 * at most ST_KAFKA_CLOSE_MS for deliveries and leaves the rest in the
 * journal.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink_impl.h"
#include "spool.h"

#define ST_KAFKA_PROBE_MS     1000 /* how often SPOOL asks whether the cluster is back */
#define ST_KAFKA_SYNC_MS      1000 /* how often the spool is synced (fsync: interval) */
#define ST_KAFKA_MARK_MS      20   /* how often confirmed positions are persisted */
#define ST_KAFKA_CLOSE_MS     1000 /* journal: close waits this long for deliveries */
#define ST_KAFKA_REPLAY_BATCH 2048 /* records produced per replay step */
#define ST_KAFKA_READ_BATCH   256  /* records read from the spool with one lock */
#define ST_KAFKA_DONE_BATCH   1024 /* confirmations handed to the spool with one lock */
/* journal: records handed to librdkafka and not yet confirmed, at most. A
 * crash sends again what lies past the confirmed prefix, so this bounds
 * the duplicates of one crash; 16384 in flight still allows ~300 k/s at
 * 50 ms per delivery. */
#define ST_KAFKA_JOURNAL_WINDOW 16384u
#define ST_KAFKA_DRAIN_MS       2000  /* close: wait for purged reports */
#define ST_KAFKA_ERRLOG_MS      30000 /* the same librdkafka error is logged this often */

enum st_kafka_state { ST_KAFKA_DIRECT, ST_KAFKA_SPOOL, ST_KAFKA_REPLAY };

typedef struct st_kafka_worker {
	st_counter_t accepted;
	st_counter_t produced; /* into librdkafka's queue */
	st_counter_t spooled;  /* appended to the spool */
	st_counter_t dropped;
	st_counter_t errors;
	st_counter_t full; /* journal: lines refused, journal full */
	uint64_t seq;      /* messages this worker produced: the order key */
	/* journal: records encoded since the last flush */
	uint8_t *buf;
	size_t len;
	uint64_t lines;
	int failed; /* a batch written early (no room) was lost */
} __attribute__((aligned(64))) st_kafka_worker_t;

#define ST_KAFKA_DIRECT_BIT (1ull << 63)
#define ST_KAFKA_SEQ_BITS   48

typedef struct st_kafka_sink {
	st_sink_t *sink; /* for its URI and log function */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char *topic;
	st_kafka_key_t key;
	int headers;
	int queue_timeout_ms;
	char *spool_path;
	uint64_t spool_max;
	st_spool_t *spool; /* NULL: no spool configured */
	int journal;       /* acceptance journal: every line goes through the spool */
	size_t batch_cap;  /* journal: per-worker batch buffer */
	st_kafka_worker_t *w;

	pthread_t poller;
	int started;
	int closed;
	_Atomic int stop;
	/*
	 * The poller's wake-up: librdkafka writes to it when an event (a
	 * delivery report, an error) reaches its empty main queue, a worker when
	 * it appends to the journal while the poller waits (idle), and close.
	 * -1: none (eventfd failed), the poller then polls every 50 ms.
	 */
	int wakefd;
	_Atomic int idle;
	int caught_up;    /* the last replay_step() read the journal to its end */
	int mark_pending; /* confirmations handed to the spool since the last mark */

	/* poller state: the poller thread only (or close, after the join) */
	enum st_kafka_state state;
	int64_t last_progress; /* monotonic ms: a delivery, or nothing queued */
	int64_t next_probe;
	int64_t next_sync;
	int64_t next_mark;
	int rescued_event; /* a delivery report was rescued */
	/* spool records read, [pend_i, pend_n) not produced yet (librdkafka
	 * had no room); they point into the spool's read buffer */
	st_spool_rec_t pend[ST_KAFKA_READ_BATCH];
	uint64_t pend_tok[ST_KAFKA_READ_BATCH];
	unsigned pend_i, pend_n;
	/* confirmed spool tokens not yet handed to the spool: delivery
	 * reports run on the thread that polls (the poller, or close) */
	uint64_t done[ST_KAFKA_DONE_BATCH];
	unsigned ndone;

	_Atomic int64_t down_since; /* all brokers down since (monotonic ms), 0: not */
	_Atomic int fatal;
	_Atomic int refused; /* the error of a produce call that engaged the spool */
	/* error_cb (the poller thread): the last error logged, and when */
	int last_err;
	int64_t last_err_ms;

	/* written by the delivery-report thread */
	st_counter_t delivered;
	st_counter_t replayed; /* spool records produced again */
	st_counter_t failed_timeout;
	st_counter_t failed_purged;
	st_counter_t failed_rejected;
	st_counter_t failed_other;
	st_counter_t lost;             /* failed and not spooled */
	st_counter_t shutdown_spooled; /* purged at close, into the spool */
	uint64_t recovered;            /* journal lines found at open */
	uint64_t recovered_dups;       /* of those, read by the earlier run */

	char *brokers;       /* as the URI names them, for messages */
	_Atomic int closing; /* kafka_close() purges: that is spooling, not failing */
} st_kafka_sink_t;

static int64_t now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- delivery reports ------------------------------------------------------ */

/* errors that no retry will cure: the broker refuses this very message */
static int err_is_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR__INVALID_ARG:
	case RD_KAFKA_RESP_ERR__BAD_MSG:
		return 1;
	default:
		return 0;
	}
}

/* put a message librdkafka gave back into the spool's rescue segment */
static int rescue_message(st_kafka_sink_t *ks, const rd_kafka_message_t *m, uint64_t order)
{
	st_spool_rec_t rec = {0};
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_timestamp_type_t tstype;

	rec.ts_ms = rd_kafka_message_timestamp(m, &tstype);
	if (rec.ts_ms < 0)
		rec.ts_ms = 0;
	rec.key = m->key;
	rec.key_len = m->key ? m->key_len : 0;
	rec.value = m->payload;
	rec.value_len = m->len;
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		const char *name;
		const void *val;
		size_t len;

		for (size_t i = 0; rec.nhdrs < ST_SPOOL_MAX_HDRS &&
		                   rd_kafka_header_get_all(hdrs, i, &name, &val, &len) ==
		                           RD_KAFKA_RESP_ERR_NO_ERROR;
		     i++) {
			rec.hdrs[rec.nhdrs].name = name;
			rec.hdrs[rec.nhdrs].value = val;
			rec.hdrs[rec.nhdrs].len = val ? len : 0;
			rec.nhdrs++;
		}
	}
	return st_spool_rescue(ks->spool, &rec, order);
}

/* hand the confirmations collected so far to the spool, with one lock */
static void resolve_flush(st_kafka_sink_t *ks)
{
	if (ks->ndone) {
		st_spool_resolve_many(ks->spool, ks->done, ks->ndone);
		ks->ndone = 0;
		ks->mark_pending = 1;
	}
}

static void resolve_later(st_kafka_sink_t *ks, uint64_t token)
{
	if (ks->ndone == ST_KAFKA_DONE_BATCH)
		resolve_flush(ks);
	ks->done[ks->ndone++] = token;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	st_kafka_sink_t *ks = opaque;
	uint64_t order = (uint64_t)(uintptr_t)m->_private;
	uint64_t token = order & ST_KAFKA_DIRECT_BIT ? 0 : order; /* replay: token + 1 */

	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		st_counter_add(&ks->delivered, 1);
		ks->last_progress = now_mono_ms();
		atomic_store_explicit(&ks->down_since, 0, memory_order_relaxed);
		if (token)
			resolve_later(ks, token - 1);
		return;
	}
	if (ks->journal && atomic_load_explicit(&ks->closing, memory_order_relaxed)) {
		/* purged at close: the journal still holds it, unconfirmed,
		 * and the next start sends it */
		st_counter_add(&ks->shutdown_spooled, 1);
		return;
	}
	switch (m->err) {
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
		st_counter_add(&ks->failed_timeout, 1);
		break;
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		/* counted below when it is the shutdown's purge */
		if (!atomic_load_explicit(&ks->closing, memory_order_relaxed))
			st_counter_add(&ks->failed_purged, 1);
		break;
	default:
		if (err_is_permanent(m->err))
			st_counter_add(&ks->failed_rejected, 1);
		else
			st_counter_add(&ks->failed_other, 1);
		break;
	}
	/* a record rescued before its token is resolved: the spool never
	 * believes it done while it exists nowhere on disk */
	int at_close = (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
	                m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) &&
	               atomic_load_explicit(&ks->closing, memory_order_relaxed);
	if (err_is_permanent(m->err) || !ks->spool || rescue_message(ks, m, order) < 0) {
		st_counter_add(&ks->lost, 1);
		if (at_close)
			st_counter_add(&ks->failed_purged, 1); /* lost, so a failure after all */
	} else {
		ks->rescued_event = 1;
		if (at_close)
			st_counter_add(&ks->shutdown_spooled, 1);
	}
	if (token)
		resolve_later(ks, token - 1);
}

/*
 * librdkafka's errors. They are mostly transient (all brokers down):
 * librdkafka retries, and the state machine below decides about the spool.
 * A broker's own failure (connect, resolve, TLS, SASL) is in librdkafka's
 * log already (on_log). Others: one line per error, and the same error
 * again at most every ST_KAFKA_ERRLOG_MS, so a long outage does not flood
 * the log.
 */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	st_kafka_sink_t *ks = opaque;
	int64_t now = now_mono_ms();
	int in_its_log = err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE ||
	                 err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION;

	if (!in_its_log && (err != ks->last_err || now - ks->last_err_ms >= ST_KAFKA_ERRLOG_MS)) {
		ks->last_err = err;
		ks->last_err_ms = now;
		st_sink_log(ks->sink, err == RD_KAFKA_RESP_ERR__FATAL ? ST_LOG_ERROR : ST_LOG_WARN,
		            "kafka: %s", reason);
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		int64_t zero = 0;

		atomic_compare_exchange_strong(&ks->down_since, &zero, now_mono_ms());
	} else if (err == RD_KAFKA_RESP_ERR__FATAL) {
		/* the idempotent producer cannot go on without risking
		 * duplicates or gaps: everything goes to the spool until the
		 * collector restarts (docs/KAFKA.md) */
		atomic_store(&ks->fatal, 1);
		if (ks->spool)
			st_spool_engage(ks->spool);
	}
}

/* librdkafka's own log (its threads): through the collector's logger */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	st_kafka_sink_t *ks = rd_kafka_opaque(rk);
	st_log_level_t lvl = level <= 3   ? ST_LOG_ERROR /* syslog levels */
	                     : level == 4 ? ST_LOG_WARN
	                     : level <= 6 ? ST_LOG_INFO
	                                  : ST_LOG_DEBUG;

	if (ks && ks->sink)
		st_sink_log(ks->sink, lvl, "librdkafka %s: %s", fac, buf);
}

/* ---- the worker path ------------------------------------------------------ */

static void rec_key(const st_kafka_sink_t *ks, const st_sink_rec_t *rec, const char **key,
                    size_t *len)
{
	*key = NULL;
	*len = 0;
	switch (ks->key) {
	case ST_KAFKA_KEY_AGENT_ADDR:
		if (rec->agent_addr && rec->agent_addr_len) {
			*key = rec->agent_addr;
			*len = rec->agent_addr_len;
			break;
		}
		/* no agent address (v2c/v3 not relayed): the sender is the agent */
		/* fall through */
	case ST_KAFKA_KEY_SRC_IP:
		if (rec->src_ip && rec->src_ip_len) {
			*key = rec->src_ip;
			*len = rec->src_ip_len;
		}
		break;
	case ST_KAFKA_KEY_NONE:
		break;
	}
}

static size_t value_len(const st_sink_rec_t *rec)
{
	/* a Kafka message is one document: the line's newline is framing */
	return rec->len && rec->line[rec->len - 1] == '\n' ? rec->len - 1 : rec->len;
}

/* the spool/journal record of a line: stamped now, with key and headers */
static void spool_rec_make(const st_kafka_sink_t *ks, const st_sink_rec_t *rec, const char *key,
                           size_t klen, st_spool_rec_t *srec)
{
	srec->ts_ms = now_real_ms();
	srec->key = key;
	srec->key_len = klen;
	srec->value = rec->line;
	srec->value_len = value_len(rec);
	if (ks->headers) {
		srec->hdrs[0] = (st_spool_hdr_t){"version", 7, rec->version ? rec->version : "",
		                                 rec->version ? strlen(rec->version) : 0};
		srec->hdrs[1] = (st_spool_hdr_t){"pdu", 3, rec->pdu ? rec->pdu : "",
		                                 rec->pdu ? strlen(rec->pdu) : 0};
		srec->hdrs[2] = (st_spool_hdr_t){"trap_oid", 8, rec->trap_oid ? rec->trap_oid : "",
		                                 rec->trap_oid_len};
		srec->nhdrs = 3;
	}
}

static st_sink_result_t spool_line(st_kafka_sink_t *ks, st_kafka_worker_t *w,
                                   const st_sink_rec_t *rec, const char *key, size_t klen)
{
	st_spool_rec_t srec = {0};
	int rc;

	spool_rec_make(ks, rec, key, klen, &srec);
	rc = st_spool_append(ks->spool, &srec);
	if (rc == -EAGAIN)
		return ST_SINK_RETRY; /* disengaged meanwhile: produce instead */
	if (rc < 0) {
		st_counter_add(&w->dropped, 1);
		if (rc != -ENOSPC && rc != -E2BIG)
			st_counter_add(&w->errors, 1);
		return ST_SINK_DROPPED;
	}
	st_counter_add(&w->spooled, 1);
	st_counter_add(&w->accepted, 1);
	return ST_SINK_ACCEPTED;
}

static rd_kafka_resp_err_t produce_line(st_kafka_sink_t *ks, const st_sink_rec_t *rec,
                                        const char *key, size_t klen, uint64_t order)
{
	void *opaque = (void *)(uintptr_t)order;

	if (!ks->headers)
		return rd_kafka_producev(
		        ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		        RD_KAFKA_V_VALUE((void *)rec->line, value_len(rec)),
		        RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
	return rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(ks->rkt),
	                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                         RD_KAFKA_V_VALUE((void *)rec->line, value_len(rec)),
	                         RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_OPAQUE(opaque),
	                         RD_KAFKA_V_HEADER("version", rec->version ? rec->version : "", -1),
	                         RD_KAFKA_V_HEADER("pdu", rec->pdu ? rec->pdu : "", -1),
	                         RD_KAFKA_V_HEADER("trap_oid", rec->trap_oid ? rec->trap_oid : "",
	                                           (ssize_t)rec->trap_oid_len),
	                         RD_KAFKA_V_END);
}

static void poller_wake(st_kafka_sink_t *ks)
{
	static const uint64_t one = 1;

	if (ks->wakefd >= 0 && write(ks->wakefd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the poller is woken anyway */
	}
}

/*
 * After a journal append: wake the poller only if it waits with nothing to
 * do, so a busy journal costs no system call per batch. The poller sets
 * idle before its last look at the journal, the worker appends before it
 * looks at idle (both sequentially consistent): either the poller sees the
 * new lines, or the worker sees it idle and wakes it.
 */
static void poller_wake_if_idle(st_kafka_sink_t *ks)
{
	if (atomic_load(&ks->idle) && atomic_exchange(&ks->idle, 0))
		poller_wake(ks);
}

/* journal: write the worker's batch with one append; 0 or -errno */
static int journal_flush_worker(st_kafka_sink_t *ks, st_kafka_worker_t *w)
{
	int rc;

	if (w->lines == 0)
		return 0;
	rc = st_spool_append_batch(ks->spool, w->buf, w->len, w->lines);
	if (rc < 0) {
		st_counter_add(&w->dropped, w->lines);
		if (rc == -ENOSPC)
			st_counter_add(&w->full, w->lines);
		else
			st_counter_add(&w->errors, 1);
	} else {
		st_counter_add(&w->spooled, w->lines);
		poller_wake_if_idle(ks);
	}
	w->len = 0;
	w->lines = 0;
	return rc;
}

/*
 * journal: encode the record into the worker's batch; st_sink_flush()
 * writes the batch into the journal with one write, and only then are the
 * batch's informs acked. No lock, no allocation, no system call per line
 * (but the clock, through the vDSO).
 */
static st_sink_result_t journal_write(st_kafka_sink_t *ks, st_kafka_worker_t *w,
                                      const st_sink_rec_t *rec, const char *key, size_t klen)
{
	st_spool_rec_t srec = {0};
	int n;

	spool_rec_make(ks, rec, key, klen, &srec);
	n = st_spool_encode(&srec, w->buf + w->len, ks->batch_cap - w->len);
	if (n == -ENOBUFS && w->lines) {
		/* no room: write the batch now, and remember a failure for
		 * the flush that acks its informs */
		if (journal_flush_worker(ks, w) < 0)
			w->failed = 1;
		n = st_spool_encode(&srec, w->buf, ks->batch_cap);
	}
	if (n == -ENOBUFS) {
		/* larger than a whole batch: on its own */
		n = st_spool_append(ks->spool, &srec);
		if (n == 0) {
			poller_wake_if_idle(ks);
			st_counter_add(&w->spooled, 1);
			st_counter_add(&w->accepted, 1);
			return ST_SINK_ACCEPTED;
		}
		if (n == -ENOSPC)
			st_counter_add(&w->full, 1);
	}
	if (n < 0) {
		st_counter_add(&w->dropped, 1);
		if (n != -ENOSPC && n != -E2BIG)
			st_counter_add(&w->errors, 1);
		return ST_SINK_DROPPED;
	}
	w->len += (size_t)n;
	w->lines++;
	st_counter_add(&w->accepted, 1);
	return ST_SINK_ACCEPTED;
}

static st_sink_result_t kafka_write(st_sink_t *sink, unsigned worker, const st_sink_rec_t *rec)
{
	st_kafka_sink_t *ks = sink->impl;
	st_kafka_worker_t *w = &ks->w[worker];
	const char *key;
	size_t klen;

	rec_key(ks, rec, &key, &klen);
	if (ks->journal)
		return journal_write(ks, w, rec, key, klen);
	for (int tries = 0; tries < 4; tries++) {
		rd_kafka_resp_err_t err;
		st_sink_result_t res;

		if (ks->spool && st_spool_engaged(ks->spool)) {
			res = spool_line(ks, w, rec, key, klen);
			if (res != ST_SINK_RETRY)
				return res;
		}
		err = produce_line(ks, rec, key, klen,
		                   ST_KAFKA_DIRECT_BIT | (uint64_t)worker << ST_KAFKA_SEQ_BITS |
		                           (w->seq & ((1ull << ST_KAFKA_SEQ_BITS) - 1)));
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			w->seq++;
			st_counter_add(&w->produced, 1);
			st_counter_add(&w->accepted, 1);
			return ST_SINK_ACCEPTED;
		}
		if (ks->spool && !err_is_permanent(err)) {
			/* librdkafka's memory is full, it gave up (fatal), or
			 * it refuses the topic for now (a produce request was
			 * refused, e.g. not authorized): what comes next waits
			 * on disk, behind what it holds */
			atomic_store_explicit(&ks->refused, err, memory_order_relaxed);
			st_spool_engage(ks->spool);
			continue;
		}
		break;
	}
	st_counter_add(&w->dropped, 1);
	st_counter_add(&w->errors, 1);
	return ST_SINK_DROPPED;
}

static st_sink_result_t kafka_flush(st_sink_t *sink, unsigned worker)
{
	st_kafka_sink_t *ks = sink->impl;
	st_kafka_worker_t *w = &ks->w[worker];
	int failed;

	/* memory: every accepted line is already in librdkafka's queue or
	 * the spool */
	if (!ks->journal)
		return ST_SINK_ACCEPTED;
	failed = journal_flush_worker(ks, w) < 0 || w->failed;
	w->failed = 0;
	return failed ? ST_SINK_DROPPED : ST_SINK_ACCEPTED;
}

/* ---- the poller ------------------------------------------------------------ */

/* does the cluster answer, with a leader for every partition of the topic? */
static int cluster_probe(st_kafka_sink_t *ks)
{
	const struct rd_kafka_metadata *md = NULL;
	int ok = 0;

	if (rd_kafka_metadata(ks->rk, 0, ks->rkt, &md, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    md->topics[0].partition_cnt > 0) {
		ok = 1;
		for (int i = 0; i < md->topics[0].partition_cnt; i++)
			if (md->topics[0].partitions[i].leader < 0)
				ok = 0;
	}
	rd_kafka_metadata_destroy(md);
	return ok;
}

/*
 * New lines go to disk from now on. What librdkafka holds stays there: its
 * idempotent retries deliver it once the brokers are back, without
 * duplicates, or it fails after message.timeout.ms and is rescued. It is
 * not purged, because a message that was already sent once may be on the
 * broker even though no acknowledgement came back; purging it would mean
 * sending it twice (docs/KAFKA.md, duplicates).
 */
static void enter_spool(st_kafka_sink_t *ks, int64_t now, const char *why)
{
	if (ks->journal)
		st_sink_log(ks->sink, ST_LOG_WARN,
		            "%s; notifications wait in the journal in %s until the cluster answers",
		            why, ks->spool_path);
	else
		st_sink_log(ks->sink, ST_LOG_WARN,
		            "%s%s; new notifications go to the spool in %s until the cluster "
		            "answers",
		            ks->state == ST_KAFKA_REPLAY ? "replay stopped: " : "", why,
		            ks->spool_path);
	st_spool_engage(ks->spool);
	ks->state = ST_KAFKA_SPOOL;
	ks->next_probe = now + ST_KAFKA_PROBE_MS;
}

/* produce one spool record; the headers list goes to librdkafka on success */
static rd_kafka_resp_err_t produce_spooled(st_kafka_sink_t *ks, const st_spool_rec_t *rec,
                                           uint64_t token)
{
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_resp_err_t err;

	if (rec->nhdrs) {
		hdrs = rd_kafka_headers_new(rec->nhdrs);
		for (unsigned i = 0; i < rec->nhdrs; i++)
			rd_kafka_header_add(hdrs, rec->hdrs[i].name, (ssize_t)rec->hdrs[i].name_len,
			                    rec->hdrs[i].value, (ssize_t)rec->hdrs[i].len);
	}
	if (hdrs)
		err = rd_kafka_producev(
		        ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		        RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len),
		        RD_KAFKA_V_KEY(rec->key, rec->key_len), RD_KAFKA_V_TIMESTAMP(rec->ts_ms),
		        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(token + 1)),
		        RD_KAFKA_V_END);
	else
		err = rd_kafka_producev(
		        ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		        RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len),
		        RD_KAFKA_V_KEY(rec->key, rec->key_len), RD_KAFKA_V_TIMESTAMP(rec->ts_ms),
		        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(token + 1)), RD_KAFKA_V_END);
	if (err && hdrs)
		rd_kafka_headers_destroy(hdrs);
	return err;
}

/* REPLAY: hand the spool to librdkafka; returns records produced */
static int replay_step(st_kafka_sink_t *ks)
{
	int n = 0;

	while (n < ST_KAFKA_REPLAY_BATCH) {
		rd_kafka_resp_err_t err;
		uint64_t token;

		if (ks->pend_i == ks->pend_n) {
			unsigned max = ST_KAFKA_READ_BATCH;

			ks->caught_up = 0;
			int rc;

			if (ks->journal) {
				uint64_t out = st_spool_outstanding(ks->spool);

				if (out >= ST_KAFKA_JOURNAL_WINDOW)
					break; /* wait for confirmations */
				if (ST_KAFKA_JOURNAL_WINDOW - out < max)
					max = (unsigned)(ST_KAFKA_JOURNAL_WINDOW - out);
			}
			ks->pend_i = ks->pend_n = 0;
			rc = st_spool_read_batch(ks->spool, ks->pend, ks->pend_tok, max,
			                         &ks->pend_n);

			if (rc == -ENODATA) {
				ks->caught_up = 1;
				/* everything read: new lines may go direct, and
				 * they queue behind the replayed ones (the
				 * journal: they keep coming through it) */
				if (!ks->journal && st_spool_disengage(ks->spool) == 0) {
					ks->state = ST_KAFKA_DIRECT;
					st_sink_log(ks->sink, ST_LOG_INFO,
					            "spool replayed; producing directly again");
				}
				break;
			}
			if (rc < 0)
				break; /* window full, or a rescue in progress */
		}
		token = ks->pend_tok[ks->pend_i];
		err = produce_spooled(ks, &ks->pend[ks->pend_i], token);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		if (err == RD_KAFKA_RESP_ERR__FATAL) {
			st_sink_log(ks->sink, ST_LOG_ERROR,
			            "the producer failed for good; the spool keeps what is left "
			            "until a restart");
			ks->state = ST_KAFKA_SPOOL;
			break;
		}
		if (err && !err_is_permanent(err)) {
			/* the topic is refused for now: the record stays
			 * pending, and the replay starts again when the
			 * cluster answers the next probe */
			char why[160];

			snprintf(why, sizeof(why), "librdkafka refused a message: %s",
			         rd_kafka_err2str(err));
			enter_spool(ks, now_mono_ms(), why);
			break;
		}
		ks->pend_i++;
		if (err) {
			/* refused before it was queued (too large for the
			 * producer's limits): it can never be sent */
			st_counter_add(&ks->failed_rejected, 1);
			st_counter_add(&ks->lost, 1);
			st_spool_resolve(ks->spool, token);
			continue;
		}
		n++;
		/* the journal reads every line: replayed are those of an
		 * earlier run (read first) */
		if (!ks->journal || st_counter_get(&ks->replayed) < ks->recovered)
			st_counter_add(&ks->replayed, 1);
	}
	return n;
}

static void poller_step(st_kafka_sink_t *ks, int64_t now)
{
	int outq = rd_kafka_outq_len(ks->rk);
	int64_t down = atomic_load_explicit(&ks->down_since, memory_order_relaxed);

	if (outq == 0)
		ks->last_progress = now;
	if (!ks->spool)
		return; /* nothing to decide: librdkafka is all there is */

	if (ks->rescued_event) {
		/*
		 * librdkafka gave up on a message (timed out, refused). The
		 * messages queued behind it in its partition must not overtake
		 * it, so they join it in the rescue segment. Only the queue is
		 * purged, never requests on the wire: a queued message was not
		 * sent yet, or is a retry of one older than the failing one,
		 * which times out with it anyway.
		 */
		rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE);
		outq = rd_kafka_outq_len(ks->rk);
	}
	if (ks->state != ST_KAFKA_SPOOL) {
		int stalled = outq > 0 && now - ks->last_progress >= ks->queue_timeout_ms;
		int all_down = down && now - down >= ks->queue_timeout_ms;
		char why[128] = "";

		if (atomic_load(&ks->fatal))
			snprintf(why, sizeof(why), "the producer failed for good");
		else if (ks->rescued_event)
			snprintf(why, sizeof(why), "a delivery failed");
		else if (all_down)
			snprintf(why, sizeof(why), "all brokers down for %" PRId64 " ms",
			         now - down);
		else if (stalled)
			snprintf(why, sizeof(why),
			         "nothing delivered for %" PRId64
			         " ms (output.kafka.queue_timeout)",
			         now - ks->last_progress);
		else if (ks->state == ST_KAFKA_DIRECT && st_spool_engaged(ks->spool))
			snprintf(why, sizeof(why),
			         "librdkafka refused a message: %s", /* a worker */
			         rd_kafka_err2str(
			                 atomic_load_explicit(&ks->refused, memory_order_relaxed)));
		if (why[0])
			enter_spool(ks, now, why);
	}
	ks->rescued_event = 0;

	if (ks->state == ST_KAFKA_SPOOL) {
		if (outq == 0 && st_spool_rescue_open(ks->spool)) {
			/* librdkafka holds nothing more that could come back:
			 * the rescue segment is complete. A record read but not
			 * yet produced is newer than everything in it. */
			for (; ks->pend_i < ks->pend_n; ks->pend_i++) {
				uint64_t token = ks->pend_tok[ks->pend_i];

				if (st_spool_rescue(ks->spool, &ks->pend[ks->pend_i], token + 1) <
				    0)
					st_counter_add(&ks->lost, 1);
				st_spool_resolve(ks->spool, token);
			}
			st_spool_rescue_close(ks->spool);
		}
		if (outq == 0 && !st_spool_rescue_open(ks->spool) && !atomic_load(&ks->fatal) &&
		    now >= ks->next_probe) {
			if (cluster_probe(ks)) {
				st_spool_stats_t sst;

				st_spool_stats(ks->spool, &sst);
				if (ks->journal)
					st_sink_log(ks->sink, ST_LOG_INFO,
					            "the cluster answers; sending from the "
					            "journal (%" PRIu64 " waiting), oldest first",
					            sst.lines);
				else
					st_sink_log(ks->sink, ST_LOG_INFO,
					            "the cluster answers; replaying %" PRIu64
					            " spooled notifications, oldest first",
					            sst.lines);
				ks->state = ST_KAFKA_REPLAY;
				ks->last_progress = now_mono_ms();
				atomic_store(&ks->down_since, 0);
			}
			ks->next_probe = now_mono_ms() + ST_KAFKA_PROBE_MS;
		}
	}
	resolve_flush(ks);
	if (now >= ks->next_sync) {
		st_spool_sync(ks->spool);
		ks->next_sync = now + ST_KAFKA_SYNC_MS;
		ks->next_mark = now + ST_KAFKA_MARK_MS;
		ks->mark_pending = 0;
	} else if (ks->journal && now >= ks->next_mark) {
		/* the low-water mark: a crash re-sends from here */
		st_spool_mark(ks->spool);
		ks->next_mark = now + ST_KAFKA_MARK_MS;
		ks->mark_pending = 0;
	}
}

/*
 * Nothing to produce: wait for the wake-up descriptor. While librdkafka
 * holds messages, brokers are down or the spool is engaged, the poller
 * looks every 50 ms as before (delivery stalls, outages and probes are
 * decided on time); with all delivered and the journal read to its end it
 * waits for the next sync (at most a second), or for the next mark when
 * confirmations are not persisted yet. An idle collector's poller wakes
 * about once a second.
 */
static void poller_wait(st_kafka_sink_t *ks)
{
	int64_t now = now_mono_ms(), until = ks->next_sync;
	struct pollfd pfd = {.fd = ks->wakefd, .events = POLLIN};
	uint64_t v;

	if (rd_kafka_outq_len(ks->rk) > 0 || atomic_load(&ks->down_since) ||
	    ks->state == ST_KAFKA_SPOOL || (ks->state == ST_KAFKA_REPLAY && !ks->caught_up))
		until = now + 50;
	else if (ks->mark_pending && ks->next_mark < until)
		until = ks->next_mark;
	if (until > now + 1000)
		until = now + 1000;
	if (until <= now)
		return;
	atomic_store(&ks->idle, 1);
	/* a last look: lines appended before idle was visible */
	if (ks->state == ST_KAFKA_REPLAY && replay_step(ks) > 0) {
		atomic_store(&ks->idle, 0);
		return;
	}
	if (!atomic_load(&ks->stop))
		(void)poll(&pfd, 1, (int)(until - now));
	atomic_store(&ks->idle, 0);
	if (read(ks->wakefd, &v, sizeof(v)) < 0) {
		/* EAGAIN: woken by the time limit */
	}
}

static void *poller_main(void *arg)
{
	st_kafka_sink_t *ks = arg;

	pthread_setname_np(pthread_self(), "kafka/poll");
	ks->last_progress = now_mono_ms();
	while (!atomic_load(&ks->stop)) {
		int produced = 0;

		rd_kafka_poll(ks->rk, ks->wakefd >= 0 || ks->state == ST_KAFKA_REPLAY ? 0 : 50);
		poller_step(ks, now_mono_ms());
		if (ks->state == ST_KAFKA_REPLAY) {
			produced = replay_step(ks);
			if (produced == 0 && ks->state == ST_KAFKA_REPLAY && !ks->caught_up) {
				rd_kafka_poll(ks->rk, 5); /* librdkafka is full: let it drain */
				continue;
			}
		}
		if (produced == 0 && ks->wakefd >= 0)
			poller_wait(ks);
	}
	return NULL;
}

static int kafka_start(st_sink_t *sink, char *err, size_t errlen)
{
	st_kafka_sink_t *ks = sink->impl;
	int rc;

	if (ks->started)
		return 0;
	atomic_store(&ks->stop, 0);
	if (ks->journal) {
		/* every line goes through the journal; the poller reads it once
		 * a metadata probe says the cluster answers */
		if (ks->recovered)
			st_sink_log(sink, ST_LOG_INFO,
			            "the journal in %s holds %" PRIu64
			            " notifications from an earlier run (up to %" PRIu64
			            " of them may reach Kafka twice); they are sent first",
			            ks->spool_path, ks->recovered, ks->recovered_dups);
		st_spool_engage(ks->spool);
		ks->state = ST_KAFKA_SPOOL;
		ks->next_probe = 0;
	} else if (ks->spool && st_spool_engaged(ks->spool)) {
		st_spool_stats_t sst;

		/* a previous run left notifications behind: they go first */
		st_spool_stats(ks->spool, &sst);
		st_sink_log(sink, ST_LOG_INFO,
		            "the spool in %s holds %" PRIu64
		            " notifications from an earlier run; they are sent first",
		            ks->spool_path, sst.lines);
		ks->state = ST_KAFKA_SPOOL;
		ks->next_probe = 0;
	}
	rc = pthread_create(&ks->poller, NULL, poller_main, ks);
	if (rc) {
		snprintf(err, errlen, "output '%s': cannot start the Kafka poller: %s", sink->uri,
		         strerror(rc));
		return -rc;
	}
	ks->started = 1;
	return 0;
}

/* ---- readiness, shutdown, counters ----------------------------------------- */

static int kafka_ready(const st_sink_t *sink)
{
	st_kafka_sink_t *ks = sink->impl;
	int64_t down = atomic_load_explicit(&ks->down_since, memory_order_relaxed);

	if (atomic_load(&ks->fatal))
		return 0;
	if (!ks->spool)
		return down == 0;
	if (ks->journal) {
		st_spool_stats_t ss;

		/* brokers away or not, lines are accepted into the journal;
		 * not ready once it is nearly full */
		st_spool_stats(ks->spool, &ss);
		return ss.bytes < ks->spool_max - ks->spool_max / 10;
	}
	if (down && st_spool_engaged(ks->spool)) {
		st_spool_stats_t ss;

		/* the spool is nearly full and the cluster is away: new lines
		 * would only push out older ones */
		st_spool_stats(ks->spool, &ss);
		if (ss.bytes >= ks->spool_max - ks->spool_max / 10)
			return 0;
	}
	return 1;
}

/* What the brokers look like to us, for the shutdown messages. */
static void brokers_state(const st_kafka_sink_t *ks, int64_t now, char *buf, size_t len)
{
	int64_t down = atomic_load_explicit(&ks->down_since, memory_order_relaxed);
	static const char *const states[] = {"producing directly", "spooling", "replaying"};

	if (down)
		snprintf(buf, len, "brokers %s all down for %" PRId64 " s, %s", ks->brokers,
		         (now - down) / 1000, states[ks->state]);
	else
		snprintf(buf, len, "brokers %s reachable, %s", ks->brokers, states[ks->state]);
}

/* messages produced and not yet reported on */
static uint64_t kafka_in_flight(const st_sink_t *sink)
{
	st_sink_stats_t st = {0};

	sink->ops->stats(sink, &st);
	return st.in_flight;
}

/* purge what librdkafka still holds and serve the reports it gives back */
static int purge_and_drain(st_kafka_sink_t *ks)
{
	int64_t deadline;

	if (rd_kafka_outq_len(ks->rk) == 0)
		return 0;
	atomic_store(&ks->closing, 1);
	rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	deadline = now_mono_ms() + ST_KAFKA_DRAIN_MS;
	while (rd_kafka_outq_len(ks->rk) > 0 && now_mono_ms() < deadline)
		rd_kafka_poll(ks->rk, 50);
	return rd_kafka_outq_len(ks->rk) > 0 ? -ETIMEDOUT : 0;
}

/*
 * Close with acceptance journal: everything accepted is in the journal
 * already, so there is nothing to wait for. Deliveries under way get up to
 * ST_KAFKA_CLOSE_MS (when the brokers are up) so that fewer lines are sent
 * twice; the rest is purged and stays unconfirmed in the journal, which
 * the next start sends first. Bounded: well inside Docker's 10 s.
 */
static int journal_close(st_sink_t *sink, int timeout_ms)
{
	st_kafka_sink_t *ks = sink->impl;
	uint64_t held = kafka_in_flight(sink), delivered0 = st_counter_get(&ks->delivered);
	st_spool_stats_t ss;
	int rc = 0;

	for (unsigned i = 0; i < sink->nworkers; i++)
		if (journal_flush_worker(ks, &ks->w[i]) < 0)
			rc = -EIO;
	atomic_store(&ks->closing, 1); /* failures from now on stay in the journal */
	if (held > 0 && !atomic_load_explicit(&ks->down_since, memory_order_relaxed))
		rd_kafka_flush(ks->rk,
		               timeout_ms < ST_KAFKA_CLOSE_MS ? timeout_ms : ST_KAFKA_CLOSE_MS);
	if (purge_and_drain(ks) < 0)
		rc = -ETIMEDOUT;
	ks->pend_i = ks->pend_n = 0;
	resolve_flush(ks);
	if (st_spool_rescue_close(ks->spool) < 0)
		rc = -EIO;
	if (st_spool_sync(ks->spool) < 0)
		rc = -EIO;
	st_spool_stats(ks->spool, &ss);
	st_sink_log(sink, ST_LOG_INFO,
	            "shutdown: %" PRIu64
	            " delivered while closing; the journal in %s keeps %" PRIu64
	            " notifications for the next start",
	            st_counter_get(&ks->delivered) - delivered0, ks->spool_path, ss.lines);
	if (st_counter_get(&ks->lost) > 0 && rc == 0)
		rc = -EIO;
	return rc;
}

static int kafka_close(st_sink_t *sink, int timeout_ms)
{
	st_kafka_sink_t *ks = sink->impl;
	uint64_t held, delivered0, left;
	char state[512];
	int rc = 0;

	if (ks->closed)
		return 0;
	ks->closed = 1;
	if (ks->started) {
		atomic_store(&ks->stop, 1);
		poller_wake(ks);
		pthread_join(ks->poller, NULL);
		ks->started = 0;
	}
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (ks->journal)
		return journal_close(sink, timeout_ms);
	held = kafka_in_flight(sink);
	delivered0 = st_counter_get(&ks->delivered);
	if (held > 0) {
		brokers_state(ks, now_mono_ms(), state, sizeof(state));
		st_sink_log(sink, ST_LOG_INFO,
		            "shutdown: waiting up to %d ms (shutdown.timeout) for %" PRIu64
		            " notifications in flight (%s)",
		            timeout_ms, held, state);
	}
	/* delivery reports are served here from now on (flush polls) */
	rd_kafka_flush(ks->rk, timeout_ms);
	/* undelivered at the deadline: back as delivery reports, into the
	 * spool. With the brokers down nothing is on the wire, so nothing
	 * purged can also have reached a broker. */
	if (purge_and_drain(ks) < 0)
		rc = -ETIMEDOUT;
	if (ks->spool) {
		/* a record read from the spool but never produced stays
		 * unconfirmed: the next start reads it again, in place */
		ks->pend_i = ks->pend_n = 0;
		resolve_flush(ks);
		if (st_spool_rescue_close(ks->spool) < 0)
			rc = -EIO;
		if (st_spool_sync(ks->spool) < 0)
			rc = -EIO;
	}
	left = kafka_in_flight(sink);
	if (held > 0)
		st_sink_log(sink,
		            st_counter_get(&ks->shutdown_spooled) || left ? ST_LOG_WARN
		                                                          : ST_LOG_INFO,
		            "shutdown: %" PRIu64 " delivered, %" PRIu64
		            " went to the spool%s%s%s, %" PRIu64 " unaccounted",
		            st_counter_get(&ks->delivered) - delivered0,
		            st_counter_get(&ks->shutdown_spooled), ks->spool ? " (" : "",
		            ks->spool ? ks->spool_path : "", ks->spool ? ")" : "", left);
	if (ks->spool) {
		st_spool_stats_t ss;

		st_spool_stats(ks->spool, &ss);
		if (ss.lines > 0)
			st_sink_log(sink, ST_LOG_INFO,
			            "shutdown: the spool in %s keeps %" PRIu64
			            " notifications for the next start",
			            ks->spool_path, ss.lines);
	}
	if (st_counter_get(&ks->lost) > 0 && rc == 0)
		rc = -EIO;
	return rc;
}

static void kafka_stats(const st_sink_t *sink, st_sink_stats_t *stats)
{
	const st_kafka_sink_t *ks = sink->impl;
	uint64_t produced = st_counter_get(&ks->replayed);
	uint64_t failed = st_counter_get(&ks->failed_timeout) + st_counter_get(&ks->failed_purged) +
	                  st_counter_get(&ks->failed_rejected) + st_counter_get(&ks->failed_other);

	for (unsigned i = 0; i < sink->nworkers; i++) {
		const st_kafka_worker_t *w = &ks->w[i];

		stats->journal_full += st_counter_get(&w->full);
		stats->accepted += st_counter_get(&w->accepted);
		stats->dropped += st_counter_get(&w->dropped);
		stats->errors += st_counter_get(&w->errors);
		produced += st_counter_get(&w->produced);
	}
	stats->written = st_counter_get(&ks->delivered);
	stats->dropped += st_counter_get(&ks->lost);
	stats->errors += failed; /* not the shutdown's purge (below) */
	/* a shutdown's purge is no failure: those lines went to the spool */
	failed += st_counter_get(&ks->shutdown_spooled);
	stats->in_flight =
	        produced > stats->written + failed ? produced - stats->written - failed : 0;
	stats->shutdown_spooled = st_counter_get(&ks->shutdown_spooled);
	stats->replayed = st_counter_get(&ks->replayed);
	stats->failed_timeout = st_counter_get(&ks->failed_timeout);
	stats->failed_purged = st_counter_get(&ks->failed_purged);
	stats->failed_rejected = st_counter_get(&ks->failed_rejected);
	stats->failed_other = st_counter_get(&ks->failed_other);
	if (ks->spool) {
		st_spool_stats_t ss;

		st_spool_stats(ks->spool, &ss);
		stats->spooled = ss.lines;
		stats->spool_bytes = ss.bytes;
		stats->evicted = ss.evicted;
		stats->dropped += ss.evicted + ss.corrupt;
		stats->errors += ss.io_errors;
		stats->recovered = ss.recovered;
		stats->recovered_dups = ss.recovered_read;
		if (ks->journal) {
			int64_t ts = st_spool_oldest_ts(ks->spool), now = now_real_ms();

			stats->journal_oldest_ms = ts > 0 && now > ts ? (uint64_t)(now - ts) : 0;
		}
	}
}

static void kafka_free(st_sink_t *sink)
{
	st_kafka_sink_t *ks = sink->impl;

	if (!ks)
		return;
	if (ks->rk && !ks->closed)
		kafka_close(sink, 0);
	if (ks->rkt)
		rd_kafka_topic_destroy(ks->rkt);
	if (ks->rk)
		rd_kafka_destroy(ks->rk);
	if (ks->wakefd >= 0)
		close(ks->wakefd); /* after librdkafka, which may write to it until then */
	st_spool_close(ks->spool);
	for (unsigned i = 0; ks->w && i < sink->nworkers; i++)
		free(ks->w[i].buf);
	free(ks->w);
	free(ks->topic);
	free(ks->spool_path);
	free(ks->brokers);
	free(ks);
	sink->impl = NULL;
}

static const struct st_sink_ops kafka_ops = {
        .kind = "kafka",
        .start = kafka_start,
        .write = kafka_write,
        .flush = kafka_flush,
        .ready = kafka_ready,
        .close = kafka_close,
        .stats = kafka_stats,
        .free = kafka_free,
};

/* ---- construction ------------------------------------------------------------ */

/* defaults for a collector: throughput, and no silent loss */
// clang-format off
static const char *const kafka_defaults[] = {
	"client.id", "stormtrap",
	"enable.idempotence", "true",
	"compression.codec", "lz4",
	"linger.ms", "5",
	"batch.num.messages", "10000",
	"batch.size", "1000000",
	"queue.buffering.max.messages", "1000000",
	"queue.buffering.max.kbytes", "1048576",
	"message.timeout.ms", "30000",
	"reconnect.backoff.max.ms", "2000",
	"log.connection.close", "false",
	"log.thread.name", "false",
	NULL,
};
// clang-format on

static int topic_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
		return 0;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '.' || *t == '_' || *t == '-'))
			return 0;
	return 1;
}

/* mkdir -p, 0750 */
static int mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* kafka://host:port[,host:port]/topic: the brokers (allocated) and the
 * topic (the URI's, else kc->topic; borrowed) */
static int kafka_parse_uri(const char *uri, const st_kafka_conf_t *kc, char **brokers,
                           const char **topic, char *err, size_t errlen)
{
	const char *slash = strchr(uri + 8, '/');

	*brokers = slash ? strndup(uri + 8, (size_t)(slash - (uri + 8))) : strdup(uri + 8);
	if (!*brokers)
		return -ENOMEM;
	if (!**brokers) {
		snprintf(err, errlen,
		         "output '%s': no brokers (kafka://host:port[,host:port]/topic)", uri);
		return -EINVAL;
	}
	*topic = slash && slash[1] ? slash + 1 : kc->topic && *kc->topic ? kc->topic : NULL;
	if (!*topic) {
		snprintf(err, errlen,
		         "output '%s': no topic (give it in the URI or as output.kafka.topic)",
		         uri);
		return -EINVAL;
	}
	if (!topic_valid(*topic)) {
		snprintf(err, errlen,
		         "output '%s': topic '%s' is not a valid Kafka topic name "
		         "([a-zA-Z0-9._-], at most 249)",
		         uri, *topic);
		return -EINVAL;
	}
	return 0;
}

/* every librdkafka property, as librdkafka itself judges it: the number of
 * problems reported, or -ENOMEM */
static int kafka_conf_check(const st_kafka_conf_t *kc, st_sink_report_fn report, void *arg)
{
	rd_kafka_conf_t *kconf = rd_kafka_conf_new();
	char errstr[512], msg[768];
	int nerr = 0;

	if (!kconf)
		return -ENOMEM;
	for (const char *const *kv = kc->rdkafka; kv && kv[0]; kv += 2) {
		const char *name = kv[0], *value = kv[1] ? kv[1] : "";

		if (!strcmp(name, "bootstrap.servers") || !strcmp(name, "metadata.broker.list")) {
			snprintf(msg, sizeof(msg),
			         "output.kafka.rdkafka.%s: the brokers are set in the output URI "
			         "(kafka://host:port[,host:port]/topic)",
			         name);
		} else if (rd_kafka_conf_set(kconf, name, value, errstr, sizeof(errstr)) !=
		           RD_KAFKA_CONF_OK) {
			snprintf(msg, sizeof(msg), "output.kafka.rdkafka.%s: %s", name, errstr);
		} else {
			continue;
		}
		nerr++;
		if (report(msg, arg) != 0)
			break;
	}
	rd_kafka_conf_destroy(kconf);
	return nerr;
}

/* report function of kafka_conf_check() that keeps the first error */
static int first_error(const char *msg, void *arg)
{
	char **first = arg;

	*first = strdup(msg);
	return 1;
}

/* librdkafka's configuration: our defaults, the operator's properties, the
 * brokers of the URI, our callbacks */
static int kafka_rdkafka_conf(st_kafka_sink_t *ks, const char *uri, const char *brokers,
                              const st_kafka_conf_t *kc, rd_kafka_conf_t **out, char *err,
                              size_t errlen)
{
	rd_kafka_conf_t *kconf = rd_kafka_conf_new();
	char errstr[512];
	char *first = NULL;
	int rc = -EINVAL;

	if (!kconf)
		return -ENOMEM;
	for (const char *const *kv = kafka_defaults; kv[0]; kv += 2)
		if (rd_kafka_conf_set(kconf, kv[0], kv[1], errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "output '%s': librdkafka default %s: %s", uri, kv[0],
			         errstr);
			goto out;
		}
	/* the operator's properties: the same check -T runs, then set */
	if (kafka_conf_check(kc, first_error, &first) != 0) {
		snprintf(err, errlen, "%s", first ? first : "out of memory");
		goto out;
	}
	for (const char *const *kv = kc->rdkafka; kv && kv[0]; kv += 2)
		rd_kafka_conf_set(kconf, kv[0], kv[1] ? kv[1] : "", errstr, sizeof(errstr));
	if (rd_kafka_conf_set(kconf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "output '%s': brokers '%s': %s", uri, brokers, errstr);
		goto out;
	}
	rd_kafka_conf_set_opaque(kconf, ks);
	rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
	rd_kafka_conf_set_error_cb(kconf, on_error);
	rd_kafka_conf_set_log_cb(kconf, on_log);
	*out = kconf;
	kconf = NULL;
	rc = 0;
out:
	free(first);
	if (kconf)
		rd_kafka_conf_destroy(kconf);
	return rc;
}

/* the spool of this topic: <spool_dir>/<topic>, segments of spool_max/16
 * (64 KiB..64 MiB) */
static int kafka_spool_open(st_kafka_sink_t *ks, const st_kafka_conf_t *kc, char *err,
                            size_t errlen)
{
	size_t n = strlen(kc->spool_dir) + strlen(ks->topic) + 2;
	uint64_t seg = kc->spool_max / 16;
	char errstr[512];
	int rc;

	ks->spool_path = malloc(n);
	if (!ks->spool_path)
		return -ENOMEM;
	snprintf(ks->spool_path, n, "%s/%s", kc->spool_dir, ks->topic);
	rc = mkdirs(kc->spool_dir);
	if (rc < 0) {
		snprintf(err, errlen, "output.kafka.spool_dir '%s': %s", kc->spool_dir,
		         strerror(-rc));
		return rc;
	}
	if (seg < 64 * 1024)
		seg = 64 * 1024;
	if (seg > 64 * 1024 * 1024)
		seg = 64 * 1024 * 1024;
	rc = st_spool_open(ks->spool_path, kc->spool_max, seg, &ks->spool, errstr, sizeof(errstr));
	if (rc < 0) {
		snprintf(err, errlen, "output.kafka.spool_dir: %s", errstr);
		return rc;
	}
	ks->spool_max = kc->spool_max;
	st_spool_set_policy(ks->spool, (st_spool_fsync_t)kc->fsync,
	                    kc->full == ST_KAFKA_FULL_DROP_OLDEST);
	if (ks->journal) {
		st_spool_stats_t ss;

		st_spool_stats(ks->spool, &ss);
		ks->recovered = ss.recovered;
		ks->recovered_dups = ss.recovered_read;
	}
	return 0;
}

/* the producer and its topic handle; takes kconf, also on failure */
static int kafka_client_new(st_kafka_sink_t *ks, const char *uri, rd_kafka_conf_t *kconf, char *err,
                            size_t errlen)
{
	char errstr[512];

	ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof(errstr));
	if (!ks->rk) {
		rd_kafka_conf_destroy(kconf);
		snprintf(err, errlen, "output '%s': %s", uri, errstr);
		return -EINVAL;
	}
	ks->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ks->wakefd >= 0) {
		static const uint64_t one = 1;
		rd_kafka_queue_t *q = rd_kafka_queue_get_main(ks->rk);

		rd_kafka_queue_io_event_enable(q, ks->wakefd, &one, sizeof(one));
		rd_kafka_queue_destroy(q);
	}
	ks->rkt = rd_kafka_topic_new(ks->rk, ks->topic, NULL);
	if (!ks->rkt) {
		snprintf(err, errlen, "output '%s': topic '%s': %s", uri, ks->topic,
		         rd_kafka_err2str(rd_kafka_last_error()));
		return -EINVAL;
	}
	return 0;
}

int st_sink_kafka_new(const char *uri, const st_sink_conf_t *conf, st_sink_t *sink, char *err,
                      size_t errlen)
{
	static const st_kafka_conf_t defaults = ST_KAFKA_CONF_DEFAULT;
	const st_kafka_conf_t *kc = conf->kafka ? conf->kafka : &defaults;
	rd_kafka_conf_t *kconf = NULL;
	st_kafka_sink_t *ks;
	char *brokers = NULL;
	const char *topic;
	int rc;

	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	sink->impl = ks;
	ks->sink = sink;
	ks->wakefd = -1;
	sink->ops = &kafka_ops;
	ks->key = kc->key;
	ks->headers = kc->headers;
	ks->queue_timeout_ms = kc->queue_timeout_ms;
	ks->journal = kc->acceptance == ST_KAFKA_ACCEPT_JOURNAL;
	ks->batch_cap = conf->batch_bytes < 64 * 1024 ? 64 * 1024 : conf->batch_bytes;

	rc = kafka_parse_uri(uri, kc, &brokers, &topic, err, errlen);
	if (rc < 0)
		goto out;
	ks->topic = strdup(topic);
	ks->w = aligned_alloc(64, sizeof(*ks->w) * conf->nworkers);
	if (!ks->topic || !ks->w) {
		rc = -ENOMEM;
		goto out;
	}
	memset(ks->w, 0, sizeof(*ks->w) * conf->nworkers);
	for (unsigned i = 0; ks->journal && i < conf->nworkers; i++)
		if (!(ks->w[i].buf = malloc(ks->batch_cap))) {
			rc = -ENOMEM;
			goto out;
		}
	if (ks->journal && !(kc->spool_dir && *kc->spool_dir)) {
		snprintf(err, errlen,
		         "output '%s': output.kafka.acceptance journal needs "
		         "output.kafka.spool_dir",
		         uri);
		rc = -EINVAL;
		goto out;
	}
	rc = kafka_rdkafka_conf(ks, uri, brokers, kc, &kconf, err, errlen);
	if (rc < 0)
		goto out;
	if (kc->spool_dir && *kc->spool_dir && (rc = kafka_spool_open(ks, kc, err, errlen)) < 0)
		goto out;
	rc = kafka_client_new(ks, uri, kconf, err, errlen); /* takes kconf */
	kconf = NULL;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "output '%s': out of memory", uri);
	if (kconf)
		rd_kafka_conf_destroy(kconf);
	ks->brokers = brokers;
	if (rc < 0) {
		ks->closed = 1; /* nothing was started or produced */
		kafka_free(sink);
	}
	return rc;
}

/* a report function that remembers whether the caller's report asked to stop */
typedef struct check_ctx {
	st_sink_report_fn report;
	void *arg;
	int stop;
} check_ctx_t;

static int check_report(const char *msg, void *arg)
{
	check_ctx_t *cc = arg;

	cc->stop = cc->report(msg, cc->arg) != 0;
	return cc->stop;
}

int st_sink_kafka_check(const char *uri, const st_sink_conf_t *conf, st_sink_report_fn report,
                        void *arg)
{
	static const st_kafka_conf_t defaults = ST_KAFKA_CONF_DEFAULT;
	const st_kafka_conf_t *kc = conf && conf->kafka ? conf->kafka : &defaults;
	char err[1024], why[512];
	char *brokers = NULL;
	const char *topic;
	int n = 0, rc;

	if (kafka_parse_uri(uri, kc, &brokers, &topic, err, sizeof(err)) < 0) {
		if (!brokers) {
			return -ENOMEM;
		}
		n++;
		if (st_sink_reportf(report, arg, "%s", err) != 0)
			goto out;
	}
	check_ctx_t cc = {.report = report, .arg = arg};

	rc = kafka_conf_check(kc, check_report, &cc);
	if (rc < 0) {
		n = rc;
		goto out;
	}
	n += rc;
	if (cc.stop)
		goto out;
	if (kc->spool_dir && *kc->spool_dir &&
	    st_sink_dir_writable(kc->spool_dir, 1, why, sizeof(why)) < 0) {
		n++;
		st_sink_reportf(report, arg, "output.kafka.spool_dir: '%s' %s", kc->spool_dir, why);
	}
out:
	free(brokers);
	return n;
}
