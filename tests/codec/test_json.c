/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_json.c - the JSON line encoder. Every line written here is parsed
 * back with jansson and compared value by value with what went in.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder.h"
#include "captures.h"
#include "st_codec.h"

static st_msg_t msg;
static tb_t bld;
static char line[1 << 20];
static struct sockaddr_in src4, dst4;

/* 2026-11-21T10:00:00.123456789Z, st-1, 192.0.2.7:50123 -> 192.0.2.10:162 */
static st_json_meta_t default_meta(void)
{
	st_json_meta_t meta = {
	        .time = {1795255200, 123456789},
	        .collector = "st-1",
	        .src = (const struct sockaddr *)&src4,
	        .dst = (const struct sockaddr *)&dst4,
	        .community = 1,
	};

	memset(&src4, 0, sizeof(src4));
	src4.sin_family = AF_INET;
	src4.sin_port = htons(50123);
	inet_pton(AF_INET, "192.0.2.7", &src4.sin_addr);
	memset(&dst4, 0, sizeof(dst4));
	dst4.sin_family = AF_INET;
	dst4.sin_port = htons(162);
	inet_pton(AF_INET, "192.0.2.10", &dst4.sin_addr);
	return meta;
}

/* Encode, check the line shape, parse it. flags: jansson decode flags. */
static json_t *encode_flags(const st_msg_t *m, const st_json_meta_t *meta, st_json_info_t *info,
                            size_t flags, int *len_out)
{
	json_error_t err;
	json_t *root;
	int len = st_json_encode(m, meta, line, sizeof(line), info);

	cr_assert_gt(len, 0, "encode failed: %d", len);
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_null(memchr(line, '\n', (size_t)len - 1), "newline inside the line");
	root = json_loadb(line, (size_t)len, flags, &err);
	cr_assert_not_null(root, "jansson: %s at %d: %.*s", err.text, err.position, len, line);
	cr_assert(json_is_object(root));
	if (len_out)
		*len_out = len;
	return root;
}

static json_t *encode(const st_msg_t *m, const st_json_meta_t *meta, st_json_info_t *info)
{
	return encode_flags(m, meta, info, 0, NULL);
}

static void str_member(json_t *obj, const char *key, const char *want)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_string(v), "%s is not a string", key);
	cr_assert_str_eq(json_string_value(v), want, "%s", key);
}

static void int_member(json_t *obj, const char *key, json_int_t want)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_integer(v), "%s is not an integer", key);
	cr_assert_eq(json_integer_value(v), want, "%s: %lld != %lld", key,
	             (long long)json_integer_value(v), (long long)want);
}

static void absent(json_t *obj, const char *key)
{
	cr_assert_null(json_object_get(obj, key), "%s should be absent", key);
}

/* the keys appear in this order in the text */
static void key_order(const char *const *keys)
{
	const char *prev = line;

	for (size_t i = 0; keys[i]; i++) {
		char pat[64];
		const char *at;

		snprintf(pat, sizeof(pat), "\"%s\":", keys[i]);
		at = strstr(line, pat);
		cr_assert_not_null(at, "%s missing", keys[i]);
		cr_assert_gt(at, prev, "%s out of order", keys[i]);
		prev = at;
	}
}

static json_t *varbind(json_t *root, size_t i, const char *oid, const char *type)
{
	json_t *vbs = json_object_get(root, "varbinds");
	json_t *vb;

	cr_assert(json_is_array(vbs));
	vb = json_array_get(vbs, i);
	cr_assert(json_is_object(vb), "varbind %zu missing", i);
	str_member(vb, "oid", oid);
	str_member(vb, "type", type);
	return vb;
}

static void span_eq(st_json_span_t span, const char *want)
{
	cr_assert_eq(span.len, strlen(want));
	cr_assert_eq(memcmp(line + span.off, want, span.len), 0, "span %.*s != %s", (int)span.len,
	             line + span.off, want);
}

/* ------------------------------------------------------------------ */
/* Captured datagrams                                                 */
/* ------------------------------------------------------------------ */

Test(json, v2c_trap_every_type)
{
	st_json_meta_t meta = default_meta();
	st_json_info_t info;
	json_t *root, *vb;
	static const char *const order[] = {
	        "time",       "collector", "src_ip",   "src_port",   "dst_ip",
	        "dst_port",   "version",   "pdu",      "request_id", "community",
	        "agent_addr", "uptime",    "trap_oid", "varbinds",   NULL,
	};

	cr_assert_eq(st_snmp_decode(cap_v2c_types, sizeof(cap_v2c_types), &msg), 0);
	/* Counter64 max is beyond json_int_t: jansson checks that line with
	 * integers read as reals, the value itself is checked in the text */
	root = encode_flags(&msg, &meta, &info, JSON_DECODE_INT_AS_REAL, NULL);
	json_decref(root);
	cr_assert_not_null(strstr(line,
	                          "{\"oid\":\"1.3.6.1.2.1.31.1.1.1.6.7\",\"type\":\"Counter64\","
	                          "\"value\":18446744073709551615}]"));
	span_eq(info.src_ip, "192.0.2.7");
	span_eq(info.agent_addr, "192.0.2.99");
	span_eq(info.trap_oid, "1.3.6.1.6.3.1.1.5.3");

	/* everything else exactly, without the last (Counter64) varbind */
	msg.pdu.nvb--;
	root = encode(&msg, &meta, &info);
	key_order(order);
	str_member(root, "time", "2026-11-21T10:00:00.123456Z");
	str_member(root, "collector", "st-1");
	str_member(root, "src_ip", "192.0.2.7");
	int_member(root, "src_port", 50123);
	str_member(root, "dst_ip", "192.0.2.10");
	int_member(root, "dst_port", 162);
	str_member(root, "version", "v2c");
	str_member(root, "pdu", "trap");
	int_member(root, "request_id", 278898776);
	str_member(root, "community", "public");
	str_member(root, "agent_addr", "192.0.2.99");
	int_member(root, "uptime", 15010);
	str_member(root, "trap_oid", "1.3.6.1.6.3.1.1.5.3");
	absent(root, "raw");
	absent(root, "enterprise");
	absent(root, "user");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 9);

	vb = varbind(root, 0, "1.3.6.1.2.1.2.2.1.1.7", "Integer32");
	int_member(vb, "value", INT32_MIN);
	vb = varbind(root, 1, "1.3.6.1.2.1.2.2.1.5.7", "Gauge32");
	int_member(vb, "value", 4294967295LL);
	vb = varbind(root, 2, "1.3.6.1.2.1.2.2.1.10.7", "Counter32");
	int_member(vb, "value", 3000000000LL);
	vb = varbind(root, 3, "1.3.6.1.2.1.2.2.1.9.7", "TimeTicks");
	int_member(vb, "value", 0);
	/* snmpTrapAddress.0 stays among the varbinds */
	vb = varbind(root, 4, "1.3.6.1.6.3.18.1.3.0", "IpAddress");
	str_member(vb, "value", "192.0.2.99");
	vb = varbind(root, 5, "1.3.6.1.2.1.1.2.0", "ObjectIdentifier");
	str_member(vb, "value", "1.3.6.1.4.1.8072.3.2.10");
	vb = varbind(root, 6, "1.3.6.1.2.1.2.2.1.2.7", "OctetString");
	str_member(vb, "value", "Gi0/7 \"up\"\\");
	absent(vb, "encoding");
	vb = varbind(root, 7, "1.3.6.1.2.1.2.2.1.6.7", "OctetString");
	str_member(vb, "value", "0011223344ff");
	str_member(vb, "encoding", "hex");
	vb = varbind(root, 8, "1.3.6.1.2.1.1.5.0", "Null");
	cr_assert(json_is_null(json_object_get(vb, "value")));
	json_decref(root);
	span_eq(info.src_ip, "192.0.2.7");
	span_eq(info.agent_addr, "192.0.2.99");
	span_eq(info.trap_oid, "1.3.6.1.6.3.1.1.5.3");
}

