/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_spool.c - the Kafka sink's on-disk spool: order, rescue segments,
 * resuming after a restart, eviction, torn records, the file format; and
 * as the journal: batches, marks that survive a process that dies without
 * closing, a full journal that refuses.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/st_spool_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static int count_segments(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".seg"))
			n++;
	closedir(d);
	return n;
}

/* the texts a test record borrows */
typedef struct rec_text {
	char key[16], val[64], num[16];
} rec_text_t;

/* record n: key "k<n%7>", headers version=v2c and n=<n>, value "line <n>" */
static st_spool_rec_t rec_of(int n, rec_text_t *t)
{
	st_spool_rec_t rec = {0};

	snprintf(t->key, sizeof(t->key), "k%d", n % 7);
	snprintf(t->val, sizeof(t->val), "line %d", n);
	snprintf(t->num, sizeof(t->num), "%d", n);
	rec.ts_ms = 1700000000000LL + n;
	rec.key = t->key;
	rec.key_len = strlen(t->key);
	rec.hdrs[0] = (st_spool_hdr_t){.name = "version", .value = "v2c", .len = 3};
	rec.hdrs[1] = (st_spool_hdr_t){.name = "n", .value = t->num, .len = strlen(t->num)};
	rec.nhdrs = 2;
	rec.value = t->val;
	rec.value_len = strlen(t->val);
	return rec;
}

static int append_n(st_spool_t *sp, int n, int rescue)
{
	rec_text_t t;
	st_spool_rec_t rec = rec_of(n, &t);

	return rescue ? st_spool_rescue(sp, &rec, (uint64_t)n) : st_spool_append(sp, &rec);
}

/* read one record and return its number (from the value), checking the
 * other fields agree with it */
static int read_n(st_spool_t *sp, uint64_t *token)
{
	st_spool_rec_t rec;
	char buf[64];
	int n, rc = st_spool_read(sp, &rec, token);

	cr_assert_eq(rc, 0, "read: %s", strerror(-rc));
	cr_assert_lt(rec.value_len, sizeof(buf));
	memcpy(buf, rec.value, rec.value_len);
	buf[rec.value_len] = '\0';
	cr_assert_eq(sscanf(buf, "line %d", &n), 1, "value '%s'", buf);
	cr_assert_eq(rec.ts_ms, 1700000000000LL + n);
	cr_assert_eq(rec.key_len, 2);
	cr_assert_eq(((const char *)rec.key)[1], '0' + n % 7);
	cr_assert_eq(rec.nhdrs, 2);
	cr_assert_eq(rec.hdrs[0].name_len, 7);
	cr_assert(memcmp(rec.hdrs[0].name, "version", 7) == 0);
	cr_assert_eq(rec.hdrs[0].len, 3);
	cr_assert(memcmp(rec.hdrs[0].value, "v2c", 3) == 0);
	snprintf(buf, sizeof(buf), "%d", n);
	cr_assert_eq(rec.hdrs[1].len, strlen(buf));
	cr_assert(memcmp(rec.hdrs[1].value, buf, strlen(buf)) == 0);
	return n;
}

static st_spool_t *open_spool(uint64_t max, uint64_t seg)
{
	char err[256] = "";
	st_spool_t *sp = NULL;
	int rc = st_spool_open(dir, max, seg, &sp, err, sizeof(err));

	cr_assert_eq(rc, 0, "open: %s", err);
	return sp;
}

TestSuite(spool, .init = mkdir_tmp, .fini = rm_tmp);

Test(spool, append_needs_engaged)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);

	cr_assert_eq(st_spool_engaged(sp), 0, "an empty spool starts idle");
	cr_assert_eq(append_n(sp, 1, 0), -EAGAIN);
	st_spool_engage(sp);
	cr_assert_eq(append_n(sp, 1, 0), 0);
	st_spool_close(sp);
}

