"""Worker memory comes back after a burst (issue 16 item 3).

One worker (`--single-process`: the server process is the worker) with a short
max_idle_worker_duration. 5,000 connections each send a 15 KB request head and read the answer,
stay open, then all close; the worker's RSS must return to within 20 % of its level before the
burst within 2 x max_idle_worker_duration plus a margin: pooled buffers, exchanges and
connection slabs are trimmed by the sweep and malloc_trim hands the pages back.
"""

import os
import selectors
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, http_get, main, parse_response, raise_nofile_limit, request_bytes, scaled  # noqa: E402

CONNECTIONS = 5000
HEAD_BYTES = 15 * 1000  # under the default max_head (16 KiB)
IN_FLIGHT = 400  # connections being set up at once: stays under the listen backlog
MAX_IDLE_S = 1.0


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def large_head_request():
    req = request_bytes("/plaintext", headers=[("Cookie", "")])
    pad = HEAD_BYTES - len(req)
    return request_bytes("/plaintext", headers=[("Cookie", "c=" + "x" * (pad - 2))])


def send_heads(port, n, data, timeout):
    """n connections that each send `data` whole (an incomplete head); returns their sockets."""
    sel = selectors.DefaultSelector()
    sent, pending, started = [], {}, 0
    deadline = time.monotonic() + timeout
    try:
        while len(sent) < n:
            while started < n and len(pending) < IN_FLIGHT:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                err = s.connect_ex(("127.0.0.1", port))
                if err not in (0, 115):  # EINPROGRESS
                    s.close()
                    raise AssertionError("connect #%d: %s" % (started, os.strerror(err)))
                pending[s.fileno()] = [s, memoryview(data)]
                sel.register(s, selectors.EVENT_WRITE, pending[s.fileno()])
                started += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("only %d of %d heads sent within %.0f s" % (len(sent), n, timeout))
            for key, _events in sel.select(timeout=min(left, 0.5)):
                st = key.data
                s = st[0]
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise AssertionError("connect: %s" % os.strerror(err))
                try:
                    st[1] = st[1][s.send(st[1]):]
                except BlockingIOError:
                    continue
                if not st[1]:
                    sel.unregister(s)
                    del pending[s.fileno()]
                    sent.append(s)
    except BaseException:
        for s in sent:
            s.close()
        raise
    finally:
        for st in pending.values():
            st[0].close()
        sel.close()
    return sent


def finish_requests(socks, tail, timeout):
    """Sends `tail` on every socket and reads one 200 from each; the sockets stay open."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.sendall(tail)  # a few bytes: fits in the socket buffer at once
        bufs[s] = bytearray()
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while bufs:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%d of %d responses missing after %.0f s" % (len(bufs), len(socks), timeout))
            for key, _events in sel.select(timeout=min(left, 0.5)):
                s = key.fileobj
                chunk = s.recv(65536)
                if not chunk:
                    raise AssertionError("connection closed by the server before its response")
                bufs[s] += chunk
                got = parse_response(bufs[s])
                if got is not None:
                    if got[0].status != 200:
                        raise AssertionError("status %d: %r" % (got[0].status, got[0]))
                    sel.unregister(s)
                    del bufs[s]
    finally:
        sel.close()


class MemoryAfterBurst(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft = raise_nofile_limit()  # inherited by the server too
        if soft < CONNECTIONS * 2 + 200:
            raise unittest.SkipTest("RLIMIT_NOFILE %d is too low for %d connections" % (soft, CONNECTIONS))

    def test_rss_returns_after_5000_connections_with_15kb_heads(self):
        # header_timeout runs from accept: long enough that no held-back head is cut on a slow machine.
        args = ["--max-idle-worker-duration", "%dms" % (MAX_IDLE_S * 1000), "--max-connections",
                str(CONNECTIONS + 1000), "--header-timeout", "%ds" % scaled(60)]
        with ServerProcess(args) as srv:
            # Warm up the way a quiet server is: a few requests served, then its pools trimmed.
            for _ in range(20):
                self.assertEqual(http_get(srv.port, "/plaintext")[0], 200)
            time.sleep(2 * MAX_IDLE_S + 0.5)
            before = vm_rss_kb(srv.pid)

            # All heads incomplete at once (the last CRLF held back): every connection holds its
            # read buffer and an exchange, as under a slow-header client, until the end arrives.
            t0 = time.monotonic()
            request = large_head_request()
            socks = []
            try:
                socks = send_heads(srv.port, CONNECTIONS, request[:-2], scaled(30))
                peak = vm_rss_kb(srv.pid)
                for _ in range(10):  # until the worker has read them all
                    time.sleep(0.1)
                    now = vm_rss_kb(srv.pid)
                    if now <= peak:
                        break
                    peak = now
                finish_requests(socks, request[-2:], scaled(30))
                t_open = time.monotonic() - t0
                peak = max(peak, vm_rss_kb(srv.pid))
            finally:
                for s in socks:
                    s.close()
            closed_at = time.monotonic()

            limit = before * 1.2
            budget = scaled(2 * MAX_IDLE_S + 3.0)  # 2 x max_idle plus margin for a loaded machine
            after = vm_rss_kb(srv.pid)
            while after > limit and time.monotonic() - closed_at < budget:
                time.sleep(0.1)
                after = vm_rss_kb(srv.pid)
            took = time.monotonic() - closed_at
            print("\n  RSS before %d kB, with %d connections open %d kB (opened in %.1f s), "
                  "after close %d kB (%.1f s)" % (before, len(socks), peak, t_open, after, took), file=sys.stderr)
            self.assertGreater(peak, before + CONNECTIONS * HEAD_BYTES // 1024 // 2,
                               "the burst did not grow the worker: the test measures nothing")
            self.assertLessEqual(after, limit, "RSS %d kB is not within 20 %% of %d kB %.1f s after the close" % (
                after, before, took))
            # Still serving, and the pools refill without trouble.
            self.assertEqual(http_get(srv.port, "/plaintext")[0], 200)


if __name__ == "__main__":
    main()
