/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snmp.c - SNMP message decoding and the few encodings a collector sends.
 *
 * Decoding follows the fixed grammar of RFC 1157 (v1), RFC 3416 (v2c PDUs)
 * and RFC 3412/3414 (v3 message and USM security parameters) top-down, one
 * cursor per SEQUENCE level. The grammar is at most six levels deep
 * (message, scoped PDU, PDU, VarBindList, VarBind, value), so the decoder is
 * straight-line code: a constructed value where the grammar wants something
 * else is a tag error, and no input can make it recurse or loop other than
 * over the varbinds, which are capped at ST_SNMP_MAX_VARBINDS.
 *
 * Nothing is copied: the decoded st_msg_t points into the datagram. Only the
 * header fields of st_msg_t are cleared per message; the 20 KiB varbind
 * array is written up to nvb and never cleared, because clearing it would
 * cost more than decoding a typical trap.
 *
 * Value checks go as far as a consumer needs to trust the result without
 * looking again: every OID is validated (so formatting it cannot fail),
 * IpAddress is exactly 4 octets, Counter32/Gauge32/TimeTicks fit 32 bits
 * and Counter64 64 bits. INTEGER values are accepted up to 64 bits although
 * SMIv2 Integer32 is 32 bits: agents that send larger values exist, and
 * keeping the value is more useful to an operator than dropping the trap.
 *
 * Encoders use the backwards writer of ber.c and then move the result to
 * the start of the caller's buffer, which is what callers expect.
 */
#include <limits.h>
#include <string.h>

#include "ber_priv.h"
#include "st_codec.h"

const uint8_t ST_OID_SYSUPTIME0[8] = {0x2b, 6, 1, 2, 1, 1, 3, 0};
const uint8_t ST_OID_SNMPTRAPOID0[10] = {0x2b, 6, 1, 6, 3, 1, 1, 4, 1, 0};
const uint8_t ST_OID_SNMPTRAPADDR0[9] = {0x2b, 6, 1, 6, 3, 18, 1, 3, 0};

/* snmpTraps, 1.3.6.1.6.3.1.1.5: RFC 3584 3.1 generic trap prefix */
static const uint8_t oid_snmp_traps[8] = {0x2b, 6, 1, 6, 3, 1, 1, 5};

/* ------------------------------------------------------------------ */
/* Decoding helpers                                                   */
/* ------------------------------------------------------------------ */

static inline int rd_enter(st_ber_t *ber, uint8_t tag, st_ber_t *inner)
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

static inline int rd_int(st_ber_t *ber, int64_t *v)
{
	st_ber_t c = *ber;
	const uint8_t *val;
	size_t len;
	int rc = st_ber_expect_inline(&c, ST_BER_INTEGER, &val, &len);

	if (rc == 0)
		rc = st_ber_int_content(val, len, v);
	if (rc == 0)
		*ber = c;
	return rc;
}

/* An INTEGER that must lie in [lo, hi]; out-of-range is @range_err. */
static inline int rd_int_range(st_ber_t *ber, int64_t lo, int64_t hi, int range_err, int64_t *v)
{
	int rc = rd_int(ber, v);

	if (rc)
		return rc;
	if (*v < lo || *v > hi)
		return range_err;
	return 0;
}

static inline int rd_int32(st_ber_t *ber, int32_t *v)
{
	int64_t x;
	int rc = rd_int_range(ber, INT32_MIN, INT32_MAX, ST_ERR_BER_INT, &x);

	if (rc == 0)
		*v = (int32_t)x;
	return rc;
}

static inline int rd_octets(st_ber_t *ber, const uint8_t **val, size_t *len)
{
	return st_ber_expect_inline(ber, ST_BER_OCTETS, val, len);
}

static inline int rd_oid(st_ber_t *ber, const uint8_t **val, size_t *len)
{
	st_ber_t c = *ber;
	int rc = st_ber_expect_inline(&c, ST_BER_OID, val, len);

	if (rc == 0)
		rc = st_oid_check_inline(*val, *len);
	if (rc == 0)
		*ber = c;
	return rc;
}

