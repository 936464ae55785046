/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sender.c - the notification originator's side of USM.
 *
 * stormtrap-bench plays SNMPv3 agents: it builds authenticated and
 * encrypted traps as their own authoritative engine, and informs toward a
 * receiver whose engine it must first discover (RFC 3414 4). A sender holds
 * one user's master keys (hashed once) and the keys localized to the engine
 * it currently addresses; re-pointing it at another engine costs one
 * localization, so one sender can play many engines cheaply (clone it per
 * engine, or call st_usm_sender_set_engine()).
 *
 * Coming back, a Report of usmStatsUnknownEngineIDs (unauthenticated by
 * nature) teaches the receiver's engine ID, boots and time; an authentic
 * usmStatsNotInTimeWindows Report teaches boots and time; a Response is
 * authenticated and decrypted like any message. The sender does not check
 * the timeliness of what it receives: it is a load generator, and a stale
 * Response is still a Response for latency accounting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usm_int.h"

struct st_usm_sender {
	uint8_t user[ST_USM_NAME_MAX];
	size_t user_len;
	int auth, priv;
	uint8_t auth_ku[ST_USM_KEY_MAX];
	uint8_t priv_ku[ST_USM_KEY_MAX];
	uint8_t engine[ST_USM_ENGINE_MAX];
	size_t engine_len;
	int32_t boots;
	int64_t time_base; /* local unix seconds at which engineTime was 0 */
	uint64_t salt;
	st_usm_keys_t keys;
	st_usm_ctxs_t ctxs;
	uint8_t plain[ST_USM_DECRYPT_ROOM(ST_USM_MSG_MAX)];
	uint8_t cipher[ST_USM_MSG_MAX + 8];
};

