/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - the operations endpoints on metrics.listen: /metrics, /healthz,
 * /readyz and /engines, served by libmicrohttpd.
 *
 * The server is one thread, named "http", that runs libmicrohttpd's event
 * loop (poll, then MHD_run) until st_http_stop(). The thread is ours rather than
 * libmicrohttpd's internal one (MHD_USE_INTERNAL_POLLING_THREAD) because
 * that one names itself "MHD-single", and operators find the collector's
 * threads by name (top -H, /proc/PID/task/<tid>/comm). The loop is the
 * external-epoll one: it waits in poll() on libmicrohttpd's epoll
 * descriptor and on an eventfd that st_http_stop() writes, for as long as
 * libmicrohttpd's own timeout (MHD_get_timeout: the next idle connection to
 * close) allows, and with no connection open for ever. An idle collector's
 * http thread therefore does not wake at all, and a request or a stop ends
 * the wait at once.
 *
 * We bind the listening socket ourselves and hand it over
 * (MHD_OPTION_LISTEN_SOCKET): the error then names metrics.listen, the
 * address and the errno ("address already in use"), and a host name is
 * resolved with getaddrinfo() like any other address.
 *
 * Every response is built per request and freed by libmicrohttpd after it
 * was sent: /metrics prints st_metrics_write() into an open_memstream()
 * buffer; /engines walks the USM engine cache and writes one JSON object
 * per engine (jansson, one engine at a time, so a cache of 200,000 engines
 * never becomes one tree in memory). Nothing here is on the per-packet
 * path: the counters are read with relaxed loads, sinks and the USM cache
 * answer from any thread (st_sinks.h, st_usm.h).
 *
 * st_health_check(), the client side of `stormtrap --health URL`, lives in
 * health.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "http.h"
#include "st_util.h"

#define ST_HTTP_RETRY_MS     1000 /* after an unexpected error of the loop: no spinning */
#define ST_HTTP_CONN_LIMIT   64   /* scrapers and probes; not a public web server */
#define ST_HTTP_CONN_TIMEOUT 10   /* seconds an idle connection may stay */
#define ST_HTTP_BACKLOG      64

#define ST_HTTP_CT_METRICS "text/plain; version=0.0.4"
#define ST_HTTP_CT_TEXT    "text/plain; charset=utf-8"
#define ST_HTTP_CT_JSON    "application/json"

struct st_http {
	st_rt_t *rt;
	struct MHD_Daemon *mhd;
	pthread_t thread;
	int thread_started;
	int epoll_fd; /* libmicrohttpd's: its sockets' events */
	int stop_fd;  /* eventfd: written by st_http_stop(), ends the wait */
};

/* ---- responses ------------------------------------------------------- */

/* Queue a response whose body is a malloc'ed buffer (taken over), with one
 * extra header when link is not NULL. */
static enum MHD_Result reply_link(struct MHD_Connection *conn, unsigned status, const char *type,
                                  char *body, size_t len, const char *link)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* every answer describes this instant; a cached one would mislead */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (link)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LINK, link);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
	return reply_link(conn, status, type, body, len, NULL);
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                  ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                  ...)
{
	char *body = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return reply(conn, status, ST_HTTP_CT_TEXT, body, (size_t)n);
}

/* ---- /metrics --------------------------------------------------------- */

static enum MHD_Result serve_metrics(st_http_t *http, struct MHD_Connection *conn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	st_metrics_write(http->rt, out);
	if (fclose(out) != 0) {
		free(buf);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK, ST_HTTP_CT_METRICS, buf, len);
}

/* ---- /healthz, /readyz ------------------------------------------------ */

static enum MHD_Result serve_healthz(st_http_t *http, struct MHD_Connection *conn)
{
	if (atomic_load(&http->rt->threads_running))
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
	                  "unhealthy: ingest and worker threads are not running\n");
}

static enum MHD_Result serve_readyz(st_http_t *http, struct MHD_Connection *conn)
{
	const st_rt_t *rt = http->rt;

