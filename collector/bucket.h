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
 * Tokens are counted in millionths, so a rate of r per second refills r
 * millionths per microsecond with integers only. Nothing is locked: a
 * bucket belongs to one thread.
 */
#ifndef ST_BUCKET_H
#define ST_BUCKET_H

#include <stdint.h>

#define ST_BUCKET_TOKEN 1000000 /* one token, in millionths */

typedef struct st_bucket {
	uint64_t tokens; /* millionths of a token */
	int64_t last_us; /* time of the last refill; 0: never used (full) */
} st_bucket_t;

/**
 * @brief Take one token if there is one.
 *
 * The bucket refills at @p rate tokens per second and holds at most one
 * second of them (the burst). A bucket never used (last_us 0) starts full.
 * @param rate   tokens per second (0 refuses everything)
 * @param now_us the caller's clock, microseconds; it may go back
 * @return 1 when a token was taken, 0 when the bucket is empty.
 */
static inline int st_bucket_take(st_bucket_t *b, uint32_t rate, int64_t now_us)
{
	uint64_t cap = (uint64_t)rate * ST_BUCKET_TOKEN;
	int64_t dt = now_us - b->last_us;

	if (b->last_us == 0) {
		b->tokens = cap;
	} else if (dt > 0) {
		if (dt > 1000000)
			dt = 1000000; /* the bucket holds one second anyway */
		b->tokens += (uint64_t)dt * rate;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	b->last_us = now_us; /* also after a step back: refill from here */
	if (b->tokens < ST_BUCKET_TOKEN)
		return 0;
	b->tokens -= ST_BUCKET_TOKEN;
	return 1;
}

#endif /* ST_BUCKET_H */
