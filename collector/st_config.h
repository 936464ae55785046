/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_config.h - the collector's configuration.
 *
 * One st_config_t holds every setting as a typed field, built from the
 * key table in config_keys.h (field = key with dots as underscores; the
 * collector reads cfg->ingest_backend, cfg->threads_workers, ...).
 *
 * Sources, lowest to highest precedence:
 *   st_config_init()       built-in defaults
 *   st_config_load_yaml()  the -c FILE
 *   st_config_load_env()   STORMTRAP_<KEY> (upper case, dots as "__")
 *   st_config_set()        --set KEY=VALUE
 *   st_config_list_add()   -l, -o, --community (lists only)
 * Precedence is simply call order: call them in the order above, then
 * st_config_validate() for the checks that involve several keys.
 *
 * Every setter fills err with one line naming the source and the key
 * ("cfg.yaml:12: threads.ingest: expected an integer 0..64, got 'many'")
 * and returns 0, ST_ERR_CONFIG for a bad setting, or -errno (-ENOMEM, or
 * the error opening the YAML file). A failed call leaves cfg unchanged.
 *
 * Ownership: cfg owns every string and list; they live until
 * st_config_free(). Not thread-safe: configure on the main thread, then
 * hand worker threads a const pointer.
 */
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The constants of the configuration's own enums (ST_CONFIG_OWN_ENUMS),
 * e.g. ST_BACKEND_RECVMMSG, ST_CONFIG_LOG_FORMAT_JSON; the others are
 * their modules' (see config_keys.h). */
#define ST_CONFIG_ENUM_CONST_(E, C, S) C,
#define ST_CONFIG_ENUM_DECL_(E)        enum { ST_CONFIG_ENUM_##E(ST_CONFIG_ENUM_CONST_) };
ST_CONFIG_OWN_ENUMS(ST_CONFIG_ENUM_DECL_)
#undef ST_CONFIG_ENUM_DECL_
#undef ST_CONFIG_ENUM_CONST_

/** A list of strings (listen, output, communities). */
typedef struct st_config_list {
	char **v; /* n strings, then NULL */
	size_t n;
	bool cli; /* private: st_config_list_add() has begun this list */
} st_config_list_t;

/** Ordered name/value pairs (the librdkafka properties). */
typedef struct st_config_pairs {
	char **kv; /* name0, value0, name1, value1, ..., NULL; or NULL when n == 0.
	            * The layout st_kafka_conf_t.rdkafka takes. */
	size_t n;  /* pairs */
} st_config_pairs_t;

#define ST_CONFIG_HEX_MAX 64

/** Bytes given as hex (snmp.engine_id). */
typedef struct st_config_hex {
	uint8_t v[ST_CONFIG_HEX_MAX];
	size_t len;
} st_config_hex_t;

/* Where a value came from (st_config_dump() says so). */
enum {
	ST_CONFIG_SRC_DEFAULT = 0,
	ST_CONFIG_SRC_FILE,
	ST_CONFIG_SRC_ENV,
	ST_CONFIG_SRC_CLI,
};

#define ST_CONFIG_CTYPE_UINT     uint32_t
#define ST_CONFIG_CTYPE_INT      int64_t
#define ST_CONFIG_CTYPE_SIZE     uint64_t /* bytes */
#define ST_CONFIG_CTYPE_DURATION uint64_t /* milliseconds */
#define ST_CONFIG_CTYPE_MODE     uint32_t /* file permission bits */

#define ST_CONFIG_FIELD_STR_(F, N, D, C, FL, DOC)         char *F;
#define ST_CONFIG_FIELD_LIST_(F, N, D, C, FL, DOC)        st_config_list_t F;
#define ST_CONFIG_FIELD_BOOL_(F, N, D, DOC)               bool F;
#define ST_CONFIG_FIELD_NUM_(F, N, K, D, LO, HI, FL, DOC) ST_CONFIG_CTYPE_##K F;
#define ST_CONFIG_FIELD_ENUM_(F, N, E, D, DOC)            int F;
#define ST_CONFIG_FIELD_HEX_(F, N, D, LO, HI, DOC)        st_config_hex_t F;
#define ST_CONFIG_COUNT_STR_(F, N, D, C, FL, DOC)         +1
#define ST_CONFIG_COUNT_LIST_(F, N, D, C, FL, DOC)        +1
#define ST_CONFIG_COUNT_BOOL_(F, N, D, DOC)               +1
#define ST_CONFIG_COUNT_NUM_(F, N, K, D, LO, HI, FL, DOC) +1
#define ST_CONFIG_COUNT_ENUM_(F, N, E, D, DOC)            +1
#define ST_CONFIG_COUNT_HEX_(F, N, D, LO, HI, DOC)        +1

/** Number of keys in the table (the rdkafka family not counted). */
enum {
	ST_CONFIG_NKEYS =
	        0 ST_CONFIG_KEYS(ST_CONFIG_COUNT_STR_, ST_CONFIG_COUNT_LIST_, ST_CONFIG_COUNT_BOOL_,
	                         ST_CONFIG_COUNT_NUM_, ST_CONFIG_COUNT_ENUM_, ST_CONFIG_COUNT_HEX_)
};

/**
 * The configuration. Strings are never NULL after st_config_init() (an
 * unset string is ""). Sizes are bytes, durations milliseconds, enums
 * the constants of their word lists in config_keys.h.
 */
