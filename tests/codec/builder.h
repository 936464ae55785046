/* SPDX-License-Identifier: Apache-2.0 */
/*
 * builder.h - build v1/v2c messages in tests, for the cases no real sender
 * produces (extreme values, hostile strings, thousands of varbinds).
 *
 * It sits on the BER writer, which test_ber.c checks against fixed byte
 * vectors. The writer prepends, so varbinds are added last to first.
 */
#ifndef ST_TEST_BUILDER_H
#define ST_TEST_BUILDER_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "st_codec.h"

typedef struct tb {
	uint8_t buf[1 << 17];
	st_berw_t w;
	size_t vbl_mark;
} tb_t;

static inline void tb_begin(tb_t *b)
{
	st_berw_init(&b->w, b->buf, sizeof(b->buf));
	b->vbl_mark = st_berw_len(&b->w);
}

/* prepend SEQUENCE { OID oid, <value written since mark> } */
static inline void tb_name(tb_t *b, const char *oid, size_t mark)
{
	uint8_t o[ST_OID_MAX_SUBIDS * 5];
	int n = st_oid_parse(oid, o, sizeof(o));

	cr_assert_gt(n, 0, "bad test OID %s", oid);
	st_berw_oid(&b->w, o, (size_t)n);
	st_berw_wrap(&b->w, ST_BER_SEQUENCE, mark);
}

/* a varbind whose value is the complete TLV given */
static inline void tb_vb_raw(tb_t *b, const char *oid, const void *tlv, size_t len)
{
	size_t mark = st_berw_len(&b->w);

	st_berw_raw(&b->w, tlv, len);
	tb_name(b, oid, mark);
}

static inline void tb_vb_int(tb_t *b, const char *oid, int64_t v)
{
	size_t mark = st_berw_len(&b->w);

	st_berw_int(&b->w, ST_BER_INTEGER, v);
	tb_name(b, oid, mark);
}

static inline void tb_vb_uint(tb_t *b, const char *oid, uint8_t tag, uint64_t v)
{
	size_t mark = st_berw_len(&b->w);

	st_berw_uint(&b->w, tag, v);
	tb_name(b, oid, mark);
}

static inline void tb_vb_octets(tb_t *b, const char *oid, uint8_t tag, const void *p, size_t len)
{
	size_t mark = st_berw_len(&b->w);

	st_berw_octets(&b->w, tag, p, len);
	tb_name(b, oid, mark);
}

static inline void tb_vb_oid(tb_t *b, const char *oid, const char *value)
{
	uint8_t o[ST_OID_MAX_SUBIDS * 5];
	size_t mark = st_berw_len(&b->w);
	int n = st_oid_parse(value, o, sizeof(o));

	cr_assert_gt(n, 0, "bad test OID %s", value);
	st_berw_oid(&b->w, o, (size_t)n);
	tb_name(b, oid, mark);
}

static inline void tb_vb_null(tb_t *b, const char *oid, uint8_t tag)
{
	size_t mark = st_berw_len(&b->w);

	st_berw_null(&b->w, tag);
	tb_name(b, oid, mark);
}

/* close the VarBindList and wrap a v1/v2c message around it (request-id
 * PDU shape) */
static inline size_t tb_finish(tb_t *b, int version, uint8_t pdu_type, int32_t request_id,
                               const void *community, size_t community_len, const uint8_t **out)
{
	int n;

	st_berw_wrap(&b->w, ST_BER_SEQUENCE, b->vbl_mark);
	st_berw_int(&b->w, ST_BER_INTEGER, 0);
	st_berw_int(&b->w, ST_BER_INTEGER, 0);
	st_berw_int(&b->w, ST_BER_INTEGER, request_id);
	st_berw_wrap(&b->w, pdu_type, 0);
	st_berw_octets(&b->w, ST_BER_OCTETS, community, community_len);
	st_berw_int(&b->w, ST_BER_INTEGER, version);
	st_berw_wrap(&b->w, ST_BER_SEQUENCE, 0);
	n = st_berw_finish(&b->w, out);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

#endif /* ST_TEST_BUILDER_H */
