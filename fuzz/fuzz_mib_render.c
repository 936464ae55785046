/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_mib_render.c - libFuzzer target for the DISPLAY-HINT renderers.
 *
 * A hint comes from a MIB file (an operator's vendor MIB, so anything) and
 * the value from a datagram (anything), and both meet in
 * st_mib_hint_octets() and st_mib_hint_int() on a worker. The input is one
 * length octet, that many octets of hint (cut at a NUL, as a C string is),
 * and the value. Every promise of st_mib.h becomes a crash when broken:
 *
 *  - with cap = ST_MIB_HINT_OCTETS_BOUND(len) (resp. ST_MIB_HINT_INT_BOUND)
 *    the renderer never answers ST_ERR_MIB_SPACE; the buffer is allocated
 *    at exactly that size, so ASan catches a write past it;
 *  - a success is NUL-terminated at the length returned;
 *  - with any smaller buffer (allocated at exactly that size, down to
 *    zero octets) the answer is ST_ERR_MIB_SPACE and nothing is written
 *    past cap, and with a larger one it is the same output;
 *  - the result never depends on the buffer except through that rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "st_mib.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

typedef int render_fn(const char *hint, const uint8_t *val, size_t len, int64_t v, char *buf,
                      size_t cap);

static int r_octets(const char *hint, const uint8_t *val, size_t len, int64_t v, char *buf,
                    size_t cap)
{
	(void)v;
	return st_mib_hint_octets(hint, val, len, buf, cap);
}

static int r_int(const char *hint, const uint8_t *val, size_t len, int64_t v, char *buf, size_t cap)
{
	(void)val;
	(void)len;
	return st_mib_hint_int(hint, v, buf, cap);
}

/* render at exactly cap octets of heap */
static int at_cap(render_fn *fn, const char *hint, const uint8_t *val, size_t len, int64_t v,
                  size_t cap, char **out)
{
	char *buf = malloc(cap ? cap : 1);
	CHECK(buf);
	int rc = fn(hint, val, len, v, cap ? buf : buf + 1, cap); /* cap 0: a pointer past it */
	*out = buf;
	return rc;
}

static void check(render_fn *fn, const char *hint, const uint8_t *val, size_t len, int64_t v,
                  size_t bound)
{
	char *full, *other;
	int rc = at_cap(fn, hint, val, len, v, bound, &full);

	CHECK(rc != ST_ERR_MIB_SPACE);
	CHECK(rc >= 0 || rc == ST_ERR_MIB_HINT);
	if (rc < 0) {
		free(full);
		return;
	}
	CHECK((size_t)rc < bound && full[rc] == 0);
	/* every smaller buffer is refused; the exact fit and a larger one agree */
	const size_t caps[] = {0, 1, (size_t)rc / 2, (size_t)rc, (size_t)rc + 1, bound + 7};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int rc2 = at_cap(fn, hint, val, len, v, caps[i], &other);
		if (caps[i] <= (size_t)rc) {
			CHECK(rc2 == ST_ERR_MIB_SPACE);
		} else {
			CHECK(rc2 == rc);
			CHECK(!memcmp(other, full, (size_t)rc + 1));
		}
		free(other);
	}
	free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hint[64];
	size_t hlen;
	int64_t v = 0;

	if (size < 1)
		return 0;
	hlen = data[0] % sizeof(hint);
	if (hlen > size - 1)
		hlen = size - 1;
	memcpy(hint, data + 1, hlen);
	hint[hlen] = 0;
	data += 1 + hlen;
	size -= 1 + hlen;

	check(r_octets, hint, data, size, 0, ST_MIB_HINT_OCTETS_BOUND(size));
	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	check(r_int, hint, NULL, 0, v, ST_MIB_HINT_INT_BOUND);
	return 0;
}
