/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest.c - ingest threads: datagrams from the sockets into the rings.
 *
 * Each ingest thread owns one SO_REUSEPORT socket per listener and one of
 * two receive backends:
 *
 * - io_uring: one multishot recvmsg per socket, receiving into a ring of
 *   provided buffers (liburing 2.3 has no io_uring_setup_buf_ring: the
 *   buffer ring is mmap'ed, initialised and registered by hand). One
 *   io_uring_submit_and_wait_timeout() returns a whole batch of
 *   completions; buffers go back to the kernel in one advance.
 * - recvmmsg: poll() over the sockets, then recvmmsg() batches of
 *   ingest.batch datagrams from each readable one.
 *
 * "auto" tries io_uring and falls back to recvmmsg when the kernel or a
 * seccomp profile refuses it (Docker's default does), saying so once.
 *
 * Each ring is created, armed and used by its own ingest thread, never by
 * the main thread: a multishot request belongs to the task that submitted
 * it, and its completions run as task work on that task. A ring set up on
 * the main thread had every datagram's completion interrupt the main
 * thread's signal wait (about 1,700 times a second at 10 k/s). The ring is
 * IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN where the kernel
 * takes it (6.1 and later), so completion work runs only when the ingest
 * thread itself waits for completions, in one batch; older kernels get
 * COOP_TASKRUN, then plain flags. The start-up waits for every thread to
 * report whether its ring could be set up, so falling back to recvmmsg,
 * or refusing to start with ingest.backend=io_uring, still happens before
 * "listening on".
 *
 * Per datagram the thread copies the bytes and their metadata (source,
 * local address from IP(V6)_PKTINFO, receive time, socket) into the ring of
 * the worker that owns the source address, so one agent's notifications
 * keep their order. A full ring is a counted drop; nothing here blocks on a
 * worker, allocates or logs per datagram. After each batch every ring
 * written is published once and its worker woken if it sleeps.
 *
 * Kernel drops: SO_RXQ_OVFL brings the socket's drop count with every
 * datagram read, for free. A socket nobody reads brings nothing, so the
 * main thread also samples the same count (sk_drops) from /proc/net/udp
 * once a second (ST_PROC_SAMPLE_MS, on a deadline: a signal between two
 * samples does not cause an extra one); metrics report the larger of the
 * two per socket, and a stalled reader cannot hide the drops it causes.
 *
 * Shutdown: when rt->stop_ingest is set (and the thread's stop_fd
 * written, which ends its wait: an idle thread otherwise sleeps for a
 * second) the thread keeps reading until its sockets have been quiet for a
 * moment (at most ST_DRAIN_MAX_MS), so what the kernel had queued when the
 * signal came is not lost, then exits.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"

#define ST_URING_NBUFS  256 /* provided buffers per thread (power of two) */
#define ST_URING_BGID   0
#define ST_CONTROL_LEN  (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) + 64)
#define ST_QUIET_MS     50         /* drain: this long without data means empty */
#define ST_DRAIN_MAX_MS 2000       /* drain: never longer than this */
#define ST_POLL_MS      1000       /* an idle thread's wait (stop also wakes it) */
#define ST_URING_STOP   UINT64_MAX /* user_data of the poll on stop_fd */

const char *st_backend_name(int backend)
{
	switch (backend) {
	case ST_BACKEND_IO_URING:
		return "io_uring";
	case ST_BACKEND_RECVMMSG:
		return "recvmmsg";
	default:
		return "auto";
	}
}

/* ---- common: one datagram into its worker's ring -------------------- */

static void ingest_cmsgs(st_ingest_t *in, unsigned li, struct msghdr *mh, st_rec_t *rec)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rec->dst.in.sin_family = AF_INET;
			rec->dst.in.sin_addr = pi.ipi_addr;
			rec->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rec->dst.in6.sin6_family = AF_INET6;
			rec->dst.in6.sin6_addr = pi.ipi6_addr;
			rec->ifindex = (int)pi.ipi6_ifindex;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t ovfl;

			memcpy(&ovfl, CMSG_DATA(c), sizeof(ovfl));
			if (ovfl != in->ovfl_last[li]) {
				st_counter_add(&in->ctr[li][ST_CTR_KERNEL_DROPS],
				               (uint32_t)(ovfl - in->ovfl_last[li]));
				in->ovfl_last[li] = ovfl;
			}
		}
	}
}

