/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - the collector's configuration: defaults, YAML file,
 * environment, command line, checks, dump and reference documentation.
 *
 * Everything is driven by the key table in config_keys.h, expanded here
 * into an array of descriptors (name, type, field offset, default,
 * bounds, validator, doc). Each source reduces to the same step: find
 * the descriptor for a dotted key name, parse the text into a value of
 * the key's type (st_config_parse), and only when that succeeded, store
 * it (st_config_store) and note the source. Errors are built as
 * "<where>: <key>: <why>", where <where> is "file:line", the environment
 * variable, "--set" or "command line".
 *
 * The librdkafka properties are a family, not rows: any key below
 * output.kafka.rdkafka. is kept verbatim as a name/value pair, because
 * only the Kafka sink (librdkafka) knows which properties exist.
 *
 * The YAML and environment loaders work on a deep copy of the
 * configuration and swap it in only when the whole source applied, so a
 * failed load (or a failed reload) leaves the configuration as it was.
 *
 * This is setup code: it allocates freely and runs on the main thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "st_codec.h"
#include "st_config.h"

/* ------------------------------------------------------------------ */
/* The table, expanded                                                */
/* ------------------------------------------------------------------ */

typedef enum st_config_type {
	ST_CONFIG_T_STRING,
	ST_CONFIG_T_LIST,
	ST_CONFIG_T_BOOL,
	ST_CONFIG_T_UINT,
	ST_CONFIG_T_INT,
	ST_CONFIG_T_SIZE,
	ST_CONFIG_T_DURATION,
	ST_CONFIG_T_ENUM,
	ST_CONFIG_T_HEX,
} st_config_type_t;

/* Validates a string value or one list item: 0, or ST_ERR_CONFIG with a
 * reason in why. */
typedef int (*st_config_check_fn)(const char *value, char *why, size_t whylen);

static int st_config_check_listen(const char *value, char *why, size_t whylen);
static int st_config_check_output(const char *value, char *why, size_t whylen);
static int st_config_check_hostport(const char *value, char *why, size_t whylen);

typedef struct st_config_key {
	const char *name;
	st_config_type_t type;
	size_t off;               /* of the field in st_config_t */
	const char *def_str;      /* STRING, LIST (comma-separated), HEX */
	int64_t def_num;          /* BOOL, numbers, ENUM */
	int64_t lo, hi;           /* numbers: bounds; HEX: octets */
	const char *const *words; /* ENUM */
	st_config_check_fn check; /* validator of strings and list items, or NULL */
	unsigned flags;           /* ST_CONFIG_F_* */
	const char *doc;
} st_config_key_t;

#define ST_CONFIG_WORD_(E, W, S) S,
#define ST_CONFIG_WORDS_(E)                                                                        \
	static const char *const st_config_words_##E[] = {ST_CONFIG_ENUM_##E(ST_CONFIG_WORD_) NULL};
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
	 .def_num = ST_CONFIG_##E##_##D,                                                           \
	 .words = st_config_words_##E,                                                             \
	 .doc = DOC},
#define ST_CONFIG_KEY_HEX_(F, N, D, LO, HI, DOC)                                                   \
	{.name = N,                                                                                \
	 .type = ST_CONFIG_T_HEX,                                                                  \
	 .off = offsetof(st_config_t, F),                                                          \
	 .def_str = D,                                                                             \
	 .lo = LO,                                                                                 \
	 .hi = HI,                                                                                 \
	 .doc = DOC},

static const st_config_key_t st_config_keys[ST_CONFIG_NKEYS] = {
        ST_CONFIG_KEYS(ST_CONFIG_KEY_STR_, ST_CONFIG_KEY_LIST_, ST_CONFIG_KEY_BOOL_,
                       ST_CONFIG_KEY_NUM_, ST_CONFIG_KEY_ENUM_, ST_CONFIG_KEY_HEX_)};

#define ST_CONFIG_PREFIX_LEN (sizeof(ST_CONFIG_RDKAFKA_PREFIX) - 1)
#define ST_CONFIG_ENV_PREFIX "STORMTRAP_"
#define ST_CONFIG_NAME_MAX   256 /* longest dotted key we build */
#define ST_CONFIG_YAML_DEPTH 32  /* deepest mapping nesting accepted */

/* One parsed value, before it is stored. */
typedef struct st_config_value {
	int64_t num;
	char *str;
	st_config_list_t list;
	st_config_hex_t hex;
} st_config_value_t;

static const char *const st_config_src_names[] = {"default", "file", "environment", "command line"};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static void *st_config_field(st_config_t *cfg, const st_config_key_t *key)
{
	return (char *)cfg + key->off;
}

static const void *st_config_cfield(const st_config_t *cfg, const st_config_key_t *key)
{
	return (const char *)cfg + key->off;
}

static const st_config_key_t *st_config_find(const char *name)
{
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++)
		if (strcmp(st_config_keys[i].name, name) == 0)
			return &st_config_keys[i];
	return NULL;
}

static int st_config_is_rdkafka(const char *name)
{
	return strncmp(name, ST_CONFIG_RDKAFKA_PREFIX, ST_CONFIG_PREFIX_LEN) == 0;
}

static int st_config_is_num(st_config_type_t t)
{
	return t == ST_CONFIG_T_UINT || t == ST_CONFIG_T_INT || t == ST_CONFIG_T_SIZE ||
	       t == ST_CONFIG_T_DURATION;
}

/* The upper bound of a number key; "now" is taken when asked. */
static int64_t st_config_hi(const st_config_key_t *key)
{
	if (key->flags & ST_CONFIG_F_MAX_NOW)
		return (int64_t)time(NULL);
	return key->hi;
}

/* Is this key's value a secret? Table rows say so with a flag; librdkafka
 * properties by name, since we cannot list every credential property. */
static int st_config_secret_name(const char *name)
{
	const char *prop;

	if (strcasestr(name, "password") || strcasestr(name, "secret"))
		return 1;
	prop = st_config_is_rdkafka(name) ? name + ST_CONFIG_PREFIX_LEN : name;
	return strcmp(prop, "ssl.key.pem") == 0 || strcmp(prop, "sasl.oauthbearer.config") == 0;
}

