/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c - the engine cache shared by the workers, and deferred freeing.
 *
 * What it holds: one entry per authoritative engine that sent an authentic
 * message (engine ID, boots/time for timeliness, last seen, a few recent
 * source addresses) and, per (engine, user name), the localized keys of the
 * user whose HMAC verified (a "knode"). A later message from that engine
 * and user costs one lookup and one HMAC.
 *
 * Concurrency:
 *  - The entries are spread over up to 64 shards by a seeded hash of the
 *    engine ID. A shard is a chained hash table with a fixed number of
 *    buckets. Workers look up without any lock (acquire loads); learning a
 *    new (engine, user), evicting and purging after a reload take the
 *    shard's mutex and publish with release stores.
 *  - A lookup returns pointers that outlive it: nothing reachable from the
 *    cache is freed while a worker may hold it. Unlinked objects keep their
 *    next pointers and are "retired" with the value of a global epoch
 *    counter, and freed once every worker is either quiescent (outside
 *    st_usm_process()) or entered it after the retirement (quiescent-state-
 *    based reclamation). The per-message cost is two stores to the worker's
 *    own cache line; no shared line is written on the hot path.
 *  - Per-engine timeliness (boots, latest engine time, local time of
 *    receipt) is a sequence lock: readers never block a writer, and
 *    writers (a new second of engine time, a reboot) never wait: one that
 *    finds another writer busy drops its update, which only makes the
 *    record a second staler. Last-seen and the sources' fingerprints are
 *    plain atomics; the source addresses are written under a try-lock
 *    (skipped when busy) and read under it by st_usm_engines_foreach().
 *  - The bound is per shard (the total never exceeds max_engines): a full
 *    shard evicts its least recently seen engine, and fewer shards are used
 *    when max_engines is small so that each holds at least 16.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "usm_int.h"

#define MAX_SHARDS    64
#define MIN_PER_SHARD 16

/* ------------------------------------------------------------------ */
/* deferred reclamation                                               */
/* ------------------------------------------------------------------ */

static void reclaim_locked(st_usm_t *usm)
{
	uint64_t min = UINT64_MAX;
	/* st_usm_worker_active() is an RMW that pairs with the worker's
	 * announcement (st_usm_process()): either we see it active, or it
	 * sees every unlink made before this point. */
	for (size_t i = 0; i < usm->nworkers; i++) {
		uint64_t a = st_usm_worker_active(usm->workers[i]);
		if (a && a < min)
			min = a;
	}
	size_t keep = 0;
	for (size_t i = 0; i < usm->nretired; i++) {
		st_usm_retired_t r = usm->retired[i];
		if (r.epoch < min)
			r.free_fn(r.p);
		else
			usm->retired[keep++] = r;
	}
	usm->nretired = keep;
	atomic_store_explicit(&usm->pending, keep, memory_order_relaxed);
}

void st_usm_retire(st_usm_t *usm, void *p, void (*free_fn)(void *))
{
	pthread_mutex_lock(&usm->reclaim_lock);
	if (usm->nretired == usm->retired_cap) {
		size_t cap = usm->retired_cap ? usm->retired_cap * 2 : 64;
		st_usm_retired_t *r = realloc(usm->retired, cap * sizeof(*r));
		if (!r) {
			/* Out of memory: the object cannot be freed safely now (a
			 * worker may hold it, and waiting here under a shard lock
			 * could deadlock), so it is left allocated. */
			pthread_mutex_unlock(&usm->reclaim_lock);
			return;
		}
		usm->retired = r;
		usm->retired_cap = cap;
	}
	uint64_t e = atomic_fetch_add(&usm->epoch, 1);
	usm->retired[usm->nretired++] = (st_usm_retired_t){p, free_fn, e};
	reclaim_locked(usm);
	pthread_mutex_unlock(&usm->reclaim_lock);
}

void st_usm_reclaim_try(st_usm_t *usm)
{
	if (pthread_mutex_trylock(&usm->reclaim_lock) != 0)
		return;
	reclaim_locked(usm);
	pthread_mutex_unlock(&usm->reclaim_lock);
}

