/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock.c - st_kafka_mock, a Kafka cluster for tests on loopback.
 *
 * Runs librdkafka's mock cluster (rdkafka_mock.h) in this process, creates
 * the topic, prints "BOOTSTRAP=host:port,..." on stdout and then takes
 * commands, one per line, on stdin:
 *
 *   down   take every broker down (connections close, new ones refused)
 *   up     bring every broker back
 *   quit   stop (so do end of input, SIGTERM and SIGINT)
 *
 * Each command is answered with "OK <command>" once done, so a test can
 * wait for it. The cluster keeps what it received in memory; any Kafka
 * client (kcat, librdkafka) can produce to and consume from it.
 *
 *   st_kafka_mock [-b BROKERS] [-t TOPIC] [-p PARTITIONS]
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = 1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: st_kafka_mock [-b BROKERS] [-t TOPIC] [-p PARTITIONS]\n"
	             "  prints BOOTSTRAP=<addr>, then reads down | up | quit on stdin\n");
}

/* every broker at once: ids run from 1 to the broker count */
static int set_all(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
	for (int id = 1; id <= brokers; id++) {
		rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mc, id)
		                             : rd_kafka_mock_broker_set_down(mc, id);

		if (err) {
			fprintf(stderr, "st_kafka_mock: broker %d: %s\n", id,
			        rd_kafka_err2str(err));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *topic = "traps";
	int brokers = 3, partitions = 4, opt;
	char errstr[512], line[256];
	rd_kafka_conf_t *conf;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *rk;
	struct sigaction sa = {.sa_handler = on_signal};

	while ((opt = getopt(argc, argv, "b:t:p:h")) != -1) {
		switch (opt) {
		case 'b':
			brokers = atoi(optarg);
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			partitions = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (brokers < 1 || partitions < 1) {
		usage(stderr);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the cluster needs a client instance for its bookkeeping only */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "st_kafka_mock: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "st_kafka_mock: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	if (rd_kafka_mock_topic_create(mc, topic, partitions, brokers < 3 ? brokers : 3)) {
		fprintf(stderr, "st_kafka_mock: cannot create topic '%s'\n", topic);
		return 1;
	}
	printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!quit) {
		struct pollfd pfd = {.fd = 0, .events = POLLIN};
		int n = poll(&pfd, 1, 200);
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		if (!fgets(line, sizeof(line), stdin))
			break; /* end of input */
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (!strcmp(line, "down") || !strcmp(line, "up")) {
			if (set_all(mc, brokers, line[0] == 'u') == 0)
				printf("OK %s\n", line);
			else
				printf("ERR %s\n", line);
		} else if (!strcmp(line, "quit")) {
			printf("OK quit\n");
			fflush(stdout);
			break;
		} else if (len) {
			printf("ERR unknown command '%s' (down, up, quit)\n", line);
		}
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
