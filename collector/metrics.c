/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - every counter of the collector in Prometheus text format.
 *
 * Counters live with the thread that bumps them (collector.h); this file
 * sums them at read time, so the hot path never shares a cache line. The
 * same text is printed on SIGUSR1 and at exit, and served on /metrics.
 * Samples of one metric family are written together, as the exposition
 * format requires: drops from ingest (ring full, oversized), from workers
 * (malformed, community, ...) and from the USM layer (usmStats names) all
 * belong to stormtrap_drops_total{reason=...}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "mibs.h"

static const struct {
	const char *name, *labels, *help;
} worker_info[] = {
#define X(id, name, labels, help) {name, labels, help},
        ST_WORKER_COUNTERS(X)
#undef X
};

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP stormtrap_%s %s\n# TYPE stormtrap_%s %s\n", name, help, name, type);
}

static uint64_t ingest_sum(const st_rt_t *rt, unsigned li, int id)
{
	uint64_t v = 0;

	for (unsigned i = 0; rt->ingest && i < rt->ningest; i++)
		if (rt->ingest[i].ctr)
			v += st_counter_get(&rt->ingest[i].ctr[li][id]);
	return v;
}

static uint64_t ingest_total(const st_rt_t *rt, int id)
{
	uint64_t v = 0;

	for (unsigned li = 0; li < rt->nlis; li++)
		v += ingest_sum(rt, li, id);
	return v;
}

static uint64_t worker_sum(const st_rt_t *rt, int id)
{
	uint64_t v = 0;

	for (unsigned w = 0; rt->workers && w < rt->nworkers; w++)
		v += st_counter_get(&rt->workers[w].ctr[id]);
	return v;
}

static void usm_sum(const st_rt_t *rt, st_usm_stats_t *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; rt->workers && w < rt->nworkers; w++) {
		st_usm_stats_t s;

		if (!rt->workers[w].usm)
			continue;
		st_usm_worker_stats(rt->workers[w].usm, &s);
		sum->unsupported_sec_levels += s.unsupported_sec_levels;
		sum->not_in_time_windows += s.not_in_time_windows;
		sum->unknown_user_names += s.unknown_user_names;
		sum->unknown_engine_ids += s.unknown_engine_ids;
		sum->wrong_digests += s.wrong_digests;
		sum->decryption_errors += s.decryption_errors;
		sum->params_errors += s.params_errors;
		sum->discovery_probes += s.discovery_probes;
	}
}

