/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_file.c - the file sink: lines from many workers are never split or
 * interleaved, big lines pass, a reopen after rename loses nothing, and a
 * write error is a counted drop, not a silent one.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_sinks.h"

static char path[256];

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/st-test-file-%d.jsonl", getpid());
	unlink(path);
}

static void teardown(void)
{
	unlink(path);
}

static st_sink_t *open_sink(const char *uri, unsigned nworkers, size_t batch)
{
	st_sink_conf_t conf = {.nworkers = nworkers, .batch_bytes = batch};
	st_sink_t *sink = NULL;
	char err[256] = "";

	cr_assert_eq(st_sink_new(uri, &conf, &sink, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st_sink_start(sink, err, sizeof(err)), 0, "%s", err);
	return sink;
}

static st_sink_result_t put(st_sink_t *sink, unsigned worker, const char *line)
{
	st_sink_rec_t rec = {.line = line, .len = strlen(line), .version = "v2c", .pdu = "trap"};

	return st_sink_write(sink, worker, &rec);
}

typedef struct job {
	st_sink_t *sink;
	unsigned worker;
	int flush_every; /* lines per flush, 0: 50 */
} job_t;

#define LINES_PER_WORKER 20000

static void *writer(void *arg)
{
	job_t *job = arg;
	char line[600];

	for (int i = 0; i < LINES_PER_WORKER; i++) {
		/* lengths vary so batches end mid-pattern */
		int pad = (i * 31) % 500;

		snprintf(line, sizeof(line), "{\"w\":%u,\"i\":%d,\"pad\":\"%0*d\"}\n", job->worker,
		         i, pad, 0);
		cr_assert_eq(put(job->sink, job->worker, line), ST_SINK_ACCEPTED);
		if (i % (job->flush_every ? job->flush_every : 50) ==
		    (job->flush_every ? job->flush_every : 50) - 1)
			cr_assert_eq(st_sink_flush(job->sink, job->worker), ST_SINK_ACCEPTED);
	}
	cr_assert_eq(st_sink_flush(job->sink, job->worker), ST_SINK_ACCEPTED);
	return NULL;
}

/* the file holds exactly the lines writer() wrote for nworkers, in order */
static void check_lines(unsigned nworkers)
{
	int next[4] = {0};
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f);
	while (getline(&line, &cap, f) > 0) {
		unsigned w;
		int i, pad;

		cr_assert_eq(sscanf(line, "{\"w\":%u,\"i\":%d,\"pad\":\"%d\"}", &w, &i, &pad), 3,
		             "garbled line %ld: %s", n, line);
		cr_assert_lt(w, nworkers);
		cr_assert_eq(i, next[w], "worker %u: line %d missing or out of order (%d)", w,
		             next[w], i);
		cr_assert_eq(strlen(line), strlen("{\"w\":0,\"i\":,\"pad\":\"\"}\n") +
		                                   (size_t)snprintf(NULL, 0, "%d", i) +
		                                   (size_t)((i * 31) % 500 ? (i * 31) % 500 : 1));
		next[w]++;
		n++;
	}
	free(line);
	fclose(f);
	cr_assert_eq(n, (long)nworkers * LINES_PER_WORKER);
}

Test(file, workers_never_interleave_lines, .init = setup, .fini = teardown, .timeout = 60)
{
	char uri[300];
	st_sink_t *sink;
	pthread_t t[4];
	job_t job[4];
	st_sink_stats_t st;

	snprintf(uri, sizeof(uri), "file:%s", path);
	sink = open_sink(uri, 4, 8192);
	for (unsigned w = 0; w < 4; w++) {
		job[w] = (job_t){sink, w, 0};
		pthread_create(&t[w], NULL, writer, &job[w]);
	}
	for (unsigned w = 0; w < 4; w++)
		pthread_join(t[w], NULL);
	cr_assert_eq(st_sink_close(sink, 1000), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.accepted, 4 * LINES_PER_WORKER);
	cr_assert_eq(st.written, 4 * LINES_PER_WORKER);
	cr_assert_eq(st.dropped, 0);
	st_sink_free(sink);

	check_lines(4);
}

Test(file, line_larger_than_batch_buffer, .init = setup, .fini = teardown)
{
	char uri[300], big[20000];
	st_sink_t *sink;
	FILE *f;
	char buf[30000];

	snprintf(uri, sizeof(uri), "file:%s", path);
	sink = open_sink(uri, 1, 4096);
	cr_assert_eq(put(sink, 0, "{\"first\":1}\n"), ST_SINK_ACCEPTED);
	memset(big, 'x', sizeof(big) - 2);
	big[0] = '"';
	big[sizeof(big) - 3] = '"';
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(put(sink, 0, big), ST_SINK_ACCEPTED);
	cr_assert_eq(st_sink_flush(sink, 0), ST_SINK_ACCEPTED);
	st_sink_free(sink);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_str_eq(fgets(buf, sizeof(buf), f), "{\"first\":1}\n");
	cr_assert_str_eq(fgets(buf, sizeof(buf), f), big);
	fclose(f);
}