/*
 * Take one received datagram. The record is reserved in the worker's ring
 * first and the metadata written straight into it, so the datagram is
 * copied exactly once.
 */
static void ingest_one(st_ingest_t *in, unsigned li, int fd, const void *data, size_t len,
                       int truncated, struct msghdr *mh, const struct timespec *ts)
{
	st_rt_t *rt = in->rt;
	const st_sa_t *src = (const st_sa_t *)mh->msg_name;
	unsigned w;
	st_rec_t *rec;
	st_ring_t *ring;

	st_counter_add(&in->ctr[li][ST_CTR_RX], 1);
	st_counter_add(&in->ctr[li][ST_CTR_RX_BYTES], len);
	if (truncated) {
		st_counter_add(&in->ctr[li][ST_CTR_OVERSIZED], 1);
		ingest_cmsgs(in, li, mh, &(st_rec_t){0});
		return;
	}
	w = st_worker_pick(rt, src);
	ring = &rt->rings[in->id * rt->nworkers + w];
	rec = st_ring_reserve(ring, sizeof(*rec) + len);
	if (!rec) {
		st_counter_add(&in->ctr[li][ST_CTR_RING_FULL], 1);
		ingest_cmsgs(in, li, mh, &(st_rec_t){0});
		return;
	}
	rec->len = (uint32_t)len;
	rec->listener = (uint16_t)li;
	rec->fd = fd;
	rec->ifindex = 0;
	rec->ts = *ts;
	memset(&rec->src, 0, sizeof(rec->src));
	memcpy(&rec->src, src,
	       mh->msg_namelen < sizeof(rec->src) ? mh->msg_namelen : sizeof(rec->src));
	rec->dst = rt->lis[li].addr; /* port; address from PKTINFO below */
	ingest_cmsgs(in, li, mh, rec);
	memcpy(rec->data, data, len);
	st_ring_commit(ring, rec, sizeof(*rec) + len);
	if (in->dirty[w] < 2)
		in->dirty[w] = st_worker_urgent(data, len) ? 2 : 1; /* 2: see st_worker_wake() */
}

