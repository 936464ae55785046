/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counter.c - summing per-thread counters (see st_util.h). The read side runs
 * on the metrics or reporting thread, never on the per-packet path.
 */
#include "st_util.h"

uint64_t st_counter_sum(const st_counter_t *first, size_t n, size_t stride)
{
	const char *p = (const char *)first;
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++, p += stride)
		sum += st_counter_get((const st_counter_t *)p);
	return sum;
}
