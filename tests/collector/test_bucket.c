/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bucket.c - the token bucket that limits SNMPv3 Reports: a burst of
 * one second, refill at the rate, a clock that steps back does not stop
 * it, and buckets that share a rate smaller than their number stay within
 * it in all.
 */
#include <criterion/criterion.h>

#include "bucket.h"

#define T0 1767225600000000LL /* 2026-01-01, microseconds */

/* tokens taken from b at now_us, trying n times */
static int take_n(st_bucket_t *b, uint32_t rate, int64_t now_us, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++)
		got += st_bucket_take(b, rate, 1, now_us);
	return got;
}

Test(bucket, starts_full_then_refills_at_the_rate)
{
	st_bucket_t b = {0};

	cr_assert_eq(take_n(&b, 10, T0, 20), 10);
	cr_assert_eq(take_n(&b, 10, T0 + 100000, 20), 1); /* 0.1 s at 10/s */
	cr_assert_eq(take_n(&b, 10, T0 + 5000000, 20), 10, "holds one second, not five");
}

Test(bucket, zero_rate_refuses)
{
	st_bucket_t b = {0};

	cr_assert_eq(take_n(&b, 0, T0, 5), 0);
}

Test(bucket, clock_stepping_back_keeps_refilling)
{
	st_bucket_t b = {0};

	cr_assert_eq(take_n(&b, 10, T0, 20), 10);
	/* the clock steps back an hour: nothing refilled, nothing owed */
	cr_assert_eq(take_n(&b, 10, T0 - 3600000000LL, 20), 0);
	/* one second later (on the new clock) the bucket is full again */
	cr_assert_eq(take_n(&b, 10, T0 - 3600000000LL + 1000000, 20), 10);
}

/* four workers share snmp.reports.rate 1: 1 Report a second in all, not 4 */
Test(bucket, a_share_of_a_small_rate_stays_within_it)
{
	st_bucket_t b[4] = {{0}};
	int got = 0;

	for (int64_t t = 0; t <= 40; t++)
		for (int i = 0; i < 4; i++) {
			int64_t now = T0 + t * 1000000;

			got += st_bucket_take(&b[i], 1, 4, now) + st_bucket_take(&b[i], 1, 4, now);
		}
	/* 40 s at 1/s, and the first token of each bucket */
	cr_assert_eq(got, 40 / 4 * 4 + 4, "got %d", got);
}

Test(bucket, a_long_gap_fills_a_shared_bucket_at_once)
{
	st_bucket_t b = {0};

	cr_assert_eq(st_bucket_take(&b, 1, 4, T0), 1);
	cr_assert_eq(st_bucket_take(&b, 1, 4, T0 + 1000000), 0, "a quarter of a token");
	cr_assert_eq(st_bucket_take(&b, 1, 4, T0 + 3600000000LL), 1, "a whole one an hour on");
	cr_assert_eq(st_bucket_take(&b, 1, 4, T0 + 3600000000LL), 0, "and only one");
}