	if (!atomic_load(&rt->threads_running))
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                  "not ready: not listening (threads not running)\n");
	for (unsigned i = 0; i < rt->nsinks; i++)
		if (!st_sink_ready(rt->sinks[i]))
			return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			                  "not ready: output '%s' cannot accept lines\n",
			                  st_sink_uri(rt->sinks[i]));
	return reply_text(conn, MHD_HTTP_OK, "ok\n");
}

/* ---- /engines --------------------------------------------------------- */

/*
 * /engines is paged: ?limit=N (default ST_HTTP_ENGINES_LIMIT) engines in
 * engine ID order, starting after ?after=<engine ID hex>. The body stays a
 * JSON array; when more engines follow, a Link header (RFC 8288) names the
 * next page: </engines?limit=N&after=HEX>; rel="next". A page is one walk
 * of the cache that keeps the N smallest engine IDs past the cursor in a
 * max-heap, each already rendered, so memory is bounded by the page, not
 * by the cache, and the shard locks are never held across pages. The
 * collector's own engine (snmp.engine_id, the authoritative engine of
 * informs) is in the cache too, for its localized keys, but it is not a
 * remote engine and is left out.
 */
#define ST_HTTP_ENGINES_LIMIT     1000
#define ST_HTTP_ENGINES_LIMIT_MAX 10000
#define ST_HTTP_ENGINE_ID_MAX     32

typedef struct st_http_engine_row {
	uint8_t id[ST_HTTP_ENGINE_ID_MAX];
	size_t id_len;
	char *json; /* the rendered object */
} st_http_engine_row_t;

typedef struct st_http_engines {
	const uint8_t *self; /* our engine ID: left out */
	size_t self_len;
	uint8_t after[ST_HTTP_ENGINE_ID_MAX];
	size_t after_len; /* 0: from the start */
	size_t limit;
	st_http_engine_row_t *heap; /* max-heap on the engine ID, at most limit rows */
	size_t n;
	size_t more; /* engines past the cursor that are not on this page */
	int failed;  /* out of memory: the answer is a 500, not a short list */
} st_http_engines_t;

/* byte order, then length: the order of the lowercase hex text */
static int engine_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static int row_cmp(const st_http_engine_row_t *a, const st_http_engine_row_t *b)
{
	return engine_cmp(a->id, a->id_len, b->id, b->id_len);
}

static int row_qsort_cmp(const void *a, const void *b)
{
	return row_cmp(a, b);
}

static void heap_swap(st_http_engine_row_t *h, size_t i, size_t j)
{
	st_http_engine_row_t t = h[i];

	h[i] = h[j];
	h[j] = t;
}

