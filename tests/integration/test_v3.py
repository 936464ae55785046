# SPDX-License-Identifier: Apache-2.0
"""SNMPv3 end to end through the real binary: Net-SNMP's snmptrap and
snmpinform at every auth/priv combination from engines the collector has
never seen, pysnmp for 3DES, discovery for informs, and every refusal with
its usmStats counter."""
import os
import random
import time

from harness import CollectorTest, main, net_snmp, pysnmp

AUTHS = ["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"]
PRIVS = [None, "DES", "AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"]
OUR_ENGINE = "800000000473746f726d74726170"  # snmp.engine_id default


def user_name(auth, priv):
    return f"u_{auth}_{priv or 'none'}".replace("-", "")


def users_file():
    lines = ["# every auth x priv, unbound: keys learned per engine",
             "createUser nobody"]
    for a in AUTHS:
        for p in PRIVS:
            line = f"createUser {user_name(a, p)} {a} authpass-{a}"
            if p:
                line += f" {p} privpass-{p}"
            lines.append(line)
    lines.append("createUser u_3des SHA authpass-3des 3DES privpass-3des")
    lines.append("createUser -e 0x8000000001aaaa0001 alice SHA alice-on-engine-1")
    lines.append("createUser -e 0x8000000001aaaa0002 alice SHA alice-on-engine-2")
    return "\n".join(lines) + "\n"


def fresh_engine(rnd=random.Random(os.getpid())):
    return "0x80001f88" + "".join(f"{rnd.randrange(256):02x}" for _ in range(6))


def v3_args(auth, priv, *, user=None, auth_pass=None, priv_pass=None, level=None):
    args = ["-v", "3", "-u", user or user_name(auth, priv)]
    if auth is None:
        return args + ["-l", "noAuthNoPriv"]
    args += ["-a", auth, "-A", auth_pass or f"authpass-{auth}"]
    if priv:
        args += ["-x", priv, "-X", priv_pass or f"privpass-{priv}"]
    return args + ["-l", level or ("authPriv" if priv else "authNoPriv")]


