#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""stormtrap -T fails for what the real start would fail on, and lists every
problem, one per line: output and spool directories, librdkafka properties
(judged by librdkafka), UDP listen and metrics ports in use, a bad users-file
line. Each case is also started for real, to show the start fails the same
way (so -T is not stricter than the start, nor laxer)."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import BINARY, free_udp_port, main

USER_OK = "createUser alice SHA alicepass1 AES alicepass1\n"


def run(*args, timeout=30):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Preflight(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_udp_port()
        # a clean base: a free port, a writable file, no metrics
        self.base = ["-l", f"udp://127.0.0.1:{self.port}",
                     "-o", f"file:{os.path.join(self.tmp, 'out.jsonl')}",
                     "--set", "collector.name=pf", "--set", "threads.workers=1",
                     "--set", "threads.ingest=1"]

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check_fails(self, args, lines):
        """-T exits 1, prints nothing on stdout and exactly these lines
        (each "stormtrap: " + a text containing the needle) on stderr."""
        r = run(*self.base, *args, "-T")
        self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "")
        got = r.stderr.splitlines()
        self.assertEqual(len(got), len(lines), r.stderr)
        for line, needle in zip(got, lines):
            self.assertTrue(line.startswith("stormtrap: "), line)
            self.assertIn(needle, line)
        return r

    def start_fails(self, args, needle):
        """The real start fails too, naming the same thing."""
        r = run(*self.base, *args, "--set", "shutdown.timeout=0", timeout=60)
        self.assertEqual(r.returncode, 1, (args, r.stderr))
        self.assertIn(needle, r.stderr)

    def test_clean_configuration_passes(self):
        r = run(*self.base, "-T")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertIn("collector.name: \"pf\"", r.stdout)
        # nothing was created or left behind
        self.assertEqual(os.listdir(self.tmp), [])

    def test_missing_output_directory(self):
        out = os.path.join(self.tmp, "no", "such", "dir", "traps.jsonl")
        args = ["-o", f"file:{out}"]
        self.check_fails(args, [f"output 'file:{out}': directory "
                                f"'{os.path.dirname(out)}' does not exist"])
        self.start_fails(args, out)

    def test_output_directory_not_writable(self):
        # /proc takes no new files, even for root
        self.check_fails(["-o", "file:/proc/traps.jsonl"],
                         ["output 'file:/proc/traps.jsonl': directory '/proc' is not writable"])
        self.start_fails(["-o", "file:/proc/traps.jsonl"], "/proc/traps.jsonl")

    def test_spool_directory_that_cannot_be_created(self):
        args = ["-o", "kafka://127.0.0.1:1/traps", "--set",
                "output.kafka.spool_dir=/proc/stormtrap/spool"]
        self.check_fails(args, ["output.kafka.spool_dir: '/proc/stormtrap/spool' does not exist "
                                "and cannot be created in '/proc'"])
        self.start_fails(args, "output.kafka.spool_dir")

    def test_spool_directory_not_writable(self):
        args = ["-o", "kafka://127.0.0.1:1/traps", "--set", "output.kafka.spool_dir=/proc"]
        self.check_fails(args, ["output.kafka.spool_dir: '/proc' is not writable"])
        self.start_fails(args, "output.kafka.spool_dir")

    def test_unknown_and_invalid_librdkafka_properties(self):
        args = ["-o", "kafka://127.0.0.1:1/traps",
                "--set", f"output.kafka.spool_dir={self.tmp}/spool",
                "--set", "output.kafka.rdkafka.linger.mss=5",
                "--set", "output.kafka.rdkafka.acks=most"]
        self.check_fails(args, [
            'output.kafka.rdkafka.linger.mss: No such configuration property: "linger.mss"',
            "output.kafka.rdkafka.acks: Invalid value"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "spool")))
        self.start_fails(args, "output.kafka.rdkafka.linger.mss")

    def test_udp_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", self.port))
            self.check_fails([], [f"listen 'udp://127.0.0.1:{self.port}': bind: "
                                  "Address already in use"])
            self.start_fails([], "Address already in use")

    def test_metrics_port_in_use(self):
        port = free_tcp_port()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
            s.listen()
            args = ["--set", f"metrics.listen=127.0.0.1:{port}"]
            self.check_fails(args, [f"metrics.listen '127.0.0.1:{port}': bind: "
                                    "Address already in use"])
            self.start_fails(args, "metrics.listen")

    def test_bad_users_file_line(self):
        users = self.write("users.conf", USER_OK + "createUser bob SHA short\n")
        self.check_fails(["-u", users], [f"{users}:2: "])
        self.start_fails(["-u", users], f"{users}:2: ")

    def test_every_problem_is_listed(self):
        port = free_tcp_port()
        users = self.write("users.conf", "createUser bob SHA short\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            u.bind(("127.0.0.1", self.port))
            t.bind(("127.0.0.1", port))
            t.listen()
            self.check_fails(
                ["-u", users, "--set", f"metrics.listen=127.0.0.1:{port}",
                 "-o", "file:/nonexistent-dir/traps.jsonl", "-o", "kafka://127.0.0.1:1/traps",
                 "--set", "output.kafka.spool_dir=/proc/spool",
                 "--set", "output.kafka.rdkafka.linger.mss=5"],
                [f"{users}:1: ",
                 f"listen 'udp://127.0.0.1:{self.port}': bind: Address already in use",
                 f"metrics.listen '127.0.0.1:{port}': bind: Address already in use",
                 "output 'file:/nonexistent-dir/traps.jsonl': directory '/nonexistent-dir' "
                 "does not exist",
                 "output.kafka.rdkafka.linger.mss: No such configuration property",
                 "output.kafka.spool_dir: '/proc/spool' does not exist"])

    def test_every_configuration_error_is_listed(self):
        conf = self.write("bad.yaml", "log:\n  level: loud\n")
        self.check_fails(
            ["-c", conf, "--set", "shutdown.timeout=10", "--set", "ingest.rcvbuf=32MB",
             "--set", "nosuch.key=1", "-o", "bad://x"],
            [f"{conf}:2: log.level: expected one of error, warn, info, debug, got 'loud'",
             "--set: shutdown.timeout: '10' needs a unit: ms, s, m, h (e.g. 10s)",
             "--set: ingest.rcvbuf: '32MB': sizes are binary: write 32MiB",
             "--set: unknown key 'nosuch.key'",
             "command line: output: expected stdout, file:/path or kafka://"])


if __name__ == "__main__":
    main()