Test(spool, reads_back_in_order_across_segments)
{
	st_spool_t *sp = open_spool(64 << 20, 16 << 10);
	st_spool_stats_t st;
	uint64_t tok;

	st_spool_engage(sp);
	for (int i = 0; i < 3000; i++)
		cr_assert_eq(append_n(sp, i, 0), 0);
	cr_assert_gt(count_segments(), 3, "16 KiB segments roll over");
	for (int i = 0; i < 3000; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(st_spool_read(sp, &(st_spool_rec_t){0}, &tok), -ENODATA);
	cr_assert_eq(st_spool_disengage(sp), 0);
	cr_assert_eq(st_spool_engaged(sp), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.lines, 0);
	cr_assert_eq(st.appended, 3000);
	cr_assert_eq(count_segments(), 0, "confirmed segments are deleted");
	st_spool_close(sp);
}

Test(spool, disengage_refused_while_unread)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	uint64_t tok;

	st_spool_engage(sp);
	cr_assert_eq(append_n(sp, 1, 0), 0);
	cr_assert_eq(append_n(sp, 2, 0), 0);
	cr_assert_eq(read_n(sp, &tok), 1);
	cr_assert_eq(st_spool_disengage(sp), -EAGAIN);
	cr_assert_eq(read_n(sp, &tok), 2);
	cr_assert_eq(st_spool_disengage(sp), 0);
	st_spool_close(sp);
}

Test(spool, rescue_is_sorted_goes_first_and_waits_for_close)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	uint64_t tok;

	st_spool_engage(sp);
	for (int i = 10; i < 13; i++)
		cr_assert_eq(append_n(sp, i, 0), 0);
	/* rescued out of order (order key = n): read back sorted */
	for (int i = 2; i >= 0; i--)
		cr_assert_eq(append_n(sp, i, 1), 0);
	cr_assert(st_spool_rescue_open(sp));
	cr_assert_eq(st_spool_read(sp, &(st_spool_rec_t){0}, &tok), -EBUSY);
	cr_assert_eq(st_spool_rescue_close(sp), 0);
	int want[] = {0, 1, 2, 10, 11, 12};
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(read_n(sp, &tok), want[i]);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(st_spool_disengage(sp), 0);
	cr_assert_eq(count_segments(), 0);
	st_spool_close(sp);
}

Test(spool, rescue_during_replay_goes_before_the_unread_rest)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	uint64_t tok[6];

	st_spool_engage(sp);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(append_n(sp, i, 0), 0);
	/* 0..3 are read and handed out; 0 and 2 are confirmed, 1 and 3
	 * come back failed and are rescued */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(read_n(sp, &tok[i]), i);
	st_spool_resolve(sp, tok[0]);
	st_spool_resolve(sp, tok[2]);
	cr_assert_eq(append_n(sp, 1, 1), 0);
	st_spool_resolve(sp, tok[1]);
	cr_assert_eq(append_n(sp, 3, 1), 0);
	st_spool_resolve(sp, tok[3]);
	cr_assert_eq(append_n(sp, 6, 0), 0); /* a worker appends meanwhile */
	st_spool_rescue_close(sp);
	int want[] = {1, 3, 4, 5, 6};
	for (int i = 0; i < 5; i++) {
		uint64_t t;

		cr_assert_eq(read_n(sp, &t), want[i]);
		st_spool_resolve(sp, t);
	}
	st_spool_close(sp);
}

