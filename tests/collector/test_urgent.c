/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_urgent.c - st_worker_urgent(), ingest's look at a datagram's header:
 * informs and reportable v3 messages end a worker's linger, traps and what
 * does not parse do not.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collector.h"

/* v2c, community "public", InformRequest-PDU request-id 1, no varbinds */
static const uint8_t v2c_inform[] = {0x30, 0x18, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',
                                     'b',  'l',  'i',  'c',  0xa6, 0x0b, 0x02, 0x01, 0x01,
                                     0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00};

/* v3 header: msgID 1, msgMaxSize 65507, msgFlags (patched), USM; empty
 * security parameters; the rest is not looked at */
static const uint8_t v3_head[] = {0x30, 0x15, 0x02, 0x01, 0x03, 0x30, 0x0e, 0x02,
                                  0x01, 0x01, 0x02, 0x03, 0x00, 0xff, 0xe3, 0x04,
                                  0x01, 0x00, 0x02, 0x01, 0x03, 0x04, 0x00};

Test(urgent, v2c_inform_is_urgent_and_v2c_trap_is_not)
{
	uint8_t d[sizeof(v2c_inform)];

	memcpy(d, v2c_inform, sizeof(d));
	cr_assert_eq(st_worker_urgent(d, sizeof(d)), 1);
	d[13] = 0xa7; /* SNMPv2-Trap-PDU */
	cr_assert_eq(st_worker_urgent(d, sizeof(d)), 0);
	d[13] = 0xa6;
	d[4] = 0x00; /* version 1 has no informs */
	cr_assert_eq(st_worker_urgent(d, sizeof(d)), 0);
}

Test(urgent, v3_reportable_flag_decides)
{
	uint8_t d[sizeof(v3_head)];

	memcpy(d, v3_head, sizeof(d));
	d[4] = 0x03;
	for (unsigned flags = 0; flags < 8; flags++) {
		d[17] = (uint8_t)flags; /* auth 1, priv 2, reportable 4 */
		cr_assert_eq(st_worker_urgent(d, sizeof(d)), (flags & 4) != 0, "flags %u", flags);
	}
}

Test(urgent, what_does_not_parse_is_not_urgent)
{
	uint8_t d[sizeof(v3_head)];

	for (size_t n = 0; n < sizeof(v2c_inform); n++)
		cr_assert_eq(st_worker_urgent(v2c_inform, n), 0, "%zu octets", n);
	memcpy(d, v3_head, sizeof(d));
	d[4] = 0x03;
	d[17] = 0x04;
	d[16] = 0x02; /* msgFlags of two octets */
	cr_assert_eq(st_worker_urgent(d, sizeof(d)), 0);
	cr_assert_eq(st_worker_urgent((const uint8_t *)"\x02\x01\x01", 3), 0);
}
