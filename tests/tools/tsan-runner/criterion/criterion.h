/* SPDX-License-Identifier: Apache-2.0 */
/*
 * criterion.h - the part of Criterion's API that the concurrency tests use,
 * for running them under ThreadSanitizer.
 *
 * Criterion cannot run in a ThreadSanitizer process: BoxFort, which it uses
 * to share memory with its test processes, maps an arena at random
 * addresses in a range that TSan reserves, and the runner aborts ("Could
 * not initialize inheritable arena") or crashes (Snaipe/Criterion#274). The
 * CI matrix's tsan step therefore compiles the same test files (ring, USM
 * cache and reload, sinks) against this header and runner.c: Test() and
 * TestSuite() with .init, .fini and .timeout, and the cr_assert family.
 * Each test runs in a child process, as with Criterion; a failed assertion
 * or a TSan report (halt_on_error=1) fails it.
 */
#ifndef ST_TSAN_CRITERION_H
#define ST_TSAN_CRITERION_H

#include <stddef.h>
#include <string.h>

struct st_cr_test {
	const char *suite, *name;
	void (*fn)(void);
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	int disabled;
	struct st_cr_test *next;
};

struct st_cr_suite {
	const char *name;
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	int disabled;
	struct st_cr_suite *next;
};

void st_cr_register(struct st_cr_test *t);
void st_cr_register_suite(struct st_cr_suite *s);
void st_cr_fail(const char *file, int line, const char *expr, const char *fmt, ...)
        __attribute__((noreturn, format(printf, 4, 5)));

#define Test(s, n, ...)                                                                            \
	static void s##_##n##_impl(void);                                                          \
	static struct st_cr_test s##_##n##_desc = {                                                \
	        .suite = #s, .name = #n, .fn = s##_##n##_impl, __VA_ARGS__};                       \
	__attribute__((constructor)) static void s##_##n##_reg(void)                               \
	{                                                                                          \
		st_cr_register(&s##_##n##_desc);                                                   \
	}                                                                                          \
	static void s##_##n##_impl(void)

#define TestSuite(s, ...)                                                                          \
	static struct st_cr_suite s##_suite_desc = {.name = #s, __VA_ARGS__};                      \
	__attribute__((constructor)) static void s##_suite_reg(void)                               \
	{                                                                                          \
		st_cr_register_suite(&s##_suite_desc);                                             \
	}

/* the message, when given, is a format string literal and its arguments */
#define cr_assert(c, ...)                                                                          \
	do {                                                                                       \
		if (!(c))                                                                          \
			st_cr_fail(__FILE__, __LINE__, #c, "" __VA_ARGS__);                        \
	} while (0)
#define cr_assert_eq(a, b, ...)      cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...)     cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...)      cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...)     cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...)      cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...)     cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...)       cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...)   cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)  cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) cr_assert(strcmp((a), (b)) != 0, __VA_ARGS__)

#endif /* ST_TSAN_CRITERION_H */
