/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msg.c - message templates and the latency histogram of bench/.
 *
 * Templates are encoded with the codec's backwards BER writer. The fields
 * patched per message are written as raw, fixed-width TLVs (a request-id is
 * always 02 04 xx xx xx xx, even when a shorter INTEGER would do: BER allows
 * it, and every receiver under test must accept it), and their offset from
 * the end of the encoding is noted while writing; once the whole message is
 * known, that becomes an offset from its start.
 *
 * The varbinds look like what a router sends with a linkDown: IF-MIB
 * columns of one interface, cycling through every SMI type, so a receiver's
 * decoder and JSON encoder see a realistic mix rather than one INTEGER.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* OID content octets used by every template */
static const uint8_t oid_link_down[] = {0x2b, 6, 1, 6, 3, 1, 1, 5, 3}; /* 1.3.6.1.6.3.1.1.5.3 */
/* 1.3.6.1.4.1.8072.3.2.10: NET-SNMP-AGENT-MIB netSnmpAgentOIDs.linux */
static const uint8_t oid_enterprise[] = {0x2b, 6, 1, 4, 1, 0xbf, 0x08, 3, 2, 10};

/* One extra varbind kind: a column (instance appended) and a value. */
typedef struct vb_kind {
	const char *column;
	uint8_t type;
	uint64_t num;
	const char *str; /* OCTETS; IPADDR as 4 octets */
} vb_kind_t;

static const vb_kind_t vb_kinds[] = {
        {"1.3.6.1.2.1.2.2.1.1", ST_BER_INTEGER, 7, NULL},                /* ifIndex */
        {"1.3.6.1.2.1.2.2.1.2", ST_BER_OCTETS, 0, "GigabitEthernet0/7"}, /* ifDescr */
        {"1.3.6.1.2.1.2.2.1.7", ST_BER_INTEGER, 1, NULL},                /* ifAdminStatus up */
        {"1.3.6.1.2.1.2.2.1.8", ST_BER_INTEGER, 2, NULL},                /* ifOperStatus down */
        {"1.3.6.1.2.1.2.2.1.10", ST_BER_COUNTER32, 3735928559u, NULL},   /* ifInOctets */
        {"1.3.6.1.2.1.31.1.1.1.6", ST_BER_COUNTER64, (1ull << 40) + 5, NULL}, /* ifHCInOctets */
        {"1.3.6.1.2.1.2.2.1.9", ST_BER_TIMETICKS, 8640000, NULL},             /* ifLastChange */
        {"1.3.6.1.2.1.4.20.1.1", ST_BER_IPADDR, 0, "\xc0\x00\x02\x07"},       /* ipAdEntAddr */
        {"1.3.6.1.2.1.2.2.1.5", ST_BER_GAUGE32, 1000000000, NULL},            /* ifSpeed */
        {"1.3.6.1.2.1.31.1.1.1.18", ST_BER_OCTETS, 0, "uplink to core-1"},    /* ifAlias */
};
#define VB_KINDS (sizeof(vb_kinds) / sizeof(vb_kinds[0]))

/* Prepend extra varbind i (row i / VB_KINDS picks the interface). */
static int put_varbind(st_berw_t *w, unsigned i)
{
	const vb_kind_t *k = &vb_kinds[i % VB_KINDS];
	char dotted[64];
	uint8_t oid[64];
	size_t mark = st_berw_len(w);
	int n;

	snprintf(dotted, sizeof(dotted), "%s.%u", k->column, 7 + i / (unsigned)VB_KINDS);
	n = st_oid_parse(dotted, oid, sizeof(oid));
	if (n < 0)
		return n;
	switch (k->type) {
	case ST_BER_INTEGER:
		st_berw_int(w, k->type, (int64_t)k->num);
		break;
	case ST_BER_OCTETS:
		st_berw_octets(w, k->type, k->str, strlen(k->str));
		break;
	case ST_BER_IPADDR:
		st_berw_octets(w, k->type, k->str, 4);
		break;
	default:
		st_berw_uint(w, k->type, k->num);
		break;
	}
	st_berw_oid(w, oid, (size_t)n);
	st_berw_wrap(w, ST_BER_SEQUENCE, mark);
	return 0;
}

/* Prepend the VarBindList: sysUpTime.0 and snmpTrapOID.0 (v2 PDUs only),
 * then the extra varbinds. */
