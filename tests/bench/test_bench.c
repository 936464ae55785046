/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_bench.c - unit tests of the benchmark library: the message templates
 * decode with the codec to what they claim, patched fields land where they
 * should, and the latency histogram keeps values and percentiles within its
 * stated precision.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "st_codec.h"

static st_bench_tmpl_t *tmpl_new(void)
{
	st_bench_tmpl_t *t = malloc(sizeof(*t));
	cr_assert_not_null(t);
	return t;
}

static st_msg_t *msg_new(void)
{
	st_msg_t *m = malloc(sizeof(*m));
	cr_assert_not_null(m);
	return m;
}

static void assert_oid(const uint8_t *val, size_t len, const char *want)
{
	char got[ST_OID_STR_MAX];
	cr_assert_gt(st_oid_format(val, len, got, sizeof(got)), 0);
	cr_assert_str_eq(got, want);
}

Test(bench, v2c_trap_template_decodes_with_patched_request_id)
{
	st_bench_tmpl_t *t = tmpl_new();
	st_msg_t *m = msg_new();

	cr_assert_eq(st_bench_tmpl_v12(t, ST_SNMP_V2C, ST_PDU_TRAPV2, "public", 3, 0), 0);
	cr_assert_gt(t->reqid_off, 0);
	cr_assert_eq(t->agent_off, 0);
	/* the request-id is a 4-octet INTEGER: 02 04 then the value */
	cr_assert_eq(t->buf[t->reqid_off - 2], ST_BER_INTEGER);
	cr_assert_eq(t->buf[t->reqid_off - 1], 4);
	st_bench_put_reqid(t->buf, t->reqid_off, 0x01020304);
	cr_assert_eq(st_snmp_decode(t->buf, t->len, m), 0);
	cr_assert_eq(m->version, ST_SNMP_V2C);
	cr_assert_eq(m->community_len, 6);
	cr_assert_eq(memcmp(m->community, "public", 6), 0);
	cr_assert_eq(m->pdu.type, ST_PDU_TRAPV2);
	cr_assert_eq(m->pdu.request_id, 0x01020304);
	cr_assert_eq(m->pdu.nvb, 2 + 3);
	assert_oid(m->pdu.vb[0].oid, m->pdu.vb[0].oid_len, "1.3.6.1.2.1.1.3.0");
	cr_assert_eq(m->pdu.vb[0].type, ST_BER_TIMETICKS);
	assert_oid(m->pdu.vb[1].oid, m->pdu.vb[1].oid_len, "1.3.6.1.6.3.1.1.4.1.0");
	assert_oid(m->pdu.vb[1].val, m->pdu.vb[1].val_len, "1.3.6.1.6.3.1.1.5.3");
	/* ifIndex.7 = 7, ifDescr.7 = "GigabitEthernet0/7", ifAdminStatus.7 = 1 */
	assert_oid(m->pdu.vb[2].oid, m->pdu.vb[2].oid_len, "1.3.6.1.2.1.2.2.1.1.7");
	cr_assert_eq(m->pdu.vb[2].num.i, 7);
	cr_assert_eq(m->pdu.vb[3].type, ST_BER_OCTETS);
	cr_assert_eq(m->pdu.vb[3].val_len, strlen("GigabitEthernet0/7"));
	assert_oid(m->pdu.vb[4].oid, m->pdu.vb[4].oid_len, "1.3.6.1.2.1.2.2.1.7.7");
	/* a negative-looking value stays 4 octets: the length never changes */
	st_bench_put_reqid(t->buf, t->reqid_off, 0x7fffffff);
	cr_assert_eq(st_snmp_decode(t->buf, t->len, m), 0);
	cr_assert_eq(m->pdu.request_id, 0x7fffffff);
	free(t);
	free(m);
}

Test(bench, varbinds_cycle_through_every_type)
{
	st_bench_tmpl_t *t = tmpl_new();
	st_msg_t *m = msg_new();
	static const uint8_t want[] = {ST_BER_INTEGER,   ST_BER_OCTETS,    ST_BER_INTEGER,
	                               ST_BER_INTEGER,   ST_BER_COUNTER32, ST_BER_COUNTER64,
	                               ST_BER_TIMETICKS, ST_BER_IPADDR,    ST_BER_GAUGE32,
	                               ST_BER_OCTETS,    ST_BER_INTEGER};

	cr_assert_eq(st_bench_tmpl_v12(t, ST_SNMP_V2C, ST_PDU_INFORM, "c", 11, 0), 0);
	cr_assert_eq(st_snmp_decode(t->buf, t->len, m), 0);
	cr_assert_eq(m->pdu.type, ST_PDU_INFORM);
	cr_assert_eq(m->pdu.nvb, 13);
	for (size_t i = 0; i < sizeof(want); i++)
		cr_assert_eq(m->pdu.vb[2 + i].type, want[i], "varbind %zu", i);
	cr_assert_eq(m->pdu.vb[7].num.u, (1ull << 40) + 5); /* Counter64 */
	/* the 11th extra varbind is the second interface: ifIndex.8 = 7 */
	assert_oid(m->pdu.vb[12].oid, m->pdu.vb[12].oid_len, "1.3.6.1.2.1.2.2.1.1.8");
	free(t);
	free(m);
}

