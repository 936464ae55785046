/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ber.c - bounds-checked BER reader and backwards writer.
 *
 * Reader. SNMP uses a small, flat subset of BER (X.690): single-octet tags,
 * definite lengths, primitive INTEGERs, OCTET STRINGs, NULLs and OBJECT
 * IDENTIFIERs inside a few fixed levels of SEQUENCE. A cursor (st_ber_t) is
 * a [p, end) window; every read checks that the whole TLV lies inside the
 * window before touching it and advances p only on success, so a decoder
 * built from these calls cannot read out of bounds whatever the input.
 * Constructed values are "entered" by narrowing a second cursor to their
 * content; there is no recursion anywhere.
 *
 * Leniency is deliberate and limited: long-form lengths that could have been
 * shorter (0x81 0x05) are accepted because deployed agents emit them;
 * lengths of more than four octets, the indefinite form and integers longer
 * than 64 bits are refused.
 *
 * Writer. Encoding backwards from the end of the buffer means a constructed
 * TLV's content is complete when its header is written, so lengths are
 * always minimal and nothing is moved or measured twice: write the content,
 * remember st_berw_len() before it, then st_berw_wrap() the tag. The first
 * failure (no room) is sticky and reported by st_berw_finish(), so encoders
 * check once at the end instead of after every call.
 */
#include <limits.h>
#include <string.h>

#include "ber_priv.h"
#include "fmt_priv.h"
#include "st_codec.h"

/* ------------------------------------------------------------------ */
/* Reader                                                             */
/* ------------------------------------------------------------------ */

int st_ber_read_len(st_ber_t *ber, size_t *len)
{
	return st_ber_len_inline(ber, len);
}

int st_ber_read_tlv(st_ber_t *ber, uint8_t *tag, const uint8_t **val, size_t *len)
{
	return st_ber_tlv_inline(ber, tag, val, len);
}

int st_ber_enter(st_ber_t *ber, uint8_t tag, st_ber_t *inner)
{
	const uint8_t *val;
	size_t len;
	int rc = st_ber_expect_inline(ber, tag, &val, &len);

	if (rc)
		return rc;
	inner->p = val;
	inner->end = val + len;
	return 0;
}

int st_ber_read_int(st_ber_t *ber, uint8_t tag, int64_t *v)
{
	st_ber_t c = *ber;
	const uint8_t *val;
	size_t len;
	int rc = st_ber_expect_inline(&c, tag, &val, &len);

	if (rc == 0)
		rc = st_ber_int_content(val, len, v);
	if (rc == 0)
		*ber = c;
	return rc;
}

int st_ber_read_uint(st_ber_t *ber, uint8_t tag, unsigned bits, uint64_t *v)
{
	st_ber_t c = *ber;
	const uint8_t *val;
	size_t len;
	int rc;

	if (bits != 32 && bits != 64)
		return ST_ERR_BER_INT;
	rc = st_ber_expect_inline(&c, tag, &val, &len);
	if (rc == 0)
		rc = st_ber_uint_content(val, len, bits, v);
	if (rc == 0)
		*ber = c;
	return rc;
}

int st_ber_read_octets(st_ber_t *ber, uint8_t tag, const uint8_t **val, size_t *len)
{
	return st_ber_expect_inline(ber, tag, val, len);
}

int st_ber_read_oid(st_ber_t *ber, const uint8_t **val, size_t *len)
{
	st_ber_t c = *ber;
	const uint8_t *v;
	size_t l;
	int rc = st_ber_expect_inline(&c, ST_BER_OID, &v, &l);

	if (rc == 0)
		rc = st_oid_check_inline(v, l);
	if (rc == 0) {
		*ber = c;
		*val = v;
		*len = l;
	}
	return rc;
}

int st_oid_check(const uint8_t *val, size_t len)
{
	return st_oid_check_inline(val, len);
}

int st_oid_format(const uint8_t *val, size_t len, char *out, size_t cap)
{
	/* 4 * len is the proven worst case of st_fmt_oid(); for a valid OID it
	 * is also below ST_OID_STR_MAX, so a stack buffer of that size avoids
	 * asking every caller for 4 * len bytes. */
	char tmp[4 * ST_BER_OID_MAX_OCTETS];
	size_t n;

	if (st_oid_check_inline(val, len))
		return ST_ERR_BER_OID;
	n = st_fmt_oid(tmp, val, len);
	if (n + 1 > cap)
		return ST_ERR_BER_SPACE;
	memcpy(out, tmp, n);
	out[n] = '\0';
	return (int)n;
}

/* Number of base-128 octets needed for a sub-identifier. */
static size_t oid_subid_octets(uint32_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void oid_put_subid(uint8_t *out, uint32_t v, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		out[i] = (uint8_t)((v & 0x7f) | (i == n - 1 ? 0 : 0x80));
		v >>= 7;
	}
}

