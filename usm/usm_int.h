/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usm_int.h - what the files of usm/ share and nobody else sees.
 *
 *  crypto.c  algorithm tables, the OpenSSL library context (default +
 *            legacy providers, algorithms fetched once), key derivation,
 *            per-thread keyed HMAC/cipher contexts
 *  users.c   the users file parser and the users index
 *  cache.c   the sharded engine cache and deferred reclamation
 *  usm.c     message processing, Reports, Responses, counters
 *  sender.c  the notification originator side
 */
#ifndef ST_USM_INT_H
#define ST_USM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include "st_usm.h"
#include "st_util.h"

/* ------------------------------------------------------------------ */
/* crypto.c                                                           */
/* ------------------------------------------------------------------ */

enum { ST_USM_EXT_NONE = 0, ST_USM_EXT_BLUMENTHAL = 1, ST_USM_EXT_REEDER = 2 };

typedef struct st_usm_auth_info {
	const char *name; /* Net-SNMP spelling */
	const char *md;   /* OpenSSL digest name */
	uint8_t key_len;  /* digest length = Ku/Kul length */
	uint8_t mac_len;  /* truncated HMAC length on the wire */
} st_usm_auth_info_t;

typedef struct st_usm_priv_info {
	const char *name;
	const char *cipher;
	uint8_t key_len; /* cipher key */
	uint8_t need;    /* localized key material: key (+ pre-IV for DES/3DES) */
	uint8_t ext;     /* ST_USM_EXT_* when the Kul is shorter than need */
	uint8_t aes;     /* 1: RFC 3826 IV (boots, time, salt); 0: pre-IV XOR salt */
	uint8_t legacy;  /* 1: needs OpenSSL's legacy provider */
} st_usm_priv_info_t;

extern const st_usm_auth_info_t st_usm_auth_tab[ST_USM_AUTH_COUNT];
extern const st_usm_priv_info_t st_usm_priv_tab[ST_USM_PRIV_COUNT];

typedef struct st_usm_crypto {
	OSSL_LIB_CTX *lib;
	int legacy; /* the legacy provider (DES) loaded */
	EVP_MD *md[ST_USM_AUTH_COUNT];
	EVP_CIPHER *cipher[ST_USM_PRIV_COUNT];
	EVP_CIPHER *ecb[3]; /* AES-128/192/256-ECB: the CFB decryption keystream */
} st_usm_crypto_t;

/** The process-wide library context, created on first use; NULL if
 * OpenSSL could not provide the default algorithms. */
const st_usm_crypto_t *st_usm_crypto(void);

/** Localized keys for one (engine, user): what a message needs. */
typedef struct st_usm_keys {
	uint64_t id; /* unique while the process lives; 0: not cacheable */
	uint8_t auth, priv;
	uint8_t auth_key[ST_USM_KEY_MAX];
	uint8_t priv_key[ST_USM_KEY_MAX];
} st_usm_keys_t;

/** A new unique key id (never 0). */
uint64_t st_usm_key_id(void);

/* Keyed contexts of one thread. HMAC keys are kept as their two hash
 * midstates (RFC 2104: the inner and outer hash after absorbing key^ipad
 * and key^opad), in a small set-associative cache indexed by key id: a
 * message whose keys were used recently costs two struct copies and the
 * hashing of the message, with no allocation and no re-keying; id 0 uses a
 * scratch slot that is always re-keyed. The midstates are the low-level
 * MD5/SHA state structs: OpenSSL 3.0's EVP_MAC re-initialisation copies
 * the digest context through the provider and allocates twice per
 * message. */
#define ST_USM_MAC_SETS  16
#define ST_USM_MAC_WAYS  4
#define ST_USM_HMAC_SETS 16 /* one cache for every auth protocol */

typedef union st_usm_md_state {
	MD5_CTX md5;
	SHA_CTX sha1;
	SHA256_CTX sha256; /* and SHA-224 */
	SHA512_CTX sha512; /* and SHA-384 */
} st_usm_md_state_t;