Test(json, v1_generic_trap)
{
	st_json_meta_t meta = default_meta();
	st_json_info_t info;
	json_t *root, *vb;
	static const char *const order[] = {
	        "time",       "collector",    "src_ip",        "src_port",  "dst_ip",
	        "dst_port",   "version",      "pdu",           "community", "enterprise",
	        "agent_addr", "generic_trap", "specific_trap", "uptime",    "trap_oid",
	        "varbinds",   NULL,
	};

	cr_assert_eq(st_snmp_decode(cap_v1_generic, sizeof(cap_v1_generic), &msg), 0);
	root = encode(&msg, &meta, &info);
	key_order(order);
	str_member(root, "version", "v1");
	str_member(root, "pdu", "trap");
	absent(root, "request_id");
	str_member(root, "community", "public");
	str_member(root, "enterprise", "1.3.6.1.4.1.8072.2.3");
	str_member(root, "agent_addr", "192.0.2.7");
	int_member(root, "generic_trap", 3);
	int_member(root, "specific_trap", 0);
	int_member(root, "uptime", 12345);
	/* linkUp: generic 3 -> 1.3.6.1.6.3.1.1.5.4 */
	str_member(root, "trap_oid", "1.3.6.1.6.3.1.1.5.4");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 2);
	vb = varbind(root, 0, "1.3.6.1.2.1.2.2.1.1.7", "Integer32");
	int_member(vb, "value", 7);
	vb = varbind(root, 1, "1.3.6.1.2.1.2.2.1.2.7", "OctetString");
	str_member(vb, "value", "Gi0/7");
	span_eq(info.agent_addr, "192.0.2.7");
	span_eq(info.trap_oid, "1.3.6.1.6.3.1.1.5.4");
	json_decref(root);
}

Test(json, v1_specific_trap)
{
	st_json_meta_t meta = default_meta();
	json_t *root;

	cr_assert_eq(st_snmp_decode(cap_v1_specific, sizeof(cap_v1_specific), &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "enterprise", "1.3.6.1.4.1.9.9.41.2");
	str_member(root, "agent_addr", "10.1.2.3");
	int_member(root, "generic_trap", 6);
	int_member(root, "specific_trap", 17);
	int_member(root, "uptime", 987654);
	str_member(root, "trap_oid", "1.3.6.1.4.1.9.9.41.2.0.17");
	str_member(varbind(root, 0, "1.3.6.1.4.1.9.9.41.1.2.3.1.5.1", "OctetString"), "value",
	           "LINK-3-UPDOWN");
	json_decref(root);
}

Test(json, v2c_inform_and_opaque)
{
	st_json_meta_t meta = default_meta();
	json_t *root, *vb;

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "pdu", "inform");
	int_member(root, "request_id", 299876523);
	str_member(root, "community", "private");
	int_member(root, "uptime", 777);
	str_member(root, "trap_oid", "1.3.6.1.6.3.1.1.5.4");
	absent(root, "agent_addr");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 4);
	str_member(varbind(root, 3, "1.3.6.1.2.1.2.2.1.2.3", "OctetString"), "value", "eth2");
	json_decref(root);

	cr_assert_eq(st_snmp_decode(cap_v2c_opaque, sizeof(cap_v2c_opaque), &msg), 0);
	root = encode(&msg, &meta, NULL);
	vb = varbind(root, 0, "1.3.6.1.4.1.8072.2.3.2.1", "Opaque");
	str_member(vb, "value", "9f7a088000000000000000");
	str_member(vb, "encoding", "hex");
	int_member(varbind(root, 1, "1.3.6.1.4.1.8072.2.3.2.2", "Integer32"), "value", INT32_MAX);
	json_decref(root);
}

Test(json, pysnmp_utf8_string)
{
	st_json_meta_t meta = default_meta();
	json_t *root, *vb;

	cr_assert_eq(st_snmp_decode(cap_pysnmp_v2c, sizeof(cap_pysnmp_v2c), &msg), 0);
	root = encode(&msg, &meta, NULL);
	int_member(root, "uptime", 0);
	vb = varbind(root, 1, "1.3.6.1.2.1.2.2.1.2.2", "OctetString");
	str_member(vb, "value", "eth1 \xc3\xa9t\xc3\xa9");
	absent(vb, "encoding");
	int_member(varbind(root, 3, "1.3.6.1.2.1.31.1.1.1.6.2", "Counter64"), "value",
	           (1LL << 40) + 5);
	json_decref(root);
}

Test(json, v3_fields)
{
	st_json_meta_t meta = default_meta();
	json_t *root;
	static const char *const order[] = {
	        "time",         "version",        "pdu",       "request_id",
	        "user",         "security_level", "engine_id", "context_engine_id",
	        "context_name", "uptime",         "trap_oid",  "varbinds",
	        NULL,
	};

	cr_assert_eq(st_snmp_decode(cap_v3_noauth, sizeof(cap_v3_noauth), &msg), 0);
	root = encode(&msg, &meta, NULL);
	key_order(order);
	str_member(root, "version", "v3");
	str_member(root, "pdu", "trap");
	int_member(root, "request_id", 1675745873);
	absent(root, "community"); /* v3 has none, whatever meta says */
	str_member(root, "user", "bob");
	str_member(root, "security_level", "noAuthNoPriv");
	str_member(root, "engine_id", "8000000001020304");
	str_member(root, "context_engine_id", "80001f888067a22d54699c016b00000000");
	str_member(root, "context_name", "");
	int_member(root, "uptime", 123456);
	str_member(root, "trap_oid", "1.3.6.1.6.3.1.1.5.1");
	str_member(varbind(root, 0, "1.3.6.1.2.1.1.5.0", "OctetString"), "value", "router1");
	json_decref(root);
}

Test(json, v3_security_levels_and_context)
{
	/* VarBindList { sysUpTime.0 = TimeTicks 5, snmpTrapOID.0 = coldStart } */
	static const uint8_t vbl[] = {
	        0x30, 0x28,                                  /* SEQUENCE */
	        0x30, 0x0d,                                  /*   SEQUENCE */
	        0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 3, 0,       /*     OID 1.3.6.1.2.1.1.3.0 */
	        0x43, 0x01, 5,                               /*     TimeTicks 5 */
	        0x30, 0x17,                                  /*   SEQUENCE */
	        0x06, 0x0a, 0x2b, 6, 1, 6, 3, 1, 1, 4, 1, 0, /*     OID 1.3.6.1.6.3.1.1.4.1.0 */
	        0x06, 0x09, 0x2b, 6, 1, 6, 3, 1, 1, 5, 1,    /*     OID 1.3.6.1.6.3.1.1.5.1 */
	};
	static const uint8_t eng[] = {0x80, 0x00, 0x1f, 0x88, 0x04, 0xde, 0xad};
	static const struct {
		uint8_t flags;
		const char *level;
	} cases[] = {
	        {ST_MSGFLAG_AUTH, "authNoPriv"},
	        {ST_MSGFLAG_AUTH | ST_MSGFLAG_PRIV, "authPriv"},
	        {ST_MSGFLAG_REPORTABLE, "noAuthNoPriv"},
	};
	st_json_meta_t meta = default_meta();
	uint8_t scoped[256], out[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* a context name with a quote and one that is not UTF-8 */
		const char *ctx = i == 0 ? "vrf \"red\"" : "\xff\x01";
		size_t ctx_len = strlen(ctx);
		int sn = st_snmp_encode_scoped(eng, sizeof(eng), (const uint8_t *)ctx, ctx_len,
		                               ST_PDU_INFORM, -5, vbl, sizeof(vbl), scoped,
		                               sizeof(scoped));
		st_v3_out_t v3 = {
		        .msg_id = 1,
		        .msg_max_size = 1500,
		        .msg_flags = cases[i].flags,
		        .engine_id = eng,
		        .engine_id_len = sizeof(eng),
		        .boots = 1,
		        .time = 2,
		        .user = (const uint8_t *)"op\\er",
		        .user_len = 5,
		        .auth_len = 12,
		        .scoped = scoped,
		        .scoped_len = (size_t)sn,
		};
		int n = st_snmp_encode_v3(&v3, out, sizeof(out), NULL);
		json_t *root;

		cr_assert_gt(n, 0);
		cr_assert_eq(st_snmp_decode(out, (size_t)n, &msg), 0);
		if (cases[i].flags & ST_MSGFLAG_PRIV) {
			/* before decryption: header fields only */
			root = encode(&msg, &meta, NULL);
			str_member(root, "security_level", "authPriv");
			str_member(root, "user", "op\\er");
			absent(root, "pdu");
			absent(root, "varbinds");
			absent(root, "context_name");
			json_decref(root);
			cr_assert_eq(st_snmp_decode_scoped(msg.encrypted, msg.encrypted_len, &msg),
			             0);
		}
		root = encode(&msg, &meta, NULL);
		str_member(root, "security_level", cases[i].level);
		str_member(root, "user", "op\\er");
		str_member(root, "engine_id", "80001f8804dead");
		str_member(root, "context_engine_id", "80001f8804dead");
		str_member(root, "pdu", "inform");
		int_member(root, "request_id", -5);
		int_member(root, "uptime", 5);
		str_member(root, "trap_oid", "1.3.6.1.6.3.1.1.5.1");
		cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 0);
		if (i == 0) {
			str_member(root, "context_name", "vrf \"red\"");
			absent(root, "context_name_encoding");
		} else {
			str_member(root, "context_name", "ff01");
			str_member(root, "context_name_encoding", "hex");
		}
		json_decref(root);
	}
}

