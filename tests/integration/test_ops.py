# SPDX-License-Identifier: Apache-2.0
"""Operations, through the real binary: the HTTP endpoints (/metrics,
/healthz, /readyz, /engines), `stormtrap --health`, SIGHUP reloads, -T, and
the deployment files (Dockerfile, compose, Kubernetes, systemd, scripts)
checked as far as this machine allows without a container engine.

The Smoke class is the installed-layout subset scripts/install-smoke runs
against the installed binary (ST_BINARY)."""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timezone

import yaml  # Debian's python3-yaml

from harness import (BINARY, Collector, CollectorTest, SOURCE, free_udp_port, main,
                     net_snmp, parse_metrics, v2c_message, v2c_trap, varbind, tlv)

USER_A = 'createUser alice SHA-256 "alice auth pass" AES "alice priv pass"\n'
USER_B = 'createUser bob SHA "bob-auth-pass" AES "bob-priv-pass"\n'


def free_tcp_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    """(status, headers, body text) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def run(*args, env=None, timeout=30):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def free_ports():
    """-T binds the listen and metrics addresses as the start would: where a
    test checks a shipped configuration rather than this host's ports, it
    points them at free ones (a host running snmptrapd on 162 must not
    fail it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        tcp = s.getsockname()[1]
    return ["-l", f"udp://127.0.0.1:{free_udp_port()}",
            "--set", f"metrics.listen=127.0.0.1:{tcp}"]


def v3_trap(c, user, auth, auth_pass, priv=None, priv_pass=None,
            engine="0x8000000001020304", oid="1.3.6.1.6.3.1.1.5.3"):
    args = ["-v", "3", "-u", user, "-e", engine, "-a", auth, "-A", auth_pass]
    args += ["-l", "authPriv", "-x", priv, "-X", priv_pass] if priv else ["-l", "authNoPriv"]
    r = net_snmp("snmptrap", *args, c.target(), "", oid)
    assert r.returncode == 0, r.stderr


class HttpCollector(Collector):
    """A collector with metrics.listen on a free port."""

    def __init__(self, *extra, http_host="127.0.0.1", **kw):
        self.http_port = free_tcp_port(http_host)
        hp = f"[{http_host}]:{self.http_port}" if ":" in http_host else \
            f"{http_host}:{self.http_port}"
        self.http = f"http://{hp}"
        super().__init__("--set", f"metrics.listen={hp}", *extra, **kw)

    def scrape(self):
        status, headers, body = get(self.http + "/metrics")
        assert status == 200, (status, body)
        return parse_metrics(body)

    def wait_metric(self, name, value, timeout=5):
        deadline = time.time() + timeout
        m = {}
        while time.time() < deadline:
            m = self.scrape()
            if m.get(name) == value:
                return m
            time.sleep(0.05)
        raise AssertionError(f"{name} = {m.get(name)}, expected {value}")


class OpsTest(CollectorTest):
    def http_collector(self, *args, **kw):
        c = HttpCollector(*args, **kw)
        c.start()
        self.addCleanup(c.stop)
        return c

    def wait_log(self, c, text, count=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if c.stderr_text().count(text) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"no '{text}' in the log: {c.stderr_text()[-2000:]}")


class Metrics(OpsTest):
    def test_exposition_format(self):
        c = self.http_collector()
        status, headers, body = get(c.http + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                        headers["Content-Type"])
        # every sample belongs to the family announced last, each family is
        # announced once (HELP then TYPE), every value is a number
        seen, family = set(), None
        for line in body.splitlines():
            if line.startswith("# HELP "):
                family = line.split()[2]
                self.assertNotIn(family, seen, "family announced twice: " + family)
                seen.add(family)
            elif line.startswith("# TYPE "):
                self.assertEqual(line.split()[2], family)
                self.assertIn(line.split()[3], ("counter", "gauge"))
            else:
                m = re.match(r'^([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (\d+)$', line)
                self.assertIsNotNone(m, "not a sample: " + line)
                self.assertEqual(m.group(1), family, line)
                self.assertTrue(m.group(1).startswith("stormtrap_"), line)
        for fam in ("stormtrap_datagrams_received_total", "stormtrap_kernel_drops_total",
                    "stormtrap_drops_total", "stormtrap_notifications_total",
                    "stormtrap_informs_acked_total", "stormtrap_reports_sent_total",
                    "stormtrap_sink_lines_total", "stormtrap_sink_in_flight",
                    "stormtrap_sink_spool_bytes", "stormtrap_usm_engines",
                    "stormtrap_usm_engine_evictions_total"):
            self.assertIn(fam, seen)

    def test_counters_move_with_the_right_reasons(self):
        c = self.http_collector("--community", "public", users=USER_A)
        lis = f'stormtrap_datagrams_received_total{{listener="udp://127.0.0.1:{c.port}"}}'
        before = c.scrape()
        self.assertEqual(before[lis], 0)
        # a good v2c trap
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        # a wrong community
        r = net_snmp("snmptrap", "-v", "2c", "-c", "private", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        # a good v3 trap, then an unknown user, then a wrong passphrase
        v3_trap(c, "alice", "SHA-256", "alice auth pass", "AES", "alice priv pass")
        v3_trap(c, "mallory", "SHA", "mallory-pass")
        v3_trap(c, "alice", "SHA-256", "not alices pass", "AES", "alice priv pass")
        # 30 03 02 01: a SEQUENCE of 3 octets holding an INTEGER cut short
        c.send(bytes.fromhex("30030201"))
        # v2c GetRequest-PDU (a0) with sysDescr.0 = NULL: not a notification
        c.send(v2c_message(0xa0, 7, [varbind("1.3.6.1.2.1.1.1.0", tlv(0x05, b""))]))
        m = c.wait_metric(lis, 7)
        c.wait_lines(2)
        m = c.scrape()
        self.assertEqual(m['stormtrap_notifications_total{version="v2c",pdu="trap"}'], 1)
        self.assertEqual(m['stormtrap_notifications_total{version="v3",pdu="trap"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="community"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsUnknownUserNames"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsWrongDigests"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="malformed"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="unsupported_pdu"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="ring_full"}'], 0)
        self.assertEqual(m[f'stormtrap_sink_lines_total{{sink="file:{c.out}",result="accepted"}}'],
                         2)
        self.assertEqual(m["stormtrap_usm_engines"], 1)
        # the scrape and SIGUSR1 read the same counters
        self.assertEqual(c.metrics()['stormtrap_drops_total{reason="community"}'], 1)

    def test_informs_acked_counted(self):
        c = self.http_collector()
        r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "2", "-r", "1",
                     c.target(), "1", "1.3.6.1.6.3.1.1.5.4")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = c.wait_metric("stormtrap_informs_acked_total", 1)
        self.assertEqual(m['stormtrap_notifications_total{version="v2c",pdu="inform"}'], 1)


class JsonLogs(OpsTest):
    def test_every_stderr_line_is_one_json_object(self):
        """log.format json: start-up, a bad-packet sample, the counters on
        SIGUSR1 and at exit, a reload and the stop are each one object."""
        c = self.collector("--set", "log.format=json", "--set", "log.bad_packets=true")
        c.send(v2c_trap(request_id=7))
        c.send(b'\x30\x05"\\\n\x01\x02')  # malformed: logged as a sample
        c.wait_lines(1)
        # the two datagrams may reach different ingest threads (SO_REUSEPORT
        # hashes the source port): the trap's line says nothing about when the
        # malformed one is counted, so wait for the count itself
        deadline = time.monotonic() + 10
        while True:
            m = c.metrics()
            received = sum(v for k, v in m.items()
                           if k.startswith("stormtrap_datagrams_received_total"))
            if received >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(received, 2, m)
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reloaded")
        self.assertEqual(c.stop(), 0)
        text = c.stderr_text()
        self.assertTrue(text.endswith("\n"))
        docs = [json.loads(line) for line in text.splitlines()]
        for d in docs:
            self.assertLessEqual({"time", "level", "msg"}, set(d), d)
            self.assertIn(d["level"], ("error", "warn", "info", "debug"))
            datetime.strptime(d["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        msgs = [d["msg"] for d in docs]
        self.assertTrue(any(x.startswith("listening on udp://") for x in msgs), msgs)
        self.assertTrue(any(x.startswith("bad packet from 127.0.0.1") for x in msgs), msgs)
        self.assertTrue(any(x.startswith("reloaded") for x in msgs), msgs)
        self.assertEqual(msgs[-1], "stopped")
        counters = [d["counters"] for d in docs if d["msg"] == "counters"]
        self.assertEqual(len(counters), 2)  # SIGUSR1 and exit
        final = counters[-1]
        self.assertEqual(final['stormtrap_notifications_total{version="v2c",pdu="trap"}'], 1,
                         final)
        self.assertEqual(final['stormtrap_drops_total{reason="malformed"}'], 1)
        self.assertTrue(all(isinstance(v, int) for v in final.values()), final)


class Health(OpsTest):
    def test_healthz_and_readyz(self):
        c = self.http_collector()
        self.assertEqual(get(c.http + "/healthz")[::2], (200, "ok\n"))
        self.assertEqual(get(c.http + "/readyz")[::2], (200, "ok\n"))

    def test_readyz_names_a_sink_that_cannot_write(self):
        # /dev/full: every write fails with ENOSPC
        c = self.http_collector("-o", "file:/dev/full", output=False)
        self.assertEqual(get(c.http + "/readyz")[0], 200)  # nothing written yet
        c.send(v2c_trap())
        deadline = time.time() + 5
        status, body = 200, ""
        while time.time() < deadline and status == 200:
            status, _, body = get(c.http + "/readyz")
            time.sleep(0.05)
        self.assertEqual(status, 503)
        self.assertIn("file:/dev/full", body)
        # alive all the same: restarting would not help
        self.assertEqual(get(c.http + "/healthz")[0], 200)

    def test_unknown_path_and_method(self):
        c = self.http_collector()
        self.assertEqual(get(c.http + "/")[0], 404)
        self.assertEqual(get(c.http + "/metrics/x")[0], 404)
        req = urllib.request.Request(c.http + "/metrics", data=b"x=1", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(cm.exception.code, 405)
        self.assertEqual(cm.exception.headers["Allow"], "GET, HEAD")
        # still serving after that
        self.assertEqual(get(c.http + "/healthz")[0], 200)

    def test_ipv6_listen_and_thread_name(self):
        c = self.http_collector(http_host="::1")
        self.assertEqual(get(c.http + "/healthz")[0], 200)
        names = []
        for tid in os.listdir(f"/proc/{c.proc.pid}/task"):
            with open(f"/proc/{c.proc.pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        self.assertEqual(names.count("http"), 1, names)

    def test_metrics_listen_in_use_is_a_clear_error(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            c = Collector("--set", f"metrics.listen=127.0.0.1:{port}")
            self.assertEqual(c.start(expect_ok=False), 1)
            err = c.stderr_text()
            self.assertIn(f"metrics.listen '127.0.0.1:{port}'", err)
            self.assertIn("in use", err)

    def test_metrics_off_by_default(self):
        c = self.collector()
        self.assertNotIn("http:", c.stderr_text())
        self.assertEqual([n for n in self._thread_names(c) if n == "http"], [])

    @staticmethod
    def _thread_names(c):
        out = []
        for tid in os.listdir(f"/proc/{c.proc.pid}/task"):
            with open(f"/proc/{c.proc.pid}/task/{tid}/comm") as f:
                out.append(f.read().strip())
        return out


class Engines(OpsTest):
    def test_lists_engines_with_sources_and_users(self):
        c = self.http_collector(users=USER_A + USER_B)
        status, headers, body = get(c.http + "/engines")
        self.assertEqual((status, json.loads(body)), (200, []))
        self.assertEqual(headers["Content-Type"], "application/json")
        t0 = datetime.now(timezone.utc).replace(microsecond=0)
        v3_trap(c, "alice", "SHA-256", "alice auth pass", "AES", "alice priv pass",
                engine="0x80001f8804aabbcc01")
        v3_trap(c, "bob", "SHA", "bob-auth-pass", "AES", "bob-priv-pass",
                engine="0x80001f8804aabbcc01")
        v3_trap(c, "bob", "SHA", "bob-auth-pass", "AES", "bob-priv-pass",
                engine="0x80001f8804aabbcc02")
        c.wait_lines(3)
        status, _, body = get(c.http + "/engines")
        self.assertEqual(status, 200)
        engines = {e["engine_id"]: e for e in json.loads(body)}
        self.assertEqual(sorted(engines), ["80001f8804aabbcc01", "80001f8804aabbcc02"])
        e = engines["80001f8804aabbcc01"]
        self.assertEqual(sorted(e["users"]), ["alice", "bob"])
        self.assertIsInstance(e["boots"], int)
        self.assertIsInstance(e["time"], int)
        seen = datetime.strptime(e["last_seen"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
        self.assertLessEqual(abs((seen - t0).total_seconds()), 60)
        self.assertTrue(e["sources"], e)
        for src in e["sources"]:
            self.assertRegex(src, r"^127\.0\.0\.1:\d+$")
        self.assertEqual(engines["80001f8804aabbcc02"]["users"], ["bob"])


class HealthCheck(unittest.TestCase):
    """stormtrap --health URL: exit 0 on 2xx, else 1 with the reason."""

    def serve(self, handler_cls):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    def test_against_the_collector(self):
        c = HttpCollector()
        c.start()
        self.addCleanup(c.stop)
        r = run("--health", c.http + "/healthz")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("--health", c.http + "/nothing-here")
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 404", r.stderr)

    def test_request_is_http10_get_with_host(self):
        seen = {}

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen["line"] = self.requestline
                seen["host"] = self.headers["Host"]
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        url = self.serve(H)
        r = run("--health", url + "/readyz?verbose=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(seen["line"], "GET /readyz?verbose=1 HTTP/1.0")
        self.assertEqual(seen["host"], url[len("http://"):])

    def test_503_names_the_reason(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"not ready: output 'kafka://k:9092/t' cannot accept lines\n"
                self.send_response(503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        r = run("--health", self.serve(H) + "/readyz")
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 503", r.stderr)
        self.assertIn("cannot accept lines", r.stderr)

    def test_refused_bad_url_garbage_and_silence(self):
        port = free_tcp_port()
        r = run("--health", f"http://127.0.0.1:{port}/healthz")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Connection refused", r.stderr)
        for bad in ("ftp://127.0.0.1/", "http://", "http://[::1/x", "http://h:99999/",
                    "127.0.0.1:9163/healthz"):
            r = run("--health", bad)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("expected http://", r.stderr, bad)
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(4)
            url = f"http://127.0.0.1:{srv.getsockname()[1]}/healthz"

            def garbage():
                conn, _ = srv.accept()
                conn.recv(1024)
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                conn.close()

            t = threading.Thread(target=garbage, daemon=True)
            t.start()
            r = run("--health", url)
            self.assertEqual(r.returncode, 1)
            self.assertIn("not HTTP", r.stderr)
            t.join(5)
            # accepted by the kernel, never answered: fails after 5 s, not never
            t0 = time.time()
            r = run("--health", url, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no answer within 5 s", r.stderr)
            self.assertLess(time.time() - t0, 9)


class Reload(OpsTest):
    def test_new_user_accepted_without_restart(self):
        c = self.http_collector(users=USER_A)
        v3_trap(c, "bob", "SHA", "bob-auth-pass", "AES", "bob-priv-pass")
        c.wait_metric('stormtrap_drops_total{reason="usmStatsUnknownUserNames"}', 1)
        pid = c.proc.pid
        with open(c.users, "a") as f:
            f.write(USER_B)
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reloaded: 2 SNMPv3 users")
        v3_trap(c, "bob", "SHA", "bob-auth-pass", "AES", "bob-priv-pass")
        v3_trap(c, "alice", "SHA-256", "alice auth pass", "AES", "alice priv pass")
        lines = c.wait_lines(2)
        self.assertEqual(sorted(l["user"] for l in lines), ["alice", "bob"])
        self.assertEqual(c.proc.pid, pid)
        self.assertIsNone(c.proc.poll())

    def test_broken_users_file_keeps_the_old_users(self):
        c = self.http_collector(users=USER_A)
        with open(c.users, "w") as f:
            f.write(USER_B)
            f.write("createUser carol SHA short\n")  # passphrase under 8 characters
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reload:")
        err = c.stderr_text()
        self.assertIn(f"{c.users}:2", err)
        self.assertIn("keeping the running", err)
        self.assertNotIn("reloaded", err)
        v3_trap(c, "alice", "SHA-256", "alice auth pass", "AES", "alice priv pass")
        v3_trap(c, "bob", "SHA", "bob-auth-pass", "AES", "bob-priv-pass")
        (line,) = c.wait_lines(1)
        self.assertEqual(line["user"], "alice")
        c.wait_metric('stormtrap_drops_total{reason="usmStatsUnknownUserNames"}', 1)
        # fixed file: the next HUP takes it
        with open(c.users, "w") as f:
            f.write(USER_B)
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reloaded: 1 SNMPv3 users")

    def test_communities_swapped(self):
        c = self.http_collector(config="communities: [public]\n")
        c.send(v2c_trap(request_id=1, community=b"s3cret"))
        c.wait_metric('stormtrap_drops_total{reason="community"}', 1)
        with open(c.config, "w") as f:
            f.write("communities: [s3cret]\n")
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reloaded:")
        c.send(v2c_trap(request_id=2, community=b"s3cret"))
        c.send(v2c_trap(request_id=3, community=b"public"))
        (line,) = c.wait_lines(1)
        self.assertEqual(line["request_id"], 2)
        c.wait_metric('stormtrap_drops_total{reason="community"}', 2)
        # a config file with an error keeps the running communities
        with open(c.config, "w") as f:
            f.write("communities: [public\n")
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reload:")
        self.assertIn(f"{c.config}:", c.stderr_text())
        c.send(v2c_trap(request_id=4, community=b"s3cret"))
        self.assertEqual([l["request_id"] for l in c.wait_lines(2)], [2, 4])

    def test_file_sink_reopened_after_rename_nothing_lost(self):
        """logrotate: rename, HUP; traps keep coming during the reload."""
        c = self.http_collector()
        n = 3000

        def sender():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(n):
                    s.sendto(v2c_trap(request_id=i + 1), ("127.0.0.1", c.port))
                    if i % 100 == 99:
                        time.sleep(0.01)

        t = threading.Thread(target=sender)
        t.start()
        time.sleep(0.1)
        os.rename(c.out, c.out + ".1")
        c.signal(signal.SIGHUP)
        t.join()
        self.wait_log(c, "reloaded:")
        lis = f'stormtrap_datagrams_received_total{{listener="udp://127.0.0.1:{c.port}"}}'
        m = c.scrape()
        deadline = time.time() + 10
        while time.time() < deadline:
            m = c.scrape()
            kernel = sum(v for k, v in m.items() if k.startswith("stormtrap_kernel_drops"))
            if m[lis] + kernel >= n:
                break
            time.sleep(0.05)
        c.stop()
        ids = []
        for path in (c.out + ".1", c.out):
            with open(path) as f:
                ids += [json.loads(line)["request_id"] for line in f]
        self.assertTrue(os.path.getsize(c.out) > 0, "nothing written after the reopen")
        self.assertEqual(len(ids), len(set(ids)))
        kernel = sum(v for k, v in m.items() if k.startswith("stormtrap_kernel_drops"))
        self.assertEqual(len(ids) + kernel, n)
        self.assertEqual(m['stormtrap_drops_total{reason="ring_full"}'], 0)


class CheckConfig(unittest.TestCase):
    """-T: exit codes and messages."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_examples_are_valid(self):
        ex = os.path.join(SOURCE, "examples")
        ports = free_ports()
        r = run("-c", os.path.join(ex, "stormtrap.yaml"), "-u", os.path.join(ex, "users.conf"),
                *ports, "-T")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("output.file.mode: 0640  # file", r.stdout)
        # the dump loads back (st_config_dump's promise), and says the same
        again = run("-c", self.write("dump.yaml", r.stdout), *ports, "-T")
        self.assertEqual(again.returncode, 0, again.stderr)
        strip = lambda t: [l.split("  #")[0] for l in t.splitlines() if not l.startswith("#")]
        self.assertEqual(strip(again.stdout), strip(r.stdout))

    def test_errors_name_the_key_file_and_line(self):
        cases = [
            (["--set", "metrics.listen=9163"], "metrics.listen"),
            (["--set", "metrics.lisen=:9163"], "metrics.lisen"),
            (["-c", self.write("bad.yaml", "log:\n  level: loud\n")], "bad.yaml:2"),
            (["-c", self.write("syntax.yaml", "listen: [udp://0.0.0.0:162\n")], "syntax.yaml:"),
            (["-u", self.write("users.conf", USER_A + "createUser x SHA\n")], "users.conf:2"),
            (["-u", os.path.join(self.tmp, "missing.conf")], "missing.conf"),
            (["-c", os.path.join(self.tmp, "missing.yaml")], "missing.yaml"),
        ]
        for args, needle in cases:
            r = run(*args, "-T")
            self.assertEqual(r.returncode, 1, (args, r.stdout))
            self.assertIn(needle, r.stderr, args)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)  # one clear line

    def test_secrets_are_redacted(self):
        r = run("-o", "kafka://127.0.0.1:9/t", "--set",
                "output.kafka.rdkafka.sasl.password=hunter2-secret", "-T")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("hunter2-secret", r.stdout)
        self.assertIn("<redacted>", r.stdout)


# ---- deployment files ---------------------------------------------------

def dockerfile_instructions(path):
    """[(INSTRUCTION, arguments)] with continuations joined, comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def dockerignored(rel, patterns):
    import fnmatch
    parts = rel.split("/")
    for p in patterns:
        p = p.lstrip("/")
        if p.startswith("**/"):
            if any(fnmatch.fnmatch(x, p[3:]) for x in parts):
                return True
        elif fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(parts[0], p):
            return True
    return False


class Deploy(unittest.TestCase):
    def path(self, *p):
        return os.path.join(SOURCE, *p)

    def test_dockerfile(self):
        ins = dockerfile_instructions(self.path("Dockerfile"))
        with open(self.path(".dockerignore")) as f:
            ignore = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        with open(self.path("scripts", "install-smoke")) as f:
            smoke = f.read()
        with open(self.path("Makefile")) as f:
            make = f.read()
        froms = [a for i, a in ins if i == "FROM"]
        self.assertEqual(froms, ["debian:12 AS build", "debian:12-slim"])
        copied = {}  # destination in the image -> source in the context
        stage = 0
        for i, a in ins:
            if i == "FROM":
                stage += 1
            elif i == "COPY" and not a.startswith("--from"):
                *srcs, dest = a.split()
                for s in srcs:
                    self.assertTrue(os.path.exists(self.path(s)), "COPY source missing: " + s)
                    if s != ".":
                        self.assertFalse(dockerignored(s, ignore), s + " is in .dockerignore")
                    copied[dest] = s
            elif i == "RUN":
                argv = json.loads(a)  # exec form: no shell involved
                while argv[0] == "env" or "=" in argv[0]:
                    argv = argv[1:]
                script = copied.get(argv[0], argv[0])
                self.assertTrue(script.startswith("scripts/"), "RUN is not a script: " + a)
                self.assertTrue(os.access(self.path(script), os.X_OK), script)
                # tested in CI: install-smoke runs it, or make test does
                self.assertTrue(os.path.basename(script) in smoke or script in make,
                                script + " is not run by CI")
        self.assertEqual(stage, 2)
        # the runtime stage takes what build-install staged
        run_build = [a for i, a in ins if i == "RUN" and "build-install" in a][0]
        argv = json.loads(run_build)
        destdir = [x for x in argv if x.startswith("DESTDIR=")][0].split("=", 1)[1]
        prefix = argv[argv.index("scripts/build-install") + 1]
        copy_from = [a for i, a in ins if i == "COPY" and a.startswith("--from=build")][0]
        self.assertEqual(copy_from.split()[1].rstrip("/"), destdir + prefix)
        user = [a for i, a in ins if i == "USER"][0]
        self.assertRegex(user, r"^[1-9]\d*:[1-9]\d*$")  # numeric, not root
        self.assertIn("162/udp", [a for i, a in ins if i == "EXPOSE"][0].split())
        hc = [a for i, a in ins if i == "HEALTHCHECK"][0]
        cmd = json.loads(hc[hc.index("CMD") + 3:].strip())
        self.assertEqual(cmd[:2], ["/usr/local/bin/stormtrap", "--health"])
        with open(self.path("examples", "stormtrap.yaml")) as f:
            port = yaml.safe_load(f)["metrics"]["listen"].rsplit(":", 1)[1]
        self.assertEqual(cmd[2], f"http://127.0.0.1:{port}/healthz")
        self.assertIn(f"{port}/tcp", [a for i, a in ins if i == "EXPOSE"][0].split())
        self.assertEqual(copied.get("/etc/stormtrap/stormtrap.yaml"), "examples/stormtrap.yaml")
        entry = json.loads([a for i, a in ins if i == "ENTRYPOINT"][0])
        self.assertEqual(entry, ["/usr/local/bin/stormtrap"])
        # the image runs as the user runtime-setup creates
        with open(self.path("scripts", "runtime-setup")) as f:
            self.assertIn("uid=${ST_UID:-%s}" % user.split(":")[0], f.read())

    def test_compose(self):
        with open(self.path("deploy", "docker-compose.yml")) as f:
            d = yaml.safe_load(f)
        st, kafka = d["services"]["stormtrap"], d["services"]["kafka"]
        self.assertIn("162:162/udp", st["ports"])
        env = kafka["environment"]
        self.assertEqual(set(env["KAFKA_PROCESS_ROLES"].split(",")), {"broker", "controller"})
        self.assertNotIn("zookeeper", json.dumps(d).lower())
        self.assertEqual(st["depends_on"]["kafka"]["condition"], "service_healthy")
        # the collector accepts its environment as configuration: every
        # STORMTRAP_ variable names a key, every value is valid
        senv = {k: str(v) for k, v in st["environment"].items()}
        for vol in st["volumes"]:
            src, dest = vol.split(":")[:2]
            if dest == senv.get("STORMTRAP_USERS_FILE"):
                senv["STORMTRAP_USERS_FILE"] = os.path.normpath(
                    os.path.join(self.path("deploy"), src))
        # the MIB directories are the image's: the standard set stands in for
        # /usr/share/stormtrap/mibs, an empty directory for the vendor volume
        if "STORMTRAP_MIBS__DIRS" in senv:
            fm = subprocess.run([self.path("scripts", "fetch-mibs")], capture_output=True,
                                text=True)
            if fm.returncode != 0:
                self.skipTest("scripts/fetch-mibs: " + fm.stderr.strip())
            std = fm.stdout.strip().splitlines()[-1]
            vendor = tempfile.mkdtemp()
            self.addCleanup(shutil.rmtree, vendor, True)
            dirs = {"/usr/share/stormtrap/mibs": std, "/etc/stormtrap/mibs": vendor}
            senv["STORMTRAP_MIBS__DIRS"] = ",".join(
                dirs[d] for d in senv["STORMTRAP_MIBS__DIRS"].split(","))
        r = run("-c", self.path("examples", "stormtrap.yaml"), *free_ports(), "-T", env=senv)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kafka://kafka:9092/snmp-notifications", r.stdout)

    def test_kubernetes(self):
        docs = []
        kdir = self.path("deploy", "kubernetes")
        with open(os.path.join(kdir, "kustomization.yaml")) as f:
            resources = yaml.safe_load(f)["resources"]
        for name in resources:
            with open(os.path.join(kdir, name)) as f:
                docs += [x for x in yaml.safe_load_all(f) if x]
        by = {(x["kind"], x["metadata"]["name"]): x for x in docs}
        dep = by[("Deployment", "stormtrap")]
        svc = by[("Service", "stormtrap")]
        cm = by[("ConfigMap", "stormtrap-config")]
        sec = by[("Secret", "stormtrap-users")]
        self.assertEqual(svc["spec"]["externalTrafficPolicy"], "Local")
        (port,) = svc["spec"]["ports"]
        self.assertEqual((port["port"], port["protocol"]), (162, "UDP"))
        pod = dep["spec"]["template"]["spec"]
        (ctr,) = pod["containers"]
        ports = {p["name"]: p for p in ctr["ports"]}
        self.assertEqual(ports[port["targetPort"]]["protocol"], "UDP")
        self.assertEqual(svc["spec"]["selector"], dep["spec"]["selector"]["matchLabels"])
        vols = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(vols["config"]["configMap"]["name"], "stormtrap-config")
        self.assertEqual(vols["users"]["secret"]["secretName"], "stormtrap-users")
        self.assertEqual(ctr["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(ctr["readinessProbe"]["httpGet"]["path"], "/readyz")
        http_port = ports[ctr["livenessProbe"]["httpGet"]["port"]]["containerPort"]
        # the ConfigMap's configuration passes -T with the Secret's users,
        # and listens where the pod and the probes say
        cfg = yaml.safe_load(cm["data"]["stormtrap.yaml"])
        self.assertEqual(cfg["metrics"]["listen"], f":{http_port}")
        self.assertEqual(cfg["listen"], [f"udp://0.0.0.0:{ports['snmp-trap']['containerPort']}"])
        mounts = {m["name"]: m["mountPath"] for m in ctr["volumeMounts"]}
        self.assertEqual(cfg["users_file"], mounts["users"] + "/users.conf")
        tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.addCleanup(shutil.rmtree, tmp, True)
        users = os.path.join(tmp, "users.conf")
        with open(users, "w") as f:
            f.write(sec["stringData"]["users.conf"])
        conf = os.path.join(tmp, "stormtrap.yaml")
        with open(conf, "w") as f:
            f.write(cm["data"]["stormtrap.yaml"])
        r = run("-c", conf, "-u", users, *free_ports(), "-T")
        self.assertEqual(r.returncode, 0, r.stderr)
        # pods run as the image's user, without capabilities
        self.assertEqual(pod["securityContext"]["runAsUser"], 10001)
        self.assertEqual(ctr["securityContext"]["capabilities"]["drop"], ["ALL"])
        if not shutil.which("kubectl"):
            self.skipTest("kubectl not installed: kustomize build not checked")
        r = subprocess.run(["kubectl", "kustomize", kdir], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_systemd_unit(self):
        unit = self.path("deploy", "stormtrap.service")
        with open(unit) as f:
            text = f.read()
        kv = {}
        for line in text.splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                kv.setdefault(k, []).append(v)
        self.assertIn("kill -HUP $MAINPID", kv["ExecReload"][0])
        self.assertEqual(kv["AmbientCapabilities"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(kv["ProtectSystem"], ["strict"])
        self.assertIn("DynamicUser", kv)
        self.assertIn("StateDirectory", kv)
        # the unit's environment is valid configuration for its ExecStart
        env = dict(e.split("=", 1) for e in kv["Environment"])
        r = run("-c", self.path("examples", "stormtrap.yaml"), *free_ports(), "-T", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any(v.startswith("/var/lib/stormtrap") for v in env.values()))
        self.assertIn("stormtrap", kv["StateDirectory"][0].split())
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze not installed: unit syntax not checked")
        tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.addCleanup(shutil.rmtree, tmp, True)
        copy = os.path.join(tmp, "stormtrap.service")
        with open(copy, "w") as f:
            f.write(text.replace("/usr/local/bin/stormtrap", os.path.abspath(BINARY)))
        r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Unknown", r.stderr)

    def test_scripts_pass_shellcheck(self):
        if not shutil.which("shellcheck"):
            self.skipTest("shellcheck not installed")
        scripts = [self.path("scripts", s) for s in
                   ("build-install", "install-smoke", "runtime-setup")]
        r = subprocess.run(["shellcheck", "-S", "warning", *scripts], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class StartupLog(OpsTest):
    def test_effective_configuration_one_key_per_line(self):
        """At start, every key of the effective configuration is one info
        line "config: <key>: <value>", the same as -T prints, secrets
        redacted."""
        secret = "--set", "output.kafka.rdkafka.sasl.password=hunter2-secret"
        c = self.collector("--set", "log.format=json", "--set", "shutdown.timeout=2s", *secret)
        self.assertEqual(c.stop(), 0)
        docs = [json.loads(line) for line in c.stderr_text().splitlines()]
        config = [d["msg"][len("config: "):] for d in docs if d["msg"].startswith("config: ")]
        self.assertTrue(all(d["level"] == "info" for d in docs
                            if d["msg"].startswith("config: ")))
        dump = run(*c.args[1:], "-T").stdout.splitlines()
        self.assertEqual(config, [l for l in dump if not l.startswith("#")])
        self.assertIn("shutdown.timeout: 2s  # command line", config)
        self.assertIn('output.kafka.rdkafka.sasl.password: "<redacted>"', config)
        self.assertNotIn("hunter2-secret", c.stderr_text())

    def test_users_and_communities_loaded_are_counted(self):
        c = self.collector("--community", "public", "--community", "netops", users=USER_A)
        self.assertEqual(c.stop(), 0)
        self.assertIn(f"info: loaded 1 SNMPv3 users from {c.users}, 2 communities",
                      c.stderr_text())


class FileMode(OpsTest):
    """file: outputs carry communities and user names: created 0640 unless
    output.file.mode says otherwise, and the umask narrows either, as with
    any open(2)."""

    def created_mode(self, umask, *args):
        old = os.umask(umask)
        try:
            c = self.collector(*args)
        finally:
            os.umask(old)
        return os.stat(c.out).st_mode & 0o7777

    def test_default_is_0640(self):
        self.assertEqual(oct(self.created_mode(0o022)), oct(0o640))

    def test_configured_mode(self):
        self.assertEqual(oct(self.created_mode(0o022, "--set", "output.file.mode=0600")),
                         oct(0o600))

    def test_umask_still_applies(self):
        self.assertEqual(oct(self.created_mode(0o027, "--set", "output.file.mode=0664")),
                         oct(0o640))

    def test_bad_mode_is_refused_by_name(self):
        r = run("--set", "output.file.mode=0x1a4", "-T")
        self.assertEqual(r.returncode, 1)
        self.assertIn("output.file.mode: expected an octal file mode", r.stderr)


class Smoke(OpsTest):
    """What scripts/install-smoke runs against the installed binary."""

    def test_trap_metrics_and_health(self):
        c = self.http_collector()
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(c.wait_lines(1)[0]["trap_oid"], "1.3.6.1.6.3.1.1.5.1")
        c.wait_metric('stormtrap_notifications_total{version="v2c",pdu="trap"}', 1)
        r = run("--health", c.http + "/healthz")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_privileged_port_as_non_root(self):
        """The file capability lets an unprivileged user bind UDP < 1024."""
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root (to become nobody) and setpriv")
        caps = subprocess.run(["getcap", BINARY], capture_output=True, text=True)
        if "cap_net_bind_service" not in caps.stdout:
            self.skipTest(f"{BINARY} has no file capability (scripts/runtime-setup sets it)")
        port = None
        for p in range(990, 700, -1):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", p))
                    port = p
                    break
                except OSError:
                    continue
        self.assertIsNotNone(port, "no free UDP port below 1024")
        proc = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
             BINARY, "-l", f"udp://127.0.0.1:{port}", "-o", "stdout",
             "--set", "threads.ingest=1", "--set", "threads.workers=1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            r = net_snmp("snmpinform", "-v", "2c", "-c", "public", "-t", "2", "-r", "2",
                         f"127.0.0.1:{port}", "1", "1.3.6.1.6.3.1.1.5.4")
            self.assertEqual(r.returncode, 0, "no ack from the unprivileged collector")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(json.loads(out.splitlines()[0])["pdu"], "inform")


if __name__ == "__main__":
    main()
