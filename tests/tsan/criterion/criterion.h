/* SPDX-License-Identifier: Apache-2.0 */
/*
 * criterion.h - a stand-in for Criterion's header, for ThreadSanitizer runs.
 *
 * Criterion cannot start under ThreadSanitizer: its inheritable arena
 * (BoxFort) fails with EAGAIN or crashes (Snaipe/Criterion#274). The
 * concurrency tests (ring, USM cache reload, sinks) are plain code around
 * Test() and cr_assert*(), so tests/tsan/run compiles them against this
 * header instead: each Test() registers itself, main() runs them in one
 * process in file order, and a failed assertion prints where and aborts.
 * Only the macros those tests use are provided.
 */
#ifndef ST_TSAN_CRITERION_H
#define ST_TSAN_CRITERION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct st_tsan_test {
	const char *suite, *name;
	void (*fn)(void);
	struct {
		int unused_;
		void (*init)(void);
		void (*fini)(void);
		double timeout;
	} opt;
	struct st_tsan_test *next;
} st_tsan_test_t;

void st_tsan_register(st_tsan_test_t *t);

#define Test(suite, name, ...)                                                                     \
	static void suite##_##name(void);                                                          \
	static st_tsan_test_t suite##_##name##_t = {                                               \
	        #suite, #name, suite##_##name, {0, __VA_ARGS__}, NULL};                            \
	__attribute__((constructor)) static void suite##_##name##_reg(void)                        \
	{                                                                                          \
		st_tsan_register(&suite##_##name##_t);                                             \
	}                                                                                          \
	static void suite##_##name(void)

#define cr_assert(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
#define cr_assert_not(c, ...)          cr_assert(!(c))
#define cr_assert_eq(a, b, ...)        cr_assert((a) == (b))
#define cr_assert_neq(a, b, ...)       cr_assert((a) != (b))
#define cr_assert_lt(a, b, ...)        cr_assert((a) < (b))
#define cr_assert_leq(a, b, ...)       cr_assert((a) <= (b))
#define cr_assert_gt(a, b, ...)        cr_assert((a) > (b))
#define cr_assert_geq(a, b, ...)       cr_assert((a) >= (b))
#define cr_assert_null(p, ...)         cr_assert((p) == NULL)
#define cr_assert_not_null(p, ...)     cr_assert((p) != NULL)
#define cr_assert_str_eq(a, b, ...)    cr_assert(strcmp((a), (b)) == 0)
#define cr_assert_arr_eq(a, b, n, ...) cr_assert(memcmp((a), (b), (n)) == 0)
#define cr_log_info(...)               ((void)0)

#endif /* ST_TSAN_CRITERION_H */
