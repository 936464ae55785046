/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_mib: MIB translation for notifications, as a library.
 *
 * Loading runs libsmi over the operator's MIB files, but not in this
 * process: st_mib_load() forks a child that parses, builds our own lookup
 * structure and sends it back through a pipe as one block of bytes (with the
 * parser's messages ahead of it). A parser that crashes or hangs on a vendor
 * file therefore costs that file, never the collector: the parent sees the
 * child die, logs the file it was reading and tries again without it. The
 * block holds no pointers (every reference is an offset into it), so it
 * works at whatever address it lands and is freed with one call.
 *
 * The structure is immutable once loaded: any number of threads may look up
 * and render concurrently without locks. Lookup walks an OID trie through
 * one open-addressed hash of (parent, sub-identifier) -> child, one probe per
 * sub-identifier, and accepts OIDs as uint32_t arrays or as the BER content
 * octets the codec keeps (st_varbind_t.oid), so the worker needs no copy.
 * Renderers write into the caller's buffer and say how much they need; none
 * of them allocates, logs or calls the parser.
 *
 * When two modules define the same OID the definition kept is chosen by a
 * fixed rule (docs/MIB.md): a module the operator pinned (opts.prefer, in
 * order) first, then SMIv2 over SMIv1, then current over deprecated over
 * obsolete, then the module name in byte order, so that the result never
 * depends on the order files were found in.
 */
#ifndef ST_MIB_H
#define ST_MIB_H

#include <stddef.h>
#include <stdint.h>

#include "st_codec.h" /* st_msg_t, st_json_names_t (st_mib_translate) */

/** Most sub-identifiers in an OID the structure holds (as the codec) */
#define ST_MIB_OID_MAX 128

/* Errors (a range of their own, next to codec's and usm's) */
enum {
	ST_ERR_MIB_SPACE = -1301,  /* the caller's buffer is too small */
	ST_ERR_MIB_HINT = -1302,   /* a DISPLAY-HINT that does not parse or fit the value */
	ST_ERR_MIB_PARSER = -1303, /* the parser child failed as a whole */
	ST_ERR_MIB_NOMIB = -1304,  /* no MIB file found in the directories */
};

/* Base type of an object's SYNTAX, after following textual conventions */
enum {
	ST_MIB_T_NONE = 0,
	ST_MIB_T_INTEGER,   /* INTEGER, Integer32, enumerations */
	ST_MIB_T_OCTETS,    /* OCTET STRING */
	ST_MIB_T_OID,       /* OBJECT IDENTIFIER */
	ST_MIB_T_BITS,      /* BITS (carried as OCTET STRING on the wire) */
	ST_MIB_T_IPADDR,    /* IpAddress */
	ST_MIB_T_COUNTER32, /* Counter32 */
	ST_MIB_T_GAUGE32,   /* Gauge32, Unsigned32 */
	ST_MIB_T_TIMETICKS, /* TimeTicks */
	ST_MIB_T_OPAQUE,    /* Opaque */
	ST_MIB_T_COUNTER64, /* Counter64 */
};

/* What a node is */
enum {
	ST_MIB_K_NODE = 0,     /* OBJECT IDENTIFIER, OBJECT-IDENTITY, groups, ... */
	ST_MIB_K_SCALAR,       /* OBJECT-TYPE outside a table */
	ST_MIB_K_COLUMN,       /* OBJECT-TYPE in a table row */
	ST_MIB_K_ROW,          /* table entry */
	ST_MIB_K_TABLE,        /* table */
	ST_MIB_K_NOTIFICATION, /* NOTIFICATION-TYPE, or TRAP-TYPE at enterprise.0.specific */
};

enum { ST_MIB_S_CURRENT = 0, ST_MIB_S_DEPRECATED, ST_MIB_S_OBSOLETE };

/**
 * A named value of an enumeration or a BITS type. Labels are offsets in the
 * structure; read them with st_mib_enum_label() / st_mib_render_bits().
 */
typedef struct st_mib_enum {
	int32_t value;
	uint32_t label;
} st_mib_enum_t;

/**
 * One node of the OID tree. Every member is read-only; strings are read
 * through the accessors below. A node without a name (name == 0) is only a
 * step in the trie between named nodes and is never returned by a lookup.
 */
typedef struct st_mib_node {
	uint32_t module; /* string offset: "IF-MIB" */
	uint32_t name;   /* string offset: "ifOperStatus"; 0 = unnamed */
	uint32_t hint;   /* string offset of the DISPLAY-HINT; 0 = none */
	uint32_t enums;  /* offset of nenums st_mib_enum_t sorted by value */
	uint16_t nenums; /* enumeration labels, or BITS names (type BITS) */
	uint8_t depth;   /* sub-identifiers in the node's OID */
	uint8_t kind;    /* ST_MIB_K_* */
	uint8_t type;    /* ST_MIB_T_* */
	uint8_t status;  /* ST_MIB_S_* */
	uint8_t smiv2;   /* 1 if the defining module is SMIv2 */
	uint8_t pad_;
	uint32_t parent; /* index of the parent node (the root is its own) */
	uint32_t sub;    /* last sub-identifier of the node's OID */
	uint32_t ber;    /* offset of the OID's BER content octets (named nodes) */
	uint16_t ber_len;
	uint16_t pad2_;
} st_mib_node_t;

typedef struct st_mib st_mib_t;

/**
 * @brief Receives the parser's messages while loading (called in the
 * thread that called st_mib_load(), never later).
 * @param severity libsmi's severity: 0-1 fatal, 2 error, 3-5 warning, 6+ style
 * @param file     the file the message is about ("" if none)
 * @param line     its line (0 if none)
 */
typedef void st_mib_log_fn(void *ctx, int severity, const char *file, int line, const char *msg);

typedef struct st_mib_opts {
	/** Modules to rank first, most preferred first (NULL-terminated or NULL). */
	const char *const *prefer;
	/**
	 * Report parser messages of this severity and worse (lower). 0 = 1
	 * (missing modules, syntax errors, unknown identifiers) plus the
	 * severity-2 messages that lose or double a definition (duplicates,
	 * types that do not resolve); 2 or more = everything up to that level.
	 */
	int level;
	/**
	 * Seconds one parse may take before the child is stopped; 0 = 60. A
	 * retry without the module it hung in gets as long again, so a load
	 * takes at most 33 times this.
	 */
	int timeout_s;
	st_mib_log_fn *log;
	void *log_ctx;
} st_mib_opts_t;

typedef struct st_mib_stats {
	uint32_t files;         /* regular files read while indexing the directories */
	uint32_t modules;       /* modules loaded (possibly with errors) */
	uint32_t failed;        /* modules asked for or found that could not be loaded */
	uint32_t nodes;         /* named nodes in the structure */
	uint32_t notifications; /* of which notifications */
	uint32_t messages;      /* parser messages reported through opts.log */
	uint32_t overlaps;      /* OIDs defined by more than one module */
	uint64_t bytes;         /* size of the lookup structure */
} st_mib_stats_t;

/**
 * @brief Load MIB modules and build the lookup structure.
 *
 * Every directory is searched recursively; a file's module name is read
 * from its text ("NAME DEFINITIONS ::= BEGIN"), not from its file name, so
 * vendors' file names do not matter and imports resolve across directories.
 * When several files define one module, the first directory listed wins.
 *
 * A missing import, a syntax error or a duplicate definition is reported
 * through opts->log (once per file and line) and counted; whatever the parser
 * could still resolve is used. Only a failure of the whole (no file found,
 * no process, no memory) returns an error.
 *
 * @param dirs    NULL-terminated directories
 * @param modules NULL-terminated module names; NULL or {"ALL", NULL} = every
 *                module found
 * @param opts    NULL for defaults
 * @param out     receives the structure (free with st_mib_free())
 * @param stats   NULL or receives counts
 * @return 0, ST_ERR_MIB_*, or -errno; err names the cause
 */
int st_mib_load(const char *const *dirs, const char *const *modules, const st_mib_opts_t *opts,
                st_mib_t **out, st_mib_stats_t *stats, char *err, size_t errlen);

/** @brief Free a structure from st_mib_load() (NULL is fine). */
void st_mib_free(st_mib_t *mib);

/**
 * @brief Every node, in no particular order (for tools such as --translate
 * and the benchmark; unnamed nodes have name 0).
 */
const st_mib_node_t *st_mib_nodes(const st_mib_t *mib, size_t *n);

/**
 * @brief The OID of a node.
 * @return the number of sub-identifiers, or ST_ERR_MIB_SPACE if cap is short
 */
int st_mib_node_oid(const st_mib_t *mib, const st_mib_node_t *node, uint32_t *sub, size_t cap);

/**
 * @brief Encode sub-identifiers as BER content octets (the codec's form),
 * for tools and tests that hold an OID as numbers.
 * @return the number of octets, ST_ERR_MIB_SPACE (5 * n always fits), or
 *         -EINVAL for first arcs BER cannot carry (above 2, or a second arc
 *         above 39 under 0 or 1)
 */
int st_mib_oid_ber(const uint32_t *sub, size_t n, uint8_t *out, size_t cap);

/** @brief Size of the structure in bytes. */
size_t st_mib_size(const st_mib_t *mib);

/**
 * @brief Longest-prefix lookup of an OID given as sub-identifiers.
 *
 * The result is the deepest named node on the OID's path, if it is the OID
 * itself or an object (scalar or column) the rest of the OID is an instance
 * of; anything else (an OID below a plain OBJECT IDENTIFIER such as an
 * unknown enterprise's subtree) is unknown and gives NULL, as is an OID of
 * fewer than two sub-identifiers (it has no BER form).
 *
 * @param suffix receives the number of sub-identifiers after the node's OID
 * @return the node (valid until st_mib_free()), or NULL
 */
const st_mib_node_t *st_mib_lookup(const st_mib_t *mib, const uint32_t *sub, size_t n,
                                   size_t *suffix);

/** @brief The same, over BER content octets of a validated OID (codec's form). */
const st_mib_node_t *st_mib_lookup_ber(const st_mib_t *mib, const uint8_t *oid, size_t len,
                                       size_t *suffix);

/**
 * @brief The notification a v1 Trap-PDU stands for (RFC 3584 3.1): generic
 * 0-5 are 1.3.6.1.6.3.1.1.5.(generic+1), 6 is enterprise.0.specific.
 * @param enterprise BER content octets of the enterprise OID
 * @return the notification's node (exact match only), or NULL
 */
const st_mib_node_t *st_mib_lookup_v1trap(const st_mib_t *mib, const uint8_t *enterprise,
                                          size_t len, int32_t generic, int32_t specific);

const char *st_mib_node_module(const st_mib_t *mib, const st_mib_node_t *node);
const char *st_mib_node_name(const st_mib_t *mib, const st_mib_node_t *node);
/** @brief The DISPLAY-HINT, or NULL. */
const char *st_mib_node_hint(const st_mib_t *mib, const st_mib_node_t *node);
/** @brief The label of an enumeration value (or BITS bit number), or NULL. */
const char *st_mib_enum_label(const st_mib_t *mib, const st_mib_node_t *node, int64_t value);

/** Longest "MODULE::name.suffix" for a module, a name and an n-sub-id suffix */
#define ST_MIB_NAME_BOUND(module_len, name_len, nsuffix)                                           \
	((module_len) + 2 + (name_len) + (size_t)(nsuffix)*11 + 1)

/**
 * @brief Write "MODULE::name" followed by ".s1.s2" for the suffix.
 * @param suffix_ber the BER content octets of the whole OID and its length;
 *                   the last `suffix` sub-identifiers are written
 * @return length written (NUL added when it fits), or ST_ERR_MIB_SPACE
 */
int st_mib_render_name(const st_mib_t *mib, const st_mib_node_t *node, const uint8_t *oid,
                       size_t len, size_t suffix, char *buf, size_t cap);
/** @brief The same, for an OID given as sub-identifiers. */
int st_mib_render_name_sub(const st_mib_t *mib, const st_mib_node_t *node, const uint32_t *sub,
                           size_t n, size_t suffix, char *buf, size_t cap);

/** Most a BITS rendering needs: every name and a separator, for a node */
size_t st_mib_bits_bound(const st_mib_t *mib, const st_mib_node_t *node, size_t val_len);

/**
 * @brief Write the names of the set bits of a BITS value, separated by sep
 * (bit 0 is the first octet's most significant bit, RFC 2578 7.1.4); a set
 * bit without a name is written as its number.
 * @return length written, or ST_ERR_MIB_SPACE
 */
int st_mib_render_bits(const st_mib_t *mib, const st_mib_node_t *node, const uint8_t *val,
                       size_t len, char sep, char *buf, size_t cap);

/** Most an OCTET STRING DISPLAY-HINT rendering of len octets needs (incl. NUL) */
#define ST_MIB_HINT_OCTETS_BOUND(len) ((size_t)(len)*5 + 1)
/** Most an INTEGER DISPLAY-HINT rendering needs (incl. NUL) */
#define ST_MIB_HINT_INT_BOUND 72

/**
 * @brief Render an OCTET STRING with a DISPLAY-HINT (RFC 2579 3.1):
 * octet-format specifications "[*]<length><d|x|o|a|t>[sep][term]", the last
 * one repeating until the value is used up. Output is raw (the 'a' and 't'
 * formats copy octets); a JSON writer escapes it.
 * @return length written (NUL added when it fits), ST_ERR_MIB_HINT, or
 *         ST_ERR_MIB_SPACE (never with cap >= ST_MIB_HINT_OCTETS_BOUND(len))
 */
int st_mib_hint_octets(const char *hint, const uint8_t *val, size_t len, char *buf, size_t cap);

/**
 * @brief Render an INTEGER with a DISPLAY-HINT: "d", "d-<n>" (n implied
 * decimal places), "x", "o" or "b" (RFC 2579 3.1).
 * @return length written, ST_ERR_MIB_HINT or ST_ERR_MIB_SPACE
 */
int st_mib_hint_int(const char *hint, int64_t v, char *buf, size_t cap);

/**
 * @brief The names of a decoded notification, for st_json_encode()
 * (meta.names): trap_name, the name of the OID the line's trap_oid shows
 * (a v1 Trap-PDU through RFC 3584 3.1 as st_snmp_v1_trap_oid() maps it; no
 * trap_oid, no trap_name), and for each varbind its name
 * ("IF-MIB::ifOperStatus.7"), the label of an enumerated INTEGER, the set
 * names of a BITS value, and a DISPLAY-HINT rendering of an OCTET STRING or
 * integer whose type has one.
 *
 * For the hot path: allocates nothing, logs nothing. Rendered text goes to
 * arena; enumeration labels point into mib but take their length from the
 * arena's room all the same, so out->bytes never exceeds cap (a JSON buffer
 * of st_json_bound() + ST_JSON_NAMES_BOUND(cap, vbcap) always holds the
 * line). The names are valid while mib, arena and msg are; annotations that
 * do not fit are left out and counted in out->omitted.
 * vb[i] belongs to msg->pdu.vb[i]; the varbinds the encoder lifts (the first
 * sysUpTime.0 and snmpTrapOID.0 of a v2c/v3 PDU) get none.
 *
 * @param mib   NULL: no names (out is emptied, 0 returned)
 * @param vb    room for vbcap entries (ST_SNMP_MAX_VARBINDS covers every message)
 * @return the number of OIDs no loaded MIB names (the notification OID and
 *         the varbinds' OIDs) — they keep their numeric form only
 */
int st_mib_translate(const st_mib_t *mib, const st_msg_t *msg, st_json_names_t *out,
                     st_json_vbname_t *vb, size_t vbcap, char *arena, size_t cap);

/** @brief Text for an ST_ERR_MIB_* code. */
const char *st_mib_strerror(int err);

#endif /* ST_MIB_H */