/* Decode one VarBind value (tag and content already split) into vb. */
static inline int decode_value(st_varbind_t *vb, uint8_t tag, const uint8_t *val, size_t len)
{
	int rc = 0;

	vb->type = tag;
	vb->val = val;
	vb->val_len = (uint32_t)len; /* a BER length has at most 32 bits */
	switch (tag) {
	case ST_BER_INTEGER:
		rc = st_ber_int_content(val, len, &vb->num.i);
		break;
	case ST_BER_OCTETS:
	case ST_BER_OPAQUE:
		break;
	case ST_BER_NULL:
	case ST_BER_NOSUCHOBJECT:
	case ST_BER_NOSUCHINSTANCE:
	case ST_BER_ENDOFMIBVIEW:
		if (len != 0)
			rc = ST_ERR_BER_VALUE;
		break;
	case ST_BER_OID:
		rc = st_oid_check_inline(val, len);
		break;
	case ST_BER_IPADDR:
		if (len != 4)
			rc = ST_ERR_BER_VALUE;
		break;
	case ST_BER_COUNTER32:
	case ST_BER_GAUGE32:
	case ST_BER_TIMETICKS:
		rc = st_ber_uint_content(val, len, 32, &vb->num.u);
		break;
	case ST_BER_COUNTER64:
		rc = st_ber_uint_content(val, len, 64, &vb->num.u);
		break;
	default:
		rc = ST_ERR_BER_TAG;
		break;
	}
	return rc;
}

/* VarBindList ::= SEQUENCE OF SEQUENCE { name OID, value ObjectSyntax } */
static int decode_vbl(st_ber_t *ber, st_pdu_t *pdu)
{
	const uint8_t *start = ber->p;
	st_ber_t list;
	uint32_t n = 0;
	int rc = rd_enter(ber, ST_BER_SEQUENCE, &list);

	if (rc)
		return rc;
	pdu->vbl = start;
	pdu->vbl_len = (size_t)(ber->p - start);
	while (list.p < list.end) {
		st_varbind_t *vb;
		st_ber_t seq;
		const uint8_t *oid, *val;
		size_t oid_len, len;
		uint8_t tag;

		if (n == ST_SNMP_MAX_VARBINDS)
			return ST_ERR_SNMP_VARBINDS;
		vb = &pdu->vb[n];
		rc = rd_enter(&list, ST_BER_SEQUENCE, &seq);
		if (rc)
			return rc;
		rc = rd_oid(&seq, &oid, &oid_len);
		if (rc)
			return rc;
		rc = st_ber_tlv_inline(&seq, &tag, &val, &len);
		if (rc)
			return rc;
		if (seq.p != seq.end)
			return ST_ERR_BER_TRAILING;
		vb->oid = oid;
		vb->oid_len = (uint16_t)oid_len; /* validated: <= 640 octets */
		rc = decode_value(vb, tag, val, len);
		if (rc)
			return rc;
		n++;
	}
	pdu->nvb = n;
	return 0;
}

/* Clear everything in the PDU but the varbind array (see top of file). */
static inline void pdu_reset(st_pdu_t *pdu)
{
	memset(pdu, 0, offsetof(st_pdu_t, vb));
}

/*
 * PDU: the tag picks the shape. v1 allows Get/GetNext/Response/Set and the
 * v1 Trap-PDU; v2c and v3 allow every RFC 3416 PDU but the v1 Trap-PDU.
 * GetBulk's non-repeaters and max-repetitions land in error_status and
 * error_index, where RFC 3416 puts them on the wire.
 */
