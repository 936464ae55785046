/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookups and renderings over the standard MIB set gathered by
 * scripts/fetch-mibs (skipped with the script's reason when it cannot run):
 * IF-MIB's notifications and columns, enumerations, PhysAddress's hint,
 * RFC1213-MIB against IF-MIB, the RFC 3584 mapping of v1 generic traps, and
 * OIDs no module defines.
 */
#include <unistd.h>

#include "mib_fixture.h"

static fix_std_t std;
static fix_log_t std_log;
static st_mib_t *mib;
static st_mib_stats_t stats;

static void load_prefer(const char *const *prefer)
{
	st_mib_opts_t opts = {.prefer = prefer, .log = fix_on_log, .log_ctx = &std_log};
	char err[512];
	int rc;

	fix_std(&std);
	rc = st_mib_load(std.dirs, NULL, &opts, &mib, &stats, err, sizeof(err));
	cr_assert_eq(rc, 0, "load: %d %s", rc, err);
}

static void load(void)
{
	load_prefer(NULL);
}

static void unload(void)
{
	st_mib_free(mib);
	mib = NULL;
}

static const uint32_t LINKDOWN[] = {1, 3, 6, 1, 6, 3, 1, 1, 5, 3};
static const uint32_t IFOPERSTATUS_7[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 7};
static const uint32_t IFPHYSADDRESS_7[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 6, 7};
static const uint32_t IFINDEX_7[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 7};
static const uint32_t SYSUPTIME_0[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(std, loads_the_standard_set, .init = load, .fini = unload)
{
	cr_assert_geq(stats.modules, 20, "modules %u", stats.modules);
	cr_assert_geq(stats.nodes, 500);
	cr_assert_gt(stats.overlaps, 0, "RFC1213-MIB and IF-MIB overlap");
	cr_assert_eq(stats.bytes, st_mib_size(mib));
}

Test(std, linkdown_is_if_mib, .init = load, .fini = unload)
{
	size_t suffix = 99;
	const st_mib_node_t *node = st_mib_lookup(mib, LINKDOWN, N(LINKDOWN), &suffix);
	char name[128];

	cr_assert_not_null(node);
	cr_assert_eq(suffix, 0);
	cr_assert_eq(node->kind, ST_MIB_K_NOTIFICATION);
	cr_assert_eq(st_mib_render_name_sub(mib, node, LINKDOWN, N(LINKDOWN), suffix, name,
	                                    sizeof(name)),
	             (int)strlen("IF-MIB::linkDown"));
	cr_assert_str_eq(name, "IF-MIB::linkDown");
}

Test(std, v1_generic_traps_map_through_rfc3584, .init = load, .fini = unload)
{
	/* enterprise is ignored for generic 0-5; linkDown is generic 2 */
	static const uint8_t ent[] = {0x2b, 6, 1, 4, 1, 0xbf, 0x08}; /* 1.3.6.1.4.1.8072 */
	const st_mib_node_t *node = st_mib_lookup_v1trap(mib, ent, sizeof(ent), 2, 0);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_module(mib, node), "IF-MIB");
	cr_assert_str_eq(st_mib_node_name(mib, node), "linkDown");
	node = st_mib_lookup_v1trap(mib, ent, sizeof(ent), 0, 0);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "coldStart");
	cr_assert_null(st_mib_lookup_v1trap(mib, ent, sizeof(ent), 7, 0));
}

Test(std, smiv1_trap_type_sits_at_enterprise_0_specific, .init = load, .fini = unload)
{
	/* erlang-snmp's STANDARD-MIB (SMIv1): "coldStart TRAP-TYPE ENTERPRISE
	 * snmp ::= 0", so enterprise 1.3.6.1.2.1.11, specific 0 */
	static const uint8_t snmp[] = {0x2b, 6, 1, 2, 1, 11};
	const st_mib_node_t *node;

	node = st_mib_lookup_v1trap(mib, snmp, sizeof(snmp), 6, 0);
	if (!node && access(std.erlang, R_OK))
		cr_skip_test("erlang-snmp is not installed (scripts/bootstrap installs it)");
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "coldStart");
	cr_assert_str_eq(st_mib_node_module(mib, node), "STANDARD-MIB");
	cr_assert_eq(node->kind, ST_MIB_K_NOTIFICATION);
	cr_assert_eq(node->smiv2, 0);
}

