# SPDX-License-Identifier: Apache-2.0
"""Behaviour seen through the real binaries, for the hardening changes of
this branch: stormtrap-bench says why a run delivered nothing (and exits
non-zero), the JSON options for big Counter64 values and NUL-padded strings,
and the paged /engines endpoint that leaves the collector's own engine out."""
import json
import os
import re
import shutil
import subprocess
import time

from harness import (SOURCE, Collector, CollectorTest, ber_int, main, net_snmp, v2c_trap,
                     varbind)
from test_ops import HttpCollector, get

BUILD = os.environ.get("ST_BUILD", os.path.join(SOURCE, "build"))
BENCH = os.environ.get("ST_BENCH", os.path.join(BUILD, "bench", "stormtrap-bench"))

USER, AUTH_PASS, PRIV_PASS = "benchuser", "authpass123", "privpass123"
USERS = f"createUser {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n"
V3 = ["--version", "3", "--auth", "SHA", "--auth-pass", AUTH_PASS, "--priv", "AES",
      "--priv-pass", PRIV_PASS]
# stormtrap's default snmp.engine_id
OWN_ENGINE = "800000000473746f726d74726170"


def bench(target, *args, timeout=60):
    """Run stormtrap-bench --json: (exit code, report, stderr)."""
    r = subprocess.run([BENCH, "--target", target, "--json", "--no-progress", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None, r.stderr


class BenchSaysWhy(CollectorTest):
    """A run that delivered nothing exits 2 and says why."""

    def test_unknown_user_is_named_from_the_reports(self):
        c = self.collector(users=USERS)
        rc, rep, err = bench(f"udp://127.0.0.1:{c.port}", "--inform", "--count", "20",
                             "--rate", "200", "--timeout", "300", "--user", "nosuchuser", *V3)
        self.assertEqual(rc, 2, err)
        self.assertEqual(rep["acked"], 0)
        self.assertEqual(rep["reports"], 20)
        self.assertIn("no inform acked: 20 Reports usmStatsUnknownUserNames", err)
        self.assertTrue(rep["failed"].startswith(
            "no inform acked: 20 Reports usmStatsUnknownUserNames"), rep["failed"])

    def test_wrong_security_level_is_named_from_the_reports(self):
        # the user needs privacy; authNoPriv informs get usmStatsUnsupportedSecLevels
        c = self.collector(users=USERS)
        rc, rep, err = bench(f"udp://127.0.0.1:{c.port}", "--inform", "--count", "10",
                             "--rate", "200", "--timeout", "300", "--version", "3", "--user",
                             USER, "--auth", "SHA", "--auth-pass", AUTH_PASS)
        self.assertEqual(rc, 2, err)
        self.assertIn("no inform acked: 10 Reports usmStatsUnsupportedSecLevels", err)

    def test_silence_is_named_as_timeouts(self):
        # v2c informs with a community the collector does not accept: dropped, no answer
        c = self.collector()
        rc, rep, err = bench(f"udp://127.0.0.1:{c.port}", "--inform", "--count", "10",
                             "--rate", "200", "--timeout", "200", "--community", "wrong")
        self.assertEqual(rc, 2, err)
        self.assertIn("stormtrap-bench: no inform acked: 10 timed out after 200 ms", err)
        self.assertEqual(rep["timeouts"], 10)

    def test_a_delivering_run_exits_0(self):
        c = self.collector(users=USERS)
        rc, rep, err = bench(f"udp://127.0.0.1:{c.port}", "--inform", "--count", "10",
                             "--rate", "200", "--user", USER, *V3)
        self.assertEqual(rc, 0, err)
        self.assertEqual(rep["acked"], 10)
        self.assertNotIn("failed", rep)

    def test_bad_target_names_the_problem(self):
        r = subprocess.run([BENCH, "--target", "udp://2001:db8::1:162", "--count", "1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--target", r.stderr)
        self.assertIn("brackets", r.stderr)


class JsonOptions(CollectorTest):
    """output.big_numbers and the NUL-padding rule, through snmptrap."""

    VARBINDS = ["1.3.6.1.4.1.99.1.1", "C", "18446744073709551615",
                "1.3.6.1.4.1.99.1.2", "C", "9007199254740991",
                "1.3.6.1.4.1.99.1.3", "x", "4769302f3700",    # "Gi0/7" NUL
                "1.3.6.1.4.1.99.1.4", "x", "6100620000"]      # "a" NUL "b" NUL NUL

    def trap(self, c):
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "",
                     "1.3.6.1.4.1.99.0.1", *self.VARBINDS)
        self.assertEqual(r.returncode, 0, r.stderr)
        return c.wait_lines(1)[0]

    def raw_line(self, c):
        with open(c.out) as f:
            return f.readline()

    def test_default_writes_numbers(self):
        c = self.collector()
        line = self.trap(c)
        vbs = line["varbinds"]
        self.assertIn('"value":18446744073709551615}', self.raw_line(c))
        self.assertEqual(vbs[1]["value"], 9007199254740991)

    def test_big_numbers_string(self):
        c = self.collector("--set", "output.big_numbers=string")
        vbs = self.trap(c)["varbinds"]
        self.assertEqual(vbs[0], {"oid": "1.3.6.1.4.1.99.1.1", "type": "Counter64",
                                  "value": "18446744073709551615"})
        # below 2^53 a double is exact: still a number
        self.assertEqual(vbs[1]["value"], 9007199254740991)

    def test_bad_big_numbers_value_is_refused(self):
        c = Collector("--set", "output.big_numbers=text")
        try:
            self.assertEqual(c.start(expect_ok=False), 1)
            self.assertIn("output.big_numbers", c.stderr_text())
        finally:
            c.stop()

    def test_nul_padding_is_trimmed_and_counted(self):
        c = self.collector()
        vbs = self.trap(c)["varbinds"]
        self.assertEqual(vbs[2], {"oid": "1.3.6.1.4.1.99.1.3", "type": "OctetString",
                                  "value": "Gi0/7", "nul_padding": 1})
        # a NUL inside the text: hex, nothing trimmed
        self.assertEqual(vbs[3], {"oid": "1.3.6.1.4.1.99.1.4", "type": "OctetString",
                                  "value": "6100620000", "encoding": "hex"})


class Limits(CollectorTest):
    """docs/JSON.md "Limits": 512 varbinds, 128 sub-identifiers; beyond them
    the notification is a counted drop (malformed), never a line."""

    MALFORMED = 'stormtrap_drops_total{reason="malformed"}'

    def test_512_varbinds_pass_513_are_dropped(self):
        c = self.collector()
        # sysUpTime.0 and snmpTrapOID.0 count: 2 + 510 = 512
        ok = v2c_trap(1, extra=[varbind(f"1.3.6.1.4.1.99.2.{i}", ber_int(i))
                                for i in range(510)])
        over = v2c_trap(2, extra=[varbind(f"1.3.6.1.4.1.99.2.{i}", ber_int(i))
                                  for i in range(511)])
        c.send(ok)
        c.send(over)
        c.send(v2c_trap(3))
        c.wait_lines(2)
        time.sleep(0.2)
        # each send is a new source port, so ingest threads may reorder them
        lines = sorted(c.lines(), key=lambda line: line["request_id"])
        self.assertEqual([line["request_id"] for line in lines], [1, 3])
        self.assertEqual(len(lines[0]["varbinds"]), 510)
        self.assertEqual(c.metrics()[self.MALFORMED], 1)

    def test_128_subids_pass_129_are_dropped(self):
        c = self.collector()
        oid128 = "1.3." + ".".join(["1"] * 126)
        oid129 = oid128 + ".1"
        c.send(v2c_trap(1, extra=[varbind(oid128, ber_int(1))]))
        c.send(v2c_trap(2, extra=[varbind(oid129, ber_int(1))]))
        c.send(v2c_trap(3))
        c.wait_lines(2)
        time.sleep(0.2)
        lines = sorted(c.lines(), key=lambda line: line["request_id"])
        self.assertEqual([line["request_id"] for line in lines], [1, 3])
        self.assertEqual(lines[0]["varbinds"][0]["oid"], oid128)
        self.assertEqual(c.metrics()[self.MALFORMED], 1)


class EnginesPaged(CollectorTest):
    """/engines: remote engines only, in pages with a Link to the next."""

    def http_collector(self, **kw):
        c = HttpCollector(**kw)
        self.addCleanup(shutil.rmtree, c.tmp, True)
        c.start()
        self.addCleanup(c.stop)
        return c

    def test_pages_cover_every_remote_engine_once(self):
        c = self.http_collector(users=USERS)
        url = f"udp://127.0.0.1:{c.port}"
        # five sender engines (traps), and informs, which put our own
        # engine in the USM cache
        rc, _, err = bench(url, "--count", "50", "--rate", "1000", "--engines", "5",
                           "--user", USER, *V3)
        self.assertEqual(rc, 0, err)
        rc, _, err = bench(url, "--inform", "--count", "5", "--rate", "100", "--user", USER,
                           *V3)
        self.assertEqual(rc, 0, err)
        c.wait_lines(55)

        status, headers, body = get(c.http + "/engines")
        self.assertEqual(status, 200)
        self.assertIsNone(headers.get("Link"))
        everything = [e["engine_id"] for e in json.loads(body)]
        self.assertEqual(len(everything), 5, everything)
        self.assertNotIn(OWN_ENGINE, everything)
        self.assertEqual(everything, sorted(everything))

        seen, pages, path = [], 0, "/engines?limit=2"
        while path:
            status, headers, body = get(c.http + path)
            self.assertEqual(status, 200, body)
            page = [e["engine_id"] for e in json.loads(body)]
            self.assertLessEqual(len(page), 2)
            seen += page
            pages += 1
            link = headers.get("Link")
            if link:
                m = re.fullmatch(r'<(/engines\?limit=2&after=([0-9a-f]+))>; rel="next"', link)
                self.assertIsNotNone(m, link)
                self.assertEqual(m.group(2), page[-1])
            path = m.group(1) if link else None
        self.assertEqual(pages, 3)
        self.assertEqual(seen, everything)

        status, _, body = get(c.http + f"/engines?after={everything[-1]}")
        self.assertEqual((status, json.loads(body)), (200, []))

    def test_bad_paging_arguments_are_400(self):
        c = self.http_collector()
        for q, why in (("limit=0", "limit"), ("limit=10001", "limit"), ("limit=x", "limit"),
                       ("after=xyz", "after"), ("after=abc", "after")):
            status, _, body = get(c.http + "/engines?" + q)
            self.assertEqual(status, 400, q)
            self.assertIn(why, body, q)


if __name__ == "__main__":
    main()
