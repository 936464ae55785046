/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector.h - the collector's runtime: listeners, ingest threads, rings,
 * workers, counters. Private to collector/.
 *
 * Ownership and threads:
 * - st_rt_t is built by the main thread before any other thread starts and
 *   torn down after all have been joined. Its settings are read-only while
 *   threads run.
 * - rings[i * nworkers + w] is written by ingest thread i and read by
 *   worker w only.
 * - Each thread owns its counters (one writer; relaxed atomic loads and
 *   stores, so a scrape from another thread never sees a torn value and
 *   the owner pays no locked instruction).
 * - rt->auth (communities) is swapped by the main thread on reload; workers
 *   load it once per batch and announce quiescence through their epoch
 *   (see st_rt_swap_auth()).
 */
#ifndef ST_COLLECTOR_H
#define ST_COLLECTOR_H

#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ring.h"
#include "st_codec.h"
#include "st_mib.h"
#include "st_config.h"
#include "st_util.h"
#include "st_sinks.h"
#include "st_usm.h"

#define ST_DGRAM_MAX 65535

typedef union st_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
} st_sa_t;

/* ---- counters ------------------------------------------------------ */

/* per-thread, single-writer counters: st_counter_t (util/st_util.h) */

/* X(id, metric name without prefix, labels, help) */
#define ST_INGEST_COUNTERS(X)                                                                      \
	X(RX, "datagrams_received_total", "", "Datagrams received")                                \
	X(RX_BYTES, "received_bytes_total", "", "Bytes of datagrams received")                     \
	X(KERNEL_DROPS, "kernel_drops_total", "", "Datagrams the kernel dropped (SO_RXQ_OVFL)")    \
	X(RING_FULL, "drops_total", "reason=\"ring_full\"",                                        \
	  "Datagrams dropped because a worker's ring was full")                                    \
	X(OVERSIZED, "drops_total", "reason=\"oversized\"",                                        \
	  "Datagrams dropped because they were truncated on receive")                              \
	X(URING_ERRORS, "io_uring_errors_total", "", "io_uring submissions that failed")

#define ST_WORKER_COUNTERS(X)                                                                      \
	X(NOTIF_V1_TRAP, "notifications_total", "version=\"v1\",pdu=\"trap\"",                     \
	  "Notifications emitted")                                                                 \
	X(NOTIF_V2C_TRAP, "notifications_total", "version=\"v2c\",pdu=\"trap\"", NULL)             \
	X(NOTIF_V2C_INFORM, "notifications_total", "version=\"v2c\",pdu=\"inform\"", NULL)         \
	X(NOTIF_V3_TRAP, "notifications_total", "version=\"v3\",pdu=\"trap\"", NULL)               \
	X(NOTIF_V3_INFORM, "notifications_total", "version=\"v3\",pdu=\"inform\"", NULL)           \
	X(DROP_MALFORMED, "drops_total", "reason=\"malformed\"", "Datagrams dropped, by reason")   \
	X(DROP_COMMUNITY, "drops_total", "reason=\"community\"", NULL)                             \
	X(DROP_UNSUPPORTED_PDU, "drops_total", "reason=\"unsupported_pdu\"", NULL)                 \
	X(DROP_ENCODE, "drops_total", "reason=\"encode\"", NULL)                                   \
	X(DROP_SINK, "drops_total", "reason=\"sink\"", NULL)                                       \
	X(INFORM_ACKED, "informs_acked_total", "", "Informs answered with a Response")             \
	X(INFORM_RETRANSMIT, "inform_retransmissions_total", "",                                   \
	  "Inform retransmissions acked again but not emitted twice")                              \
	X(INFORM_NOT_ACKED, "informs_not_acked_total", "reason=\"sink\"",                          \
	  "Informs left unacked so that the sender retries")                                       \
	X(SEND_ERRORS, "send_errors_total", "", "Responses and Reports that could not be sent")    \
	X(REPORTS_SENT, "reports_sent_total", "", "SNMPv3 Reports sent")                           \
	X(REPORTS_SUPPRESSED_RATE, "reports_suppressed_total", "reason=\"rate\"",                  \
	  "SNMPv3 Reports not sent: over snmp.reports.rate or snmp.reports.per_source_rate, or "   \
	  "discovery off (snmp.discovery)")                                                        \
	X(REPORTS_SUPPRESSED_OFF, "reports_suppressed_total", "reason=\"discovery_off\"", NULL)    \
	X(MIB_UNKNOWN, "mib_unknown_oids_total", "",                                               \
	  "OIDs in emitted notifications that no loaded MIB names (left numeric, never dropped)")  \
	X(MIB_OMITTED_SPACE, "mib_names_omitted_total", "reason=\"space\"",                        \
	  "Names, enum labels, BITS lists and displays left out of emitted notifications, by "     \
	  "reason (space: over the per-notification budget; not_utf8: not valid UTF-8)")           \
	X(MIB_OMITTED_UTF8, "mib_names_omitted_total", "reason=\"not_utf8\"", NULL)

