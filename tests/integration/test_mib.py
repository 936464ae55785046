# SPDX-License-Identifier: Apache-2.0
"""MIB translation through the real binary: -M/-m over the standard MIB set
that scripts/fetch-mibs gathers from packages, plus a vendor-style directory
this test writes (modules of our own: objects with DISPLAY-HINTs, BITS and
enumerations, an SMIv1 TRAP-TYPE, a module importing one nobody has and one
with a syntax error). Notifications come from Net-SNMP's snmptrap.

Skipped, with the script's reason, only when the standard set cannot be
gathered (no npm and no cached tarball)."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (BINARY, SOURCE, Collector, CollectorTest, ber_int, ber_oid, free_udp_port,
                     main, net_snmp, tlv, v2c_trap, varbind)

ACME_SMI = """ACME-SMI DEFINITIONS ::= BEGIN
IMPORTS
    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, Integer32, enterprises
        FROM SNMPv2-SMI
    TEXTUAL-CONVENTION, DateAndTime FROM SNMPv2-TC;

acme MODULE-IDENTITY
    LAST-UPDATED "202611250000Z"
    ORGANIZATION "Acme test fixtures"
    CONTACT-INFO "none"
    DESCRIPTION "Root of the acme test tree."
    REVISION "202611250000Z"
    DESCRIPTION "First."
    ::= { enterprises 99991 }

AcmeTenths ::= TEXTUAL-CONVENTION
    DISPLAY-HINT "d-1"
    STATUS current
    DESCRIPTION "Tenths."
    SYNTAX Integer32

acmeObjects OBJECT IDENTIFIER ::= { acme 1 }
acmeTraps OBJECT IDENTIFIER ::= { acme 2 }

acmeLevel OBJECT-TYPE
    SYNTAX AcmeTenths
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "A level."
    ::= { acmeObjects 1 }

acmeFlags OBJECT-TYPE
    SYNTAX BITS { red(0), green(1), blue(2), spare(9) }
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Flags."
    ::= { acmeObjects 2 }

acmeState OBJECT-TYPE
    SYNTAX INTEGER { idle(1), busy(2), broken(3) }
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "State."
    ::= { acmeObjects 3 }

acmeWhen OBJECT-TYPE
    SYNTAX DateAndTime
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "When."
    ::= { acmeObjects 4 }

acmeAlarm NOTIFICATION-TYPE
    OBJECTS { acmeLevel, acmeState }
    STATUS current
    DESCRIPTION "Alarm."
    ::= { acmeTraps 0 1 }
END
"""

ACME_V1 = """ACME-V1-MIB DEFINITIONS ::= BEGIN
IMPORTS
    enterprises FROM RFC1155-SMI
    OBJECT-TYPE FROM RFC-1212
    TRAP-TYPE FROM RFC-1215;

acmeV1 OBJECT IDENTIFIER ::= { enterprises 99992 }

acmeV1Temp OBJECT-TYPE
    SYNTAX INTEGER
    ACCESS read-only
    STATUS mandatory
    DESCRIPTION "Temperature."
    ::= { acmeV1 1 }

acmeV1Overheat TRAP-TYPE
    ENTERPRISE acmeV1
    VARIABLES { acmeV1Temp }
    DESCRIPTION "Too hot."
    ::= 17
END
"""

# line 5 imports a module nobody has
ACME_ORPHAN = """ACME-ORPHAN-MIB DEFINITIONS ::= BEGIN
IMPORTS
    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI
    acmeObjects FROM ACME-SMI
    WidgetCount FROM ACME-MISSING-TC;

acmeOrphanCount OBJECT-TYPE
    SYNTAX WidgetCount
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Type from a module nobody has."
    ::= { acmeObjects 10 }

acmeOrphanSize OBJECT-TYPE
    SYNTAX Integer32
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Still resolvable."
    ::= { acmeObjects 11 }
