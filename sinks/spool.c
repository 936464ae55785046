/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spool.c - the Kafka sink's on-disk spool: an ordered log of records in
 * segment files (format and guarantees in docs/KAFKA.md).
 *
 * Segments are named by a 64-bit sequence number, 16 hex digits + ".seg",
 * and read in that order. Appends go to the tail segment (the highest
 * number), which is closed and synced once it passes seg_bytes. Records
 * that librdkafka hands back (timed out, purged) are older than everything
 * on disk, so they go to a rescue segment numbered below every existing
 * one; it is read only once closed (when librdkafka holds nothing more
 * that could join it). This keeps one source's notifications in order
 * through an outage: what was queued in memory comes back first, then what
 * went straight to disk, then whatever arrives during the replay.
 *
 * Reading hands out records with a token. A ring of tokens, in read order,
 * tracks which read records Kafka has confirmed; the confirmed prefix of a
 * segment (ack_off) is written into the segment header by st_spool_sync(),
 * so a restart resumes there and only re-sends what was unconfirmed when
 * the process stopped (see docs/KAFKA.md on duplicates after a crash).
 * A segment whose records are all read and confirmed is deleted.
 *
 * When the spool would pass max_bytes, the oldest segments that nobody is
 * writing and that have no unconfirmed reads are deleted, and their unread
 * records are counted as evicted.
 *
 * One mutex guards everything here. With acceptance memory the spool is
 * used only while Kafka cannot take lines directly (the direct path only
 * reads `engaged`); as the journal, workers take it once per batch
 * (st_spool_append_batch()) and the poller once per batch of reads and of
 * confirmations, and fdatasync runs outside it (st_spool_sync()).
 *
 * The header also keeps the read position (st_spool_mark()): at open, the
 * records between the confirmed and the read position are those an
 * earlier run had handed to Kafka without seeing them confirmed, the
 * estimate of what a restart may send twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "st_util.h"
#include "spool.h"

#define SEG_MAGIC    "STSPOOL1"
#define SEG_VERSION  1u
#define SEG_HDR_LEN  32u
#define SEG_START_AT 16u          /* offset of the resolved-prefix field */
#define SEG_READ_AT  24u          /* offset of the read-position field (0: none) */
#define REC_PREFIX   8u           /* u32 length, u32 crc32c */
#define REC_MIN_BODY 12u          /* ts(8) flags(1) key_len(2) nhdrs(1) */
#define META_MAX     8192u        /* key + headers of one record */
#define RING_CAP     262144u      /* read records awaiting confirmation */
#define SEQ_FIRST    (1ull << 40) /* leaves room below for rescue segments */
#define RBUF_CHUNK   (256u * 1024)

typedef struct st_spool_seg {
	struct st_spool_seg *next; /* ascending seq */
	uint64_t seq;
	int wfd;           /* open for appends (tail or rescue), else -1 */
	int rfd;           /* open for reads, else -1 */
	int sfd;           /* sealed, its data not yet synced (INTERVAL), else -1 */
	int rescue;        /* the open rescue segment */
	int dirty;         /* appended since the last fdatasync */
	uint64_t size;     /* bytes in the file */
	uint64_t read_off; /* next record to read */
	uint64_t ack_off;  /* records before this are confirmed */
	uint64_t synced_ack;
	uint64_t synced_read; /* read_off as last written into the header */
	int64_t unread_ts;    /* timestamp of the oldest unread record (about) */
	uint64_t unread;      /* records not read yet */
	uint64_t inring;      /* ring entries that still point here */
} st_spool_seg_t;

/* a rescued record: where it is, and where it belongs */
typedef struct st_spool_rx {
	uint64_t order;
	uint64_t off;
	uint64_t len; /* prefix + body */
} st_spool_rx_t;

typedef struct st_spool_ent {
	st_spool_seg_t *seg;
	uint64_t end_off;
	int64_t ts; /* the record's timestamp */
	int resolved;
} st_spool_ent_t;

struct st_spool {
	char *dir;
	int dirfd;
	int lockfd;
	uint64_t max_bytes;
	uint64_t seg_bytes;
	st_spool_fsync_t fsync;
	int evict; /* full: delete the oldest segments (else -ENOSPC) */
	pthread_mutex_t lock;
	_Atomic int engaged;
	st_spool_seg_t *segs; /* ascending seq */
	st_spool_seg_t *tail; /* open for appends, or NULL */
	st_spool_seg_t *rescue;
	uint64_t next_seq; /* next tail */
	uint64_t low_seq;  /* lowest seq in use; rescue takes low_seq - 1 */
	st_spool_rx_t *rx; /* the open rescue segment's records */
	size_t rx_n, rx_cap;
	int rx_unsorted;
	/* read side (one reader thread) */
	st_spool_ent_t *ring;
	uint64_t rhead, rtail;
	char *rbuf;
	size_t rbuf_cap;
	st_spool_seg_t *rbuf_seg;
	uint64_t rbuf_off;
	size_t rbuf_len;
	/* counters, read by st_spool_stats() without the lock */
	_Atomic uint64_t lines, bytes, segments, appended, evicted, corrupt, io_errors, full, syncs;
	uint64_t recovered, recovered_read; /* set by st_spool_open() */
	/* st_spool_open(): the lowest and highest sequence numbers of any
	 * segment file found, loaded or not (0: none), so that a new tail or
	 * rescue segment never takes the name of a file left in place */
	uint64_t seen_lo, seen_hi;
};

static void ctr_add(_Atomic uint64_t *c, int64_t n)
{
	atomic_fetch_add_explicit(c, (uint64_t)n, memory_order_relaxed);
}

/* ---- segments ------------------------------------------------------------ */

static void seg_name(char *buf, size_t len, uint64_t seq)
{
	snprintf(buf, len, "%016" PRIx64 ".seg", seq);
}

