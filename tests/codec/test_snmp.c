/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_snmp.c - SNMP message decoding against captured datagrams, the error
 * paths (truncation, trailing bytes, nesting, limits), the Response / v3
 * encoders and the RFC 3584 v1 trap OID mapping.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "captures.h"
#include "st_codec.h"

/* st_msg_t holds 512 varbinds (~20 KiB): keep it off the test stack */
static st_msg_t msg_a, msg_b;

#define CAP(x)                                                                                     \
	{                                                                                          \
#x, x, sizeof(x)                                                                   \
	}
static const struct {
	const char *name;
	const uint8_t *buf;
	size_t len;
} captures[] = {
        CAP(cap_v1_generic), CAP(cap_v1_specific), CAP(cap_v2c_types), CAP(cap_v2c_opaque),
        CAP(cap_v2c_inform), CAP(cap_pysnmp_v2c),  CAP(cap_v3_noauth), CAP(cap_v3_authpriv),
};
#define NCAPS (sizeof(captures) / sizeof(captures[0]))

static void oid_eq(const uint8_t *oid, size_t len, const char *want)
{
	char s[ST_OID_STR_MAX];

	cr_assert_gt(st_oid_format(oid, len, s, sizeof(s)), 0);
	cr_assert_str_eq(s, want);
}

static void octets_eq(const uint8_t *p, size_t len, const void *want, size_t want_len)
{
	cr_assert_eq(len, want_len);
	cr_assert_eq(memcmp(p, want, len), 0);
}

/* ------------------------------------------------------------------ */
/* Captured datagrams                                                 */
/* ------------------------------------------------------------------ */

Test(snmp, decodes_v1_generic_trap)
{
	st_msg_t *msg = &msg_a;
	const st_pdu_t *pdu = &msg->pdu;

	cr_assert_eq(st_snmp_decode(cap_v1_generic, sizeof(cap_v1_generic), msg), 0);
	cr_assert_eq(msg->version, ST_SNMP_V1);
	cr_assert_eq(msg->have_pdu, 1);
	octets_eq(msg->community, msg->community_len, "public", 6);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV1);
	oid_eq(pdu->enterprise, pdu->enterprise_len, "1.3.6.1.4.1.8072.2.3");
	octets_eq(pdu->agent_addr, 4, "\xc0\x00\x02\x07", 4);
	cr_assert_eq(pdu->generic_trap, 3);
	cr_assert_eq(pdu->specific_trap, 0);
	cr_assert_eq(pdu->timestamp, 12345);
	cr_assert_eq(pdu->nvb, 2);
	oid_eq(pdu->vb[0].oid, pdu->vb[0].oid_len, "1.3.6.1.2.1.2.2.1.1.7");
	cr_assert_eq(pdu->vb[0].type, ST_BER_INTEGER);
	cr_assert_eq(pdu->vb[0].num.i, 7);
	oid_eq(pdu->vb[1].oid, pdu->vb[1].oid_len, "1.3.6.1.2.1.2.2.1.2.7");
	cr_assert_eq(pdu->vb[1].type, ST_BER_OCTETS);
	octets_eq(pdu->vb[1].val, pdu->vb[1].val_len, "Gi0/7", 5);
	/* the VarBindList TLV starts at offset 42 (0x30 0x26) and runs to the end */
	cr_assert_eq(pdu->vbl, cap_v1_generic + 42);
	cr_assert_eq(pdu->vbl_len, sizeof(cap_v1_generic) - 42);
	cr_assert_eq(pdu->vbl[0], 0x30);
}

Test(snmp, decodes_v1_specific_trap)
{
	st_msg_t *msg = &msg_a;
	const st_pdu_t *pdu = &msg->pdu;
	uint8_t oid[64];
	int n;

	cr_assert_eq(st_snmp_decode(cap_v1_specific, sizeof(cap_v1_specific), msg), 0);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV1);
	oid_eq(pdu->enterprise, pdu->enterprise_len, "1.3.6.1.4.1.9.9.41.2");
	octets_eq(pdu->agent_addr, 4, "\x0a\x01\x02\x03", 4);
	cr_assert_eq(pdu->generic_trap, 6);
	cr_assert_eq(pdu->specific_trap, 17);
	cr_assert_eq(pdu->timestamp, 987654);
	cr_assert_eq(pdu->nvb, 2);
	octets_eq(pdu->vb[0].val, pdu->vb[0].val_len, "LINK-3-UPDOWN", 13);
	cr_assert_eq(pdu->vb[1].num.i, 4);
	n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
	cr_assert_gt(n, 0);
	oid_eq(oid, (size_t)n, "1.3.6.1.4.1.9.9.41.2.0.17");
}

