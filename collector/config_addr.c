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
#include "st_util.h"

/* ------------------------------------------------------------------ */
/* Validators                                                         */
/* ------------------------------------------------------------------ */

int st_config_parse_listen(const char *uri, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (st_addr_parse(uri, ST_ADDR_UDP_REQUIRED, &ss, &len, NULL, 0) < 0)
		return -EINVAL;
	if (addr)
		*addr = ss;
	if (addrlen)
		*addrlen = len;
	return 0;
}

int st_config_check_listen(const char *value, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	char got[96];

	if (st_addr_parse(value, ST_ADDR_UDP_REQUIRED, &ss, NULL, NULL, 0) == 0)
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

/* host:port, [IPv6]:port or :port (all addresses); empty means off. The
 * host is resolved when the listener starts; here only its form is checked. */
int st_config_check_hostport(const char *value, char *why, size_t whylen)
{
	char host[256];
	struct in6_addr a6;
	uint16_t port;
	char got[96];
	int ok;

	if (!*value)
		return 0;
	ok = st_addr_split(value, host, sizeof(host), &port, NULL, 0) == 0;
	if (ok && *value == '[')
		ok = inet_pton(AF_INET6, host, &a6) == 1;
	for (const char *p = host; ok && *value != '[' && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			ok = 0;
	if (ok)
		return 0;
	st_config_got(got, sizeof(got), value);
	snprintf(why, whylen, "expected host:port, [IPv6]:port or :port, %s", got);
	return ST_ERR_CONFIG;
}
