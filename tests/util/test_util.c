/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util.c - the util library: address parsing and formatting, hex,
 * CRC-32C (RFC 3720 B.4 vectors), little-endian helpers, counters.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "st_util.h"

/* ---- st_addr_split -------------------------------------------------------- */

Test(util, split_accepts_the_three_forms)
{
	char host[64];
	uint16_t port = 0;

	cr_assert_eq(st_addr_split("collector.example:162", host, sizeof(host), &port, NULL, 0), 0);
	cr_assert_str_eq(host, "collector.example");
	cr_assert_eq(port, 162);
	cr_assert_eq(st_addr_split("[2001:db8::1]:9100", host, sizeof(host), &port, NULL, 0), 0);
	cr_assert_str_eq(host, "2001:db8::1");
	cr_assert_eq(port, 9100);
	cr_assert_eq(st_addr_split(":65535", host, sizeof(host), &port, NULL, 0), 0);
	cr_assert_str_eq(host, "");
	cr_assert_eq(port, 65535);
}

Test(util, split_names_what_is_wrong)
{
	char host[16], err[128];
	uint16_t port;

	cr_assert_eq(st_addr_split("host", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no ':port'"), "%s", err);
	cr_assert_eq(st_addr_split("[::1", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "without ']'"), "%s", err);
	cr_assert_eq(st_addr_split("[::1]162", host, sizeof(host), &port, err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "after ']'"), "%s", err);
	cr_assert_eq(st_addr_split("[]:162", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert_eq(st_addr_split("::1:162", host, sizeof(host), &port, err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "brackets"), "%s", err);
	cr_assert_eq(st_addr_split("h:0", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "1..65535"), "%s", err);
	cr_assert_eq(st_addr_split("h:65536", host, sizeof(host), &port, err, sizeof(err)),
	             -EINVAL);
	cr_assert_eq(st_addr_split("h:16x", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert_eq(st_addr_split("h:", host, sizeof(host), &port, err, sizeof(err)), -EINVAL);
	cr_assert_eq(st_addr_split("h:0000162", host, sizeof(host), &port, err, sizeof(err)),
	             -EINVAL);
	cr_assert_eq(st_addr_split("a-very-long-host-name:1", host, sizeof(host), &port, err,
	                           sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "longer than 15"), "%s", err);
}

/* ---- st_addr_parse / st_addr_format ---------------------------------------- */

static void round_trip(const char *in, unsigned flags, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[128] = "", buf[ST_ADDR_TEXT_MAX];

	cr_assert_eq(st_addr_parse(in, flags, &ss, &len, err, sizeof(err)), 0, "%s: %s", in, err);
	cr_assert_eq(len, ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                          : sizeof(struct sockaddr_in6));
	cr_assert_eq(st_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)), (int)strlen(want));
	cr_assert_str_eq(buf, want);
}

Test(util, parse_and_format_round_trip)
{
	round_trip("udp://192.0.2.10:162", 0, "192.0.2.10:162");
	round_trip("udp://[2001:db8::10]:1162", ST_ADDR_UDP_REQUIRED, "[2001:db8::10]:1162");
	round_trip("127.0.0.1:1", 0, "127.0.0.1:1");
	round_trip("[::1]:65535", 0, "[::1]:65535");
	round_trip("udp://localhost:1162", ST_ADDR_LOCALHOST, "127.0.0.1:1162");
	round_trip("udp://[::ffff:192.0.2.1]:162", 0, "[::ffff:192.0.2.1]:162");
}

Test(util, parse_refuses_with_a_reason)
{
	struct sockaddr_storage ss;
	char err[160];

	cr_assert_eq(
	        st_addr_parse("192.0.2.1:162", ST_ADDR_UDP_REQUIRED, &ss, NULL, err, sizeof(err)),
	        -EINVAL);
	cr_assert(strstr(err, "expected udp://"), "%s", err);
	cr_assert_eq(st_addr_parse("udp://localhost:162", 0, &ss, NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "not an IPv4 address"), "%s", err);
	cr_assert_eq(st_addr_parse("udp://[192.0.2.1]:162", 0, &ss, NULL, err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "not an IPv6 address"), "%s", err);
	cr_assert_eq(st_addr_parse("udp://2001:db8::1:162", 0, &ss, NULL, err, sizeof(err)),
	             -EINVAL);
	cr_assert(strstr(err, "brackets"), "%s", err);
	cr_assert_eq(st_addr_parse("udp://:162", 0, &ss, NULL, err, sizeof(err)), -EINVAL);
	cr_assert_eq(st_addr_parse("udp://1.2.3.4:99999", 0, &ss, NULL, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "1..65535"), "%s", err);
}

Test(util, format_reports_small_buffers_and_other_families)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(162)};
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	char buf[ST_ADDR_TEXT_MAX];

	/* the longest text there is fits ST_ADDR_TEXT_MAX */
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &sin6.sin6_addr);
	sin6.sin6_port = htons(65535);
	cr_assert_gt(st_addr_format((struct sockaddr *)&sin6, buf, sizeof(buf)), 0);
	cr_assert_eq(st_addr_format((struct sockaddr *)&sin6, buf, 8), -ENOSPC);
	cr_assert_eq(st_addr_format((struct sockaddr *)&un, buf, sizeof(buf)), -EAFNOSUPPORT);
	cr_assert_str_eq(buf, "?");
}

/* ---- hex ------------------------------------------------------------------ */

Test(util, hex_round_trips)
{
	const uint8_t in[] = {0x80, 0x00, 0x1f, 0x88, 0xab, 0xff};
	uint8_t out[8];
	char txt[13] = {0};

	st_hex_encode(txt, in, sizeof(in));
	cr_assert_str_eq(txt, "80001f88abff");
	cr_assert_eq(st_hex_decode(txt, out, sizeof(out)), 6);
	cr_assert_arr_eq(out, in, sizeof(in));
	cr_assert_eq(st_hex_decode("0xAbCd", out, sizeof(out)), 2);
	cr_assert_eq(out[0], 0xab);
	cr_assert_eq(out[1], 0xcd);
	cr_assert_eq(st_hex_decode("", out, sizeof(out)), 0);
	cr_assert_eq(st_hex_decode("abc", out, sizeof(out)), -EINVAL);
	cr_assert_eq(st_hex_decode("zz", out, sizeof(out)), -EINVAL);
	cr_assert_eq(st_hex_decode("000102", out, 2), -EINVAL);
}

/* ---- CRC-32C: RFC 3720 appendix B.4 ---------------------------------------- */

Test(util, crc32c_matches_rfc3720_vectors)
{
	uint8_t buf[48];

	cr_assert_eq(st_crc32c("123456789", 9), 0xe3069283u);
	memset(buf, 0, 32);
	cr_assert_eq(st_crc32c(buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	cr_assert_eq(st_crc32c(buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(st_crc32c(buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	cr_assert_eq(st_crc32c(buf, 32), 0x113fdb5cu);
}

Test(util, crc32c_table_and_instruction_agree_in_pieces)
{
	uint8_t buf[1000];
	uint32_t whole, a, b;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	whole = st_crc32c(buf, sizeof(buf));
	a = st_crc32c_update(0xffffffffu, buf, 333);
	a = st_crc32c_update(a, buf + 333, sizeof(buf) - 333) ^ 0xffffffffu;
	b = st_crc32c_update_sw(0xffffffffu, buf, 5);
	b = st_crc32c_update_sw(b, buf + 5, sizeof(buf) - 5) ^ 0xffffffffu;
	cr_assert_eq(a, whole);
	cr_assert_eq(b, whole);
}

/* ---- little-endian --------------------------------------------------------- */

Test(util, le_store_and_load)
{
	uint8_t b[9] = {0};

	st_le16_store(b + 1, 0x1234);
	cr_assert_eq(b[1], 0x34);
	cr_assert_eq(b[2], 0x12);
	cr_assert_eq(st_le16_load(b + 1), 0x1234);
	st_le32_store(b + 1, 0xdeadbeefu);
	cr_assert_eq(b[1], 0xef);
	cr_assert_eq(b[4], 0xde);
	cr_assert_eq(st_le32_load(b + 1), 0xdeadbeefu);
	st_le64_store(b + 1, 0x0102030405060708ull);
	cr_assert_eq(b[1], 0x08);
	cr_assert_eq(b[8], 0x01);
	cr_assert_eq(st_le64_load(b + 1), 0x0102030405060708ull);
}

/* ---- counters -------------------------------------------------------------- */

typedef struct {
	st_counter_t sent;
	char pad[56];
	st_counter_t acked;
} per_thread_t;

static void *bump(void *arg)
{
	per_thread_t *t = arg;

	for (int i = 0; i < 100000; i++) {
		st_counter_add(&t->sent, 1);
		st_counter_add(&t->acked, 2);
	}
	return NULL;
}

Test(util, counters_sum_over_threads)
{
	per_thread_t t[4];
	pthread_t th[4];

	memset(t, 0, sizeof(t));
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, bump, &t[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(st_counter_sum(&t[0].sent, 4, sizeof(t[0])), 400000);
	cr_assert_eq(st_counter_sum(&t[0].acked, 4, sizeof(t[0])), 800000);
	st_counter_set(&t[2].acked, 5);
	cr_assert_eq(st_counter_get(&t[2].acked), 5);
	cr_assert_eq(st_counter_sum(&t[0].acked, 4, sizeof(t[0])), 600005);
}