/* end of a batch: publish and wake */
static void ingest_publish(st_ingest_t *in)
{
	st_rt_t *rt = in->rt;

	for (unsigned w = 0; w < rt->nworkers; w++) {
		int urgent = in->dirty[w] == 2;

		if (!in->dirty[w])
			continue;
		in->dirty[w] = 0;
		if (st_ring_publish(&rt->rings[in->id * rt->nworkers + w]))
			st_worker_wake(&rt->workers[w], urgent);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Shutdown bookkeeping shared by both backends: returns 1 when the thread
 * should exit. *quiet_since is the time of the last datagram once stop is
 * requested.
 */
static int ingest_should_exit(st_ingest_t *in, int got, int64_t *stop_at, int64_t *last_data)
{
	int64_t now;

	if (!atomic_load_explicit(&in->rt->stop_ingest, memory_order_acquire))
		return 0;
	now = now_ms();
	if (*stop_at == 0) {
		*stop_at = now;
		*last_data = now;
	}
	if (got)
		*last_data = now;
	return now - *last_data >= ST_QUIET_MS || now - *stop_at >= ST_DRAIN_MAX_MS;
}

/* ---- recvmmsg backend ----------------------------------------------- */

typedef struct st_mmsg {
	unsigned n;
	struct mmsghdr *mm;
	struct iovec *iov;
	st_sa_t *names;
	uint8_t *control;
	uint8_t *bufs;
} st_mmsg_t;

static void mmsg_free(st_mmsg_t *m)
{
	if (!m)
		return;
	free(m->mm);
	free(m->iov);
	free(m->names);
	free(m->control);
	if (m->bufs)
		munmap(m->bufs, (size_t)m->n * (ST_DGRAM_MAX + 1));
	free(m);
}

static st_mmsg_t *mmsg_new(unsigned n)
{
	st_mmsg_t *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->n = n;
	m->mm = calloc(n, sizeof(*m->mm));
	m->iov = calloc(n, sizeof(*m->iov));
	m->names = calloc(n, sizeof(*m->names));
	m->control = calloc(n, ST_CONTROL_LEN);
	m->bufs = mmap(NULL, (size_t)n * (ST_DGRAM_MAX + 1), PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->bufs == MAP_FAILED)
		m->bufs = NULL;
	if (!m->mm || !m->iov || !m->names || !m->control || !m->bufs) {
		mmsg_free(m);
		return NULL;
	}
	return m;
}

/* one recvmmsg on one socket; returns datagrams taken or -errno */
static int mmsg_read(st_ingest_t *in, st_mmsg_t *m, unsigned li, int flags)
{
	int fd = in->fds[li];
	struct timespec ts;
	int n;

	for (unsigned i = 0; i < m->n; i++) {
		m->iov[i].iov_base = m->bufs + (size_t)i * (ST_DGRAM_MAX + 1);
		m->iov[i].iov_len = ST_DGRAM_MAX + 1;
		m->mm[i].msg_hdr = (struct msghdr){
		        .msg_name = &m->names[i],
		        .msg_namelen = sizeof(m->names[i]),
		        .msg_iov = &m->iov[i],
		        .msg_iovlen = 1,
		        .msg_control = m->control + (size_t)i * ST_CONTROL_LEN,
		        .msg_controllen = ST_CONTROL_LEN,
		};
	}
	n = recvmmsg(fd, m->mm, m->n, flags, NULL);
	if (n < 0)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &m->mm[i].msg_hdr;
		size_t len = m->mm[i].msg_len;
		int trunc = (mh->msg_flags & MSG_TRUNC) || len > ST_DGRAM_MAX;

		ingest_one(in, li, fd, m->iov[i].iov_base, len, trunc, mh, &ts);
	}
	return n;
}

static void ingest_run_recvmmsg(st_ingest_t *in)
{
	st_rt_t *rt = in->rt;
	st_mmsg_t *m = in->backend_state;
	struct pollfd *pfd = calloc(rt->nlis + 1, sizeof(*pfd));
	int64_t stop_at = 0, last_data = 0;

	if (!pfd)
		return;
	for (unsigned li = 0; li < rt->nlis; li++)
		pfd[li] = (struct pollfd){.fd = in->fds[li], .events = POLLIN};
	pfd[rt->nlis] = (struct pollfd){.fd = in->stop_fd, .events = POLLIN};
	for (;;) {
		int stopping = atomic_load_explicit(&rt->stop_ingest, memory_order_acquire);
		int got = 0;
		int pr = poll(pfd, rt->nlis + 1, stopping ? ST_QUIET_MS / 5 : ST_POLL_MS);

		if (pr > 0 && (pfd[rt->nlis].revents & POLLIN))
			pfd[rt->nlis].fd = -1; /* stop: seen; from now on the drain's short waits */
		if (pr > 0) {
			for (unsigned li = 0; li < rt->nlis; li++) {
				if (!(pfd[li].revents & POLLIN))
					continue;
				int n = mmsg_read(in, m, li, MSG_DONTWAIT);

				if (n > 0)
					got += n;
			}
			ingest_publish(in);
		}
		if (ingest_should_exit(in, got, &stop_at, &last_data))
			break;
	}
	free(pfd);
}

/* ---- io_uring backend ----------------------------------------------- */

typedef struct st_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	size_t br_len;
	uint8_t *bufs;
	size_t buf_size;
	struct msghdr *mh; /* per listener: name and control sizes */
	int ready;
} st_uring_t;

static void uring_free(st_uring_t *u)
{
	if (!u)
		return;
	if (u->ready) {
		io_uring_unregister_buf_ring(&u->ring, ST_URING_BGID);
		io_uring_queue_exit(&u->ring);
	}
	if (u->br)
		munmap(u->br, u->br_len);
	if (u->bufs)
		munmap(u->bufs, (size_t)ST_URING_NBUFS * u->buf_size);
	free(u->mh);
	free(u);
}

static int uring_arm(st_uring_t *u, st_ingest_t *in, unsigned li)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	io_uring_prep_recvmsg_multishot(sqe, in->fds[li], &u->mh[li], 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = ST_URING_BGID;
	io_uring_sqe_set_data64(sqe, li);
	return 0;
}

/* the setup flags to try, best first: task work deferred to the one
 * thread that waits (6.1+), cooperative task work (5.19+), none */
static const unsigned uring_flags[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
};

/* set up the ring, on the ingest thread that will use it (see the top of
 * the file); -errno when io_uring is not usable here */
