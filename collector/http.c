/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - the operations endpoints on metrics.listen: /metrics, /healthz,
 * /readyz and /engines, served by libmicrohttpd.
 *
 * The server is one thread, named "http", that runs libmicrohttpd's event
 * loop (MHD_run_wait) until st_http_stop(). The thread is ours rather than
 * libmicrohttpd's internal one (MHD_USE_INTERNAL_POLLING_THREAD) because
 * that one names itself "MHD-single", and operators find the collector's
 * threads by name (top -H, /proc/PID/task/<tid>/comm). The loop wakes every
 * 200 ms to look at the stop flag, like the other threads of the collector.
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
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "http.h"

#define ST_HTTP_POLL_MS      200 /* how often the loop looks at the stop flag */
#define ST_HTTP_CONN_LIMIT   64  /* scrapers and probes; not a public web server */
#define ST_HTTP_CONN_TIMEOUT 10  /* seconds an idle connection may stay */
#define ST_HTTP_BACKLOG      64

#define ST_HTTP_CT_METRICS "text/plain; version=0.0.4"
#define ST_HTTP_CT_TEXT    "text/plain; charset=utf-8"
#define ST_HTTP_CT_JSON    "application/json"

struct st_http {
	st_rt_t *rt;
	struct MHD_Daemon *mhd;
	pthread_t thread;
	int thread_started;
	_Atomic int stop;
};

/* ---- responses ------------------------------------------------------- */

/* Queue a response whose body is a malloc'ed buffer (taken over). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
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
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
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

typedef struct st_http_engines {
	FILE *out;
	size_t n;
	int failed; /* out of memory: the answer is a 500, not a short list */
} st_http_engines_t;

/* "192.0.2.7:161", "[2001:db8::7]:161" */
static void sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
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
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s[i]);
	hex[2 * len] = '\0';
	v = json_string(hex);
	free(hex);
	return v;
}

static void engine_cb(const st_usm_engine_info_t *info, void *arg)
{
	st_http_engines_t *ctx = arg;
	json_t *obj = NULL, *sources, *users;
	char *hex = NULL;

	if (ctx->failed)
		return;
	hex = malloc(2 * info->engine_id_len + 1);
	obj = json_object();
	sources = json_array();
	users = json_array();
	if (!hex || !obj || !sources || !users) {
		json_decref(sources);
		json_decref(users);
		goto out;
	}
	for (size_t i = 0; i < info->engine_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", info->engine_id[i]);
	hex[2 * info->engine_id_len] = '\0';
	for (size_t i = 0; i < info->nsources; i++) {
		char addr[INET6_ADDRSTRLEN + 16];

		sockaddr_text(&info->sources[i], addr, sizeof(addr));
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
	if (ctx->n++)
		fputc(',', ctx->out);
	if (json_dumpf(obj, ctx->out, JSON_COMPACT) == 0) {
		free(hex);
		json_decref(obj);
		return;
	}
out:
	ctx->failed = 1;
	free(hex);
	json_decref(obj);
}

static enum MHD_Result serve_engines(st_http_t *http, struct MHD_Connection *conn)
{
	st_http_engines_t ctx = {0};
	char *buf = NULL;
	size_t len = 0;

	ctx.out = open_memstream(&buf, &len);
	if (!ctx.out)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	fputc('[', ctx.out);
	if (http->rt->usm)
		st_usm_engines_foreach(http->rt->usm, engine_cb, &ctx);
	fputs("]\n", ctx.out);
	if (fclose(ctx.out) != 0 || ctx.failed) {
		free(buf);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return reply(conn, MHD_HTTP_OK, ST_HTTP_CT_JSON, buf, len);
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

	pthread_setname_np(pthread_self(), "http");
	while (!atomic_load(&http->stop)) {
		if (MHD_run_wait(http->mhd, ST_HTTP_POLL_MS) != MHD_YES) {
			/* cannot happen with the options we set; do not spin if it does */
			struct timespec ts = {.tv_nsec = ST_HTTP_POLL_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ---- start and stop --------------------------------------------------- */

/* "host:port", "[v6]:port", ":port" -> host ("" for every address), port */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = listen;
	size_t hlen;

	if (*listen == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = listen + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		if (hlen == 0)
			return -EINVAL;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - listen);
	}
	if (hlen >= hostlen || strlen(colon + 1) >= portlen || !colon[1])
		return -EINVAL;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

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
	char host[256], port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *res = NULL;
	long portnum;
	int fd = -EADDRNOTAVAIL, rc;

	if (split_listen(listen, host, sizeof(host), port, sizeof(port)) < 0 ||
	    (portnum = strtol(port, NULL, 10)) < 1 || portnum > 65535) {
		snprintf(err, errlen,
		         "metrics.listen '%s': expected host:port, [IPv6]:port or :port", listen);
		return -EINVAL;
	}
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
	char where[INET6_ADDRSTRLEN + 16];
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
	http->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_ERROR_LOG |
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
	rc = -pthread_create(&http->thread, NULL, http_main, http);
	if (rc < 0) {
		snprintf(err, errlen, "metrics.listen '%s': cannot start a thread: %s", listen,
		         strerror(-rc));
		goto fail;
	}
	http->thread_started = 1;
	close(fd);
	sockaddr_text(&ss, where, sizeof(where));
	st_log(ST_LOG_INFO, "http: /metrics /healthz /readyz /engines on http://%s", where);
	*out = http;
	return 0;
fail:
	if (http->mhd)
		MHD_stop_daemon(http->mhd);
	close(fd);
	free(http);
	return rc;
}

void st_http_stop(st_http_t *http)
{
	if (!http)
		return;
	atomic_store(&http->stop, 1);
	if (http->thread_started)
		pthread_join(http->thread, NULL);
	MHD_stop_daemon(http->mhd);
	free(http);
}