typedef struct st_usm_macslot {
	uint64_t id; /* key id; 0: empty */
	st_usm_md_state_t inner, outer;
} st_usm_macslot_t;

typedef struct st_usm_ecbslot {
	uint64_t id;
	EVP_CIPHER_CTX *ctx;
} st_usm_ecbslot_t;

typedef struct st_usm_ctxs {
	st_usm_macslot_t mac[ST_USM_HMAC_SETS][ST_USM_MAC_WAYS];
	uint8_t victim[ST_USM_HMAC_SETS];
	st_usm_macslot_t mac_scratch;
	/* AES decryption: keyed ECB contexts, the same kind of cache */
	st_usm_ecbslot_t ecb[3][ST_USM_MAC_SETS][ST_USM_MAC_WAYS];
	uint8_t ecb_victim[3][ST_USM_MAC_SETS];
	EVP_CIPHER_CTX *ecb_scratch[3];
	struct {
		uint64_t id;
		int enc;
		EVP_CIPHER_CTX *ctx;
	} cip[ST_USM_PRIV_COUNT];
} st_usm_ctxs_t;

void st_usm_ctxs_free(st_usm_ctxs_t *c);

/**
 * HMAC over msg[0..len) where the k->auth mac_len octets at off count as
 * zeros (the message itself is not touched). mac receives the full digest.
 */
int st_usm_hmac(st_usm_ctxs_t *c, const st_usm_keys_t *k, const uint8_t *msg, size_t len,
                size_t off, uint8_t mac[ST_USM_KEY_MAX]);

/** 0 when msg carries the right HMAC at off (msg[off..off+mac_len)),
 * ST_ERR_USM_WRONG_DIGEST otherwise. */
int st_usm_hmac_verify(st_usm_ctxs_t *c, const st_usm_keys_t *k, const uint8_t *msg, size_t len,
                       size_t off);

/** Decrypt an encryptedPDU (RFC 3414 8.3.2 / RFC 3826 3.1.4). out needs
 * in_len rounded up to 16 octets (ST_USM_DECRYPT_ROOM(in_len)).
 * @return 0 or ST_ERR_USM_DECRYPTION / ST_ERR_USM_CRYPTO. */
#define ST_USM_DECRYPT_ROOM(n) (((n) + 15) / 16 * 16)
int st_usm_decrypt(st_usm_ctxs_t *c, const st_usm_keys_t *k, uint32_t boots, uint32_t time,
                   const uint8_t salt[8], const uint8_t *in, size_t in_len, uint8_t *out);

/** Encrypt a ScopedPDU (zero-padded to the block for DES/3DES). out needs
 * in_len + 8 octets. @return the ciphertext length or an error. */
int st_usm_encrypt(st_usm_ctxs_t *c, const st_usm_keys_t *k, uint32_t boots, uint32_t time,
                   const uint8_t salt[8], const uint8_t *in, size_t in_len, uint8_t *out,
                   size_t cap);

/** Auth and priv keys localized to engine from master keys (and the
 * privacy key extended). */
int st_usm_keys_localize(st_usm_keys_t *k, const uint8_t *auth_ku, const uint8_t *priv_ku,
                         const uint8_t *engine, size_t engine_len);

/** Hex (optional 0x) to octets. @return the number of octets, or -1. */
int st_usm_hex_decode(const char *hex, uint8_t *out, size_t cap);

/** Random bytes from the library's own context. @return 0 or ST_ERR_USM_CRYPTO. */
int st_usm_random(void *buf, size_t n);

/** Clear secrets in a way the compiler keeps. */
void st_usm_wipe(void *p, size_t n);

/* ------------------------------------------------------------------ */
/* users.c                                                            */
/* ------------------------------------------------------------------ */

/* What a users-file key was given as. */
enum { ST_USM_KEY_PASS = 0, ST_USM_KEY_MASTER = 1, ST_USM_KEY_LOCAL = 2 };

