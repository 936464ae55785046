/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.c - algorithms, keys and keyed OpenSSL contexts for USM.
 *
 * The library keeps its own OpenSSL library context with the "default" and
 * "legacy" providers loaded explicitly: OpenSSL 3 moved single DES into the
 * legacy provider, and a private context neither depends on nor changes the
 * process-wide openssl.cnf (librdkafka shares the default context). When
 * the legacy provider cannot be loaded, everything but DES keeps working;
 * st_usm_users_check() tells which user needs it.
 *
 * Every digest and every cipher are fetched once, here. Per message
 * nothing is fetched and no context is created: each thread owns an
 * st_usm_ctxs_t in which HMAC keys stay prepared, indexed by the id of the
 * keys (a small set-associative cache). An HMAC key is kept as two hash
 * midstates, the inner and the outer hash with their key block already
 * absorbed (RFC 2104), in OpenSSL's low-level MD5/SHA state structs: a
 * message then costs two struct copies and the hashing of the message and
 * of the inner digest, where EVP_MAC re-initialisation (OpenSSL 3.0) also
 * duplicated the provider's digest context and allocated twice, about a
 * quarter more per HMAC. Those functions are deprecated in OpenSSL 3.0 for
 * applications (provider-independence); they remain the same code as the
 * default provider's, and this file alone uses them. AES decryption (the
 * hot path) needs no per-message initialisation at all: CFB-128 decryption
 * only ever feeds the IV and ciphertext blocks to the block cipher, so the
 * keystream is one pass of a keyed AES-ECB context (cached like the HMAC
 * contexts) followed by an XOR. Encryption (Responses, the sender) and
 * DES/3DES use one cipher context per protocol, re-initialised with key
 * and IV.
 *
 * The HMAC of a message is taken over the datagram with the
 * authentication parameters counted as zeros, fed in three pieces (before,
 * zeros, after), so the received datagram is never copied or modified.
 *
 * Key derivation follows RFC 3414 A.2 (password to key) and 2.6
 * (localization), RFC 7860 for SHA-2, and for privacy keys longer than the
 * digest either draft-blumenthal-aes-usm-04 3.1.2.1 (append H(key) until
 * long enough) or draft-reeder-snmpv3-usm-3desede-00 2.1 (append the
 * localization of password-to-key(key)), as Net-SNMP and pysnmp do.
 */
/* MD5_Init and SHA*_Init for the HMAC midstates (see above) */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "st_util.h"
#include "usm_int.h"

const st_usm_auth_info_t st_usm_auth_tab[ST_USM_AUTH_COUNT] = {
        [ST_USM_AUTH_NONE] = {"none", NULL, 0, 0},
        [ST_USM_AUTH_MD5] = {"MD5", "MD5", 16, 12},
        [ST_USM_AUTH_SHA1] = {"SHA", "SHA1", 20, 12},
        [ST_USM_AUTH_SHA224] = {"SHA-224", "SHA2-224", 28, 16},
        [ST_USM_AUTH_SHA256] = {"SHA-256", "SHA2-256", 32, 24},
        [ST_USM_AUTH_SHA384] = {"SHA-384", "SHA2-384", 48, 32},
        [ST_USM_AUTH_SHA512] = {"SHA-512", "SHA2-512", 64, 48},
};

const st_usm_priv_info_t st_usm_priv_tab[ST_USM_PRIV_COUNT] = {
        [ST_USM_PRIV_NONE] = {"none", NULL, 0, 0, ST_USM_EXT_NONE, 0, 0},
        [ST_USM_PRIV_DES] = {"DES", "DES-CBC", 8, 16, ST_USM_EXT_NONE, 0, 1},
        [ST_USM_PRIV_3DES] = {"3DES", "DES-EDE3-CBC", 24, 32, ST_USM_EXT_REEDER, 0, 0},
        [ST_USM_PRIV_AES128] = {"AES", "AES-128-CFB", 16, 16, ST_USM_EXT_NONE, 1, 0},
        [ST_USM_PRIV_AES192] = {"AES-192", "AES-192-CFB", 24, 24, ST_USM_EXT_BLUMENTHAL, 1, 0},
        [ST_USM_PRIV_AES256] = {"AES-256", "AES-256-CFB", 32, 32, ST_USM_EXT_BLUMENTHAL, 1, 0},
        [ST_USM_PRIV_AES192C] = {"AES-192-C", "AES-192-CFB", 24, 24, ST_USM_EXT_REEDER, 1, 0},
        [ST_USM_PRIV_AES256C] = {"AES-256-C", "AES-256-CFB", 32, 32, ST_USM_EXT_REEDER, 1, 0},
};