static void seg_insert(st_spool_t *sp, st_spool_seg_t *seg)
{
	st_spool_seg_t **pp = &sp->segs;

	while (*pp && (*pp)->seq < seg->seq)
		pp = &(*pp)->next;
	seg->next = *pp;
	*pp = seg;
	ctr_add(&sp->segments, 1);
	ctr_add(&sp->bytes, (int64_t)seg->size);
}

/* unlink and forget a segment; its unread records are the caller's to count */
static void seg_remove(st_spool_t *sp, st_spool_seg_t *seg)
{
	char name[32];
	st_spool_seg_t **pp = &sp->segs;

	while (*pp && *pp != seg)
		pp = &(*pp)->next;
	if (*pp)
		*pp = seg->next;
	if (sp->rbuf_seg == seg)
		sp->rbuf_seg = NULL;
	if (sp->tail == seg)
		sp->tail = NULL;
	if (sp->rescue == seg)
		sp->rescue = NULL;
	if (seg->wfd >= 0)
		close(seg->wfd);
	if (seg->rfd >= 0)
		close(seg->rfd);
	if (seg->sfd >= 0)
		close(seg->sfd);
	seg_name(name, sizeof(name), seg->seq);
	if (unlinkat(sp->dirfd, name, 0) < 0 && errno != ENOENT)
		ctr_add(&sp->io_errors, 1);
	ctr_add(&sp->segments, -1);
	ctr_add(&sp->bytes, -(int64_t)seg->size);
	free(seg);
}

/* delete a segment once every record in it is read and confirmed */
static void seg_maybe_drop(st_spool_t *sp, st_spool_seg_t *seg)
{
	if (seg->wfd < 0 && seg->read_off >= seg->size && seg->inring == 0)
		seg_remove(sp, seg);
}

static int seg_create(st_spool_t *sp, uint64_t seq, st_spool_seg_t **out)
{
	uint8_t hdr[SEG_HDR_LEN] = {0};
	char name[32];
	st_spool_seg_t *seg;
	int fd;

	seg_name(name, sizeof(name), seq);
	fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	memcpy(hdr, SEG_MAGIC, 8);
	st_le32_store(hdr + 8, SEG_VERSION);
	st_le32_store(hdr + 12, SEG_HDR_LEN);
	st_le64_store(hdr + SEG_START_AT, SEG_HDR_LEN);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		int e = errno ? errno : EIO;

		close(fd);
		unlinkat(sp->dirfd, name, 0);
		return -e;
	}
	seg = calloc(1, sizeof(*seg));
	if (!seg) {
		close(fd);
		unlinkat(sp->dirfd, name, 0);
		return -ENOMEM;
	}
	seg->seq = seq;
	seg->wfd = fd;
	seg->rfd = -1;
	seg->sfd = -1;
	seg->size = SEG_HDR_LEN;
	seg->read_off = seg->ack_off = seg->synced_ack = SEG_HDR_LEN;
	seg->dirty = 1;
	seg_insert(sp, seg);
	*out = seg;
	return 0;
}

/* fdatasync, counted (syncs, and io_errors when it fails); 0 or -errno */
static int data_sync(st_spool_t *sp, int fd)
{
	ctr_add(&sp->syncs, 1);
	if (fdatasync(fd) < 0) {
		ctr_add(&sp->io_errors, 1);
		return -errno;
	}
	return 0;
}

/*
 * fsync ALWAYS: an append is on disk before it returns (and so before the
 * informs it carries are acked), the directory entry of a segment it had
 * to create too. Locked.
 */
static int append_synced(st_spool_t *sp, st_spool_seg_t *seg, int created)
{
	int rc = 0;

	if (sp->fsync != ST_SPOOL_FSYNC_ALWAYS)
		return 0;
	rc = data_sync(sp, seg->wfd);
	seg->dirty = 0;
	if (created && fsync(sp->dirfd) < 0) {
		ctr_add(&sp->io_errors, 1);
		rc = rc ? rc : -errno;
	}
	return rc;
}

/*
 * Finish appending to a segment. ALWAYS syncs it and its directory entry
 * now; INTERVAL leaves that to the next st_spool_sync(), which runs
 * outside the lock (a sealed segment of tens of MiB would otherwise stall
 * every writer for the whole fdatasync); OFF leaves it to the kernel.
 */
static int seg_seal(st_spool_t *sp, st_spool_seg_t *seg)
{
	int rc = 0;

	if (seg->wfd < 0)
		return 0;
	if (sp->fsync == ST_SPOOL_FSYNC_INTERVAL && seg->dirty && seg->sfd < 0) {
		seg->sfd = seg->wfd;
		seg->wfd = -1;
		seg->dirty = 0;
		return 0;
	}
	if (sp->fsync == ST_SPOOL_FSYNC_ALWAYS)
		rc = data_sync(sp, seg->wfd);
	close(seg->wfd);
	seg->wfd = -1;
	seg->dirty = 0;
	if (sp->fsync == ST_SPOOL_FSYNC_ALWAYS && fsync(sp->dirfd) < 0) {
		ctr_add(&sp->io_errors, 1);
		rc = rc ? rc : -errno;
	}
	return rc;
}

/* ---- records ------------------------------------------------------------- */

/*
 * Encode everything but the value into meta (after the 8-byte prefix, which
 * is filled in here too). Returns the meta length or -E2BIG.
 */
