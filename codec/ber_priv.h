/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ber_priv.h - inline BER primitives shared by ber.c and snmp.c.
 *
 * The exported st_ber_* readers in ber.c are thin wrappers around these.
 * snmp.c calls the inline versions directly: a typical trap needs some
 * thirty TLV reads, and keeping them inline lets the compiler fold the
 * cursor updates and tag checks into the message decoder instead of paying
 * a call and a spill for each. Not part of the public API.
 */
#ifndef ST_BER_PRIV_H
#define ST_BER_PRIV_H

#include <string.h>

#include "st_codec.h"

/* The longest OID content we accept: 128 sub-identifiers of at most five
 * octets each (a sub-identifier <= 2^32-1 needs at most 5 base-128 digits). */
#define ST_BER_OID_MAX_OCTETS (ST_OID_MAX_SUBIDS * 5)

static inline int st_ber_len_inline(st_ber_t *ber, size_t *len)
{
	const uint8_t *p = ber->p;
	size_t left = (size_t)(ber->end - p);
	size_t l;

	if (left == 0)
		return ST_ERR_BER_TRUNCATED;
	if (p[0] < 0x80) {
		l = p[0];
		p++;
	} else {
		/* 0x80 is the indefinite form, which SNMP forbids (RFC 3417
		 * section 8); 0xff is reserved by X.690; more than 4 length octets
		 * would describe a TLV larger than any UDP datagram. */
		size_t n = p[0] & 0x7f;

		if (n == 0 || n > 4)
			return ST_ERR_BER_LENGTH;
		if (left - 1 < n)
			return ST_ERR_BER_TRUNCATED;
		l = 0;
		for (size_t i = 1; i <= n; i++)
			l = (l << 8) | p[i];
		p += 1 + n;
	}
	if (l > (size_t)(ber->end - p))
		return ST_ERR_BER_TRUNCATED;
	ber->p = p;
	*len = l;
	return 0;
}

static inline int st_ber_tlv_inline(st_ber_t *ber, uint8_t *tag, const uint8_t **val, size_t *len)
{
	st_ber_t c;
	int rc;

	if (ber->p == ber->end)
		return ST_ERR_BER_TRUNCATED;
	/* High-tag-number form (low five bits all set): SNMP never uses it. */
	if ((ber->p[0] & 0x1f) == 0x1f)
		return ST_ERR_BER_TAG;
	c.p = ber->p + 1;
	c.end = ber->end;
	rc = st_ber_len_inline(&c, len);
	if (rc)
		return rc;
	*tag = ber->p[0];
	*val = c.p;
	ber->p = c.p + *len;
	return 0;
}

/* Read a TLV whose tag must be @tag. The tag is checked before the length so
 * that garbage is reported as a tag error rather than a length error. */
static inline int st_ber_expect_inline(st_ber_t *ber, uint8_t tag, const uint8_t **val, size_t *len)
{
	st_ber_t c;
	int rc;

	if (ber->p == ber->end)
		return ST_ERR_BER_TRUNCATED;
	if (ber->p[0] != tag)
		return ST_ERR_BER_TAG;
	c.p = ber->p + 1;
	c.end = ber->end;
	rc = st_ber_len_inline(&c, len);
	if (rc)
		return rc;
	*val = c.p;
	ber->p = c.p + *len;
	return 0;
}

/* Two's complement content octets (1..8) to int64. */
static inline int st_ber_int_content(const uint8_t *v, size_t len, int64_t *out)
{
	int64_t x;

	if (len == 0 || len > 8)
		return ST_ERR_BER_INT;
	x = (int8_t)v[0];
	for (size_t i = 1; i < len; i++)
		x = x * 256 + v[i];
	*out = x;
	return 0;
}

/* Unsigned content octets: must not be negative (high bit of the first
 * octet clear) and must fit @bits; one extra leading 0x00 octet is allowed
 * so that values with the top bit set can be encoded. */
static inline int st_ber_uint_content(const uint8_t *v, size_t len, unsigned bits, uint64_t *out)
{
	uint64_t x = 0;

	if (len == 0 || len > bits / 8 + 1 || (v[0] & 0x80))
		return ST_ERR_BER_INT;
	if (len == bits / 8 + 1) {
		if (v[0] != 0)
			return ST_ERR_BER_INT;
		v++;
		len--;
	}
	for (size_t i = 0; i < len; i++)
		x = (x << 8) | v[i];
	*out = x;
	return 0;
}

/*
 * Validate OID content octets; see st_oid_check(). An octet with the high
 * bit clear ends a sub-identifier, so their count is the sub-identifier
 * count; the octets with the high bit set before it ("run") are its leading
 * base-128 digits. A sub-identifier of k octets carries 7k bits: it fits
 * 32 bits when k < 5, or when k == 5 and its first octet carries at most 4
 * value bits (<= 0x8f). A first octet of 0x80 would be a leading zero digit
 * (non-minimal). Most arcs are single octets, so eight octets without any
 * high bit are taken in one step.
 */
static inline int st_oid_check_inline(const uint8_t *v, size_t len)
{
	size_t i = 0, count = 0;
	unsigned run = 0;
	uint8_t first = 0;

	if (len == 0 || len > ST_BER_OID_MAX_OCTETS)
		return ST_ERR_BER_OID;
	while (i < len) {
		uint8_t c;

		if (run == 0 && len - i >= 8) {
			uint64_t x;

			memcpy(&x, v + i, 8);
			if ((x & 0x8080808080808080ull) == 0) {
				count += 8;
				i += 8;
				continue;
			}
		}
		c = v[i++];
		if (c < 0x80) {
			if (run == 4 && first > 0x8f)
				return ST_ERR_BER_OID;
			run = 0;
			count++;
			continue;
		}
		if (run == 0) {
			if (c == 0x80)
				return ST_ERR_BER_OID;
			first = c;
		}
		if (++run > 4)
			return ST_ERR_BER_OID;
	}
	/* the first sub-identifier encodes two arcs */
	if (run != 0 || count + 1 > ST_OID_MAX_SUBIDS)
		return ST_ERR_BER_OID;
	return 0;
}

#endif /* ST_BER_PRIV_H */