/* ------------------------------------------------------------------ */
/* names                                                              */
/* ------------------------------------------------------------------ */

/* Upper-case name without '-' and '_', so "sha-256", "SHA256" compare equal. */
static int norm_name(const char *name, char *out, size_t cap)
{
	size_t n = 0;
	for (; *name; name++) {
		char ch = *name;
		if (ch == '-' || ch == '_')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (n + 1 >= cap)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

int st_usm_auth_from_name(const char *name)
{
	static const struct {
		const char *n;
		int p;
	} tab[] = {
	        {"MD5", ST_USM_AUTH_MD5},       {"SHA", ST_USM_AUTH_SHA1},
	        {"SHA1", ST_USM_AUTH_SHA1},     {"SHA224", ST_USM_AUTH_SHA224},
	        {"SHA256", ST_USM_AUTH_SHA256}, {"SHA384", ST_USM_AUTH_SHA384},
	        {"SHA512", ST_USM_AUTH_SHA512},
	};
	char n[16];
	if (!name || norm_name(name, n, sizeof(n)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(n, tab[i].n) == 0)
			return tab[i].p;
	return -1;
}

int st_usm_priv_from_name(const char *name)
{
	static const struct {
		const char *n;
		int p;
	} tab[] = {
	        {"DES", ST_USM_PRIV_DES},         {"3DES", ST_USM_PRIV_3DES},
	        {"3DESEDE", ST_USM_PRIV_3DES},    {"AES", ST_USM_PRIV_AES128},
	        {"AES128", ST_USM_PRIV_AES128},   {"AES192", ST_USM_PRIV_AES192},
	        {"AES256", ST_USM_PRIV_AES256},   {"AES192C", ST_USM_PRIV_AES192C},
	        {"AES256C", ST_USM_PRIV_AES256C},
	};
	char n[16];
	if (!name || norm_name(name, n, sizeof(n)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(n, tab[i].n) == 0)
			return tab[i].p;
	return -1;
}

const char *st_usm_auth_name(int auth_proto)
{
	if (auth_proto < 0 || auth_proto >= ST_USM_AUTH_COUNT)
		return "?";
	return st_usm_auth_tab[auth_proto].name;
}

const char *st_usm_priv_name(int priv_proto)
{
	if (priv_proto < 0 || priv_proto >= ST_USM_PRIV_COUNT)
		return "?";
	return st_usm_priv_tab[priv_proto].name;
}

size_t st_usm_auth_mac_len(int auth_proto)
{
	if (auth_proto < 0 || auth_proto >= ST_USM_AUTH_COUNT)
		return 0;
	return st_usm_auth_tab[auth_proto].mac_len;
}

size_t st_usm_auth_key_len(int auth_proto)
{
	if (auth_proto < 0 || auth_proto >= ST_USM_AUTH_COUNT)
		return 0;
	return st_usm_auth_tab[auth_proto].key_len;
}

size_t st_usm_priv_key_len(int priv_proto)
{
	if (priv_proto < 0 || priv_proto >= ST_USM_PRIV_COUNT)
		return 0;
	return st_usm_priv_tab[priv_proto].need;
}

const char *st_usm_level_name(uint8_t msg_flags)
{
	if ((msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV)) ==
	    (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV))
		return "authPriv";
	if (msg_flags & ST_MSGFLAG_AUTH)
		return "authNoPriv";
	return "noAuthNoPriv";
}

/* ------------------------------------------------------------------ */
/* small utilities                                                    */
/* ------------------------------------------------------------------ */

void st_usm_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t st_usm_hash(const void *p, size_t n, uint64_t seed)
{
	/* Eight octets at a time with a murmur3 finalizer: engine IDs and user
	 * names are short, and the low bits must be well mixed. */
	const uint8_t *s = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = fmix64(h ^ v);
	}
	if (n) {
		uint64_t v = 0;
		memcpy(&v, s, n);
		h = fmix64(h ^ v ^ ((uint64_t)n << 56));
	}
	return fmix64(h);
}

/* st_hex_decode, with this library's contract: 1..cap octets or -1 */
int st_usm_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	int n = st_hex_decode(hex, out, cap);

	return n > 0 ? n : -1;
}

int st_usm_random(void *buf, size_t n)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	return cr && RAND_bytes_ex(cr->lib, buf, n, 0) == 1 ? 0 : ST_ERR_USM_CRYPTO;
}