static int rec_encode(const st_spool_rec_t *rec, uint8_t *meta, size_t cap, uint32_t *body_len)
{
	size_t n = REC_PREFIX;
	uint64_t total;
	uint32_t crc;

	if (rec->nhdrs > ST_SPOOL_MAX_HDRS || rec->key_len > 0xffff)
		return -E2BIG;
	if (n + REC_MIN_BODY + rec->key_len > cap)
		return -E2BIG;
	st_le64_store(meta + n, (uint64_t)rec->ts_ms);
	meta[n + 8] = rec->key ? 1 : 0;
	st_le16_store(meta + n + 9, (uint16_t)(rec->key ? rec->key_len : 0));
	n += 11;
	if (rec->key && rec->key_len) {
		memcpy(meta + n, rec->key, rec->key_len);
		n += rec->key_len;
	}
	meta[n++] = (uint8_t)rec->nhdrs;
	for (unsigned i = 0; i < rec->nhdrs; i++) {
		const st_spool_hdr_t *h = &rec->hdrs[i];
		size_t nl = h->name_len ? h->name_len : strlen(h->name);

		if (nl > 255 || h->len > 0xffff || n + 3 + nl + h->len > cap)
			return -E2BIG;
		meta[n++] = (uint8_t)nl;
		memcpy(meta + n, h->name, nl);
		n += nl;
		st_le16_store(meta + n, (uint16_t)h->len);
		n += 2;
		if (h->len)
			memcpy(meta + n, h->value, h->len);
		n += h->len;
	}
	total = (uint64_t)(n - REC_PREFIX) + rec->value_len;
	if (total > ST_SPOOL_MAX_RECORD)
		return -E2BIG;
	st_le32_store(meta, (uint32_t)total);
	crc = st_crc32c_update(0xffffffffu, meta, 4);
	crc = st_crc32c_update(crc, meta + REC_PREFIX, n - REC_PREFIX);
	if (rec->value_len)
		crc = st_crc32c_update(crc, rec->value, rec->value_len);
	st_le32_store(meta + 4, crc ^ 0xffffffffu);
	*body_len = (uint32_t)total;
	return (int)n;
}

/* decode a checked body into rec (pointers into body); 0 or -EBADMSG */
static int rec_decode(const uint8_t *body, size_t len, st_spool_rec_t *rec)
{
	size_t n = 0;
	unsigned nh;
	size_t klen;

	memset(rec, 0, sizeof(*rec));
	if (len < REC_MIN_BODY)
		return -EBADMSG;
	rec->ts_ms = (int64_t)st_le64_load(body);
	klen = st_le16_load(body + 9);
	n = 11;
	if (n + klen + 1 > len)
		return -EBADMSG;
	if (body[8] & 1) {
		rec->key = body + n;
		rec->key_len = klen;
	}
	n += klen;
	nh = body[n++];
	if (nh > ST_SPOOL_MAX_HDRS)
		return -EBADMSG;
	for (unsigned i = 0; i < nh; i++) {
		st_spool_hdr_t *h = &rec->hdrs[i];
		size_t nl, vl;

		if (n + 1 > len)
			return -EBADMSG;
		nl = body[n++];
		if (n + nl + 2 > len)
			return -EBADMSG;
		h->name = (const char *)body + n;
		h->name_len = nl;
		n += nl;
		vl = st_le16_load(body + n);
		n += 2;
		if (n + vl > len)
			return -EBADMSG;
		h->value = body + n;
		h->len = vl;
		n += vl;
	}
	rec->nhdrs = nh;
	rec->value = body + n;
	rec->value_len = len - n;
	return 0;
}

/* write the encoded record; on a short write, cut the file back */
static int seg_write(st_spool_t *sp, st_spool_seg_t *seg, const uint8_t *meta, size_t mlen,
                     const st_spool_rec_t *rec)
{
	struct iovec iov[2] = {
	        {.iov_base = (void *)meta, .iov_len = mlen},
	        {.iov_base = (void *)rec->value, .iov_len = rec->value_len},
	};
	size_t want = mlen + rec->value_len;
	size_t done = 0;

	while (done < want) {
		ssize_t n = writev(seg->wfd, iov, rec->value_len ? 2 : 1);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (done && ftruncate(seg->wfd, (off_t)seg->size) < 0) {
				/* the torn record is cut at the next open */
			}
			ctr_add(&sp->io_errors, 1);
			return -e;
		}
		done += (size_t)n;
		/* advance the iovecs past what was written */
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
		}
	}
	seg->size += want;
	if (seg->unread++ == 0)
		seg->unread_ts = rec->ts_ms;
	seg->dirty = 1;
	ctr_add(&sp->bytes, (int64_t)want);
	ctr_add(&sp->lines, 1);
	ctr_add(&sp->appended, 1);
	return 0;
}

/* free space for `need` more bytes by deleting the oldest idle segments */
static int make_room(st_spool_t *sp, uint64_t need)
{
	while (atomic_load_explicit(&sp->bytes, memory_order_relaxed) + need > sp->max_bytes) {
		st_spool_seg_t *seg = sp->segs;

		while (seg && (seg->wfd >= 0 || seg->inring > 0))
			seg = seg->next;
		if (!seg || !sp->evict)
			return -ENOSPC; /* the caller counts the records refused */
		ctr_add(&sp->evicted, (int64_t)seg->unread);
		ctr_add(&sp->lines, -(int64_t)seg->unread);
		seg_remove(sp, seg);
	}
	return 0;
}