static int uring_new(st_ingest_t *in, st_uring_t **out)
{
	st_rt_t *rt = in->rt;
	st_uring_t *u = calloc(1, sizeof(*u));
	struct io_uring_buf_reg reg = {0};
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(uring_flags) / sizeof(uring_flags[0]) && rc == -EINVAL; i++) {
		struct io_uring_params p = {.flags = uring_flags[i]};

		rc = io_uring_queue_init_params(256, &u->ring, &p);
		if (rc == 0)
			in->uring_flags = uring_flags[i];
	}
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->ready = 1;
	u->buf_size = sizeof(struct io_uring_recvmsg_out) + sizeof(st_sa_t) + ST_CONTROL_LEN +
	              ST_DGRAM_MAX + 1;
	u->buf_size = (u->buf_size + 63) & ~(size_t)63;
	u->br_len = ST_URING_NBUFS * sizeof(struct io_uring_buf);
	u->br = mmap(NULL, u->br_len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	u->bufs = mmap(NULL, (size_t)ST_URING_NBUFS * u->buf_size, PROT_READ | PROT_WRITE,
	               MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	u->mh = calloc(rt->nlis, sizeof(*u->mh));
	if (u->br == MAP_FAILED)
		u->br = NULL;
	if (u->bufs == MAP_FAILED)
		u->bufs = NULL;
	if (!u->br || !u->bufs || !u->mh) {
		rc = -ENOMEM;
		goto fail;
	}
	reg.ring_addr = (unsigned long)u->br;
	reg.ring_entries = ST_URING_NBUFS;
	reg.bgid = ST_URING_BGID;
	rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (rc < 0)
		goto fail;
	io_uring_buf_ring_init(u->br);
	for (unsigned i = 0; i < ST_URING_NBUFS; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * u->buf_size, u->buf_size, i,
		                      io_uring_buf_ring_mask(ST_URING_NBUFS), i);
	io_uring_buf_ring_advance(u->br, ST_URING_NBUFS);
	for (unsigned li = 0; li < rt->nlis; li++) {
		u->mh[li].msg_namelen = sizeof(st_sa_t);
		u->mh[li].msg_controllen = ST_CONTROL_LEN;
		rc = uring_arm(u, in, li);
		if (rc < 0)
			goto fail;
	}
	{
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

		if (!sqe) {
			rc = -EBUSY;
			goto fail;
		}
		io_uring_prep_poll_add(sqe, in->stop_fd, POLLIN);
		io_uring_sqe_set_data64(sqe, ST_URING_STOP);
	}
	rc = io_uring_submit(&u->ring);
	if (rc < 0)
		goto fail;
	*out = u;
	return 0;
fail:
	uring_free(u);
	return rc;
}

/* handle one batch of completions; returns datagrams taken */
static int uring_reap(st_ingest_t *in, st_uring_t *u)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, returned = 0;
	int got = 0, rearm = 0;
	struct timespec ts;
	uint32_t rearm_mask[8] = {0}; /* listeners whose multishot ended (first 256) */

	clock_gettime(CLOCK_REALTIME, &ts);
	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		unsigned li = (unsigned)cqe->user_data;

		seen++;
		if (cqe->user_data == ST_URING_STOP)
			continue; /* the wait ended; the stop flag says the rest */
		if (!(cqe->flags & IORING_CQE_F_MORE) && li < 256) {
			rearm_mask[li / 32] |= 1u << (li % 32);
			rearm = 1;
		}
		if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
			continue; /* ENOBUFS and friends: re-armed below */
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *buf = u->bufs + (size_t)bid * u->buf_size;
		struct io_uring_recvmsg_out *o =
		        io_uring_recvmsg_validate(buf, cqe->res, &u->mh[li]);

		if (o) {
			/* The kernel lays out name and control data right after
			 * the 16-byte header, at whatever offset the name length
			 * gives: the control messages are not aligned for struct
			 * cmsghdr. Walk an aligned copy (a few dozen bytes). */
			union {
				uint8_t b[ST_CONTROL_LEN];
				struct cmsghdr align;
			} control;
			size_t clen = o->controllen < sizeof(control.b) ? o->controllen
			                                                : sizeof(control.b);
			struct msghdr mh = {
			        .msg_name = io_uring_recvmsg_name(o),
			        .msg_namelen = o->namelen,
			        .msg_control = control.b,
			        .msg_controllen = clen,
			};

			memcpy(control.b,
			       (uint8_t *)io_uring_recvmsg_name(o) + u->mh[li].msg_namelen, clen);
			void *payload = io_uring_recvmsg_payload(o, &u->mh[li]);
			size_t len = io_uring_recvmsg_payload_length(o, cqe->res, &u->mh[li]);
			int trunc = (o->flags & MSG_TRUNC) || o->payloadlen > len;

			if (o->namelen > sizeof(st_sa_t))
				mh.msg_namelen = sizeof(st_sa_t);
			ingest_one(in, li, in->fds[li], payload, len, trunc, &mh, &ts);
			got++;
		}
		io_uring_buf_ring_add(u->br, buf, u->buf_size, bid,
		                      io_uring_buf_ring_mask(ST_URING_NBUFS), returned++);
	}
	if (returned)
		io_uring_buf_ring_advance(u->br, returned);
	io_uring_cq_advance(&u->ring, seen);
	if (rearm) {
		for (unsigned li = 0; li < in->rt->nlis && li < 256; li++)
			if (rearm_mask[li / 32] & (1u << (li % 32)))
				uring_arm(u, in, li);
	}
	if (got)
		ingest_publish(in);
	return got;
}

