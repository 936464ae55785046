/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_codec.h - the codec library: BER, SNMP messages, JSON lines.
 *
 * Everything here is a pure function over caller-owned buffers: no threads,
 * no sockets, no allocation. That keeps the codec fuzzable and lets it be
 * benchmarked alone (bench/pipeline).
 *
 * Decoded messages BORROW from the datagram buffer: every pointer in
 * st_msg_t, st_pdu_t and st_varbind_t points into the buffer given to
 * st_snmp_decode() (or, for an encrypted SNMPv3 scoped PDU, into the
 * plaintext buffer given to st_snmp_decode_scoped()). Keep the buffer alive
 * and unchanged as long as the message is used.
 *
 * OBJECT IDENTIFIERs are kept in their BER content form (the bytes after tag
 * and length). st_snmp_decode() validates every OID it stores (sub-identifier
 * at most 2^32-1, at most ST_OID_MAX_SUBIDS sub-identifiers, minimal
 * encoding), so st_oid_format() on them cannot fail. Comparing two OIDs is a
 * memcmp of their content bytes.
 *
 * Errors: 0 or a positive length on success, a negative value on failure:
 * -errno for system errors, ST_ERR_* (below) for domain errors. The ST_ERR_*
 * range is shared by every stormtrap library; st_strerror() names each.
 */
#ifndef ST_CODEC_H
#define ST_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Errors (the range -1000 .. -1999 is reserved for stormtrap)        */
/* ------------------------------------------------------------------ */

enum {
	ST_ERR_BASE = -1000,
	/* BER */
	ST_ERR_BER_TRUNCATED = -1001, /* a TLV runs past its container */
	ST_ERR_BER_LENGTH = -1002,    /* indefinite, overlong or > 4-byte length */
	ST_ERR_BER_TAG = -1003,       /* unexpected tag */
	ST_ERR_BER_INT = -1004,       /* integer empty, too long or non-minimal */
	ST_ERR_BER_OID = -1005,       /* bad OBJECT IDENTIFIER encoding */
	ST_ERR_BER_TRAILING = -1006,  /* bytes after the outermost TLV */
	ST_ERR_BER_SPACE = -1007,     /* writer: output buffer too small */
	ST_ERR_BER_VALUE = -1008,     /* a value of the wrong size (IpAddress != 4) */
	/* SNMP */
	ST_ERR_SNMP_VERSION = -1020,  /* msgVersion not 0, 1 or 3 */
	ST_ERR_SNMP_PDU = -1021,      /* unknown PDU tag */
	ST_ERR_SNMP_VARBINDS = -1022, /* more than ST_SNMP_MAX_VARBINDS */
	ST_ERR_SNMP_SECMODEL = -1023, /* v3 security model other than USM (3) */
	ST_ERR_SNMP_FLAGS = -1024,    /* v3 msgFlags invalid (priv without auth) */
	ST_ERR_SNMP_HEADER = -1025,   /* v3 header field out of range */
	/* JSON */
	ST_ERR_JSON_SPACE = -1040, /* output buffer too small */
	/* USM (RFC 3414 usmStats names) */
	ST_ERR_USM_UNSUPPORTED_SECLEVEL = -1100,
	ST_ERR_USM_NOT_IN_TIME_WINDOW = -1101,
	ST_ERR_USM_UNKNOWN_USER = -1102,
	ST_ERR_USM_UNKNOWN_ENGINE_ID = -1103,
	ST_ERR_USM_WRONG_DIGEST = -1104,
	ST_ERR_USM_DECRYPTION = -1105,
	ST_ERR_USM_PARAMS = -1106, /* malformed security parameters */
	ST_ERR_USM_CRYPTO = -1107, /* the crypto library failed */
	/* configuration */
	ST_ERR_CONFIG = -1200,
	ST_ERR_MAX = -1999,
};

/**
 * @brief Human-readable name of an error code.
 * @param err  0, a -errno value or an ST_ERR_* code.
 * @return a static string; never NULL.
 */
