/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_error.c - st_strerror() names every error code distinctly.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "st_codec.h"

static const int codes[] = {
        ST_ERR_BER_TRUNCATED,
        ST_ERR_BER_LENGTH,
        ST_ERR_BER_TAG,
        ST_ERR_BER_INT,
        ST_ERR_BER_OID,
        ST_ERR_BER_TRAILING,
        ST_ERR_BER_SPACE,
        ST_ERR_BER_VALUE,
        ST_ERR_SNMP_VERSION,
        ST_ERR_SNMP_PDU,
        ST_ERR_SNMP_VARBINDS,
        ST_ERR_SNMP_SECMODEL,
        ST_ERR_SNMP_FLAGS,
        ST_ERR_SNMP_HEADER,
        ST_ERR_JSON_SPACE,
        ST_ERR_USM_UNSUPPORTED_SECLEVEL,
        ST_ERR_USM_NOT_IN_TIME_WINDOW,
        ST_ERR_USM_UNKNOWN_USER,
        ST_ERR_USM_UNKNOWN_ENGINE_ID,
        ST_ERR_USM_WRONG_DIGEST,
        ST_ERR_USM_DECRYPTION,
        ST_ERR_USM_PARAMS,
        ST_ERR_USM_CRYPTO,
        ST_ERR_CONFIG,
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

Test(error, every_code_has_its_own_name)
{
	const char *unknown = st_strerror(-1999);

	cr_assert_str_eq(unknown, "unknown stormtrap error");
	for (size_t i = 0; i < NCODES; i++) {
		const char *s = st_strerror(codes[i]);

		cr_assert_not_null(s);
		cr_assert_str_neq(s, unknown, "code %d has no name", codes[i]);
		for (size_t k = 0; k < i; k++)
			cr_assert_str_neq(s, st_strerror(codes[k]), "%d and %d share a name",
			                  codes[i], codes[k]);
	}
}

Test(error, errno_values_and_zero)
{
	cr_assert_str_eq(st_strerror(0), "success");
	cr_assert_str_eq(st_strerror(-ENOENT), strerror(ENOENT));
	cr_assert_str_eq(st_strerror(-EAGAIN), strerror(EAGAIN));
	/* a negative value that is neither errno nor ours still gets a string */
	cr_assert_not_null(st_strerror(-999));
	cr_assert_not_null(st_strerror(-5000));
	cr_assert_not_null(st_strerror(7));
}
