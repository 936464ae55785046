/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_util.h - small helpers that every other folder needs.
 *
 * Each was written several times before this library existed: the parser of
 * "udp://192.0.2.10:162" and "[2001:db8::1]:162", the formatter of a socket
 * address, hex, CRC-32C (Castagnoli, the checksum of the spool's records),
 * little-endian loads and stores, and the per-thread counter read by the
 * metrics thread. They are pure functions over caller-owned memory: no
 * threads, no sockets, no allocation, no logging, so any library (codec/ and
 * usm/ included) may use them without taking on a dependency.
 *
 * Errors follow the house rule: 0 (or a length) on success, -errno on failure,
 * and setup-time parsers also fill err/errlen with a sentence naming what is
 * wrong.
 */
#ifndef ST_UTIL_H
#define ST_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- addresses ---------------------------------------------------------- */

/** Room for any text st_addr_format() writes, NUL included. */
#define ST_ADDR_TEXT_MAX 56 /* "[" INET6_ADDRSTRLEN "]:" 5 digits */

/** st_addr_parse() flags */
#define ST_ADDR_UDP_REQUIRED 0x1 /* the "udp://" scheme must be there */
#define ST_ADDR_LOCALHOST    0x2 /* accept "localhost" for 127.0.0.1 */

/**
 * @brief Split "host:port", "[IPv6]:port" or ":port" into its host and port.
 *
 * The host comes back without brackets and is not resolved or checked ("" for
 * ":port", which callers take as every address). A bracketed host must be
 * followed by ":port"; an unbracketed host holding ':' is refused (an IPv6
 * address needs its brackets, or the port would be ambiguous).
 *
 * @param s       the text (no scheme)
 * @param host    receives the host, NUL-terminated
 * @param hostlen size of host
 * @param port    receives the port, 1..65535
 * @param err     receives the reason on failure (may be NULL)
 * @return 0, or -EINVAL with err filled
 */
int st_addr_split(const char *s, char *host, size_t hostlen, uint16_t *port, char *err,
                  size_t errlen);

/**
 * @brief Parse a numeric UDP address: "udp://IPv4:port", "udp://[IPv6]:port",
 * or the same without the scheme unless ST_ADDR_UDP_REQUIRED is set.
 *
 * Nothing is resolved: the host must be a literal address (or "localhost" with
 * ST_ADDR_LOCALHOST).
 *
 * @param s     the text
 * @param flags ST_ADDR_* flags
 * @param ss    receives the address (zeroed first)
 * @param len   receives its length (may be NULL)
 * @param err   receives the reason on failure, e.g. "'x' is not an IPv4
 *              address (an IPv6 address goes in brackets: udp://[::1]:162)"
 * @return 0, or -EINVAL with err filled
 */
int st_addr_parse(const char *s, unsigned flags, struct sockaddr_storage *ss, socklen_t *len,
                  char *err, size_t errlen);

/**
 * @brief Format a socket address as "192.0.2.7:162" or "[2001:db8::7]:162".
 *
 * @param sa  an AF_INET or AF_INET6 address
 * @param buf receives the text; ST_ADDR_TEXT_MAX is always enough
 * @return the length written (without the NUL), -EAFNOSUPPORT for another
 *         family (buf then holds "?"), -ENOSPC when buf is too small
 */
int st_addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* ---- hex ---------------------------------------------------------------- */

/**
 * @brief Write n octets as 2n lowercase hex digits, no separators, no NUL.
 * @param out room for 2n characters
 */
void st_hex_encode(char *out, const void *in, size_t n);

/**
 * @brief Decode hex digits (either case, an optional "0x" in front) to octets.
 * @return the number of octets (0 for ""), or -EINVAL for an odd length, a
 *         character that is not a hex digit, or more than cap octets
 */
int st_hex_decode(const char *hex, uint8_t *out, size_t cap);

/* ---- CRC-32C ------------------------------------------------------------ */

/**
 * @brief Continue a CRC-32C (Castagnoli) over buf, without the pre- and
 * post-inversion, so a checksum can run over several pieces: start with
 * 0xffffffff, feed each piece, XOR the result with 0xffffffff.
 *
 * Uses the SSE 4.2 instruction where the CPU has it, a table otherwise.
 */
uint32_t st_crc32c_update(uint32_t crc, const void *buf, size_t n);

/** @brief st_crc32c_update() on the table path only (tests compare the two). */
uint32_t st_crc32c_update_sw(uint32_t crc, const void *buf, size_t n);

/** @brief CRC-32C of one buffer (st_crc32c("123456789", 9) == 0xe3069283). */
static inline uint32_t st_crc32c(const void *buf, size_t n)
{
	return st_crc32c_update(0xffffffffu, buf, n) ^ 0xffffffffu;
}

/* ---- little-endian loads and stores (any alignment) ---------------------- */

static inline void st_le16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void st_le32_store(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void st_le64_store(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t st_le16_load(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t st_le32_load(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t st_le64_load(const uint8_t *p)
{
	return (uint64_t)st_le32_load(p) | ((uint64_t)st_le32_load(p + 4) << 32);
}

/* ---- single-writer counters --------------------------------------------- */

/*
 * A counter with one writer (the thread that owns it) and any number of
 * readers. The writer adds with a relaxed load and store, which compile to
 * plain moves: no locked instruction on the hot path. A reader never sees a
 * torn value. Each thread keeps its own counters; a reader sums them
 * (st_counter_sum), so there is no shared cache line to fight over.
 */
typedef _Atomic uint64_t st_counter_t;

/** @brief Add n; only the owning thread may call this. */
static inline void st_counter_add(st_counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

/** @brief Set to v (a gauge, or a total kept elsewhere); owner only. */
static inline void st_counter_set(st_counter_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

/** @brief Read; any thread. */
static inline uint64_t st_counter_get(const st_counter_t *c)
{
	return atomic_load_explicit((st_counter_t *)c, memory_order_relaxed);
}

/**
 * @brief Sum one counter over n per-thread structures.
 *
 * @param first  the counter in the first structure
 * @param n      number of structures
 * @param stride distance in bytes from one structure to the next (sizeof)
 *
 * e.g. st_counter_sum(&threads[0].sent, nthreads, sizeof(threads[0]))
 */
uint64_t st_counter_sum(const st_counter_t *first, size_t n, size_t stride);

#endif