static _Atomic uint64_t key_ids = 1;

uint64_t st_usm_key_id(void)
{
	return atomic_fetch_add_explicit(&key_ids, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* the library context                                                */
/* ------------------------------------------------------------------ */

static st_usm_crypto_t g_crypto;
static const st_usm_crypto_t *g_crypto_ok;
static pthread_once_t g_crypto_once = PTHREAD_ONCE_INIT;

static void crypto_init(void)
{
	st_usm_crypto_t *cr = &g_crypto;

	cr->lib = OSSL_LIB_CTX_new();
	if (!cr->lib)
		goto fail;
	if (!OSSL_PROVIDER_load(cr->lib, "default"))
		goto fail;
	/* Optional: only DES needs it. */
	cr->legacy = OSSL_PROVIDER_load(cr->lib, "legacy") != NULL;
	for (int a = 1; a < ST_USM_AUTH_COUNT; a++) {
		cr->md[a] = EVP_MD_fetch(cr->lib, st_usm_auth_tab[a].md, NULL);
		if (!cr->md[a])
			goto fail;
	}
	for (int p = 1; p < ST_USM_PRIV_COUNT; p++) {
		if (st_usm_priv_tab[p].legacy && !cr->legacy)
			continue;
		cr->cipher[p] = EVP_CIPHER_fetch(cr->lib, st_usm_priv_tab[p].cipher, NULL);
		if (!cr->cipher[p]) {
			if (st_usm_priv_tab[p].legacy) {
				cr->legacy = 0;
				continue;
			}
			goto fail;
		}
	}
	static const char *ecb[3] = {"AES-128-ECB", "AES-192-ECB", "AES-256-ECB"};
	for (int i = 0; i < 3; i++)
		if (!(cr->ecb[i] = EVP_CIPHER_fetch(cr->lib, ecb[i], NULL)))
			goto fail;
	ERR_clear_error();
	g_crypto_ok = cr;
	return;
fail:
	/* Leave g_crypto_ok NULL: every caller reports ST_ERR_USM_CRYPTO. */
	ERR_clear_error();
}

const st_usm_crypto_t *st_usm_crypto(void)
{
	pthread_once(&g_crypto_once, crypto_init);
	return g_crypto_ok;
}

/* ------------------------------------------------------------------ */
/* key derivation                                                     */
/* ------------------------------------------------------------------ */

#define P2K_TOTAL (1024 * 1024) /* RFC 3414 A.2: one megabyte */
#define P2K_CHUNK 4096

int st_usm_password_to_key(int auth_proto, const char *pass, size_t pass_len, uint8_t *ku,
                           size_t *ku_len)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	unsigned int outl = 0;
	int rc = ST_ERR_USM_CRYPTO;

	if (!cr)
		return ST_ERR_USM_CRYPTO;
	if (auth_proto <= ST_USM_AUTH_NONE || auth_proto >= ST_USM_AUTH_COUNT || !pass ||
	    pass_len == 0 || !ku || !ku_len || *ku_len < st_usm_auth_tab[auth_proto].key_len)
		return -EINVAL;
	if (pass_len > P2K_TOTAL)
		pass_len = P2K_TOTAL; /* only the first megabyte is ever hashed */

	/* The passphrase repeated so that any window [off, off + CHUNK) with
	 * off < pass_len continues the repetition: the stream at position
	 * done is buf[done % pass_len ...]. */
	buf = malloc(pass_len + P2K_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < pass_len + P2K_CHUNK; i++)
		buf[i] = (uint8_t)pass[i % pass_len];

	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex2(ctx, cr->md[auth_proto], NULL))
		goto out;
	for (size_t done = 0; done < P2K_TOTAL;) {
		size_t n = P2K_TOTAL - done < P2K_CHUNK ? P2K_TOTAL - done : P2K_CHUNK;
		if (!EVP_DigestUpdate(ctx, buf + done % pass_len, n))
			goto out;
		done += n;
	}
	if (!EVP_DigestFinal_ex(ctx, ku, &outl))
		goto out;
	*ku_len = outl;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	st_usm_wipe(buf, pass_len + P2K_CHUNK);
	free(buf);
	ERR_clear_error();
	return rc;
}

