/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users.c - the users file: snmptrapd.conf's createUser lines.
 *
 *   createUser [-e ENGINEID] NAME [AUTH (PASS | -m HEXKU | -l HEXKUL)
 *              [PRIV [(PASS | -m HEXKU | -l HEXKUL)]]]
 *
 * Words are split the way Net-SNMP's config reader splits them: blanks
 * separate, '...' or "..." quote (a backslash inside quotes takes the next
 * character literally), a line whose first non-blank character is '#' is a
 * comment. A '#' inside a line is part of a word (passphrases may hold it).
 * Every other directive of snmptrapd.conf (authUser, disableAuthorization,
 * traphandle, ...) is skipped, so an existing snmptrapd.conf loads as is;
 * a word that is no directive at all (a misspelt "createUserr") is an
 * error naming the file and line, and so is an include (includeFile,
 * includeDir, includeSearch), which is not followed. An optional "[app]"
 * prefix in front of a directive is skipped too.
 *
 * Keys are derived here, once: a passphrase costs one RFC 3414 A.2 hash
 * (1 MiB; the same passphrase and algorithm on several lines is hashed
 * once), a user bound to an engine (-e) gets its localized keys now, an
 * unbound user keeps the master keys Ku and is localized per engine when
 * that engine is first seen (see usm.c).
 *
 * When the privacy passphrase is left out it is the authentication one, as
 * in Net-SNMP (which copies the localized auth key; that is the same key).
 * The users are indexed by (name, bound engine or unbound) so a message
 * finds its candidates with two lookups whatever the number of users.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "usm_int.h"

#define MIN_PASS_LEN 8 /* RFC 3414 11.2; Net-SNMP refuses shorter ones */
#define MAX_WORDS    16

/*
 * realloc() for memory that holds keys or passphrases: the old block is
 * copied, wiped and freed (realloc() would free it as it is, leaving the
 * secrets in the heap). @return the new block; NULL with old untouched.
 */
static void *grow_wiped(void *old, size_t used, size_t size)
{
	void *p = malloc(size);

	if (!p)
		return NULL;
	if (old) {
		memcpy(p, old, used);
		st_usm_wipe(old, used);
		free(old);
	}
	return p;
}

/* password → Ku, memoized per parse: the 1 MiB hash is the slow part */
typedef struct ku_memo_ent {
	uint64_t hash;
	int auth;
	size_t pass_len;
	char *pass;
	uint8_t ku[ST_USM_KEY_MAX];
} ku_memo_ent_t;

typedef struct ku_memo {
	ku_memo_ent_t *ent;
	size_t n, cap; /* cap: power of two, open addressing */
} ku_memo_t;

typedef struct parser {
	const char *file;
	int line;
	char *err;
	size_t errlen;
	ku_memo_t memo;
	st_usm_user_t *user;
	size_t n, cap;
} parser_t;

static int perr(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(parser_t *ps, const char *fmt, ...)
{
	if (ps->err && ps->errlen) {
		int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, ps->line);
		if (n >= 0 && (size_t)n < ps->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return ST_ERR_CONFIG;
}

static void memo_free(ku_memo_t *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->ent[i].pass) {
			st_usm_wipe(m->ent[i].pass, m->ent[i].pass_len);
			free(m->ent[i].pass);
		}
	}
	if (m->ent)
		st_usm_wipe(m->ent, m->cap * sizeof(*m->ent));
	free(m->ent);
	memset(m, 0, sizeof(*m));
}

static int memo_grow(ku_memo_t *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	ku_memo_ent_t *ent = calloc(cap, sizeof(*ent));
	if (!ent)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->ent[i].pass)
			continue;
		size_t j = m->ent[i].hash & (cap - 1);
		while (ent[j].pass)
			j = (j + 1) & (cap - 1);
		ent[j] = m->ent[i];
	}
	if (m->ent)
		st_usm_wipe(m->ent, m->cap * sizeof(*m->ent));
	free(m->ent);
	m->ent = ent;
	m->cap = cap;
	return 0;
}