const char *st_strerror(int err);

/* ------------------------------------------------------------------ */
/* BER reader                                                         */
/* ------------------------------------------------------------------ */

#define ST_OID_MAX_SUBIDS 128
#define ST_OID_STR_MAX    (ST_OID_MAX_SUBIDS * 11 + 1) /* "4294967295." each */

/* BER tags used by SNMP (universal, application, context) */
enum {
	ST_BER_INTEGER = 0x02,
	ST_BER_OCTETS = 0x04,
	ST_BER_NULL = 0x05,
	ST_BER_OID = 0x06,
	ST_BER_SEQUENCE = 0x30,
	ST_BER_IPADDR = 0x40,
	ST_BER_COUNTER32 = 0x41,
	ST_BER_GAUGE32 = 0x42, /* also Unsigned32 */
	ST_BER_TIMETICKS = 0x43,
	ST_BER_OPAQUE = 0x44,
	ST_BER_COUNTER64 = 0x46,
	ST_BER_NOSUCHOBJECT = 0x80,
	ST_BER_NOSUCHINSTANCE = 0x81,
	ST_BER_ENDOFMIBVIEW = 0x82,
};

/** A cursor over [p, end). Readers advance p on success only. */
typedef struct st_ber {
	const uint8_t *p;
	const uint8_t *end;
} st_ber_t;

/** @brief Start a cursor over buf[0..len). */
static inline void st_ber_init(st_ber_t *ber, const void *buf, size_t len)
{
	ber->p = (const uint8_t *)buf;
	ber->end = (const uint8_t *)buf + len;
}

/** @brief Bytes left in the cursor. */
static inline size_t st_ber_left(const st_ber_t *ber)
{
	return (size_t)(ber->end - ber->p);
}

/**
 * @brief Read a length (short or long form, at most 4 length octets).
 * Indefinite form (0x80) and lengths past the cursor's end are errors.
 * @return 0, ST_ERR_BER_TRUNCATED or ST_ERR_BER_LENGTH.
 */
int st_ber_read_len(st_ber_t *ber, size_t *len);

/**
 * @brief Read one tag (single-octet tags only) and its length; on success
 * *val points at the content (borrowed) and the cursor is past the TLV.
 */
int st_ber_read_tlv(st_ber_t *ber, uint8_t *tag, const uint8_t **val, size_t *len);

/** @brief Read a TLV that must carry tag @p tag; *inner covers its content. */
int st_ber_enter(st_ber_t *ber, uint8_t tag, st_ber_t *inner);

/**
 * @brief Read a signed INTEGER-like TLV with tag @p tag (1..8 content
 * octets, two's complement) into *v.
 */
int st_ber_read_int(st_ber_t *ber, uint8_t tag, int64_t *v);

/**
 * @brief Read an unsigned TLV with tag @p tag (Counter32, Gauge32,
 * TimeTicks: value must fit 32 bits; Counter64: 64 bits; a leading 0x00
 * octet is allowed) into *v. Negative encodings are ST_ERR_BER_INT.
 * @param bits  32 or 64
 */
int st_ber_read_uint(st_ber_t *ber, uint8_t tag, unsigned bits, uint64_t *v);

/** @brief Read an OCTET STRING-like TLV with tag @p tag (borrowed). */
int st_ber_read_octets(st_ber_t *ber, uint8_t tag, const uint8_t **val, size_t *len);

/**
 * @brief Read an OBJECT IDENTIFIER TLV; validates it (see top of file).
 * val and len receive the content octets (borrowed).
 */
int st_ber_read_oid(st_ber_t *ber, const uint8_t **val, size_t *len);

/** @brief Validate OID content octets. @return 0 or ST_ERR_BER_OID. */
int st_oid_check(const uint8_t *val, size_t len);

/**
 * @brief Format validated OID content octets as dotted decimal
 * ("1.3.6.1.6.3.1.1.5.3"), NUL-terminated.
 * @return the string length, or ST_ERR_BER_OID / ST_ERR_BER_SPACE.
 */
