/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.c - one notification as one JSON line.
 *
 * The line is written front to back in a single pass over the decoded
 * message, straight into the caller's buffer. Every append checks the room
 * left and a failure is sticky (like the BER writer): the encoder runs to
 * the end and reports ST_ERR_JSON_SPACE once, and it fails exactly when the
 * line does not fit. Numbers, OIDs and addresses are formatted by the
 * helpers in fmt_priv.h, never by snprintf, which costs more per call than a
 * whole varbind does here.
 *
 * Schema (field order is fixed; absent fields are left out):
 *
 *   time, collector, src_ip, src_port, dst_ip, dst_port, version, pdu,
 *   request_id (not for a v1 Trap-PDU), community (v1/v2c, when asked),
 *   v3: user, security_level, engine_id, context_engine_id, context_name,
 *   v1: enterprise, agent_addr, generic_trap, specific_trap,
 *   v2c/v3: agent_addr (from snmpTrapAddress.0, which stays a varbind),
 *   uptime, trap_oid, varbinds, raw
 *
 * For v2c/v3 the first sysUpTime.0 (TimeTicks) and snmpTrapOID.0 (OID)
 * varbinds are lifted into uptime and trap_oid and left out of varbinds; a
 * varbind of that name with another type stays where it is. For v1 the
 * uptime is the time-stamp and trap_oid follows RFC 3584 3.1.
 *
 * OCTET STRINGs: valid UTF-8 without control characters (TAB, LF and CR
 * excepted; DEL and the C1 range U+0080..U+009F count as control) becomes a
 * JSON string; anything else becomes lowercase hex with an
 * "encoding":"hex" member next to it. The same rule applies to community,
 * user and context_name, whose hex form is flagged by a sibling member
 * "<name>_encoding":"hex", so no input can make the line invalid JSON. In a
 * varbind (only there), NUL bytes that only pad printable text at its end
 * are left out of the string and counted in a "nul_padding":N member
 * instead.
 *
 * Counter64 is a JSON number, or with meta->big_numbers ==
 * ST_JSON_BIG_STRING a JSON string from 2^53 up, where a reader that
 * parses numbers as doubles would round it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "fmt_priv.h"
#include "st_codec.h"
#include "st_util.h"

/* ------------------------------------------------------------------ */
/* Bounded writer                                                     */
/* ------------------------------------------------------------------ */

typedef struct st_jw {
	char *start;
	char *p;
	char *end;
	int err;
	uint32_t names_omitted; /* names left out: not UTF-8 (st_json_info_t) */
} st_jw_t;

