# SPDX-License-Identifier: Apache-2.0
"""Integration-test harness: runs the real stormtrap binary on a free port
and talks to it with real peers (Net-SNMP's snmptrap/snmpinform, pysnmp,
raw UDP sockets).

Environment:
  ST_BINARY   path of the stormtrap binary (set by CTest)
  ST_BACKEND  ingest backend to force (io_uring | recvmmsg), default auto
  ST_SOURCE   the source tree (for fixtures)
  ST_NO_IO_URING  path of st_no_io_uring (runs a command with io_uring refused)

A module run with ST_BACKEND=io_uring where the kernel or a seccomp filter
refuses io_uring exits SKIP (77, CTest's SKIP_RETURN_CODE) with the reason,
instead of failing every test. A collector whose stderr holds a sanitizer
report (ASan, UBSan, LSan, TSan) fails the test that ran it, even when the
process went on or exited 0.
"""
import ctypes
import errno
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BINARY = os.environ.get("ST_BINARY", "build/collector/stormtrap")
BACKEND = os.environ.get("ST_BACKEND", "auto")
SOURCE = os.environ.get("ST_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
NET_SNMP_ENV = dict(os.environ, MIBS="", MIBDIRS="/nonexistent", SNMPCONFPATH="/nonexistent")


def free_udp_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def udp_port_bound(port, host="127.0.0.1"):
    """True once some process has bound host:port (a receiver is ready for
    datagrams only then; snmptrapd writes its log before it binds)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
        return False


SKIP = 77  # exit status of a module that cannot run here (SKIP_RETURN_CODE)
NR_IO_URING_SETUP = 425  # the same on every Linux architecture


def io_uring_refused():
    """Why io_uring cannot be used by this process, or None when it can:
    the io_uring_setup(2) system call is tried (a seccomp filter, as Docker's
    default profile, refuses it with EPERM; a kernel with io_uring disabled
    or absent with EPERM or ENOSYS)."""
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            if f.read().strip() == "2":
                return "kernel.io_uring_disabled = 2"
    except OSError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    fd = libc.syscall(ctypes.c_long(NR_IO_URING_SETUP), ctypes.c_uint(1), params)
    if fd < 0:
        e = ctypes.get_errno()
        return f"io_uring_setup: {errno.errorcode.get(e, e)} ({os.strerror(e)})"
    os.close(fd)
    return None


def io_uring_usable():
    return io_uring_refused() is None


# what the sanitizers write when they find something (halt_on_error=1 makes
# most of them stop the process too, but a report must fail even when not)
SANITIZER_REPORT = re.compile(
    r"runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
    r"WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|==\d+==ERROR: \w*Sanitizer")


def sanitizer_report(text):
    """The first sanitizer report in text (with some context), or None."""
    m = SANITIZER_REPORT.search(text or "")
    if not m:
        return None
    start = text.rfind("\n", 0, max(0, m.start() - 200)) + 1
    return text[start:m.start() + 3000]


class Collector:
    """One stormtrap process. Output goes to a JSON-lines file."""

    def __init__(self, *extra, host="127.0.0.1", port=None, output=True, env=None,
                 backend=None, workers=2, ingest=2, users=None, config=None, wrapper=()):
        self.tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.host = host
        self.port = port or free_udp_port(host)
        self.out = os.path.join(self.tmp, "traps.jsonl")
        lis = f"udp://[{host}]:{self.port}" if ":" in host else f"udp://{host}:{self.port}"
        self.args = [*wrapper, BINARY, "-l", lis,
                     "--set", f"ingest.backend={backend or BACKEND}",
                     "--set", f"threads.workers={workers}",
                     "--set", f"threads.ingest={ingest}",
                     "--set", "collector.name=test",
                     "--set", "ingest.rcvbuf=8MiB"]
        if output:
            self.args += ["-o", f"file:{self.out}"]
        if users is not None:
            self.users = os.path.join(self.tmp, "users.conf")
            with open(self.users, "w") as f:
                f.write(users)
            self.args += ["-u", self.users]
        if config is not None:
            self.config = os.path.join(self.tmp, "stormtrap.yaml")
            with open(self.config, "w") as f:
                f.write(config)
            self.args += ["-c", self.config]
        self.args += list(extra)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.stderr = ""
        self._lock = threading.Lock()

    # -- process --------------------------------------------------------
    def start(self, expect_ok=True, timeout=10):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env, text=True)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not expect_ok:
            self.proc.wait(timeout=timeout)
            self._reader.join(timeout=2)
            self.stop()
            return self.proc.returncode
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "listening on" in self.stderr_text():
                return self
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                self.check_sanitizers()
                raise AssertionError(f"stormtrap exited {self.proc.returncode}: "
                                     f"{self.stderr_text()}")
            time.sleep(0.02)
        raise AssertionError("stormtrap did not start: " + self.stderr_text())

    def _read_stderr(self):
        for line in self.proc.stderr:
            with self._lock:
                self.stderr += line

    def stderr_text(self):
        with self._lock:
            return self.stderr

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("stormtrap did not stop on SIGTERM")
        if self.proc:
            self._reader.join(timeout=5)
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe and not pipe.closed:
                    pipe.close()
            self.check_sanitizers()
            return self.proc.returncode
        return None

    def check_sanitizers(self):
        """Fail on a sanitizer report in the collector's stderr (once)."""
        report = sanitizer_report(self.stderr_text())
        if report and not getattr(self, "_reported", False):
            self._reported = True
            raise AssertionError("sanitizer report in stormtrap's stderr:\n" + report)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- metrics --------------------------------------------------------
    def metrics(self, timeout=5):
        """SIGUSR1 → the counters on stderr, parsed: Prometheus text, or with
        log.format json one object whose "counters" map sample to value."""
        marks = ("# HELP stormtrap_datagrams_received_total", '"msg":"counters"')
        before = [self.stderr_text().count(m) for m in marks]
        self.signal(signal.SIGUSR1)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.stderr_text()
            if text.count(marks[0]) > before[0]:
                # wait for the end of the block
                time.sleep(0.1)
                return parse_metrics(self.stderr_text().split(marks[0])[-1])
            if text.count(marks[1]) > before[1]:
                # one line, written whole: the last complete one
                last = [line for line in text.splitlines(keepends=True)
                        if marks[1] in line and line.endswith("\n")]
                if last:
                    return {k: float(v) for k, v in json.loads(last[-1])["counters"].items()}
            time.sleep(0.02)
        raise AssertionError("no metrics after SIGUSR1")

    # -- output ---------------------------------------------------------
    def lines(self):
        try:
            with open(self.out) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_lines(self, n, timeout=10):
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            got = self.lines()
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError(f"expected {n} lines, got {len(got)}: {got[-3:]}")

    def target(self):
        return f"udp6:[{self.host}]:{self.port}" if ":" in self.host else \
            f"{self.host}:{self.port}"

    def send(self, data, src=None):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            if src:
                s.bind(src)
            s.sendto(data, (self.host, self.port))


def parse_metrics(text):
    """{'stormtrap_drops_total{reason="community"}': 1.0, ...}"""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(stormtrap_[a-zA-Z0-9_]+(?:\{[^}]*\})?) (\S+)$', line.strip())
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def net_snmp(tool, *args, timeout=20):
    """Run a Net-SNMP command line tool; returns CompletedProcess."""
    return subprocess.run([tool, *args], capture_output=True, text=True, env=NET_SNMP_ENV,
                          timeout=timeout)