Test(file, reopen_after_rename_loses_nothing, .init = setup, .fini = teardown)
{
	char uri[300], rotated[300];
	st_sink_t *sink;
	FILE *f;
	char buf[100];

	snprintf(uri, sizeof(uri), "file:%s", path);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	sink = open_sink(uri, 1, 4096);
	put(sink, 0, "{\"a\":1}\n");
	st_sink_flush(sink, 0);
	cr_assert_eq(rename(path, rotated), 0);
	put(sink, 0, "{\"a\":2}\n"); /* buffered while the rename happens */
	cr_assert_eq(st_sink_reopen(sink), 0);
	cr_assert_eq(st_sink_flush(sink, 0), ST_SINK_ACCEPTED);
	st_sink_free(sink);
	f = fopen(rotated, "r");
	cr_assert_str_eq(fgets(buf, sizeof(buf), f), "{\"a\":1}\n");
	fclose(f);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_str_eq(fgets(buf, sizeof(buf), f), "{\"a\":2}\n");
	fclose(f);
	unlink(rotated);
}

Test(file, write_error_is_a_counted_drop)
{
	st_sink_t *sink = open_sink("file:/dev/full", 1, 4096);
	st_sink_stats_t st;

	cr_assert_eq(put(sink, 0, "{\"a\":1}\n"), ST_SINK_ACCEPTED);
	cr_assert_eq(put(sink, 0, "{\"a\":2}\n"), ST_SINK_ACCEPTED);
	cr_assert_eq(st_sink_flush(sink, 0), ST_SINK_DROPPED);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(st.errors, 1);
	cr_assert_eq(st_sink_ready(sink), 0);
	st_sink_free(sink);
}

Test(file, bad_uris_name_themselves)
{
	st_sink_conf_t conf = {.nworkers = 1};
	st_sink_t *sink = NULL;
	char err[256] = "";

	cr_assert_lt(st_sink_new("nosuch://x", &conf, &sink, err, sizeof(err)), 0);
	cr_assert(strstr(err, "nosuch://x"), "%s", err);
	cr_assert_lt(st_sink_new("file:/nonexistent-dir/x.jsonl", &conf, &sink, err, sizeof(err)),
	             0);
	cr_assert(strstr(err, "/nonexistent-dir/x.jsonl"), "%s", err);
	/* "-" is not an output (the configuration refuses it too) */
	cr_assert_lt(st_sink_new("-", &conf, &sink, err, sizeof(err)), 0);
	cr_assert(strstr(err, "output '-': unknown sink"), "%s", err);
}

/* the mode a file is created with: 0640 unless configured, narrowed by
 * the umask like any open(2), and an existing file's mode left alone */
Test(file, created_0640_by_default_or_with_the_configured_mode, .init = setup, .fini = teardown)
{
	static const struct {
		unsigned conf, umask, want;
	} cases[] = {{0, 022, 0640}, {0, 077, 0600}, {0600, 022, 0600}, {0664, 002, 0664}};
	struct stat st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st_sink_conf_t conf = {.nworkers = 1, .file_mode = cases[i].conf};
		mode_t old = umask(cases[i].umask);
		st_sink_t *sink = NULL;
		char uri[300], err[256] = "";

		unlink(path);
		snprintf(uri, sizeof(uri), "file:%s", path);
		cr_assert_eq(st_sink_new(uri, &conf, &sink, err, sizeof(err)), 0, "%s", err);
		umask(old);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, cases[i].want, "case %zu: %04o", i,
		             (unsigned)(st.st_mode & 07777));
		st_sink_free(sink);
	}
	/* an existing file keeps its mode */
	chmod(path, 0604);
	{
		st_sink_conf_t conf = {.nworkers = 1, .file_mode = 0600};
		st_sink_t *sink = NULL;
		char uri[300], err[256] = "";

		snprintf(uri, sizeof(uri), "file:%s", path);
		cr_assert_eq(st_sink_new(uri, &conf, &sink, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0604);
		st_sink_free(sink);
	}
}

static int collect(const char *msg, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 1024 - len, "%s\n", msg);
	return 0;
}

