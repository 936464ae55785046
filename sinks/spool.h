/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool.h - the on-disk spool of the Kafka sink (private to sinks/), which
 * is also its journal when output.kafka.acceptance is journal: then every
 * line is appended (in per-worker batches, st_spool_append_batch()) and the
 * poller reads everything back, the spool is never disengaged, and the
 * confirmed and read positions are persisted every 20 ms (st_spool_mark()).
 *
 * The spool is an ordered log of Kafka records (key, headers, value,
 * timestamp) kept in segment files under one directory. It holds what the
 * brokers could not take, in the order it must be sent when they return:
 *
 *  - st_spool_append() adds at the tail (notifications that arrive while
 *    the spool is engaged, i.e. while older ones wait on disk);
 *  - st_spool_rescue() adds to a rescue segment that sorts before every
 *    other segment (records librdkafka gave back: they are older than
 *    anything still on disk);
 *  - st_spool_read() hands out the oldest unread record with a token, and
 *    st_spool_resolve() retires the token once Kafka took the record (or it
 *    was rescued again). A segment is deleted when all its records are
 *    resolved; the resolved prefix of each segment is written into the
 *    segment's header by st_spool_sync(), so a restart resumes there.
 *
 * The format is in docs/KAFKA.md. Every function is thread-safe: one mutex
 * guards the spool, which is only used while Kafka cannot take lines
 * directly, never on the normal per-line path (st_spool_engaged() is a
 * lock-free load for that path).
 */
#ifndef ST_SPOOL_H
#define ST_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/** Most headers one spooled record carries. */
#define ST_SPOOL_MAX_HDRS 8
/** Largest record body accepted (a sanity bound when reading). */
#define ST_SPOOL_MAX_RECORD (16u * 1024 * 1024)

typedef struct st_spool st_spool_t;

/** When the spool's data is flushed to the disk (output.kafka.fsync). */
typedef enum st_spool_fsync {
	ST_SPOOL_FSYNC_OFF = 0,      /* never: the kernel writes back when it likes */
	ST_SPOOL_FSYNC_INTERVAL = 1, /* st_spool_sync() (about once a second) */
	ST_SPOOL_FSYNC_ALWAYS = 2,   /* every append, before it returns */
} st_spool_fsync_t;

typedef struct st_spool_hdr {
	const char *name; /* at most 255 bytes; not NUL-terminated when read */
	size_t name_len;  /* 0 on append: strlen(name) */
	const void *value;
	size_t len; /* at most 65535 */
} st_spool_hdr_t;

/** One record. Pointers are borrowed: from the caller on append, from the
 * spool's read buffer (valid until the next st_spool_read) on read. */
typedef struct st_spool_rec {
	int64_t ts_ms;   /* Kafka timestamp (ms since the epoch), 0: none */
	const void *key; /* NULL: no key */
	size_t key_len;  /* at most 65535 */
	st_spool_hdr_t hdrs[ST_SPOOL_MAX_HDRS];
	unsigned nhdrs;
	const void *value;
	size_t value_len;
} st_spool_rec_t;

typedef struct st_spool_stats {
	uint64_t lines;     /* records on disk not yet resolved */
	uint64_t bytes;     /* bytes of the segment files */
	uint64_t segments;  /* segment files */
	uint64_t appended;  /* records added (tail and rescue) */
	uint64_t evicted;   /* unresolved records deleted for space */
	uint64_t corrupt;   /* records lost to a bad checksum or length */
	uint64_t io_errors; /* failed writes, reads, syncs */
	uint64_t full;      /* appends refused: full and eviction off */
	uint64_t syncs;     /* fdatasync calls on segments */
	uint64_t recovered; /* records found by st_spool_open() */
	/* of those, records an earlier run had already handed out (read) but
	 * not seen confirmed: they may reach Kafka twice */
	uint64_t recovered_read;
} st_spool_stats_t;

/**
 * @brief Open (or create) the spool in @p dir and take its lock file.
 * Existing segments are checked (a torn record at a segment's end is cut
 * off and counted as corrupt); when they hold records the spool starts
 * engaged, so that they are sent before anything new.
 * @param max_bytes  the spool never grows past this (oldest evicted first)
 * @param seg_bytes  a segment is closed and a new one started past this
 * @return 0 and *out, or -errno with err naming the directory and problem.
 */
int st_spool_open(const char *dir, uint64_t max_bytes, uint64_t seg_bytes, st_spool_t **out,
                  char *err, size_t errlen);

/**
 * @brief Settings fixed after open: the fsync policy (default INTERVAL)
 * and whether a full spool evicts its oldest segments (default) or
 * refuses new records with -ENOSPC (counted as full). Without eviction,
 * st_spool_rescue() may use a reserve of max_bytes / 8 past the limit:
 * rescued records were accepted already.
 */
