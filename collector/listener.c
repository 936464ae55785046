/* SPDX-License-Identifier: Apache-2.0 */
/*
 * listener.c - listen addresses and their sockets.
 *
 * "udp://192.0.2.10:162" or "udp://[2001:db8::1]:162". Each ingest thread
 * opens its own socket per listener with SO_REUSEPORT, so the kernel
 * spreads senders over the ingest threads. Because SO_REUSEPORT would also
 * let a second collector of the same user silently share the port, the
 * first socket is preceded by a probe bind without it: a port that is in
 * use is a start-up error, as an operator expects.
 *
 * Every socket asks for the local address of each datagram (IP_PKTINFO /
 * IPV6_RECVPKTINFO, so inform Responses leave from the address the inform
 * was sent to) and for the kernel's drop counter (SO_RXQ_OVFL).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector.h"

int st_listener_parse(const char *uri, st_listener_t *lis, char *err, size_t errlen)
{
	const char *p, *host, *port;
	char hostbuf[INET6_ADDRSTRLEN + 1];
	size_t hlen;
	char *end;
	unsigned long portnum;

	memset(lis, 0, sizeof(*lis));
	if (strncmp(uri, "udp://", 6) != 0)
		goto bad;
	p = uri + 6;
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close || close[1] != ':')
			goto bad;
		host = p + 1;
		hlen = (size_t)(close - host);
		port = close + 2;
	} else {
		const char *colon = strrchr(p, ':');

		if (!colon)
			goto bad;
		host = p;
		hlen = (size_t)(colon - p);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(hostbuf) || !*port)
		goto bad;
	memcpy(hostbuf, host, hlen);
	hostbuf[hlen] = '\0';
	errno = 0;
	portnum = strtoul(port, &end, 10);
	if (errno || *end || portnum > 65535)
		goto bad;
	if (inet_pton(AF_INET, hostbuf, &lis->addr.in.sin_addr) == 1 && *p != '[') {
		lis->addr.in.sin_family = AF_INET;
		lis->addr.in.sin_port = htons((uint16_t)portnum);
		lis->addrlen = sizeof(lis->addr.in);
	} else if (inet_pton(AF_INET6, hostbuf, &lis->addr.in6.sin6_addr) == 1 && *p == '[') {
		lis->addr.in6.sin6_family = AF_INET6;
		lis->addr.in6.sin6_port = htons((uint16_t)portnum);
		lis->addrlen = sizeof(lis->addr.in6);
	} else {
		goto bad;
	}
	lis->uri = strdup(uri);
	return lis->uri ? 0 : -ENOMEM;
bad:
	snprintf(err, errlen,
		 "listen '%s': expected udp://IPv4:port or udp://[IPv6]:port", uri);
	return ST_ERR_CONFIG;
}

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

int st_listener_socket(const st_listener_t *lis, size_t rcvbuf, char *err, size_t errlen)
{
	int fam = lis->addr.sa.sa_family;
	int fd, e;
	int size = rcvbuf > INT32_MAX / 2 ? INT32_MAX / 2 : (int)rcvbuf;

	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "listen '%s': socket: %s", lis->uri, strerror(e));
		return -e;
	}
	if (set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto fail;
	/* FORCE needs CAP_NET_ADMIN; otherwise the kernel caps at rmem_max */
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, size) < 0 &&
	    set_int(fd, SOL_SOCKET, SO_RCVBUF, size) < 0)
		goto fail;
	if (set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1) < 0)
		goto fail;
	if (fam == AF_INET) {
		if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0)
			goto fail;
	} else {
		if (set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0 ||
		    set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0)
			goto fail;
	}
	if (bind(fd, &lis->addr.sa, lis->addrlen) < 0) {
		e = errno;
		snprintf(err, errlen, "listen '%s': bind: %s", lis->uri, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "listen '%s': setsockopt: %s", lis->uri, strerror(e));
	close(fd);
	return -e;
}

/* Is the address free for us? A bind without SO_REUSEPORT tells. */
int st_listener_probe(const st_listener_t *lis, char *err, size_t errlen)
{
	int fd = socket(lis->addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = 0;

	if (fd < 0)
		return -errno;
	if (lis->addr.sa.sa_family == AF_INET6)
		set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (bind(fd, &lis->addr.sa, lis->addrlen) < 0) {
		e = errno;
		snprintf(err, errlen, "listen '%s': bind: %s", lis->uri, strerror(e));
	}
	close(fd);
	return -e;
}
