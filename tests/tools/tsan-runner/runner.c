/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner.c - runs the tests registered through criterion/criterion.h (this
 * folder's stand-in for Criterion under ThreadSanitizer; see there why).
 *
 *   tsan_<module> [--filter GLOB]     GLOB matches "suite/name"
 *
 * One child process per test, one at a time: suite .init, test .init, the
 * test, test .fini, suite .fini. A test fails on a failed assertion, a
 * signal, a non-zero exit (TSan's exitcode on a report) or its timeout.
 * Ends with Criterion's closing line: "Synthesis: Tested: N | Passing: N |
 * Failing: N | Crashing: N".
 */
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criterion/criterion.h"

static struct st_cr_test *tests;
static struct st_cr_suite *suites;

void st_cr_register(struct st_cr_test *t)
{
	t->next = tests;
	tests = t;
}

void st_cr_register_suite(struct st_cr_suite *s)
{
	s->next = suites;
	suites = s;
}

void st_cr_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[----] %s:%d: Assertion Failed: %s\n", file, line, expr);
	if (fmt && *fmt) {
		fprintf(stderr, "[----]   ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	fflush(stderr);
	_exit(1);
}

static struct st_cr_suite *suite_of(const struct st_cr_test *t)
{
	for (struct st_cr_suite *s = suites; s; s = s->next)
		if (strcmp(s->name, t->suite) == 0)
			return s;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	struct st_cr_test *order = NULL;
	int n = 0, pass = 0, fail = 0, crash = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			filter = argv[++i];
		else if (strncmp(argv[i], "--filter=", 9) == 0)
			filter = argv[i] + 9;
	}
	/* registration ran in reverse; put the tests back in file order */
	while (tests) {
		struct st_cr_test *t = tests;

		tests = t->next;
		t->next = order;
		order = t;
	}
	for (struct st_cr_test *t = order; t; t = t->next) {
		struct st_cr_suite *s = suite_of(t);
		char full[256];
		unsigned timeout;
		int status;
		pid_t pid;

		snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
		if ((filter && fnmatch(filter, full, 0) != 0) || t->disabled || (s && s->disabled))
			continue;
		timeout = (unsigned)(t->timeout > 0        ? t->timeout
		                     : s && s->timeout > 0 ? s->timeout
		                                           : 300);
		n++;
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(timeout);
			if (s && s->init)
				s->init();
			if (t->init)
				t->init();
			t->fn();
			if (t->fini)
				t->fini();
			if (s && s->fini)
				s->fini();
			fflush(NULL);
			_exit(0);
		}
		while (waitpid(pid, &status, 0) < 0)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			pass++;
			printf("[PASS] %s::%s\n", t->suite, t->name);
		} else if (WIFEXITED(status)) {
			fail++;
			printf("[FAIL] %s::%s: exit %d\n", t->suite, t->name, WEXITSTATUS(status));
		} else {
			crash++;
			printf("[FAIL] %s::%s: %s%s\n", t->suite, t->name,
			       strsignal(WTERMSIG(status)),
			       WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
		}
		fflush(stdout);
	}
	printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d \n", n,
	       pass, fail, crash);
	return n > 0 && pass == n ? 0 : 1;
}
