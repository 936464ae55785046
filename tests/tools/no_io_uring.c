/* SPDX-License-Identifier: Apache-2.0 */
/*
 * no_io_uring.c - run a command where io_uring is refused, as under
 * Docker's default seccomp profile: io_uring_setup() fails with EPERM.
 *
 *   st_no_io_uring COMMAND [ARG]...
 *
 * Installs a seccomp filter (no privileges needed thanks to
 * PR_SET_NO_NEW_PRIVS) and execs the command, so tests can check that the
 * collector falls back to recvmmsg and says so.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "st_no_io_uring: unknown architecture"
#endif

int main(int argc, char **argv)
{
	struct sock_filter filter[] = {
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ST_AUDIT_ARCH, 1, 0),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
	        .len = sizeof(filter) / sizeof(filter[0]),
	        .filter = filter,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: st_no_io_uring COMMAND [ARG]...\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "st_no_io_uring: seccomp: %s\n", strerror(errno));
		return 2;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "st_no_io_uring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