static inline void jw_put(st_jw_t *w, const void *s, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->err = 1;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

#define JW_LIT(w, s) jw_put((w), (s), sizeof(s) - 1)

/* Numbers are at most 20 characters: in place when that much room is
 * left, else through a small buffer so that a tight fit still works. */
static inline void jw_u64(st_jw_t *w, uint64_t v)
{
	char tmp[24];

	if ((size_t)(w->end - w->p) >= 20) {
		w->p += st_fmt_u64(w->p, v);
		return;
	}
	jw_put(w, tmp, st_fmt_u64(tmp, v));
}

static inline void jw_i64(st_jw_t *w, int64_t v)
{
	char tmp[24];

	if ((size_t)(w->end - w->p) >= 21) {
		w->p += st_fmt_i64(w->p, v);
		return;
	}
	jw_put(w, tmp, st_fmt_i64(tmp, v));
}

static const char hexdig[16] = "0123456789abcdef";

static void jw_hex(st_jw_t *w, const uint8_t *s, size_t len)
{
	if ((size_t)(w->end - w->p) / 2 < len) {
		w->err = 1;
		return;
	}
	st_hex_encode(w->p, s, len);
	w->p += 2 * len;
}

/* Offset of the writer position, for st_json_info_t spans. */
static inline uint32_t jw_off(const st_jw_t *w)
{
	return (uint32_t)(w->p - w->start);
}

/* ------------------------------------------------------------------ */
/* Strings                                                            */
/* ------------------------------------------------------------------ */

/*
 * Byte classes: 0 ASCII copied as is, 1 ASCII that needs a backslash escape
 * (" \ TAB LF CR), 2 never printable (other controls, DEL, stray
 * continuation bytes, C0/C1 and F5..FF which no valid UTF-8 uses), 3/4/5
 * lead byte of a 2/3/4-octet sequence.
 */
/* clang-format off */
static const uint8_t utf8_class[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 2, 1, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

/*
 * The UTF-8 character whose lead byte (class 3, 4 or 5) is s[i]: its length
 * in bytes, or 0 when it is not valid. The allowed range of the second
 * octet depends on the lead (RFC 3629 section 4): that is what rejects
 * overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code
 * points above U+10FFFF (F4 90..). C2 80..9F are the C1 controls, refused
 * too unless c1 is set.
 */
static inline size_t utf8_char(const uint8_t *s, size_t len, size_t i, int c1)
{
	uint8_t c = s[i];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n;

	switch (utf8_class[c]) {
	case 3:
		n = 1;
		if (c == 0xc2 && !c1)
			lo = 0xa0;
		break;
	case 4:
		n = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		break;
	case 5:
		n = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		break;
	default:
		return 0;
	}
	if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k <= n; k++)
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
	return n + 1;
}

/*
 * Scan an OCTET STRING: -1 when it is not printable, otherwise the number
 * of bytes that need a two-character escape.
 */
static long utf8_scan(const uint8_t *s, size_t len)
{
	size_t i = 0, n;
	long esc = 0;

	while (i < len) {
		uint8_t c = s[i];

		if (utf8_class[c] == 0) {
			i++;
			continue;
		}
		if (utf8_class[c] == 1) {
			esc++;
			i++;
			continue;
		}
		if (!(n = utf8_char(s, len, i, 0)))
			return -1;
		i += n;
	}
	return esc;
}

int st_json_printable(const uint8_t *s, size_t len)
{
	return utf8_scan(s, len) >= 0;
}

/* Copy a scanned printable string, escaping the class-1 bytes. */
static void jw_escaped(st_jw_t *w, const uint8_t *s, size_t len, size_t esc)
{
	char *o;
	size_t run = 0;

	if ((size_t)(w->end - w->p) < len + esc) {
		w->err = 1;
		return;
	}
	if (esc == 0) {
		memcpy(w->p, s, len);
		w->p += len;
		return;
	}
	o = w->p;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (utf8_class[c] != 1)
			continue;
		memcpy(o, s + run, i - run);
		o += i - run;
		*o++ = '\\';
		*o++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : (char)c;
		run = i + 1;
	}
	memcpy(o, s + run, len - run);
	o += len - run;
	w->p = o;
}

/*
 * The value of an OCTET STRING, quotes included: the string when printable,
 * hex otherwise. @return 1 when hex was written (the caller flags it).
 *
 * With nul_padding (varbinds), NUL bytes at the end of printable text are
 * padding (devices that send C strings with their terminator, or
 * fixed-width fields: "Gi0/7\0"): the text is written without them and
 * *nul_padding says how many there were, so the reader sees the text and no
 * byte is lost. A string of NULs only, or with a NUL before other bytes,
 * stays hex. Without it (NULL), any NUL means hex.
 */
static int jw_octets(st_jw_t *w, const uint8_t *s, size_t len, size_t *nul_padding)
{
	size_t text = len;
	long esc = utf8_scan(s, len);

	if (nul_padding && esc < 0 && len && s[len - 1] == 0) {
		while (text && s[text - 1] == 0)
			text--;
		esc = text ? utf8_scan(s, text) : -1;
		if (esc < 0)
			text = len;
		else
			*nul_padding = len - text;
	}
	JW_LIT(w, "\"");
	if (esc >= 0)
		jw_escaped(w, s, text, (size_t)esc);
	else
		jw_hex(w, s, len);
	JW_LIT(w, "\"");
	return esc < 0;
}

/*
 * Any text (the collector name, which comes from configuration): escape
 * quotes, backslashes and every control character; other bytes are copied.
 */
static void jw_text(st_jw_t *w, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};

			jw_put(w, e, 2);
		} else if (c == '\n') {
			JW_LIT(w, "\\n");
		} else if (c == '\r') {
			JW_LIT(w, "\\r");
		} else if (c == '\t') {
			JW_LIT(w, "\\t");
		} else {
			char e[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 0xf]};

			jw_put(w, e, 6);
		}
	}
	jw_put(w, run, (size_t)(s - run));
}

/* ,"<key>":<octets>[,"<key>_encoding":"hex"] */
static void jw_octets_member(st_jw_t *w, const char *key, size_t key_len, const uint8_t *s,
                             size_t len)
{
	JW_LIT(w, ",\"");
	jw_put(w, key, key_len);
	JW_LIT(w, "\":");
	if (jw_octets(w, s, len, NULL)) {
		JW_LIT(w, ",\"");
		jw_put(w, key, key_len);
		JW_LIT(w, "_encoding\":\"hex\"");
	}
}