int st_oid_format(const uint8_t *val, size_t len, char *out, size_t cap);

/**
 * @brief Parse dotted decimal into OID content octets.
 * @return the number of octets written, or ST_ERR_BER_OID / ST_ERR_BER_SPACE.
 */
int st_oid_parse(const char *str, uint8_t *out, size_t cap);

/* ------------------------------------------------------------------ */
/* BER writer: writes backwards from the end of a caller buffer, so   */
/* that a constructed TLV's length is known when its header is put.   */
/* ------------------------------------------------------------------ */

typedef struct st_berw {
	uint8_t *start; /* buffer start */
	uint8_t *p;     /* first written byte; writes prepend before it */
	uint8_t *end;   /* buffer end */
	int err;        /* sticky: first error (ST_ERR_BER_SPACE), 0 if none */
} st_berw_t;

/** @brief Start writing into buf[0..cap); output ends at buf + cap. */
void st_berw_init(st_berw_t *w, void *buf, size_t cap);

/** @brief Bytes written so far (use as a mark before a constructed TLV). */
static inline size_t st_berw_len(const st_berw_t *w)
{
	return (size_t)(w->end - w->p);
}

/** @brief Prepend raw bytes. */
void st_berw_raw(st_berw_t *w, const void *data, size_t len);
/** @brief Prepend tag + length for everything written since @p mark. */
void st_berw_wrap(st_berw_t *w, uint8_t tag, size_t mark);
void st_berw_int(st_berw_t *w, uint8_t tag, int64_t v);
void st_berw_uint(st_berw_t *w, uint8_t tag, uint64_t v);
void st_berw_octets(st_berw_t *w, uint8_t tag, const void *val, size_t len);
void st_berw_null(st_berw_t *w, uint8_t tag);
/** @brief Prepend an OBJECT IDENTIFIER TLV from its content octets. */
void st_berw_oid(st_berw_t *w, const uint8_t *val, size_t len);

/**
 * @brief The encoding: pointer to the first byte (w->p) and its length.
 * @return length, or w->err if any write failed.
 */
int st_berw_finish(const st_berw_t *w, const uint8_t **out);

/* ------------------------------------------------------------------ */
/* SNMP messages                                                      */
/* ------------------------------------------------------------------ */

#define ST_SNMP_MAX_VARBINDS 512

enum { ST_SNMP_V1 = 0, ST_SNMP_V2C = 1, ST_SNMP_V3 = 3 };

enum {
	ST_PDU_GET = 0xa0,
	ST_PDU_GETNEXT = 0xa1,
	ST_PDU_RESPONSE = 0xa2,
	ST_PDU_SET = 0xa3,
	ST_PDU_TRAPV1 = 0xa4,
	ST_PDU_GETBULK = 0xa5,
	ST_PDU_INFORM = 0xa6,
	ST_PDU_TRAPV2 = 0xa7,
	ST_PDU_REPORT = 0xa8,
};

/* v3 msgFlags */
enum { ST_MSGFLAG_AUTH = 0x01, ST_MSGFLAG_PRIV = 0x02, ST_MSGFLAG_REPORTABLE = 0x04 };

typedef struct st_varbind {
	const uint8_t *oid; /* OID content octets (borrowed, validated) */
	uint16_t oid_len;
	uint8_t type;       /* ST_BER_* tag of the value */
	const uint8_t *val; /* content octets (borrowed): OCTETS, OPAQUE, IPADDR, OID */
	uint32_t val_len;
	union {
		int64_t i;  /* INTEGER */
		uint64_t u; /* COUNTER32, GAUGE32, TIMETICKS, COUNTER64 */
	} num;
} st_varbind_t;