Test(snmp, decodes_v2c_trap_with_every_type)
{
	st_msg_t *msg = &msg_a;
	const st_pdu_t *pdu = &msg->pdu;
	const st_varbind_t *vb = pdu->vb;

	cr_assert_eq(st_snmp_decode(cap_v2c_types, sizeof(cap_v2c_types), msg), 0);
	cr_assert_eq(msg->version, ST_SNMP_V2C);
	octets_eq(msg->community, msg->community_len, "public", 6);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV2);
	cr_assert_eq(pdu->request_id, 278898776);
	cr_assert_eq(pdu->error_status, 0);
	cr_assert_eq(pdu->error_index, 0);
	cr_assert_eq(pdu->nvb, 12);

	oid_eq(vb[0].oid, vb[0].oid_len, "1.3.6.1.2.1.1.3.0");
	cr_assert_eq(vb[0].type, ST_BER_TIMETICKS);
	cr_assert_eq(vb[0].num.u, 15010);
	oid_eq(vb[1].oid, vb[1].oid_len, "1.3.6.1.6.3.1.1.4.1.0");
	cr_assert_eq(vb[1].type, ST_BER_OID);
	oid_eq(vb[1].val, vb[1].val_len, "1.3.6.1.6.3.1.1.5.3");
	cr_assert_eq(vb[2].type, ST_BER_INTEGER);
	cr_assert_eq(vb[2].num.i, INT32_MIN);
	cr_assert_eq(vb[3].type, ST_BER_GAUGE32);
	cr_assert_eq(vb[3].num.u, UINT32_MAX);
	cr_assert_eq(vb[4].type, ST_BER_COUNTER32);
	cr_assert_eq(vb[4].num.u, 3000000000u);
	cr_assert_eq(vb[5].type, ST_BER_TIMETICKS);
	cr_assert_eq(vb[5].num.u, 0);
	oid_eq(vb[6].oid, vb[6].oid_len, "1.3.6.1.6.3.18.1.3.0");
	cr_assert_eq(vb[6].type, ST_BER_IPADDR);
	octets_eq(vb[6].val, vb[6].val_len, "\xc0\x00\x02\x63", 4);
	cr_assert_eq(vb[7].type, ST_BER_OID);
	oid_eq(vb[7].val, vb[7].val_len, "1.3.6.1.4.1.8072.3.2.10");
	cr_assert_eq(vb[8].type, ST_BER_OCTETS);
	octets_eq(vb[8].val, vb[8].val_len, "Gi0/7 \"up\"\\", 11);
	cr_assert_eq(vb[9].type, ST_BER_OCTETS);
	octets_eq(vb[9].val, vb[9].val_len, "\x00\x11\x22\x33\x44\xff", 6);
	oid_eq(vb[10].oid, vb[10].oid_len, "1.3.6.1.2.1.1.5.0");
	cr_assert_eq(vb[10].type, ST_BER_NULL);
	cr_assert_eq(vb[10].val_len, 0);
	oid_eq(vb[11].oid, vb[11].oid_len, "1.3.6.1.2.1.31.1.1.1.6.7");
	cr_assert_eq(vb[11].type, ST_BER_COUNTER64);
	cr_assert_eq(vb[11].num.u, UINT64_MAX);
}

Test(snmp, decodes_v2c_opaque)
{
	st_msg_t *msg = &msg_a;
	const st_varbind_t *vb = msg->pdu.vb;

	cr_assert_eq(st_snmp_decode(cap_v2c_opaque, sizeof(cap_v2c_opaque), msg), 0);
	cr_assert_eq(msg->pdu.nvb, 4);
	cr_assert_eq(vb[0].num.u, 42);
	oid_eq(vb[1].val, vb[1].val_len, "1.3.6.1.4.1.8072.2.3.0.1");
	cr_assert_eq(vb[2].type, ST_BER_OPAQUE);
	octets_eq(vb[2].val, vb[2].val_len, "\x9f\x7a\x08\x80\0\0\0\0\0\0\0", 11);
	cr_assert_eq(vb[3].num.i, INT32_MAX);
}

Test(snmp, decodes_v2c_inform)
{
	st_msg_t *msg = &msg_a;
	const st_pdu_t *pdu = &msg->pdu;

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), msg), 0);
	cr_assert_eq(msg->version, ST_SNMP_V2C);
	octets_eq(msg->community, msg->community_len, "private", 7);
	cr_assert_eq(pdu->type, ST_PDU_INFORM);
	cr_assert_eq(pdu->request_id, 299876523);
	cr_assert_eq(pdu->nvb, 6);
	cr_assert_eq(pdu->vb[0].num.u, 777);
	oid_eq(pdu->vb[1].val, pdu->vb[1].val_len, "1.3.6.1.6.3.1.1.5.4");
	cr_assert_eq(pdu->vb[2].num.i, 3);
	cr_assert_eq(pdu->vb[3].num.i, 1);
	cr_assert_eq(pdu->vb[4].num.i, 1);
	octets_eq(pdu->vb[5].val, pdu->vb[5].val_len, "eth2", 4);
	/* VarBindList at offset 29: 0x30 0x70 + 112 content bytes */
	cr_assert_eq(pdu->vbl, cap_v2c_inform + 29);
	cr_assert_eq(pdu->vbl_len, 114);
}

Test(snmp, decodes_pysnmp_trap)
{
	st_msg_t *msg = &msg_a;
	const st_pdu_t *pdu = &msg->pdu;

	cr_assert_eq(st_snmp_decode(cap_pysnmp_v2c, sizeof(cap_pysnmp_v2c), msg), 0);
	cr_assert_eq(msg->version, ST_SNMP_V2C);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV2);
	cr_assert_eq(pdu->request_id, 0x009f2c5d);
	cr_assert_eq(pdu->nvb, 6);
	cr_assert_eq(pdu->vb[0].type, ST_BER_TIMETICKS);
	cr_assert_eq(pdu->vb[0].num.u, 0);
	oid_eq(pdu->vb[1].val, pdu->vb[1].val_len, "1.3.6.1.6.3.1.1.5.3");
	cr_assert_eq(pdu->vb[2].num.i, 2);
	octets_eq(pdu->vb[3].val, pdu->vb[3].val_len, "eth1 \xc3\xa9t\xc3\xa9", 10);
	cr_assert_eq(pdu->vb[4].type, ST_BER_COUNTER32);
	cr_assert_eq(pdu->vb[4].num.u, 123456);
	cr_assert_eq(pdu->vb[5].type, ST_BER_COUNTER64);
	cr_assert_eq(pdu->vb[5].num.u, (1ull << 40) + 5);
}

