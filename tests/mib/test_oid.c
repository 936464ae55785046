/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_mib_oid_ber(): the BER content octets the codec keeps OIDs in, with
 * X.690's own example (2.999.3) for a first arc above 1.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "st_mib.h"

Test(oid, encodes_like_x690)
{
	/* 1.3.6.1.4.1.8072: 8072 = 63 * 128 + 8 -> bf 08 */
	static const uint32_t a[] = {1, 3, 6, 1, 4, 1, 8072};
	static const uint8_t a_ber[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xbf, 0x08};
	/* X.690 8.19.5: 2.999.3 -> 88 37 03 */
	static const uint32_t b[] = {2, 999, 3};
	static const uint8_t b_ber[] = {0x88, 0x37, 0x03};
	/* the largest sub-identifier takes five octets */
	static const uint32_t c[] = {1, 3, 4294967295u};
	static const uint8_t c_ber[] = {0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f};
	uint8_t out[32];

	cr_assert_eq(st_mib_oid_ber(a, 7, out, sizeof(out)), (int)sizeof(a_ber));
	cr_assert_eq(memcmp(out, a_ber, sizeof(a_ber)), 0);
	cr_assert_eq(st_mib_oid_ber(b, 3, out, sizeof(out)), (int)sizeof(b_ber));
	cr_assert_eq(memcmp(out, b_ber, sizeof(b_ber)), 0);
	cr_assert_eq(st_mib_oid_ber(c, 3, out, sizeof(out)), (int)sizeof(c_ber));
	cr_assert_eq(memcmp(out, c_ber, sizeof(c_ber)), 0);
	cr_assert_eq(st_mib_oid_ber(c, 3, out, 5), ST_ERR_MIB_SPACE);
}

Test(oid, first_arcs_ber_cannot_carry_are_refused)
{
	/* 1.43 would encode as 83, which is 2.3: refusing it keeps a lookup
	 * of 1.43.x from answering with a node under 2.3 */
	static const uint32_t a[] = {1, 43, 6};
	static const uint32_t b[] = {3, 1};
	static const uint32_t c[] = {0, 40};
	static const uint32_t ok[] = {2, 3, 6}; /* what 1.43.6 would have become */
	uint8_t out[32];

	cr_assert_lt(st_mib_oid_ber(a, 3, out, sizeof(out)), 0);
	cr_assert_lt(st_mib_oid_ber(b, 2, out, sizeof(out)), 0);
	cr_assert_lt(st_mib_oid_ber(c, 2, out, sizeof(out)), 0);
	cr_assert_eq(st_mib_oid_ber(ok, 3, out, sizeof(out)), 2);
	cr_assert_eq(out[0], 83);
}