END
"""

# line 14 has a syntax error
ACME_BROKEN = """ACME-BROKEN-MIB DEFINITIONS ::= BEGIN
IMPORTS
    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI
    acmeObjects FROM ACME-SMI;

acmeGood OBJECT-TYPE
    SYNTAX Integer32
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Before the error."
    ::= { acmeObjects 20 }

acmeBad OBJECT-TYPE
    SYNTAX Integer32 ]]] ;;
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Garbage in the syntax."
    ::= { acmeObjects 21 }
END
"""

ACME_LATE = """ACME-LATE-MIB DEFINITIONS ::= BEGIN
IMPORTS
    OBJECT-TYPE, Integer32 FROM SNMPv2-SMI
    acmeObjects FROM ACME-SMI;

acmeLate OBJECT-TYPE
    SYNTAX Integer32
    MAX-ACCESS read-only
    STATUS current
    DESCRIPTION "Added while running."
    ::= { acmeObjects 50 }
END
"""

IF = "1.3.6.1.2.1.2.2.1"
ACME = "1.3.6.1.4.1.99991"
STD = None  # the standard set's directories, or the reason there is none


def std_dirs():
    """[npm, netsnmp, erlang] from scripts/fetch-mibs (or ST_MIB_DIR)."""
    global STD
    if STD is None:
        base = os.environ.get("ST_MIB_DIR")
        if not base:
            r = subprocess.run([os.path.join(SOURCE, "scripts", "fetch-mibs")],
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                STD = "scripts/fetch-mibs: " + (r.stderr.strip().splitlines() or ["failed"])[-1]
                return STD
            base = r.stdout.strip().splitlines()[-1]
        STD = [os.path.join(base, d) for d in ("npm", "netsnmp", "erlang")
               if os.path.isdir(os.path.join(base, d))]
    return STD


def mib_flags(*extra_dirs):
    dirs = std_dirs()
    if isinstance(dirs, str):
        raise unittest.SkipTest(dirs)
    flags = []
    for d in [*dirs, *extra_dirs]:
        flags += ["-M", d]
    return flags


def snmptrap(c, *args):
    r = net_snmp("snmptrap", *args[:2], "-c", "public", c.target(), *args[2:])
    if r.returncode != 0:
        raise AssertionError(r.stderr)


def v1_trap(enterprise, generic, specific, varbinds=()):
    """A v1 Trap-PDU, community public, from agent 192.0.2.7."""
    pdu = tlv(0xa4, ber_oid(enterprise) + tlv(0x40, bytes([192, 0, 2, 7])) + ber_int(generic) +
              ber_int(specific) + ber_int(100, 0x43) + tlv(0x30, b"".join(varbinds)))
    return tlv(0x30, ber_int(0) + tlv(0x04, b"public") + pdu)


def by_oid(line):
    return {vb["oid"]: vb for vb in line["varbinds"]}


def translate(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=120)


class Mib(CollectorTest):
    def vendor_dir(self, c):
        """The vendor-style directory, inside the collector's temporary one."""
        d = os.path.join(c.tmp, "vendor")
        os.makedirs(os.path.join(d, "sub"), exist_ok=True)
        for name, text in (("acme.txt", ACME_SMI), ("sub/ACME-V1.my", ACME_V1),
                           ("acme-orphan.txt", ACME_ORPHAN), ("acme-broken.mib", ACME_BROKEN)):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        return d

    def mib_collector(self, *extra, in_config=False):
        """A collector with the standard set and the vendor directory, as
        -M flags or (in_config) as mibs.dirs in its configuration file."""
        flags = mib_flags()  # skips before anything starts
        c = Collector(config="" if in_config else None)
        self.addCleanup(shutil.rmtree, c.tmp, True)
        c.vendor = self.vendor_dir(c)
        c.flags = flags + ["-M", c.vendor]
        if in_config:
            c.write_dirs = lambda dirs: self.write_config(c, dirs)
            c.write_dirs(flags[1::2] + [c.vendor])
        else:
            c.args += c.flags
        c.args += list(extra)
        c.start(timeout=120)
        self.addCleanup(c.stop)
        return c

    @staticmethod
    def write_config(c, dirs):
        with open(c.config, "w") as f:
            f.write("mibs:\n  dirs: [" + ", ".join(f'"{d}"' for d in dirs) + "]\n")

    def test_v2c_linkdown_with_enum(self):
        c = self.mib_collector()
        snmptrap(c, "-v", "2c", "", "1.3.6.1.6.3.1.1.5.3",
                 f"{IF}.1.7", "i", "7", f"{IF}.7.7", "i", "1", f"{IF}.8.7", "i", "2")
        (line,) = c.wait_lines(1)
        self.assertEqual(line["trap_oid"], "1.3.6.1.6.3.1.1.5.3")
        self.assertEqual(line["trap_name"], "IF-MIB::linkDown")
        vb = by_oid(line)
        self.assertEqual(vb[f"{IF}.1.7"]["name"], "IF-MIB::ifIndex.7")
        self.assertEqual(vb[f"{IF}.7.7"]["name"], "IF-MIB::ifAdminStatus.7")
        self.assertEqual(vb[f"{IF}.7.7"]["enum"], "up")
        self.assertEqual(vb[f"{IF}.8.7"],
                         {"oid": f"{IF}.8.7", "name": "IF-MIB::ifOperStatus.7",
                          "type": "Integer32", "value": 2, "enum": "down"})

    def test_v1_cold_start_and_enterprise_specific(self):
        c = self.mib_collector()
        snmptrap(c, "-v", "1", "1.3.6.1.4.1.8072.2.3", "192.0.2.7", "0", "0", "100")
        snmptrap(c, "-v", "1", "1.3.6.1.4.1.99992", "192.0.2.7", "6", "17", "200",
                 "1.3.6.1.4.1.99992.1.0", "i", "95")
        lines = c.wait_lines(2)
        cold = next(x for x in lines if x["generic_trap"] == 0)
        self.assertEqual(cold["trap_oid"], "1.3.6.1.6.3.1.1.5.1")
        self.assertEqual(cold["trap_name"], "SNMPv2-MIB::coldStart")
        hot = next(x for x in lines if x["generic_trap"] == 6)
        self.assertEqual(hot["trap_oid"], "1.3.6.1.4.1.99992.0.17")
        self.assertEqual(hot["trap_name"], "ACME-V1-MIB::acmeV1Overheat")
        self.assertEqual(hot["varbinds"][0]["name"], "ACME-V1-MIB::acmeV1Temp.0")
        self.assertEqual(hot["varbinds"][0]["value"], 95)

    def test_v1_trap_without_trap_oid_is_not_unknown(self):
        """A v1 trap RFC 3584 maps to no OID (a negative specific-trap)
        has no trap_oid, so no number is left without a name: nothing is
        counted unknown. The same trap with specific-trap 17 is named."""
        c = self.mib_collector()
        c.send(v1_trap("1.3.6.1.4.1.99992", 6, -1))
        (line,) = c.wait_lines(1)
        self.assertNotIn("trap_oid", line)
        self.assertNotIn("trap_name", line)
        self.assertEqual(c.metrics()["stormtrap_mib_unknown_oids_total"], 0)
        c.send(v1_trap("1.3.6.1.4.1.99992", 6, 17))
        second = c.wait_lines(2)[1]
        self.assertEqual((second["trap_oid"], second["trap_name"]),
                         ("1.3.6.1.4.1.99992.0.17", "ACME-V1-MIB::acmeV1Overheat"))
        self.assertEqual(c.metrics()["stormtrap_mib_unknown_oids_total"], 0)

    def test_value_of_the_wrong_type_gets_no_label(self):
        """An agent that sends a BITS object as an INTEGER (or an enumerated
        INTEGER as an OctetString) gets the name but no enum, bits or display:
        the labels of a BITS object name bits, not values."""
        c = self.mib_collector()
        c.send(v2c_trap(extra=[varbind(f"{ACME}.1.2.0", ber_int(2)),
                               varbind(f"{ACME}.1.3.0", tlv(0x04, b"\x02"))]))
        (line,) = c.wait_lines(1)
        flags, state = line["varbinds"]
        self.assertEqual(flags, {"oid": f"{ACME}.1.2.0", "name": "ACME-SMI::acmeFlags.0",
                                 "type": "Integer32", "value": 2})
        self.assertEqual(set(state) - {"encoding"}, {"oid", "name", "type", "value"}, state)

    def test_hints_bits_and_unknown_oids(self):
        c = self.mib_collector()
        # 2026-11-25,12:34:56.7,-5:30 ; red, blue and spare (bit 9)
        snmptrap(c, "-v", "2c", "", f"{ACME}.2.0.1",
                 f"{IF}.6.7", "x", "00 0c 29 a2 b3 c4",
                 f"{ACME}.1.4.0", "x", "07 ea 0b 19 0c 22 38 07 2d 05 1e",
                 f"{ACME}.1.2.0", "x", "a0 40",
                 f"{ACME}.1.1.0", "i", "123",
                 f"{ACME}.1.3.0", "i", "3",
                 "1.3.6.1.4.1.99999.1.2.3", "s", "who knows",
                 f"{ACME}.1.99.0", "i", "5")
        (line,) = c.wait_lines(1)
        self.assertEqual(line["trap_name"], "ACME-SMI::acmeAlarm")
        vb = by_oid(line)
        mac = vb[f"{IF}.6.7"]
        self.assertEqual(mac["name"], "IF-MIB::ifPhysAddress.7")
        self.assertEqual((mac["value"], mac["encoding"]), ("000c29a2b3c4", "hex"))
        self.assertEqual(mac["display"], "00:0c:29:a2:b3:c4")
        when = vb[f"{ACME}.1.4.0"]
        self.assertEqual(when["name"], "ACME-SMI::acmeWhen.0")
        self.assertEqual(when["display"], "2026-11-25,12:34:56.7,-5:30")
        flags = vb[f"{ACME}.1.2.0"]
        self.assertEqual(flags["bits"], ["red", "blue", "spare"])
        self.assertEqual(flags["value"], "a040")
        self.assertEqual(vb[f"{ACME}.1.1.0"]["display"], "12.3")
        self.assertEqual(vb[f"{ACME}.1.3.0"]["enum"], "broken")
        # an enterprise nobody describes, and an unknown object of a known
        # tree: numeric, no name, counted, never dropped
        for oid, value in (("1.3.6.1.4.1.99999.1.2.3", "who knows"), (f"{ACME}.1.99.0", 5)):
            self.assertEqual(set(vb[oid]) - {"encoding"}, {"oid", "type", "value"}, vb[oid])
            self.assertEqual(vb[oid]["value"], value)
        m = c.metrics()
        self.assertEqual(m["stormtrap_mib_unknown_oids_total"], 2)
        self.assertGreater(m['stormtrap_mib_modules{state="loaded"}'], 20)
        self.assertGreater(m["stormtrap_mib_nodes"], 500)
        self.assertEqual(m['stormtrap_mib_loads_total{result="ok"}'], 1)

        # --translate, with the same flags, says what the line says
        oids = [line["trap_oid"], *vb]
        r = translate(*c.flags, "--translate", *oids)
        self.assertEqual(r.returncode, 2, r.stderr)  # two OIDs have no name
        out = dict(x.split("\t", 1) for x in r.stdout.splitlines())
        self.assertEqual(out[line["trap_oid"]], line["trap_name"])
        for oid, v in vb.items():
            if "name" in v:
                self.assertEqual(out[oid], v["name"])
            else:
                self.assertTrue(out[oid].startswith("unknown"), out[oid])
        self.assertIn("below SNMPv2-SMI::enterprises", out["1.3.6.1.4.1.99999.1.2.3"])
        self.assertIn("below ACME-SMI::acmeObjects", out[f"{ACME}.1.99.0"])
        r = translate(*c.flags, "--translate", f"{IF}.8.7", "1.3.6.1.6.3.1.1.5.3")
        self.assertEqual((r.returncode, r.stdout),
                         (0, f"{IF}.8.7\tIF-MIB::ifOperStatus.7\n"
                             "1.3.6.1.6.3.1.1.5.3\tIF-MIB::linkDown\n"), r.stderr)
        r = translate(*c.flags, "--translate", "1.3.6.x")
        self.assertEqual((r.returncode, r.stdout), (2, "1.3.6.x\tnot an OID\n"))

    def test_names_left_out_are_counted(self):
        """A BITS value of 64,000 set bits renders to far more than a
        notification's 256 KiB budget for names: its list is left out and
        counted, the other names of the line are written. A DisplayString
        that is not UTF-8 (Latin-1 "cafe") has no display, counted too."""
        c = self.mib_collector()
        c.send(v2c_trap(request_id=7, extra=[
            varbind(f"{ACME}.1.2.0", tlv(0x04, b"\xff" * 8000)),
            varbind(f"{IF}.8.7", ber_int(2)),
            varbind("1.3.6.1.2.1.1.1.0", tlv(0x04, b"caf\xe9"))]))
        (line,) = c.wait_lines(1)
        self.assertEqual(line["trap_name"], "IF-MIB::linkDown")
        flags, oper, descr = line["varbinds"]
        self.assertEqual(flags["name"], "ACME-SMI::acmeFlags.0")
        self.assertEqual(flags["value"], "ff" * 8000)
        self.assertNotIn("bits", flags)
        self.assertEqual((oper["name"], oper["enum"]), ("IF-MIB::ifOperStatus.7", "down"))
        self.assertEqual(descr["name"], "SNMPv2-MIB::sysDescr.0")
        self.assertEqual((descr["value"], descr["encoding"]), ("636166e9", "hex"))
        self.assertNotIn("display", descr)
        m = c.metrics()
        self.assertEqual(m['stormtrap_mib_names_omitted_total{reason="space"}'], 1)
        self.assertEqual(m['stormtrap_mib_names_omitted_total{reason="not_utf8"}'], 1)

        # a BITS value that fits still gets its list, and nothing more is counted
        c.send(v2c_trap(request_id=8, extra=[varbind(f"{ACME}.1.2.0", tlv(0x04, b"\xa0\x40"))]))
        second = c.wait_lines(2)[1]
        self.assertEqual(second["varbinds"][0]["bits"], ["red", "blue", "spare"])
        m = c.metrics()
        self.assertEqual(m['stormtrap_mib_names_omitted_total{reason="space"}'], 1)

    def test_broken_vendor_modules_are_logged_and_the_rest_used(self):
        c = self.mib_collector()
        err = c.stderr_text()
        orphan = os.path.join(c.vendor, "acme-orphan.txt")
        broken = os.path.join(c.vendor, "acme-broken.mib")
        self.assertRegex(err, f"mib: {orphan}:5: .*ACME-MISSING-TC")
        self.assertRegex(err, f"mib: {broken}:14: .*syntax error")
        self.assertEqual(err.count(f"{orphan}:5:"), 1, "once per file and line")
        self.assertIn("loaded MIBs: ", err)
        snmptrap(c, "-v", "2c", "", f"{ACME}.2.0.1",
                 f"{ACME}.1.11.0", "i", "1", f"{ACME}.1.20.0", "i", "2")
        (line,) = c.wait_lines(1)
        vb = by_oid(line)
        self.assertEqual(vb[f"{ACME}.1.11.0"]["name"], "ACME-ORPHAN-MIB::acmeOrphanSize.0")
        self.assertEqual(vb[f"{ACME}.1.20.0"]["name"], "ACME-BROKEN-MIB::acmeGood.0")

    def test_sighup_reloads_mibs(self):
        c = self.mib_collector(in_config=True)
        late = f"{ACME}.1.50.0"

        snmptrap(c, "-v", "2c", "", f"{ACME}.2.0.1", late, "i", "1")
        (before,) = c.wait_lines(1)
        self.assertNotIn("name", before["varbinds"][0])

        with open(os.path.join(c.vendor, "acme-late.txt"), "w") as f:
            f.write(ACME_LATE)
        c.signal(signal.SIGHUP)
        self.wait_log(c, "reloaded MIBs")
        snmptrap(c, "-v", "2c", "", f"{ACME}.2.0.1", late, "i", "2")
        after = c.wait_lines(2)[1]
        self.assertEqual(after["varbinds"][0]["name"], "ACME-LATE-MIB::acmeLate.0")

        # a reload whose MIBs cannot load keeps the running ones
        empty = os.path.join(c.tmp, "empty")
        os.makedirs(empty)
        c.write_dirs([empty])
        c.signal(signal.SIGHUP)
        self.wait_log(c, "keeping the running MIBs")
        snmptrap(c, "-v", "2c", "", f"{ACME}.2.0.1", late, "i", "3")
        kept = c.wait_lines(3)[2]
        self.assertEqual(kept["varbinds"][0]["name"], "ACME-LATE-MIB::acmeLate.0")
        m = c.metrics()
        self.assertEqual(m['stormtrap_mib_loads_total{result="ok"}'], 2)
        self.assertEqual(m['stormtrap_mib_loads_total{result="failed"}'], 1)

    def test_reload_under_traffic(self):
        """Workers translate with the old structure while the main thread
        swaps and frees it: nothing is lost, every line has its names
        (under ASan a use after free would be a report, and the harness
        fails on it)."""
        c = self.mib_collector()
        stop = threading.Event()
        sent = [0]

        def send():
            while not stop.is_set():
                c.send(v2c_trap(request_id=sent[0] + 1, extra=[
                    varbind(f"{IF}.8.7", ber_int(2)), varbind(f"{ACME}.1.3.0", ber_int(2))]))
                sent[0] += 1
                time.sleep(0.002)

        t = threading.Thread(target=send)
        t.start()
        try:
            for i in range(3):
                c.signal(signal.SIGHUP)
                deadline = time.time() + 120
                while c.stderr_text().count("reloaded MIBs") < i + 1:
                    self.assertLess(time.time(), deadline, c.stderr_text()[-2000:])
                    time.sleep(0.05)
        finally:
            stop.set()
            t.join()
        lines = c.wait_lines(sent[0], timeout=30)
        self.assertEqual(len(lines), sent[0])
        for line in lines:
            self.assertEqual(line["trap_name"], "IF-MIB::linkDown")
            self.assertEqual([v.get("enum") for v in line["varbinds"]], ["down", "busy"])
        self.assertGreater(sent[0], 10)

    def wait_log(self, c, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in c.stderr_text():
                return
            time.sleep(0.05)
        raise AssertionError(f"no '{text}' in the log: {c.stderr_text()[-2000:]}")

    def test_modules_flag_limits_what_is_loaded(self):
        c = self.mib_collector("-m", "IF-MIB")
        snmptrap(c, "-v", "2c", "", "1.3.6.1.6.3.1.1.5.3", f"{IF}.8.7", "i", "2",
                 f"{ACME}.1.1.0", "i", "5")
        (line,) = c.wait_lines(1)
        vb = by_oid(line)
        self.assertEqual(vb[f"{IF}.8.7"]["enum"], "down")
        self.assertNotIn("name", vb[f"{ACME}.1.1.0"])  # ACME-SMI was not asked for

    def test_without_mibs_nothing_changes(self):
        c = self.collector()
        snmptrap(c, "-v", "2c", "", "1.3.6.1.6.3.1.1.5.3", f"{IF}.8.7", "i", "2")
        (line,) = c.wait_lines(1)
        self.assertNotIn("trap_name", line)
        self.assertEqual(line["varbinds"],
                         [{"oid": f"{IF}.8.7", "type": "Integer32", "value": 2}])
        with open(c.out) as f:
            text = f.read()
        for member in ('"name"', '"enum"', '"bits"', '"display"', '"trap_name"'):
            self.assertNotIn(member, text)
        m = c.metrics()
        self.assertEqual(m['stormtrap_mib_modules{state="loaded"}'], 0)
        self.assertEqual(m["stormtrap_mib_unknown_oids_total"], 0)


class Check(unittest.TestCase):
    """-T loads the MIBs: broken modules are warnings, a failed load is a problem."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stormtrap-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.base = ["-l", f"udp://127.0.0.1:{free_udp_port()}", "-o",
                     f"file:{self.tmp}/out.jsonl"]

    def test_broken_modules_do_not_fail_check(self):
        vendor = os.path.join(self.tmp, "vendor")
        os.makedirs(vendor)
        for name, text in (("acme.txt", ACME_SMI), ("acme-broken.mib", ACME_BROKEN)):
            with open(os.path.join(vendor, name), "w") as f:
                f.write(text)
        r = translate(*self.base, *mib_flags(vendor), "-T")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{vendor}/acme-broken.mib:14:", r.stderr)
        self.assertIn("mibs.dirs:", r.stdout)

    def test_modules_flag_takes_net_snmp_forms(self):
        """-m as snmptrapd's command lines write it: a '+', modules split
        on ':' (Net-SNMP's separator) as well as ',', ALL in any case."""
        vendor = os.path.join(self.tmp, "vendor")
        os.makedirs(vendor)
        with open(os.path.join(vendor, "acme.txt"), "w") as f:
            f.write(ACME_SMI)
        oids = (f"{IF}.8.7", f"{ACME}.1.3.0")
        want = f"{IF}.8.7\tIF-MIB::ifOperStatus.7\n{ACME}.1.3.0\tACME-SMI::acmeState.0\n"
        for modules in ("+IF-MIB:ACME-SMI", "ACME-SMI,IF-MIB:", "all"):
            r = translate(*mib_flags(vendor), "-m", modules, "--translate", *oids)
            self.assertEqual((r.returncode, r.stdout), (0, want), f"-m {modules}: {r.stderr}")
        r = translate(*mib_flags(vendor), "-m", "IF-MIB", "--translate", *oids)
        self.assertEqual(r.returncode, 2, r.stderr)
        # a flag with no item in it is an error naming the key, as -l "" is,
        # not a flag silently ignored
        for flag, value, key in (("-M", "", "mibs.dirs"), ("-M", ":", "mibs.dirs"),
                                 ("-m", ",", "mibs.modules"), ("-m", "+", "mibs.modules")):
            r = translate(*self.base, *mib_flags(vendor), flag, value, "-T")
            self.assertEqual(r.returncode, 1, f"{flag} {value!r}: {r.stderr}")
            self.assertIn(f"{key}: empty list item", r.stderr)

    def test_no_mib_file_fails_check_and_start(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        r = translate(*self.base, "-M", empty, "-T")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("mibs.dirs: cannot load MIBs", r.stderr)
        r = translate(*self.base, "-M", empty)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("mibs.dirs: cannot load MIBs", r.stderr)
        r = translate(*self.base, "-m", "IF-MIB", "-T")
        self.assertEqual(r.returncode, 1)
        self.assertIn("mibs.modules: names MIB modules but mibs.dirs is empty", r.stderr)
        r = translate("--translate", "1.3.6")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no MIBs to translate with", r.stderr)


if __name__ == "__main__":
    main()
