/* SPDX-License-Identifier: Apache-2.0 */
/* ring.c - allocation of the SPSC rings (the fast paths are in ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ring.h"

int st_ring_init(st_ring_t *r, size_t size)
{
	size_t s = 4096;

	while (s < size)
		s <<= 1;
	memset(r, 0, sizeof(*r));
	r->buf = mmap(NULL, s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return -errno;
	}
	r->size = s;
	r->mask = s - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void st_ring_destroy(st_ring_t *r)
{
	if (r->buf)
		munmap(r->buf, r->size);
	r->buf = NULL;
}
