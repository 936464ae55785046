/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading: index the MIB files, parse them with libsmi in a child process,
 * receive the lookup structure.
 *
 * The parent indexes every file under the directories by the module name
 * written in it and links each module name to its file in a private
 * temporary directory; that directory is the only path libsmi searches, so
 * imports resolve by module name whatever the files are called and however
 * deep they sit. The child parses, turns libsmi's result into definitions,
 * builds the block (mib.c) and writes it to a pipe, preceded by records for
 * each parser message and for each module it starts. If the child dies or
 * overruns the time limit, the module it had started is reported as the
 * culprit, unlinked (so importers see it missing, as with a missing file)
 * and the parse is run again without it, up to ST_MIB_RETRIES times.
 *
 * Messages are reported once per file and line, whatever the number of runs.
 * libsmi keeps global state; the child is fresh each time, so two loads
 * (a reload while the old structure is in use) never share it. fork() from
 * a threaded collector is safe here because the child only calls malloc,
 * stdio and libsmi, which glibc keeps usable across fork, and exits with
 * _exit().
 */
#include "mib_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <smi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ST_MIB_RETRIES   32
#define ST_MIB_FILE_MAX  (16u << 20) /* larger files are not MIBs */
#define ST_MIB_SCAN_HEAD 65536       /* the module name is in the first 64 KiB */

typedef struct mod {
	char *name, *path;
	int dead;   /* crashed the parser */
	int wanted; /* named in the module list */
} mod_t;

typedef struct load {
	mod_t *mods;
	size_t nmods, capmods;
	uint32_t *modtab; /* open addressing by name: index + 1, 0 = empty */
	size_t modmask;
	char tmpdir[128];
	const st_mib_opts_t *opts;
	int level;
	uint64_t *seen; /* hashes of (file, line) already reported */
	size_t nseen, capseen;
	struct {
		dev_t dev;
		ino_t ino;
	} * dirs; /* directories indexed so far: each once, whatever links lead to it */
	size_t ndirs, capdirs;
	st_mib_stats_t st;
} load_t;

/* ---- index ------------------------------------------------------------- */

/*
 * The identifier before the first DEFINITIONS token outside comments, in
 * buf[0..n) (buf[n] is 0). 0 = found with a character after it, so that
 * the answer cannot change when more of the file is read; 1 = not found.
 */
static int scan_name(const char *buf, size_t n, char *name, size_t cap)
{
	char prev[128] = "", tok[128];
	size_t i = 0;

	while (i < n) {
		char c = buf[i];
		if (c == '-' && buf[i + 1] == '-') { /* comment to "--" or end of line */
			i += 2;
			while (i < n && buf[i] != '\n' && !(buf[i] == '-' && buf[i + 1] == '-'))
				i++;
			i += buf[i] == '-' ? 2 : 1;
			continue;
		}
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
			size_t k = 0;
			while (i < n && ((buf[i] >= 'A' && buf[i] <= 'Z') ||
			                 (buf[i] >= 'a' && buf[i] <= 'z') ||
			                 (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '-' ||
			                 buf[i] == '_')) {
				if (k + 1 < sizeof(tok))
					tok[k++] = buf[i];
				i++;
			}
			tok[k] = 0;
			if (!strcmp(tok, "DEFINITIONS")) {
				if (i >= n || !prev[0] || strlen(prev) >= cap)
					return 1;
				strcpy(name, prev);
				return 0;
			}
			strcpy(prev, tok);
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			prev[0] = 0; /* "X DEFINITIONS" must be adjacent tokens */
		i++;
	}
	return 1;
}

/*
 * The module name of a file: its first 4 KiB hold it in nearly every MIB,
 * the rest of the first 64 KiB is read only when they do not (an index of
 * a large vendor set then copies a few MiB, not 64 KiB a file).
 */
static int module_name(const char *path, char *name, size_t cap)
{
	char buf[ST_MIB_SCAN_HEAD + 1];
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -1;
	for (size_t want = 4096; n < ST_MIB_SCAN_HEAD; want = ST_MIB_SCAN_HEAD) {
		ssize_t r = read(fd, buf + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = 0;
		if (!scan_name(buf, n, name, cap)) {
			rc = 0;
			break;
		}
		if (n < want)
			break; /* the whole file is read */
	}
	/* a name at the very end of the file (nothing after DEFINITIONS) */
	if (rc && n)
		rc = scan_name(buf, n + 1, name, cap) ? -1 : 0;
	close(fd);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void report(load_t *ld, int severity, const char *file, int line, const char *msg);

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return (size_t)(h ^ h >> 29);
}

/* the slot of a module name: its index + 1, or the empty slot to put it in */
static uint32_t *mod_slot(const load_t *ld, const char *name)
{
	size_t h = name_hash(name) & ld->modmask;
	while (ld->modtab[h] && strcmp(ld->mods[ld->modtab[h] - 1].name, name))
		h = (h + 1) & ld->modmask;
	return &ld->modtab[h];
}

/* index of a module, or -1 */
static long mod_find(const load_t *ld, const char *name)
{
	return ld->modtab ? (long)*mod_slot(ld, name) - 1 : -1;
}

/* room for one more module in the table (kept at most half full) */
static int mod_reserve(load_t *ld)
{
	size_t cap = ld->modmask + 1;
	if (ld->modtab && (ld->nmods + 1) * 2 <= cap)
		return 0;
	cap = ld->modtab ? cap * 2 : 512;
	free(ld->modtab);
	ld->modtab = calloc(cap, sizeof(*ld->modtab));
	if (!ld->modtab)
		return -ENOMEM;
	ld->modmask = cap - 1;
	for (size_t i = 0; i < ld->nmods; i++)
		*mod_slot(ld, ld->mods[i].name) = (uint32_t)i + 1;
	return 0;
}

/* a directory that cannot be read costs its own modules, not the rest */
static void dir_unreadable(load_t *ld, const char *dir, int rc)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "MIB directory unreadable: %s", strerror(-rc));
	report(ld, 1, dir, 0, msg);
}

