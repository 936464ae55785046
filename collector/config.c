/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - the collector's configuration: the key table, applying a
 * key from any source, environment and command line, checks.
 *
 * Everything is driven by the key table in config_keys.h, expanded here
 * into an array of descriptors (name, type, field offset, default,
 * bounds, validator, doc). Each source reduces to the same step: find
 * the descriptor for a dotted key name, parse the text into a value of
 * the key's type (st_config_parse, config_value.c), and only when that
 * succeeded, store it (st_config_store) and note the source. Errors are
 * built as "<where>: <key>: <why>", where <where> is "file:line", the
 * environment variable, "--set" or "command line".
 *
 * The librdkafka properties are a family, not rows: any key below
 * output.kafka.rdkafka. is kept verbatim as a name/value pair, because
 * only librdkafka knows which properties exist.
 *
 * The YAML (config_yaml.c) and environment loaders work on a deep copy
 * of the configuration and swap it in only when the whole source
 * applied, so a failed load (or a failed reload) leaves the configuration
 * as it was. config_impl.h lists the other files of the module.
 *
 * This is setup code: it allocates freely and runs on the main thread.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config_impl.h"

/* ------------------------------------------------------------------ */
/* The table, expanded                                                */
/* ------------------------------------------------------------------ */

#define ST_CONFIG_WORD_(E, C, S)  S,
#define ST_CONFIG_VALUE_(E, C, S) C,
#define ST_CONFIG_WORDS_(E)                                                                        \
	static const char *const st_config_words_##E[] = {ST_CONFIG_ENUM_##E(ST_CONFIG_WORD_)      \
	                                                          NULL};                           \
	static const int st_config_values_##E[] = {ST_CONFIG_ENUM_##E(ST_CONFIG_VALUE_)};
ST_CONFIG_ENUMS(ST_CONFIG_WORDS_)

#define ST_CONFIG_KEY_STR_(F, N, D, C, FL, DOC)                                                    \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_STRING,                                                               \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_str = D,                                                                             \
	 .check = C,                                                                               \
	 .flags = FL,                                                                              \
	 .doc = DOC},
#define ST_CONFIG_KEY_LIST_(F, N, D, C, FL, DOC)                                                   \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_LIST,                                                                 \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_str = D,                                                                             \
	 .check = C,                                                                               \
	 .flags = FL,                                                                              \
	 .doc = DOC},
#define ST_CONFIG_KEY_BOOL_(F, N, D, DOC)                                                          \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_BOOL,                                                                 \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_num = D,                                                                             \
	 .doc = DOC},
#define ST_CONFIG_KEY_NUM_(F, N, K, D, LO, HI, FL, DOC)                                            \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_##K,                                                                  \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_num = D,                                                                             \
	 .lo = LO,                                                                                 \
	 .hi = HI,                                                                                 \
	 .flags = FL,                                                                              \
	 .doc = DOC},
#define ST_CONFIG_KEY_ENUM_(F, N, E, D, DOC)                                                       \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_ENUM,                                                                 \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_num = D,                                                                             \
	 .words = st_config_words_##E,                                                             \
	 .values = st_config_values_##E,                                                           \
	 .doc = DOC},
#define ST_CONFIG_KEY_HEX_(F, N, D, LO, HI, DOC)                                                   \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_HEX,                                                                  \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_str = D,                                                                             \
	 .lo = LO,                                                                                 \
	 .hi = HI,                                                                                 \
	 .doc = DOC},

const st_config_key_t st_config_keys[ST_CONFIG_NKEYS] = {
        ST_CONFIG_KEYS(ST_CONFIG_KEY_STR_, ST_CONFIG_KEY_LIST_, ST_CONFIG_KEY_BOOL_,
                       ST_CONFIG_KEY_NUM_, ST_CONFIG_KEY_ENUM_, ST_CONFIG_KEY_HEX_)};

const char *const st_config_src_names[] = {"default", "file", "environment", "command line"};
/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

void *st_config_field(st_config_t *cfg, const st_config_key_t *key)
{
	return (char *)cfg + key->off;
}