typedef struct st_pdu {
	uint8_t type; /* ST_PDU_* */
	int32_t request_id;
	int32_t error_status; /* non-bulk PDUs */
	int32_t error_index;
	/* Trap-PDU (v1) only */
	const uint8_t *enterprise; /* OID content octets */
	size_t enterprise_len;
	const uint8_t *agent_addr; /* 4 octets */
	int32_t generic_trap;
	int32_t specific_trap;
	uint32_t timestamp;
	/* the whole VarBindList TLV (tag, length, content), for echoing it */
	const uint8_t *vbl;
	size_t vbl_len;
	uint32_t nvb;
	st_varbind_t vb[ST_SNMP_MAX_VARBINDS];
} st_pdu_t;

/* RFC 3414 UsmSecurityParameters, borrowed from the datagram. */
typedef struct st_usm_params {
	const uint8_t *engine_id;
	size_t engine_id_len;
	int64_t boots; /* 0 .. 2^31-1 */
	int64_t time;  /* 0 .. 2^31-1 */
	const uint8_t *user;
	size_t user_len;
	const uint8_t *auth; /* msgAuthenticationParameters */
	size_t auth_len;
	size_t auth_off;     /* offset of auth[0] from the datagram start */
	const uint8_t *priv; /* msgPrivacyParameters */
	size_t priv_len;
} st_usm_params_t;

typedef struct st_msg {
	int version; /* ST_SNMP_V1 / V2C / V3 */
	/* v1 / v2c */
	const uint8_t *community;
	size_t community_len;
	/* v3 header */
	int32_t msg_id;
	int32_t msg_max_size;
	uint8_t msg_flags; /* ST_MSGFLAG_* */
	int32_t msg_security_model;
	st_usm_params_t usm;
	/* v3 scoped PDU: when ST_MSGFLAG_PRIV is set, encrypted/encrypted_len
	 * hold the encryptedPDU octets and have_pdu is 0 until the caller
	 * decrypts and calls st_snmp_decode_scoped(). */
	const uint8_t *encrypted;
	size_t encrypted_len;
	const uint8_t *context_engine_id;
	size_t context_engine_id_len;
	const uint8_t *context_name;
	size_t context_name_len;
	int have_pdu;
	st_pdu_t pdu;
} st_msg_t;

/**
 * @brief Decode an SNMP message (any version).
 *
 * v1/v2c: the whole message including the PDU. v3: the header, the USM
 * security parameters and, when not encrypted, the scoped PDU.
 * Never allocates; the message borrows from buf.
 * @return 0 or a negative ST_ERR_* code.
 */
int st_snmp_decode(const uint8_t *buf, size_t len, st_msg_t *msg);

/**
 * @brief Decode a (decrypted) v3 ScopedPDU into msg. Bytes after the
 * ScopedPDU SEQUENCE are ignored (block-cipher padding, RFC 3414 8.1.1.3).
 * The message then also borrows from buf.
 */
int st_snmp_decode_scoped(const uint8_t *buf, size_t len, st_msg_t *msg);

/**
 * @brief Encode the v1/v2c Response to an InformRequest: same version,
 * community, request-id and variable bindings; error-status 0.
 * @return the encoded length (the message starts at out), or
 *         ST_ERR_BER_SPACE.
 */
int st_snmp_encode_response(const st_msg_t *inform, uint8_t *out, size_t cap);

/**
 * @brief Encode a v3 ScopedPDU (plaintext) holding one PDU.
 * @param pdu_type    ST_PDU_RESPONSE or ST_PDU_REPORT for the collector;
 *                    any RFC 3416 PDU type but ST_PDU_TRAPV1 is accepted
 *                    (tests and the load generator build traps with it)
 * @param vbl         a whole VarBindList TLV to put in the PDU, verbatim
 * @return the encoded length (the ScopedPDU starts at out), or an error.
 */
int st_snmp_encode_scoped(const uint8_t *ctx_engine, size_t ctx_engine_len, const uint8_t *ctx_name,
                          size_t ctx_name_len, uint8_t pdu_type, int32_t request_id,
                          const uint8_t *vbl, size_t vbl_len, uint8_t *out, size_t cap);

