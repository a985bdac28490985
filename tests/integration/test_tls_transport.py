"""The TLS transport (issue 13.4, 13.6) with real clients against the real binary: curl
--cacert, python's ssl, `openssl s_client`; keep-alive, pipelining, a static file through the
user-space fallback (no kTLS here), versions, ALPN, the handshake under header_timeout, garbage
after the handshake, plain HTTP on the TLS port, many concurrent handshakes."""

import asyncio
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import free_port, main, scaled
from master_harness import MasterProcess
from tls_pki import OPENSSL, TestCA

# Long enough for 1,000 concurrent handshakes on a loaded 2-core machine (they count from the
# connect too), short enough for the slowloris case to be quick; scaled for sanitizer builds.
HEADER_TIMEOUT_S = int(scaled(4))
CURL = shutil.which("curl")


class Transport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.cert, cls.key = cls.ca.issue("site", ["site.test"])
        cls.root = tempfile.mkdtemp(prefix="ff-tls-root-")
        cls.big = os.urandom(300 * 1024 + 17)  # several file chunks and many records
        with open(os.path.join(cls.root, "big.bin"), "wb") as f:
            f.write(cls.big)
        port = free_port()
        cls.tls_port = free_port()
        cls.server = MasterProcess([],
                                   config={"workers": 2, "header_timeout": "%ds" % HEADER_TIMEOUT_S,
                                           "routes": [{"prefix": "/ws", "handler": "ws_echo"},
                                                      {"prefix": "/plaintext", "handler": "plaintext"},
                                                      {"prefix": "/metrics", "handler": "metrics"},
                                                      {"prefix": "/", "root": cls.root}],
                                           "listen": ["127.0.0.1:%d" % port,
                                                      {"address": "127.0.0.1:%d" % cls.tls_port,
                                                       "tls": {"certificate": cls.cert, "key": cls.key}}]},
                                   port=port)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        cls.ca.cleanup()
        shutil.rmtree(cls.root, ignore_errors=True)

    def tls(self, **kw):
        ctx = ssl.create_default_context(cafile=self.ca.certificate)
        for k, v in kw.items():
            setattr(ctx, k, v)
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=scaled(5))
        return ctx.wrap_socket(raw, server_hostname="site.test")

    @staticmethod
    def read_responses(s, count):
        data = b""
        while data.count(b"HTTP/1.1 ") < count or not data.endswith(b"Hello, World!"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def test_curl_keep_alive_reuses_one_connection(self):
        if not CURL:
            self.skipTest("curl is not installed")
        url = "https://site.test:%d/plaintext" % self.tls_port
        r = subprocess.run([CURL, "-sv", "--cacert", self.ca.certificate, "--resolve",
                            "site.test:%d:127.0.0.1" % self.tls_port, url, url], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"Hello, World!Hello, World!")
        self.assertIn(b"Re-using existing connection", r.stderr)
        self.assertIn(b"ALPN: server accepted http/1.1", r.stderr)

    def test_pipelined_requests_come_back_in_order(self):
        with self.tls() as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" * 16)
            data = self.read_responses(s, 16)
            self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 16)
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")  # still alive afterwards
            self.assertIn(b"200 OK", self.read_responses(s, 1))

    def test_a_static_file_arrives_whole_over_tls(self):
        with self.tls() as s:
            for _ in range(2):  # and the connection stays usable after the file
                s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while b"\r\n\r\n" not in data:
                    data += s.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                self.assertIn(b"200 OK", head)
                while len(body) < len(self.big):
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, "closed after %d of %d bytes" % (len(body), len(self.big)))
                    body += chunk
                self.assertEqual(body, self.big)

    def test_versions_and_alpn_with_openssl_s_client(self):
        for flag, version in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
            r = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.tls_port, flag,
                                "-servername", "site.test", "-alpn", "http/1.1", "-CAfile", self.ca.certificate,
                                "-ign_eof"], input=b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               capture_output=True, timeout=30)
            out = r.stdout.decode(errors="replace")
            self.assertIn("Protocol  : " + version if version == "TLSv1.2" else version, out)
            self.assertIn("ALPN protocol: http/1.1", out)
            self.assertIn("Verify return code: 0 (ok)", out)
            self.assertIn("Hello, World!", out)
        for flag in ("-tls1", "-tls1_1"):
            r = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.tls_port, flag,
                                "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, "%s was accepted" % flag)
        r = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.tls_port, "-tls1_2", "-cipher",
                            "AES128-SHA"], input=b"", capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, "a suite without forward secrecy was accepted")

    def test_a_websocket_upgrade_over_tls_is_refused_not_sent_in_clear(self):
        # The hijacked byte stream bypasses the record layer: until it does not, 501 and close.
        with self.tls() as s:
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 501 "), data[:200])
        with self.tls() as s:  # the plain routes still answer on the TLS port
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", self.read_responses(s, 1))

    def test_plain_http_on_the_tls_port_gets_nginx_answer(self):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=scaled(5)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data)
        self.assertTrue(data.endswith(b"The plain HTTP request was sent to HTTPS port\n"), data)
        self.assertLess(time.monotonic() - t0, scaled(2))

    def test_half_a_client_hello_is_cut_at_header_timeout(self):
        ctx = ssl.create_default_context()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="site.test")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = out.read()
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=scaled(HEADER_TIMEOUT_S + 5)) as s:
            t0 = time.monotonic()
            s.sendall(hello[:len(hello) // 2])
            self.assertEqual(s.recv(100), b"")
            took = time.monotonic() - t0
        self.assertGreater(took, HEADER_TIMEOUT_S - 1.1)  # the deadline counts from connect (±sweep)
        self.assertLess(took, HEADER_TIMEOUT_S + scaled(2))

    def test_garbage_after_the_handshake_gets_an_alert_and_close(self):
        # TLS 1.2: its alert records show their type (1.3 hides it inside application data).
        with self.tls(maximum_version=ssl.TLSVersion.TLSv1_2) as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", self.read_responses(s, 1))
            raw = socket.socket(fileno=os.dup(s.fileno()))
            raw.settimeout(scaled(5))
            raw.sendall(b"\x17\x03\x03\x00\x20" + b"\xaa" * 32)  # an application record nobody sealed
            data = raw.recv(100)
            self.assertEqual(data[:1], b"\x15", "expected an alert record, got %r" % data)
            while raw.recv(100):  # then the close
                pass
            raw.close()

    def test_mutated_client_hellos_never_hang_or_kill_a_worker(self):
        ctx = ssl.create_default_context()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="site.test")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        hello = bytearray(out.read())
        import random
        rnd = random.Random(13)
        for i in range(150):
            m = bytearray(hello)
            for _ in range(rnd.randint(1, 8)):
                m[rnd.randrange(5, len(m))] = rnd.randrange(256)
            if i % 5 == 0:
                m = m[:rnd.randrange(6, len(m))] + bytes(rnd.randrange(256) for _ in range(20))
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=scaled(5)) as s:
                s.sendall(bytes(m))
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(4096):
                        pass
                except ConnectionResetError:
                    pass
        with self.tls() as s:  # still serving
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", self.read_responses(s, 1))

    def metrics(self):
        """Sums of the TLS counters over every worker, from /metrics on the plain port."""
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.server.port, timeout=scaled(5)).read()
        sums = {}
        for line in body.decode().splitlines():
            m = re.match(r'fastfork_(tls_\w+?)(?:_total)?\{worker="\d+",\w+="([^"]+)"\} (\d+)$', line)
            if m:
                key = (m.group(1), m.group(2))
                sums[key] = sums.get(key, 0) + int(m.group(3))
        return sums

    def test_handshakes_versions_ciphers_and_failures_are_counted(self):
        before = self.metrics()
        with self.tls(maximum_version=ssl.TLSVersion.TLSv1_2) as s:
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            self.read_responses(s, 1)
            cipher = s.cipher()[0]
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=scaled(5)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            while s.recv(4096):
                pass
        subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.tls_port, "-tls1_1", "-cipher",
                        "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True, timeout=30)
        deadline = time.monotonic() + scaled(3)  # the counters are read from shm: no delay, but be fair
        while True:
            after = self.metrics()
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            if delta.get(("tls_handshakes", "failed"), 0) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertGreaterEqual(delta[("tls_handshakes", "full")], 1)
        self.assertGreaterEqual(delta[("tls_versions", "TLSv1.2")], 1)
        self.assertGreaterEqual(delta[("tls_ciphers", cipher)], 1, cipher)
        self.assertGreaterEqual(delta[("tls_handshake_failures", "plain_http")], 1)
        self.assertGreaterEqual(delta[("tls_handshake_failures", "protocol_version")], 1)
        self.assertEqual(after[("tls_ktls", "tx")], 0)  # no kTLS on this transport yet

    def test_a_thousand_concurrent_handshakes(self):
        ctx = ssl.create_default_context(cafile=self.ca.certificate)

        async def one():
            r, w = await asyncio.open_connection("127.0.0.1", self.tls_port, ssl=ctx, server_hostname="site.test")
            w.write(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = await r.read()
            w.close()
            return True if data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"Hello, World!") else data[:300]

        async def all_of_them():
            return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(1000)), return_exceptions=True),
                                          scaled(60))

        results = asyncio.run(all_of_them())
        failures = [r for r in results if r is not True]
        self.assertEqual(failures, [], "%d of 1000 failed: %r" % (len(failures), failures[:3]))


if __name__ == "__main__":
    main()
