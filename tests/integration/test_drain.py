"""Graceful drain on SIGTERM and immediate exit on SIGQUIT (issue 3)."""

import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BackgroundConnections, ServerProcess, main, read_response, read_until_close, request_bytes,  # noqa: E402
                     run_connections, scaled, send_raw)


def refused_within(port, seconds):
    """Seconds until a connect to `port` is refused, or None if it never was within `seconds`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        except ConnectionRefusedError:
            return time.monotonic() - t0
        except OSError:
            pass
        else:
            s.close()
        time.sleep(0.02)
    return None


class Drain(unittest.TestCase):
    def test_sigterm_finishes_in_flight_requests(self):
        with ServerProcess() as srv:
            clients = BackgroundConnections(srv.port, [[(request_bytes("/sleep?ms=1000"), 1)]] * 20, timeout=10)
            clients.start()
            time.sleep(0.3)  # all twenty are sleeping in their handlers
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            refused_after = refused_within(srv.port, 1.0 * max(1.0, scaled(1.0)))
            self.assertIsNotNone(refused_after, "new connections still accepted 1 s after SIGTERM")
            rc = srv.wait(3.0)
            exited_after = time.monotonic() - t0
            clients.join(scaled(10))
            self.assertFalse(clients.is_alive())
            if clients.exc:
                raise clients.exc
            failures = [(r.index, r.error, [x.status for x in r.responses]) for r in clients.results
                        if r.error or [x.status for x in r.responses] != [200]]
            self.assertEqual(failures, [])
            for r in clients.results:
                self.assertEqual(r.responses[0].body, b"slept 1000 ms\n")
            self.assertEqual(rc, 0, "exit code %r %.2f s after SIGTERM; log:\n%s" % (rc, exited_after, srv.log()))
            self.assertLess(exited_after, scaled(3.0))

    def test_idle_keepalive_connection_closed_during_drain(self):
        with ServerProcess() as srv:
            with send_raw(srv.port, request_bytes("/plaintext")) as s:
                self.assertEqual(read_response(s).status, 200)
                t0 = time.monotonic()
                srv.signal(signal.SIGTERM)
                self.assertEqual(read_until_close(s, 3), b"")
                closed_after = time.monotonic() - t0
            rc = srv.wait(3.0)
            self.assertEqual(rc, 0, srv.log())
            # drain_idle_grace is 1 s by default
            self.assertLess(closed_after, scaled(2.0))

    def test_silent_connection_closed_during_drain(self):
        with ServerProcess() as srv:
            # The kernel holds a silent connection back for the accept deferral (1 s,
            # TCP_DEFER_ACCEPT) before the server sees it: wait until it has been accepted, asking
            # on one keep-alive connection so that no other connection is accepted meanwhile.
            stats = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=scaled(5))

            def accepted():
                stats.request("GET", "/stats")
                return json.loads(stats.getresponse().read())["workers"][0]["connections_accepted"]

            before = accepted()
            with socket.create_connection(("127.0.0.1", srv.port), timeout=scaled(5)) as s:
                deadline = time.monotonic() + scaled(5)
                while accepted() == before:
                    self.assertLess(time.monotonic(), deadline, "the silent connection was never accepted")
                    time.sleep(0.05)
                stats.close()
                srv.signal(signal.SIGTERM)
                self.assertEqual(read_until_close(s, 3), b"")
            self.assertEqual(srv.wait(3.0), 0, srv.log())

    def test_response_finished_during_drain_says_close(self):
        # A handler that was running when the drain started: its response ends the connection
        # (Connection: close, then FIN) instead of leaving it idle until drain_idle_grace.
        with ServerProcess() as srv:
            with send_raw(srv.port, request_bytes("/sleep?ms=500")) as s:
                time.sleep(0.1)
                srv.signal(signal.SIGTERM)
                r = read_response(s)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.has_token("Connection", "close"), r)
                t1 = time.monotonic()
                self.assertEqual(read_until_close(s, 3), b"")
                self.assertLess(time.monotonic() - t1, 0.5, "connection left open after the response")
            self.assertEqual(srv.wait(3.0), 0, srv.log())

    def test_sigint_drains_like_sigterm(self):
        # Single-process mode: Ctrl-C drains too.
        with ServerProcess() as srv:
            with send_raw(srv.port, request_bytes("/sleep?ms=300", headers=[("Connection", "close")])) as s:
                time.sleep(0.1)
                srv.signal(signal.SIGINT)
                r = read_response(s)
                self.assertEqual((r.status, r.body), (200, b"slept 300 ms\n"))
            self.assertEqual(srv.wait(3.0), 0, srv.log())

    def test_sigquit_exits_promptly(self):
        with ServerProcess(expect_exit_codes=(0, 1, 2)) as srv:
            # Even with a request in flight and an idle connection open.
            busy = send_raw(srv.port, request_bytes("/sleep?ms=5000"))
            idle = send_raw(srv.port, request_bytes("/plaintext"))
            try:
                self.assertEqual(read_response(idle).status, 200)
                time.sleep(0.1)
                t0 = time.monotonic()
                srv.signal(signal.SIGQUIT)
                rc = srv.wait(1.0)
                elapsed = time.monotonic() - t0
                self.assertIsNotNone(rc, "still running 1 s after SIGQUIT")
                self.assertGreaterEqual(rc, 0, "died of signal %d" % -rc if rc is not None and rc < 0 else "")
                self.assertLess(elapsed, scaled(1.0))
            finally:
                busy.close()
                idle.close()


if __name__ == "__main__":
    main()