Test(spool, reopen_resumes_after_the_confirmed_prefix)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	st_spool_stats_t st;
	uint64_t tok;

	st_spool_engage(sp);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(append_n(sp, i, 0), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(read_n(sp, &tok), 4); /* read, never confirmed */
	st_spool_close(sp);

	sp = open_spool(1 << 20, 1 << 16);
	cr_assert(st_spool_engaged(sp), "left-over records engage the spool");
	st_spool_stats(sp, &st);
	cr_assert_eq(st.lines, 6);
	for (int i = 4; i < 10; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(st_spool_read(sp, &(st_spool_rec_t){0}, &tok), -ENODATA);
	st_spool_close(sp);
}

Test(spool, evicts_oldest_segments_and_counts)
{
	st_spool_t *sp = open_spool(1 << 20, 64 << 10);
	st_spool_stats_t st;
	char big[1000];
	uint64_t tok;
	int first, prev;

	memset(big, 'x', sizeof(big));
	st_spool_engage(sp);
	for (int i = 0; i < 3000; i++) {
		st_spool_rec_t rec = {.value = big, .value_len = sizeof(big)};
		char v[32];

		/* the value starts with its number so order can be checked */
		snprintf(v, sizeof(v), "%08d", i);
		memcpy(big, v, 8);
		cr_assert_eq(st_spool_append(sp, &rec), 0);
	}
	st_spool_stats(sp, &st);
	cr_assert_leq(st.bytes, 1 << 20);
	cr_assert_gt(st.evicted, 0);
	cr_assert_eq(st.lines + st.evicted, 3000, "every record is kept or counted");

	/* what is left is the newest, contiguous and in order */
	st_spool_rec_t rec;
	cr_assert_eq(st_spool_read(sp, &rec, &tok), 0);
	first = atoi((const char *)rec.value);
	cr_assert_eq((uint64_t)first, st.evicted, "the oldest went first");
	prev = first;
	st_spool_resolve(sp, tok);
	while (st_spool_read(sp, &rec, &tok) == 0) {
		int n = atoi((const char *)rec.value);

		cr_assert_eq(n, prev + 1);
		prev = n;
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(prev, 2999);
	st_spool_close(sp);
}

/* a 1000-byte record whose value starts with its number */
static int append_big(st_spool_t *sp, int n)
{
	static char big[1000];
	st_spool_rec_t rec = {.value = big, .value_len = sizeof(big)};
	char v[16];

	memset(big, 'x', sizeof(big));
	snprintf(v, sizeof(v), "%08d", n);
	memcpy(big, v, 8);
	return st_spool_append(sp, &rec);
}

Test(spool, full_without_evictable_segment_refuses)
{
	/* 256 KiB in 32 KiB segments. Every sealed segment has a record read
	 * and not yet confirmed (Kafka may still fail it), the tail segment is
	 * being written: none may be evicted, so a full spool must refuse */
	st_spool_t *sp = open_spool(256 << 10, 32 << 10);
	static uint64_t tok[1024];
	st_spool_stats_t st, full;
	st_spool_rec_t rec;
	int n = 0, nread = 0, rc;

	st_spool_engage(sp);
	/* fill to within half a segment of the limit (so that what follows
	 * fits in the tail and one more segment at most, both being written),
	 * then read everything without confirming it */
	do {
		cr_assert_eq(append_big(sp, n++), 0);
		st_spool_stats(sp, &st);
	} while (st.bytes + (16 << 10) < (256 << 10));
	while (st_spool_read(sp, &rec, &tok[nread]) == 0) {
		cr_assert_eq(atoi((const char *)rec.value), nread);
		nread++;
	}
	cr_assert_eq(nread, n);
	cr_assert_eq(st.evicted, 0);
	cr_assert_geq(st.segments, 7, "the records span several segments");

	/* the rest of the space takes new records, then the spool is full */
	while ((rc = append_big(sp, n)) == 0)
		cr_assert_lt(++n, 1024, "a 256 KiB spool took %d records of 1000 bytes", n);
	cr_assert_eq(rc, -ENOSPC, "full and nothing evictable: %s", strerror(-rc));
	st_spool_stats(sp, &full);
	cr_assert_gt(n, nread, "the spool was full before the last append");
	cr_assert_eq(full.evicted, 0, "a segment with unconfirmed reads was evicted");
	cr_assert_eq(full.lines, (uint64_t)n, "every accepted record is still there");
	cr_assert_leq(full.bytes, 256 << 10);
	cr_assert_gt(full.bytes + 2 * 1024, 256 << 10, "refused with room left");
	cr_assert_eq(append_big(sp, n), -ENOSPC, "still refused: nothing changed");

	/* once Kafka confirms the oldest segment's records, that segment goes
	 * and the same record is taken, still without evicting anything */
	for (int i = 0; i < 40; i++)
		st_spool_resolve(sp, tok[i]);
	cr_assert_eq(append_big(sp, n), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.evicted, 0);
	cr_assert_lt(st.bytes, full.bytes);
	st_spool_close(sp);
}

Test(spool, record_larger_than_the_spool_is_refused)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	static char huge[(1 << 20) + 10];
	st_spool_rec_t rec = {.value = huge, .value_len = sizeof(huge)};

	st_spool_engage(sp);
	cr_assert_eq(st_spool_append(sp, &rec), -ENOSPC);
	st_spool_close(sp);
}

Test(spool, torn_tail_is_cut_and_counted)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	st_spool_stats_t st;
	char path[128];
	uint64_t tok;
	int fd;

	st_spool_engage(sp);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(append_n(sp, i, 0), 0);
	st_spool_close(sp);

	/* a crash in the middle of a write: a length that promises 100
	 * bytes, followed by only 3 */
	snprintf(path, sizeof(path), "%s/%016llx.seg", dir, 1ull << 40);
	/* length 100, CRC 0, then "abc" */
	static const uint8_t torn[] = {100, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c'};
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, torn, sizeof(torn)), (ssize_t)sizeof(torn));
	close(fd);

	sp = open_spool(1 << 20, 1 << 16);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.corrupt, 1);
	cr_assert_eq(st.lines, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(st_spool_read(sp, &(st_spool_rec_t){0}, &tok), -ENODATA);
	st_spool_close(sp);
}

