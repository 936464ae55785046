/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_config.c - libFuzzer target for the YAML configuration (-c FILE).
 *
 * The input is the file: it is written to a memfd and loaded through
 * /proc/self/fd/N with st_config_load_yaml(), the function the collector
 * calls, so libyaml's reader, the flattening of nested mappings, lists,
 * every key's value parser and the error paths all run on it, without a
 * file system in the loop. Checked, beyond "no crash, no leak":
 *
 *  - a failed load leaves a one-line error that names the file;
 *  - an accepted file goes through st_config_validate(), and its effective
 *    configuration (st_config_dump()) loads back and dumps to the same
 *    text: st_config.h promises that the dump round-trips (the source
 *    comments at the ends of lines differ by design and are left out).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "st_codec.h"
#include "st_config.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz.yaml", 0);
	CHECK(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void put(const void *data, size_t size)
{
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
}

/* the dump, without its "  # source" comments */
static char *dump(const st_config_t *cfg, size_t *len)
{
	char *text = NULL, *out;
	size_t n = 0, o = 0;
	FILE *f = open_memstream(&text, &n);

	CHECK(f != NULL);
	st_config_dump(cfg, f);
	CHECK(fclose(f) == 0);
	out = malloc(n + 1);
	CHECK(out != NULL);
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char *c = NULL;

		for (char *p = line; p + 4 <= line + ll; p++)
			if (memcmp(p, "  # ", 4) == 0)
				c = p;
		/* a comment has no quote after it; a quoted value may hold "  # " */
		if (c && memchr(c, '"', ll - (size_t)(c - line)))
			c = NULL;
		if (c)
			ll = (size_t)(c - line);
		memcpy(out + o, line, ll);
		o += ll;
		out[o++] = '\n';
		line = nl ? nl + 1 : NULL;
	}
	out[o] = '\0';
	free(text);
	*len = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	st_config_t cfg, again;
	char err[1024];
	char *d1, *d2;
	size_t l1, l2;
	int rc;

	put(data, size);
	CHECK(st_config_init(&cfg) == 0);
	err[0] = '\0';
	rc = st_config_load_yaml(&cfg, path, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc < 0);
		if (rc != -ENOMEM &&
		    (strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n') != NULL)) {
			fprintf(stderr,
			        "fuzz_config: error %d does not name the file on one line: '%s'\n",
			        rc, err);
			__builtin_trap();
		}
		st_config_free(&cfg);
		return 0;
	}
	(void)st_config_validate(&cfg, err, sizeof(err));

	d1 = dump(&cfg, &l1);
	put(d1, l1);
	CHECK(st_config_init(&again) == 0);
	rc = st_config_load_yaml(&again, path, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "fuzz_config: the dump does not load back: %s\n%s", err, d1);
		__builtin_trap();
	}
	d2 = dump(&again, &l2);
	if (l1 != l2 || memcmp(d1, d2, l1) != 0) {
		fprintf(stderr, "fuzz_config: the dump changed on reload:\n%s---\n%s", d1, d2);
		__builtin_trap();
	}
	free(d1);
	free(d2);
	st_config_free(&again);
	st_config_free(&cfg);
	return 0;
}
