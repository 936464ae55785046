/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_keys.h - every configuration key of the collector, in one table.
 *
 * The table is an X-macro: ST_CONFIG_KEYS() calls one macro per key, and
 * each user of the table supplies the macros it needs. st_config.h turns
 * the rows into the fields of st_config_t; config.c turns them into the
 * descriptors that drive the defaults, the parsers of every source (YAML,
 * environment, command line), st_config_dump() and st_config_markdown(),
 * which writes docs/CONFIGURATION.md. Adding a key is one row here; the
 * test suite fails until docs/CONFIGURATION.md is regenerated.
 *
 * Row shapes (the field name is the key with dots as underscores; a
 * duration field carries a _ms suffix because it holds milliseconds):
 *
 *   STR (field, "key", default, check, flags, "doc")
 *   LIST(field, "key", "default,items", check, flags, "doc")
 *   BOOL(field, "key", default, "doc")
 *   NUM (field, "key", KIND, default, min, max, flags, "doc")
 *        KIND: UINT (uint32_t), INT (int64_t), SIZE (uint64_t bytes),
 *              DURATION (uint64_t milliseconds), MODE (uint32_t permission
 *              bits, written in octal)
 *   ENUM(field, "key", ENUMNAME, DEFAULT, "doc")
 *        ENUMNAME names a word list ST_CONFIG_ENUM_<ENUMNAME> below; the
 *        field is an int holding one of its constants, DEFAULT one of them.
 *   HEX (field, "key", "default hex", min octets, max octets, "doc")
 *
 * check names a validator in config_addr.c (or NULL) run on a string
 * or on each list item when a source sets it, so a bad address is an
 * error naming the key and the file line, not a bind failure later.
 *
 * Keys under output.kafka.rdkafka. are not rows: that prefix is a family
 * whose members are librdkafka properties, kept in order as name/value
 * pairs (st_config_t.output_kafka_rdkafka) and judged by librdkafka
 * itself, at -T and at the start.
 *
 * The docs strings end up in docs/CONFIGURATION.md: one line each, plain
 * text, no '|'.
 */
#ifndef ST_CONFIG_KEYS_H
#define ST_CONFIG_KEYS_H

#include "st_sinks.h" /* st_log_level_t, st_kafka_key_t */
#include "st_usm.h"   /* ST_USM_TIMELINESS_* */

/* Row flags */
#define ST_CONFIG_F_SECRET   0x1u /* value shown as "<redacted>" by st_config_dump() */
#define ST_CONFIG_F_HOSTNAME 0x2u /* default: gethostname() at st_config_init() */
#define ST_CONFIG_F_MAX_NOW  0x4u /* upper bound: the current Unix time */
#define ST_CONFIG_F_URI      0x8u /* list of URIs: a comma splits only before a new URI */

/* The prefix of the librdkafka property family. */
#define ST_CONFIG_RDKAFKA_PREFIX "output.kafka.rdkafka."

/*
 * Word lists: W(ENUMNAME, CONSTANT, "word"). CONSTANT is the value the
 * field takes for that word. An enum that belongs to another module names
 * that module's constants (log levels are st_sinks.h's st_log_level_t, the
 * Kafka key its st_kafka_key_t, the timeliness st_usm.h's), so one enum
 * serves the configuration and the code that uses the setting; an enum
 * of the configuration's own is declared from its list (ST_CONFIG_OWN_ENUMS).
 */
#define ST_CONFIG_ENUM_INGEST_BACKEND(W)                                                           \
	W(INGEST_BACKEND, ST_BACKEND_AUTO, "auto")                                                 \
	W(INGEST_BACKEND, ST_BACKEND_IO_URING, "io_uring")                                         \
	W(INGEST_BACKEND, ST_BACKEND_RECVMMSG, "recvmmsg")
#define ST_CONFIG_ENUM_USM_TIMELINESS(W)                                                           \
	W(USM_TIMELINESS, ST_USM_TIMELINESS_LEARN, "learn")                                        \
	W(USM_TIMELINESS, ST_USM_TIMELINESS_STRICT, "strict")                                      \
	W(USM_TIMELINESS, ST_USM_TIMELINESS_OFF, "off")
#define ST_CONFIG_ENUM_LOG_LEVEL(W)                                                                \
	W(LOG_LEVEL, ST_LOG_ERROR, "error")                                                        \
	W(LOG_LEVEL, ST_LOG_WARN, "warn")                                                          \
	W(LOG_LEVEL, ST_LOG_INFO, "info")                                                          \
	W(LOG_LEVEL, ST_LOG_DEBUG, "debug")
#define ST_CONFIG_ENUM_LOG_FORMAT(W)                                                               \
	W(LOG_FORMAT, ST_CONFIG_LOG_FORMAT_TEXT, "text")                                           \
	W(LOG_FORMAT, ST_CONFIG_LOG_FORMAT_JSON, "json")
