"""Streamed request bodies and responses, SSE (issue 12 items 1-3, 6, 7) against the real server:
the built-in `echo` and `sse_clock` routes and test_app's streaming handlers, through raw
sockets, http.client and curl: byte-exact echo of Content-Length and chunked bodies, pipelined
requests behind a streamed response, HEAD, 100-continue sent only when the handler reads (and
not at all when it refuses first), 100,000 chunks, a client leaving mid-stream (counted, the
worker survives), SSE events arriving as they are produced, and a drain ending an SSE stream.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (ServerProcess, connect, http_get, read_response, read_until_close, request_bytes,  # noqa: E402
                     scaled, send_raw)

BUILD = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(harness.FASTFORK_BIN))))
TEST_APP = os.environ.get("FF_TEST_APP") or os.path.join(BUILD, "tests", "integration", "test_app")

ROUTES = {"routes": [
    {"prefix": "/echo", "handler": "echo"},
    {"prefix": "/sse", "handler": "sse_clock"},
    {"prefix": "/plaintext", "handler": "plaintext"},
    {"prefix": "/healthz", "handler": "healthz"},
    {"prefix": "/stats", "handler": "stats"},
]}


def write_config(extra=None):
    cfg = dict(ROUTES)
    cfg.update(extra or {})
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(cfg, f)
    f.close()
    return f.name


class AppServer(ServerProcess):
    """ServerProcess running test_app (its own handlers in front of the same routes)."""

    def start(self):
        if not os.path.exists(TEST_APP):
            raise unittest.SkipTest("test_app not found at %s (set FF_TEST_APP)" % TEST_APP)
        saved = harness._server_executable
        harness._server_executable = lambda: TEST_APP
        try:
            super().start()
        finally:
            harness._server_executable = saved


def stats(port):
    status, body = http_get(port, "/stats")
    assert status == 200, (status, body)
    return json.loads(body)["totals"]


def read_events(sock, want, timeout):
    """Reads SSE bytes from a chunked response until `want` events (blank-line separated) are
    complete; returns [(arrival time, event text)]. Chunk framing is stripped loosely: the event
    text is searched in the raw stream, which is enough for these small events."""
    buf = b""
    events = []
    deadline = time.monotonic() + scaled(timeout)
    head_done = False
    while len(events) < want and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        if not head_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            buf = buf[end + 4:]
            head_done = True
        while True:
            at = buf.find(b"event: ")
            stop = buf.find(b"\n\n", at) if at >= 0 else -1
            if stop < 0:
                break
            events.append((time.monotonic(), buf[at:stop].decode()))
            buf = buf[stop + 2:]
    return events


class Streaming(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.config = write_config()
        cls.server = ServerProcess(["-c", cls.config, "--max-body", "64KiB"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        os.unlink(cls.config)
        if problem:
            raise AssertionError(problem)

    @property
    def port(self):
        return self.server.port

    def test_echo_content_length_and_chunked_bodies_byte_exact(self):
        body = os.urandom(300 * 1024)  # beyond max_body (64 KiB): echo lifts it for itself
        with send_raw(self.port, request_bytes("/echo", "POST", headers=[("Content-Length", len(body))]) + body) as s:
            r = read_response(s, timeout=10)
            self.assertEqual((r.status, r.header("Content-Length")), (200, str(len(body))))
            self.assertEqual(r.body, body)
        pieces = [os.urandom(n) for n in (1, 5000, 70000, 3)]
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        with send_raw(self.port, request_bytes("/echo", "POST", headers=[("Transfer-Encoding", "chunked")])
                      + chunked) as s:
            r = read_response(s, timeout=10)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Transfer-Encoding"), "chunked")
            self.assertEqual(r.body, b"".join(pieces))

    def test_echo_via_curl_chunked_upload(self):
        data = os.urandom(1 << 20)
        out = subprocess.run(["curl", "-sS", "--max-time", str(scaled(10)), "-H", "Transfer-Encoding: chunked",
                              "--data-binary", "@-", "http://127.0.0.1:%d/echo" % self.port],
                             input=data, capture_output=True, timeout=scaled(15))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(hashlib.sha256(out.stdout).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_echo_of_a_body_that_breaks_is_cut_not_completed(self):
        # The first chunk is echoed; the malformed one after it fails the read: the response must
        # end without its last chunk, so the client cannot take the part for the whole.
        before = stats(self.port)["streamed_responses_aborted"]
        with send_raw(self.port, request_bytes("/echo", "POST", headers=[("Transfer-Encoding", "chunked")])
                      + b"5\r\nhello\r\n") as s:
            s.settimeout(scaled(5))
            got = b""
            while b"hello" not in got:
                got += s.recv(4096)
            s.sendall(b"zz\r\nmore\r\n")
            got += read_until_close(s)
        self.assertTrue(got.startswith(b"HTTP/1.1 200 OK\r\n"), got)
        self.assertIn(b"\r\n\r\n5\r\nhello\r\n", got)
        self.assertFalse(got.endswith(b"0\r\n\r\n"), got)
        self.assertEqual(stats(self.port)["streamed_responses_aborted"], before + 1)

    def test_pipelined_requests_behind_a_streamed_response(self):
        big = os.urandom(200 * 1024)
        data = (request_bytes("/echo", "POST", headers=[("Transfer-Encoding", "chunked")])
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
                + request_bytes("/plaintext")
                + request_bytes("/sse?count=2&interval_ms=10")
                + request_bytes("/echo", "POST", headers=[("Content-Length", 5)]) + b"hello")
        with send_raw(self.port, data) as s:
            r1 = read_response(s, timeout=10)
            r2 = read_response(s)
            r3 = read_response(s)
            r4 = read_response(s)
        self.assertEqual((r1.status, r1.body), (200, big))
        self.assertEqual((r2.status, r2.body), (200, b"Hello, World!"))
        self.assertEqual(r3.header("Content-Type"), "text/event-stream")
        self.assertEqual(r3.body.count(b"event: tick\n"), 2, r3.body)
        self.assertEqual((r4.status, r4.body), (200, b"hello"))

    def test_head_of_a_streamed_response_has_no_body(self):
        with send_raw(self.port, request_bytes("/sse?count=3&interval_ms=10", "HEAD") + request_bytes("/plaintext")) as s:
            r = read_response(s, head_request=True)
            self.assertEqual((r.status, r.header("Content-Type")), (200, "text/event-stream"))
            self.assertEqual(r.header("Transfer-Encoding"), "chunked")
            nxt = read_response(s)  # would fail to parse if any body byte of the HEAD had been sent
            self.assertEqual((nxt.status, nxt.body), (200, b"Hello, World!"))

    def test_connection_close_ends_a_streamed_response_then_closes(self):
        with send_raw(self.port, request_bytes("/echo", "POST", headers=[("Connection", "close"),
                                                                          ("Content-Length", 4)]) + b"ping") as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, b"ping"))
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s), b"")

    def test_100_continue_is_sent_when_the_handler_reads(self):
        head = request_bytes("/echo", "POST", headers=[("Content-Length", 5), ("Expect", "100-continue")])
        with send_raw(self.port, head) as s:
            r = read_response(s)
            self.assertEqual(r.status, 100)
            s.sendall(b"hello")
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, b"hello"))

    def test_streaming_handler_refusing_early_sends_no_100_continue(self):
        # echo?max_body=10 refuses a 100000-byte upload at its first read: 413 and close, no 100.
        head = request_bytes("/echo?max_body=10", "POST", headers=[("Content-Length", 100000),
                                                                     ("Expect", "100-continue")])
        with send_raw(self.port, head) as s:
            r = read_response(s)
            self.assertEqual(r.status, 413, r)
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s), b"")
        # Sent without Expect, the refused body is not taken for the next request either.
        with send_raw(self.port, head.replace(b"Expect: 100-continue\r\n", b"") + b"z" * 100000
                      + request_bytes("/plaintext")) as s:
            r = read_response(s)
            self.assertEqual(r.status, 413, r)
            self.assertEqual(read_until_close(s), b"")
        self.assertEqual(http_get(self.port, "/plaintext"), (200, b"Hello, World!"))

    def test_sse_events_arrive_as_produced_python(self):
        start = time.monotonic()
        with send_raw(self.port, request_bytes("/sse?interval_ms=300&count=5")) as s:
            events = read_events(s, 5, timeout=10)
        self.assertEqual(len(events), 5, events)
        self.assertIn("id: 1\ndata: ", events[0][1])
        self.assertIn("id: 5\n", events[4][1])
        # The first event is there at once, a full 4 intervals before the last one.
        self.assertLess(events[0][0] - start, 0.25 * harness.TIMEOUT_MULTIPLIER + 0.2)
        self.assertGreater(events[4][0] - events[0][0], 1.0)

    def test_sse_events_arrive_as_produced_curl(self):
        p = subprocess.Popen(["curl", "-sS", "-N", "http://127.0.0.1:%d/sse?interval_ms=200&count=50" % self.port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            seen = b""
            deadline = time.monotonic() + scaled(5)
            while b"id: 2\n" not in seen and time.monotonic() < deadline:
                seen += os.read(p.stdout.fileno(), 4096)
            self.assertIn(b"event: tick\nid: 1\n", seen)
            self.assertIn(b"id: 2\n", seen)
            self.assertIsNone(p.poll(), "curl got events only once the stream had ended")
        finally:
            p.kill()
            p.communicate()

    def test_client_leaving_mid_stream_is_counted_and_the_worker_serves_on(self):
        before = stats(self.port)
        s = send_raw(self.port, request_bytes("/sse?interval_ms=10"))
        self.assertEqual(len(read_events(s, 3, timeout=5)), 3)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        s.close()
        deadline = time.monotonic() + scaled(5)
        while time.monotonic() < deadline:
            now = stats(self.port)
            if now["streamed_responses_aborted"] > before["streamed_responses_aborted"]:
                break
            time.sleep(0.05)
        self.assertGreater(now["streamed_responses_aborted"], before["streamed_responses_aborted"])
        self.assertGreater(now["streamed_responses"], before["streamed_responses"])
        self.assertEqual(http_get(self.port, "/plaintext"), (200, b"Hello, World!"))
        self.assertTrue(self.server.running())


class AppStreaming(unittest.TestCase):
    def test_handler_streaming_100000_chunks(self):
        with AppServer([]) as srv:
            with send_raw(srv.port, request_bytes("/chunks?n=100000")) as s:
                r = read_response(s, timeout=30)
            self.assertEqual(r.status, 200)
            lines = r.body.split(b"\n")
            self.assertEqual(len(lines), 100001)
            self.assertEqual(lines[0], b"chunk 1")
            self.assertEqual(lines[99999], b"chunk 100000")
            # One HTTP chunk per write: 100,000 size lines on the wire, then the last chunk.
            self.assertEqual(r.raw.count(b"\r\nchunk "), 100000)
            self.assertTrue(r.raw.endswith(b"\r\n0\r\n\r\n"))

    def test_sized_stream_is_exact_and_keeps_the_connection(self):
        with AppServer([]) as srv:
            with send_raw(srv.port, request_bytes("/bytes?mib=3") + request_bytes("/plaintext")) as s:
                r = read_response(s, timeout=20)
                self.assertEqual((r.status, r.header("Content-Length")), (200, str(3 << 20)))
                self.assertEqual(len(r.body), 3 << 20)
                self.assertEqual(r.body[:26], b"abcdefghijklmnopqrstuvwxyz")
                self.assertEqual(read_response(s).body, b"Hello, World!")


class Drain(unittest.TestCase):
    def test_drain_ends_an_sse_stream(self):
        config = write_config()
        try:
            srv = ServerProcess(["-c", config, "--shutdown-timeout", "20s"])
            srv.start()
            try:
                s = send_raw(srv.port, request_bytes("/sse?interval_ms=5000"))
                self.assertEqual(len(read_events(s, 1, timeout=5)), 1)
                t0 = time.monotonic()
                srv.signal(signal.SIGTERM)
                rest = read_until_close(s, timeout=10)
                s.close()
                # The stream ends with a last event and the terminating chunk, well before the
                # next tick or the shutdown timeout, and the server then exits cleanly.
                self.assertIn(b"event: end\n", rest)
                self.assertTrue(rest.endswith(b"0\r\n\r\n"), rest)
                self.assertLess(time.monotonic() - t0, 3 * harness.TIMEOUT_MULTIPLIER)
                self.assertEqual(srv.wait(10), 0)
            finally:
                problem = srv.stop()
                if problem:
                    raise AssertionError(problem)
        finally:
            os.unlink(config)


if __name__ == "__main__":
    harness.main()
