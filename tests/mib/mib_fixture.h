/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the MIB tests: the standard MIB set that scripts/fetch-mibs
 * gathers from packages (npm's net-snmp, Debian's libsnmp-base and
 * erlang-snmp), and a log collector for st_mib_load(). The script is found
 * from this file's own path, so the tests work from any build directory of
 * a fresh clone; ST_MIB_DIR names an already filled directory instead.
 */
#ifndef ST_TEST_MIB_FIXTURE_H
#define ST_TEST_MIB_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_mib.h"

#define FIX_MAX_MSGS 512

typedef struct fix_log {
	int n;
	struct {
		int severity, line;
		char file[512], msg[512];
	} m[FIX_MAX_MSGS];
} fix_log_t;

static inline void fix_on_log(void *ctx, int severity, const char *file, int line, const char *msg)
{
	fix_log_t *log = ctx;
	if (log->n < FIX_MAX_MSGS) {
		log->m[log->n].severity = severity;
		log->m[log->n].line = line;
		snprintf(log->m[log->n].file, sizeof(log->m[0].file), "%s", file);
		snprintf(log->m[log->n].msg, sizeof(log->m[0].msg), "%s", msg);
	}
	log->n++;
}

/* the index of a message about file (its base name) at line, or -1 */
static inline int fix_log_find(const fix_log_t *log, const char *base, int line, const char *needle)
{
	for (int i = 0; i < log->n && i < FIX_MAX_MSGS; i++) {
		const char *slash = strrchr(log->m[i].file, '/');
		const char *b = slash ? slash + 1 : log->m[i].file;
		if (!strcmp(b, base) && (line < 0 || log->m[i].line == line) &&
		    (!needle || strstr(log->m[i].msg, needle)))
			return i;
	}
	return -1;
}

/*
 * Fill dir with the standard set (scripts/fetch-mibs), or skip the test
 * with the script's reason.
 */
static inline void fix_std_dir(char *dir, size_t cap)
{
	char root[1024], cmd[2300], line[1024] = "";
	const char *env = getenv("ST_MIB_DIR");
	FILE *p;

	if (env && *env) {
		snprintf(dir, cap, "%s", env);
		return;
	}
	snprintf(root, sizeof(root), "%s", __FILE__);
	for (int up = 0; up < 3; up++) { /* tests/mib/mib_fixture.h -> the root */
		char *slash = strrchr(root, '/');
		if (!slash)
			cr_skip_test("cannot find the source tree from %s", __FILE__);
		*slash = 0;
	}
	snprintf(cmd, sizeof(cmd), "'%s/scripts/fetch-mibs' 2>&1", root);
	p = popen(cmd, "r");
	if (!p)
		cr_skip_test("cannot run %s", cmd);
	while (fgets(line, sizeof(line), p))
		;
	if (pclose(p) != 0)
		cr_skip_test("scripts/fetch-mibs could not gather the standard MIBs: %s", line);
	line[strcspn(line, "\n")] = 0;
	snprintf(dir, cap, "%s", line);
}

/* the standard set's directories, npm's first (its copies win) */
typedef struct fix_std {
	char base[1024];
	char npm[1100], netsnmp[1100], erlang[1100];
	const char *dirs[4];
} fix_std_t;

static inline void fix_std(fix_std_t *std)
{
	fix_std_dir(std->base, sizeof(std->base));
	snprintf(std->npm, sizeof(std->npm), "%s/npm", std->base);
	snprintf(std->netsnmp, sizeof(std->netsnmp), "%s/netsnmp", std->base);
	snprintf(std->erlang, sizeof(std->erlang), "%s/erlang", std->base);
	std->dirs[0] = std->npm;
	std->dirs[1] = std->netsnmp;
	std->dirs[2] = std->erlang;
	std->dirs[3] = NULL;
}

/* BER content octets of an OID (test input the way the codec keeps it) */
static inline size_t fix_ber(const uint32_t *sub, size_t n, uint8_t *out)
{
	int len = st_mib_oid_ber(sub, n, out, n * 5);
	cr_assert_geq(len, 0);
	return (size_t)len;
}

#endif
