/* SPDX-License-Identifier: Apache-2.0 */
/*
 * helpers.h - small shared pieces of the usm tests: hex, building an
 * st_usm_t from a users text, running one datagram through it, finding a
 * varbind, and an HMAC/AES reference computed with OpenSSL's one-shot
 * functions (a path independent of the library's keyed contexts).
 */
#ifndef ST_USM_TEST_HELPERS_H
#define ST_USM_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "st_codec.h"
#include "st_usm.h"

static inline size_t hx(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	for (; hex[0] && hex[1] && n < cap; hex += 2) {
		unsigned v;
		cr_assert(sscanf(hex, "%2x", &v) == 1, "bad hex in test: %s", hex);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static inline void tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* A configured engine, one worker, and what a run left behind. */
typedef struct fixture {
	st_usm_t *usm;
	st_usm_worker_t *w;
	st_msg_t *msg;
	uint8_t report[2048];
	size_t report_len;
	uint8_t ours[32];
	size_t ours_len;
} fixture_t;

static inline void fx_open_conf(fixture_t *fx, const char *users_text, const st_usm_conf_t *conf)
{
	st_usm_users_t *users = NULL;
	char err[256];
	memset(fx, 0, sizeof(*fx));
	if (users_text) {
		int rc = st_usm_users_parse(users_text, "users.conf", &users, err, sizeof(err));
		cr_assert_eq(rc, 0, "users: %s", err);
	}
	int rc = st_usm_new(conf, users, &fx->usm, err, sizeof(err));
	cr_assert_eq(rc, 0, "st_usm_new: %s", err);
	fx->w = st_usm_worker_new(fx->usm);
	cr_assert_not_null(fx->w);
	fx->msg = calloc(1, sizeof(*fx->msg));
	cr_assert_not_null(fx->msg);
}

/* Our engine is VEC_OURS-like when ours_hex is given; learn mode. */
static inline void fx_open(fixture_t *fx, const char *users_text, const char *ours_hex,
                           int32_t boots, int64_t epoch)
{
	uint8_t ours[32];
	size_t n = ours_hex ? hx(ours_hex, ours, sizeof(ours)) : 0;
	st_usm_conf_t conf = {
	        .engine_id = n ? ours : NULL,
	        .engine_id_len = n,
	        .engine_boots = boots,
	        .engine_epoch = epoch,
	        .timeliness = ST_USM_TIMELINESS_LEARN,
	};
	fx_open_conf(fx, users_text, &conf);
	memcpy(fx->ours, ours, n);
	fx->ours_len = n;
}

static inline void fx_close(fixture_t *fx)
{
	st_usm_worker_free(fx->w);
	st_usm_free(fx->usm);
	free(fx->msg);
	memset(fx, 0, sizeof(*fx));
}

/* Decode and security-process one datagram at unix time now_sec. */
static inline int fx_run(fixture_t *fx, const uint8_t *pkt, size_t len, int64_t now_sec)
{
	struct timespec now = {.tv_sec = now_sec, .tv_nsec = 0};
	int rc = st_snmp_decode(pkt, len, fx->msg);
	cr_assert_eq(rc, 0, "st_snmp_decode: %s", st_strerror(rc));
	fx->report_len = 0;
	return st_usm_process(fx->w, pkt, len, fx->msg, &now, fx->report, sizeof(fx->report),
	                      &fx->report_len);
}

static inline st_usm_stats_t fx_stats(const fixture_t *fx)
{
	st_usm_stats_t s;
	st_usm_worker_stats(fx->w, &s);
	return s;
}

/* The varbind with this dotted OID, or NULL. */
static inline const st_varbind_t *find_vb(const st_pdu_t *pdu, const char *dotted)
{
	uint8_t oid[ST_OID_MAX_SUBIDS * 5];
	int n = st_oid_parse(dotted, oid, sizeof(oid));
	cr_assert_gt(n, 0);
	for (uint32_t i = 0; i < pdu->nvb; i++)
		if (pdu->vb[i].oid_len == (size_t)n && memcmp(pdu->vb[i].oid, oid, (size_t)n) == 0)
			return &pdu->vb[i];
	return NULL;
}

/* Assert the PDU carries OctetString text at oid. */
static inline void expect_text(const st_pdu_t *pdu, const char *oid, const char *text)
{
	const st_varbind_t *vb = find_vb(pdu, oid);
	cr_assert_not_null(vb, "no varbind %s", oid);
	cr_assert_eq(vb->type, ST_BER_OCTETS);
	cr_assert_eq(vb->val_len, strlen(text));
	cr_assert(memcmp(vb->val, text, vb->val_len) == 0, "%s is '%.*s', want '%s'", oid,
	          (int)vb->val_len, (const char *)vb->val, text);
}

/* Reference HMAC (OpenSSL one-shot HMAC()) of msg with the auth params at
 * off zeroed, compared with what the message carries. */
static inline int ref_hmac_ok(int auth, const uint8_t *key, const uint8_t *msg, size_t len,
                              size_t off)
{
	static const char *md[] = {NULL, "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
	size_t ml = st_usm_auth_mac_len(auth);
	uint8_t *copy = malloc(len), mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	memcpy(copy, msg, len);
	memset(copy + off, 0, ml);
	HMAC(EVP_get_digestbyname(md[auth]), key, (int)st_usm_auth_key_len(auth), copy, len, mac,
	     &maclen);
	free(copy);
	return maclen >= ml && memcmp(mac, msg + off, ml) == 0;
}

/* Ku then Kul of a passphrase for an engine (library key functions). */
static inline void kul_of(int auth, const char *pass, const uint8_t *engine, size_t engine_len,
                          uint8_t *kul)
{
	uint8_t ku[ST_USM_KEY_MAX];
	size_t ku_len = sizeof(ku), kul_len = ST_USM_KEY_MAX;
	cr_assert_eq(st_usm_password_to_key(auth, pass, strlen(pass), ku, &ku_len), 0);
	cr_assert_eq(st_usm_localize(auth, ku, ku_len, engine, engine_len, kul, &kul_len), 0);
}

/* A plaintext ScopedPDU: context engine ctx, SNMPv2-Trap-PDU (or pdu_type)
 * with sysUpTime.0 = 4242, snmpTrapOID.0 = 1.3.6.1.4.1.8072.2.3.0.1 and
 * 1.3.6.1.4.1.8072.2.3.2.1 = text. */
static inline int make_scoped(const uint8_t *ctx, size_t ctx_len, uint8_t pdu_type,
                              int32_t request_id, const char *text, uint8_t *out, size_t cap)
{
	uint8_t vbbuf[512], trap_oid[32], text_oid[32];
	const uint8_t *vbl;
	st_berw_t bw;
	int tl = st_oid_parse("1.3.6.1.4.1.8072.2.3.0.1", trap_oid, sizeof(trap_oid));
	int xl = st_oid_parse("1.3.6.1.4.1.8072.2.3.2.1", text_oid, sizeof(text_oid));
	cr_assert(tl > 0 && xl > 0);
	st_berw_init(&bw, vbbuf, sizeof(vbbuf));
	st_berw_octets(&bw, ST_BER_OCTETS, text, strlen(text));
	st_berw_oid(&bw, text_oid, (size_t)xl);
	st_berw_wrap(&bw, ST_BER_SEQUENCE, 0);
	size_t m = st_berw_len(&bw);
	st_berw_oid(&bw, trap_oid, (size_t)tl);
	st_berw_oid(&bw, ST_OID_SNMPTRAPOID0, sizeof(ST_OID_SNMPTRAPOID0));
	st_berw_wrap(&bw, ST_BER_SEQUENCE, m);
	m = st_berw_len(&bw);
	st_berw_uint(&bw, ST_BER_TIMETICKS, 4242);
	st_berw_oid(&bw, ST_OID_SYSUPTIME0, sizeof(ST_OID_SYSUPTIME0));
	st_berw_wrap(&bw, ST_BER_SEQUENCE, m);
	st_berw_wrap(&bw, ST_BER_SEQUENCE, 0);
	int n = st_berw_finish(&bw, &vbl);
	cr_assert_gt(n, 0);
	return st_snmp_encode_scoped(ctx, ctx_len, (const uint8_t *)"", 0, pdu_type, request_id,
	                             vbl, (size_t)n, out, cap);
}

/* A sender for user/auth/priv playing engine hex with boots/time. */
static inline st_usm_sender_t *make_sender(const char *user, int auth, const char *apass, int priv,
                                           const char *ppass, const char *engine_hex, int32_t boots,
                                           int32_t time, int64_t now_sec)
{
	uint8_t e[32];
	size_t el = engine_hex ? hx(engine_hex, e, sizeof(e)) : 0;
	st_usm_sender_conf_t conf = {
	        .user = user,
	        .auth = auth,
	        .auth_pass = apass,
	        .priv = priv,
	        .priv_pass = ppass,
	        .engine_id = el ? e : NULL,
	        .engine_id_len = el,
	        .engine_boots = boots,
	        .engine_time = time,
	};
	struct timespec now = {.tv_sec = now_sec};
	st_usm_sender_t *s = NULL;
	char err[256];
	int rc = st_usm_sender_new(&conf, &now, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "sender: %s", err);
	return s;
}

/* Encode a trap from sender s (engine time as of now_sec). */
static inline size_t send_trap(st_usm_sender_t *s, const char *text, int64_t now_sec, uint8_t *out,
                               size_t cap)
{
	uint8_t scoped[1024];
	size_t el;
	const uint8_t *e = st_usm_sender_engine(s, &el);
	int n = make_scoped(e, el, ST_PDU_TRAPV2, 77, text, scoped, sizeof(scoped));
	cr_assert_gt(n, 0);
	struct timespec now = {.tv_sec = now_sec};
	int len = st_usm_sender_encode(s, 1234, 0, scoped, (size_t)n, &now, out, cap);
	cr_assert_gt(len, 0, "sender_encode: %s", st_strerror(len));
	return (size_t)len;
}

#endif
