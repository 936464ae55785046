/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_process.c - traps: every captured Net-SNMP/pysnmp packet is
 * authenticated, decrypted and decoded, with users given by passphrase,
 * master key or localized key, bound or unbound; and every way a message
 * is refused (digest, decryption, level, user, engine, time window).
 */
#include "helpers.h"
#include "usm_int.h"
#include "vectors.h"

#define T0 1800000000 /* "now" for the tests, unix seconds */

static const vec_t *vec_named(const char *name)
{
	for (size_t i = 0; i < VEC_NTRAPS; i++)
		if (strcmp(vec_traps[i].name, name) == 0)
			return &vec_traps[i];
	cr_assert_fail("no vector %s", name);
	return NULL;
}

static void check_trap(const fixture_t *fx, const vec_t *v)
{
	const st_pdu_t *pdu = &fx->msg->pdu;
	cr_assert_eq(fx->msg->have_pdu, 1, "%s", v->name);
	cr_assert_eq(pdu->type, ST_PDU_TRAPV2, "%s", v->name);
	expect_text(pdu, VEC_VB_TEXT, v->text);
	const st_varbind_t *vb = find_vb(pdu, VEC_VB_INT);
	cr_assert_not_null(vb, "%s", v->name);
	cr_assert_eq(vb->type, ST_BER_INTEGER);
	cr_assert_eq(vb->num.i, 42);
	vb = find_vb(pdu, "1.3.6.1.6.3.1.1.4.1.0");
	cr_assert_not_null(vb, "%s: no snmpTrapOID.0", v->name);
	char oid[ST_OID_STR_MAX];
	cr_assert_gt(st_oid_format(vb->val, vb->val_len, oid, sizeof(oid)), 0);
	cr_assert_str_eq(oid, VEC_TRAP_OID);
	int level = (v->auth ? ST_MSGFLAG_AUTH : 0) | (v->priv ? ST_MSGFLAG_PRIV : 0);
	cr_assert_eq(fx->msg->msg_flags & 3, level, "%s", v->name);
}

/* user_line with every occurrence of from replaced by to */
static void subst(const char *in, const char *from, const char *to, char *out, size_t cap)
{
	size_t fl = strlen(from), n = 0;
	while (*in && n + 1 < cap) {
		if (fl && strncmp(in, from, fl) == 0) {
			n += (size_t)snprintf(out + n, cap - n, "%s", to);
			in += fl;
		} else {
			out[n++] = *in++;
		}
	}
	out[n < cap ? n : cap - 1] = '\0';
}

static void run_expect(const char *users, const vec_t *v, int want)
{
	fixture_t fx;
	fx_open(&fx, users, NULL, 0, 0);
	int rc = fx_run(&fx, v->pkt, v->len, T0);
	cr_assert_eq(rc, want, "%s with [%s]: got %s, want %s", v->name, users, st_strerror(rc),
	             st_strerror(want));
	if (want == 0)
		check_trap(&fx, v);
	cr_assert_eq(fx.report_len, 0, "a trap sender never gets a Report");
	fx_close(&fx);
}

Test(process, accepts_every_captured_trap_bound_user)
{
	for (size_t i = 0; i < VEC_NTRAPS; i++)
		run_expect(vec_traps[i].user_line, &vec_traps[i], 0);
}

Test(process, accepts_every_captured_trap_unbound_user)
{
	char line[512], bind[64];
	for (size_t i = 0; i < VEC_NTRAPS; i++) {
		snprintf(bind, sizeof(bind), "-e 0x%s ", vec_traps[i].engine);
		subst(vec_traps[i].user_line, bind, "", line, sizeof(line));
		cr_assert(strstr(line, "-e") == NULL);
		run_expect(line, &vec_traps[i], 0);
	}
}

/* The same users given as -l (localized) and -m (master) hex keys. */
Test(process, accepts_every_captured_trap_with_hex_keys)
{
	for (size_t i = 0; i < VEC_NTRAPS; i++) {
		const vec_t *v = &vec_traps[i];
		if (v->auth == ST_USM_AUTH_NONE)
			continue;
		uint8_t e[32], k[64], ku[64];
		size_t el = hx(v->engine, e, sizeof(e)), kl = st_usm_auth_key_len(v->auth), l = 64;
		char ha[129], hp[129], hma[129], hmp[129], line[1024];
		kul_of(v->auth, "authpass123", e, el, k);
		tohex(k, kl, ha);
		kul_of(v->auth, "privpass123", e, el, k);
		tohex(k, kl, hp);
		cr_assert_eq(st_usm_password_to_key(v->auth, "authpass123", 11, ku, &l), 0);
		tohex(ku, kl, hma);
		l = 64;
		cr_assert_eq(st_usm_password_to_key(v->auth, "privpass123", 11, ku, &l), 0);
		tohex(ku, kl, hmp);
		const char *priv = st_usm_priv_name(v->priv);
		if (v->priv)
			snprintf(line, sizeof(line), "createUser -e 0x%s u1 %s -l %s %s -l %s\n",
			         v->engine, st_usm_auth_name(v->auth), ha, priv, hp);
		else
			snprintf(line, sizeof(line), "createUser -e 0x%s u1 %s -l %s\n", v->engine,
			         st_usm_auth_name(v->auth), ha);
		run_expect(line, v, 0);
		if (v->priv)
			snprintf(line, sizeof(line), "createUser u1 %s -m %s %s -m %s\n",
			         st_usm_auth_name(v->auth), hma, priv, hmp);
		else
			snprintf(line, sizeof(line), "createUser u1 %s -m %s\n",
			         st_usm_auth_name(v->auth), hma);
		run_expect(line, v, 0);
	}
}