void st_spool_set_policy(st_spool_t *sp, st_spool_fsync_t fsync, int evict);

/**
 * @brief Encode one record, framed as it is stored, into @p buf: the
 * caller batches records and hands them to st_spool_append_batch().
 * @return the bytes used; -ENOBUFS when it does not fit in @p cap;
 * -E2BIG when it can never be stored.
 */
int st_spool_encode(const st_spool_rec_t *rec, void *buf, size_t cap);

/**
 * @brief Append @p n records encoded by st_spool_encode() with one write,
 * whether the spool is engaged or not (the journal is always engaged).
 * @return 0; -ENOSPC when full (see st_spool_set_policy()); -errno.
 */
int st_spool_append_batch(st_spool_t *sp, const void *buf, size_t len, uint64_t n);

/**
 * @brief Persist the read and confirmed positions of every segment into
 * its header (no fsync): after a crash, a restart resumes at the
 * confirmed one. Cheap; call it often.
 */
int st_spool_mark(st_spool_t *sp);

/**
 * @brief Kafka timestamp (ms) of the oldest record not yet confirmed,
 * approximately (a record read and confirmed may be counted one record
 * late); 0 when there is none.
 */
int64_t st_spool_oldest_ts(const st_spool_t *sp);

/** @brief Is the spool engaged (new records must be appended, not sent)? */
int st_spool_engaged(const st_spool_t *sp);

/** @brief Engage the spool: from now on writers append. */
void st_spool_engage(st_spool_t *sp);

/**
 * @brief Append at the tail, evicting the oldest segments if needed.
 * @return 0; -EAGAIN when the spool is not engaged (send directly
 * instead); -ENOSPC when no space can be freed; -E2BIG for an oversized
 * record; -errno on I/O errors (counted).
 */
int st_spool_append(st_spool_t *sp, const st_spool_rec_t *rec);

/**
 * @brief Append to the rescue segment (created on first use, sorting
 * before every other segment) and engage the spool. Rescued records are
 * not read until st_spool_rescue_close(), and then in ascending @p order
 * (ties in the order they were rescued): librdkafka hands messages back
 * in no reliable order, the caller knows the order they were produced in.
 * @return as st_spool_append(), without -EAGAIN.
 */
int st_spool_rescue(st_spool_t *sp, const st_spool_rec_t *rec, uint64_t order);

/** @brief Is a rescue segment open? */
int st_spool_rescue_open(const st_spool_t *sp);

/** @brief Sort (by order) and sync the rescue segment, close it; it
 * becomes readable. */
int st_spool_rescue_close(st_spool_t *sp);

/**
 * @brief Read the oldest unread record.
 * @param token  set to a handle for st_spool_resolve()
 * @return 0; -ENODATA when everything is read; -EBUSY while a rescue
 * segment is open; -ENOBUFS when too many read records are unresolved.
 */
int st_spool_read(st_spool_t *sp, st_spool_rec_t *rec, uint64_t *token);

/** @brief Retire a read record: Kafka has it, or it was rescued again. */
void st_spool_resolve(st_spool_t *sp, uint64_t token);

/**
 * @brief st_spool_read() of up to @p max records with one lock: stops
 * early where the next record would need the read buffer refilled (the
 * records read keep pointing into it until the next read).
 * @return 0 and *n >= 1, or what st_spool_read() returns (*n = 0).
 */
int st_spool_read_batch(st_spool_t *sp, st_spool_rec_t *recs, uint64_t *tokens, unsigned max,
                        unsigned *n);

/** @brief st_spool_resolve() of @p n tokens with one lock. */
void st_spool_resolve_many(st_spool_t *sp, const uint64_t *tokens, size_t n);

/**
 * @brief Disengage when everything is read and nothing is being rescued:
 * the tail segment is closed and writers send directly again. Done under
 * the spool's lock, so no append can slip in between.
 * @return 0 when disengaged, -EAGAIN when there is more to read.
 */
int st_spool_disengage(st_spool_t *sp);

/** @brief Number of read records not yet resolved. */
uint64_t st_spool_outstanding(const st_spool_t *sp);

/**
 * @brief Make the spool durable: fdatasync segments written since the
 * last call (unless the fsync policy is OFF; not under the spool's lock,
 * so appends go on meanwhile) and write each segment's resolved prefix
 * into its header.
 */
int st_spool_sync(st_spool_t *sp);

void st_spool_stats(const st_spool_t *sp, st_spool_stats_t *stats);

/** @brief Sync, close every file, release the lock, free. */
void st_spool_close(st_spool_t *sp);

#endif /* ST_SPOOL_H */
