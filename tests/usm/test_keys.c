/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_keys.c - key derivation: RFC 3414 A.3 vectors, the SHA-2 family
 * against a naive reference, key extension (Blumenthal, Reeder), names,
 * and the ciphers against OpenSSL's own modes.
 */
#include <errno.h>

#include "helpers.h"
#include "usm_int.h"

/* RFC 3414 A.3: password "maplesyrup", engine ID 000000000000000000000002 */
static const char *RFC_ENGINE = "000000000000000000000002";

Test(keys, rfc3414_a3_1_md5)
{
	uint8_t ku[64], kul[64], e[12], want[16];
	size_t ku_len = sizeof(ku), kul_len = sizeof(kul), el = hx(RFC_ENGINE, e, sizeof(e));

	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_MD5, "maplesyrup", 10, ku, &ku_len), 0);
	cr_assert_eq(ku_len, 16);
	hx("9faf3283884e92834ebc9847d8edd963", want, sizeof(want));
	cr_assert(memcmp(ku, want, 16) == 0, "MD5 Ku differs from RFC 3414 A.3.1");
	cr_assert_eq(st_usm_localize(ST_USM_AUTH_MD5, ku, ku_len, e, el, kul, &kul_len), 0);
	cr_assert_eq(kul_len, 16);
	hx("526f5eed9fcce26f8964c2930787d82b", want, sizeof(want));
	cr_assert(memcmp(kul, want, 16) == 0, "MD5 Kul differs from RFC 3414 A.3.1");
}

Test(keys, rfc3414_a3_2_sha)
{
	uint8_t ku[64], kul[64], e[12], want[20];
	size_t ku_len = sizeof(ku), kul_len = sizeof(kul), el = hx(RFC_ENGINE, e, sizeof(e));

	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "maplesyrup", 10, ku, &ku_len), 0);
	cr_assert_eq(ku_len, 20);
	hx("9fb5cc0381497b3793528939ff788d5d79145211", want, sizeof(want));
	cr_assert(memcmp(ku, want, 20) == 0, "SHA Ku differs from RFC 3414 A.3.2");
	cr_assert_eq(st_usm_localize(ST_USM_AUTH_SHA1, ku, ku_len, e, el, kul, &kul_len), 0);
	cr_assert_eq(kul_len, 20);
	hx("6695febc9288e36282235fc7151f128497b38f3f", want, sizeof(want));
	cr_assert(memcmp(kul, want, 20) == 0, "SHA Kul differs from RFC 3414 A.3.2");
}

/* RFC 7860 4.2.2 defines the SHA-2 variants by the same algorithm; check
 * the chunked implementation against the naive one (a 1 MiB buffer of the
 * repeated passphrase hashed at once) for every digest and odd lengths. */
