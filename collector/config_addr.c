/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_addr.c - validators of the configuration's address-like strings:
 * listen addresses (udp://IPv4:port, udp://[IPv6]:port), output URIs and
 * host:port (metrics.listen). They run when a source sets the key, so a bad
 * address is an error naming the key and the file line, not a bind failure
 * later.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config_impl.h"

/* ------------------------------------------------------------------ */
/* Validators                                                         */
/* ------------------------------------------------------------------ */

/* "65535" -> 65535; 1..65535 only, digits only. */
static int st_config_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (strlen(s) > 5 || st_config_digits(&s, &v) < 0 || *s || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int st_config_parse_listen(const char *uri, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN];
	const char *p, *colon;
	uint16_t port;
	size_t hlen;

	if (strncmp(uri, "udp://", 6) != 0)
		return -EINVAL;
	p = uri + 6;
	memset(&ss, 0, sizeof(ss));
	if (*p == '[') {
		const char *close = strchr(p, ']');
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - p - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, p + 1, hlen);
		host[hlen] = '\0';
		if (st_config_port(close + 2, &port) < 0 ||
		    inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (addrlen)
			*addrlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		colon = strchr(p, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - p);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, p, hlen);
		host[hlen] = '\0';
		if (st_config_port(colon + 1, &port) < 0 ||
		    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (addrlen)
			*addrlen = sizeof(*sin);
	}
	if (addr)
		*addr = ss;
	return 0;
}

int st_config_check_listen(const char *value, char *why, size_t whylen)
{
	char got[96];

	if (st_config_parse_listen(value, NULL, NULL) == 0)
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen, "expected udp://IPv4:port or udp://[IPv6]:port, %s", got);
	return ST_ERR_CONFIG;
}

int st_config_check_output(const char *value, char *why, size_t whylen)
{
	char got[96];

	if (strcmp(value, "stdout") == 0 || (strncmp(value, "file:", 5) == 0 && value[5]) ||
	    (strncmp(value, "kafka://", 8) == 0 && value[8] && value[8] != '/'))
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen,
	         "expected stdout, file:/path or kafka://host:port[,host:port]/topic, %s", got);
	return ST_ERR_CONFIG;
}

/* host:port, [IPv6]:port or :port (all addresses); empty means off. */
int st_config_check_hostport(const char *value, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	const char *colon;
	uint16_t port;
	char got[96];
	int ok = 0;

	if (!*value)
		return 0;
	if (*value == '[') {
		const char *close = strchr(value, ']');
		size_t hlen = close ? (size_t)(close - value - 1) : 0;

		if (close && close[1] == ':' && hlen > 0 && hlen < sizeof(host)) {
			memcpy(host, value + 1, hlen);
			host[hlen] = '\0';
			ok = inet_pton(AF_INET6, host, &a6) == 1 &&
			     st_config_port(close + 2, &port) == 0;
		}
	} else if ((colon = strrchr(value, ':')) != NULL) {
		ok = st_config_port(colon + 1, &port) == 0;
		for (const char *p = value; ok && p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				ok = 0;
	}
	if (ok)
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen, "expected host:port, [IPv6]:port or :port, %s", got);
	return ST_ERR_CONFIG;
}