static int decode_pdu(st_ber_t *ber, int version, st_pdu_t *pdu)
{
	st_ber_t in;
	uint8_t tag;
	int rc;

	pdu_reset(pdu);
	if (ber->p == ber->end)
		return ST_ERR_BER_TRUNCATED;
	tag = ber->p[0];
	if (tag < ST_PDU_GET || tag > ST_PDU_REPORT)
		return ST_ERR_SNMP_PDU;
	if (version == ST_SNMP_V1 ? tag > ST_PDU_TRAPV1 : tag == ST_PDU_TRAPV1)
		return ST_ERR_SNMP_PDU;
	rc = rd_enter(ber, tag, &in);
	if (rc)
		return rc;
	pdu->type = tag;
	if (tag == ST_PDU_TRAPV1) {
		const uint8_t *addr;
		size_t alen;
		uint64_t ts;

		rc = rd_oid(&in, &pdu->enterprise, &pdu->enterprise_len);
		if (rc)
			return rc;
		rc = st_ber_expect_inline(&in, ST_BER_IPADDR, &addr, &alen);
		if (rc)
			return rc;
		if (alen != 4)
			return ST_ERR_BER_VALUE;
		pdu->agent_addr = addr;
		rc = rd_int32(&in, &pdu->generic_trap);
		if (rc)
			return rc;
		rc = rd_int32(&in, &pdu->specific_trap);
		if (rc)
			return rc;
		{
			const uint8_t *val;
			size_t len;

			rc = st_ber_expect_inline(&in, ST_BER_TIMETICKS, &val, &len);
			if (rc == 0)
				rc = st_ber_uint_content(val, len, 32, &ts);
			if (rc)
				return rc;
		}
		pdu->timestamp = (uint32_t)ts;
	} else {
		rc = rd_int32(&in, &pdu->request_id);
		if (rc == 0)
			rc = rd_int32(&in, &pdu->error_status);
		if (rc == 0)
			rc = rd_int32(&in, &pdu->error_index);
		if (rc)
			return rc;
	}
	rc = decode_vbl(&in, pdu);
	if (rc)
		return rc;
	if (in.p != in.end)
		return ST_ERR_BER_TRAILING;
	return 0;
}

/* ScopedPDU ::= SEQUENCE { contextEngineID, contextName, data } */
static int decode_scoped(st_ber_t *ber, st_msg_t *msg)
{
	st_ber_t in;
	int rc = rd_enter(ber, ST_BER_SEQUENCE, &in);

	if (rc)
		return rc;
	rc = rd_octets(&in, &msg->context_engine_id, &msg->context_engine_id_len);
	if (rc)
		return rc;
	rc = rd_octets(&in, &msg->context_name, &msg->context_name_len);
	if (rc)
		return rc;
	rc = decode_pdu(&in, ST_SNMP_V3, &msg->pdu);
	if (rc)
		return rc;
	if (in.p != in.end)
		return ST_ERR_BER_TRAILING;
	msg->have_pdu = 1;
	return 0;
}

/*
 * UsmSecurityParameters (RFC 3414 2.4), inside the msgSecurityParameters
 * OCTET STRING. The engine ID may be empty (discovery); RFC 3411 bounds it
 * to 32 octets and the user name likewise.
 */
static int decode_usm(const uint8_t *base, const uint8_t *val, size_t len, st_usm_params_t *usm)
{
	st_ber_t outer, in;
	int64_t v;
	int rc;

	st_ber_init(&outer, val, len);
	rc = rd_enter(&outer, ST_BER_SEQUENCE, &in);
	if (rc)
		return rc;
	if (outer.p != outer.end)
		return ST_ERR_BER_TRAILING;
	rc = rd_octets(&in, &usm->engine_id, &usm->engine_id_len);
	if (rc)
		return rc;
	if (usm->engine_id_len > 32)
		return ST_ERR_USM_PARAMS;
	rc = rd_int_range(&in, 0, INT32_MAX, ST_ERR_USM_PARAMS, &v);
	if (rc)
		return rc;
	usm->boots = v;
	rc = rd_int_range(&in, 0, INT32_MAX, ST_ERR_USM_PARAMS, &v);
	if (rc)
		return rc;
	usm->time = v;
	rc = rd_octets(&in, &usm->user, &usm->user_len);
	if (rc)
		return rc;
	if (usm->user_len > 32)
		return ST_ERR_USM_PARAMS;
	rc = rd_octets(&in, &usm->auth, &usm->auth_len);
	if (rc)
		return rc;
	usm->auth_off = (size_t)(usm->auth - base);
	rc = rd_octets(&in, &usm->priv, &usm->priv_len);
	if (rc)
		return rc;
	if (in.p != in.end)
		return ST_ERR_BER_TRAILING;
	return 0;
}