void st_metrics_write(const st_rt_t *rt, FILE *out)
{
	st_usm_stats_t usm;

	family(out, "datagrams_received_total", "counter", "Datagrams received, by listener");
	for (unsigned li = 0; li < rt->nlis; li++)
		fprintf(out, "stormtrap_datagrams_received_total{listener=\"%s\"} %" PRIu64 "\n",
		        rt->lis[li].uri, ingest_sum(rt, li, ST_CTR_RX));
	family(out, "received_bytes_total", "counter", "Bytes received, by listener");
	for (unsigned li = 0; li < rt->nlis; li++)
		fprintf(out, "stormtrap_received_bytes_total{listener=\"%s\"} %" PRIu64 "\n",
		        rt->lis[li].uri, ingest_sum(rt, li, ST_CTR_RX_BYTES));
	family(out, "kernel_drops_total", "counter",
	       "Datagrams the kernel dropped for a full socket buffer (SO_RXQ_OVFL and "
	       "/proc/net/udp), by listener");
	for (unsigned li = 0; li < rt->nlis; li++)
		fprintf(out, "stormtrap_kernel_drops_total{listener=\"%s\"} %" PRIu64 "\n",
		        rt->lis[li].uri, st_ingest_kernel_drops(rt, li));
	family(out, "proc_udp_samples_total", "counter",
	       "Times the main thread read /proc/net/udp{,6} for the sockets' drop counts (once "
	       "a second, and on SIGUSR1 and at exit)");
	fprintf(out, "stormtrap_proc_udp_samples_total %" PRIu64 "\n",
	        st_counter_get(&rt->proc_samples));

	family(out, "io_uring_errors_total", "counter",
	       "io_uring submissions that failed (the ingest thread retries)");
	fprintf(out, "stormtrap_io_uring_errors_total %" PRIu64 "\n",
	        ingest_total(rt, ST_CTR_URING_ERRORS));

	usm_sum(rt, &usm);
	family(out, "drops_total", "counter", "Datagrams dropped, by reason");
	fprintf(out, "stormtrap_drops_total{reason=\"ring_full\"} %" PRIu64 "\n",
	        ingest_total(rt, ST_CTR_RING_FULL));
	fprintf(out, "stormtrap_drops_total{reason=\"oversized\"} %" PRIu64 "\n",
	        ingest_total(rt, ST_CTR_OVERSIZED));
	for (int id = 0; id < ST_WORKER_NCTR; id++)
		if (strcmp(worker_info[id].name, "drops_total") == 0)
			fprintf(out, "stormtrap_drops_total{%s} %" PRIu64 "\n",
			        worker_info[id].labels, worker_sum(rt, id));
	fprintf(out,
	        "stormtrap_drops_total{reason=\"usmStatsUnsupportedSecLevels\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usmStatsNotInTimeWindows\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usmStatsUnknownUserNames\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usmStatsUnknownEngineIDs\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usmStatsWrongDigests\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usmStatsDecryptionErrors\"} %" PRIu64 "\n"
	        "stormtrap_drops_total{reason=\"usm_parameters\"} %" PRIu64 "\n",
	        usm.unsupported_sec_levels, usm.not_in_time_windows, usm.unknown_user_names,
	        usm.unknown_engine_ids, usm.wrong_digests, usm.decryption_errors,
	        usm.params_errors);

	family(out, "discovery_probes_total", "counter",
	       "SNMPv3 discovery probes received (reportable, no engine ID): normal traffic from "
	       "inform senders, answered with a usmStatsUnknownEngineIDs Report, not a drop");
	fprintf(out, "stormtrap_discovery_probes_total %" PRIu64 "\n", usm.discovery_probes);

	/* the other worker counters, grouped by family in table order */
	for (int id = 0; id < ST_WORKER_NCTR; id++) {
		const char *labels = worker_info[id].labels;

		if (strcmp(worker_info[id].name, "drops_total") == 0)
			continue;
		if (worker_info[id].help)
			family(out, worker_info[id].name, "counter", worker_info[id].help);
		fprintf(out, "stormtrap_%s%s%s%s %" PRIu64 "\n", worker_info[id].name,
		        *labels ? "{" : "", labels, *labels ? "}" : "", worker_sum(rt, id));
	}

	if (rt->usm) {
		st_usm_cache_stats_t cs;

		st_usm_cache_stats(rt->usm, &cs);
		family(out, "usm_engines", "gauge", "Remote SNMP engines in the USM cache");
		fprintf(out, "stormtrap_usm_engines %" PRIu64 "\n", cs.engines);
		family(out, "usm_engine_evictions_total", "counter",
		       "Engines evicted from the USM cache to stay within usm.max_engines");
		fprintf(out, "stormtrap_usm_engine_evictions_total %" PRIu64 "\n", cs.evictions);
	}

	st_mibs_metrics(rt, out);

	if (rt->nsinks) {
		st_sink_stats_t st[rt->nsinks];

		for (unsigned s = 0; s < rt->nsinks; s++)
			st_sink_stats(rt->sinks[s], &st[s]);
		family(out, "sink_lines_total", "counter",
		       "Notification lines by sink and result (accepted: written or queued)");
		for (unsigned s = 0; s < rt->nsinks; s++) {
			const char *u = st_sink_uri(rt->sinks[s]);

			fprintf(out,
			        "stormtrap_sink_lines_total{sink=\"%s\",result=\"accepted\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_lines_total{sink=\"%s\",result=\"written\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_lines_total{sink=\"%s\",result=\"retried\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_lines_total{sink=\"%s\",result=\"dropped\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_lines_total{sink=\"%s\",result=\"evicted\"} "
			        "%" PRIu64 "\n",
			        u, st[s].accepted, u, st[s].written, u, st[s].retried, u,
			        st[s].dropped, u, st[s].evicted);
		}
		family(out, "sink_delivery_failures_total", "counter",
		       "Lines a sink failed to deliver directly, by error (they went to the "
		       "spool)");
		for (unsigned s = 0; s < rt->nsinks; s++) {
			const char *u = st_sink_uri(rt->sinks[s]);

			fprintf(out,
			        "stormtrap_sink_delivery_failures_total{sink=\"%s\",error="
			        "\"timeout\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_delivery_failures_total{sink=\"%s\",error="
			        "\"purged\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_delivery_failures_total{sink=\"%s\",error="
			        "\"rejected\"} "
			        "%" PRIu64 "\n"
			        "stormtrap_sink_delivery_failures_total{sink=\"%s\",error="
			        "\"other\"} "
			        "%" PRIu64 "\n",
			        u, st[s].failed_timeout, u, st[s].failed_purged, u,
			        st[s].failed_rejected, u, st[s].failed_other);
		}
		family(out, "sink_shutdown_spooled_total", "counter",
		       "Lines not delivered by shutdown.timeout, spooled for the next start (not "
		       "an error)");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out,
			        "stormtrap_sink_shutdown_spooled_total{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].shutdown_spooled);
		family(out, "sink_replayed_total", "counter", "Lines replayed from the spool");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_replayed_total{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].replayed);
		family(out, "sink_errors_total", "counter", "Sink write or delivery errors");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_errors_total{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].errors);
		family(out, "sink_in_flight", "gauge", "Lines queued but not yet delivered");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_in_flight{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].in_flight);
		family(out, "sink_spool_lines", "gauge", "Lines in the on-disk spool");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_spool_lines{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].spooled);
		family(out, "sink_spool_bytes", "gauge", "Bytes in the on-disk spool");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_spool_bytes{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].spool_bytes);
		family(out, "sink_journal_oldest_age_seconds", "gauge",
		       "Age in whole seconds of the oldest line in the Kafka journal not yet "
		       "confirmed by Kafka");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out,
			        "stormtrap_sink_journal_oldest_age_seconds{sink=\"%s\"} %" PRIu64
			        "\n",
			        st_sink_uri(rt->sinks[s]), st[s].journal_oldest_ms / 1000);
		family(out, "sink_journal_full_total", "counter",
		       "Lines refused because the journal was full (output.kafka.journal_full: "
		       "reject)");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_journal_full_total{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].journal_full);
		family(out, "sink_recovered_lines", "gauge",
		       "Lines an earlier run left in the journal or spool, found at start");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_recovered_lines{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].recovered);
		family(out, "sink_recovered_duplicates_estimate", "gauge",
		       "Of the recovered lines, those the earlier run had already sent (they may "
		       "arrive twice)");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out,
			        "stormtrap_sink_recovered_duplicates_estimate{sink=\"%s\"} %" PRIu64
			        "\n",
			        st_sink_uri(rt->sinks[s]), st[s].recovered_dups);
		family(out, "sink_torn_lines_total", "counter",
		       "Partial last lines (left by a crash) cut off a file output at open");
		for (unsigned s = 0; s < rt->nsinks; s++)
			fprintf(out, "stormtrap_sink_torn_lines_total{sink=\"%s\"} %" PRIu64 "\n",
			        st_sink_uri(rt->sinks[s]), st[s].torn_lines);
	}
	fflush(out);
}
