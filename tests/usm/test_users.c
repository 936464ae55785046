/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_users.c - the users file parser: every accepted form, the keys it
 * derives, and errors that name the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"
#include "usm_int.h"

static st_usm_users_t *parse_ok(const char *text)
{
	st_usm_users_t *users = NULL;
	char err[256] = "";
	int rc = st_usm_users_parse(text, "users.conf", &users, err, sizeof(err));
	cr_assert_eq(rc, 0, "parse failed: %s", err);
	cr_assert_not_null(users);
	return users;
}

static void parse_err(const char *text, const char *want)
{
	st_usm_users_t *users = NULL;
	char err[256] = "";
	int rc = st_usm_users_parse(text, "users.conf", &users, err, sizeof(err));
	cr_assert_eq(rc, ST_ERR_CONFIG, "want an error for:\n%s", text);
	cr_assert_null(users);
	cr_assert_str_eq(err, want);
}

Test(users, accepts_every_form_and_ignores_the_rest)
{
	st_usm_users_t *users =
	        parse_ok("# snmptrapd.conf\n"
	                 "\n"
	                 "   # indented comment\n"
	                 "disableAuthorization yes\n"
	                 "authUser log,execute,net u1\n"
	                 "traphandle default /bin/true\n"
	                 "createUser -e 0x80001f8880aabbccdd u1 SHA authpass123 AES privpass123\n"
	                 "createUser -e 80001F8880AABBCCEE u2 SHA-256 \"with spaces\" AES-256-C "
	                 "'single quoted'\n"
	                 "createUser plain\n"
	                 "createUser u3 MD5 authpass123\n"
	                 "createUser u4 SHA-512 authpass123 AES-192\n"
	                 "[snmp] createUser u5 SHA-224 authpass123 DES privpass123\r\n"
	                 "CREATEUSER u6 sha-384 authpass123 3des privpass123\n"
	                 "createUser u7 SHA \"pass#word with #\" AES \"back\\\"slash\"\n");
	cr_assert_eq(st_usm_users_count(users), 8);
	const st_usm_user_t *u = users->user;

	cr_assert_str_eq(u[0].name, "u1");
	cr_assert_eq(u[0].bound, 1);
	cr_assert_eq(u[0].engine_len, 9);
	cr_assert_eq(u[0].engine[8], 0xdd);
	cr_assert_eq(u[0].keys.auth, ST_USM_AUTH_SHA1);
	cr_assert_eq(u[0].keys.priv, ST_USM_PRIV_AES128);
	cr_assert_eq(u[0].level, ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);
	cr_assert_eq(u[0].line, 7);
	cr_assert_neq(u[0].keys.id, 0);

	cr_assert_eq(u[1].engine[8], 0xee);
	cr_assert_eq(u[1].keys.auth, ST_USM_AUTH_SHA256);
	cr_assert_eq(u[1].keys.priv, ST_USM_PRIV_AES256C);

	cr_assert_str_eq(u[2].name, "plain");
	cr_assert_eq(u[2].level, 0);
	cr_assert_eq(u[2].bound, 0);

	cr_assert_eq(u[3].level, ST_MSGFLAG_AUTH);
	cr_assert_eq(u[3].keys.auth, ST_USM_AUTH_MD5);
	cr_assert_eq(u[3].keys.priv, ST_USM_PRIV_NONE);

	/* no priv passphrase: the auth one (Net-SNMP) */
	cr_assert_eq(u[4].keys.priv, ST_USM_PRIV_AES192);
	cr_assert(memcmp(u[4].priv_ku, u[4].auth_ku, 64) == 0);

	cr_assert_str_eq(u[5].name, "u5");
	cr_assert_eq(u[5].keys.priv, ST_USM_PRIV_DES);
	cr_assert_eq(u[6].keys.auth, ST_USM_AUTH_SHA384);
	cr_assert_eq(u[6].keys.priv, ST_USM_PRIV_3DES);
	cr_assert_eq(u[6].line, 13);

	/* quoting: '#' inside a word, backslash escapes inside quotes */
	uint8_t ku[64];
	size_t kl = sizeof(ku);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "pass#word with #", 16, ku, &kl), 0);
	cr_assert(memcmp(u[7].auth_ku, ku, 20) == 0);
	kl = sizeof(ku);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "back\"slash", 10, ku, &kl), 0);
	cr_assert(memcmp(u[7].priv_ku, ku, 20) == 0);
	st_usm_users_free(users);
}

