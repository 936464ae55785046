/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_usm.h - the SNMPv3 User-based Security Model (RFC 3414, 3826, 7860).
 *
 * This library authenticates and decrypts incoming SNMPv3 notifications,
 * answers discovery and time-window problems with Report PDUs, encodes the
 * Response to an InformRequest, and gives a notification originator (the
 * load generator) what it needs to build v3 messages as a sender.
 *
 * Objects and threads:
 *  - st_usm_users_t: one parsed users file (snmptrapd.conf createUser
 *    syntax). Immutable once parsed; handed over to an st_usm_t.
 *  - st_usm_t: shared by every worker thread. Holds the current users and
 *    the engine cache (sharded, read-mostly). st_usm_set_users() may be
 *    called from any one control thread while workers run.
 *  - st_usm_worker_t: owned by exactly one worker thread. Holds the keyed
 *    OpenSSL contexts, the plaintext buffer and the counters. Every call
 *    taking a worker must come from its owning thread, except
 *    st_usm_worker_stats(), which may be called from any thread.
 *
 * A worker is "quiescent" between two calls of st_usm_process(); memory
 * that a reload or an eviction retires is freed once every worker has been
 * quiescent since (see docs/USM.md). A worker that stops calling
 * st_usm_process() never delays that: it is quiescent.
 *
 * Errors: 0 / negative, -errno or ST_ERR_* from codec/st_codec.h.
 */
#ifndef ST_USM_H
#define ST_USM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "st_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct st_usm st_usm_t;               /* shared: users + engine cache */
typedef struct st_usm_users st_usm_users_t;   /* one parsed users file, immutable */
typedef struct st_usm_worker st_usm_worker_t; /* per worker thread: contexts, buffers, counters */

/* Authentication protocols (HMAC truncated to 12/12/16/24/32/48 octets). */
enum {
	ST_USM_AUTH_NONE = 0,
	ST_USM_AUTH_MD5 = 1,
	ST_USM_AUTH_SHA1 = 2,
	ST_USM_AUTH_SHA224 = 3,
	ST_USM_AUTH_SHA256 = 4,
	ST_USM_AUTH_SHA384 = 5,
	ST_USM_AUTH_SHA512 = 6,
	ST_USM_AUTH_COUNT
};

/* Privacy protocols. AES192/AES256 extend short keys as Net-SNMP's
 * "AES-192"/"AES-256" do (draft-blumenthal-aes-usm-04 3.1.2.1); AES192C/
 * AES256C as Net-SNMP's "AES-192-C"/"AES-256-C" and Cisco do
 * (draft-reeder-snmpv3-usm-3desede-00 2.1), which is also 3DES's rule. */
enum {
	ST_USM_PRIV_NONE = 0,
	ST_USM_PRIV_DES = 1,
	ST_USM_PRIV_3DES = 2,
	ST_USM_PRIV_AES128 = 3,
	ST_USM_PRIV_AES192 = 4,
	ST_USM_PRIV_AES256 = 5,
	ST_USM_PRIV_AES192C = 6,
	ST_USM_PRIV_AES256C = 7,
	ST_USM_PRIV_COUNT
};

/** Longest key of any algorithm (SHA-512 Ku/Kul), in octets. */
#define ST_USM_KEY_MAX 64
/** Largest datagram the library processes or produces. */
#define ST_USM_MSG_MAX 65535

enum { ST_USM_TIMELINESS_LEARN = 0, ST_USM_TIMELINESS_STRICT = 1, ST_USM_TIMELINESS_OFF = 2 };

/** The default engine cache bound when st_usm_conf_t.max_engines is 0. */
#define ST_USM_DEFAULT_MAX_ENGINES 200000 /* = the collector's usm.max_engines */

typedef struct st_usm_conf {
	const uint8_t *engine_id;
	size_t engine_id_len; /* ours, for informs (5..32 octets); NULL/0: no informs */
	int32_t engine_boots; /* ours (0 .. 2^31-1) */
	int64_t engine_epoch; /* unix seconds; engineTime = now - epoch */
	int timeliness;       /* ST_USM_TIMELINESS_* */
	size_t max_engines;   /* cache bound; 0 = ST_USM_DEFAULT_MAX_ENGINES */
} st_usm_conf_t;

/* ------------------------------------------------------------------ */
/* Users                                                              */
/* ------------------------------------------------------------------ */

/**
 * @brief Parse a users file (snmptrapd.conf createUser syntax; the other
 * snmptrapd.conf directives are skipped; an unknown one, or an include, is
 * an error). Passphrases are hashed here (about 1 MiB of hashing per
 * distinct passphrase and algorithm).
 * @param path    file to read
 * @param out     receives the users (caller owns; st_usm_users_free())
 * @param err     receives "FILE:LINE: what is wrong" on failure
 * @return 0, -errno (unreadable file) or ST_ERR_CONFIG.
 */
