/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lookup structure: building it from definitions, and reading it.
 *
 * st_mib_build() runs in the parser child. It sorts the definitions by OID
 * and, where several modules define one OID, keeps the best by the rule in
 * st_mib.h; then it lays every kept definition and every prefix of its OID
 * out as nodes of a tree whose edges live in one open-addressed hash table
 * ((parent, sub-id) -> child, load factor at most 1/2), interns strings, and
 * writes the whole as one block of offsets. Readers walk the OID one
 * sub-identifier per hash probe and remember the deepest named node; that
 * is the whole hot path, with no pointer chasing beyond the table and the
 * node array.
 */
#include "mib_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---------------------------------------------------------- */

static const st_mib_node_t *find(const st_mib_t *mib, const uint8_t *oid, size_t len,
                                 size_t *suffix)
{
	size_t p = len, after = 0;

	if (!len || (oid[len - 1] & 0x80))
		return NULL; /* not a whole OID */
	/*
	 * No named node is longer than max_ber octets: the sub-identifiers that
	 * end beyond it are instance (or unknown) parts, counted without a probe,
	 * so a long unknown OID costs a count, not one probe per sub-identifier.
	 */
	for (; p > mib->max_ber; p--)
		if (!(oid[p - 1] & 0x80))
			after++;
	/* p runs over the ends of sub-identifiers, longest prefix first */
	for (; p > 0; p--) {
		if (oid[p - 1] & 0x80)
			continue;
		uint64_t h = st_mib_pfx_hash(oid, p);
		uint32_t tag = (uint32_t)(h >> 32), slot = (uint32_t)h & mib->mask;
		for (;; slot = (slot + 1) & mib->mask) {
			const st_mib_nent_t *e = &mib->table[slot];
			if (!e->node)
				break;
			if (e->tag != tag)
				continue;
			const st_mib_node_t *node = &mib->nodes[e->node];
			if (node->ber_len != p || memcmp(mib->base + node->ber, oid, p))
				continue;
			/* the deepest named node: an answer if it is the OID or an object */
			if (after && node->kind != ST_MIB_K_SCALAR && node->kind != ST_MIB_K_COLUMN)
				return NULL;
			if (suffix)
				*suffix = after;
			return node;
		}
		after++;
	}
	return NULL;
}

const st_mib_node_t *st_mib_lookup(const st_mib_t *mib, const uint32_t *sub, size_t n,
                                   size_t *suffix)
{
	uint8_t ber[ST_MIB_OID_MAX * 5];
	int len;
	if (!mib || n < 2 || n > ST_MIB_OID_MAX)
		return NULL;
	len = st_mib_oid_ber(sub, n, ber, sizeof(ber));
	return len > 0 ? find(mib, ber, (size_t)len, suffix) : NULL;
}

const st_mib_node_t *st_mib_lookup_ber(const st_mib_t *mib, const uint8_t *oid, size_t len,
                                       size_t *suffix)
{
	if (!mib || !len)
		return NULL;
	return find(mib, oid, len, suffix);
}

const st_mib_node_t *st_mib_lookup_v1trap(const st_mib_t *mib, const uint8_t *enterprise,
                                          size_t len, int32_t generic, int32_t specific)
{
	uint32_t sub[ST_MIB_OID_MAX + 2];
	size_t n = 0, suffix = 1;
	const st_mib_node_t *node;

	if (generic >= 0 && generic <= 5) {
		static const uint32_t snmp_traps[] = {1, 3, 6, 1, 6, 3, 1, 1, 5};
		memcpy(sub, snmp_traps, sizeof(snmp_traps));
		n = 9;
		sub[n++] = (uint32_t)generic + 1;
	} else if (generic == 6 && specific >= 0 && len) { /* no enterprise: no OID */
		st_oid_iter_t it;
		st_oid_iter_ber(&it, enterprise, len);
		while (n < ST_MIB_OID_MAX && st_oid_next(&it, &sub[n]))
			n++;
		sub[n++] = 0;
		sub[n++] = (uint32_t)specific;
	} else {
		return NULL;
	}
	node = st_mib_lookup(mib, sub, n, &suffix);
	return node && suffix == 0 ? node : NULL;
}