Test(json, v3_encrypted_capture_header_only)
{
	st_json_meta_t meta = default_meta();
	json_t *root;

	cr_assert_eq(st_snmp_decode(cap_v3_authpriv, sizeof(cap_v3_authpriv), &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "version", "v3");
	str_member(root, "user", "alice");
	str_member(root, "security_level", "authPriv");
	str_member(root, "engine_id", "80001f8880aabbccdd");
	absent(root, "pdu");
	absent(root, "varbinds");
	json_decref(root);
}

/* ------------------------------------------------------------------ */
/* Options and metadata                                               */
/* ------------------------------------------------------------------ */

Test(json, community_on_off)
{
	st_json_meta_t meta = default_meta();
	json_t *root;

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg), 0);
	meta.community = 0;
	root = encode(&msg, &meta, NULL);
	absent(root, "community");
	cr_assert_null(strstr(line, "private"));
	json_decref(root);
	meta.community = 1;
	root = encode(&msg, &meta, NULL);
	str_member(root, "community", "private");
	json_decref(root);
}

Test(json, non_utf8_community_is_hex)
{
	const uint8_t *m;
	size_t n;
	st_json_meta_t meta = default_meta();
	json_t *root;

	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "pub\xc0\xafx", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "community", "707562c0af78");
	str_member(root, "community_encoding", "hex");
	json_decref(root);
}

Test(json, raw_is_hex_of_datagram)
{
	st_json_meta_t meta = default_meta();
	json_t *root;
	char want[2 * sizeof(cap_v1_generic) + 1];

	for (size_t i = 0; i < sizeof(cap_v1_generic); i++)
		snprintf(want + 2 * i, 3, "%02x", cap_v1_generic[i]);
	cr_assert_eq(st_snmp_decode(cap_v1_generic, sizeof(cap_v1_generic), &msg), 0);
	meta.raw = cap_v1_generic;
	meta.raw_len = sizeof(cap_v1_generic);
	root = encode(&msg, &meta, NULL);
	str_member(root, "raw", want);
	/* raw is the last member */
	cr_assert_not_null(strstr(line, "\"raw\":\""));
	cr_assert_eq(strstr(line, want)[strlen(want) + 1], '}');
	json_decref(root);
}

Test(json, ipv6_and_mapped_addresses)
{
	st_json_meta_t meta = default_meta();
	struct sockaddr_in6 s6, d6;
	st_json_info_t info;
	json_t *root;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr);
	memset(&d6, 0, sizeof(d6));
	d6.sin6_family = AF_INET6;
	d6.sin6_port = htons(1162);
	inet_pton(AF_INET6, "::ffff:192.0.2.10", &d6.sin6_addr);
	meta.src = (const struct sockaddr *)&s6;
	meta.dst = (const struct sockaddr *)&d6;
	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg), 0);
	root = encode(&msg, &meta, &info);
	str_member(root, "src_ip", "2001:db8::7");
	int_member(root, "src_port", 40000);
	str_member(root, "dst_ip", "192.0.2.10");
	int_member(root, "dst_port", 1162);
	span_eq(info.src_ip, "2001:db8::7");
	json_decref(root);

	/* no addresses at all: the members are left out */
	meta.src = NULL;
	meta.dst = NULL;
	meta.collector = NULL;
	root = encode(&msg, &meta, &info);
	absent(root, "src_ip");
	absent(root, "src_port");
	absent(root, "dst_ip");
	absent(root, "collector");
	cr_assert_eq(info.src_ip.len, 0);
	json_decref(root);
}

/* RFC 5952 text, checked against glibc's inet_ntop (which agrees except for
 * ::/96 addresses, where it prints a dotted tail; those are skipped). */
Test(json, ipv6_text_matches_inet_ntop)
{
	st_json_meta_t meta = default_meta();
	struct sockaddr_in6 s6;

	srand(5952);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	meta.src = (const struct sockaddr *)&s6;
	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg), 0);
	for (int iter = 0; iter < 5000; iter++) {
		uint16_t g[8];
		char want[INET6_ADDRSTRLEN];
		json_t *root;

		/* mostly zero groups, so that runs of every length and position occur */
		for (int i = 0; i < 8; i++)
			g[i] = (rand() % 3)
			               ? 0
			               : (uint16_t)(rand() % 3 ? rand() & 0xffff : rand() & 0xf);
		for (int i = 0; i < 8; i++) {
			s6.sin6_addr.s6_addr[2 * i] = (uint8_t)(g[i] >> 8);
			s6.sin6_addr.s6_addr[2 * i + 1] = (uint8_t)g[i];
		}
		if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 &&
		    (g[5] == 0 || g[5] == 0xffff) && (g[6] != 0 || g[7] > 1))
			continue; /* ::a.b.c.d and ::ffff:a.b.c.d */
		inet_ntop(AF_INET6, &s6.sin6_addr, want, sizeof(want));
		root = encode(&msg, &meta, NULL);
		str_member(root, "src_ip", want);
		json_decref(root);
	}
}