/* Ku for (auth, pass), hashing it only the first time. */
static int pass_to_ku(parser_t *ps, int auth, const char *pass, uint8_t *ku)
{
	ku_memo_t *m = &ps->memo;
	size_t len = strlen(pass);
	uint64_t h = st_usm_hash(pass, len, (uint64_t)auth);
	int rc;

	if (m->n * 2 >= m->cap && (rc = memo_grow(m)) < 0)
		return rc;
	size_t j = h & (m->cap - 1);
	for (; m->ent[j].pass; j = (j + 1) & (m->cap - 1)) {
		ku_memo_ent_t *e = &m->ent[j];
		if (e->hash == h && e->auth == auth && e->pass_len == len &&
		    memcmp(e->pass, pass, len) == 0) {
			memcpy(ku, e->ku, st_usm_auth_tab[auth].key_len);
			return 0;
		}
	}
	ku_memo_ent_t *e = &m->ent[j];
	size_t ku_len = ST_USM_KEY_MAX;
	rc = st_usm_password_to_key(auth, pass, len, e->ku, &ku_len);
	if (rc < 0)
		return rc;
	e->pass = malloc(len + 1);
	if (!e->pass)
		return -ENOMEM;
	memcpy(e->pass, pass, len + 1);
	e->pass_len = len;
	e->hash = h;
	e->auth = auth;
	m->n++;
	memcpy(ku, e->ku, ku_len);
	return 0;
}

/* Split line into words in place (quotes removed, escapes resolved). */
static int split_words(parser_t *ps, char *line, char **word, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return perr(ps, "too many words");
		char *out = p, *start = p;
		if (*p == '"' || *p == '\'') {
			char quote = *p++;
			while (*p && *p != quote) {
				if (*p == '\\' && p[1])
					p++;
				*out++ = *p++;
			}
			if (!*p)
				return perr(ps, "no closing %c", quote);
			p++;
			if (*p && *p != ' ' && *p != '\t' && *p != '\r')
				return perr(ps, "text right after a closing quote");
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\r')
				*out++ = *p++;
		}
		if (*p)
			p++;
		*out = '\0';
		word[n++] = start;
	}
}

/* A key given as -m/-l hex or a passphrase. */
typedef struct keyspec {
	int kind; /* ST_USM_KEY_* */
	const char *pass;
	uint8_t key[ST_USM_KEY_MAX];
	size_t len;
} keyspec_t;

static int read_keyspec(parser_t *ps, char **word, int n, int *i, const char *what, keyspec_t *ks)
{
	const char *w = word[*i];
	if (strcmp(w, "-m") == 0 || strcmp(w, "-l") == 0) {
		ks->kind = w[1] == 'm' ? ST_USM_KEY_MASTER : ST_USM_KEY_LOCAL;
		if (*i + 1 >= n)
			return perr(ps, "%s: %s needs a hex key", what, w);
		int len = st_usm_hex_decode(word[*i + 1], ks->key, sizeof(ks->key));
		if (len <= 0)
			return perr(ps, "%s: '%s' is not a hex key of at most %d octets", what,
			            word[*i + 1], ST_USM_KEY_MAX);
		ks->len = (size_t)len;
		*i += 2;
		return 0;
	}
	ks->kind = ST_USM_KEY_PASS;
	ks->pass = w;
	if (strlen(w) < MIN_PASS_LEN)
		return perr(ps, "%s passphrase is shorter than %d characters", what, MIN_PASS_LEN);
	*i += 1;
	return 0;
}

/* One createUser line as read, before and while its keys are derived.
 * Holds key material: every path out of add_user() wipes it. */
typedef struct user_spec {
	st_usm_user_t u;
	keyspec_t aks, pks;
} user_spec_t;

/* "[-e ENGINEID]": binds the user to one engine. */
static int read_engine_option(parser_t *ps, char **word, int n, int *i, st_usm_user_t *u)
{
	if (*i >= n || strcmp(word[*i], "-e") != 0)
		return 0;
	if (*i + 1 >= n)
		return perr(ps, "-e needs an engine ID");
	int len = st_usm_hex_decode(word[*i + 1], u->engine, sizeof(u->engine));
	if (len <= 0)
		return perr(ps, "bad engine ID '%s' (hex, 1..32 octets, 0x optional)",
		            word[*i + 1]);
	u->engine_len = (uint8_t)len;
	u->bound = 1;
	*i += 2;
	return 0;
}

