/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_v3.c - libFuzzer target for SNMPv3 security processing.
 *
 * Two kinds of input:
 *  - A datagram (first byte 0x30, the SEQUENCE tag): st_snmp_decode() then
 *    st_usm_process() with a fixed set of unbound users (one per algorithm
 *    family, plus a noAuthNoPriv one) and our engine ID set, so header,
 *    security parameters, user lookup, HMAC, timeliness, Reports and
 *    Responses are all reachable. The captured packets (seeds made by fuzz/make-corpus)
 *    are valid seeds: they authenticate and decrypt.
 *  - Anything else: byte 0 picks a sender (algorithm combination) and the
 *    reportable flag, the rest is taken as a plaintext ScopedPDU that the
 *    sender encrypts and authenticates correctly. This reaches decryption
 *    and the decoding of decrypted garbage, which mutated datagrams never
 *    reach (their HMAC fails first).
 *
 * Invariants checked (abort on violation): an accepted message has its PDU;
 * every Report and Response we write decodes with our own decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_codec.h"
#include "st_usm.h"

#define NOW 1800000000

static const char USERS[] = "createUser u1 MD5 authpass123 DES privpass123\n"
                            "createUser u1 SHA authpass123 AES privpass123\n"
                            "createUser u1 SHA-224 authpass123 AES-192 privpass123\n"
                            "createUser u1 SHA-256 authpass123 AES-256-C privpass123\n"
                            "createUser u1 SHA-384 authpass123 3DES privpass123\n"
                            "createUser u1 SHA-512 authpass123 AES-192-C privpass123\n"
                            "createUser u1 SHA authpass123\n"
                            "createUser u1\n"
                            "createUser dup SHA otherpass123 AES otherpriv123\n";

static const struct {
	int auth, priv;
} SENDERS[] = {
        {ST_USM_AUTH_MD5, ST_USM_PRIV_DES},       {ST_USM_AUTH_SHA1, ST_USM_PRIV_AES128},
        {ST_USM_AUTH_SHA224, ST_USM_PRIV_AES192}, {ST_USM_AUTH_SHA256, ST_USM_PRIV_AES256C},
        {ST_USM_AUTH_SHA384, ST_USM_PRIV_3DES},   {ST_USM_AUTH_SHA512, ST_USM_PRIV_AES192C},
        {ST_USM_AUTH_SHA1, ST_USM_PRIV_NONE},     {ST_USM_AUTH_NONE, ST_USM_PRIV_NONE},
};
#define NSENDERS (sizeof(SENDERS) / sizeof(SENDERS[0]))

/* our engine (informs) and the senders' (traps): the first half of the
 * senders address us, the rest play their own engine */
static const uint8_t OURS[] = {0x80, 0x00, 0x1f, 0x88, 0x80, 0x73, 0x74, 0x72, 0x61, 0x70};
static const uint8_t THEIRS[] = {0x80, 0x00, 0x1f, 0x88, 0x80, 0xaa, 0xbb, 0xcc, 0xdd};

static st_usm_t *usm;
static st_usm_worker_t *w;
static st_usm_sender_t *senders[NSENDERS];
static st_msg_t msg, check;
static uint8_t report[65536], out[65536], pkt[65536 + 512];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_v3: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	st_usm_users_t *users = NULL;
	char err[256];
	struct timespec now = {.tv_sec = NOW};
	(void)argc;
	(void)argv;

	if (st_usm_users_parse(USERS, "fuzz", &users, err, sizeof(err)) != 0)
		die(err);
	st_usm_conf_t conf = {
	        .engine_id = OURS,
	        .engine_id_len = sizeof(OURS),
	        .engine_boots = 1,
	        .engine_epoch = NOW - 100,
	        .timeliness = ST_USM_TIMELINESS_LEARN,
	        .max_engines = 64,
	};
	if (st_usm_new(&conf, users, &usm, err, sizeof(err)) != 0)
		die(err);
	w = st_usm_worker_new(usm);
	if (!w)
		die("worker");
	for (size_t i = 0; i < NSENDERS; i++) {
		int ours = i % 2 == 0;
		st_usm_sender_conf_t sc = {
		        .user = "u1",
		        .auth = SENDERS[i].auth,
		        .auth_pass = "authpass123",
		        .priv = SENDERS[i].priv,
		        .priv_pass = "privpass123",
		        .engine_id = ours ? OURS : THEIRS,
		        .engine_id_len = ours ? sizeof(OURS) : sizeof(THEIRS),
		        .engine_boots = 1,
		        .engine_time = 100,
		};
		if (st_usm_sender_new(&sc, &now, &senders[i], err, sizeof(err)) != 0)
			die(err);
	}
	return 0;
}

static void run(const uint8_t *dgram, size_t len)
{
	struct timespec now = {.tv_sec = NOW};
	size_t rl = 0;

	if (st_snmp_decode(dgram, len, &msg) != 0 || msg.version != ST_SNMP_V3)
		return;
	int rc = st_usm_process(w, dgram, len, &msg, &now, report, sizeof(report), &rl);
	if (rl) {
		if (rc == 0)
			die("a Report for an accepted message");
		if (st_snmp_decode(report, rl, &check) != 0 || check.version != ST_SNMP_V3)
			die("our Report does not decode");
		if (!(check.msg_flags & ST_MSGFLAG_AUTH) &&
		    (!check.have_pdu || st_usm_report_stat(&check.pdu) == 0))
			die("our Report carries no usmStats varbind");
	}
	if (rc != 0)
		return;
	if (!msg.have_pdu)
		die("accepted without a PDU");
	if (msg.pdu.type == ST_PDU_INFORM) {
		int n = st_usm_encode_response(w, &msg, &now, out, sizeof(out));
		if (n > 0 && st_snmp_decode(out, (size_t)n, &check) != 0)
			die("our Response does not decode");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == ST_BER_SEQUENCE) {
		run(data, size);
		return 0;
	}
	st_usm_sender_t *s = senders[data[0] % NSENDERS];
	int reportable = (data[0] >> 4) & 1;
	struct timespec now = {.tv_sec = NOW};
	int n = st_usm_sender_encode(s, 4242, reportable, data + 1, size - 1, &now, pkt,
	                             sizeof(pkt));
	if (n > 0)
		run(pkt, (size_t)n);
	return 0;
}