Test(snmp, decodes_v3_noauth_trap)
{
	st_msg_t *msg = &msg_a;
	const st_usm_params_t *usm = &msg->usm;
	const st_pdu_t *pdu = &msg->pdu;

	cr_assert_eq(st_snmp_decode(cap_v3_noauth, sizeof(cap_v3_noauth), msg), 0);
	cr_assert_eq(msg->version, ST_SNMP_V3);
	cr_assert_eq(msg->msg_id, 1727345156);
	cr_assert_eq(msg->msg_max_size, 65507);
	cr_assert_eq(msg->msg_flags, 0);
	cr_assert_eq(msg->msg_security_model, 3);
	octets_eq(usm->engine_id, usm->engine_id_len, "\x80\x00\x00\x00\x01\x02\x03\x04", 8);
	cr_assert_eq(usm->boots, 1);
	cr_assert_eq(usm->time, 19257);
	octets_eq(usm->user, usm->user_len, "bob", 3);
	cr_assert_eq(usm->auth_len, 0);
	cr_assert_eq(usm->priv_len, 0);
	/* the empty auth params content sits after 04 00 at offset 53 */
	cr_assert_eq(usm->auth_off, 53);
	cr_assert_eq(usm->auth, cap_v3_noauth + 53);
	cr_assert_eq(msg->have_pdu, 1);
	cr_assert_null(msg->encrypted);
	octets_eq(msg->context_engine_id, msg->context_engine_id_len,
	          "\x80\x00\x1f\x88\x80\x67\xa2\x2d\x54\x69\x9c\x01\x6b\x00\x00\x00\x00", 17);
	cr_assert_eq(msg->context_name_len, 0);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV2);
	cr_assert_eq(pdu->request_id, 1675745873);
	cr_assert_eq(pdu->nvb, 3);
	cr_assert_eq(pdu->vb[0].num.u, 123456);
	oid_eq(pdu->vb[1].val, pdu->vb[1].val_len, "1.3.6.1.6.3.1.1.5.1");
	octets_eq(pdu->vb[2].val, pdu->vb[2].val_len, "router1", 7);
}

Test(snmp, decodes_v3_authpriv_header)
{
	st_msg_t *msg = &msg_a;
	const st_usm_params_t *usm = &msg->usm;

	cr_assert_eq(st_snmp_decode(cap_v3_authpriv, sizeof(cap_v3_authpriv), msg), 0);
	cr_assert_eq(msg->msg_flags, ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);
	octets_eq(usm->engine_id, usm->engine_id_len, "\x80\x00\x1f\x88\x80\xaa\xbb\xcc\xdd", 9);
	cr_assert_eq(usm->boots, 1);
	cr_assert_eq(usm->time, 19339);
	octets_eq(usm->user, usm->user_len, "alice", 5);
	/* HMAC-SHA-96: 12 octets at offset 56; AES salt: 8 octets */
	cr_assert_eq(usm->auth_len, 12);
	cr_assert_eq(usm->auth_off, 56);
	octets_eq(cap_v3_authpriv + usm->auth_off, 12,
	          "\x4b\x4b\xff\xb7\x17\xf8\x70\x6e\x07\x2b\x8f\x7c", 12);
	octets_eq(usm->priv, usm->priv_len, "\xfe\x44\x46\x45\x1a\xe5\x7f\x1f", 8);
	cr_assert_eq(msg->have_pdu, 0);
	cr_assert_eq(msg->encrypted_len, 96);
	cr_assert_eq(msg->encrypted, cap_v3_authpriv + sizeof(cap_v3_authpriv) - 96);
	/* ciphertext is no ScopedPDU */
	cr_assert_lt(st_snmp_decode_scoped(msg->encrypted, msg->encrypted_len, msg), 0);
	cr_assert_eq(msg->have_pdu, 0);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                    */
/* ------------------------------------------------------------------ */

Test(snmp, every_truncation_fails)
{
	for (size_t c = 0; c < NCAPS; c++) {
		for (size_t n = 0; n < captures[c].len; n++) {
			/* a fresh copy of exactly n bytes, so ASan sees any overread */
			uint8_t *b = malloc(n ? n : 1);

			memcpy(b, captures[c].buf, n);
			cr_assert_lt(st_snmp_decode(b, n, &msg_a), 0, "%s cut at %zu",
			             captures[c].name, n);
			free(b);
		}
	}
}

/* Cut the content, then re-encode the outer SEQUENCE header to match, so the
 * cut is met by the inner decoders rather than by the first length check. */
Test(snmp, every_inner_truncation_fails)
{
	for (size_t c = 0; c < NCAPS; c++) {
		const uint8_t *m = captures[c].buf;
		size_t hdr = (m[1] & 0x80) ? 2 + (m[1] & 0x7f) : 2;
		size_t clen = captures[c].len - hdr;

		for (size_t k = 0; k < clen; k++) {
			st_berw_t w;
			const uint8_t *out;
			uint8_t *b = malloc(k + 8);
			int n;

			st_berw_init(&w, b, k + 8);
			st_berw_raw(&w, m + hdr, k);
			st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
			n = st_berw_finish(&w, &out);
			cr_assert_gt(n, 0);
			cr_assert_lt(st_snmp_decode(out, (size_t)n, &msg_a), 0,
			             "%s content cut at %zu", captures[c].name, k);
			free(b);
		}
	}
}

Test(snmp, rejects_trailing_bytes)
{
	uint8_t b[sizeof(cap_v2c_inform) + 1];

	memcpy(b, cap_v2c_inform, sizeof(cap_v2c_inform));
	b[sizeof(cap_v2c_inform)] = 0x00;
	cr_assert_eq(st_snmp_decode(b, sizeof(b), &msg_a), ST_ERR_BER_TRAILING);
}

static tb_t bld;

/* Each SEQUENCE of the grammar must end where its last field ends. */
Test(snmp, rejects_trailing_inside_containers)
{
	/* varbind SEQUENCE { OID 1.3.6.1, INTEGER 1, NULL } */
	static const uint8_t vb3[] = {0x30, 0x0a, 0x06, 0x03, 0x2b, 0x06,
	                              0x01, 0x02, 0x01, 0x01, 0x05, 0x00};
	st_berw_t w;
	const uint8_t *m;
	uint8_t buf[256], scoped[256];
	size_t n, mark;
	int sn;

	/* message SEQUENCE { 1, "public", Trap { 1, 0, 0, {} }, NULL } */
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_null(&w, ST_BER_NULL);
	mark = st_berw_len(&w);
	st_berw_null(&w, ST_BER_SEQUENCE);
	st_berw_int(&w, ST_BER_INTEGER, 0);
	st_berw_int(&w, ST_BER_INTEGER, 0);
	st_berw_int(&w, ST_BER_INTEGER, 1);
	st_berw_wrap(&w, ST_PDU_TRAPV2, mark);
	st_berw_octets(&w, ST_BER_OCTETS, "public", 6);
	st_berw_int(&w, ST_BER_INTEGER, ST_SNMP_V2C);
	st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
	n = (size_t)st_berw_finish(&w, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_BER_TRAILING);

	/* PDU { request-id, 0, 0, VarBindList, NULL } */
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_null(&w, ST_BER_NULL);
	st_berw_null(&w, ST_BER_SEQUENCE);
	st_berw_int(&w, ST_BER_INTEGER, 0);
	st_berw_int(&w, ST_BER_INTEGER, 0);
	st_berw_int(&w, ST_BER_INTEGER, 1);
	st_berw_wrap(&w, ST_PDU_TRAPV2, 0);
	st_berw_octets(&w, ST_BER_OCTETS, "public", 6);
	st_berw_int(&w, ST_BER_INTEGER, ST_SNMP_V2C);
	st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
	n = (size_t)st_berw_finish(&w, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_BER_TRAILING);

	/* a varbind with a third element */
	tb_begin(&bld);
	st_berw_raw(&bld.w, vb3, sizeof(vb3));
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_BER_TRAILING);

	/* ScopedPDU { engine, name, PDU, NULL }: padding is only allowed after it */
	sn = st_snmp_encode_scoped(NULL, 0, NULL, 0, ST_PDU_TRAPV2, 1, NULL, 0, scoped,
	                           sizeof(scoped));
	cr_assert_gt(sn, 2);
	cr_assert_lt(scoped[1], 0x80);
	st_berw_init(&w, buf, sizeof(buf));
	st_berw_null(&w, ST_BER_NULL);
	st_berw_raw(&w, scoped + 2, (size_t)sn - 2);
	st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
	n = (size_t)st_berw_finish(&w, &m);
	cr_assert_eq(st_snmp_decode_scoped(m, n, &msg_a), ST_ERR_BER_TRAILING);
	cr_assert_eq(st_snmp_decode_scoped(scoped, (size_t)sn, &msg_a), 0);
}

