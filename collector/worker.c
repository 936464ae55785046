/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.c - worker threads: datagram → notification → sinks → ack.
 *
 * A worker owns one ring per ingest thread. It takes up to ST_BATCH_MAX
 * datagrams across its rings, and for each: decodes it (codec), checks the
 * community (v1/v2c) or runs the User-based Security Model (v3: verify,
 * timeliness, decrypt; Reports go back at once), encodes the JSON line and
 * hands it to every sink. Responses to informs are encoded right away (the
 * decoded message borrows buffers the next datagram reuses) but only SENT
 * at the end of the batch, after every sink flushed the batch: an inform is
 * acked only once its notification is written or queued, so a sender whose
 * inform could not be delivered retries.
 *
 * worker_process() is the path of one datagram, a function per step:
 * worker_decode → worker_authenticate (worker_usm, or the communities) →
 * worker_classify (trap or inform) → worker_ack_prepare (informs) →
 * worker_emit (worker_encode, worker_deliver to the sinks). None of them
 * allocates or logs (worker_bad's sample is off unless asked for).
 *
 * Inform retransmissions: a sender that missed our Response sends the same
 * request-id again. Acked informs are remembered per worker (source
 * address, port, version, request-id and a hash of the variable bindings)
 * for ST_DEDUP_SECS; a retransmission within that time is acked again but
 * not emitted twice. Sources always map to the same worker, so the table
 * needs no lock.
 *
 * Reports (v3 discovery and time window) go out at once, within per-worker
 * token buckets (see "Reports" below).
 *
 * Idle workers sleep on a futex (ingest wakes them after publishing, and
 * st_worker_join() on shutdown), for at most a second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bucket.h"
#include "collector.h"
#include "st_util.h"

#define ST_BATCH_MAX   256
#define ST_ACK_ARENA   (1024 * 1024)
#define ST_ACK_MAX     512
#define ST_DEDUP_SLOTS 8192 /* power of two, 4-way buckets */
#define ST_DEDUP_WAYS  4
#define ST_DEDUP_SECS  30
#define ST_IDLE_MS     1000 /* an idle worker's wait (stop wakes it) */
#define ST_LINGER_US   750  /* worker_linger() */

/* ---- inform retransmission memory ------------------------------------ */

/* What makes two informs "the same": sender (address, port), version,
 * request-id, and a hash of the variable bindings. */
typedef struct st_dedup_id {
	const st_sa_t *src;
	int version;
	int32_t request_id;
	uint64_t content;
} st_dedup_id_t;

typedef struct st_dedup_slot {
	uint8_t addr[16];
	uint16_t port;
	uint8_t version;
	uint8_t used;
	int32_t request_id;
	uint64_t content;
	int64_t when; /* seconds */
} st_dedup_slot_t;

struct st_dedup {
	st_dedup_slot_t slot[ST_DEDUP_SLOTS];
};

static void dedup_key(const st_sa_t *src, uint8_t addr[16], uint16_t *port)
{
	memset(addr, 0, 16);
	if (src->sa.sa_family == AF_INET) {
		memcpy(addr, &src->in.sin_addr, 4);
		*port = src->in.sin_port;
	} else {
		memcpy(addr, &src->in6.sin6_addr, 16);
		*port = src->in6.sin6_port;
	}
}

static uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * The content hash covers the VarBindList of the PDU: for v3 the
 * decrypted plaintext. A real retransmission keeps it byte for byte
 * (Net-SNMP resends the same PDU; for v3 it re-encrypts with a new salt
 * and msgID, which is why the hash is not of the datagram), while an
 * inform that only shares the request-id (an agent reusing ids, or a
 * spoofed one sent ahead of the genuine) differs in it, at least in
 * sysUpTime.0, and is emitted.
 */
static uint64_t dedup_content(const st_msg_t *msg)
{
	return hash_bytes(msg->pdu.vbl, msg->pdu.vbl_len, 0xcbf29ce484222325ULL);
}

static st_dedup_slot_t *dedup_bucket(st_dedup_t *d, const uint8_t addr[16], uint16_t port,
                                     const st_dedup_id_t *id)
{
	uint64_t h = hash_bytes(addr, 16, 0xcbf29ce484222325ULL);

	h = hash_bytes((const uint8_t *)&port, 2, h);
	h = hash_bytes((const uint8_t *)&id->request_id, 4, h ^ (uint64_t)id->version);
	h = hash_bytes((const uint8_t *)&id->content, 8, h);
	return &d->slot[(h & (ST_DEDUP_SLOTS - 1)) & ~(uint64_t)(ST_DEDUP_WAYS - 1)];
}

static int dedup_match(const st_dedup_slot_t *sl, const uint8_t addr[16], uint16_t port,
                       const st_dedup_id_t *id)
{
	return sl->used && sl->request_id == id->request_id && sl->content == id->content &&
	       sl->port == port && sl->version == id->version && memcmp(sl->addr, addr, 16) == 0;
}

static int dedup_seen(st_dedup_t *d, const st_dedup_id_t *id, int64_t now)
{
	uint8_t addr[16];
	uint16_t port;
	st_dedup_slot_t *b;

	dedup_key(id->src, addr, &port);
	b = dedup_bucket(d, addr, port, id);
	for (int i = 0; i < ST_DEDUP_WAYS; i++)
		if (dedup_match(&b[i], addr, port, id))
			return now - b[i].when <= ST_DEDUP_SECS;
	return 0;
}

static void dedup_remember(st_dedup_t *d, const st_dedup_id_t *id, int64_t now)
{
	uint8_t addr[16];
	uint16_t port;
	st_dedup_slot_t *b, *victim;

	dedup_key(id->src, addr, &port);
	b = dedup_bucket(d, addr, port, id);
	victim = &b[0];
	for (int i = 0; i < ST_DEDUP_WAYS; i++) {
		if (!b[i].used || dedup_match(&b[i], addr, port, id)) {
			victim = &b[i];
			break;
		}
		if (b[i].when < victim->when)
			victim = &b[i];
	}
	memcpy(victim->addr, addr, 16);
	victim->port = port;
	victim->version = (uint8_t)id->version;
	victim->request_id = id->request_id;
	victim->content = id->content;
	victim->when = now;
	victim->used = 1;
}

/* ---- replies ---------------------------------------------------------- */

typedef struct st_ack {
	int fd;
	int ifindex;
	st_sa_t to;
	st_sa_t from;
	uint32_t off, len;
	int ok; /* every sink accepted the notification */
	int retransmit;
	int version;
	int32_t request_id;
	uint64_t content; /* dedup_content() */
} st_ack_t;

typedef struct st_acks {
	unsigned n;
	size_t used;
	st_ack_t ack[ST_ACK_MAX];
	uint8_t arena[ST_ACK_ARENA];
} st_acks_t;

static int send_reply(int fd, const st_sa_t *to, const st_sa_t *from, int ifindex, const void *buf,
                      size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh = {
	        .msg_name = (void *)&to->sa,
	        .msg_namelen = to->sa.sa_family == AF_INET ? sizeof(to->in) : sizeof(to->in6),
	        .msg_iov = &iov,
	        .msg_iovlen = 1,
	};
	struct cmsghdr *c;

	memset(&cbuf, 0, sizeof(cbuf));
	if (from->sa.sa_family == AF_INET && from->in.sin_addr.s_addr != 0) {
		struct in_pktinfo pi = {.ipi_spec_dst = from->in.sin_addr};

		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else if (from->sa.sa_family == AF_INET6 &&
	           !IN6_IS_ADDR_UNSPECIFIED(&from->in6.sin6_addr)) {
		struct in6_pktinfo pi = {.ipi6_addr = from->in6.sin6_addr,
		                         .ipi6_ifindex = (unsigned)ifindex};

		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	for (;;) {
		ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* ---- communities ------------------------------------------------------ */

int st_auth_new(char *const *names, size_t n, st_auth_t **out)
{
	st_auth_t *auth = calloc(1, sizeof(*auth));

	if (!auth)
		return -ENOMEM;
	auth->names = calloc(n ? n : 1, sizeof(char *));
	auth->lens = calloc(n ? n : 1, sizeof(size_t));
	if (!auth->names || !auth->lens)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], "*") == 0) {
			auth->any = 1;
			continue;
		}
		auth->names[auth->n] = strdup(names[i]);
		if (!auth->names[auth->n])
			goto nomem;
		auth->lens[auth->n] = strlen(names[i]);
		auth->n++;
	}
	*out = auth;
	return 0;
nomem:
	st_auth_free(auth);
	return -ENOMEM;
}

void st_auth_free(st_auth_t *auth)
{
	if (!auth)
		return;
	for (size_t i = 0; i < auth->n; i++)
		free(auth->names[i]);
	free(auth->names);
	free(auth->lens);
	free(auth);
}

int st_auth_allows(const st_auth_t *auth, const uint8_t *community, size_t len)
{
	if (auth->any)
		return 1;
	for (size_t i = 0; i < auth->n; i++)
		if (auth->lens[i] == len && memcmp(auth->names[i], community, len) == 0)
			return 1;
	return 0;
}

void st_rt_quiesce(st_rt_t *rt)
{
	uint64_t epoch = atomic_fetch_add(&rt->auth_epoch, 1) + 1;

	/* wait until every worker has started a batch since (or is idle) */
	for (unsigned w = 0; w < rt->nworkers && rt->workers; w++)
		while (atomic_load(&rt->workers[w].epoch) < epoch &&
		       atomic_load(&rt->threads_running))
			usleep(1000);
}

void st_rt_swap_auth(st_rt_t *rt, st_auth_t *auth)
{
	st_auth_t *old = atomic_exchange(&rt->auth, auth);

	st_rt_quiesce(rt);
	st_auth_free(old);
}

/* ---- sleeping and waking ---------------------------------------------- */

unsigned st_worker_pick(const st_rt_t *rt, const st_sa_t *src)
{
	uint64_t h;

	if (rt->nworkers == 1)
		return 0;
	if (src->sa.sa_family == AF_INET)
		h = hash_bytes((const uint8_t *)&src->in.sin_addr, 4, 0xcbf29ce484222325ULL);
	else
		h = hash_bytes((const uint8_t *)&src->in6.sin6_addr, 16, 0xcbf29ce484222325ULL);
	/*
	 * FNV-1a's last multiplication leaves the high half almost untouched by
	 * the last octet: unmixed, every address of a /24 went to one worker.
	 * The 64-bit finalizer of MurmurHash3 spreads every input bit.
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (unsigned)((h >> 32) % rt->nworkers);
}

/*
 * Dekker without fences. Ingest publishes (release store of the ring head,
 * or of stop_workers) and then reads wk->sleeping; the worker sets
 * sleeping and then looks at the rings. Every access to sleeping is a
 * read-modify-write, and RMWs on one location are totally ordered, each
 * reading the value the one before it wrote. Take ingest's RMW R and the
 * worker's exchanges around one sleep, S1 (to 1) and S0 (back to 0):
 *  - R before S1: S1 (acquire) reads from R (release), so the publication
 *    happens-before the worker's look at the rings: it does not sleep;
 *  - R between S1 and S0: R reads 1 and wakes the worker, and S0 reads
 *    from R, so the worker's next look sees the data. (With a plain store
 *    for S0 nothing would order the publication before that look, nor
 *    before the next sleep's, whose S1 would read from S0: the data could
 *    wait for the next timeout.)
 *  - R after S0: the next sleep's S1 reads from R, as in the first case.
 * A wake-up is never lost. The cost is one locked instruction per batch
 * for ingest (which now writes the worker's line where it used to read
 * it) and two per sleep for the worker; ThreadSanitizer understands it
 * (it does not model standalone fences).
 */
void st_worker_wake(st_worker_t *wk, int urgent)
{
	int state = atomic_fetch_add_explicit(&wk->sleeping, 0, memory_order_acq_rel);

	if (state == ST_WORKER_ASLEEP || (state == ST_WORKER_LINGERING && urgent)) {
		atomic_fetch_add(&wk->wake, 1);
		syscall(SYS_futex, &wk->wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
}

static int worker_rings_pending(st_worker_t *wk)
{
	st_rt_t *rt = wk->rt;

	for (unsigned i = 0; i < rt->ningest; i++)
		if (st_ring_pending(&rt->rings[i * rt->nworkers + wk->id]))
			return 1;
	return 0;
}

/* wait on wk->wake for at most to, as state (ST_WORKER_ASLEEP or
 * ST_WORKER_LINGERING): see st_worker_wake() */
static void worker_wait(st_worker_t *wk, int state, const struct timespec *to)
{
	uint32_t v = atomic_load(&wk->wake);

	atomic_exchange_explicit(&wk->sleeping, state,
	                         memory_order_acq_rel); /* see st_worker_wake() */
	if (!worker_rings_pending(wk) &&
	    !atomic_load_explicit(&wk->rt->stop_workers, memory_order_acquire))
		syscall(SYS_futex, &wk->wake, FUTEX_WAIT_PRIVATE, v, to, NULL, 0);
	atomic_exchange_explicit(&wk->sleeping, ST_WORKER_AWAKE, memory_order_acq_rel); /* S0 */
}

static void worker_sleep(st_worker_t *wk)
{
	struct timespec to = {.tv_sec = ST_IDLE_MS / 1000, .tv_nsec = ST_IDLE_MS % 1000 * 1000000L};

	atomic_store(&wk->epoch, UINT64_MAX); /* holds no auth reference */
	worker_wait(wk, ST_WORKER_ASLEEP, &to);
}

/*
 * A short pause before sleeping, after a batch of traps. The worker says
 * it lingers rather than sleeps, so ingest does not wake it for traps (no
 * FUTEX_WAKE for ingest to make) and what arrives meanwhile is taken in one
 * batch: at 10 k/s this halves the syscalls per notification, and it saves
 * CPU per notification at 1 k/s and 100 k/s (docs/PERFORMANCE.md section
 * 10). It is bounded (ST_LINGER_US, under a millisecond), skipped after a
 * batch that held informs, and ended at once by a datagram that may need
 * an answer (st_worker_urgent(): an inform's sender is waiting for the
 * ack, traps' senders are not).
 */
static void worker_linger(st_worker_t *wk)
{
	struct timespec to = {.tv_nsec = ST_LINGER_US * 1000L};

	worker_wait(wk, ST_WORKER_LINGERING, &to);
}

/*
 * SNMP message header, as far as needed: SEQUENCE { version, then v1/v2c:
 * community, PDU (InformRequest: [6]); v3: msgGlobalData SEQUENCE { msgID,
 * msgMaxSize, msgFlags (reportable: 0x04), ... } }.
 */
int st_worker_urgent(const uint8_t *data, size_t len)
{
	st_ber_t ber, msg, hdr;
	int64_t version, id;
	const uint8_t *val;
	size_t vlen;
	uint8_t tag;

	st_ber_init(&ber, data, len);
	if (st_ber_enter(&ber, 0x30, &msg) < 0 || st_ber_read_int(&msg, 0x02, &version) < 0)
		return 0;
	if (version == ST_SNMP_V2C)
		return st_ber_read_octets(&msg, 0x04, &val, &vlen) == 0 &&
		       st_ber_read_tlv(&msg, &tag, &val, &vlen) == 0 && tag == 0xa6;
	if (version != ST_SNMP_V3 || st_ber_enter(&msg, 0x30, &hdr) < 0 ||
	    st_ber_read_int(&hdr, 0x02, &id) < 0 || st_ber_read_int(&hdr, 0x02, &id) < 0 ||
	    st_ber_read_octets(&hdr, 0x04, &val, &vlen) < 0 || vlen != 1)
		return 0;
	return (val[0] & 0x04) != 0;
}

/* ---- one datagram ------------------------------------------------------ */

static const char *version_name(int version)
{
	return version == ST_SNMP_V1 ? "v1" : version == ST_SNMP_V2C ? "v2c" : "v3";
}

static void worker_notify_counter(st_worker_t *wk, int version, int inform)
{
	int id = version == ST_SNMP_V1 ? ST_CTR_NOTIF_V1_TRAP
	         : version == ST_SNMP_V2C
	                 ? (inform ? ST_CTR_NOTIF_V2C_INFORM : ST_CTR_NOTIF_V2C_TRAP)
	                 : (inform ? ST_CTR_NOTIF_V3_INFORM : ST_CTR_NOTIF_V3_TRAP);

	st_counter_add(&wk->ctr[id], 1);
}

/* ---- Reports: discovery switch and rate limits ------------------------ */

/*
 * A Report answers an unauthenticated datagram and is larger than it (a
 * 41-byte probe gets 106 bytes), so unlimited Reports make the collector a
 * reflector. Each worker limits the Reports it sends with token buckets,
 * refilled from the receive time of the datagram (no clock call):
 *  - one for all its Reports: its share of snmp.reports.rate (rate/nworkers
 *    per second, which may be less than one: the sum never exceeds rate);
 *  - one per source address: snmp.reports.per_source_rate. A source always
 *    maps to the same worker, so this is the exact per-source limit. The
 *    table is fixed (ST_REPORT_SOURCES slots, direct-mapped by address);
 *    a source that takes over a slot starts with a full bucket, and the
 *    total bucket still bounds what many spoofed sources get.
 * Each bucket holds one second of its rate (the burst; at least one
 * Report), and a step of the clock back costs no Reports (bucket.h).
 * Nothing is locked, nothing allocated. A suppressed Report is counted.
 */
#define ST_REPORT_SOURCES 4096 /* power of two */

typedef struct st_report_src {
	uint8_t addr[16];
	st_bucket_t b;
} st_report_src_t;

struct st_reports {
	st_bucket_t total;
	st_report_src_t src[ST_REPORT_SOURCES];
};

static int reports_allow(st_worker_t *wk, const st_rec_t *rec)
{
	st_rt_t *rt = wk->rt;
	st_reports_t *r = wk->reports;
	int64_t now_us = (int64_t)rec->ts.tv_sec * 1000000 + rec->ts.tv_nsec / 1000;
	uint8_t addr[16];
	uint16_t port;
	st_report_src_t *s;

	dedup_key(&rec->src, addr, &port);
	s = &r->src[hash_bytes(addr, 16, 0xcbf29ce484222325ULL) & (ST_REPORT_SOURCES - 1)];
	if (memcmp(s->addr, addr, 16) != 0 || s->b.last_us == 0) {
		memcpy(s->addr, addr, 16);
		s->b.last_us = 0;
	}
	if (!st_bucket_take(&s->b, rt->reports_per_source_rate, 1, now_us))
		return 0;
	return st_bucket_take(&r->total, rt->reports_rate, rt->nworkers, now_us);
}

/* Send a Report now, unless discovery is off (for a discovery probe) or a
 * limit says no. */
static void worker_report(st_worker_t *wk, const st_rec_t *rec, int discovery, const uint8_t *buf,
                          size_t len)
{
	if (discovery && !wk->rt->discovery) {
		st_counter_add(&wk->ctr[ST_CTR_REPORTS_SUPPRESSED_OFF], 1);
		return;
	}
	if (!reports_allow(wk, rec)) {
		st_counter_add(&wk->ctr[ST_CTR_REPORTS_SUPPRESSED_RATE], 1);
		return;
	}
	if (send_reply(rec->fd, &rec->src, &rec->dst, rec->ifindex, buf, len) < 0)
		st_counter_add(&wk->ctr[ST_CTR_SEND_ERRORS], 1);
	else
		st_counter_add(&wk->ctr[ST_CTR_REPORTS_SENT], 1);
}

/*
 * log.bad_packets: a sample of dropped datagrams, for debugging a device's
 * credentials. At most ST_BAD_PER_SEC lines per second per worker; the
 * receive time is already in the record, so the limiter costs no syscall.
 */
#define ST_BAD_PER_SEC 5
#define ST_BAD_HEX_MAX 512

static void worker_bad(st_worker_t *wk, const st_rec_t *rec, const char *reason)
{
	char addr[ST_ADDR_TEXT_MAX], hex[2 * ST_BAD_HEX_MAX + 1];
	size_t n = rec->len < ST_BAD_HEX_MAX ? rec->len : ST_BAD_HEX_MAX;

	if (!wk->rt->log_bad_packets)
		return;
	if (rec->ts.tv_sec != wk->bad_sec) {
		wk->bad_sec = rec->ts.tv_sec;
		wk->bad_count = 0;
	}
	if (wk->bad_count++ >= ST_BAD_PER_SEC)
		return;
	st_hex_encode(hex, rec->data, n);
	hex[2 * n] = '\0';
	st_addr_format(&rec->src.sa, addr, sizeof(addr));
	st_log(ST_LOG_WARN, "bad packet from %s: %s; %u bytes: %s%s", addr, reason, rec->len, hex,
	       n < rec->len ? "..." : "");
}

/* Decode the datagram into wk->msg; a malformed one is a counted drop. */
static int worker_decode(st_worker_t *wk, const st_rec_t *rec)
{
	int rc = st_snmp_decode(rec->data, rec->len, &wk->msg);

	if (rc < 0) {
		st_counter_add(&wk->ctr[ST_CTR_DROP_MALFORMED], 1);
		worker_bad(wk, rec, st_strerror(rc));
	}
	return rc;
}

/* A discovery probe (RFC 3414 4): reportable, no engine named. */
static int is_discovery(const st_msg_t *msg)
{
	return msg->version == ST_SNMP_V3 && msg->usm.engine_id_len == 0 &&
	       (msg->msg_flags & ST_MSGFLAG_REPORTABLE);
}

/*
 * v3: the User-based Security Model (verify, timeliness, decrypt). Its
 * Report, if any, goes back at once, unless discovery is switched off or
 * the Report limits say no. Refusals are counted by the USM layer, by
 * usmStats reason; discovery probes are counted there too, apart.
 */
static int worker_usm(st_worker_t *wk, const st_rec_t *rec)
{
	st_msg_t *msg = &wk->msg;
	st_acks_t *acks = wk->acks;
	uint8_t *report = acks->arena + acks->used;
	size_t rlen = 0;
	int rc;

	st_usm_note_source(wk->usm, &rec->src.sa);
	rc = st_usm_process(wk->usm, rec->data, rec->len, msg, &rec->ts, report,
	                    ST_ACK_ARENA - acks->used, &rlen);
	if (rlen > 0)
		worker_report(wk, rec, is_discovery(msg), report, rlen);
	if (rc < 0 && !is_discovery(msg))
		worker_bad(wk, rec, st_strerror(rc));
	return rc;
}

/* Authenticate: USM for v3, the community allow-list for v1/v2c. */
static int worker_authenticate(st_worker_t *wk, const st_auth_t *auth, const st_rec_t *rec)
{
	const st_msg_t *msg = &wk->msg;

	if (msg->version == ST_SNMP_V3)
		return worker_usm(wk, rec);
	if (!st_auth_allows(auth, msg->community, msg->community_len)) {
		st_counter_add(&wk->ctr[ST_CTR_DROP_COMMUNITY], 1);
		worker_bad(wk, rec, "community not allowed");
		return -EACCES;
	}
	return 0;
}

/* 0: a trap, 1: an inform, -1: a PDU this version may not carry here. */
static int worker_classify(st_worker_t *wk, const st_rec_t *rec)
{
	const st_msg_t *msg = &wk->msg;

	switch (msg->pdu.type) {
	case ST_PDU_TRAPV1:
		if (msg->version == ST_SNMP_V1)
			return 0;
		break;
	case ST_PDU_TRAPV2:
		if (msg->version != ST_SNMP_V1)
			return 0;
		break;
	case ST_PDU_INFORM:
		if (msg->version != ST_SNMP_V1)
			return 1;
		break;
	default:
		break;
	}
	st_counter_add(&wk->ctr[ST_CTR_DROP_UNSUPPORTED_PDU], 1);
	worker_bad(wk, rec, "unsupported PDU type");
	return -1;
}

/*
 * An inform: encode its Response now (the message borrows buffers the next
 * datagram reuses) and queue it for the end of the batch. Returns the
 * queued ack, or NULL when no Response could be encoded (the inform is
 * still emitted; its sender will retry). *retransmit: this inform was
 * acked within ST_DEDUP_SECS; it is acked again and not emitted.
 */
static st_ack_t *worker_ack_prepare(st_worker_t *wk, const st_rec_t *rec, int *retransmit)
{
	const st_msg_t *msg = &wk->msg;
	st_acks_t *acks = wk->acks;
	st_ack_t *ack = &acks->ack[acks->n];
	uint8_t *out = acks->arena + acks->used;
	size_t cap = ST_ACK_ARENA - acks->used;
	st_dedup_id_t id = {
	        .src = &rec->src,
	        .version = msg->version,
	        .request_id = msg->pdu.request_id,
	};
	int len;

	*retransmit = 0;
	if (msg->version == ST_SNMP_V3)
		len = st_usm_encode_response(wk->usm, msg, &rec->ts, out, cap);
	else
		len = st_snmp_encode_response(msg, out, cap);
	if (len < 0) {
		st_counter_add(&wk->ctr[ST_CTR_SEND_ERRORS], 1);
		return NULL;
	}
	id.content = dedup_content(msg);
	*retransmit = dedup_seen(wk->dedup, &id, rec->ts.tv_sec);
	*ack = (st_ack_t){
	        .fd = rec->fd,
	        .ifindex = rec->ifindex,
	        .to = rec->src,
	        .from = rec->dst,
	        .off = (uint32_t)acks->used,
	        .len = (uint32_t)len,
	        .ok = *retransmit, /* a retransmission needs no sink */
	        .retransmit = *retransmit,
	        .version = msg->version,
	        .request_id = msg->pdu.request_id,
	        .content = id.content,
	};
	acks->used += (size_t)len;
	acks->n++;
	if (*retransmit)
		st_counter_add(&wk->ctr[ST_CTR_INFORM_RETRANSMIT], 1);
	return ack;
}

/* Take back the last queued ack (its notification could not be encoded). */
static void worker_ack_cancel(st_worker_t *wk)
{
	st_acks_t *acks = wk->acks;

	acks->n--;
	acks->used -= acks->ack[acks->n].len;
}

/* The JSON line of wk->msg into wk->json; its length, or -1 (counted). */
static int worker_encode(st_worker_t *wk, const st_rec_t *rec, st_json_info_t *info)
{
	st_rt_t *rt = wk->rt;
	st_json_meta_t meta;
	int len;

	memset(&meta, 0, sizeof(meta));
	if (wk->mib) {
		int unknown = st_mib_translate(wk->mib, &wk->msg, &wk->names, wk->mib_vb,
		                               ST_SNMP_MAX_VARBINDS, wk->mib_arena, ST_MIB_ARENA);

		if (unknown > 0)
			st_counter_add(&wk->ctr[ST_CTR_MIB_UNKNOWN], (uint64_t)unknown);
		if (wk->names.omitted)
			st_counter_add(&wk->ctr[ST_CTR_MIB_OMITTED_SPACE], wk->names.omitted);
		/* always true: the translation keeps every notification's names
		 * (enumeration labels included) within the arena's size, and the
		 * buffer holds a full arena with a datagram of any size */
		if (st_json_bound_names(rec->len, &wk->names) <= wk->json_cap)
			meta.names = &wk->names;
		else
			st_counter_add(&wk->ctr[ST_CTR_MIB_OMITTED_SPACE], 1);
	}
	meta.time = rec->ts;
	meta.collector = rt->name;
	meta.src = &rec->src.sa;
	meta.dst = &rec->dst.sa;
	meta.community = rt->out_community;
	meta.big_numbers = rt->out_big_numbers;
	if (rt->out_raw) {
		meta.raw = rec->data;
		meta.raw_len = rec->len;
	}
	len = st_json_encode(&wk->msg, &meta, wk->json, wk->json_cap, info);
	if (len < 0)
		st_counter_add(&wk->ctr[ST_CTR_DROP_ENCODE], 1);
	else if (info->names_omitted)
		st_counter_add(&wk->ctr[ST_CTR_MIB_OMITTED_UTF8], info->names_omitted);
	return len;
}

/*
 * Hand the line to every sink. A sink that answers RETRY is flushed and
 * tried again for up to ~100 ms. Returns 1 when every sink accepted it.
 */
static int worker_deliver(st_worker_t *wk, const st_sink_rec_t *srec)
{
	st_rt_t *rt = wk->rt;
	int all_ok = 1;

	for (unsigned s = 0; s < rt->nsinks; s++) {
		st_sink_result_t r = st_sink_write(rt->sinks[s], wk->id, srec);

		for (int tries = 0; r == ST_SINK_RETRY && tries < 100; tries++) {
			st_sink_flush(rt->sinks[s], wk->id);
			usleep(1000);
			r = st_sink_write(rt->sinks[s], wk->id, srec);
		}
		if (r != ST_SINK_ACCEPTED)
			all_ok = 0;
	}
	if (!all_ok)
		st_counter_add(&wk->ctr[ST_CTR_DROP_SINK], 1);
	return all_ok;
}

/* Encode and deliver one notification; ack (if any) learns the outcome. */
static void worker_emit(st_worker_t *wk, const st_rec_t *rec, int inform, st_ack_t *ack)
{
	const st_msg_t *msg = &wk->msg;
	st_json_info_t info;
	st_sink_rec_t srec;
	int len, ok;

	len = worker_encode(wk, rec, &info);
	if (len < 0) {
		if (ack)
			worker_ack_cancel(wk);
		return;
	}
	srec = (st_sink_rec_t){
	        .line = wk->json,
	        .len = (size_t)len,
	        .src_ip = wk->json + info.src_ip.off,
	        .src_ip_len = info.src_ip.len,
	        .agent_addr = wk->json + info.agent_addr.off,
	        .agent_addr_len = info.agent_addr.len,
	        .trap_oid = wk->json + info.trap_oid.off,
	        .trap_oid_len = info.trap_oid.len,
	        .version = version_name(msg->version),
	        .pdu = inform ? "inform" : "trap",
	};
	ok = worker_deliver(wk, &srec);
	worker_notify_counter(wk, msg->version, inform);
	if (ack)
		ack->ok = ok;
}

/* One datagram: decode → authenticate → classify → (ack) → JSON → sinks. */
static void worker_process(st_worker_t *wk, const st_auth_t *auth, const st_rec_t *rec)
{
	st_ack_t *ack = NULL;
	int inform, retransmit = 0;

	if (worker_decode(wk, rec) < 0 || worker_authenticate(wk, auth, rec) < 0)
		return;
	inform = worker_classify(wk, rec);
	if (inform < 0)
		return;
	if (inform) {
		ack = worker_ack_prepare(wk, rec, &retransmit);
		if (retransmit)
			return;
	}
	worker_emit(wk, rec, inform, ack);
}

/* end of a batch: flush the sinks, then ack what they accepted */
static void worker_end_batch(st_worker_t *wk)
{
	st_rt_t *rt = wk->rt;
	st_acks_t *acks = wk->acks;
	int flushed = 1;

	for (unsigned s = 0; s < rt->nsinks; s++)
		if (st_sink_flush(rt->sinks[s], wk->id) != ST_SINK_ACCEPTED)
			flushed = 0;
	for (unsigned i = 0; i < acks->n; i++) {
		st_ack_t *ack = &acks->ack[i];

		if (!ack->ok || (!flushed && !ack->retransmit)) {
			st_counter_add(&wk->ctr[ST_CTR_INFORM_NOT_ACKED], 1);
			continue;
		}
		if (send_reply(ack->fd, &ack->to, &ack->from, ack->ifindex, acks->arena + ack->off,
		               ack->len) < 0) {
			st_counter_add(&wk->ctr[ST_CTR_SEND_ERRORS], 1);
			continue;
		}
		st_counter_add(&wk->ctr[ST_CTR_INFORM_ACKED], 1);
		dedup_remember(wk->dedup,
		               &(st_dedup_id_t){.src = &ack->to,
		                                .version = ack->version,
		                                .request_id = ack->request_id,
		                                .content = ack->content},
		               (int64_t)time(NULL));
	}
	acks->n = 0;
	acks->used = 0;
}

static void *worker_main(void *arg)
{
	st_worker_t *wk = arg;
	st_rt_t *rt = wk->rt;
	st_acks_t *acks = wk->acks;
	char name[16];

	int linger = 0; /* the last batch had traps only: linger before sleeping */

	snprintf(name, sizeof(name), "worker/%u", wk->id);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		unsigned n = 0;
		const st_auth_t *auth;

		atomic_store(&wk->epoch, atomic_load(&rt->auth_epoch));
		auth = atomic_load(&rt->auth);
		wk->mib = atomic_load(&rt->mib);
		for (unsigned i = 0; i < rt->ningest; i++) {
			st_ring_t *ring = &rt->rings[i * rt->nworkers + wk->id];
			const st_rec_t *rec;

			while (n < ST_BATCH_MAX && acks->n < ST_ACK_MAX &&
			       ST_ACK_ARENA - acks->used > 2 * (ST_DGRAM_MAX + 1024) &&
			       (rec = st_ring_peek(ring))) {
				worker_process(wk, auth, rec);
				st_ring_consume(ring, rec);
				n++;
			}
			st_ring_release(ring);
		}
		if (n > 0) {
			linger = acks->n == 0;
			worker_end_batch(wk);
			continue;
		}
		if (atomic_load_explicit(&rt->stop_workers, memory_order_acquire) &&
		    !worker_rings_pending(wk))
			break;
		if (linger) {
			worker_linger(wk);
			linger = 0;
			continue;
		}
		worker_sleep(wk);
	}
	atomic_store(&wk->epoch, UINT64_MAX);
	return NULL;
}

static void worker_free(st_worker_t *wk)
{
	st_usm_worker_free(wk->usm);
	free(wk->json);
	free(wk->mib_vb);
	free(wk->mib_arena);
	wk->mib_vb = NULL;
	wk->mib_arena = NULL;
	free(wk->dedup);
	free(wk->reports);
	free(wk->acks);
	wk->usm = NULL;
	wk->json = NULL;
	wk->dedup = NULL;
	wk->reports = NULL;
	wk->acks = NULL;
}

int st_worker_start(st_rt_t *rt, char *err, size_t errlen)
{
	int rc;

	for (unsigned w = 0; w < rt->nworkers; w++) {
		st_worker_t *wk = &rt->workers[w];

		wk->rt = rt;
		wk->id = w;
		atomic_init(&wk->epoch, UINT64_MAX);
		wk->json_cap = st_json_bound(ST_DGRAM_MAX) +
		               ST_JSON_NAMES_BOUND(ST_MIB_ARENA, ST_SNMP_MAX_VARBINDS);
		wk->json = malloc(wk->json_cap);
		wk->mib_vb = calloc(ST_SNMP_MAX_VARBINDS, sizeof(*wk->mib_vb));
		wk->mib_arena = malloc(ST_MIB_ARENA);
		wk->dedup = calloc(1, sizeof(*wk->dedup));
		wk->reports = calloc(1, sizeof(*wk->reports));
		wk->acks = calloc(1, sizeof(st_acks_t));
		wk->usm = st_usm_worker_new(rt->usm);
		if (!wk->json || !wk->mib_vb || !wk->mib_arena || !wk->dedup || !wk->reports ||
		    !wk->acks || !wk->usm) {
			snprintf(err, errlen, "worker/%u: out of memory", w);
			return -ENOMEM;
		}
	}
	for (unsigned w = 0; w < rt->nworkers; w++) {
		rc = -pthread_create(&rt->workers[w].thread, NULL, worker_main, &rt->workers[w]);
		if (rc < 0) {
			snprintf(err, errlen, "worker/%u: pthread_create: %s", w, strerror(-rc));
			atomic_store(&rt->stop_workers, 1);
			for (unsigned j = 0; j < w; j++)
				pthread_join(rt->workers[j].thread, NULL);
			return rc;
		}
		if (rt->affinity) {
			cpu_set_t set;
			long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

			CPU_ZERO(&set);
			CPU_SET(w % (ncpu > 0 ? (unsigned)ncpu : 1u), &set);
			pthread_setaffinity_np(rt->workers[w].thread, sizeof(set), &set);
		}
	}
	return 0;
}

void st_worker_join(st_rt_t *rt)
{
	atomic_store_explicit(&rt->stop_workers, 1, memory_order_release);
	for (unsigned w = 0; w < rt->nworkers; w++)
		st_worker_wake(&rt->workers[w], 1);
	for (unsigned w = 0; w < rt->nworkers; w++)
		pthread_join(rt->workers[w].thread, NULL);
}

void st_worker_free_all(st_rt_t *rt)
{
	for (unsigned w = 0; rt->workers && w < rt->nworkers; w++)
		worker_free(&rt->workers[w]);
}
