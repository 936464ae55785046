/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex.c - octets to lowercase hex and back.
 *
 * Encoding is on the hot path (engine IDs, binary octet strings and raw
 * datagrams in JSON lines), so it is a table lookup per nibble with no NUL
 * and no bounds check: the caller has sized the room. Decoding is for
 * configuration (engine IDs, keys) and accepts either case and a "0x".
 */
#include <errno.h>
#include <string.h>

#include "st_util.h"

static const char hexdig[16] = "0123456789abcdef";

void st_hex_encode(char *out, const void *in, size_t n)
{
	const uint8_t *s = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[s[i] >> 4];
		out[2 * i + 1] = hexdig[s[i] & 0xf];
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int st_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	if (strlen(hex) % 2)
		return -EINVAL;
	for (; hex[0]; hex += 2) {
		int hi = hexval((unsigned char)hex[0]), lo = hexval((unsigned char)hex[1]);

		if (hi < 0 || lo < 0 || n == cap)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)n;
}