/*
 * Names from the MIB translation come from the operator's MIB files and
 * display hints ('a' copies value octets), so they are escaped like any
 * text. Scan one: -1 when it is not valid UTF-8 (the member is then left
 * out: JSON cannot carry it, and the numeric value is still there), else
 * how many characters escaping adds (one for " \ LF CR TAB, five for the
 * other control characters, written as \u00XX).
 */
/*
 * Eight octets none of which is a control character, '"', '\\' or above
 * 0x7f (the "has a byte less than n" and "has a zero byte" word tricks;
 * exact for n <= 0x80): names, labels and most displays are such words.
 */
static inline int word_plain(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return !((x & highs) | ((x - ones * 0x20) & ~x & highs) | ((q - ones) & ~q & highs) |
	         ((b - ones) & ~b & highs));
}

static long annot_scan(const uint8_t *s, size_t len)
{
	size_t i = 0, n;
	long extra = 0;

	while (i < len) {
		uint8_t c = s[i];

		if (len - i >= 8) {
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (word_plain(x)) {
				i += 8;
				continue;
			}
		}

		if (c < 0x80) {
			if (utf8_class[c] == 1)
				extra += 1;
			else if (c < 0x20)
				extra += 5;
			i++;
			continue;
		}
		if (!(n = utf8_char(s, len, i, 1)))
			return -1;
		i += n;
	}
	return extra;
}

/* Copy scanned annotation text, escaping what annot_scan() counted. */
static void jw_annot(st_jw_t *w, const char *s, size_t len, size_t extra)
{
	if ((size_t)(w->end - w->p) < len + extra) {
		w->err = 1;
		return;
	}
	if (extra == 0) {
		memcpy(w->p, s, len);
		w->p += len;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*w->p++ = (char)c;
		} else if (utf8_class[c] == 1) {
			*w->p++ = '\\';
			*w->p++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : (char)c;
		} else {
			memcpy(w->p, "\\u00", 4);
			w->p[4] = hexdig[c >> 4];
			w->p[5] = hexdig[c & 0xf];
			w->p += 6;
		}
	}
}

/* <prefix><text>"  (prefix ends with the opening quote), or nothing when
 * the text is absent or not UTF-8 */
static void jw_annot_member(st_jw_t *w, const char *prefix, size_t prefix_len, const char *s,
                            uint32_t len)
{
	long extra;

	if (!s)
		return;
	if ((extra = annot_scan((const uint8_t *)s, len)) < 0) {
		w->names_omitted++;
		return;
	}
	jw_put(w, prefix, prefix_len);
	jw_annot(w, s, len, (size_t)extra);
	JW_LIT(w, "\"");
}

/* ,"bits":["a","b"] from "a b" (empty words skipped) */
static void jw_bits(st_jw_t *w, const char *s, uint32_t len)
{
	size_t i = 0;
	int first = 1;

	if (!s)
		return;
	if (annot_scan((const uint8_t *)s, len) < 0) {
		w->names_omitted++;
		return;
	}
	JW_LIT(w, ",\"bits\":[");
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		if (j > i) {
			if (!first)
				JW_LIT(w, ",");
			first = 0;
			JW_LIT(w, "\"");
			jw_annot(w, s + i, j - i,
			         (size_t)annot_scan((const uint8_t *)s + i, j - i));
			JW_LIT(w, "\"");
		}
		i = j + 1;
	}
	JW_LIT(w, "]");
}

/* ------------------------------------------------------------------ */
/* Time and addresses                                                 */
/* ------------------------------------------------------------------ */

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
 * civil_from_days): branch-free, no table, no time zone, no lock. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static inline void put2(char *o, unsigned v)
{
	memcpy(o, st_fmt_digits2 + 2 * v, 2);
}

