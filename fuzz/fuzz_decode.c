/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_decode.c - libFuzzer target for the codec's untrusted-input path.
 *
 * Every datagram the collector receives goes through st_snmp_decode() and,
 * when it decodes, st_json_encode(); informs also get a Response. This
 * target runs exactly that chain on arbitrary bytes and turns every promise
 * of the header into a crash when broken:
 *
 *  - decoded OIDs are valid (st_oid_check) and format without error;
 *  - the JSON line fits in st_json_bound(len) bytes (the buffer is
 *    allocated at exactly that size, so ASan also catches a write past it),
 *    ends in '\n', has no other newline and is valid JSON (checked by the
 *    small strict parser below: jansson is not linked into fuzz targets);
 *  - a Response to a v1/v2c inform is no longer than the inform, decodes,
 *    and echoes community, request-id and variable bindings;
 *  - a v3 message with the priv flag has its "encrypted" octets decoded as
 *    if they were plaintext (a fuzzer cannot encrypt), and a v3 plaintext
 *    inform is answered through st_snmp_encode_scoped/_v3 and read back;
 *  - with MIB translation on (st_mib_translate over a small MIB written at
 *    start: enumerations, BITS, DISPLAY-HINTs for strings and integers, a
 *    table, a NOTIFICATION-TYPE and an SMIv1 TRAP-TYPE; ST_FUZZ_MIB_DIRS,
 *    DIR:DIR, adds e.g. the standard set), names.bytes is the sum of the
 *    annotations, the line fits in st_json_bound_names() bytes (allocated
 *    at exactly that size) and is valid JSON, names translated into a small
 *    arena stay within it (enumeration labels included), and names with
 *    nothing in them leave the line byte for byte as without.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st_codec.h"
#include "st_mib.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* ------------------------------------------------------------------ */
/* A strict JSON syntax checker (RFC 8259), enough for our lines       */
/* ------------------------------------------------------------------ */

typedef struct {
	const char *p, *end;
	int depth;
} jp_t;

static int jp_value(jp_t *j);

static void jp_ws(jp_t *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_lit(jp_t *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

/* string: escapes must be valid, raw bytes < 0x20 are not allowed, and the
 * bytes must be valid UTF-8 (a JSON text is UTF-8, RFC 8259 section 8.1) */
static int jp_string(jp_t *j)
{
	if (j->p >= j->end || *j->p != '"')
		return 0;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++j->p >= j->end)
				return 0;
			switch (*j->p) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				j->p++;
				break;
			case 'u':
				if (j->end - j->p < 5)
					return 0;
				for (int i = 1; i <= 4; i++) {
					char h = j->p[i];

					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return 0;
				}
				j->p += 5;
				break;
			default:
				return 0;
			}
			continue;
		}
		if (c < 0x80) {
			j->p++;
			continue;
		}
		{
			/* one UTF-8 sequence; st_json_printable's rules are stricter */
			size_t n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;

			if (n == 0 || c > 0xf4 || (size_t)(j->end - j->p) <= n)
				return 0;
			for (size_t k = 1; k <= n; k++)
				if (((unsigned char)j->p[k] & 0xc0) != 0x80)
					return 0;
			j->p += n + 1;
		}
	}
	return 0;
}

static int jp_number(jp_t *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return 0;
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
		return 0; /* leading zero */
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	/* our encoder only writes integers */
	return j->p > s;
}

static int jp_container(jp_t *j, char open, char close)
{
	int first = 1;

	if (++j->depth > 8)
		return 0;
	j->p++; /* open */
	(void)open;
	for (;;) {
		jp_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 1;
		}
		if (!first) {
			if (j->p >= j->end || *j->p != ',')
				return 0;
			j->p++;
			jp_ws(j);
		}
		first = 0;
		if (close == '}') {
			if (!jp_string(j))
				return 0;
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return 0;
			j->p++;
			jp_ws(j);
		}
		if (!jp_value(j))
			return 0;
	}
}

