/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block the parser child sends is untrusted: a crashing parser or a
 * hostile MIB may have corrupted the child's memory. st_mib_from_block()
 * must accept the block st_mib_build() makes and refuse every block whose
 * offsets, indexes or counts would make a lookup or a renderer read outside
 * it or probe forever.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mib_int.h"

static uint32_t IFTABLE[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 8};
static uint32_t LINKDOWN[] = {1, 3, 6, 1, 6, 3, 1, 1, 5, 3};
static st_mib_enum_t ENUMS[] = {{1, 0}, {2, 0}};
static const char *LABELS[] = {"up", "down"};

static void *block;
static size_t size;

static void build(void)
{
	st_mib_def_t defs[] = {
	        {.oid = IFTABLE,
	         .noid = 10,
	         .module = "IF-MIB",
	         .name = "ifOperStatus",
	         .hint = NULL,
	         .enums = ENUMS,
	         .labels = LABELS,
	         .nenums = 2,
	         .kind = ST_MIB_K_COLUMN,
	         .type = ST_MIB_T_INTEGER,
	         .smiv2 = 1,
	         .rank = UINT32_MAX},
	        {.oid = LINKDOWN,
	         .noid = 10,
	         .module = "IF-MIB",
	         .name = "linkDown",
	         .kind = ST_MIB_K_NOTIFICATION,
	         .smiv2 = 1,
	         .rank = UINT32_MAX},
	};
	block = st_mib_build(defs, 2, &size);
	cr_assert_not_null(block);
}

static void drop(void)
{
	free(block);
}

/* a copy of the block with one change, and st_mib_from_block()'s answer */
static int load_changed(void (*change)(char *b, size_t n))
{
	char *copy = malloc(size);
	st_mib_t *mib = (st_mib_t *)1;
	cr_assert_not_null(copy);
	memcpy(copy, block, size);
	change(copy, size);
	int rc = st_mib_from_block(copy, size, &mib);
	if (rc == 0)
		st_mib_free(mib);
	else
		cr_assert_null(mib);
	free(copy);
	return rc;
}

static st_mib_hdr_t *H(char *b)
{
	return (st_mib_hdr_t *)b;
}

static st_mib_node_t *named(char *b)
{
	/* the first node with a name and enumerations: ifOperStatus */
	st_mib_node_t *nodes = (st_mib_node_t *)(b + H(b)->nodes);
	for (uint32_t i = 0; i < H(b)->nnodes; i++)
		if (nodes[i].nenums)
			return &nodes[i];
	cr_assert_fail("no node with enumerations");
	return NULL;
}

static void nothing(char *b, size_t n)
{
	(void)b;
	(void)n;
}

static void name_past_end(char *b, size_t n)
{
	named(b)->name = (uint32_t)n;
}

static void hint_far_past_end(char *b, size_t n)
{
	named(b)->hint = UINT32_MAX;
}

static void parent_out_of_range(char *b, size_t n)
{
	named(b)->parent = H(b)->nnodes;
}

static void enums_past_end(char *b, size_t n)
{
	named(b)->nenums = UINT16_MAX;
}

static void enum_label_past_end(char *b, size_t n)
{
	st_mib_node_t *node = named(b);
	((st_mib_enum_t *)(b + node->enums))[1].label = (uint32_t)n + 100;
}

static void ber_past_end(char *b, size_t n)
{
	named(b)->ber = (uint32_t)n - 2;
}

static void depth_too_deep(char *b, size_t n)
{
	named(b)->depth = ST_MIB_OID_MAX + 1;
}

static void last_string_unterminated(char *b, size_t n)
{
	b[n - 1] = 'x';
}

static void table_slot_out_of_range(char *b, size_t n)
{
	st_mib_nent_t *t = (st_mib_nent_t *)(b + H(b)->hash);
	t[0].node = H(b)->nnodes + 7;
}

static void table_full(char *b, size_t n)
{
	/* no empty slot: a probe for an unknown OID would never end */
	st_mib_nent_t *t = (st_mib_nent_t *)(b + H(b)->hash);
	for (uint32_t i = 0; i <= H(b)->mask; i++)
		if (!t[i].node)
			t[i].node = 1;
}

static void mask_not_power_of_two(char *b, size_t n)
{
	H(b)->mask = 6;
}

static void table_past_end(char *b, size_t n)
{
	H(b)->mask = (H(b)->mask + 1) * 1024 - 1;
}

static void nodes_past_end(char *b, size_t n)
{
	H(b)->nnodes = UINT32_MAX / 8;
}

static void nodes_misaligned(char *b, size_t n)
{
	H(b)->nodes += 2;
}

static void no_nodes(char *b, size_t n)
{
	H(b)->nnodes = 0;
}

