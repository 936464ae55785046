# SPDX-License-Identifier: Apache-2.0
"""SNMPv1/v2c traps and informs end to end, through the real binary, with
Net-SNMP's snmptrap/snmpinform, pysnmp and hand-made datagrams."""
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from harness import (BINARY, CollectorTest, ber_int, ber_oid, main, net_snmp, pysnmp, tlv,
                     v2c_message, v2c_trap, varbind)


class V1(CollectorTest):
    def test_generic_trap(self):
        c = self.collector()
        r = net_snmp("snmptrap", "-v", "1", "-c", "public", c.target(),
                     "1.3.6.1.4.1.8072.2.3", "192.0.2.7", "2", "0", "4242",
                     "1.3.6.1.2.1.2.2.1.1.7", "i", "7")
        self.assertEqual(r.returncode, 0, r.stderr)
        (line,) = c.wait_lines(1)
        self.assertEqual(line["version"], "v1")
        self.assertEqual(line["pdu"], "trap")
        self.assertEqual(line["community"], "public")
        self.assertEqual(line["trap_oid"], "1.3.6.1.6.3.1.1.5.3")  # linkDown: generic 2 + 1
        self.assertEqual(line["enterprise"], "1.3.6.1.4.1.8072.2.3")
        self.assertEqual(line["agent_addr"], "192.0.2.7")
        self.assertEqual(line["generic_trap"], 2)
        self.assertEqual(line["specific_trap"], 0)
        self.assertEqual(line["uptime"], 4242)
        self.assertEqual(line["src_ip"], "127.0.0.1")
        self.assertEqual(line["dst_port"], c.port)
        self.assertEqual(line["collector"], "test")
        self.assertEqual(line["varbinds"],
                         [{"oid": "1.3.6.1.2.1.2.2.1.1.7", "type": "Integer32", "value": 7}])
        self.assertNotIn("request_id", line)

    def test_enterprise_specific_trap(self):
        c = self.collector()
        r = net_snmp("snmptrap", "-v", "1", "-c", "public", c.target(),
                     "1.3.6.1.4.1.9.9.41.2", "10.1.2.3", "6", "17", "100",
                     "1.3.6.1.4.1.9.9.41.1.2.3.1.2.1", "s", "SYS")
        self.assertEqual(r.returncode, 0, r.stderr)
        (line,) = c.wait_lines(1)
        # RFC 3584 3.1: enterprise.0.specific
        self.assertEqual(line["trap_oid"], "1.3.6.1.4.1.9.9.41.2.0.17")
        self.assertEqual(line["generic_trap"], 6)
        self.assertEqual(line["specific_trap"], 17)
        self.assertEqual(line["varbinds"][0]["value"], "SYS")