/* 1 the first time a directory is seen, 0 after, -ENOMEM */
static int dir_first_visit(load_t *ld, DIR *d)
{
	struct stat sb;
	if (fstat(dirfd(d), &sb))
		return -errno;
	for (size_t i = 0; i < ld->ndirs; i++)
		if (ld->dirs[i].dev == sb.st_dev && ld->dirs[i].ino == sb.st_ino)
			return 0;
	if (ld->ndirs == ld->capdirs) {
		size_t cap = ld->capdirs ? ld->capdirs * 2 : 64;
		void *n = realloc(ld->dirs, cap * sizeof(*ld->dirs));
		if (!n)
			return -ENOMEM;
		ld->dirs = n;
		ld->capdirs = cap;
	}
	ld->dirs[ld->ndirs].dev = sb.st_dev;
	ld->dirs[ld->ndirs++].ino = sb.st_ino;
	return 1;
}

static int index_dir(load_t *ld, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d)
		return -errno;
	rc = dir_first_visit(ld, d);
	if (rc <= 0)
		goto out;
	rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap ? cap * 2 : 64) * sizeof(*names));
			if (!more) {
				rc = -ENOMEM;
				goto out;
			}
			names = more;
			cap = cap ? cap * 2 : 64;
		}
		names[n] = strdup(e->d_name);
		if (!names[n++]) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (n) /* the same order on every machine */
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		char path[4096], mname[128];
		struct stat sb;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path) ||
		    stat(path, &sb))
			continue;
		if (S_ISDIR(sb.st_mode)) {
			int sub = depth < 16 ? index_dir(ld, path, depth + 1) : 0;
			if (sub == -ENOMEM)
				rc = sub;
			else if (sub)
				dir_unreadable(ld, path, sub);
			continue;
		}
		if (!S_ISREG(sb.st_mode) || sb.st_size > ST_MIB_FILE_MAX)
			continue;
		ld->st.files++;
		if (module_name(path, mname, sizeof(mname)))
			continue;
		if (mod_find(ld, mname) >= 0)
			continue; /* the first directory, then the first file, wins */
		if (mod_reserve(ld)) {
			rc = -ENOMEM;
			break;
		}
		if (ld->nmods == ld->capmods) {
			ld->capmods = ld->capmods ? ld->capmods * 2 : 256;
			mod_t *m = realloc(ld->mods, ld->capmods * sizeof(*m));
			if (!m) {
				rc = -ENOMEM;
				break;
			}
			ld->mods = m;
		}
		ld->mods[ld->nmods] = (mod_t){strdup(mname), realpath(path, NULL), 0, 0};
		if (!ld->mods[ld->nmods].name || !ld->mods[ld->nmods].path) {
			free(ld->mods[ld->nmods].name);
			free(ld->mods[ld->nmods].path);
			rc = -ENOMEM;
			break;
		}
		*mod_slot(ld, mname) = (uint32_t)ld->nmods + 1;
		ld->nmods++;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* ---- child -------------------------------------------------------------- */