static int read_user_name(parser_t *ps, char **word, int n, int *i, st_usm_user_t *u)
{
	if (*i >= n)
		return perr(ps, "createUser needs a user name");
	if (word[*i][0] == '-')
		return perr(ps, "unknown option '%s'", word[*i]);
	size_t name_len = strlen(word[*i]);
	if (name_len == 0 || name_len > ST_USM_NAME_MAX)
		return perr(ps, "user name must be 1..%d characters", ST_USM_NAME_MAX);
	memcpy(u->name, word[*i], name_len);
	u->name_len = (uint8_t)name_len;
	*i += 1;
	return 0;
}

/* "[AUTH KEY [PRIV [KEY]]]": the protocols and how their keys are given. */
static int read_protocols(parser_t *ps, char **word, int n, int *i, user_spec_t *sp)
{
	st_usm_user_t *u = &sp->u;
	int rc;

	u->keys.auth = ST_USM_AUTH_NONE;
	u->keys.priv = ST_USM_PRIV_NONE;
	if (*i < n) {
		int auth = st_usm_auth_from_name(word[*i]);
		if (auth < 0)
			return perr(ps, "unknown auth protocol '%s'", word[*i]);
		u->keys.auth = (uint8_t)auth;
		u->level = ST_MSGFLAG_AUTH;
		*i += 1;
		if (*i >= n)
			return perr(ps, "user '%s': missing auth passphrase or key", u->name);
		if ((rc = read_keyspec(ps, word, n, i, "auth", &sp->aks)) < 0)
			return rc;
	}
	if (*i < n) {
		int priv = st_usm_priv_from_name(word[*i]);
		if (priv < 0)
			return perr(ps, "unknown priv protocol '%s'", word[*i]);
		u->keys.priv = (uint8_t)priv;
		u->level |= ST_MSGFLAG_PRIV;
		*i += 1;
		if (*i < n) {
			if ((rc = read_keyspec(ps, word, n, i, "priv", &sp->pks)) < 0)
				return rc;
		} else {
			sp->pks = sp->aks; /* Net-SNMP: no priv passphrase = the auth one */
		}
	}
	if (*i < n)
		return perr(ps, "unexpected '%s' at the end of createUser", word[*i]);
	return 0;
}

/* Keys given as hex must have the lengths their protocols need. */
static int check_key_lengths(parser_t *ps, const user_spec_t *sp)
{
	const st_usm_user_t *u = &sp->u;
	size_t kl = st_usm_auth_tab[u->keys.auth].key_len;
	size_t need = st_usm_priv_tab[u->keys.priv].need;

	if (!(u->level & ST_MSGFLAG_AUTH))
		return 0;
	if ((sp->aks.kind == ST_USM_KEY_LOCAL || sp->pks.kind == ST_USM_KEY_LOCAL) && !u->bound)
		return perr(ps, "user '%s': -l (a localized key) needs -e ENGINEID", u->name);
	if (sp->aks.kind != ST_USM_KEY_PASS && sp->aks.len != kl)
		return perr(ps, "user '%s': %s auth key must be %zu octets for %s, got %zu",
		            u->name, sp->aks.kind == ST_USM_KEY_MASTER ? "-m" : "-l", kl,
		            st_usm_auth_tab[u->keys.auth].name, sp->aks.len);
	if (!(u->level & ST_MSGFLAG_PRIV))
		return 0;
	if (sp->pks.kind == ST_USM_KEY_MASTER && sp->pks.len != kl)
		return perr(ps, "user '%s': -m priv key must be %zu octets for %s, got %zu",
		            u->name, kl, st_usm_auth_tab[u->keys.auth].name, sp->pks.len);
	if (sp->pks.kind == ST_USM_KEY_LOCAL && sp->pks.len != kl && sp->pks.len < need)
		return perr(
		        ps,
		        "user '%s': -l priv key must be %zu octets (or %zu..%d for %s), got %zu",
		        u->name, kl, need, ST_USM_KEY_MAX, st_usm_priv_tab[u->keys.priv].name,
		        sp->pks.len);
	return 0;
}

