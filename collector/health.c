/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.c - the client side of `stormtrap --health URL`: one HTTP/1.0
 * GET over a plain socket, exit status for a container health check.
 *
 * A container image of the collector carries no curl or wget, and a
 * HEALTHCHECK must not depend on a shell; so the binary checks itself:
 * `stormtrap --health http://127.0.0.1:9163/healthz` exits 0 when the
 * server answers 2xx and 1 otherwise, with the reason on stderr.
 *
 * HTTP/1.0 keeps the client trivial: the server closes the connection
 * after the response, so the reply is read until EOF (or until the buffer
 * is full: only the status line and the start of the body matter). Every
 * step shares one 5-second deadline, so a hung server makes the check
 * fail instead of hang.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "st_util.h"

#define ST_HEALTH_TIMEOUT_MS 5000
#define ST_HEALTH_REPLY_MAX  4096

typedef struct st_health_url {
	char host[256]; /* without brackets */
	char port[8];
	char authority[272]; /* as given: the Host header */
	char path[1024];
} st_health_url_t;

static int parse_url(const char *url, st_health_url_t *u)
{
	const char *auth, *end;
	char hostport[sizeof(u->authority) + 4];
	uint16_t port;
	size_t alen;

	if (strncasecmp(url, "http://", 7) != 0)
		return -EINVAL;
	auth = url + 7;
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	if (alen == 0 || alen >= sizeof(u->authority))
		return -EINVAL;
	memcpy(u->authority, auth, alen);
	u->authority[alen] = '\0';

	/* the port is optional in a URL: "host" and "[v6]" mean port 80 */
	if (u->authority[alen - 1] == ']' || !strchr(u->authority, ':'))
		snprintf(hostport, sizeof(hostport), "%s:80", u->authority);
	else
		snprintf(hostport, sizeof(hostport), "%s", u->authority);
	if (st_addr_split(hostport, u->host, sizeof(u->host), &port, NULL, 0) < 0 || !u->host[0] ||
	    strchr(u->host, '@'))
		return -EINVAL;
	snprintf(u->port, sizeof(u->port), "%u", port);

	if (!*end)
		strcpy(u->path, "/");
	else if (*end == '/' || *end == '?')
		snprintf(u->path, sizeof(u->path), "%s%.*s", *end == '?' ? "/" : "",
		         (int)strcspn(end, "#"), end);
	else /* a fragment only */
		strcpy(u->path, "/");
	return strpbrk(u->path, " \r\n") ? -EINVAL : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait for events on fd until the deadline; 0, -ETIMEDOUT or -errno */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc, soerr;
	socklen_t len = sizeof(soerr);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
		rc = -errno;
		goto fail;
	}
	if (soerr) {
		rc = -soerr;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

/* the first line of the body, for the error message */
static void body_excerpt(const char *reply, char *out, size_t outlen)
{
	const char *body = strstr(reply, "\r\n\r\n");
	size_t n;

	out[0] = '\0';
	if (!body)
		return;
	body += 4;
	n = strcspn(body, "\r\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, body, n);
	out[n] = '\0';
}

int st_health_check(const char *url, char *err, size_t errlen)
{
	st_health_url_t u;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int64_t deadline = now_ms() + ST_HEALTH_TIMEOUT_MS;
	char req[1536], reply[ST_HEALTH_REPLY_MAX + 1], excerpt[200];
	size_t reqlen, sent = 0, got = 0;
	int fd = -1, rc, status, minor;

	if (parse_url(url, &u) < 0) {
		snprintf(err, errlen, "'%s': expected http://host[:port][/path]", url);
		return -EINVAL;
	}
	rc = getaddrinfo(u.host, u.port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", u.host,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	rc = -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd < 0)
			rc = fd;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect %s: %s", u.authority, strerror(-rc));
		return rc;
	}

	reqlen = (size_t)snprintf(req, sizeof(req),
	                          "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: stormtrap/%s\r\n"
	                          "Accept: */*\r\n\r\n",
	                          u.path, u.authority, ST_VERSION);
	while (sent < reqlen) {
		ssize_t n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			goto io_fail;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto io_fail;
	}
	while (got < ST_HEALTH_REPLY_MAX) {
		ssize_t n = recv(fd, reply + got, ST_HEALTH_REPLY_MAX - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			goto io_fail;
		}
		if ((rc = wait_fd(fd, POLLIN, deadline)) < 0)
			goto io_fail;
	}
	close(fd);
	reply[got] = '\0';

	if (sscanf(reply, "HTTP/1.%d %3d", &minor, &status) != 2 || status < 100 || status > 599) {
		snprintf(err, errlen, "%s: the reply is not HTTP", url);
		return -EPROTO;
	}
	if (status >= 200 && status < 300)
		return 0;
	body_excerpt(reply, excerpt, sizeof(excerpt));
	snprintf(err, errlen, "%s: HTTP %d%s%s", url, status, excerpt[0] ? ": " : "", excerpt);
	return -EIO;

io_fail:
	close(fd);
	snprintf(err, errlen, "%s: %s", url,
	         rc == -ETIMEDOUT ? "no answer within 5 s" : strerror(-rc));
	return rc;
}