Test(file, check_names_a_missing_directory_and_leaves_nothing, .init = setup, .fini = teardown)
{
	st_sink_conf_t conf = {.nworkers = 1};
	char found[1024] = "", uri[300];

	cr_assert_eq(st_sink_check("file:/nonexistent-dir/x.jsonl", &conf, collect, found),
	             -EINVAL);
	cr_assert_str_eq(found, "output 'file:/nonexistent-dir/x.jsonl': directory "
	                        "'/nonexistent-dir' does not exist\n");
	found[0] = '\0';
	cr_assert_eq(st_sink_check("file:/proc/x.jsonl", &conf, collect, found), -EINVAL);
	cr_assert(strstr(found, "output 'file:/proc/x.jsonl': directory '/proc' is not writable: "),
	          "%s", found);
	/* a good path: nothing said, nothing created */
	found[0] = '\0';
	snprintf(uri, sizeof(uri), "file:%s", path);
	cr_assert_eq(st_sink_check(uri, &conf, collect, found), 0, "%s", found);
	cr_assert_eq(access(path, F_OK), -1);
	cr_assert_eq(st_sink_check("stdout", &conf, collect, found), 0);
}

/* the whole file as a string (static buffer) */
static const char *slurp(void)
{
	static char text[1 << 16];
	FILE *fp = fopen(path, "r");
	size_t n;

	cr_assert_not_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return text;
}

static void spit(const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* a crash mid-write left part of a line: it is cut at open and counted,
 * so the next line starts on a line of its own */
Test(file, torn_last_line_is_cut_at_open_and_counted, .init = setup, .fini = teardown)
{
	char uri[300];
	st_sink_t *sink;
	st_sink_stats_t st;

	/* a fragment longer than one read chunk, after two whole lines */
	static char text[12000];
	int n = snprintf(text, sizeof(text), "{\"a\":1}\n{\"a\":2}\n{\"a\":3,\"pad\":\"");

	memset(text + n, 'x', 9000);
	text[n + 9000] = '\0';
	spit(text);
	snprintf(uri, sizeof(uri), "file:%s", path);
	sink = open_sink(uri, 1, 4096);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.torn_lines, 1);
	cr_assert_str_eq(slurp(), "{\"a\":1}\n{\"a\":2}\n");
	cr_assert_eq(put(sink, 0, "{\"a\":4}\n"), ST_SINK_ACCEPTED);
	cr_assert_eq(st_sink_flush(sink, 0), ST_SINK_ACCEPTED);
	cr_assert_str_eq(slurp(), "{\"a\":1}\n{\"a\":2}\n{\"a\":4}\n");

	/* a reopen checks again: a fragment with no newline at all goes */
	spit("{\"a\":");
	cr_assert_eq(st_sink_reopen(sink), 0);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.torn_lines, 2);
	cr_assert_str_eq(slurp(), "");
	cr_assert_eq(st_sink_close(sink, 0), 0);
	st_sink_free(sink);

	/* a file that ends in a newline is left alone */
	spit("{\"a\":1}\n");
	sink = open_sink(uri, 1, 4096);
	st_sink_stats(sink, &st);
	cr_assert_eq(st.torn_lines, 0);
	cr_assert_str_eq(slurp(), "{\"a\":1}\n");
	st_sink_free(sink);
}

typedef struct reopener {
	st_sink_t *sink;
	_Atomic int stop;
	int n;
	int failed; /* a reopen that failed: asserted on the test's thread
	             * (Criterion's assertions from another thread leak) */
} reopener_t;

static void *reopen_loop(void *arg)
{
	reopener_t *r = arg;

	while (!atomic_load(&r->stop)) {
		if (st_sink_reopen(r->sink) != 0)
			r->failed++;
		r->n++;
	}
	return NULL;
}

/*
 * SIGHUP (reopen) while workers write: the tail check of the reopen must
 * not take a batch being written for a line torn by a crash and cut it.
 */
Test(file, reopen_under_load_cuts_no_written_line, .init = setup, .fini = teardown, .timeout = 120)
{
	char uri[300];

	snprintf(uri, sizeof(uri), "file:%s", path);
	/* the race is narrow: several rounds, each on a new file */
	for (int round = 0; round < 5; round++) {
		st_sink_t *sink = open_sink(uri, 2, 1 << 20); /* big batches: long writes */
		pthread_t t[2], rt;
		job_t job[2];
		reopener_t r = {.sink = sink};
		st_sink_stats_t st;

		pthread_create(&rt, NULL, reopen_loop, &r);
		for (unsigned w = 0; w < 2; w++) {
			job[w] = (job_t){sink, w, 1000};
			pthread_create(&t[w], NULL, writer, &job[w]);
		}
		for (unsigned w = 0; w < 2; w++)
			pthread_join(t[w], NULL);
		atomic_store(&r.stop, 1);
		pthread_join(rt, NULL);
		cr_assert_gt(r.n, 0);
		cr_assert_eq(r.failed, 0, "round %d: %d reopens failed", round, r.failed);
		cr_assert_eq(st_sink_close(sink, 1000), 0);
		st_sink_stats(sink, &st);
		cr_assert_eq(st.written, 2 * LINES_PER_WORKER);
		st_sink_free(sink);
		check_lines(2);
		cr_assert_eq(st.torn_lines, 0, "round %d: a line being written was cut", round);
		unlink(path);
	}
}