#define ST_USM_NAME_MAX   32
#define ST_USM_ENGINE_MAX 32
/* How many users one message may be tried against (same name, and bound
 * to the message's engine or unbound), each set bounded separately. */
#define ST_USM_MAX_SAME_NAME 16

typedef struct st_usm_user {
	char name[ST_USM_NAME_MAX + 1];
	uint8_t name_len;
	uint8_t level; /* msgFlags auth|priv bits this user requires */
	uint8_t bound; /* 1: engine[] is the only engine it applies to */
	uint8_t engine_len;
	uint8_t engine[ST_USM_ENGINE_MAX];
	int line;
	/* unbound users: master keys, localized per engine */
	uint8_t auth_ku[ST_USM_KEY_MAX];
	uint8_t priv_ku[ST_USM_KEY_MAX];
	/* bound users: the keys, ready (keys.auth/priv set for every user) */
	st_usm_keys_t keys;
} st_usm_user_t;

/* One index bucket: the users sharing a name and a binding. */
typedef struct st_usm_ubucket {
	struct st_usm_ubucket *next;
	uint64_t hash;
	uint8_t bound, engine_len, name_len;
	const uint8_t *engine;
	const char *name;
	uint8_t n;
	const st_usm_user_t *users[ST_USM_MAX_SAME_NAME];
} st_usm_ubucket_t;

struct st_usm_users {
	char *file; /* name for messages */
	size_t n;
	st_usm_user_t *user;
	size_t nbuckets; /* power of two */
	st_usm_ubucket_t **bucket;
	st_usm_ubucket_t *pool;
	uint64_t gen; /* set when handed to an st_usm_t */
};

/** The users named name (bound to engine when bound, else unbound); NULL if none. */
const st_usm_ubucket_t *st_usm_users_find(const st_usm_users_t *users, const uint8_t *name,
                                          size_t name_len, int bound, const uint8_t *engine,
                                          size_t engine_len);

uint64_t st_usm_hash(const void *p, size_t n, uint64_t seed);

/* ------------------------------------------------------------------ */
/* cache.c                                                            */
/* ------------------------------------------------------------------ */

/* Keys of the user that verified for an engine (the "winner"). Immutable
 * once linked; unlinked and retired as a whole.
 *
 * Lists and chains (bucket heads, engine->next, engine->keys, knode->next)
 * are read without a lock by workers (acquire loads) and written under the
 * shard mutex (release stores). An unlinked object keeps its next pointer
 * and is freed only once every worker has been quiescent since, so a
 * reader standing on it can still walk on. */
typedef struct st_usm_knode {
	_Atomic(struct st_usm_knode *) next;
	uint64_t gen;              /* users generation it was learned under */
	const st_usm_user_t *user; /* valid while gen is current */
	uint8_t name_len;
	char name[ST_USM_NAME_MAX + 1];
	st_usm_keys_t keys;
} st_usm_knode_t;

#define ST_USM_SOURCES 4

/* One authoritative engine seen with an authentic message. */
typedef struct st_usm_engine {
	_Atomic(struct st_usm_engine *) next; /* bucket chain */
	uint64_t hash;
	uint8_t id_len;
	uint8_t id[ST_USM_ENGINE_MAX];
	_Atomic(st_usm_knode_t *) keys;
	/* timeliness, a sequence lock: writers take wseq odd, readers retry */
	_Atomic uint32_t tseq;
	_Atomic uint64_t tstate; /* learned<<63 | boots<<32 | latest engineTime */
	_Atomic int64_t tlocal;  /* local unix seconds when latest was received */
	_Atomic int64_t last_seen;
	/* recent sources: fingerprints for a lock-free "seen?" test, the
	 * addresses themselves under a try-lock (skipped when busy) */
	_Atomic uint64_t src_fp[ST_USM_SOURCES];
	atomic_flag src_lock;
	uint8_t src_n, src_next;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} src[ST_USM_SOURCES];
} st_usm_engine_t;

