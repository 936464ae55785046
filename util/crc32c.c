/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82f63b78).
 *
 * On x86-64 with SSE 4.2 the crc32 instruction does 8 bytes per step; the
 * CPU check reads what the compiler's runtime filled in before main(), so no
 * state of ours is written after start-up and any thread may call this. The
 * portable path is one table lookup per byte, the table built once.
 */
#include <pthread.h>
#include <string.h>

#include "st_util.h"

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	crc = (uint32_t)c;
	while (n--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

uint32_t st_crc32c_update(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc_hw(crc, p, n);
#endif
	return st_crc32c_update_sw(crc, p, n);
}

uint32_t st_crc32c_update_sw(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_init);
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}