Test(keys, password_to_key_matches_naive_reference_for_every_digest)
{
	static const char *md[] = {NULL, "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
	static const char *pass[] = {"maplesyrup", "authpass123",
	                             "a passphrase of 37 characters, odd.", "x"};
	uint8_t *big = malloc(1048576);
	cr_assert_not_null(big);
	for (int a = ST_USM_AUTH_MD5; a < ST_USM_AUTH_COUNT; a++) {
		for (size_t p = 0; p < sizeof(pass) / sizeof(pass[0]); p++) {
			size_t pl = strlen(pass[p]);
			for (size_t i = 0; i < 1048576; i++)
				big[i] = (uint8_t)pass[p][i % pl];
			uint8_t want[64], ku[64];
			unsigned int wl = 0;
			size_t kl = sizeof(ku);
			cr_assert(EVP_Digest(big, 1048576, want, &wl, EVP_get_digestbyname(md[a]),
			                     NULL));
			cr_assert_eq(st_usm_password_to_key(a, pass[p], pl, ku, &kl), 0);
			cr_assert_eq(kl, wl);
			cr_assert_eq(kl, st_usm_auth_key_len(a));
			cr_assert(memcmp(ku, want, kl) == 0, "%s Ku of '%s'", md[a], pass[p]);

			/* Kul = H(Ku || engine || Ku) */
			uint8_t e[12], buf[160], kul[64];
			size_t el = hx(RFC_ENGINE, e, sizeof(e)), kul_len = sizeof(kul);
			memcpy(buf, ku, kl);
			memcpy(buf + kl, e, el);
			memcpy(buf + kl + el, ku, kl);
			cr_assert(EVP_Digest(buf, 2 * kl + el, want, &wl,
			                     EVP_get_digestbyname(md[a]), NULL));
			cr_assert_eq(st_usm_localize(a, ku, kl, e, el, kul, &kul_len), 0);
			cr_assert_eq(kul_len, wl);
			cr_assert(memcmp(kul, want, wl) == 0, "%s Kul", md[a]);
		}
	}
	free(big);
}

Test(keys, rejects_bad_arguments)
{
	uint8_t ku[64];
	size_t len = sizeof(ku);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "", 0, ku, &len), -EINVAL);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_NONE, "maplesyrup", 10, ku, &len), -EINVAL);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_COUNT, "maplesyrup", 10, ku, &len),
	             -EINVAL);
	len = 19; /* SHA needs 20 */
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "maplesyrup", 10, ku, &len), -EINVAL);
	len = 20;
	cr_assert_eq(st_usm_localize(ST_USM_AUTH_SHA1, ku, 20, ku, 33, ku, &len), -EINVAL);
}

/* draft-blumenthal-aes-usm-04 3.1.2.1: Kul' = Kul || H(Kul) [|| H(Kul')...] */
Test(keys, blumenthal_extension_appends_hash_of_key)
{
	uint8_t e[9], kul[64], ext[64], h1[64], h2[64], buf[128];
	size_t el = hx("80001f8880aabbccdd", e, sizeof(e)), ext_len = 0;
	unsigned int l1, l2;

	/* MD5 (16) to AES-256 (32): one round */
	kul_of(ST_USM_AUTH_MD5, "privpass123", e, el, kul);
	cr_assert_eq(st_usm_extend_key(ST_USM_AUTH_MD5, ST_USM_PRIV_AES256, kul, 16, e, el, ext,
	                               &ext_len),
	             0);
	cr_assert_eq(ext_len, 32);
	cr_assert(EVP_Digest(kul, 16, h1, &l1, EVP_md5(), NULL));
	cr_assert(memcmp(ext, kul, 16) == 0);
	cr_assert(memcmp(ext + 16, h1, 16) == 0);

	/* SHA-1 (20) to AES-256 (32): one round, truncated */
	kul_of(ST_USM_AUTH_SHA1, "privpass123", e, el, kul);
	cr_assert_eq(st_usm_extend_key(ST_USM_AUTH_SHA1, ST_USM_PRIV_AES256, kul, 20, e, el, ext,
	                               &ext_len),
	             0);
	cr_assert(EVP_Digest(kul, 20, h1, &l1, EVP_sha1(), NULL));
	cr_assert(memcmp(ext + 20, h1, 12) == 0);

	/* SHA-1 (20) to AES-192 (24) */
	cr_assert_eq(st_usm_extend_key(ST_USM_AUTH_SHA1, ST_USM_PRIV_AES192, kul, 20, e, el, ext,
	                               &ext_len),
	             0);
	cr_assert_eq(ext_len, 24);
	cr_assert(memcmp(ext + 20, h1, 4) == 0);

	/* a 10-octet key to 32: H(k), then H(k || H(k)) */
	cr_assert_eq(st_usm_extend_key(ST_USM_AUTH_MD5, ST_USM_PRIV_AES256, kul, 10, e, el, ext,
	                               &ext_len),
	             0);
	cr_assert(EVP_Digest(kul, 10, h1, &l1, EVP_md5(), NULL));
	memcpy(buf, kul, 10);
	memcpy(buf + 10, h1, 16);
	cr_assert(EVP_Digest(buf, 26, h2, &l2, EVP_md5(), NULL));
	cr_assert(memcmp(ext + 10, h1, 16) == 0);
	cr_assert(memcmp(ext + 26, h2, 6) == 0);
}