int st_usm_users_load(const char *path, st_usm_users_t **out, char *err, size_t errlen);

/**
 * @brief Parse users from a string (tests); name is used in error messages.
 * @return 0 or ST_ERR_CONFIG / -ENOMEM.
 */
int st_usm_users_parse(const char *text, const char *name, st_usm_users_t **out, char *err,
                       size_t errlen);

/** @brief Number of createUser lines accepted. */
size_t st_usm_users_count(const st_usm_users_t *users);

/** @brief Free users that were not handed to an st_usm_t (NULL is fine). */
void st_usm_users_free(st_usm_users_t *users);

/**
 * @brief Check that this process can serve every user: fails when a user
 * needs DES and OpenSSL's legacy provider could not be loaded. st_usm_new()
 * runs it; call it before st_usm_set_users() on reload.
 * @param err  receives "FILE:LINE: user 'NAME' needs DES, ..." on failure
 * @return 0 or ST_ERR_CONFIG.
 */
int st_usm_users_check(const st_usm_users_t *users, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* The shared security engine                                         */
/* ------------------------------------------------------------------ */

/**
 * @brief Create the security engine.
 * @param conf   our engine (for informs), timeliness mode, cache bound
 * @param users  taken over (also on failure); NULL = no users
 * @param out    receives the engine
 * @param err    receives a message naming the problem (bad engine ID,
 *               a user needing an algorithm that cannot be loaded, ...)
 * @return 0, ST_ERR_CONFIG, ST_ERR_USM_CRYPTO or -ENOMEM.
 */
int st_usm_new(const st_usm_conf_t *conf, st_usm_users_t *users, st_usm_t **out, char *err,
               size_t errlen);

/** @brief Free the engine and its users (NULL is fine). All its workers
 * must be freed first. */
void st_usm_free(st_usm_t *usm);

/**
 * @brief Reload: swap in new users atomically (takes ownership; NULL = no
 * users). The old users are freed once no worker can still use them.
 * Cached (engine, user) keys learned from the old users are dropped and
 * re-learned on next sight; engines' boots/time are kept.
 */
void st_usm_set_users(st_usm_t *usm, st_usm_users_t *users);

/**
 * @brief A worker's state (about 200 KiB): buffers, keyed OpenSSL contexts,
 * counters. Registers it with usm (any thread may call this).
 * @return the worker, or NULL on allocation failure.
 */
st_usm_worker_t *st_usm_worker_new(st_usm_t *usm);

/** @brief Unregister and free a worker (NULL is fine); its counters go with it. */
void st_usm_worker_free(st_usm_worker_t *w);

/**
 * @brief Tell the engine cache which address the next message came from
 * (kept as one of the engine's recent sources). Call before
 * st_usm_process(); it applies to that one call.
 */
void st_usm_note_source(st_usm_worker_t *w, const struct sockaddr *src);

/**
 * @brief Security processing of an incoming v3 message that
 * st_snmp_decode() accepted (msg borrows dgram).
 *
 * On success (0): msg->have_pdu is 1 (decrypted into the worker's buffer,
 * valid until the next call on this worker), and the caller may emit/ack
 * it. The message was at its user's configured security level and, if
 * authenticated, in time.
 * On failure: an ST_ERR_USM_* code (or ST_ERR_USM_PARAMS for a message
 * that is not v3); if a Report must be sent back to the source, it is
 * written to report[0..*report_len) (else *report_len = 0).
 * @param now         CLOCK_REALTIME
 * @param report      NULL/0 capacity: never write a Report
 */
int st_usm_process(st_usm_worker_t *w, const uint8_t *dgram, size_t len, st_msg_t *msg,
                   const struct timespec *now, uint8_t *report, size_t report_cap,
                   size_t *report_len);

/**
 * @brief The Response to a v3 inform that st_usm_process() accepted (the
 * last message processed on this worker), at its security level, from our
 * engine ID, boots and time, with a fresh salt.
 * @return the length written at out, or a negative error (ST_ERR_USM_PARAMS
 *         when inform is not the last inform this worker accepted).
 */
int st_usm_encode_response(st_usm_worker_t *w, const st_msg_t *inform, const struct timespec *now,
                           uint8_t *out, size_t cap);

/* Counters (per worker; the collector sums them at scrape time).
 * unknown_engine_ids counts refusals (an inform to another engine, a
 * message naming no engine and not reportable); discovery_probes counts
 * reportable messages that name no engine (RFC 3414 4), which are normal
 * traffic from inform senders and are not refusals. Both Reports carry
 * usmStatsUnknownEngineIDs (their sum). reports_sent counts the Reports
 * written; whether the caller sends them is its business. */
typedef struct st_usm_stats {
	uint64_t unsupported_sec_levels, not_in_time_windows, unknown_user_names,
	        unknown_engine_ids, wrong_digests, decryption_errors, params_errors, reports_sent,
	        discovery_probes;
} st_usm_stats_t;

/** @brief Read a worker's counters (any thread). */
void st_usm_worker_stats(const st_usm_worker_t *w, st_usm_stats_t *out);

/* Cache-wide figures. */
typedef struct st_usm_cache_stats {
	uint64_t engines, evictions;
} st_usm_cache_stats_t;

/** @brief Engines in the cache now, and evictions so far (any thread). */
void st_usm_cache_stats(const st_usm_t *usm, st_usm_cache_stats_t *out);

/* Walk the engines in the cache (for an /engines JSON endpoint), under the shard locks. */
typedef struct st_usm_engine_info {
	const uint8_t *engine_id;
	size_t engine_id_len;
	int64_t boots, time; /* last received engineBoots/engineTime; -1: not learned */
	int64_t last_seen;   /* unix seconds */
	const struct sockaddr_storage *sources;
	size_t nsources;
	const char *const *users;
	size_t nusers;
} st_usm_engine_info_t;

/**
 * @brief Call cb once per cached engine. Everything in info is valid only
 * during the callback. cb must not call back into this st_usm_t.
 */
void st_usm_engines_foreach(st_usm_t *usm, void (*cb)(const st_usm_engine_info_t *info, void *arg),
                            void *arg);

/** @brief Security level name from msg_flags: "noAuthNoPriv" | "authNoPriv" | "authPriv". */
const char *st_usm_level_name(uint8_t msg_flags);

/* ------------------------------------------------------------------ */
/* Algorithms and keys                                                */
/* ------------------------------------------------------------------ */

/**
 * @brief ST_USM_AUTH_* / ST_USM_PRIV_* from a Net-SNMP name ("SHA-256",
 * "AES-192-C"; case-insensitive; "SHA1", "AES128", "3DESEDE" also accepted).
 * @return the protocol, or -1.
 */
int st_usm_auth_from_name(const char *name);
int st_usm_priv_from_name(const char *name);

/** @brief Net-SNMP name of a protocol ("SHA", "AES-256-C"); "?" if unknown. */
const char *st_usm_auth_name(int auth_proto);
const char *st_usm_priv_name(int priv_proto);
/** @brief msgAuthenticationParameters length (12..48), 0 for NONE. */
size_t st_usm_auth_mac_len(int auth_proto);
/** @brief Key length of the auth protocol = its digest length (16..64). */
size_t st_usm_auth_key_len(int auth_proto);
/** @brief Localized key material a priv protocol needs (key + pre-IV for
 * DES/3DES): DES 16, 3DES 32, AES 16/24/32. */
size_t st_usm_priv_key_len(int priv_proto);

/**
 * @brief RFC 3414 A.2 password-to-key (RFC 7860 for SHA-2): hash 1 MiB of
 * the repeated passphrase.
 * @param ku      receives Ku
 * @param ku_len  in: capacity of ku; out: the digest length
 * @return 0, -EINVAL (empty passphrase, no auth protocol, short buffer) or
 *         ST_ERR_USM_CRYPTO.
 */
int st_usm_password_to_key(int auth_proto, const char *pass, size_t pass_len, uint8_t *ku,
                           size_t *ku_len);

/**
 * @brief RFC 3414 2.6 key localization: Kul = H(Ku || engineID || Ku).
 * @param kul_len in: capacity of kul; out: the digest length
 */
int st_usm_localize(int auth_proto, const uint8_t *ku, size_t ku_len, const uint8_t *engine,
                    size_t engine_len, uint8_t *kul, size_t *kul_len);

/**
 * @brief Extend a localized privacy key to what priv_proto needs
 * (Blumenthal for AES192/AES256, Reeder for 3DES/AES192C/AES256C; other
 * protocols and long enough keys are copied). out needs
 * st_usm_priv_key_len() octets and may equal kul.
 * @param out_len out: octets written (st_usm_priv_key_len())
 */
int st_usm_extend_key(int auth_proto, int priv_proto, const uint8_t *kul, size_t kul_len,
                      const uint8_t *engine, size_t engine_len, uint8_t *out, size_t *out_len);

/* usmStats counters a Report may carry (1.3.6.1.6.3.15.1.1.N.0). */
enum {
	ST_USM_STAT_UNSUPPORTED_SEC_LEVELS = 1,
	ST_USM_STAT_NOT_IN_TIME_WINDOWS = 2,
	ST_USM_STAT_UNKNOWN_USER_NAMES = 3,
	ST_USM_STAT_UNKNOWN_ENGINE_IDS = 4,
	ST_USM_STAT_WRONG_DIGESTS = 5,
	ST_USM_STAT_DECRYPTION_ERRORS = 6,
};

/**
 * @brief Which usmStats counter a Report PDU carries (its first varbind).
 * @return ST_USM_STAT_*, or 0 when it is not a USM Report.
 */
int st_usm_report_stat(const st_pdu_t *pdu);

/* ------------------------------------------------------------------ */
/* Sender side (notification originator, e.g. stormtrap-bench)        */
/* ------------------------------------------------------------------ */

/*
 * A sender builds v3 messages for one user toward one authoritative
 * engine. For traps the sender itself is authoritative: give it its own
 * engine ID, boots and time. For informs the receiver is: give no engine
 * ID, send st_usm_sender_encode_probe(), and feed the Report to
 * st_usm_sender_process(), which learns the receiver's engine ID, boots
 * and time (then resend); a notInTimeWindows Report is handled the same.
 * A sender is used by one thread at a time.
 */
typedef struct st_usm_sender st_usm_sender_t;

typedef struct st_usm_sender_conf {
	const char *user;         /* 1..32 octets */
	int auth;                 /* ST_USM_AUTH_* */
	const char *auth_pass;    /* >= 8 characters unless auth is NONE */
	int priv;                 /* ST_USM_PRIV_*; needs auth */
	const char *priv_pass;    /* NULL: the auth passphrase */
	const uint8_t *engine_id; /* authoritative engine; NULL: discover */
	size_t engine_id_len;
	int32_t engine_boots;
	int32_t engine_time; /* engineTime at the time given to new() */
} st_usm_sender_conf_t;

/**
 * @brief Create a sender (hashes the passphrases: about 1 MiB each).
 * @return 0, -EINVAL (with err filled) or -ENOMEM / ST_ERR_USM_CRYPTO.
 */
int st_usm_sender_new(const st_usm_sender_conf_t *conf, const struct timespec *now,
                      st_usm_sender_t **out, char *err, size_t errlen);

/** @brief A copy of a sender (no passphrase hashing), e.g. to play another
 * engine; NULL on allocation failure. */
st_usm_sender_t *st_usm_sender_clone(const st_usm_sender_t *s);

/** @brief Free a sender (NULL is fine); its keys are wiped. */
void st_usm_sender_free(st_usm_sender_t *s);

/**
 * @brief Point the sender at another authoritative engine: localizes the
 * keys to it and sets its boots and its time as of now.
 * @return 0, -EINVAL (engine ID not 1..32 octets, negative boots/time) or
 *         a key derivation error.
 */
int st_usm_sender_set_engine(st_usm_sender_t *s, const uint8_t *engine_id, size_t engine_id_len,
                             int32_t boots, int32_t time, const struct timespec *now);

/**
 * @brief Build a whole v3 message at the sender's security level around a
 * plaintext ScopedPDU (e.g. from st_snmp_encode_scoped()): encrypt,
 * encode (st_snmp_encode_v3()) and authenticate.
 * @param reportable  1 for informs (msgFlags reportableFlag)
 * @return the length written at out, or a negative error
 *         (ST_ERR_USM_UNKNOWN_ENGINE_ID before the engine is known).
 */
int st_usm_sender_encode(st_usm_sender_t *s, int32_t msg_id, int reportable, const uint8_t *scoped,
                         size_t scoped_len, const struct timespec *now, uint8_t *out, size_t cap);

/**
 * @brief Build a discovery probe (RFC 3414 4): noAuthNoPriv, reportable,
 * empty engine ID and user name, an empty GetRequest-PDU.
 * @return the length written at out, or a negative error.
 */
int st_usm_sender_encode_probe(st_usm_sender_t *s, int32_t msg_id, int32_t request_id, uint8_t *out,
                               size_t cap);

/**
 * @brief Process a message coming back (Report or Response) that
 * st_snmp_decode() accepted: authenticate and decrypt it with the sender's
 * keys when it is authenticated (decrypted into the sender's buffer, valid
 * until the next call). A usmStatsUnknownEngineIDs Report teaches the
 * sender the engine ID, boots and time (unauthenticated, as RFC 3414 4
 * discovery must); an authentic usmStatsNotInTimeWindows Report teaches
 * boots and time. Resend after either.
 * @return 0 (msg->pdu holds the PDU; see st_usm_report_stat()) or an
 *         ST_ERR_USM_* code.
 */
int st_usm_sender_process(st_usm_sender_t *s, const uint8_t *dgram, size_t len, st_msg_t *msg,
                          const struct timespec *now);

/** @brief The engine the sender currently addresses (len 0 if unknown). */
const uint8_t *st_usm_sender_engine(const st_usm_sender_t *s, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* ST_USM_H */