class V2c(CollectorTest):
    def test_every_value_type(self):
        c = self.collector()
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "555",
                     "1.3.6.1.4.1.8072.2.3.0.1",
                     "1.3.6.1.4.1.99.1", "i", "-42",
                     "1.3.6.1.4.1.99.2", "u", "4294967295",
                     "1.3.6.1.4.1.99.3", "c", "123456",
                     "1.3.6.1.4.1.99.4", "t", "8640000",
                     "1.3.6.1.4.1.99.5", "a", "198.51.100.9",
                     "1.3.6.1.4.1.99.6", "o", "1.3.6.1.2.1.1.1.0",
                     "1.3.6.1.4.1.99.7", "s", 'quote " backslash \\ tab\t',
                     "1.3.6.1.4.1.99.8", "x", "00 ff 10 80",
                     "1.3.6.1.4.1.99.9", "n", "",
                     "1.3.6.1.4.1.99.10", "C", "18446744073709551615")
        self.assertEqual(r.returncode, 0, r.stderr)
        (line,) = c.wait_lines(1)
        self.assertEqual(line["version"], "v2c")
        self.assertEqual(line["uptime"], 555)
        self.assertEqual(line["trap_oid"], "1.3.6.1.4.1.8072.2.3.0.1")
        self.assertIsInstance(line["request_id"], int)
        vb = {v["oid"].rsplit(".", 1)[1]: v for v in line["varbinds"]}
        self.assertEqual(len(line["varbinds"]), 10)
        self.assertEqual(vb["1"], {"oid": "1.3.6.1.4.1.99.1", "type": "Integer32", "value": -42})
        self.assertEqual(vb["2"]["type"], "Gauge32")
        self.assertEqual(vb["2"]["value"], 4294967295)
        self.assertEqual((vb["3"]["type"], vb["3"]["value"]), ("Counter32", 123456))
        self.assertEqual((vb["4"]["type"], vb["4"]["value"]), ("TimeTicks", 8640000))
        self.assertEqual((vb["5"]["type"], vb["5"]["value"]), ("IpAddress", "198.51.100.9"))
        self.assertEqual((vb["6"]["type"], vb["6"]["value"]),
                         ("ObjectIdentifier", "1.3.6.1.2.1.1.1.0"))
        self.assertEqual((vb["7"]["type"], vb["7"]["value"]),
                         ("OctetString", 'quote " backslash \\ tab\t'))
        self.assertEqual(vb["8"], {"oid": "1.3.6.1.4.1.99.8", "type": "OctetString",
                                   "value": "00ff1080", "encoding": "hex"})
        self.assertEqual((vb["9"]["type"], vb["9"]["value"]), ("Null", None))
        self.assertEqual((vb["10"]["type"], vb["10"]["value"]),
                         ("Counter64", 18446744073709551615))

    def test_inform_is_acked(self):
        c = self.collector()
        r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "2", "-r", "1",
                     c.target(), "77", "1.3.6.1.6.3.1.1.5.4",
                     "1.3.6.1.2.1.2.2.1.1.3", "i", "3")
        self.assertEqual(r.returncode, 0, "snmpinform was not acked: " + r.stderr)
        (line,) = c.wait_lines(1)
        self.assertEqual(line["pdu"], "inform")
        self.assertEqual(line["trap_oid"], "1.3.6.1.6.3.1.1.5.4")
        m = c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 1)
        self.assertEqual(m['stormtrap_notifications_total{version="v2c",pdu="inform"}'], 1)

    def test_inform_retransmission_acked_twice_emitted_once(self):
        c = self.collector()
        msg = v2c_trap(request_id=991, pdu_tag=0xa6)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.bind(("127.0.0.1", 0))
            for _ in range(2):
                s.sendto(msg, ("127.0.0.1", c.port))
                resp, peer = s.recvfrom(65535)
                self.assertEqual(peer, ("127.0.0.1", c.port))
                self.assertEqual(resp[0], 0x30)
                self.assertIn(bytes([0xa2]), resp)  # a Response-PDU
                self.assertIn(ber_int(991), resp)   # with the same request-id
        time.sleep(0.3)
        self.assertEqual(len(c.lines()), 1)
        m = c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 2)
        self.assertEqual(m["stormtrap_inform_retransmissions_total"], 1)

    def test_pysnmp_trap_and_inform(self):
        c = self.collector()
        script = f"""
from pysnmp.hlapi import *
eng = SnmpEngine()
for kind in ('trap', 'inform'):
    ei, es, ex, vbs = next(sendNotification(eng, CommunityData('public'),
        UdpTransportTarget(('127.0.0.1', {c.port}), timeout=2, retries=1), ContextData(), kind,
        NotificationType(ObjectIdentity('1.3.6.1.6.3.1.1.5.1')).addVarBinds(
            ('1.3.6.1.4.1.99.1.1', OctetString('pysnmp ' + kind)))))
    if ei:
        raise SystemExit('error: %s' % ei)
print('ok')
"""
        r = pysnmp(script)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        lines = c.wait_lines(2)
        self.assertEqual(sorted(l["pdu"] for l in lines), ["inform", "trap"])
        for l in lines:
            self.assertEqual(l["trap_oid"], "1.3.6.1.6.3.1.1.5.1")
            self.assertEqual(l["varbinds"][-1]["value"], "pysnmp " + l["pdu"])

    def test_snmptrapaddress_gives_agent_addr(self):
        c = self.collector()
        c.send(v2c_trap(extra=[varbind("1.3.6.1.6.3.18.1.3.0", tlv(0x40, bytes([203, 0, 113, 5])))]))
        (line,) = c.wait_lines(1)
        self.assertEqual(line["agent_addr"], "203.0.113.5")

    def test_output_options(self):
        c = self.collector("--set", "output.community=false", "--set", "output.raw=true")
        msg = v2c_trap()
        c.send(msg)
        (line,) = c.wait_lines(1)
        self.assertNotIn("community", line)
        self.assertEqual(line["raw"], msg.hex())


