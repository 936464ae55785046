/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_mib_translate(): the names of decoded notifications over the standard
 * MIB set (skipped with scripts/fetch-mibs' reason when it cannot run),
 * checked as the JSON encoder then writes them.
 */
#include <string.h>

#include "../codec/builder.h"
#include "mib_fixture.h"

static fix_std_t std;
static st_mib_t *mib;
static st_msg_t msg;
static tb_t bld;
static st_json_vbname_t vb[ST_SNMP_MAX_VARBINDS];
static st_json_names_t names;
static char arena[65536];

static void load(void)
{
	st_mib_stats_t stats;
	char err[512];
	int rc;

	fix_std(&std);
	rc = st_mib_load(std.dirs, NULL, NULL, &mib, &stats, err, sizeof(err));
	cr_assert_eq(rc, 0, "load: %d %s", rc, err);
}

static void unload(void)
{
	st_mib_free(mib);
	mib = NULL;
}

static void str_eq(const char *s, uint32_t len, const char *want)
{
	cr_assert_not_null(s, "no text, wanted %s", want);
	cr_assert_eq(len, strlen(want), "%.*s != %s", (int)len, s, want);
	cr_assert_eq(memcmp(s, want, len), 0, "%.*s != %s", (int)len, s, want);
}

/* v2c linkDown as snmptrap sends it, plus ifPhysAddress.7, ifType.7 (an
 * enumeration from IANAifType-MIB), ifLastChange.7 (TimeTicks, no hint)
 * and an OID under an enterprise no MIB details (written last to first) */
static void linkdown(void)
{
	const uint8_t *m;
	size_t n;

	tb_begin(&bld);
	tb_vb_octets(&bld, "1.3.6.1.4.1.99999.1.2", ST_BER_OCTETS, "x", 1);
	tb_vb_uint(&bld, "1.3.6.1.2.1.2.2.1.9.7", ST_BER_TIMETICKS, 100);
	tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.3.7", 6);
	tb_vb_octets(&bld, "1.3.6.1.2.1.2.2.1.6.7", ST_BER_OCTETS, "\x00\x0c\x29\xa2\xb3\xc4", 6);
	tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.8.7", 2);
	tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.7.7", 1);
	tb_vb_int(&bld, "1.3.6.1.2.1.2.2.1.1.7", 7);
	tb_vb_oid(&bld, "1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.6.3.1.1.5.3");
	tb_vb_uint(&bld, "1.3.6.1.2.1.1.3.0", ST_BER_TIMETICKS, 4242);
	n = tb_finish(&bld, ST_SNMP_V2C, ST_PDU_TRAPV2, 1, "public", 6, &m);
	cr_assert_eq(st_snmp_decode(m, n, &msg), 0);
}

Test(translate, v2c_linkdown, .init = load, .fini = unload)
{
	static char line[1 << 16];
	st_json_meta_t meta = {.time = {0, 0}};
	int unknown, len;

	linkdown();
	unknown =
	        st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena));
	cr_assert_eq(unknown, 1, "only the enterprise OID is unknown");
	str_eq(names.trap_name, names.trap_name_len, "IF-MIB::linkDown");
	cr_assert_eq(names.nvb, 9);
	cr_assert_null(vb[0].name, "sysUpTime.0 is lifted: no name");
	cr_assert_null(vb[1].name, "snmpTrapOID.0 is lifted: no name");
	str_eq(vb[2].name, vb[2].name_len, "IF-MIB::ifIndex.7");
	str_eq(vb[3].name, vb[3].name_len, "IF-MIB::ifAdminStatus.7");
	str_eq(vb[3].enum_, vb[3].enum_len, "up");
	str_eq(vb[4].name, vb[4].name_len, "IF-MIB::ifOperStatus.7");
	str_eq(vb[4].enum_, vb[4].enum_len, "down");
	cr_assert_null(vb[4].display);
	str_eq(vb[5].name, vb[5].name_len, "IF-MIB::ifPhysAddress.7");
	str_eq(vb[5].display, vb[5].display_len, "00:0c:29:a2:b3:c4");
	cr_assert_null(vb[5].enum_);
	str_eq(vb[6].enum_, vb[6].enum_len, "ethernetCsmacd");
	str_eq(vb[7].name, vb[7].name_len, "IF-MIB::ifLastChange.7");
	cr_assert_null(vb[7].display);
	cr_assert_null(vb[8].name);
	{
		size_t sum = names.trap_name_len;

		for (size_t i = 0; i < names.nvb; i++)
			sum += vb[i].name_len + vb[i].enum_len + vb[i].bits_len + vb[i].display_len;
		cr_assert_eq(names.bytes, sum);
	}
	meta.names = &names;
	len = st_json_encode(&msg, &meta, line, sizeof(line), NULL);
	cr_assert_gt(len, 0);
	cr_assert_leq((size_t)len, st_json_bound_names(msg.pdu.vbl_len + 64, &names));
	cr_assert_not_null(strstr(line, "\"trap_oid\":\"1.3.6.1.6.3.1.1.5.3\",\"trap_name\":"
	                                "\"IF-MIB::linkDown\""),
	                   "%s", line);
	cr_assert_not_null(strstr(line, "{\"oid\":\"1.3.6.1.2.1.2.2.1.8.7\",\"name\":\"IF-MIB::"
	                                "ifOperStatus.7\",\"type\":\"Integer32\",\"value\":2,"
	                                "\"enum\":\"down\"}"),
	                   "%s", line);
	cr_assert_not_null(strstr(line, "{\"oid\":\"1.3.6.1.4.1.99999.1.2\",\"type\":"
	                                "\"OctetString\",\"value\":\"x\"}"),
	                   "%s", line);
}