/* bitwise CRC-32C, independent of the spool's table and SSE4.2 versions */
static uint32_t crc32c_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return c ^ 0xffffffffu;
}

Test(spool, reads_the_documented_format)
{
	/* RFC 3720 B.4: CRC-32C of "123456789" is 0xe3069283 */
	cr_assert_eq(crc32c_ref((const uint8_t *)"123456789", 9), 0xe3069283u);

	// clang-format off
	uint8_t seg[] = {
		/* segment header: magic "STSPOOL1", version 1, header length
		 * 32, resolved prefix 32 (nothing confirmed), reserved 0 */
		'S', 'T', 'S', 'P', 'O', 'O', 'L', '1', 1, 0, 0, 0, 32, 0, 0, 0,
		32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* record: body length 31, CRC-32C (filled in below) */
		31, 0, 0, 0, 0, 0, 0, 0,
		/* ts 1000 ms, flags 1 (has key), key length 7, key "1.2.3.4" */
		0xe8, 0x03, 0, 0, 0, 0, 0, 0, 1, 7, 0, '1', '.', '2', '.', '3', '.', '4',
		/* 1 header: name length 3 "pdu", value length 4 "trap" */
		1, 3, 'p', 'd', 'u', 4, 0, 't', 'r', 'a', 'p',
		/* value "{}" */
		'{', '}',
	};
	// clang-format on
	uint8_t crcbuf[4 + 31];
	uint32_t crc;
	char path[128];
	st_spool_rec_t rec;
	uint64_t tok;
	int fd;

	cr_assert_eq(sizeof(seg), 32 + 8 + 31);
	/* the CRC covers the length field and the body */
	memcpy(crcbuf, seg + 32, 4);
	memcpy(crcbuf + 4, seg + 40, 31);
	crc = crc32c_ref(crcbuf, sizeof(crcbuf));
	for (int i = 0; i < 4; i++)
		seg[36 + i] = (uint8_t)(crc >> (8 * i));
	snprintf(path, sizeof(path), "%s/%016llx.seg", dir, 77ull);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, seg, sizeof(seg)), (ssize_t)sizeof(seg));
	close(fd);

	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(st_spool_read(sp, &rec, &tok), 0);
	cr_assert_eq(rec.ts_ms, 1000);
	cr_assert_eq(rec.key_len, 7);
	cr_assert(memcmp(rec.key, "1.2.3.4", 7) == 0);
	cr_assert_eq(rec.nhdrs, 1);
	cr_assert(memcmp(rec.hdrs[0].name, "pdu", 3) == 0);
	cr_assert(memcmp(rec.hdrs[0].value, "trap", 4) == 0);
	cr_assert_eq(rec.value_len, 2);
	cr_assert(memcmp(rec.value, "{}", 2) == 0);
	st_spool_resolve(sp, tok);
	st_spool_close(sp);
	cr_assert_eq(count_segments(), 0);
}

