# SPDX-License-Identifier: Apache-2.0
"""The harness itself: what makes the integration suite able to fail.

- A module run for the io_uring backend where io_uring is refused (here:
  under st_no_io_uring, the seccomp filter Docker's default profile
  amounts to) exits 77 with the reason, which CTest shows as skipped,
  and runs no test; where io_uring works it runs them.
- A sanitizer report in the collector's stderr fails the test that ran
  it, even when the collector goes on and exits 0 (the report is written
  here by a wrapper in front of the real binary, as ASan/UBSan/TSan would).
"""
import os
import subprocess
import sys

from harness import (BINARY, PYTHON, SKIP, Collector, CollectorTest, io_uring_refused, main,
                     net_snmp, sanitizer_report)

HERE = os.path.dirname(os.path.abspath(__file__))
NO_IO_URING = os.environ.get("ST_NO_IO_URING", "")


def run_module(module, backend, wrapper=()):
    env = dict(os.environ, ST_BACKEND=backend)
    return subprocess.run([*wrapper, PYTHON, os.path.join(HERE, module)], capture_output=True,
                          text=True, env=env, cwd=HERE, timeout=300)


class IoUringSkip(CollectorTest):
    def test_refused_io_uring_skips_the_module_with_a_reason(self):
        self.assertTrue(os.access(NO_IO_URING, os.X_OK), "ST_NO_IO_URING is not set")
        r = run_module("test_v1v2c.py", "io_uring", wrapper=[NO_IO_URING])
        self.assertEqual(r.returncode, SKIP, r.stdout + r.stderr)
        self.assertIn("SKIPPED: ST_BACKEND=io_uring, but io_uring is refused here", r.stdout)
        self.assertIn("EPERM", r.stdout)
        self.assertNotIn("Ran ", r.stderr, "a skipped module runs no test")

    def test_the_probe_tells_refused_from_usable(self):
        r = subprocess.run([NO_IO_URING, PYTHON, "-c",
                            "import harness; print(harness.io_uring_refused())"],
                           capture_output=True, text=True, cwd=HERE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("io_uring_setup: EPERM", r.stdout)
        if io_uring_refused() is None:
            # where the probe says io_uring works, the binary agrees
            c = self.collector(backend="io_uring")
            self.assertIn("io_uring", c.stderr_text())


class SanitizerReports(CollectorTest):
    REPORT = "collector/ingest.c:74:9: runtime error: member access within misaligned address"

    def wrapped(self, text):
        # prints a sanitizer-like report on stderr, then runs the real binary
        # (recvmmsg: the test is about the harness, whatever io_uring does)
        return Collector(wrapper=["/bin/sh", "-c", f'echo "{text}" >&2; exec "$@"', "sh"],
                         backend="recvmmsg")

    def test_a_report_fails_the_test_even_when_stormtrap_exits_0(self):
        c = self.wrapped(self.REPORT)
        self.addCleanup(lambda: c.proc and c.proc.poll() is None and c.proc.kill())
        c.start()
        r = net_snmp("snmptrap", "-v", "2c", "-c", "public", c.target(), "1",
                     "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        c.wait_lines(1)
        with self.assertRaises(AssertionError) as cm:
            c.stop()
        self.assertIn("sanitizer report", str(cm.exception))
        self.assertIn("misaligned address", str(cm.exception))
        self.assertEqual(c.proc.returncode, 0)

    def test_every_sanitizer_is_recognised(self):
        for text in ("==12==ERROR: AddressSanitizer: heap-use-after-free on address 0x6",
                     "==12==ERROR: LeakSanitizer: detected memory leaks",
                     "WARNING: ThreadSanitizer: data race (pid=12)",
                     "x.c:1:2: runtime error: signed integer overflow"):
            self.assertIsNotNone(sanitizer_report("line\n" + text + "\nmore"), text)
        self.assertIsNone(sanitizer_report("stormtrap: listening on udp://127.0.0.1:162\n"))

    def test_a_clean_run_passes(self):
        c = self.wrapped("stormtrap-test: nothing to see")
        c.start()
        self.assertEqual(c.stop(), 0)


if __name__ == "__main__":
    main()
