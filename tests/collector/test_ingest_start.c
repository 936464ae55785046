/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ingest_start.c - st_ingest_start() that fails part-way closes what
 * it opened and nothing else: no descriptor from an array it had not
 * filled yet.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collector.h"

Test(ingest_start, a_failed_start_closes_only_its_own_descriptors)
{
	st_listener_t lis[4] = {0};
	st_rt_t rt = {.ningest = 2, .nworkers = 2, .nlis = 4, .lis = lis};
	struct rlimit old, lim;
	char err[256] = "";
	int highest;

	/* descriptors 0 up to highest are all open, none after it */
	if (fcntl(0, F_GETFD) < 0)
		cr_assert_eq(open("/dev/null", O_RDONLY), 0);
	highest = open("/dev/null", O_RDONLY);
	cr_assert_geq(highest, 0);
	for (int fd = 0; fd < highest; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			cr_assert_eq(dup2(highest, fd), fd);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)highest + 1; /* the first eventfd fails: EMFILE */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	int rc = st_ingest_start(&rt, err, sizeof(err));
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);

	cr_assert_eq(rc, -EMFILE, "%d: %s", rc, err);
	cr_assert_not_null(strstr(err, "ingest/0: eventfd"), "%s", err);
	for (int fd = 0; fd <= highest; fd++)
		cr_assert_geq(fcntl(fd, F_GETFD), 0, "descriptor %d was closed", fd);
}