struct st_config {
	ST_CONFIG_KEYS(ST_CONFIG_FIELD_STR_, ST_CONFIG_FIELD_LIST_, ST_CONFIG_FIELD_BOOL_,
	               ST_CONFIG_FIELD_NUM_, ST_CONFIG_FIELD_ENUM_, ST_CONFIG_FIELD_HEX_)
	/* output.kafka.rdkafka.*: property names without the prefix, in the
	 * order first set; a later source replaces a value in place */
	st_config_pairs_t output_kafka_rdkafka;
	uint8_t origin[ST_CONFIG_NKEYS]; /* private: ST_CONFIG_SRC_* per key */
};
typedef struct st_config st_config_t;

#undef ST_CONFIG_FIELD_STR_
#undef ST_CONFIG_FIELD_LIST_
#undef ST_CONFIG_FIELD_BOOL_
#undef ST_CONFIG_FIELD_NUM_
#undef ST_CONFIG_FIELD_ENUM_
#undef ST_CONFIG_FIELD_HEX_
#undef ST_CONFIG_COUNT_STR_
#undef ST_CONFIG_COUNT_LIST_
#undef ST_CONFIG_COUNT_BOOL_
#undef ST_CONFIG_COUNT_NUM_
#undef ST_CONFIG_COUNT_ENUM_
#undef ST_CONFIG_COUNT_HEX_

/**
 * @brief Fill cfg with the built-in defaults (collector.name: the host
 * name). cfg need not be initialized before; do not call it twice on the
 * same cfg without st_config_free() in between.
 * @return 0 or -ENOMEM.
 */
int st_config_init(st_config_t *cfg);

/** @brief Free everything cfg owns; cfg may then be initialized again. */
void st_config_free(st_config_t *cfg);

/**
 * @brief Apply a YAML file. The top is a mapping; nested mappings join
 * their keys with dots ("ingest: {backend: x}" is "ingest.backend: x"),
 * dotted keys are also allowed directly; sequences only for list keys;
 * anchors and aliases are errors. An empty file changes nothing. A key set
 * twice in the file is an error.
 * @param path  the file, as named in error messages ("path:line: ...",
 *              "path:line:column: ..." for YAML syntax errors)
 * @return 0, ST_ERR_CONFIG, -ENOMEM, or -errno from opening the file.
 *         On failure cfg is unchanged.
 */
int st_config_load_yaml(st_config_t *cfg, const char *path, char *err, size_t errlen);

/**
 * @brief Apply every STORMTRAP_* variable of @p envp (NULL-terminated, as
 * environ): STORMTRAP_INGEST__BACKEND=recvmmsg sets ingest.backend; a
 * variable that names no key is an error. List values are comma-separated.
 * @return 0, ST_ERR_CONFIG or -ENOMEM. On failure cfg is unchanged.
 */
int st_config_load_env(st_config_t *cfg, char **envp, char *err, size_t errlen);

/**
 * @brief Set one key from text (--set KEY=VALUE). A list value is
 * comma-separated and replaces the list. Keys under
 * output.kafka.rdkafka. set a librdkafka property.
 * @param source  named in errors; NULL means "--set"
 * @return 0, ST_ERR_CONFIG or -ENOMEM. On failure cfg is unchanged.
 */
int st_config_set(st_config_t *cfg, const char *key, const char *value, const char *source,
                  char *err, size_t errlen);

/**
 * @brief Add one item to a list key from a command-line flag (-l listen,
 * -o output, --community communities). The first call for a key empties
 * the list first, so flags replace what lower-precedence sources gave;
 * later calls append. The value is one item, never split at commas.
 * @return 0, ST_ERR_CONFIG or -ENOMEM. On failure cfg is unchanged.
 */
int st_config_list_add(st_config_t *cfg, const char *key, const char *value, char *err,
                       size_t errlen);

/**
 * @brief Checks that involve several keys or the final state: at least
 * one listen address and one output, no address or output twice, a topic
 * for every kafka:// output, a spool directory when Kafka is used,
 * a non-empty collector.name, an output.file.mode that lets the owner
 * write, snmp.engine_epoch not in the future.
 * @return 0 or ST_ERR_CONFIG with err naming the key.
 */
int st_config_validate(const st_config_t *cfg, char *err, size_t errlen);

/**
 * @brief Write the effective configuration as YAML, one dotted key per
 * line, in table order (then the librdkafka properties); a table key set
 * by a file, the environment or the command line is followed by a comment
 * naming that source. Secrets (librdkafka properties whose name
 * contains "password" or "secret", ssl.key.pem, sasl.oauthbearer.config)
 * are written as "<redacted>". Apart from those the output loads back
 * with st_config_load_yaml() to the same configuration.
 */
void st_config_dump(const st_config_t *cfg, FILE *out);

/** @brief Write the reference documentation (docs/CONFIGURATION.md). */
void st_config_markdown(FILE *out);

/**
 * @brief Parse a listen address as accepted by the listen key:
 * "udp://IPv4:port" or "udp://[IPv6]:port", port 1..65535.
 * @param addr     receives an AF_INET or AF_INET6 address, or NULL
 * @param addrlen  receives its length, or NULL
 * @return 0 or -EINVAL.
 */
int st_config_parse_listen(const char *uri, struct sockaddr_storage *addr, socklen_t *addrlen);

#ifdef __cplusplus
}
#endif

#endif /* ST_CONFIG_H */