#define ST_X_ENUM(id, name, labels, help) ST_CTR_##id,
enum { ST_INGEST_COUNTERS(ST_X_ENUM) ST_INGEST_NCTR };
enum { ST_WORKER_COUNTERS(ST_X_ENUM) ST_WORKER_NCTR };
#undef ST_X_ENUM

/* ---- listeners and records ----------------------------------------- */

typedef struct st_listener {
	char *uri;
	st_sa_t addr;
	socklen_t addrlen;
} st_listener_t;

/* one datagram in a ring */
typedef struct st_rec {
	st_ring_hdr_t hdr;
	uint32_t len;      /* datagram bytes after this header */
	uint16_t listener; /* index into rt->lis */
	int fd;            /* socket it came in on (for replies) */
	int ifindex;       /* from IP(V6)_PKTINFO */
	struct timespec ts;
	st_sa_t src;
	st_sa_t dst; /* local address (IP(V6)_PKTINFO) and listener port */
	uint8_t data[];
} st_rec_t;

/* ---- threads -------------------------------------------------------- */

/* ingest backends: ST_BACKEND_AUTO, _IO_URING, _RECVMMSG, declared by the
 * ingest.backend key (st_config.h) */

typedef struct st_rt st_rt_t;

typedef struct st_ingest {
	st_rt_t *rt;
	unsigned id;
	pthread_t thread;
	int backend; /* resolved: io_uring or recvmmsg */
	int *fds;    /* one socket per listener */
	int stop_fd; /* eventfd: written on stop, ends the thread's wait */
	uint32_t *ovfl_last;
	unsigned long *inode;                /* per listener: the socket's inode */
	st_counter_t *proc_drops;            /* per listener: sk_drops from /proc (main thread) */
	st_counter_t (*ctr)[ST_INGEST_NCTR]; /* [listener][counter] */
	uint8_t *dirty;      /* rings written this batch: 1, 2 with an urgent datagram */
	void *backend_state; /* created, used and freed by the thread */
	/* start-up handshake: the thread sets up its backend, fills these and
	 * posts ready; st_ingest_start() reads them after the wait */
	sem_t ready;
	int setup_rc;         /* 0, or why the thread could not start */
	int uring_rc;         /* 0, or why io_uring was not used */
	unsigned uring_flags; /* IORING_SETUP_* the ring was created with */
	int started;          /* the thread exists (joined on failure) */
} st_ingest_t;

typedef struct st_dedup st_dedup_t;
typedef struct st_reports st_reports_t;

#define ST_CACHELINE 64

typedef struct st_worker {
	st_rt_t *rt;
	unsigned id;
	pthread_t thread;
	/* written by ingest threads (one RMW per published batch): a cache
	 * line of their own, so that they do not bounce the line holding the
	 * worker's counters */
	alignas(ST_CACHELINE) _Atomic uint32_t wake; /* futex word */
	_Atomic int sleeping; /* ST_WORKER_AWAKE, _ASLEEP or _LINGERING (waiting on wake) */
	alignas(ST_CACHELINE) _Atomic uint64_t epoch; /* last auth epoch seen; UINT64_MAX idle */
	st_counter_t ctr[ST_WORKER_NCTR];
	st_usm_worker_t *usm;
	st_msg_t msg;
	char *json; /* st_json_bound(ST_DGRAM_MAX) + ST_JSON_NAMES_BOUND(arena, varbinds) bytes */
	size_t json_cap;
	/* MIB translation: the structure of this batch (rt->mib), the names of
	 * the current notification and where they are rendered */
	const st_mib_t *mib;
	st_json_names_t names;
	st_json_vbname_t *mib_vb; /* [ST_SNMP_MAX_VARBINDS] */
	char *mib_arena;          /* [ST_MIB_ARENA] */
	st_dedup_t *dedup;
	st_reports_t *reports; /* Report rate limits */
	void *acks;            /* pending inform acks of the batch */
	time_t bad_sec;        /* log.bad_packets rate limit */
	unsigned bad_count;
} st_worker_t;

/* the names budget of one notification, per worker: rendered text and
 * enumeration labels (mib/translate.c); the JSON buffer holds a full one */
#define ST_MIB_ARENA (256 * 1024)

/* what /metrics says about the MIBs (mibs.c): main thread writes, any reads */
typedef struct st_mib_metrics {
	_Atomic uint64_t modules, failed, nodes, bytes;        /* the structure in use */
	_Atomic uint64_t loads_ok, loads_failed, failed_total; /* since start */
} st_mib_metrics_t;

/* community allow-list, immutable once published */
typedef struct st_auth {
	int any;
	size_t n;
	char **names;
	size_t *lens;
} st_auth_t;