int st_usm_localize(int auth_proto, const uint8_t *ku, size_t ku_len, const uint8_t *engine,
                    size_t engine_len, uint8_t *kul, size_t *kul_len)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	uint8_t buf[2 * ST_USM_KEY_MAX + ST_USM_ENGINE_MAX];
	unsigned int outl = 0;

	if (!cr)
		return ST_ERR_USM_CRYPTO;
	if (auth_proto <= ST_USM_AUTH_NONE || auth_proto >= ST_USM_AUTH_COUNT || !ku ||
	    ku_len == 0 || ku_len > ST_USM_KEY_MAX || engine_len > ST_USM_ENGINE_MAX ||
	    (!engine && engine_len) || !kul || !kul_len ||
	    *kul_len < st_usm_auth_tab[auth_proto].key_len)
		return -EINVAL;
	memcpy(buf, ku, ku_len);
	if (engine_len)
		memcpy(buf + ku_len, engine, engine_len);
	memcpy(buf + ku_len + engine_len, ku, ku_len);
	int ok = EVP_Digest(buf, 2 * ku_len + engine_len, kul, &outl, cr->md[auth_proto], NULL);
	st_usm_wipe(buf, sizeof(buf));
	if (!ok) {
		ERR_clear_error();
		return ST_ERR_USM_CRYPTO;
	}
	*kul_len = outl;
	return 0;
}

int st_usm_extend_key(int auth_proto, int priv_proto, const uint8_t *kul, size_t kul_len,
                      const uint8_t *engine, size_t engine_len, uint8_t *out, size_t *out_len)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	uint8_t key[2 * ST_USM_KEY_MAX];
	size_t have, need;
	int rc = 0;

	if (!cr)
		return ST_ERR_USM_CRYPTO;
	if (auth_proto <= ST_USM_AUTH_NONE || auth_proto >= ST_USM_AUTH_COUNT ||
	    priv_proto <= ST_USM_PRIV_NONE || priv_proto >= ST_USM_PRIV_COUNT || !kul ||
	    kul_len == 0 || kul_len > ST_USM_KEY_MAX || !out)
		return -EINVAL;
	need = st_usm_priv_tab[priv_proto].need;
	have = kul_len;
	memcpy(key, kul, kul_len);
	while (have < need) {
		uint8_t next[ST_USM_KEY_MAX];
		size_t next_len = sizeof(next);
		if (st_usm_priv_tab[priv_proto].ext == ST_USM_EXT_BLUMENTHAL) {
			/* Kul = Kul || H(Kul) */
			unsigned int l = 0;
			if (!EVP_Digest(key, have, next, &l, cr->md[auth_proto], NULL)) {
				ERR_clear_error();
				rc = ST_ERR_USM_CRYPTO;
				break;
			}
			next_len = l;
		} else if (st_usm_priv_tab[priv_proto].ext == ST_USM_EXT_REEDER) {
			/* Kul = Kul || localize(password_to_key(Kul)) */
			uint8_t ku[ST_USM_KEY_MAX];
			size_t ku_len = sizeof(ku);
			rc = st_usm_password_to_key(auth_proto, (const char *)key, have, ku,
			                            &ku_len);
			if (rc == 0)
				rc = st_usm_localize(auth_proto, ku, ku_len, engine, engine_len,
				                     next, &next_len);
			st_usm_wipe(ku, sizeof(ku));
			if (rc < 0)
				break;
		} else {
			rc = -EINVAL; /* a protocol that does not extend */
			break;
		}
		size_t n = need - have < next_len ? need - have : next_len;
		memcpy(key + have, next, n);
		have += n;
		st_usm_wipe(next, sizeof(next));
	}
	if (rc == 0) {
		memmove(out, key, need);
		if (out_len)
			*out_len = need;
	}
	st_usm_wipe(key, sizeof(key));
	return rc;
}

