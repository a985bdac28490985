"""Fibers under load: many sleepers on one worker, the concurrency cap, idle fiber trimming (issue 3)."""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BackgroundConnections, ServerProcess, http_get, main, raise_nofile_limit, read_response,  # noqa: E402
                     read_until_close, request_bytes, run_connections, scaled, send_raw)


def summarize(results):
    """(number of 200s, a few failure descriptions)."""
    ok = 0
    failures = []
    for r in results:
        if r.error is None and r.responses and all(x.status == 200 for x in r.responses):
            ok += 1
        elif len(failures) < 5:
            failures.append("conn %d: error=%s statuses=%s" % (r.index, r.error, [x.status for x in r.responses]))
    return ok, failures


class ManySleepers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_nofile_limit()

    def test_1000_concurrent_sleepers_on_one_worker(self):
        n = 1000
        with ServerProcess() as srv:
            scripts = [[(request_bytes("/sleep?ms=200"), 1)]] * n
            t0 = time.monotonic()
            results = run_connections(srv.port, scripts, timeout=20)
            wall = time.monotonic() - t0
            ok, failures = summarize(results)
            self.assertEqual(ok, n, failures)
            for r in results:
                self.assertEqual(r.responses[0].body, b"slept 200 ms\n")
            # Serial handling would take 200 s; fibers make it about one sleep plus connection setup.
            print("\n  1000 sleepers: %.2f s wall" % wall, file=sys.stderr)
            self.assertLess(wall, scaled(5.0), "1000 sleepers took %.2f s" % wall)
            h = srv.healthz()
            self.assertGreaterEqual(h["fibers_live"], 1)
            self.assertGreaterEqual(h["requests"], n)

    def test_concurrency_cap_answers_503(self):
        with ServerProcess(["--concurrency", "10"]) as srv:
            time.sleep(0.1)  # the readiness probe's fiber is idle again, and reusable
            sleepers = BackgroundConnections(srv.port, [[(request_bytes("/sleep?ms=2000"), 1)]] * 10, timeout=15)
            sleepers.start()
            time.sleep(0.7)  # all ten are in their handlers by now
            with send_raw(srv.port, request_bytes("/plaintext")) as s:
                r = read_response(s)
                self.assertEqual(r.status, 503, r)
                self.assertTrue(r.has_token("Connection", "close"), r)
                self.assertEqual(read_until_close(s, 3), b"")
            results = sleepers.finish(10)
            ok, failures = summarize(results)
            self.assertEqual(ok, 10, failures)
            # Capacity is back once the sleepers are done.
            self.assertEqual(http_get(srv.port, "/plaintext"), (200, b"Hello, World!"))

    def test_idle_fibers_are_trimmed(self):
        with ServerProcess(["--max-idle-worker-duration", "1s"]) as srv:
            n = 500
            results = run_connections(srv.port, [[(request_bytes("/sleep?ms=300"), 1)]] * n, timeout=15)
            ok, failures = summarize(results)
            self.assertEqual(ok, n, failures)
            # Right after the burst the fibers are idle but kept for reuse (they are < 1 s old).
            h = srv.healthz()
            self.assertGreaterEqual(h["fibers_live"], 400, h)
            self.assertGreaterEqual(h["fibers_idle"], 400, h)
            # Then they are freed. /healthz itself runs on a fiber, so one or two remain.
            deadline = time.monotonic() + scaled(4.0)
            while True:
                time.sleep(0.25)
                h = srv.healthz()
                if h["fibers_live"] <= 2:
                    break
                self.assertLess(time.monotonic(), deadline, "fibers not trimmed: %r" % h)
            self.assertLessEqual(h["fibers_idle"], 2, h)
            # The pool grows again on demand.
            results = run_connections(srv.port, [[(request_bytes("/sleep?ms=100"), 1)]] * 50, timeout=10)
            self.assertEqual(summarize(results)[0], 50)


if __name__ == "__main__":
    main()