Test(spool, writes_the_documented_format)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	st_spool_rec_t rec = {
	        .ts_ms = 1000, .key = "1.2.3.4", .key_len = 7, .value = "{}", .value_len = 2};
	uint8_t got[128];
	char path[128];
	ssize_t n;
	int fd;

	rec.hdrs[0] = (st_spool_hdr_t){.name = "pdu", .value = "trap", .len = 4};
	rec.nhdrs = 1;
	st_spool_engage(sp);
	cr_assert_eq(st_spool_append(sp, &rec), 0);
	st_spool_close(sp);
	snprintf(path, sizeof(path), "%s/%016llx.seg", dir, 1ull << 40);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	n = read(fd, got, sizeof(got));
	close(fd);
	cr_assert_eq(n, 71, "32-byte header + 8-byte prefix + 31-byte body");
	cr_assert(memcmp(got, "STSPOOL1\x01\x00\x00\x00\x20\x00\x00\x00", 16) == 0);
	/* body: ts 1000, has key, "1.2.3.4", one header pdu=trap, "{}" */
	// clang-format off
	const uint8_t body[] = {
		0xe8, 0x03, 0, 0, 0, 0, 0, 0, 1, 7, 0, '1', '.', '2', '.', '3', '.', '4',
		1, 3, 'p', 'd', 'u', 4, 0, 't', 'r', 'a', 'p',
		'{', '}',
	};
	// clang-format on
	cr_assert_eq(got[32], 31, "body length");
	cr_assert(memcmp(got + 40, body, sizeof(body)) == 0);
	uint8_t crcbuf[4 + sizeof(body)];
	uint32_t crc;

	memcpy(crcbuf, got + 32, 4);
	memcpy(crcbuf + 4, body, sizeof(body));
	crc = crc32c_ref(crcbuf, sizeof(crcbuf));
	cr_assert_eq(got[36] | got[37] << 8 | got[38] << 16 | (uint32_t)got[39] << 24, crc);
}

Test(spool, second_open_of_a_directory_is_refused)
{
	st_spool_t *sp = open_spool(1 << 20, 1 << 16), *sp2 = NULL;
	char err[256] = "";

	cr_assert_lt(st_spool_open(dir, 1 << 20, 1 << 16, &sp2, err, sizeof(err)), 0);
	cr_assert_null(sp2);
	cr_assert(strstr(err, "in use"), "err: %s", err);
	cr_assert(strstr(err, dir), "err names the directory: %s", err);
	st_spool_close(sp);
}

/* Two outputs' spools, first used at the same moment from two threads (as
 * two Kafka outputs do): the CRC's one-time set-up must not race. A
 * ThreadSanitizer build reports the race this guards against. */
typedef struct first_use {
	pthread_barrier_t *start;
	const char *sub;
	int rc;
} first_use_t;

static void *first_append(void *arg)
{
	first_use_t *fu = arg;
	char path[128], err[256];
	st_spool_t *sp = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, fu->sub);
	fu->rc = st_spool_open(path, 1 << 20, 1 << 16, &sp, err, sizeof(err));
	if (fu->rc < 0)
		return NULL;
	st_spool_engage(sp);
	pthread_barrier_wait(fu->start);
	fu->rc = append_n(sp, 1, 0);
	st_spool_close(sp);
	return NULL;
}

Test(spool, two_spools_first_used_from_two_threads, .init = mkdir_tmp, .fini = rm_tmp)
{
	pthread_barrier_t start;
	pthread_t t[2];
	first_use_t fu[2] = {{.start = &start, .sub = "a"}, {.start = &start, .sub = "b"}};

	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, first_append, &fu[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(fu[i].rc, 0, "spool %s: %s", fu[i].sub, strerror(-fu[i].rc));
	}
	pthread_barrier_destroy(&start);
}

