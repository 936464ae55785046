/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache.c - the engine cache: bound and eviction, what the engines
 * walk reports, reloading users, concurrent workers, and the DES/legacy
 * provider rule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "helpers.h"
#include "vectors.h"

#define T0 1800000000

static void send_from(fixture_t *fx, const char *engine, int64_t when, int want)
{
	uint8_t pkt[2048];
	st_usm_sender_t *s = make_sender("u", ST_USM_AUTH_SHA1, "authpass123", ST_USM_PRIV_AES128,
	                                 "privpass123", engine, 1, 100, T0);
	size_t n = send_trap(s, engine, when, pkt, sizeof(pkt));
	int rc = fx_run(fx, pkt, n, when);
	cr_assert_eq(rc, want, "%s: %s", engine, st_strerror(rc));
	st_usm_sender_free(s);
}

typedef struct seen {
	int n;
	char ids[8][65];
	st_usm_engine_info_t info[8];
	struct sockaddr_storage src[8][4];
	char users[8][4][33];
} seen_t;

static void collect(const st_usm_engine_info_t *info, void *arg)
{
	seen_t *s = arg;
	cr_assert_lt(s->n, 8);
	tohex(info->engine_id, info->engine_id_len, s->ids[s->n]);
	s->info[s->n] = *info;
	memcpy(s->src[s->n], info->sources, info->nsources * sizeof(info->sources[0]));
	for (size_t i = 0; i < info->nusers && i < 4; i++)
		snprintf(s->users[s->n][i], 33, "%s", info->users[i]);
	s->n++;
}

static int has_engine(const seen_t *s, const char *hex)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], hex) == 0)
			return 1;
	return 0;
}

Test(cache, bounded_least_recently_seen_is_evicted)
{
	fixture_t fx;
	st_usm_conf_t conf = {.max_engines = 2};
	fx_open_conf(&fx, "createUser u SHA authpass123 AES privpass123\n", &conf);
	send_from(&fx, "8000000001aa", T0, 0);
	send_from(&fx, "8000000001bb", T0 + 1, 0);
	send_from(&fx, "8000000001aa", T0 + 2, 0);
	send_from(&fx, "8000000001cc", T0 + 3, 0); /* evicts bb, seen least recently */
	st_usm_cache_stats_t cs;
	st_usm_cache_stats(fx.usm, &cs);
	cr_assert_eq(cs.engines, 2);
	cr_assert_eq(cs.evictions, 1);
	seen_t seen = {0};
	st_usm_engines_foreach(fx.usm, collect, &seen);
	cr_assert_eq(seen.n, 2);
	cr_assert(has_engine(&seen, "8000000001aa"));
	cr_assert(has_engine(&seen, "8000000001cc"));
	/* bb comes back: re-learned, and now aa is the oldest */
	send_from(&fx, "8000000001bb", T0 + 4, 0);
	st_usm_cache_stats(fx.usm, &cs);
	cr_assert_eq(cs.engines, 2);
	cr_assert_eq(cs.evictions, 2);
	seen = (seen_t){0};
	st_usm_engines_foreach(fx.usm, collect, &seen);
	cr_assert(has_engine(&seen, "8000000001bb"));
	cr_assert(has_engine(&seen, "8000000001cc"));
	fx_close(&fx);
}