const void *st_config_cfield(const st_config_t *cfg, const st_config_key_t *key)
{
	return (const char *)cfg + key->off;
}

const st_config_key_t *st_config_find(const char *name)
{
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++)
		if (strcmp(st_config_keys[i].name, name) == 0)
			return &st_config_keys[i];
	return NULL;
}

int st_config_is_rdkafka(const char *name)
{
	return strncmp(name, ST_CONFIG_RDKAFKA_PREFIX, ST_CONFIG_PREFIX_LEN) == 0;
}

int st_config_is_num(st_config_type_t t)
{
	return t == ST_CONFIG_T_UINT || t == ST_CONFIG_T_INT || t == ST_CONFIG_T_SIZE ||
	       t == ST_CONFIG_T_DURATION || t == ST_CONFIG_T_MODE;
}

/* The upper bound of a number key; "now" is taken when asked. */
int64_t st_config_hi(const st_config_key_t *key)
{
	if (key->flags & ST_CONFIG_F_MAX_NOW)
		return (int64_t)time(NULL);
	return key->hi;
}

/* Is this key's value a secret? Table rows say so with a flag; librdkafka
 * properties by name, since we cannot list every credential property. */
int st_config_secret_name(const char *name)
{
	const char *prop;

	if (strcasestr(name, "password") || strcasestr(name, "secret"))
		return 1;
	prop = st_config_is_rdkafka(name) ? name + ST_CONFIG_PREFIX_LEN : name;
	return strcmp(prop, "ssl.key.pem") == 0 || strcmp(prop, "sasl.oauthbearer.config") == 0;
}

/* Append "got '<text>'" (shortened, or "nothing") for error messages. */
/* The offending value, quoted for an error message that must stay one line:
 * control characters (a newline in a YAML string, an escape sequence) are
 * written as \xNN, so a value can neither break the message into several
 * lines nor inject anything into a log or the -T output. */
void st_config_got(char *buf, size_t len, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (!text || !*text || len < 16) {
		snprintf(buf, len, "got %s", text && *text ? "?" : "nothing");
		return;
	}
	o = (size_t)snprintf(buf, len, "got '");
	for (i = 0; text[i] && i < 64 && o + 5 < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	snprintf(buf + o, len - o, "%s'", text[i] ? "..." : "");
}

void st_config_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Applying a key from a source                                       */
/* ------------------------------------------------------------------ */

/* Edit distance, for "did you mean" on unknown keys (short names only). */
static size_t st_config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[ST_CONFIG_NAME_MAX + 1];

	if (la > ST_CONFIG_NAME_MAX || lb > ST_CONFIG_NAME_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The environment variable that sets a key: STORMTRAP_INGEST__BACKEND. */
void st_config_env_name(const char *name, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "%s", ST_CONFIG_ENV_PREFIX);

	for (const char *p = name; *p && o + 3 < len; p++) {
		if (*p == '.') {
			buf[o++] = '_';
			buf[o++] = '_';
		} else {
			buf[o++] = (char)toupper((unsigned char)*p);
		}
	}
	if (o < len)
		buf[o] = '\0';
}

int st_config_unknown(const char *where, const char *name, int env, char *err, size_t errlen)
{
	const st_config_key_t *best = NULL;
	size_t best_d = 3; /* suggest only within two edits */

	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		size_t d = st_config_distance(name, st_config_keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = &st_config_keys[i];
		}
	}
	if (strcmp(name, "output.kafka.rdkafka") == 0) {
		st_config_errf(err, errlen,
		               "%s: unknown key '%s' (librdkafka properties are set as "
		               "output.kafka.rdkafka.<property>)",
		               where, name);
	} else if (best && env) {
		char var[ST_CONFIG_NAME_MAX];

		st_config_env_name(best->name, var, sizeof(var));
		st_config_errf(err, errlen, "%s: unknown key '%s' (did you mean %s?)", where, name,
		               var);
	} else if (best) {
		st_config_errf(err, errlen, "%s: unknown key '%s' (did you mean '%s'?)", where,
		               name, best->name);
	} else {
		st_config_errf(err, errlen, "%s: unknown key '%s'", where, name);
	}
	return ST_ERR_CONFIG;
}