Test(users, quoted_passphrase_keeps_spaces)
{
	st_usm_users_t *users = parse_ok("createUser u2 SHA-256 \"with spaces\" AES 'x y z w v'\n");
	uint8_t ku[64];
	size_t kl = sizeof(ku);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA256, "with spaces", 11, ku, &kl), 0);
	cr_assert(memcmp(users->user[0].auth_ku, ku, 32) == 0);
	kl = sizeof(ku);
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA256, "x y z w v", 9, ku, &kl), 0);
	cr_assert(memcmp(users->user[0].priv_ku, ku, 32) == 0);
	st_usm_users_free(users);
}

/* -m (master) and -l (localized) keys give the keys a passphrase gives. */
Test(users, master_and_localized_keys_match_passphrase)
{
	uint8_t e[9], ku[64], pku[64], kul[64], pkul[64];
	size_t el = hx("80001f8880aabbccdd", e, sizeof(e)), l = 64;
	char text[1024], h1[129], h2[129];

	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "authpass123", 11, ku, &l), 0);
	l = 64;
	cr_assert_eq(st_usm_password_to_key(ST_USM_AUTH_SHA1, "privpass123", 11, pku, &l), 0);
	kul_of(ST_USM_AUTH_SHA1, "authpass123", e, el, kul);
	kul_of(ST_USM_AUTH_SHA1, "privpass123", e, el, pkul);

	st_usm_users_t *ref = parse_ok(
	        "createUser -e 0x80001f8880aabbccdd u SHA authpass123 AES-256 privpass123\n");
	tohex(ku, 20, h1);
	tohex(pku, 20, h2);
	snprintf(text, sizeof(text),
	         "createUser -e 0x80001f8880aabbccdd u SHA -m %s AES-256 -m 0x%s\n", h1, h2);
	st_usm_users_t *m = parse_ok(text);
	tohex(kul, 20, h1);
	tohex(pkul, 20, h2);
	snprintf(text, sizeof(text),
	         "createUser -e 0x80001f8880aabbccdd u SHA -l %s AES-256 -l %s\n", h1, h2);
	st_usm_users_t *lo = parse_ok(text);
	/* a -l priv key may also be given already extended */
	tohex(ref->user[0].keys.priv_key, 32, h2);
	snprintf(text, sizeof(text),
	         "createUser -e 0x80001f8880aabbccdd u SHA -l %s AES-256 -l %s\n", h1, h2);
	st_usm_users_t *lx = parse_ok(text);

	const st_usm_keys_t *k0 = &ref->user[0].keys;
	cr_assert(memcmp(k0->auth_key, kul, 20) == 0);
	const st_usm_users_t *all[] = {m, lo, lx};
	for (int i = 0; i < 3; i++) {
		const st_usm_keys_t *k = &all[i]->user[0].keys;
		cr_assert(memcmp(k->auth_key, k0->auth_key, 20) == 0, "form %d auth", i);
		cr_assert(memcmp(k->priv_key, k0->priv_key, 32) == 0, "form %d priv", i);
	}
	st_usm_users_free(ref);
	st_usm_users_free(m);
	st_usm_users_free(lo);
	st_usm_users_free(lx);
}

Test(users, errors_name_file_and_line)
{
	parse_err("# 1\n# 2\n\n# 4\nauthUser log u1\n\ncreateUser u1 SHA-999 authpass123\n",
	          "users.conf:7: unknown auth protocol 'SHA-999'");
	parse_err("createUser u1 SHA authpass123 AES-512 privpass123\n",
	          "users.conf:1: unknown priv protocol 'AES-512'");
	parse_err("\ncreateUser u1 SHA -l 00112233445566778899aabbccddeeff00112233\n",
	          "users.conf:2: user 'u1': -l (a localized key) needs -e ENGINEID");
	parse_err("createUser u1 SHA short\n",
	          "users.conf:1: auth passphrase is shorter than 8 characters");
	parse_err("createUser u1 SHA authpass123 AES short\n",
	          "users.conf:1: priv passphrase is shorter than 8 characters");
	parse_err("createUser -e 0xZZ u1 SHA authpass123\n",
	          "users.conf:1: bad engine ID '0xZZ' (hex, 1..32 octets, 0x optional)");
	parse_err("createUser -e 0x8000 0001 u1\n", "users.conf:1: unknown auth protocol 'u1'");
	parse_err("createUser u1 SHA -m 0011\n",
	          "users.conf:1: user 'u1': -m auth key must be 20 octets for SHA, got 2");
	parse_err("createUser u1 MD5\n", "users.conf:1: user 'u1': missing auth passphrase or key");
	parse_err("createUser u1 MD5 authpass123 DES privpass123 extra\n",
	          "users.conf:1: unexpected 'extra' at the end of createUser");
	parse_err("createUser u1 MD5 \"authpass123\n", "users.conf:1: no closing \"");
	parse_err("createUser\n", "users.conf:1: createUser needs a user name");
	parse_err("createUser -M u1\n", "users.conf:1: unknown option '-M'");
	parse_err("createUser abcdefghijklmnopqrstuvwxyz0123456\n",
	          "users.conf:1: user name must be 1..32 characters");
	parse_err("createUser u1 SHA -m\n", "users.conf:1: auth: -m needs a hex key");
	parse_err("createUser -e 0x80001f8880aabbccdd u1 SHA authpass123 AES-256 -l 0011\n",
	          "users.conf:1: user 'u1': -l priv key must be 20 octets (or 32..64 for AES-256), "
	          "got 2");
}