void st_usm_reclaim(st_usm_t *usm)
{
	pthread_mutex_lock(&usm->reclaim_lock);
	reclaim_locked(usm);
	pthread_mutex_unlock(&usm->reclaim_lock);
}

/* ------------------------------------------------------------------ */
/* entries                                                            */
/* ------------------------------------------------------------------ */

static void knode_free(void *p)
{
	st_usm_knode_t *kn = p;
	st_usm_wipe(kn, sizeof(*kn));
	free(kn);
}

static void engine_free(void *p)
{
	st_usm_engine_t *e = p;
	for (st_usm_knode_t *kn = atomic_load(&e->keys), *next; kn; kn = next) {
		next = atomic_load(&kn->next);
		knode_free(kn);
	}
	free(e);
}

#define LOAD(p)       atomic_load_explicit(&(p), memory_order_acquire)
#define PUBLISH(p, v) atomic_store_explicit(&(p), (v), memory_order_release)

int st_usm_cache_init(st_usm_cache_t *cache, size_t max_engines)
{
	size_t n = 1;
	if (max_engines == 0)
		max_engines = ST_USM_DEFAULT_MAX_ENGINES;
	while (n < MAX_SHARDS && max_engines / (n * 2) >= MIN_PER_SHARD)
		n *= 2;
	memset(cache, 0, sizeof(*cache));
	cache->shard = calloc(n, sizeof(*cache->shard));
	if (!cache->shard)
		return -ENOMEM;
	cache->nshards = n;
	if (st_usm_random(&cache->seed, sizeof(cache->seed)) < 0)
		cache->seed = (uint64_t)(uintptr_t)cache ^ 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++) {
		st_usm_shard_t *s = &cache->shard[i];
		s->cap = max_engines / n + (i < max_engines % n ? 1 : 0);
		/* chains of two on average when full; never resized, so that
		 * lock-free readers never meet a rehash */
		s->nbuckets = 16;
		while (s->nbuckets * 2 < s->cap)
			s->nbuckets *= 2;
		s->bucket = calloc(s->nbuckets, sizeof(*s->bucket));
		if (!s->bucket || pthread_mutex_init(&s->lock, NULL) != 0) {
			free(s->bucket);
			s->bucket = NULL;
			cache->nshards = i;
			st_usm_cache_destroy(cache);
			return -ENOMEM;
		}
	}
	return 0;
}

void st_usm_cache_destroy(st_usm_cache_t *cache)
{
	for (size_t i = 0; i < cache->nshards; i++) {
		st_usm_shard_t *s = &cache->shard[i];
		for (size_t b = 0; b < s->nbuckets; b++) {
			for (st_usm_engine_t *e = atomic_load(&s->bucket[b]), *next; e; e = next) {
				next = atomic_load(&e->next);
				engine_free(e);
			}
		}
		free(s->bucket);
		pthread_mutex_destroy(&s->lock);
	}
	free(cache->shard);
	memset(cache, 0, sizeof(*cache));
}

static st_usm_shard_t *shard_of(st_usm_cache_t *cache, uint64_t h)
{
	return &cache->shard[(h >> 32) & (cache->nshards - 1)];
}

static st_usm_engine_t *find_engine(st_usm_shard_t *s, uint64_t h, const uint8_t *id, size_t len)
{
	for (st_usm_engine_t *e = LOAD(s->bucket[h & (s->nbuckets - 1)]); e; e = LOAD(e->next))
		if (e->hash == h && e->id_len == len && memcmp(e->id, id, len) == 0)
			return e;
	return NULL;
}

void st_usm_cache_lookup(st_usm_t *usm, const uint8_t *id, size_t id_len, const uint8_t *name,
                         size_t name_len, uint64_t gen, st_usm_engine_t **eng, st_usm_knode_t **kn)
{
	uint64_t h = st_usm_hash(id, id_len, usm->cache.seed);
	st_usm_engine_t *e = find_engine(shard_of(&usm->cache, h), h, id, id_len);

	*eng = e;
	*kn = NULL;
	if (!e)
		return;
	for (st_usm_knode_t *k = LOAD(e->keys); k; k = LOAD(k->next)) {
		if (k->gen == gen && k->name_len == name_len &&
		    memcmp(k->name, name, name_len) == 0) {
			*kn = k;
			return;
		}
	}
}