static int jp_value(jp_t *j)
{
	if (j->p >= j->end)
		return 0;
	switch (*j->p) {
	case '{':
		return jp_container(j, '{', '}');
	case '[':
		return jp_container(j, '[', ']');
	case '"':
		return jp_string(j);
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	case 'n':
		return jp_lit(j, "null");
	default:
		return jp_number(j);
	}
}

static int json_line_valid(const char *s, size_t len)
{
	jp_t j = {s, s + len - 1, 0}; /* without the final '\n' */

	if (len == 0 || s[len - 1] != '\n' || memchr(s, '\n', len - 1))
		return 0;
	if (*s != '{' || !jp_value(&j))
		return 0;
	return j.p == j.end;
}

/* ------------------------------------------------------------------ */
/* Checks                                                             */
/* ------------------------------------------------------------------ */

static st_msg_t msg, back;

static void check_oids(const st_msg_t *m)
{
	char s[ST_OID_STR_MAX];

	if (!m->have_pdu)
		return;
	for (uint32_t i = 0; i < m->pdu.nvb; i++) {
		const st_varbind_t *vb = &m->pdu.vb[i];

		CHECK(st_oid_check(vb->oid, vb->oid_len) == 0);
		CHECK(st_oid_format(vb->oid, vb->oid_len, s, sizeof(s)) > 0);
		if (vb->type == ST_BER_OID)
			CHECK(st_oid_format(vb->val, vb->val_len, s, sizeof(s)) > 0);
		if (vb->type == ST_BER_IPADDR)
			CHECK(vb->val_len == 4);
	}
	if (m->pdu.type == ST_PDU_TRAPV1)
		CHECK(st_oid_check(m->pdu.enterprise, m->pdu.enterprise_len) == 0);
}

static void check_json(const st_msg_t *m, const uint8_t *data, size_t size)
{
	/* exercise both address families and the escaper of the collector name */
	static const char collector[] = "fuzz \"st\"\\\x01\t";
	struct sockaddr_in6 s6;
	struct sockaddr_in d4;
	st_json_meta_t meta = {
	        .time = {(time_t)size * 1000003, (long)(size * 7919 % 1000000000)},
	        .collector = collector,
	        .src = (const struct sockaddr *)&s6,
	        .dst = (const struct sockaddr *)&d4,
	        .community = (int)(size & 1),
	        .raw = (size & 2) ? data : NULL,
	        .raw_len = size,
	};
	st_json_info_t info;
	size_t bound = st_json_bound(size);
	char *out = malloc(bound);
	int n;

	CHECK(out != NULL);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(161);
	if (size > 16)
		memcpy(&s6.sin6_addr, data + size - 16, 16);
	memset(&d4, 0, sizeof(d4));
	d4.sin_family = AF_INET;
	d4.sin_port = htons(162);
	d4.sin_addr.s_addr = htonl(0xc000020a);

	n = st_json_encode(m, &meta, out, bound, &info);
	CHECK(n > 0);
	CHECK((size_t)n <= bound);
	CHECK(json_line_valid(out, (size_t)n));
	CHECK(info.src_ip.len > 0 && info.src_ip.off + info.src_ip.len < (uint32_t)n);
	CHECK(info.agent_addr.off + info.agent_addr.len < (uint32_t)n);
	CHECK(info.trap_oid.off + info.trap_oid.len < (uint32_t)n);
	free(out);
}

/* ------------------------------------------------------------------ */
/* MIB translation                                                    */
/* ------------------------------------------------------------------ */

/* Self-contained modules (rooted at iso, no imports), so the target needs
 * no MIB files; their OIDs are what make-corpus's translate seeds use. */