/* A master key Ku from a passphrase (memoized) or from -m. */
static int master_key(parser_t *ps, int auth, const keyspec_t *ks, uint8_t *ku)
{
	if (ks->kind == ST_USM_KEY_PASS)
		return pass_to_ku(ps, auth, ks->pass, ku);
	memcpy(ku, ks->key, st_usm_auth_tab[auth].key_len);
	return 0;
}

/* Master keys from passphrases or -m; localized keys from -l. */
static int derive_keys(parser_t *ps, user_spec_t *sp)
{
	st_usm_user_t *u = &sp->u;
	int rc = 0;

	if (u->level & ST_MSGFLAG_AUTH) {
		if (sp->aks.kind == ST_USM_KEY_LOCAL)
			memcpy(u->keys.auth_key, sp->aks.key,
			       st_usm_auth_tab[u->keys.auth].key_len);
		else if ((rc = master_key(ps, u->keys.auth, &sp->aks, u->auth_ku)) < 0)
			return rc;
	}
	if (u->level & ST_MSGFLAG_PRIV) {
		if (sp->pks.kind == ST_USM_KEY_LOCAL)
			rc = st_usm_extend_key(u->keys.auth, u->keys.priv, sp->pks.key, sp->pks.len,
			                       u->engine, u->engine_len, u->keys.priv_key, NULL);
		else
			rc = master_key(ps, u->keys.auth, &sp->pks, u->priv_ku);
	}
	return rc;
}

/* A user bound to an engine gets its localized keys now and keeps no
 * master key; an unbound one is localized per engine when first seen. */
static int localize_bound_user(user_spec_t *sp)
{
	st_usm_user_t *u = &sp->u;
	size_t kl = st_usm_auth_tab[u->keys.auth].key_len;
	int rc;

	if (!u->bound || !(u->level & ST_MSGFLAG_AUTH))
		return 0;
	if (sp->aks.kind != ST_USM_KEY_LOCAL) {
		size_t len = ST_USM_KEY_MAX;
		rc = st_usm_localize(u->keys.auth, u->auth_ku, kl, u->engine, u->engine_len,
		                     u->keys.auth_key, &len);
		if (rc < 0)
			return rc;
	}
	if ((u->level & ST_MSGFLAG_PRIV) && sp->pks.kind != ST_USM_KEY_LOCAL) {
		uint8_t kul[ST_USM_KEY_MAX];
		size_t len = sizeof(kul);
		rc = st_usm_localize(u->keys.auth, u->priv_ku, kl, u->engine, u->engine_len, kul,
		                     &len);
		if (rc == 0)
			rc = st_usm_extend_key(u->keys.auth, u->keys.priv, kul, len, u->engine,
			                       u->engine_len, u->keys.priv_key, NULL);
		st_usm_wipe(kul, sizeof(kul));
		if (rc < 0)
			return rc;
	}
	st_usm_wipe(u->auth_ku, sizeof(u->auth_ku));
	st_usm_wipe(u->priv_ku, sizeof(u->priv_ku));
	return 0;
}

static int store_user(parser_t *ps, const st_usm_user_t *u)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		st_usm_user_t *nu = grow_wiped(ps->user, ps->n * sizeof(*nu), cap * sizeof(*nu));
		if (!nu)
			return -ENOMEM;
		ps->user = nu;
		ps->cap = cap;
	}
	ps->user[ps->n++] = *u;
	return 0;
}

/* One createUser line (the words after the directive). */
static int add_user(parser_t *ps, char **word, int n)
{
	user_spec_t sp;
	int i = 0, rc;

	memset(&sp, 0, sizeof(sp));
	sp.u.line = ps->line;
	if ((rc = read_engine_option(ps, word, n, &i, &sp.u)) < 0 ||
	    (rc = read_user_name(ps, word, n, &i, &sp.u)) < 0 ||
	    (rc = read_protocols(ps, word, n, &i, &sp)) < 0 ||
	    (rc = check_key_lengths(ps, &sp)) < 0)
		goto out; /* perr() said what is wrong */
	if ((rc = derive_keys(ps, &sp)) < 0 || (rc = localize_bound_user(&sp)) < 0) {
		rc = rc == -ENOMEM ? perr(ps, "out of memory")
		                   : perr(ps, "cannot derive keys (%s)", st_strerror(rc));
		goto out;
	}
	sp.u.keys.id = sp.u.bound ? st_usm_key_id() : 0;
	if ((rc = store_user(ps, &sp.u)) < 0)
		rc = perr(ps, "out of memory");
out:
	st_usm_wipe(&sp, sizeof(sp));
	return rc;
}

