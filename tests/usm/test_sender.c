/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sender.c - the originator side against the receiver side: discovery,
 * informs and their Responses, time-window resynchronisation and traps, for
 * every auth x priv combination. (The receiver side is checked against real
 * Net-SNMP and pysnmp packets in test_process.c.)
 */
#include <errno.h>

#include "helpers.h"
#include "vectors.h"

#define T0 1800000000

static void users_line(int auth, int priv, const char *engine_hex, char *out, size_t cap)
{
	char bind[80] = "";
	if (engine_hex)
		snprintf(bind, sizeof(bind), "-e 0x%s ", engine_hex);
	if (priv)
		snprintf(out, cap, "createUser %su %s authpass123 %s privpass123\n", bind,
		         st_usm_auth_name(auth), st_usm_priv_name(priv));
	else if (auth)
		snprintf(out, cap, "createUser %su %s authpass123\n", bind, st_usm_auth_name(auth));
	else
		snprintf(out, cap, "createUser %su\n", bind);
}

/* probe -> Report -> learn -> inform -> Response, as stormtrap-bench does */
static void inform_round_trip(int auth, int priv)
{
	fixture_t fx;
	char line[256];
	uint8_t pkt[2048], scoped[1024], out[2048];
	struct timespec now = {.tv_sec = T0};
	st_msg_t *back = calloc(1, sizeof(*back));

	users_line(auth, priv, NULL, line, sizeof(line));
	fx_open(&fx, line, VEC_OURS, 3, T0 - 100);
	st_usm_sender_t *s =
	        make_sender("u", auth, "authpass123", priv, "privpass123", NULL, 0, 0, T0);
	cr_assert_eq(st_usm_sender_encode(s, 1, 1, scoped, 10, &now, pkt, sizeof(pkt)),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID, "no engine yet");

	int n = st_usm_sender_encode_probe(s, 100, 200, pkt, sizeof(pkt));
	cr_assert_gt(n, 0);
	cr_assert_eq(fx_run(&fx, pkt, (size_t)n, T0), ST_ERR_USM_UNKNOWN_ENGINE_ID);
	cr_assert_gt(fx.report_len, 0);
	cr_assert_eq(st_snmp_decode(fx.report, fx.report_len, back), 0);
	cr_assert_eq(back->pdu.request_id, 200);
	cr_assert_eq(st_usm_sender_process(s, fx.report, fx.report_len, back, &now), 0);
	size_t el;
	const uint8_t *e = st_usm_sender_engine(s, &el);
	cr_assert_eq(el, fx.ours_len);
	cr_assert(memcmp(e, fx.ours, el) == 0, "engine learned from the Report");

	int sl = make_scoped(e, el, ST_PDU_INFORM, 99, "hello inform", scoped, sizeof(scoped));
	cr_assert_gt(sl, 0);
	n = st_usm_sender_encode(s, 101, 1, scoped, (size_t)sl, &now, pkt, sizeof(pkt));
	cr_assert_gt(n, 0);
	int rc = fx_run(&fx, pkt, (size_t)n, T0);
	cr_assert_eq(rc, 0, "%s/%s inform: %s", st_usm_auth_name(auth), st_usm_priv_name(priv),
	             st_strerror(rc));
	cr_assert_eq(fx.msg->pdu.type, ST_PDU_INFORM);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "hello inform");

	n = st_usm_encode_response(fx.w, fx.msg, &now, out, sizeof(out));
	cr_assert_gt(n, 0);
	cr_assert_eq(st_snmp_decode(out, (size_t)n, back), 0);
	rc = st_usm_sender_process(s, out, (size_t)n, back, &now);
	cr_assert_eq(rc, 0, "%s/%s response: %s", st_usm_auth_name(auth), st_usm_priv_name(priv),
	             st_strerror(rc));
	cr_assert_eq(back->pdu.type, ST_PDU_RESPONSE);
	cr_assert_eq(back->pdu.request_id, 99);
	expect_text(&back->pdu, VEC_VB_TEXT, "hello inform");

	st_usm_sender_free(s);
	free(back);
	fx_close(&fx);
}

Test(sender, inform_round_trip_every_algorithm)
{
	inform_round_trip(ST_USM_AUTH_NONE, ST_USM_PRIV_NONE);
	for (int a = ST_USM_AUTH_MD5; a < ST_USM_AUTH_COUNT; a++)
		for (int p = ST_USM_PRIV_NONE; p < ST_USM_PRIV_COUNT; p++)
			inform_round_trip(a, p);
}

Test(sender, traps_every_algorithm_unbound_and_bound)
{
	for (int a = ST_USM_AUTH_MD5; a < ST_USM_AUTH_COUNT; a++) {
		for (int p = ST_USM_PRIV_NONE; p < ST_USM_PRIV_COUNT; p++) {
			for (int bound = 0; bound < 2; bound++) {
				fixture_t fx;
				char line[256];
				uint8_t pkt[2048];
				users_line(a, p, bound ? "8000000001aa" : NULL, line, sizeof(line));
				fx_open(&fx, line, NULL, 0, 0);
				st_usm_sender_t *s =
				        make_sender("u", a, "authpass123", p, "privpass123",
				                    "8000000001aa", 9, 777, T0);
				size_t n = send_trap(s, "a trap", T0 + 5, pkt, sizeof(pkt));
				int rc = fx_run(&fx, pkt, n, T0 + 5);
				cr_assert_eq(rc, 0, "%s", line);
				expect_text(&fx.msg->pdu, VEC_VB_TEXT, "a trap");
				cr_assert_eq(fx.msg->usm.boots, 9);
				cr_assert_eq(fx.msg->usm.time, 782);
				st_usm_sender_free(s);
				fx_close(&fx);
			}
		}
	}
}

