"""Admission limits: max_connections, max_conns_per_ip, descriptor exhaustion (issue 3)."""

import os
import resource
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ServerProcess, connect, http_get, main, raise_nofile_limit, read_response,  # noqa: E402
                     read_until_close, request_bytes, scaled, send_raw)

HELLO = b"Hello, World!"


def wait_for_connections(srv, expected, timeout=3.0):
    """Wait until /healthz reports `expected` open connections besides its own."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        h = srv.healthz()
        if h["connections_active"] - 1 == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError("server reports %d connections, expected %d" % (h["connections_active"] - 1,
                                                                                expected))
        time.sleep(0.05)


def open_keepalive(port, n):
    """n connections that each completed one request and stay open."""
    socks = []
    try:
        for i in range(n):
            s = send_raw(port, request_bytes("/plaintext"))
            socks.append(s)
            r = read_response(s)
            if r.status != 200:
                raise AssertionError("keep-alive connection %d got %r" % (i + 1, r))
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


class Limits(unittest.TestCase):
    def assert_refused_with(self, port, status):
        with send_raw(port, request_bytes("/plaintext")) as s:
            r = read_response(s)
            self.assertEqual(r.status, status, r)
            self.assertTrue(r.has_token("Connection", "close"), r)
            self.assertEqual(read_until_close(s, 4), b"")

    def test_max_connections(self):
        with ServerProcess(["--max-connections", "5"]) as srv:
            wait_for_connections(srv, 0)
            socks = open_keepalive(srv.port, 5)
            try:
                self.assert_refused_with(srv.port, 503)
                # The five still work.
                for s in socks:
                    s.sendall(request_bytes("/json"))
                    self.assertEqual(read_response(s).status, 200)
            finally:
                for s in socks:
                    s.close()
            # Room again once they are gone.
            deadline = time.monotonic() + scaled(3)
            while True:
                try:
                    if http_get(srv.port, "/plaintext", timeout=2) == (200, HELLO):
                        break
                except OSError:
                    pass
                self.assertLess(time.monotonic(), deadline, "no room after closing the connections")
                time.sleep(0.05)

    def test_max_conns_per_ip(self):
        with ServerProcess(["--max-conns-per-ip", "2"]) as srv:
            wait_for_connections(srv, 0)
            socks = open_keepalive(srv.port, 2)
            try:
                self.assert_refused_with(srv.port, 429)
                for s in socks:
                    s.sendall(request_bytes("/plaintext"))
                    self.assertEqual(read_response(s).status, 200)
            finally:
                socks[0].close()
            try:
                # One slot is free again.
                deadline = time.monotonic() + scaled(3)
                while True:
                    with send_raw(srv.port, request_bytes("/plaintext")) as s:
                        status = read_response(s).status
                    if status == 200:
                        break
                    self.assertEqual(status, 429)
                    self.assertLess(time.monotonic(), deadline, "per-IP slot not released")
                    time.sleep(0.05)
            finally:
                socks[1].close()

    def test_descriptor_exhaustion_does_not_spin(self):
        raise_nofile_limit()

        def low_fd_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

        with ServerProcess(preexec_fn=low_fd_limit) as srv:
            self.assertEqual(http_get(srv.port, "/plaintext"), (200, HELLO))
            flood = []
            try:
                for _ in range(200):
                    # Completes in the kernel's accept queue. The start of a head, because a
                    # connection that sends nothing is held back by the kernel (TCP_DEFER_ACCEPT)
                    # and would not reach the server for a second.
                    s = socket.create_connection(("127.0.0.1", srv.port), timeout=scaled(5))
                    flood.append(s)
                    s.sendall(b"GET /plaintext HTTP/1.1\r\n")
                time.sleep(0.5)  # let the server run out of descriptors
                open_fds = len(os.listdir("/proc/%d/fd" % srv.pid))
                self.assertGreaterEqual(open_fds, 60, "the flood did not exhaust the server's descriptors")
                cpu0 = srv.cpu_seconds()
                t0 = time.monotonic()
                time.sleep(2.0)
                cpu = srv.cpu_seconds() - cpu0
                wall = time.monotonic() - t0
                self.assertTrue(srv.running(), srv.log())
                self.assertLess(cpu, 0.5, "server used %.2f s of CPU in %.2f s while out of descriptors" % (cpu, wall))
            finally:
                for s in flood:
                    s.close()
            # Served again once the flood is gone.
            deadline = time.monotonic() + scaled(6)
            last = None
            while True:
                try:
                    last = http_get(srv.port, "/plaintext", timeout=1)
                    if last == (200, HELLO):
                        break
                except OSError as e:
                    last = e
                self.assertLess(time.monotonic(), deadline, "not served after the flood: %r" % (last,))
                time.sleep(0.1)


if __name__ == "__main__":
    main()