/* RFC 3339 UTC with microseconds: 2026-11-21T10:00:00.123456Z */
static void jw_time(st_jw_t *w, const struct timespec *ts)
{
	char b[64];
	size_t n = 0;
	int64_t sec = ts->tv_sec, days, y;
	unsigned sod, mon, day;
	long nsec = ts->tv_nsec;

	if (nsec < 0 || nsec > 999999999)
		nsec = 0;
	days = sec / 86400;
	if (sec % 86400 < 0)
		days--;
	sod = (unsigned)(sec - days * 86400);
	civil_from_days(days, &y, &mon, &day);
	if (y >= 0 && y <= 9999) {
		put2(b, (unsigned)(y / 100));
		put2(b + 2, (unsigned)(y % 100));
		n = 4;
	} else {
		n = st_fmt_i64(b, y); /* outside RFC 3339, but still a string */
	}
	b[n++] = '-';
	put2(b + n, mon);
	b[n + 2] = '-';
	put2(b + n + 3, day);
	b[n + 5] = 'T';
	put2(b + n + 6, sod / 3600);
	b[n + 8] = ':';
	put2(b + n + 9, sod / 60 % 60);
	b[n + 11] = ':';
	put2(b + n + 12, sod % 60);
	b[n + 14] = '.';
	n += 15;
	{
		unsigned us = (unsigned)(nsec / 1000);

		put2(b + n, us / 10000);
		put2(b + n + 2, us / 100 % 100);
		put2(b + n + 4, us % 100);
		n += 6;
	}
	b[n++] = 'Z';
	jw_put(w, b, n);
}

/* RFC 5952 text of an IPv6 address: lowercase, no leading zeros, the
 * longest run (leftmost on a tie) of two or more zero groups as "::". */
static size_t fmt_ipv6(char *out, const uint8_t *a)
{
	unsigned g[8];
	int bs = -1, bl = 0, cs = -1, cl = 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (g[i] == 0) {
			if (cs < 0)
				cs = i, cl = 0;
			cl++;
			if (cl > bl && cl >= 2)
				bs = cs, bl = cl;
		} else {
			cs = -1;
		}
	}
	for (int i = 0; i < 8;) {
		if (i == bs) {
			out[n++] = ':';
			out[n++] = ':';
			i += bl;
			continue;
		}
		if (i > 0 && i != bs + bl)
			out[n++] = ':';
		int shift = 12;

		while (shift > 0 && (g[i] >> shift) == 0)
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			out[n++] = hexdig[(g[i] >> shift) & 0xf];
		i++;
	}
	return n;
}

/* "<ip>" and the port; returns 0 when the family is unknown. IPv4-mapped
 * IPv6 addresses (a dual-stack socket receiving IPv4) are shown as IPv4. */
static int sa_text(const struct sockaddr *sa, char *out, size_t *len, unsigned *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		*len = st_fmt_ipv4(out, (const uint8_t *)&in->sin_addr);
		*port = ntohs(in->sin_port);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			*len = st_fmt_ipv4(out, a + 12);
		else
			*len = fmt_ipv6(out, a);
		*port = ntohs(in6->sin6_port);
		return 1;
	}
	return 0;
}

/* ,"<key>_ip":"...","<key>_port":N with the span of the address text */
static void jw_endpoint(st_jw_t *w, const char *ip_key, size_t ip_key_len, const char *port_key,
                        size_t port_key_len, const struct sockaddr *sa, st_json_span_t *span)
{
	char text[64];
	size_t len;
	unsigned port;

	if (!sa || !sa_text(sa, text, &len, &port))
		return;
	jw_put(w, ip_key, ip_key_len);
	if (span) {
		span->off = jw_off(w);
		span->len = (uint32_t)len;
	}
	jw_put(w, text, len);
	jw_put(w, port_key, port_key_len);
	jw_u64(w, port);
}

/* ------------------------------------------------------------------ */
/* Values                                                             */
/* ------------------------------------------------------------------ */

static void jw_oid(st_jw_t *w, const uint8_t *oid, size_t len)
{
	char tmp[4 * ST_OID_MAX_SUBIDS * 5];

	/* decoded OIDs are at most ST_OID_MAX_SUBIDS * 5 octets; anything else
	 * did not come from st_snmp_decode() and is refused rather than cut */
	if (len > ST_OID_MAX_SUBIDS * 5) {
		w->err = 1;
		return;
	}
	/* 4 * len is st_fmt_oid's worst case: with that much room, format in
	 * place; near the end of the buffer, format aside and copy what fits */
	if ((size_t)(w->end - w->p) >= 4 * len) {
		w->p += st_fmt_oid(w->p, oid, len);
		return;
	}
	jw_put(w, tmp, st_fmt_oid(tmp, oid, len));
}

static void jw_ipv4(st_jw_t *w, const uint8_t *a)
{
	char tmp[16];

	jw_put(w, tmp, st_fmt_ipv4(tmp, a));
}

/* JavaScript's Number.MAX_SAFE_INTEGER + 1: from here on a double cannot
 * hold every integer, so a reader that parses numbers as doubles (most JSON
 * libraries outside C, jq) silently rounds */
#define ST_JSON_SAFE_LIMIT (UINT64_C(1) << 53)