Test(process, wrong_auth_password_is_wrong_digest)
{
	char line[512];
	for (size_t i = 0; i < VEC_NTRAPS; i++) {
		const vec_t *v = &vec_traps[i];
		if (v->auth == ST_USM_AUTH_NONE)
			continue;
		subst(v->user_line, "authpass123", "wrongpass99", line, sizeof(line));
		fixture_t fx;
		fx_open(&fx, line, NULL, 0, 0);
		cr_assert_eq(fx_run(&fx, v->pkt, v->len, T0), ST_ERR_USM_WRONG_DIGEST, "%s",
		             v->name);
		cr_assert_eq(fx_stats(&fx).wrong_digests, 1);
		cr_assert_eq(fx.report_len, 0);
		/* nothing learned from a message that did not verify */
		st_usm_cache_stats_t cs;
		st_usm_cache_stats(fx.usm, &cs);
		cr_assert_eq(cs.engines, 0);
		fx_close(&fx);
	}
}

Test(process, wrong_priv_password_is_decryption_error)
{
	char line[512];
	for (size_t i = 0; i < VEC_NTRAPS; i++) {
		const vec_t *v = &vec_traps[i];
		if (v->priv == ST_USM_PRIV_NONE)
			continue;
		subst(v->user_line, "privpass123", "wrongpriv99", line, sizeof(line));
		fixture_t fx;
		fx_open(&fx, line, NULL, 0, 0);
		cr_assert_eq(fx_run(&fx, v->pkt, v->len, T0), ST_ERR_USM_DECRYPTION, "%s", v->name);
		cr_assert_eq(fx_stats(&fx).decryption_errors, 1);
		cr_assert_eq(fx.msg->have_pdu, 0);
		fx_close(&fx);
	}
}

Test(process, level_must_be_the_users)
{
	/* noAuthNoPriv message, user with auth */
	run_expect("createUser u1 SHA authpass123\n",
	           &(vec_t){.name = "none/none",
	                    .pkt = vec_ns_none_none,
	                    .len = sizeof(vec_ns_none_none)},
	           ST_ERR_USM_UNSUPPORTED_SECLEVEL);
	/* authNoPriv message, authPriv user */
	run_expect("createUser u1 SHA authpass123 AES privpass123\n",
	           &(vec_t){.name = "SHA/none",
	                    .pkt = vec_ns_sha_none,
	                    .len = sizeof(vec_ns_sha_none)},
	           ST_ERR_USM_UNSUPPORTED_SECLEVEL);
	/* authPriv message, authNoPriv user (above its level) */
	run_expect(
	        "createUser u1 SHA authpass123\n",
	        &(vec_t){.name = "SHA/AES", .pkt = vec_ns_sha_aes, .len = sizeof(vec_ns_sha_aes)},
	        ST_ERR_USM_UNSUPPORTED_SECLEVEL);
	/* authNoPriv message, noAuth user */
	run_expect("createUser u1\n",
	           &(vec_t){.name = "SHA/none",
	                    .pkt = vec_ns_sha_none,
	                    .len = sizeof(vec_ns_sha_none)},
	           ST_ERR_USM_UNSUPPORTED_SECLEVEL);

	fixture_t fx;
	fx_open(&fx, "createUser u1 SHA authpass123\n", NULL, 0, 0);
	cr_assert_eq(fx_run(&fx, vec_ns_none_none, sizeof(vec_ns_none_none), T0),
	             ST_ERR_USM_UNSUPPORTED_SECLEVEL);
	cr_assert_eq(fx_stats(&fx).unsupported_sec_levels, 1);
	fx_close(&fx);
}