static const char FUZZ_MIB[] =
        "FUZZ-MIB DEFINITIONS ::= BEGIN\n"
        "fz OBJECT IDENTIFIER ::= { iso 3 6 1 4 1 99993 }\n"
        "FzMac ::= TEXTUAL-CONVENTION\n DISPLAY-HINT \"1x:\"\n STATUS current\n"
        " DESCRIPTION \"MAC.\"\n SYNTAX OCTET STRING (SIZE (6))\n"
        "FzDate ::= TEXTUAL-CONVENTION\n DISPLAY-HINT \"2d-1d-1d,1d:1d:1d.1d,1a1d:1d\"\n"
        " STATUS current\n DESCRIPTION \"Date.\"\n SYNTAX OCTET STRING (SIZE (8 | 11))\n"
        "FzTenths ::= TEXTUAL-CONVENTION\n DISPLAY-HINT \"d-1\"\n STATUS current\n"
        " DESCRIPTION \"Tenths.\"\n SYNTAX INTEGER\n"
        "FzText ::= TEXTUAL-CONVENTION\n DISPLAY-HINT \"255a\"\n STATUS current\n"
        " DESCRIPTION \"Text.\"\n SYNTAX OCTET STRING (SIZE (0..255))\n"
        "fzTable OBJECT-TYPE\n SYNTAX SEQUENCE OF FzEntry\n MAX-ACCESS not-accessible\n"
        " STATUS current\n DESCRIPTION \"Table.\"\n ::= { fz 1 }\n"
        "fzEntry OBJECT-TYPE\n SYNTAX FzEntry\n MAX-ACCESS not-accessible\n STATUS current\n"
        " DESCRIPTION \"Row.\"\n INDEX { fzIndex }\n ::= { fzTable 1 }\n"
        "FzEntry ::= SEQUENCE { fzIndex INTEGER, fzState INTEGER, fzFlags BITS,\n"
        " fzMac FzMac, fzDate FzDate, fzLevel FzTenths, fzText FzText }\n"
        "fzIndex OBJECT-TYPE\n SYNTAX INTEGER (1..2147483647)\n MAX-ACCESS read-only\n"
        " STATUS current\n DESCRIPTION \"Index.\"\n ::= { fzEntry 1 }\n"
        "fzState OBJECT-TYPE\n SYNTAX INTEGER { idle(1), busy(2), broken(-3) }\n"
        " MAX-ACCESS read-only\n STATUS current\n DESCRIPTION \"State.\"\n ::= { fzEntry 2 }\n"
        "fzFlags OBJECT-TYPE\n SYNTAX BITS { red(0), green(1), blue(2), spare(9) }\n"
        " MAX-ACCESS read-only\n STATUS current\n DESCRIPTION \"Flags.\"\n ::= { fzEntry 3 }\n"
        "fzMac OBJECT-TYPE\n SYNTAX FzMac\n MAX-ACCESS read-only\n STATUS current\n"
        " DESCRIPTION \"MAC.\"\n ::= { fzEntry 4 }\n"
        "fzDate OBJECT-TYPE\n SYNTAX FzDate\n MAX-ACCESS read-only\n STATUS current\n"
        " DESCRIPTION \"Date.\"\n ::= { fzEntry 5 }\n"
        "fzLevel OBJECT-TYPE\n SYNTAX FzTenths\n MAX-ACCESS read-only\n STATUS current\n"
        " DESCRIPTION \"Level.\"\n ::= { fzEntry 6 }\n"
        "fzText OBJECT-TYPE\n SYNTAX FzText\n MAX-ACCESS read-only\n STATUS current\n"
        " DESCRIPTION \"Text.\"\n ::= { fzEntry 7 }\n"
        "fzAlarm NOTIFICATION-TYPE\n OBJECTS { fzState }\n STATUS current\n"
        " DESCRIPTION \"Alarm.\"\n ::= { fz 0 1 }\n"
        "END\n";

static const char FUZZ_V1_MIB[] = "FUZZ-V1-MIB DEFINITIONS ::= BEGIN\n"
                                  "fzV1 OBJECT IDENTIFIER ::= { iso 3 6 1 4 1 99994 }\n"
                                  "fzV1Overheat TRAP-TYPE\n ENTERPRISE fzV1\n"
                                  " DESCRIPTION \"Too hot.\"\n ::= 17\n"
                                  "END\n";

