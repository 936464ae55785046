/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_inform.c - the collector as authoritative engine: discovery
 * Reports, notInTimeWindows Reports, Reports for authentication failures,
 * and the Response to an inform, checked with the codec's decoder, a
 * reference HMAC and a reference decryption (OpenSSL one-shot calls).
 */
#include "helpers.h"
#include "vectors.h"

#define T0 1800000000

/* Decode a Report we wrote and check what every Report must carry. */
static void check_report(const fixture_t *fx, const uint8_t *req, size_t req_len, int stat,
                         int32_t boots, int32_t time, st_msg_t *rep)
{
	st_msg_t *in = calloc(1, sizeof(*in));
	cr_assert_eq(st_snmp_decode(req, req_len, in), 0);
	cr_assert_gt(fx->report_len, 0, "no Report written");
	int rc = st_snmp_decode(fx->report, fx->report_len, rep);
	cr_assert_eq(rc, 0, "our Report does not decode: %s", st_strerror(rc));
	cr_assert_eq(rep->version, ST_SNMP_V3);
	cr_assert_eq(rep->msg_id, in->msg_id, "same msgID");
	cr_assert_eq(rep->msg_flags & ST_MSGFLAG_REPORTABLE, 0, "a Report is not reportable");
	cr_assert_eq(rep->usm.engine_id_len, fx->ours_len);
	cr_assert(memcmp(rep->usm.engine_id, fx->ours, fx->ours_len) == 0, "our engine ID");
	cr_assert_eq(rep->usm.boots, boots);
	cr_assert_eq(rep->usm.time, time);
	cr_assert_eq(rep->usm.user_len, in->usm.user_len, "user name echoed");
	cr_assert(in->usm.user_len == 0 ||
	          memcmp(rep->usm.user, in->usm.user, in->usm.user_len) == 0);
	cr_assert_eq(rep->usm.priv_len, 0);
	cr_assert_eq(rep->msg_flags & ST_MSGFLAG_PRIV, 0, "never encrypted");
	{
		cr_assert_eq(rep->have_pdu, 1);
		cr_assert_eq(rep->pdu.type, ST_PDU_REPORT);
		cr_assert_eq(st_usm_report_stat(&rep->pdu), stat);
		cr_assert_eq(rep->pdu.nvb, 1);
		cr_assert_eq(rep->pdu.vb[0].type, ST_BER_COUNTER32);
		cr_assert_geq(rep->pdu.vb[0].num.u, 1);
		cr_assert_eq(rep->context_engine_id_len, fx->ours_len);
		cr_assert(memcmp(rep->context_engine_id, fx->ours, fx->ours_len) == 0);
		cr_assert_eq(rep->context_name_len, 0);
		if (in->have_pdu)
			cr_assert_eq(rep->pdu.request_id, in->pdu.request_id);
	}
	free(in);
}

Test(inform, discovery_probe_gets_unknown_engine_ids_report)
{
	fixture_t fx;
	st_msg_t *rep = calloc(1, sizeof(*rep));
	fx_open(&fx, "createUser u1 SHA authpass123 AES privpass123\n", VEC_OURS, 7, T0 - 500);
	cr_assert_eq(fx_run(&fx, vec_inform_probe, sizeof(vec_inform_probe), T0),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID);
	check_report(&fx, vec_inform_probe, sizeof(vec_inform_probe),
	             ST_USM_STAT_UNKNOWN_ENGINE_IDS, 7, 500, rep);
	cr_assert_eq(rep->msg_flags, 0, "noAuthNoPriv");
	/* usmStatsUnknownEngineIDs.0 = 1.3.6.1.6.3.15.1.1.4.0 */
	char oid[64];
	cr_assert_gt(st_oid_format(rep->pdu.vb[0].oid, rep->pdu.vb[0].oid_len, oid, sizeof(oid)),
	             0);
	cr_assert_str_eq(oid, "1.3.6.1.6.3.15.1.1.4.0");
	cr_assert_eq(rep->pdu.vb[0].num.u, 1);
	st_usm_stats_t s = fx_stats(&fx);
	/* discovery is normal traffic: counted apart, not as a refusal */
	cr_assert_eq(s.discovery_probes, 1);
	cr_assert_eq(s.unknown_engine_ids, 0);
	cr_assert_eq(s.reports_sent, 1);
	/* the counter in the next Report has moved on */
	cr_assert_eq(fx_run(&fx, vec_inform_probe, sizeof(vec_inform_probe), T0 + 1),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID);
	check_report(&fx, vec_inform_probe, sizeof(vec_inform_probe),
	             ST_USM_STAT_UNKNOWN_ENGINE_IDS, 7, 501, rep);
	cr_assert_eq(rep->pdu.vb[0].num.u, 2);
	free(rep);
	fx_close(&fx);
}