/* records lo..hi-1 as append_n() makes them, encoded into one batch */
static size_t encode_range(uint8_t *buf, size_t cap, int lo, int hi)
{
	size_t len = 0;

	for (int n = lo; n < hi; n++) {
		rec_text_t t;
		st_spool_rec_t rec = rec_of(n, &t);
		int k = st_spool_encode(&rec, buf + len, cap - len);

		cr_assert_gt(k, 0, "encode %d: %s", n, strerror(-k));
		len += (size_t)k;
	}
	cr_assert_eq(st_spool_encode(&(st_spool_rec_t){.value = "x", .value_len = 1}, buf, 10),
	             -ENOBUFS, "a record that does not fit says so");
	return len;
}

/*
 * The journal's crash promise: a process that appended batches, had some
 * records confirmed, marked, and died without closing leaves a journal
 * that resumes at the first unconfirmed record; what it had read but not
 * seen confirmed is counted as possibly sent twice.
 */
Test(spool, batches_and_marks_survive_a_crash)
{
	static uint8_t buf[1 << 16];
	st_spool_stats_t st;
	uint64_t tok;
	pid_t pid;
	int status;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		st_spool_t *sp = open_spool(1 << 20, 4096); /* several segments */
		size_t len;

		st_spool_set_policy(sp, ST_SPOOL_FSYNC_OFF, 1);
		len = encode_range(buf, sizeof(buf), 0, 100);
		if (st_spool_append_batch(sp, buf, len, 100) != 0)
			_exit(2);
		len = encode_range(buf, sizeof(buf), 100, 150);
		if (st_spool_append_batch(sp, buf, len, 50) != 0)
			_exit(3);
		for (int i = 0; i < 70; i++) {
			if (st_spool_read(sp, &(st_spool_rec_t){0}, &tok) != 0)
				_exit(4);
			if (i < 60)
				st_spool_resolve(sp, tok); /* 60..69: in flight */
		}
		if (st_spool_oldest_ts(sp) != 1700000000000LL + 60)
			_exit(5);
		if (st_spool_mark(sp) != 0)
			_exit(6);
		_exit(0); /* no close: as kill -9 */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);

	st_spool_t *sp = open_spool(1 << 20, 4096);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.recovered, 90);
	cr_assert_eq(st.recovered_read, 10);
	cr_assert_eq(st.lines, 90);
	cr_assert_eq(st_spool_oldest_ts(sp), 1700000000000LL + 60);
	for (int i = 60; i < 150; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	cr_assert_eq(st_spool_read(sp, &(st_spool_rec_t){0}, &tok), -ENODATA);
	cr_assert_eq(st_spool_oldest_ts(sp), 0);
	st_spool_close(sp);
}

Test(spool, full_journal_rejects_a_batch_when_eviction_is_off)
{
	static uint8_t buf[1 << 16];
	st_spool_t *sp = open_spool(64 * 1024, 16 * 1024);
	st_spool_stats_t st;
	size_t len = encode_range(buf, sizeof(buf), 0, 200);
	int rc = 0, batches = 0;

	st_spool_set_policy(sp, ST_SPOOL_FSYNC_ALWAYS, 0);
	while ((rc = st_spool_append_batch(sp, buf, len, 200)) == 0)
		batches++;
	cr_assert_eq(rc, -ENOSPC);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.full, 200, "every record of the refused batch is counted");
	cr_assert_eq(st.evicted, 0);
	cr_assert_eq(st.lines, (uint64_t)batches * 200);
	cr_assert_leq(st.bytes, 64 * 1024);
	st_spool_close(sp);
}