/* decode a v2c trap whose single varbind value is the given TLV */
static int decode_one_value(const uint8_t *tlv, size_t len)
{
	const uint8_t *m;
	size_t n;

	tb_begin(&bld);
	tb_vb_raw(&bld, "1.3.6.1.4.1.1.1", tlv, len);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 4242, "public", 6, &m);
	return st_snmp_decode(m, n, &msg_a);
}

Test(snmp, checks_value_types)
{
	/* IpAddress of 5 octets */
	static const uint8_t ip5[] = {0x40, 0x05, 10, 0, 0, 1, 0};
	/* IpAddress of 3 octets */
	static const uint8_t ip3[] = {0x40, 0x03, 10, 0, 0};
	/* NULL with one content octet */
	static const uint8_t null1[] = {0x05, 0x01, 0x00};
	/* noSuchObject, noSuchInstance, endOfMibView: [0..2] IMPLICIT NULL */
	static const uint8_t nso[] = {0x80, 0x00}, nsi[] = {0x81, 0x00}, eom[] = {0x82, 0x00};
	/* endOfMibView with content */
	static const uint8_t eom1[] = {0x82, 0x01, 0x00};
	/* [APPLICATION 7] (0x47): no such SMI type */
	static const uint8_t app7[] = {0x47, 0x01, 0x00};
	/* Counter32 of 2^32 */
	static const uint8_t c32[] = {0x41, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
	/* Counter64 negative */
	static const uint8_t c64[] = {0x46, 0x01, 0x80};
	/* OBJECT IDENTIFIER value with a non-minimal sub-identifier */
	static const uint8_t oid[] = {0x06, 0x03, 0x2b, 0x80, 0x01};
	/* INTEGER of 9 octets */
	static const uint8_t int9[] = {0x02, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	/* Opaque of 0 octets */
	static const uint8_t opq[] = {0x44, 0x00};
	/* a SEQUENCE as value: the grammar has no constructed values */
	static const uint8_t seq[] = {0x30, 0x02, 0x05, 0x00};

	cr_assert_eq(decode_one_value(ip5, sizeof(ip5)), ST_ERR_BER_VALUE);
	cr_assert_eq(decode_one_value(ip3, sizeof(ip3)), ST_ERR_BER_VALUE);
	cr_assert_eq(decode_one_value(null1, sizeof(null1)), ST_ERR_BER_VALUE);
	cr_assert_eq(decode_one_value(nso, sizeof(nso)), 0);
	cr_assert_eq(msg_a.pdu.vb[0].type, ST_BER_NOSUCHOBJECT);
	cr_assert_eq(decode_one_value(nsi, sizeof(nsi)), 0);
	cr_assert_eq(msg_a.pdu.vb[0].type, ST_BER_NOSUCHINSTANCE);
	cr_assert_eq(decode_one_value(eom, sizeof(eom)), 0);
	cr_assert_eq(msg_a.pdu.vb[0].type, ST_BER_ENDOFMIBVIEW);
	cr_assert_eq(decode_one_value(eom1, sizeof(eom1)), ST_ERR_BER_VALUE);
	cr_assert_eq(decode_one_value(app7, sizeof(app7)), ST_ERR_BER_TAG);
	cr_assert_eq(decode_one_value(c32, sizeof(c32)), ST_ERR_BER_INT);
	cr_assert_eq(decode_one_value(c64, sizeof(c64)), ST_ERR_BER_INT);
	cr_assert_eq(decode_one_value(oid, sizeof(oid)), ST_ERR_BER_OID);
	cr_assert_eq(decode_one_value(int9, sizeof(int9)), ST_ERR_BER_INT);
	cr_assert_eq(decode_one_value(opq, sizeof(opq)), 0);
	cr_assert_eq(msg_a.pdu.vb[0].val_len, 0);
	cr_assert_eq(decode_one_value(seq, sizeof(seq)), ST_ERR_BER_TAG);
}

Test(snmp, rejects_deep_nesting)
{
	enum { DEPTH = 200 };
	uint8_t value[DEPTH * 4 + 2];
	st_berw_t w;
	const uint8_t *v;
	int n;

	/* SEQUENCE { SEQUENCE { ... NULL } } 200 levels deep as a varbind value */
	st_berw_init(&w, value, sizeof(value));
	st_berw_null(&w, ST_BER_NULL);
	for (int i = 0; i < DEPTH; i++)
		st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
	n = st_berw_finish(&w, &v);
	cr_assert_gt(n, 0);
	cr_assert_eq(decode_one_value(v, (size_t)n), ST_ERR_BER_TAG);

	/* the same nest in place of the PDU: 30 { 02 01 01, 04 00, 30 { 30 { ... } } } */
	{
		static uint8_t m[DEPTH * 4 + 32];

		st_berw_init(&w, m, sizeof(m));
		st_berw_null(&w, ST_BER_NULL);
		for (int i = 0; i < DEPTH; i++)
			st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
		st_berw_octets(&w, ST_BER_OCTETS, "", 0);
		st_berw_int(&w, ST_BER_INTEGER, 1);
		st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
		n = st_berw_finish(&w, &v);
		cr_assert_gt(n, 0);
		cr_assert_eq(st_snmp_decode(v, (size_t)n, &msg_a), ST_ERR_SNMP_PDU);
	}
}

static size_t build_n_varbinds(unsigned count, const uint8_t **m)
{
	tb_begin(&bld);
	for (unsigned i = 0; i < count; i++)
		tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.1.1", 1);
	return tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 4242, "public", 6, m);
}

Test(snmp, varbind_limit)
{
	const uint8_t *m;
	size_t n;

	n = build_n_varbinds(ST_SNMP_MAX_VARBINDS, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), 0);
	cr_assert_eq(msg_a.pdu.nvb, ST_SNMP_MAX_VARBINDS);
	n = build_n_varbinds(ST_SNMP_MAX_VARBINDS + 1, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_SNMP_VARBINDS);
}