/* msgGlobalData and everything after the version (RFC 3412 6). */
static int decode_v3(const uint8_t *base, st_ber_t *in, st_msg_t *msg)
{
	st_ber_t hdr;
	const uint8_t *val;
	size_t len;
	int64_t v;
	int rc;

	rc = rd_enter(in, ST_BER_SEQUENCE, &hdr);
	if (rc)
		return rc;
	rc = rd_int_range(&hdr, 0, INT32_MAX, ST_ERR_SNMP_HEADER, &v);
	if (rc)
		return rc;
	msg->msg_id = (int32_t)v;
	rc = rd_int_range(&hdr, 484, INT32_MAX, ST_ERR_SNMP_HEADER, &v);
	if (rc)
		return rc;
	msg->msg_max_size = (int32_t)v;
	rc = rd_octets(&hdr, &val, &len);
	if (rc)
		return rc;
	if (len != 1)
		return ST_ERR_SNMP_FLAGS;
	msg->msg_flags = val[0];
	rc = rd_int_range(&hdr, 0, INT32_MAX, ST_ERR_SNMP_HEADER, &v);
	if (rc)
		return rc;
	msg->msg_security_model = (int32_t)v;
	if (hdr.p != hdr.end)
		return ST_ERR_BER_TRAILING;
	/* RFC 3412 7.2 step 4 checks the security model before the flags. */
	if (v != 3)
		return ST_ERR_SNMP_SECMODEL;
	if ((msg->msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV)) == ST_MSGFLAG_PRIV)
		return ST_ERR_SNMP_FLAGS;

	rc = rd_octets(in, &val, &len);
	if (rc)
		return rc;
	rc = decode_usm(base, val, len, &msg->usm);
	if (rc)
		return rc;

	if (msg->msg_flags & ST_MSGFLAG_PRIV) {
		rc = rd_octets(in, &msg->encrypted, &msg->encrypted_len);
		if (rc)
			return rc;
		/* the PDU stays unread (have_pdu 0) until the caller decrypts it */
	} else {
		rc = decode_scoped(in, msg);
		if (rc)
			return rc;
	}
	if (in->p != in->end)
		return ST_ERR_BER_TRAILING;
	return 0;
}

int st_snmp_decode(const uint8_t *buf, size_t len, st_msg_t *msg)
{
	st_ber_t ber, in;
	int64_t version;
	int rc;

	/* Clear the header fields and the PDU header, not the varbind array:
	 * pdu is the last member of st_msg_t and vb the last of st_pdu_t. */
	memset(msg, 0, offsetof(st_msg_t, pdu) + offsetof(st_pdu_t, vb));

	st_ber_init(&ber, buf, len);
	rc = rd_enter(&ber, ST_BER_SEQUENCE, &in);
	if (rc)
		return rc;
	if (ber.p != ber.end)
		return ST_ERR_BER_TRAILING;
	rc = rd_int(&in, &version);
	if (rc)
		return rc;
	if (version != ST_SNMP_V1 && version != ST_SNMP_V2C && version != ST_SNMP_V3)
		return ST_ERR_SNMP_VERSION;
	msg->version = (int)version;
	if (version == ST_SNMP_V3)
		return decode_v3(buf, &in, msg);

	rc = rd_octets(&in, &msg->community, &msg->community_len);
	if (rc)
		return rc;
	rc = decode_pdu(&in, msg->version, &msg->pdu);
	if (rc)
		return rc;
	if (in.p != in.end)
		return ST_ERR_BER_TRAILING;
	msg->have_pdu = 1;
	return 0;
}