/* draft-reeder-snmpv3-usm-3desede-00 2.1: Kul' = Kul || Kul(Ku(Kul)) */
Test(keys, reeder_extension_appends_localized_key_of_key)
{
	uint8_t e[9], kul[64], ext[64], ku2[64], kul2[64];
	size_t el = hx("80001f8880aabbccdd", e, sizeof(e)), ext_len = 0, l = 64, l2 = 64;

	static const int reeder[] = {ST_USM_PRIV_3DES, ST_USM_PRIV_AES192C, ST_USM_PRIV_AES256C};
	for (size_t i = 0; i < sizeof(reeder) / sizeof(reeder[0]); i++) {
		int priv = reeder[i];
		kul_of(ST_USM_AUTH_SHA1, "privpass123", e, el, kul);
		cr_assert_eq(
		        st_usm_extend_key(ST_USM_AUTH_SHA1, priv, kul, 20, e, el, ext, &ext_len),
		        0);
		cr_assert_eq(ext_len, st_usm_priv_key_len(priv));
		l = l2 = 64;
		cr_assert_eq(
		        st_usm_password_to_key(ST_USM_AUTH_SHA1, (const char *)kul, 20, ku2, &l),
		        0);
		cr_assert_eq(st_usm_localize(ST_USM_AUTH_SHA1, ku2, l, e, el, kul2, &l2), 0);
		cr_assert(memcmp(ext, kul, 20) == 0);
		cr_assert(memcmp(ext + 20, kul2, ext_len - 20) == 0, "%s", st_usm_priv_name(priv));
	}
}

Test(keys, extension_leaves_long_keys_alone)
{
	uint8_t e[9], kul[64], ext[64];
	size_t el = hx("80001f8880aabbccdd", e, sizeof(e)), ext_len = 0;
	/* SHA-256's 32 octets already cover AES-256 in both variants */
	kul_of(ST_USM_AUTH_SHA256, "privpass123", e, el, kul);
	for (int priv = ST_USM_PRIV_DES; priv < ST_USM_PRIV_COUNT; priv++) {
		cr_assert_eq(
		        st_usm_extend_key(ST_USM_AUTH_SHA256, priv, kul, 32, e, el, ext, &ext_len),
		        0);
		cr_assert_eq(ext_len, st_usm_priv_key_len(priv));
		cr_assert(memcmp(ext, kul, ext_len) == 0, "%s", st_usm_priv_name(priv));
	}
	/* Blumenthal and Reeder differ where they extend */
	uint8_t b[64], r[64];
	kul_of(ST_USM_AUTH_SHA1, "privpass123", e, el, kul);
	cr_assert_eq(
	        st_usm_extend_key(ST_USM_AUTH_SHA1, ST_USM_PRIV_AES256, kul, 20, e, el, b, NULL),
	        0);
	cr_assert_eq(
	        st_usm_extend_key(ST_USM_AUTH_SHA1, ST_USM_PRIV_AES256C, kul, 20, e, el, r, NULL),
	        0);
	cr_assert(memcmp(b, r, 20) == 0);
	cr_assert(memcmp(b + 20, r + 20, 12) != 0);
}