/*
 * Dotted decimal to content octets. Accepts an optional leading dot (the
 * Net-SNMP spelling ".1.3.6.1"), requires at least two arcs (BER cannot
 * encode fewer), the first arc 0..2, the second below 40 unless the first
 * is 2, every arc (and the combined first sub-identifier) at most 2^32-1,
 * and at most ST_OID_MAX_SUBIDS arcs.
 */
int st_oid_parse(const char *str, uint8_t *out, size_t cap)
{
	const char *s = str;
	uint64_t first = 0;
	size_t n = 0;
	unsigned arcs = 0;

	if (*s == '.')
		s++;
	for (;;) {
		uint64_t v = 0;
		const char *d = s;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > UINT32_MAX)
				return ST_ERR_BER_OID;
			s++;
		}
		if (s == d)
			return ST_ERR_BER_OID; /* empty arc or stray character */
		if (*s != '.' && *s != '\0')
			return ST_ERR_BER_OID;
		if (++arcs > ST_OID_MAX_SUBIDS)
			return ST_ERR_BER_OID;
		if (arcs == 1) {
			if (v > 2)
				return ST_ERR_BER_OID;
			first = v;
		} else {
			uint64_t sub = v;

			if (arcs == 2) {
				if (first < 2 && v >= 40)
					return ST_ERR_BER_OID;
				sub = first * 40 + v;
				if (sub > UINT32_MAX)
					return ST_ERR_BER_OID;
			}
			size_t k = oid_subid_octets((uint32_t)sub);

			if (n + k > cap)
				return ST_ERR_BER_SPACE;
			oid_put_subid(out + n, (uint32_t)sub, k);
			n += k;
		}
		if (*s == '\0')
			break;
		s++;
	}
	if (arcs < 2)
		return ST_ERR_BER_OID;
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Writer                                                             */
/* ------------------------------------------------------------------ */

void st_berw_init(st_berw_t *w, void *buf, size_t cap)
{
	w->start = buf;
	w->end = (uint8_t *)buf + cap;
	w->p = w->end;
	w->err = 0;
}

void st_berw_raw(st_berw_t *w, const void *data, size_t len)
{
	if (w->err)
		return;
	if (len > (size_t)(w->p - w->start)) {
		w->err = ST_ERR_BER_SPACE;
		return;
	}
	w->p -= len;
	if (len)
		memcpy(w->p, data, len);
}

/* Prepend tag and minimal length for a content of clen bytes. */
static void berw_header(st_berw_t *w, uint8_t tag, size_t clen)
{
	uint8_t h[6];
	size_t n = 0;

	if (clen > UINT32_MAX) {
		if (!w->err)
			w->err = ST_ERR_BER_SPACE;
		return;
	}
	h[n++] = tag;
	if (clen < 0x80) {
		h[n++] = (uint8_t)clen;
	} else {
		size_t k = clen > 0xffffff ? 4 : clen > 0xffff ? 3 : clen > 0xff ? 2 : 1;

		h[n++] = (uint8_t)(0x80 | k);
		for (size_t i = k; i-- > 0;)
			h[n++] = (uint8_t)(clen >> (8 * i));
	}
	st_berw_raw(w, h, n);
}

void st_berw_wrap(st_berw_t *w, uint8_t tag, size_t mark)
{
	if (w->err)
		return;
	berw_header(w, tag, st_berw_len(w) - mark);
}

void st_berw_int(st_berw_t *w, uint8_t tag, int64_t v)
{
	uint8_t b[8];
	size_t n = 8;

	/* Shortest two's complement: drop a leading octet while the value
	 * still fits in one octet less. */
	while (n > 1) {
		int64_t lim = (int64_t)1 << (8 * (n - 1) - 1);

		if (v < -lim || v >= lim)
			break;
		n--;
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * (n - 1 - i)));
	st_berw_raw(w, b, n);
	berw_header(w, tag, n);
}

void st_berw_uint(st_berw_t *w, uint8_t tag, uint64_t v)
{
	uint8_t b[9];
	size_t n = 1;

	while (n < 8 && (v >> (8 * n)) != 0)
		n++;
	/* A set top bit would read back as negative: prefix a zero octet. */
	b[0] = 0;
	for (size_t i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	if (b[1] & 0x80) {
		st_berw_raw(w, b, n + 1);
		berw_header(w, tag, n + 1);
	} else {
		st_berw_raw(w, b + 1, n);
		berw_header(w, tag, n);
	}
}

void st_berw_octets(st_berw_t *w, uint8_t tag, const void *val, size_t len)
{
	st_berw_raw(w, val, len);
	berw_header(w, tag, len);
}

void st_berw_null(st_berw_t *w, uint8_t tag)
{
	berw_header(w, tag, 0);
}

void st_berw_oid(st_berw_t *w, const uint8_t *val, size_t len)
{
	st_berw_raw(w, val, len);
	berw_header(w, ST_BER_OID, len);
}

int st_berw_finish(const st_berw_t *w, const uint8_t **out)
{
	size_t len = st_berw_len(w);

	if (w->err)
		return w->err;
	if (len > INT_MAX)
		return ST_ERR_BER_SPACE;
	if (out)
		*out = w->p;
	return (int)len;
}
