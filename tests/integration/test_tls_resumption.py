"""Session resumption across workers, reloads and key rotations (issue 13.3), with real
clients: python's ssl session reuse and `openssl s_client -reconnect`. The master makes the
ticket keys and shares them with every worker, so a ticket from one worker resumes on any
other, still after a SIGHUP reload, and no longer once two rotations have passed."""

import json
import re
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import free_port, main, scaled
from master_harness import MasterProcess, wait_for
from tls_pki import OPENSSL, TestCA
import test_upgrade


class Client:
    """HTTPS GETs over fresh connections, optionally resuming `session`."""

    def __init__(self, port, ca, name="site.test", max_version=None):
        self.port = port
        self.name = name
        self.ctx = ssl.create_default_context(cafile=ca)
        if max_version:
            self.ctx.maximum_version = max_version

    def get(self, path="/healthz", session=None):
        """Returns (status line, body, resumed, session)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=scaled(5)) as raw:
            with self.ctx.wrap_socket(raw, server_hostname=self.name, session=session) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(),
                                                                                       self.name.encode()))
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                return head.split(b"\r\n", 1)[0].decode(), body, s.session_reused, s.session


class Resumption(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.cert, cls.key = cls.ca.issue("site", ["site.test"])

    @classmethod
    def tearDownClass(cls):
        cls.ca.cleanup()

    def server(self, rotation="12h", workers=4):
        port = free_port()
        self.tls_port = free_port()
        return MasterProcess(config={"workers": workers, "tls": {"ticket_key_rotation": rotation},
                                     "listen": ["127.0.0.1:%d" % port,
                                                {"address": "127.0.0.1:%d" % self.tls_port,
                                                 "tls": {"certificate": self.cert, "key": self.key}}]},
                             port=port)

    def test_every_reconnect_resumes_on_any_worker_and_after_a_reload(self):
        with self.server() as m:
            for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
                c = Client(self.tls_port, self.ca.certificate, max_version=version)
                status, body, resumed, session = c.get()
                self.assertEqual(status, "HTTP/1.1 200 OK")
                self.assertFalse(resumed)
                pids = set()
                for _ in range(24):
                    status, body, resumed, _ = c.get(session=session)
                    self.assertEqual(status, "HTTP/1.1 200 OK")
                    self.assertTrue(resumed, "a reconnect with a ticket made a full handshake (%s)" % version)
                    pids.add(json.loads(body)["pid"])
                self.assertGreater(len(pids), 1, "all 24 connections reached one worker: nothing shown")

                old_pids = pids
                m.signal(signal.SIGHUP)
                wait_for(lambda: m.all_ready(2 if version == ssl.TLSVersion.TLSv1_3 else 3), 10.0,
                         what="the new generation ready")
                wait_for(lambda: json.loads(c.get()[1])["pid"] not in old_pids, 10.0, what="a new worker answering")
                for _ in range(8):
                    status, body, resumed, _ = c.get(session=session)
                    self.assertTrue(resumed, "a ticket from before the reload was refused (%s)" % version)

    @unittest.skipUnless(OPENSSL, "the openssl CLI is not installed")
    def test_openssl_s_client_resumes_every_time(self):
        with self.server():
            base = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.tls_port, "-servername", "site.test",
                    "-CAfile", self.ca.certificate, "-verify_return_error"]
            # TLS 1.2: -reconnect makes five more connections with the first one's session.
            r = subprocess.run(base + ["-tls1_2", "-reconnect"], input="", capture_output=True, text=True,
                               timeout=scaled(30))
            out = r.stdout + r.stderr
            self.assertIn("Verify return code: 0 (ok)", out)
            self.assertEqual(len(re.findall(r"^Reused, TLSv1.2", out, re.M)), 5, out[-3000:])
            # TLS 1.3 tickets come after the handshake, which -reconnect does not wait for in
            # OpenSSL 3.0: save the session after a request instead, and reuse it.
            sess = self.ca.path("s_client.sess")
            request = "GET /healthz HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
            lines = []
            for flag in ["-sess_out"] + ["-sess_in"] * 4:
                r = subprocess.run(base + ["-tls1_3", "-ign_eof", flag, sess], input=request, capture_output=True,
                                   text=True, timeout=scaled(30))
                lines += re.findall(r"^(New|Reused), TLSv1.3", r.stdout, re.M)
                self.assertIn('"status":"ok"', r.stdout)
            self.assertEqual(lines, ["New"] + ["Reused"] * 4)

    def test_a_ticket_is_refused_after_two_rotations(self):
        with self.server(rotation="2s", workers=2) as m:
            def rotations():
                found = re.findall(r"session ticket key rotation (\d+)", m.log())
                return int(found[-1]) if found else 0
            c = Client(self.tls_port, self.ca.certificate)
            # Start right after a rotation, so "one rotation later" is known from the log.
            start = wait_for(lambda: rotations() or None, 10.0, what="a first rotation")
            _, _, resumed, session = c.get()
            self.assertFalse(resumed)
            self.assertTrue(c.get(session=session)[2])
            wait_for(lambda: rotations() >= start + 1, 10.0, what="one more rotation")
            self.assertTrue(c.get(session=session)[2], "refused after one rotation: the previous key must decrypt")
            wait_for(lambda: rotations() >= start + 2, 10.0, what="a second rotation")
            status, _, resumed, _ = c.get(session=session)
            self.assertEqual(status, "HTTP/1.1 200 OK")  # a full handshake instead
            self.assertFalse(resumed, "a ticket two rotations old still resumed")


class UpgradeResumption(test_upgrade.Upgrading):
    def test_a_ticket_from_before_a_binary_upgrade_still_resumes(self):
        ca = TestCA()
        self.addCleanup(ca.cleanup)
        cert, key = ca.issue("site", ["site.test"])
        port, tls_port = free_port(), free_port()
        m = self.start(config={"workers": 2, "listen": ["127.0.0.1:%d" % port, {
            "address": "127.0.0.1:%d" % tls_port, "tls": {"certificate": cert, "key": key}}]}, port=port)
        c = Client(tls_port, ca.certificate)
        _, _, resumed, session = c.get()
        self.assertFalse(resumed)
        _, new = self.upgrade_ok(m)
        for _ in range(6):
            self.assertTrue(c.get(session=session)[2], "a ticket from the old master was refused")


class Renewal(unittest.TestCase):
    """A reload after renewing a certificate in place serves the new one (new serial seen by the
    client) from the new generation on."""

    def test_a_renewed_certificate_is_served_after_a_reload(self):
        ca = TestCA()
        try:
            import shutil
            cert, key = ca.issue("first", ["site.test"])
            serving = ca.path("serving.pem")
            shutil.copy(cert, serving)
            port, tls_port = free_port(), free_port()
            cfg = {"workers": 2, "listen": ["127.0.0.1:%d" % port, {"address": "127.0.0.1:%d" % tls_port,
                                                                     "tls": {"certificate": serving, "key": key}}]}
            with MasterProcess(config=cfg, port=port) as m:
                c = Client(tls_port, ca.certificate)

                def serial():
                    with socket.create_connection(("127.0.0.1", tls_port), timeout=scaled(5)) as raw:
                        with c.ctx.wrap_socket(raw, server_hostname="site.test") as s:
                            return s.getpeercert()["serialNumber"]
                before = serial()
                self.assertEqual(before.upper(), ca.serial_of(cert).upper())
                renewed, _ = ca.issue("renewed", ["site.test"], key=key)
                shutil.copy(renewed, serving)
                self.assertEqual(serial(), before, "the running generation changed its certificate by itself")
                m.signal(signal.SIGHUP)
                wait_for(lambda: m.all_ready(2), 10.0, what="generation 2 ready")
                wait_for(lambda: serial().upper() == ca.serial_of(renewed).upper(), 10.0,
                         what="the renewed certificate served")
        finally:
            ca.cleanup()


if __name__ == "__main__":
    main()
