# SPDX-License-Identifier: Apache-2.0
"""The runtime through the real binary: inform de-duplication, SNMPv3
discovery (counted apart from drops, rate-limited, switchable), the users
file's directives and the start-up summary."""
import os
import re
import shutil
import socket
import subprocess
import time

from harness import (BINARY, SOURCE, Collector, CollectorTest, ber_int, ber_oid, main, net_snmp,
                     tlv, v2c_trap, varbind)

INFORM = 0xa6


def v3_probe(msg_id=1, request_id=1):
    """A discovery probe as Net-SNMP sends it (RFC 3414 4): noAuthNoPriv,
    reportable, empty engine ID and user, an empty GetRequest-PDU."""
    usm = tlv(0x30, tlv(0x04, b"") + ber_int(0) + ber_int(0) + tlv(0x04, b"") +
              tlv(0x04, b"") + tlv(0x04, b""))
    header = tlv(0x30, ber_int(msg_id) + ber_int(65507) + tlv(0x04, b"\x04") + ber_int(3))
    pdu = tlv(0xa0, ber_int(request_id) + ber_int(0) + ber_int(0) + tlv(0x30, b""))
    scoped = tlv(0x30, tlv(0x04, b"") + tlv(0x04, b"") + pdu)
    return tlv(0x30, ber_int(3) + header + tlv(0x04, usm) + scoped)


def inform(request_id, text, uptime=1234):
    return v2c_trap(request_id, pdu_tag=INFORM, uptime=uptime,
                    extra=[varbind("1.3.6.1.4.1.99.1", tlv(0x04, text.encode()))])