static void jw_varbind(st_jw_t *w, const st_varbind_t *vb, int big_numbers,
                       const st_json_vbname_t *nm)
{
	size_t nul_padding = 0;
	int hex = 0;

	JW_LIT(w, "{\"oid\":\"");
	jw_oid(w, vb->oid, vb->oid_len);
	if (nm && nm->name) {
		long extra = annot_scan((const uint8_t *)nm->name, nm->name_len);

		/* the closing quote is the one the type member starts with */
		if (extra >= 0) {
			JW_LIT(w, "\",\"name\":\"");
			jw_annot(w, nm->name, nm->name_len, (size_t)extra);
		} else {
			w->names_omitted++;
		}
	}
	switch (vb->type) {
	case ST_BER_INTEGER:
		JW_LIT(w, "\",\"type\":\"Integer32\",\"value\":");
		jw_i64(w, vb->num.i);
		break;
	case ST_BER_OCTETS:
		JW_LIT(w, "\",\"type\":\"OctetString\",\"value\":");
		hex = jw_octets(w, vb->val, vb->val_len, &nul_padding);
		break;
	case ST_BER_NULL:
		JW_LIT(w, "\",\"type\":\"Null\",\"value\":null");
		break;
	case ST_BER_OID:
		JW_LIT(w, "\",\"type\":\"ObjectIdentifier\",\"value\":\"");
		jw_oid(w, vb->val, vb->val_len);
		JW_LIT(w, "\"");
		break;
	case ST_BER_IPADDR:
		JW_LIT(w, "\",\"type\":\"IpAddress\",\"value\":\"");
		if (vb->val_len == 4)
			jw_ipv4(w, vb->val);
		JW_LIT(w, "\"");
		break;
	case ST_BER_COUNTER32:
		JW_LIT(w, "\",\"type\":\"Counter32\",\"value\":");
		jw_u64(w, vb->num.u);
		break;
	case ST_BER_GAUGE32:
		JW_LIT(w, "\",\"type\":\"Gauge32\",\"value\":");
		jw_u64(w, vb->num.u);
		break;
	case ST_BER_TIMETICKS:
		JW_LIT(w, "\",\"type\":\"TimeTicks\",\"value\":");
		jw_u64(w, vb->num.u);
		break;
	case ST_BER_COUNTER64:
		JW_LIT(w, "\",\"type\":\"Counter64\",\"value\":");
		if (big_numbers == ST_JSON_BIG_STRING && vb->num.u >= ST_JSON_SAFE_LIMIT) {
			JW_LIT(w, "\"");
			jw_u64(w, vb->num.u);
			JW_LIT(w, "\"");
		} else {
			jw_u64(w, vb->num.u);
		}
		break;
	case ST_BER_OPAQUE:
		JW_LIT(w, "\",\"type\":\"Opaque\",\"value\":\"");
		jw_hex(w, vb->val, vb->val_len);
		JW_LIT(w, "\"");
		hex = 1;
		break;
	case ST_BER_NOSUCHOBJECT:
		JW_LIT(w, "\",\"type\":\"NoSuchObject\",\"value\":null");
		break;
	case ST_BER_NOSUCHINSTANCE:
		JW_LIT(w, "\",\"type\":\"NoSuchInstance\",\"value\":null");
		break;
	case ST_BER_ENDOFMIBVIEW:
		JW_LIT(w, "\",\"type\":\"EndOfMibView\",\"value\":null");
		break;
	default:
		/* not produced by the decoder; keep the line valid anyway */
		JW_LIT(w, "\",\"type\":\"Opaque\",\"value\":\"");
		jw_hex(w, vb->val, vb->val_len);
		JW_LIT(w, "\"");
		hex = 1;
		break;
	}
	if (nul_padding) {
		JW_LIT(w, ",\"nul_padding\":");
		jw_u64(w, nul_padding);
	}
	if (hex)
		JW_LIT(w, ",\"encoding\":\"hex\"");
	if (nm) {
		jw_annot_member(w, ",\"enum\":\"", 9, nm->enum_, nm->enum_len);
		jw_bits(w, nm->bits, nm->bits_len);
		jw_annot_member(w, ",\"display\":\"", 12, nm->display, nm->display_len);
	}
	JW_LIT(w, "}");
}

/* the names of varbind i, if any */
static const st_json_vbname_t *vb_names(const st_json_names_t *names, uint32_t i)
{
	return names && i < names->nvb ? &names->vb[i] : NULL;
}

/* ,"trap_name":"..." */
static void jw_trap_name(st_jw_t *w, const st_json_names_t *names)
{
	if (names)
		jw_annot_member(w, ",\"trap_name\":\"", 14, names->trap_name, names->trap_name_len);
}

