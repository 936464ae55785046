/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_listener.c - a listen address that cannot be used is an error that
 * names it, whichever step fails (stormtrap -T prints these lines).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collector.h"

Test(listener, probe_names_the_address_when_no_socket)
{
	st_listener_t lis;
	char err[256] = "";

	cr_assert_eq(st_listener_parse("udp://127.0.0.1:9", &lis, err, sizeof(err)), 0);
	lis.addr.sa.sa_family = AF_MAX; /* no such family: socket() fails */
	cr_assert_lt(st_listener_probe(&lis, err, sizeof(err)), 0);
	cr_assert(strstr(err, "listen 'udp://127.0.0.1:9': socket: ") != NULL, "err: '%s'", err);
	free(lis.uri);
}