Test(bench, v1_template_carries_agent_addr_and_generic_trap)
{
	st_bench_tmpl_t *t = tmpl_new();
	st_msg_t *m = msg_new();
	uint32_t a = htonl(0x7f000005); /* 127.0.0.5 */

	cr_assert_eq(
	        st_bench_tmpl_v12(t, ST_SNMP_V1, ST_PDU_TRAPV1, "public", 2, htonl(0x7f000001)), 0);
	cr_assert_eq(t->reqid_off, 0);
	cr_assert_gt(t->agent_off, 0);
	memcpy(t->buf + t->agent_off, &a, 4);
	cr_assert_eq(st_snmp_decode(t->buf, t->len, m), 0);
	cr_assert_eq(m->version, ST_SNMP_V1);
	cr_assert_eq(m->pdu.type, ST_PDU_TRAPV1);
	cr_assert_eq(memcmp(m->pdu.agent_addr, "\x7f\x00\x00\x05", 4), 0);
	cr_assert_eq(m->pdu.generic_trap, 2);
	cr_assert_eq(m->pdu.specific_trap, 0);
	assert_oid(m->pdu.enterprise, m->pdu.enterprise_len, "1.3.6.1.4.1.8072.3.2.10");
	cr_assert_eq(m->pdu.nvb, 2); /* no sysUpTime.0 / snmpTrapOID.0 in v1 */
	free(t);
	free(m);
}

Test(bench, scoped_template_patches_context_engine_id)
{
	st_bench_tmpl_t *t = tmpl_new();
	st_msg_t *m = msg_new();
	/* 80 00 1f 88 05 "stb" 00 | 00 00 00 00: engine 0 of the default prefix */
	uint8_t eid[13] = {0x80, 0x00, 0x1f, 0x88, 0x05, 's', 't', 'b', 0, 0, 0, 0, 0};

	cr_assert_eq(st_bench_tmpl_scoped(t, ST_PDU_TRAPV2, eid, sizeof(eid), 2), 0);
	cr_assert_eq(t->ctx_engine_len, sizeof(eid));
	cr_assert_eq(memcmp(t->buf + t->ctx_engine_off, eid, sizeof(eid)), 0);
	eid[12] = 9;
	memcpy(t->buf + t->ctx_engine_off, eid, sizeof(eid));
	st_bench_put_reqid(t->buf, t->reqid_off, 4242);
	memset(m, 0, sizeof(*m));
	m->version = ST_SNMP_V3;
	cr_assert_eq(st_snmp_decode_scoped(t->buf, t->len, m), 0);
	cr_assert_eq(m->context_engine_id_len, sizeof(eid));
	cr_assert_eq(m->context_engine_id[12], 9);
	cr_assert_eq(m->context_name_len, 0);
	cr_assert_eq(m->pdu.type, ST_PDU_TRAPV2);
	cr_assert_eq(m->pdu.request_id, 4242);
	cr_assert_eq(m->pdu.nvb, 4);
	free(t);
	free(m);
}

Test(bench, templates_reject_bad_arguments)
{
	st_bench_tmpl_t *t = tmpl_new();

	cr_assert_lt(st_bench_tmpl_v12(t, ST_SNMP_V1, ST_PDU_TRAPV2, "public", 0, 0), 0);
	cr_assert_lt(st_bench_tmpl_v12(t, ST_SNMP_V2C, ST_PDU_TRAPV1, "public", 0, 0), 0);
	cr_assert_lt(st_bench_tmpl_v12(t, ST_SNMP_V3, ST_PDU_TRAPV2, "public", 0, 0), 0);
	cr_assert_lt(st_bench_tmpl_v12(t, ST_SNMP_V2C, ST_PDU_TRAPV2, "public",
	                               ST_BENCH_MAX_VARBINDS + 1, 0),
	             0);
	cr_assert_lt(st_bench_tmpl_scoped(t, ST_PDU_GET, (const uint8_t *)"x", 1, 0), 0);
	/* the largest template still fits */
	cr_assert_eq(st_bench_tmpl_v12(t, ST_SNMP_V2C, ST_PDU_TRAPV2, "public",
	                               ST_BENCH_MAX_VARBINDS, 0),
	             0);
	free(t);
}