/** Outgoing v3 message fields for st_snmp_encode_v3(). */
typedef struct st_v3_out {
	int32_t msg_id;
	int32_t msg_max_size;
	uint8_t msg_flags;
	const uint8_t *engine_id;
	size_t engine_id_len;
	int32_t boots;
	int32_t time;
	const uint8_t *user;
	size_t user_len;
	size_t auth_len; /* 0, or the HMAC length to reserve (zero-filled) */
	const uint8_t *priv;
	size_t priv_len;
	/* the ScopedPDU: plaintext SEQUENCE when !(msg_flags & PRIV), else
	 * the encrypted octets (wrapped in an OCTET STRING here) */
	const uint8_t *scoped;
	size_t scoped_len;
} st_v3_out_t;

/**
 * @brief Encode a whole v3 message. When auth_len > 0 the
 * msgAuthenticationParameters are zero-filled and their offset from the
 * start of the message is returned in *auth_off for the caller's HMAC.
 * @return the encoded length (the message starts at out), or an error.
 */
int st_snmp_encode_v3(const st_v3_out_t *v3, uint8_t *out, size_t cap, size_t *auth_off);

/* well-known OIDs, content octets */
extern const uint8_t ST_OID_SYSUPTIME0[8];    /* 1.3.6.1.2.1.1.3.0 */
extern const uint8_t ST_OID_SNMPTRAPOID0[10]; /* 1.3.6.1.6.3.1.1.4.1.0 */
extern const uint8_t ST_OID_SNMPTRAPADDR0[9]; /* 1.3.6.1.6.3.18.1.3.0 */

/**
 * @brief The notification OID of a v1 Trap-PDU per RFC 3584 3.1, as OID
 * content octets: generic < 6 → 1.3.6.1.6.3.1.1.5.(generic+1); otherwise
 * enterprise.0.specific.
 * @return the number of octets written to out, or an error.
 */
int st_snmp_v1_trap_oid(const st_pdu_t *pdu, uint8_t *out, size_t cap);

/* ------------------------------------------------------------------ */
/* JSON lines                                                         */
/* ------------------------------------------------------------------ */

/** st_json_meta_t.big_numbers: how a Counter64 of 2^53 or more is written */
enum {
	ST_JSON_BIG_NUMBER = 0, /* a JSON number, always (exact in C, Go, Python; not in JS) */
	ST_JSON_BIG_STRING = 1, /* a JSON string of its decimal digits */
};

/**
 * Names for one varbind, from the MIB translation (mib/ fills these; the
 * codec only writes them). Every pointer is borrowed: it must stay valid
 * while st_json_encode() runs. NULL = the member is left out.
 */
typedef struct st_json_vbname {
	const char *name; /* "IF-MIB::ifOperStatus.7" */
	uint32_t name_len;
	const char *enum_; /* the label of an enumerated INTEGER: "down" */
	uint32_t enum_len;
	const char *bits; /* the set bits' names separated by ' ' (JSON: an array);
	                   * non-NULL with bits_len 0 = no bit set (an empty array) */
	uint32_t bits_len;
	const char *display; /* the value rendered with its DISPLAY-HINT */
	uint32_t display_len;
} st_json_vbname_t;

/**
 * Names for one notification. vb[i] belongs to msg->pdu.vb[i] (same index,
 * lifted varbinds included; the encoder ignores theirs); nvb may be less
 * than the message's count, the rest then has no names.
 */
typedef struct st_json_names {
	const char *trap_name; /* "IF-MIB::linkDown"; NULL = none */
	uint32_t trap_name_len;
	const st_json_vbname_t *vb;
	size_t nvb;
	/** the sum of every *_len above (trap_name and all of vb), which
	 * st_json_bound_names() counts on */
	size_t bytes;
	/** annotations the translator had to leave out for lack of room (the
	 * encoder does not read it; the collector counts it) */
	uint32_t omitted;
} st_json_names_t;