/*
 * Every directive Net-SNMP's snmptrapd reads from its configuration files
 * (snmptrapd -H, Net-SNMP 5.9, plus the persistent-state tokens): an
 * existing snmptrapd.conf loads as is, and a word that is none of them
 * (a misspelt "createUserr") is an error instead of a user that silently
 * does not exist. Net-SNMP compares them without regard to case.
 */
static const char *const known_directives[] = {
        "16bitIDs",
        "access",
        "addForwarderInfo",
        "add_row",
        "agentaddress",
        "agentgroup",
        "agentSecName",
        "agentuser",
        "agentxperms",
        "agentxRetries",
        "agentxsocket",
        "agentxTimeout",
        "alias",
        "authaccess",
        "authcommunity",
        "authgroup",
        "authtrapenable",
        "authuser",
        "avgBulkVarbindSize",
        "certSecName",
        "clientaddr",
        "clientaddrUsesPort",
        "clientRecvBuf",
        "clientSendBuf",
        "com2sec",
        "com2sec6",
        "com2secunix",
        "commentToEOL",
        "createUser",
        "debugLogLevel",
        "debugTokens",
        "defaultPort",
        "defAuthLocalizedKey",
        "defAuthMasterKey",
        "defAuthPassphrase",
        "defAuthType",
        "defCommunity",
        "defContext",
        "defDomain",
        "defPassphrase",
        "defPrivLocalizedKey",
        "defPrivMasterKey",
        "defPrivPassphrase",
        "defPrivType",
        "defSecurityLevel",
        "defSecurityModel",
        "defSecurityName",
        "defTarget",
        "defVersion",
        "disableAuthorization",
        "disablePerl",
        "disableSNMPv1",
        "disableSNMPv2c",
        "disableSNMPv3",
        "doDebugging",
        "doNotFork",
        "doNotLogTraps",
        "doNotRetainNotificationLogs",
        "dontBreakdownOids",
        "dontLoadHostConfig",
        "dontLogTCPWrappersConnects",
        "dontPrintUnits",
        "dontRetainLogs",
        "dumpPacket",
        "engineBoots",
        "engineID",
        "engineIDNic",
        "engineIDType",
        "escapeQuotes",
        "extendedIndex",
        "extraX509SubDir",
        "format",
        "format1",
        "format2",
        "forward",
        "group",
        "hexOutputLength",
        "ignoreAuthFailure",
        "informsink",
        "injectHandler",
        "iquerySecLevel",
        "iquerySecName",
        "iqueryVersion",
        "leave_pidfile",
        "localCert",
        "logOption",
        "logTimestamp",
        "master",
        "maxGetbulkRepeats",
        "maxGetbulkResponses",
        "mibAllowUnderline",
        "mibdirs",
        "mibfile",
        "mibReplaceWithLatest",
        "mibs",
        "mibWarningLevel",
        "noContextEngineIDDiscovery",
        "noDisplayHint",
        "noPersistentLoad",
        "noPersistentSave",
        "noRangeCheck",
        "noTokenWarnings",
        "numericTimeticks",
        "oidOutputFormat",
        "oldEngineID",
        "outputOption",
        "outputPrecision",
        "pduStatsMax",
        "pduStatsThreshold",
        "peerCert",
        "perl",
        "perlInitFile",
        "persistentDir",
        "pidFile",
        "printEventNumbers",
        "printHexText",
        "printNumericEnums",
        "printNumericOids",
        "printValueOnly",
        "quickPrinting",
        "quit",
        "retries",
        "reverseEncodeBER",
        "rocommunity",
        "rocommunity6",
        "rouser",
        "rwcommunity",
        "rwcommunity6",
        "rwuser",
        "sendMessageMaxSize",
        "serverRecvBuf",
        "serverSendBuf",
        "setaccess",
        "setserialno",
        "showMibErrors",
        "smuxpeer",
        "smuxsocket",
        "snmpTlstmAddr",
        "snmpTlstmParams",
        "snmpTrapdAddr",
        "sourceFilterAddress",
        "sourceFilterType",
        "sqlMaxQueue",
        "sqlSaveInterval",
        "strictCommentTerm",
        "suffixPrinting",
        "table",
        "tempFilePattern",
        "timeout",
        "tlsAlgorithms",
        "trap2sink",
        "trapcommunity",
        "traphandle",
        "trapsess",
        "trapsink",
        "trustCert",
        "tsmUseTransportPrefix",
        "usmUser",
        "v1trapaddress",
        "view",
        "x509CRLFile",
};