static int serr(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int st_usm_sender_new(const st_usm_sender_conf_t *conf, const struct timespec *now,
                      st_usm_sender_t **out, char *err, size_t errlen)
{
	st_usm_sender_t *s;
	int rc;

	*out = NULL;
	if (!conf || !conf->user || !now)
		return serr(err, errlen, -EINVAL, "no user");
	size_t ulen = strlen(conf->user);
	if (ulen == 0 || ulen > ST_USM_NAME_MAX)
		return serr(err, errlen, -EINVAL, "user name must be 1..32 characters");
	if (conf->auth < ST_USM_AUTH_NONE || conf->auth >= ST_USM_AUTH_COUNT)
		return serr(err, errlen, -EINVAL, "unknown auth protocol");
	if (conf->priv < ST_USM_PRIV_NONE || conf->priv >= ST_USM_PRIV_COUNT)
		return serr(err, errlen, -EINVAL, "unknown priv protocol");
	if (conf->priv != ST_USM_PRIV_NONE && conf->auth == ST_USM_AUTH_NONE)
		return serr(err, errlen, -EINVAL, "privacy needs authentication");
	const char *ppass = conf->priv_pass ? conf->priv_pass : conf->auth_pass;
	if (conf->auth != ST_USM_AUTH_NONE && (!conf->auth_pass || strlen(conf->auth_pass) < 8))
		return serr(err, errlen, -EINVAL, "auth passphrase must be at least 8 characters");
	if (conf->priv != ST_USM_PRIV_NONE && (!ppass || strlen(ppass) < 8))
		return serr(err, errlen, -EINVAL, "priv passphrase must be at least 8 characters");
	if (conf->engine_id_len > ST_USM_ENGINE_MAX || (conf->engine_id_len && !conf->engine_id))
		return serr(err, errlen, -EINVAL, "engine ID must be 1..32 octets");
	const st_usm_crypto_t *cr = st_usm_crypto();
	if (!cr)
		return serr(err, errlen, ST_ERR_USM_CRYPTO,
		            "OpenSSL cannot provide USM algorithms");
	if (conf->priv != ST_USM_PRIV_NONE && !cr->cipher[conf->priv])
		return serr(err, errlen, ST_ERR_USM_CRYPTO,
		            "this OpenSSL cannot provide the priv protocol (legacy provider?)");

	s = calloc(1, sizeof(*s));
	if (!s)
		return serr(err, errlen, -ENOMEM, "out of memory");
	memcpy(s->user, conf->user, ulen);
	s->user_len = ulen;
	s->auth = conf->auth;
	s->priv = conf->priv;
	s->keys.auth = (uint8_t)conf->auth;
	s->keys.priv = (uint8_t)conf->priv;
	if (st_usm_random(&s->salt, sizeof(s->salt)) < 0)
		s->salt = (uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ULL;
	if (s->auth != ST_USM_AUTH_NONE) {
		size_t len = sizeof(s->auth_ku);
		rc = st_usm_password_to_key(s->auth, conf->auth_pass, strlen(conf->auth_pass),
		                            s->auth_ku, &len);
		if (rc == 0 && s->priv != ST_USM_PRIV_NONE) {
			len = sizeof(s->priv_ku);
			rc = st_usm_password_to_key(s->auth, ppass, strlen(ppass), s->priv_ku,
			                            &len);
		}
		if (rc < 0) {
			st_usm_sender_free(s);
			return serr(err, errlen, rc, "cannot derive keys");
		}
	}
	if (conf->engine_id_len) {
		rc = st_usm_sender_set_engine(s, conf->engine_id, conf->engine_id_len,
		                              conf->engine_boots, conf->engine_time, now);
		if (rc < 0) {
			st_usm_sender_free(s);
			return serr(err, errlen, rc, "cannot localize keys");
		}
	}
	*out = s;
	return 0;
}

st_usm_sender_t *st_usm_sender_clone(const st_usm_sender_t *s)
{
	st_usm_sender_t *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	memcpy(c, s, sizeof(*c));
	memset(&c->ctxs, 0, sizeof(c->ctxs)); /* contexts belong to one object */
	if (c->keys.id)
		c->keys.id = st_usm_key_id();
	if (st_usm_random(&c->salt, sizeof(c->salt)) < 0)
		c->salt = s->salt ^ 0x8000000000000000ULL;
	return c;
}

void st_usm_sender_free(st_usm_sender_t *s)
{
	if (!s)
		return;
	st_usm_ctxs_free(&s->ctxs);
	st_usm_wipe(s, sizeof(*s));
	free(s);
}

int st_usm_sender_set_engine(st_usm_sender_t *s, const uint8_t *engine_id, size_t engine_id_len,
                             int32_t boots, int32_t time, const struct timespec *now)
{
	if (!engine_id || engine_id_len == 0 || engine_id_len > ST_USM_ENGINE_MAX || boots < 0 ||
	    time < 0)
		return -EINVAL;
	st_usm_keys_t k = {.auth = (uint8_t)s->auth, .priv = (uint8_t)s->priv};
	int rc = st_usm_keys_localize(&k, s->auth_ku, s->priv_ku, engine_id, engine_id_len);
	if (rc < 0)
		return rc;
	k.id = st_usm_key_id();
	s->keys = k;
	st_usm_wipe(&k, sizeof(k));
	memmove(s->engine, engine_id, engine_id_len);
	s->engine_len = engine_id_len;
	s->boots = boots;
	s->time_base = (int64_t)now->tv_sec - time;
	return 0;
}

const uint8_t *st_usm_sender_engine(const st_usm_sender_t *s, size_t *len)
{
	*len = s->engine_len;
	return s->engine;
}

static int level_of(const st_usm_sender_t *s)
{
	return (s->auth != ST_USM_AUTH_NONE ? ST_MSGFLAG_AUTH : 0) |
	       (s->priv != ST_USM_PRIV_NONE ? ST_MSGFLAG_PRIV : 0);
}

int st_usm_sender_encode(st_usm_sender_t *s, int32_t msg_id, int reportable, const uint8_t *scoped,
                         size_t scoped_len, const struct timespec *now, uint8_t *out, size_t cap)
{
	int level = level_of(s);
	uint8_t salt[8];
	size_t auth_off = 0;

	if (s->engine_len == 0)
		return ST_ERR_USM_UNKNOWN_ENGINE_ID;
	int64_t t = (int64_t)now->tv_sec - s->time_base;
	int32_t time = t < 0 ? 0 : t > INT32_MAX ? INT32_MAX : (int32_t)t;
	if (level & ST_MSGFLAG_PRIV) {
		uint64_t v = s->salt++;
		for (int i = 0; i < 8; i++)
			salt[i] = (uint8_t)(v >> (56 - 8 * i));
		if (!st_usm_priv_tab[s->priv].aes) {
			/* RFC 3414 8.1.1.1: boots, then a local integer */
			salt[0] = (uint8_t)(s->boots >> 24);
			salt[1] = (uint8_t)(s->boots >> 16);
			salt[2] = (uint8_t)(s->boots >> 8);
			salt[3] = (uint8_t)s->boots;
		}
		int n = st_usm_encrypt(&s->ctxs, &s->keys, (uint32_t)s->boots, (uint32_t)time, salt,
		                       scoped, scoped_len, s->cipher, sizeof(s->cipher));
		if (n < 0)
			return n;
		scoped = s->cipher;
		scoped_len = (size_t)n;
	}
	st_v3_out_t v3 = {
	        .msg_id = msg_id,
	        .msg_max_size = 65507,
	        .msg_flags = (uint8_t)(level | (reportable ? ST_MSGFLAG_REPORTABLE : 0)),
	        .engine_id = s->engine,
	        .engine_id_len = s->engine_len,
	        .boots = s->boots,
	        .time = time,
	        .user = s->user,
	        .user_len = s->user_len,
	        .auth_len = st_usm_auth_tab[s->auth].mac_len,
	        .priv = (level & ST_MSGFLAG_PRIV) ? salt : NULL,
	        .priv_len = (level & ST_MSGFLAG_PRIV) ? 8 : 0,
	        .scoped = scoped,
	        .scoped_len = scoped_len,
	};
	int n = st_snmp_encode_v3(&v3, out, cap, &auth_off);
	if (n < 0)
		return n;
	if (level & ST_MSGFLAG_AUTH) {
		uint8_t mac[ST_USM_KEY_MAX];
		int rc = st_usm_hmac(&s->ctxs, &s->keys, out, (size_t)n, auth_off, mac);
		if (rc < 0)
			return rc;
		memcpy(out + auth_off, mac, v3.auth_len);
	}
	return n;
}

int st_usm_sender_encode_probe(st_usm_sender_t *s, int32_t msg_id, int32_t request_id, uint8_t *out,
                               size_t cap)
{
	uint8_t buf[64];
	const uint8_t *scoped;
	st_berw_t bw;
	(void)s;

	/* ScopedPDU { contextEngineID "", contextName "",
	 *             GetRequest-PDU { request-id, 0, 0, VarBindList {} } } */
	st_berw_init(&bw, buf, sizeof(buf));
	st_berw_wrap(&bw, ST_BER_SEQUENCE, st_berw_len(&bw));
	st_berw_int(&bw, ST_BER_INTEGER, 0);
	st_berw_int(&bw, ST_BER_INTEGER, 0);
	st_berw_int(&bw, ST_BER_INTEGER, request_id);
	st_berw_wrap(&bw, ST_PDU_GET, 0);
	st_berw_octets(&bw, ST_BER_OCTETS, "", 0);
	st_berw_octets(&bw, ST_BER_OCTETS, "", 0);
	st_berw_wrap(&bw, ST_BER_SEQUENCE, 0);
	int n = st_berw_finish(&bw, &scoped);
	if (n < 0)
		return n;
	st_v3_out_t v3 = {
	        .msg_id = msg_id,
	        .msg_max_size = 65507,
	        .msg_flags = ST_MSGFLAG_REPORTABLE,
	        .user = (const uint8_t *)"",
	        .engine_id = (const uint8_t *)"",
	        .scoped = scoped,
	        .scoped_len = (size_t)n,
	};
	size_t auth_off = 0;
	return st_snmp_encode_v3(&v3, out, cap, &auth_off);
}

int st_usm_sender_process(st_usm_sender_t *s, const uint8_t *dgram, size_t len, st_msg_t *msg,
                          const struct timespec *now)
{
	const st_usm_params_t *p = &msg->usm;
	int level = msg->msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);
	int rc;

	if (!dgram || msg->version != ST_SNMP_V3)
		return ST_ERR_USM_PARAMS;
	if (level == 0) {
		if (!msg->have_pdu)
			return ST_ERR_USM_PARAMS;
		if (st_usm_report_stat(&msg->pdu) == ST_USM_STAT_UNKNOWN_ENGINE_IDS) {
			/* discovery: the engine ID, boots and time it reports */
			if (p->engine_id_len == 0)
				return ST_ERR_USM_PARAMS;
			return st_usm_sender_set_engine(s, p->engine_id, p->engine_id_len,
			                                (int32_t)p->boots, (int32_t)p->time, now);
		}
		if (msg->pdu.type != ST_PDU_REPORT && level_of(s) != 0)
			return ST_ERR_USM_UNSUPPORTED_SECLEVEL;
		return 0;
	}
	if (p->engine_id_len != s->engine_len || memcmp(p->engine_id, s->engine, s->engine_len))
		return ST_ERR_USM_UNKNOWN_ENGINE_ID;
	if (s->auth == ST_USM_AUTH_NONE ||
	    ((level & ST_MSGFLAG_PRIV) && s->priv == ST_USM_PRIV_NONE))
		return ST_ERR_USM_UNSUPPORTED_SECLEVEL;
	if (p->user_len != s->user_len || memcmp(p->user, s->user, s->user_len) != 0)
		return ST_ERR_USM_UNKNOWN_USER;
	if (p->auth_len != st_usm_auth_tab[s->auth].mac_len || p->auth_off > len ||
	    len - p->auth_off < p->auth_len)
		return ST_ERR_USM_WRONG_DIGEST;
	rc = st_usm_hmac_verify(&s->ctxs, &s->keys, dgram, len, p->auth_off);
	if (rc < 0)
		return rc;
	if (level & ST_MSGFLAG_PRIV) {
		if (p->priv_len != 8 || msg->encrypted_len > ST_USM_MSG_MAX)
			return ST_ERR_USM_DECRYPTION;
		rc = st_usm_decrypt(&s->ctxs, &s->keys, (uint32_t)p->boots, (uint32_t)p->time,
		                    p->priv, msg->encrypted, msg->encrypted_len, s->plain);
		if (rc == 0)
			rc = st_snmp_decode_scoped(s->plain, msg->encrypted_len, msg);
		if (rc < 0)
			return ST_ERR_USM_DECRYPTION;
	}
	if (!msg->have_pdu)
		return ST_ERR_USM_PARAMS;
	if (st_usm_report_stat(&msg->pdu) == ST_USM_STAT_NOT_IN_TIME_WINDOWS) {
		s->boots = (int32_t)p->boots;
		s->time_base = (int64_t)now->tv_sec - p->time;
	}
	return 0;
}
