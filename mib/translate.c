/* SPDX-License-Identifier: Apache-2.0 */
/*
 * translate.c - the names of one decoded notification, for the JSON line.
 *
 * This is the glue between the codec's decoded message and the lookup
 * structure, and it runs on the collector's hot path: once per notification,
 * in the worker, after decoding and authentication. It looks up the
 * notification OID (a v1 Trap-PDU through RFC 3584's mapping) and every
 * varbind's OID, and writes what the encoder needs into caller-owned
 * memory: the rendered names, BITS lists and DISPLAY-HINT renderings go to
 * one arena, one after the other; enumeration labels are not copied but
 * point into the structure itself, which the caller holds for as long as it
 * uses the names. Nothing is allocated, logged or locked.
 *
 * The varbinds the encoder lifts into "uptime" and "trap_oid" (the first
 * sysUpTime.0 that is TimeTicks and the first snmpTrapOID.0 that is an OID,
 * v2c/v3 only) get no names and are not counted: the same rule as in
 * codec/json.c, so that the count of unknown OIDs is the count of numbers
 * the line shows without a name.
 *
 * The arena is also a budget: an enumeration label is not copied, but its
 * length is taken from the arena's room as if it were, so that the sum of
 * every annotation's length (out->bytes, which st_json_bound_names() counts
 * on) never exceeds the arena's size. A caller that sizes its JSON buffer
 * with ST_JSON_NAMES_BOUND(arena size, varbinds) can therefore always write
 * every name it was given. When the budget runs out (a BITS value of
 * thousands of set bits, or hundreds of varbinds with long instance
 * suffixes or long hinted strings), the annotations that do not fit are
 * left out and counted in out->omitted; the line stays correct and numeric
 * there.
 */
#include <string.h>

#include "st_mib.h"

typedef struct arena {
	char *buf;
	size_t cap, used;
	size_t bytes;     /* annotation bytes handed out: used + enum labels, <= cap */
	uint32_t omitted; /* annotations that did not fit */
} arena_t;

/* Where the next rendering goes, and the room it may take: what is left of
 * the budget (bytes >= used, so it never reaches past the buffer). */
static char *arena_at(const arena_t *a)
{
	return a->buf + a->used;
}

static size_t arena_room(const arena_t *a)
{
	return a->cap - a->bytes;
}

/* Claim a rendering of length rc (>= 0) at the arena's end. A rendering
 * that did not fit is counted; one that does not apply (a hint that does
 * not parse or fit the value) is not. */
static const char *arena_take(arena_t *a, int rc, uint32_t *len)
{
	const char *s = arena_at(a);

	if (rc < 0) {
		if (rc == ST_ERR_MIB_SPACE)
			a->omitted++;
		return NULL;
	}
	a->used += (size_t)rc;
	a->bytes += (size_t)rc;
	*len = (uint32_t)rc;
	return s;
}

static const char *render_name(const st_mib_t *mib, const st_mib_node_t *node, const uint8_t *oid,
                               size_t len, size_t suffix, arena_t *a, uint32_t *out_len)
{
	int rc = st_mib_render_name(mib, node, oid, len, suffix, arena_at(a), arena_room(a));

	return arena_take(a, rc, out_len);
}

/* enum, bits and display of one value, by the node's type and the value's */
static void value_names(const st_mib_t *mib, const st_mib_node_t *node, const st_varbind_t *vb,
                        st_json_vbname_t *nm, arena_t *a)
{
	const char *hint = st_mib_node_hint(mib, node);
	int rc;

	/* a BITS object's labels name bits, not values: an agent that sends one
	 * as an INTEGER gets no enum */
	if (vb->type == ST_BER_INTEGER && node->nenums && node->type != ST_MIB_T_BITS) {
		const char *label = st_mib_enum_label(mib, node, vb->num.i);
		size_t len = label ? strlen(label) : 0;

		if (!label)
			return;
		if (len > arena_room(a)) {
			a->omitted++;
			return;
		}
		nm->enum_ = label;
		nm->enum_len = (uint32_t)len;
		a->bytes += len; /* not copied, but within the budget */
		return;
	}
	if (vb->type == ST_BER_OCTETS && node->type == ST_MIB_T_BITS) {
		rc = st_mib_render_bits(mib, node, vb->val, vb->val_len, ' ', arena_at(a),
		                        arena_room(a));
		nm->bits = arena_take(a, rc, &nm->bits_len);
		return;
	}
	if (!hint)
		return;
	if (vb->type == ST_BER_OCTETS && node->type == ST_MIB_T_OCTETS)
		rc = st_mib_hint_octets(hint, vb->val, vb->val_len, arena_at(a), arena_room(a));
	else if (vb->type == ST_BER_INTEGER)
		rc = st_mib_hint_int(hint, vb->num.i, arena_at(a), arena_room(a));
	else if (vb->type == ST_BER_GAUGE32)
		rc = st_mib_hint_int(hint, (int64_t)vb->num.u, arena_at(a), arena_room(a));
	else
		return;
	nm->display = arena_take(a, rc, &nm->display_len);
}

