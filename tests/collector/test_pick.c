/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pick.c - st_worker_pick(): the senders of one subnet, which differ
 * only in their last octets, are spread over the workers (a site whose
 * routers sit in one /24 must not load one worker with all of them), and
 * one sender always goes to the same worker (its order is kept).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "collector.h"

static unsigned pick(st_rt_t *rt, const char *addr)
{
	st_sa_t sa;

	memset(&sa, 0, sizeof(sa));
	if (strchr(addr, ':')) {
		sa.in6.sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, addr, &sa.in6.sin6_addr), 1);
	} else {
		sa.in.sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, addr, &sa.in.sin_addr), 1);
	}
	return st_worker_pick(rt, &sa);
}

static void spread(const char *fmt, unsigned nworkers)
{
	st_rt_t rt;
	unsigned count[8] = {0};
	char addr[64];

	memset(&rt, 0, sizeof(rt));
	rt.nworkers = nworkers;
	for (int i = 1; i < 255; i++) {
		unsigned w;

		snprintf(addr, sizeof(addr), fmt, i);
		w = pick(&rt, addr);
		cr_assert_lt(w, nworkers);
		cr_assert_eq(pick(&rt, addr), w, "%s: not the same worker twice", addr);
		count[w]++;
	}
	/* 254 senders: each worker gets at least half its fair share */
	for (unsigned w = 0; w < nworkers; w++)
		cr_assert_geq(count[w], 254 / nworkers / 2, "%s over %u workers: worker %u got %u",
		              fmt, nworkers, w, count[w]);
}

Test(pick, a_slash_24_is_spread_over_the_workers)
{
	static const char *const nets[] = {"127.0.0.%d", "10.1.1.%d", "192.168.7.%d",
	                                   "2001:db8::%x"};
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		for (unsigned n = 2; n <= 8; n *= 2)
			spread(nets[i], n);
}