Test(inform, no_report_without_reportable_flag_or_engine_id)
{
	fixture_t fx;
	uint8_t probe[sizeof(vec_inform_probe)];
	memcpy(probe, vec_inform_probe, sizeof(probe));
	/* msgFlags OCTET STRING 04 01 04 -> 04 01 00 */
	size_t i;
	for (i = 0; i + 2 < 32; i++)
		if (probe[i] == 0x04 && probe[i + 1] == 0x01 && probe[i + 2] == 0x04)
			break;
	cr_assert_lt(i + 2, 32);
	probe[i + 2] = 0x00;
	fx_open(&fx, NULL, VEC_OURS, 1, T0);
	cr_assert_eq(fx_run(&fx, probe, sizeof(probe), T0), ST_ERR_USM_UNKNOWN_ENGINE_ID);
	cr_assert_eq(fx.report_len, 0);
	/* naming no engine and wanting no answer: a refusal, not discovery */
	cr_assert_eq(fx_stats(&fx).unknown_engine_ids, 1);
	cr_assert_eq(fx_stats(&fx).discovery_probes, 0);
	fx_close(&fx);
	/* no engine ID configured: nothing to tell */
	fx_open(&fx, NULL, NULL, 1, T0);
	cr_assert_eq(fx_run(&fx, vec_inform_probe, sizeof(vec_inform_probe), T0),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID);
	cr_assert_eq(fx.report_len, 0);
	cr_assert_eq(fx_stats(&fx).discovery_probes, 1);
	fx_close(&fx);
}

/* Net-SNMP sends its first inform with boots 0 / time 0: our clock says
 * boots 1, so it gets an authenticated notInTimeWindows Report. */
Test(inform, out_of_window_gets_authenticated_report)
{
	const char *users[] = {"createUser u1 SHA authpass123 AES privpass123\n",
	                       "createUser -e 0x" VEC_OURS " u1 SHA authpass123 AES privpass123\n"};
	for (int k = 0; k < 2; k++) {
		fixture_t fx;
		st_msg_t *rep = calloc(1, sizeof(*rep));
		fx_open(&fx, users[k], VEC_OURS, 1, T0 - 1234);
		cr_assert_eq(fx_run(&fx, vec_inform_ours, sizeof(vec_inform_ours), T0),
		             ST_ERR_USM_NOT_IN_TIME_WINDOW);
		check_report(&fx, vec_inform_ours, sizeof(vec_inform_ours),
		             ST_USM_STAT_NOT_IN_TIME_WINDOWS, 1, 1234, rep);
		cr_assert_eq(rep->msg_flags, ST_MSGFLAG_AUTH, "authNoPriv (RFC 3414 3.2 7a)");
		cr_assert_eq(rep->usm.auth_len, 12);
		uint8_t kul[64];
		kul_of(ST_USM_AUTH_SHA1, "authpass123", fx.ours, fx.ours_len, kul);
		cr_assert(ref_hmac_ok(ST_USM_AUTH_SHA1, kul, fx.report, fx.report_len,
		                      rep->usm.auth_off),
		          "Report HMAC");
		cr_assert_eq(st_usm_report_stat(&rep->pdu), ST_USM_STAT_NOT_IN_TIME_WINDOWS);
		cr_assert_eq(rep->context_engine_id_len, fx.ours_len);
		st_usm_stats_t s = fx_stats(&fx);
		cr_assert_eq(s.not_in_time_windows, 1);
		cr_assert_eq(s.reports_sent, 1);
		free(rep);
		fx_close(&fx);
	}
}