int st_usm_keys_localize(st_usm_keys_t *k, const uint8_t *auth_ku, const uint8_t *priv_ku,
                         const uint8_t *engine, size_t engine_len)
{
	size_t kl = st_usm_auth_tab[k->auth].key_len;
	size_t len = ST_USM_KEY_MAX;
	int rc;

	if (k->auth == ST_USM_AUTH_NONE)
		return 0;
	rc = st_usm_localize(k->auth, auth_ku, kl, engine, engine_len, k->auth_key, &len);
	if (rc < 0 || k->priv == ST_USM_PRIV_NONE)
		return rc;
	uint8_t kul[ST_USM_KEY_MAX];
	len = sizeof(kul);
	rc = st_usm_localize(k->auth, priv_ku, kl, engine, engine_len, kul, &len);
	if (rc == 0)
		rc = st_usm_extend_key(k->auth, k->priv, kul, len, engine, engine_len, k->priv_key,
		                       NULL);
	st_usm_wipe(kul, sizeof(kul));
	return rc;
}

/* ------------------------------------------------------------------ */
/* keyed contexts                                                     */
/* ------------------------------------------------------------------ */

/* the hash of an auth protocol over the low-level state structs */
static void md_init(int auth, st_usm_md_state_t *h)
{
	switch (auth) {
	case ST_USM_AUTH_MD5:
		MD5_Init(&h->md5);
		break;
	case ST_USM_AUTH_SHA1:
		SHA1_Init(&h->sha1);
		break;
	case ST_USM_AUTH_SHA224:
		SHA224_Init(&h->sha256);
		break;
	case ST_USM_AUTH_SHA256:
		SHA256_Init(&h->sha256);
		break;
	case ST_USM_AUTH_SHA384:
		SHA384_Init(&h->sha512);
		break;
	default:
		SHA512_Init(&h->sha512);
		break;
	}
}

static void md_update(int auth, st_usm_md_state_t *h, const void *p, size_t n)
{
	switch (auth) {
	case ST_USM_AUTH_MD5:
		MD5_Update(&h->md5, p, n);
		break;
	case ST_USM_AUTH_SHA1:
		SHA1_Update(&h->sha1, p, n);
		break;
	case ST_USM_AUTH_SHA224:
	case ST_USM_AUTH_SHA256:
		SHA256_Update(&h->sha256, p, n);
		break;
	default:
		SHA512_Update(&h->sha512, p, n);
		break;
	}
}

static void md_final(int auth, st_usm_md_state_t *h, uint8_t *out)
{
	switch (auth) {
	case ST_USM_AUTH_MD5:
		MD5_Final(out, &h->md5);
		break;
	case ST_USM_AUTH_SHA1:
		SHA1_Final(out, &h->sha1);
		break;
	case ST_USM_AUTH_SHA224:
		SHA224_Final(out, &h->sha256);
		break;
	case ST_USM_AUTH_SHA256:
		SHA256_Final(out, &h->sha256);
		break;
	case ST_USM_AUTH_SHA384:
		SHA384_Final(out, &h->sha512);
		break;
	default:
		SHA512_Final(out, &h->sha512);
		break;
	}
}

/* RFC 2104: the inner and outer hash after their key block. USM keys are
 * never longer than the hash's block (64 octets; 128 for SHA-384/512),
 * so the key is used as it is, padded with zeros. */