static int known_directive(const char *word)
{
	for (size_t i = 0; i < sizeof(known_directives) / sizeof(known_directives[0]); i++)
		if (strcasecmp(word, known_directives[i]) == 0)
			return 1;
	return 0;
}

static int parse_line(parser_t *ps, char *line)
{
	char *word[MAX_WORDS];
	char *p = line;
	int n, i = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#' || *p == '\0' || *p == '\r')
		return 0;
	n = split_words(ps, p, word, MAX_WORDS);
	if (n <= 0)
		return n;
	if (word[0][0] == '[' && word[0][strlen(word[0]) - 1] == ']')
		i = 1;
	if (i >= n)
		return 0;
	if (strcasecmp(word[i], "createUser") == 0)
		return add_user(ps, word + i + 1, n - i - 1);
	if (strcasecmp(word[i], "includeFile") == 0 || strcasecmp(word[i], "includeDir") == 0 ||
	    strcasecmp(word[i], "includeSearch") == 0)
		/* skipping it would leave the users it names out, unseen */
		return perr(ps, "'%s' is not followed: put the createUser lines in this file",
		            word[i]);
	if (known_directive(word[i]))
		return 0; /* another snmptrapd.conf directive */
	if (strncasecmp(word[i], "createUser", 6) == 0)
		return perr(ps, "unknown directive '%s' (did you mean createUser?)", word[i]);
	return perr(ps, "unknown directive '%s' (not a snmptrapd.conf directive)", word[i]);
}

static uint64_t bucket_hash(const uint8_t *name, size_t name_len, int bound, const uint8_t *engine,
                            size_t engine_len)
{
	uint64_t h = st_usm_hash(name, name_len, 0x5553u);
	if (bound)
		h ^= st_usm_hash(engine, engine_len, h);
	return h;
}

const st_usm_ubucket_t *st_usm_users_find(const st_usm_users_t *users, const uint8_t *name,
                                          size_t name_len, int bound, const uint8_t *engine,
                                          size_t engine_len)
{
	if (!users || !users->nbuckets)
		return NULL;
	uint64_t h = bucket_hash(name, name_len, bound, engine, engine_len);
	for (const st_usm_ubucket_t *b = users->bucket[h & (users->nbuckets - 1)]; b; b = b->next) {
		if (b->hash == h && b->bound == bound && b->name_len == name_len &&
		    memcmp(b->name, name, name_len) == 0 &&
		    (!bound ||
		     (b->engine_len == engine_len && memcmp(b->engine, engine, engine_len) == 0)))
			return b;
	}
	return NULL;
}

static int build_index(parser_t *ps, st_usm_users_t *users)
{
	size_t nb = 16;
	while (nb < users->n * 2)
		nb *= 2;
	users->nbuckets = nb;
	users->bucket = calloc(nb, sizeof(*users->bucket));
	users->pool = calloc(users->n ? users->n : 1, sizeof(*users->pool));
	if (!users->bucket || !users->pool)
		return -ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < users->n; i++) {
		const st_usm_user_t *u = &users->user[i];
		st_usm_ubucket_t *b = (st_usm_ubucket_t *)st_usm_users_find(
		        users, (const uint8_t *)u->name, u->name_len, u->bound, u->engine,
		        u->engine_len);
		if (!b) {
			b = &users->pool[used++];
			b->hash = bucket_hash((const uint8_t *)u->name, u->name_len, u->bound,
			                      u->engine, u->engine_len);
			b->bound = u->bound;
			b->name = u->name;
			b->name_len = u->name_len;
			b->engine = u->engine;
			b->engine_len = u->engine_len;
			b->next = users->bucket[b->hash & (nb - 1)];
			users->bucket[b->hash & (nb - 1)] = b;
		}
		if (b->n == ST_USM_MAX_SAME_NAME) {
			ps->line = u->line;
			return perr(ps, "more than %d users named '%s' %s", ST_USM_MAX_SAME_NAME,
			            u->name, u->bound ? "for this engine ID" : "without -e");
		}
		b->users[b->n++] = u;
	}
	return 0;
}

