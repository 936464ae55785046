/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usm.c - security processing of incoming SNMPv3 messages (RFC 3414 3.2),
 * Reports, and the Response to an inform.
 *
 * st_usm_process() follows the RFC's order of checks, each failure with its
 * own usmStats counter: engine ID (3), user (4), security level (5),
 * authentication (6), timeliness (7), decryption (8).
 *
 *  - Who is authoritative: a message whose msgAuthoritativeEngineID is our
 *    configured engine ID is addressed to us (informs): keys are localized
 *    to our engine ID and timeliness is checked against our stateless
 *    clock (boots = configured, time = now - epoch; RFC 3414 3.2 7a).
 *    Any other engine ID is the sender's own (traps): users bound to it
 *    and unbound users apply, timeliness is learned per engine (7b, see
 *    cache.c). An inform that turns out to be addressed to another engine
 *    gets a usmStatsUnknownEngineIDs Report, which is how its sender
 *    discovers ours.
 *  - Which user: the engine cache remembers, per (engine, user name), the
 *    user whose HMAC verified and its localized keys, so the common case
 *    is one lock-free lookup and one HMAC. On a miss the candidates
 *    (same name, bound to this engine or unbound, at the message's
 *    security level) are tried in file order; the first that verifies
 *    wins and is remembered. Unbound users cost one localization each
 *    (a short hash). Nothing is cached for a message that does not
 *    verify, so forged traffic cannot fill or churn the cache.
 *  - Security level: a message must be at exactly its user's level.
 *  - Reports go back only to messages with the reportable flag, and for
 *    authentication failures only when addressed to our engine ID: a trap
 *    sender never gets one.
 *
 * The hot path (a cached engine and user) allocates nothing, logs nothing
 * and takes no lock; the HMAC and the cipher run on the worker's keyed
 * contexts (crypto.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "usm_int.h"

#define TIME_WINDOW  150
#define BOOTS_MAX    2147483647
#define OUR_MAX_SIZE 65507 /* the largest UDP payload we can receive */

enum {
	C_UNSUPPORTED,
	C_NOT_IN_TIME,
	C_UNKNOWN_USER,
	C_UNKNOWN_ENGINE,
	C_WRONG_DIGEST,
	C_DECRYPTION,
	C_PARAMS,
	C_REPORTS,
	C_DISCOVERY,
	C_COUNT
};

struct st_usm_worker {
	struct st_usm_worker_qs qs; /* read by reclaimers: keep it on its own line */
	char pad_[64 - sizeof(struct st_usm_worker_qs)];
	st_usm_t *usm;
	st_counter_t count[C_COUNT]; /* one writer: the worker */
	struct sockaddr_storage src;
	int have_src;
	uint64_t salt;
	uint64_t hmacs;    /* HMACs verified: tests observe the cache with it */
	st_usm_keys_t tmp; /* candidate keys while searching */
	struct {
		int valid;
		int32_t msg_id;
		int32_t request_id;
		uint8_t user_len;
		uint8_t user[ST_USM_NAME_MAX];
		st_usm_keys_t keys;
	} resp; /* what the Response to the last accepted inform needs */
	st_usm_ctxs_t ctxs;
	uint8_t plain[ST_USM_DECRYPT_ROOM(ST_USM_MSG_MAX)];
	uint8_t scoped[ST_USM_MSG_MAX];
	uint8_t cipher[ST_USM_MSG_MAX + 8];
};

uint64_t st_usm_worker_hmacs(const st_usm_worker_t *w)
{
	return w->hmacs;
}

uint64_t st_usm_worker_active(struct st_usm_worker *w)
{
	/* an RMW, not a load: it pairs with the worker's announcement in
	 * st_usm_process() (only reclaimers call this, not the hot path) */
	return atomic_fetch_add_explicit(&w->qs.active, 0, memory_order_acq_rel);
}

/* one writer per counter: st_counter_add() takes no locked instruction */
static uint64_t bump(st_usm_worker_t *w, int c)
{
	st_counter_add(&w->count[c], 1);
	return st_counter_get(&w->count[c]);
}

static int32_t our_time(const st_usm_t *usm, const struct timespec *now)
{
	int64_t t = (int64_t)now->tv_sec - usm->conf.engine_epoch;
	if (t < 0)
		return 0;
	return t > BOOTS_MAX ? BOOTS_MAX : (int32_t)t;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A fresh salt (RFC 3826 3.1.2.1, RFC 3414 8.1.1.1): a per-worker counter
 * started at a random value. DES puts boots in front of 32 bits of it. */
static void next_salt(uint64_t *ctr, int priv, int32_t boots, uint8_t salt[8])
{
	uint64_t v = (*ctr)++;
	if (st_usm_priv_tab[priv].aes) {
		put_be32(salt, (uint32_t)(v >> 32));
		put_be32(salt + 4, (uint32_t)v);
	} else {
		put_be32(salt, (uint32_t)boots);
		put_be32(salt + 4, (uint32_t)v);
	}
}

/* ------------------------------------------------------------------ */
/* Reports                                                            */
/* ------------------------------------------------------------------ */

int st_usm_report_stat(const st_pdu_t *pdu)
{
	static const uint8_t prefix[8] = {0x2b, 6, 1, 6, 3, 15, 1, 1}; /* 1.3.6.1.6.3.15.1.1 */
	if (!pdu || pdu->type != ST_PDU_REPORT || pdu->nvb < 1)
		return 0;
	const st_varbind_t *vb = &pdu->vb[0];
	if (vb->oid_len != 10 || memcmp(vb->oid, prefix, 8) != 0 || vb->oid[9] != 0 ||
	    vb->oid[8] < 1 || vb->oid[8] > 6)
		return 0;
	return vb->oid[8];
}

typedef struct pctx {
	st_usm_worker_t *w;
	st_usm_t *usm;
	const uint8_t *dgram;
	size_t len;
	st_msg_t *msg;
	const struct timespec *now;
	uint8_t *report;
	size_t report_cap;
	size_t *report_len;
	int ours;
} pctx_t;

/* Encode a Report carrying usmStats.<stat>.0 = value from our engine;
 * authenticated with keys when given (notInTimeWindows), else noAuthNoPriv. */
static int make_report(pctx_t *c, int stat, uint32_t value, const st_usm_keys_t *keys)
{
	st_usm_t *usm = c->usm;
	const st_msg_t *msg = c->msg;
	const uint8_t oid[10] = {0x2b, 6, 1, 6, 3, 15, 1, 1, (uint8_t)stat, 0};
	uint8_t vbbuf[64];
	const uint8_t *vbl;
	st_berw_t bw;
	size_t auth_off = 0;

	st_berw_init(&bw, vbbuf, sizeof(vbbuf));
	st_berw_uint(&bw, ST_BER_COUNTER32, value);
	st_berw_oid(&bw, oid, sizeof(oid));
	st_berw_wrap(&bw, ST_BER_SEQUENCE, 0);
	st_berw_wrap(&bw, ST_BER_SEQUENCE, 0);
	int vbl_len = st_berw_finish(&bw, &vbl);
	if (vbl_len < 0)
		return vbl_len;
	/* RFC 3412 7.1.3: our engine, the default context; the request-id of
	 * the message when it could be read (Net-SNMP matches on msgID). */
	int scoped_len =
	        st_snmp_encode_scoped(usm->engine_id, usm->conf.engine_id_len, (const uint8_t *)"",
	                              0, ST_PDU_REPORT, msg->have_pdu ? msg->pdu.request_id : 0,
	                              vbl, (size_t)vbl_len, c->w->scoped, sizeof(c->w->scoped));
	if (scoped_len < 0)
		return scoped_len;
	st_v3_out_t v3 = {
	        .msg_id = msg->msg_id,
	        .msg_max_size = OUR_MAX_SIZE,
	        .msg_flags = keys ? ST_MSGFLAG_AUTH : 0,
	        .engine_id = usm->engine_id,
	        .engine_id_len = usm->conf.engine_id_len,
	        .boots = usm->conf.engine_boots,
	        .time = our_time(usm, c->now),
	        .user = msg->usm.user,
	        .user_len = msg->usm.user_len,
	        .auth_len = keys ? st_usm_auth_tab[keys->auth].mac_len : 0,
	        .scoped = c->w->scoped,
	        .scoped_len = (size_t)scoped_len,
	};
	int n = st_snmp_encode_v3(&v3, c->report, c->report_cap, &auth_off);
	if (n < 0)
		return n;
	if (keys) {
		uint8_t mac[ST_USM_KEY_MAX];
		int rc = st_usm_hmac(&c->w->ctxs, keys, c->report, (size_t)n, auth_off, mac);
		if (rc < 0)
			return rc;
		memcpy(c->report + auth_off, mac, v3.auth_len);
	}
	*c->report_len = (size_t)n;
	bump(c->w, C_REPORTS);
	return 0;
}

/* Count a rejection and, when allowed, write its Report. */
static int reject(pctx_t *c, int rc, int counter, int stat, int may_report,
                  const st_usm_keys_t *keys)
{
	uint64_t v = bump(c->w, counter);
	/* discovery probes are usmStatsUnknownEngineIDs to the sender (RFC
	 * 3414 3.2 3b), but counted apart here: they are normal traffic */
	if (counter == C_DISCOVERY)
		v += atomic_load_explicit(&c->w->count[C_UNKNOWN_ENGINE], memory_order_relaxed);
	else if (counter == C_UNKNOWN_ENGINE)
		v += atomic_load_explicit(&c->w->count[C_DISCOVERY], memory_order_relaxed);
	if (may_report && c->report && c->report_cap && c->usm->conf.engine_id_len)
		(void)make_report(c, stat, (uint32_t)v, keys);
	return rc;
}

/* ------------------------------------------------------------------ */
/* processing                                                         */
/* ------------------------------------------------------------------ */

static int has_level(const st_usm_ubucket_t *b, int level)
{
	for (int i = 0; b && i < b->n; i++)
		if (b->users[i]->level == level)
			return 1;
	return 0;
}

/* Try the candidates; on success w->tmp holds the winner's complete keys
 * (privacy key included) and the winner is returned. */
static const st_usm_user_t *find_winner(pctx_t *c, const st_usm_ubucket_t *const cand[2], int level,
                                        const st_usm_user_t *skip, int *crypto_err)
{
	st_usm_worker_t *w = c->w;
	const st_usm_params_t *p = &c->msg->usm;

	for (int s = 0; s < 2; s++) {
		for (int i = 0; cand[s] && i < cand[s]->n; i++) {
			const st_usm_user_t *u = cand[s]->users[i];
			if (u->level != level || u == skip ||
			    p->auth_len != st_usm_auth_tab[u->keys.auth].mac_len)
				continue;
			if (u->bound) {
				w->tmp = u->keys;
			} else {
				size_t len = ST_USM_KEY_MAX;
				w->tmp.id = 0;
				w->tmp.auth = u->keys.auth;
				w->tmp.priv = u->keys.priv;
				if (st_usm_localize(u->keys.auth, u->auth_ku,
				                    st_usm_auth_tab[u->keys.auth].key_len,
				                    p->engine_id, p->engine_id_len, w->tmp.auth_key,
				                    &len) < 0) {
					*crypto_err = 1;
					continue;
				}
			}
			w->hmacs++;
			int rc = st_usm_hmac_verify(&w->ctxs, &w->tmp, c->dgram, c->len,
			                            p->auth_off);
			if (rc == ST_ERR_USM_CRYPTO)
				*crypto_err = 1;
			if (rc != 0)
				continue;
			if (!u->bound && u->keys.priv != ST_USM_PRIV_NONE) {
				/* the privacy key, only now that the user is proven */
				uint8_t kul[ST_USM_KEY_MAX];
				size_t len = sizeof(kul);
				rc = st_usm_localize(u->keys.auth, u->priv_ku,
				                     st_usm_auth_tab[u->keys.auth].key_len,
				                     p->engine_id, p->engine_id_len, kul, &len);
				if (rc == 0)
					rc = st_usm_extend_key(u->keys.auth, u->keys.priv, kul, len,
					                       p->engine_id, p->engine_id_len,
					                       w->tmp.priv_key, NULL);
				st_usm_wipe(kul, sizeof(kul));
				if (rc < 0) {
					*crypto_err = 1;
					continue;
				}
			}
			if (!u->bound)
				w->tmp.id = st_usm_key_id();
			return u;
		}
	}
	return NULL;
}

static int process(pctx_t *c, int have_src)
{
	st_usm_worker_t *w = c->w;
	st_usm_t *usm = c->usm;
	st_msg_t *msg = c->msg;
	const st_usm_params_t *p = &msg->usm;
	int level = msg->msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);
	int reportable = (msg->msg_flags & ST_MSGFLAG_REPORTABLE) != 0;
	int64_t now = (int64_t)c->now->tv_sec;
	const st_usm_keys_t *keys = NULL;
	st_usm_engine_t *eng = NULL;
	st_usm_knode_t *kn = NULL;
	int rc;

	c->ours = usm->conf.engine_id_len && p->engine_id_len == usm->conf.engine_id_len &&
	          memcmp(p->engine_id, usm->engine_id, p->engine_id_len) == 0;
	int may_report = reportable && c->ours;

	/* 3: discovery (reportable, no engine named), or a message that
	 * names no engine and wants no answer */
	if (p->engine_id_len == 0)
		return reject(c, ST_ERR_USM_UNKNOWN_ENGINE_ID,
		              reportable ? C_DISCOVERY : C_UNKNOWN_ENGINE,
		              ST_USM_STAT_UNKNOWN_ENGINE_IDS, reportable, NULL);

	st_usm_users_t *users = atomic_load(&usm->users);
	uint64_t gen = users ? users->gen : 0;
	const st_usm_user_t *skip = NULL;

	/* The common case first: an authenticated message from an engine
	 * and user the cache knows; one HMAC with the remembered winner's
	 * keys. A remembered winner implies steps 4 and 5 passed. */
	if (level != 0) {
		if (p->auth_off > c->len || c->len - p->auth_off < p->auth_len)
			return reject(c, ST_ERR_USM_PARAMS, C_PARAMS, 0, 0, NULL);
		st_usm_cache_lookup(usm, p->engine_id, p->engine_id_len, p->user, p->user_len, gen,
		                    &eng, &kn);
		if (kn && kn->user->level == level) {
			skip = kn->user;
			w->hmacs++;
			if (p->auth_len == st_usm_auth_tab[kn->keys.auth].mac_len &&
			    st_usm_hmac_verify(&w->ctxs, &kn->keys, c->dgram, c->len,
			                       p->auth_off) == 0)
				keys = &kn->keys;
		}
	}

	if (!keys) {
		/* 4: the user */
		const st_usm_ubucket_t *cand[2] = {
		        st_usm_users_find(users, p->user, p->user_len, 1, p->engine_id,
		                          p->engine_id_len),
		        st_usm_users_find(users, p->user, p->user_len, 0, NULL, 0),
		};
		if (!cand[0] && !cand[1])
			return reject(c, ST_ERR_USM_UNKNOWN_USER, C_UNKNOWN_USER,
			              ST_USM_STAT_UNKNOWN_USER_NAMES, may_report, NULL);
		/* 5: the level must be the user's */
		if (!skip && !has_level(cand[0], level) && !has_level(cand[1], level))
			return reject(c, ST_ERR_USM_UNSUPPORTED_SECLEVEL, C_UNSUPPORTED,
			              ST_USM_STAT_UNSUPPORTED_SEC_LEVELS, may_report, NULL);
		if (level == 0)
			goto pdu; /* noAuthNoPriv: nothing to verify, nothing to learn */
		/* 6: authentication, trying the candidates */
		int crypto_err = 0;
		const st_usm_user_t *u = find_winner(c, cand, level, skip, &crypto_err);
		if (!u && crypto_err)
			/* OpenSSL failed (memory): not the sender's fault, no Report */
			return reject(c, ST_ERR_USM_CRYPTO, C_PARAMS, 0, 0, NULL);
		if (!u)
			return reject(c, ST_ERR_USM_WRONG_DIGEST, C_WRONG_DIGEST,
			              ST_USM_STAT_WRONG_DIGESTS, may_report, NULL);
		keys = &w->tmp;
		st_usm_knode_t *nk = malloc(sizeof(*nk));
		if (nk) {
			memset(nk, 0, sizeof(*nk));
			nk->gen = gen;
			nk->user = u;
			nk->name_len = u->name_len;
			memcpy(nk->name, u->name, u->name_len);
			nk->keys = w->tmp;
			eng = st_usm_cache_insert(usm, p->engine_id, p->engine_id_len, nk, now);
			if (eng)
				keys = &nk->keys; /* retired only after we are quiescent */
		} else {
			eng = NULL;
		}
	}

	/* 7: timeliness */
	if (c->ours) {
		if (usm->conf.timeliness != ST_USM_TIMELINESS_OFF) {
			int64_t t = our_time(usm, c->now);
			if (usm->conf.engine_boots == BOOTS_MAX ||
			    p->boots != usm->conf.engine_boots || p->time < t - TIME_WINDOW ||
			    p->time > t + TIME_WINDOW)
				/* RFC 3414 3.2 7a: authenticated Report, so the
				 * sender can trust the boots/time it carries */
				return reject(c, ST_ERR_USM_NOT_IN_TIME_WINDOW, C_NOT_IN_TIME,
				              ST_USM_STAT_NOT_IN_TIME_WINDOWS, reportable, keys);
		}
	} else if (eng) {
		if (st_usm_engine_timely(eng, usm->conf.timeliness, p->boots, p->time, now) < 0)
			return reject(c, ST_ERR_USM_NOT_IN_TIME_WINDOW, C_NOT_IN_TIME, 0, 0, NULL);
	} else if (usm->conf.timeliness == ST_USM_TIMELINESS_STRICT) {
		/* out of memory for a cache entry: nothing to check against */
		return reject(c, ST_ERR_USM_NOT_IN_TIME_WINDOW, C_NOT_IN_TIME, 0, 0, NULL);
	}
	if (eng)
		st_usm_engine_seen(eng, &w->src, have_src, now);

	/* 8: privacy */
	if (level & ST_MSGFLAG_PRIV) {
		if (p->priv_len != 8 || msg->encrypted_len > ST_USM_MSG_MAX)
			return reject(c, ST_ERR_USM_DECRYPTION, C_DECRYPTION,
			              ST_USM_STAT_DECRYPTION_ERRORS, may_report, NULL);
		rc = st_usm_decrypt(&w->ctxs, keys, (uint32_t)p->boots, (uint32_t)p->time, p->priv,
		                    msg->encrypted, msg->encrypted_len, w->plain);
		if (rc == 0)
			rc = st_snmp_decode_scoped(w->plain, msg->encrypted_len, msg);
		if (rc < 0) {
			msg->have_pdu = 0;
			return reject(c, ST_ERR_USM_DECRYPTION, C_DECRYPTION,
			              ST_USM_STAT_DECRYPTION_ERRORS, may_report, NULL);
		}
	}

pdu:
	if (!msg->have_pdu)
		return reject(c, ST_ERR_USM_PARAMS, C_PARAMS, 0, 0, NULL);
	if (msg->pdu.type == ST_PDU_INFORM) {
		if (!c->ours)
			/* addressed to another engine: tell the sender ours */
			return reject(c, ST_ERR_USM_UNKNOWN_ENGINE_ID, C_UNKNOWN_ENGINE,
			              ST_USM_STAT_UNKNOWN_ENGINE_IDS, reportable, NULL);
		w->resp.valid = 1;
		w->resp.msg_id = msg->msg_id;
		w->resp.request_id = msg->pdu.request_id;
		w->resp.user_len = (uint8_t)p->user_len;
		memcpy(w->resp.user, p->user, p->user_len);
		if (keys)
			w->resp.keys = *keys;
		else
			memset(&w->resp.keys, 0, sizeof(w->resp.keys));
	}
	return 0;
}

int st_usm_process(st_usm_worker_t *w, const uint8_t *dgram, size_t len, st_msg_t *msg,
                   const struct timespec *now, uint8_t *report, size_t report_cap,
                   size_t *report_len)
{
	st_usm_t *usm = w->usm;
	size_t dummy_len;
	pctx_t c = {
	        .w = w,
	        .usm = usm,
	        .dgram = dgram,
	        .len = len,
	        .msg = msg,
	        .now = now,
	        .report = report,
	        .report_cap = report ? report_cap : 0,
	        .report_len = report_len ? report_len : &dummy_len,
	};
	int have_src = w->have_src;

	*c.report_len = 0;
	w->have_src = 0;
	w->resp.valid = 0;
	if (!dgram || !msg || !now || msg->version != ST_SNMP_V3 ||
	    msg->usm.user_len > ST_USM_NAME_MAX || msg->usm.engine_id_len > ST_USM_ENGINE_MAX) {
		bump(w, C_PARAMS);
		return ST_ERR_USM_PARAMS;
	}

	/* Enter: from here until we leave, nothing we can reach is freed. The
	 * announcement is a read-modify-write, as is the reclaimer's read of
	 * it (reclaim_locked(), cache.c): RMWs on one location are totally
	 * ordered, so either the reclaimer reads our epoch and keeps what we
	 * may reach, or ours comes later and acquires from its release, and
	 * every unlink before it is visible to our reads. One locked
	 * instruction, as the seq_cst fence was; ThreadSanitizer models it. */
	atomic_exchange_explicit(&w->qs.active, atomic_load(&usm->epoch), memory_order_acq_rel);
	int rc = process(&c, have_src);
	atomic_store_explicit(&w->qs.active, 0, memory_order_release);

	if (atomic_load_explicit(&usm->pending, memory_order_relaxed))
		st_usm_reclaim_try(usm);
	return rc;
}

int st_usm_encode_response(st_usm_worker_t *w, const st_msg_t *inform, const struct timespec *now,
                           uint8_t *out, size_t cap)
{
	st_usm_t *usm = w->usm;
	const st_usm_keys_t *k = &w->resp.keys;
	int level = inform->msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);
	uint8_t salt[8];
	size_t auth_off = 0;

	if (!w->resp.valid || !inform->have_pdu || inform->pdu.type != ST_PDU_INFORM ||
	    inform->msg_id != w->resp.msg_id || inform->pdu.request_id != w->resp.request_id ||
	    inform->usm.user_len != w->resp.user_len ||
	    memcmp(inform->usm.user, w->resp.user, w->resp.user_len) != 0 ||
	    ((level & ST_MSGFLAG_AUTH) && k->auth == ST_USM_AUTH_NONE) ||
	    ((level & ST_MSGFLAG_PRIV) && k->priv == ST_USM_PRIV_NONE))
		return ST_ERR_USM_PARAMS;

	int n = st_snmp_encode_scoped(inform->context_engine_id, inform->context_engine_id_len,
	                              inform->context_name, inform->context_name_len,
	                              ST_PDU_RESPONSE, inform->pdu.request_id, inform->pdu.vbl,
	                              inform->pdu.vbl_len, w->scoped, sizeof(w->scoped));
	if (n < 0)
		return n;
	const uint8_t *scoped = w->scoped;
	size_t scoped_len = (size_t)n;
	int32_t boots = usm->conf.engine_boots, time = our_time(usm, now);
	if (level & ST_MSGFLAG_PRIV) {
		next_salt(&w->salt, k->priv, boots, salt);
		n = st_usm_encrypt(&w->ctxs, k, (uint32_t)boots, (uint32_t)time, salt, scoped,
		                   scoped_len, w->cipher, sizeof(w->cipher));
		if (n < 0)
			return n;
		scoped = w->cipher;
		scoped_len = (size_t)n;
	}
	st_v3_out_t v3 = {
	        .msg_id = inform->msg_id,
	        .msg_max_size = OUR_MAX_SIZE,
	        .msg_flags = (uint8_t)level,
	        .engine_id = usm->engine_id,
	        .engine_id_len = usm->conf.engine_id_len,
	        .boots = boots,
	        .time = time,
	        .user = w->resp.user,
	        .user_len = w->resp.user_len,
	        .auth_len = (level & ST_MSGFLAG_AUTH) ? st_usm_auth_tab[k->auth].mac_len : 0,
	        .priv = (level & ST_MSGFLAG_PRIV) ? salt : NULL,
	        .priv_len = (level & ST_MSGFLAG_PRIV) ? 8 : 0,
	        .scoped = scoped,
	        .scoped_len = scoped_len,
	};
	n = st_snmp_encode_v3(&v3, out, cap, &auth_off);
	if (n < 0)
		return n;
	if (level & ST_MSGFLAG_AUTH) {
		uint8_t mac[ST_USM_KEY_MAX];
		int rc = st_usm_hmac(&w->ctxs, k, out, (size_t)n, auth_off, mac);
		if (rc < 0)
			return rc;
		memcpy(out + auth_off, mac, v3.auth_len);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                          */
/* ------------------------------------------------------------------ */

static int cerr(char *err, size_t errlen, int rc, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

int st_usm_new(const st_usm_conf_t *conf, st_usm_users_t *users, st_usm_t **out, char *err,
               size_t errlen)
{
	st_usm_t *usm = NULL;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!conf) {
		rc = cerr(err, errlen, -EINVAL, "no configuration");
		goto fail;
	}
	if (conf->engine_id_len &&
	    (!conf->engine_id || conf->engine_id_len < 5 || conf->engine_id_len > 32)) {
		rc = cerr(err, errlen, ST_ERR_CONFIG, "the local engine ID must be 5..32 octets");
		goto fail;
	}
	if (conf->engine_boots < 0) {
		rc = cerr(err, errlen, ST_ERR_CONFIG, "engine boots must be 0..2147483647");
		goto fail;
	}
	if (conf->timeliness < ST_USM_TIMELINESS_LEARN ||
	    conf->timeliness > ST_USM_TIMELINESS_OFF) {
		rc = cerr(err, errlen, ST_ERR_CONFIG, "unknown timeliness mode");
		goto fail;
	}
	if ((rc = st_usm_users_check(users, err, errlen)) < 0)
		goto fail;
	usm = calloc(1, sizeof(*usm));
	if (!usm) {
		rc = cerr(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	usm->conf = *conf;
	if (conf->engine_id_len)
		memcpy(usm->engine_id, conf->engine_id, conf->engine_id_len);
	usm->conf.engine_id = usm->engine_id;
	usm->crypto = st_usm_crypto();
	atomic_init(&usm->epoch, 1);
	if (pthread_mutex_init(&usm->reclaim_lock, NULL) != 0) {
		free(usm);
		usm = NULL;
		rc = cerr(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = st_usm_cache_init(&usm->cache, conf->max_engines)) < 0) {
		pthread_mutex_destroy(&usm->reclaim_lock);
		free(usm);
		usm = NULL;
		cerr(err, errlen, rc, "out of memory");
		goto fail;
	}
	usm->next_gen = 1;
	if (users)
		users->gen = usm->next_gen;
	atomic_store(&usm->cur_gen, usm->next_gen);
	atomic_store(&usm->users, users);
	*out = usm;
	return 0;
fail:
	st_usm_users_free(users);
	return rc;
}

void st_usm_free(st_usm_t *usm)
{
	if (!usm)
		return;
	for (size_t i = 0; i < usm->nretired; i++)
		usm->retired[i].free_fn(usm->retired[i].p);
	free(usm->retired);
	free(usm->workers);
	st_usm_cache_destroy(&usm->cache);
	st_usm_users_free(atomic_load(&usm->users));
	pthread_mutex_destroy(&usm->reclaim_lock);
	free(usm);
}

static void users_free_fn(void *p)
{
	st_usm_users_free(p);
}

void st_usm_set_users(st_usm_t *usm, st_usm_users_t *users)
{
	pthread_mutex_lock(&usm->reclaim_lock);
	uint64_t gen = ++usm->next_gen;
	pthread_mutex_unlock(&usm->reclaim_lock);
	if (users)
		users->gen = gen;
	atomic_store(&usm->cur_gen, gen);
	st_usm_users_t *old = atomic_exchange(&usm->users, users);
	st_usm_cache_purge(usm, gen);
	if (old)
		st_usm_retire(usm, old, users_free_fn);
}

st_usm_worker_t *st_usm_worker_new(st_usm_t *usm)
{
	st_usm_worker_t *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->usm = usm;
	if (st_usm_random(&w->salt, sizeof(w->salt)) < 0)
		w->salt = (uint64_t)(uintptr_t)w * 0x9e3779b97f4a7c15ULL;
	pthread_mutex_lock(&usm->reclaim_lock);
	if (usm->nworkers == usm->workers_cap) {
		size_t cap = usm->workers_cap ? usm->workers_cap * 2 : 8;
		st_usm_worker_t **nw = realloc(usm->workers, cap * sizeof(*nw));
		if (!nw) {
			pthread_mutex_unlock(&usm->reclaim_lock);
			free(w);
			return NULL;
		}
		usm->workers = nw;
		usm->workers_cap = cap;
	}
	usm->workers[usm->nworkers++] = w;
	pthread_mutex_unlock(&usm->reclaim_lock);
	return w;
}

void st_usm_worker_free(st_usm_worker_t *w)
{
	if (!w)
		return;
	st_usm_t *usm = w->usm;
	pthread_mutex_lock(&usm->reclaim_lock);
	for (size_t i = 0; i < usm->nworkers; i++) {
		if (usm->workers[i] == w) {
			usm->workers[i] = usm->workers[--usm->nworkers];
			break;
		}
	}
	pthread_mutex_unlock(&usm->reclaim_lock);
	st_usm_reclaim(usm);
	st_usm_ctxs_free(&w->ctxs);
	st_usm_wipe(w, sizeof(*w));
	free(w);
}

void st_usm_note_source(st_usm_worker_t *w, const struct sockaddr *src)
{
	w->have_src = 0;
	if (!src)
		return;
	if (src->sa_family == AF_INET)
		memcpy(&w->src, src, sizeof(struct sockaddr_in));
	else if (src->sa_family == AF_INET6)
		memcpy(&w->src, src, sizeof(struct sockaddr_in6));
	else
		return;
	w->have_src = 1;
}

void st_usm_worker_stats(const st_usm_worker_t *w, st_usm_stats_t *out)
{
#define RD(c) atomic_load_explicit(&w->count[c], memory_order_relaxed)
	out->unsupported_sec_levels = RD(C_UNSUPPORTED);
	out->not_in_time_windows = RD(C_NOT_IN_TIME);
	out->unknown_user_names = RD(C_UNKNOWN_USER);
	out->unknown_engine_ids = RD(C_UNKNOWN_ENGINE);
	out->wrong_digests = RD(C_WRONG_DIGEST);
	out->decryption_errors = RD(C_DECRYPTION);
	out->params_errors = RD(C_PARAMS);
	out->reports_sent = RD(C_REPORTS);
	out->discovery_probes = RD(C_DISCOVERY);
#undef RD
}