Test(cache, walk_reports_boots_time_sources_and_users)
{
	fixture_t fx;
	fx_open(&fx, "createUser dup SHA otherpass123 AES otherpriv123\n", NULL, 0, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(50123)};
	struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_port = htons(162)};
	inet_pton(AF_INET, "192.0.2.7", &a.sin_addr);
	inet_pton(AF_INET6, "2001:db8::7", &b.sin6_addr);

	st_usm_note_source(fx.w, (struct sockaddr *)&a);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0), 0);
	st_usm_note_source(fx.w, (struct sockaddr *)&a); /* the same source again */
	cr_assert_eq(fx_run(&fx, vec_dup_e2_2, sizeof(vec_dup_e2_2), T0 + 5), 0);
	st_usm_note_source(fx.w, (struct sockaddr *)&b);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_2, sizeof(vec_dup_e2_2), T0 + 7), 0);
	/* a message that fails records nothing */
	st_usm_note_source(fx.w, (struct sockaddr *)&b);
	cr_assert_eq(fx_run(&fx, vec_dup_e2_1, sizeof(vec_dup_e2_1), T0 + 9999),
	             ST_ERR_USM_NOT_IN_TIME_WINDOW);

	seen_t seen = {0};
	st_usm_engines_foreach(fx.usm, collect, &seen);
	cr_assert_eq(seen.n, 1);
	cr_assert_str_eq(seen.ids[0], VEC_ENGINE2);
	cr_assert_eq(seen.info[0].last_seen, T0 + 7);
	cr_assert_eq(seen.info[0].nsources, 2);
	cr_assert_eq(seen.src[0][0].ss_family, AF_INET);
	cr_assert_eq(((struct sockaddr_in *)&seen.src[0][0])->sin_port, htons(50123));
	cr_assert_eq(seen.src[0][1].ss_family, AF_INET6);
	cr_assert_eq(seen.info[0].nusers, 1);
	cr_assert_str_eq(seen.users[0][0], "dup");
	/* boots/time: those of the newest message */
	st_msg_t *m = calloc(1, sizeof(*m));
	cr_assert_eq(st_snmp_decode(vec_dup_e2_2, sizeof(vec_dup_e2_2), m), 0);
	cr_assert_eq(seen.info[0].boots, m->usm.boots);
	cr_assert_eq(seen.info[0].time, m->usm.time);
	free(m);
	fx_close(&fx);
}

/* Reload: keys learned from the old users are dropped, what was learned
 * about the engine's clock is kept. */
Test(cache, reload_drops_learned_keys_and_keeps_time)
{
	fixture_t fx;
	uint8_t pkt[2048];
	char err[256];
	fx_open(&fx, "createUser u SHA authpass123 AES privpass123\n", NULL, 0, 0);
	st_usm_sender_t *old = make_sender("u", ST_USM_AUTH_SHA1, "authpass123", ST_USM_PRIV_AES128,
	                                   "privpass123", "8000000001aa", 1, 1000, T0);
	st_usm_sender_t *neu = make_sender("u", ST_USM_AUTH_SHA1, "newpass1234", ST_USM_PRIV_AES128,
	                                   "newpriv1234", "8000000001aa", 1, 1000, T0);
	size_t n = send_trap(old, "old", T0, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0), 0);

	st_usm_users_t *users = NULL;
	cr_assert_eq(st_usm_users_parse("createUser u SHA newpass1234 AES newpriv1234\n", "new",
	                                &users, err, sizeof(err)),
	             0);
	cr_assert_eq(st_usm_users_check(users, err, sizeof(err)), 0);
	st_usm_set_users(fx.usm, users);

	n = send_trap(old, "old", T0 + 1, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0 + 1), ST_ERR_USM_WRONG_DIGEST);
	n = send_trap(neu, "new", T0 + 1, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0 + 1), 0);
	expect_text(&fx.msg->pdu, VEC_VB_TEXT, "new");
	/* the engine's time is still known: an old message is a replay */
	n = send_trap(neu, "stale", T0 - 500, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0 + 1), ST_ERR_USM_NOT_IN_TIME_WINDOW);
	/* and no users at all */
	st_usm_set_users(fx.usm, NULL);
	n = send_trap(neu, "new", T0 + 2, pkt, sizeof(pkt));
	cr_assert_eq(fx_run(&fx, pkt, n, T0 + 2), ST_ERR_USM_UNKNOWN_USER);
	st_usm_sender_free(old);
	st_usm_sender_free(neu);
	fx_close(&fx);
}

