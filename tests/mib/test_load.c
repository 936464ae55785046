/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading a vendor-style directory that the test writes itself (small
 * modules of our own, not vendors' text) next to the standard set: a module
 * importing one nobody has, one with a syntax error, one defining a name
 * twice, an SMIv1 TRAP-TYPE, BITS, and two SMIv2 modules defining one OID,
 * one of them deprecated. Loading goes on, reports each problem once with
 * its file and line, and uses everything it could resolve.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mib_fixture.h"

static fix_std_t std;
static fix_log_t vlog;
static st_mib_t *mib;
static st_mib_stats_t stats;
static char vdir[256];

static const char ACME_SMI[] = /* acme.txt: the vendor's root, TCs and objects */
        "ACME-SMI DEFINITIONS ::= BEGIN\n"
        "IMPORTS\n"
        "    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, Integer32, enterprises\n"
        "        FROM SNMPv2-SMI\n"
        "    TEXTUAL-CONVENTION FROM SNMPv2-TC;\n"
        "\n"
        "acme MODULE-IDENTITY\n"
        "    LAST-UPDATED \"202611250000Z\"\n"
        "    ORGANIZATION \"Acme test fixtures\"\n"
        "    CONTACT-INFO \"none\"\n"
        "    DESCRIPTION \"Root of the acme test tree.\"\n"
        "    REVISION \"202611250000Z\"\n"
        "    DESCRIPTION \"First.\"\n"
        "    ::= { enterprises 99991 }\n"
        "\n"
        "AcmeTenths ::= TEXTUAL-CONVENTION\n"
        "    DISPLAY-HINT \"d-1\"\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Tenths.\"\n"
        "    SYNTAX Integer32\n"
        "\n"
        "acmeObjects OBJECT IDENTIFIER ::= { acme 1 }\n"
        "acmeTraps OBJECT IDENTIFIER ::= { acme 2 }\n"
        "\n"
        "acmeLevel OBJECT-TYPE\n"
        "    SYNTAX AcmeTenths\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"A level.\"\n"
        "    ::= { acmeObjects 1 }\n"
        "\n"
        "acmeFlags OBJECT-TYPE\n"
        "    SYNTAX BITS { red(0), green(1), blue(2), spare(9) }\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Flags.\"\n"
        "    ::= { acmeObjects 2 }\n"
        "\n"
        "acmeState OBJECT-TYPE\n"
        "    SYNTAX INTEGER { idle(1), busy(2), broken(3) }\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"State.\"\n"
        "    ::= { acmeObjects 3 }\n"
        "\n"
        "acmeAlarm NOTIFICATION-TYPE\n"
        "    OBJECTS { acmeLevel, acmeState }\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Alarm.\"\n"
        "    ::= { acmeTraps 0 1 }\n"
        "END\n";

static const char ACME_ORPHAN[] = /* line 5 imports a module nobody has */
        "ACME-ORPHAN-MIB DEFINITIONS ::= BEGIN\n"
        "IMPORTS\n"
        "    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI\n"
        "    acmeObjects FROM ACME-SMI\n"
        "    WidgetCount FROM ACME-MISSING-TC;\n"
        "\n"
        "acmeOrphanCount OBJECT-TYPE\n"
        "    SYNTAX WidgetCount\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Type from a module nobody has.\"\n"
        "    ::= { acmeObjects 10 }\n"
        "\n"
        "acmeOrphanSize OBJECT-TYPE\n"
        "    SYNTAX Integer32\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Still resolvable.\"\n"
        "    ::= { acmeObjects 11 }\n"
        "END\n";

static const char ACME_BROKEN[] = /* line 14 has a syntax error */
        "ACME-BROKEN-MIB DEFINITIONS ::= BEGIN\n"
        "IMPORTS\n"
        "    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI\n"
        "    acmeObjects FROM ACME-SMI;\n"
        "\n"
        "acmeGood OBJECT-TYPE\n"
        "    SYNTAX Integer32\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Before the error.\"\n"
        "    ::= { acmeObjects 20 }\n"
        "\n"
        "acmeBad OBJECT-TYPE\n"
        "    SYNTAX Integer32 ]]] ;;\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Garbage in the syntax.\"\n"
        "    ::= { acmeObjects 21 }\n"
        "END\n";

static const char ACME_DUP[] = /* line 13 defines acmeDup again */
        "ACME-DUP-MIB DEFINITIONS ::= BEGIN\n"
        "IMPORTS\n"
        "    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI\n"
        "    acmeObjects FROM ACME-SMI;\n"
        "\n"
        "acmeDup OBJECT-TYPE\n"
        "    SYNTAX Integer32\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"First.\"\n"
        "    ::= { acmeObjects 30 }\n"
        "\n"
        "acmeDup OBJECT-TYPE\n"
        "    SYNTAX Integer32\n"
        "    MAX-ACCESS read-only\n"
        "    STATUS current\n"
        "    DESCRIPTION \"Second.\"\n"
        "    ::= { acmeObjects 31 }\n"
        "END\n";

static const char ACME_V1[] = /* SMIv1, with an enterprise-specific TRAP-TYPE */
        "ACME-V1-MIB DEFINITIONS ::= BEGIN\n"
        "IMPORTS\n"
        "    enterprises FROM RFC1155-SMI\n"
        "    OBJECT-TYPE FROM RFC-1212\n"
        "    TRAP-TYPE FROM RFC-1215;\n"
        "\n"
        "acmeV1 OBJECT IDENTIFIER ::= { enterprises 99992 }\n"
        "\n"
        "acmeV1Temp OBJECT-TYPE\n"
        "    SYNTAX INTEGER\n"
        "    ACCESS read-only\n"
        "    STATUS mandatory\n"
        "    DESCRIPTION \"Temperature.\"\n"
        "    ::= { acmeV1 1 }\n"
        "\n"
        "acmeV1Overheat TRAP-TYPE\n"
        "    ENTERPRISE acmeV1\n"
        "    VARIABLES { acmeV1Temp }\n"
        "    DESCRIPTION \"Too hot.\"\n"
        "    ::= 17\n"
        "END\n";

/* two SMIv2 modules define acme.1.40; the deprecated one must lose */
#define ACME_EDITION(mod, obj, status)                                                             \
	mod " DEFINITIONS ::= BEGIN\n"                                                             \
	    "IMPORTS\n"                                                                            \
	    "    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI\n"                                         \
	    "    acmeObjects FROM ACME-SMI;\n"                                                     \
	    "\n" obj " OBJECT-TYPE\n"                                                              \
	    "    SYNTAX Integer32\n"                                                               \
	    "    MAX-ACCESS read-only\n"                                                           \
	    "    STATUS " status "\n"                                                              \
	    "    DESCRIPTION \"One OID, two modules.\"\n"                                          \
	    "    ::= { acmeObjects 40 }\n"                                                         \
	    "END\n"

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", vdir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void make_vendor_dir(void)
{
	char sub[300];
	snprintf(vdir, sizeof(vdir), "%s/st-mib-test-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(vdir));
	snprintf(sub, sizeof(sub), "%s/deep", vdir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/deep/er", vdir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	/* file names unlike the module names, one in a subdirectory */
	put("acme.txt", ACME_SMI);
	put("ACME-ORPHAN-MIB.my", ACME_ORPHAN);
	put("acme-broken.mib", ACME_BROKEN);
	put("dup.mib", ACME_DUP);
	put("deep/er/v1-traps", ACME_V1);
	put("old.my", ACME_EDITION("ACME-OLD-MIB", "acmeOldLimit", "deprecated"));
	put("new.my", ACME_EDITION("ACME-NEW-MIB", "acmeLimit", "current"));
}

static void load_with(const char *const *modules)
{
	const char *dirs[5];
	st_mib_opts_t opts = {.log = fix_on_log, .log_ctx = &vlog};
	char err[512];
	int rc;

	fix_std(&std);
	make_vendor_dir();
	dirs[0] = vdir;
	dirs[1] = std.npm;
	dirs[2] = std.netsnmp;
	dirs[3] = std.erlang;
	dirs[4] = NULL;
	rc = st_mib_load(dirs, modules, &opts, &mib, &stats, err, sizeof(err));
	cr_assert_eq(rc, 0, "load: %d %s", rc, err);
}

static void load(void)
{
	load_with(NULL);
}

static void unload(void)
{
	st_mib_free(mib);
	mib = NULL;
	if (vdir[0])
		rm_rf(vdir);
}

static const st_mib_node_t *find(const uint32_t *sub, size_t n, size_t *suffix)
{
	return st_mib_lookup(mib, sub, n, suffix);
}

#define ACME(...)   ((const uint32_t[]){1, 3, 6, 1, 4, 1, 99991, __VA_ARGS__})
#define ACME_N(...) (7 + sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t))

Test(load, missing_import_is_reported_with_file_and_line, .init = load, .fini = unload)
{
	int i = fix_log_find(&vlog, "ACME-ORPHAN-MIB.my", 5, "ACME-MISSING-TC");
	cr_assert_geq(i, 0, "no message for the missing import among %d", vlog.n);
	cr_assert_leq(vlog.m[i].severity, 1);
	cr_assert_eq(strncmp(vlog.m[i].file, vdir, strlen(vdir)), 0, "file %s", vlog.m[i].file);
}

Test(load, syntax_error_is_reported_with_file_and_line, .init = load, .fini = unload)
{
	int i = fix_log_find(&vlog, "acme-broken.mib", 14, "syntax");
	cr_assert_geq(i, 0, "no message for the syntax error among %d", vlog.n);
}

Test(load, duplicate_definition_is_reported, .init = load, .fini = unload)
{
	cr_assert_geq(fix_log_find(&vlog, "dup.mib", 13, "acmeDup"), 0);
}

Test(load, each_file_and_line_is_reported_once, .init = load, .fini = unload)
{
	cr_assert_eq((uint32_t)vlog.n, stats.messages);
	for (int i = 0; i < vlog.n && i < FIX_MAX_MSGS; i++)
		for (int j = i + 1; j < vlog.n && j < FIX_MAX_MSGS; j++)
			cr_assert(!vlog.m[i].line || strcmp(vlog.m[i].file, vlog.m[j].file) ||
			                  vlog.m[i].line != vlog.m[j].line,
			          "%s:%d twice", vlog.m[i].file, vlog.m[i].line);
}

Test(load, everything_resolvable_is_used, .init = load, .fini = unload)
{
	size_t suffix;
	const st_mib_node_t *node;

	/* the orphan's resolvable object, and the one whose type is missing */
	node = find(ACME(1, 11, 0), ACME_N(1, 11, 0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeOrphanSize");
	cr_assert_eq(suffix, 1);
	node = find(ACME(1, 10, 0), ACME_N(1, 10, 0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeOrphanCount");
	/* the broken module's object before the error */
	node = find(ACME(1, 20, 0), ACME_N(1, 20, 0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_module(mib, node), "ACME-BROKEN-MIB");
	/* the duplicate's first definition */
	node = find(ACME(1, 30, 0), ACME_N(1, 30, 0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeDup");
	cr_assert_geq(stats.modules, 20);
}

Test(load, notification_enum_and_tc_hint, .init = load, .fini = unload)
{
	size_t suffix;
	char out[ST_MIB_HINT_INT_BOUND];
	const st_mib_node_t *node = find(ACME(2, 0, 1), ACME_N(2, 0, 1), &suffix);

	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeAlarm");
	cr_assert_eq(node->kind, ST_MIB_K_NOTIFICATION);
	node = find(ACME(1, 3, 0), ACME_N(1, 3, 0), &suffix);
	cr_assert_str_eq(st_mib_enum_label(mib, node, 3), "broken");
	node = find(ACME(1, 1, 0), ACME_N(1, 1, 0), &suffix);
	cr_assert_str_eq(st_mib_node_hint(mib, node), "d-1");
	cr_assert_eq(st_mib_hint_int(st_mib_node_hint(mib, node), 215, out, sizeof(out)), 4);
	cr_assert_str_eq(out, "21.5");
}

Test(load, bits_names, .init = load, .fini = unload)
{
	/* bits 0, 2, 9 and the unnamed 15: 1010 0000 0100 0001 */
	static const uint8_t val[] = {0xa0, 0x41};
	size_t suffix;
	const st_mib_node_t *node = find(ACME(1, 2, 0), ACME_N(1, 2, 0), &suffix);
	char out[256];
	int n;

	cr_assert_not_null(node);
	cr_assert_eq(node->type, ST_MIB_T_BITS);
	cr_assert_leq(st_mib_bits_bound(mib, node, sizeof(val)), sizeof(out));
	n = st_mib_render_bits(mib, node, val, sizeof(val), ' ', out, sizeof(out));
	cr_assert_eq(n, (int)strlen("red blue spare 15"));
	cr_assert_str_eq(out, "red blue spare 15");
	cr_assert_eq(st_mib_render_bits(mib, node, val, sizeof(val), ' ', out, 5),
	             ST_ERR_MIB_SPACE);
	cr_assert_eq(st_mib_render_bits(mib, node, (const uint8_t *)"\0", 1, ' ', out, 1), 0);
}

Test(load, v1_enterprise_specific_trap_type, .init = load, .fini = unload)
{
	/* enterprise 1.3.6.1.4.1.99992, specific 17 -> enterprise.0.17 */
	static const uint8_t ent[] = {0x2b, 6, 1, 4, 1, 0x86, 0x8d, 0x18};
	const st_mib_node_t *node = st_mib_lookup_v1trap(mib, ent, sizeof(ent), 6, 17);

	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_module(mib, node), "ACME-V1-MIB");
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeV1Overheat");
	cr_assert_eq(node->kind, ST_MIB_K_NOTIFICATION);
	cr_assert_null(st_mib_lookup_v1trap(mib, ent, sizeof(ent), 6, 18));
}

Test(load, current_wins_over_deprecated, .init = load, .fini = unload)
{
	size_t suffix;
	const st_mib_node_t *node = find(ACME(1, 40, 0), ACME_N(1, 40, 0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_module(mib, node), "ACME-NEW-MIB");
	cr_assert_str_eq(st_mib_node_name(mib, node), "acmeLimit");
}

static void load_some(void)
{
	static const char *const modules[] = {"ACME-V1-MIB", "NO-SUCH-MIB", NULL};
	load_with(modules);
}

Test(load, module_list_loads_those_and_their_imports, .init = load_some, .fini = unload)
{
	static const uint8_t ent[] = {0x2b, 6, 1, 4, 1, 0x86, 0x8d, 0x18};
	size_t suffix;
	cr_assert_not_null(st_mib_lookup_v1trap(mib, ent, sizeof(ent), 6, 17));
	/* ACME-SMI was not asked for */
	cr_assert_null(find(ACME(2, 0, 1), ACME_N(2, 0, 1), &suffix));
	cr_assert_eq(stats.failed, 1);
}

Test(load, nothing_to_load_is_an_error)
{
	char dir[] = "/tmp/st-mib-empty-XXXXXX", err[256];
	const char *dirs[] = {dir, NULL};
	st_mib_t *none = (st_mib_t *)1;
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(st_mib_load(dirs, NULL, NULL, &none, NULL, err, sizeof(err)),
	             ST_ERR_MIB_NOMIB);
	cr_assert_null(none);
	cr_assert(strstr(err, "no MIB"), "%s", err);
	rmdir(dir);
}

/*
 * A subdirectory the collector's user cannot read (lost+found, another
 * team's directory) costs its own files only: the files after it are
 * indexed. Run as an unprivileged user in a child, as root reads anything.
 */
Test(load, unreadable_subdirectory_costs_only_itself)
{
	char dir[300], sub[340], file[340];
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/st-mib-locked-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/a-locked", dir); /* indexed before z.mib */
	cr_assert_eq(mkdir(sub, 0755), 0);
	snprintf(file, sizeof(file), "%s/z.mib", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("Z-MIB DEFINITIONS ::= BEGIN\nzRoot OBJECT IDENTIFIER ::= { iso 3 99 }\nEND\n", f);
	fclose(f);
	cr_assert_eq(chmod(file, 0644), 0);
	cr_assert_eq(chmod(sub, 0), 0);

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static fix_log_t clog;
		static const uint32_t zroot[] = {1, 3, 99};
		const char *dirs[] = {dir, NULL};
		st_mib_opts_t opts = {.log = fix_on_log, .log_ctx = &clog};
		st_mib_t *m;
		char err[256];
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(10);
		if (st_mib_load(dirs, NULL, &opts, &m, NULL, err, sizeof(err)))
			_exit(11);
		if (fix_log_find(&clog, "a-locked", 0, "unreadable") < 0)
			_exit(12);
		_exit(st_mib_lookup(m, zroot, 3, NULL) ? 0 : 13);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	chmod(sub, 0755);
	rm_rf(dir);
	cr_assert(WIFEXITED(status), "child status %#x", status);
	cr_assert_eq(WEXITSTATUS(status), 0,
	             "10: cannot drop root, 11: load failed, 12: not reported, 13: z.mib lost");
}

/*
 * Symbolic links that lead back into the tree (a "current" link to ".",
 * two links to one vendor directory) index each directory once: before,
 * every link was followed again, 16 levels deep, and a directory with two
 * links to itself cost 2^16 passes.
 */
Test(load, linked_directories_are_indexed_once)
{
	char dir[300], path[400];
	const char *dirs[] = {dir, NULL};
	static const uint32_t zroot[] = {1, 3, 99};
	st_mib_stats_t st;
	st_mib_t *m;
	char err[256];

	snprintf(dir, sizeof(dir), "%s/st-mib-links-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vendor", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/vendor/z.mib", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("Z-MIB DEFINITIONS ::= BEGIN\nzRoot OBJECT IDENTIFIER ::= { iso 3 99 }\nEND\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/current", dir);
	cr_assert_eq(symlink(".", path), 0);
	snprintf(path, sizeof(path), "%s/vendor-again", dir);
	cr_assert_eq(symlink("vendor", path), 0);

	cr_assert_eq(st_mib_load(dirs, NULL, NULL, &m, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(st_mib_lookup(m, zroot, 3, NULL));
	cr_assert_eq(st.files, 1, "z.mib read %u times", st.files);
	st_mib_free(m);
	rm_rf(dir);
}

/* a directory of its own under /tmp, for the tests below */
static void tmp_dir(char *dir, size_t cap, const char *what)
{
	snprintf(dir, cap, "/tmp/st-mib-%s-XXXXXX", what);
	cr_assert_not_null(mkdtemp(dir));
}

static void put_at(const char *dir, const char *name, const char *text)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/*
 * The links libsmi resolves imports through go to a tmpfs when there is
 * one: on a busy ext4 /tmp, creating 1,800 symlinks cost more than parsing.
 * So a TMPDIR that cannot be used no longer stops the load (before, it
 * failed with "mkdtemp").
 */
Test(load, link_directory_prefers_a_tmpfs)
{
	char dir[300], err[256];
	const char *dirs[] = {dir, NULL};
	static const uint32_t zroot[] = {1, 3, 99};
	struct stat sb;
	st_mib_t *m;

	if (stat("/dev/shm", &sb) || !S_ISDIR(sb.st_mode) || access("/dev/shm", W_OK))
		cr_skip_test("no writable /dev/shm here");
	tmp_dir(dir, sizeof(dir), "tmpfs");
	put_at(dir, "z.mib",
	       "Z-MIB DEFINITIONS ::= BEGIN\nzRoot OBJECT IDENTIFIER ::= { iso 3 99 }\nEND\n");
	setenv("TMPDIR", "/nonexistent/st-mib-test", 1);
	unsetenv("XDG_RUNTIME_DIR");
	int rc = st_mib_load(dirs, NULL, NULL, &m, NULL, err, sizeof(err));
	rm_rf(dir);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(st_mib_lookup(m, zroot, 3, NULL));
	st_mib_free(m);
}

/*
 * The module name is looked for in the first 4 KiB of a file, then in the
 * first 64 KiB: a long header comment, and a name that straddles the first
 * 4 KiB, are still found, and the answer is the one a whole read gives.
 */
Test(load, module_name_after_a_long_header)
{
	char dir[300], err[256], *text = malloc(8192);
	const char *dirs[] = {dir, NULL};
	static const uint32_t yroot[] = {1, 3, 98}, zroot[] = {1, 3, 99};
	static const char body_y[] = "Y-MIB DEFINITIONS ::= BEGIN\n"
	                             "yRoot OBJECT IDENTIFIER ::= { iso 3 98 }\nEND\n";
	static const char body_z[] = "Z-MIB DEFINITIONS ::= BEGIN\n"
	                             "zRoot OBJECT IDENTIFIER ::= { iso 3 99 }\nEND\n";
	st_mib_stats_t st;
	st_mib_t *m;

	cr_assert_not_null(text);
	tmp_dir(dir, sizeof(dir), "head");
	/* 5,000 octets of comment lines, then the module */
	text[0] = 0;
	while (strlen(text) < 5000)
		strcat(text, "-- a vendor's long licence text, line after line ---------------\n");
	strcat(text, body_z);
	put_at(dir, "z.mib", text);
	/* "Y-MIB DEFINITIONS" across octet 4096: "DEFIN" before, "ITIONS" after */
	memset(text, ' ', 4096 - 11);
	text[0] = '\n';
	memcpy(text + 4096 - 11, body_y, sizeof(body_y));
	put_at(dir, "y.mib", text);
	free(text);
	int rc = st_mib_load(dirs, NULL, NULL, &m, &st, err, sizeof(err));
	rm_rf(dir);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(st.files, 2);
	cr_assert_not_null(st_mib_lookup(m, zroot, 3, NULL), "Z-MIB not indexed");
	cr_assert_not_null(st_mib_lookup(m, yroot, 3, NULL), "Y-MIB not indexed");
	st_mib_free(m);
}

/*
 * A parse that overruns opts.timeout_s is reported as a timeout in the
 * module it was in, and the load goes on without that module. The slow
 * module is 40,000 definitions in one module: libsmi looks names up in a
 * list, so its parse takes seconds. Before, the parent's SIGKILL was
 * reported as "parser died (signal 9)".
 */
Test(load, timeout_is_reported_as_a_timeout, .timeout = 120)
{
	char dir[300], err[256], path[400];
	const char *dirs[] = {dir, NULL};
	static const uint32_t zroot[] = {1, 3, 99};
	st_mib_opts_t opts = {.timeout_s = 1, .log = fix_on_log};
	static fix_log_t tlog;
	st_mib_t *m;
	FILE *f;

	opts.log_ctx = &tlog;
	tmp_dir(dir, sizeof(dir), "slow");
	put_at(dir, "z.mib",
	       "Z-MIB DEFINITIONS ::= BEGIN\nzRoot OBJECT IDENTIFIER ::= { iso 3 99 }\nEND\n");
	snprintf(path, sizeof(path), "%s/slow.mib", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("SLOW-MIB DEFINITIONS ::= BEGIN\nslowRoot OBJECT IDENTIFIER ::= { iso 3 98 }\n", f);
	for (int i = 1; i <= 40000; i++)
		fprintf(f, "slowNode%d OBJECT IDENTIFIER ::= { slowRoot %d }\n", i, i);
	fputs("END\n", f);
	fclose(f);
	int rc = st_mib_load(dirs, NULL, &opts, &m, NULL, err, sizeof(err));
	rm_rf(dir);
	cr_assert_eq(rc, 0, "%s", err);
	int i = fix_log_find(&tlog, "slow.mib", 0, "timed out in module SLOW-MIB");
	cr_assert_geq(i, 0, "no timeout reported for SLOW-MIB (%d messages: %s)", tlog.n,
	              tlog.n ? tlog.m[0].msg : "");
	cr_assert_not_null(st_mib_lookup(m, zroot, 3, NULL), "Z-MIB lost");
	st_mib_free(m);
}