const char *st_mib_node_module(const st_mib_t *mib, const st_mib_node_t *node)
{
	return mib->base + node->module;
}

const char *st_mib_node_name(const st_mib_t *mib, const st_mib_node_t *node)
{
	return mib->base + node->name;
}

const char *st_mib_node_hint(const st_mib_t *mib, const st_mib_node_t *node)
{
	return node->hint ? mib->base + node->hint : NULL;
}

const st_mib_node_t *st_mib_nodes(const st_mib_t *mib, size_t *n)
{
	*n = ((const st_mib_hdr_t *)mib->base)->nnodes;
	return mib->nodes;
}

int st_mib_node_oid(const st_mib_t *mib, const st_mib_node_t *node, uint32_t *sub, size_t cap)
{
	size_t depth = node->depth;
	if (depth > cap)
		return ST_ERR_MIB_SPACE;
	for (size_t i = depth; i > 0; i--) {
		sub[i - 1] = node->sub;
		node = &mib->nodes[node->parent];
	}
	return (int)depth;
}

int st_mib_oid_ber(const uint32_t *sub, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 0;
	/* X.690 8.19.4: the first two arcs share an octet, so only 0-2 and,
	 * under 0 and 1, only 0-39 are encodable; 1.43 would read back as 2.3 */
	if (n >= 2 && (sub[0] > 2 || (sub[0] < 2 && sub[1] >= 40)))
		return -EINVAL;
	for (size_t i = 1; i < n; i++) {
		uint64_t v = i == 1 ? (uint64_t)sub[0] * 40 + sub[1] : sub[i];
		uint8_t tmp[10];
		size_t k = 0;
		do {
			tmp[k++] = v & 0x7f;
			v >>= 7;
		} while (v);
		if (len + k > cap)
			return ST_ERR_MIB_SPACE;
		while (k--)
			out[len++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
	}
	return (int)len;
}

size_t st_mib_size(const st_mib_t *mib)
{
	return mib ? mib->size : 0;
}

void st_mib_free(st_mib_t *mib)
{
	free(mib);
}

/*
 * The block comes from the parser child, whose memory a crashing parser or
 * a hostile MIB may have corrupted: every offset, index and count a reader
 * follows is checked here, once, so that no later lookup or render can read
 * outside the block or loop forever. Strings need no scan: the block ends
 * in a NUL, so every string inside it ends within it.
 */
_Static_assert(sizeof(st_mib_t) % 8 == 0, "the block after st_mib_t stays 8-aligned");

static int in_block(uint64_t off, uint64_t len, uint64_t size, uint64_t align)
{
	return off % align == 0 && off <= size && len <= size - off;
}

static int block_valid(const char *base, size_t size)
{
	const st_mib_hdr_t *hdr = (const st_mib_hdr_t *)base;
	const st_mib_node_t *nodes = (const st_mib_node_t *)(base + hdr->nodes);
	const st_mib_nent_t *table = (const st_mib_nent_t *)(base + hdr->hash);
	uint64_t nslots = (uint64_t)hdr->mask + 1, empty = 0;

	if (base[size - 1] != 0 || !hdr->nnodes ||
	    !in_block(hdr->nodes, (uint64_t)hdr->nnodes * sizeof(*nodes), size, 8) ||
	    (nslots & (nslots - 1)) || !in_block(hdr->hash, nslots * sizeof(*table), size, 8))
		return 0;
	for (uint64_t i = 0; i < nslots; i++) {
		if (table[i].node >= hdr->nnodes)
			return 0;
		empty += !table[i].node;
	}
	if (!empty) /* a probe ends at an empty slot */
		return 0;
	for (uint32_t i = 0; i < hdr->nnodes; i++) {
		const st_mib_node_t *n = &nodes[i];
		if (n->module >= size || n->name >= size || n->hint >= size ||
		    n->parent >= hdr->nnodes || n->depth > ST_MIB_OID_MAX ||
		    !in_block(n->enums, (uint64_t)n->nenums * sizeof(st_mib_enum_t), size, 4) ||
		    !in_block(n->ber, n->ber_len, size, 1))
			return 0;
		const st_mib_enum_t *e = (const st_mib_enum_t *)(base + n->enums);
		for (uint32_t k = 0; k < n->nenums; k++)
			if (e[k].label >= size)
				return 0;
	}
	return 1;
}

int st_mib_from_block(const void *block, size_t size, st_mib_t **out)
{
	const st_mib_hdr_t *hdr;
	st_mib_t *mib;

	*out = NULL;
	if (size < sizeof(*hdr) || size > UINT32_MAX)
		return ST_ERR_MIB_PARSER;
	mib = malloc(sizeof(*mib) + size);
	if (!mib)
		return -ENOMEM;
	/* checked in the copy: an aligned, private block */
	memcpy(mib + 1, block, size);
	mib->base = (const char *)(mib + 1);
	hdr = (const st_mib_hdr_t *)mib->base;
	if (hdr->magic != ST_MIB_MAGIC || hdr->size != size || !block_valid(mib->base, size)) {
		free(mib);
		return ST_ERR_MIB_PARSER;
	}
	mib->nodes = (const st_mib_node_t *)(mib->base + hdr->nodes);
	mib->table = (const st_mib_nent_t *)(mib->base + hdr->hash);
	mib->mask = hdr->mask;
	mib->max_ber = 0;
	for (uint32_t i = 0; i < hdr->nnodes; i++)
		if (mib->nodes[i].name && mib->nodes[i].ber_len > mib->max_ber)
			mib->max_ber = mib->nodes[i].ber_len;
	mib->size = sizeof(*mib) + size;
	*out = mib;
	return 0;
}

/* ---- building (parser child; allocation failures end the child) ------- */

typedef struct buf {
	char *p;
	size_t len, cap;
} buf_t;

static size_t buf_add(buf_t *b, const void *data, size_t len, size_t align)
{
	size_t at = (b->len + align - 1) & ~(align - 1);
	if (at + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < at + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memset(b->p + b->len, 0, at - b->len);
	if (data)
		memcpy(b->p + at, data, len);
	else
		memset(b->p + at, 0, len);
	b->len = at + len;
	return at;
}

/* string interning: open addressing over offsets into the string pool */
typedef struct strtab {
	buf_t pool;
	uint32_t *slot;
	size_t mask, used;
} strtab_t;

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static uint32_t str_intern(strtab_t *t, const char *s)
{
	size_t h;
	if (!s || !*s)
		return 0;
	if ((t->used + 1) * 2 > t->mask + 1) {
		size_t ncap = (t->mask + 1) * 2;
		uint32_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			abort();
		for (size_t i = 0; i <= t->mask; i++) {
			if (!t->slot[i])
				continue;
			h = str_hash(t->pool.p + t->slot[i]) & (ncap - 1);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = t->slot[i];
		}
		free(t->slot);
		t->slot = ns;
		t->mask = ncap - 1;
	}
	h = str_hash(s) & t->mask;
	while (t->slot[h]) {
		if (!strcmp(t->pool.p + t->slot[h], s))
			return t->slot[h];
		h = (h + 1) & t->mask;
	}
	t->slot[h] = (uint32_t)buf_add(&t->pool, s, strlen(s) + 1, 1);
	t->used++;
	return t->slot[h];
}

static int oid_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* the precedence rule of st_mib.h: best first */
static int def_rank_cmp(const st_mib_def_t *a, const st_mib_def_t *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->smiv2 != b->smiv2)
		return a->smiv2 ? -1 : 1;
	if (a->status != b->status)
		return a->status < b->status ? -1 : 1;
	/* a definition that says more (a type, a hint, labels) before one that says less */
	if ((a->type != 0) != (b->type != 0))
		return a->type ? -1 : 1;
	int c = strcmp(a->module, b->module);
	/* one module naming an OID twice: the first name in byte order, not
	 * whichever the parser listed first */
	return c ? c : strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

static int def_cmp(const void *pa, const void *pb)
{
	const st_mib_def_t *a = pa, *b = pb;
	int c = oid_cmp(a->oid, a->noid, b->oid, b->noid);
	return c ? c : def_rank_cmp(a, b);
}

typedef struct tree {
	buf_t nodes; /* st_mib_node_t */
	st_mib_hent_t *hash;
	size_t mask, used;
} tree_t;

static uint32_t tree_child(tree_t *t, uint32_t parent, uint32_t sub, uint8_t depth)
{
	size_t h;
	if ((t->used + 1) * 2 > t->mask + 1) {
		size_t ncap = (t->mask + 1) * 2;
		st_mib_hent_t *nh = calloc(ncap, sizeof(*nh));
		if (!nh)
			abort();
		for (size_t i = 0; i <= t->mask; i++) {
			if (!t->hash[i].child)
				continue;
			h = st_mib_hash(t->hash[i].parent, t->hash[i].sub) & (ncap - 1);
			while (nh[h].child)
				h = (h + 1) & (ncap - 1);
			nh[h] = t->hash[i];
		}
		free(t->hash);
		t->hash = nh;
		t->mask = ncap - 1;
	}
	h = st_mib_hash(parent, sub) & t->mask;
	while (t->hash[h].child) {
		if (t->hash[h].parent == parent && t->hash[h].sub == sub)
			return t->hash[h].child;
		h = (h + 1) & t->mask;
	}
	st_mib_node_t node = {.depth = depth, .parent = parent, .sub = sub};
	uint32_t id = (uint32_t)(buf_add(&t->nodes, &node, sizeof(node), 4) / sizeof(node));
	t->hash[h] = (st_mib_hent_t){.parent = parent, .sub = sub, .child = id};
	t->used++;
	return id;
}

static int enum_cmp(const void *pa, const void *pb)
{
	const st_mib_enum_t *a = pa, *b = pb;
	return a->value < b->value ? -1 : a->value > b->value;
}

void *st_mib_build(st_mib_def_t *defs, size_t ndefs, size_t *size)
{
	tree_t t = {.mask = 1023};
	strtab_t s = {.mask = 1023};
	buf_t enums = {0}, out = {0};
	st_mib_node_t root = {0};
	st_mib_hdr_t hdr = {.magic = ST_MIB_MAGIC};
	uint32_t nnamed = 0, nnotif = 0, overlaps = 0;
	size_t best = 0;
	int overlapped = 0;
	size_t o_nodes, o_hash, o_enums, o_str;
	st_mib_node_t *nodes;
	st_mib_enum_t *en;

	t.hash = calloc(t.mask + 1, sizeof(*t.hash));
	s.slot = calloc(s.mask + 1, sizeof(*s.slot));
	if (!t.hash || !s.slot)
		abort();
	buf_add(&s.pool, "", 1, 1); /* offset 0 is "" */
	buf_add(&t.nodes, &root, sizeof(root), 4);
	qsort(defs, ndefs, sizeof(*defs), def_cmp);

	for (size_t i = 0; i < ndefs; i++) {
		const st_mib_def_t *d = &defs[i];
		uint32_t v = 0;
		st_mib_node_t *node;

		if (i && !oid_cmp(d->oid, d->noid, defs[best].oid, defs[best].noid)) {
			/* the best definition of this OID came first; count the OID
			 * once however many other modules define it */
			if (!overlapped && strcmp(d->module, defs[best].module)) {
				overlaps++;
				overlapped = 1;
			}
			continue;
		}
		best = i;
		overlapped = 0;
		if (!d->noid || d->noid > ST_MIB_OID_MAX || !d->name || !*d->name)
			continue;
		for (uint32_t k = 0; k < d->noid; k++)
			v = tree_child(&t, v, d->oid[k], (uint8_t)(k + 1));
		node = (st_mib_node_t *)t.nodes.p + v;
		node->module = str_intern(&s, d->module);
		node->name = str_intern(&s, d->name);
		node->hint = str_intern(&s, d->hint);
		node->kind = d->kind;
		node->type = d->type;
		node->status = d->status;
		node->smiv2 = d->smiv2;
		if (d->nenums) {
			size_t at = buf_add(&enums, NULL, d->nenums * sizeof(st_mib_enum_t), 4);
			en = (st_mib_enum_t *)(enums.p + at);
			for (uint32_t k = 0; k < d->nenums; k++)
				en[k] = (st_mib_enum_t){.value = d->enums[k].value,
				                        .label = str_intern(&s, d->labels[k])};
			qsort(en, d->nenums, sizeof(*en), enum_cmp);
			node = (st_mib_node_t *)t.nodes.p + v;
			node->enums = (uint32_t)at;
			node->nenums = (uint16_t)(d->nenums > UINT16_MAX ? UINT16_MAX : d->nenums);
		}
		nnamed++;
		if (d->kind == ST_MIB_K_NOTIFICATION)
			nnotif++;
	}

	/* BER octets of every named node's OID, and the table over them */
	size_t nnodes = t.nodes.len / sizeof(st_mib_node_t), mask = 15;
	buf_t bers = {0};
	st_mib_nent_t *table;
	while (mask + 1 < (size_t)nnamed * 2 + 2)
		mask = mask * 2 + 1;
	table = calloc(mask + 1, sizeof(*table));
	if (!table)
		abort();
	for (size_t i = 1; i < nnodes; i++) {
		st_mib_node_t *nd = (st_mib_node_t *)t.nodes.p + i;
		uint32_t sub[ST_MIB_OID_MAX];
		uint8_t ber[ST_MIB_OID_MAX * 5];
		size_t depth = nd->depth;
		int len;
		if (!nd->name || depth < 2)
			continue; /* a one-arc OID has no BER form: never looked up */
		for (const st_mib_node_t *up = nd; depth > 0; depth--) {
			sub[depth - 1] = up->sub;
			up = (const st_mib_node_t *)t.nodes.p + up->parent;
		}
		len = st_mib_oid_ber(sub, nd->depth, ber, sizeof(ber));
		if (len <= 0)
			continue;
		nd->ber = (uint32_t)buf_add(&bers, ber, (size_t)len, 1);
		nd->ber_len = (uint16_t)len;
		uint64_t h = st_mib_pfx_hash(ber, (size_t)len);
		size_t slot = (uint32_t)h & mask;
		while (table[slot].node)
			slot = (slot + 1) & mask;
		table[slot] = (st_mib_nent_t){.tag = (uint32_t)(h >> 32), .node = (uint32_t)i};
	}

	buf_add(&out, &hdr, sizeof(hdr), 8);
	o_nodes = buf_add(&out, t.nodes.p, t.nodes.len, 8);
	o_hash = buf_add(&out, table, (mask + 1) * sizeof(*table), 8);
	o_enums = buf_add(&out, enums.p, enums.len, 8);
	size_t o_ber = buf_add(&out, bers.p, bers.len, 8);
	o_str = buf_add(&out, s.pool.p, s.pool.len, 8);
	nodes = (st_mib_node_t *)(out.p + o_nodes);
	for (size_t i = 0; i < nnodes; i++) {
		if (nodes[i].module)
			nodes[i].module += (uint32_t)o_str;
		if (nodes[i].name)
			nodes[i].name += (uint32_t)o_str;
		if (nodes[i].hint)
			nodes[i].hint += (uint32_t)o_str;
		nodes[i].enums += (uint32_t)o_enums;
		nodes[i].ber += (uint32_t)o_ber;
	}
	en = (st_mib_enum_t *)(out.p + o_enums);
	for (size_t i = 0; i < enums.len / sizeof(*en); i++)
		en[i].label += (uint32_t)o_str;
	free(table);
	free(bers.p);
	hdr.size = (uint32_t)out.len;
	hdr.nnodes = (uint32_t)(t.nodes.len / sizeof(*nodes));
	hdr.nodes = (uint32_t)o_nodes;
	hdr.mask = (uint32_t)mask;
	hdr.hash = (uint32_t)o_hash;
	hdr.nnamed = nnamed;
	hdr.nnotif = nnotif;
	hdr.overlaps = overlaps;
	memcpy(out.p, &hdr, sizeof(hdr));
	free(t.nodes.p);
	free(t.hash);
	free(s.pool.p);
	free(s.slot);
	free(enums.p);
	*size = out.len;
	return out.p;
}
