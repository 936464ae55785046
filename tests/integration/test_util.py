# SPDX-License-Identifier: Apache-2.0
"""Behaviour seen through the real binaries: stormtrap-bench says why a run
delivered nothing (and exits non-zero)."""
import json
import os
import subprocess

from harness import SOURCE, CollectorTest, main

BUILD = os.environ.get("ST_BUILD", os.path.join(SOURCE, "build"))
BENCH = os.environ.get("ST_BENCH", os.path.join(BUILD, "bench", "stormtrap-bench"))

USER, AUTH_PASS, PRIV_PASS = "benchuser", "authpass123", "privpass123"
USERS = f"createUser {USER} SHA {AUTH_PASS} AES {PRIV_PASS}\n"
V3 = ["--version", "3", "--auth", "SHA", "--auth-pass", AUTH_PASS, "--priv", "AES",
      "--priv-pass", PRIV_PASS]


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


if __name__ == "__main__":
    main()