Test(users, unknown_directive_is_an_error)
{
	parse_err("createUser u1 SHA authpass123\ncreateUserr u2 SHA authpass123\n",
	          "users.conf:2: unknown directive 'createUserr' (did you mean createUser?)");
	parse_err("# a comment\n[snmp] frobnicate yes\n",
	          "users.conf:2: unknown directive 'frobnicate' (not a snmptrapd.conf directive)");
	/* Net-SNMP compares directives without regard to case */
	st_usm_users_t *users = parse_ok("AUTHUSER log u1\nformat2 %%V\ncreateuser u1\n");
	cr_assert_eq(st_usm_users_count(users), 1);
	st_usm_users_free(users);
	/* a general Net-SNMP token (snmptrapd -H lists it) */
	users = parse_ok("16bitIDs yes\n[snmp] 16bitids no\ncreateUser u1\n");
	cr_assert_eq(st_usm_users_count(users), 1);
	st_usm_users_free(users);
	/* includes are Net-SNMP directives too, but users in them would be
	 * missing without a word */
	parse_err("createUser u1\nincludeFile /etc/snmp/users.d/site.conf\n",
	          "users.conf:2: 'includeFile' is not followed: put the createUser lines in "
	          "this file");
	parse_err("includedir /etc/snmp/users.d\n",
	          "users.conf:1: 'includedir' is not followed: put the createUser lines in this "
	          "file");
}

/*
 * A line refused after its keys were decoded must not leave them on the
 * stack. The parse runs on a thread whose stack is a buffer of ours; the
 * auth key (-m, 20 octets) is decoded, then the line is refused for its
 * priv key's length; afterwards no copy of the key may be left anywhere
 * in that stack.
 */
static const uint8_t wipe_key[20] = {0x5a, 0xc3, 0x17, 0xe9, 0x42, 0x8b, 0x0d, 0xf6, 0x71, 0x2e,
                                     0xa4, 0x39, 0xd0, 0x66, 0x1b, 0x95, 0xce, 0x03, 0x7f, 0xb8};

static void *wipe_parse(void *arg)
{
	st_usm_users_t *users = NULL;
	char err[256];
	/* -m 5ac317e9... (wipe_key) then a 2-octet -m priv key: refused */
	int rc = st_usm_users_parse("createUser -e 0x80001f8880aabbccdd u1 SHA -m "
	                            "5ac317e9428b0df6712ea439d0661b95ce037fb8 AES -m 0011\n",
	                            "users.conf", &users, err, sizeof(err));
	*(int *)arg = rc;
	return NULL;
}

