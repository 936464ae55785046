/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_error.c - st_strerror() names every error code distinctly.
 *
 * The codes are not listed here: they are read from the enum in
 * codec/st_codec.h, the one place they are defined, so a code added there
 * without a name in codec/error.c fails this test, and so does a name left
 * in the table for a code that no longer exists.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_codec.h"

#define MAXCODES 256

typedef struct {
	char name[64];
	int value;
} code_t;

static code_t codes[MAXCODES];
static size_t ncodes;

static void strip_comments(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '/' && s[1] == '*') {
			char *end = strstr(s + 2, "*/");

			s = end ? end + 2 : s + strlen(s);
			*w++ = ' ';
		} else if (s[0] == '/' && s[1] == '/') {
			while (*s && *s != '\n')
				s++;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* the enumerators of the enum that holds ST_ERR_BASE, with their values
 * (explicit, or one more than the previous one), without BASE and MAX */
static void read_codes(void)
{
	char path[512], *text, *start, *end;
	FILE *f;
	long len;
	int prev = 0;

	snprintf(path, sizeof(path), "%s/codec/st_codec.h", ST_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	cr_assert_not_null(text);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	strip_comments(text);

	start = strstr(text, "ST_ERR_BASE");
	cr_assert_not_null(start, "no ST_ERR_BASE in %s", path);
	while (start > text && *start != '{')
		start--;
	end = strchr(start, '}');
	cr_assert(*start == '{' && end, "no enum around ST_ERR_BASE in %s", path);
	*end = '\0';
	for (char *item = strtok(start + 1, ","); item; item = strtok(NULL, ",")) {
		char name[64];
		int n = 0, value;
		char *eq;

		while (isspace((unsigned char)*item))
			item++;
		if (!*item)
			continue;
		cr_assert_eq(sscanf(item, "%63[A-Z0-9_]%n", name, &n), 1, "enumerator '%s'", item);
		cr_assert(strncmp(name, "ST_ERR_", 7) == 0, "%s in the error enum", name);
		eq = strchr(item + n, '=');
		value = eq ? (int)strtol(eq + 1, NULL, 0) : prev + 1;
		prev = value;
		if (strcmp(name, "ST_ERR_BASE") == 0 || strcmp(name, "ST_ERR_MAX") == 0)
			continue;
		cr_assert_lt(ncodes, MAXCODES);
		snprintf(codes[ncodes].name, sizeof(codes[ncodes].name), "%s", name);
		codes[ncodes++].value = value;
	}
	free(text);
}

TestSuite(error, .init = read_codes);

Test(error, the_header_is_read)
{
	/* the parse itself: the first and a known code, with their values */
	cr_assert_geq(ncodes, 20, "only %zu codes found in st_codec.h", ncodes);
	cr_assert_str_eq(codes[0].name, "ST_ERR_BER_TRUNCATED");
	cr_assert_eq(codes[0].value, ST_ERR_BER_TRUNCATED);
	for (size_t i = 0; i < ncodes; i++)
		if (strcmp(codes[i].name, "ST_ERR_CONFIG") == 0)
			cr_assert_eq(codes[i].value, ST_ERR_CONFIG);
}

Test(error, every_code_has_its_own_name)
{
	const char *unknown = st_strerror(-1999);

	cr_assert_str_eq(unknown, "unknown stormtrap error");
	for (size_t i = 0; i < ncodes; i++) {
		const char *s = st_strerror(codes[i].value);

		cr_assert(codes[i].value < ST_ERR_BASE && codes[i].value > ST_ERR_MAX,
		          "%s = %d is outside the reserved range", codes[i].name, codes[i].value);
		cr_assert_not_null(s);
		cr_assert_str_neq(s, unknown, "%s (%d) has no name in codec/error.c", codes[i].name,
		                  codes[i].value);
		cr_assert_str_neq(s, "unknown error", "%s", codes[i].name);
		for (size_t k = 0; k < i; k++) {
			cr_assert_neq(codes[i].value, codes[k].value, "%s and %s share a value",
			              codes[i].name, codes[k].name);
			cr_assert_str_neq(s, st_strerror(codes[k].value), "%s and %s share a name",
			                  codes[i].name, codes[k].name);
		}
	}
}

Test(error, no_name_for_a_code_that_is_not_defined)
{
	const char *unknown = st_strerror(-1999);

	for (int c = ST_ERR_BASE - 1; c > ST_ERR_MAX; c--) {
		size_t i = 0;

		if (strcmp(st_strerror(c), unknown) == 0)
			continue;
		while (i < ncodes && codes[i].value != c)
			i++;
		cr_assert_lt(i, ncodes, "codec/error.c names %d, which st_codec.h does not define",
		             c);
	}
}

Test(error, errno_values_and_zero)
{
	cr_assert_str_eq(st_strerror(0), "success");
	cr_assert_str_eq(st_strerror(-ENOENT), strerror(ENOENT));
	cr_assert_str_eq(st_strerror(-EAGAIN), strerror(EAGAIN));
	/* a negative value that is neither errno nor ours still gets a string */
	cr_assert_not_null(st_strerror(-999));
	cr_assert_not_null(st_strerror(-5000));
	cr_assert_not_null(st_strerror(7));
}