/** Metadata about one received datagram, supplied by the collector. */
typedef struct st_json_meta {
	struct timespec time;       /* receive time, CLOCK_REALTIME */
	const char *collector;      /* collector name */
	const struct sockaddr *src; /* AF_INET or AF_INET6 */
	const struct sockaddr *dst; /* local address the datagram hit */
	int community;              /* 1: include "community" */
	const uint8_t *raw;         /* non-NULL: add "raw" (hex) */
	size_t raw_len;
	int big_numbers; /* ST_JSON_BIG_*: Counter64 values >= 2^53 as numbers or strings */
	/** NULL: no names (the line is exactly as without MIBs); else trap_name
	 * and each varbind's name, enum, bits and display (docs/JSON.md) */
	const st_json_names_t *names;
} st_json_meta_t;

/** Where some values stand inside an encoded line (offsets into out,
 * the text between the JSON quotes; len 0 when absent). The collector uses
 * them for Kafka keys and headers without formatting anything twice. */
typedef struct st_json_span {
	uint32_t off;
	uint32_t len;
} st_json_span_t;

typedef struct st_json_info {
	st_json_span_t src_ip;
	st_json_span_t agent_addr;
	st_json_span_t trap_oid;
	/** names (meta->names) left out because they are not valid UTF-8 */
	uint32_t names_omitted;
} st_json_info_t;

/** The longest collector name st_json_bound() accounts for (bytes). Longer
 * names still encode correctly but need a larger buffer than the bound. */
#define ST_JSON_COLLECTOR_MAX 256

/**
 * @brief Encode one notification as one JSON line (schema in
 * docs/JSON.md), terminated by '\n'. Not NUL-terminated.
 * v3 messages get user, security_level (from msg_flags), engine_id,
 * context_engine_id and context_name. community, user and context_name
 * that are not printable UTF-8 are written in hex and flagged by a sibling
 * member "community_encoding":"hex" (resp. user_, context_name_).
 * A varbind OCTET STRING that is printable text followed by NUL bytes is
 * written as the text, with "nul_padding":N (the NULs left out).
 * A v1 Trap-PDU whose generic-trap has no RFC 3584 mapping gets no
 * trap_oid; a v2c/v3 PDU without sysUpTime.0 / snmpTrapOID.0 gets no
 * uptime / trap_oid.
 * @param msg   a decoded v1 trap, v2c/v3 trap or inform (have_pdu set)
 * @param info  NULL, or filled with where some values stand in the line
 * @return the line length, or ST_ERR_JSON_SPACE.
 */
int st_json_encode(const st_msg_t *msg, const st_json_meta_t *meta, char *out, size_t cap,
                   st_json_info_t *info);

/**
 * @brief An upper bound for the line of a datagram of @p dgram_len bytes
 * (with raw included), for sizing output buffers: 11 * dgram_len + 4096
 * (the proof is in json.c). Assumes a collector name of at most
 * ST_JSON_COLLECTOR_MAX bytes.
 */
size_t st_json_bound(size_t dgram_len);

/** What names add at most to a line: every annotation byte escaped to 6
 * characters, 48 characters of member names and punctuation per varbind and
 * 64 for trap_name (the proof is in json.c). */
#define ST_JSON_NAMES_BOUND(bytes, nvb) (6 * (size_t)(bytes) + 48 * (size_t)(nvb) + 64)

/**
 * @brief st_json_bound() for a line that carries names: the bound of the
 * datagram plus ST_JSON_NAMES_BOUND(names->bytes, names->nvb). names may be
 * NULL (then it is st_json_bound()). names->bytes must be the true sum of
 * the annotation lengths.
 */
size_t st_json_bound_names(size_t dgram_len, const st_json_names_t *names);

/**
 * @brief Is this OCTET STRING emitted as a JSON string (valid UTF-8, no
 * control characters other than TAB, LF, CR)? Otherwise it is hex with
 * "encoding":"hex".
 */
int st_json_printable(const uint8_t *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ST_CODEC_H */