#define ST_CONFIG_ENUM_KAFKA_KEY(W)                                                                \
	W(KAFKA_KEY, ST_KAFKA_KEY_SRC_IP, "src_ip")                                                \
	W(KAFKA_KEY, ST_KAFKA_KEY_AGENT_ADDR, "agent_addr")                                        \
	W(KAFKA_KEY, ST_KAFKA_KEY_NONE, "none")
#define ST_CONFIG_ENUM_KAFKA_ACCEPTANCE(W)                                                         \
	W(KAFKA_ACCEPTANCE, ST_KAFKA_ACCEPT_JOURNAL, "journal")                                    \
	W(KAFKA_ACCEPTANCE, ST_KAFKA_ACCEPT_MEMORY, "memory")
#define ST_CONFIG_ENUM_KAFKA_FSYNC(W)                                                              \
	W(KAFKA_FSYNC, ST_KAFKA_FSYNC_OFF, "off")                                                  \
	W(KAFKA_FSYNC, ST_KAFKA_FSYNC_INTERVAL, "interval")                                        \
	W(KAFKA_FSYNC, ST_KAFKA_FSYNC_ALWAYS, "always")
#define ST_CONFIG_ENUM_KAFKA_FULL(W)                                                               \
	W(KAFKA_FULL, ST_KAFKA_FULL_DROP_OLDEST, "drop_oldest")                                    \
	W(KAFKA_FULL, ST_KAFKA_FULL_REJECT, "reject")
#define ST_CONFIG_ENUM_BIG_NUMBERS(W)                                                              \
	W(BIG_NUMBERS, ST_CONFIG_BIG_NUMBERS_NUMBER, "number")                                     \
	W(BIG_NUMBERS, ST_CONFIG_BIG_NUMBERS_STRING, "string")

/* Every word list, for code that needs them all; and those whose
 * constants the configuration declares (st_config.h). */
#define ST_CONFIG_ENUMS(E)                                                                         \
	E(INGEST_BACKEND)                                                                          \
	E(USM_TIMELINESS)                                                                          \
	E(LOG_LEVEL)                                                                               \
	E(LOG_FORMAT)                                                                              \
	E(KAFKA_KEY)                                                                               \
	E(KAFKA_ACCEPTANCE) E(KAFKA_FSYNC) E(KAFKA_FULL) E(BIG_NUMBERS)
#define ST_CONFIG_OWN_ENUMS(E) E(INGEST_BACKEND) E(LOG_FORMAT) E(BIG_NUMBERS)

#define ST_CONFIG_KIB (1024LL)
#define ST_CONFIG_MIB (1024LL * 1024)
#define ST_CONFIG_GIB (1024LL * 1024 * 1024)
#define ST_CONFIG_TIB (1024LL * 1024 * 1024 * 1024)