Test(sender, resyncs_after_not_in_time_window)
{
	fixture_t fx;
	uint8_t pkt[2048], scoped[1024];
	struct timespec now = {.tv_sec = T0};
	st_msg_t *back = calloc(1, sizeof(*back));
	fx_open(&fx, "createUser u SHA-512 authpass123 AES-256 privpass123\n", VEC_OURS, 4,
	        T0 - 50);
	/* it believes boots 3: out of window */
	st_usm_sender_t *s = make_sender("u", ST_USM_AUTH_SHA512, "authpass123", ST_USM_PRIV_AES256,
	                                 "privpass123", VEC_OURS, 3, 50, T0);
	int sl = make_scoped(fx.ours, fx.ours_len, ST_PDU_INFORM, 5, "again", scoped,
	                     sizeof(scoped));
	int n = st_usm_sender_encode(s, 7, 1, scoped, (size_t)sl, &now, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, (size_t)n, T0), ST_ERR_USM_NOT_IN_TIME_WINDOW);
	uint8_t rep[2048];
	size_t rl = fx.report_len;
	memcpy(rep, fx.report, rl);
	/* a Report forged without the key teaches nothing */
	rep[rl - 1] ^= 1;
	cr_assert_eq(st_snmp_decode(rep, rl, back), 0);
	cr_assert_eq(st_usm_sender_process(s, rep, rl, back, &now), ST_ERR_USM_WRONG_DIGEST);
	rep[rl - 1] ^= 1;
	cr_assert_eq(st_snmp_decode(rep, rl, back), 0);
	cr_assert_eq(st_usm_sender_process(s, rep, rl, back, &now), 0);
	cr_assert_eq(st_usm_report_stat(&back->pdu), ST_USM_STAT_NOT_IN_TIME_WINDOWS);
	n = st_usm_sender_encode(s, 8, 1, scoped, (size_t)sl, &now, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, (size_t)n, T0), 0, "accepted after resync");
	cr_assert_eq(fx.msg->usm.boots, 4);
	cr_assert_eq(fx.msg->usm.time, 50);
	st_usm_sender_free(s);
	free(back);
	fx_close(&fx);
}

Test(sender, omitted_priv_passphrase_is_the_auth_one)
{
	fixture_t fx;
	uint8_t pkt[2048];
	fx_open(&fx, "createUser -e 0x8000000001bb u SHA-256 authpass123 AES-256-C\n", NULL, 0, 0);
	st_usm_sender_t *s = make_sender("u", ST_USM_AUTH_SHA256, "authpass123",
	                                 ST_USM_PRIV_AES256C, NULL, "8000000001bb", 1, 1, T0);
	size_t n = send_trap(s, "same pass", T0, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "same pass");
	st_usm_sender_free(s);
	fx_close(&fx);
}

Test(sender, clone_plays_another_engine)
{
	fixture_t fx;
	uint8_t pkt[2048], e2[6];
	size_t e2l = hx("8000000001cc", e2, sizeof(e2));
	struct timespec now = {.tv_sec = T0};
	fx_open(&fx, "createUser u SHA authpass123 3DES privpass123\n", NULL, 0, 0);
	st_usm_sender_t *s = make_sender("u", ST_USM_AUTH_SHA1, "authpass123", ST_USM_PRIV_3DES,
	                                 "privpass123", "8000000001bb", 1, 1, T0);
	st_usm_sender_t *c = st_usm_sender_clone(s);
	cr_assert_not_null(c);
	cr_assert_eq(st_usm_sender_set_engine(c, e2, e2l, 2, 2, &now), 0);
	size_t n = send_trap(s, "from bb", T0, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0), 0);
	n = send_trap(c, "from cc", T0, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "from cc");
	st_usm_cache_stats_t cs;
	st_usm_cache_stats(fx.usm, &cs);
	cr_assert_eq(cs.engines, 2);
	st_usm_sender_free(s);
	st_usm_sender_free(c);
	fx_close(&fx);
}

Test(sender, rejects_bad_configuration)
{
	st_usm_sender_conf_t conf = {.user = "u", .auth = ST_USM_AUTH_SHA1, .auth_pass = "short"};
	struct timespec now = {.tv_sec = T0};
	st_usm_sender_t *s = NULL;
	char err[128];
	cr_assert_eq(st_usm_sender_new(&conf, &now, &s, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "auth passphrase must be at least 8 characters");
	conf = (st_usm_sender_conf_t){.user = "u", .priv = ST_USM_PRIV_AES128, .priv_pass = "x"};
	cr_assert_eq(st_usm_sender_new(&conf, &now, &s, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "privacy needs authentication");
	conf = (st_usm_sender_conf_t){.user = ""};
	cr_assert_eq(st_usm_sender_new(&conf, &now, &s, err, sizeof(err)), -EINVAL);
	cr_assert_null(s);
}
