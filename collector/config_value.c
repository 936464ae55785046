/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_value.c - one configuration value: parsing text into a typed value,
 * storing it in st_config_t, formatting it back (error messages, the dump,
 * the docs), and the lists and name/value pairs values are kept in.
 *
 * Parsing never touches the configuration: st_config_parse() fills an
 * st_config_value_t, and only st_config_store() moves it into place, so a
 * bad value leaves everything as it was.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

/* ------------------------------------------------------------------ */
/* Lists and pairs                                                    */
/* ------------------------------------------------------------------ */

void st_config_list_clear(st_config_list_t *list)
{
	if (list->v)
		for (size_t i = 0; i < list->n; i++)
			free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/* Append s (taking ownership only on success). */
int st_config_list_push(st_config_list_t *list, char *s)
{
	char **v = realloc(list->v, (list->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[list->n++] = s;
	v[list->n] = NULL;
	list->v = v;
	return 0;
}

int st_config_list_push_dup(st_config_list_t *list, const char *s, size_t len)
{
	char *d = strndup(s, len);

	if (!d || st_config_list_push(list, d) < 0) {
		free(d);
		return -ENOMEM;
	}
	return 0;
}

int st_config_list_copy(st_config_list_t *dst, const st_config_list_t *src)
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

void st_config_pairs_clear(st_config_pairs_t *pairs)
{
	if (pairs->kv)
		for (size_t i = 0; i < 2 * pairs->n; i++)
			free(pairs->kv[i]);
	free(pairs->kv);
	pairs->kv = NULL;
	pairs->n = 0;
}

/* Set name=value: replace the value in place if name is there, else append. */
int st_config_pairs_set(st_config_pairs_t *pairs, const char *name, const char *value)
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

void st_config_fmt_num(const st_config_key_t *key, int64_t v, char *buf, size_t len)
{
	if (key->type == ST_CONFIG_T_SIZE)
		st_config_fmt_size((uint64_t)v, buf, len);
	else if (key->type == ST_CONFIG_T_DURATION)
		st_config_fmt_duration((uint64_t)v, buf, len);
	else if (key->type == ST_CONFIG_T_MODE)
		snprintf(buf, len, "%04llo", (unsigned long long)v);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

/* The allowed values, as the docs show them: "0..64", "auto, recvmmsg". */
void st_config_fmt_range(const st_config_key_t *key, char *buf, size_t len)
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
void st_config_fmt_expect(const st_config_key_t *key, char *buf, size_t len)
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
	case ST_CONFIG_T_MODE:
		snprintf(buf, len, "an octal file mode %s (e.g. 0640)", range);
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

/* Why a number was refused, beyond "not of the expected form". */
#define ST_CONFIG_E_NO_UNIT (-1000) /* a duration without a unit */
#define ST_CONFIG_E_DECIMAL (-1001) /* a size with a decimal unit (MB) */

/* "KB", "MB", "GB", "TB" (any case): decimal units, which sizes are not */
static int st_config_decimal_unit(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return strlen(p) == 2 && strchr("kKmMgGtT", p[0]) && (p[1] == 'b' || p[1] == 'B');
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
	/* no bare number: "10" meant 10 ms to the code and 10 s to people */
	static const char *const dur_units[] = {"ms", "s", "m", "h", NULL};
	static const uint64_t dur_mults[] = {1, 1000, 60000, 3600000};
	int neg = 0;
	uint64_t v;

	if (key->type == ST_CONFIG_T_MODE) {
		/* octal, 3 or 4 digits: 640, 0640 */
		size_t n = strspn(s, "01234567");

		if (s[n] || n < 3 || n > 4)
			return -EINVAL;
		v = strtoull(s, NULL, 8);
		if (v > (uint64_t)key->hi)
			return -ERANGE;
		*out = (int64_t)v;
		return 0;
	}
	if (key->type == ST_CONFIG_T_INT && *s == '-') {
		neg = 1;
		s++;
	}
	if (st_config_digits(&s, &v) < 0)
		return -EINVAL;
	if (key->type == ST_CONFIG_T_SIZE) {
		if (st_config_unit(s, &v, size_units, size_mults) < 0)
			return st_config_decimal_unit(s) ? ST_CONFIG_E_DECIMAL : -EINVAL;
	} else if (key->type == ST_CONFIG_T_DURATION) {
		if (!*s && v != 0)
			return ST_CONFIG_E_NO_UNIT;
		if (*s && st_config_unit(s, &v, dur_units, dur_mults) < 0)
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
			*out = key->values[i];
			return 0;
		}
	return -EINVAL;
}

const char *st_config_enum_word(const st_config_key_t *key, int value)
{
	for (size_t i = 0; key->words[i]; i++)
		if (key->values[i] == value)
			return key->words[i];
	return "?";
}

void st_config_value_free(st_config_value_t *val)
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

/* the bytes in one binary unit named by its letter, for messages */
static const char *st_config_unit_bytes(char letter)
{
	switch (tolower((unsigned char)letter)) {
	case 'k':
		return "1024";
	case 'm':
		return "1048576";
	case 'g':
		return "1073741824";
	default:
		return "1099511627776";
	}
}

/*
 * Parse text as a value of key into val (which the caller frees).
 * Scalars are trimmed of surrounding blanks; strings are kept verbatim.
 * @return 0, ST_ERR_CONFIG with why filled, or -ENOMEM.
 */
int st_config_parse(const st_config_key_t *key, const char *text, st_config_value_t *val, char *why,
                    size_t whylen)
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
	if (rc == ST_CONFIG_E_NO_UNIT) {
		snprintf(why, whylen, "'%s' needs a unit: ms, s, m, h (e.g. %ss)", buf, buf);
		return ST_ERR_CONFIG;
	}
	if (rc == ST_CONFIG_E_DECIMAL) {
		/* buf is digits, blanks, then the two-letter unit */
		int n = (int)strspn(buf, "0123456789");

		snprintf(why, whylen,
		         "'%s': sizes are binary: write %.*s%ciB (1 %ciB = %s bytes), or the "
		         "number of bytes",
		         buf, n, buf, toupper((unsigned char)buf[strlen(buf) - 2]),
		         toupper((unsigned char)buf[strlen(buf) - 2]),
		         st_config_unit_bytes(buf[strlen(buf) - 2]));
		return ST_ERR_CONFIG;
	}
	st_config_fmt_expect(key, expect, sizeof(expect));
	st_config_got(got, sizeof(got), (key->flags & ST_CONFIG_F_SECRET) ? "<redacted>" : text);
	snprintf(why, whylen, "expected %s, %s", expect, got);
	return ST_ERR_CONFIG;
}

/* Store a parsed value (taking what it owns) and note its source. */
void st_config_store(st_config_t *cfg, const st_config_key_t *key, st_config_value_t *val,
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
	case ST_CONFIG_T_MODE:
		*(uint32_t *)f = (uint32_t)val->num;
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