static int same_oid(const st_varbind_t *vb, const uint8_t *oid, size_t len, uint8_t type)
{
	return vb->type == type && vb->oid_len == len && memcmp(vb->oid, oid, len) == 0;
}

int st_mib_translate(const st_mib_t *mib, const st_msg_t *msg, st_json_names_t *out,
                     st_json_vbname_t *vb, size_t vbcap, char *arena, size_t cap)
{
	const st_pdu_t *pdu = &msg->pdu;
	arena_t a = {.buf = arena, .cap = cap};
	const st_mib_node_t *node = NULL;
	uint32_t up = UINT32_MAX, to = UINT32_MAX;
	size_t n, suffix = 0;
	int unknown = 0;

	memset(out, 0, sizeof(*out));
	out->vb = vb;
	if (!mib || !msg->have_pdu)
		return 0;
	n = pdu->nvb < vbcap ? pdu->nvb : vbcap;
	memset(vb, 0, n * sizeof(*vb));
	out->nvb = n;

	/* the notification: the name of exactly the OID the line's trap_oid
	 * shows, so that a v1 trap is named as --translate names its trap_oid */
	if (pdu->type == ST_PDU_TRAPV1) {
		uint8_t oid[ST_OID_MAX_SUBIDS * 5];
		int len = st_snmp_v1_trap_oid(pdu, oid, sizeof(oid));

		/* RFC 3584 maps it to no OID (generic-trap outside 0..6, a negative
		 * specific-trap, an enterprise too long): no trap_oid, nothing
		 * unknown */
		if (len > 0) {
			node = st_mib_lookup_ber(mib, oid, (size_t)len, &suffix);
			if (node)
				out->trap_name = render_name(mib, node, oid, (size_t)len, suffix,
				                             &a, &out->trap_name_len);
			else
				unknown++;
		}
	} else {
		for (uint32_t i = 0; i < pdu->nvb; i++) {
			if (up == UINT32_MAX &&
			    same_oid(&pdu->vb[i], ST_OID_SYSUPTIME0, sizeof(ST_OID_SYSUPTIME0),
			             ST_BER_TIMETICKS))
				up = i;
			else if (to == UINT32_MAX &&
			         same_oid(&pdu->vb[i], ST_OID_SNMPTRAPOID0,
			                  sizeof(ST_OID_SNMPTRAPOID0), ST_BER_OID))
				to = i;
		}
		if (to != UINT32_MAX) {
			const st_varbind_t *t = &pdu->vb[to];

			node = st_mib_lookup_ber(mib, t->val, t->val_len, &suffix);
			if (node)
				out->trap_name = render_name(mib, node, t->val, t->val_len, suffix,
				                             &a, &out->trap_name_len);
			else
				unknown++;
		}
	}

	/* the varbinds */
	for (uint32_t i = 0; i < n; i++) {
		const st_varbind_t *v = &pdu->vb[i];

		if (i == up || i == to)
			continue;
		node = st_mib_lookup_ber(mib, v->oid, v->oid_len, &suffix);
		if (!node) {
			unknown++;
			continue;
		}
		vb[i].name =
		        render_name(mib, node, v->oid, v->oid_len, suffix, &a, &vb[i].name_len);
		value_names(mib, node, v, &vb[i], &a);
	}
	out->bytes = a.bytes;
	out->omitted = a.omitted;
	return unknown;
}