Test(snmp, version_and_pdu_checks)
{
	const uint8_t *m;
	size_t n;
	uint8_t b[sizeof(cap_v2c_inform)];

	/* version 2 does not exist */
	tb_begin(&bld);
	n = tb_finish(&bld, 2, ST_PDU_TRAPV2, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_SNMP_VERSION);
	/* an empty VarBindList is fine */
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), 0);
	cr_assert_eq(msg_a.pdu.nvb, 0);
	cr_assert_eq(msg_a.pdu.request_id, 4242);
	/* v2-style PDUs in a v1 message */
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V1, ST_PDU_TRAPV2, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_SNMP_PDU);
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V1, ST_PDU_INFORM, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_SNMP_PDU);
	/* v1 Get is fine in v1 */
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V1, ST_PDU_GET, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), 0);
	cr_assert_eq(msg_a.pdu.type, ST_PDU_GET);
	/* unknown context tag 0xa9 */
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V2C, 0xa9, 4242, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg_a), ST_ERR_SNMP_PDU);
	/* every v2c PDU type with the common shape decodes */
	for (uint8_t t = ST_PDU_GET; t <= ST_PDU_REPORT; t++) {
		if (t == ST_PDU_TRAPV1)
			continue;
		tb_begin(&bld);
		n = tb_finish(&bld, ST_SNMP_V2C, t, 4242, "public", 6, &m);
		cr_assert_eq(st_snmp_decode(m, n, &msg_a), 0, "pdu 0x%02x", t);
		cr_assert_eq(msg_a.pdu.type, t);
	}
	/* the v1 Trap-PDU tag in a v2c message: patch byte 15 (0xa6) of the
	 * captured inform to 0xa4 */
	memcpy(b, cap_v2c_inform, sizeof(b));
	cr_assert_eq(b[15], 0xa6);
	b[15] = 0xa4;
	cr_assert_eq(st_snmp_decode(b, sizeof(b), &msg_a), ST_ERR_SNMP_PDU);
}

/* Every single-byte corruption of every capture either fails or decodes to
 * something whose promises hold: OIDs valid, JSON within the bound. */
Test(snmp, corrupted_captures_keep_invariants)
{
	static char json[1 << 16];

	for (size_t c = 0; c < NCAPS; c++) {
		uint8_t b[512];
		size_t len = captures[c].len;

		for (size_t i = 0; i < len; i++) {
			static const uint8_t deltas[] = {0x01, 0x80, 0xff};

			for (size_t d = 0; d < sizeof(deltas); d++) {
				st_json_meta_t meta = {0};

				memcpy(b, captures[c].buf, len);
				b[i] ^= deltas[d];
				if (st_snmp_decode(b, len, &msg_a) != 0)
					continue;
				for (uint32_t k = 0; k < msg_a.pdu.nvb; k++)
					cr_assert_eq(st_oid_check(msg_a.pdu.vb[k].oid,
					                          msg_a.pdu.vb[k].oid_len),
					             0);
				cr_assert_gt(st_json_encode(&msg_a, &meta, json, st_json_bound(len),
				                            NULL),
				             0);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Encoders                                                           */
/* ------------------------------------------------------------------ */

Test(snmp, response_round_trips)
{
	uint8_t out[512];
	int n;

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg_a), 0);
	n = st_snmp_encode_response(&msg_a, out, sizeof(out));
	/* same size as the inform: only the PDU tag differs */
	cr_assert_eq(n, (int)sizeof(cap_v2c_inform));
	cr_assert_eq(st_snmp_decode(out, (size_t)n, &msg_b), 0);
	cr_assert_eq(msg_b.version, ST_SNMP_V2C);
	octets_eq(msg_b.community, msg_b.community_len, "private", 7);
	cr_assert_eq(msg_b.pdu.type, ST_PDU_RESPONSE);
	cr_assert_eq(msg_b.pdu.request_id, msg_a.pdu.request_id);
	cr_assert_eq(msg_b.pdu.error_status, 0);
	cr_assert_eq(msg_b.pdu.error_index, 0);
	octets_eq(msg_b.pdu.vbl, msg_b.pdu.vbl_len, msg_a.pdu.vbl, msg_a.pdu.vbl_len);
	cr_assert_eq(msg_b.pdu.nvb, msg_a.pdu.nvb);
	/* and byte for byte, the inform with its tag changed */
	for (int i = 0; i < n; i++)
		cr_assert_eq(out[i], i == 15 ? ST_PDU_RESPONSE : cap_v2c_inform[i], "byte %d", i);
}

Test(snmp, response_reports_space)
{
	uint8_t out[512];

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg_a), 0);
	for (size_t cap = 0; cap < sizeof(cap_v2c_inform); cap++)
		cr_assert_eq(st_snmp_encode_response(&msg_a, out, cap), ST_ERR_BER_SPACE, "cap %zu",
		             cap);
	cr_assert_eq(st_snmp_encode_response(&msg_a, out, sizeof(cap_v2c_inform)),
	             (int)sizeof(cap_v2c_inform));
	/* v3 informs are answered through st_snmp_encode_v3 */
	cr_assert_eq(st_snmp_decode(cap_v3_noauth, sizeof(cap_v3_noauth), &msg_a), 0);
	cr_assert_eq(st_snmp_encode_response(&msg_a, out, sizeof(out)), ST_ERR_SNMP_VERSION);
}

