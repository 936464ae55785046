/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h - what the benchmark programs of bench/ share: message templates
 * and the latency histogram.
 *
 * A load generator that builds every datagram from scratch measures its own
 * encoder, not the receiver. So the programs here encode a message once, as
 * a template, and remember where the few fields that change per message
 * stand in it: the request-id (always encoded as a 4-octet INTEGER, so a new
 * value never changes the length and can be written in place), a v1 agent
 * address, a v3 contextEngineID. Sending then costs a memcpy and a patch;
 * for v3 with authentication, the HMAC (and encryption with a fresh salt)
 * that every real sender also pays for.
 *
 * The histogram is log-linear (HdrHistogram-like): values below 2 *
 * ST_BENCH_HIST_SUB are exact, larger ones fall into ST_BENCH_HIST_SUB
 * linear buckets per power of two, which keeps every recorded value within
 * 1/ST_BENCH_HIST_SUB (under 1%) of its bucket. Each sending thread owns one;
 * they are merged after the threads are joined, so recording never locks.
 */
#ifndef ST_BENCH_H
#define ST_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "st_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest template (a notification with a few hundred varbinds fits). */
#define ST_BENCH_TMPL_MAX 16384

/** Most extra varbinds a template may carry (besides sysUpTime.0 and
 * snmpTrapOID.0). */
#define ST_BENCH_MAX_VARBINDS 256

/** A pre-encoded message and where its variable fields stand. */
typedef struct st_bench_tmpl {
	uint8_t buf[ST_BENCH_TMPL_MAX];
	size_t len;
	size_t reqid_off;      /* the 4 content octets of the request-id; 0: none (v1) */
	size_t agent_off;      /* v1: the 4 octets of agent-addr; 0: none */
	size_t ctx_engine_off; /* v3 ScopedPDU: the contextEngineID octets; 0: none */
	size_t ctx_engine_len;
} st_bench_tmpl_t;

/**
 * @brief Encode a v1 Trap-PDU message (linkDown, generic-trap 2, enterprise
 * 1.3.6.1.4.1.8072.3.2.10) or a v2c SNMPv2-Trap / InformRequest message
 * (snmpTrapOID.0 = linkDown 1.3.6.1.6.3.1.1.5.3) with @p nvarbinds varbinds
 * after sysUpTime.0 and snmpTrapOID.0.
 * @param version    ST_SNMP_V1 or ST_SNMP_V2C
 * @param pdu_type   ST_PDU_TRAPV1 (v1), ST_PDU_TRAPV2 or ST_PDU_INFORM (v2c)
 * @param agent_addr v1 agent-addr in network byte order
 * @return 0, -EINVAL or ST_ERR_BER_SPACE.
 */
int st_bench_tmpl_v12(st_bench_tmpl_t *t, int version, uint8_t pdu_type, const char *community,
                      unsigned nvarbinds, uint32_t agent_addr);

/**
 * @brief Encode a plaintext v3 ScopedPDU (contextName "") holding an
 * SNMPv2-Trap or InformRequest with the same varbinds as st_bench_tmpl_v12().
 * @return 0, -EINVAL or an ST_ERR_* code.
 */
int st_bench_tmpl_scoped(st_bench_tmpl_t *t, uint8_t pdu_type, const uint8_t *ctx_engine,
                         size_t ctx_engine_len, unsigned nvarbinds);

/** @brief Write a request-id into a template copy at reqid_off. */
static inline void st_bench_put_reqid(uint8_t *buf, size_t off, int32_t id)
{
	uint32_t u = (uint32_t)id;

	buf[off] = (uint8_t)(u >> 24);
	buf[off + 1] = (uint8_t)(u >> 16);
	buf[off + 2] = (uint8_t)(u >> 8);
	buf[off + 3] = (uint8_t)u;
}

/* ------------------------------------------------------------------ */
/* Verdict                                                            */
/* ------------------------------------------------------------------ */

/** Reports by the usmStats counter they carry: ST_USM_STAT_* 1..6, and 0
 * for a Report that carries none of them. */
#define ST_BENCH_REPORT_KINDS 7

/** What a run delivered, summed over its threads. */
typedef struct st_bench_outcome {
	int inform;          /* informs were sent (acks expected) */
	unsigned timeout_ms; /* the inform timeout */
	uint64_t sent, errors, acked, timeouts, unmatched;
	uint64_t reports[ST_BENCH_REPORT_KINDS];
	int send_errno; /* the last send error, 0: none */
} st_bench_outcome_t;

/**
 * @brief Did the run deliver anything, and if not, why.
 *
 * A run fails when every send failed ("every send failed: 20 errors, the
 * last: Connection refused"), when nothing was sent, or when informs were
 * sent and none was acked; the reason is then what the receiver answered
 * ("no inform acked: 2000 Reports usmStatsUnknownUserNames"), or that it
 * did not ("2000 timed out after 1000 ms").
 * @param why receives the reason (plain text, no quotes or backslashes)
 * @return 0 when something was delivered, -1 with why filled otherwise
 */
int st_bench_verdict(const st_bench_outcome_t *out, char *why, size_t len);

/* ------------------------------------------------------------------ */
/* Latency histogram                                                  */
/* ------------------------------------------------------------------ */

#define ST_BENCH_HIST_SUB_BITS 7
#define ST_BENCH_HIST_SUB      (1u << ST_BENCH_HIST_SUB_BITS)
/* values up to 2^48 ns (about 78 hours) are bucketed; larger ones clamp */
#define ST_BENCH_HIST_MAX_BITS 48
#define ST_BENCH_HIST_BUCKETS                                                                      \
	((ST_BENCH_HIST_MAX_BITS - ST_BENCH_HIST_SUB_BITS + 1) * ST_BENCH_HIST_SUB)

typedef struct st_bench_hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t bucket[ST_BENCH_HIST_BUCKETS];
} st_bench_hist_t;

/** @brief Empty a histogram. */
void st_bench_hist_init(st_bench_hist_t *h);

/** @brief The bucket index of a value (exposed for tests). */
size_t st_bench_hist_index(uint64_t v);

/** @brief The smallest value that falls into bucket @p idx. */
uint64_t st_bench_hist_lower(size_t idx);

/** @brief Record one value (no allocation, no locking). */
static inline void st_bench_hist_add(st_bench_hist_t *h, uint64_t v)
{
	h->bucket[st_bench_hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
}

/** @brief Add every value of @p src to @p dst. */
void st_bench_hist_merge(st_bench_hist_t *dst, const st_bench_hist_t *src);

/**
 * @brief The value at percentile @p pct (0..100]: the lower bound of the
 * bucket holding that rank, clamped to [min, max]. 0 when empty.
 */
uint64_t st_bench_hist_pct(const st_bench_hist_t *h, double pct);

#ifdef __cplusplus
}
#endif

#endif /* ST_BENCH_H */