/* Reference AES-128-CFB decryption (RFC 3826) of a message we wrote. */
static size_t ref_decrypt_aes(const uint8_t *key, const st_msg_t *m, uint8_t *out)
{
	uint8_t iv[16];
	uint32_t b = (uint32_t)m->usm.boots, t = (uint32_t)m->usm.time;
	for (int i = 0; i < 4; i++) {
		iv[i] = (uint8_t)(b >> (24 - 8 * i));
		iv[4 + i] = (uint8_t)(t >> (24 - 8 * i));
	}
	cr_assert_eq(m->usm.priv_len, 8);
	memcpy(iv + 8, m->usm.priv, 8);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;
	cr_assert(EVP_DecryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv));
	cr_assert(EVP_DecryptUpdate(c, out, &l1, m->encrypted, (int)m->encrypted_len));
	cr_assert(EVP_DecryptFinal_ex(c, out + l1, &l2));
	EVP_CIPHER_CTX_free(c);
	return (size_t)(l1 + l2);
}

Test(inform, accepted_inform_gets_response_at_its_level)
{
	fixture_t fx;
	st_msg_t *rsp = calloc(1, sizeof(*rsp));
	uint8_t out[2048], out2[2048], plain[2048];
	struct timespec now = {.tv_sec = T0};

	/* boots 0 and our time 0 now: the inform is in time */
	fx_open(&fx, "createUser u1 SHA authpass123 AES privpass123\n", VEC_OURS, 0, T0);
	cr_assert_eq(fx_run(&fx, vec_inform_ours, sizeof(vec_inform_ours), T0), 0);
	cr_assert_eq(fx.report_len, 0);
	const st_msg_t *inf = fx.msg;
	cr_assert_eq(inf->pdu.type, ST_PDU_INFORM);
	expect_text(&inf->pdu, VEC_VB_TEXT, "inform to us");

	int n = st_usm_encode_response(fx.w, inf, &now, out, sizeof(out));
	cr_assert_gt(n, 0, "encode_response: %s", st_strerror(n));
	cr_assert_eq(st_snmp_decode(out, (size_t)n, rsp), 0);
	cr_assert_eq(rsp->msg_id, inf->msg_id);
	cr_assert_eq(rsp->msg_flags, ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV, "authPriv, not reportable");
	cr_assert_eq(rsp->usm.engine_id_len, fx.ours_len);
	cr_assert(memcmp(rsp->usm.engine_id, fx.ours, fx.ours_len) == 0);
	cr_assert_eq(rsp->usm.boots, 0);
	cr_assert_eq(rsp->usm.time, 0);
	cr_assert_eq(rsp->usm.user_len, 2);
	cr_assert(memcmp(rsp->usm.user, "u1", 2) == 0);
	cr_assert_eq(rsp->usm.auth_len, 12);

	uint8_t akul[64], pkul[64];
	kul_of(ST_USM_AUTH_SHA1, "authpass123", fx.ours, fx.ours_len, akul);
	kul_of(ST_USM_AUTH_SHA1, "privpass123", fx.ours, fx.ours_len, pkul);
	cr_assert(ref_hmac_ok(ST_USM_AUTH_SHA1, akul, out, (size_t)n, rsp->usm.auth_off),
	          "Response HMAC");
	size_t pl = ref_decrypt_aes(pkul, rsp, plain);
	cr_assert_eq(st_snmp_decode_scoped(plain, pl, rsp), 0, "decrypted Response decodes");
	cr_assert_eq(rsp->pdu.type, ST_PDU_RESPONSE);
	cr_assert_eq(rsp->pdu.request_id, inf->pdu.request_id);
	cr_assert_eq(rsp->pdu.error_status, 0);
	cr_assert_eq(rsp->pdu.vbl_len, inf->pdu.vbl_len);
	cr_assert(memcmp(rsp->pdu.vbl, inf->pdu.vbl, inf->pdu.vbl_len) == 0, "varbinds echoed");
	cr_assert_eq(rsp->context_engine_id_len, inf->context_engine_id_len);
	cr_assert(memcmp(rsp->context_engine_id, inf->context_engine_id,
	                 inf->context_engine_id_len) == 0);
	cr_assert_eq(rsp->context_name_len, inf->context_name_len);

	/* a second Response to the same inform carries another salt */
	int n2 = st_usm_encode_response(fx.w, inf, &now, out2, sizeof(out2));
	cr_assert_eq(n2, n);
	st_msg_t *rsp2 = calloc(1, sizeof(*rsp2));
	cr_assert_eq(st_snmp_decode(out2, (size_t)n2, rsp2), 0);
	cr_assert(memcmp(rsp2->usm.priv, rsp->usm.priv, 8) != 0, "fresh salt");

	/* after a trap, there is no inform to answer */
	fx_close(&fx);
	fx_open(&fx, "createUser u1\n", VEC_OURS, 0, T0);
	cr_assert_eq(fx_run(&fx, vec_ns_none_none, sizeof(vec_ns_none_none), T0), 0);
	cr_assert_eq(st_usm_encode_response(fx.w, fx.msg, &now, out, sizeof(out)),
	             ST_ERR_USM_PARAMS);
	free(rsp);
	free(rsp2);
	fx_close(&fx);
}