Test(bench, hist_buckets_are_contiguous_and_precise)
{
	/* every value maps to a bucket whose lower bound is <= it and within
	 * 1/ST_BENCH_HIST_SUB of it; indexes never go backwards */
	size_t prev = 0;
	for (uint64_t v = 0; v < 5000000; v += 1 + v / 1000) {
		size_t i = st_bench_hist_index(v);
		uint64_t lo = st_bench_hist_lower(i);
		cr_assert_geq(i, prev);
		cr_assert_lt(i, ST_BENCH_HIST_BUCKETS);
		cr_assert_leq(lo, v);
		cr_assert_leq((double)(v - lo), (double)v / ST_BENCH_HIST_SUB, "v=%llu lo=%llu",
		              (unsigned long long)v, (unsigned long long)lo);
		prev = i;
	}
	cr_assert_eq(st_bench_hist_index(255), 255);
	cr_assert_eq(st_bench_hist_index(256), 256);
	cr_assert_eq(st_bench_hist_lower(st_bench_hist_index(1ull << 47)), 1ull << 47);
	cr_assert_eq(st_bench_hist_index(UINT64_MAX), ST_BENCH_HIST_BUCKETS - 1);
}

Test(bench, hist_percentiles_of_a_known_distribution)
{
	st_bench_hist_t *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	st_bench_hist_init(a);
	st_bench_hist_init(b);
	cr_assert_eq(st_bench_hist_pct(a, 50), 0);
	/* 1..100000 us in ns, split over two histograms (as two threads) */
	for (uint64_t v = 1; v <= 100000; v++)
		st_bench_hist_add(v % 2 ? a : b, v * 1000);
	st_bench_hist_merge(a, b);
	cr_assert_eq(a->count, 100000);
	cr_assert_eq(a->min, 1000);
	cr_assert_eq(a->max, 100000000);
	struct {
		double pct, want;
	} cases[] = {{50, 50000e3}, {90, 90000e3}, {99, 99000e3}, {99.9, 99900e3}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = (double)st_bench_hist_pct(a, cases[i].pct);
		cr_assert_leq(got, cases[i].want, "p%g = %g", cases[i].pct, got);
		cr_assert_geq(got, cases[i].want * (1 - 1.0 / ST_BENCH_HIST_SUB), "p%g = %g",
		              cases[i].pct, got);
	}
	cr_assert_eq(st_bench_hist_pct(a, 100), 100000000);
	cr_assert_eq(st_bench_hist_pct(a, 0.0001), 1000);
	free(a);
	free(b);
}

/* A run that delivered nothing fails, with what the receiver said. */
Test(bench, verdict_names_why_nothing_was_delivered)
{
	st_bench_outcome_t out = {.inform = 1, .timeout_ms = 1000, .sent = 2000};
	char why[256];

	/* informs, Reports: by usmStats counter, in their order, others last */
	out.reports[3] = 2000;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "no inform acked: 2000 Reports usmStatsUnknownUserNames");
	out.reports[0] = 1;
	out.reports[5] = 7;
	out.timeouts = 2000;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "no inform acked: 2000 Reports usmStatsUnknownUserNames, 7 Reports "
	                      "usmStatsWrongDigests, 1 Reports that are not usmStats, 2000 timed "
	                      "out after 1000 ms");
	/* silence */
	memset(out.reports, 0, sizeof(out.reports));
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "no inform acked: 2000 timed out after 1000 ms");
	out.timeouts = 0;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "no inform acked: no Response came back");
	/* one ack is a delivery */
	out.acked = 1;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), 0);
	/* traps: only the sends count */
	out = (st_bench_outcome_t){.sent = 0, .errors = 20, .send_errno = ECONNREFUSED};
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "every send failed: 20 errors, the last: Connection refused");
	out.errors = 0;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "nothing was sent");
	out.sent = 1;
	out.errors = 19;
	cr_assert_eq(st_bench_verdict(&out, why, sizeof(why)), 0);
	/* a short buffer is cut, never overrun */
	out = (st_bench_outcome_t){.inform = 1, .sent = 5, .timeouts = 5, .reports = {1, 1, 1, 1}};
	cr_assert_eq(st_bench_verdict(&out, why, 24), -1);
	cr_assert_eq(strlen(why), 23);
}
