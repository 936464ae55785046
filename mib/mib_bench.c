/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st-mib-bench: how long a MIB set takes to load, how large the lookup
 * structure is, and how fast lookups and renderings run over it.
 *
 *   st-mib-bench [-m MOD,MOD|ALL] [-s SECONDS] [-d FILE] DIR...
 *
 * The corpus of lookups is every object and notification of the loaded set,
 * objects with an instance suffix ".7" as a varbind carries them, in BER
 * form as the codec hands them over; each lookup of an object also renders
 * its name and, where it has labels, an enumeration label. Load time is
 * wall-clock (it includes the parser child); lookup rates are per CPU
 * second of the calling thread. Numbers are indicative (docs/MIB.md).
 *
 * Load is reported as wall-clock time and as CPU time (user + system, of
 * this process and the parser child together), the steadier figure on a
 * shared machine. -d FILE writes every named node (OID, module, name, kind,
 * type, status, hint, labels) and every parser message, one a line, so that
 * two builds can be compared on the same set with sort and diff.
 */
#include "mib_int.h" /* the block's layout, for -d */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system seconds of this process and its waited-for children */
static double cpu_s(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
	                kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
	                kids.ru_stime.tv_usec) /
	               1e6;
}

static void on_log(void *ctx, int severity, const char *file, int line, const char *msg)
{
	FILE *dump = ctx;
	if (getenv("ST_MIB_BENCH_VERBOSE"))
		fprintf(stderr, "%s:%d: [%d] %s\n", file, line, severity, msg);
	if (dump)
		fprintf(dump, "msg %s:%d [%d] %s\n", file, line, severity, msg);
}

/* one line per named node: everything a lookup or a renderer can return */
static void dump_nodes(FILE *f, const st_mib_t *mib)
{
	size_t nn;
	const st_mib_node_t *nodes = st_mib_nodes(mib, &nn);
	for (size_t i = 0; i < nn; i++) {
		const st_mib_node_t *nd = &nodes[i];
		uint32_t sub[ST_MIB_OID_MAX];
		const char *hint = st_mib_node_hint(mib, nd);
		int n;
		if (!nd->name)
			continue;
		n = st_mib_node_oid(mib, nd, sub, ST_MIB_OID_MAX);
		fprintf(f, "node ");
		for (int k = 0; k < n; k++)
			fprintf(f, "%s%u", k ? "." : "", sub[k]);
		fprintf(f, " %s::%s kind=%u type=%u status=%u smiv2=%u hint=%s enums=",
		        st_mib_node_module(mib, nd), st_mib_node_name(mib, nd), nd->kind, nd->type,
		        nd->status, nd->smiv2, hint ? hint : "-");
		const st_mib_enum_t *e = (const st_mib_enum_t *)(mib->base + nd->enums);
		for (uint32_t k = 0; k < nd->nenums; k++)
			fprintf(f, "%s%d=%s", k ? "," : "", e[k].value, mib->base + e[k].label);
		fprintf(f, "\n");
	}
}