Test(std, ifoperstatus_instance_and_enum, .init = load, .fini = unload)
{
	uint8_t ber[64];
	size_t len = fix_ber(IFOPERSTATUS_7, N(IFOPERSTATUS_7), ber), suffix = 0;
	const st_mib_node_t *node = st_mib_lookup_ber(mib, ber, len, &suffix);
	char name[ST_MIB_NAME_BOUND(6, 12, 1)];

	cr_assert_not_null(node);
	cr_assert_eq(suffix, 1);
	cr_assert_eq(node->kind, ST_MIB_K_COLUMN);
	cr_assert_eq(node->type, ST_MIB_T_INTEGER);
	cr_assert_eq(st_mib_render_name(mib, node, ber, len, suffix, name, sizeof(name)),
	             (int)strlen("IF-MIB::ifOperStatus.7"));
	cr_assert_str_eq(name, "IF-MIB::ifOperStatus.7");
	cr_assert_str_eq(st_mib_enum_label(mib, node, 2), "down");
	cr_assert_str_eq(st_mib_enum_label(mib, node, 1), "up");
	cr_assert_str_eq(st_mib_enum_label(mib, node, 7), "lowerLayerDown");
	cr_assert_null(st_mib_enum_label(mib, node, 42));
	/* the same through the sub-identifier form */
	cr_assert_eq(st_mib_lookup(mib, IFOPERSTATUS_7, N(IFOPERSTATUS_7), &suffix), node);
	/* one byte short of the bound is refused, never overrun */
	cr_assert_eq(st_mib_render_name(mib, node, ber, len, suffix, name, strlen(name)),
	             ST_ERR_MIB_SPACE);
}

Test(std, ifphysaddress_rendered_with_its_hint, .init = load, .fini = unload)
{
	static const uint8_t mac[] = {0x00, 0x0c, 0x29, 0xa2, 0xb3, 0xc4};
	size_t suffix;
	const st_mib_node_t *node =
	        st_mib_lookup(mib, IFPHYSADDRESS_7, N(IFPHYSADDRESS_7), &suffix);
	char out[ST_MIB_HINT_OCTETS_BOUND(6)];

	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_module(mib, node), "IF-MIB");
	cr_assert_eq(node->type, ST_MIB_T_OCTETS);
	cr_assert_str_eq(st_mib_node_hint(mib, node), "1x:");
	cr_assert_eq(
	        st_mib_hint_octets(st_mib_node_hint(mib, node), mac, sizeof(mac), out, sizeof(out)),
	        17);
	cr_assert_str_eq(out, "00:0c:29:a2:b3:c4");
}

Test(std, application_types_survive_textual_conventions, .init = load, .fini = unload)
{
	size_t suffix;
	const st_mib_node_t *node = st_mib_lookup(mib, SYSUPTIME_0, N(SYSUPTIME_0), &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "sysUpTime");
	cr_assert_eq(suffix, 1);
	cr_assert_eq(node->kind, ST_MIB_K_SCALAR);
	cr_assert_eq(node->type, ST_MIB_T_TIMETICKS);
	/* ifIndex is InterfaceIndex, a TC over Integer32 with hint "d" */
	node = st_mib_lookup(mib, IFINDEX_7, N(IFINDEX_7), &suffix);
	cr_assert_not_null(node);
	cr_assert_eq(node->type, ST_MIB_T_INTEGER);
	cr_assert_str_eq(st_mib_node_hint(mib, node), "d");
}

Test(std, smiv2_if_mib_wins_over_smiv1_rfc1213, .init = load, .fini = unload)
{
	size_t suffix;
	const st_mib_node_t *node = st_mib_lookup(mib, IFOPERSTATUS_7, N(IFOPERSTATUS_7), &suffix);
	cr_assert_str_eq(st_mib_node_module(mib, node), "IF-MIB");
	cr_assert_eq(node->smiv2, 1);
}

static void load_rfc1213_first(void)
{
	static const char *const prefer[] = {"RFC1213-MIB", NULL};
	load_prefer(prefer);
}

Test(std, pinned_rfc1213_wins_and_loses_if_mib_labels, .init = load_rfc1213_first, .fini = unload)
{
	size_t suffix;
	const st_mib_node_t *node = st_mib_lookup(mib, IFOPERSTATUS_7, N(IFOPERSTATUS_7), &suffix);
	cr_assert_str_eq(st_mib_node_module(mib, node), "RFC1213-MIB");
	cr_assert_eq(node->smiv2, 0);
	cr_assert_str_eq(st_mib_enum_label(mib, node, 2), "down");
	/* RFC1213-MIB knows only up(1), down(2), testing(3) */
	cr_assert_null(st_mib_enum_label(mib, node, 5));
	/* and its ifPhysAddress is a plain OCTET STRING: no hint */
	node = st_mib_lookup(mib, IFPHYSADDRESS_7, N(IFPHYSADDRESS_7), &suffix);
	cr_assert_str_eq(st_mib_node_module(mib, node), "RFC1213-MIB");
	cr_assert_null(st_mib_node_hint(mib, node));
	/* objects only IF-MIB defines still come from it */
	node = st_mib_lookup(mib, LINKDOWN, N(LINKDOWN), &suffix);
	cr_assert_str_eq(st_mib_node_module(mib, node), "IF-MIB");
}