static int append_locked(st_spool_t *sp, st_spool_seg_t **segp, int rescue,
                         const st_spool_rec_t *rec)
{
	uint8_t meta[META_MAX];
	uint32_t body_len;
	int mlen = rec_encode(rec, meta, sizeof(meta), &body_len);
	uint64_t need;
	int rc, created = 0;

	if (mlen < 0)
		return mlen;
	need = REC_PREFIX + (uint64_t)body_len;
	/* the tail rolls over at seg_bytes; a rescue segment never does, it
	 * lives only as long as librdkafka hands records back */
	if (!rescue && *segp && (*segp)->size > SEG_HDR_LEN &&
	    (*segp)->size + need > sp->seg_bytes) {
		st_spool_seg_t *old = *segp;

		seg_seal(sp, old);
		*segp = NULL;
		seg_maybe_drop(sp, old);
	}
	if (!*segp)
		need += SEG_HDR_LEN;
	/* a rescued record was accepted already (it is a copy of a journal
	 * record, or librdkafka's only copy): with eviction off it may use
	 * a reserve of max_bytes / 8 rather than be lost; refusing is for
	 * new lines */
	if (rescue && !sp->evict &&
	    atomic_load_explicit(&sp->bytes, memory_order_relaxed) + need <=
	            sp->max_bytes + sp->max_bytes / 8)
		rc = 0;
	else
		rc = make_room(sp, need);
	if (rc < 0) {
		ctr_add(&sp->full, 1);
		return rc;
	}
	if (!*segp) {
		uint64_t seq = rescue ? sp->low_seq - 1 : sp->next_seq;

		rc = seg_create(sp, seq, segp);
		if (rc < 0) {
			ctr_add(&sp->io_errors, 1);
			return rc;
		}
		created = 1;
		if (rescue) {
			sp->low_seq = seq;
			(*segp)->rescue = 1;
		} else {
			sp->next_seq = seq + 1;
		}
	}
	rc = seg_write(sp, *segp, meta, (size_t)mlen, rec);
	return rc < 0 ? rc : append_synced(sp, *segp, created);
}

/* ---- public -------------------------------------------------------------- */

int st_spool_engaged(const st_spool_t *sp)
{
	return atomic_load_explicit(&((st_spool_t *)sp)->engaged, memory_order_acquire);
}

void st_spool_engage(st_spool_t *sp)
{
	atomic_store_explicit(&sp->engaged, 1, memory_order_release);
}