int st_snmp_decode_scoped(const uint8_t *buf, size_t len, st_msg_t *msg)
{
	st_ber_t ber;
	int rc;

	msg->have_pdu = 0;
	msg->context_engine_id = NULL;
	msg->context_engine_id_len = 0;
	msg->context_name = NULL;
	msg->context_name_len = 0;
	st_ber_init(&ber, buf, len);
	rc = decode_scoped(&ber, msg);
	if (rc)
		msg->have_pdu = 0;
	/* bytes after the SEQUENCE are cipher padding: ignored */
	return rc;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */
/* ------------------------------------------------------------------ */

/* Finish a backwards encoding and move it to the start of the buffer. */
static int berw_to_front(const st_berw_t *w, uint8_t *out)
{
	const uint8_t *p;
	int n = st_berw_finish(w, &p);

	if (n < 0)
		return n;
	memmove(out, p, (size_t)n);
	return n;
}

/* PDU with request-id, error-status 0, error-index 0 and a verbatim
 * VarBindList (an empty one when vbl is NULL). */
static void berw_pdu(st_berw_t *w, uint8_t type, int32_t request_id, const uint8_t *vbl,
                     size_t vbl_len)
{
	size_t mark = st_berw_len(w);

	if (vbl)
		st_berw_raw(w, vbl, vbl_len);
	else
		st_berw_null(w, ST_BER_SEQUENCE);
	st_berw_int(w, ST_BER_INTEGER, 0);
	st_berw_int(w, ST_BER_INTEGER, 0);
	st_berw_int(w, ST_BER_INTEGER, request_id);
	st_berw_wrap(w, type, mark);
}

int st_snmp_encode_response(const st_msg_t *inform, uint8_t *out, size_t cap)
{
	st_berw_t w;
	size_t mark;

	if (inform->version != ST_SNMP_V1 && inform->version != ST_SNMP_V2C)
		return ST_ERR_SNMP_VERSION;
	st_berw_init(&w, out, cap);
	mark = st_berw_len(&w);
	berw_pdu(&w, ST_PDU_RESPONSE, inform->pdu.request_id, inform->pdu.vbl, inform->pdu.vbl_len);
	st_berw_octets(&w, ST_BER_OCTETS, inform->community, inform->community_len);
	st_berw_int(&w, ST_BER_INTEGER, inform->version);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	return berw_to_front(&w, out);
}

/* Any RFC 3416 PDU type but the v1 Trap-PDU is accepted, so that tests and
 * the load generator can build traps and informs with the same code. */
int st_snmp_encode_scoped(const uint8_t *ctx_engine, size_t ctx_engine_len, const uint8_t *ctx_name,
                          size_t ctx_name_len, uint8_t pdu_type, int32_t request_id,
                          const uint8_t *vbl, size_t vbl_len, uint8_t *out, size_t cap)
{
	st_berw_t w;
	size_t mark;

	if (pdu_type < ST_PDU_GET || pdu_type > ST_PDU_REPORT || pdu_type == ST_PDU_TRAPV1)
		return ST_ERR_SNMP_PDU;
	st_berw_init(&w, out, cap);
	mark = st_berw_len(&w);
	berw_pdu(&w, pdu_type, request_id, vbl, vbl_len);
	st_berw_octets(&w, ST_BER_OCTETS, ctx_name, ctx_name_len);
	st_berw_octets(&w, ST_BER_OCTETS, ctx_engine, ctx_engine_len);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	return berw_to_front(&w, out);
}

int st_snmp_encode_v3(const st_v3_out_t *v3, uint8_t *out, size_t cap, size_t *auth_off)
{
	static const uint8_t zeros[64];
	st_berw_t w;
	size_t mark, smark, usm_mark, auth_end = 0;
	uint8_t flags = v3->msg_flags;
	int n;

	if ((flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV)) == ST_MSGFLAG_PRIV)
		return ST_ERR_SNMP_FLAGS;
	if (v3->auth_len > sizeof(zeros))
		return ST_ERR_USM_PARAMS;
	if (v3->engine_id_len > 32 || v3->user_len > 32 || v3->boots < 0 || v3->time < 0)
		return ST_ERR_USM_PARAMS;

	st_berw_init(&w, out, cap);
	mark = st_berw_len(&w);
	/* msgData */
	if (flags & ST_MSGFLAG_PRIV)
		st_berw_octets(&w, ST_BER_OCTETS, v3->scoped, v3->scoped_len);
	else
		st_berw_raw(&w, v3->scoped, v3->scoped_len);
	/* msgSecurityParameters: OCTET STRING { UsmSecurityParameters } */
	smark = st_berw_len(&w);
	usm_mark = st_berw_len(&w);
	st_berw_octets(&w, ST_BER_OCTETS, v3->priv, v3->priv_len);
	st_berw_raw(&w, zeros, v3->auth_len);
	/* the auth content starts auth_end bytes before the end of the output */
	auth_end = st_berw_len(&w);
	st_berw_wrap(&w, ST_BER_OCTETS, auth_end - v3->auth_len);
	st_berw_octets(&w, ST_BER_OCTETS, v3->user, v3->user_len);
	st_berw_int(&w, ST_BER_INTEGER, v3->time);
	st_berw_int(&w, ST_BER_INTEGER, v3->boots);
	st_berw_octets(&w, ST_BER_OCTETS, v3->engine_id, v3->engine_id_len);
	st_berw_wrap(&w, ST_BER_SEQUENCE, usm_mark);
	st_berw_wrap(&w, ST_BER_OCTETS, smark);
	/* msgGlobalData */
	smark = st_berw_len(&w);
	st_berw_int(&w, ST_BER_INTEGER, 3); /* USM */
	st_berw_octets(&w, ST_BER_OCTETS, &flags, 1);
	st_berw_int(&w, ST_BER_INTEGER, v3->msg_max_size);
	st_berw_int(&w, ST_BER_INTEGER, v3->msg_id);
	st_berw_wrap(&w, ST_BER_SEQUENCE, smark);
	st_berw_int(&w, ST_BER_INTEGER, ST_SNMP_V3);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);

	n = berw_to_front(&w, out);
	if (n < 0)
		return n;
	if (auth_off)
		*auth_off = (size_t)n - auth_end;
	return n;
}

