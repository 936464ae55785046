/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ring.c - the SPSC byte ring: records come out as they went in, in
 * order, across the wrap, and a full ring refuses rather than overwrites.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "ring.h"

typedef struct rec {
	st_ring_hdr_t hdr;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
} rec_t;

static size_t put(st_ring_t *r, uint32_t seq, uint32_t len)
{
	rec_t *rec = st_ring_reserve(r, sizeof(*rec) + len);

	if (!rec)
		return 0;
	rec->seq = seq;
	rec->len = len;
	for (uint32_t i = 0; i < len; i++)
		rec->data[i] = (uint8_t)(seq + i);
	st_ring_commit(r, rec, sizeof(*rec) + len);
	return 1;
}

static void check(const rec_t *rec, uint32_t seq)
{
	cr_assert_eq(rec->seq, seq);
	for (uint32_t i = 0; i < rec->len; i++)
		cr_assert_eq(rec->data[i], (uint8_t)(seq + i), "seq %u byte %u", seq, i);
}

Test(ring, nothing_visible_before_publish)
{
	st_ring_t r;

	cr_assert_eq(st_ring_init(&r, 4096), 0);
	cr_assert(put(&r, 1, 10));
	cr_assert_null(st_ring_peek(&r));
	cr_assert(st_ring_publish(&r));
	cr_assert_not_null(st_ring_peek(&r));
	st_ring_destroy(&r);
}

Test(ring, full_ring_refuses_and_wraps_after_release)
{
	st_ring_t r;
	uint32_t in = 0, out = 0;

	cr_assert_eq(st_ring_init(&r, 4096), 0);
	while (put(&r, in, 100))
		in++;
	cr_assert_gt(in, 10);
	cr_assert_lt(in, 4096 / 100 + 1);
	st_ring_publish(&r);
	/* take half, give the space back, fill again: records now wrap */
	for (int i = 0; i < 10; i++) {
		const rec_t *rec = st_ring_peek(&r);

		cr_assert_not_null(rec);
		check(rec, out++);
		st_ring_consume(&r, rec);
	}
	st_ring_release(&r);
	while (put(&r, in, 100))
		in++;
	st_ring_publish(&r);
	for (const rec_t *rec; (rec = st_ring_peek(&r));) {
		check(rec, out++);
		st_ring_consume(&r, rec);
	}
	cr_assert_eq(out, in);
	st_ring_destroy(&r);
}

Test(ring, refuses_records_larger_than_half)
{
	st_ring_t r;

	cr_assert_eq(st_ring_init(&r, 4096), 0);
	cr_assert_null(st_ring_reserve(&r, 4096 / 2 + 8));
	st_ring_destroy(&r);
}

#define N_RECORDS 2000000u

static void *producer(void *arg)
{
	st_ring_t *r = arg;

	for (uint32_t seq = 0; seq < N_RECORDS;) {
		if (put(r, seq, (seq * 7919u) % 300u)) {
			seq++;
			if (seq % 16 == 0)
				st_ring_publish(r);
		} else {
			st_ring_publish(r);
			sched_yield();
		}
	}
	st_ring_publish(r);
	return NULL;
}

Test(ring, two_threads_keep_every_record_in_order, .timeout = 120)
{
	st_ring_t r;
	pthread_t t;
	uint32_t out = 0;

	cr_assert_eq(st_ring_init(&r, 64 * 1024), 0);
	pthread_create(&t, NULL, producer, &r);
	while (out < N_RECORDS) {
		const rec_t *rec = st_ring_peek(&r);

		if (!rec) {
			st_ring_release(&r);
			sched_yield();
			continue;
		}
		cr_assert_eq(rec->len, (out * 7919u) % 300u);
		check(rec, out++);
		st_ring_consume(&r, rec);
		if (out % 32 == 0)
			st_ring_release(&r);
	}
	st_ring_release(&r);
	pthread_join(t, NULL);
	cr_assert_null(st_ring_peek(&r));
	st_ring_destroy(&r);
}