Test(process, unknown_user_and_foreign_engine)
{
	vec_t v = {.name = "SHA/AES", .pkt = vec_ns_sha_aes, .len = sizeof(vec_ns_sha_aes)};
	run_expect("createUser other SHA authpass123 AES privpass123\n", &v,
	           ST_ERR_USM_UNKNOWN_USER);
	/* bound to another engine: does not apply */
	run_expect("createUser -e 0x" VEC_ENGINE2 " u1 SHA authpass123 AES privpass123\n", &v,
	           ST_ERR_USM_UNKNOWN_USER);
	fixture_t fx;
	fx_open(&fx, NULL, NULL, 0, 0); /* no users at all */
	cr_assert_eq(fx_run(&fx, v.pkt, v.len, T0), ST_ERR_USM_UNKNOWN_USER);
	cr_assert_eq(fx_stats(&fx).unknown_user_names, 1);
	fx_close(&fx);
}

/* Two users named dup, each bound to its engine: each is accepted only
 * from its own engine. */
Test(process, same_name_bound_to_two_engines)
{
	const char *users =
	        "createUser -e 0x" VEC_ENGINE " dup SHA authpass123 AES privpass123\n"
	        "createUser -e 0x" VEC_ENGINE2 " dup SHA otherpass123 AES otherpriv123\n";
	fixture_t fx;
	fx_open(&fx, users, NULL, 0, 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e1, sizeof(vec_dup_e1), T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "dup at e1");
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "dup at e2 #1");
	fx_close(&fx);

	/* the same keys bound the other way round: neither verifies */
	const char *swapped =
	        "createUser -e 0x" VEC_ENGINE2 " dup SHA authpass123 AES privpass123\n"
	        "createUser -e 0x" VEC_ENGINE " dup SHA otherpass123 AES otherpriv123\n";
	fx_open(&fx, swapped, NULL, 0, 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e1, sizeof(vec_dup_e1), T0), ST_ERR_USM_WRONG_DIGEST);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), ST_ERR_USM_WRONG_DIGEST);
	cr_assert_eq(fx_stats(&fx).wrong_digests, 2);
	fx_close(&fx);
}

static void count_engine(const st_usm_engine_info_t *info, void *arg)
{
	int *n = arg;
	cr_assert_eq(info->nusers, 1);
	cr_assert_str_eq(info->users[0], "dup");
	(*n)++;
}

/* Two unbound users named dup with different passphrases: the one whose
 * HMAC verifies wins, and later messages from that engine verify with one
 * HMAC (the cache remembers the winner). */
Test(process, unbound_same_name_right_one_wins_and_is_remembered)
{
	const char *users = "createUser dup SHA authpass123 AES privpass123\n"
	                    "createUser dup SHA otherpass123 AES otherpriv123\n";
	fixture_t fx;
	fx_open(&fx, users, NULL, 0, 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "dup at e2 #1");
	cr_assert_eq(st_usm_worker_hmacs(fx.w), 2, "first user tried, then the second");
	cr_assert_eq(fx_run(&fx, vec_dup_e2_2, sizeof(vec_dup_e2_2), T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "dup at e2 #2");
	cr_assert_eq(st_usm_worker_hmacs(fx.w), 3, "the remembered winner only");
	/* the other engine: the first user is its winner */
	cr_assert_eq(fx_run(&fx, vec_dup_e1, sizeof(vec_dup_e1), T0), 0);
	cr_assert_eq(st_usm_worker_hmacs(fx.w), 4);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	cr_assert_eq(st_usm_worker_hmacs(fx.w), 5);
	int n = 0;
	st_usm_engines_foreach(fx.usm, count_engine, &n);
	cr_assert_eq(n, 2);
	fx_close(&fx);
}

Test(process, replay_outside_window_under_learn)
{
	fixture_t fx;
	fx_open(&fx, "createUser dup SHA otherpass123 AES otherpriv123\n", NULL, 0, 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	/* the same message 100 s later: within the 150 s window */
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0 + 100), 0);
	/* 1000 s later: a replay */
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0 + 1000),
	             ST_ERR_USM_NOT_IN_TIME_WINDOW);
	cr_assert_eq(fx_stats(&fx).not_in_time_windows, 1);
	cr_assert_eq(fx.report_len, 0);
	cr_assert_eq(fx.msg->have_pdu, 0, "not decrypted");
	fx_close(&fx);
}

static void open_mode(fixture_t *fx, const char *users, int mode)
{
	st_usm_conf_t conf = {.timeliness = mode};
	fx_open_conf(fx, users, &conf);
}

Test(process, strict_learns_from_the_first_message_and_accepts_from_the_second)
{
	fixture_t fx;
	open_mode(&fx, "createUser dup SHA otherpass123 AES otherpriv123\n",
	          ST_USM_TIMELINESS_STRICT);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0),
	             ST_ERR_USM_NOT_IN_TIME_WINDOW);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_2, sizeof(vec_dup_e2_2), T0), 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0 + 1000),
	             ST_ERR_USM_NOT_IN_TIME_WINDOW);
	fx_close(&fx);
}

