"""Request latency from the loop's clock (issue 11.2): the access log's duration_us and the
stats histogram take a request's start from the latest clock reading of the loop iteration
(worker/loop_clock.hpp). These tests fail if that reading is ever stale: carried across an idle
keep-alive wait, or across a handler's suspension into the pipelined requests behind it.
"""

import json
import os
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import connect, main, read_response, request_bytes, scaled  # noqa: E402
from master_harness import MasterProcess, stats_json  # noqa: E402

IDLE_GAP = scaled(0.4)  # seconds a keep-alive connection waits between requests
SLEEP_MS = 200
# A request that does not suspend answers well within this, and a start read before an idle
# gap would put it far above (the gap is 4 times as long).
FAST_US = int(IDLE_GAP * 1e6 / 4)
LOOP_TIME_SLACK_US = 3000


def log_entries(path, want, timeout):
    """The access log's JSON entries once there are `want` of them."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                entries = [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            entries = []
        if len(entries) >= want or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


class LoopClockLatency(unittest.TestCase):
    def test_latency_is_never_taken_from_a_stale_reading(self):
        tmp = tempfile.mkdtemp(prefix="ff-latency-")
        log = os.path.join(tmp, "access.json")
        name = "lat%d-%d" % (os.getpid(), int(time.monotonic() * 1000) % 100000)
        args = ["--access-log", log, "--access-log-format", "json"]
        with MasterProcess(args, workers=1, name=name) as m:
            s = connect(m.port, timeout=scaled(5))
            try:
                # 1. Keep-alive requests after idle gaps: a start read before the wait would
                #    add the whole gap (400 ms, scaled) to each.
                for i in range(3):
                    s.sendall(request_bytes("/plaintext?idle=%d" % i))
                    self.assertEqual(read_response(s, timeout=scaled(5)).status, 200)
                    time.sleep(IDLE_GAP)
                # 2. A handler that suspends: its end is read after the sleep.
                s.sendall(request_bytes("/sleep?ms=%d&alone=1" % SLEEP_MS))
                self.assertEqual(read_response(s, timeout=scaled(5)).status, 200)
                # 3. One write, three pipelined requests: the two behind the sleeping one start
                #    when it has been answered, not from the reading before its sleep.
                s.sendall(request_bytes("/sleep?ms=%d&batch=0" % SLEEP_MS) +
                          request_bytes("/plaintext?batch=1") + request_bytes("/plaintext?batch=2"))
                for _ in range(3):
                    self.assertEqual(read_response(s, timeout=scaled(5)).status, 200)
            finally:
                s.close()
            totals = stats_json(m.name)["totals"]["latency_us"]
            entries = {e["target"]: e["duration_us"] for e in log_entries(log, 7, timeout=3)}

        self.assertEqual(len(entries), 7, entries)
        for i in range(3):
            self.assertLess(entries["/plaintext?idle=%d" % i], FAST_US, entries)
        for target in ("/sleep?ms=%d&alone=1" % SLEEP_MS, "/sleep?ms=%d&batch=0" % SLEEP_MS):
            # libuv times the sleep from its loop time (whole ms, taken when the iteration
            # began, before the head was parsed): it may end up to a few ms early.
            self.assertGreaterEqual(entries[target], SLEEP_MS * 1000 - LOOP_TIME_SLACK_US, entries)
            self.assertLess(entries[target], SLEEP_MS * 1000 + scaled(0.5) * 1e6, entries)
        for i in (1, 2):
            self.assertLess(entries["/plaintext?batch=%d" % i], FAST_US, entries)

        # The histogram reads the same clock: 7 requests whose sum is the two sleeps plus a
        # little, not the idle gaps (3 × IDLE_GAP) or a sleep counted twice.
        self.assertEqual(totals["count"], 7, totals)
        self.assertGreaterEqual(totals["sum"], 2 * (SLEEP_MS * 1000 - LOOP_TIME_SLACK_US), totals)
        self.assertLess(totals["sum"], 2 * SLEEP_MS * 1000 + 5 * FAST_US, totals)
        self.assertLess(totals["p50"], FAST_US, totals)


if __name__ == "__main__":
    main()