Test(keys, protocol_names_round_trip)
{
	for (int a = ST_USM_AUTH_MD5; a < ST_USM_AUTH_COUNT; a++)
		cr_assert_eq(st_usm_auth_from_name(st_usm_auth_name(a)), a);
	for (int p = ST_USM_PRIV_DES; p < ST_USM_PRIV_COUNT; p++)
		cr_assert_eq(st_usm_priv_from_name(st_usm_priv_name(p)), p);
	cr_assert_eq(st_usm_auth_from_name("sha-256"), ST_USM_AUTH_SHA256);
	cr_assert_eq(st_usm_auth_from_name("SHA1"), ST_USM_AUTH_SHA1);
	cr_assert_eq(st_usm_priv_from_name("AES"), ST_USM_PRIV_AES128);
	cr_assert_eq(st_usm_priv_from_name("AES-128"), ST_USM_PRIV_AES128);
	cr_assert_eq(st_usm_priv_from_name("aes-192-c"), ST_USM_PRIV_AES192C);
	cr_assert_eq(st_usm_auth_from_name("SHA-999"), -1);
	cr_assert_eq(st_usm_priv_from_name("AES-512"), -1);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_MD5), 12);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_SHA1), 12);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_SHA224), 16);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_SHA256), 24);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_SHA384), 32);
	cr_assert_eq(st_usm_auth_mac_len(ST_USM_AUTH_SHA512), 48);
	cr_assert_str_eq(st_usm_level_name(0), "noAuthNoPriv");
	cr_assert_str_eq(st_usm_level_name(ST_MSGFLAG_AUTH | ST_MSGFLAG_REPORTABLE), "authNoPriv");
	cr_assert_str_eq(st_usm_level_name(ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV), "authPriv");
}

/* The AES decryption (keystream from a keyed ECB context) against
 * OpenSSL's CFB-128 for every length 1..200, every key size, and keys
 * alternating between two ids (the keyed-context cache must not mix
 * them up); DES/3DES round trips through encrypt/decrypt. */
Test(keys, decryption_matches_openssl_cfb_for_every_length)
{
	static const int privs[] = {ST_USM_PRIV_AES128, ST_USM_PRIV_AES192, ST_USM_PRIV_AES256C};
	static const EVP_CIPHER *(*ref[])(void) = {EVP_aes_128_cfb128, EVP_aes_192_cfb128,
	                                           EVP_aes_256_cfb128};
	st_usm_ctxs_t *c = calloc(1, sizeof(*c));
	uint8_t plain[256], ct[256], out[272], iv[16], salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	cr_assert_not_null(c);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 3);
	for (size_t p = 0; p < 3; p++) {
		st_usm_keys_t k[2];
		for (int j = 0; j < 2; j++) {
			memset(&k[j], 0, sizeof(k[j]));
			k[j].auth = ST_USM_AUTH_SHA1;
			k[j].priv = (uint8_t)privs[p];
			k[j].id = st_usm_key_id();
			for (int b = 0; b < 32; b++)
				k[j].priv_key[b] = (uint8_t)(b * 13 + j * 101 + p);
		}
		for (size_t len = 1; len <= 200; len++) {
			const st_usm_keys_t *kk = &k[len % 2];
			/* RFC 3826 IV: boots 0x01020304, time 0x0a0b0c0d, salt */
			const uint8_t ivh[8] = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d};
			memcpy(iv, ivh, 8);
			memcpy(iv + 8, salt, 8);
			EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
			int l = 0;
			cr_assert(EVP_EncryptInit_ex(e, ref[p](), NULL, kk->priv_key, iv));
			cr_assert(EVP_EncryptUpdate(e, ct, &l, plain, (int)len));
			EVP_CIPHER_CTX_free(e);
			memset(out, 0xee, sizeof(out));
			cr_assert_eq(
			        st_usm_decrypt(c, kk, 0x01020304, 0x0a0b0c0d, salt, ct, len, out),
			        0);
			cr_assert(memcmp(out, plain, len) == 0, "%s, %zu octets",
			          st_usm_priv_name(privs[p]), len);
			/* and our encryption is OpenSSL's */
			uint8_t ct2[272];
			cr_assert_eq(st_usm_encrypt(c, kk, 0x01020304, 0x0a0b0c0d, salt, plain, len,
			                            ct2, sizeof(ct2)),
			             (int)len);
			cr_assert(memcmp(ct2, ct, len) == 0);
		}
	}
	for (int priv = ST_USM_PRIV_DES; priv <= ST_USM_PRIV_3DES; priv++) {
		st_usm_keys_t k = {
		        .id = st_usm_key_id(), .auth = ST_USM_AUTH_MD5, .priv = (uint8_t)priv};
		for (int b = 0; b < 32; b++)
			k.priv_key[b] = (uint8_t)(b * 29 + 1);
		for (size_t len = 1; len <= 64; len++) {
			int n = st_usm_encrypt(c, &k, 7, 9, salt, plain, len, ct, sizeof(ct));
			cr_assert_eq(n, (int)((len + 7) / 8 * 8), "CBC pads to the block");
			cr_assert_eq(st_usm_decrypt(c, &k, 7, 9, salt, ct, (size_t)n, out), 0);
			cr_assert(memcmp(out, plain, len) == 0);
			cr_assert_eq(st_usm_decrypt(c, &k, 7, 9, salt, ct, (size_t)n - 1, out),
			             ST_ERR_USM_DECRYPTION, "not whole blocks");
		}
	}
	st_usm_ctxs_free(c);
	free(c);
}