static st_mib_t *mib;
static st_json_vbname_t vbnames[ST_SNMP_MAX_VARBINDS];
static char arena[256 * 1024];

static void write_module(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/tmp/fuzz-mib-XXXXXX", path[600], err[512];
	const char *extra = getenv("ST_FUZZ_MIB_DIRS");
	char *copy = extra ? strdup(extra) : NULL, *save = NULL;
	const char *dirs[34] = {NULL};
	size_t n = 0;
	const uint32_t mac[] = {1, 3, 6, 1, 4, 1, 99993, 1, 1, 4, 7};
	const st_mib_node_t *node;
	size_t suffix;

	(void)argc;
	(void)argv;
	CHECK(mkdtemp(tmpl) != NULL);
	write_module(tmpl, "fuzz.txt", FUZZ_MIB);
	write_module(tmpl, "fuzz-v1.txt", FUZZ_V1_MIB);
	dirs[n++] = tmpl;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && n < 33;
	     d = strtok_r(NULL, ":", &save))
		dirs[n++] = d;
	CHECK(st_mib_load(dirs, NULL, NULL, &mib, NULL, err, sizeof(err)) == 0);
	/* the renderers are reached: the MAC column has its hint */
	node = st_mib_lookup(mib, mac, sizeof(mac) / sizeof(mac[0]), &suffix);
	CHECK(node && suffix == 1 && st_mib_node_hint(mib, node));
	snprintf(path, sizeof(path), "%s/fuzz.txt", tmpl);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fuzz-v1.txt", tmpl);
	unlink(path);
	rmdir(tmpl);
	free(copy);
	return 0;
}

static void check_names(const st_msg_t *m, size_t size)
{
	static st_json_names_t names, empty;
	st_json_meta_t meta = {.collector = "fuzz", .names = &names};
	size_t sum, bound;
	char *out, *plain;
	int n, pn;

	CHECK(st_mib_translate(mib, m, &names, vbnames, ST_SNMP_MAX_VARBINDS, arena,
	                       sizeof(arena)) >= 0);
	sum = names.trap_name_len;
	for (size_t i = 0; i < names.nvb; i++)
		sum += vbnames[i].name_len + vbnames[i].enum_len + vbnames[i].bits_len +
		       vbnames[i].display_len;
	CHECK(names.bytes == sum);
	bound = st_json_bound_names(size, &names);
	out = malloc(bound);
	CHECK(out != NULL);
	n = st_json_encode(m, &meta, out, bound, NULL);
	CHECK(n > 0 && (size_t)n <= bound);
	CHECK(json_line_valid(out, (size_t)n));

	/* a small arena (the budget runs out): the names stay within it,
	 * enumeration labels included, so a buffer sized as the collector
	 * sizes its own (st_json_bound + ST_JSON_NAMES_BOUND(arena, varbinds))
	 * holds the line */
	{
		size_t cap = size % 512, sbound;
		char *sout;
		int sn;

		CHECK(st_mib_translate(mib, m, &names, vbnames, ST_SNMP_MAX_VARBINDS, arena, cap) >=
		      0);
		CHECK(names.bytes <= cap);
		sbound = st_json_bound_names(size, &names);
		CHECK(sbound <=
		      st_json_bound(size) + ST_JSON_NAMES_BOUND(cap, ST_SNMP_MAX_VARBINDS));
		sout = malloc(sbound);
		CHECK(sout != NULL);
		sn = st_json_encode(m, &meta, sout, sbound, NULL);
		CHECK(sn > 0 && (size_t)sn <= sbound && json_line_valid(sout, (size_t)sn));
		free(sout);
	}

	/* names that say nothing: the line as without names */
	plain = malloc(st_json_bound(size));
	CHECK(plain != NULL);
	meta.names = NULL;
	pn = st_json_encode(m, &meta, plain, st_json_bound(size), NULL);
	CHECK(pn > 0 && pn <= n);
	memset(vbnames, 0, sizeof(vbnames[0]) * names.nvb);
	empty = (st_json_names_t){.vb = vbnames, .nvb = names.nvb};
	meta.names = &empty;
	CHECK(st_json_encode(m, &meta, out, bound, NULL) == pn);
	CHECK(memcmp(out, plain, (size_t)pn) == 0);
	free(plain);
	free(out);
}

