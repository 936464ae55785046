/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor.c - st-floor, a receiver that only counts datagrams.
 *
 * bench/compare needs to know what this machine's UDP stack can deliver
 * from the load generator at all, before any SNMP work: that is the floor
 * every real receiver is measured against. st-floor binds one SO_REUSEPORT
 * socket per thread, reads with recvmmsg() in batches of 256 and counts
 * datagrams and bytes; it decodes nothing. The kernel's own drop count for
 * each socket comes with every batch (SO_RXQ_OVFL), so losses in the
 * socket buffer are visible too.
 *
 * Signals: SIGUSR1 prints one line "received=N bytes=B drops=D" on stdout;
 * SIGTERM and SIGINT print it and exit. The main thread handles every
 * signal (sigwait); the counting threads block them all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "st_util.h"

#define FLOOR_BATCH       256
#define FLOOR_DGRAM       2048 /* longer datagrams are counted, their tail is cut */
#define FLOOR_MAX_THREADS 64

typedef struct floor_thread {
	pthread_t tid;
	int fd;
	st_counter_t received, bytes, drops; /* written by the thread, summed by main */
} floor_thread_t;

static void *count_main(void *arg)
{
	floor_thread_t *t = arg;
	uint8_t(*buf)[FLOOR_DGRAM] = malloc(sizeof(*buf) * FLOOR_BATCH);
	char(*ctl)[CMSG_SPACE(sizeof(uint32_t))] = malloc(sizeof(*ctl) * FLOOR_BATCH);
	struct mmsghdr mm[FLOOR_BATCH];
	struct iovec iov[FLOOR_BATCH];
	uint64_t received = 0, bytes = 0;

	pthread_setname_np(pthread_self(), "floor");
	if (!buf || !ctl) {
		fprintf(stderr, "st-floor: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < FLOOR_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = FLOOR_DGRAM;
		memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		int n;

		for (int i = 0; i < FLOOR_BATCH; i++) {
			mm[i].msg_hdr.msg_control = ctl[i];
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(t->fd, mm, FLOOR_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("st-floor: recvmmsg");
			exit(1);
		}
		for (int i = 0; i < n; i++)
			bytes += mm[i].msg_len;
		received += (uint64_t)n;
		/* the drop counter is the socket's running total: the last one wins */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mm[n - 1].msg_hdr); c;
		     c = CMSG_NXTHDR(&mm[n - 1].msg_hdr, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t d;
				memcpy(&d, CMSG_DATA(c), sizeof(d));
				st_counter_set(&t->drops, d);
			}
		}
		st_counter_set(&t->received, received);
		st_counter_set(&t->bytes, bytes);
	}
}

static void print_counts(floor_thread_t *th, unsigned n)
{
	uint64_t received = st_counter_sum(&th[0].received, n, sizeof(th[0]));
	uint64_t bytes = st_counter_sum(&th[0].bytes, n, sizeof(th[0]));
	uint64_t drops = st_counter_sum(&th[0].drops, n, sizeof(th[0]));

	printf("received=%" PRIu64 " bytes=%" PRIu64 " drops=%" PRIu64 "\n", received, bytes,
	       drops);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: st-floor -l udp://HOST:PORT [--threads N] [--rcvbuf BYTES]\n"
	           "  counts datagrams; SIGUSR1 prints received=N bytes=B drops=D,\n"
	           "  SIGTERM/SIGINT print it and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"threads", required_argument, NULL, 't'},
	        {"rcvbuf", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	floor_thread_t th[FLOOR_MAX_THREADS];
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const char *listen_at = NULL;
	unsigned nthreads = 1;
	int rcvbuf = 32 << 20, c, one = 1, sig;
	char err[256];
	sigset_t set;

	while ((c = getopt_long(argc, argv, "l:t:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_at = optarg;
			break;
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rcvbuf = (int)strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (listen_at && st_addr_parse(listen_at, 0, &ss, &sslen, err, sizeof(err)) < 0) {
		fprintf(stderr, "st-floor: -l %s\n", err);
		return 1;
	}
	if (!listen_at || nthreads < 1 || nthreads > FLOOR_MAX_THREADS || rcvbuf <= 0) {
		usage(stderr);
		return 1;
	}

	/* the counting threads inherit a mask with every signal blocked */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(th, 0, sizeof(th));
	for (unsigned i = 0; i < nthreads; i++) {
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
			perror("st-floor: socket");
			return 1;
		}
		/* FORCE needs CAP_NET_ADMIN; the plain option is capped by rmem_max */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
			fprintf(stderr, "st-floor: bind %s: %s\n", listen_at, strerror(errno));
			return 1;
		}
		th[i].fd = fd;
	}
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&th[i].tid, NULL, count_main, &th[i])) {
			fprintf(stderr, "st-floor: cannot start thread\n");
			return 1;
		}
	}
	fprintf(stderr, "st-floor: listening on %s, %u thread(s)\n", listen_at, nthreads);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		print_counts(th, nthreads);
		if (sig != SIGUSR1)
			return 0;
	}
}
