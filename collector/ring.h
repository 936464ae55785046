/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.h - bounded single-producer/single-consumer byte ring.
 *
 * One ring per (ingest thread, worker) pair carries variable-sized records
 * (a st_rec_t header and the datagram). Positions are free-running byte
 * counters; the index in the buffer is pos & mask. A record never wraps:
 * when it does not fit before the end of the buffer the producer writes a
 * zero-sized marker and continues at offset 0.
 *
 * Both sides batch: the producer reserves and commits many records, then
 * publishes them with one release store; the consumer reads a batch, then
 * releases the space with one release store. Each side keeps a cached copy
 * of the other's position, so the shared cache lines move only when a
 * side runs out of what it last saw.
 *
 * Threads: exactly one producer thread calls st_ring_reserve/commit/
 * publish, exactly one consumer thread calls st_ring_peek/consume/release.
 */
#ifndef ST_RING_H
#define ST_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define ST_RING_ALIGN 8

typedef struct st_ring {
	/* producer side */
	_Alignas(64) _Atomic size_t head; /* published end */
	size_t head_local;                /* committed, not yet published */
	size_t tail_cache;
	/* consumer side */
	_Alignas(64) _Atomic size_t tail; /* released start */
	size_t tail_local;
	size_t head_cache;
	/* shared, read-only after init */
	_Alignas(64) uint8_t *buf;
	size_t size; /* power of two */
	size_t mask;
} st_ring_t;

/* every record starts with its size (padded); 0 marks "wrap to 0" */
typedef struct st_ring_hdr {
	uint32_t size;
} st_ring_hdr_t;

int st_ring_init(st_ring_t *r, size_t size);
void st_ring_destroy(st_ring_t *r);

static inline size_t st_ring_pad(size_t n)
{
	return (n + ST_RING_ALIGN - 1) & ~(size_t)(ST_RING_ALIGN - 1);
}

/**
 * @brief Reserve @p n bytes for one record (producer).
 * @return where to write the record (its first 4 bytes are the size field,
 *         set by st_ring_commit), or NULL when the ring is full.
 */
static inline void *st_ring_reserve(st_ring_t *r, size_t n)
{
	size_t off, room;

	n = st_ring_pad(n);
	if (n > r->size / 2)
		return NULL;
	off = r->head_local & r->mask;
	room = r->size - off; /* bytes before the end */
	if (room < n) {
		/* need the tail end as padding, plus n at the start */
		if (r->head_local + room + n - r->tail_cache > r->size) {
			r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
			if (r->head_local + room + n - r->tail_cache > r->size)
				return NULL;
		}
		((st_ring_hdr_t *)(r->buf + off))->size = 0;
		r->head_local += room;
		off = 0;
	} else if (r->head_local + n - r->tail_cache > r->size) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (r->head_local + n - r->tail_cache > r->size)
			return NULL;
	}
	return r->buf + off;
}

/** @brief Commit the record at @p rec of @p n bytes (producer, unpublished). */
static inline void st_ring_commit(st_ring_t *r, void *rec, size_t n)
{
	n = st_ring_pad(n);
	((st_ring_hdr_t *)rec)->size = (uint32_t)n;
	r->head_local += n;
}

/** @brief Make committed records visible to the consumer. */
static inline int st_ring_publish(st_ring_t *r)
{
	if (atomic_load_explicit(&r->head, memory_order_relaxed) == r->head_local)
		return 0;
	atomic_store_explicit(&r->head, r->head_local, memory_order_release);
	return 1;
}

/** @brief Next record (consumer), or NULL when none is published. */
static inline const void *st_ring_peek(st_ring_t *r)
{
	for (;;) {
		const st_ring_hdr_t *h;

		if (r->tail_local == r->head_cache) {
			r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
			if (r->tail_local == r->head_cache)
				return NULL;
		}
		h = (const st_ring_hdr_t *)(r->buf + (r->tail_local & r->mask));
		if (h->size != 0)
			return h;
		r->tail_local += r->size - (r->tail_local & r->mask); /* wrap marker */
	}
}

/** @brief Done with the record returned by st_ring_peek (consumer). */
static inline void st_ring_consume(st_ring_t *r, const void *rec)
{
	r->tail_local += ((const st_ring_hdr_t *)rec)->size;
}

/** @brief Give consumed space back to the producer. */
static inline void st_ring_release(st_ring_t *r)
{
	atomic_store_explicit(&r->tail, r->tail_local, memory_order_release);
}

/** @brief Is anything published and unread? (consumer) */
static inline int st_ring_pending(st_ring_t *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) != r->tail_local;
}

#endif /* ST_RING_H */
