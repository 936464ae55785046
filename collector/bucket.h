/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bucket.h - a token bucket driven by the caller's clock.
 *
 * The workers limit the SNMPv3 Reports they send with these (worker.c).
 * The time is the receive time of the datagram, CLOCK_REALTIME, so it can
 * step: forward (at most one second of refill, the bucket's size) or back
 * (an NTP step, an operator setting the clock). A step back refills
 * nothing and the bucket goes on from the new time; were it to wait for
 * the clock to catch up with the last time it saw, it would refuse for as
 * long as the step.
 *
 * A bucket may hold a share of a rate: rate/share tokens per second, for a
 * rate spread over several threads (the workers share snmp.reports.rate).
 * Integers only: a token is ST_BUCKET_TOKEN * share units, and a rate of r
 * per second refills r units per microsecond, so no fraction is lost even
 * when the rate is smaller than the share. Nothing is locked: a bucket
 * belongs to one thread.
 */
#ifndef ST_BUCKET_H
#define ST_BUCKET_H

#include <stdint.h>

#define ST_BUCKET_TOKEN 1000000 /* one token at share 1, in units */

typedef struct st_bucket {
	uint64_t units;  /* ST_BUCKET_TOKEN * share per token */
	int64_t last_us; /* time of the last refill; 0: never used (full) */
} st_bucket_t;

/**
 * @brief Take one token if there is one.
 *
 * The bucket refills at @p rate / @p share tokens per second and holds one
 * second of them (the burst), or one token when that is less. A bucket
 * never used (last_us 0) starts full.
 * @param rate   tokens per second, before sharing (0 refuses everything)
 * @param share  how many buckets share the rate (1: this one alone)
 * @param now_us the caller's clock, microseconds; it may go back
 * @return 1 when a token was taken, 0 when the bucket is empty.
 */
static inline int st_bucket_take(st_bucket_t *b, uint32_t rate, uint32_t share, int64_t now_us)
{
	uint64_t cost = (uint64_t)ST_BUCKET_TOKEN * (share ? share : 1);
	uint64_t cap = (uint64_t)rate * ST_BUCKET_TOKEN;
	int64_t dt = now_us - b->last_us;

	if (rate == 0)
		return 0;
	if (cap < cost)
		cap = cost;
	if (b->last_us == 0) {
		b->units = cap;
	} else if (dt > 0) {
		if ((uint64_t)dt > cap / rate)
			dt = (int64_t)(cap / rate) + 1; /* enough to fill it */
		b->units += (uint64_t)dt * rate;
		if (b->units > cap)
			b->units = cap;
	}
	b->last_us = now_us; /* also after a step back: refill from here */
	if (b->units < cost)
		return 0;
	b->units -= cost;
	return 1;
}

#endif /* ST_BUCKET_H */
