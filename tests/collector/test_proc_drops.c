/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_proc_drops.c - the kernel drop count of a socket read from
 * /proc/net/udp text: the socket is found by inode, the header and other
 * sockets are skipped, IPv6 lines work alike.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"

/* as /proc/net/udp and /proc/net/udp6 print them (kernel 6.x) */
static const char udp4[] =
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode ref pointer drops            \n"
        " 4182: 0100007F:4AE2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0    "
        "    0 267931 2 0000000050437e29 0        \n"
        " 4183: 0100007F:4AE3 00000000:0000 07 00000000:04000000 00:00000000 00000000     0    "
        "    0 267929 2 0000000096ed5864 101487   \n";
static const char udp6[] =
        "  sl  local_address                         remote_address                        st "
        "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "  503: 00000000000000000000000001000000:0A2A 00000000000000000000000000000000:0000 07 "
        "00000000:00000000 00:00000000 00000000     0        0 31337 2 00000000a1b2c3d4 42\n";

static size_t parse(const char *text, const unsigned long *inodes, size_t n, uint64_t *drops)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	size_t found;

	cr_assert_not_null(f);
	found = st_proc_udp_drops(f, inodes, n, drops);
	fclose(f);
	return found;
}

Test(proc_drops, finds_sockets_by_inode)
{
	unsigned long inodes[] = {267929, 267931, 999};
	uint64_t drops[] = {7, 7, 7};

	cr_assert_eq(parse(udp4, inodes, 3, drops), 2);
	cr_assert_eq(drops[0], 101487);
	cr_assert_eq(drops[1], 0);
	cr_assert_eq(drops[2], 7, "an inode not listed keeps its value");
}

Test(proc_drops, ipv6_lines)
{
	unsigned long inodes[] = {31337};
	uint64_t drops[] = {0};

	cr_assert_eq(parse(udp6, inodes, 1, drops), 1);
	cr_assert_eq(drops[0], 42);
}

Test(proc_drops, short_or_foreign_lines_are_skipped)
{
	unsigned long inodes[] = {0, 5};
	uint64_t drops[] = {1, 1};

	cr_assert_eq(parse("garbage\n 1: a b\n\n", inodes, 2, drops), 0);
	cr_assert_eq(drops[0], 1);
	cr_assert_eq(drops[1], 1);
}