static void ingest_run_uring(st_ingest_t *in)
{
	st_uring_t *u = in->backend_state;
	int64_t stop_at = 0, last_data = 0;

	for (;;) {
		int stopping = atomic_load_explicit(&in->rt->stop_ingest, memory_order_acquire);
		int64_t wait_ms = stopping ? ST_QUIET_MS / 5 : ST_POLL_MS;
		struct __kernel_timespec to = {
		        .tv_sec = wait_ms / 1000,
		        .tv_nsec = wait_ms % 1000 * 1000000LL,
		};
		struct io_uring_cqe *cqe = NULL;
		int rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &to, NULL);
		int got = 0;

		if (rc < 0 && rc != -ETIME && rc != -EINTR) {
			/* cannot submit (re-arm) now: never spin on it */
			st_counter_add(&in->ctr[0][ST_CTR_URING_ERRORS], 1);
			usleep(1000);
		}
		got = uring_reap(in, u);
		if (ingest_should_exit(in, got, &stop_at, &last_data))
			break;
	}
}

/* ---- threads -------------------------------------------------------- */

/*
 * The receive backend, set up on the ingest thread itself. Returns 0 or
 * -errno; in->uring_rc keeps why io_uring was not used, for the one
 * start-up message.
 */
static int ingest_backend_setup(st_ingest_t *in)
{
	st_rt_t *rt = in->rt;

	in->backend = rt->backend;
	if (in->backend != ST_BACKEND_RECVMMSG) {
		st_uring_t *u = NULL;

		in->uring_rc = uring_new(in, &u);
		if (in->uring_rc == 0) {
			in->backend = ST_BACKEND_IO_URING;
			in->backend_state = u;
			return 0;
		}
		if (rt->backend == ST_BACKEND_IO_URING)
			return in->uring_rc;
	}
	in->backend = ST_BACKEND_RECVMMSG;
	in->backend_state = mmsg_new(rt->batch);
	return in->backend_state ? 0 : -ENOMEM;
}

static void ingest_backend_free(st_ingest_t *in)
{
	if (in->backend == ST_BACKEND_IO_URING)
		uring_free(in->backend_state);
	else
		mmsg_free(in->backend_state);
	in->backend_state = NULL;
}

static void *ingest_main(void *arg)
{
	st_ingest_t *in = arg;
	char name[16];

	snprintf(name, sizeof(name), "ingest/%u", in->id);
	pthread_setname_np(pthread_self(), name);
	in->setup_rc = ingest_backend_setup(in);
	sem_post(&in->ready); /* st_ingest_start() reads setup_rc and backend */
	if (in->setup_rc < 0)
		return NULL;
	if (in->backend == ST_BACKEND_IO_URING)
		ingest_run_uring(in);
	else
		ingest_run_recvmmsg(in);
	ingest_backend_free(in); /* a SINGLE_ISSUER ring is torn down by its issuer */
	return NULL;
}

static void ingest_free(st_ingest_t *in)
{
	if (in->fds) {
		for (unsigned li = 0; li < in->rt->nlis; li++)
			if (in->fds[li] >= 0)
				close(in->fds[li]);
		if (in->stop_fd >= 0)
			close(in->stop_fd);
	}
	free(in->fds);
	free(in->ovfl_last);
	free(in->inode);
	free(in->proc_drops);
	free(in->ctr);
	free(in->dirty);
	in->fds = NULL;
}

