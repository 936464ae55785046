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
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector.h"
#include "st_config.h"

int st_listener_parse(const char *uri, st_listener_t *lis, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(lis, 0, sizeof(*lis));
	/* the same rules the listen key was checked with */
	if (st_config_parse_listen(uri, &ss, &len) < 0) {
		snprintf(err, errlen, "listen '%s': expected udp://IPv4:port or udp://[IPv6]:port",
		         uri);
		return ST_ERR_CONFIG;
	}
	memcpy(&lis->addr, &ss, len);
	lis->addrlen = len;
	lis->uri = strdup(uri);
	return lis->uri ? 0 : -ENOMEM;
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

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "listen '%s': socket: %s", lis->uri, strerror(e));
		return -e;
	}
	if (lis->addr.sa.sa_family == AF_INET6)
		set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (bind(fd, &lis->addr.sa, lis->addrlen) < 0) {
		e = errno;
		snprintf(err, errlen, "listen '%s': bind: %s", lis->uri, strerror(e));
	}
	close(fd);
	return -e;
}
