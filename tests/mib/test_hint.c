/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DISPLAY-HINT rendering (RFC 2579 3.1) for OCTET STRING and INTEGER, with
 * the hints of the standard textual conventions and RFC 2579's own
 * DateAndTime example, and the bounds the renderers promise.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "st_mib.h"

static const char *octets(const char *hint, const uint8_t *val, size_t len)
{
	static char buf[1024];
	int n = st_mib_hint_octets(hint, val, len, buf, sizeof(buf));
	cr_assert_geq(n, 0, "hint \"%s\": %d", hint, n);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert_lt((size_t)n, ST_MIB_HINT_OCTETS_BOUND(len));
	return buf;
}

static const char *integer(const char *hint, int64_t v)
{
	static char buf[ST_MIB_HINT_INT_BOUND];
	int n = st_mib_hint_int(hint, v, buf, sizeof(buf));
	cr_assert_geq(n, 0, "hint \"%s\" on %lld: %d", hint, (long long)v, n);
	return buf;
}

Test(hint, display_string_255a)
{
	cr_assert_str_eq(octets("255a", (const uint8_t *)"eth0 up", 7), "eth0 up");
}

Test(hint, utf8_255t)
{
	/* "Zürich" in UTF-8 */
	static const uint8_t v[] = {'Z', 0xc3, 0xbc, 'r', 'i', 'c', 'h'};
	cr_assert_str_eq(octets("255t", v, sizeof(v)), "Z\xc3\xbcrich");
}

Test(hint, phys_address_1x_colon)
{
	/* PhysAddress / MacAddress 00:0c:29:a2:b3:c4 */
	static const uint8_t mac[] = {0x00, 0x0c, 0x29, 0xa2, 0xb3, 0xc4};
	cr_assert_str_eq(octets("1x:", mac, sizeof(mac)), "00:0c:29:a2:b3:c4");
}

Test(hint, date_and_time_rfc2579_example)
{
	/* RFC 2579's example: 1992-5-26,13:30:15.0,-4:0 (year 1992 = 0x07c8) */
	static const uint8_t v[] = {0x07, 0xc8, 5, 26, 13, 30, 15, 0, '-', 4, 0};
	cr_assert_str_eq(octets("2d-1d-1d,1d:1d:1d.1d,1a1d:1d", v, sizeof(v)),
	                 "1992-5-26,13:30:15.0,-4:0");
}

Test(hint, date_and_time_without_zone_drops_trailing_separator)
{
	/* the 8-octet form: the "," after the deci-seconds is not written */
	static const uint8_t v[] = {0x07, 0xea, 11, 25, 9, 5, 0, 3};
	cr_assert_str_eq(octets("2d-1d-1d,1d:1d:1d.1d,1a1d:1d", v, sizeof(v)),
	                 "2026-11-25,9:5:0.3");
}

Test(hint, inet_address_ipv4_and_ipv4z)
{
	static const uint8_t v4[] = {192, 0, 2, 1};
	static const uint8_t v4z[] = {192, 0, 2, 1, 0, 0, 0, 3}; /* zone index 3 */
	cr_assert_str_eq(octets("1d.1d.1d.1d", v4, sizeof(v4)), "192.0.2.1");
	cr_assert_str_eq(octets("1d.1d.1d.1d%4d", v4z, sizeof(v4z)), "192.0.2.1%3");
}

Test(hint, inet_address_ipv6)
{
	/* 2001:db8::1, two octets per group, each written as four hex digits */
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	cr_assert_str_eq(octets("2x:2x:2x:2x:2x:2x:2x:2x", v6, sizeof(v6)),
	                 "2001:0db8:0000:0000:0000:0000:0000:0001");
}

Test(hint, inet_address_dns)
{
	cr_assert_str_eq(octets("255a", (const uint8_t *)"www.example.org", 15), "www.example.org");
}

Test(hint, repeat_count_with_separator_and_terminator)
{
	/* "*1d./1d": count 3 -> 10.20.30, then "/" (no "." before it), then 7 */
	static const uint8_t v[] = {3, 10, 20, 30, 7};
	cr_assert_str_eq(octets("*1d./1d", v, sizeof(v)), "10.20.30/7");
}

Test(hint, repeat_count_zero_writes_only_the_terminator)
{
	static const uint8_t v[] = {0, 9};
	cr_assert_str_eq(octets("*1d./1d", v, sizeof(v)), "/9");
}