/* The time against gmtime_r + strftime. */
Test(json, time_is_rfc3339_utc)
{
	st_json_meta_t meta = default_meta();
	static const time_t fixed[] = {0, 951782400 /* 2000-02-29 */,
	                               4107542399 /* 2100-02-28 23:59:59 */,
	                               253402300799 /* 9999-12-31 23:59:59 */, 1795255200};

	cr_assert_eq(st_snmp_decode(cap_v2c_inform, sizeof(cap_v2c_inform), &msg), 0);
	srand(3339);
	for (int iter = 0; iter < 2000; iter++) {
		char want[64], frac[32];
		struct tm tm;
		json_t *root;

		if (iter < (int)(sizeof(fixed) / sizeof(fixed[0])))
			meta.time.tv_sec = fixed[iter];
		else
			meta.time.tv_sec = (time_t)(((uint64_t)rand() << 20 ^ (uint64_t)rand()) %
			                            253402300800ull);
		meta.time.tv_nsec = rand() % 1000000000;
		gmtime_r(&meta.time.tv_sec, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(frac, sizeof(frac), ".%06ldZ", meta.time.tv_nsec / 1000);
		strcat(want, frac);
		root = encode(&msg, &meta, NULL);
		str_member(root, "time", want);
		json_decref(root);
	}
}

/* ------------------------------------------------------------------ */
/* Strings                                                            */
/* ------------------------------------------------------------------ */

Test(json, printable_rules)
{
	static const struct {
		const char *s;
		size_t len;
		int printable;
	} cases[] = {
	        {"", 0, 1},
	        {"plain text", 10, 1},
	        {"tab\tlf\ncr\r", 10, 1},
	        {"quote\" back\\", 12, 1},
	        {"\x01", 1, 0}, /* SOH */
	        {"\x1f", 1, 0}, /* US */
	        {"a\x00"
	         "b",
	         3, 0},                     /* NUL */
	        {"\x7f", 1, 0},             /* DEL */
	        {"\xc2\x80", 2, 0},         /* U+0080, a C1 control */
	        {"\xc2\x9f", 2, 0},         /* U+009F, a C1 control */
	        {"\xc2\xa0", 2, 1},         /* U+00A0 */
	        {"\xc3\xa9", 2, 1},         /* U+00E9 */
	        {"\xc0\xaf", 2, 0},         /* overlong '/' */
	        {"\xc1\xbf", 2, 0},         /* overlong */
	        {"\xe0\x80\xaf", 3, 0},     /* overlong '/' in 3 octets */
	        {"\xe0\xa0\x80", 3, 1},     /* U+0800 */
	        {"\xed\x9f\xbf", 3, 1},     /* U+D7FF */
	        {"\xed\xa0\x80", 3, 0},     /* U+D800, a surrogate */
	        {"\xed\xbf\xbf", 3, 0},     /* U+DFFF, a surrogate */
	        {"\xef\xbf\xbf", 3, 1},     /* U+FFFF */
	        {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong U+FFFF */
	        {"\xf0\x9f\x98\x80", 4, 1}, /* U+1F600 */
	        {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
	        {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
	        {"\xf5\x80\x80\x80", 4, 0}, /* lead octet beyond U+10FFFF */
	        {"\xff", 1, 0},
	        {"\x80", 1, 0},         /* lone continuation */
	        {"\xc3", 1, 0},         /* cut sequence */
	        {"\xe2\x82", 2, 0},     /* cut sequence */
	        {"\xe2\x82\xac", 3, 1}, /* EURO SIGN */
	        {"\xe2\x28\xa1", 3, 0}, /* bad continuation */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(st_json_printable((const uint8_t *)cases[i].s, cases[i].len),
		             cases[i].printable, "case %zu", i);
}

Test(json, octet_strings_as_text_or_hex)
{
	static const struct {
		const char *s;
		size_t len;
		const char *hex; /* NULL: a JSON string equal to s */
	} cases[] = {
	        {"say \"hi\"", 8, NULL},
	        {"C:\\path\\", 8, NULL},
	        {"l1\nl2\r\n\tx", 9, NULL},
	        {"", 0, NULL},
	        {"\xe2\x82\xac 5", 5, NULL},
	        {"\x01\x02", 2, "0102"},
	        {"bell\x07", 5, "62656c6c07"},
	        {"del\x7f", 4, "64656c7f"},
	        {"\xc0\xaf", 2, "c0af"},
	        {"\xed\xa0\x80", 3, "eda080"},
	        {"\xf4\x90\x80\x80", 4, "f4908080"},
	        {"\x00", 1, "00"},
	};
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n, count = sizeof(cases) / sizeof(cases[0]);
	json_t *root;

	tb_begin(&bld);
	for (size_t i = count; i-- > 0;) {
		char oid[48];

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.1.%zu", i);
		tb_vb_octets(&bld, oid, ST_BER_OCTETS, cases[i].s, cases[i].len);
	}
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	/* the collector name goes through the general escaper */
	meta.collector = "c\"o\\l\x01\n";
	root = encode(&msg, &meta, NULL);
	str_member(root, "collector", "c\"o\\l\x01\n");
	cr_assert_not_null(strstr(line, "\"collector\":\"c\\\"o\\\\l\\u0001\\n\""));
	for (size_t i = 0; i < count; i++) {
		char oid[48];
		json_t *vb, *v;

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.1.%zu", i);
		vb = varbind(root, i, oid, "OctetString");
		v = json_object_get(vb, "value");
		cr_assert(json_is_string(v));
		if (cases[i].hex) {
			cr_assert_str_eq(json_string_value(v), cases[i].hex, "case %zu", i);
			str_member(vb, "encoding", "hex");
		} else {
			cr_assert_eq(json_string_length(v), cases[i].len, "case %zu", i);
			cr_assert_eq(memcmp(json_string_value(v), cases[i].s, cases[i].len), 0);
			absent(vb, "encoding");
		}
	}
	json_decref(root);
}

/* Trailing NULs after printable text are padding: the text, and how many
 * NULs were left out. Anything else with a NUL stays hex. */
Test(json, nul_padded_text_is_trimmed_and_flagged)
{
	static const struct {
		const char *s;
		size_t len;
		const char *text; /* the JSON string (text or hex) */
		int padding;      /* nul_padding; -1: hex */
	} cases[] = {
	        {"Gi0/7\0", 6, "Gi0/7", 1},
	        {"eth0\0\0\0\0", 8, "eth0", 4},
	        {"\xe2\x82\xac\0", 4, "\xe2\x82\xac", 1},
	        {"tab\t\0", 5, "tab\t", 1},
	        {"Gi0/7", 5, "Gi0/7", 0},
	        {"", 0, "", 0},
	        {"a\0b", 3, "610062", -1},       /* embedded NUL */
	        {"a\0b\0", 4, "61006200", -1},   /* a NUL before more text */
	        {"\0\0", 2, "0000", -1},         /* NULs only: no text to pad */
	        {"\x01x\0", 3, "017800", -1},    /* not printable before the NUL */
	        {"\xe2\x82\0", 3, "e28200", -1}, /* a cut UTF-8 sequence */
	};
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n, count = sizeof(cases) / sizeof(cases[0]);
	json_t *root;

	tb_begin(&bld);
	for (size_t i = count; i-- > 0;) {
		char oid[48];

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3.%zu", i);
		tb_vb_octets(&bld, oid, ST_BER_OCTETS, cases[i].s, cases[i].len);
	}
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	for (size_t i = 0; i < count; i++) {
		char oid[48];
		json_t *vb;

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3.%zu", i);
		vb = varbind(root, i, oid, "OctetString");
		str_member(vb, "value", cases[i].text);
		if (cases[i].padding > 0)
			int_member(vb, "nul_padding", cases[i].padding);
		else
			absent(vb, "nul_padding");
		if (cases[i].padding < 0)
			str_member(vb, "encoding", "hex");
		else
			absent(vb, "encoding");
	}
	json_decref(root);
	/* the member follows the value */
	cr_assert_not_null(strstr(line, "\"value\":\"Gi0/7\",\"nul_padding\":1}"));
	/* community, user and context name are not varbinds: a NUL there stays hex */
	tb_begin(&bld);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public\0", 7, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "community", "7075626c696300");
	str_member(root, "community_encoding", "hex");
	json_decref(root);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                            */
/* ------------------------------------------------------------------ */

/* big_numbers: Counter64 from 2^53 up (where a double would round) as a
 * string; below that, and by default, a number */
Test(json, big_numbers_as_strings)
{
	static const uint64_t vals[] = {0, (UINT64_C(1) << 53) - 1, UINT64_C(1) << 53,
	                                (UINT64_C(1) << 53) + 1, UINT64_MAX};
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n, count = sizeof(vals) / sizeof(vals[0]);
	json_t *root;

	tb_begin(&bld);
	for (size_t i = count; i-- > 0;) {
		char oid[48];

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.4.%zu", i);
		tb_vb_uint(&bld, oid, ST_BER_COUNTER64, vals[i]);
	}
	tb_vb_uint(&bld, "1.3.6.1.4.1.4.99", ST_BER_COUNTER32, UINT32_MAX);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);

	/* default: numbers, today's lines unchanged */
	cr_assert_eq(meta.big_numbers, ST_JSON_BIG_NUMBER);
	root = encode_flags(&msg, &meta, NULL, JSON_DECODE_INT_AS_REAL, NULL);
	json_decref(root);
	cr_assert_not_null(strstr(line, "\"value\":18446744073709551615}"));
	cr_assert_not_null(strstr(line, "\"value\":9007199254740992}"));

	meta.big_numbers = ST_JSON_BIG_STRING;
	root = encode(&msg, &meta, NULL);
	int_member(varbind(root, 0, "1.3.6.1.4.1.4.99", "Counter32"), "value", UINT32_MAX);
	for (size_t i = 0; i < count; i++) {
		char oid[48], want[24];
		json_t *vb;

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.4.%zu", i);
		vb = varbind(root, i + 1, oid, "Counter64");
		if (vals[i] < (UINT64_C(1) << 53)) {
			int_member(vb, "value", (json_int_t)vals[i]);
		} else {
			snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[i]);
			str_member(vb, "value", want);
		}
	}
	json_decref(root);
}

Test(json, integer_extremes)
{
	/* INTEGER 9223372036854775807 in 8 octets */
	static const uint8_t i64max[] = {0x02, 0x08, 0x7f, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff};
	/* INTEGER -9223372036854775808 in 8 octets */
	static const uint8_t i64min[] = {0x02, 0x08, 0x80, 0x00, 0x00,
	                                 0x00, 0x00, 0x00, 0x00, 0x00};
	/* Counter64 9223372036854775808 (2^63) */
	static const uint8_t c64mid[] = {0x46, 0x09, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0};
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n;
	json_t *root;

	tb_begin(&bld);
	tb_vb_raw(&bld, "1.3.6.1.4.1.2.10", c64mid, sizeof(c64mid));
	tb_vb_uint(&bld, "1.3.6.1.4.1.2.9", ST_BER_COUNTER64, UINT64_MAX);
	tb_vb_uint(&bld, "1.3.6.1.4.1.2.8", ST_BER_COUNTER64, 0);
	tb_vb_uint(&bld, "1.3.6.1.4.1.2.7", ST_BER_TIMETICKS, UINT32_MAX);
	tb_vb_uint(&bld, "1.3.6.1.4.1.2.6", ST_BER_GAUGE32, 0);
	tb_vb_uint(&bld, "1.3.6.1.4.1.2.5", ST_BER_COUNTER32, UINT32_MAX);
	tb_vb_raw(&bld, "1.3.6.1.4.1.2.4", i64min, sizeof(i64min));
	tb_vb_raw(&bld, "1.3.6.1.4.1.2.3", i64max, sizeof(i64max));
	tb_vb_int(&bld, "1.3.6.1.4.1.2.2", INT32_MIN);
	tb_vb_int(&bld, "1.3.6.1.4.1.2.1", INT32_MAX);
	tb_vb_int(&bld, "1.3.6.1.4.1.2.0", 0);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, INT32_MIN, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);

	/* with the two values above INT64_MAX, jansson can only check the line
	 * as reals; the exact text is checked separately below */
	root = encode_flags(&msg, &meta, NULL, JSON_DECODE_INT_AS_REAL, NULL);
	json_decref(root);
	cr_assert_not_null(strstr(line, "\"type\":\"Counter64\",\"value\":18446744073709551615}"));
	cr_assert_not_null(strstr(line, "\"type\":\"Counter64\",\"value\":9223372036854775808}"));

	/* drop those two and compare the rest exactly */
	msg.pdu.nvb -= 2;
	root = encode(&msg, &meta, NULL);
	int_member(root, "request_id", INT32_MIN);
	int_member(varbind(root, 0, "1.3.6.1.4.1.2.0", "Integer32"), "value", 0);
	int_member(varbind(root, 1, "1.3.6.1.4.1.2.1", "Integer32"), "value", INT32_MAX);
	int_member(varbind(root, 2, "1.3.6.1.4.1.2.2", "Integer32"), "value", INT32_MIN);
	int_member(varbind(root, 3, "1.3.6.1.4.1.2.3", "Integer32"), "value", INT64_MAX);
	int_member(varbind(root, 4, "1.3.6.1.4.1.2.4", "Integer32"), "value", INT64_MIN);
	int_member(varbind(root, 5, "1.3.6.1.4.1.2.5", "Counter32"), "value", UINT32_MAX);
	int_member(varbind(root, 6, "1.3.6.1.4.1.2.6", "Gauge32"), "value", 0);
	int_member(varbind(root, 7, "1.3.6.1.4.1.2.7", "TimeTicks"), "value", UINT32_MAX);
	int_member(varbind(root, 8, "1.3.6.1.4.1.2.8", "Counter64"), "value", 0);
	json_decref(root);
}

Test(json, missing_or_mistyped_uptime_and_trap_oid)
{
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n;
	json_t *root;

	/* no sysUpTime.0, no snmpTrapOID.0 */
	tb_begin(&bld);
	tb_vb_int(&bld, "1.3.6.1.4.1.3.1", 1);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	absent(root, "uptime");
	absent(root, "trap_oid");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 1);
	json_decref(root);

	/* sysUpTime.0 as an Integer and snmpTrapOID.0 as a string: not lifted,
	 * kept as varbinds so nothing is lost */
	tb_begin(&bld);
	tb_vb_octets(&bld, "1.3.6.1.6.3.1.1.4.1.0", ST_BER_OCTETS, "coldStart", 9);
	tb_vb_int(&bld, "1.3.6.1.2.1.1.3.0", 77);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	absent(root, "uptime");
	absent(root, "trap_oid");
	int_member(varbind(root, 0, "1.3.6.1.2.1.1.3.0", "Integer32"), "value", 77);
	str_member(varbind(root, 1, "1.3.6.1.6.3.1.1.4.1.0", "OctetString"), "value", "coldStart");
	json_decref(root);

	/* the lifted pair anywhere in the list, and only the first of each */
	tb_begin(&bld);
	tb_vb_uint(&bld, "1.3.6.1.2.1.1.3.0", ST_BER_TIMETICKS, 2);
	tb_vb_oid(&bld, "1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.4.1.9.0.2");
	tb_vb_oid(&bld, "1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.4.1.9.0.1");
	tb_vb_int(&bld, "1.3.6.1.4.1.3.1", 5);
	tb_vb_uint(&bld, "1.3.6.1.2.1.1.3.0", ST_BER_TIMETICKS, 1);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	int_member(root, "uptime", 1);
	str_member(root, "trap_oid", "1.3.6.1.4.1.9.0.1");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 3);
	int_member(varbind(root, 0, "1.3.6.1.4.1.3.1", "Integer32"), "value", 5);
	str_member(varbind(root, 1, "1.3.6.1.6.3.1.1.4.1.0", "ObjectIdentifier"), "value",
	           "1.3.6.1.4.1.9.0.2");
	int_member(varbind(root, 2, "1.3.6.1.2.1.1.3.0", "TimeTicks"), "value", 2);
	json_decref(root);
}

Test(json, v1_unknown_generic_trap_has_no_trap_oid)
{
	uint8_t b[sizeof(cap_v1_generic)];
	st_json_meta_t meta = default_meta();
	json_t *root;

	/* generic-trap INTEGER 02 01 03 at offset 32: make it 9 */
	memcpy(b, cap_v1_generic, sizeof(b));
	cr_assert_eq(b[34], 0x03);
	b[34] = 9;
	cr_assert_eq(st_snmp_decode(b, sizeof(b), &msg), 0);
	root = encode(&msg, &meta, NULL);
	int_member(root, "generic_trap", 9);
	absent(root, "trap_oid");
	json_decref(root);
}

Test(json, null_like_values)
{
	st_json_meta_t meta = default_meta();
	const uint8_t *m;
	size_t n;
	json_t *root;

	tb_begin(&bld);
	tb_vb_null(&bld, "1.3.6.1.4.1.4.3", ST_BER_ENDOFMIBVIEW);
	tb_vb_null(&bld, "1.3.6.1.4.1.4.2", ST_BER_NOSUCHINSTANCE);
	tb_vb_null(&bld, "1.3.6.1.4.1.4.1", ST_BER_NOSUCHOBJECT);
	tb_vb_null(&bld, "1.3.6.1.4.1.4.0", ST_BER_NULL);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_REPORT, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	root = encode(&msg, &meta, NULL);
	str_member(root, "pdu", "report");
	cr_assert(json_is_null(
	        json_object_get(varbind(root, 0, "1.3.6.1.4.1.4.0", "Null"), "value")));
	cr_assert(json_is_null(
	        json_object_get(varbind(root, 1, "1.3.6.1.4.1.4.1", "NoSuchObject"), "value")));
	cr_assert(json_is_null(
	        json_object_get(varbind(root, 2, "1.3.6.1.4.1.4.2", "NoSuchInstance"), "value")));
	cr_assert(json_is_null(
	        json_object_get(varbind(root, 3, "1.3.6.1.4.1.4.3", "EndOfMibView"), "value")));
	json_decref(root);
}

/* ------------------------------------------------------------------ */
/* Space and bound                                                    */
/* ------------------------------------------------------------------ */

Test(json, reports_space_exactly)
{
	st_json_meta_t meta = default_meta();
	static char full[8192], small[8192];
	int len;

	cr_assert_eq(st_snmp_decode(cap_v2c_types, sizeof(cap_v2c_types), &msg), 0);
	meta.raw = cap_v2c_types;
	meta.raw_len = sizeof(cap_v2c_types);
	len = st_json_encode(&msg, &meta, full, sizeof(full), NULL);
	cr_assert_gt(len, 0);
	cr_assert_leq((size_t)len, st_json_bound(sizeof(cap_v2c_types)));
	for (int cap = 0; cap < len; cap++)
		cr_assert_eq(st_json_encode(&msg, &meta, small, (size_t)cap, NULL),
		             ST_ERR_JSON_SPACE, "cap %d", cap);
	cr_assert_eq(st_json_encode(&msg, &meta, small, (size_t)len, NULL), len);
	cr_assert_eq(memcmp(small, full, (size_t)len), 0);
}

/* The worst inputs per byte for st_json_bound(): the smallest varbinds with
 * the longest JSON (one-octet OIDs, NoSuchInstance, one-byte non-printable
 * strings, empty Opaque), a control-character collector name of the
 * documented maximum, the raw datagram and IPv6 endpoints. */
Test(json, bound_holds_for_worst_cases)
{
	static const uint8_t tlvs[][9] = {
	        {0x81, 0x00},             /* noSuchInstance */
	        {0x04, 0x01, 0x01},       /* OCTET STRING 01 (hex) */
	        {0x44, 0x00},             /* Opaque, empty */
	        {0x06, 0x01, 0x7f},       /* OID 2.47 */
	        {0x02, 0x01, 0x80},       /* INTEGER -128 */
	        {0x04, 0x02, 0x22, 0x00}, /* OCTET STRING "\"" + NUL: \" and nul_padding */
	        /* Counter64 2^53, a string with big_numbers */
	        {0x46, 0x07, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	static const size_t tlv_len[] = {2, 3, 2, 3, 3, 4, 9};
	static char coll[ST_JSON_COLLECTOR_MAX + 1];
	st_json_meta_t meta = default_meta();
	struct sockaddr_in6 s6;

	memset(coll, 0x01, ST_JSON_COLLECTOR_MAX);
	meta.collector = coll;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	memset(&s6.sin6_addr, 0x12, 16);
	meta.src = meta.dst = (const struct sockaddr *)&s6;
	meta.big_numbers = ST_JSON_BIG_STRING;
	for (size_t t = 0; t < sizeof(tlvs) / sizeof(tlvs[0]); t++) {
		for (unsigned count = 0; count <= ST_SNMP_MAX_VARBINDS; count += 64) {
			const uint8_t *m;
			size_t n;
			int len;

			tb_begin(&bld);
			for (unsigned i = 0; i < count; i++)
				tb_vb_raw(&bld, "2.47", tlvs[t], tlv_len[t]); /* OID 7f */
			n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, INT32_MIN, "\x01", 1, &m);
			cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
			meta.raw = m;
			meta.raw_len = n;
			len = st_json_encode(&msg, &meta, line, sizeof(line), NULL);
			cr_assert_gt(len, 0);
			cr_assert_leq((size_t)len, st_json_bound(n), "tlv %zu x %u: %d > %zu", t,
			              count, len, st_json_bound(n));
			/* and a buffer of exactly the bound is enough */
			cr_assert_eq(st_json_encode(&msg, &meta, line, st_json_bound(n), NULL),
			             len);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Randomized round trip                                              */
/* ------------------------------------------------------------------ */

/* An independent printability check for the property test: decode each
 * code point arithmetically and apply RFC 3629 and the control rule. */
static int ref_printable(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		if (s[i] < 0x80) {
			cp = s[i];
			n = 0;
		} else if ((s[i] & 0xe0) == 0xc0) {
			cp = s[i] & 0x1f;
			n = 1;
		} else if ((s[i] & 0xf0) == 0xe0) {
			cp = s[i] & 0x0f;
			n = 2;
		} else if ((s[i] & 0xf8) == 0xf0) {
			cp = s[i] & 0x07;
			n = 3;
		} else {
			return 0;
		}
		if (i + n >= len + (n == 0))
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return 0; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}

static uint64_t rnd64(void)
{
	return (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* random string: printable ASCII with escapes, random code points (some
 * surrogates and controls), or random bytes */
static size_t rnd_string(uint8_t *o, size_t cap)
{
	size_t n = 0, want = (size_t)rand() % 40;
	int kind = rand() % 4;

	while (n + 4 <= cap && want-- > 0) {
		if (kind == 3 && want < 3) {
			o[n++] = 0; /* text padded with NULs (kind 3 is kind 0 then NULs) */
		} else if (kind == 0 || kind == 3) {
			static const char pool[] = "abcXYZ09 \"\\\t\n\r/{}:,";

			o[n++] = (uint8_t)pool[rand() % (sizeof(pool) - 1)];
		} else if (kind == 1) {
			uint32_t cp = (uint32_t)rand() % 0x110000;

			if (rand() % 4 == 0)
				cp = (uint32_t)rand() % 0x100;
			n += put_utf8(o + n, cp);
		} else {
			o[n++] = (uint8_t)rand();
		}
	}
	return n;
}

typedef struct {
	char oid[64];
	uint8_t type;
	int64_t i;
	uint64_t u;
	uint8_t s[160];
	size_t s_len;
	char text[64]; /* OID or IpAddress value text */
} rvb_t;

static const char *type_name(uint8_t t)
{
	switch (t) {
	case ST_BER_INTEGER:
		return "Integer32";
	case ST_BER_OCTETS:
		return "OctetString";
	case ST_BER_NULL:
		return "Null";
	case ST_BER_OID:
		return "ObjectIdentifier";
	case ST_BER_IPADDR:
		return "IpAddress";
	case ST_BER_COUNTER32:
		return "Counter32";
	case ST_BER_GAUGE32:
		return "Gauge32";
	case ST_BER_TIMETICKS:
		return "TimeTicks";
	case ST_BER_OPAQUE:
		return "Opaque";
	case ST_BER_COUNTER64:
		return "Counter64";
	case ST_BER_NOSUCHOBJECT:
		return "NoSuchObject";
	case ST_BER_NOSUCHINSTANCE:
		return "NoSuchInstance";
	default:
		return "EndOfMibView";
	}
}

static void rnd_varbind(rvb_t *v, unsigned idx)
{
	static const uint8_t types[] = {
	        ST_BER_INTEGER,      ST_BER_OCTETS,    ST_BER_NULL,         ST_BER_OID,
	        ST_BER_IPADDR,       ST_BER_COUNTER32, ST_BER_GAUGE32,      ST_BER_TIMETICKS,
	        ST_BER_OPAQUE,       ST_BER_COUNTER64, ST_BER_NOSUCHOBJECT, ST_BER_NOSUCHINSTANCE,
	        ST_BER_ENDOFMIBVIEW,
	};
	uint32_t a = (uint32_t)rnd64();

	/* the index as last arc keeps every OID unique, for the text checks */
	snprintf(v->oid, sizeof(v->oid), "1.3.6.1.4.1.%u.%u.%u", (unsigned)rand() % 100000,
	         (unsigned)(rnd64() & 0xffffffff), idx);
	v->type = types[rand() % (int)sizeof(types)];
	switch (v->type) {
	case ST_BER_INTEGER:
		v->i = (int64_t)rnd64() >> (rand() % 64);
		break;
	case ST_BER_COUNTER32:
	case ST_BER_GAUGE32:
	case ST_BER_TIMETICKS:
		v->u = rnd64() >> 32 >> (rand() % 32);
		break;
	case ST_BER_COUNTER64:
		v->u = (rnd64() << 1 ^ (uint64_t)rand()) >> (rand() % 64);
		break;
	case ST_BER_OCTETS:
	case ST_BER_OPAQUE:
		v->s_len = rnd_string(v->s, sizeof(v->s));
		break;
	case ST_BER_OID:
		snprintf(v->text, sizeof(v->text), "%u.%u.%u.%u", (unsigned)rand() % 2,
		         (unsigned)rand() % 40, a, (unsigned)rand() % 128);
		break;
	case ST_BER_IPADDR:
		v->s[0] = (uint8_t)(a >> 24), v->s[1] = (uint8_t)(a >> 16);
		v->s[2] = (uint8_t)(a >> 8), v->s[3] = (uint8_t)a;
		snprintf(v->text, sizeof(v->text), "%u.%u.%u.%u", v->s[0], v->s[1], v->s[2],
		         v->s[3]);
		break;
	default:
		break;
	}
}

static void add_varbind(tb_t *b, const rvb_t *v)
{
	switch (v->type) {
	case ST_BER_INTEGER:
		tb_vb_int(b, v->oid, v->i);
		break;
	case ST_BER_COUNTER32:
	case ST_BER_GAUGE32:
	case ST_BER_TIMETICKS:
	case ST_BER_COUNTER64:
		tb_vb_uint(b, v->oid, v->type, v->u);
		break;
	case ST_BER_OCTETS:
	case ST_BER_OPAQUE:
		tb_vb_octets(b, v->oid, v->type, v->s, v->s_len);
		break;
	case ST_BER_IPADDR:
		tb_vb_octets(b, v->oid, v->type, v->s, 4);
		break;
	case ST_BER_OID:
		tb_vb_oid(b, v->oid, v->text);
		break;
	default:
		tb_vb_null(b, v->oid, v->type);
		break;
	}
}

static void check_hex(json_t *vb, const rvb_t *v)
{
	char hex[2 * sizeof(v->s) + 1];

	for (size_t k = 0; k < v->s_len; k++)
		snprintf(hex + 2 * k, 3, "%02x", v->s[k]);
	hex[2 * v->s_len] = '\0';
	str_member(vb, "value", hex);
	str_member(vb, "encoding", "hex");
}

static void check_varbind(json_t *vb, const rvb_t *v)
{
	json_t *val = json_object_get(vb, "value");
	char num[160];

	str_member(vb, "oid", v->oid);
	str_member(vb, "type", type_name(v->type));
	switch (v->type) {
	case ST_BER_INTEGER:
	case ST_BER_COUNTER32:
	case ST_BER_GAUGE32:
	case ST_BER_TIMETICKS:
	case ST_BER_COUNTER64:
		/* lines are parsed with integers as reals (Counter64 may exceed
		 * json_int_t): compare the real, then the exact text */
		cr_assert(json_is_number(val));
		if (v->type == ST_BER_INTEGER) {
			cr_assert_eq(json_number_value(val), (double)v->i);
			snprintf(num, sizeof(num),
			         "{\"oid\":\"%.63s\",\"type\":\"%s\",\"value\":%lld}", v->oid,
			         type_name(v->type), (long long)v->i);
		} else {
			cr_assert_eq(json_number_value(val), (double)v->u);
			snprintf(num, sizeof(num),
			         "{\"oid\":\"%.63s\",\"type\":\"%s\",\"value\":%llu}", v->oid,
			         type_name(v->type), (unsigned long long)v->u);
		}
		cr_assert_not_null(strstr(line, num), "%s not in line", num);
		break;
	case ST_BER_OCTETS: {
		size_t text = v->s_len;

		/* printable text followed by NULs: the text, and the NULs counted */
		if (!ref_printable(v->s, v->s_len)) {
			while (text && v->s[text - 1] == 0)
				text--;
			if (text == 0 || text == v->s_len || !ref_printable(v->s, text))
				text = v->s_len;
		}
		if (ref_printable(v->s, text)) {
			cr_assert(json_is_string(val));
			cr_assert_eq(json_string_length(val), text);
			cr_assert_eq(memcmp(json_string_value(val), v->s, text), 0);
			absent(vb, "encoding");
			if (text < v->s_len)
				cr_assert_eq(json_number_value(json_object_get(vb, "nul_padding")),
				             (double)(v->s_len - text));
			else
				absent(vb, "nul_padding");
		} else {
			check_hex(vb, v);
			absent(vb, "nul_padding");
		}
		break;
	}
	case ST_BER_OPAQUE:
		check_hex(vb, v);
		break;
	case ST_BER_OID:
	case ST_BER_IPADDR:
		str_member(vb, "value", v->text);
		break;
	default:
		cr_assert(json_is_null(val));
		break;
	}
}

Test(json, random_varbind_lists_round_trip)
{
	static rvb_t vbs[64];
	st_json_meta_t meta = default_meta();

	srand(20261121);
	for (int iter = 0; iter < 1500; iter++) {
		unsigned count = (unsigned)rand() % 64;
		const uint8_t *m;
		size_t n;
		json_t *root, *arr;
		int len;

		tb_begin(&bld);
		for (unsigned i = 0; i < count; i++)
			rnd_varbind(&vbs[i], i);
		for (unsigned i = count; i-- > 0;)
			add_varbind(&bld, &vbs[i]);
		n = tb_finish(&bld, ST_SNMP_V2C, rand() % 2 ? ST_PDU_TRAPV2 : ST_PDU_INFORM, rand(),
		              "public", 6, &m);
		cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
		cr_assert_eq(msg.pdu.nvb, count);
		meta.raw = rand() % 2 ? m : NULL;
		meta.raw_len = n;
		root = encode_flags(&msg, &meta, NULL, JSON_DECODE_INT_AS_REAL, &len);
		cr_assert_leq((size_t)len, st_json_bound(n));
		arr = json_object_get(root, "varbinds");
		cr_assert_eq(json_array_size(arr), count);
		for (unsigned i = 0; i < count; i++)
			check_varbind(json_array_get(arr, i), &vbs[i]);
		json_decref(root);
	}
}

/* ------------------------------------------------------------------ */
/* Names from the MIB translation (meta.names)                        */
/* ------------------------------------------------------------------ */

#define NM(s) (s), (uint32_t)(sizeof(s) - 1)

/* a v2c linkDown: sysUpTime.0, snmpTrapOID.0, ifOperStatus.7 = 2,
 * ifPhysAddress.7 = 00:0c:29:a2:b3:c4, a BITS value c0 00, and an OID no
 * MIB knows = 1 */
static size_t names_msg(const uint8_t **m)
{
	tb_begin(&bld); /* last to first */
	tb_vb_int(&bld, "1.3.6.1.4.1.99.9", 1);
	tb_vb_octets(&bld, "1.3.6.1.4.1.99.2.1", ST_BER_OCTETS, "\xc0\x00", 2);
	tb_vb_octets(&bld, "1.3.6.1.2.1.2.2.1.6.7", ST_BER_OCTETS, "\x00\x0c\x29\xa2\xb3\xc4", 6);
	tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.8.7", 2);
	tb_vb_oid(&bld, "1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.6.3.1.1.5.3");
	tb_vb_uint(&bld, "1.3.6.1.2.1.1.3.0", ST_BER_TIMETICKS, 4242);
	return tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 7, "public", 6, m);
}

Test(json, names_are_additive_members)
{
	st_json_meta_t meta = default_meta();
	st_json_vbname_t vb[6];
	st_json_names_t names = {.vb = vb, .nvb = 6};
	static char plain[8192];
	const uint8_t *m;
	size_t n = names_msg(&m);
	int plain_len, len;
	json_t *root, *v, *bits;
	static const char *const order[] = {"uptime", "trap_oid", "trap_name", "varbinds", NULL};

	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	plain_len = st_json_encode(&msg, &meta, plain, sizeof(plain), NULL);
	cr_assert_gt(plain_len, 0);

	memset(vb, 0, sizeof(vb));
	/* names of lifted varbinds are never written */
	vb[0] = (st_json_vbname_t){.name = NM("SNMPv2-MIB::sysUpTime.0")};
	vb[1] = (st_json_vbname_t){.name = NM("SNMPv2-MIB::snmpTrapOID.0")};
	vb[2] = (st_json_vbname_t){.name = NM("IF-MIB::ifOperStatus.7"), .enum_ = NM("down")};
	vb[3] = (st_json_vbname_t){.name = NM("IF-MIB::ifPhysAddress.7"),
	                           .display = NM("00:0c:29:a2:b3:c4")};
	vb[4] = (st_json_vbname_t){.name = NM("ACME-MIB::acmeFlags.1"), .bits = NM("red  green")};
	names.trap_name = "IF-MIB::linkDown";
	names.trap_name_len = 16;
	meta.names = &names;
	root = encode_flags(&msg, &meta, NULL, 0, &len);
	key_order(order);
	str_member(root, "trap_name", "IF-MIB::linkDown");
	cr_assert_eq(json_array_size(json_object_get(root, "varbinds")), 4);
	v = varbind(root, 0, "1.3.6.1.2.1.2.2.1.8.7", "Integer32");
	str_member(v, "name", "IF-MIB::ifOperStatus.7");
	str_member(v, "enum", "down");
	int_member(v, "value", 2);
	absent(v, "display");
	absent(v, "bits");
	v = varbind(root, 1, "1.3.6.1.2.1.2.2.1.6.7", "OctetString");
	str_member(v, "value", "000c29a2b3c4");
	str_member(v, "encoding", "hex");
	str_member(v, "display", "00:0c:29:a2:b3:c4");
	absent(v, "enum");
	v = varbind(root, 2, "1.3.6.1.4.1.99.2.1", "OctetString");
	bits = json_object_get(v, "bits");
	cr_assert(json_is_array(bits));
	cr_assert_eq(json_array_size(bits), 2, "empty words are skipped");
	cr_assert_str_eq(json_string_value(json_array_get(bits, 0)), "red");
	cr_assert_str_eq(json_string_value(json_array_get(bits, 1)), "green");
	/* an OID without names stays exactly as without MIBs */
	v = varbind(root, 3, "1.3.6.1.4.1.99.9", "Integer32");
	absent(v, "name");
	cr_assert_not_null(strstr(line, "{\"oid\":\"1.3.6.1.4.1.99.9\",\"type\":\"Integer32\","
	                                "\"value\":1}]"));
	/* the name sits right after the oid */
	cr_assert_not_null(strstr(line, "{\"oid\":\"1.3.6.1.2.1.2.2.1.8.7\",\"name\":\"IF-MIB::"
	                                "ifOperStatus.7\",\"type\":\"Integer32\",\"value\":2,"
	                                "\"enum\":\"down\"}"));
	json_decref(root);

	/* names with nothing in them: byte for byte the line without names */
	memset(vb, 0, sizeof(vb));
	names = (st_json_names_t){.vb = vb, .nvb = 6};
	len = st_json_encode(&msg, &meta, line, sizeof(line), NULL);
	cr_assert_eq(len, plain_len);
	cr_assert_eq(memcmp(line, plain, (size_t)len), 0);
	/* and an empty BITS value is an empty array */
	vb[4].bits = "";
	root = encode(&msg, &meta, NULL);
	bits = json_object_get(varbind(root, 2, "1.3.6.1.4.1.99.2.1", "OctetString"), "bits");
	cr_assert(json_is_array(bits) && json_array_size(bits) == 0);
	json_decref(root);
}

Test(json, names_are_escaped_or_left_out)
{
	st_json_meta_t meta = default_meta();
	st_json_vbname_t vb[6];
	st_json_names_t names = {.vb = vb, .nvb = 4};
	st_json_info_t info;
	const uint8_t *m;
	size_t n = names_msg(&m);
	json_t *root, *v;

	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	memset(vb, 0, sizeof(vb));
	/* a display hint's 'a' copies whatever octets the value had */
	vb[2] = (st_json_vbname_t){.name = NM("M::x\"y\\.7"), .enum_ = NM("a\x01\tb")};
	vb[3] = (st_json_vbname_t){.name = NM("M::\xff"), .display = NM("caf\xc3\xa9 \xc2\x85")};
	names.trap_name = "T\x7f\n";
	names.trap_name_len = 3;
	meta.names = &names;
	root = encode(&msg, &meta, &info);
	/* every name left out is counted (the collector's
	 * stormtrap_mib_names_omitted_total{reason="not_utf8"}) */
	cr_assert_eq(info.names_omitted, 1, "omitted %u", info.names_omitted);
	str_member(root, "trap_name", "T\x7f\n");
	v = varbind(root, 0, "1.3.6.1.2.1.2.2.1.8.7", "Integer32");
	str_member(v, "name", "M::x\"y\\.7");
	str_member(v, "enum", "a\x01\tb");
	cr_assert_not_null(strstr(line, "\"enum\":\"a\\u0001\\tb\""));
	/* not UTF-8: left out, the value is still there */
	v = varbind(root, 1, "1.3.6.1.2.1.2.2.1.6.7", "OctetString");
	absent(v, "name");
	cr_assert_not_null(json_object_get(v, "display"), "%s", line);
	str_member(v, "display", "caf\xc3\xa9 \xc2\x85");
	json_decref(root);
	vb[3].display = "\xe0\x80\x80";
	vb[3].display_len = 3;
	vb[2].bits = "ok \xc3";
	vb[2].bits_len = 4;
	names.trap_name = "\xed\xa0\x80"; /* a surrogate */
	root = encode(&msg, &meta, &info);
	cr_assert_eq(info.names_omitted, 4, "omitted %u", info.names_omitted);
	absent(root, "trap_name");
	absent(varbind(root, 0, "1.3.6.1.2.1.2.2.1.8.7", "Integer32"), "bits");
	absent(varbind(root, 1, "1.3.6.1.2.1.2.2.1.6.7", "OctetString"), "display");
	json_decref(root);
	vb[2].bits = NULL;
	names.trap_name = "T";
	names.trap_name_len = 1;
	/* nvb 4: the BITS varbind (index 4) has no names */
	vb[4].name = "never";
	vb[4].name_len = 5;
	root = encode(&msg, &meta, NULL);
	absent(varbind(root, 2, "1.3.6.1.4.1.99.2.1", "OctetString"), "name");
	json_decref(root);
}

/* st_json_bound_names() on the worst annotations per byte: control
 * characters (6 characters each), one-letter BITS words, every member on
 * every varbind of the smallest varbinds, and a full line otherwise. */
Test(json, bound_names_holds_for_worst_cases)
{
	static st_json_vbname_t vb[ST_SNMP_MAX_VARBINDS];
	static char ctl[64], words[64];
	st_json_meta_t meta = default_meta();
	st_json_names_t names = {.vb = vb};
	static char coll[ST_JSON_COLLECTOR_MAX + 1];

	memset(coll, 0x01, ST_JSON_COLLECTOR_MAX);
	meta.collector = coll;
	memset(ctl, 0x01, sizeof(ctl));
	for (size_t i = 0; i < sizeof(words); i++)
		words[i] = i % 2 ? ' ' : '"';
	for (unsigned len = 0; len <= sizeof(ctl); len += 16) {
		for (unsigned count = 0; count <= ST_SNMP_MAX_VARBINDS; count += 128) {
			const uint8_t *m;
			size_t n;
			int out;

			tb_begin(&bld);
			for (unsigned i = 0; i < count; i++)
				tb_vb_null(&bld, "2.47", ST_BER_NOSUCHINSTANCE);
			n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, INT32_MIN, "\x01", 1, &m);
			cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
			names.nvb = count;
			names.trap_name = ctl;
			names.trap_name_len = len;
			names.bytes = len;
			for (unsigned i = 0; i < count; i++) {
				vb[i] = (st_json_vbname_t){ctl,   len, ctl, len,
				                           words, len, ctl, len};
				names.bytes += 4 * (size_t)len;
			}
			meta.names = &names;
			meta.raw = m;
			meta.raw_len = n;
			out = st_json_encode(&msg, &meta, line, sizeof(line), NULL);
			cr_assert_gt(out, 0);
			cr_assert_leq((size_t)out, st_json_bound_names(n, &names), "%u x %u", len,
			              count);
			cr_assert_eq(st_json_encode(&msg, &meta, line,
			                            st_json_bound_names(n, &names), NULL),
			             out);
		}
	}
	cr_assert_eq(st_json_bound_names(100, NULL), st_json_bound(100));
}

/* the word-at-a-time scan: a character to escape (or a non-ASCII one) at
 * any position of a long name is still escaped (or left whole) */
Test(json, names_escaped_at_every_position)
{
	static const char *const specials[] = {"\"",   "\\",   "\n",      "\x01",
	                                       "\x1f", "\x7f", "\xc3\xa9"};
	st_json_meta_t meta = default_meta();
	st_json_vbname_t vb[6];
	st_json_names_t names = {.vb = vb, .nvb = 4};
	st_json_info_t info;
	const uint8_t *m;
	size_t n = names_msg(&m);
	char text[64];

	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
	meta.names = &names;
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		for (size_t pos = 0; pos < 24; pos++) {
			size_t sl = strlen(specials[k]);
			json_t *root;

			memset(vb, 0, sizeof(vb));
			memset(text, 'a', 24);
			memcpy(text + pos, specials[k], sl);
			text[24 + sl] = 0;
			memset(text + pos + sl, 'b', 24 - pos);
			text[24 + sl] = 0;
			vb[2].name = text;
			vb[2].name_len = (uint32_t)strlen(text);
			root = encode(&msg, &meta, &info);
			cr_assert_eq(info.names_omitted, 0);
			str_member(varbind(root, 0, "1.3.6.1.2.1.2.2.1.8.7", "Integer32"), "name",
			           text);
			json_decref(root);
		}
	}
}