static void mac_prepare(st_usm_macslot_t *slot, const st_usm_keys_t *k)
{
	size_t kl = st_usm_auth_tab[k->auth].key_len;
	size_t bl = k->auth == ST_USM_AUTH_SHA384 || k->auth == ST_USM_AUTH_SHA512 ? 128 : 64;
	uint8_t pad[128];

	for (size_t i = 0; i < bl; i++)
		pad[i] = (uint8_t)((i < kl ? k->auth_key[i] : 0) ^ 0x36);
	md_init(k->auth, &slot->inner);
	md_update(k->auth, &slot->inner, pad, bl);
	for (size_t i = 0; i < bl; i++)
		pad[i] = (uint8_t)((i < kl ? k->auth_key[i] : 0) ^ 0x5c);
	md_init(k->auth, &slot->outer);
	md_update(k->auth, &slot->outer, pad, bl);
	st_usm_wipe(pad, sizeof(pad));
	slot->id = k->id;
}

/* The prepared midstates of keys k. */
static const st_usm_macslot_t *mac_get(st_usm_ctxs_t *c, const st_usm_keys_t *k)
{
	if (k->id == 0) {
		mac_prepare(&c->mac_scratch, k);
		return &c->mac_scratch;
	}
	/* Fibonacci hashing: consecutive ids spread over the sets. A key id
	 * is unique while the process lives, so it also fixes the protocol. */
	size_t set = (size_t)((k->id * 0x9e3779b97f4a7c15ULL) >> 32) & (ST_USM_HMAC_SETS - 1);
	st_usm_macslot_t *ways = c->mac[set];
	for (int i = 0; i < ST_USM_MAC_WAYS; i++)
		if (ways[i].id == k->id)
			return &ways[i];
	st_usm_macslot_t *slot = &ways[c->victim[set]++ % ST_USM_MAC_WAYS];
	mac_prepare(slot, k);
	return slot;
}

int st_usm_hmac(st_usm_ctxs_t *c, const st_usm_keys_t *k, const uint8_t *msg, size_t len,
                size_t off, uint8_t mac[ST_USM_KEY_MAX])
{
	static const uint8_t zeros[ST_USM_KEY_MAX];
	size_t ml = st_usm_auth_tab[k->auth].mac_len;
	uint8_t inner[ST_USM_KEY_MAX];
	const st_usm_macslot_t *slot;
	st_usm_md_state_t h;

	if (k->auth == ST_USM_AUTH_NONE || k->auth >= ST_USM_AUTH_COUNT || off > len ||
	    len - off < ml)
		return ST_ERR_USM_PARAMS;
	slot = mac_get(c, k);
	h = slot->inner;
	md_update(k->auth, &h, msg, off);
	md_update(k->auth, &h, zeros, ml);
	md_update(k->auth, &h, msg + off + ml, len - off - ml);
	md_final(k->auth, &h, inner);
	h = slot->outer;
	md_update(k->auth, &h, inner, st_usm_auth_tab[k->auth].key_len);
	md_final(k->auth, &h, mac);
	return 0;
}

int st_usm_hmac_verify(st_usm_ctxs_t *c, const st_usm_keys_t *k, const uint8_t *msg, size_t len,
                       size_t off)
{
	uint8_t mac[ST_USM_KEY_MAX];
	size_t ml = st_usm_auth_tab[k->auth].mac_len;
	int rc = st_usm_hmac(c, k, msg, len, off, mac);
	if (rc < 0)
		return rc == ST_ERR_USM_PARAMS ? ST_ERR_USM_WRONG_DIGEST : rc;
	return CRYPTO_memcmp(mac, msg + off, ml) == 0 ? 0 : ST_ERR_USM_WRONG_DIGEST;
}

/* The cipher context of k's privacy protocol, initialised with k's key in
 * direction enc and with iv. Re-keys only when the key or direction changed. */