Test(hint, last_specification_repeats)
{
	static const uint8_t v[] = {1, 2, 3, 4, 5};
	cr_assert_str_eq(octets("1d.", v, sizeof(v)), "1.2.3.4.5");
	cr_assert_str_eq(octets("1d-1x:", v, sizeof(v)), "1-02:03:04:05");
}

Test(hint, fewer_octets_than_the_length_takes_what_remains)
{
	static const uint8_t v[] = {0x01, 0x00};
	cr_assert_str_eq(octets("4d", v, sizeof(v)), "256");
	cr_assert_str_eq(octets("2o", (const uint8_t *)"\x01\xff", 2), "777");
}

Test(hint, invalid_hints_are_refused)
{
	char buf[64];
	static const uint8_t v[] = {1, 2};
	cr_assert_eq(st_mib_hint_octets("", v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_octets("x", v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_octets("0x", v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_octets("9d", v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_octets("1q", v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_octets(NULL, v, 2, buf, sizeof(buf)), ST_ERR_MIB_HINT);
}

Test(hint, worst_case_fits_the_bound_and_one_less_does_not)
{
	/* 1 octet -> "255" and a separator: "255.255.255" for three */
	static const uint8_t v[] = {255, 255, 255};
	char buf[ST_MIB_HINT_OCTETS_BOUND(3)];
	int n = st_mib_hint_octets("1d.", v, sizeof(v), buf, sizeof(buf));
	cr_assert_eq(n, 11);
	cr_assert_str_eq(buf, "255.255.255");
	cr_assert_eq(st_mib_hint_octets("1d.", v, sizeof(v), buf, 11), ST_ERR_MIB_SPACE);
	cr_assert_eq(st_mib_hint_octets("1d.", v, sizeof(v), buf, 12), 11);
}

Test(hint, integer_formats)
{
	cr_assert_str_eq(integer("d", -42), "-42");
	cr_assert_str_eq(integer("d-2", 1234), "12.34");
	cr_assert_str_eq(integer("d-2", 5), "0.05");
	cr_assert_str_eq(integer("d-2", -5), "-0.05");
	cr_assert_str_eq(integer("d-1", 0), "0.0");
	cr_assert_str_eq(integer("x", 255), "ff");
	cr_assert_str_eq(integer("o", 8), "10");
	cr_assert_str_eq(integer("b", 5), "101");
	cr_assert_str_eq(integer("b", -5), "-101");
	cr_assert_str_eq(integer("d", INT64_MIN), "-9223372036854775808");
}

Test(hint, integer_bound_holds_for_the_longest)
{
	char buf[ST_MIB_HINT_INT_BOUND];
	cr_assert_gt(st_mib_hint_int("b", INT64_MIN, buf, sizeof(buf)), 64);
	cr_assert_gt(st_mib_hint_int("d-20", INT64_MIN, buf, sizeof(buf)), 20);
	cr_assert_eq(st_mib_hint_int("d", 123, buf, 3), ST_ERR_MIB_SPACE);
}

Test(hint, invalid_integer_hints_are_refused)
{
	char buf[ST_MIB_HINT_INT_BOUND];
	cr_assert_eq(st_mib_hint_int("d-", 1, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_int("d-x", 1, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_int("x-1", 1, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_int("q", 1, buf, sizeof(buf)), ST_ERR_MIB_HINT);
	cr_assert_eq(st_mib_hint_int("d-99", 1, buf, sizeof(buf)), ST_ERR_MIB_HINT);
}

Test(hint, value_ending_inside_repeats_drops_separator_and_terminator)
{
	/* count 3 but only two octets follow: nothing comes after "20", so
	 * neither the "." nor the "/" is written (RFC 2579: a separator or
	 * terminator is not the last character of the display) */
	static const uint8_t v[] = {3, 10, 20};
	cr_assert_str_eq(octets("*1d./1d", v, sizeof(v)), "10.20");
	/* the repeat count is the last octet: nothing to show */
	static const uint8_t w[] = {9, 3};
	cr_assert_str_eq(octets("1d:*1d./1d", w, sizeof(w)), "9");
}

Test(hint, utf8_drops_a_partial_last_character)
{
	/* RFC 2579: trailing octets that do not form a whole UTF-8 character
	 * are discarded for 't'; "Z" then the first octet of "ü" */
	static const uint8_t v[] = {'Z', 0xc3};
	cr_assert_str_eq(octets("255t", v, sizeof(v)), "Z");
	/* per application: "2t|" over a c3 | bc b drops the c3 of the first */
	static const uint8_t w[] = {'a', 0xc3, 0xbc, 'b'};
	cr_assert_str_eq(octets("2t|", w, sizeof(w)), "a|\xbc"
	                                              "b");
}
