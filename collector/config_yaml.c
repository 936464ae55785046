/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_yaml.c - the YAML configuration file (-c FILE), read with libyaml's
 * event parser.
 *
 * Nested mappings join their keys with dots; sequences are accepted only
 * for list keys; anchors and aliases are refused; a key set twice in one
 * file is an error naming both lines. Every scalar goes through
 * st_config_apply() like any other source, on a scratch copy that is
 * swapped in only when the whole file applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_impl.h"

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
