/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmt_priv.h - number and OID text formatting shared by ber.c and json.c.
 *
 * snprintf parses its format string and takes a locale lock on every call;
 * on the JSON hot path that costs more than the rest of a varbind together.
 * These helpers write decimal digits two at a time from a 200-byte table,
 * which is what every fast integer printer does. Not part of the public API.
 */
#ifndef ST_FMT_PRIV_H
#define ST_FMT_PRIV_H

#include <stdint.h>
#include <string.h>

static const char st_fmt_digits2[200] = "0001020304050607080910111213141516171819"
                                        "2021222324252627282930313233343536373839"
                                        "4041424344454647484950515253545556575859"
                                        "6061626364656667686970717273747576777879"
                                        "8081828384858687888990919293949596979899";

/* Number of decimal digits of v. */
static inline size_t st_fmt_ndigits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * Write v in decimal at out (no NUL); at most 20 characters. The digits go
 * straight to their place, right to left, two per step; values below 100,
 * which are most OID arcs, ports and small integers, take one branch.
 */
static inline size_t st_fmt_u64(char *out, uint64_t v)
{
	size_t n;
	char *p;

	if (v < 10) {
		out[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(out, st_fmt_digits2 + 2 * v, 2);
		return 2;
	}
	n = st_fmt_ndigits(v);
	p = out + n;
	while (v > UINT32_MAX) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, st_fmt_digits2 + 2 * r, 2);
	}
	{
		/* 32-bit division by a constant is a cheaper multiply */
		uint32_t x = (uint32_t)v;

		while (x >= 100) {
			uint32_t r = x % 100;

			x /= 100;
			p -= 2;
			memcpy(p, st_fmt_digits2 + 2 * r, 2);
		}
		if (x >= 10) {
			p -= 2;
			memcpy(p, st_fmt_digits2 + 2 * x, 2);
		} else {
			*--p = (char)('0' + x);
		}
	}
	return n;
}

/* Write v in decimal at out (no NUL); at most 20 characters. */
static inline size_t st_fmt_i64(char *out, int64_t v)
{
	if (v < 0) {
		/* negate in unsigned arithmetic: -INT64_MIN overflows int64 */
		out[0] = '-';
		return 1 + st_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
	}
	return st_fmt_u64(out, (uint64_t)v);
}

/* Dotted-quad text of 4 octets at out (no NUL); at most 15 characters. */
static inline size_t st_fmt_ipv4(char *out, const uint8_t *a)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += st_fmt_u64(out + n, a[i]);
	}
	return n;
}

/*
 * Dotted-decimal text of OID content octets at out (no NUL). The text is at
 * most 4 * len characters, for any input: a sub-identifier of k octets is
 * below 2^(7k), so it has at most 3, 5, 7, 9, 11, ... digits for k = 1, 2, 3,
 * 4, 5, ... (20 at most, the value being kept in 64 bits), which with its
 * separating dot never exceeds 4k; the first sub-identifier becomes "X.Y",
 * whose extra "X." replaces the dot it does not have, so the 4k bound holds
 * for it too ("2.47" from the single octet 0x7f is the tightest case).
 * Callers reserve 4 * len bytes; validity (st_oid_check) is the caller's
 * business, this only guarantees never to write more than that.
 */
static inline size_t st_fmt_oid(char *out, const uint8_t *v, size_t len)
{
	size_t n = 0, i = 0;

	if (len == 0)
		return 0;
	/* first sub-identifier: X.Y */
	{
		uint64_t sub = 0;
		unsigned x;

		do
			sub = (sub << 7) | (v[i] & 0x7f);
		while ((v[i++] & 0x80) && i < len);
		x = sub < 40 ? 0 : sub < 80 ? 1 : 2;
		out[n++] = (char)('0' + x);
		out[n++] = '.';
		n += st_fmt_u64(out + n, sub - 40u * x);
	}
	while (i < len) {
		out[n++] = '.';
		if (v[i] < 0x80) {
			/* single-octet arc (0..127), by far the most common */
			unsigned a = v[i++];

			if (a < 10) {
				out[n++] = (char)('0' + a);
			} else if (a < 100) {
				memcpy(out + n, st_fmt_digits2 + 2 * a, 2);
				n += 2;
			} else {
				out[n] = '1';
				memcpy(out + n + 1, st_fmt_digits2 + 2 * (a - 100), 2);
				n += 3;
			}
		} else {
			uint64_t sub = 0;

			do
				sub = (sub << 7) | (v[i] & 0x7f);
			while ((v[i++] & 0x80) && i < len);
			n += st_fmt_u64(out + n, sub);
		}
	}
	return n;
}

#endif /* ST_FMT_PRIV_H */