int st_usm_users_parse(const char *text, const char *name, st_usm_users_t **out, char *err,
                       size_t errlen)
{
	parser_t ps = {.file = name ? name : "users", .err = err, .errlen = errlen};
	st_usm_users_t *users = NULL;
	char *copy = NULL;
	int rc = 0;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!st_usm_crypto()) {
		if (err && errlen)
			snprintf(err, errlen, "%s: OpenSSL cannot provide the USM algorithms",
			         ps.file);
		return ST_ERR_USM_CRYPTO;
	}
	copy = strdup(text ? text : "");
	if (!copy)
		return -ENOMEM;
	for (char *line = copy; line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ps.line++;
		if ((rc = parse_line(&ps, line)) < 0)
			goto out;
		line = nl ? nl + 1 : NULL;
	}
	users = calloc(1, sizeof(*users));
	if (!users || !(users->file = strdup(ps.file))) {
		rc = -ENOMEM;
		goto out;
	}
	users->n = ps.n;
	users->user = ps.user;
	ps.user = NULL;
	if ((rc = build_index(&ps, users)) < 0) {
		if (rc == -ENOMEM)
			perr(&ps, "out of memory");
		goto out;
	}
	*out = users;
	users = NULL;
out:
	st_usm_wipe(copy, strlen(text ? text : ""));
	free(copy);
	memo_free(&ps.memo);
	if (ps.user) {
		st_usm_wipe(ps.user, ps.cap * sizeof(*ps.user));
		free(ps.user);
	}
	st_usm_users_free(users);
	return rc;
}

int st_usm_users_load(const char *path, st_usm_users_t **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nt = grow_wiped(text, len, ncap);
			if (!nt) {
				rc = -ENOMEM;
				goto out;
			}
			text = nt;
			cap = ncap;
		}
		size_t n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		if (err && errlen)
			snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		rc = ST_ERR_CONFIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	rc = st_usm_users_parse(text, path, out, err, errlen);
out:
	if (text) {
		st_usm_wipe(text, cap);
		free(text);
	}
	fclose(f);
	return rc;
}

size_t st_usm_users_count(const st_usm_users_t *users)
{
	return users ? users->n : 0;
}

void st_usm_users_free(st_usm_users_t *users)
{
	if (!users)
		return;
	if (users->user) {
		st_usm_wipe(users->user, users->n * sizeof(*users->user));
		free(users->user);
	}
	free(users->bucket);
	free(users->pool);
	free(users->file);
	free(users);
}

int st_usm_users_check(const st_usm_users_t *users, char *err, size_t errlen)
{
	const st_usm_crypto_t *cr = st_usm_crypto();
	if (!cr) {
		if (err && errlen)
			snprintf(err, errlen, "OpenSSL cannot provide the USM algorithms");
		return ST_ERR_USM_CRYPTO;
	}
	if (!users)
		return 0;
	for (size_t i = 0; i < users->n; i++) {
		const st_usm_user_t *u = &users->user[i];
		if (u->keys.priv != ST_USM_PRIV_NONE && !cr->cipher[u->keys.priv]) {
			if (err && errlen)
				snprintf(err, errlen,
				         "%s:%d: user '%s' needs %s, which this OpenSSL cannot "
				         "provide (its legacy provider did not load)",
				         users->file, u->line, u->name,
				         st_usm_priv_tab[u->keys.priv].name);
			return ST_ERR_CONFIG;
		}
	}
	return 0;
}