class Authorization(CollectorTest):
    def test_wrong_community_is_dropped_and_counted(self):
        c = self.collector("--community", "s3cret", "--community", "other")
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = net_snmp("snmptrap", "-v", "2c", "-c", "s3cret", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.2")
        lines = c.wait_lines(1)
        time.sleep(0.3)
        lines = c.lines()
        self.assertEqual([l["trap_oid"] for l in lines], ["1.3.6.1.6.3.1.1.5.2"])
        m = c.metrics()
        self.assertEqual(m['stormtrap_drops_total{reason="community"}'], 1)

    def test_bad_packets_are_sampled_in_the_log_when_asked(self):
        c = self.collector("--community", "s3cret", "--set", "log.bad_packets=true")
        bad = v2c_trap(community=b"wrong")
        for _ in range(50):
            c.send(bad)
        c.send(b"\x30\x03\x02\x01")  # truncated
        time.sleep(0.5)
        log = [l for l in c.stderr_text().splitlines() if "bad packet" in l]
        self.assertTrue(any("community" in l and bad.hex() in l for l in log), log[:3])
        # rate-limited: a sample, not a line per packet
        self.assertLessEqual(len(log), 12)
        m = c.metrics()
        self.assertEqual(m['stormtrap_drops_total{reason="community"}'], 50)

    def test_bad_packets_are_not_logged_by_default(self):
        c = self.collector("--community", "s3cret")
        c.send(v2c_trap(community=b"wrong"))
        c.metrics()
        self.assertNotIn("bad packet", c.stderr_text())

    def test_any_community(self):
        c = self.collector("--community", "*")
        c.send(v2c_trap(community=b"whatever"))
        self.assertEqual(c.wait_lines(1)[0]["community"], "whatever")

    def test_inform_with_wrong_community_is_not_acked(self):
        c = self.collector("--community", "s3cret")
        r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "1", "-r", "0",
                     c.target(), "1", "1.3.6.1.6.3.1.1.5.1")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(c.lines(), [])


class Robustness(CollectorTest):
    def test_garbage_then_a_valid_trap(self):
        c = self.collector()
        rnd = random.Random(1234)
        base = [v2c_trap(request_id=5, extra=[varbind("1.3.6.1.4.1.1", tlv(0x04, b"x" * 20))]),
                v2c_message(0xa6, 9, [])]
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(6000):
                kind = i % 3
                if kind == 0:
                    data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300)))
                elif kind == 1:  # truncations
                    b = rnd.choice(base)
                    data = b[:rnd.randint(0, len(b) - 1)]
                else:  # byte flips
                    b = bytearray(rnd.choice(base))
                    for _ in range(rnd.randint(1, 4)):
                        b[rnd.randrange(len(b))] = rnd.getrandbits(8)
                    data = bytes(b)
                s.sendto(data, ("127.0.0.1", c.port))
                sent += 1
                if i % 500 == 0:
                    time.sleep(0.01)
        time.sleep(0.5)
        self.assertIsNone(c.proc.poll(), "collector died")
        c.send(v2c_trap(request_id=424242, trap_oid="1.3.6.1.4.1.99.0.7"))
        deadline = time.time() + 10
        while time.time() < deadline:
            if any(l.get("request_id") == 424242 for l in c.lines()):
                break
            time.sleep(0.05)
        self.assertTrue(any(l.get("request_id") == 424242 for l in c.lines()))
        m = c.metrics()
        self.assertGreater(m['stormtrap_drops_total{reason="malformed"}'], 1000)
        rx = m[f'stormtrap_datagrams_received_total{{listener="udp://127.0.0.1:{c.port}"}}']
        self.assertEqual(rx, sent + 1)

    def test_unsupported_pdu_counted(self):
        c = self.collector()
        c.send(v2c_message(0xa0, 1, [varbind("1.3.6.1.2.1.1.1.0", tlv(0x05, b""))]))  # Get
        c.send(v2c_trap())
        c.wait_lines(1)
        m = c.metrics()
        self.assertEqual(m['stormtrap_drops_total{reason="unsupported_pdu"}'], 1)


