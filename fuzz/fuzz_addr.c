/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_addr.c - libFuzzer target for the addresses given on the command
 * line: -l (listen), -o (output) and metrics.listen.
 *
 * The input is one value, as a flag would pass it. Checked, beyond "no
 * crash, no leak":
 *
 *  - st_config_parse_listen() either fails with -EINVAL or gives an IPv4 or
 *    IPv6 address with a port other than 0 and the matching length, which,
 *    written back as udp://ADDR:PORT, parses to the same address;
 *  - st_config_list_add("listen") accepts exactly what the parser accepts,
 *    and a refusal names the key;
 *  - st_config_list_add("output") accepts only stdout, file:PATH and
 *    kafka://..., and a refusal names the key;
 *  - st_config_set("metrics.listen") refuses with an error naming the key;
 *  - st_config_validate() runs on whatever was accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_codec.h"
#include "st_config.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static void check_listen(const char *s, int rc, const struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_storage back;
	socklen_t blen = 0;
	char host[INET6_ADDRSTRLEN], uri[INET6_ADDRSTRLEN + 32];
	unsigned port;

	if (rc != 0) {
		CHECK(rc == -EINVAL);
		return;
	}
	CHECK(strncmp(s, "udp://", 6) == 0);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		CHECK(len == sizeof(*sin));
		port = ntohs(sin->sin_port);
		CHECK(inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL);
		snprintf(uri, sizeof(uri), "udp://%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		CHECK(ss->ss_family == AF_INET6);
		CHECK(len == sizeof(*sin6));
		port = ntohs(sin6->sin6_port);
		CHECK(inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL);
		snprintf(uri, sizeof(uri), "udp://[%s]:%u", host, port);
	}
	CHECK(port != 0);
	CHECK(st_config_parse_listen(uri, &back, &blen) == 0);
	CHECK(blen == len && memcmp(&back, ss, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	st_config_t cfg;
	char err[512];
	char *s = malloc(size + 1);
	int rc, lrc, orc, mrc;

	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&ss, 0, sizeof(ss));

	rc = st_config_parse_listen(s, &ss, &len);
	check_listen(s, rc, &ss, len);

	CHECK(st_config_init(&cfg) == 0);
	lrc = st_config_list_add(&cfg, "listen", s, err, sizeof(err));
	CHECK((lrc == 0) == (rc == 0));
	if (lrc != 0)
		CHECK(lrc == ST_ERR_CONFIG && strstr(err, "listen") != NULL);

	orc = st_config_list_add(&cfg, "output", s, err, sizeof(err));
	if (orc == 0)
		CHECK(strcmp(s, "stdout") == 0 || strncmp(s, "file:", 5) == 0 ||
		      strncmp(s, "kafka://", 8) == 0);
	else
		CHECK(orc == ST_ERR_CONFIG && strstr(err, "output") != NULL);

	mrc = st_config_set(&cfg, "metrics.listen", s, NULL, err, sizeof(err));
	if (mrc != 0)
		CHECK(mrc == ST_ERR_CONFIG && strstr(err, "metrics.listen") != NULL);

	(void)st_config_validate(&cfg, err, sizeof(err));
	st_config_free(&cfg);
	free(s);
	return 0;
}
