"""Connection hijack (issue 12.4, fasthttp's Hijack) through test_app's /hijack: after the
response the handler owns the connection as a byte stream (reads and writes suspend its fiber),
the bytes the client sent right behind the request are handed over, and the worker still drains
it; and a WebSocket handler that throws closes with 1011 (/ws-throw)."""

import os
import signal
import socket
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ServerProcess, main, scaled  # noqa: E402
from test_websocket import expect_close, frame, handshake  # noqa: E402

TEST_APP = os.environ.get("FF_TEST_APP", "")


def recv_until(s, marker, buf=b""):
    while marker not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


class Hijack(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(TEST_APP):
            self.skipTest("test_app not found (set FF_TEST_APP)")
        harness.FASTFORK_BIN = TEST_APP

    def test_bytes_after_the_request_and_a_stream_both_ways(self):
        with ServerProcess(["--shutdown_timeout", "2s"]) as srv:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=scaled(5))
            # The first raw bytes travel in the same segment as the request: handed over.
            s.sendall(b"GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nearly bytes|")
            got = recv_until(s, b"early bytes|")
            head, _, rest = got.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertEqual(rest, b"hijacking\nearly bytes|")
            # Not HTTP any more: a request line comes back verbatim.
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            self.assertEqual(recv_until(s, b"\r\n\r\n"), b"GET / HTTP/1.1\r\n\r\n")
            big = os.urandom(3 << 20)  # more than the socket buffers: writes must suspend, not fail
            sender = threading.Thread(target=s.sendall, args=(big,))
            sender.start()
            echoed = b""
            while len(echoed) < len(big):
                chunk = s.recv(1 << 20)
                self.assertTrue(chunk)
                echoed += chunk
            sender.join()
            self.assertEqual(echoed, big)
            s.sendall(b"last")
            self.assertEqual(recv_until(s, b"last"), b"last")
            # The worker still drains it: SIGTERM reaches the handler, which ends the stream.
            srv.signal(signal.SIGTERM)
            self.assertEqual(recv_until(s, b"draining\n"), b"draining\n")
            s.settimeout(scaled(5))
            self.assertEqual(s.recv(10), b"", "the worker closes the hijacked connection")
            s.close()
            self.assertEqual(srv.wait(5), 0)

    def test_websocket_handler_exception_closes_1011(self):
        with ServerProcess() as srv:
            s, head, rest = handshake(srv.port, "/ws-throw")
            self.assertIn(" 101 ", head.split("\r\n")[0])
            s.sendall(frame(0x1, b"boom"))
            expect_close(self, s, rest, 1011)  # closes s
            self.assertIn("websocket handler failed on purpose", srv.log())


if __name__ == "__main__":
    main()