class V3(CollectorTest):
    def setUp(self):
        self.c = self.collector(users=users_file())

    def trap(self, args, engine=None, oid="1.3.6.1.4.1.8072.2.3.0.1", extra=(), boots_time=None):
        cmd = list(args) + ["-e", engine or fresh_engine()]
        if boots_time:
            cmd += ["-Z", boots_time]
        cmd += [self.c.target(), "", oid, *extra]
        r = net_snmp("snmptrap", *cmd)
        self.assertEqual(r.returncode, 0, r.stderr)

    def drops(self, reason):
        return self.c.metrics()[f'stormtrap_drops_total{{reason="{reason}"}}']

    def test_every_auth_and_priv_from_unseen_engines(self):
        expect = {}
        for a in AUTHS:
            for p in PRIVS:
                engine = fresh_engine()
                tag = f"{a}/{p}"
                self.trap(v3_args(a, p), engine=engine,
                          extra=["1.3.6.1.4.1.99.1", "s", tag])
                expect[tag] = (user_name(a, p), engine[2:],
                               "authPriv" if p else "authNoPriv")
        self.trap(v3_args(None, None, user="nobody"),
                  extra=["1.3.6.1.4.1.99.1", "s", "noauth"])
        lines = self.c.wait_lines(len(expect) + 1, timeout=30)
        got = {l["varbinds"][-1]["value"]: l for l in lines}
        for tag, (user, engine, level) in expect.items():
            self.assertIn(tag, got, f"no line for {tag}")
            l = got[tag]
            self.assertEqual((l["version"], l["user"], l["engine_id"], l["security_level"]),
                             ("v3", user, engine, level), tag)
            # snmptrap puts its own snmpEngineID here, not the -e one
            self.assertRegex(l["context_engine_id"], r"^([0-9a-f]{2}){5,32}$")
            self.assertEqual(l["context_name"], "")
            self.assertEqual(l["trap_oid"], "1.3.6.1.4.1.8072.2.3.0.1")
        self.assertEqual(got["noauth"]["security_level"], "noAuthNoPriv")
        m = self.c.metrics()
        self.assertEqual(m['stormtrap_notifications_total{version="v3",pdu="trap"}'],
                         len(expect) + 1)
        self.assertGreaterEqual(m["stormtrap_usm_engines"], len(expect))

    def test_3des_from_pysnmp(self):
        script = f"""
from pysnmp.hlapi import *
eng = SnmpEngine(OctetString(hexValue='80001f8801020304aabbccdd'))
ei, es, ex, vbs = next(sendNotification(eng,
    UsmUserData('u_3des', 'authpass-3des', 'privpass-3des',
                authProtocol=usmHMACSHAAuthProtocol, privProtocol=usm3DESEDEPrivProtocol),
    UdpTransportTarget(('127.0.0.1', {self.c.port})), ContextData(), 'trap',
    NotificationType(ObjectIdentity('1.3.6.1.6.3.1.1.5.1')).addVarBinds(
        ('1.3.6.1.4.1.99.1', OctetString('3des')))))
if ei:
    raise SystemExit(str(ei))
"""
        r = pysnmp(script)
        self.assertEqual(r.returncode, 0, r.stderr)
        (l,) = self.c.wait_lines(1)
        self.assertEqual((l["user"], l["security_level"], l["engine_id"]),
                         ("u_3des", "authPriv", "80001f8801020304aabbccdd"))
        self.assertEqual(l["varbinds"][-1]["value"], "3des")

    def test_informs_discover_our_engine(self):
        for a, p in [("SHA", None), ("SHA-256", "AES"), ("MD5", "DES"), ("SHA-512", "AES-256-C")]:
            r = net_snmp("snmpinform", *v3_args(a, p), "-t", "2", "-r", "1", self.c.target(),
                         "", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.4.1.99.1", "s", f"{a}/{p}")
            self.assertEqual(r.returncode, 0, f"{a}/{p}: {r.stderr}")
        lines = self.c.wait_lines(4)
        for l in lines:
            self.assertEqual(l["pdu"], "inform")
            self.assertEqual(l["engine_id"], OUR_ENGINE)
        m = self.c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 4)
        self.assertGreaterEqual(m["stormtrap_reports_sent_total"], 4)  # discovery Reports

    def test_wrong_credentials_are_counted_and_not_emitted(self):
        self.trap(v3_args("SHA", None, auth_pass="not-the-password"))
        self.trap(v3_args("SHA", "AES", priv_pass="not-the-priv-password"))
        self.trap(v3_args(None, None, user=user_name("SHA", None)))  # noAuth for an auth user
        self.trap(v3_args("SHA", "AES", level="authNoPriv"))  # below the user's level
        self.trap(v3_args("SHA", None, user="mallory"))
        time.sleep(0.5)
        self.assertEqual(self.c.lines(), [])
        self.assertEqual(self.drops("usmStatsWrongDigests"), 1)
        self.assertEqual(self.drops("usmStatsDecryptionErrors"), 1)
        self.assertEqual(self.drops("usmStatsUnsupportedSecLevels"), 2)
        self.assertEqual(self.drops("usmStatsUnknownUserNames"), 1)

    def test_inform_with_wrong_password_is_not_acked(self):
        r = net_snmp("snmpinform", *v3_args("SHA", "AES", auth_pass="wrong-password"),
                     "-t", "1", "-r", "0", self.c.target(), "", "1.3.6.1.6.3.1.1.5.4")
        self.assertNotEqual(r.returncode, 0)
        time.sleep(0.3)
        self.assertEqual(self.c.lines(), [])
        m = self.c.metrics()
        self.assertEqual(m["stormtrap_informs_acked_total"], 0)
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsWrongDigests"}'], 1)

    def test_same_name_bound_to_two_engines(self):
        e1, e2 = "0x8000000001aaaa0001", "0x8000000001aaaa0002"
        self.trap(v3_args("SHA", None, user="alice", auth_pass="alice-on-engine-1"), engine=e1,
                  extra=["1.3.6.1.4.1.99.1", "s", "e1"])
        self.trap(v3_args("SHA", None, user="alice", auth_pass="alice-on-engine-2"), engine=e2,
                  extra=["1.3.6.1.4.1.99.1", "s", "e2"])
        # engine 1's key from engine 2, and a third engine: refused
        self.trap(v3_args("SHA", None, user="alice", auth_pass="alice-on-engine-1"), engine=e2)
        self.trap(v3_args("SHA", None, user="alice", auth_pass="alice-on-engine-1"))
        lines = self.c.wait_lines(2)
        time.sleep(0.3)
        lines = self.c.lines()
        self.assertEqual(sorted(l["varbinds"][-1]["value"] for l in lines), ["e1", "e2"])
        m = self.c.metrics()
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsWrongDigests"}'], 1)
        self.assertEqual(m['stormtrap_drops_total{reason="usmStatsUnknownUserNames"}'], 1)

    def test_replay_outside_the_window_is_refused_under_learn(self):
        engine = fresh_engine()
        args = v3_args("SHA", "AES")
        # Each snmptrap sends from a new source port, so the kernel may hand
        # two of them to different ingest threads (SO_REUSEPORT hashes the
        # port too), and datagrams that wait in two rings at once may be
        # processed in either order: order is kept per sender socket only.
        # Each trap is therefore sent once the one before it was processed.
        self.trap(args, engine=engine, boots_time="7,100000", extra=["1.3.6.1.4.1.99.1", "s", "a"])
        self.c.wait_lines(1)
        self.trap(args, engine=engine, boots_time="7,100050", extra=["1.3.6.1.4.1.99.1", "s", "b"])
        self.c.wait_lines(2)
        # 400 s in the past: outside the 150 s window
        self.trap(args, engine=engine, boots_time="7,99600", extra=["1.3.6.1.4.1.99.1", "s", "c"])
        # an older boot count: refused too
        self.trap(args, engine=engine, boots_time="6,100050", extra=["1.3.6.1.4.1.99.1", "s", "d"])
        deadline = time.time() + 10
        while self.drops("usmStatsNotInTimeWindows") < 2 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual([l["varbinds"][-1]["value"] for l in self.c.lines()], ["a", "b"])
        self.assertEqual(self.drops("usmStatsNotInTimeWindows"), 2)


if __name__ == "__main__":
    main()
