/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bucket.c - the token bucket that limits SNMPv3 Reports: a burst of
 * one second, refill at the rate, and a clock that steps back does not
 * stop it.
 */
#include <criterion/criterion.h>

#include "bucket.h"

#define T0 1767225600000000LL /* 2026-01-01, microseconds */

/* tokens taken from b at now_us, trying n times */
static int take_n(st_bucket_t *b, uint32_t rate, int64_t now_us, int n)
{
	int got = 0;

	for (int i = 0; i < n; i++)
		got += st_bucket_take(b, rate, now_us);
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
