/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ber.c - the BER reader and writer: length forms, integers, OBJECT
 * IDENTIFIER limits, dotted-decimal conversion and writer round trips.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "st_codec.h"

/* ------------------------------------------------------------------ */
/* Lengths                                                            */
/* ------------------------------------------------------------------ */

static int read_len(const uint8_t *b, size_t n, size_t *len, size_t *used)
{
	st_ber_t ber;
	int rc;

	st_ber_init(&ber, b, n);
	rc = st_ber_read_len(&ber, len);
	*used = (size_t)(ber.p - b);
	return rc;
}

Test(ber, reads_short_and_long_lengths)
{
	/* 0x05, then five content bytes */
	static const uint8_t s[] = {0x05, 1, 2, 3, 4, 5};
	/* 0x81 0x05: long form with a non-minimal single octet (5), as some
	 * agents send; then five content bytes */
	static const uint8_t l1[] = {0x81, 0x05, 1, 2, 3, 4, 5};
	/* 0x84 0x00 0x00 0x00 0x03: four length octets, value 3 */
	static const uint8_t l4[] = {0x84, 0x00, 0x00, 0x00, 0x03, 7, 8, 9};
	/* 0x82 0x01 0x00: 256 */
	uint8_t big[3 + 256] = {0x82, 0x01, 0x00};
	size_t len, used;

	cr_assert_eq(read_len(s, sizeof(s), &len, &used), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(used, 1);
	cr_assert_eq(read_len(l1, sizeof(l1), &len, &used), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(used, 2);
	cr_assert_eq(read_len(l4, sizeof(l4), &len, &used), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(used, 5);
	cr_assert_eq(read_len(big, sizeof(big) - 1, &len, &used), ST_ERR_BER_TRUNCATED);
	cr_assert_eq(read_len(big, 3 + 256, &len, &used), 0);
	cr_assert_eq(len, 256);
}

Test(ber, rejects_indefinite_length)
{
	/* 0x80: indefinite form, then an end-of-contents 00 00 */
	static const uint8_t b[] = {0x80, 0x00, 0x00};
	size_t len, used;

	cr_assert_eq(read_len(b, sizeof(b), &len, &used), ST_ERR_BER_LENGTH);
	cr_assert_eq(used, 0, "cursor must not move on failure");
}

Test(ber, rejects_five_length_octets)
{
	/* 0x85 + 5 octets = 1: more than 4 length octets */
	static const uint8_t b[] = {0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0xaa};
	/* 0xff: reserved by X.690 */
	static const uint8_t r[] = {0xff, 0x01, 0xaa};
	size_t len, used;

	cr_assert_eq(read_len(b, sizeof(b), &len, &used), ST_ERR_BER_LENGTH);
	cr_assert_eq(read_len(r, sizeof(r), &len, &used), ST_ERR_BER_LENGTH);
}

Test(ber, rejects_overlong_and_negative_lengths)
{
	/* 0x06: six bytes claimed, three present */
	static const uint8_t over[] = {0x06, 1, 2, 3};
	/* 0x84 ff ff ff ff: 4294967295 (what a signed reader would call -1) */
	static const uint8_t neg[] = {0x84, 0xff, 0xff, 0xff, 0xff, 1, 2};
	/* 0x82 0x01: length octets themselves cut short */
	static const uint8_t cut[] = {0x82, 0x01};
	size_t len, used;

	cr_assert_eq(read_len(over, sizeof(over), &len, &used), ST_ERR_BER_TRUNCATED);
	cr_assert_eq(read_len(neg, sizeof(neg), &len, &used), ST_ERR_BER_TRUNCATED);
	cr_assert_eq(read_len(cut, sizeof(cut), &len, &used), ST_ERR_BER_TRUNCATED);
	cr_assert_eq(read_len(cut, 0, &len, &used), ST_ERR_BER_TRUNCATED);
}

Test(ber, read_tlv_and_enter)
{
	/* SEQUENCE { INTEGER 5, OCTET STRING "ab" } then NULL */
	static const uint8_t b[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 'a', 'b', 0x05, 0x00};
	/* [31] high-tag-number form: 0x1f 0x20, length 0 */
	static const uint8_t hi[] = {0x1f, 0x20, 0x00};
	st_ber_t ber, in;
	uint8_t tag;
	const uint8_t *val;
	size_t len;
	int64_t v;

	st_ber_init(&ber, b, sizeof(b));
	cr_assert_eq(st_ber_enter(&ber, ST_BER_OCTETS, &in), ST_ERR_BER_TAG);
	cr_assert_eq(ber.p, b);
	cr_assert_eq(st_ber_enter(&ber, ST_BER_SEQUENCE, &in), 0);
	cr_assert_eq(st_ber_left(&in), 7);
	cr_assert_eq(st_ber_read_int(&in, ST_BER_INTEGER, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(st_ber_read_octets(&in, ST_BER_OCTETS, &val, &len), 0);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(val, "ab", 2), 0);
	cr_assert_eq(st_ber_left(&in), 0);
	cr_assert_eq(st_ber_read_tlv(&in, &tag, &val, &len), ST_ERR_BER_TRUNCATED);
	cr_assert_eq(st_ber_read_tlv(&ber, &tag, &val, &len), 0);
	cr_assert_eq(tag, ST_BER_NULL);
	cr_assert_eq(len, 0);
	cr_assert_eq(st_ber_left(&ber), 0);

	st_ber_init(&ber, hi, sizeof(hi));
	cr_assert_eq(st_ber_read_tlv(&ber, &tag, &val, &len), ST_ERR_BER_TAG);
}

/* Deeply nested SEQUENCEs are just SEQUENCEs to the reader; it is the SNMP
 * grammar that refuses them (see test_snmp.c). The reader itself never
 * recurses: entering 1000 levels is 1000 iterations. */
Test(ber, enters_deep_nesting_without_recursion)
{
	enum { DEPTH = 1000 };
	static uint8_t b[DEPTH * 4];
	st_ber_t ber;
	size_t n = 0;

	/* SEQUENCE { SEQUENCE { ... NULL ... } }, lengths in long form 0x82 */
	for (int i = 0; i < DEPTH - 1; i++) {
		size_t inner = (size_t)(DEPTH - 1 - i - 1) * 4 + 2;

		b[n++] = 0x30;
		b[n++] = 0x82;
		b[n++] = (uint8_t)(inner >> 8);
		b[n++] = (uint8_t)inner;
	}
	b[n++] = 0x05;
	b[n++] = 0x00;
	st_ber_init(&ber, b, n);
	for (int i = 0; i < DEPTH - 1; i++) {
		st_ber_t in;

		cr_assert_eq(st_ber_enter(&ber, ST_BER_SEQUENCE, &in), 0, "level %d", i);
		ber = in;
	}
	cr_assert_eq(st_ber_left(&ber), 2);
}

/* ------------------------------------------------------------------ */
/* Integers                                                           */
/* ------------------------------------------------------------------ */

static int rd_int(const uint8_t *b, size_t n, int64_t *v)
{
	st_ber_t ber;

	st_ber_init(&ber, b, n);
	return st_ber_read_int(&ber, ST_BER_INTEGER, v);
}

static int rd_uint(uint8_t tag, unsigned bits, const uint8_t *b, size_t n, uint64_t *v)
{
	st_ber_t ber;

	st_ber_init(&ber, b, n);
	return st_ber_read_uint(&ber, tag, bits, v);
}

Test(ber, reads_signed_integers)
{
	/* INTEGER 0 */
	static const uint8_t zero[] = {0x02, 0x01, 0x00};
	/* INTEGER -1 */
	static const uint8_t m1[] = {0x02, 0x01, 0xff};
	/* INTEGER 128 (needs the 0x00 sign octet) */
	static const uint8_t p128[] = {0x02, 0x02, 0x00, 0x80};
	/* INTEGER -2147483648 */
	static const uint8_t i32min[] = {0x02, 0x04, 0x80, 0x00, 0x00, 0x00};
	/* INTEGER 9223372036854775807 */
	static const uint8_t i64max[] = {0x02, 0x08, 0x7f, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff};
	/* INTEGER -9223372036854775808 */
	static const uint8_t i64min[] = {0x02, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0};
	/* INTEGER 1, non-minimal in four octets (accepted, as agents send it) */
	static const uint8_t nonmin[] = {0x02, 0x04, 0x00, 0x00, 0x00, 0x01};
	int64_t v;

	cr_assert_eq(rd_int(zero, sizeof(zero), &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(rd_int(m1, sizeof(m1), &v), 0);
	cr_assert_eq(v, -1);
	cr_assert_eq(rd_int(p128, sizeof(p128), &v), 0);
	cr_assert_eq(v, 128);
	cr_assert_eq(rd_int(i32min, sizeof(i32min), &v), 0);
	cr_assert_eq(v, INT32_MIN);
	cr_assert_eq(rd_int(i64max, sizeof(i64max), &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(rd_int(i64min, sizeof(i64min), &v), 0);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(rd_int(nonmin, sizeof(nonmin), &v), 0);
	cr_assert_eq(v, 1);
}

Test(ber, rejects_bad_integers)
{
	/* INTEGER with no content */
	static const uint8_t empty[] = {0x02, 0x00};
	/* INTEGER of 9 octets (00 + 8): too long for a signed 64-bit value */
	static const uint8_t nine[] = {0x02, 0x09, 0x00, 0xff, 0xff, 0xff,
	                               0xff, 0xff, 0xff, 0xff, 0xff};
	/* OCTET STRING where an INTEGER is expected */
	static const uint8_t wrong[] = {0x04, 0x01, 0x00};
	int64_t v;

	cr_assert_eq(rd_int(empty, sizeof(empty), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_int(nine, sizeof(nine), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_int(wrong, sizeof(wrong), &v), ST_ERR_BER_TAG);
}

Test(ber, reads_unsigned_values)
{
	/* Counter32 4294967295 (00 ff ff ff ff) */
	static const uint8_t c32max[] = {0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff};
	/* Counter32 with 5 octets 01 00 00 00 00 = 2^32: does not fit */
	static const uint8_t c32over[] = {0x41, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
	/* Gauge32 ff: a negative encoding */
	static const uint8_t gneg[] = {0x42, 0x01, 0xff};
	/* Counter64 18446744073709551615 (00 + 8 x ff) */
	static const uint8_t c64max[] = {0x46, 0x09, 0x00, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff};
	/* Counter64 of 9 octets not starting with 00 */
	static const uint8_t c64bad[] = {0x46, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
	/* Counter64 of 10 octets */
	static const uint8_t c64long[] = {0x46, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	/* TimeTicks 15010 */
	static const uint8_t tt[] = {0x43, 0x02, 0x3a, 0xa2};
	uint64_t v;

	cr_assert_eq(rd_uint(0x41, 32, c32max, sizeof(c32max), &v), 0);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(rd_uint(0x41, 32, c32over, sizeof(c32over), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_uint(0x42, 32, gneg, sizeof(gneg), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_uint(0x46, 64, c64max, sizeof(c64max), &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(rd_uint(0x46, 64, c64bad, sizeof(c64bad), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_uint(0x46, 64, c64long, sizeof(c64long), &v), ST_ERR_BER_INT);
	cr_assert_eq(rd_uint(0x43, 32, tt, sizeof(tt), &v), 0);
	cr_assert_eq(v, 15010);
	cr_assert_eq(rd_uint(0x41, 32, tt, sizeof(tt), &v), ST_ERR_BER_TAG);
}

/* ------------------------------------------------------------------ */
/* OBJECT IDENTIFIERs                                                 */
/* ------------------------------------------------------------------ */

static int fmt(const uint8_t *v, size_t n, char *out)
{
	return st_oid_format(v, n, out, ST_OID_STR_MAX);
}

Test(oid, formats_common_oids)
{
	/* 1.3.6.1.6.3.1.1.5.3 (linkDown) */
	static const uint8_t linkdown[] = {0x2b, 6, 1, 6, 3, 1, 1, 5, 3};
	/* 1.3.6.1.4.1.8072.3.2.10: 8072 = 0xbf 0x08 */
	static const uint8_t netsnmp[] = {0x2b, 6, 1, 4, 1, 0xbf, 0x08, 3, 2, 10};
	/* 0.0 (zeroDotZero) */
	static const uint8_t zdz[] = {0x00};
	/* 2.999.3: first sub-identifier 1079 = 0x88 0x37 */
	static const uint8_t two[] = {0x88, 0x37, 0x03};
	char s[ST_OID_STR_MAX];

	cr_assert_eq(fmt(linkdown, sizeof(linkdown), s), 19);
	cr_assert_str_eq(s, "1.3.6.1.6.3.1.1.5.3");
	cr_assert_eq(fmt(netsnmp, sizeof(netsnmp), s), 23);
	cr_assert_str_eq(s, "1.3.6.1.4.1.8072.3.2.10");
	cr_assert_eq(fmt(zdz, sizeof(zdz), s), 3);
	cr_assert_str_eq(s, "0.0");
	cr_assert_gt(fmt(two, sizeof(two), s), 0);
	cr_assert_str_eq(s, "2.999.3");
}

Test(oid, accepts_subid_2_32_minus_1)
{
	/* 1.3.4294967295: 0x8f 0xff 0xff 0xff 0x7f */
	static const uint8_t max[] = {0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f};
	char s[ST_OID_STR_MAX];

	cr_assert_eq(st_oid_check(max, sizeof(max)), 0);
	cr_assert_gt(fmt(max, sizeof(max), s), 0);
	cr_assert_str_eq(s, "1.3.4294967295");
}

Test(oid, rejects_subid_2_32)
{
	/* 1.3.4294967296: 0x90 0x80 0x80 0x80 0x00 */
	static const uint8_t over[] = {0x2b, 0x90, 0x80, 0x80, 0x80, 0x00};
	/* 1.3.(6 octets) */
	static const uint8_t six[] = {0x2b, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00};
	char s[ST_OID_STR_MAX];

	cr_assert_eq(st_oid_check(over, sizeof(over)), ST_ERR_BER_OID);
	cr_assert_eq(st_oid_check(six, sizeof(six)), ST_ERR_BER_OID);
	cr_assert_eq(fmt(over, sizeof(over), s), ST_ERR_BER_OID);
}

/* n sub-identifiers: 0x2b (two arcs) then n - 2 single-octet ones */
static size_t oid_of_arcs(uint8_t *b, unsigned arcs)
{
	b[0] = 0x2b;
	for (unsigned i = 1; i < arcs - 1; i++)
		b[i] = (uint8_t)(i % 100);
	return arcs - 1;
}

Test(oid, accepts_128_rejects_129_subids)
{
	uint8_t b[256];
	char s[ST_OID_STR_MAX];
	size_t n = oid_of_arcs(b, 128);

	cr_assert_eq(st_oid_check(b, n), 0);
	cr_assert_gt(fmt(b, n, s), 0);
	n = oid_of_arcs(b, 129);
	cr_assert_eq(st_oid_check(b, n), ST_ERR_BER_OID);
}

Test(oid, rejects_non_minimal_and_unterminated)
{
	/* 1.3.(0x80 0x01): leading 0x80 is a non-minimal sub-identifier */
	static const uint8_t nonmin[] = {0x2b, 0x80, 0x01};
	/* 1.3.(0x81 ...): last octet still has the continuation bit */
	static const uint8_t open[] = {0x2b, 0x06, 0x81};
	/* 0x80 as the first octet */
	static const uint8_t first[] = {0x80, 0x2b};

	cr_assert_eq(st_oid_check(nonmin, sizeof(nonmin)), ST_ERR_BER_OID);
	cr_assert_eq(st_oid_check(open, sizeof(open)), ST_ERR_BER_OID);
	cr_assert_eq(st_oid_check(first, sizeof(first)), ST_ERR_BER_OID);
}

Test(oid, rejects_empty)
{
	/* OID TLV with no content: 06 00 */
	static const uint8_t tlv[] = {0x06, 0x00};
	st_ber_t ber;
	const uint8_t *val;
	size_t len;

	cr_assert_eq(st_oid_check(tlv, 0), ST_ERR_BER_OID);
	st_ber_init(&ber, tlv, sizeof(tlv));
	cr_assert_eq(st_ber_read_oid(&ber, &val, &len), ST_ERR_BER_OID);
	cr_assert_eq(ber.p, tlv);
}

Test(oid, format_reports_space)
{
	/* 1.3.6.1.6.3.1.1.5.3 needs 20 bytes with the NUL */
	static const uint8_t o[] = {0x2b, 6, 1, 6, 3, 1, 1, 5, 3};
	char s[20];

	cr_assert_eq(st_oid_format(o, sizeof(o), s, 19), ST_ERR_BER_SPACE);
	cr_assert_eq(st_oid_format(o, sizeof(o), s, 20), 19);
}

Test(oid, parse_round_trips)
{
	static const char *const good[] = {
	        "1.3.6.1.6.3.1.1.5.3",
	        "0.0",
	        "1.3.6.1.4.1.8072.3.2.10",
	        "2.999.3",
	        "1.3.4294967295",
	        "2.4294967215",
	        "1.39.127.128.16383.16384.2097151.2097152",
	};
	uint8_t b[ST_OID_MAX_SUBIDS * 5];
	char s[ST_OID_STR_MAX];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int n = st_oid_parse(good[i], b, sizeof(b));

		cr_assert_gt(n, 0, "%s", good[i]);
		cr_assert_eq(st_oid_check(b, (size_t)n), 0, "%s", good[i]);
		cr_assert_gt(st_oid_format(b, (size_t)n, s, sizeof(s)), 0);
		cr_assert_str_eq(s, good[i]);
	}
	/* leading dot, Net-SNMP style */
	cr_assert_eq(st_oid_parse(".1.3.6.1", b, sizeof(b)), 3);
	cr_assert_eq(memcmp(b, "\x2b\x06\x01", 3), 0);
}

Test(oid, parse_rejects_bad_text)
{
	static const char *const bad[] = {
	        "",       "1",    "3.1",   "1.40",           "0.40",
	        "1..3",   "1.3.", "1.3.x", "1.3.4294967296", "2.4294967216",
	        "1.3.-1", " 1.3", "..1.3",
	};
	uint8_t b[64];
	char many[ST_OID_MAX_SUBIDS * 2 + 8];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(st_oid_parse(bad[i], b, sizeof(b)), ST_ERR_BER_OID, "'%s'", bad[i]);
	/* 129 arcs "1.1.1...": one too many */
	for (int i = 0; i < 129; i++) {
		many[n++] = '1';
		many[n++] = '.';
	}
	many[n - 1] = '\0';
	uint8_t big[ST_OID_MAX_SUBIDS * 5];

	cr_assert_eq(st_oid_parse(many, big, sizeof(big)), ST_ERR_BER_OID);
	many[n - 3] = '\0'; /* 128 arcs */
	cr_assert_eq(st_oid_parse(many, big, sizeof(big)), 127);
	cr_assert_eq(st_oid_parse("1.3.6.1.2.1.1.3.0", b, 4), ST_ERR_BER_SPACE);
}

/* ------------------------------------------------------------------ */
/* Writer                                                             */
/* ------------------------------------------------------------------ */

Test(berw, integers_are_minimal_and_round_trip)
{
	static const int64_t vals[] = {0,      1,         -1,        127,       128,
	                               -128,   -129,      255,       256,       32767,
	                               -32768, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
	static const size_t lens[] = {1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 2, 4, 4, 8, 8};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t buf[16];
		st_berw_t w;
		const uint8_t *out;
		st_ber_t ber;
		int64_t v;
		int n;

		st_berw_init(&w, buf, sizeof(buf));
		st_berw_int(&w, ST_BER_INTEGER, vals[i]);
		n = st_berw_finish(&w, &out);
		cr_assert_eq(n, (int)(2 + lens[i]), "value %lld", (long long)vals[i]);
		cr_assert_eq(out[1], lens[i]);
		st_ber_init(&ber, out, (size_t)n);
		cr_assert_eq(st_ber_read_int(&ber, ST_BER_INTEGER, &v), 0);
		cr_assert_eq(v, vals[i]);
	}
}

Test(berw, unsigned_round_trip)
{
	static const uint64_t vals[] = {0,     127,        128,        255,
	                                65535, UINT32_MAX, 1ull << 40, UINT64_MAX};
	/* content lengths: a zero octet is prefixed when the top bit is set */
	static const size_t lens[] = {1, 1, 2, 2, 3, 5, 6, 9};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t buf[16];
		st_berw_t w;
		const uint8_t *out;
		st_ber_t ber;
		uint64_t v;
		int n;

		st_berw_init(&w, buf, sizeof(buf));
		st_berw_uint(&w, ST_BER_COUNTER64, vals[i]);
		n = st_berw_finish(&w, &out);
		cr_assert_eq(n, (int)(2 + lens[i]));
		st_ber_init(&ber, out, (size_t)n);
		cr_assert_eq(st_ber_read_uint(&ber, ST_BER_COUNTER64, 64, &v), 0);
		cr_assert_eq(v, vals[i]);
	}
}

Test(berw, wrap_uses_minimal_lengths)
{
	static uint8_t content[300];
	uint8_t buf[400];
	st_berw_t w;
	const uint8_t *out;
	size_t mark;

	/* 127 bytes of content: short form */
	st_berw_init(&w, buf, sizeof(buf));
	mark = st_berw_len(&w);
	st_berw_raw(&w, content, 127);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	cr_assert_eq(st_berw_finish(&w, &out), 129);
	cr_assert_eq(out[0], 0x30);
	cr_assert_eq(out[1], 127);

	/* 128: 0x81 0x80 */
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_octets(&w, ST_BER_OCTETS, content, 128);
	cr_assert_eq(st_berw_finish(&w, &out), 131);
	cr_assert_eq(out[1], 0x81);
	cr_assert_eq(out[2], 0x80);

	/* 300: 0x82 0x01 0x2c */
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_octets(&w, ST_BER_OCTETS, content, 300);
	cr_assert_eq(st_berw_finish(&w, &out), 304);
	cr_assert_eq(out[1], 0x82);
	cr_assert_eq(out[2], 0x01);
	cr_assert_eq(out[3], 0x2c);
}

Test(berw, space_error_is_sticky)
{
	uint8_t buf[8];
	st_berw_t w;
	const uint8_t *out = NULL;

	st_berw_init(&w, buf, sizeof(buf));
	st_berw_octets(&w, ST_BER_OCTETS, "0123456789", 10);
	cr_assert_eq(w.err, ST_ERR_BER_SPACE);
	st_berw_null(&w, ST_BER_NULL); /* would fit, but the error stays */
	cr_assert_eq(st_berw_finish(&w, &out), ST_ERR_BER_SPACE);
	cr_assert_null(out);

	/* exactly full is fine: OCTET STRING of 6 in 8 bytes */
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_octets(&w, ST_BER_OCTETS, "abcdef", 6);
	cr_assert_eq(st_berw_finish(&w, &out), 8);
	cr_assert_eq(out, buf);
}

Test(berw, builds_nested_structure)
{
	/* SEQUENCE { OID 1.3.6.1.2.1.1.3.0, TimeTicks 15010 }: a varbind */
	static const uint8_t want[] = {0x30, 0x0e, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02,
	                               0x01, 0x01, 0x03, 0x00, 0x43, 0x02, 0x3a, 0xa2};
	uint8_t buf[64];
	st_berw_t w;
	const uint8_t *out;
	size_t mark;

	st_berw_init(&w, buf, sizeof(buf));
	mark = st_berw_len(&w);
	st_berw_uint(&w, ST_BER_TIMETICKS, 15010);
	st_berw_oid(&w, ST_OID_SYSUPTIME0, sizeof(ST_OID_SYSUPTIME0));
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	cr_assert_eq(st_berw_finish(&w, &out), (int)sizeof(want));
	cr_assert_eq(memcmp(out, want, sizeof(want)), 0);
}