PYTHON = "/usr/bin/python3"  # Debian's, where pysnmp is installed


def pysnmp(script, timeout=60):
    """Run a pysnmp script with Debian's python; returns CompletedProcess."""
    return subprocess.run([PYTHON, "-c", script], capture_output=True, text=True,
                          timeout=timeout)


# -- a tiny BER encoder for crafting datagrams by hand ----------------------
def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + ber_len(len(content)) + content


def ber_int(v, tag=0x02):
    n = max(1, (v.bit_length() + 8) // 8)
    return tlv(tag, v.to_bytes(n, "big", signed=True))


def ber_oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7f]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7f))
            p >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, bytes(out))


def varbind(oid, value):
    return tlv(0x30, ber_oid(oid) + value)


def v2c_message(pdu_tag, request_id, varbinds, community=b"public", version=1):
    vbl = tlv(0x30, b"".join(varbinds))
    pdu = tlv(pdu_tag, ber_int(request_id) + ber_int(0) + ber_int(0) + vbl)
    return tlv(0x30, ber_int(version) + tlv(0x04, community) + pdu)


def v2c_trap(request_id=1, trap_oid="1.3.6.1.6.3.1.1.5.3", extra=(), community=b"public",
             pdu_tag=0xa7, uptime=1234):
    vbs = [varbind("1.3.6.1.2.1.1.3.0", ber_int(uptime, 0x43)),
           varbind("1.3.6.1.6.3.1.1.4.1.0", ber_oid(trap_oid))] + list(extra)
    return v2c_message(pdu_tag, request_id, vbs, community)


class CollectorTest(unittest.TestCase):
    """Base class: self.collector() starts one and stops it at the end."""

    def collector(self, *args, **kw):
        c = Collector(*args, **kw)
        # cleanups run last-in first-out: stop, then remove its files
        self.addCleanup(shutil.rmtree, c.tmp, True)
        c.start()
        self.addCleanup(c.stop)
        return c


def main():
    if BACKEND == "io_uring":
        why = io_uring_refused()
        if why:
            # every collector of the module is forced to io_uring: nothing to run
            print(f"SKIPPED: ST_BACKEND=io_uring, but io_uring is refused here: {why}",
                  flush=True)
            sys.exit(SKIP)
    unittest.main(verbosity=2)