/* Unlink and retire the least recently seen engine of a full shard. */
static void evict_one(st_usm_t *usm, st_usm_shard_t *s)
{
	_Atomic(st_usm_engine_t *) *victim = NULL;
	int64_t oldest = INT64_MAX;
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (_Atomic(st_usm_engine_t *) *pe = &s->bucket[i]; LOAD(*pe);
		     pe = &LOAD(*pe)->next) {
			int64_t seen =
			        atomic_load_explicit(&LOAD(*pe)->last_seen, memory_order_relaxed);
			if (seen < oldest) {
				oldest = seen;
				victim = pe;
			}
		}
	}
	if (!victim)
		return;
	st_usm_engine_t *e = LOAD(*victim);
	PUBLISH(*victim, LOAD(e->next)); /* e keeps its next for readers on it */
	s->n--;
	atomic_fetch_sub_explicit(&usm->cache.engines, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&usm->cache.evictions, 1, memory_order_relaxed);
	st_usm_retire(usm, e, engine_free);
}

st_usm_engine_t *st_usm_cache_insert(st_usm_t *usm, const uint8_t *id, size_t id_len,
                                     st_usm_knode_t *kn, int64_t now)
{
	uint64_t h = st_usm_hash(id, id_len, usm->cache.seed);
	st_usm_shard_t *s = shard_of(&usm->cache, h);

	pthread_mutex_lock(&s->lock);
	st_usm_engine_t *e = find_engine(s, h, id, id_len);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			pthread_mutex_unlock(&s->lock);
			knode_free(kn);
			return NULL;
		}
		e->hash = h;
		e->id_len = (uint8_t)id_len;
		memcpy(e->id, id, id_len);
		atomic_flag_clear(&e->src_lock);
		atomic_store_explicit(&e->last_seen, now, memory_order_relaxed);
		while (s->n >= s->cap && s->n > 0)
			evict_one(usm, s);
		atomic_store_explicit(&e->next, LOAD(s->bucket[h & (s->nbuckets - 1)]),
		                      memory_order_relaxed);
		PUBLISH(s->bucket[h & (s->nbuckets - 1)], e);
		s->n++;
		atomic_fetch_add_explicit(&usm->cache.engines, 1, memory_order_relaxed);
	}
	/* One knode per name: the newest winner replaces the previous one. */
	for (_Atomic(st_usm_knode_t *) *pk = &e->keys; LOAD(*pk);) {
		st_usm_knode_t *old = LOAD(*pk);
		if (old->name_len == kn->name_len &&
		    memcmp(old->name, kn->name, kn->name_len) == 0) {
			PUBLISH(*pk, LOAD(old->next));
			st_usm_retire(usm, old, knode_free);
		} else {
			pk = &old->next;
		}
	}
	atomic_store_explicit(&kn->next, LOAD(e->keys), memory_order_relaxed);
	PUBLISH(e->keys, kn);
	pthread_mutex_unlock(&s->lock);
	return e;
}

