/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_impl.h - what the configuration's files share (private to them).
 *
 * The configuration is one module in five files, each named for a concern:
 *   config.c        the key table expanded into descriptors, applying a key
 *                   from any source, init/free/copy, the environment and
 *                   command line, the cross-key checks
 *   config_value.c  one value: lists and pairs, parsing text into a typed
 *                   value, storing it, formatting it back (errors, docs)
 *   config_yaml.c   the YAML file loader (libyaml events)
 *   config_doc.c    writing the configuration out: st_config_dump() and the
 *                   reference documentation (docs/CONFIGURATION.md)
 *   config_addr.c   validators of address-like strings (listen, output,
 *                   host:port)
 * Everything declared here is setup code for the main thread.
 */
#ifndef ST_CONFIG_IMPL_H
#define ST_CONFIG_IMPL_H

#include <stdarg.h>
#include <stdint.h>

#include "st_codec.h" /* ST_ERR_CONFIG */
#include "st_config.h"

typedef enum st_config_type {
	ST_CONFIG_T_STRING,
	ST_CONFIG_T_LIST,
	ST_CONFIG_T_BOOL,
	ST_CONFIG_T_UINT,
	ST_CONFIG_T_INT,
	ST_CONFIG_T_SIZE,
	ST_CONFIG_T_DURATION,
	ST_CONFIG_T_MODE,
	ST_CONFIG_T_ENUM,
	ST_CONFIG_T_HEX,
} st_config_type_t;

/* Validates a string value or one list item: 0, or ST_ERR_CONFIG with a
 * reason in why. */
typedef int (*st_config_check_fn)(const char *value, char *why, size_t whylen);

/* One row of the key table. */
typedef struct st_config_key {
	const char *name;
	st_config_type_t type;
	size_t off;               /* of the field in st_config_t */
	const char *def_str;      /* STRING, LIST (comma-separated), HEX */
	int64_t def_num;          /* BOOL, numbers, ENUM */
	int64_t lo, hi;           /* numbers: bounds; HEX: octets */
	const char *const *words; /* ENUM: the words, then NULL */
	const int *values;        /* ENUM: the constant of each word */
	st_config_check_fn check; /* validator of strings and list items, or NULL */
	unsigned flags;           /* ST_CONFIG_F_* */
	const char *doc;
} st_config_key_t;

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

/* config.c: the table and small helpers */
extern const st_config_key_t st_config_keys[ST_CONFIG_NKEYS];
extern const char *const st_config_src_names[];
void *st_config_field(st_config_t *cfg, const st_config_key_t *key);
const void *st_config_cfield(const st_config_t *cfg, const st_config_key_t *key);
const st_config_key_t *st_config_find(const char *name);
int st_config_is_rdkafka(const char *name);
int st_config_is_num(st_config_type_t t);
/* the upper bound of a number key; "now" is taken when asked */
int64_t st_config_hi(const st_config_key_t *key);
/* is the value of this key (table row or librdkafka property) a secret? */
int st_config_secret_name(const char *name);
/* "got '<text>'" (shortened, or "nothing") for error messages */
void st_config_got(char *buf, size_t len, const char *text);
void st_config_errf(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* the environment variable that sets a key: STORMTRAP_INGEST__BACKEND */
void st_config_env_name(const char *name, char *buf, size_t len);
/* the error for a key that does not exist, with a "did you mean" */
int st_config_unknown(const char *where, const char *name, int env, char *err, size_t errlen);
/* set key name from text (lists: comma-separated), as source "where" */
int st_config_apply(st_config_t *cfg, const char *where, int origin, int env, const char *name,
                    const char *text, char *err, size_t errlen);
/* deep copy, so loaders can work on a scratch configuration */
int st_config_copy(st_config_t *dst, const st_config_t *src);

/* config_value.c */
/* the word of an enum key's value ("?" for none) */
const char *st_config_enum_word(const st_config_key_t *key, int value);
void st_config_list_clear(st_config_list_t *list);
int st_config_list_push(st_config_list_t *list, char *s);
int st_config_list_push_dup(st_config_list_t *list, const char *s, size_t len);
int st_config_list_copy(st_config_list_t *dst, const st_config_list_t *src);
void st_config_pairs_clear(st_config_pairs_t *pairs);
int st_config_pairs_set(st_config_pairs_t *pairs, const char *name, const char *value);
void st_config_fmt_num(const st_config_key_t *key, int64_t v, char *buf, size_t len);
/* the allowed values, as the docs show them: "0..64", "auto, recvmmsg" */
void st_config_fmt_range(const st_config_key_t *key, char *buf, size_t len);
/* what a value of this key must look like, for "expected ..., got ..." */
void st_config_fmt_expect(const st_config_key_t *key, char *buf, size_t len);
/* parse text as a value of key into val (which the caller frees):
 * 0, ST_ERR_CONFIG with why filled, or -ENOMEM */
int st_config_parse(const st_config_key_t *key, const char *text, st_config_value_t *val, char *why,
                    size_t whylen);
/* store a parsed value (taking what it owns) and note its source */
void st_config_store(st_config_t *cfg, const st_config_key_t *key, st_config_value_t *val,
                     int origin);
void st_config_value_free(st_config_value_t *val);

/* config_addr.c: the validators the table names */
int st_config_check_listen(const char *value, char *why, size_t whylen);
int st_config_check_output(const char *value, char *why, size_t whylen);
int st_config_check_hostport(const char *value, char *why, size_t whylen);

#endif /* ST_CONFIG_IMPL_H */