Test(block, the_built_block_loads_and_answers, .init = build, .fini = drop)
{
	st_mib_t *mib;
	size_t suffix = 9;
	uint32_t inst[11];
	char name[64];

	cr_assert_eq(load_changed(nothing), 0);
	cr_assert_eq(st_mib_from_block(block, size, &mib), 0);
	memcpy(inst, IFTABLE, sizeof(IFTABLE));
	inst[10] = 7;
	const st_mib_node_t *node = st_mib_lookup(mib, inst, 11, &suffix);
	cr_assert_not_null(node);
	cr_assert_eq(suffix, 1);
	cr_assert_str_eq(st_mib_enum_label(mib, node, 2), "down");
	cr_assert_gt(st_mib_render_name_sub(mib, node, inst, 11, suffix, name, sizeof(name)), 0);
	cr_assert_str_eq(name, "IF-MIB::ifOperStatus.7");
	st_mib_free(mib);
}

Test(block, every_corruption_is_refused, .init = build, .fini = drop)
{
	static const struct {
		const char *what;
		void (*change)(char *, size_t);
	} cases[] = {
	        {"name past the end", name_past_end},
	        {"hint far past the end", hint_far_past_end},
	        {"parent out of range", parent_out_of_range},
	        {"enumerations past the end", enums_past_end},
	        {"enumeration label past the end", enum_label_past_end},
	        {"BER octets past the end", ber_past_end},
	        {"depth over ST_MIB_OID_MAX", depth_too_deep},
	        {"last string unterminated", last_string_unterminated},
	        {"table slot out of range", table_slot_out_of_range},
	        {"table without an empty slot", table_full},
	        {"table mask not 2^k-1", mask_not_power_of_two},
	        {"table past the end", table_past_end},
	        {"nodes past the end", nodes_past_end},
	        {"nodes misaligned", nodes_misaligned},
	        {"no nodes", no_nodes},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(load_changed(cases[i].change), ST_ERR_MIB_PARSER, "%s accepted",
		             cases[i].what);
}

Test(block, short_or_mislabelled_blocks_are_refused, .init = build, .fini = drop)
{
	st_mib_t *mib;
	cr_assert_eq(st_mib_from_block(block, size - 8, &mib), ST_ERR_MIB_PARSER);
	cr_assert_eq(st_mib_from_block(block, 4, &mib), ST_ERR_MIB_PARSER);
	((st_mib_hdr_t *)block)->magic ^= 1;
	cr_assert_eq(st_mib_from_block(block, size, &mib), ST_ERR_MIB_PARSER);
}

/* the name st_mib_build() keeps for IFTABLE among defs, and its overlap count */
static const char *kept(st_mib_def_t *defs, size_t n, uint32_t *overlaps)
{
	static char name[64];
	size_t len, suffix;
	void *b = st_mib_build(defs, n, &len);
	st_mib_t *mib;

	cr_assert_eq(st_mib_from_block(b, len, &mib), 0);
	*overlaps = ((const st_mib_hdr_t *)b)->overlaps;
	const st_mib_node_t *node = st_mib_lookup(mib, IFTABLE, 10, &suffix);
	cr_assert_not_null(node);
	snprintf(name, sizeof(name), "%s::%s", st_mib_node_module(mib, node),
	         st_mib_node_name(mib, node));
	st_mib_free(mib);
	free(b);
	return name;
}

#define DEF(mod, nm)                                                                               \
	{                                                                                          \
		.oid = IFTABLE, .noid = 10, .module = mod, .name = nm, .rank = UINT32_MAX          \
	}

Test(build, one_module_naming_an_oid_twice_keeps_the_same_name_in_any_order)
{
	st_mib_def_t ab[] = {DEF("ACME-MIB", "beta"), DEF("ACME-MIB", "alpha")};
	st_mib_def_t ba[] = {DEF("ACME-MIB", "alpha"), DEF("ACME-MIB", "beta")};
	uint32_t overlaps;
	cr_assert_str_eq(kept(ab, 2, &overlaps), "ACME-MIB::alpha");
	cr_assert_eq(overlaps, 0, "one module is no overlap");
	cr_assert_str_eq(kept(ba, 2, &overlaps), "ACME-MIB::alpha");
}

Test(build, an_oid_three_modules_define_is_one_overlap)
{
	st_mib_def_t defs[] = {DEF("C-MIB", "c"), DEF("A-MIB", "a"), DEF("B-MIB", "b"),
	                       DEF("A-MIB", "a2")};
	uint32_t overlaps;
	cr_assert_str_eq(kept(defs, 4, &overlaps), "A-MIB::a");
	cr_assert_eq(overlaps, 1);
}

/* the OID forms the codec can hand over: 128 arcs, arcs of 2^32-1, the
 * largest first octets, and nothing at all */
Test(block, lookups_take_every_oid_the_codec_accepts, .init = build, .fini = drop)
{
	st_mib_t *mib;
	uint32_t sub[ST_MIB_OID_MAX + 1];
	uint8_t ber[ST_MIB_OID_MAX * 5];
	size_t suffix = 0;
	int len;

	cr_assert_eq(st_mib_from_block(block, size, &mib), 0);
	/* ifOperStatus and a 118-arc index of 4294967295s: 128 arcs, 635 octets */
	memcpy(sub, IFTABLE, sizeof(IFTABLE));
	for (size_t i = 10; i < ST_MIB_OID_MAX; i++)
		sub[i] = UINT32_MAX;
	len = st_mib_oid_ber(sub, ST_MIB_OID_MAX, ber, sizeof(ber));
	cr_assert_eq(len, 9 + 118 * 5);
	const st_mib_node_t *node = st_mib_lookup_ber(mib, ber, (size_t)len, &suffix);
	cr_assert_not_null(node);
	cr_assert_eq(suffix, 118);
	cr_assert_eq(st_mib_lookup(mib, sub, ST_MIB_OID_MAX, &suffix), node);
	/* its name fits the bound exactly, and not one octet less */
	size_t bound = ST_MIB_NAME_BOUND(strlen("IF-MIB"), strlen("ifOperStatus"), 118);
	char *name = malloc(bound);
	cr_assert_eq(st_mib_render_name(mib, node, ber, (size_t)len, suffix, name, bound),
	             (int)bound - 1);
	cr_assert_eq(strncmp(name, "IF-MIB::ifOperStatus.4294967295.4294967295", 42), 0);
	cr_assert_eq(st_mib_render_name(mib, node, ber, (size_t)len, suffix, name, bound - 1),
	             ST_ERR_MIB_SPACE);
	cr_assert_eq(st_mib_render_name_sub(mib, node, sub, ST_MIB_OID_MAX, suffix, name, bound),
	             (int)bound - 1);
	free(name);
	/* 129 arcs are no OID the codec accepts */
	sub[ST_MIB_OID_MAX] = 1;
	cr_assert_null(st_mib_lookup(mib, sub, ST_MIB_OID_MAX + 1, &suffix));
	/* 2.(2^32-81): the largest first sub-identifier, 8f ff ff ff 7f */
	static const uint8_t big_first[] = {0x8f, 0xff, 0xff, 0xff, 0x7f, 0x01};
	cr_assert_null(st_mib_lookup_ber(mib, big_first, sizeof(big_first), &suffix));
	/* one octet (two arcs), none, and a BER that does not end an arc */
	cr_assert_null(st_mib_lookup_ber(mib, (const uint8_t *)"\x2b", 1, &suffix));
	cr_assert_null(st_mib_lookup_ber(mib, ber, 0, &suffix));
	cr_assert_null(st_mib_lookup_ber(mib, (const uint8_t *)"\x2b\x86", 2, &suffix));
	st_mib_free(mib);
}

/* every reader over every node and a few OIDs: what a worker may do with
 * an accepted block (under ASan, any read outside it fails the test) */
static size_t read_everything(const st_mib_t *mib)
{
	size_t n, acc = 0;
	const st_mib_node_t *nodes = st_mib_nodes(mib, &n);
	static const uint8_t bits[] = {0xff, 0xff};
	for (size_t i = 0; i < n; i++) {
		const st_mib_node_t *node = &nodes[i];
		uint32_t sub[ST_MIB_OID_MAX];
		char buf[4096];
		int len = st_mib_node_oid(mib, node, sub, ST_MIB_OID_MAX);
		acc += strlen(st_mib_node_module(mib, node)) + strlen(st_mib_node_name(mib, node));
		acc += st_mib_node_hint(mib, node) ? strlen(st_mib_node_hint(mib, node)) : 0;
		for (int64_t v = -1; v < 3; v++)
			acc += st_mib_enum_label(mib, node, v) ? 1 : 0;
		if (st_mib_bits_bound(mib, node, sizeof(bits)) <= sizeof(buf))
			acc += (size_t)st_mib_render_bits(mib, node, bits, sizeof(bits), ' ', buf,
			                                  sizeof(buf));
		if (len >= 2) {
			size_t suffix;
			const st_mib_node_t *hit = st_mib_lookup(mib, sub, (size_t)len, &suffix);
			if (hit)
				acc += (size_t)st_mib_render_name_sub(mib, hit, sub, (size_t)len,
				                                      suffix, buf, sizeof(buf));
		}
	}
	return acc;
}

Test(block, random_corruptions_never_lead_outside_the_block, .init = build, .fini = drop)
{
	uint32_t seed = 12345, accepted = 0;
	char *copy = malloc(size);
	cr_assert_not_null(copy);
	for (int round = 0; round < 20000; round++) {
		st_mib_t *mib;
		memcpy(copy, block, size);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % (size / 4) * 4;
			seed = seed * 1103515245u + 12345u;
			uint32_t word = round & 1 ? seed : seed >> (seed % 32); /* big or small */
			memcpy(copy + at, &word, 4);
		}
		if (st_mib_from_block(copy, size, &mib))
			continue;
		accepted++;
		read_everything(mib);
		st_mib_free(mib);
	}
	free(copy);
	cr_assert_gt(accepted, 0, "no corruption was harmless enough to accept");
}