Test(std, unknown_oids_get_no_name, .init = load, .fini = unload)
{
	static const uint32_t enterprise[] = {1, 3, 6, 1, 4, 1, 99999, 1, 2, 3};
	static const uint32_t column[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 99, 1};
	static const uint32_t outside[] = {1, 2, 840, 113549};
	static const uint32_t below_notification[] = {1, 3, 6, 1, 6, 3, 1, 1, 5, 3, 1};
	size_t suffix;
	cr_assert_null(st_mib_lookup(mib, enterprise, N(enterprise), &suffix));
	cr_assert_null(st_mib_lookup(mib, column, N(column), &suffix));
	cr_assert_null(st_mib_lookup(mib, outside, N(outside), &suffix));
	cr_assert_null(st_mib_lookup(mib, below_notification, N(below_notification), &suffix));
	cr_assert_null(st_mib_lookup(mib, NULL, 0, &suffix));
	cr_assert_null(st_mib_lookup_ber(mib, NULL, 0, &suffix));
}

Test(std, node_oid_round_trips, .init = load, .fini = unload)
{
	size_t n, checked = 0;
	const st_mib_node_t *nodes = st_mib_nodes(mib, &n);
	for (size_t i = 0; i < n; i++) {
		uint32_t sub[ST_MIB_OID_MAX];
		size_t suffix = 1;
		int len;
		if (!nodes[i].name || nodes[i].depth < 2) /* iso, ccitt: no BER form */
			continue;
		len = st_mib_node_oid(mib, &nodes[i], sub, ST_MIB_OID_MAX);
		cr_assert_gt(len, 0);
		cr_assert_eq(st_mib_lookup(mib, sub, (size_t)len, &suffix), &nodes[i]);
		cr_assert_eq(suffix, 0);
		checked++;
	}
	cr_assert_geq(checked + 3, stats.nodes);
	cr_assert_gt(checked, 500);
}

Test(std, v1_trap_without_enterprise_is_unknown, .init = load, .fini = unload)
{
	/* an empty enterprise has no OID; "0.0" is SNMPv2-SMI's zeroDotZero,
	 * an OBJECT-IDENTITY, not a notification */
	static const uint8_t none[1] = {0};
	static const uint32_t zdz[] = {0, 0};
	cr_assert_not_null(st_mib_lookup(mib, zdz, 2, NULL), "zeroDotZero is loaded");
	cr_assert_null(st_mib_lookup_v1trap(mib, none, 0, 6, 0));
}

/* an instance suffix longer than any named OID: every part counted, multi-octet ones too */
Test(std, long_instance_suffix_is_counted_whole, .init = load, .fini = unload)
{
	uint32_t sub[ST_MIB_OID_MAX];
	size_t n = N(IFOPERSTATUS_7) - 1, suffix = 0;
	memcpy(sub, IFOPERSTATUS_7, n * sizeof(sub[0]));
	for (; n < ST_MIB_OID_MAX; n++)
		sub[n] = (n % 3) ? 7 : 300000; /* 1- and 3-octet sub-identifiers */
	const st_mib_node_t *node = st_mib_lookup(mib, sub, n, &suffix);
	cr_assert_not_null(node);
	cr_assert_str_eq(st_mib_node_name(mib, node), "ifOperStatus");
	cr_assert_eq(suffix, ST_MIB_OID_MAX - (N(IFOPERSTATUS_7) - 1));
	/* and a long OID under an unknown enterprise is still unknown */
	static const uint32_t ent[] = {1, 3, 6, 1, 4, 1, 99999};
	memcpy(sub, ent, sizeof(ent));
	cr_assert_null(st_mib_lookup(mib, sub, ST_MIB_OID_MAX, &suffix));
}

/* a BITS value too long for the buffer is refused, never overrun */
Test(std, bits_beyond_the_buffer_are_refused, .init = load, .fini = unload)
{
	static const uint32_t oid[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 8};
	size_t suffix;
	const st_mib_node_t *node = st_mib_lookup(mib, oid, N(oid), &suffix);
	uint8_t val[4096];
	char buf[64];
	cr_assert_not_null(node);
	memset(val, 0xff, sizeof(val));
	cr_assert_eq(st_mib_render_bits(mib, node, val, sizeof(val), ' ', buf, sizeof(buf)),
	             ST_ERR_MIB_SPACE);
}