/* sockets, on the main thread: a port in use is reported here */
static int ingest_setup(st_ingest_t *in, char *err, size_t errlen)
{
	st_rt_t *rt = in->rt;
	int rc;

	in->fds = malloc(sizeof(int) * rt->nlis);
	in->ovfl_last = calloc(rt->nlis, sizeof(uint32_t));
	in->inode = calloc(rt->nlis, sizeof(unsigned long));
	in->proc_drops = calloc(rt->nlis, sizeof(st_counter_t));
	in->ctr = calloc(rt->nlis, sizeof(*in->ctr));
	in->dirty = calloc(rt->nworkers, 1);
	in->stop_fd = -1;
	/* before any failure: ingest_free() closes what is not -1 */
	for (unsigned li = 0; in->fds && li < rt->nlis; li++)
		in->fds[li] = -1;
	if (!in->fds || !in->ovfl_last || !in->inode || !in->proc_drops || !in->ctr || !in->dirty)
		return -ENOMEM;
	in->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (in->stop_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "ingest/%u: eventfd: %s", in->id, strerror(-rc));
		return rc;
	}
	for (unsigned li = 0; li < rt->nlis; li++) {
		st_listener_t *lis = &rt->lis[li];

		if (in->id == 0) {
			rc = st_listener_probe(lis, err, errlen);
			if (rc < 0)
				return rc;
		}
		in->fds[li] = st_listener_socket(lis, rt->rcvbuf, err, errlen);
		if (in->fds[li] < 0)
			return in->fds[li];
		{
			struct stat sb;

			if (fstat(in->fds[li], &sb) == 0)
				in->inode[li] = (unsigned long)sb.st_ino;
		}
	}
	return 0;
}

/* end every started thread's wait: the stop flag is set */
static void ingest_wake_all(st_rt_t *rt)
{
	for (unsigned i = 0; i < rt->ningest; i++)
		if (rt->ingest[i].started && eventfd_write(rt->ingest[i].stop_fd, 1) < 0)
			st_log(ST_LOG_WARN, "ingest/%u: cannot wake it: %s", i, strerror(errno));
}

/* start one thread and wait until its backend is set up: 0 or -errno */
static int ingest_launch(st_ingest_t *in, char *err, size_t errlen)
{
	st_rt_t *rt = in->rt;
	int rc;

	if (sem_init(&in->ready, 0, 0) < 0)
		return -errno;
	rc = -pthread_create(&in->thread, NULL, ingest_main, in);
	if (rc < 0) {
		snprintf(err, errlen, "ingest/%u: pthread_create: %s", in->id, strerror(-rc));
		sem_destroy(&in->ready);
		return rc;
	}
	while (sem_wait(&in->ready) < 0 && errno == EINTR)
		;
	sem_destroy(&in->ready);
	in->started = 1;
	rc = in->setup_rc;
	if (rc == -ENOMEM)
		snprintf(err, errlen, "ingest/%u: out of memory", in->id);
	else if (rc < 0)
		snprintf(err, errlen, "ingest.backend=io_uring: io_uring is not usable: %s",
		         strerror(-rc));
	else if (in->id == 0 && rt->backend == ST_BACKEND_AUTO && in->uring_rc < 0)
		st_log(ST_LOG_WARN, "io_uring is not usable here (%s): receiving with recvmmsg",
		       strerror(-in->uring_rc));
	if (rc == 0 && rt->affinity) {
		cpu_set_t set;
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&set);
		CPU_SET(in->id % (ncpu > 0 ? (unsigned)ncpu : 1u), &set);
		pthread_setaffinity_np(in->thread, sizeof(set), &set);
	}
	return rc;
}