Test(snmp, v1_trap_oid_mapping)
{
	/* enterprise 1.3.6.1.4.1.9 */
	static const uint8_t ent[] = {0x2b, 6, 1, 4, 1, 9};
	st_pdu_t *pdu = &msg_a.pdu;
	uint8_t oid[64];
	char want[64];
	int n;

	pdu->enterprise = ent;
	pdu->enterprise_len = sizeof(ent);
	pdu->specific_trap = 0;
	for (int g = 0; g <= 5; g++) {
		pdu->generic_trap = g;
		n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
		cr_assert_eq(n, 9);
		snprintf(want, sizeof(want), "1.3.6.1.6.3.1.1.5.%d", g + 1);
		oid_eq(oid, (size_t)n, want);
	}
	pdu->generic_trap = 6;
	pdu->specific_trap = 0;
	n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
	oid_eq(oid, (size_t)n, "1.3.6.1.4.1.9.0.0");
	pdu->specific_trap = 200; /* two octets: 0x81 0x48 */
	n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
	cr_assert_eq(n, 9);
	oid_eq(oid, (size_t)n, "1.3.6.1.4.1.9.0.200");
	pdu->specific_trap = INT32_MAX;
	n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
	oid_eq(oid, (size_t)n, "1.3.6.1.4.1.9.0.2147483647");
	cr_assert_eq(st_snmp_v1_trap_oid(pdu, oid, 8), ST_ERR_BER_SPACE);
	pdu->specific_trap = -1;
	cr_assert_lt(st_snmp_v1_trap_oid(pdu, oid, sizeof(oid)), 0);
	pdu->generic_trap = 7;
	pdu->specific_trap = 1;
	cr_assert_lt(st_snmp_v1_trap_oid(pdu, oid, sizeof(oid)), 0);
	pdu->generic_trap = -1;
	cr_assert_lt(st_snmp_v1_trap_oid(pdu, oid, sizeof(oid)), 0);
}

Test(snmp, v1_trap_oid_respects_subid_limit)
{
	uint8_t ent[ST_OID_MAX_SUBIDS];
	uint8_t oid[ST_OID_MAX_SUBIDS * 5];
	st_pdu_t *pdu = &msg_a.pdu;

	/* enterprise of 126 arcs: + ".0.specific" = 128, fits */
	ent[0] = 0x2b;
	memset(ent + 1, 1, sizeof(ent) - 1);
	pdu->enterprise = ent;
	pdu->enterprise_len = 125;
	pdu->generic_trap = 6;
	pdu->specific_trap = 5;
	cr_assert_eq(st_snmp_v1_trap_oid(pdu, oid, sizeof(oid)), 127);
	cr_assert_eq(st_oid_check(oid, 127), 0);
	/* 127 arcs: one too many */
	pdu->enterprise_len = 126;
	cr_assert_eq(st_snmp_v1_trap_oid(pdu, oid, sizeof(oid)), ST_ERR_BER_OID);
}

/* ------------------------------------------------------------------ */
/* SNMPv3                                                             */
/* ------------------------------------------------------------------ */

static const uint8_t engine[] = {0x80, 0x00, 0x1f, 0x88, 0x04, 's', 't', '-', '1'};

/* VarBindList { sysUpTime.0 = TimeTicks 99, snmpTrapOID.0 = coldStart } */
static const uint8_t v3_vbl[] = {
        0x30, 0x28,                                  /* SEQUENCE */
        0x30, 0x0d,                                  /*   SEQUENCE */
        0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 3, 0,       /*     OID 1.3.6.1.2.1.1.3.0 */
        0x43, 0x01, 99,                              /*     TimeTicks 99 */
        0x30, 0x17,                                  /*   SEQUENCE */
        0x06, 0x0a, 0x2b, 6, 1, 6, 3, 1, 1, 4, 1, 0, /*     OID 1.3.6.1.6.3.1.1.4.1.0 */
        0x06, 0x09, 0x2b, 6, 1, 6, 3, 1, 1, 5, 1,    /*     OID 1.3.6.1.6.3.1.1.5.1 */
};

static int make_scoped(uint8_t pdu_type, uint8_t *out, size_t cap)
{
	return st_snmp_encode_scoped(engine, sizeof(engine), (const uint8_t *)"ctx", 3, pdu_type,
	                             77, v3_vbl, sizeof(v3_vbl), out, cap);
}

static void check_v3_pdu(const st_msg_t *msg, uint8_t pdu_type)
{
	cr_assert_eq(msg->have_pdu, 1);
	octets_eq(msg->context_engine_id, msg->context_engine_id_len, engine, sizeof(engine));
	octets_eq(msg->context_name, msg->context_name_len, "ctx", 3);
	cr_assert_eq(msg->pdu.type, pdu_type);
	cr_assert_eq(msg->pdu.request_id, 77);
	cr_assert_eq(msg->pdu.nvb, 2);
	cr_assert_eq(msg->pdu.vb[0].num.u, 99);
	oid_eq(msg->pdu.vb[1].val, msg->pdu.vb[1].val_len, "1.3.6.1.6.3.1.1.5.1");
	octets_eq(msg->pdu.vbl, msg->pdu.vbl_len, v3_vbl, sizeof(v3_vbl));
}