class Runtime(CollectorTest):
    def udp(self, c, src=("127.0.0.1", 0)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind(src)
        s.connect((c.host, c.port))
        return s

    def wait_metric(self, c, name, value, timeout=10):
        deadline = time.time() + timeout
        m = {}
        while time.time() < deadline:
            m = c.metrics()
            if m.get(name, 0) >= value:
                return m
            time.sleep(0.1)
        self.fail(f"{name} stayed at {m.get(name)}, expected {value}")

    @staticmethod
    def drain(s, quiet=0.5):
        """Every datagram that arrives on s until it has been quiet a while."""
        got = []
        s.settimeout(quiet)
        while True:
            try:
                got.append(s.recv(65535))
            except socket.timeout:
                return got

    # -- inform de-duplication ---------------------------------------------
    def test_inform_reusing_a_request_id_is_emitted_and_a_retransmission_is_not(self):
        c = self.collector()
        s = self.udp(c)
        forged, genuine = inform(4242, "forged", uptime=100), inform(4242, "genuine", uptime=200)
        for data in (forged, genuine, genuine):  # the last: a byte-identical retransmission
            s.send(data)
            s.settimeout(5)
            self.assertEqual(s.recv(65535)[0], 0x30)  # the Response (a timeout raises)
        lines = c.wait_lines(2)
        time.sleep(0.3)
        lines = c.lines()
        self.assertEqual([l["varbinds"][-1]["value"] for l in lines], ["forged", "genuine"])
        m = c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 3)
        self.assertEqual(m["stormtrap_inform_retransmissions_total"], 1)

    # -- discovery ------------------------------------------------------------
    def test_discovery_is_counted_apart_from_drops(self):
        c = self.collector(users="createUser alice SHA alice-password AES alice-privacy\n")
        r = net_snmp("snmpinform", "-v", "3", "-u", "alice", "-a", "SHA", "-A", "alice-password",
                     "-x", "AES", "-X", "alice-privacy", "-l", "authPriv", "-t", "2", "-r", "1",
                     c.target(), "", "1.3.6.1.6.3.1.1.5.4")
        self.assertEqual(r.returncode, 0, r.stderr)
        c.wait_lines(1)
        m = c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 1)
        self.assertEqual(m["stormtrap_discovery_probes_total"], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsUnknownEngineIDs"}'], 0)
        # a message that names no engine and wants no answer is still a drop
        probe = bytearray(v3_probe())
        probe[probe.index(b"\x04\x01\x04") + 2] = 0  # msgFlags: not reportable
        c.send(bytes(probe))
        m = self.wait_metric(c, 'stormtrap_drops_total{reason="usmStatsUnknownEngineIDs"}', 1)
        self.assertEqual(m["stormtrap_discovery_probes_total"], 1)

    def test_reports_are_limited_per_source(self):
        rate = 50
        c = self.collector("--set", f"snmp.reports.per_source_rate={rate}")
        s = self.udp(c)
        n = 10000
        t0 = time.monotonic()
        for i in range(n):
            s.send(v3_probe(msg_id=i + 1, request_id=i + 1))
        m = self.wait_metric(c, "stormtrap_discovery_probes_total", n, timeout=30)
        elapsed = time.monotonic() - t0
        sent = m["stormtrap_reports_sent_total"]
        suppressed = m['stormtrap_reports_suppressed_total{reason="rate"}']
        self.assertEqual(m['stormtrap_datagrams_received_total{listener="%s"}'
                           % f"udp://{c.host}:{c.port}"], n)
        self.assertEqual(sent + suppressed, n)
        self.assertGreaterEqual(sent, rate)  # the first second's burst goes out
        self.assertLessEqual(sent, rate * (1 + elapsed) + 1, f"{sent} in {elapsed:.2f} s")
        self.assertEqual(len(self.drain(s)), sent)

    def test_reports_are_limited_in_total(self):
        rate = 100  # two workers: 50 a second each
        c = self.collector("--set", f"snmp.reports.rate={rate}")
        socks = [self.udp(c, (f"127.0.{1 + i // 200}.{1 + i % 200}", 0)) for i in range(400)]
        t0 = time.monotonic()
        for k in range(5):
            for i, s in enumerate(socks):
                s.send(v3_probe(msg_id=k * 1000 + i + 1))
        n = 5 * len(socks)
        m = self.wait_metric(c, "stormtrap_discovery_probes_total", n, timeout=30)
        elapsed = time.monotonic() - t0
        sent = m["stormtrap_reports_sent_total"]
        self.assertEqual(sent + m['stormtrap_reports_suppressed_total{reason="rate"}'], n)
        self.assertLessEqual(sent, rate * (1 + elapsed) + 2, f"{sent} in {elapsed:.2f} s")
        self.assertGreater(sent, 0)

    def test_discovery_off_sends_no_report(self):
        c = self.collector("--set", "snmp.discovery=false")
        s = self.udp(c)
        for i in range(100):
            s.send(v3_probe(msg_id=i + 1))
        m = self.wait_metric(c, "stormtrap_discovery_probes_total", 100)
        self.assertEqual(m['stormtrap_reports_suppressed_total{reason="discovery_off"}'], 100)
        self.assertEqual(m["stormtrap_reports_sent_total"], 0)
        self.assertEqual(self.drain(s), [])

    # -- users file and start-up ------------------------------------------------
    def test_misspelled_users_directive_is_an_error(self):
        c = Collector(users="# users\ncreateUser alice SHA alice-password\n"
                            "createUserr bob SHA bob-password\n")
        self.addCleanup(shutil.rmtree, c.tmp, True)
        self.assertEqual(c.start(expect_ok=False), 1)
        self.assertIn(f"{c.users}:3: unknown directive 'createUserr'", c.stderr_text())
        r = subprocess.run([BINARY, "-T", "-u", c.users], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{c.users}:3: unknown directive 'createUserr'", r.stderr)

    def test_snmptrapd_directives_are_skipped(self):
        c = self.collector(users="authUser log,execute,net alice\ndisableAuthorization yes\n"
                                 "[snmp] mibs +ALL\ncreateUser alice SHA alice-password\n")
        # the count is logged after "listening on", which start() waits for
        self.assertEqual(c.stop(), 0)
        self.assertIn("loaded 1 SNMPv3 users", c.stderr_text())

    def test_usm_doc_gives_the_binary_default_max_engines(self):
        r = subprocess.run([BINARY, "-T"], capture_output=True, text=True)
        (binary,) = re.findall(r"^usm\.max_engines: (\d+)", r.stdout, re.M)
        with open(os.path.join(SOURCE, "docs", "USM.md")) as f:
            (doc,) = re.findall(r"`max_engines` \(default (\d+)", f.read())
        self.assertEqual(doc, binary)


if __name__ == "__main__":
    main()