/* create <dir>/<seq>.seg holding the first len bytes of data */
static void write_seg_file(uint64_t seq, const void *data, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%016llx.seg", dir, (unsigned long long)seq);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/*
 * kill -9 between creating the next segment and writing its header (a
 * rotation, or the first rescue) leaves a file shorter than a header. The
 * restart must not take that name again for its next segment, else every
 * append fails; nor may it leave a damaged segment's name to be reused.
 */
Test(spool, crash_during_segment_creation_does_not_block_appends)
{
	static uint8_t buf[1 << 16];
	st_spool_stats_t st;
	uint64_t tok;
	size_t len = encode_range(buf, sizeof(buf), 0, 10);
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);

	cr_assert_eq(st_spool_append_batch(sp, buf, len, 10), 0);
	st_spool_close(sp);
	/* the torn creations: a tail after, a rescue segment before */
	write_seg_file((1ull << 40) + 1, "", 0);
	write_seg_file((1ull << 40) - 1, "STSPOOL1", 8);
	/* and a file that is no segment of ours, after them */
	write_seg_file((1ull << 40) + 2, "not a spool segment, kept for a look", 36);

	sp = open_spool(1 << 20, 1 << 16);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.lines, 10);
	cr_assert_eq(st.corrupt, 1, "the foreign file is counted");
	len = encode_range(buf, sizeof(buf), 10, 20);
	/* seal the old tail: the new records go to a new segment */
	cr_assert_eq(st_spool_append_batch(sp, buf, len, 10), 0, "append after the crash");
	cr_assert_eq(append_n(sp, 20, 1), 0, "rescue after the crash");
	cr_assert_eq(st_spool_rescue_close(sp), 0);
	cr_assert_eq(read_n(sp, &tok), 20);
	st_spool_resolve(sp, tok);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(read_n(sp, &tok), i);
		st_spool_resolve(sp, tok);
	}
	st_spool_close(sp);
}

/*
 * journal_full reject: the journal is full during an outage and the
 * records that were in flight come back from librdkafka. They were
 * accepted long ago; they must find room in the rescue segment rather
 * than be lost (only new lines are refused).
 */
Test(spool, full_journal_without_eviction_still_takes_rescued_records)
{
	static uint8_t buf[1 << 16];
	st_spool_t *sp = open_spool(64 * 1024, 16 * 1024);
	st_spool_stats_t st;
	size_t len = encode_range(buf, sizeof(buf), 0, 100);
	uint64_t tok[10], t;
	int batches = 0, extra = 0;

	st_spool_set_policy(sp, ST_SPOOL_FSYNC_OFF, 0);
	while (st_spool_append_batch(sp, buf, len, 100) == 0)
		batches++;
	cr_assert_gt(batches, 1);
	/* and to the last byte, one record at a time */
	for (int i = 100; i < 200; i++) {
		uint8_t one[128];
		size_t k = encode_range(one, sizeof(one), i, i + 1);

		if (st_spool_append_batch(sp, one, k, 1) < 0)
			break;
		extra++;
	}
	for (int i = 0; i < 10; i++)
		cr_assert_eq(read_n(sp, &tok[i]), i);
	/* as on_delivery() does: rescue, then resolve */
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(append_n(sp, i, 1), 0, "rescue of in-flight record %d", i);
		st_spool_resolve(sp, tok[i]);
	}
	cr_assert_eq(st_spool_rescue_close(sp), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.lines, (uint64_t)batches * 100 + (uint64_t)extra);
	cr_assert_leq(st.bytes, 64 * 1024 + 8 * 1024);
	cr_assert_eq(st_spool_append_batch(sp, buf, len, 100), -ENOSPC, "new lines: still full");
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(read_n(sp, &t), i);
		st_spool_resolve(sp, t);
	}
	cr_assert_eq(read_n(sp, &t), 10, "then the rest, in order");
	st_spool_close(sp);
}

/* ---- the journal's threads ------------------------------------------------ */

#define JT_BATCHES 200
#define JT_PER     50

typedef struct jt {
	st_spool_t *sp;
	int writer;       /* writers: 0 or 1 */
	_Atomic int done; /* the reader has read everything */
	long got[2];      /* reader: next record expected from each writer */
} jt_t;

/* a worker: batches of records w*100000 + i, in order */
static void *jt_writer(void *arg)
{
	jt_t *j = arg;
	uint8_t *buf = malloc(1 << 16);
	int base = j->writer * 100000;

	cr_assert_not_null(buf);
	for (int b = 0; b < JT_BATCHES; b++) {
		int lo = base + b * JT_PER;
		size_t len = encode_range(buf, 1 << 16, lo, lo + JT_PER);

		cr_assert_eq(st_spool_append_batch(j->sp, buf, len, JT_PER), 0);
	}
	free(buf);
	return NULL;
}

