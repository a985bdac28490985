"""Wrong protocol on a plain port (issue 13.6): a TLS ClientHello, or first bytes that cannot
begin a request line, get 400 and a close at once, not after a line end or the header timeout."""

import os
import socket
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, connect, main, read_response, read_until_close, scaled  # noqa: E402

# Far longer than any answer below may take: an answer "at once" must not be the timeout's 408.
HEADER_TIMEOUT_S = 20


def client_hello():
    """The first flight of a real TLS client (Python's ssl, SNI localhost), as bytes."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class WrongProtocol(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(["--header-timeout", "%ds" % HEADER_TIMEOUT_S])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        if problem:
            raise AssertionError(problem)

    def answer_to(self, first_bytes):
        t0 = time.monotonic()
        with connect(self.server.port) as s:
            s.sendall(first_bytes)
            r = read_response(s, timeout=5)
            rest = read_until_close(s, 5)
        return r, rest, time.monotonic() - t0

    def test_client_hello_gets_400_and_close_at_once(self):
        hello = client_hello()
        self.assertEqual(hello[:2], b"\x16\x03")  # a TLS handshake record
        r, rest, took = self.answer_to(hello)
        self.assertEqual(r.status, 400)
        self.assertEqual(rest, b"")
        self.assertLess(took, scaled(2))

    def test_half_a_client_hello_is_refused_too(self):
        r, _, took = self.answer_to(client_hello()[:5])  # the record header only
        self.assertEqual(r.status, 400)
        self.assertLess(took, scaled(2))

    def test_bytes_no_method_may_hold_get_400_before_a_line_end(self):
        for first in (b"\x00\x01\x02", b"GE(T /", b"GET\t/ HTTP/1.1", b"\x80abc"):
            with self.subTest(first=first):
                r, _, took = self.answer_to(first)
                self.assertEqual(r.status, 400)
                self.assertLess(took, scaled(2))

    def test_python_tls_client_fails_fast_on_the_plain_port(self):
        ctx = ssl.create_default_context()
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=scaled(10)) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                with ctx.wrap_socket(raw, server_hostname="localhost"):
                    pass
        self.assertLess(time.monotonic() - t0, scaled(2))

    def test_a_partial_valid_request_still_waits_and_is_served(self):
        with connect(self.server.port) as s:
            s.sendall(b"GET /plain")
            time.sleep(0.3)
            s.sendall(b"text HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(s, timeout=5)
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    main()