static void heap_up(st_http_engine_row_t *h, size_t i)
{
	while (i > 0 && row_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(st_http_engine_row_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, big = i;

		if (l < n && row_cmp(&h[l], &h[big]) > 0)
			big = l;
		if (r < n && row_cmp(&h[r], &h[big]) > 0)
			big = r;
		if (big == i)
			return;
		heap_swap(h, i, big);
		i = big;
	}
}

/* -1 (not learned) is null, as is a time that cannot be shown */
static json_t *json_num_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *json_rfc3339(int64_t unix_s)
{
	char stamp[32];
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (unix_s <= 0 || !gmtime_r(&t, &tm) ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(stamp);
}

/* User names are octet strings; one that is not UTF-8 is shown as hex, the
 * way notification lines show binary octet strings. */
static json_t *json_octets(const char *s)
{
	json_t *v = json_string(s);
	size_t len;
	char *hex;

	if (v)
		return v;
	len = strlen(s);
	hex = malloc(2 * len + 1);
	if (!hex)
		return NULL;
	st_hex_encode(hex, s, len);
	hex[2 * len] = '\0';
	v = json_string(hex);
	free(hex);
	return v;
}

/* One engine as a compact JSON object (malloc'ed), or NULL. */
static char *engine_json(const st_usm_engine_info_t *info)
{
	json_t *obj = json_object(), *sources = json_array(), *users = json_array();
	char hex[2 * ST_HTTP_ENGINE_ID_MAX + 1];
	char *text = NULL;

	if (!obj || !sources || !users) {
		json_decref(sources);
		json_decref(users);
		goto out;
	}
	st_hex_encode(hex, info->engine_id, info->engine_id_len);
	hex[2 * info->engine_id_len] = '\0';
	for (size_t i = 0; i < info->nsources; i++) {
		char addr[ST_ADDR_TEXT_MAX];

		st_addr_format((const struct sockaddr *)&info->sources[i], addr, sizeof(addr));
		json_array_append_new(sources, json_string(addr));
	}
	for (size_t i = 0; i < info->nusers; i++)
		json_array_append_new(users, json_octets(info->users[i]));
	if (json_object_set_new(obj, "engine_id", json_string(hex)) < 0 ||
	    json_object_set_new(obj, "boots", json_num_or_null(info->boots)) < 0 ||
	    json_object_set_new(obj, "time", json_num_or_null(info->time)) < 0 ||
	    json_object_set_new(obj, "last_seen", json_rfc3339(info->last_seen)) < 0 ||
	    json_object_set_new(obj, "sources", sources) < 0 ||
	    json_object_set_new(obj, "users", users) < 0)
		goto out;
	text = json_dumps(obj, JSON_COMPACT);
out:
	json_decref(obj);
	return text;
}

static void engine_cb(const st_usm_engine_info_t *info, void *arg)
{
	st_http_engines_t *ctx = arg;
	st_http_engine_row_t row;

	if (ctx->failed || info->engine_id_len > ST_HTTP_ENGINE_ID_MAX)
		return;
	if (ctx->self_len &&
	    engine_cmp(info->engine_id, info->engine_id_len, ctx->self, ctx->self_len) == 0)
		return;
	if (ctx->after_len &&
	    engine_cmp(info->engine_id, info->engine_id_len, ctx->after, ctx->after_len) <= 0)
		return;
	memcpy(row.id, info->engine_id, info->engine_id_len);
	row.id_len = info->engine_id_len;
	if (ctx->n == ctx->limit) {
		ctx->more++;
		if (row_cmp(&row, &ctx->heap[0]) > 0)
			return; /* on a later page */
	}
	row.json = engine_json(info);
	if (!row.json) {
		ctx->failed = 1;
		return;
	}
	if (ctx->n == ctx->limit) {
		free(ctx->heap[0].json);
		ctx->heap[0] = row;
		heap_down(ctx->heap, ctx->n, 0);
	} else {
		ctx->heap[ctx->n] = row;
		heap_up(ctx->heap, ctx->n++);
	}
}

/* ?limit= and ?after=, or a 400 with the reason in why */
static int engines_query(struct MHD_Connection *conn, st_http_engines_t *ctx, char *why,
                         size_t whylen)
{
	const char *limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *after = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after");
	int n;

	ctx->limit = ST_HTTP_ENGINES_LIMIT;
	if (limit) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(limit, &end, 10);
		if (errno || end == limit || *end || limit[0] == '-' || v < 1 ||
		    v > ST_HTTP_ENGINES_LIMIT_MAX) {
			snprintf(why, whylen, "limit: '%.32s' is not a number in 1..%d\n", limit,
			         ST_HTTP_ENGINES_LIMIT_MAX);
			return -EINVAL;
		}
		ctx->limit = v;
	}
	if (after && *after) {
		n = st_hex_decode(after, ctx->after, sizeof(ctx->after));
		if (n < 1) {
			snprintf(why, whylen, "after: '%.80s' is not an engine ID in hex\n", after);
			return -EINVAL;
		}
		ctx->after_len = (size_t)n;
	}
	return 0;
}

static enum MHD_Result serve_engines(st_http_t *http, struct MHD_Connection *conn)
{
	st_http_engines_t ctx = {0};
	char *buf = NULL, why[160], link[2 * ST_HTTP_ENGINE_ID_MAX + 64];
	size_t len = 0;
	enum MHD_Result ret;
	FILE *out = NULL;

	if (engines_query(conn, &ctx, why, sizeof(why)) < 0)
		return reply_text(conn, MHD_HTTP_BAD_REQUEST, "%s", why);
	ctx.self = http->rt->engine_id;
	ctx.self_len = http->rt->engine_id_len;
	ctx.heap = calloc(ctx.limit, sizeof(*ctx.heap));
	if (!ctx.heap)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (http->rt->usm)
		st_usm_engines_foreach(http->rt->usm, engine_cb, &ctx);
	qsort(ctx.heap, ctx.n, sizeof(*ctx.heap), row_qsort_cmp);
	out = ctx.failed ? NULL : open_memstream(&buf, &len);
	if (out) {
		fputc('[', out);
		for (size_t i = 0; i < ctx.n; i++) {
			if (i)
				fputc(',', out);
			fputs(ctx.heap[i].json, out);
		}
		fputs("]\n", out);
	}
	for (size_t i = 0; i < ctx.n; i++)
		free(ctx.heap[i].json);
	if (!out || fclose(out) != 0) {
		free(buf);
		free(ctx.heap);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	if (ctx.more) {
		const st_http_engine_row_t *last = &ctx.heap[ctx.n - 1];
		int n = snprintf(link, sizeof(link), "</engines?limit=%zu&after=", ctx.limit);

		st_hex_encode(link + n, last->id, last->id_len);
		snprintf(link + n + 2 * last->id_len, sizeof(link) - (size_t)n - 2 * last->id_len,
		         ">; rel=\"next\"");
	}
	ret = reply_link(conn, MHD_HTTP_OK, ST_HTTP_CT_JSON, buf, len, ctx.more ? link : NULL);
	free(ctx.heap);
	return ret;
}

/* ---- dispatch --------------------------------------------------------- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req)
{
	static int first_call;
	st_http_t *http = cls;

	/* libmicrohttpd calls once for the headers, again for each piece of
	 * a body, and once more at its end; answer on that last call so a
	 * request with a body is read whole before the reply */
	if (!*req) {
		*req = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(http, conn);
	if (strcmp(url, "/healthz") == 0)
		return serve_healthz(http, conn);
	if (strcmp(url, "/readyz") == 0)
		return serve_readyz(http, conn);
	if (strcmp(url, "/engines") == 0)
		return serve_engines(http, conn);
	return reply_text(conn, MHD_HTTP_NOT_FOUND,
	                  "not found; try /metrics, /healthz, /readyz or /engines\n");
}

/* libmicrohttpd's own messages (a client that misbehaved, a failed
 * accept) are not worth an operator's attention by default */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	st_log(ST_LOG_DEBUG, "http: %s", msg);
}

static void *http_main(void *arg)
{
	st_http_t *http = arg;
	struct pollfd pfd[2] = {{.fd = http->epoll_fd, .events = POLLIN},
	                        {.fd = http->stop_fd, .events = POLLIN}};

	pthread_setname_np(pthread_self(), "http");
	for (;;) {
		MHD_UNSIGNED_LONG_LONG to = 0;
		int ms = -1; /* nothing of libmicrohttpd's to time out: wait for an event */

		if (MHD_get_timeout(http->mhd, &to) == MHD_YES)
			ms = to > INT_MAX ? INT_MAX : (int)to;
		if (poll(pfd, 2, ms) < 0 && errno != EINTR) {
			/* cannot happen with these descriptors; do not spin if it does */
			struct timespec ts = {.tv_sec = ST_HTTP_RETRY_MS / 1000};

			nanosleep(&ts, NULL);
		}
		if (pfd[1].revents & POLLIN)
			break;
		MHD_run(http->mhd); /* never blocks; required after every wait */
	}
	return NULL;
}

/* ---- start and stop --------------------------------------------------- */

static int listen_on(const struct sockaddr *sa, socklen_t salen, int dual_stack)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, zero = 0, rc;

	if (fd < 0)
		return -errno;
	/* a restart must not wait for TIME_WAIT connections of the old process */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (dual_stack)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, salen) < 0 || listen(fd, ST_HTTP_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* bind metrics.listen; returns the socket or -errno with err filled */
static int open_listener(const char *listen, char *err, size_t errlen)
{
	char host[256], port[8], why[160];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *res = NULL;
	uint16_t portnum;
	int fd = -EADDRNOTAVAIL, rc;

	if (st_addr_split(listen, host, sizeof(host), &portnum, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "metrics.listen %s: expected host:port, [IPv6]:port or :port",
		         why);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", portnum);
	if (!host[0]) {
		/* every address: one IPv6 socket that also takes IPv4, or IPv4
		 * alone where the kernel has no IPv6 */
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6,
		                           .sin6_port = htons((uint16_t)portnum),
		                           .sin6_addr = IN6ADDR_ANY_INIT};
		struct sockaddr_in in = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)portnum),
		                         .sin_addr.s_addr = htonl(INADDR_ANY)};

		fd = listen_on((struct sockaddr *)&in6, sizeof(in6), 1);
		if (fd == -EAFNOSUPPORT)
			fd = listen_on((struct sockaddr *)&in, sizeof(in), 0);
		goto out;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "metrics.listen '%s': %s", listen,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = listen_on(ai->ai_addr, ai->ai_addrlen, 0);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
