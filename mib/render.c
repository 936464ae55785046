/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renderers: names, BITS and DISPLAY-HINTs into the caller's buffer.
 *
 * These run per varbind on the workers, so they allocate nothing, log
 * nothing and never write past cap; each has a bound the caller can size a
 * buffer with (st_mib.h). DISPLAY-HINT follows RFC 2579 3.1 to the letter
 * where it speaks: a separator is not written when a repeat terminator or
 * the end of the display would follow it, the last octet-format
 * specification repeats until the value is used up, and a specification
 * wanting more octets than remain takes what remains. Where it is silent we
 * chose: 'x' writes two hex digits per octet ("00:0c:29", as most tools show
 * MAC addresses; Net-SNMP writes "0:c:29"), 'd' and 'o' write no leading
 * zeros. Where it speaks and we depart (docs/MIB.md): an octet length of 0,
 * which it allows, or a 'd'/'o' wider than 8 octets makes the hint invalid
 * (ST_ERR_MIB_HINT) rather than produce unbounded output; the caller then
 * shows the value as if there were no hint.
 */
#include "mib_int.h"

#include <string.h>

typedef struct out {
	char *buf;
	size_t cap, len;
	char pending; /* a separator or terminator not yet known not to be last */
	int overflow;
} out_t;

static void out_c(out_t *o, char c)
{
	if (o->len + 1 < o->cap) /* keep room for the NUL */
		o->buf[o->len] = c;
	else
		o->overflow = 1;
	o->len++;
}

static void out_flush(out_t *o)
{
	if (o->pending) {
		char c = o->pending;
		o->pending = 0;
		out_c(o, c);
	}
}