void st_usm_cache_purge(st_usm_t *usm, uint64_t gen)
{
	for (size_t i = 0; i < usm->cache.nshards; i++) {
		st_usm_shard_t *s = &usm->cache.shard[i];
		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < s->nbuckets; b++) {
			for (st_usm_engine_t *e = LOAD(s->bucket[b]); e; e = LOAD(e->next)) {
				for (_Atomic(st_usm_knode_t *) *pk = &e->keys; LOAD(*pk);) {
					st_usm_knode_t *kn = LOAD(*pk);
					if (kn->gen != gen) {
						PUBLISH(*pk, LOAD(kn->next));
						st_usm_retire(usm, kn, knode_free);
					} else {
						pk = &kn->next;
					}
				}
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
}

/* ------------------------------------------------------------------ */
/* timeliness                                                         */
/* ------------------------------------------------------------------ */

#define TS_LEARNED  (1ULL << 63)
#define TIME_WINDOW 150 /* RFC 3414 2.2.3 */
#define BOOTS_MAX   2147483647

typedef struct tsnap {
	int learned;
	int64_t boots, latest, tlocal;
} tsnap_t;

static void ts_read(st_usm_engine_t *e, tsnap_t *t)
{
	for (unsigned spin = 0;; spin++) {
		uint32_t s1 = atomic_load_explicit(&e->tseq, memory_order_acquire);
		if (s1 & 1) {
			if (spin > 64)
				sched_yield();
			continue;
		}
		/* acquire loads of the data keep the re-check of tseq after
		 * them; they pair with the writer's release stores below (a
		 * plain load on x86 and arm64's ldapr: free) */
		uint64_t st = atomic_load_explicit(&e->tstate, memory_order_acquire);
		int64_t tl = atomic_load_explicit(&e->tlocal, memory_order_acquire);
		if (atomic_load_explicit(&e->tseq, memory_order_relaxed) == s1) {
			t->learned = (st & TS_LEARNED) != 0;
			t->boots = (int64_t)((st >> 32) & 0x7fffffff);
			t->latest = (int64_t)(st & 0xffffffff);
			t->tlocal = tl;
			return;
		}
	}
}

/* Best effort: a concurrent writer wins and this update is dropped. */
static void ts_write(st_usm_engine_t *e, int64_t boots, int64_t time, int64_t now)
{
	uint32_t s = atomic_load_explicit(&e->tseq, memory_order_relaxed);
	if ((s & 1) || !atomic_compare_exchange_strong_explicit(
	                       &e->tseq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
		return;
	/* Release stores: a reader that sees either new value also sees the
	 * odd tseq stored before it, so its re-check fails and it retries. */
	atomic_store_explicit(&e->tstate,
	                      TS_LEARNED | (uint64_t)boots << 32 | (uint64_t)(uint32_t)time,
	                      memory_order_release);
	atomic_store_explicit(&e->tlocal, now, memory_order_release);
	atomic_store_explicit(&e->tseq, s + 2, memory_order_release);
}

int st_usm_engine_timely(st_usm_engine_t *e, int mode, int64_t boots, int64_t time, int64_t now)
{
	tsnap_t t;
	ts_read(e, &t);
	if (!t.learned) {
		/* First authentic message: it sets boots/time. strict only
		 * learns from it; learn and off accept it. */
		ts_write(e, boots, time, now);
		return mode == ST_USM_TIMELINESS_STRICT ? ST_ERR_USM_NOT_IN_TIME_WINDOW : 0;
	}
	int64_t est = t.latest + (now - t.tlocal); /* our notion of its engineTime */
	int newer = boots > t.boots || (boots == t.boots && time > t.latest);
	int in_window = boots == t.boots && t.boots != BOOTS_MAX && time >= est - TIME_WINDOW &&
	                time <= est + TIME_WINDOW;
	/* RFC 3414 3.2 7b: an authentic message with a larger boots, or the
	 * same boots and a later time, advances the record. */
	if (newer)
		ts_write(e, boots, time, now);
	switch (mode) {
	case ST_USM_TIMELINESS_OFF:
		return 0;
	case ST_USM_TIMELINESS_STRICT:
		return in_window ? 0 : ST_ERR_USM_NOT_IN_TIME_WINDOW;
	default:
		/* RFC 3414 3.2 7b, checked against the record after the update */
		if (newer)
			return boots == BOOTS_MAX ? ST_ERR_USM_NOT_IN_TIME_WINDOW : 0;
		if (t.boots == BOOTS_MAX || boots < t.boots ||
		    (boots == t.boots && time < est - TIME_WINDOW))
			return ST_ERR_USM_NOT_IN_TIME_WINDOW;
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* last seen, sources                                                 */
/* ------------------------------------------------------------------ */

static uint64_t src_fingerprint(const struct sockaddr_storage *ss)
{
	uint8_t k[20] = {0};
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		memcpy(k, &sin->sin_port, 2);
		memcpy(k + 2, &sin->sin_addr, 4);
		k[19] = 4;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(k, &sin6->sin6_port, 2);
		memcpy(k + 2, &sin6->sin6_addr, 16);
		k[19] = 6;
	} else {
		return 0;
	}
	return st_usm_hash(k, sizeof(k), 0x535243u) | 1; /* never 0 = empty */
}

void st_usm_engine_seen(st_usm_engine_t *e, const struct sockaddr_storage *src, int have_src,
                        int64_t now)
{
	/* Read before writing: most messages change nothing, and a store
	 * would bounce the line between the workers. */
	if (atomic_load_explicit(&e->last_seen, memory_order_relaxed) != now)
		atomic_store_explicit(&e->last_seen, now, memory_order_relaxed);
	if (!have_src)
		return;
	uint64_t fp = src_fingerprint(src);
	if (!fp)
		return;
	for (int i = 0; i < ST_USM_SOURCES; i++)
		if (atomic_load_explicit(&e->src_fp[i], memory_order_relaxed) == fp)
			return;
	if (atomic_flag_test_and_set_explicit(&e->src_lock, memory_order_acquire))
		return; /* someone else is recording a source: skip */
	int slot = e->src_next;
	if (src->ss_family == AF_INET)
		memcpy(&e->src[slot].in, src, sizeof(e->src[slot].in));
	else
		memcpy(&e->src[slot].in6, src, sizeof(e->src[slot].in6));
	atomic_store_explicit(&e->src_fp[slot], fp, memory_order_relaxed);
	e->src_next = (uint8_t)((slot + 1) % ST_USM_SOURCES);
	if (e->src_n < ST_USM_SOURCES)
		e->src_n++;
	atomic_flag_clear_explicit(&e->src_lock, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* walking, figures                                                   */
/* ------------------------------------------------------------------ */

#define FOREACH_MAX_USERS 64

/* Describe one engine to cb; its shard mutex is held. */
static void walk_engine(st_usm_engine_t *e, uint64_t gen,
                        void (*cb)(const st_usm_engine_info_t *info, void *arg), void *arg)
{
	struct sockaddr_storage src[ST_USM_SOURCES];
	const char *users[FOREACH_MAX_USERS];
	st_usm_engine_info_t info = {0};
	tsnap_t t;
	size_t nu = 0, ns;

	ts_read(e, &t);
	memset(src, 0, sizeof(src));
	while (atomic_flag_test_and_set_explicit(&e->src_lock, memory_order_acquire))
		sched_yield();
	/* src_n never exceeds ST_USM_SOURCES; saying so lets the compiler
	 * prove the copy stays inside src[] (gcc -O3 -Warray-bounds) */
	ns = e->src_n < ST_USM_SOURCES ? e->src_n : ST_USM_SOURCES;
	for (size_t i = 0; i < ns; i++)
		memcpy(&src[i], &e->src[i],
		       e->src[i].sa.sa_family == AF_INET ? sizeof(e->src[i].in)
		                                         : sizeof(e->src[i].in6));
	atomic_flag_clear_explicit(&e->src_lock, memory_order_release);
	for (st_usm_knode_t *kn = LOAD(e->keys); kn && nu < FOREACH_MAX_USERS; kn = LOAD(kn->next))
		if (kn->gen == gen)
			users[nu++] = kn->name;
	info.engine_id = e->id;
	info.engine_id_len = e->id_len;
	info.boots = t.learned ? t.boots : -1;
	info.time = t.learned ? t.latest : -1;
	info.last_seen = atomic_load_explicit(&e->last_seen, memory_order_relaxed);
	info.sources = src;
	info.nsources = ns;
	info.users = users;
	info.nusers = nu;
	cb(&info, arg);
}

void st_usm_engines_foreach(st_usm_t *usm, void (*cb)(const st_usm_engine_info_t *info, void *arg),
                            void *arg)
{
	uint64_t gen = atomic_load(&usm->cur_gen);
	for (size_t i = 0; i < usm->cache.nshards; i++) {
		st_usm_shard_t *s = &usm->cache.shard[i];
		/* not a worker: the mutex keeps every entry of the shard alive */
		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < s->nbuckets; b++)
			for (st_usm_engine_t *e = LOAD(s->bucket[b]); e; e = LOAD(e->next))
				walk_engine(e, gen, cb, arg);
		pthread_mutex_unlock(&s->lock);
	}
}

void st_usm_cache_stats(const st_usm_t *usm, st_usm_cache_stats_t *out)
{
	out->engines = atomic_load_explicit(&usm->cache.engines, memory_order_relaxed);
	out->evictions = atomic_load_explicit(&usm->cache.evictions, memory_order_relaxed);
}
