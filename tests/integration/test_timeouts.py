"""Timeouts: slowloris (header), silent connections, keep-alive idle, body read gaps (issue 3)."""

import os
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ServerProcess, connect, http_get, main, read_response, read_until_close,  # noqa: E402
                     request_bytes, scaled, send_raw)

HELLO = b"Hello, World!"


class Timeouts(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(["--header-timeout", "2s", "--idle-timeout", "1s", "--read-timeout", "1s",
                                    "--write-timeout", "1s"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        if problem:
            raise AssertionError(problem)

    @property
    def port(self):
        return self.server.port

    def test_slowloris_gets_408_while_others_are_served(self):
        outcome = {}

        def slowloris():
            try:
                t0 = time.monotonic()
                with connect(self.port) as s:
                    s.sendall(b"GET /plaintext HTTP/1.1\r\n")
                    header = b"X-Slow: " + b"a" * 100
                    i = 0
                    while time.monotonic() - t0 < scaled(8):
                        readable, _, _ = select.select([s], [], [], 1.0)
                        if readable:
                            break
                        try:
                            s.send(header[i:i + 1])  # one header byte per second
                        except OSError:
                            break
                        i += 1
                    r = read_response(s, timeout=2)
                    outcome["answered"] = time.monotonic() - t0
                    outcome["response"] = r
                    outcome["rest"] = read_until_close(s, 3)
                    outcome["closed"] = time.monotonic() - t0
            except BaseException as e:
                outcome["error"] = e

        t = threading.Thread(target=slowloris, daemon=True)
        t.start()
        time.sleep(0.3)
        latencies = []
        while t.is_alive() and len(latencies) < 20:
            t1 = time.monotonic()
            self.assertEqual(http_get(self.port, "/plaintext", timeout=2), (200, HELLO))
            latencies.append(time.monotonic() - t1)
            time.sleep(0.3)
        t.join(scaled(12))
        self.assertFalse(t.is_alive())
        if "error" in outcome:
            raise outcome["error"]
        self.assertGreaterEqual(len(latencies), 3)
        self.assertLess(max(latencies), scaled(0.5), latencies)
        r = outcome["response"]
        self.assertEqual(r.status, 408, r)
        self.assertTrue(r.has_token("Connection", "close"), r)
        self.assertEqual(outcome["rest"], b"")
        self.assertGreaterEqual(outcome["answered"], 1.8)
        self.assertLessEqual(outcome["closed"], scaled(4.0), outcome)

    def test_silent_connection_is_closed_after_header_timeout(self):
        t0 = time.monotonic()
        with connect(self.port) as s:
            data = read_until_close(s, 6)
            elapsed = time.monotonic() - t0
        # Nothing was asked, so nothing needs an answer; a 408 would be acceptable too.
        self.assertTrue(data == b"" or data.startswith(b"HTTP/1.1 408 "), data)
        self.assertGreaterEqual(elapsed, 1.8)
        # From the connect: the second the kernel held the silent connection back before the
        # server accepted it (TCP_DEFER_ACCEPT) counts; 2 s after the accept would be 3 s or more.
        self.assertLessEqual(elapsed, scaled(2.8))

    def test_partial_head_after_keepalive_request_times_out(self):
        # The second request's head starts but never ends: 408 after the header timeout.
        with send_raw(self.port, request_bytes("/plaintext")) as s:
            self.assertEqual(read_response(s).status, 200)
            t0 = time.monotonic()
            s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: a\r\n")
            r = read_response(s, timeout=6)
            elapsed = time.monotonic() - t0
            self.assertEqual(r.status, 408, r)
            self.assertEqual(read_until_close(s, 3), b"")
            self.assertGreaterEqual(elapsed, 1.8)
            self.assertLessEqual(elapsed, scaled(3.5))

    def test_idle_keepalive_connection_is_closed(self):
        with send_raw(self.port, request_bytes("/plaintext")) as s:
            r = read_response(s)
            self.assertEqual((r.status, r.body), (200, HELLO))
            t0 = time.monotonic()
            self.assertEqual(read_until_close(s, 4), b"")
            elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.8)
        self.assertLessEqual(elapsed, scaled(2.0))

    def test_active_keepalive_connection_is_not_closed(self):
        # Requests every 0.5 s keep a 1 s idle timeout from firing for 3 s.
        with connect(self.port) as s:
            for _ in range(6):
                s.sendall(request_bytes("/plaintext"))
                self.assertEqual(read_response(s).status, 200)
                time.sleep(0.5)

    def test_body_read_timeout(self):
        head = b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
        with send_raw(self.port, head + b"abc") as s:
            t0 = time.monotonic()
            r = read_response(s, timeout=5)
            elapsed = time.monotonic() - t0
            self.assertEqual(r.status, 408, r)
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s, 3), b"")
        self.assertGreaterEqual(elapsed, 0.8)
        self.assertLessEqual(elapsed, scaled(2.5))

    def test_slow_body_within_read_timeout_is_served(self):
        # read_timeout bounds each gap, not the whole body: 6 bytes 0.5 s apart take 3 s.
        head = b"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n"
        with send_raw(self.port, head) as s:
            for b in b"abcdef":
                time.sleep(0.5)
                s.sendall(bytes([b]))
            r = read_response(s, timeout=3)
            self.assertEqual((r.status, r.body), (200, HELLO))

    def test_client_that_never_reads_is_dropped_by_write_timeout(self):
        # Pipeline far more than the socket buffers hold and never read: the server's write
        # stalls, and write_timeout must free the connection instead of holding it forever.
        before = self.server.healthz()["connections_active"]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.settimeout(scaled(5))
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            data = request_bytes("/json") * 200000
            sent = 0
            t0 = time.monotonic()
            reset = None
            while sent < len(data) and time.monotonic() - t0 < 2.0:
                try:
                    sent += s.send(data[sent:sent + 65536])
                except BlockingIOError:
                    time.sleep(0.01)
                except OSError as e:  # the server gave up on us already: that is the point
                    reset = e
                    break
            if reset is None:
                self.assertEqual(self.server.healthz()["connections_active"], before + 1)
            # Gone within write_timeout (1 s) plus the sweep period.
            deadline = t0 + scaled(4)
            while self.server.healthz()["connections_active"] > before:
                self.assertLess(time.monotonic(), deadline, "stalled connection still open")
                time.sleep(0.1)
            self.assertGreaterEqual(time.monotonic() - t0, 0.9, "dropped before the write timeout")
        finally:
            s.close()
        self.assertEqual(http_get(self.port, "/plaintext"), (200, HELLO))


if __name__ == "__main__":
    main()