static const char *pdu_name(uint8_t type, size_t *len)
{
	static const char *const names[] = {"get",     "getnext", "response", "set",   "trap",
	                                    "getbulk", "inform",  "trap",     "report"};
	const char *s = "unknown";

	if (type >= ST_PDU_GET && type <= ST_PDU_REPORT)
		s = names[type - ST_PDU_GET];
	*len = strlen(s);
	return s;
}

/* ------------------------------------------------------------------ */
/* The line                                                           */
/* ------------------------------------------------------------------ */

static void jw_v3_fields(st_jw_t *w, const st_msg_t *msg)
{
	const st_usm_params_t *usm = &msg->usm;
	uint8_t level = msg->msg_flags & (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV);

	jw_octets_member(w, "user", 4, usm->user, usm->user_len);
	if (level == (ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV))
		JW_LIT(w, ",\"security_level\":\"authPriv\"");
	else if (level == ST_MSGFLAG_AUTH)
		JW_LIT(w, ",\"security_level\":\"authNoPriv\"");
	else
		JW_LIT(w, ",\"security_level\":\"noAuthNoPriv\"");
	JW_LIT(w, ",\"engine_id\":\"");
	jw_hex(w, usm->engine_id, usm->engine_id_len);
	JW_LIT(w, "\"");
	if (msg->have_pdu) {
		JW_LIT(w, ",\"context_engine_id\":\"");
		jw_hex(w, msg->context_engine_id, msg->context_engine_id_len);
		JW_LIT(w, "\"");
		jw_octets_member(w, "context_name", 12, msg->context_name, msg->context_name_len);
	}
}

/* v1 Trap-PDU: enterprise, agent_addr, generic/specific, uptime, trap_oid */
static void jw_v1_fields(st_jw_t *w, const st_pdu_t *pdu, const st_json_names_t *names,
                         st_json_info_t *inf)
{
	uint8_t oid[ST_OID_MAX_SUBIDS * 5];
	int n;

	JW_LIT(w, ",\"enterprise\":\"");
	jw_oid(w, pdu->enterprise, pdu->enterprise_len);
	JW_LIT(w, "\",\"agent_addr\":\"");
	inf->agent_addr.off = jw_off(w);
	if (pdu->agent_addr) /* always set by the decoder */
		jw_ipv4(w, pdu->agent_addr);
	inf->agent_addr.len = jw_off(w) - inf->agent_addr.off;
	JW_LIT(w, "\",\"generic_trap\":");
	jw_i64(w, pdu->generic_trap);
	JW_LIT(w, ",\"specific_trap\":");
	jw_i64(w, pdu->specific_trap);
	JW_LIT(w, ",\"uptime\":");
	jw_u64(w, pdu->timestamp);
	/* a generic-trap outside 0..6 (or a negative specific-trap) has no
	 * RFC 3584 translation: trap_oid is left out, like a missing
	 * snmpTrapOID.0 */
	n = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));
	if (n > 0) {
		JW_LIT(w, ",\"trap_oid\":\"");
		inf->trap_oid.off = jw_off(w);
		jw_oid(w, oid, (size_t)n);
		inf->trap_oid.len = jw_off(w) - inf->trap_oid.off;
		JW_LIT(w, "\"");
	}
	jw_trap_name(w, names);
}

static int is_oid(const st_varbind_t *vb, const uint8_t *oid, size_t len, uint8_t type)
{
	return vb->oid_len == len && vb->type == type && memcmp(vb->oid, oid, len) == 0;
}