Test(snmp, v3_plaintext_round_trip)
{
	uint8_t scoped[256], out[512];
	st_v3_out_t v3 = {
	        .msg_id = 1234,
	        .msg_max_size = 65507,
	        .msg_flags = ST_MSGFLAG_REPORTABLE,
	        .engine_id = engine,
	        .engine_id_len = sizeof(engine),
	        .boots = 5,
	        .time = 6789,
	        .user = (const uint8_t *)"bob",
	        .user_len = 3,
	};
	size_t auth_off = 1;
	int sn, n;

	sn = make_scoped(ST_PDU_INFORM, scoped, sizeof(scoped));
	cr_assert_gt(sn, 0);
	v3.scoped = scoped;
	v3.scoped_len = (size_t)sn;
	n = st_snmp_encode_v3(&v3, out, sizeof(out), &auth_off);
	cr_assert_gt(n, 0);
	cr_assert_eq(st_snmp_decode(out, (size_t)n, &msg_a), 0);
	cr_assert_eq(msg_a.version, ST_SNMP_V3);
	cr_assert_eq(msg_a.msg_id, 1234);
	cr_assert_eq(msg_a.msg_max_size, 65507);
	cr_assert_eq(msg_a.msg_flags, ST_MSGFLAG_REPORTABLE);
	cr_assert_eq(msg_a.msg_security_model, 3);
	octets_eq(msg_a.usm.engine_id, msg_a.usm.engine_id_len, engine, sizeof(engine));
	cr_assert_eq(msg_a.usm.boots, 5);
	cr_assert_eq(msg_a.usm.time, 6789);
	octets_eq(msg_a.usm.user, msg_a.usm.user_len, "bob", 3);
	cr_assert_eq(msg_a.usm.auth_len, 0);
	cr_assert_eq(msg_a.usm.auth_off, auth_off);
	cr_assert_eq(msg_a.usm.priv_len, 0);
	check_v3_pdu(&msg_a, ST_PDU_INFORM);
	/* the ScopedPDU is the last thing in the message, byte for byte */
	octets_eq(out + n - sn, (size_t)sn, scoped, (size_t)sn);
}

Test(snmp, v3_auth_reserves_digest)
{
	uint8_t scoped[256], out[512];
	st_v3_out_t v3 = {
	        .msg_id = 1,
	        .msg_max_size = 1500,
	        .msg_flags = ST_MSGFLAG_AUTH,
	        .engine_id = engine,
	        .engine_id_len = sizeof(engine),
	        .boots = 1,
	        .time = 2,
	        .user = (const uint8_t *)"alice",
	        .user_len = 5,
	        .auth_len = 24,
	};
	size_t auth_off = 0;
	int sn, n;

	sn = make_scoped(ST_PDU_REPORT, scoped, sizeof(scoped));
	v3.scoped = scoped;
	v3.scoped_len = (size_t)sn;
	n = st_snmp_encode_v3(&v3, out, sizeof(out), &auth_off);
	cr_assert_gt(n, 0);
	/* 24 zero octets right after the 04 18 header */
	cr_assert_eq(out[auth_off - 2], ST_BER_OCTETS);
	cr_assert_eq(out[auth_off - 1], 24);
	for (size_t i = 0; i < 24; i++)
		cr_assert_eq(out[auth_off + i], 0);
	cr_assert_eq(st_snmp_decode(out, (size_t)n, &msg_a), 0);
	cr_assert_eq(msg_a.usm.auth_len, 24);
	cr_assert_eq(msg_a.usm.auth_off, auth_off);
	cr_assert_eq(msg_a.usm.auth, out + auth_off);
	check_v3_pdu(&msg_a, ST_PDU_REPORT);
	/* every smaller buffer is refused */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(st_snmp_encode_v3(&v3, out, cap, &auth_off), ST_ERR_BER_SPACE);
}

Test(snmp, v3_priv_keeps_ciphertext_and_decodes_plaintext)
{
	uint8_t scoped[256 + 16], out[512], plain[256 + 16];
	uint8_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	st_v3_out_t v3 = {
	        .msg_id = 9,
	        .msg_max_size = 484,
	        .msg_flags = ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV,
	        .engine_id = engine,
	        .engine_id_len = sizeof(engine),
	        .boots = 0,
	        .time = 0,
	        .user = (const uint8_t *)"carol",
	        .user_len = 5,
	        .auth_len = 12,
	        .priv = salt,
	        .priv_len = sizeof(salt),
	};
	int sn, n;

	sn = make_scoped(ST_PDU_TRAPV2, scoped, sizeof(scoped));
	cr_assert_gt(sn, 0);
	/* stand-in "ciphertext": any octets; the decoder must not look inside */
	v3.scoped = scoped;
	v3.scoped_len = (size_t)sn;
	n = st_snmp_encode_v3(&v3, out, sizeof(out), NULL);
	cr_assert_gt(n, 0);
	cr_assert_eq(st_snmp_decode(out, (size_t)n, &msg_a), 0);
	cr_assert_eq(msg_a.have_pdu, 0);
	octets_eq(msg_a.encrypted, msg_a.encrypted_len, scoped, (size_t)sn);
	octets_eq(msg_a.usm.priv, msg_a.usm.priv_len, salt, sizeof(salt));
	cr_assert_eq(msg_a.msg_max_size, 484);

	/* "decrypted" plaintext with 0..15 bytes of block padding after it */
	for (size_t pad = 0; pad < 16; pad++) {
		memcpy(plain, scoped, (size_t)sn);
		memset(plain + sn, 0xa5, pad);
		cr_assert_eq(st_snmp_decode_scoped(plain, (size_t)sn + pad, &msg_a), 0, "pad %zu",
		             pad);
		check_v3_pdu(&msg_a, ST_PDU_TRAPV2);
	}
	/* a plaintext cut short is an error */
	for (int cut = 0; cut < sn; cut++)
		cr_assert_lt(st_snmp_decode_scoped(plain, (size_t)cut, &msg_a), 0);
	cr_assert_eq(msg_a.have_pdu, 0);
}