/* v1/v2c inform: the Response must echo it */
static void check_response(const st_msg_t *m, size_t size)
{
	uint8_t *out = malloc(size);
	int n;

	CHECK(out != NULL);
	n = st_snmp_encode_response(m, out, size);
	/* minimal encodings: never longer than the inform it answers */
	CHECK(n > 0);
	CHECK(st_snmp_decode(out, (size_t)n, &back) == 0);
	CHECK(back.version == m->version);
	CHECK(back.pdu.type == ST_PDU_RESPONSE);
	CHECK(back.pdu.request_id == m->pdu.request_id);
	CHECK(back.pdu.error_status == 0 && back.pdu.error_index == 0);
	CHECK(back.community_len == m->community_len);
	CHECK(m->community_len == 0 || memcmp(back.community, m->community, m->community_len) == 0);
	CHECK(back.pdu.vbl_len == m->pdu.vbl_len);
	CHECK(memcmp(back.pdu.vbl, m->pdu.vbl, m->pdu.vbl_len) == 0);
	CHECK(back.pdu.nvb == m->pdu.nvb);
	free(out);
}

/* v3 inform: answer it the way the collector does and read it back */
static void check_v3_response(const st_msg_t *m)
{
	static uint8_t scoped[70000], out[70100];
	st_v3_out_t v3 = {
	        .msg_id = m->msg_id,
	        .msg_max_size = m->msg_max_size,
	        .msg_flags = 0,
	        .engine_id = m->usm.engine_id,
	        .engine_id_len = m->usm.engine_id_len,
	        .boots = 1,
	        .time = 2,
	        .user = m->usm.user,
	        .user_len = m->usm.user_len,
	};
	int sn, n;

	sn = st_snmp_encode_scoped(m->context_engine_id, m->context_engine_id_len, m->context_name,
	                           m->context_name_len, ST_PDU_RESPONSE, m->pdu.request_id,
	                           m->pdu.vbl, m->pdu.vbl_len, scoped, sizeof(scoped));
	CHECK(sn > 0);
	v3.scoped = scoped;
	v3.scoped_len = (size_t)sn;
	n = st_snmp_encode_v3(&v3, out, sizeof(out), NULL);
	CHECK(n > 0);
	CHECK(st_snmp_decode(out, (size_t)n, &back) == 0);
	CHECK(back.have_pdu && back.pdu.type == ST_PDU_RESPONSE);
	CHECK(back.msg_id == m->msg_id);
	CHECK(back.pdu.request_id == m->pdu.request_id);
	CHECK(back.pdu.vbl_len == m->pdu.vbl_len);
	CHECK(memcmp(back.pdu.vbl, m->pdu.vbl, m->pdu.vbl_len) == 0);
	CHECK(back.usm.user_len == m->usm.user_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (st_snmp_decode(data, size, &msg) != 0)
		return 0;
	CHECK(msg.version == ST_SNMP_V1 || msg.version == ST_SNMP_V2C || msg.version == ST_SNMP_V3);
	check_oids(&msg);
	check_json(&msg, data, size);
	check_names(&msg, size);

	if (msg.have_pdu && msg.pdu.type == ST_PDU_INFORM) {
		if (msg.version == ST_SNMP_V3)
			check_v3_response(&msg);
		else
			check_response(&msg, size);
	}
	if (msg.version == ST_SNMP_V3 && (msg.msg_flags & ST_MSGFLAG_PRIV)) {
		CHECK(!msg.have_pdu);
		if (st_snmp_decode_scoped(msg.encrypted, msg.encrypted_len, &msg) == 0) {
			CHECK(msg.have_pdu);
			check_oids(&msg);
			check_json(&msg, data, size);
			check_names(&msg, size);
		}
	}
	return 0;
}