/* v2c/v3 PDU: agent_addr, uptime, trap_oid lifted out, then varbinds */
static void jw_v2_fields(st_jw_t *w, const st_pdu_t *pdu, int big_numbers,
                         const st_json_names_t *names, st_json_info_t *inf)
{
	uint32_t up = UINT32_MAX, to = UINT32_MAX, ad = UINT32_MAX;
	int first = 1;

	for (uint32_t i = 0; i < pdu->nvb; i++) {
		const st_varbind_t *vb = &pdu->vb[i];

		if (up == UINT32_MAX &&
		    is_oid(vb, ST_OID_SYSUPTIME0, sizeof(ST_OID_SYSUPTIME0), ST_BER_TIMETICKS))
			up = i;
		else if (to == UINT32_MAX &&
		         is_oid(vb, ST_OID_SNMPTRAPOID0, sizeof(ST_OID_SNMPTRAPOID0), ST_BER_OID))
			to = i;
		else if (ad == UINT32_MAX && vb->val_len == 4 &&
		         is_oid(vb, ST_OID_SNMPTRAPADDR0, sizeof(ST_OID_SNMPTRAPADDR0),
		                ST_BER_IPADDR))
			ad = i;
	}
	if (ad != UINT32_MAX) {
		JW_LIT(w, ",\"agent_addr\":\"");
		inf->agent_addr.off = jw_off(w);
		jw_ipv4(w, pdu->vb[ad].val);
		inf->agent_addr.len = jw_off(w) - inf->agent_addr.off;
		JW_LIT(w, "\"");
	}
	if (up != UINT32_MAX) {
		JW_LIT(w, ",\"uptime\":");
		jw_u64(w, pdu->vb[up].num.u);
	}
	if (to != UINT32_MAX) {
		JW_LIT(w, ",\"trap_oid\":\"");
		inf->trap_oid.off = jw_off(w);
		jw_oid(w, pdu->vb[to].val, pdu->vb[to].val_len);
		inf->trap_oid.len = jw_off(w) - inf->trap_oid.off;
		JW_LIT(w, "\"");
	}
	jw_trap_name(w, names);
	JW_LIT(w, ",\"varbinds\":[");
	for (uint32_t i = 0; i < pdu->nvb; i++) {
		if (i == up || i == to)
			continue;
		if (!first)
			JW_LIT(w, ",");
		first = 0;
		jw_varbind(w, &pdu->vb[i], big_numbers, vb_names(names, i));
	}
	JW_LIT(w, "]");
}

int st_json_encode(const st_msg_t *msg, const st_json_meta_t *meta, char *out, size_t cap,
                   st_json_info_t *info)
{
	st_jw_t w = {.start = out, .p = out, .end = out + cap};
	st_json_info_t inf;
	const st_pdu_t *pdu = msg->have_pdu ? &msg->pdu : NULL;

	memset(&inf, 0, sizeof(inf));
	if (cap > UINT32_MAX)
		w.end = out + UINT32_MAX; /* spans are 32-bit offsets */

	JW_LIT(&w, "{\"time\":\"");
	jw_time(&w, &meta->time);
	JW_LIT(&w, "\"");
	if (meta->collector) {
		JW_LIT(&w, ",\"collector\":\"");
		jw_text(&w, meta->collector);
		JW_LIT(&w, "\"");
	}
	jw_endpoint(&w, ",\"src_ip\":\"", 11, "\",\"src_port\":", 13, meta->src, &inf.src_ip);
	jw_endpoint(&w, ",\"dst_ip\":\"", 11, "\",\"dst_port\":", 13, meta->dst, NULL);
	if (msg->version == ST_SNMP_V1)
		JW_LIT(&w, ",\"version\":\"v1\"");
	else if (msg->version == ST_SNMP_V2C)
		JW_LIT(&w, ",\"version\":\"v2c\"");
	else
		JW_LIT(&w, ",\"version\":\"v3\"");
	if (pdu) {
		size_t len;
		const char *name = pdu_name(pdu->type, &len);

		JW_LIT(&w, ",\"pdu\":\"");
		jw_put(&w, name, len);
		JW_LIT(&w, "\"");
		if (pdu->type != ST_PDU_TRAPV1) {
			JW_LIT(&w, ",\"request_id\":");
			jw_i64(&w, pdu->request_id);
		}
	}
	if (msg->version == ST_SNMP_V3)
		jw_v3_fields(&w, msg);
	else if (meta->community)
		jw_octets_member(&w, "community", 9, msg->community, msg->community_len);
	if (pdu && pdu->type == ST_PDU_TRAPV1) {
		jw_v1_fields(&w, pdu, meta->names, &inf);
		/* v1 varbinds are never lifted */
		JW_LIT(&w, ",\"varbinds\":[");
		for (uint32_t i = 0; i < pdu->nvb; i++) {
			if (i)
				JW_LIT(&w, ",");
			jw_varbind(&w, &pdu->vb[i], meta->big_numbers, vb_names(meta->names, i));
		}
		JW_LIT(&w, "]");
	} else if (pdu) {
		jw_v2_fields(&w, pdu, meta->big_numbers, meta->names, &inf);
	}
	if (meta->raw) {
		JW_LIT(&w, ",\"raw\":\"");
		jw_hex(&w, meta->raw, meta->raw_len);
		JW_LIT(&w, "\"");
	}
	JW_LIT(&w, "}\n");
	if (w.err)
		return ST_ERR_JSON_SPACE;
	inf.names_omitted = w.names_omitted;
	if (info)
		*info = inf;
	return (int)(w.p - out);
}