int main(int argc, char **argv)
{
	const char *mods[256] = {0};
	char *modarg = NULL, err[512];
	double secs = 2.0, t0, t1, c0, c1;
	FILE *dump = NULL;
	st_mib_opts_t opts = {.log = on_log};
	st_mib_stats_t st;
	st_mib_t *mib;
	int c, rc;

	while ((c = getopt(argc, argv, "m:s:d:")) != -1) {
		if (c == 'd') {
			dump = fopen(optarg, "w");
			if (!dump) {
				perror(optarg);
				return 1;
			}
		} else if (c == 'm')
			modarg = optarg;
		else if (c == 's')
			secs = atof(optarg);
		else
			goto usage;
	}
	if (optind >= argc)
		goto usage;
	if (modarg) {
		size_t n = 0;
		for (char *tok = strtok(modarg, ","); tok && n < 255; tok = strtok(NULL, ","))
			mods[n++] = tok;
	}
	argv[argc] = NULL;
	opts.log_ctx = dump;
	c0 = cpu_s();
	t0 = clock_s(CLOCK_MONOTONIC);
	rc = st_mib_load((const char *const *)argv + optind, modarg ? mods : NULL, &opts, &mib, &st,
	                 err, sizeof(err));
	t1 = clock_s(CLOCK_MONOTONIC);
	c1 = cpu_s();
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("load: %.3f s wall, %.3f s CPU, %u files, %u modules loaded, %u failed, %u "
	       "messages\n",
	       t1 - t0, c1 - c0, st.files, st.modules, st.failed, st.messages);
	printf("structure: %.2f MiB, %u named nodes (%u notifications), %u overlapping OIDs\n",
	       (double)st.bytes / (1 << 20), st.nodes, st.notifications, st.overlaps);
	if (dump) {
		fprintf(dump,
		        "stats files=%u modules=%u failed=%u nodes=%u notifications=%u "
		        "overlaps=%u messages=%u\n",
		        st.files, st.modules, st.failed, st.nodes, st.notifications, st.overlaps,
		        st.messages);
		dump_nodes(dump, mib);
		fclose(dump);
	}

	size_t nn, nq = 0;
	const st_mib_node_t *nodes = st_mib_nodes(mib, &nn);
	uint8_t(*q)[ST_MIB_OID_MAX * 5] = malloc(nn * sizeof(*q));
	uint16_t *qlen = malloc(nn * sizeof(*qlen));
	if (!q || !qlen)
		return 1;
	for (size_t i = 0; i < nn; i++) {
		uint32_t sub[ST_MIB_OID_MAX + 1];
		int n;
		if (!nodes[i].name ||
		    (nodes[i].kind != ST_MIB_K_SCALAR && nodes[i].kind != ST_MIB_K_COLUMN &&
		     nodes[i].kind != ST_MIB_K_NOTIFICATION))
			continue;
		n = st_mib_node_oid(mib, &nodes[i], sub, ST_MIB_OID_MAX);
		if (n < 2 || n >= ST_MIB_OID_MAX)
			continue;
		if (nodes[i].kind != ST_MIB_K_NOTIFICATION)
			sub[n++] = 7;
		qlen[nq] = (uint16_t)st_mib_oid_ber(sub, (size_t)n, q[nq], sizeof(*q));
		nq++;
	}
	/* shuffle so that consecutive lookups do not share cache lines by order */
	srand(1);
	for (size_t i = nq; i > 1; i--) {
		size_t j = (size_t)rand() % i;
		uint8_t tmp[sizeof(*q)];
		uint16_t tl = qlen[i - 1];
		memcpy(tmp, q[i - 1], sizeof(tmp));
		memcpy(q[i - 1], q[j], sizeof(tmp));
		memcpy(q[j], tmp, sizeof(tmp));
		qlen[i - 1] = qlen[j];
		qlen[j] = tl;
	}
	if (!nq) {
		printf("no objects to look up\n");
		return 0;
	}
	/* passes: every OID (a cold, spread working set), then the first 64
	 * (a hot one, as a collector sees a few notification types over and
	 * over), each as lookup only and as lookup + name + enumeration label */
	for (int pass = 0; pass < 4; pass++) {
		size_t nset = pass < 2 ? nq : (nq < 64 ? nq : 64);
		uint64_t done = 0, found = 0;
		size_t sink = 0;
		char name[1024];
		/* CPU time of this thread: a shared machine's other load does not count */
		t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		do {
			for (size_t i = 0; i < nset; i++) {
				size_t suffix;
				const st_mib_node_t *node =
				        st_mib_lookup_ber(mib, q[i], qlen[i], &suffix);
				if (!node)
					continue;
				found++;
				if (pass & 1) {
					int n = st_mib_render_name(mib, node, q[i], qlen[i], suffix,
					                           name, sizeof(name));
					const char *label = st_mib_enum_label(mib, node, 2);
					sink += (size_t)n + (label ? 1 : 0);
				}
			}
			done += nset;
		} while (clock_s(CLOCK_THREAD_CPUTIME_ID) - t0 < secs);
		t1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		printf("%s: %zu OIDs, %.1f M/s, %.1f ns each (%.1f%% found)%s\n",
		       (pass & 1) ? "lookup+render" : "lookup", nset,
		       (double)done / (t1 - t0) / 1e6, (t1 - t0) / (double)done * 1e9,
		       100.0 * (double)found / (double)done, sink == 1 ? " " : "");
	}
	free(q);
	free(qlen);
	st_mib_free(mib);
	return 0;
usage:
	fprintf(stderr, "usage: st-mib-bench [-m MOD,MOD|ALL] [-s SECONDS] [-d FILE] DIR...\n");
	return 2;
}