/* The HMAC from prepared midstates is OpenSSL's one-shot HMAC() for every
 * digest, for messages around the block sizes, with the auth parameters
 * anywhere, for uncached keys (id 0), cached keys and keys that evicted
 * one another (more keys than the cache has slots). */
Test(keys, hmac_matches_openssl_for_every_digest_and_cache_path)
{
	enum { NKEYS = 3 * ST_USM_HMAC_SETS * ST_USM_MAC_WAYS };
	st_usm_ctxs_t *c = calloc(1, sizeof(*c));
	st_usm_keys_t *keys = calloc(NKEYS, sizeof(*keys));
	uint8_t msg[300];
	cr_assert_not_null(c);
	cr_assert_not_null(keys);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (int auth = ST_USM_AUTH_MD5; auth < ST_USM_AUTH_COUNT; auth++) {
		size_t ml = st_usm_auth_mac_len(auth);
		for (int j = 0; j < NKEYS; j++) {
			keys[j] = (st_usm_keys_t){.id = j % 5 == 0 ? 0 : st_usm_key_id(),
			                          .auth = (uint8_t)auth};
			for (size_t b = 0; b < ST_USM_KEY_MAX; b++)
				keys[j].auth_key[b] = (uint8_t)(b * 13 + j * 7 + auth);
		}
		/* two passes: the second finds the first pass's keys cached or evicted */
		for (int pass = 0; pass < 2; pass++)
			for (size_t len = ml; len <= sizeof(msg); len += 7) {
				const st_usm_keys_t *k = &keys[(len * 3 + (size_t)pass) % NKEYS];
				size_t off = (len * 5) % (len - ml + 1);
				uint8_t mac[ST_USM_KEY_MAX], copy[sizeof(msg)],
				        ref[EVP_MAX_MD_SIZE];
				unsigned int rl = 0;
				memcpy(copy, msg, len);
				memset(copy + off, 0, ml);
				HMAC(EVP_get_digestbyname(st_usm_auth_tab[auth].md), k->auth_key,
				     (int)st_usm_auth_key_len(auth), copy, len, ref, &rl);
				cr_assert_eq(st_usm_hmac(c, k, msg, len, off, mac), 0);
				cr_assert_eq(rl, st_usm_auth_key_len(auth));
				cr_assert(memcmp(mac, ref, rl) == 0,
				          "%s, %zu octets, auth params at %zu",
				          st_usm_auth_name(auth), len, off);
			}
	}
	st_usm_ctxs_free(c);
	free(c);
	free(keys);
}