/*
 * st_json_bound(len) = 11 * len + 4096. Why this is enough, for a datagram
 * of len bytes, a collector name of at most ST_JSON_COLLECTOR_MAX bytes,
 * meta->raw_len <= len, and (v3 with privacy) a plaintext no longer than
 * the encrypted octets it came from (true of CBC and CFB modes):
 *
 * 1. Constant part: member names, punctuation, time (<= 40 characters even
 *    for absurd years), the two endpoints (<= 46 + 5 each), version, pdu,
 *    request_id, security_level, agent_addr, generic/specific, uptime, the
 *    "_encoding" flags, the generic-trap OID and the collector name escaped
 *    at most 6 characters per byte (<= 1536) add up to well under 2300.
 *
 * 2. Per-message values taken from the datagram (community, user, engine
 *    IDs, context name: at most 2 characters per byte, as escaped text or
 *    hex; the enterprise OID written twice in v1, as enterprise and inside
 *    trap_oid: 2 * 4 characters per content byte, st_fmt_oid's bound) all
 *    stay within 9 characters per byte of the TLVs that carry them.
 *
 * 3. A varbind of n OID octets and m value octets takes at least
 *    D = 6 + n + m datagram bytes (two headers of 2 bytes, the value's tag
 *    and length). Its JSON, comma included, is 30 + 4n + T + V characters
 *    (T the type name, V the value), plus 17 for ,"encoding":"hex". Against
 *    9D = 54 + 9n + 9m: NoSuchInstance 48 + 4n; Integer32/Counter64 at most
 *    59 + 4n with m >= 1; a Counter64 written as a string (big_numbers,
 *    value >= 2^53, so m >= 7) 61 + 4n; IpAddress 56 + 4n with m = 4;
 *    ObjectIdentifier 48 + 4n + 4m; OctetString as text 43 + 4n + 2m;
 *    OctetString as text with N >= 1 trailing NULs trimmed (so m >= 2)
 *    43 + 4n + 2(m - N), plus ,"nul_padding":N of 15 + digits(N) <= 15 + m,
 *    in all at most 56 + 4n + 3m; OctetString as hex 60 + 4n + 2m with
 *    m >= 1 (an empty string is printable); Opaque 55 + 4n + 2m. Each is
 *    below 9D given n >= 1. A lifted uptime or trap_oid is shorter than
 *    the varbind it replaces.
 *
 * 4. raw: 2 * len.
 *
 * Parts 2 and 3 cover disjoint byte ranges of the datagram, so together
 * they are at most 9 * len; with 4 and 1 the line is at most
 * 11 * len + 2300 < 11 * len + 4096. The fuzz target checks this on every
 * input it decodes.
 *
 * Names (meta->names) add to that, and st_json_bound_names() adds
 * ST_JSON_NAMES_BOUND(bytes, nvb) = 6 * bytes + 48 * nvb + 64, where bytes
 * is the sum of every annotation's length. Each annotation byte becomes at
 * most 6 characters (\u00XX for a control character; a byte of a
 * multi-byte UTF-8 character is copied; text that is not UTF-8 is left
 * out). Around the text: ,"trap_name":"" is 15 characters (<= 64, once);
 * per varbind ,"name":" plus the quote it shares with "type" is 10,
 * ,"enum":"" 11, ,"display":"" 13, and ,"bits":[] 10 plus, for k >= 1
 * words in bits_len bytes, 2k quotes and k - 1 commas while the k - 1
 * separating spaces write nothing: 6 (bits_len - (k - 1)) + 3k - 1 <=
 * 6 bits_len + 2 characters, so 12 + 6 bits_len in all. 10 + 11 + 13 + 12
 * = 46 <= 48 per varbind, whether it is written or lifted.
 */
size_t st_json_bound(size_t dgram_len)
{
	if (dgram_len > (SIZE_MAX - 4096) / 11)
		return SIZE_MAX;
	return 11 * dgram_len + 4096;
}

size_t st_json_bound_names(size_t dgram_len, const st_json_names_t *names)
{
	size_t b = st_json_bound(dgram_len), extra;

	if (!names)
		return b;
	if (names->bytes > SIZE_MAX / 16 || names->nvb > SIZE_MAX / 128)
		return SIZE_MAX;
	extra = ST_JSON_NAMES_BOUND(names->bytes, names->nvb);
	return b > SIZE_MAX - extra ? SIZE_MAX : b + extra;
}