Test(translate, v1_traps, .init = load, .fini = unload)
{
	st_pdu_t *pdu = &msg.pdu;
	uint8_t ent[16];
	int elen = st_oid_parse("1.3.6.1.4.1.99999", ent, sizeof(ent));

	cr_assert_gt(elen, 0);
	memset(&msg, 0, sizeof(msg));
	msg.version = ST_SNMP_V1;
	msg.have_pdu = 1;
	pdu->type = ST_PDU_TRAPV1;
	pdu->enterprise = ent;
	pdu->enterprise_len = (size_t)elen;
	pdu->generic_trap = 0;
	cr_assert_eq(
	        st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena)),
	        0);
	str_eq(names.trap_name, names.trap_name_len, "SNMPv2-MIB::coldStart");
	/* enterprise-specific under an enterprise no MIB knows: unknown */
	pdu->generic_trap = 6;
	pdu->specific_trap = 3;
	cr_assert_eq(
	        st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena)),
	        1);
	cr_assert_null(names.trap_name);
	/* a generic-trap RFC 3584 cannot map has no trap_oid: nothing unknown */
	pdu->generic_trap = 9;
	cr_assert_eq(
	        st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena)),
	        0);
	cr_assert_null(names.trap_name);
	/* nor does a negative specific-trap, nor an enterprise so long that
	 * enterprise.0.specific passes the OID limit (the codec writes no
	 * trap_oid for either) */
	pdu->generic_trap = 6;
	pdu->specific_trap = -1;
	cr_assert_eq(
	        st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena)),
	        0);
	cr_assert_null(names.trap_name);
	{
		static uint8_t longent[ST_OID_MAX_SUBIDS];

		/* 1.3 and 126 more arcs of 1: 128 sub-identifiers */
		memset(longent, 1, sizeof(longent));
		longent[0] = 0x2b;
		pdu->enterprise = longent;
		pdu->enterprise_len = 127;
		pdu->specific_trap = 3;
		cr_assert_eq(st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena,
		                              sizeof(arena)),
		             0);
		cr_assert_null(names.trap_name);
	}
}

Test(translate, small_arena_leaves_names_out, .init = load, .fini = unload)
{
	static char small[40];

	linkdown();
	memset(small, 0x55, sizeof(small));
	/* 16 + 17 bytes: linkDown and ifIndex.7 fit, the rest does not */
	cr_assert_eq(st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, small, 34), 1);
	str_eq(names.trap_name, names.trap_name_len, "IF-MIB::linkDown");
	str_eq(vb[2].name, vb[2].name_len, "IF-MIB::ifIndex.7");
	cr_assert_null(vb[3].name);
	/* labels live in the structure but take from the budget all the same */
	cr_assert_null(vb[4].enum_);
	cr_assert_leq(names.bytes, 34);
	/* left out: ifIndex.7's display "7", then the names of ifAdminStatus.7,
	 * ifOperStatus.7, ifPhysAddress.7, ifType.7, ifLastChange.7, the labels
	 * up, down and ethernetCsmacd and the MAC address's display */
	cr_assert_eq(names.omitted, 10, "omitted %u", names.omitted);
	cr_assert_eq(small[34], 0x55, "nothing written past cap");
	/* fewer slots than varbinds: the rest has no names */
	cr_assert_eq(st_mib_translate(mib, &msg, &names, vb, 3, arena, sizeof(arena)), 0);
	cr_assert_eq(names.nvb, 3);
	/* no MIB: no names, nothing unknown */
	cr_assert_eq(st_mib_translate(NULL, &msg, &names, vb, 3, arena, sizeof(arena)), 0);
	cr_assert_null(names.trap_name);
	cr_assert_eq(names.nvb, 0);
}

/* the annotations a translation produced: trap_name and every member */
static unsigned present(void)
{
	unsigned k = names.trap_name != NULL;

	for (size_t i = 0; i < names.nvb; i++)
		k += (vb[i].name != NULL) + (vb[i].enum_ != NULL) + (vb[i].bits != NULL) +
		     (vb[i].display != NULL);
	return k;
}

/*
 * Whatever the arena's size, the names stay within it, enumeration labels
 * included (they are not copied, but st_json_bound_names() counts them, and
 * the collector sizes its buffer for one full arena), and every annotation
 * is either there or counted as left out.
 */
Test(translate, every_size_keeps_the_budget_and_counts_the_rest, .init = load, .fini = unload)
{
	static char line[1 << 16];
	unsigned all;

	linkdown();
	st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, sizeof(arena));
	all = present();
	cr_assert_eq(names.omitted, 0);
	cr_assert_eq(all, 12);
	for (size_t cap = 0; cap <= 200; cap++) {
		st_json_meta_t meta = {.names = &names};
		int len;

		st_mib_translate(mib, &msg, &names, vb, ST_SNMP_MAX_VARBINDS, arena, cap);
		cr_assert_leq(names.bytes, cap, "cap %zu: %zu bytes", cap, names.bytes);
		cr_assert_eq(present() + names.omitted, all, "cap %zu: %u + %u", cap, present(),
		             names.omitted);
		len = st_json_encode(&msg, &meta, line, sizeof(line), NULL);
		cr_assert_gt(len, 0);
		cr_assert_leq((size_t)len, st_json_bound(msg.pdu.vbl_len + 64) +
		                                   ST_JSON_NAMES_BOUND(cap, names.nvb));
	}
}