int st_ingest_start(st_rt_t *rt, char *err, size_t errlen)
{
	int rc = 0;

	rt->ingest = calloc(rt->ningest, sizeof(*rt->ingest));
	if (!rt->ingest)
		return -ENOMEM;
	for (unsigned i = 0; i < rt->ningest && rc == 0; i++) {
		st_ingest_t *in = &rt->ingest[i];

		in->rt = rt;
		in->id = i;
		rc = ingest_setup(in, err, errlen);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "ingest/%u: out of memory", i);
	}
	for (unsigned i = 0; i < rt->ningest && rc == 0; i++)
		rc = ingest_launch(&rt->ingest[i], err, errlen);
	if (rc == 0)
		return 0;
	atomic_store(&rt->stop_ingest, 1);
	ingest_wake_all(rt);
	for (unsigned i = 0; i < rt->ningest; i++) {
		if (rt->ingest[i].started)
			pthread_join(rt->ingest[i].thread, NULL);
		ingest_free(&rt->ingest[i]);
	}
	free(rt->ingest);
	rt->ingest = NULL;
	return rc;
}

void st_ingest_join(st_rt_t *rt)
{
	if (!rt->ingest)
		return;
	atomic_store_explicit(&rt->stop_ingest, 1, memory_order_release);
	ingest_wake_all(rt);
	for (unsigned i = 0; i < rt->ningest; i++)
		pthread_join(rt->ingest[i].thread, NULL);
}

void st_ingest_free(st_rt_t *rt)
{
	if (!rt->ingest)
		return;
	for (unsigned i = 0; i < rt->ningest; i++)
		ingest_free(&rt->ingest[i]);
	free(rt->ingest);
	rt->ingest = NULL;
}

/* ---- kernel drops from /proc ---------------------------------------- */

size_t st_proc_udp_drops(FILE *f, const unsigned long *inodes, size_t n, uint64_t *drops)
{
	char line[512];
	size_t found = 0;

	/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long inode;
		unsigned long long d;
		char *field[13];
		int nf = 0;

		for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && nf < 13;
		     t = strtok_r(NULL, " \t\n", &save))
			field[nf++] = t;
		if (nf < 13 || !strchr(field[0], ':'))
			continue; /* the header, or a line of another shape */
		inode = strtoul(field[9], NULL, 10);
		d = strtoull(field[12], NULL, 10);
		for (size_t k = 0; k < n; k++)
			if (inodes[k] == inode && inode != 0) {
				drops[k] = d;
				found++;
			}
	}
	return found;
}

void st_ingest_sample_drops(st_rt_t *rt)
{
	size_t n = (size_t)rt->ningest * rt->nlis, k = 0;
	unsigned long inodes[n ? n : 1];
	uint64_t drops[n ? n : 1];
	static const char *const files[] = {"/proc/net/udp", "/proc/net/udp6"};

	if (!rt->ingest || n == 0)
		return;
	st_counter_add(&rt->proc_samples, 1);
	for (unsigned i = 0; i < rt->ningest; i++)
		for (unsigned li = 0; li < rt->nlis; li++, k++) {
			inodes[k] = rt->ingest[i].inode[li];
			drops[k] = st_counter_get(&rt->ingest[i].proc_drops[li]);
		}
	for (size_t fi = 0; fi < 2; fi++) {
		FILE *f = fopen(files[fi], "re");

		if (!f)
			continue;
		st_proc_udp_drops(f, inodes, n, drops);
		fclose(f);
	}
	k = 0;
	for (unsigned i = 0; i < rt->ningest; i++)
		for (unsigned li = 0; li < rt->nlis; li++, k++)
			atomic_store_explicit(&rt->ingest[i].proc_drops[li], drops[k],
			                      memory_order_relaxed);
}

int64_t st_ingest_sample_tick(st_rt_t *rt, int64_t *next)
{
	int64_t now = now_ms();

	if (now >= *next) {
		st_ingest_sample_drops(rt);
		/* on the schedule, unless far behind (a stalled main thread
		 * gets one sample, not a burst of catch-up ones) */
		*next = *next + ST_PROC_SAMPLE_MS > now ? *next + ST_PROC_SAMPLE_MS
		                                        : now + ST_PROC_SAMPLE_MS;
	}
	return *next - now;
}

uint64_t st_ingest_kernel_drops(const st_rt_t *rt, unsigned li)
{
	uint64_t sum = 0;

	for (unsigned i = 0; rt->ingest && i < rt->ningest; i++) {
		uint64_t ovfl, proc;

		if (!rt->ingest[i].ctr)
			continue;
		ovfl = st_counter_get(&rt->ingest[i].ctr[li][ST_CTR_KERNEL_DROPS]);
		proc = st_counter_get(&rt->ingest[i].proc_drops[li]);
		sum += ovfl > proc ? ovfl : proc;
	}
	return sum;
}