/* The keys, in the order of the documentation and of st_config_dump(). */
#define ST_CONFIG_KEYS(STR, LIST, BOOL, NUM, ENUM, HEX)                                            \
	STR(collector_name, "collector.name", "", NULL, ST_CONFIG_F_HOSTNAME,                      \
	    "Name of this collector: the value of \"collector\" in every JSON line.")              \
	LIST(listen, "listen", "udp://0.0.0.0:162", st_config_check_listen, ST_CONFIG_F_URI,       \
	     "Addresses to receive notifications on: udp://IPv4:port or udp://[IPv6]:port.")       \
	LIST(output, "output", "stdout", st_config_check_output, ST_CONFIG_F_URI,                  \
	     "Sinks every notification is written to: stdout, file:/path or "                      \
	     "kafka://host:port[,host:port]/topic.")                                               \
	LIST(communities, "communities", "public", NULL, 0,                                        \
	     "Community strings accepted in SNMPv1/v2c notifications; \"*\" accepts any.")         \
	STR(users_file, "users_file", "", NULL, 0,                                                 \
	    "SNMPv3 users, one snmptrapd.conf createUser line each; empty: no SNMPv3 users.")      \
	ENUM(ingest_backend, "ingest.backend", INGEST_BACKEND, ST_BACKEND_AUTO,                    \
	     "Receive path: io_uring (multishot recvmsg), recvmmsg, or auto: io_uring when the "   \
	     "kernel allows it, else recvmmsg.")                                                   \
	NUM(ingest_rcvbuf, "ingest.rcvbuf", SIZE, 32 * ST_CONFIG_MIB, 64 * ST_CONFIG_KIB,          \
	    2 * ST_CONFIG_GIB, 0,                                                                  \
	    "Kernel receive buffer of each socket: SO_RCVBUFFORCE when permitted, else "           \
	    "SO_RCVBUF (capped by net.core.rmem_max).")                                            \
	NUM(ingest_ring_bytes, "ingest.ring_bytes", SIZE, 4 * ST_CONFIG_MIB, 64 * ST_CONFIG_KIB,   \
	    ST_CONFIG_GIB, 0,                                                                      \
	    "Capacity of each ingest-to-worker ring, rounded up to a power of two; a datagram "    \
	    "that finds its ring full is dropped and counted.")                                    \
	NUM(ingest_batch, "ingest.batch", UINT, 64, 1, 1024, 0,                                    \
	    "Most datagrams taken from the kernel in one receive call.")                           \
	NUM(threads_ingest, "threads.ingest", UINT, 0, 0, 64, 0,                                   \
	    "Ingest (receive) threads; 0: one per CPU core.")                                      \
	NUM(threads_workers, "threads.workers", UINT, 0, 0, 64, 0,                                 \
	    "Worker (decode, authenticate, encode) threads; 0: one per CPU core.")                 \
	BOOL(threads_affinity, "threads.affinity", 0,                                              \
	     "Pin each ingest and worker thread to one CPU core.")                                 \
	BOOL(output_community, "output.community", 1,                                              \
	     "Include the community string (\"community\") in SNMPv1/v2c JSON lines.")             \
	BOOL(output_raw, "output.raw", 0, "Add the received datagram, hex-encoded, as \"raw\".")   \
	ENUM(output_big_numbers, "output.big_numbers", BIG_NUMBERS, ST_CONFIG_BIG_NUMBERS_NUMBER,  \
	     "Counter64 values of 2^53 and above: number, or string for consumers that read "      \
	     "JSON numbers as doubles and would round them (JavaScript, jq); see docs/JSON.md.")   \
	NUM(output_batch_bytes, "output.batch_bytes", SIZE, 256 * ST_CONFIG_KIB,                   \
	    4 * ST_CONFIG_KIB, 64 * ST_CONFIG_MIB, 0,                                              \
	    "Per-worker buffer in which JSON lines are gathered before one write to a sink.")      \
	NUM(output_file_mode, "output.file.mode", MODE, 0640, 0, 0777, 0,                          \
	    "Permissions of files the file: outputs create (octal; the umask may remove more; "    \
	    "an existing file keeps its own): lines carry communities and user names.")            \
	HEX(snmp_engine_id, "snmp.engine_id", "800000000473746f726d74726170", 5, 32,               \
	    "Our snmpEngineID, authoritative for informs (RFC 3411 format); give every replica "   \
	    "the same one.")                                                                       \
	NUM(snmp_engine_boots, "snmp.engine_boots", UINT, 1, 1, 2147483647, 0,                     \
	    "Our snmpEngineBoots; raise it whenever snmp.engine_epoch is moved forward.")          \
	NUM(snmp_engine_epoch, "snmp.engine_epoch", INT, 1767225600, 0, 0, ST_CONFIG_F_MAX_NOW,    \
	    "Unix time at which our snmpEngineTime was 0 (engineTime = now - epoch), so "          \
	    "replicas and restarts agree without state; default 2026-01-01T00:00:00Z.")            \
	BOOL(snmp_discovery, "snmp.discovery", 1,                                                  \
	     "Answer SNMPv3 discovery probes (no engine ID) with a Report, as inform senders "     \
	     "need; false where only traps are expected (probes are then counted, not answered).") \
	NUM(snmp_reports_rate, "snmp.reports.rate", UINT, 10000, 1, 10000000, 0,                   \
	    "Most SNMPv3 Reports sent per second in all (shared out among the workers); more are " \
	    "suppressed and counted, so the collector cannot be used as a reflector.")             \
	NUM(snmp_reports_per_source_rate, "snmp.reports.per_source_rate", UINT, 100, 1, 1000000,   \
	    0,                                                                                     \
	    "Most SNMPv3 Reports sent per second to one source address (a burst of as many is "    \
	    "allowed); more are suppressed and counted.")                                          \
	ENUM(usm_timeliness, "usm.timeliness", USM_TIMELINESS, ST_USM_TIMELINESS_LEARN,            \
	     "Time-window check of authenticated SNMPv3 traps: learn (an engine's first "          \
	     "authentic message sets its boots and time; later ones may not fall more than 150 s " \
	     "behind), strict (the first message only teaches them and is dropped; later ones "    \
	     "must be within 150 s either way), or off.")                                          \
	NUM(usm_max_engines, "usm.max_engines", UINT, 200000, 16, 100000000, 0,                    \
	    "Most remote SNMP engines kept in the USM cache (localized keys, boots and time).")    \
	LIST(mibs_dirs, "mibs.dirs", "", NULL, 0,                                                  \
	     "Directories of MIB files, searched recursively (as snmptrapd -M); empty: no "        \
	     "translation, JSON lines carry numbers only. See docs/MIB.md.")                       \
	LIST(mibs_modules, "mibs.modules", "", NULL, 0,                                            \
	     "MIB modules to load from mibs.dirs (as snmptrapd -m), with what they import; empty " \
	     "or ALL: every module found.")                                                        \
	LIST(mibs_prefer, "mibs.prefer", "", NULL, 0,                                              \
	     "Modules whose definitions win where several modules define one OID, most "           \
	     "preferred first; the rule for the others is in docs/MIB.md.")                        \
	NUM(mibs_timeout_ms, "mibs.timeout", DURATION, 60000, 1000, 3600000, 0,                    \
	    "Longest one parse of the MIB files may take before the module it is in is skipped "   \
	    "and the parse starts again without it.")                                              \
	STR(metrics_listen, "metrics.listen", "", st_config_check_hostport, 0,                     \
	    "host:port of the HTTP endpoints /metrics, /healthz, /readyz and /engines; empty: "    \
	    "off.")                                                                                \
	ENUM(log_level, "log.level", LOG_LEVEL, ST_LOG_INFO, "Least severe log messages written.") \
	ENUM(log_format, "log.format", LOG_FORMAT, ST_CONFIG_LOG_FORMAT_TEXT,                      \
	     "Log line format: text for people, json for log pipelines.")                          \
	BOOL(log_bad_packets, "log.bad_packets", 0,                                                \
	     "Log a rate-limited sample of dropped datagrams (reason and hex dump).")              \
	NUM(shutdown_timeout_ms, "shutdown.timeout", DURATION, 10000, 0, 3600000, 0,               \
	    "On SIGTERM or SIGINT, how long to wait for sinks to deliver what they hold before "   \
	    "spooling the rest and exiting.")                                                      \
	STR(output_kafka_topic, "output.kafka.topic", "", NULL, 0,                                 \
	    "Kafka topic for kafka:// outputs whose URI names none; a topic in the URI wins.")     \
	ENUM(output_kafka_key, "output.kafka.key", KAFKA_KEY, ST_KAFKA_KEY_SRC_IP,                 \
	     "Kafka message key: the sender's address (src_ip), the agent address (agent_addr), "  \
	     "or none.")                                                                           \
	BOOL(output_kafka_headers, "output.kafka.headers", 1,                                      \
	     "Add the Kafka headers version, pdu and trap_oid to every message.")                  \
	STR(output_kafka_spool_dir, "output.kafka.spool_dir", "/var/spool/stormtrap", NULL, 0,     \
	    "Directory of the journal (acceptance journal: every notification is written here "    \
	    "before it counts as accepted, and stays until Kafka confirms it; a restart sends "    \
	    "what is left) or, with acceptance memory, of the spool (notifications the brokers "   \
	    "could not take in time; replayed when they return). One subdirectory per topic.")     \
	NUM(output_kafka_spool_max, "output.kafka.spool_max", SIZE, ST_CONFIG_GIB, ST_CONFIG_MIB,  \
	    ST_CONFIG_TIB, 0,                                                                      \
	    "Most bytes the journal or spool directory may hold (output.kafka.journal_full).")     \
	NUM(output_kafka_queue_timeout_ms, "output.kafka.queue_timeout", DURATION, 5000, 100,      \
	    86400000, 0,                                                                           \
	    "How long the brokers may be unreachable before notifications go to the spool.")       \
	ENUM(output_kafka_acceptance, "output.kafka.acceptance", KAFKA_ACCEPTANCE,                 \
	     ST_KAFKA_ACCEPT_JOURNAL,                                                              \
	     "When a notification counts as accepted (and its inform is acked): journal, once "    \
	     "written to the on-disk journal in output.kafka.spool_dir, which survives kill -9; "  \
	     "memory, once in librdkafka's queue (lost if the process dies).")                     \
	ENUM(output_kafka_fsync, "output.kafka.fsync", KAFKA_FSYNC, ST_KAFKA_FSYNC_INTERVAL,       \
	     "When the journal and spool are flushed to disk: off (the kernel's writeback), "      \
	     "interval (about once a second), always (every batch, before its informs are "        \
	     "acked). Only matters for power loss and kernel crashes.")                            \
	ENUM(output_kafka_journal_full, "output.kafka.journal_full", KAFKA_FULL,                   \
	     ST_KAFKA_FULL_DROP_OLDEST,                                                            \
	     "When the journal or spool reaches output.kafka.spool_max: drop_oldest evicts the "   \
	     "oldest undelivered notifications (counted as evicted), reject refuses new ones "     \
	     "(counted as journal_full; their informs are not acked, so senders retry).")

#endif /* ST_CONFIG_KEYS_H */