/* A v3 message built field by field, so each field can be made wrong. */
typedef struct {
	int64_t msg_id, max_size, secmodel, boots, time;
	uint8_t flags[2];
	size_t flags_len, engine_len, user_len;
	int scoped_as_octets;
} v3_fields_t;

static size_t build_v3(const v3_fields_t *f, uint8_t *buf, size_t cap, const uint8_t **out)
{
	static const uint8_t long_engine[40] = {0x80, 0x00, 0x1f, 0x88, 0x04};
	static const char long_user[40] = "abcdefghijklmnopqrstuvwxyzabcdefghijklm";
	uint8_t scoped[256];
	int sn = make_scoped(ST_PDU_TRAPV2, scoped, sizeof(scoped));
	st_berw_t w;
	size_t mark;
	int n;

	st_berw_init(&w, buf, cap);
	if (f->scoped_as_octets)
		st_berw_octets(&w, ST_BER_OCTETS, scoped, (size_t)sn);
	else
		st_berw_raw(&w, scoped, (size_t)sn);
	mark = st_berw_len(&w);
	st_berw_octets(&w, ST_BER_OCTETS, "", 0);
	st_berw_octets(&w, ST_BER_OCTETS, "", 0);
	st_berw_octets(&w, ST_BER_OCTETS, long_user, f->user_len);
	st_berw_int(&w, ST_BER_INTEGER, f->time);
	st_berw_int(&w, ST_BER_INTEGER, f->boots);
	st_berw_octets(&w, ST_BER_OCTETS, long_engine, f->engine_len);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	st_berw_wrap(&w, ST_BER_OCTETS, mark);
	mark = st_berw_len(&w);
	st_berw_int(&w, ST_BER_INTEGER, f->secmodel);
	st_berw_octets(&w, ST_BER_OCTETS, f->flags, f->flags_len);
	st_berw_int(&w, ST_BER_INTEGER, f->max_size);
	st_berw_int(&w, ST_BER_INTEGER, f->msg_id);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	st_berw_int(&w, ST_BER_INTEGER, 3);
	st_berw_wrap(&w, ST_BER_SEQUENCE, 0);
	n = st_berw_finish(&w, out);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

static int decode_v3_fields(const v3_fields_t *f)
{
	static uint8_t buf[1024];
	const uint8_t *m;
	size_t n = build_v3(f, buf, sizeof(buf), &m);

	return st_snmp_decode(m, n, &msg_a);
}

Test(snmp, v3_header_checks)
{
	const v3_fields_t ok = {
	        .msg_id = 100,
	        .max_size = 1500,
	        .secmodel = 3,
	        .boots = 1,
	        .time = 1,
	        .flags = {0x04},
	        .flags_len = 1,
	        .engine_len = 9,
	        .user_len = 3,
	};
	v3_fields_t f;

	cr_assert_eq(decode_v3_fields(&ok), 0);
	check_v3_pdu(&msg_a, ST_PDU_TRAPV2);

	f = ok, f.max_size = 484;
	cr_assert_eq(decode_v3_fields(&f), 0);
	f = ok, f.max_size = 483;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_HEADER);
	f = ok, f.max_size = INT32_MAX;
	cr_assert_eq(decode_v3_fields(&f), 0);
	f = ok, f.max_size = (int64_t)INT32_MAX + 1;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_HEADER);
	f = ok, f.msg_id = -1;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_HEADER);
	f = ok, f.flags[0] = ST_MSGFLAG_PRIV;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_FLAGS);
	f = ok, f.flags_len = 2;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_FLAGS);
	f = ok, f.flags_len = 0;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_FLAGS);
	f = ok, f.secmodel = 2;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_SNMP_SECMODEL);
	f = ok, f.engine_len = 0; /* discovery: empty engine ID is fine */
	cr_assert_eq(decode_v3_fields(&f), 0);
	f = ok, f.engine_len = 32;
	cr_assert_eq(decode_v3_fields(&f), 0);
	f = ok, f.engine_len = 33;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_USM_PARAMS);
	f = ok, f.user_len = 32;
	cr_assert_eq(decode_v3_fields(&f), 0);
	f = ok, f.user_len = 33;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_USM_PARAMS);
	f = ok, f.boots = -1;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_USM_PARAMS);
	f = ok, f.time = (int64_t)INT32_MAX + 1;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_USM_PARAMS);
	/* plaintext flags but an OCTET STRING where the ScopedPDU belongs */
	f = ok, f.scoped_as_octets = 1;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_BER_TAG);
	/* priv flag but a plaintext SEQUENCE */
	f = ok, f.flags[0] = ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV;
	cr_assert_eq(decode_v3_fields(&f), ST_ERR_BER_TAG);
}

Test(snmp, v3_encoder_refuses_bad_fields)
{
	uint8_t out[512];
	st_v3_out_t v3 = {
	        .msg_id = 1,
	        .msg_max_size = 1500,
	        .msg_flags = ST_MSGFLAG_PRIV,
	        .engine_id = engine,
	        .engine_id_len = sizeof(engine),
	};

	cr_assert_eq(st_snmp_encode_v3(&v3, out, sizeof(out), NULL), ST_ERR_SNMP_FLAGS);
	v3.msg_flags = 0;
	v3.engine_id_len = 33;
	cr_assert_eq(st_snmp_encode_v3(&v3, out, sizeof(out), NULL), ST_ERR_USM_PARAMS);
	cr_assert_eq(st_snmp_encode_scoped(NULL, 0, NULL, 0, ST_PDU_TRAPV1, 1, NULL, 0, out,
	                                   sizeof(out)),
	             ST_ERR_SNMP_PDU);
}