enum { REC_LOG = 'L', REC_START = 'S', REC_FAILED = 'F', REC_COUNT = 'C', REC_BLOCK = 'B' };

static int child_fd = -1;

static void rec_write(char type, const void *a, size_t alen, const void *b, size_t blen)
{
	uint32_t len = (uint32_t)(alen + blen);
	struct {
		char type;
		uint32_t len;
	} __attribute__((packed)) h = {type, len};
	const void *parts[3] = {&h, a, b};
	size_t lens[3] = {sizeof(h), alen, blen};
	for (int i = 0; i < 3; i++) {
		const char *p = parts[i];
		size_t left = lens[i];
		while (left) {
			ssize_t w = write(child_fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(3);
			p += w;
			left -= (size_t)w;
		}
	}
}

/* severity-2 messages that mean a definition was lost or doubled; the rest
 * of that level is style (an SMIv1 module using SMIv2 words, a missing
 * range), which every vendor set has by the hundred */
static const char *const lossy_tags[] = {
        "identifier-redefined", "identifier-external-redefined",
        "basetype-unknown",     "import-failed",
        "import-not-found",     "object-identifier-unknown",
        "type-unknown",         "module-not-found",
};

static int child_level;

static void child_error(char *path, int line, int severity, char *msg, char *tag)
{
	char rec[4096];
	if (severity > child_level) {
		size_t i, n = sizeof(lossy_tags) / sizeof(lossy_tags[0]);
		if (severity > 2 || !tag)
			return;
		for (i = 0; i < n && strcmp(lossy_tags[i], tag); i++)
			;
		if (i == n)
			return;
	}
	int32_t hdr[2] = {severity, line};
	int n = snprintf(rec, sizeof(rec), "%s%c%s", path ? path : "", 0, msg ? msg : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(rec))
		n = sizeof(rec) - 1;
	rec_write(REC_LOG, hdr, sizeof(hdr), rec, (size_t)n + 1);
}

/* application types of SMIv2 and their SMIv1 names */
static const char *const app_names[] = {"IpAddress", "NetworkAddress", "Counter32",  "Counter",
                                        "Gauge32",   "Gauge",          "Unsigned32", "TimeTicks",
                                        "Opaque",    "Counter64"};

static uint8_t app_type(const char *name)
{
	static const uint8_t t[] = {ST_MIB_T_IPADDR,    ST_MIB_T_IPADDR,    ST_MIB_T_COUNTER32,
	                            ST_MIB_T_COUNTER32, ST_MIB_T_GAUGE32,   ST_MIB_T_GAUGE32,
	                            ST_MIB_T_GAUGE32,   ST_MIB_T_TIMETICKS, ST_MIB_T_OPAQUE,
	                            ST_MIB_T_COUNTER64};
	for (size_t i = 0; i < sizeof(t); i++)
		if (!strcmp(name, app_names[i]))
			return t[i];
	return 0;
}

/*
 * Named numbers of a type, once per type: libsmi finds each next one by a
 * walk from the first, so a large enumeration (IANAifType) used by many
 * columns would cost its square every time.
 */
typedef struct named_cache {
	const SmiType *type;
	st_mib_enum_t *enums;
	const char **labels;
	uint32_t n;
} named_cache_t;

static named_cache_t *named_tab;
static size_t named_mask, named_used;

static void named_numbers(SmiType *type, st_mib_def_t *d)
{
	size_t h, cap = 0;
	named_cache_t *c;

	if (!named_tab) {
		named_mask = 4095;
		named_tab = calloc(named_mask + 1, sizeof(*named_tab));
		if (!named_tab)
			_exit(4);
	}
	h = ((uintptr_t)type >> 4) * 0x9e3779b97f4a7c15ull >> 40;
	for (h &= named_mask; named_tab[h].type && named_tab[h].type != type;
	     h = (h + 1) & named_mask)
		;
	c = &named_tab[h];
	if (!c->type) {
		for (SmiNamedNumber *nn = smiGetFirstNamedNumber(type); nn;
		     nn = smiGetNextNamedNumber(nn)) {
			if (c->n == cap) {
				cap = cap ? cap * 2 : 16;
				c->enums = realloc(c->enums, cap * sizeof(*c->enums));
				c->labels = realloc(c->labels, cap * sizeof(*c->labels));
				if (!c->enums || !c->labels)
					_exit(4);
			}
			c->enums[c->n].value = nn->value.basetype == SMI_BASETYPE_UNSIGNED32
			                               ? (int32_t)nn->value.value.unsigned32
			                               : nn->value.value.integer32;
			c->labels[c->n++] = strdup(nn->name);
		}
		/* past 3/4 full the table stops caching; results stay right */
		if (named_used * 4 < named_mask * 3) {
			c->type = type;
			named_used++;
		}
	}
	d->enums = c->enums;
	d->labels = c->labels;
	d->nenums = c->n;
	if (!c->type) /* not kept: forget it for the next caller */
		*c = (named_cache_t){0};
}

/* base type, hint and named numbers, following the chain of types */
static void node_type(SmiNode *node, st_mib_def_t *d)
{
	SmiType *type = smiGetNodeType(node);
	SmiType *named = NULL;
	int depth = 0;

	if (!type)
		return;
	switch (type->basetype) {
	case SMI_BASETYPE_INTEGER32:
	case SMI_BASETYPE_INTEGER64:
	case SMI_BASETYPE_ENUM:
		d->type = ST_MIB_T_INTEGER;
		break;
	case SMI_BASETYPE_OCTETSTRING:
		d->type = ST_MIB_T_OCTETS;
		break;
	case SMI_BASETYPE_OBJECTIDENTIFIER:
		d->type = ST_MIB_T_OID;
		break;
	case SMI_BASETYPE_BITS:
		d->type = ST_MIB_T_BITS;
		break;
	case SMI_BASETYPE_UNSIGNED32:
		d->type = ST_MIB_T_GAUGE32;
		break;
	case SMI_BASETYPE_UNSIGNED64:
		d->type = ST_MIB_T_COUNTER64;
		break;
	default:
		break;
	}
	for (SmiType *t = type; t && depth < 32; t = smiGetParentType(t), depth++) {
		uint8_t app = t->name ? app_type(t->name) : 0;
		if (app) {
			d->type = app;
			break;
		}
		if (!d->hint && t->format && *t->format)
			d->hint = strdup(t->format);
		if (!named && smiGetFirstNamedNumber(t))
			named = t;
	}
	if (named && (type->basetype == SMI_BASETYPE_ENUM || type->basetype == SMI_BASETYPE_BITS))
		named_numbers(named, d);
}

static uint8_t node_kind(SmiNodekind k)
{
	switch (k) {
	case SMI_NODEKIND_SCALAR:
		return ST_MIB_K_SCALAR;
	case SMI_NODEKIND_COLUMN:
		return ST_MIB_K_COLUMN;
	case SMI_NODEKIND_ROW:
		return ST_MIB_K_ROW;
	case SMI_NODEKIND_TABLE:
		return ST_MIB_K_TABLE;
	case SMI_NODEKIND_NOTIFICATION:
		return ST_MIB_K_NOTIFICATION;
	default:
		return ST_MIB_K_NODE;
	}
}

static uint32_t prefer_rank(const st_mib_opts_t *opts, const char *module)
{
	if (opts->prefer)
		for (uint32_t i = 0; opts->prefer[i]; i++)
			if (!strcmp(opts->prefer[i], module))
				return i;
	return UINT32_MAX;
}

static _Noreturn void child_run(load_t *ld, const char *const *want)
{
	st_mib_def_t *defs = NULL;
	size_t ndefs = 0, cap = 0, size;
	void *block;

	/* no ~/.smirc, no SMIPATH: the operator's directories only (the
	 * system's /etc/smi.conf is still read; its path is replaced below) */
	unsetenv("HOME");
	unsetenv("SMIPATH");
	smiInit("stormtrap");
	smiSetPath(ld->tmpdir);
	child_level = ld->level;
	smiSetErrorLevel(ld->level > 2 ? ld->level : 2);
	smiSetFlags(SMI_FLAG_ERRORS | SMI_FLAG_RECURSIVE | SMI_FLAG_NODESCR);
	smiSetErrorHandler(child_error);
	for (size_t i = 0; i < ld->nmods; i++) {
		const char *name = ld->mods[i].name;
		if (ld->mods[i].dead)
			continue;
		if (want && !ld->mods[i].wanted)
			continue;
		rec_write(REC_START, name, strlen(name) + 1, NULL, 0);
		if (!smiLoadModule(name))
			rec_write(REC_FAILED, name, strlen(name) + 1, NULL, 0);
	}
	for (SmiModule *m = smiGetFirstModule(); m; m = smiGetNextModule(m)) {
		uint32_t rank = prefer_rank(ld->opts, m->name);
		for (SmiNode *node = smiGetFirstNode(m, SMI_NODEKIND_ANY); node;
		     node = smiGetNextNode(node, SMI_NODEKIND_ANY)) {
			st_mib_def_t *d;
			/* libsmi hangs what it could not resolve under 0 */
			if (!node->name || !node->oidlen || node->oidlen > ST_MIB_OID_MAX ||
			    (node->oid[0] == 0 && node->oidlen > 2))
				continue;
			if (ndefs == cap) {
				cap = cap ? cap * 2 : 4096;
				defs = realloc(defs, cap * sizeof(*defs));
				if (!defs)
					_exit(4);
			}
			d = &defs[ndefs++];
			*d = (st_mib_def_t){.noid = node->oidlen,
			                    .module = m->name,
			                    .name = node->name,
			                    .kind = node_kind(node->nodekind),
			                    .smiv2 = m->language == SMI_LANGUAGE_SMIV2,
			                    .rank = rank};
			d->oid = malloc(node->oidlen * sizeof(uint32_t));
			if (!d->oid)
				_exit(4);
			for (unsigned k = 0; k < node->oidlen; k++)
				d->oid[k] = node->oid[k];
			d->status = node->status == SMI_STATUS_DEPRECATED ? ST_MIB_S_DEPRECATED
			            : node->status == SMI_STATUS_OBSOLETE ? ST_MIB_S_OBSOLETE
			                                                  : ST_MIB_S_CURRENT;
			if (d->kind == ST_MIB_K_SCALAR || d->kind == ST_MIB_K_COLUMN)
				node_type(node, d);
		}
	}
	uint32_t nmod = 0;
	for (SmiModule *m = smiGetFirstModule(); m; m = smiGetNextModule(m))
		nmod++;
	rec_write(REC_COUNT, &nmod, sizeof(nmod), NULL, 0);
	block = st_mib_build(defs, ndefs, &size);
	rec_write(REC_BLOCK, block, size, NULL, 0);
	_exit(0);
}

/* ---- parent ------------------------------------------------------------- */

static void report(load_t *ld, int severity, const char *file, int line, const char *msg)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = file; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ (uint32_t)line) * 1099511628211ull;
	for (const char *p = line ? "" : msg; *p; p++) /* no line: one per message */
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (size_t i = 0; i < ld->nseen; i++)
		if (ld->seen[i] == h)
			return;
	if (ld->nseen == ld->capseen) {
		size_t cap = ld->capseen ? ld->capseen * 2 : 64;
		uint64_t *s = realloc(ld->seen, cap * sizeof(*s));
		if (!s)
			return;
		ld->seen = s;
		ld->capseen = cap;
	}
	ld->seen[ld->nseen++] = h;
	ld->st.messages++;
	if (ld->opts->log)
		ld->opts->log(ld->opts->log_ctx, severity, file, line, msg);
}