int st_spool_append(st_spool_t *sp, const st_spool_rec_t *rec)
{
	int rc;

	pthread_mutex_lock(&sp->lock);
	if (!atomic_load_explicit(&sp->engaged, memory_order_relaxed))
		rc = -EAGAIN;
	else
		rc = append_locked(sp, &sp->tail, 0, rec);
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

void st_spool_set_policy(st_spool_t *sp, st_spool_fsync_t fsync, int evict)
{
	pthread_mutex_lock(&sp->lock);
	sp->fsync = fsync;
	sp->evict = evict;
	pthread_mutex_unlock(&sp->lock);
}

int st_spool_encode(const st_spool_rec_t *rec, void *buf, size_t cap)
{
	uint8_t meta[META_MAX];
	uint32_t body_len;
	int mlen = rec_encode(rec, meta, sizeof(meta), &body_len);
	size_t total;

	if (mlen < 0)
		return mlen;
	total = REC_PREFIX + (size_t)body_len;
	if (total > cap)
		return -ENOBUFS;
	memcpy(buf, meta, (size_t)mlen);
	if (rec->value_len)
		memcpy((uint8_t *)buf + mlen, rec->value, rec->value_len);
	return (int)total;
}

/* write all of buf at the end of the tail segment */
static int tail_write(st_spool_t *sp, st_spool_seg_t *seg, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(seg->wfd, (const uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			/* cut a partial batch back; else the next open cuts it */
			if (done && ftruncate(seg->wfd, (off_t)seg->size) < 0) {
			}
			ctr_add(&sp->io_errors, 1);
			return -e;
		}
		done += (size_t)n;
	}
	return 0;
}

int st_spool_append_batch(st_spool_t *sp, const void *buf, size_t len, uint64_t n)
{
	st_spool_seg_t *seg;
	int rc, created = 0;

	if (len < REC_PREFIX + REC_MIN_BODY || n == 0)
		return len || n ? -EINVAL : 0;
	pthread_mutex_lock(&sp->lock);
	seg = sp->tail;
	if (seg && seg->size > SEG_HDR_LEN && seg->size + len > sp->seg_bytes) {
		seg_seal(sp, seg);
		sp->tail = NULL;
		seg_maybe_drop(sp, seg);
	}
	rc = make_room(sp, len + (sp->tail ? 0 : SEG_HDR_LEN));
	if (rc < 0) {
		ctr_add(&sp->full, (int64_t)n);
		goto out;
	}
	if (!sp->tail) {
		rc = seg_create(sp, sp->next_seq, &sp->tail);
		if (rc < 0) {
			ctr_add(&sp->io_errors, 1);
			goto out;
		}
		sp->next_seq++;
		created = 1;
	}
	seg = sp->tail;
	rc = tail_write(sp, seg, buf, len);
	if (rc < 0)
		goto out;
	seg->size += len;
	if (seg->unread == 0)
		seg->unread_ts = (int64_t)st_le64_load((const uint8_t *)buf + REC_PREFIX);
	seg->unread += n;
	seg->dirty = 1;
	ctr_add(&sp->bytes, (int64_t)len);
	ctr_add(&sp->lines, (int64_t)n);
	ctr_add(&sp->appended, (int64_t)n);
	rc = append_synced(sp, seg, created);
out:
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int st_spool_rescue(st_spool_t *sp, const st_spool_rec_t *rec, uint64_t order)
{
	uint64_t off;
	int rc;

	pthread_mutex_lock(&sp->lock);
	atomic_store_explicit(&sp->engaged, 1, memory_order_release);
	if (sp->rx_n == sp->rx_cap) {
		size_t cap = sp->rx_cap ? sp->rx_cap * 2 : 1024;
		st_spool_rx_t *nrx = realloc(sp->rx, cap * sizeof(*nrx));

		if (!nrx) {
			rc = -ENOMEM;
			goto out;
		}
		sp->rx = nrx;
		sp->rx_cap = cap;
	}
	off = sp->rescue ? sp->rescue->size : SEG_HDR_LEN;
	rc = append_locked(sp, &sp->rescue, 1, rec);
	if (rc == 0) {
		st_spool_rx_t *x = &sp->rx[sp->rx_n];

		if (sp->rx_n && order < sp->rx[sp->rx_n - 1].order)
			sp->rx_unsorted = 1;
		x->order = order;
		x->off = off;
		x->len = sp->rescue->size - off;
		sp->rx_n++;
	}
out:
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

static int rx_cmp(const void *a, const void *b)
{
	const st_spool_rx_t *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off; /* stable */
}

/*
 * Rewrite the rescue segment with its records in order: copy them, sorted,
 * into a temporary file and rename it over the segment. The segment is
 * not readable before this, so no reader sees the old layout.
 */
static int rescue_sort(st_spool_t *sp, st_spool_seg_t *seg)
{
	char name[32], tmp[40];
	uint8_t hdr[SEG_HDR_LEN];
	char *buf = NULL;
	size_t cap = 0;
	int in = -1, out = -1, rc = 0;

	qsort(sp->rx, sp->rx_n, sizeof(*sp->rx), rx_cmp);
	seg_name(name, sizeof(name), seg->seq);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	in = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	out = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (in < 0 || out < 0 || pread(in, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    write(out, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		rc = -(errno ? errno : EIO);
		goto out;
	}
	for (size_t i = 0; i < sp->rx_n; i++) {
		const st_spool_rx_t *x = &sp->rx[i];

		if (x->len > cap) {
			char *nb = realloc(buf, x->len);

			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = x->len;
		}
		if (pread(in, buf, x->len, (off_t)x->off) != (ssize_t)x->len ||
		    write(out, buf, x->len) != (ssize_t)x->len) {
			rc = -(errno ? errno : EIO);
			goto out;
		}
	}
	if (fdatasync(out) < 0 || renameat(sp->dirfd, tmp, sp->dirfd, name) < 0)
		rc = -errno;
out:
	if (rc < 0) {
		/* the unsorted segment stays: order is lost, records are not */
		ctr_add(&sp->io_errors, 1);
		unlinkat(sp->dirfd, tmp, 0);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
	return rc;
}

int st_spool_rescue_open(const st_spool_t *sp)
{
	st_spool_t *s = (st_spool_t *)sp;
	int open;

	pthread_mutex_lock(&s->lock);
	open = s->rescue != NULL;
	pthread_mutex_unlock(&s->lock);
	return open;
}

int st_spool_rescue_close(st_spool_t *sp)
{
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	if (sp->rescue) {
		st_spool_seg_t *seg = sp->rescue;

		rc = seg_seal(sp, seg);
		if (sp->rx_unsorted && rescue_sort(sp, seg) == 0)
			rc = fsync(sp->dirfd) < 0 ? -errno : rc;
		seg->rescue = 0;
		sp->rescue = NULL;
	}
	sp->rx_n = 0;
	sp->rx_unsorted = 0;
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

/* make rbuf hold the whole record starting at seg->read_off; 0, -ENODATA
 * (torn), or -errno */
static int rbuf_fill(st_spool_t *sp, st_spool_seg_t *seg, size_t need)
{
	uint64_t off = seg->read_off;
	size_t want;

	if (sp->rbuf_seg == seg && off >= sp->rbuf_off && off + need <= sp->rbuf_off + sp->rbuf_len)
		return 0;
	if (off + need > seg->size)
		return -ENODATA;
	want = need > RBUF_CHUNK ? need : RBUF_CHUNK;
	if (want > seg->size - off)
		want = (size_t)(seg->size - off);
	if (want > sp->rbuf_cap) {
		char *nb = realloc(sp->rbuf, want);

		if (!nb)
			return -ENOMEM;
		sp->rbuf = nb;
		sp->rbuf_cap = want;
	}
	if (seg->rfd < 0) {
		char name[32];

		seg_name(name, sizeof(name), seg->seq);
		seg->rfd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (seg->rfd < 0)
			return -errno;
	}
	sp->rbuf_seg = NULL;
	for (size_t got = 0; got < want;) {
		ssize_t n = pread(seg->rfd, sp->rbuf + got, want - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	sp->rbuf_seg = seg;
	sp->rbuf_off = off;
	sp->rbuf_len = want;
	return 0;
}

/* the rest of this segment cannot be read: count it and move past it */
static void seg_skip_corrupt(st_spool_t *sp, st_spool_seg_t *seg)
{
	uint64_t lost = seg->unread ? seg->unread : 1;

	ctr_add(&sp->corrupt, (int64_t)lost);
	ctr_add(&sp->lines, -(int64_t)seg->unread);
	seg->unread = 0;
	seg->read_off = seg->size;
	if (seg->rfd >= 0) {
		close(seg->rfd);
		seg->rfd = -1;
	}
	if (sp->rbuf_seg == seg)
		sp->rbuf_seg = NULL;
}

/* is [off, off + need) of seg in the read buffer already? */
static int rbuf_has(const st_spool_t *sp, const st_spool_seg_t *seg, uint64_t off, size_t need)
{
	return sp->rbuf_seg == seg && off >= sp->rbuf_off &&
	       off + need <= sp->rbuf_off + sp->rbuf_len;
}

/*
 * Read the next record (locked). With refill 0 only a record already in
 * the read buffer is read (-EAGAIN otherwise), so that records read before
 * it in the same batch keep pointing into valid memory.
 */
static int read_locked(st_spool_t *sp, st_spool_rec_t *rec, uint64_t *token, int refill)
{
	st_spool_seg_t *seg;
	int rc;

	for (;;) {
		const uint8_t *p;
		uint32_t len = 0, crc;
		st_spool_ent_t *e;

		for (seg = sp->segs; seg && seg->read_off >= seg->size; seg = seg->next)
			;
		if (!seg)
			return -ENODATA;
		if (!refill && !rbuf_has(sp, seg, seg->read_off, REC_PREFIX))
			return -EAGAIN;
		rc = rbuf_fill(sp, seg, REC_PREFIX);
		if (rc == 0) {
			p = (const uint8_t *)sp->rbuf + (seg->read_off - sp->rbuf_off);
			len = st_le32_load(p);
			if (len < REC_MIN_BODY || len > ST_SPOOL_MAX_RECORD)
				rc = -EBADMSG;
			else if (!refill && !rbuf_has(sp, seg, seg->read_off, REC_PREFIX + len))
				return -EAGAIN;
			else
				rc = rbuf_fill(sp, seg, REC_PREFIX + len);
		}
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0) {
			if (rc != -EBADMSG && rc != -ENODATA)
				ctr_add(&sp->io_errors, 1);
			seg_skip_corrupt(sp, seg);
			seg_maybe_drop(sp, seg);
			continue;
		}
		p = (const uint8_t *)sp->rbuf + (seg->read_off - sp->rbuf_off);
		crc = st_crc32c_update(0xffffffffu, p, 4);
		crc = st_crc32c_update(crc, p + REC_PREFIX, len) ^ 0xffffffffu;
		if (crc != st_le32_load(p + 4) || rec_decode(p + REC_PREFIX, len, rec) < 0) {
			seg_skip_corrupt(sp, seg);
			seg_maybe_drop(sp, seg);
			continue;
		}
		*token = sp->rtail++;
		e = &sp->ring[*token % RING_CAP];
		e->seg = seg;
		e->end_off = seg->read_off + REC_PREFIX + len;
		e->ts = rec->ts_ms;
		e->resolved = 0;
		seg->inring++;
		seg->unread--;
		seg->read_off = e->end_off;
		/* the next record's timestamp when it is at hand, else this
		 * one's (a little older: the age errs on the high side) */
		seg->unread_ts = rec->ts_ms;
		if (rbuf_has(sp, seg, seg->read_off, REC_PREFIX + 8))
			seg->unread_ts =
			        (int64_t)st_le64_load((const uint8_t *)sp->rbuf +
			                              (seg->read_off - sp->rbuf_off) + REC_PREFIX);
		return 0;
	}
}

int st_spool_read_batch(st_spool_t *sp, st_spool_rec_t *recs, uint64_t *tokens, unsigned max,
                        unsigned *n)
{
	int rc = 0;

	*n = 0;
	pthread_mutex_lock(&sp->lock);
	if (sp->rescue)
		rc = -EBUSY;
	while (rc == 0 && *n < max) {
		if (sp->rtail - sp->rhead >= RING_CAP) {
			rc = -ENOBUFS;
			break;
		}
		rc = read_locked(sp, &recs[*n], &tokens[*n], *n == 0);
		if (rc == 0)
			(*n)++;
	}
	pthread_mutex_unlock(&sp->lock);
	return *n ? 0 : rc == -EAGAIN ? -ENODATA : rc;
}

int st_spool_read(st_spool_t *sp, st_spool_rec_t *rec, uint64_t *token)
{
	unsigned n;

	return st_spool_read_batch(sp, rec, token, 1, &n);
}

void st_spool_resolve_many(st_spool_t *sp, const uint64_t *tokens, size_t n)
{
	pthread_mutex_lock(&sp->lock);
	for (size_t i = 0; i < n; i++) {
		st_spool_ent_t *e;

		if (tokens[i] < sp->rhead || tokens[i] >= sp->rtail)
			continue;
		e = &sp->ring[tokens[i] % RING_CAP];
		if (!e->resolved) {
			e->resolved = 1;
			ctr_add(&sp->lines, -1);
		}
	}
	while (sp->rhead < sp->rtail && sp->ring[sp->rhead % RING_CAP].resolved) {
		st_spool_ent_t *h = &sp->ring[sp->rhead % RING_CAP];
		st_spool_seg_t *seg = h->seg;

		sp->rhead++;
		if (h->end_off > seg->ack_off)
			seg->ack_off = h->end_off;
		seg->inring--;
		seg_maybe_drop(sp, seg);
	}
	pthread_mutex_unlock(&sp->lock);
}

void st_spool_resolve(st_spool_t *sp, uint64_t token)
{
	st_spool_resolve_many(sp, &token, 1);
}

int st_spool_disengage(st_spool_t *sp)
{
	st_spool_seg_t *seg;
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	if (sp->rescue) {
		rc = -EAGAIN;
		goto out;
	}
	for (seg = sp->segs; seg; seg = seg->next)
		if (seg->read_off < seg->size) {
			rc = -EAGAIN;
			goto out;
		}
	if (sp->tail) {
		seg = sp->tail;
		seg_seal(sp, seg);
		sp->tail = NULL;
		seg_maybe_drop(sp, seg);
	}
	atomic_store_explicit(&sp->engaged, 0, memory_order_release);
out:
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

uint64_t st_spool_outstanding(const st_spool_t *sp)
{
	st_spool_t *s = (st_spool_t *)sp;
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->rtail - s->rhead;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* write changed read/confirmed positions into segment headers (locked) */
static int mark_locked(st_spool_t *sp)
{
	int rc = 0;

	for (st_spool_seg_t *seg = sp->segs; seg; seg = seg->next) {
		uint8_t v[16];
		char name[32];
		int fd;

		if (seg->ack_off == seg->synced_ack && seg->read_off == seg->synced_read)
			continue;
		seg_name(name, sizeof(name), seg->seq);
		fd = openat(sp->dirfd, name, O_WRONLY | O_CLOEXEC);
		st_le64_store(v, seg->ack_off);
		st_le64_store(v + 8, seg->read_off);
		if (fd < 0 || pwrite(fd, v, 16, SEG_START_AT) != 16) {
			rc = -errno;
			ctr_add(&sp->io_errors, 1);
		} else {
			seg->synced_ack = seg->ack_off;
			seg->synced_read = seg->read_off;
		}
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

int st_spool_mark(st_spool_t *sp)
{
	int rc;

	pthread_mutex_lock(&sp->lock);
	rc = mark_locked(sp);
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int st_spool_sync(st_spool_t *sp)
{
	int fds[64], nfd = 0, dirsync = 0, rc = 0;

	/* collect what needs an fdatasync under the lock, sync it outside */
	pthread_mutex_lock(&sp->lock);
	for (st_spool_seg_t *seg = sp->segs; seg && nfd < 64; seg = seg->next) {
		if (seg->sfd >= 0) {
			fds[nfd++] = seg->sfd; /* ours now */
			seg->sfd = -1;
			dirsync = 1;
		}
		if (nfd < 64 && seg->wfd >= 0 && seg->dirty) {
			seg->dirty = 0;
			if (sp->fsync != ST_SPOOL_FSYNC_OFF && (fds[nfd] = dup(seg->wfd)) >= 0)
				nfd++;
			dirsync = 1;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	for (int i = 0; i < nfd; i++) {
		if (sp->fsync != ST_SPOOL_FSYNC_OFF && data_sync(sp, fds[i]) < 0)
			rc = -EIO;
		close(fds[i]);
	}
	if (dirsync && sp->fsync != ST_SPOOL_FSYNC_OFF)
		fsync(sp->dirfd);
	/* only now, with every rescued record on disk (unless fsync is off),
	 * may a segment's header say that the records before ack_off need
	 * not be re-sent */
	pthread_mutex_lock(&sp->lock);
	if (mark_locked(sp) < 0)
		rc = -EIO;
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int64_t st_spool_oldest_ts(const st_spool_t *sp)
{
	st_spool_t *s = (st_spool_t *)sp;
	int64_t ts = 0;

	pthread_mutex_lock(&s->lock);
	if (s->rhead < s->rtail)
		ts = s->ring[s->rhead % RING_CAP].ts;
	for (st_spool_seg_t *seg = s->segs; seg; seg = seg->next)
		if (seg->unread && seg->unread_ts > 0 && (ts == 0 || seg->unread_ts < ts))
			ts = seg->unread_ts;
	pthread_mutex_unlock(&s->lock);
	return ts;
}

void st_spool_stats(const st_spool_t *sp, st_spool_stats_t *stats)
{
	st_spool_t *s = (st_spool_t *)sp;

	stats->lines = atomic_load_explicit(&s->lines, memory_order_relaxed);
	stats->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	stats->segments = atomic_load_explicit(&s->segments, memory_order_relaxed);
	stats->appended = atomic_load_explicit(&s->appended, memory_order_relaxed);
	stats->evicted = atomic_load_explicit(&s->evicted, memory_order_relaxed);
	stats->corrupt = atomic_load_explicit(&s->corrupt, memory_order_relaxed);
	stats->io_errors = atomic_load_explicit(&s->io_errors, memory_order_relaxed);
	stats->full = atomic_load_explicit(&s->full, memory_order_relaxed);
	stats->syncs = atomic_load_explicit(&s->syncs, memory_order_relaxed);
	stats->recovered = s->recovered;
	stats->recovered_read = s->recovered_read;
}

/* ---- opening an existing spool -------------------------------------------- */

/*
 * Check one segment left by an earlier run: read its header, count the
 * records after its resolved prefix, and cut off a torn or corrupt end.
 */
static int seg_load(st_spool_t *sp, uint64_t seq)
{
	char name[32];
	uint8_t hdr[SEG_HDR_LEN];
	st_spool_seg_t *seg;
	struct stat st;
	uint64_t off, start, rmark, unread = 0, unread_read = 0;
	int64_t first_ts = 0;
	uint8_t *body = NULL;
	size_t body_cap = 0;
	int fd, rc = 0;

	seg_name(name, sizeof(name), seq);
	fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < SEG_HDR_LEN) {
		/* a crash between creating a segment and writing its header
		 * (seg_create()): it never held a record */
		close(fd);
		if (unlinkat(sp->dirfd, name, 0) < 0)
			ctr_add(&sp->io_errors, 1);
		return 0;
	}
	if (!sp->seen_lo || seq < sp->seen_lo)
		sp->seen_lo = seq;
	if (seq > sp->seen_hi)
		sp->seen_hi = seq;
	if (fstat(fd, &st) < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, SEG_MAGIC, 8) != 0 || st_le32_load(hdr + 8) != SEG_VERSION ||
	    st_le32_load(hdr + 12) != SEG_HDR_LEN) {
		/* not a segment we can read: leave it for the operator */
		close(fd);
		ctr_add(&sp->corrupt, 1);
		return 0;
	}
	start = st_le64_load(hdr + SEG_START_AT);
	if (start < SEG_HDR_LEN || start > (uint64_t)st.st_size)
		start = SEG_HDR_LEN;             /* a damaged cursor: re-send rather than lose */
	rmark = st_le64_load(hdr + SEG_READ_AT); /* 0 in older spools */
	off = start;
	while (off < (uint64_t)st.st_size) {
		uint8_t pre[REC_PREFIX];
		uint32_t len, crc;

		if ((uint64_t)st.st_size - off < REC_PREFIX ||
		    pread(fd, pre, sizeof(pre), (off_t)off) != (ssize_t)sizeof(pre))
			break;
		len = st_le32_load(pre);
		if (len < REC_MIN_BODY || len > ST_SPOOL_MAX_RECORD ||
		    off + REC_PREFIX + len > (uint64_t)st.st_size)
			break;
		if (len > body_cap) {
			uint8_t *nb = realloc(body, len);

			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			body = nb;
			body_cap = len;
		}
		if (pread(fd, body, len, (off_t)(off + REC_PREFIX)) != (ssize_t)len)
			break;
		crc = st_crc32c_update(0xffffffffu, pre, 4);
		crc = st_crc32c_update(crc, body, len) ^ 0xffffffffu;
		if (crc != st_le32_load(pre + 4))
			break;
		if (unread == 0)
			first_ts = (int64_t)st_le64_load(body);
		if (off < rmark)
			unread_read++;
		off += REC_PREFIX + len;
		unread++;
	}
	if (off < (uint64_t)st.st_size) {
		/* a record torn by a crash, or damage: what follows cannot be
		 * framed again, so it is cut off and counted */
		ctr_add(&sp->corrupt, 1);
		if (ftruncate(fd, (off_t)off) < 0)
			ctr_add(&sp->io_errors, 1);
	}
	seg = calloc(1, sizeof(*seg));
	if (!seg) {
		rc = -ENOMEM;
		goto out;
	}
	seg->seq = seq;
	seg->wfd = -1;
	seg->rfd = -1;
	seg->sfd = -1;
	seg->size = off;
	seg->read_off = seg->ack_off = seg->synced_ack = seg->synced_read = start;
	seg->unread = unread;
	seg->unread_ts = first_ts;
	seg_insert(sp, seg);
	ctr_add(&sp->lines, (int64_t)unread);
	sp->recovered += unread;
	sp->recovered_read += unread_read;
	seg_maybe_drop(sp, seg);
out:
	free(body);
	close(fd);
	return rc;
}

static int scan_dir(st_spool_t *sp, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	int dfd = dup(sp->dirfd);
	int rc = 0;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		char *end;

		if (strlen(de->d_name) == 24 && !strcmp(de->d_name + 16, ".seg.tmp")) {
			/* a rescue sort cut short: the segment itself is intact */
			unlinkat(sp->dirfd, de->d_name, 0);
			continue;
		}
		if (strlen(de->d_name) != 20 || strcmp(de->d_name + 16, ".seg") != 0)
			continue;
		errno = 0;
		seq = strtoull(de->d_name, &end, 16);
		if (errno || end != de->d_name + 16 || seq == 0)
			continue;
		rc = seg_load(sp, seq);
		if (rc < 0) {
			snprintf(err, errlen, "spool '%s': segment %s: %s", sp->dir, de->d_name,
			         strerror(-rc));
			break;
		}
	}
	closedir(d);
	return rc;
}

int st_spool_open(const char *dir, uint64_t max_bytes, uint64_t seg_bytes, st_spool_t **out,
                  char *err, size_t errlen)
{
	st_spool_t *sp;
	int rc;

	*out = NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->dirfd = sp->lockfd = -1;
	pthread_mutex_init(&sp->lock, NULL);
	sp->max_bytes = max_bytes;
	sp->seg_bytes = seg_bytes < 4096 ? 4096 : seg_bytes;
	sp->fsync = ST_SPOOL_FSYNC_INTERVAL;
	sp->evict = 1;
	sp->dir = strdup(dir);
	sp->ring = calloc(RING_CAP, sizeof(*sp->ring));
	if (!sp->dir || !sp->ring) {
		rc = -ENOMEM;
		snprintf(err, errlen, "spool '%s': out of memory", dir);
		goto fail;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "spool '%s': %s", dir, strerror(errno));
		goto fail;
	}
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "spool '%s': %s", dir, strerror(errno));
		goto fail;
	}
	sp->lockfd = openat(sp->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp->lockfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "spool '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen,
			         "spool '%s': in use by another Kafka output or process", dir);
		else
			snprintf(err, errlen, "spool '%s': lock: %s", dir, strerror(errno));
		goto fail;
	}
	rc = scan_dir(sp, err, errlen);
	if (rc < 0)
		goto fail;
	sp->next_seq = SEQ_FIRST;
	sp->low_seq = SEQ_FIRST;
	/* every segment file found, also one that could not be loaded and
	 * stays for the operator: its name is taken */
	if (sp->seen_lo && sp->seen_lo < sp->low_seq)
		sp->low_seq = sp->seen_lo;
	if (sp->seen_hi >= sp->next_seq)
		sp->next_seq = sp->seen_hi + 1;
	/* a smaller limit than last time: evict now rather than on the
	 * first append */
	make_room(sp, 0);
	if (atomic_load_explicit(&sp->lines, memory_order_relaxed) > 0)
		atomic_store_explicit(&sp->engaged, 1, memory_order_release);
	*out = sp;
	return 0;
fail:
	st_spool_close(sp);
	return rc;
}

void st_spool_close(st_spool_t *sp)
{
	if (!sp)
		return;
	if (sp->dirfd >= 0) {
		st_spool_sync(sp);
		pthread_mutex_lock(&sp->lock);
		while (sp->segs) {
			st_spool_seg_t *seg = sp->segs;

			sp->segs = seg->next;
			if (seg->wfd >= 0)
				close(seg->wfd);
			if (seg->rfd >= 0)
				close(seg->rfd);
			if (seg->sfd >= 0)
				close(seg->sfd);
			free(seg);
		}
		pthread_mutex_unlock(&sp->lock);
		fsync(sp->dirfd);
		close(sp->dirfd);
	}
	if (sp->lockfd >= 0)
		close(sp->lockfd); /* releases the flock */
	pthread_mutex_destroy(&sp->lock);
	free(sp->ring);
	free(sp->rx);
	free(sp->rbuf);
	free(sp->dir);
	free(sp);
}