/* An inform whose engine ID is not ours: usmStatsUnknownEngineIDs, so
 * that its sender learns ours. */
Test(inform, inform_to_another_engine_gets_unknown_engine_ids_report)
{
	fixture_t fx;
	st_msg_t *rep = calloc(1, sizeof(*rep));
	fx_open(&fx, "createUser u1 SHA authpass123 AES privpass123\n", "80001f8880deadbeef", 3,
	        T0 - 10);
	cr_assert_eq(fx_run(&fx, vec_inform_ours, sizeof(vec_inform_ours), T0),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID);
	check_report(&fx, vec_inform_ours, sizeof(vec_inform_ours), ST_USM_STAT_UNKNOWN_ENGINE_IDS,
	             3, 10, rep);
	cr_assert_eq(fx_stats(&fx).unknown_engine_ids, 1);
	free(rep);
	fx_close(&fx);
}

static void expect_failure_report(const char *users, int want_rc, int stat)
{
	fixture_t fx;
	st_msg_t *rep = calloc(1, sizeof(*rep));
	fx_open(&fx, users, VEC_OURS, 0, T0);
	int rc = fx_run(&fx, vec_inform_ours, sizeof(vec_inform_ours), T0);
	cr_assert_eq(rc, want_rc, "[%s]: %s", users, st_strerror(rc));
	check_report(&fx, vec_inform_ours, sizeof(vec_inform_ours), stat, 0, 0, rep);
	cr_assert_eq(rep->msg_flags, 0, "noAuthNoPriv");
	cr_assert_eq(fx_stats(&fx).reports_sent, 1);
	free(rep);
	fx_close(&fx);
}

Test(inform, authentication_failures_to_us_are_reported)
{
	expect_failure_report("createUser u1 SHA wrongpass99 AES privpass123\n",
	                      ST_ERR_USM_WRONG_DIGEST, ST_USM_STAT_WRONG_DIGESTS);
	expect_failure_report("createUser someone SHA authpass123 AES privpass123\n",
	                      ST_ERR_USM_UNKNOWN_USER, ST_USM_STAT_UNKNOWN_USER_NAMES);
	expect_failure_report("createUser u1 SHA authpass123\n", ST_ERR_USM_UNSUPPORTED_SECLEVEL,
	                      ST_USM_STAT_UNSUPPORTED_SEC_LEVELS);
	expect_failure_report("createUser u1 SHA authpass123 AES wrongpriv99\n",
	                      ST_ERR_USM_DECRYPTION, ST_USM_STAT_DECRYPTION_ERRORS);
}

/* The same failures from a message to another engine are not reported. */
Test(inform, failures_to_other_engines_are_not_reported)
{
	fixture_t fx;
	fx_open(&fx, "createUser u1 SHA wrongpass99 AES privpass123\n", "80001f8880deadbeef", 0,
	        T0);
	cr_assert_eq(fx_run(&fx, vec_inform_ours, sizeof(vec_inform_ours), T0),
	             ST_ERR_USM_WRONG_DIGEST);
	cr_assert_eq(fx.report_len, 0);
	cr_assert_eq(fx_stats(&fx).reports_sent, 0);
	fx_close(&fx);
}

Test(inform, report_needs_room)
{
	fixture_t fx;
	fx_open(&fx, NULL, VEC_OURS, 0, T0);
	struct timespec now = {.tv_sec = T0};
	uint8_t small[16];
	size_t rl = 99;
	cr_assert_eq(st_snmp_decode(vec_inform_probe, sizeof(vec_inform_probe), fx.msg), 0);
	cr_assert_eq(st_usm_process(fx.w, vec_inform_probe, sizeof(vec_inform_probe), fx.msg, &now,
	                            small, sizeof(small), &rl),
	             ST_ERR_USM_UNKNOWN_ENGINE_ID);
	cr_assert_eq(rl, 0, "no partial Report");
	cr_assert_eq(fx_stats(&fx).reports_sent, 0);
	fx_close(&fx);
}