Test(process, off_accepts_replays)
{
	fixture_t fx;
	open_mode(&fx, "createUser dup SHA otherpass123 AES otherpriv123\n", ST_USM_TIMELINESS_OFF);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0 + 100000), 0);
	fx_close(&fx);
}

/* RFC 3414 3.2 7b with messages whose boots/time we choose. */
Test(process, learn_follows_rfc3414_7b)
{
	fixture_t fx;
	uint8_t pkt[1024];
	size_t n;
	fx_open(&fx, "createUser u SHA-256 authpass123 AES privpass123\n", NULL, 0, 0);
	st_usm_sender_t *s = make_sender("u", ST_USM_AUTH_SHA256, "authpass123", ST_USM_PRIV_AES128,
	                                 "privpass123", "8000000001aa", 5, 1000, T0);
	uint8_t e[6];
	size_t el = hx("8000000001aa", e, sizeof(e));
	struct timespec now = {.tv_sec = T0};
#define AT(boots, time, when, want)                                                                \
	do {                                                                                       \
		cr_assert_eq(st_usm_sender_set_engine(s, e, el, boots, time, &now), 0);            \
		n = send_trap(s, "t", T0, pkt, sizeof(pkt));                                       \
		int rc_ = fx_run(&fx, pkt, n, when);                                               \
		cr_assert_eq(rc_, want, "boots %d time %d at +%d: %s", boots, time,                \
		             (int)((when)-T0), st_strerror(rc_));                                  \
	} while (0)
	AT(5, 1000, T0, 0);                                    /* learns 5/1000 */
	AT(5, 900, T0, 0);                                     /* 100 s old: in window */
	AT(5, 849, T0, ST_ERR_USM_NOT_IN_TIME_WINDOW);         /* 151 s old */
	AT(5, 1000, T0 + 200, ST_ERR_USM_NOT_IN_TIME_WINDOW);  /* estimate is 1200 now */
	AT(5, 5000, T0 + 200, 0);                              /* ahead: accepted, advances */
	AT(5, 1300, T0 + 200, ST_ERR_USM_NOT_IN_TIME_WINDOW);  /* old against the new record */
	AT(4, 99999, T0 + 200, ST_ERR_USM_NOT_IN_TIME_WINDOW); /* older boots */
	AT(6, 3, T0 + 200, 0);                                 /* reboot: advances */
	AT(6, 10, T0 + 300, 0);
	AT(5, 5100, T0 + 300, ST_ERR_USM_NOT_IN_TIME_WINDOW);
	AT(2147483647, 1, T0 + 300, ST_ERR_USM_NOT_IN_TIME_WINDOW); /* boots latched */
#undef AT
	st_usm_sender_free(s);
	fx_close(&fx);
}

/* Every single-byte change of an authenticated message that still decodes
 * is refused, and nothing crashes. */
Test(process, any_flipped_byte_is_refused)
{
	const vec_t *vs[] = {vec_named("MD5/AES-256-C (Net-SNMP snmptrap)"),
	                     vec_named("SHA-512/3DES (pysnmp)")};
	for (size_t k = 0; k < 2; k++) {
		const vec_t *v = vs[k];
		fixture_t fx;
		fx_open(&fx, v->user_line, NULL, 0, 0);
		uint8_t *p = malloc(v->len);
		for (size_t i = 0; i < v->len; i++) {
			memcpy(p, v->pkt, v->len);
			p[i] ^= 0x01;
			if (st_snmp_decode(p, v->len, fx.msg) != 0)
				continue;
			struct timespec now = {.tv_sec = T0};
			size_t rl = 0;
			int rc = st_usm_process(fx.w, p, v->len, fx.msg, &now, fx.report,
			                        sizeof(fx.report), &rl);
			cr_assert_lt(rc, 0, "%s: flipping byte %zu went unnoticed", v->name, i);
		}
		/* and the original still passes */
		cr_assert_eq(fx_run(&fx, v->pkt, v->len, T0), 0);
		free(p);
		fx_close(&fx);
	}
}

Test(process, refuses_non_v3)
{
	fixture_t fx;
	fx_open(&fx, "createUser u1\n", NULL, 0, 0);
	fx.msg->version = ST_SNMP_V2C;
	struct timespec now = {.tv_sec = T0};
	size_t rl = 1;
	cr_assert_eq(st_usm_process(fx.w, vec_ns_none_none, sizeof(vec_ns_none_none), fx.msg, &now,
	                            NULL, 0, &rl),
	             ST_ERR_USM_PARAMS);
	cr_assert_eq(rl, 0);
	cr_assert_eq(fx_stats(&fx).params_errors, 1);
	/* the noAuthNoPriv trap passes for a noAuthNoPriv user */
	cr_assert_eq(fx_run(&fx, vec_ns_none_none, sizeof(vec_ns_none_none), T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "none/none");
	fx_close(&fx);
}
