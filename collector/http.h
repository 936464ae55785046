/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the operations endpoints (/metrics, /healthz, /readyz, /engines)
 * and the client behind `stormtrap --health URL`.
 *
 * Threads: st_http_start() and st_http_stop() are called by the main
 * thread. The server runs one thread of its own, named "http", which only
 * reads the runtime (counters, sink readiness, the USM engine cache); it
 * never touches the per-packet path. st_health_check() is a plain blocking
 * client for container health checks and has no shared state.
 */
#ifndef ST_HTTP_H
#define ST_HTTP_H

#include <stddef.h>

#include "collector.h"

typedef struct st_http st_http_t;

/**
 * @brief Start serving the operations endpoints.
 *
 *   GET /metrics  every counter, Prometheus text format 0.0.4
 *   GET /healthz  200 "ok" while the ingest and worker threads run, else 503
 *   GET /readyz   200 while listening and every sink can accept lines, else
 *                 503 with the reason
 *   GET /engines  JSON array of the SNMPv3 engines in the USM cache
 *   anything else 404 (405 for methods other than GET and HEAD)
 *
 * @param listen  the metrics.listen value: "host:port", "[IPv6]:port" or
 *                ":port" (every address; IPv6 and IPv4 where possible). A
 *                host name is resolved once, here.
 * @param rt      the runtime; must outlive the server (stop it first)
 * @param out     receives the server (free with st_http_stop())
 * @param err     receives a message naming metrics.listen on failure
 * @return 0, -EINVAL (unparsable address), -errno from resolving,
 *         binding or listening, or -ENOMEM.
 */
int st_http_start(const char *listen, st_rt_t *rt, st_http_t **out, char *err, size_t errlen);

/**
 * @brief Bind and close metrics.listen as st_http_start() would (stormtrap
 * -T): is the address usable and the port free?
 * @return 0, or what st_http_start() would return, with err filled.
 */
int st_http_probe(const char *listen, char *err, size_t errlen);

/**
 * @brief Stop serving: close the socket, finish the thread (at most one
 * poll interval, 200 ms), free the server. NULL is fine.
 */
void st_http_stop(st_http_t *http);

/**
 * @brief One HTTP/1.0 GET for health checks (`stormtrap --health URL`),
 * over a plain socket so a container image needs no curl.
 * @param url     "http://host:port/path" (host may be a name or [IPv6];
 *                port defaults to 80, path to "/")
 * @param err     receives why the check failed ("HTTP 503: not ready: ...",
 *                "connect 127.0.0.1:9100: Connection refused", ...)
 * @return 0 when the server answered 2xx within 5 seconds; -EINVAL for a
 *         URL that is not http://, -errno when it could not be reached
 *         (-ETIMEDOUT after 5 s), -EPROTO for a reply that is not HTTP,
 *         -EIO for any other status.
 */
int st_health_check(const char *url, char *err, size_t errlen);

#endif /* ST_HTTP_H */