/* Append "got '<text>'" (shortened, or "nothing") for error messages. */
static void st_config_got(char *buf, size_t len, const char *text)
{
	if (!text || !*text)
		snprintf(buf, len, "got nothing");
	else if (strlen(text) > 64)
		snprintf(buf, len, "got '%.64s...'", text);
	else
		snprintf(buf, len, "got '%s'", text);
}

static void st_config_errf(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void st_config_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Lists and pairs                                                    */
/* ------------------------------------------------------------------ */

static void st_config_list_clear(st_config_list_t *list)
{
	if (list->v)
		for (size_t i = 0; i < list->n; i++)
			free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/* Append s (taking ownership only on success). */
static int st_config_list_push(st_config_list_t *list, char *s)
{
	char **v = realloc(list->v, (list->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[list->n++] = s;
	v[list->n] = NULL;
	list->v = v;
	return 0;
}

static int st_config_list_push_dup(st_config_list_t *list, const char *s, size_t len)
{
	char *d = strndup(s, len);

	if (!d || st_config_list_push(list, d) < 0) {
		free(d);
		return -ENOMEM;
	}
	return 0;
}

static int st_config_list_copy(st_config_list_t *dst, const st_config_list_t *src)
{
	dst->v = NULL;
	dst->n = 0;
	dst->cli = src->cli;
	for (size_t i = 0; i < src->n; i++)
		if (st_config_list_push_dup(dst, src->v[i], strlen(src->v[i])) < 0) {
			st_config_list_clear(dst);
			return -ENOMEM;
		}
	return 0;
}

static void st_config_pairs_clear(st_config_pairs_t *pairs)
{
	if (pairs->kv)
		for (size_t i = 0; i < 2 * pairs->n; i++)
			free(pairs->kv[i]);
	free(pairs->kv);
	pairs->kv = NULL;
	pairs->n = 0;
}

/* Set name=value: replace the value in place if name is there, else append. */
static int st_config_pairs_set(st_config_pairs_t *pairs, const char *name, const char *value)
{
	char *v = strdup(value);
	char *k;
	char **kv;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < pairs->n; i++)
		if (strcmp(pairs->kv[2 * i], name) == 0) {
			free(pairs->kv[2 * i + 1]);
			pairs->kv[2 * i + 1] = v;
			return 0;
		}
	k = strdup(name);
	kv = k ? realloc(pairs->kv, (2 * pairs->n + 3) * sizeof(*kv)) : NULL;
	if (!kv) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	kv[2 * pairs->n] = k;
	kv[2 * pairs->n + 1] = v;
	kv[2 * pairs->n + 2] = NULL;
	pairs->kv = kv;
	pairs->n++;
	return 0;
}

/*
 * Split a comma-separated value into items, trimming blanks and skipping
 * empty items. For URI lists (listen, output) a comma starts a new item
 * only when what follows starts a new URI, because a Kafka output names
 * its brokers with commas: "kafka://a:9092,b:9092/traps,stdout" is two
 * items.
 */
static int st_config_starts_uri(const char *s, size_t len)
{
	size_t i = 0;

	if ((len == 6 && strncmp(s, "stdout", 6) == 0) || (len >= 5 && strncmp(s, "file:", 5) == 0))
		return 1;
	if (len == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	while (i < len &&
	       (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	return i + 3 <= len && strncmp(s + i, "://", 3) == 0;
}

static int st_config_split(const char *text, int uri, st_config_list_t *out)
{
	const char *p = text;

	out->v = NULL;
	out->n = 0;
	out->cli = false;
	for (;;) {
		const char *end = strchr(p, ',');
		const char *e = end ? end : p + strlen(p);
		const char *s = p;
		int rc = 0;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s) {
			size_t len = (size_t)(e - s);

			if (uri && out->n > 0 && !st_config_starts_uri(s, len)) {
				char *last = out->v[out->n - 1];
				size_t ll = strlen(last);
				char *joined = realloc(last, ll + 1 + len + 1);

				if (!joined) {
					rc = -ENOMEM;
				} else {
					joined[ll] = ',';
					memcpy(joined + ll + 1, s, len);
					joined[ll + 1 + len] = '\0';
					out->v[out->n - 1] = joined;
				}
			} else {
				rc = st_config_list_push_dup(out, s, len);
			}
		}
		if (rc < 0) {
			st_config_list_clear(out);
			return rc;
		}
		if (!end)
			return 0;
		p = end + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Formatting values (errors, dump, docs)                             */
/* ------------------------------------------------------------------ */

static void st_config_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const struct {
		uint64_t mult;
		const char *unit;
	} units[] = {{(uint64_t)ST_CONFIG_TIB, "TiB"},
	             {(uint64_t)ST_CONFIG_GIB, "GiB"},
	             {(uint64_t)ST_CONFIG_MIB, "MiB"},
	             {(uint64_t)ST_CONFIG_KIB, "KiB"}};

	if (v != 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (v % units[i].mult == 0) {
				snprintf(buf, len, "%llu%s",
				         (unsigned long long)(v / units[i].mult), units[i].unit);
				return;
			}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void st_config_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t mult;
		const char *unit;
	} units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};

	if (ms != 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (ms % units[i].mult == 0) {
				snprintf(buf, len, "%llu%s",
				         (unsigned long long)(ms / units[i].mult), units[i].unit);
				return;
			}
	snprintf(buf, len, "%llums", (unsigned long long)ms);
}

static void st_config_fmt_num(const st_config_key_t *key, int64_t v, char *buf, size_t len)
{
	if (key->type == ST_CONFIG_T_SIZE)
		st_config_fmt_size((uint64_t)v, buf, len);
	else if (key->type == ST_CONFIG_T_DURATION)
		st_config_fmt_duration((uint64_t)v, buf, len);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

/* The allowed values, as the docs show them: "0..64", "auto, recvmmsg". */
static void st_config_fmt_range(const st_config_key_t *key, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t off = 0;

	buf[0] = '\0';
	if (st_config_is_num(key->type)) {
		st_config_fmt_num(key, key->lo, lo, sizeof(lo));
		if (key->flags & ST_CONFIG_F_MAX_NOW)
			snprintf(hi, sizeof(hi), "now");
		else
			st_config_fmt_num(key, key->hi, hi, sizeof(hi));
		snprintf(buf, len, "%s..%s", lo, hi);
	} else if (key->type == ST_CONFIG_T_ENUM) {
		for (size_t i = 0; key->words[i] && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
			                        key->words[i]);
	} else if (key->type == ST_CONFIG_T_HEX) {
		snprintf(buf, len, "%lld..%lld octets", (long long)key->lo, (long long)key->hi);
	} else if (key->type == ST_CONFIG_T_BOOL) {
		snprintf(buf, len, "true, false");
	}
}

/* What a value of this key must look like, for "expected ..., got ...". */
static void st_config_fmt_expect(const st_config_key_t *key, char *buf, size_t len)
{
	char range[128];

	st_config_fmt_range(key, range, sizeof(range));
	switch (key->type) {
	case ST_CONFIG_T_BOOL:
		snprintf(buf, len, "a boolean (true/false, yes/no, on/off, 1/0)");
		break;
	case ST_CONFIG_T_UINT:
	case ST_CONFIG_T_INT:
		if (key->flags & ST_CONFIG_F_MAX_NOW)
			snprintf(buf, len, "an integer %lld..%lld (now)", (long long)key->lo,
			         (long long)st_config_hi(key));
		else
			snprintf(buf, len, "an integer %s", range);
		break;
	case ST_CONFIG_T_SIZE:
		snprintf(buf, len, "a size %s (bytes, or with k/KiB, M/MiB, G/GiB, T/TiB)", range);
		break;
	case ST_CONFIG_T_DURATION:
		snprintf(buf, len, "a duration %s (e.g. 500ms, 10s, 2m, 1h)", range);
		break;
	case ST_CONFIG_T_ENUM:
		snprintf(buf, len, "one of %s", range);
		break;
	case ST_CONFIG_T_HEX:
		snprintf(buf, len, "%s in hex (0x optional)", range);
		break;
	case ST_CONFIG_T_LIST:
		snprintf(buf, len, "a list");
		break;
	case ST_CONFIG_T_STRING:
		snprintf(buf, len, "a string");
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Parsing one value                                                  */
/* ------------------------------------------------------------------ */

/* Decimal digits at *p (at least one) into *v; ERANGE past UINT64_MAX. */
static int st_config_digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

/* Multiply by a unit found at p (case-insensitive); the unit must end the
 * text. 0, or -EINVAL for an unknown unit / -ERANGE on overflow. */
static int st_config_unit(const char *p, uint64_t *v, const char *const *names,
                          const uint64_t *mults)
{
	while (isspace((unsigned char)*p))
		p++;
	for (size_t i = 0; names[i]; i++)
		if (strcasecmp(p, names[i]) == 0) {
			if (mults[i] && *v > UINT64_MAX / mults[i])
				return -ERANGE;
			*v *= mults[i];
			return 0;
		}
	return -EINVAL;
}

static int st_config_parse_number(const st_config_key_t *key, const char *s, int64_t *out)
{
	static const char *const size_units[] = {"",  "b",   "k", "kib", "m", "mib",
	                                         "g", "gib", "t", "tib", NULL};
	static const uint64_t size_mults[] = {1,
	                                      1,
	                                      ST_CONFIG_KIB,
	                                      ST_CONFIG_KIB,
	                                      ST_CONFIG_MIB,
	                                      ST_CONFIG_MIB,
	                                      ST_CONFIG_GIB,
	                                      ST_CONFIG_GIB,
	                                      ST_CONFIG_TIB,
	                                      ST_CONFIG_TIB};
	static const char *const dur_units[] = {"", "ms", "s", "m", "h", NULL};
	static const uint64_t dur_mults[] = {1, 1, 1000, 60000, 3600000};
	int neg = 0;
	uint64_t v;

	if (key->type == ST_CONFIG_T_INT && *s == '-') {
		neg = 1;
		s++;
	}
	if (st_config_digits(&s, &v) < 0)
		return -EINVAL;
	if (key->type == ST_CONFIG_T_SIZE) {
		if (st_config_unit(s, &v, size_units, size_mults) < 0)
			return -EINVAL;
	} else if (key->type == ST_CONFIG_T_DURATION) {
		if (st_config_unit(s, &v, dur_units, dur_mults) < 0)
			return -EINVAL;
	} else if (*s) {
		return -EINVAL;
	}
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	if (*out < key->lo || *out > st_config_hi(key))
		return -ERANGE;
	return 0;
}

static int st_config_parse_bool(const char *s, int64_t *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1", NULL};
	static const char *const no[] = {"false", "no", "off", "0", NULL};

	for (size_t i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int st_config_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int st_config_parse_hex(const st_config_key_t *key, const char *s, st_config_hex_t *hex)
{
	size_t len;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len % 2 || len / 2 < (size_t)key->lo || len / 2 > (size_t)key->hi ||
	    len / 2 > ST_CONFIG_HEX_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len / 2; i++) {
		int h = st_config_hexval((unsigned char)s[2 * i]);
		int l = st_config_hexval((unsigned char)s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -EINVAL;
		hex->v[i] = (uint8_t)(h << 4 | l);
	}
	hex->len = len / 2;
	return 0;
}

static int st_config_parse_enum(const st_config_key_t *key, const char *s, int64_t *out)
{
	for (size_t i = 0; key->words[i]; i++)
		if (strcasecmp(s, key->words[i]) == 0) {
			*out = (int64_t)i;
			return 0;
		}
	return -EINVAL;
}

static void st_config_value_free(st_config_value_t *val)
{
	free(val->str);
	val->str = NULL;
	st_config_list_clear(&val->list);
}

/* Run the key's validator over a string or every list item. */
static int st_config_check(const st_config_key_t *key, const st_config_value_t *val, char *why,
                           size_t whylen)
{
	if (!key->check)
		return 0;
	if (key->type == ST_CONFIG_T_STRING)
		return key->check(val->str, why, whylen);
	for (size_t i = 0; i < val->list.n; i++)
		if (key->check(val->list.v[i], why, whylen) < 0)
			return ST_ERR_CONFIG;
	return 0;
}

/*
 * Parse text as a value of key into val (which the caller frees).
 * Scalars are trimmed of surrounding blanks; strings are kept verbatim.
 * @return 0, ST_ERR_CONFIG with why filled, or -ENOMEM.
 */
static int st_config_parse(const st_config_key_t *key, const char *text, st_config_value_t *val,
                           char *why, size_t whylen)
{
	char buf[128], expect[256], got[96];
	const char *s, *e;
	int rc = 0;

	memset(val, 0, sizeof(*val));
	if (key->type == ST_CONFIG_T_STRING) {
		val->str = strdup(text);
		if (!val->str)
			return -ENOMEM;
		return st_config_check(key, val, why, whylen);
	}
	if (key->type == ST_CONFIG_T_LIST) {
		rc = st_config_split(text, key->flags & ST_CONFIG_F_URI, &val->list);
		if (rc < 0)
			return rc;
		return st_config_check(key, val, why, whylen);
	}

	/* a scalar: work on a trimmed copy */
	for (s = text; isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	if ((size_t)(e - s) >= sizeof(buf)) {
		rc = -EINVAL;
	} else {
		memcpy(buf, s, (size_t)(e - s));
		buf[e - s] = '\0';
		switch (key->type) {
		case ST_CONFIG_T_BOOL:
			rc = st_config_parse_bool(buf, &val->num);
			break;
		case ST_CONFIG_T_ENUM:
			rc = st_config_parse_enum(key, buf, &val->num);
			break;
		case ST_CONFIG_T_HEX:
			rc = st_config_parse_hex(key, buf, &val->hex);
			break;
		default:
			rc = st_config_parse_number(key, buf, &val->num);
			break;
		}
	}
	if (rc == 0)
		return 0;
	st_config_fmt_expect(key, expect, sizeof(expect));
	st_config_got(got, sizeof(got), (key->flags & ST_CONFIG_F_SECRET) ? "<redacted>" : text);
	snprintf(why, whylen, "expected %s, %s", expect, got);
	return ST_ERR_CONFIG;
}

/* Store a parsed value (taking what it owns) and note its source. */
static void st_config_store(st_config_t *cfg, const st_config_key_t *key, st_config_value_t *val,
                            int origin)
{
	void *f = st_config_field(cfg, key);

	switch (key->type) {
	case ST_CONFIG_T_STRING:
		free(*(char **)f);
		*(char **)f = val->str;
		val->str = NULL;
		break;
	case ST_CONFIG_T_LIST: {
		st_config_list_t *list = f;
		bool cli = list->cli;

		st_config_list_clear(list);
		*list = val->list;
		list->cli = cli;
		memset(&val->list, 0, sizeof(val->list));
		break;
	}
	case ST_CONFIG_T_BOOL:
		*(bool *)f = val->num != 0;
		break;
	case ST_CONFIG_T_UINT:
		*(uint32_t *)f = (uint32_t)val->num;
		break;
	case ST_CONFIG_T_INT:
		*(int64_t *)f = val->num;
		break;
	case ST_CONFIG_T_SIZE:
	case ST_CONFIG_T_DURATION:
		*(uint64_t *)f = (uint64_t)val->num;
		break;
	case ST_CONFIG_T_ENUM:
		*(int *)f = (int)val->num;
		break;
	case ST_CONFIG_T_HEX:
		*(st_config_hex_t *)f = val->hex;
		break;
	}
	cfg->origin[key - st_config_keys] = (uint8_t)origin;
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
static void st_config_env_name(const char *name, char *buf, size_t len)
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

static int st_config_unknown(const char *where, const char *name, int env, char *err, size_t errlen)
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
static int st_config_apply(st_config_t *cfg, const char *where, int origin, int env,
                           const char *name, const char *text, char *err, size_t errlen)
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
static int st_config_copy(st_config_t *dst, const st_config_t *src)
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
/* YAML                                                               */
/* ------------------------------------------------------------------ */

typedef struct st_config_yaml {
	yaml_parser_t parser;
	const char *path;
	st_config_t *cfg;
	char *err;
	size_t errlen;
	/* keys set by this file and their lines, to refuse duplicates */
	char **seen;
	size_t *seen_line;
	size_t nseen;
} st_config_yaml_t;

static size_t st_config_yaml_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* Next event; syntax errors, anchors and aliases become errors. */
static int st_config_yaml_next(st_config_yaml_t *y, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL;

	if (!yaml_parser_parse(&y->parser, ev)) {
		const yaml_parser_t *p = &y->parser;

		if (p->error == YAML_MEMORY_ERROR) {
			st_config_errf(y->err, y->errlen, "%s: out of memory", y->path);
			return -ENOMEM;
		}
		if (p->error == YAML_READER_ERROR)
			st_config_errf(y->err, y->errlen, "%s: byte %zu: %s", y->path,
			               p->problem_offset, p->problem ? p->problem : "unreadable");
		else if (p->context)
			st_config_errf(y->err, y->errlen, "%s:%zu:%zu: %s (%s)", y->path,
			               p->problem_mark.line + 1, p->problem_mark.column + 1,
			               p->problem ? p->problem : "syntax error", p->context);
		else
			st_config_errf(y->err, y->errlen, "%s:%zu:%zu: %s", y->path,
			               p->problem_mark.line + 1, p->problem_mark.column + 1,
			               p->problem ? p->problem : "syntax error");
		return ST_ERR_CONFIG;
	}
	if (ev->type == YAML_SCALAR_EVENT)
		anchor = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		anchor = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		anchor = ev->data.sequence_start.anchor;
	if (anchor || ev->type == YAML_ALIAS_EVENT) {
		st_config_errf(y->err, y->errlen,
		               "%s:%zu:%zu: anchors and aliases are not supported", y->path,
		               st_config_yaml_line(ev), ev->start_mark.column + 1);
		yaml_event_delete(ev);
		return ST_ERR_CONFIG;
	}
	return 0;
}

/* A plain empty, "~" or "null" scalar is YAML's null. */
static int st_config_yaml_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	        strcmp(v, "NULL") == 0);
}

/* Refuse a key this file already set. */
static int st_config_yaml_seen(st_config_yaml_t *y, const char *name, size_t line)
{
	char **seen;
	size_t *lines;

	for (size_t i = 0; i < y->nseen; i++)
		if (strcmp(y->seen[i], name) == 0) {
			st_config_errf(y->err, y->errlen,
			               "%s:%zu: %s: set twice (first on line %zu)", y->path, line,
			               name, y->seen_line[i]);
			return ST_ERR_CONFIG;
		}
	seen = realloc(y->seen, (y->nseen + 1) * sizeof(*seen));
	if (seen)
		y->seen = seen;
	lines = realloc(y->seen_line, (y->nseen + 1) * sizeof(*lines));
	if (lines)
		y->seen_line = lines;
	if (!seen || !lines || !(y->seen[y->nseen] = strdup(name))) {
		st_config_errf(y->err, y->errlen, "%s: out of memory", y->path);
		return -ENOMEM;
	}
	y->seen_line[y->nseen++] = line;
	return 0;
}

/* The value of a list key given as a YAML sequence (first event consumed). */
static int st_config_yaml_seq(st_config_yaml_t *y, const char *name, size_t line)
{
	const st_config_key_t *key = st_config_find(name);
	char where[ST_CONFIG_NAME_MAX + 32];
	char expect[256];
	st_config_value_t val;
	yaml_event_t ev;
	char why[512];
	int rc = 0;

	snprintf(where, sizeof(where), "%s:%zu", y->path, line);
	if (!key && st_config_is_rdkafka(name)) {
		st_config_errf(y->err, y->errlen,
		               "%s: %s: a librdkafka property takes one value, got a list", where,
		               name);
		return ST_ERR_CONFIG;
	}
	if (!key)
		return st_config_unknown(where, name, 0, y->err, y->errlen);
	if (key->type != ST_CONFIG_T_LIST) {
		st_config_fmt_expect(key, expect, sizeof(expect));
		st_config_errf(y->err, y->errlen, "%s: %s: expected %s, got a list", where, name,
		               expect);
		return ST_ERR_CONFIG;
	}
	memset(&val, 0, sizeof(val));
	for (;;) {
		rc = st_config_yaml_next(y, &ev);
		if (rc < 0)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		snprintf(where, sizeof(where), "%s:%zu", y->path, st_config_yaml_line(&ev));
		if (ev.type != YAML_SCALAR_EVENT) {
			st_config_errf(y->err, y->errlen, "%s: %s: list items must be plain values",
			               where, name);
			rc = ST_ERR_CONFIG;
		} else if (!*(const char *)ev.data.scalar.value || st_config_yaml_null(&ev)) {
			st_config_errf(y->err, y->errlen, "%s: %s: empty list item", where, name);
			rc = ST_ERR_CONFIG;
		} else {
			const char *item = (const char *)ev.data.scalar.value;

			rc = st_config_list_push_dup(&val.list, item, strlen(item));
			if (rc < 0)
				st_config_errf(y->err, y->errlen, "%s: out of memory", y->path);
			else if (key->check && key->check(item, why, sizeof(why)) < 0) {
				st_config_errf(y->err, y->errlen, "%s: %s: %s", where, name, why);
				rc = ST_ERR_CONFIG;
			}
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
	}
	st_config_store(y->cfg, key, &val, ST_CONFIG_SRC_FILE);
out:
	st_config_value_free(&val);
	return rc;
}

static int st_config_yaml_map(st_config_yaml_t *y, const char *prefix, int depth);

/* The value of key "name", whose first event is ev (consumed here). */
static int st_config_yaml_value(st_config_yaml_t *y, const char *name, size_t key_line,
                                yaml_event_t *ev, int depth)
{
	char where[ST_CONFIG_NAME_MAX + 32];
	int rc;

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		yaml_event_delete(ev);
		return st_config_yaml_map(y, name, depth + 1);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(ev);
		rc = st_config_yaml_seen(y, name, key_line);
		return rc < 0 ? rc : st_config_yaml_seq(y, name, key_line);
	case YAML_SCALAR_EVENT:
		snprintf(where, sizeof(where), "%s:%zu", y->path, st_config_yaml_line(ev));
		rc = st_config_yaml_seen(y, name, key_line);
		if (rc == 0)
			rc = st_config_apply(
			        y->cfg, where, ST_CONFIG_SRC_FILE, 0, name,
			        st_config_yaml_null(ev) ? "" : (const char *)ev->data.scalar.value,
			        y->err, y->errlen);
		yaml_event_delete(ev);
		return rc;
	default:
		st_config_errf(y->err, y->errlen, "%s:%zu: %s: unexpected YAML node", y->path,
		               st_config_yaml_line(ev), name);
		yaml_event_delete(ev);
		return ST_ERR_CONFIG;
	}
}

/* A mapping whose MAPPING_START was consumed; keys join prefix with dots. */
static int st_config_yaml_map(st_config_yaml_t *y, const char *prefix, int depth)
{
	char name[ST_CONFIG_NAME_MAX];
	yaml_event_t ev;
	size_t line;
	int rc;

	if (depth > ST_CONFIG_YAML_DEPTH) {
		st_config_errf(y->err, y->errlen, "%s: %s: mappings nested too deep", y->path,
		               prefix);
		return ST_ERR_CONFIG;
	}
	for (;;) {
		rc = st_config_yaml_next(y, &ev);
		if (rc < 0)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		line = st_config_yaml_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT || st_config_yaml_null(&ev)) {
			st_config_errf(y->err, y->errlen, "%s:%zu:%zu: keys must be plain names",
			               y->path, line, ev.start_mark.column + 1);
			yaml_event_delete(&ev);
			return ST_ERR_CONFIG;
		}
		rc = snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
		              (const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		if (rc < 0 || (size_t)rc >= sizeof(name)) {
			st_config_errf(y->err, y->errlen, "%s:%zu: key too long", y->path, line);
			return ST_ERR_CONFIG;
		}
		rc = st_config_yaml_next(y, &ev);
		if (rc < 0)
			return rc;
		rc = st_config_yaml_value(y, name, line, &ev, depth);
		if (rc < 0)
			return rc;
	}
}

/* The stream: nothing, or one document whose top is a mapping (or null). */
static int st_config_yaml_stream(st_config_yaml_t *y)
{
	yaml_event_t ev;
	int rc;

	rc = st_config_yaml_next(y, &ev); /* STREAM_START */
	if (rc < 0)
		return rc;
	yaml_event_delete(&ev);
	rc = st_config_yaml_next(y, &ev);
	if (rc < 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	rc = st_config_yaml_next(y, &ev);
	if (rc < 0)
		return rc;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		yaml_event_delete(&ev);
		rc = st_config_yaml_map(y, "", 0);
		if (rc < 0)
			return rc;
	} else if (ev.type == YAML_SCALAR_EVENT && st_config_yaml_null(&ev)) {
		yaml_event_delete(&ev);
	} else {
		st_config_errf(y->err, y->errlen, "%s:%zu: expected a mapping of keys at the top",
		               y->path, st_config_yaml_line(&ev));
		yaml_event_delete(&ev);
		return ST_ERR_CONFIG;
	}
	rc = st_config_yaml_next(y, &ev); /* DOCUMENT_END */
	if (rc < 0)
		return rc;
	yaml_event_delete(&ev);
	rc = st_config_yaml_next(y, &ev);
	if (rc < 0)
		return rc;
	if (ev.type != YAML_STREAM_END_EVENT) {
		st_config_errf(y->err, y->errlen, "%s:%zu: only one YAML document is allowed",
		               y->path, st_config_yaml_line(&ev));
		rc = ST_ERR_CONFIG;
	}
	yaml_event_delete(&ev);
	return rc;
}

int st_config_load_yaml(st_config_t *cfg, const char *path, char *err, size_t errlen)
{
	st_config_yaml_t y;
	st_config_t tmp;
	FILE *fp = NULL;
	int parser = 0;
	int rc;

	memset(&y, 0, sizeof(y));
	if (st_config_copy(&tmp, cfg) < 0) {
		st_config_errf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	fp = fopen(path, "rb");
	if (!fp) {
		rc = -errno;
		st_config_errf(err, errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (!yaml_parser_initialize(&y.parser)) {
		st_config_errf(err, errlen, "%s: out of memory", path);
		rc = -ENOMEM;
		goto out;
	}
	parser = 1;
	yaml_parser_set_input_file(&y.parser, fp);
	y.path = path;
	y.cfg = &tmp;
	y.err = err;
	y.errlen = errlen;
	rc = st_config_yaml_stream(&y);
out:
	if (parser)
		yaml_parser_delete(&y.parser);
	if (fp)
		fclose(fp);
	for (size_t i = 0; i < y.nseen; i++)
		free(y.seen[i]);
	free(y.seen);
	free(y.seen_line);
	if (rc == 0) {
		st_config_free(cfg);
		*cfg = tmp;
	} else {
		st_config_free(&tmp);
	}
	return rc;
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
	if (cfg->snmp_engine_epoch > (int64_t)time(NULL)) {
		st_config_errf(err, errlen, "snmp.engine_epoch: %lld is in the future",
		               (long long)cfg->snmp_engine_epoch);
		return ST_ERR_CONFIG;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dump                                                               */
/* ------------------------------------------------------------------ */

/* A YAML double-quoted scalar. */
static void st_config_quote(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void st_config_dump(const st_config_t *cfg, FILE *out)
{
	fprintf(out, "# stormtrap effective configuration\n");
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		const void *f = st_config_cfield(cfg, key);
		char buf[64];

		fprintf(out, "%s: ", key->name);
		if (key->flags & ST_CONFIG_F_SECRET) {
			fputs("\"<redacted>\"", out);
		} else {
			switch (key->type) {
			case ST_CONFIG_T_STRING:
				st_config_quote(out, *(char *const *)f);
				break;
			case ST_CONFIG_T_LIST: {
				const st_config_list_t *list = f;

				fputc('[', out);
				for (size_t j = 0; j < list->n; j++) {
					if (j)
						fputs(", ", out);
					st_config_quote(out, list->v[j]);
				}
				fputc(']', out);
				break;
			}
			case ST_CONFIG_T_BOOL:
				fputs(*(const bool *)f ? "true" : "false", out);
				break;
			case ST_CONFIG_T_UINT:
				fprintf(out, "%u", (unsigned)*(const uint32_t *)f);
				break;
			case ST_CONFIG_T_INT:
				fprintf(out, "%lld", (long long)*(const int64_t *)f);
				break;
			case ST_CONFIG_T_SIZE:
			case ST_CONFIG_T_DURATION:
				st_config_fmt_num(key, (int64_t) * (const uint64_t *)f, buf,
				                  sizeof(buf));
				fputs(buf, out);
				break;
			case ST_CONFIG_T_ENUM:
				fputs(key->words[*(const int *)f], out);
				break;
			case ST_CONFIG_T_HEX: {
				const st_config_hex_t *hex = f;

				fputc('"', out);
				for (size_t j = 0; j < hex->len; j++)
					fprintf(out, "%02x", hex->v[j]);
				fputc('"', out);
				break;
			}
			}
		}
		if (cfg->origin[i] != ST_CONFIG_SRC_DEFAULT)
			fprintf(out, "  # %s", st_config_src_names[cfg->origin[i]]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < cfg->output_kafka_rdkafka.n; i++) {
		const char *name = cfg->output_kafka_rdkafka.kv[2 * i];

		fprintf(out, "%s%s: ", ST_CONFIG_RDKAFKA_PREFIX, name);
		if (st_config_secret_name(name))
			fputs("\"<redacted>\"", out);
		else
			st_config_quote(out, cfg->output_kafka_rdkafka.kv[2 * i + 1]);
		fputc('\n', out);
	}
}

/* ------------------------------------------------------------------ */
/* Reference documentation                                            */
/* ------------------------------------------------------------------ */

static const char *st_config_type_name(st_config_type_t t)
{
	switch (t) {
	case ST_CONFIG_T_STRING:
		return "string";
	case ST_CONFIG_T_LIST:
		return "list";
	case ST_CONFIG_T_BOOL:
		return "bool";
	case ST_CONFIG_T_UINT:
	case ST_CONFIG_T_INT:
		return "integer";
	case ST_CONFIG_T_SIZE:
		return "size";
	case ST_CONFIG_T_DURATION:
		return "duration";
	case ST_CONFIG_T_ENUM:
		return "enum";
	case ST_CONFIG_T_HEX:
		return "hex";
	}
	return "?";
}

static void st_config_md_default(FILE *out, const st_config_key_t *key)
{
	char buf[64];

	switch (key->type) {
	case ST_CONFIG_T_STRING:
		if (key->flags & ST_CONFIG_F_HOSTNAME)
			fputs("host name", out);
		else if (!key->def_str[0])
			fputs("empty", out);
		else
			fprintf(out, "`%s`", key->def_str);
		break;
	case ST_CONFIG_T_LIST:
		fprintf(out, "`%s`", key->def_str);
		break;
	case ST_CONFIG_T_BOOL:
		fputs(key->def_num ? "`true`" : "`false`", out);
		break;
	case ST_CONFIG_T_ENUM:
		fprintf(out, "`%s`", key->words[key->def_num]);
		break;
	case ST_CONFIG_T_HEX:
		fprintf(out, "`%s`", key->def_str);
		break;
	default:
		st_config_fmt_num(key, key->def_num, buf, sizeof(buf));
		fprintf(out, "`%s`", buf);
		break;
	}
}

static const char st_config_md_head[] =
        "<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
        "<!-- Written by st_config_markdown() from the key table in collector/config_keys.h.\n"
        "     Do not edit: change the table, then run\n"
        "     stormtrap --config-markdown > docs/CONFIGURATION.md\n"
        "     (the config unit test fails while this file is stale). -->\n"
        "\n"
        "# Configuration\n"
        "\n"
        "stormtrap takes its settings from four sources. Each key has the value given by the\n"
        "highest-precedence source that sets it: built-in defaults, then the YAML file named\n"
        "with `-c FILE`, then environment variables, then the command line (`--set KEY=VALUE`\n"
        "and the short flags). A key that does not exist is an error in every source, and\n"
        "every error names the key and where it came from (file and line, variable or\n"
        "option). `stormtrap -T` checks the configuration, prints the effective one with\n"
        "the source of each non-default value and secrets redacted, and exits 0 or 1.\n"
        "\n"
        "## Sources\n"
        "\n"
        "| Source | Form | Example |\n"
        "|---|---|---|\n"
        "| YAML file (`-c FILE`) | nested mappings or dotted keys | `ingest: {backend: recvmmsg}` "
        "or `ingest.backend: recvmmsg` |\n"
        "| Environment | `STORMTRAP_` + the key in upper case, dots as `__` | "
        "`STORMTRAP_INGEST__BACKEND=recvmmsg` |\n"
        "| `--set KEY=VALUE` | any key | `--set ingest.backend=recvmmsg` |\n"
        "| `-l ADDR`, `-o SINK`, `--community NAME` | add one item to `listen`, `output`, "
        "`communities` | `-l udp://[::]:1162` |\n"
        "| `-u FILE` | sets `users_file` | `-u /etc/stormtrap/users.conf` |\n"
        "\n"
        "In the YAML file, nested mappings join their keys with dots, so\n"
        "`output: {kafka: {key: none}}` is `output.kafka.key: none`. The file holds one\n"
        "mapping; a key set twice in it is an error; anchors and aliases are not supported.\n"
        "`output` is both a list and the prefix of other keys: write the list as\n"
        "`output: [...]` and its neighbours dotted (`output.raw: true`,\n"
        "`output.kafka: {...}`).\n"
        "\n"
        "Lists (`listen`, `output`, `communities`) are a YAML sequence, or one string of\n"
        "comma-separated items (the only form in the environment and with `--set`). Each\n"
        "source replaces the whole list rather than adding to it. The `-l`, `-o` and\n"
        "`--community` flags build a list of their own on the command line: when any is\n"
        "given, their items replace the list from the lower sources. In `listen` and\n"
        "`output` a comma starts a new item only where a new address begins (`udp://`,\n"
        "`stdout`, `file:`, `kafka://`), so `kafka://k1:9092,k2:9092/traps,stdout` is two\n"
        "outputs.\n"
        "\n"
        "## Value syntax\n"
        "\n"
        "| Type | Accepted |\n"
        "|---|---|\n"
        "| bool | `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` |\n"
        "| integer | decimal |\n"
        "| size | bytes, or a whole number with a binary suffix: `k`/`KiB`, `M`/`MiB`, "
        "`G`/`GiB`, `T`/`TiB` (`64k`, `32MiB`) |\n"
        "| duration | milliseconds, or a whole number with `ms`, `s`, `m` or `h` (`500ms`, "
        "`10s`, `2m`) |\n"
        "| enum | one of the listed words |\n"
        "| hex | hex digits, optionally prefixed `0x`, two per octet |\n"
        "| string | text as given |\n"
        "| list | see above |\n"
        "\n"
        "Suffixes, booleans and enum words are not case-sensitive.\n"
        "\n"
        "## Keys\n"
        "\n"
        "| Key | Type | Default | Allowed | Description |\n"
        "|---|---|---|---|---|\n";

static const char st_config_md_tail[] =
        "\n"
        "## librdkafka properties\n"
        "\n"
        "Every key below `output.kafka.rdkafka.` is passed to librdkafka as the property\n"
        "named by the rest of the key, in the order first given. stormtrap does not know\n"
        "every librdkafka property: the Kafka sink checks them when it starts.\n"
        "\n"
        "| Source | Example |\n"
        "|---|---|\n"
        "| YAML | `output.kafka: {rdkafka: {linger.ms: 5}}` |\n"
        "| Environment | `STORMTRAP_OUTPUT__KAFKA__RDKAFKA__LINGER__MS=5` (lower-cased, `__` "
        "as `.`) |\n"
        "| Command line | `--set output.kafka.rdkafka.linger.ms=5` |\n"
        "\n"
        "A higher-precedence source replaces the value of a property a lower one set.\n"
        "\n"
        "## Secrets\n"
        "\n"
        "The effective configuration printed by `-T` and at start-up shows `\"<redacted>\"`\n"
        "instead of the value of every librdkafka property whose name contains `password`\n"
        "or `secret`, and of `ssl.key.pem` and `sasl.oauthbearer.config`. Prefer the\n"
        "environment for secrets: it keeps them out of files and process listings.\n"
        "\n"
        "## Example\n"
        "\n"
        "```yaml\n"
        "collector.name: st-1\n"
        "listen:\n"
        "  - udp://192.0.2.10:162\n"
        "  - udp://[2001:db8::10]:162\n"
        "output:\n"
        "  - kafka://kafka-1:9092,kafka-2:9092/snmp-notifications\n"
        "communities: [public, netops]\n"
        "users_file: /etc/stormtrap/users.conf\n"
        "ingest:\n"
        "  backend: auto\n"
        "  rcvbuf: 64MiB\n"
        "threads:\n"
        "  workers: 8\n"
        "output.raw: false\n"
        "output.kafka:\n"
        "  key: agent_addr\n"
        "  queue_timeout: 10s\n"
        "  rdkafka:\n"
        "    linger.ms: 5\n"
        "    compression.type: lz4\n"
        "    security.protocol: sasl_ssl\n"
        "    sasl.mechanisms: SCRAM-SHA-512\n"
        "    sasl.username: stormtrap\n"
        "snmp:\n"
        "  engine_id: 0x800000000473746f726d74726170\n"
        "  engine_boots: 1\n"
        "metrics.listen: 127.0.0.1:9163\n"
        "log:\n"
        "  format: json\n"
        "shutdown.timeout: 30s\n"
        "```\n"
        "\n"
        "with the Kafka password from the environment:\n"
        "`STORMTRAP_OUTPUT__KAFKA__RDKAFKA__SASL__PASSWORD=...`.\n";

void st_config_markdown(FILE *out)
{
	fputs(st_config_md_head, out);
	for (size_t i = 0; i < ST_CONFIG_NKEYS; i++) {
		const st_config_key_t *key = &st_config_keys[i];
		char env[ST_CONFIG_NAME_MAX], range[160];

		st_config_env_name(key->name, env, sizeof(env));
		st_config_fmt_range(key, range, sizeof(range));
		fprintf(out, "| `%s`<br>`%s` | %s | ", key->name, env,
		        st_config_type_name(key->type));
		st_config_md_default(out, key);
		fprintf(out, " | %s | %s |\n", range, key->doc);
	}
	fprintf(out, "| `%s*` | string | | | librdkafka properties, see below. |\n",
	        ST_CONFIG_RDKAFKA_PREFIX);
	fputs(st_config_md_tail, out);
}

/* ------------------------------------------------------------------ */
/* Validators                                                         */
/* ------------------------------------------------------------------ */

/* "65535" -> 65535; 1..65535 only, digits only. */
static int st_config_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (strlen(s) > 5 || st_config_digits(&s, &v) < 0 || *s || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int st_config_parse_listen(const char *uri, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN];
	const char *p, *colon;
	uint16_t port;
	size_t hlen;

	if (strncmp(uri, "udp://", 6) != 0)
		return -EINVAL;
	p = uri + 6;
	memset(&ss, 0, sizeof(ss));
	if (*p == '[') {
		const char *close = strchr(p, ']');
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - p - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, p + 1, hlen);
		host[hlen] = '\0';
		if (st_config_port(close + 2, &port) < 0 ||
		    inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (addrlen)
			*addrlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		colon = strchr(p, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - p);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, p, hlen);
		host[hlen] = '\0';
		if (st_config_port(colon + 1, &port) < 0 ||
		    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (addrlen)
			*addrlen = sizeof(*sin);
	}
	if (addr)
		*addr = ss;
	return 0;
}

static int st_config_check_listen(const char *value, char *why, size_t whylen)
{
	char got[96];

	if (st_config_parse_listen(value, NULL, NULL) == 0)
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen, "expected udp://IPv4:port or udp://[IPv6]:port, %s", got);
	return ST_ERR_CONFIG;
}

static int st_config_check_output(const char *value, char *why, size_t whylen)
{
	char got[96];

	if (strcmp(value, "stdout") == 0 || (strncmp(value, "file:", 5) == 0 && value[5]) ||
	    (strncmp(value, "kafka://", 8) == 0 && value[8] && value[8] != '/'))
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen,
	         "expected stdout, file:/path or kafka://host:port[,host:port]/topic, %s", got);
	return ST_ERR_CONFIG;
}

/* host:port, [IPv6]:port or :port (all addresses); empty means off. */
static int st_config_check_hostport(const char *value, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *colon;
	uint16_t port;
	char got[96];
	int ok = 0;

	if (!*value)
		return 0;
	if (*value == '[') {
		const char *close = strchr(value, ']');
		size_t hlen = close ? (size_t)(close - value - 1) : 0;

		if (close && close[1] == ':' && hlen > 0 && hlen < sizeof(host)) {
			memcpy(host, value + 1, hlen);
			host[hlen] = '\0';
			ok = inet_pton(AF_INET6, host, &a6) == 1 &&
			     st_config_port(close + 2, &port) == 0;
		}
	} else if ((colon = strrchr(value, ':')) != NULL) {
		ok = st_config_port(colon + 1, &port) == 0;
		for (const char *p = value; ok && p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				ok = 0;
	}
	if (ok)
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen, "expected host:port, [IPv6]:port or :port, %s", got);
	return ST_ERR_CONFIG;
}
