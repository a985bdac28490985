"""HTTP/1.1 basics against the real server: curl, http.client and raw bytes (issue 3)."""

import http.client
import os
import socket
import struct
import threading
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ServerProcess, connect, http_get, main, read_response, read_until_close,  # noqa: E402
                     request_bytes, scaled, send_raw)

HELLO = b"Hello, World!"
JSON = b'{"message":"Hello, World!"}'


class HttpBasics(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        # A small max_body so that 413 needs only a small request.
        cls.server = ServerProcess(["--max-body", "64KiB"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        if problem:
            raise AssertionError(problem)

    @property
    def port(self):
        return self.server.port

    def assert_ordinary_headers(self, r):
        self.assertEqual(r.header("Server"), "fastfork")
        self.assertIsNotNone(r.header("Date"))

    # ------------------------------------------------ curl

    def test_curl_get(self):
        out = subprocess.run(["curl", "-sS", "-i", "--max-time", str(scaled(5)),
                              "http://127.0.0.1:%d/plaintext" % self.port],
                             capture_output=True, timeout=scaled(10))
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, body = out.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertIn(b"content-type: text/plain", head.lower())
        self.assertIn(b"server: fastfork", head.lower())
        self.assertEqual(body, HELLO)

    def test_curl_post_and_json(self):
        out = subprocess.run(["curl", "-sS", "--max-time", str(scaled(5)), "-w", "\\n%{http_code} %{content_type}",
                              "-d", "a=1&b=2", "http://127.0.0.1:%d/json" % self.port],
                             capture_output=True, timeout=scaled(10))
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, meta = out.stdout.rpartition(b"\n")
        self.assertEqual(body, JSON)
        self.assertEqual(meta.split(b" ")[0], b"200")
        self.assertTrue(meta.split(b" ", 1)[1].startswith(b"application/json"), meta)

    def test_curl_keepalive_reuses_connection(self):
        url = "http://127.0.0.1:%d/plaintext" % self.port
        out = subprocess.run(["curl", "-sS", "-v", "--max-time", str(scaled(5)), url, url, url],
                             capture_output=True, timeout=scaled(10))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, HELLO * 3)
        self.assertIn(b"Re-using existing connection", out.stderr)

    # ------------------------------------------------ http.client

    def test_get_routes(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(5))
        try:
            for path, status, body, ctype in [("/plaintext", 200, HELLO, "text/plain"),
                                              ("/json", 200, JSON, "application/json"),
                                              ("/nope", 404, None, "text/plain"),
                                              ("/sleep?ms=10", 200, b"slept 10 ms\n", "text/plain")]:
                conn.request("GET", path)
                r = conn.getresponse()
                got = r.read()
                self.assertEqual(r.status, status, path)
                if body is not None:
                    self.assertEqual(got, body, path)
                self.assertTrue(r.getheader("Content-Type", "").startswith(ctype), (path, r.getheaders()))
                self.assertEqual(r.getheader("Server"), "fastfork")
                self.assertIsNotNone(r.getheader("Date"))
                self.assertEqual(int(r.getheader("Content-Length")), len(got))
        finally:
            conn.close()

    def test_healthz(self):
        h = self.server.healthz()
        self.assertEqual(h["status"], "ok")
        self.assertEqual(h["pid"], self.server.pid)
        self.assertFalse(h["draining"])
        for key in ("worker", "generation", "fibers_live", "fibers_idle", "connections_active", "requests"):
            self.assertIn(key, h)
        self.assertGreaterEqual(h["fibers_live"], 1)  # this request's own fiber

    def test_post_content_length(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(5))
        try:
            for size in (1, 1000, 60000):
                conn.request("POST", "/plaintext", body=b"x" * size, headers={"Content-Type": "text/plain"})
                r = conn.getresponse()
                self.assertEqual((r.status, r.read()), (200, HELLO), size)
            # the connection is still usable after bodies
            conn.request("GET", "/json")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, JSON))
        finally:
            conn.close()

    def test_post_chunked(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(5))
        try:
            chunks = [b"hello", b" ", b"x" * 5000, b"world"]
            conn.request("POST", "/plaintext", body=iter(chunks), encode_chunked=True,
                         headers={"Transfer-Encoding": "chunked"})
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, HELLO))
            conn.request("GET", "/plaintext")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, HELLO))
        finally:
            conn.close()

    def test_post_chunked_raw_with_extension_and_trailer(self):
        s = send_raw(self.port, b"POST /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
                                + request_bytes("/json"))
        with s:
            r1 = read_response(s)
            r2 = read_response(s)
            self.assertEqual((r1.status, r1.body), (200, HELLO))
            self.assertEqual((r2.status, r2.body), (200, JSON))

    # ------------------------------------------------ raw sockets

    def test_head_has_no_body(self):
        # The GET pipelined behind the HEAD proves that no body bytes followed the HEAD response.
        with send_raw(self.port, request_bytes("/plaintext", method="HEAD") + request_bytes("/json")) as s:
            r = read_response(s, head_request=True)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Length"), str(len(HELLO)))
            self.assertEqual(r.body, b"")
            r2 = read_response(s)
            self.assertEqual((r2.status, r2.body), (200, JSON), "bytes after the HEAD response: %r" % r2.raw)

    def test_http10_without_keepalive_closes(self):
        with send_raw(self.port, b"GET /plaintext HTTP/1.0\r\n\r\n") as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))
            self.assertFalse(r.has_token("Connection", "keep-alive"), r)
            self.assertEqual(read_until_close(s, 3), b"")

    def test_http10_with_keepalive_stays_open(self):
        req = b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        with send_raw(self.port, req) as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))
            self.assertTrue(r.has_token("Connection", "keep-alive"), r)
            s.sendall(b"GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, JSON))
            self.assertTrue(r.has_token("Connection", "keep-alive"), r)
            # without the token the next one closes
            s.sendall(b"GET /plaintext HTTP/1.0\r\n\r\n")
            r = read_response(s)
            self.assertEqual(r.status, 200)
            self.assertEqual(read_until_close(s, 3), b"")

    def test_http11_connection_close(self):
        with send_raw(self.port, request_bytes("/plaintext", headers=[("Connection", "close")])) as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s, 3), b"")

    def test_100_pipelined_requests_in_one_write(self):
        paths = [("/plaintext", 200, HELLO), ("/json", 200, JSON), ("/nope", 404, None)]
        expected = [paths[i % 3] for i in range(100)]
        data = b"".join(request_bytes(p) for p, _, _ in expected)
        with send_raw(self.port, data) as s:
            for i, (path, status, body) in enumerate(expected):
                r = read_response(s)
                self.assertEqual(r.status, status, "response %d (%s): %r" % (i, path, r))
                if body is not None:
                    self.assertEqual(r.body, body, "response %d (%s)" % (i, path))
            # nothing extra, and the connection is still alive
            s.sendall(request_bytes("/plaintext"))
            self.assertEqual(read_response(s).body, HELLO)

    def test_3000_pipelined_requests_read_concurrently(self):
        # Far more than one read buffer: compaction and growth of the input buffer, many batches.
        n = 3000
        paths = [("/plaintext", HELLO), ("/json", JSON)]
        data = b"".join(request_bytes(paths[i % 2][0]) for i in range(n))
        with connect(self.port) as s:
            errors = []

            def writer():
                try:
                    s.sendall(data)
                except OSError as e:
                    errors.append(e)

            t = threading.Thread(target=writer, daemon=True)
            t.start()
            for i in range(n):
                r = read_response(s, timeout=10)
                self.assertEqual((r.status, r.body), (200, paths[i % 2][1]), "response %d" % i)
            t.join(scaled(5))
            self.assertEqual(errors, [])

    def test_pipeline_behind_a_sleeping_handler(self):
        # The first handler suspends with its views pinned into the read buffer while the rest of
        # the pipeline keeps arriving: the server must pause reading, not lose or reorder input.
        n = 2000
        data = request_bytes("/sleep?ms=300") + b"".join(request_bytes("/plaintext" if i % 2 else "/nope")
                                                        for i in range(n))
        with send_raw(self.port, data) as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, b"slept 300 ms\n"))
            for i in range(n):
                r = read_response(s, timeout=10)
                self.assertEqual(r.status, 200 if i % 2 else 404, "response %d: %r" % (i, r))

    def test_connection_close_request_ends_the_pipeline(self):
        # RFC 9112 §9.6: after a request with Connection: close, later requests are not answered.
        data = request_bytes("/plaintext", headers=[("Connection", "close")]) + request_bytes("/json")
        with send_raw(self.port, data) as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s, 4), b"")

    def test_large_heads_within_limits(self):
        # Heads close to max_head (16 KiB) grow the read buffer; several pipelined, and slowly.
        big = b"GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 15000 + b"\r\n\r\n"
        many = (b"GET /json HTTP/1.1\r\nHost: a\r\n"
                + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 700) for i in range(20)) + b"\r\n")
        with send_raw(self.port, big * 3 + many) as s:
            self.assertEqual([read_response(s).status for _ in range(4)], [200, 200, 200, 200])
        with connect(self.port) as s:
            for i in range(0, len(big), 1000):
                s.sendall(big[i:i + 1000])
                time.sleep(0.002)
            self.assertEqual(read_response(s).body, HELLO)

    def test_query_string_and_absolute_path(self):
        with send_raw(self.port, request_bytes("/plaintext?a=1&b=%20") + request_bytes("/sleep?ms=1&x=y")) as s:
            self.assertEqual(read_response(s).body, HELLO)
            self.assertEqual(read_response(s).body, b"slept 1 ms\n")

    def test_chunked_body_one_byte_at_a_time(self):
        data = (b"POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\nA;name=value\r\n0123456789\r\n0\r\n\r\n")
        with connect(self.port) as s:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.003)
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, JSON))
            s.sendall(request_bytes("/plaintext"))
            self.assertEqual(read_response(s).body, HELLO)

    def test_pipelined_requests_with_bodies(self):
        data = (request_bytes("/plaintext", method="POST", body=b"abc")
                + b"POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                + request_bytes("/nope"))
        with send_raw(self.port, data) as s:
            self.assertEqual([read_response(s).status for _ in range(3)], [200, 200, 404])

    def test_request_one_byte_at_a_time(self):
        data = request_bytes("/json", headers=[("User-Agent", "slow")])
        with connect(self.port) as s:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.005)
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, JSON))

    def test_post_body_one_byte_at_a_time(self):
        body = b"0123456789" * 3
        data = request_bytes("/plaintext", method="POST", body=body)
        with connect(self.port) as s:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.003)
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))

    def test_expect_100_continue(self):
        head = (b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\n\r\n")
        with send_raw(self.port, head) as s:
            interim = read_response(s)
            self.assertEqual(interim.status, 100, interim)
            self.assertTrue(interim.raw.startswith(b"HTTP/1.1 100 Continue\r\n"), interim.raw)
            s.sendall(b"hello")
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))

    def test_expect_100_continue_refused_when_body_too_large(self):
        # Content-Length already exceeds max_body (64 KiB here): the final 413 must come instead
        # of 100 Continue, or the client uploads a body that is only thrown away (RFC 9110 §10.1.1:
        # a server that will refuse the request "MAY respond with a final status code").
        head = (b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
                b"Expect: 100-continue\r\n\r\n")
        with send_raw(self.port, head) as s:
            r = read_response(s)
            self.assertEqual(r.status, 413, "expected 413 without 100 Continue, got %r" % r)
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s, 4), b"")

    def test_expect_100_continue_via_curl(self):
        out = subprocess.run(["curl", "-sS", "-v", "--max-time", str(scaled(5)), "-H", "Expect: 100-continue",
                              "--data-binary", "@-", "http://127.0.0.1:%d/plaintext" % self.port],
                             input=b"y" * 100, capture_output=True, timeout=scaled(10))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, HELLO)
        self.assertIn(b"HTTP/1.1 100 Continue", out.stderr)

    def test_client_half_close_gets_full_response(self):
        for path, body in [("/plaintext", HELLO), ("/sleep?ms=200", b"slept 200 ms\n")]:
            with send_raw(self.port, request_bytes(path)) as s:
                s.shutdown(socket.SHUT_WR)
                r = read_response(s)
                self.assertEqual((r.status, r.body), (200, body), path)
                self.assertEqual(read_until_close(s, 3), b"", path)

    def test_client_half_close_after_pipelined_requests(self):
        with send_raw(self.port, request_bytes("/sleep?ms=100") + request_bytes("/json")) as s:
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(read_response(s).status, 200)
            self.assertEqual(read_response(s).body, JSON)
            self.assertEqual(read_until_close(s, 3), b"")

    def test_parser_errors_answer_and_close(self):
        long_target = "/" + "a" * 9000
        cases = [
            ("content-length with transfer-encoding", 400,
             b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"0\r\n\r\n"),
            ("bad content-length", 400, b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nx"),
            ("negative content-length", 400, b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
            ("conflicting content-length", 400,
             b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx"),
            ("obs-fold", 400, b"GET /plaintext HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
            ("space before colon", 400, b"GET /plaintext HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"),
            ("bare LF", 400, b"GET /plaintext HTTP/1.1\nHost: a\n\n"),
            ("bare LF in a header", 400, b"GET /plaintext HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n"),
            ("NUL in value", 400, b"GET /plaintext HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n"),
            ("missing Host in 1.1", 400, b"GET /plaintext HTTP/1.1\r\nX-A: b\r\n\r\n"),
            ("duplicate Host", 400, b"GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ("garbage request line", 400, b"HELLO\r\n\r\n"),
            ("bad chunk size", 400,
             b"POST /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
            ("request line too long", 414, ("GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % long_target).encode()),
            ("head too large", 431, b"GET /plaintext HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n"),
            ("too many headers", 431, b"GET /plaintext HTTP/1.1\r\nHost: a\r\n"
             + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n"),
            ("body too large", 413, b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"
             + b"z" * 100000),
            ("chunked body too large", 413, b"POST /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
             + (b"4000\r\n" + b"z" * 0x4000 + b"\r\n") * 6 + b"0\r\n\r\n"),
            ("transfer-encoding gzip", 501,
             b"POST /plaintext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
            ("HTTP/2.0", 505, b"GET /plaintext HTTP/2.0\r\nHost: a\r\n\r\n"),
        ]
        for name, status, data in cases:
            with self.subTest(name):
                with send_raw(self.port, data) as s:
                    r = read_response(s)
                    self.assertEqual(r.status, status, "%s: %r" % (name, r))
                    self.assertTrue(r.has_token("Connection", "close"), "%s: %r" % (name, r))
                    self.assert_ordinary_headers(r)
                    rest = read_until_close(s, 4)
                    self.assertEqual(rest, b"", "%s: bytes after the error response" % name)

    def test_error_after_good_pipelined_request(self):
        # The good request is answered, then the bad one gets 400 and the connection closes.
        with send_raw(self.port, request_bytes("/plaintext") + b"GET /x HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n") as s:
            r1 = read_response(s)
            self.assertEqual((r1.status, r1.body), (200, HELLO))
            r2 = read_response(s)
            self.assertEqual(r2.status, 400, r2)
            self.assertTrue(r2.has_token("Connection", "close"), r2)
            self.assertEqual(read_until_close(s, 4), b"")

    def test_server_survives_abrupt_clients(self):
        # Resets mid-head, mid-body and mid-sleep must not hurt the next client.
        for data in (b"GET /plaintext HTTP/1.1\r\nHo", request_bytes("/plaintext", method="POST",
                                                                     headers=[("Content-Length", "100")]) + b"abc",
                     request_bytes("/sleep?ms=300")):
            s = send_raw(self.port, data)
            time.sleep(0.05)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST
        # And a reset while the server's write is blocked (the client pipelined without reading).
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.port))
        s.setblocking(False)
        data = request_bytes("/json") * 200000
        sent = 0
        deadline = time.monotonic() + 1.0
        while sent < len(data) and time.monotonic() < deadline:
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                time.sleep(0.01)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(0.4)
        self.assertTrue(self.server.running(), self.server.log())
        self.assertEqual(http_get(self.port, "/plaintext"), (200, HELLO))


class MaxRequestsPerConn(unittest.TestCase):
    def test_third_response_closes(self):
        with ServerProcess(["--max-requests-per-conn", "3"]) as srv:
            with send_raw(srv.port, request_bytes("/plaintext")) as s:
                for i in range(1, 4):
                    if i > 1:
                        s.sendall(request_bytes("/plaintext"))
                    r = read_response(s)
                    self.assertEqual((r.status, r.body), (200, HELLO), i)
                    if i < 3:
                        self.assertFalse(r.has_token("Connection", "close"), "response %d: %r" % (i, r))
                    else:
                        self.assertTrue(r.has_token("Connection", "close"), "response 3: %r" % r)
                self.assertEqual(read_until_close(s, 3), b"")
            # pipelined: exactly three answers, then EOF
            with send_raw(srv.port, request_bytes("/plaintext") * 5) as s:
                rs = [read_response(s) for _ in range(3)]
                self.assertEqual([r.status for r in rs], [200, 200, 200])
                self.assertTrue(rs[2].has_token("Connection", "close"), rs[2])
                self.assertEqual(read_until_close(s, 4), b"")


if __name__ == "__main__":
    main()