static int put_vbl(st_berw_t *w, unsigned nvarbinds, int v2)
{
	size_t mark = st_berw_len(w), vm;

	for (unsigned i = nvarbinds; i-- > 0;) {
		int rc = put_varbind(w, i);
		if (rc < 0)
			return rc;
	}
	if (v2) {
		vm = st_berw_len(w);
		st_berw_oid(w, oid_link_down, sizeof(oid_link_down));
		st_berw_oid(w, ST_OID_SNMPTRAPOID0, sizeof(ST_OID_SNMPTRAPOID0));
		st_berw_wrap(w, ST_BER_SEQUENCE, vm);
		vm = st_berw_len(w);
		st_berw_uint(w, ST_BER_TIMETICKS, 123456);
		st_berw_oid(w, ST_OID_SYSUPTIME0, sizeof(ST_OID_SYSUPTIME0));
		st_berw_wrap(w, ST_BER_SEQUENCE, vm);
	}
	st_berw_wrap(w, ST_BER_SEQUENCE, mark);
	return w->err;
}

/* Prepend request-id (fixed 4 octets), error-status 0, error-index 0 and
 * the VarBindList; *reqid_end receives the request-id content's distance
 * from the end of the buffer. */
static int put_v2_pdu(st_berw_t *w, uint8_t pdu_type, unsigned nvarbinds, size_t *reqid_end)
{
	static const uint8_t reqid[6] = {ST_BER_INTEGER, 4, 0, 0, 0, 0};
	size_t mark = st_berw_len(w);
	int rc = put_vbl(w, nvarbinds, 1);

	if (rc < 0)
		return rc;
	st_berw_int(w, ST_BER_INTEGER, 0);
	st_berw_int(w, ST_BER_INTEGER, 0);
	st_berw_raw(w, reqid, sizeof(reqid));
	*reqid_end = st_berw_len(w) - 2;
	st_berw_wrap(w, pdu_type, mark);
	return w->err;
}

/* Move the finished encoding to the start of t->buf; turn distances from
 * the end into offsets from the start. */
static int tmpl_finish(st_bench_tmpl_t *t, st_berw_t *w, size_t *const ends[], size_t nends)
{
	const uint8_t *p;
	int n = st_berw_finish(w, &p);

	if (n < 0)
		return n;
	memmove(t->buf, p, (size_t)n);
	t->len = (size_t)n;
	for (size_t i = 0; i < nends; i++)
		if (*ends[i])
			*ends[i] = (size_t)n - *ends[i];
	return 0;
}

int st_bench_tmpl_v12(st_bench_tmpl_t *t, int version, uint8_t pdu_type, const char *community,
                      unsigned nvarbinds, uint32_t agent_addr)
{
	st_berw_t w;
	size_t mark, pmark;
	int rc;

	t->len = t->reqid_off = t->agent_off = t->ctx_engine_off = t->ctx_engine_len = 0;
	if (nvarbinds > ST_BENCH_MAX_VARBINDS || !community)
		return -EINVAL;
	if (version == ST_SNMP_V1 ? pdu_type != ST_PDU_TRAPV1
	                          : (version != ST_SNMP_V2C ||
	                             (pdu_type != ST_PDU_TRAPV2 && pdu_type != ST_PDU_INFORM)))
		return -EINVAL;

	st_berw_init(&w, t->buf, sizeof(t->buf));
	mark = st_berw_len(&w);
	if (version == ST_SNMP_V1) {
		pmark = st_berw_len(&w);
		rc = put_vbl(&w, nvarbinds, 0);
		if (rc < 0)
			return rc;
		st_berw_uint(&w, ST_BER_TIMETICKS, 123456); /* time-stamp */
		st_berw_int(&w, ST_BER_INTEGER, 0);         /* specific-trap */
		st_berw_int(&w, ST_BER_INTEGER, 2);         /* generic-trap linkDown */
		st_berw_octets(&w, ST_BER_IPADDR, &agent_addr, 4);
		t->agent_off = st_berw_len(&w) - 2;
		st_berw_oid(&w, oid_enterprise, sizeof(oid_enterprise));
		st_berw_wrap(&w, ST_PDU_TRAPV1, pmark);
	} else {
		rc = put_v2_pdu(&w, pdu_type, nvarbinds, &t->reqid_off);
		if (rc < 0)
			return rc;
	}
	st_berw_octets(&w, ST_BER_OCTETS, community, strlen(community));
	st_berw_int(&w, ST_BER_INTEGER, version);
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	{
		size_t *const ends[] = {&t->reqid_off, &t->agent_off};
		return tmpl_finish(t, &w, ends, 2);
	}
}