static void out_s(out_t *o, const char *s, size_t n)
{
	out_flush(o);
	if (o->len + n < o->cap) { /* keeps room for the NUL */
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		out_c(o, s[i]);
}

static int out_end(out_t *o)
{
	if (o->overflow || o->len >= o->cap)
		return ST_ERR_MIB_SPACE;
	o->buf[o->len] = 0;
	return (int)o->len;
}

/* digits of v in radix, most significant first, zero-padded to width */
static size_t fmt_u64(uint64_t v, unsigned radix, size_t width, char *tmp)
{
	static const char digits[] = "0123456789abcdef";
	char rev[64];
	size_t n = 0;
	do {
		rev[n++] = digits[v % radix];
		v /= radix;
	} while (v);
	while (n < width && n < sizeof(rev))
		rev[n++] = '0';
	for (size_t i = 0; i < n; i++)
		tmp[i] = rev[n - 1 - i];
	return n;
}

/* octets of s[0..n) up to the end of its last whole UTF-8 character */
static size_t utf8_whole(const uint8_t *s, size_t n)
{
	for (size_t back = 1; back <= 4 && back <= n; back++) {
		uint8_t c = s[n - back];
		if ((c & 0xc0) == 0x80)
			continue; /* a continuation octet: look for its lead */
		size_t need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return back < need ? n - back : n;
	}
	return n;
}

int st_mib_hint_octets(const char *hint, const uint8_t *val, size_t len, char *buf, size_t cap)
{
	out_t o = {.buf = buf, .cap = cap};
	const char *spec = hint, *last = hint;
	size_t pos = 0;

	if (!hint || !*hint)
		return ST_ERR_MIB_HINT;
	while (pos < len) {
		const char *p = spec;
		int star = 0;
		size_t width = 0, ndig = 0;
		char fmt, sep = 0, term = 0;
		unsigned reps = 1;

		if (*p == '*') {
			star = 1;
			p++;
		}
		while (*p >= '0' && *p <= '9' && ndig < 6) {
			width = width * 10 + (size_t)(*p++ - '0');
			ndig++;
		}
		fmt = *p ? *p++ : 0;
		if (!ndig || !width)
			return ST_ERR_MIB_HINT;
		if (fmt != 'd' && fmt != 'x' && fmt != 'o' && fmt != 'a' && fmt != 't')
			return ST_ERR_MIB_HINT;
		if ((fmt == 'd' || fmt == 'o') && width > 8)
			return ST_ERR_MIB_HINT;
		if (*p && *p != '*' && !(*p >= '0' && *p <= '9'))
			sep = *p++;
		if (star && sep && *p && *p != '*' && !(*p >= '0' && *p <= '9'))
			term = *p++;
		last = spec;
		spec = *p ? p : last; /* the last specification repeats */

		if (star)
			reps = val[pos++];
		for (unsigned r = 0; r < reps && pos < len; r++) {
			size_t take = len - pos < width ? len - pos : width;
			if (fmt == 'a') {
				out_s(&o, (const char *)val + pos, take);
			} else if (fmt == 't') { /* RFC 2579: a partial last character is dropped */
				out_s(&o, (const char *)val + pos, utf8_whole(val + pos, take));
			} else if (fmt == 'x') {
				char tmp[2];
				out_flush(&o);
				for (size_t i = 0; i < take; i++) {
					fmt_u64(val[pos + i], 16, 2, tmp);
					out_c(&o, tmp[0]);
					out_c(&o, tmp[1]);
				}
			} else {
				uint64_t v = 0;
				char tmp[32];
				for (size_t i = 0; i < take; i++)
					v = v << 8 | val[pos + i];
				out_s(&o, tmp, fmt_u64(v, fmt == 'd' ? 10 : 8, 0, tmp));
			}
			pos += take;
			/* no separator right before the repeat terminator */
			if (sep && !(term && r + 1 == reps))
				o.pending = sep;
		}
		/* the terminator after the repeats; when the value ended inside them,
		 * nothing follows: neither the last separator nor the terminator */
		if (term && pos < len) {
			out_flush(&o);
			o.pending = term;
		}
	}
	return out_end(&o);
}

int st_mib_hint_int(const char *hint, int64_t v, char *buf, size_t cap)
{
	out_t o = {.buf = buf, .cap = cap};
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char tmp[72];
	size_t n, places = 0;
	unsigned radix;

	if (!hint)
		return ST_ERR_MIB_HINT;
	switch (hint[0]) {
	case 'd':
		radix = 10;
		if (hint[1] == '-') {
			const char *p = hint + 2;
			if (!(*p >= '0' && *p <= '9'))
				return ST_ERR_MIB_HINT;
			while (*p >= '0' && *p <= '9' && places <= 20)
				places = places * 10 + (size_t)(*p++ - '0');
			if (*p || places > 20)
				return ST_ERR_MIB_HINT;
		} else if (hint[1]) {
			return ST_ERR_MIB_HINT;
		}
		break;
	case 'x':
		radix = 16;
		break;
	case 'o':
		radix = 8;
		break;
	case 'b':
		radix = 2;
		break;
	default:
		return ST_ERR_MIB_HINT;
	}
	if (radix != 10 && hint[1])
		return ST_ERR_MIB_HINT;
	n = fmt_u64(mag, radix, places + 1, tmp); /* at least one digit before the point */
	if (v < 0)
		out_c(&o, '-');
	for (size_t i = 0; i < n; i++) {
		if (places && i == n - places)
			out_c(&o, '.');
		out_c(&o, tmp[i]);
	}
	return out_end(&o);
}

static const st_mib_enum_t *enum_find(const st_mib_t *mib, const st_mib_node_t *node, int64_t v)
{
	const st_mib_enum_t *e = (const st_mib_enum_t *)(mib->base + node->enums);
	size_t lo = 0, hi = node->nenums;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (e[mid].value == v)
			return &e[mid];
		if (e[mid].value < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *st_mib_enum_label(const st_mib_t *mib, const st_mib_node_t *node, int64_t value)
{
	const st_mib_enum_t *e;
	if (!node || !node->nenums || value < INT32_MIN || value > INT32_MAX)
		return NULL;
	e = enum_find(mib, node, value);
	return e ? mib->base + e->label : NULL;
}

size_t st_mib_bits_bound(const st_mib_t *mib, const st_mib_node_t *node, size_t val_len)
{
	/* every bit named by its longest label, or as a number up to 10 digits */
	size_t longest = 10;
	const st_mib_enum_t *e = (const st_mib_enum_t *)(mib->base + node->enums);
	for (size_t i = 0; i < node->nenums; i++) {
		size_t l = strlen(mib->base + e[i].label);
		if (l > longest)
			longest = l;
	}
	return val_len * 8 * (longest + 1) + 1;
}

int st_mib_render_bits(const st_mib_t *mib, const st_mib_node_t *node, const uint8_t *val,
                       size_t len, char sep, char *buf, size_t cap)
{
	out_t o = {.buf = buf, .cap = cap};
	int first = 1;

	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			int64_t bit = (int64_t)i * 8 + b;
			const char *label;
			if (!(val[i] & (0x80u >> b)))
				continue;
			if (o.overflow)
				return ST_ERR_MIB_SPACE; /* no use naming the rest */
			if (!first)
				out_c(&o, sep);
			first = 0;
			label = st_mib_enum_label(mib, node, bit);
			if (label) {
				out_s(&o, label, strlen(label));
			} else {
				char tmp[24];
				out_s(&o, tmp, fmt_u64((uint64_t)bit, 10, 0, tmp));
			}
		}
	}
	return out_end(&o);
}

static int render_name(const st_mib_t *mib, const st_mib_node_t *node, st_oid_iter_t *it, size_t n,
                       size_t suffix, char *buf, size_t cap)
{
	out_t o = {.buf = buf, .cap = cap};
	const char *mod = st_mib_node_module(mib, node), *name = st_mib_node_name(mib, node);
	uint32_t sub;

	out_s(&o, mod, strlen(mod));
	out_s(&o, "::", 2);
	out_s(&o, name, strlen(name));
	for (size_t i = 0; st_oid_next(it, &sub); i++) {
		char tmp[24];
		if (i + suffix < n)
			continue;
		out_c(&o, '.');
		out_s(&o, tmp, fmt_u64(sub, 10, 0, tmp));
	}
	return out_end(&o);
}

int st_mib_render_name(const st_mib_t *mib, const st_mib_node_t *node, const uint8_t *oid,
                       size_t len, size_t suffix, char *buf, size_t cap)
{
	st_oid_iter_t it;
	size_t start = len, seen = 0;

	/* the suffix is the tail: find where its first sub-identifier starts by
	 * counting final octets (high bit clear) back from the end */
	while (start > 0) {
		if (!(oid[start - 1] & 0x80) && seen++ == suffix)
			break;
		start--;
	}
	if (start > 0) {
		st_oid_iter_sub(&it, NULL, 0);
		it.ber = oid + start;
		it.n = len - start;
		it.i = 0;
		it.pending = 0;
		it.second = 0;
		it.tail = 1; /* no first-octet split: these are whole arcs */
		return render_name(mib, node, &it, suffix, suffix, buf, cap);
	}
	/* the suffix reaches into the first octet's two arcs: decode it all */
	size_t n = 0;
	uint32_t sub;
	st_oid_iter_ber(&it, oid, len);
	while (st_oid_next(&it, &sub))
		n++;
	st_oid_iter_ber(&it, oid, len);
	return render_name(mib, node, &it, n, suffix, buf, cap);
}

int st_mib_render_name_sub(const st_mib_t *mib, const st_mib_node_t *node, const uint32_t *sub,
                           size_t n, size_t suffix, char *buf, size_t cap)
{
	st_oid_iter_t it;
	st_oid_iter_sub(&it, sub, n);
	return render_name(mib, node, &it, n, suffix, buf, cap);
}

const char *st_mib_strerror(int err)
{
	switch (err) {
	case ST_ERR_MIB_SPACE:
		return "buffer too small";
	case ST_ERR_MIB_HINT:
		return "DISPLAY-HINT does not parse or fit the value";
	case ST_ERR_MIB_PARSER:
		return "MIB parser failed";
	case ST_ERR_MIB_NOMIB:
		return "no MIB file found";
	default:
		return "unknown MIB error";
	}
}