class Lifecycle(CollectorTest):
    def test_sigterm_drains_everything_received(self):
        c = self.collector()
        n = 20000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(n):
                s.sendto(v2c_trap(request_id=i + 1), ("127.0.0.1", c.port))
        c.signal(signal.SIGTERM)
        self.assertEqual(c.stop(), 0)
        lines = c.lines()
        m_text = c.stderr_text()
        ids = {l["request_id"] for l in lines}
        drops = [l for l in m_text.splitlines() if l.startswith("stormtrap_kernel_drops_total")]
        kernel_drops = sum(float(l.split()[-1]) for l in drops)
        # whatever the kernel delivered came out; kernel drops are counted, not silent
        self.assertEqual(len(ids) + kernel_drops, n, m_text[-2000:])
        self.assertEqual(len(lines), len(ids))

    def test_proc_sampling_keeps_its_interval_under_load(self):
        # /proc/net/udp{,6} is read once a second (collector.h ST_PROC_SAMPLE_MS),
        # whatever else ends the main thread's wait. Counted, not timed: over T
        # seconds of load at most T + 2 samples (one each for the two SIGUSR1
        # that read the counters), and the main thread wakes about as often.
        # Completions of io_uring requests submitted by the main thread used to
        # interrupt its wait for every batch: ~1,700 samples a second at 10 k/s.
        bench = os.environ.get("ST_BENCH",
                               os.path.join(os.path.dirname(BINARY), "..", "bench",
                                            "stormtrap-bench"))
        c = self.collector()
        task = f"/proc/{c.proc.pid}/task/{c.proc.pid}/status"

        def main_thread_switches():
            with open(task) as f:
                return sum(int(line.split()[1]) for line in f
                           if line.startswith(("voluntary_ctxt_switches",
                                               "nonvoluntary_ctxt_switches")))

        before = c.metrics()["stormtrap_proc_udp_samples_total"]
        switches = main_thread_switches()
        t0 = time.monotonic()
        r = subprocess.run([bench, "--target", f"udp://127.0.0.1:{c.port}", "--rate", "10000",
                            "--duration", "4", "--version", "2c"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        switches = main_thread_switches() - switches
        after = c.metrics()
        elapsed = time.monotonic() - t0
        self.assertGreater(after['stormtrap_notifications_total{version="v2c",pdu="trap"}'],
                           10000)
        samples = after["stormtrap_proc_udp_samples_total"] - before
        self.assertGreaterEqual(samples, int(elapsed) - 1)  # it does go on sampling
        self.assertLessEqual(samples, elapsed / 1.0 + 2)
        self.assertLessEqual(switches, 4 * (elapsed + 2), "main thread woken per batch")

    def test_idle_threads_wake_about_once_a_second(self):
        # No traffic: every thread of the process, counted by tid, wakes
        # about once a second at most (their timeouts; stop wakes them
        # explicitly; the http thread has no timeout while no connection is
        # open). Counted from the kernel's context-switch counters, not
        # timed: they used to wake five times a second.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            http_port = s.getsockname()[1]
        c = self.collector("--set", f"metrics.listen=127.0.0.1:{http_port}")
        # a request first: the http thread then has served one, and the
        # connection it kept open has been closed again
        urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=5).read()
        time.sleep(0.5)
        with open(BINARY, "rb") as f:
            tsan = b"__tsan_init" in f.read()

        def switches():
            out = {}
            for tid in os.listdir(f"/proc/{c.proc.pid}/task"):
                with open(f"/proc/{c.proc.pid}/task/{tid}/comm") as f:
                    name = f.read().strip()
                if int(tid) == c.proc.pid:
                    name = "main"
                elif tsan and name == os.path.basename(BINARY)[:15]:
                    continue  # ThreadSanitizer's own thread; ours are all named
                with open(f"/proc/{c.proc.pid}/task/{tid}/status") as f:
                    out[f"{name} ({tid})"] = sum(
                        int(line.split()[1]) for line in f
                        if line.startswith(("voluntary_ctxt_switches",
                                            "nonvoluntary_ctxt_switches")))
            return out

        t0, before = time.monotonic(), switches()
        time.sleep(4)
        after, elapsed = switches(), time.monotonic() - t0
        names = sorted(t.split(" ")[0] for t in after)
        self.assertEqual(names, ["http", "ingest/0", "ingest/1", "main", "worker/0",
                                 "worker/1"], after)
        for t in after:
            self.assertLessEqual(after[t] - before.get(t, 0), 2 * elapsed + 2,
                                 f"{t} woke {after[t] - before.get(t, 0)} times in "
                                 f"{elapsed:.1f} s")
        self.assertEqual(c.stop(), 0)

    def test_an_inform_does_not_wait_for_a_lingering_worker(self):
        # After a batch of traps a worker lingers up to 0.75 ms before it
        # sleeps (collector/worker.c). With traps arriving steadily it is
        # lingering most of the time: an inform that arrives then must end
        # the linger, not wait for it. Median round trips of hand-made
        # informs, without and with a stream of traps from another process
        # to the same (only) worker; waiting out the linger would add
        # about 0.375 ms on average.
        c = self.collector(workers=1, ingest=1)
        sender = subprocess.Popen([
            sys.executable, "-c",
            "import socket, sys, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"d, a = bytes.fromhex(sys.argv[1]), ('127.0.0.1', {c.port})\n"
            "sys.stdin.readline()\n"
            "while True:\n"
            "    s.sendto(d, a)\n"
            "    time.sleep(0.0005)\n", v2c_trap().hex()], stdin=subprocess.PIPE)
        self.addCleanup(sender.kill)

        def median_rtt(n=300):
            rtts = []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2)
                for i in range(n):
                    t = time.perf_counter()
                    s.sendto(v2c_trap(request_id=i + 1, pdu_tag=0xa6), ("127.0.0.1", c.port))
                    s.recv(2048)
                    rtts.append(time.perf_counter() - t)
                    time.sleep(0.0013)  # not in step with the linger
            return sorted(rtts)[n // 2]

        quiet = median_rtt()
        sender.stdin.write(b"go\n")
        sender.stdin.flush()
        time.sleep(0.2)
        busy = median_rtt()
        sender.kill()
        self.assertLess(busy - quiet, 0.00015,
                        f"median inform round trip {quiet * 1e6:.0f} us without traps, "
                        f"{busy * 1e6:.0f} us with")

    def test_check_config(self):
        from harness import Collector
        c = Collector("-T")
        self.assertEqual(c.start(expect_ok=False), 0)
        c = Collector("--set", "ingest.treads=3", "-T")
        self.assertEqual(c.start(expect_ok=False), 1)
        self.assertIn("ingest.treads", c.stderr_text())

    def test_port_in_use_is_a_clear_error(self):
        from harness import Collector
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            c = Collector(port=port)
            self.assertEqual(c.start(expect_ok=False), 1)
            self.assertIn(f"udp://127.0.0.1:{port}", c.stderr_text())
            self.assertIn("in use", c.stderr_text())

    def test_io_uring_refused_falls_back_to_recvmmsg(self):
        # Docker's default seccomp profile refuses io_uring_setup with EPERM
        wrapper = [os.environ["ST_NO_IO_URING"]]
        c = self.collector(backend="auto", wrapper=wrapper)
        log = c.stderr_text()
        self.assertEqual(log.count("io_uring is not usable"), 1, log)
        self.assertIn("(recvmmsg, 2 ingest", log)
        r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "2", "-r", "1",
                     c.target(), "1", "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(c.wait_lines(1)[0]["pdu"], "inform")

    def test_io_uring_forced_but_refused_is_a_startup_error(self):
        from harness import Collector
        c = Collector(backend="io_uring", wrapper=[os.environ["ST_NO_IO_URING"]])
        self.assertEqual(c.start(expect_ok=False), 1)
        self.assertIn("ingest.backend=io_uring", c.stderr_text())

    def test_ipv6_listener(self):
        c = self.collector(host="::1")
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        (line,) = c.wait_lines(1)
        self.assertEqual(line["src_ip"], "::1")
        self.assertEqual(line["dst_ip"], "::1")
        r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "2", "-r", "1",
                     c.target(), "1", "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_file_sink_reopened_on_sighup(self):
        c = self.collector()
        c.send(v2c_trap(request_id=1))
        c.wait_lines(1)
        os.rename(c.out, c.out + ".1")
        c.signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "reloaded" not in c.stderr_text() and time.time() < deadline:
            time.sleep(0.05)
        c.send(v2c_trap(request_id=2))
        (line,) = c.wait_lines(1)
        self.assertEqual(line["request_id"], 2)


if __name__ == "__main__":
    main()
