/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - runs the Test()s registered through tests/tsan/criterion/criterion.h
 * (see there why), each in a child process of its own as Criterion does, so
 * that tests which set up process-wide state stay independent. Exit 0 when
 * every test passed: a failed assertion or a ThreadSanitizer report
 * (halt_on_error=1) fails it. */
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

static st_tsan_test_t *head, **tail = &head;

void st_tsan_register(st_tsan_test_t *t)
{
	*tail = t;
	tail = &t->next;
}

int main(int argc, char **argv)
{
	unsigned n = 0, failed = 0;

	for (st_tsan_test_t *t = head; t; t = t->next) {
		if (argc > 1 && strstr(t->suite, argv[1]) != t->suite)
			continue;
		fprintf(stderr, "[RUN ] %s::%s\n", t->suite, t->name);
		fflush(stderr);
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			if (t->opt.init)
				t->opt.init();
			t->fn();
			if (t->opt.fini)
				t->opt.fini();
			exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "[FAIL] %s::%s\n", t->suite, t->name);
			failed++;
		}
		n++;
	}
	fprintf(stderr, "[%s] %u tests, %u failed\n", failed ? "FAIL" : "PASS", n, failed);
	return failed ? 1 : 0;
}