out:
	if (fd < 0)
		snprintf(err, errlen, "metrics.listen '%s': bind: %s", listen, strerror(-fd));
	return fd;
}

int st_http_probe(const char *listen, char *err, size_t errlen)
{
	int fd = open_listener(listen, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int st_http_start(const char *listen, st_rt_t *rt, st_http_t **out, char *err, size_t errlen)
{
	st_http_t *http;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char where[ST_ADDR_TEXT_MAX];
	int fd, mhd_fd, rc;

	*out = NULL;
	fd = open_listener(listen, err, errlen);
	if (fd < 0)
		return fd;
	http = calloc(1, sizeof(*http));
	if (!http) {
		close(fd);
		snprintf(err, errlen, "metrics.listen '%s': out of memory", listen);
		return -ENOMEM;
	}
	http->rt = rt;
	http->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (http->stop_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "metrics.listen '%s': eventfd: %s", listen, strerror(-rc));
		goto fail;
	}
	/* libmicrohttpd closes the socket it was given when it stops, and may
	 * or may not when it fails to start; give it a duplicate so that every
	 * path closes each descriptor exactly once */
	mhd_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mhd_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "metrics.listen '%s': %s", listen, strerror(-rc));
		goto fail;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	/* epoll: one descriptor for the thread's wait (see the top of the file) */
	http->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                                     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                             0, NULL, NULL, handle, http, MHD_OPTION_LISTEN_SOCKET, mhd_fd,
	                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)ST_HTTP_CONN_LIMIT,
	                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ST_HTTP_CONN_TIMEOUT,
	                             MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!http->mhd) {
		rc = -EIO;
		snprintf(err, errlen, "metrics.listen '%s': cannot start the HTTP server", listen);
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		rc = -EIO;
		snprintf(err, errlen,
		         "metrics.listen '%s': the HTTP server has no epoll descriptor", listen);
		goto fail;
	}
	http->epoll_fd = info->epoll_fd;
	rc = -pthread_create(&http->thread, NULL, http_main, http);
	if (rc < 0) {
		snprintf(err, errlen, "metrics.listen '%s': cannot start a thread: %s", listen,
		         strerror(-rc));
		goto fail;
	}
	http->thread_started = 1;
	close(fd);
	st_addr_format((const struct sockaddr *)&ss, where, sizeof(where));
	st_log(ST_LOG_INFO, "http: /metrics /healthz /readyz /engines on http://%s", where);
	*out = http;
	return 0;
fail:
	if (http->mhd)
		MHD_stop_daemon(http->mhd);
	if (http->stop_fd >= 0)
		close(http->stop_fd);
	close(fd);
	free(http);
	return rc;
}

void st_http_stop(st_http_t *http)
{
	if (!http)
		return;
	if (http->thread_started) {
		/* adding 1 to a counter nobody else writes cannot fail */
		(void)eventfd_write(http->stop_fd, 1);
		pthread_join(http->thread, NULL);
	}
	MHD_stop_daemon(http->mhd);
	close(http->stop_fd);
	free(http);
}