/* the poller: reads in batches, confirms, and persists the marks */
static void *jt_reader(void *arg)
{
	jt_t *j = (jt_t *)arg;
	st_spool_rec_t recs[64];
	uint64_t toks[64];

	while (j->got[0] + j->got[1] < 2 * JT_BATCHES * JT_PER) {
		unsigned n = 0;
		int rc = st_spool_read_batch(j->sp, recs, toks, 64, &n);

		if (rc == -ENODATA) {
			st_spool_mark(j->sp);
			continue;
		}
		cr_assert_eq(rc, 0, "read: %s", strerror(-rc));
		for (unsigned i = 0; i < n; i++) {
			char v[32];
			int num, w;

			cr_assert_lt(recs[i].value_len, sizeof(v));
			memcpy(v, recs[i].value, recs[i].value_len);
			v[recs[i].value_len] = '\0';
			cr_assert_eq(sscanf(v, "line %d", &num), 1);
			cr_assert_eq(recs[i].ts_ms, 1700000000000LL + num, "a torn record: %s", v);
			w = num / 100000;
			cr_assert_eq(num % 100000, j->got[w], "writer %d: %d, expected %ld", w,
			             num % 100000, j->got[w]);
			j->got[w]++;
		}
		st_spool_resolve_many(j->sp, toks, n);
	}
	atomic_store(&j->done, 1);
	return NULL;
}

/*
 * Workers append batches while the poller reads, confirms and marks, and
 * another thread syncs and reads the counters (as /metrics does), over
 * small segments that roll over and are deleted meanwhile: every record
 * read once, in each worker's order, and nothing left at the end.
 */
Test(spool, journal_appends_reads_and_marks_from_several_threads)
{
	st_spool_t *sp = open_spool(64 << 20, 16 * 1024);
	jt_t w[2] = {{.sp = sp, .writer = 0}, {.sp = sp, .writer = 1}};
	jt_t r = {.sp = sp};
	pthread_t tw[2], tr;
	st_spool_stats_t st;

	st_spool_engage(sp);
	cr_assert_eq(pthread_create(&tr, NULL, jt_reader, &r), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&tw[i], NULL, jt_writer, &w[i]), 0);
	while (!atomic_load(&r.done)) {
		st_spool_sync(sp);
		st_spool_oldest_ts(sp);
		st_spool_stats(sp, &st);
		usleep(1000);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(tw[i], NULL);
	pthread_join(tr, NULL);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.appended, 2 * JT_BATCHES * JT_PER);
	cr_assert_eq(st.lines, 0);
	cr_assert_eq(st.corrupt, 0);
	cr_assert_eq(st.io_errors, 0);
	cr_assert_eq(st_spool_outstanding(sp), 0);
	st_spool_close(sp);
	cr_assert_leq(count_segments(), 1, "confirmed segments are deleted");
}

/*
 * fsync always: every append is on disk before it returns, whichever way
 * it came (a batch, a single record too large for a batch, a rescued
 * record); interval leaves it to st_spool_sync().
 */
Test(spool, fsync_always_syncs_every_kind_of_append)
{
	static uint8_t buf[1 << 12];
	st_spool_t *sp = open_spool(1 << 20, 1 << 16);
	size_t len = encode_range(buf, sizeof(buf), 0, 5);
	st_spool_stats_t st;
	uint64_t before;

	st_spool_engage(sp);
	cr_assert_eq(append_n(sp, 100, 0), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.syncs, 0, "interval: not at append");
	cr_assert_eq(st_spool_sync(sp), 0);
	st_spool_stats(sp, &st);
	cr_assert_gt(st.syncs, 0, "interval: at st_spool_sync()");

	st_spool_set_policy(sp, ST_SPOOL_FSYNC_ALWAYS, 1);
	before = st.syncs;
	cr_assert_eq(st_spool_append_batch(sp, buf, len, 5), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.syncs, before + 1, "a batch");
	cr_assert_eq(append_n(sp, 101, 0), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.syncs, before + 2, "a single record");
	cr_assert_eq(append_n(sp, 102, 1), 0);
	st_spool_stats(sp, &st);
	cr_assert_eq(st.syncs, before + 3, "a rescued record");
	cr_assert_eq(st.io_errors, 0);
	st_spool_close(sp);
}