static EVP_CIPHER_CTX *cipher_get(st_usm_ctxs_t *c, const st_usm_keys_t *k, int enc,
                                  const uint8_t *iv)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	const st_usm_priv_info_t *pi = &st_usm_priv_tab[k->priv];
	EVP_CIPHER_CTX *ctx;

	if (!cr || !cr->cipher[k->priv])
		return NULL;
	if (!c->cip[k->priv].ctx) {
		ctx = EVP_CIPHER_CTX_new();
		if (!ctx)
			return NULL;
		if (!EVP_CipherInit_ex2(ctx, cr->cipher[k->priv], NULL, NULL, enc, NULL)) {
			EVP_CIPHER_CTX_free(ctx);
			return NULL;
		}
		c->cip[k->priv].ctx = ctx;
		c->cip[k->priv].id = 0;
	}
	ctx = c->cip[k->priv].ctx;
	int same = k->id != 0 && c->cip[k->priv].id == k->id && c->cip[k->priv].enc == enc;
	c->cip[k->priv].id = 0;
	if (!EVP_CipherInit_ex2(ctx, NULL, same ? NULL : k->priv_key, iv, enc, NULL))
		return NULL;
	/* CBC: we pad (RFC 3414 8.1.1.2) and unpad (the ScopedPDU length) ourselves. */
	if (!pi->aes && !EVP_CIPHER_CTX_set_padding(ctx, 0))
		return NULL;
	c->cip[k->priv].id = k->id;
	c->cip[k->priv].enc = enc;
	return ctx;
}

static void make_iv(const st_usm_keys_t *k, uint32_t boots, uint32_t time, const uint8_t salt[8],
                    uint8_t iv[16])
{
	const st_usm_priv_info_t *pi = &st_usm_priv_tab[k->priv];
	if (pi->aes) {
		/* RFC 3826 3.1.2.1: boots || time || salt, big-endian */
		iv[0] = (uint8_t)(boots >> 24);
		iv[1] = (uint8_t)(boots >> 16);
		iv[2] = (uint8_t)(boots >> 8);
		iv[3] = (uint8_t)boots;
		iv[4] = (uint8_t)(time >> 24);
		iv[5] = (uint8_t)(time >> 16);
		iv[6] = (uint8_t)(time >> 8);
		iv[7] = (uint8_t)time;
		memcpy(iv + 8, salt, 8);
	} else {
		/* RFC 3414 8.1.1.1 (and Reeder 5.1.1.1): pre-IV XOR salt */
		for (int i = 0; i < 8; i++)
			iv[i] = k->priv_key[pi->key_len + i] ^ salt[i];
		memset(iv + 8, 0, 8);
	}
}

static int aes_index(int priv)
{
	switch (st_usm_priv_tab[priv].key_len) {
	case 16:
		return 0;
	case 24:
		return 1;
	default:
		return 2;
	}
}

/* A keyed AES-ECB context for k's privacy key, encrypt direction. */
static EVP_CIPHER_CTX *ecb_get(st_usm_ctxs_t *c, const st_usm_keys_t *k)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	int z = aes_index(k->priv);
	st_usm_ecbslot_t scratch = {0, c->ecb_scratch[z]}, *slot = &scratch;

	if (!cr)
		return NULL;
	if (k->id != 0) {
		size_t set =
		        (size_t)((k->id * 0x9e3779b97f4a7c15ULL) >> 32) & (ST_USM_MAC_SETS - 1);
		st_usm_ecbslot_t *ways = c->ecb[z][set];
		for (int i = 0; i < ST_USM_MAC_WAYS; i++)
			if (ways[i].id == k->id)
				return ways[i].ctx; /* ECB keeps no state between calls */
		slot = &ways[c->ecb_victim[z][set]++ % ST_USM_MAC_WAYS];
	}
	slot->id = 0;
	int fresh = slot->ctx == NULL;
	if (fresh && !(slot->ctx = EVP_CIPHER_CTX_new()))
		return NULL;
	if (k->id == 0)
		c->ecb_scratch[z] = slot->ctx;
	if (!EVP_CipherInit_ex2(slot->ctx, fresh ? cr->ecb[z] : NULL, k->priv_key, NULL, 1, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(slot->ctx, 0))
		return NULL;
	slot->id = k->id;
	return slot->ctx;
}

static void xor_into(uint8_t *out, const uint8_t *in, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, out + i, 8);
		memcpy(&b, in + i, 8);
		a ^= b;
		memcpy(out + i, &a, 8);
	}
	for (; i < n; i++)
		out[i] ^= in[i];
}