int st_bench_tmpl_scoped(st_bench_tmpl_t *t, uint8_t pdu_type, const uint8_t *ctx_engine,
                         size_t ctx_engine_len, unsigned nvarbinds)
{
	st_berw_t w;
	size_t mark;
	int rc;

	t->len = t->reqid_off = t->agent_off = t->ctx_engine_off = t->ctx_engine_len = 0;
	if (nvarbinds > ST_BENCH_MAX_VARBINDS || ctx_engine_len > 32 ||
	    (pdu_type != ST_PDU_TRAPV2 && pdu_type != ST_PDU_INFORM))
		return -EINVAL;
	st_berw_init(&w, t->buf, sizeof(t->buf));
	mark = st_berw_len(&w);
	rc = put_v2_pdu(&w, pdu_type, nvarbinds, &t->reqid_off);
	if (rc < 0)
		return rc;
	st_berw_octets(&w, ST_BER_OCTETS, "", 0); /* contextName */
	st_berw_octets(&w, ST_BER_OCTETS, ctx_engine, ctx_engine_len);
	/* content of a short-form OCTET STRING (engine IDs are <= 32 octets) */
	t->ctx_engine_off = st_berw_len(&w) - 2;
	t->ctx_engine_len = ctx_engine_len;
	st_berw_wrap(&w, ST_BER_SEQUENCE, mark);
	{
		size_t *const ends[] = {&t->reqid_off, &t->ctx_engine_off};
		return tmpl_finish(t, &w, ends, 2);
	}
}

/* ------------------------------------------------------------------ */
/* Verdict                                                            */
/* ------------------------------------------------------------------ */

/* the usmStats counters a Report may carry, by ST_USM_STAT_* (usm/st_usm.h;
 * 1.3.6.1.6.3.15.1.1.N.0) */
static const char *const report_name[ST_BENCH_REPORT_KINDS] = {
        "that are not usmStats",    "usmStatsUnsupportedSecLevels", "usmStatsNotInTimeWindows",
        "usmStatsUnknownUserNames", "usmStatsUnknownEngineIDs",     "usmStatsWrongDigests",
        "usmStatsDecryptionErrors",
};

int st_bench_verdict(const st_bench_outcome_t *out, char *why, size_t len)
{
	size_t n;

	if (out->sent == 0 && out->errors > 0) {
		snprintf(why, len, "every send failed: %" PRIu64 " errors, the last: %s",
		         out->errors, strerror(out->send_errno));
		return -1;
	}
	if (out->sent == 0) {
		snprintf(why, len, "nothing was sent");
		return -1;
	}
	if (!out->inform || out->acked > 0)
		return 0;
	n = (size_t)snprintf(why, len, "no inform acked:");
	/* the usmStats first, in their order, the other Reports last */
	for (unsigned k = 1; k <= ST_BENCH_REPORT_KINDS && n < len; k++) {
		unsigned kind = k % ST_BENCH_REPORT_KINDS;

		if (out->reports[kind])
			n += (size_t)snprintf(why + n, len - n, " %" PRIu64 " Reports %s,",
			                      out->reports[kind], report_name[kind]);
	}
	if (n < len && out->timeouts)
		n += (size_t)snprintf(why + n, len - n, " %" PRIu64 " timed out after %u ms,",
		                      out->timeouts, out->timeout_ms);
	if (n < len && out->unmatched)
		n += (size_t)snprintf(why + n, len - n, " %" PRIu64 " replies matched no inform,",
		                      out->unmatched);
	if (n < len && why[n - 1] == ',')
		why[n - 1] = '\0';
	else if (n < len)
		snprintf(why + n, len - n, " no Response came back");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Histogram                                                          */
/* ------------------------------------------------------------------ */

void st_bench_hist_init(st_bench_hist_t *h)
{
	memset(h, 0, sizeof(*h));
}

size_t st_bench_hist_index(uint64_t v)
{
	unsigned top, shift;

	if (v < 2 * ST_BENCH_HIST_SUB)
		return (size_t)v;
	if (v >> ST_BENCH_HIST_MAX_BITS)
		v = (1ull << ST_BENCH_HIST_MAX_BITS) - 1;
	top = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS + 1 */
	shift = top - ST_BENCH_HIST_SUB_BITS;
	return (size_t)(shift + 1) * ST_BENCH_HIST_SUB + (size_t)((v >> shift) - ST_BENCH_HIST_SUB);
}

uint64_t st_bench_hist_lower(size_t idx)
{
	size_t shift;

	if (idx < 2 * ST_BENCH_HIST_SUB)
		return idx;
	shift = idx / ST_BENCH_HIST_SUB - 1;
	return (uint64_t)(idx % ST_BENCH_HIST_SUB + ST_BENCH_HIST_SUB) << shift;
}

void st_bench_hist_merge(st_bench_hist_t *dst, const st_bench_hist_t *src)
{
	if (!src->count)
		return;
	for (size_t i = 0; i < ST_BENCH_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
}

uint64_t st_bench_hist_pct(const st_bench_hist_t *h, double pct)
{
	uint64_t rank, seen = 0, v;

	if (!h->count)
		return 0;
	if (pct >= 100.0)
		return h->max;
	/* the rank-th smallest value, 1-based, rounded up (nearest rank) */
	rank = (uint64_t)(pct / 100.0 * (double)h->count);
	if ((double)rank < pct / 100.0 * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < ST_BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			v = st_bench_hist_lower(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}