Test(cache, des_needs_the_legacy_provider)
{
	/* before anything loads OpenSSL providers in this test process */
	setenv("OPENSSL_MODULES", "/nonexistent-ossl-modules", 1);
	st_usm_users_t *users = NULL;
	st_usm_t *usm = NULL;
	char err[256];
	st_usm_conf_t conf = {0};
	cr_assert_eq(st_usm_users_parse("createUser a SHA authpass123 AES privpass123\n"
	                                "createUser d MD5 authpass123 DES privpass123\n",
	                                "users.conf", &users, err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(st_usm_new(&conf, users, &usm, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_null(usm);
	cr_assert_str_eq(err, "users.conf:2: user 'd' needs DES, which this OpenSSL cannot provide "
	                      "(its legacy provider did not load)");
	cr_assert_eq(st_usm_users_parse("createUser a SHA authpass123 AES privpass123\n",
	                                "users.conf", &users, err, sizeof(err)),
	             0);
	cr_assert_eq(st_usm_new(&conf, users, &usm, err, sizeof(err)), 0, "%s", err);
	st_usm_free(usm);
}

Test(cache, rejects_bad_configuration)
{
	st_usm_t *usm = NULL;
	char err[256];
	uint8_t e[4] = {1, 2, 3, 4};
	st_usm_conf_t conf = {.engine_id = e, .engine_id_len = 4};
	cr_assert_eq(st_usm_new(&conf, NULL, &usm, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_str_eq(err, "the local engine ID must be 5..32 octets");
	conf = (st_usm_conf_t){.timeliness = 7};
	cr_assert_eq(st_usm_new(&conf, NULL, &usm, err, sizeof(err)), ST_ERR_CONFIG);
	conf = (st_usm_conf_t){.engine_boots = -1};
	cr_assert_eq(st_usm_new(&conf, NULL, &usm, err, sizeof(err)), ST_ERR_CONFIG);
	cr_assert_null(usm);
}

/* Workers in threads while another thread reloads the users: every
 * message is accepted and nothing is used after it is freed (run under
 * ST_SANITIZE=address or thread to see the latter). */
typedef struct job {
	st_usm_t *usm;
	uint8_t pkt[8][1024];
	size_t len[8];
	int ok, bad;
} job_t;

static void *worker_main(void *arg)
{
	job_t *j = arg;
	st_usm_worker_t *w = st_usm_worker_new(j->usm);
	st_msg_t *msg = calloc(1, sizeof(*msg));
	struct timespec now = {.tv_sec = T0};
	for (int i = 0; i < 4000; i++) {
		int k = i % 8;
		if (st_snmp_decode(j->pkt[k], j->len[k], msg) != 0) {
			j->bad++;
			continue;
		}
		int rc = st_usm_process(w, j->pkt[k], j->len[k], msg, &now, NULL, 0, NULL);
		if (rc == 0 && msg->have_pdu)
			j->ok++;
		else
			j->bad++;
	}
	free(msg);
	st_usm_worker_free(w);
	return NULL;
}

Test(cache, concurrent_workers_and_reloads)
{
	const char *text = "createUser u SHA authpass123 AES privpass123\n";
	st_usm_users_t *users = NULL;
	st_usm_t *usm = NULL;
	char err[256];
	st_usm_conf_t conf = {.max_engines = 4}; /* evictions too */
	cr_assert_eq(st_usm_users_parse(text, "u", &users, err, sizeof(err)), 0);
	cr_assert_eq(st_usm_new(&conf, users, &usm, err, sizeof(err)), 0);

	job_t jobs[2];
	memset(jobs, 0, sizeof(jobs));
	for (int t = 0; t < 2; t++) {
		jobs[t].usm = usm;
		for (int k = 0; k < 8; k++) {
			char eng[16];
			snprintf(eng, sizeof(eng), "80000000%02x%02x", t, k);
			st_usm_sender_t *s =
			        make_sender("u", ST_USM_AUTH_SHA1, "authpass123",
			                    ST_USM_PRIV_AES128, "privpass123", eng, 1, 100, T0);
			jobs[t].len[k] =
			        send_trap(s, eng, T0, jobs[t].pkt[k], sizeof(jobs[t].pkt[k]));
			st_usm_sender_free(s);
		}
	}
	pthread_t th[2];
	for (int t = 0; t < 2; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, worker_main, &jobs[t]), 0);
	for (int r = 0; r < 10; r++) {
		users = NULL;
		cr_assert_eq(st_usm_users_parse(text, "u", &users, err, sizeof(err)), 0);
		st_usm_set_users(usm, users);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < 2; t++) {
		cr_assert_eq(jobs[t].bad, 0);
		cr_assert_eq(jobs[t].ok, 4000);
	}
	st_usm_cache_stats_t cs;
	st_usm_cache_stats(usm, &cs);
	cr_assert_leq(cs.engines, 4);
	cr_assert_gt(cs.evictions, 0);
	st_usm_free(usm);
}
