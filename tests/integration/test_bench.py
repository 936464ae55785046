# SPDX-License-Identifier: Apache-2.0
"""The benchmark tools run and report what really happened: stormtrap-bench
against the real stormtrap and the real snmptrapd (which must accept what it
sends and ack its informs), st-floor, st-pipeline and bench/compare --quick.

These are not timed tests: counts must match exactly, rates only have to be
there (and pacing must never overshoot)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (NET_SNMP_ENV, SOURCE, CollectorTest, free_udp_port, main,
                     udp_port_bound)

BUILD = os.environ.get("ST_BUILD", os.path.join(SOURCE, "build"))
BENCH = os.environ.get("ST_BENCH", os.path.join(BUILD, "bench", "stormtrap-bench"))
PIPELINE = os.environ.get("ST_PIPELINE", os.path.join(BUILD, "bench", "st-pipeline"))
FLOOR = os.environ.get("ST_FLOOR", os.path.join(BUILD, "bench", "st-floor"))
COMPARE = os.path.join(SOURCE, "bench", "compare")
SNMPTRAPD = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"

USER, AUTH_PASS, PRIV_PASS = "benchuser", "authpass123", "privpass123"
V3_PRIV = ["--version", "3", "--user", USER, "--auth", "SHA", "--auth-pass", AUTH_PASS,
           "--priv", "AES", "--priv-pass", PRIV_PASS]
V3_AUTH = ["--version", "3", "--user", "authonly", "--auth", "SHA-256",
           "--auth-pass", AUTH_PASS]
# engine i of stormtrap-bench's default prefix 80001f8805 "stb" 00 is that, then i (4 octets)
ENGINE = "80001f8805737462000000000%d"


def bench(target, *args, timeout=60):
    """Run stormtrap-bench --json; returns its report."""
    r = subprocess.run([BENCH, "--target", target, "--json", *args], capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"stormtrap-bench {' '.join(args)} exited {r.returncode}: "
                             f"{r.stderr}")
    return json.loads(r.stdout)


def wait_until(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


class BenchCli(unittest.TestCase):
    def test_rejects_inconsistent_options(self):
        cases = [(["--version", "1", "--inform"], "--inform needs"),
                 (["--version", "3", "--priv", "AES", "--priv-pass", "x" * 8], "--priv needs"),
                 (["--version", "3", "--auth", "SHA"], "--auth needs --auth-pass"),
                 (["--count", "5", "--duration", "1"], "exclude"),
                 (["--rate", "fast"], "--rate")]
        for args, msg in cases:
            r = subprocess.run([BENCH, "--target", "udp://127.0.0.1:9", *args],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(msg, r.stderr, args)
        r = subprocess.run([BENCH, "--count", "1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--target is required", r.stderr)

    def test_informs_nobody_answers_time_out(self):
        # a bound socket that never answers: no ICMP error, just silence
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
            sink.bind(("127.0.0.1", 0))
            port = sink.getsockname()[1]
            r = subprocess.run([BENCH, "--target", f"udp://127.0.0.1:{port}", "--json",
                                "--inform", "--count", "20", "--rate", "200", "--timeout",
                                "200"], capture_output=True, text=True, timeout=60)
        # nothing acked: a failed run, with the reason
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no inform acked: 20 timed out after 200 ms", r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["sent"], 20)
        self.assertEqual(rep["acked"], 0)
        self.assertEqual(rep["timeouts"], 20)
        self.assertEqual(rep["latency_us"]["count"], 0)

    def test_floor_counts_every_datagram_and_pacing_holds(self):
        port = free_udp_port()
        floor = subprocess.Popen([FLOOR, "-l", f"udp://127.0.0.1:{port}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertIn("listening on", floor.stderr.readline())
            rep = bench(f"udp://127.0.0.1:{port}", "--count", "3000", "--rate", "3000",
                        "--sources", "5", "--threads", "2", "--varbinds", "5")
            self.assertEqual(rep["sent"], 3000)
            self.assertEqual(rep["errors"], 0)
            # paced: never faster than asked (3000 at 3000/s take about 1 s)
            self.assertLessEqual(rep["rate"], 3000 * 1.05)
            self.assertGreaterEqual(rep["duration_s"], 0.95)
            time.sleep(0.3)
            floor.send_signal(15)
            out, _ = floor.communicate(timeout=10)
            self.assertIn("received=3000 ", out)
        finally:
            if floor.poll() is None:
                floor.kill()
                floor.communicate()


class BenchToStormtrap(CollectorTest):
    USERS = (f"createUser {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n"
             f"createUser authonly SHA-256 {AUTH_PASS}\n")

    def test_traps_of_every_version_arrive(self):
        c = self.collector(users=self.USERS)
        url = f"udp://127.0.0.1:{c.port}"
        runs = [("v1", ["--version", "1", "--sources", "4"]),
                ("v2c", ["--version", "2c", "--varbinds", "10"]),
                ("v3", V3_PRIV + ["--engines", "3", "--threads", "2"]),
                ("v3", V3_AUTH)]
        for _, args in runs:
            rep = bench(url, "--count", "300", "--rate", "5000", *args)
            self.assertEqual(rep["sent"], 300, args)
            self.assertEqual(rep["errors"], 0, args)
            self.assertEqual(rep["pdu"], "trap")
        lines = c.wait_lines(1200)
        self.assertEqual(len(lines), 1200)
        by_version = {}
        for line in lines:
            by_version.setdefault(line["version"], []).append(line)
        self.assertEqual(len(by_version["v1"]), 300)
        self.assertEqual(len(by_version["v2c"]), 300)
        self.assertEqual(len(by_version["v3"]), 600)
        # --sources 4: four agents, 127.0.0.1-4, each its own agent-addr
        self.assertEqual({line["src_ip"] for line in by_version["v1"]},
                         {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"})
        for line in by_version["v1"]:
            self.assertEqual(line["agent_addr"], line["src_ip"])
            self.assertEqual(line["trap_oid"], "1.3.6.1.6.3.1.1.5.3")
        self.assertEqual(len(by_version["v2c"][0]["varbinds"]), 10)
        priv = [line for line in by_version["v3"] if line["user"] == USER]
        self.assertEqual(len(priv), 300)
        self.assertEqual({line["security_level"] for line in priv}, {"authPriv"})
        # --engines 3: three sender engines, each the contextEngineID of its traps
        self.assertEqual({line["engine_id"] for line in priv}, {ENGINE % i for i in range(3)})
        for line in priv:
            self.assertEqual(line["context_engine_id"], line["engine_id"])
        auth = [line for line in by_version["v3"] if line["user"] == "authonly"]
        self.assertEqual({line["security_level"] for line in auth}, {"authNoPriv"})
        # request-ids are patched per message
        self.assertEqual(len({line["request_id"] for line in by_version["v2c"]}), 300)
        m = c.metrics()
        self.assertEqual(sum(v for k, v in m.items()
                             if k.startswith("stormtrap_notifications_total")), 1200)

    def test_informs_are_acked_with_latency(self):
        c = self.collector(users=self.USERS)
        url = f"udp://127.0.0.1:{c.port}"
        for args in (["--version", "2c"], V3_PRIV, V3_AUTH):
            rep = bench(url, "--inform", "--count", "300", "--rate", "3000", "--sources", "3",
                        *args)
            self.assertEqual(rep["pdu"], "inform")
            self.assertEqual(rep["sent"], 300, args)
            self.assertEqual(rep["acked"], 300, args)
            self.assertEqual(rep["timeouts"], 0, args)
            self.assertEqual(rep["unmatched"], 0, args)
            lat = rep["latency_us"]
            self.assertEqual(lat["count"], 300)
            self.assertGreater(lat["min"], 0)
            self.assertLessEqual(lat["min"], lat["p50"])
            self.assertLessEqual(lat["p50"], lat["p99"])
            self.assertLessEqual(lat["p99"], lat["max"])
            self.assertLess(lat["max"], 1000 * 1000)  # under the 1 s timeout
        lines = c.wait_lines(900)
        self.assertEqual({line["pdu"] for line in lines}, {"inform"})


@unittest.skipUnless(os.access(SNMPTRAPD, os.X_OK), "snmptrapd is not installed")
class BenchToSnmptrapd(unittest.TestCase):
    """Interoperability: Net-SNMP's receiver accepts and acks what we send."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stormtrap-bench-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.port = free_udp_port()
        self.log = os.path.join(self.tmp, "trapd.log")
        conf = os.path.join(self.tmp, "snmptrapd.conf")
        with open(conf, "w") as f:
            f.write("disableAuthorization yes\n"
                    "format1 %b %v\\n\n"
                    "format2 %b %v\\n\n"
                    # traps: the sender's engine is authoritative
                    f"createUser -e 0x{ENGINE % 0} {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n"
                    f"createUser -e 0x{ENGINE % 1} {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n"
                    # informs: snmptrapd's own engine is
                    f"createUser {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n")
        self.proc = subprocess.Popen(
            [SNMPTRAPD, "-f", "-n", "-C", "-c", conf, "-Lf", self.log,
             f"--persistentDir={self.tmp}", f"udp:127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=NET_SNMP_ENV)
        self.addCleanup(self.stop)
        # the log is written before the port is bound: wait for the port
        self.assertTrue(wait_until(lambda: udp_port_bound(self.port)), "snmptrapd did not start")
        self.url = f"udp://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def logged(self):
        with open(self.log, errors="replace") as f:
            return [line for line in f if line.startswith("UDP: ")]

    def test_snmptrapd_accepts_traps(self):
        for args in (["--version", "1"], ["--version", "2c", "--sources", "2"],
                     V3_PRIV + ["--engines", "2"]):
            rep = bench(self.url, "--count", "50", "--rate", "1000", *args)
            self.assertEqual((rep["sent"], rep["errors"]), (50, 0), args)
        self.assertTrue(wait_until(lambda: len(self.logged()) >= 150), len(self.logged()))
        lines = self.logged()
        self.assertEqual(len(lines), 150)
        # every trap was decoded, v3 ones decrypted: the interface name is there
        self.assertEqual(sum("GigabitEthernet0/7" in line for line in lines), 150)

    def test_snmptrapd_acks_informs(self):
        for args in (["--version", "2c"], V3_PRIV):
            rep = bench(self.url, "--inform", "--count", "50", "--rate", "500", *args)
            self.assertEqual((rep["sent"], rep["errors"]), (50, 0), args)
            self.assertEqual(rep["acked"], 50, args)
            self.assertEqual(rep["timeouts"], 0, args)
            self.assertEqual(rep["latency_us"]["count"], 50)
        self.assertTrue(wait_until(lambda: len(self.logged()) >= 100))


class Pipeline(unittest.TestCase):
    def test_pipeline_runs_every_scenario(self):
        r = subprocess.run([PIPELINE, "--iterations", "2000", "--runs", "1", "--json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["failures"], 0)
        names = {s["name"]: s for s in rep["scenarios"]}
        self.assertEqual(set(names), {"v2c", "v1", "v3-noAuthNoPriv", "v3-authNoPriv",
                                      "v3-authPriv", "v2c-mib", "v3-authPriv-mib"})
        skipped = [s for s in rep["scenarios"] if "skipped" in s]
        for s in rep["scenarios"]:
            if "skipped" in s:
                continue
            self.assertGreater(s["msgs_per_s"], 0, s["name"])
            self.assertGreater(s["decode_ns"], 0, s["name"])
            self.assertEqual(s["failures"], 0)
        # v3 scenarios spend time in USM, v2c does not go there
        self.assertGreater(names["v3-authPriv"]["usm_ns"], 0)
        self.assertEqual(names["v2c"]["usm_ns"], 0)
        self.assertEqual(names["v3-authPriv"]["target"], 700000)
        self.assertEqual(names["v2c"]["target"], 2000000)
        if skipped:  # only when no MIB set can be had (scripts/fetch-mibs)
            self.skipTest("translation scenarios: " + skipped[0]["skipped"])
        # with translation: the stage costs time, every OID was named (a
        # message with an unnamed OID counts as a failure), targets as issued
        for n in ("v2c-mib", "v3-authPriv-mib"):
            self.assertTrue(names[n]["mib"], n)
            self.assertGreater(names[n]["mib_ns"], 0, n)
        self.assertEqual(names["v2c"]["mib_ns"], 0)
        self.assertEqual(names["v2c-mib"]["target"], 1500000)
        self.assertEqual(names["v3-authPriv-mib"]["target"], 700000)

    def test_pipeline_fails_an_unnamed_oid(self):
        # a MIB directory without IF-MIB: the linkDown corpus cannot be
        # named, and that is a failure, not a fast number
        d = tempfile.mkdtemp(prefix="stormtrap-pipeline-mibs-")
        with open(os.path.join(d, "z.mib"), "w") as f:
            f.write("Z-MIB DEFINITIONS ::= BEGIN\nzRoot OBJECT IDENTIFIER ::= { iso 3 99 }\n"
                    "END\n")
        r = subprocess.run([PIPELINE, "--iterations", "200", "--runs", "1", "--scenario",
                            "v2c-mib", "--mibs", d], capture_output=True, text=True,
                           timeout=60)
        shutil.rmtree(d, ignore_errors=True)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("FAILED (an OID without a name)", r.stdout)


class Compare(unittest.TestCase):
    def test_compare_quick_reports_every_receiver(self):
        out = os.path.join(tempfile.mkdtemp(prefix="stormtrap-compare-test-"), "r.json")
        env = dict(os.environ, ST_BENCH=BENCH, ST_FLOOR=FLOOR)
        r = subprocess.run([COMPARE, "--quick", "--json", out], capture_output=True, text=True,
                           timeout=180, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("QUICK", r.stdout)
        self.assertIn("not a measurement", r.stdout)
        with open(out) as f:
            rep = json.load(f)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        self.assertEqual(rep["mode"], "quick")
        receivers = ["floor", "stormtrap"] + (["snmptrapd"] if os.access(SNMPTRAPD, os.X_OK)
                                              else [])
        for version in ("2c", "3"):
            for rx in receivers:
                # a two-step ladder at a few thousand per second: nothing is lost
                best = rep["best"][version][rx]
                self.assertIsNotNone(best, (version, rx))
                self.assertTrue(best["lossfree"])
                self.assertIn(best["rate"], (1000, 2000))
                self.assertGreater(best["achieved"], 0)
        self.assertGreaterEqual(len(rep["steps"]), 2 * len(receivers))
        for s in rep["steps"]:
            self.assertEqual(s["received"], s["sent"], s)
            self.assertEqual(s["sent"], 2000, s)
        self.assertIn("stormtrap/snmptrapd", rep["ratios"]["2c"])
        # CPU per notification at 1 k/s: every receiver, from its own CPU time
        self.assertEqual(rep["cpu_rates"], [1000])
        for version in ("2c", "3"):
            for rx in receivers:
                self.assertGreater(rep["cpu"][version][rx]["1000"], 0, (version, rx))
        for s in rep["cpu_steps"]:
            self.assertGreater(s["window_notifications"], 0, s)
            self.assertGreater(s["cpu_ms"], 0, s)
        self.assertIn("CPU per notification", r.stdout)

    def test_compare_quick_with_translation(self):
        # stormtrap-mib: the same collector with -M over the standard set
        # and -m ALL; every notification the generator sends gets its names
        out = os.path.join(tempfile.mkdtemp(prefix="stormtrap-compare-test-"), "r.json")
        env = dict(os.environ, ST_BENCH=BENCH, ST_FLOOR=FLOOR)
        r = subprocess.run([COMPARE, "--quick", "--versions", "2c", "--receivers",
                            "stormtrap,stormtrap-mib", "--json", out], capture_output=True,
                           text=True, timeout=180, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"skipped: stormtrap-mib \((.*)\)", r.stdout)
        if m:  # only when no MIB set can be had (scripts/fetch-mibs)
            self.skipTest(m.group(1))
        self.assertIn(" -m ALL", r.stdout)
        with open(out) as f:
            rep = json.load(f)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        best = rep["best"]["2c"]["stormtrap-mib"]
        self.assertIsNotNone(best)
        self.assertTrue(best["lossfree"])
        self.assertGreater(rep["mib"]["2c"]["modules"], 0)
        self.assertEqual(rep["mib"]["2c"]["unknown_oids"], 0)
        self.assertIn("stormtrap-mib/stormtrap", rep["ratios"]["2c"])


if __name__ == "__main__":
    main()