static const char *mod_path(load_t *ld, const char *name)
{
	long i = mod_find(ld, name);
	return i >= 0 ? ld->mods[i].path : "";
}

static int read_full(int fd, void *buf, size_t len, const struct timespec *deadline)
{
	char *p = buf;
	while (len) {
		struct timespec now;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (deadline->tv_sec - now.tv_sec) * 1000 +
		          (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return -ETIMEDOUT;
		int r = poll(&pfd, 1, (int)(ms > 1000000 ? 1000000 : ms));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			continue;
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* one parse; 0 with *out set, or 1 if the child died in module *culprit */
static int run_child(load_t *ld, const char *const *want, st_mib_t **out, char *culprit,
                     size_t culprit_len, char *err, size_t errlen)
{
	int fds[2], rc = 0, status = 0;
	pid_t pid;
	struct timespec deadline;
	char *buf = NULL;
	uint32_t failed = 0;

	culprit[0] = 0;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		snprintf(err, errlen, "mib: fork: %s", strerror(-rc));
		return rc;
	}
	if (pid == 0) {
		close(fds[0]);
		child_fd = fds[1];
		signal(SIGPIPE, SIG_DFL);
		child_run(ld, want);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ld->opts->timeout_s > 0 ? ld->opts->timeout_s : 60;
	for (;;) {
		struct {
			char type;
			uint32_t len;
		} __attribute__((packed)) h;
		char *nb;
		rc = read_full(fds[0], &h, sizeof(h), &deadline);
		if (rc)
			break;
		nb = realloc(buf, (size_t)h.len + 1);
		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		rc = read_full(fds[0], buf, h.len, &deadline);
		if (rc)
			break;
		buf[h.len] = 0;
		if (h.type == REC_LOG && h.len >= 8) {
			int32_t sl[2];
			memcpy(sl, buf, sizeof(sl));
			const char *file = buf + 8;
			const char *msg = file + strlen(file) + 1;
			size_t tl = strlen(ld->tmpdir);
			/* libsmi names the link in our directory; report the operator's file */
			if (!strncmp(file, ld->tmpdir, tl) && file[tl] == '/')
				file = mod_path(ld, file + tl + 1);
			if (msg < buf + h.len)
				report(ld, sl[0], file, sl[1], msg);
		} else if (h.type == REC_START) {
			snprintf(culprit, culprit_len, "%s", buf);
		} else if (h.type == REC_FAILED) {
			failed++;
			char msg[256];
			snprintf(msg, sizeof(msg), "module %s could not be loaded", buf);
			report(ld, 1, mod_path(ld, buf), 0, msg);
		} else if (h.type == REC_COUNT && h.len == sizeof(uint32_t)) {
			memcpy(&ld->st.modules, buf, sizeof(uint32_t));
		} else if (h.type == REC_BLOCK) {
			rc = st_mib_from_block(buf, h.len, out);
			break;
		}
	}
	close(fds[0]);
	if (rc == -ETIMEDOUT || rc == -EPIPE || rc == ST_ERR_MIB_PARSER)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(buf);
	if (!rc) {
		ld->st.failed += failed;
		return 0;
	}
	if (rc == -ENOMEM)
		return rc;
	/* the child died or hung: blame the module it was in, if any (a child
	 * that overran the time limit was killed here: that is a timeout) */
	char msg[256];
	if (WIFSIGNALED(status) && rc != -ETIMEDOUT)
		snprintf(msg, sizeof(msg), "parser died (signal %d) in module %s; skipped",
		         WTERMSIG(status), culprit[0] ? culprit : "?");
	else
		snprintf(msg, sizeof(msg), "parser %s in module %s; skipped",
		         rc == -ETIMEDOUT ? "timed out" : "failed", culprit[0] ? culprit : "?");
	if (culprit[0])
		report(ld, 0, mod_path(ld, culprit), 0, msg);
	else
		snprintf(err, errlen, "mib: %s", msg);
	return culprit[0] ? 1 : ST_ERR_MIB_PARSER;
}

/*
 * The private directory of links. One symlink per module is an inode each,
 * and on a disk file system creating 1,800 of them can cost more than
 * parsing (ext4 searches its bitmaps for a free inode that was not freed
 * recently: 0.45 s on a busy /tmp, 0.01 s on tmpfs), so a tmpfs is taken
 * when one of the usual places is one: $TMPDIR, $XDG_RUNTIME_DIR, /dev/shm,
 * /tmp in that order; otherwise $TMPDIR, else /tmp.
 */
static int link_dir(char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	const char *cand[] = {tmp, getenv("XDG_RUNTIME_DIR"), "/dev/shm", "/tmp", tmp, "/tmp"};
	int rc = -ENOENT;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		struct statfs fs;
		if (!cand[i] || !*cand[i] || strlen(cand[i]) + 16 > cap)
			continue;
		/* the first four only on a tmpfs; the last two whatever they are */
		if (i < 4 && (statfs(cand[i], &fs) || fs.f_type != TMPFS_MAGIC))
			continue;
		snprintf(dir, cap, "%s/st-mib-XXXXXX", cand[i]);
		if (mkdtemp(dir))
			return 0;
		rc = -errno;
	}
	return rc;
}

int st_mib_load(const char *const *dirs, const char *const *modules, const st_mib_opts_t *opts,
                st_mib_t **out, st_mib_stats_t *stats, char *err, size_t errlen)
{
	static const st_mib_opts_t defaults = {0};
	load_t ld = {.opts = opts ? opts : &defaults};
	const char *const *want = modules;
	int rc = 0;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	ld.level = ld.opts->level > 0 ? ld.opts->level : 1;
	if (want && want[0] && !strcmp(want[0], "ALL") && !want[1])
		want = NULL;
	if (want && !want[0])
		want = NULL;
	for (size_t i = 0; dirs && dirs[i] && !rc; i++) {
		rc = index_dir(&ld, dirs[i], 0);
		if (rc == -ENOMEM) {
			snprintf(err, errlen, "mib: %s: %s", dirs[i], strerror(-rc));
		} else if (rc) {
			dir_unreadable(&ld, dirs[i], rc);
			rc = 0;
		}
	}
	if (rc)
		goto out;
	if (!ld.nmods) {
		rc = ST_ERR_MIB_NOMIB;
		snprintf(err, errlen, "mib: no MIB module found in the directories given");
		goto out;
	}
	for (size_t i = 0; want && want[i]; i++) {
		long k = mod_find(&ld, want[i]);
		if (k >= 0) {
			ld.mods[k].wanted = 1;
		} else {
			char msg[300];
			snprintf(msg, sizeof(msg), "module %s not found in the MIB directories",
			         want[i]);
			report(&ld, 1, "", 0, msg);
			ld.st.failed++;
		}
	}
	rc = link_dir(ld.tmpdir, sizeof(ld.tmpdir));
	if (rc) {
		snprintf(err, errlen, "mib: mkdtemp %s: %s", ld.tmpdir, strerror(-rc));
		ld.tmpdir[0] = 0;
		goto out;
	}
	for (size_t i = 0; i < ld.nmods; i++) {
		char link[4096];
		snprintf(link, sizeof(link), "%s/%s", ld.tmpdir, ld.mods[i].name);
		if (symlink(ld.mods[i].path, link)) {
			rc = -errno;
			snprintf(err, errlen, "mib: symlink %s: %s", link, strerror(-rc));
			goto out;
		}
	}
	for (int attempt = 0;; attempt++) {
		char culprit[128];
		rc = run_child(&ld, want, out, culprit, sizeof(culprit), err, errlen);
		if (rc <= 0)
			break;
		if (attempt == ST_MIB_RETRIES) {
			rc = ST_ERR_MIB_PARSER;
			snprintf(err, errlen, "mib: the parser failed %d times; giving up",
			         attempt + 1);
			break;
		}
		for (size_t i = 0; i < ld.nmods; i++) {
			if (!strcmp(ld.mods[i].name, culprit) && !ld.mods[i].dead) {
				char link[4096];
				ld.mods[i].dead = 1;
				ld.st.failed++;
				snprintf(link, sizeof(link), "%s/%s", ld.tmpdir, culprit);
				unlink(link);
			}
		}
	}
	if (!rc) {
		const st_mib_hdr_t *hdr = (const st_mib_hdr_t *)(*out)->base;
		ld.st.nodes = hdr->nnamed;
		ld.st.notifications = hdr->nnotif;
		ld.st.overlaps = hdr->overlaps;
		ld.st.bytes = (*out)->size;
	}
out:
	if (ld.tmpdir[0]) {
		for (size_t i = 0; i < ld.nmods; i++) {
			char link[4096];
			snprintf(link, sizeof(link), "%s/%s", ld.tmpdir, ld.mods[i].name);
			unlink(link);
		}
		rmdir(ld.tmpdir);
	}
	for (size_t i = 0; i < ld.nmods; i++) {
		free(ld.mods[i].name);
		free(ld.mods[i].path);
	}
	free(ld.mods);
	free(ld.modtab);
	free(ld.seen);
	free(ld.dirs);
	if (stats)
		*stats = ld.st;
	return rc;
}