int st_usm_decrypt(st_usm_ctxs_t *c, const st_usm_keys_t *k, uint32_t boots, uint32_t time,
                   const uint8_t salt[8], const uint8_t *in, size_t in_len, uint8_t *out)
{
	const st_usm_priv_info_t *pi = &st_usm_priv_tab[k->priv];
	uint8_t iv[16];
	int outl = 0;

	if (k->priv == ST_USM_PRIV_NONE || in_len > INT32_MAX - 16)
		return ST_ERR_USM_DECRYPTION;
	/* RFC 3414 8.3.2 step 2: CBC ciphertext is whole blocks */
	if (!pi->aes && in_len % 8 != 0)
		return ST_ERR_USM_DECRYPTION;
	if (in_len == 0)
		return 0;
	make_iv(k, boots, time, salt, iv);
	if (pi->aes) {
		/* CFB-128 decryption is P[i] = C[i] ^ E(C[i-1]), C[0] = IV: every
		 * block-cipher input is known in advance, so the keystream is one
		 * ECB pass over IV || C[1..n-1] on a context keyed once per key
		 * (no per-message initialisation), then one XOR. */
		size_t nb = (in_len + 15) / 16;
		int l2 = 0;
		EVP_CIPHER_CTX *ecb = ecb_get(c, k);
		if (!ecb || !EVP_CipherUpdate(ecb, out, &outl, iv, 16) ||
		    (nb > 1 && !EVP_CipherUpdate(ecb, out + 16, &l2, in, (int)((nb - 1) * 16))) ||
		    (size_t)(outl + l2) != nb * 16) {
			ERR_clear_error();
			return ST_ERR_USM_CRYPTO;
		}
		xor_into(out, in, in_len);
		return 0;
	}
	EVP_CIPHER_CTX *ctx = cipher_get(c, k, 0, iv);
	if (!ctx || !EVP_CipherUpdate(ctx, out, &outl, in, (int)in_len) || (size_t)outl != in_len) {
		ERR_clear_error();
		if (ctx)
			c->cip[k->priv].id = 0;
		return ctx ? ST_ERR_USM_DECRYPTION : ST_ERR_USM_CRYPTO;
	}
	return 0;
}

int st_usm_encrypt(st_usm_ctxs_t *c, const st_usm_keys_t *k, uint32_t boots, uint32_t time,
                   const uint8_t salt[8], const uint8_t *in, size_t in_len, uint8_t *out,
                   size_t cap)
{
	const st_usm_priv_info_t *pi = &st_usm_priv_tab[k->priv];
	size_t total = pi->aes ? in_len : (in_len + 7) / 8 * 8;
	uint8_t iv[16];
	int l1 = 0, l2 = 0;

	if (k->priv == ST_USM_PRIV_NONE || in_len > INT32_MAX - 8)
		return ST_ERR_USM_CRYPTO;
	if (total > cap)
		return ST_ERR_BER_SPACE;
	make_iv(k, boots, time, salt, iv);
	EVP_CIPHER_CTX *ctx = cipher_get(c, k, 1, iv);
	if (!ctx)
		goto fail;
	size_t full = pi->aes ? in_len : in_len / 8 * 8;
	if (full && !EVP_CipherUpdate(ctx, out, &l1, in, (int)full))
		goto fail;
	if (full != total) {
		/* zero-pad the last block */
		uint8_t last[8] = {0};
		memcpy(last, in + full, in_len - full);
		if (!EVP_CipherUpdate(ctx, out + l1, &l2, last, 8))
			goto fail;
	}
	if ((size_t)(l1 + l2) != total)
		goto fail;
	return (int)total;
fail:
	ERR_clear_error();
	c->cip[k->priv].id = 0;
	return ST_ERR_USM_CRYPTO;
}

void st_usm_ctxs_free(st_usm_ctxs_t *c)
{
	for (int p = 0; p < ST_USM_PRIV_COUNT; p++)
		EVP_CIPHER_CTX_free(c->cip[p].ctx);
	for (int z = 0; z < 3; z++) {
		for (int s = 0; s < ST_USM_MAC_SETS; s++)
			for (int i = 0; i < ST_USM_MAC_WAYS; i++)
				EVP_CIPHER_CTX_free(c->ecb[z][s][i].ctx);
		EVP_CIPHER_CTX_free(c->ecb_scratch[z]);
	}
	st_usm_wipe(c, sizeof(*c)); /* the HMAC midstates are as good as the keys */
}