struct st_rt {
	/* settings (read-only while threads run) */
	unsigned ningest, nworkers;
	int backend;
	size_t rcvbuf, ring_bytes;
	unsigned batch;
	int affinity;
	const char *name; /* collector name */
	int out_community, out_raw;
	int out_big_numbers; /* ST_JSON_BIG_* */
	int log_bad_packets;
	/* ours (snmp.engine_id): /engines lists remote engines only */
	const uint8_t *engine_id;
	size_t engine_id_len;
	int discovery;                    /* answer v3 discovery probes */
	uint32_t reports_rate;            /* Reports per second, all workers */
	uint32_t reports_per_source_rate; /* Reports per second to one address */

	st_listener_t *lis;
	unsigned nlis;
	st_ring_t *rings; /* [ningest * nworkers] */
	st_ingest_t *ingest;
	st_worker_t *workers;
	st_sink_t **sinks;
	unsigned nsinks;
	st_usm_t *usm;

	_Atomic(st_auth_t *) auth;
	_Atomic uint64_t auth_epoch;
	/* MIB translation (NULL: off), swapped like auth, same epoch (mibs.c) */
	_Atomic(st_mib_t *) mib;
	st_mib_metrics_t mib_metrics;

	/* main thread: /proc/net/udp{,6} samples taken (kernel drops) */
	st_counter_t proc_samples;

	_Atomic int stop_ingest;  /* ingest: read what is queued, then exit */
	_Atomic int stop_workers; /* workers: empty the rings, then exit */
	_Atomic int threads_running;
};

/* listener.c */
int st_listener_parse(const char *uri, st_listener_t *lis, char *err, size_t errlen);
int st_listener_socket(const st_listener_t *lis, size_t rcvbuf, char *err, size_t errlen);
int st_listener_probe(const st_listener_t *lis, char *err, size_t errlen);

/* ingest.c */
int st_ingest_start(st_rt_t *rt, char *err, size_t errlen);
void st_ingest_join(st_rt_t *rt);
const char *st_backend_name(int backend);
/* how often the main thread samples /proc/net/udp{,6} */
#define ST_PROC_SAMPLE_MS 1000
/* main thread, every ST_PROC_SAMPLE_MS: the kernel's drop count of every
 * socket; counts rt->proc_samples */
void st_ingest_sample_drops(st_rt_t *rt);
/* main thread: st_ingest_sample_drops() if CLOCK_MONOTONIC ms reached
 * *next (0: now), then *next moves on; returns ms until *next. Sampling
 * follows the clock, whatever ends the caller's waits early. */
int64_t st_ingest_sample_tick(st_rt_t *rt, int64_t *next);
/* parse /proc/net/udp{,6} text: drops[k] for the socket with inodes[k];
 * returns how many inodes were found */
size_t st_proc_udp_drops(FILE *f, const unsigned long *inodes, size_t n, uint64_t *drops);
/* per listener: the larger of what SO_RXQ_OVFL and /proc said, summed */
uint64_t st_ingest_kernel_drops(const st_rt_t *rt, unsigned li);

/* worker.c */
int st_worker_start(st_rt_t *rt, char *err, size_t errlen);
void st_worker_join(st_rt_t *rt);
/* what a worker is doing, for st_worker_wake() */
#define ST_WORKER_AWAKE     0
#define ST_WORKER_ASLEEP    1 /* idle: woken by any new datagram */
#define ST_WORKER_LINGERING 2 /* pausing after traps: woken only for an urgent one */
/* ingest, after publishing to the worker's rings (and st_worker_join()):
 * wake it if it sleeps, or if it lingers and urgent is set */
void st_worker_wake(st_worker_t *wk, int urgent);
/* ingest: 1 if a datagram may ask for an answer (an InformRequest, or a
 * v3 message with the reportable flag: informs and discovery), so that a
 * lingering worker must take it at once; a cheap look at the header, 0 for
 * traps and for what does not parse */
int st_worker_urgent(const uint8_t *data, size_t len);
unsigned st_worker_pick(const st_rt_t *rt, const st_sa_t *src);

/* auth */
int st_auth_new(char *const *names, size_t n, st_auth_t **out);
void st_auth_free(st_auth_t *auth);
int st_auth_allows(const st_auth_t *auth, const uint8_t *community, size_t len);
/* publish new communities; returns once no worker uses the old ones */
void st_rt_swap_auth(st_rt_t *rt, st_auth_t *auth);
/* after swapping a pointer workers load per batch (auth, mib): returns once
 * every worker has begun a batch since, or is idle */
void st_rt_quiesce(st_rt_t *rt);

/* metrics.c */
void st_metrics_write(const st_rt_t *rt, FILE *out);

/* log.c */
/* levels: st_log_level_t (st_sinks.h), one enum for the collector and sinks */
void st_log_setup(st_log_level_t level, int json);
void st_log(st_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* an st_sink_log_fn: the sinks' messages through st_log() */
void st_log_sink(st_log_level_t level, const char *msg, void *arg);
/* the counters (st_metrics_write) on stderr in one write: Prometheus text,
 * or with log.format json one object whose "counters" map sample to value */
void st_log_counters(const st_rt_t *rt);

#endif /* ST_COLLECTOR_H */
