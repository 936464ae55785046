/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_users.c - libFuzzer target for the users file (createUser lines).
 *
 * The users file is read at start and on every SIGHUP, and it is the one
 * input an operator edits by hand, so its parser must take any text: the
 * input is handed to st_usm_users_parse() as the contents of a file named
 * "fuzz.conf" (the loader, st_usm_users_load(), reads a file and calls the
 * same function). Checked, beyond "no crash, no leak":
 *
 *  - success gives users, at most one per line, that st_usm_users_check()
 *    can be asked about, and st_usm_users_free() releases;
 *  - failure gives no users and an error that names the file (and, for a
 *    bad line, "fuzz.conf:LINE: ..."), never an empty message.
 *
 * A passphrase costs one 1 MiB hash (RFC 3414 A.2), so executions are slow
 * when the input holds many; -max_len keeps that bounded (scripts/fuzz-smoke).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "st_codec.h"
#include "st_usm.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	st_usm_users_t *users = (st_usm_users_t *)1;
	char *text = malloc(size + 1);
	char err[512];
	size_t lines = 1;
	int rc;

	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	/* the loader refuses a NUL byte; what the parser sees ends there */
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';

	rc = st_usm_users_parse(text, NAME, &users, err, sizeof(err));
	if (rc == 0) {
		CHECK(users != NULL);
		CHECK(st_usm_users_count(users) <= lines);
		(void)st_usm_users_check(users, err, sizeof(err));
		st_usm_users_free(users);
	} else {
		CHECK(rc < 0);
		CHECK(users == NULL);
		if (rc != -ENOMEM) {
			CHECK(err[0] != '\0' && err[0] != 'x');
			CHECK(strncmp(err, NAME ":", sizeof(NAME)) == 0);
		}
	}
	free(text);
	return 0;
}