typedef struct st_usm_shard {
	pthread_mutex_t lock; /* writers, and walkers that are not workers */
	size_t nbuckets;      /* power of two, fixed: readers never see a rehash */
	_Atomic(st_usm_engine_t *) *bucket;
	size_t n, cap;
} st_usm_shard_t;

/* Deferred reclamation (quiescent-state based): objects unlinked from a
 * shared structure are freed once every worker has been outside
 * st_usm_process() since. */
typedef struct st_usm_retired {
	void *p;
	void (*free_fn)(void *);
	uint64_t epoch;
} st_usm_retired_t;

typedef struct st_usm_cache {
	size_t nshards;
	st_usm_shard_t *shard;
	uint64_t seed;
	_Atomic uint64_t engines, evictions;
} st_usm_cache_t;

int st_usm_cache_init(st_usm_cache_t *cache, size_t max_engines);
void st_usm_cache_destroy(st_usm_cache_t *cache);

/* Find the engine and the knode for name learned under gen. On return,
 * *eng (may be NULL) and *kn (may be NULL) stay valid until the caller
 * becomes quiescent. */
void st_usm_cache_lookup(st_usm_t *usm, const uint8_t *id, size_t id_len, const uint8_t *name,
                         size_t name_len, uint64_t gen, st_usm_engine_t **eng, st_usm_knode_t **kn);

/* Insert (or replace) the knode for (engine id, name); creates the engine,
 * evicting the least recently seen one of its shard when full. Takes
 * ownership of kn. Returns the engine (valid until quiescent) or NULL on
 * allocation failure (kn freed). */
st_usm_engine_t *st_usm_cache_insert(st_usm_t *usm, const uint8_t *id, size_t id_len,
                                     st_usm_knode_t *kn, int64_t now);

/* Drop every knode not learned under gen (after a reload). */
void st_usm_cache_purge(st_usm_t *usm, uint64_t gen);

/* Timeliness of an authentic message from a sender-authoritative engine.
 * @return 0 or ST_ERR_USM_NOT_IN_TIME_WINDOW. */
int st_usm_engine_timely(st_usm_engine_t *eng, int mode, int64_t boots, int64_t time, int64_t now);

void st_usm_engine_seen(st_usm_engine_t *eng, const struct sockaddr_storage *src, int have_src,
                        int64_t now);

void st_usm_retire(st_usm_t *usm, void *p, void (*free_fn)(void *));
void st_usm_reclaim(st_usm_t *usm);
/* Reclaim unless another thread holds the lock (workers, per message). */
void st_usm_reclaim_try(st_usm_t *usm);

/* ------------------------------------------------------------------ */
/* usm.c                                                              */
/* ------------------------------------------------------------------ */

struct st_usm {
	st_usm_conf_t conf;
	uint8_t engine_id[ST_USM_ENGINE_MAX];
	const st_usm_crypto_t *crypto;
	_Atomic(st_usm_users_t *) users;
	_Atomic uint64_t cur_gen; /* generation of users, for readers outside workers */
	uint64_t next_gen;        /* under reclaim_lock */
	st_usm_cache_t cache;
	/* quiescence */
	_Atomic uint64_t epoch;
	pthread_mutex_t reclaim_lock; /* workers list and retired list */
	struct st_usm_worker **workers;
	size_t nworkers, workers_cap;
	st_usm_retired_t *retired;
	size_t nretired, retired_cap;
	_Atomic size_t pending; /* nretired, readable without the lock */
};

/* The part of a worker the cache needs to see (quiescence). */
struct st_usm_worker_qs {
	_Atomic uint64_t active; /* 0: quiescent; else the epoch it entered at */
};

uint64_t st_usm_worker_active(struct st_usm_worker *w);

/* HMAC verifications this worker ran (tests: is the winner remembered?). */
uint64_t st_usm_worker_hmacs(const st_usm_worker_t *w);

#endif /* ST_USM_INT_H */