/* ------------------------------------------------------------------ */
/* RFC 3584 3.1                                                       */
/* ------------------------------------------------------------------ */

int st_snmp_v1_trap_oid(const st_pdu_t *pdu, uint8_t *out, size_t cap)
{
	uint32_t spec;
	size_t n, k;
	unsigned subids = 1;

	if (pdu->generic_trap >= 0 && pdu->generic_trap < 6) {
		if (cap < sizeof(oid_snmp_traps) + 1)
			return ST_ERR_BER_SPACE;
		memcpy(out, oid_snmp_traps, sizeof(oid_snmp_traps));
		out[sizeof(oid_snmp_traps)] = (uint8_t)(pdu->generic_trap + 1);
		return (int)sizeof(oid_snmp_traps) + 1;
	}
	if (pdu->generic_trap != 6 || pdu->specific_trap < 0)
		return ST_ERR_BER_VALUE;
	if (st_oid_check_inline(pdu->enterprise, pdu->enterprise_len))
		return ST_ERR_BER_OID;
	/* enterprise + ".0" + ".specific" must stay within the OID limit */
	for (size_t i = 0; i < pdu->enterprise_len; i++)
		subids += !(pdu->enterprise[i] & 0x80);
	if (subids + 2 > ST_OID_MAX_SUBIDS)
		return ST_ERR_BER_OID;
	spec = (uint32_t)pdu->specific_trap;
	for (k = 1; k < 5 && (spec >> (7 * k)) != 0; k++)
		;
	n = pdu->enterprise_len + 1 + k;
	if (n > cap)
		return ST_ERR_BER_SPACE;
	memcpy(out, pdu->enterprise, pdu->enterprise_len);
	out[pdu->enterprise_len] = 0;
	for (size_t i = 0; i < k; i++)
		out[n - 1 - i] = (uint8_t)(((spec >> (7 * i)) & 0x7f) | (i ? 0x80 : 0));
	return (int)n;
}
