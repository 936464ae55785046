/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of st_mib shared by its files: the layout of the block, the OID
 * iterator that lets one walk serve uint32_t arrays and BER octets, and the
 * builder the parser child fills.
 *
 * Block layout (every offset is from the block's first byte, 8-aligned):
 *   st_mib_hdr_t | st_mib_node_t[nnodes] | st_mib_nent_t[mask+1]
 *   | st_mib_enum_t[...] | BER octets of named nodes' OIDs
 *   | strings (NUL-terminated; offset 0 is "")
 * Node 0 is the root of the OID tree. The table maps the BER octets of a
 * named node's OID (by st_mib_pfx_hash()) to the node; a slot with node 0
 * is empty (the root has no name).
 */
#ifndef ST_MIB_INT_H
#define ST_MIB_INT_H

#include "st_mib.h"

#define ST_MIB_MAGIC 0x314d4953u /* "SIM1" */

typedef struct st_mib_hdr {
	uint32_t magic;
	uint32_t size;
	uint32_t nnodes, nodes;
	uint32_t mask, hash;
	uint32_t nnamed, nnotif, overlaps;
	uint32_t pad_;
} st_mib_hdr_t;

/* builder's tree edge: (parent, sub-id) -> child */
typedef struct st_mib_hent {
	uint32_t parent, sub, child;
} st_mib_hent_t;

/* lookup table slot: high bits of the prefix hash, and the named node */
typedef struct st_mib_nent {
	uint32_t tag, node;
} st_mib_nent_t;

struct st_mib {
	const char *base; /* the block, right after this struct */
	const st_mib_node_t *nodes;
	const st_mib_nent_t *table;
	uint32_t mask;
	uint32_t max_ber; /* longest BER form of a named node's OID: no lookup probes deeper */
	size_t size;
};

/*
 * Hash of the first len BER octets of an OID. It reads only the last 16
 * octets, the first 8 of a long one and the length, in three loads, so that hashing every prefix of
 * a varbind's OID costs no loop over its octets and no load depends on another; prefixes that agree
 * there collide and are told apart by the memcmp that confirms every hit.
 */
static inline uint64_t st_mib_pfx_hash(const uint8_t *ber, size_t len)
{
	uint64_t a = 0, b = 0, c = 0;
	if (len >= 24) /* the enterprise's number is in the first octets */
		__builtin_memcpy(&c, ber, 8);
	if (len >= 16) {
		__builtin_memcpy(&a, ber + len - 8, 8);
		__builtin_memcpy(&b, ber + len - 16, 8);
	} else if (len >= 8) {
		__builtin_memcpy(&a, ber + len - 8, 8);
		for (size_t i = 0; i < len - 8; i++)
			b = b << 8 | ber[i];
	} else {
		for (size_t i = 0; i < len; i++)
			a = a << 8 | ber[i];
	}
	uint64_t h = (a ^ (uint64_t)len << 56) * 0x9e3779b97f4a7c15ull;
	h ^= (b + (h >> 29)) * 0xc2b2ae3d27d4eb4full;
	h ^= (c + (h >> 31)) * 0x165667b19e3779f9ull;
	return h ^ (h >> 32);
}

static inline uint32_t st_mib_hash(uint32_t parent, uint32_t sub)
{
	uint64_t h = ((uint64_t)parent << 32 | sub) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

/* sub-identifiers of an OID, from either representation */
typedef struct st_oid_iter {
	const uint32_t *sub;
	const uint8_t *ber;
	size_t n, i;
	uint32_t second; /* the second arc of the first BER octet(s) */
	int pending;
	int tail; /* BER that starts past the first arcs: no split */
} st_oid_iter_t;

static inline void st_oid_iter_sub(st_oid_iter_t *it, const uint32_t *sub, size_t n)
{
	*it = (st_oid_iter_t){.sub = sub, .n = n};
}

static inline void st_oid_iter_ber(st_oid_iter_t *it, const uint8_t *ber, size_t len)
{
	*it = (st_oid_iter_t){.ber = ber, .n = len};
}

static inline int st_oid_next(st_oid_iter_t *it, uint32_t *out)
{
	uint64_t v = 0;
	int first;
	if (!it->ber) {
		if (it->i >= it->n)
			return 0;
		*out = it->sub[it->i++];
		return 1;
	}
	if (it->pending) {
		it->pending = 0;
		*out = it->second;
		return 1;
	}
	if (it->i >= it->n)
		return 0;
	first = it->i == 0 && !it->tail;
	do {
		v = v << 7 | (it->ber[it->i] & 0x7f);
		if (v > UINT32_MAX + 80ull)
			return 0; /* the codec validated it; be safe on other input */
	} while ((it->ber[it->i++] & 0x80) && it->i < it->n);
	if (first) { /* the first octets carry two arcs: X*40+Y */
		uint32_t x = v < 40 ? 0 : v < 80 ? 1 : 2;
		it->second = (uint32_t)(v - 40u * x);
		it->pending = 1;
		*out = x;
		return 1;
	}
	*out = (uint32_t)v;
	return 1;
}

/* builder, in the parser child */
typedef struct st_mib_def {
	uint32_t *oid;
	uint32_t noid;
	const char *module, *name, *hint;
	st_mib_enum_t *enums; /* labels as pointers cast through uintptr in the builder */
	const char **labels;
	uint32_t nenums;
	uint8_t kind, type, status, smiv2;
	uint32_t rank; /* position in opts.prefer, or UINT32_MAX */
} st_mib_def_t;

/**
 * Build the block from definitions (sorted and deduplicated inside).
 * @return the block (malloc'd) and its size, or NULL on ENOMEM.
 */
void *st_mib_build(st_mib_def_t *defs, size_t ndefs, size_t *size);

/** Wrap a received block (takes ownership of nothing; copies it). */
int st_mib_from_block(const void *block, size_t size, st_mib_t **out);

#endif /* ST_MIB_INT_H */