/* A librdkafka property name: letters, digits, '.', '_', '-', no empty part. */
static int st_config_rdkafka_name_ok(const char *prop)
{
	if (!*prop || *prop == '.' || prop[strlen(prop) - 1] == '.' || strstr(prop, ".."))
		return 0;
	for (const char *p = prop; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

static int st_config_set_rdkafka(st_config_t *cfg, const char *where, const char *name,
                                 const char *value, char *err, size_t errlen)
{
	const char *prop = name + ST_CONFIG_PREFIX_LEN;

	if (!st_config_rdkafka_name_ok(prop)) {
		st_config_errf(err, errlen, "%s: %s: '%s' is not a librdkafka property name", where,
		               name, prop);
		return ST_ERR_CONFIG;
	}
	if (st_config_pairs_set(&cfg->output_kafka_rdkafka, prop, value) < 0) {
		st_config_errf(err, errlen, "%s: %s: out of memory", where, name);
		return -ENOMEM;
	}
	return 0;
}

/* Set key name from text (lists: comma-separated), as source "where". */
int st_config_apply(st_config_t *cfg, const char *where, int origin, int env, const char *name,
                    const char *text, char *err, size_t errlen)
{
	const st_config_key_t *key;
	st_config_value_t val;
	char why[512];
	int rc;

	if (st_config_is_rdkafka(name))
		return st_config_set_rdkafka(cfg, where, name, text, err, errlen);
	key = st_config_find(name);
	if (!key)
		return st_config_unknown(where, name, env, err, errlen);
	rc = st_config_parse(key, text, &val, why, sizeof(why));
	if (rc == 0)
		st_config_store(cfg, key, &val, origin);
	else if (rc == -ENOMEM)
		st_config_errf(err, errlen, "%s: %s: out of memory", where, name);
	else
		st_config_errf(err, errlen, "%s: %s: %s", where, name, why);
	st_config_value_free(&val);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Init, free, copy                                                   */
/* ------------------------------------------------------------------ */

void st_config_free(st_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		void *f = st_config_field(cfg, key);

		if (key->type == ST_CONFIG_T_STRING) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (key->type == ST_CONFIG_T_LIST) {
			st_config_list_clear(f);
		}
	}
	st_config_pairs_clear(&cfg->output_kafka_rdkafka);
}

int st_config_init(st_config_t *cfg)
{
	char host[256];
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		const char *def = key->def_str;
		st_config_value_t val;
		int rc;

		if (key->flags & ST_CONFIG_F_HOSTNAME) {
			if (gethostname(host, sizeof(host)) < 0 || !host[0])
				snprintf(host, sizeof(host), "stormtrap");
			host[sizeof(host) - 1] = '\0';
			def = host;
		}
		switch (key->type) {
		case ST_CONFIG_T_STRING:
		case ST_CONFIG_T_LIST:
		case ST_CONFIG_T_HEX:
			/* the table's defaults are valid: only ENOMEM can fail */
			rc = st_config_parse(key, def, &val, why, sizeof(why));
			break;
		default:
			memset(&val, 0, sizeof(val));
			val.num = key->def_num;
			rc = 0;
			break;
		}
		if (rc == 0)
			st_config_store(cfg, key, &val, ST_CONFIG_SRC_DEFAULT);
		st_config_value_free(&val);
		if (rc < 0) {
			st_config_free(cfg);
			return rc == -ENOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

/* Deep copy, so loaders can work on a scratch configuration. */
int st_config_copy(st_config_t *dst, const st_config_t *src)
{
	*dst = *src;
	/* first detach every owned pointer, so a failure frees only copies */
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		void *f = st_config_field(dst, key);

		if (key->type == ST_CONFIG_T_STRING)
			*(char **)f = NULL;
		else if (key->type == ST_CONFIG_T_LIST)
			memset(f, 0, sizeof(st_config_list_t));
	}
	memset(&dst->output_kafka_rdkafka, 0, sizeof(dst->output_kafka_rdkafka));

	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		void *f = st_config_field(dst, key);
		const void *sf = st_config_cfield(src, key);

		if (key->type == ST_CONFIG_T_STRING) {
			*(char **)f = strdup(*(char *const *)sf);
			if (!*(char **)f)
				goto fail;
		} else if (key->type == ST_CONFIG_T_LIST) {
			if (st_config_list_copy(f, sf) < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < src->output_kafka_rdkafka.n; i++)
		if (st_config_pairs_set(&dst->output_kafka_rdkafka,
		                        src->output_kafka_rdkafka.kv[2 * i],
		                        src->output_kafka_rdkafka.kv[2 * i + 1]) < 0)
			goto fail;
	return 0;
fail:
	st_config_free(dst);
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Environment and command line                                       */
/* ------------------------------------------------------------------ */

int st_config_load_env(st_config_t *cfg, char **envp, char *err, size_t errlen)
{
	const size_t plen = strlen(ST_CONFIG_ENV_PREFIX);
	st_config_t tmp;
	int rc = 0;

	if (!envp)
		return 0;
	if (st_config_copy(&tmp, cfg) < 0) {
		st_config_errf(err, errlen, "environment: out of memory");
		return -ENOMEM;
	}
	for (char **e = envp; *e && rc == 0; e++) {
		const char *eq = strchr(*e, '=');
		char var[ST_CONFIG_NAME_MAX], name[ST_CONFIG_NAME_MAX];
		size_t vlen, o = 0;

		if (strncmp(*e, ST_CONFIG_ENV_PREFIX, plen) != 0 || !eq)
			continue;
		vlen = (size_t)(eq - *e);
		if (vlen >= sizeof(var)) {
			st_config_errf(err, errlen, "%.*s...: variable name too long", 40, *e);
			rc = ST_ERR_CONFIG;
			break;
		}
		memcpy(var, *e, vlen);
		var[vlen] = '\0';
		/* INGEST__RING_BYTES -> ingest.ring_bytes */
		for (const char *p = var + plen; *p; p++) {
			if (p[0] == '_' && p[1] == '_') {
				name[o++] = '.';
				p++;
			} else {
				name[o++] = (char)tolower((unsigned char)*p);
			}
		}
		name[o] = '\0';
		rc = st_config_apply(&tmp, var, ST_CONFIG_SRC_ENV, 1, name, eq + 1, err, errlen);
	}
	if (rc == 0) {
		st_config_free(cfg);
		*cfg = tmp;
	} else {
		st_config_free(&tmp);
	}
	return rc;
}

int st_config_set(st_config_t *cfg, const char *key, const char *value, const char *source,
                  char *err, size_t errlen)
{
	/* parse-then-store keeps cfg unchanged on failure without a copy */
	return st_config_apply(cfg, source ? source : "--set", ST_CONFIG_SRC_CLI, 0, key,
	                       value ? value : "", err, errlen);
}

int st_config_list_add(st_config_t *cfg, const char *key, const char *value, char *err,
                       size_t errlen)
{
	const char *where = "command line";
	const st_config_key_t *k = st_config_find(key);
	st_config_list_t *list;
	char why[512];
	char *item;

	if (!k)
		return st_config_unknown(where, key, 0, err, errlen);
	if (k->type != ST_CONFIG_T_LIST) {
		st_config_errf(err, errlen, "%s: %s: not a list", where, key);
		return ST_ERR_CONFIG;
	}
	if (!value || !*value) {
		st_config_errf(err, errlen, "%s: %s: empty list item", where, key);
		return ST_ERR_CONFIG;
	}
	if (k->check && k->check(value, why, sizeof(why)) < 0) {
		st_config_errf(err, errlen, "%s: %s: %s", where, key, why);
		return ST_ERR_CONFIG;
	}
	item = strdup(value);
	if (!item) {
		st_config_errf(err, errlen, "%s: %s: out of memory", where, key);
		return -ENOMEM;
	}
	list = st_config_field(cfg, k);
	if (!list->cli) {
		/* the first flag replaces the list lower sources gave */
		char **v = malloc(2 * sizeof(*v));

		if (!v) {
			free(item);
			st_config_errf(err, errlen, "%s: %s: out of memory", where, key);
			return -ENOMEM;
		}
		st_config_list_clear(list);
		v[0] = item;
		v[1] = NULL;
		list->v = v;
		list->n = 1;
		list->cli = true;
	} else if (st_config_list_push(list, item) < 0) {
		free(item);
		st_config_errf(err, errlen, "%s: %s: out of memory", where, key);
		return -ENOMEM;
	}
	cfg->origin[k - st_config_keys] = ST_CONFIG_SRC_CLI;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Cross-key checks                                                   */
/* ------------------------------------------------------------------ */

static int st_config_list_dup(const st_config_list_t *list, const char *what, char *err,
                              size_t errlen)
{
	for (size_t i = 0; i < list->n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(list->v[i], list->v[j]) == 0) {
				st_config_errf(err, errlen, "%s: '%s' is listed twice", what,
				               list->v[i]);
				return ST_ERR_CONFIG;
			}
	return 0;
}

int st_config_validate(const st_config_t *cfg, char *err, size_t errlen)
{
	int kafka = 0;

	if (!cfg->collector_name[0]) {
		st_config_errf(err, errlen, "collector.name: must not be empty");
		return ST_ERR_CONFIG;
	}
	/* it goes into every JSON line, inside st_json_bound()'s budget */
	if (strlen(cfg->collector_name) > ST_JSON_COLLECTOR_MAX ||
	    !st_json_printable((const uint8_t *)cfg->collector_name, strlen(cfg->collector_name))) {
		st_config_errf(err, errlen,
		               "collector.name: must be printable UTF-8 of at most %d bytes",
		               ST_JSON_COLLECTOR_MAX);
		return ST_ERR_CONFIG;
	}
	if (cfg->listen.n == 0) {
		st_config_errf(err, errlen, "listen: no address to listen on");
		return ST_ERR_CONFIG;
	}
	if (cfg->output.n == 0) {
		st_config_errf(err, errlen, "output: no output configured");
		return ST_ERR_CONFIG;
	}
	if (st_config_list_dup(&cfg->listen, "listen", err, errlen) < 0 ||
	    st_config_list_dup(&cfg->output, "output", err, errlen) < 0)
		return ST_ERR_CONFIG;
	for (size_t i = 0; i < cfg->output.n; i++) {
		const char *uri = cfg->output.v[i];
		const char *slash;

		if (strncmp(uri, "kafka://", 8) != 0)
			continue;
		kafka = 1;
		slash = strchr(uri + 8, '/');
		if ((!slash || !slash[1]) && !cfg->output_kafka_topic[0]) {
			st_config_errf(
			        err, errlen,
			        "output: '%s' names no topic and output.kafka.topic is empty", uri);
			return ST_ERR_CONFIG;
		}
	}
	if (kafka && !cfg->output_kafka_spool_dir[0]) {
		st_config_errf(err, errlen,
		               "output.kafka.spool_dir: must not be empty with a kafka:// output");
		return ST_ERR_CONFIG;
	}
	if (!(cfg->output_file_mode & 0200)) {
		st_config_errf(err, errlen,
		               "output.file.mode: %04o does not let stormtrap write the file it "
		               "creates (it reopens it on SIGHUP): include 0200",
		               (unsigned)cfg->output_file_mode);
		return ST_ERR_CONFIG;
	}
	if (!cfg->mibs_dirs.n && (cfg->mibs_modules.n || cfg->mibs_prefer.n)) {
		st_config_errf(err, errlen, "%s: names MIB modules but mibs.dirs is empty",
		               cfg->mibs_modules.n ? "mibs.modules" : "mibs.prefer");
		return ST_ERR_CONFIG;
	}
	if (cfg->snmp_engine_epoch > (int64_t)time(NULL)) {
		st_config_errf(err, errlen, "snmp.engine_epoch: %lld is in the future",
		               (long long)cfg->snmp_engine_epoch);
		return ST_ERR_CONFIG;
	}
	return 0;
}