Test(users, refused_line_leaves_no_key_on_the_stack)
{
	size_t size = 1 << 20;
	uint8_t *stack = aligned_alloc(4096, size);
	pthread_attr_t attr;
	pthread_t t;
	int rc = 0, found = 0;

	cr_assert_not_null(stack);
	memset(stack, 0, size);
	cr_assert_eq(pthread_attr_init(&attr), 0);
	cr_assert_eq(pthread_attr_setstack(&attr, stack, size), 0);
	cr_assert_eq(pthread_create(&t, &attr, wipe_parse, &rc), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	cr_assert_eq(rc, ST_ERR_CONFIG);
	for (size_t i = 0; i + sizeof(wipe_key) <= size; i++)
		found |= memcmp(stack + i, wipe_key, sizeof(wipe_key)) == 0;
	free(stack);
	cr_assert_not(found, "a refused line left its decoded key on the stack");
}

/*
 * What the parser hands back to the heap must hold no secret: test_usm is
 * linked with -Wl,--wrap=free,--wrap=realloc (tests/CMakeLists.txt), so
 * every block the library frees, or passes to realloc() (which may free
 * it as it is), is scanned for the watched bytes first.
 */
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
static const void *watch;
static size_t watch_len;
static int watch_hits;

static void watch_block(void *p)
{
	size_t n;

	if (!p || !watch)
		return;
	n = malloc_usable_size(p);
	for (size_t i = 0; i + watch_len <= n; i++) {
		if (memcmp((const char *)p + i, watch, watch_len) == 0) {
			watch_hits++;
			return;
		}
	}
}

void *__wrap_realloc(void *p, size_t n)
{
	watch_block(p);
	return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
	watch_block(p);
	__real_free(p);
}

Test(users, growing_the_user_array_leaves_no_key_in_the_heap)
{
	/* 17 users: the array of 16 grows once; the first user's localized
	 * key (-l, wipe_key) is in the array it outgrows */
	char text[2048] = "createUser -e 0x80001f8880aabbccdd u0 SHA -l "
	                  "5ac317e9428b0df6712ea439d0661b95ce037fb8\n";

	for (int i = 1; i < 17; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "createUser u%d\n", i);
	watch = wipe_key;
	watch_len = sizeof(wipe_key);
	st_usm_users_t *users = parse_ok(text);
	cr_assert_eq(st_usm_users_count(users), 17);
	cr_assert_eq(memcmp(users->user[0].keys.auth_key, wipe_key, sizeof(wipe_key)), 0);
	st_usm_users_free(users);
	watch = NULL;
	cr_assert_eq(watch_hits, 0, "a block holding a key went back to the heap unwiped");
}

Test(users, reading_a_long_file_leaves_no_passphrase_in_the_heap)
{
	/* the passphrase is in the first 8 KiB read; the file is longer, so
	 * the buffer it was read into grows */
	static const char pass[] = "Xq3-watched-passphrase-7Lm";
	char path[] = "/tmp/st_usm_users_XXXXXX", line[128];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	snprintf(line, sizeof(line), "createUser u1 SHA %s AES\n", pass);
	cr_assert_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	for (int i = 0; i < 400; i++) {
		static const char pad[] = "# a long comment to make the file longer than 8 KiB\n";
		cr_assert_eq(write(fd, pad, sizeof(pad) - 1), (ssize_t)(sizeof(pad) - 1));
	}
	close(fd);
	watch = pass;
	watch_len = sizeof(pass) - 1;
	st_usm_users_t *users = NULL;
	char err[512];
	cr_assert_eq(st_usm_users_load(path, &users, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st_usm_users_count(users), 1);
	st_usm_users_free(users);
	watch = NULL;
	unlink(path);
	cr_assert_eq(watch_hits, 0, "a block holding a passphrase went back to the heap unwiped");
}

Test(users, bounds_users_sharing_a_name)
{
	char text[4096] = "";
	for (int i = 0; i < 16; i++)
		strcat(text, "createUser x SHA authpass123\n");
	st_usm_users_t *users = parse_ok(text);
	cr_assert_eq(st_usm_users_count(users), 16);
	st_usm_users_free(users);
	/* 16 bound to one engine are fine next to 16 unbound */
	char more[8192];
	snprintf(more, sizeof(more), "%s", text);
	for (int i = 0; i < 16; i++)
		strcat(more, "createUser -e 0x8000000001 x SHA authpass123\n");
	users = parse_ok(more);
	st_usm_users_free(users);
	strcat(text, "createUser x SHA authpass123\n");
	parse_err(text, "users.conf:17: more than 16 users named 'x' without -e");
}

Test(users, load_reads_a_file_and_names_it_in_errors)
{
	char path[] = "/tmp/st_usm_users_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char *text = "createUser u1 SHA authpass123 AES privpass123\ncreateUser u2 MD4 x\n";
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	st_usm_users_t *users = NULL;
	char err[512], want[600];
	cr_assert_eq(st_usm_users_load(path, &users, err, sizeof(err)), ST_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:2: unknown auth protocol 'MD4'", path);
	cr_assert_str_eq(err, want);

	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	size_t first = (size_t)(strchr(text, '\n') - text) + 1; /* the first line only */
	cr_assert_eq(write(fd, text, first), (ssize_t)first);
	close(fd);
	cr_assert_eq(st_usm_users_load(path, &users, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st_usm_users_count(users), 1);
	st_usm_users_free(users);
	unlink(path);

	cr_assert_eq(st_usm_users_load("/nonexistent/users.conf", &users, err, sizeof(err)),
	             -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/users.conf: No such file or directory");
}

Test(users, empty_file_has_no_users)
{
	st_usm_users_t *users = parse_ok("# nothing here\n\n");
	cr_assert_eq(st_usm_users_count(users), 0);
	st_usm_users_free(users);
}
