/* SPDX-License-Identifier: Apache-2.0 */
/*
 * addr.c - "host:port" text to socket addresses and back.
 *
 * Every address a user types goes through st_addr_split(): the listen
 * addresses of the collector (udp://...), its metrics listener (host:port),
 * the health probe's URL authority, and the bench tools' --target and -l.
 * One parser means one set of error messages, and one place that knows an
 * IPv6 address needs its brackets. st_addr_parse() adds the literal-address
 * step for UDP sockets; names are left to callers that resolve (getaddrinfo),
 * which they do with the host st_addr_split() gives them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "st_util.h"

#define SET_ERR(...)                                                                               \
	do {                                                                                       \
		if (err && errlen)                                                                 \
			snprintf(err, errlen, __VA_ARGS__);                                        \
	} while (0)

/* "1".."65535", digits only */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int st_addr_split(const char *s, char *host, size_t hostlen, uint16_t *port, char *err,
                  size_t errlen)
{
	const char *h = s, *colon;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			SET_ERR("'%s': '[' without ']'", s);
			return -EINVAL;
		}
		if (close[1] != ':') {
			SET_ERR("'%s': no ':port' after ']'", s);
			return -EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		if (hlen == 0) {
			SET_ERR("'%s': empty address in brackets", s);
			return -EINVAL;
		}
	} else {
		colon = strchr(s, ':');
		if (!colon) {
			SET_ERR("'%s': no ':port'", s);
			return -EINVAL;
		}
		if (strchr(colon + 1, ':')) {
			SET_ERR("'%s': an IPv6 address goes in brackets, e.g. [::1]:162", s);
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
	}
	if (parse_port(colon + 1, port) < 0) {
		SET_ERR("'%s': port '%s' is not a number in 1..65535", s, colon + 1);
		return -EINVAL;
	}
	if (hlen >= hostlen) {
		SET_ERR("'%s': host is longer than %zu characters", s, hostlen ? hostlen - 1 : 0);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

int st_addr_parse(const char *s, unsigned flags, struct sockaddr_storage *ss, socklen_t *len,
                  char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *p = s;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(s, "udp://", 6) == 0) {
		p = s + 6;
	} else if (flags & ST_ADDR_UDP_REQUIRED) {
		SET_ERR("'%s': expected udp://IPv4:port or udp://[IPv6]:port", s);
		return -EINVAL;
	}
	if (st_addr_split(p, host, sizeof(host), &port, err, errlen) < 0)
		return -EINVAL;
	if (*p == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			SET_ERR("'%s': '%s' is not an IPv6 address", s, host);
			return -EINVAL;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (len)
			*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		const char *ip = host;

		if ((flags & ST_ADDR_LOCALHOST) && strcmp(host, "localhost") == 0)
			ip = "127.0.0.1";
		if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1) {
			SET_ERR("'%s': '%s' is not an IPv4 address (an IPv6 address goes in "
			        "brackets: [::1]:162)",
			        s, host);
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (len)
			*len = sizeof(*sin);
	}
	return 0;
}

int st_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		if (len)
			snprintf(buf, len, "?");
		return -EAFNOSUPPORT;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
