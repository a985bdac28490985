"""Syscalls per request, counted by `strace -f -c` attached to the running server (issues 3, 11).

Keep-alive load comes from wrk (keep-alive, and 16-deep pipelining through pipeline16.lua). The
number of requests is the server's own /healthz counter, read before and after, so requests cut
short when wrk stops are counted exactly as the server saw them.

The new-connection path (issue 11 item 1) is driven by a raw-socket client that keeps a fixed
number of one-request `Connection: close` connections in flight, a bounded number in all:
every syscall the worker makes while they run (epoll_wait included) is divided by the
connections, which the server's own accept counter confirms.
"""

import errno
import json
import os
import re
import selectors
import socket
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, http_get, main, scaled  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD_SECONDS = 3


def parse_strace_summary(text):
    """{syscall: calls} from the table printed by `strace -c`."""
    calls = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[-1] == "total" or fields[0].startswith(("%", "-")):
            continue
        try:
            float(fields[0])
            n = int(fields[3])
        except ValueError:
            continue
        calls[fields[-1]] = calls.get(fields[-1], 0) + n
    return calls


class Strace:
    """`strace -f -c -p PID` for the duration of a with-block."""

    def __init__(self, pid):
        self.pid = pid
        self.out = tempfile.NamedTemporaryFile(prefix="ff-strace-", suffix=".txt", delete=False)
        self.out.close()
        self.err = tempfile.TemporaryFile(mode="w+b")
        self.proc = None
        self.summary = ""

    def __enter__(self):
        self.proc = subprocess.Popen(["strace", "-f", "-c", "-o", self.out.name, "-p", str(self.pid)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + scaled(5)
        while time.monotonic() < deadline:
            text = self._stderr()
            if "attached" in text:
                return self
            if self.proc.poll() is not None:
                self._cleanup()
                raise unittest.SkipTest("strace cannot attach to pid %d: %s" % (self.pid, text.strip()))
            time.sleep(0.05)
        self._stop()
        self._cleanup()
        raise unittest.SkipTest("strace did not report attaching within 5 s: %s" % self._stderr().strip())

    def __exit__(self, *exc):
        self._stop()
        with open(self.out.name) as f:
            self.summary = f.read()
        self._cleanup()
        return False

    def _stderr(self):
        if self.err.closed:
            return ""
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # detach and print the summary
            try:
                self.proc.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _cleanup(self):
        self.err.close()
        try:
            os.unlink(self.out.name)
        except OSError:
            pass


def wrk(port, connections, seconds, script=None):
    cmd = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s"]
    if script:
        cmd += ["-s", script]
    cmd.append("http://127.0.0.1:%d/plaintext" % port)
    out = subprocess.run(cmd, capture_output=True, timeout=scaled(seconds + 30))
    text = out.stdout.decode("utf-8", "replace")
    if out.returncode != 0:
        raise AssertionError("wrk failed (%d): %s %s" % (out.returncode, text, out.stderr.decode()))
    m = re.search(r"(\d+) requests in", text)
    if not m:
        raise AssertionError("no request count in wrk output:\n" + text)
    if "Non-2xx" in text or "Socket errors" in text:
        raise AssertionError("wrk saw errors:\n" + text)
    return int(m.group(1)), text


CLOSE_REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def accepted_connections(srv):
    """The worker's connections_accepted counter, from GET /stats (one connection of its own)."""
    status, body = http_get(srv.port, "/stats")
    if status != 200:
        raise AssertionError("GET /stats answered %d: %r" % (status, body[:200]))
    return json.loads(body)["workers"][0]["connections_accepted"]


def close_mode_connections(port, total, in_flight, timeout):
    """Runs `total` connections, `in_flight` at a time: connect, send CLOSE_REQUEST, read to EOF.

    Returns the number answered `200` with `Connection: close`; raises on anything else.
    """
    sel = selectors.DefaultSelector()
    started = answered = 0
    deadline = time.monotonic() + timeout

    def start():
        nonlocal started
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise AssertionError("connect: %s" % os.strerror(rc))
        sel.register(s, selectors.EVENT_WRITE, bytearray())
        started += 1

    try:
        while started < min(in_flight, total):
            start()
        while answered < total:
            if time.monotonic() > deadline:
                raise AssertionError("%d of %d connections answered in %.0f s" % (answered, total, timeout))
            for key, events in sel.select(timeout=1.0):
                s, buf = key.fileobj, key.data
                if events & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError("connect: %s" % os.strerror(err))
                    s.sendall(CLOSE_REQUEST)  # a few dozen bytes into an empty send buffer
                    sel.modify(s, selectors.EVENT_READ, buf)
                    continue
                chunk = s.recv(65536)
                if chunk:
                    buf += chunk
                    continue
                sel.unregister(s)
                s.close()
                head = bytes(buf).split(b"\r\n\r\n", 1)[0].lower()
                if not head.startswith(b"http/1.1 200 ") or b"\r\nconnection: close" not in head:
                    raise AssertionError("unexpected answer: %r" % bytes(buf[:300]))
                answered += 1
                if started < total:
                    start()
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    return answered


@unittest.skipUnless(shutil.which("strace"), "strace is not installed")
class SyscallsPerCloseModeConnection(unittest.TestCase):
    CONNECTIONS = 2000
    IN_FLIGHT = 32

    def test_close_mode_connection_costs_at_most_4_5_syscalls(self):
        with ServerProcess() as srv:
            close_mode_connections(srv.port, 200, self.IN_FLIGHT, scaled(20))  # warm up the pools
            accepted_before = accepted_connections(srv)
            with Strace(srv.pid) as st:
                answered = close_mode_connections(srv.port, self.CONNECTIONS, self.IN_FLIGHT, scaled(60))
            # The stats request's own connection is accepted after the count was read.
            accepted = accepted_connections(srv) - accepted_before - 1
        calls = parse_strace_summary(st.summary)
        total = sum(calls.values())
        self.assertEqual(answered, self.CONNECTIONS)
        self.assertEqual(accepted, self.CONNECTIONS, "the server accepted another number of connections")
        per_connection = total / self.CONNECTIONS
        print("\n  %d close-mode connections (%d in flight): %d syscalls, %.3f per connection; %s" % (
            self.CONNECTIONS, self.IN_FLIGHT, total, per_connection,
            ", ".join("%s=%.3f" % (name, n / self.CONNECTIONS)
                      for name, n in sorted(calls.items(), key=lambda kv: -kv[1]))), file=sys.stderr)
        self.assertLessEqual(per_connection, 4.5, st.summary)


@unittest.skipUnless(shutil.which("strace"), "strace is not installed")
@unittest.skipUnless(shutil.which("wrk"), "wrk is not installed")
class SyscallsPerRequest(unittest.TestCase):
    def measure(self, connections, script=None):
        with ServerProcess() as srv:
            wrk(srv.port, connections, 1, script)  # warm up: fibers, buffers, contexts are pooled now
            before = srv.healthz()["requests"]
            with Strace(srv.pid) as st:
                wrk_count, wrk_text = wrk(srv.port, connections, LOAD_SECONDS, script)
            # Both /healthz requests count themselves: only `before`'s lies between the readings.
            served = srv.healthz()["requests"] - before - 1
        calls = parse_strace_summary(st.summary)
        total = sum(calls.values())
        self.assertGreater(total, 0, "empty strace summary:\n" + st.summary)
        self.assertGreater(served, 2000, "too little load to measure:\n" + wrk_text)
        per_request = total / served
        top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
        print("\n  %d connections%s: %d requests served (wrk counted %d), %d syscalls, %.3f per request; %s" % (
            connections, " pipelined" if script else "", served, wrk_count, total, per_request,
            ", ".join("%s=%d" % kv for kv in top)), file=sys.stderr)
        return per_request, st.summary

    def test_keepalive_16_connections(self):
        per_request, summary = self.measure(16)
        self.assertLessEqual(per_request, 2.2, summary)

    def test_pipelined_16_deep_64_connections(self):
        per_request, summary = self.measure(64, os.path.join(HERE, "pipeline16.lua"))
        self.assertLessEqual(per_request, 0.3, summary)


if __name__ == "__main__":
    main()
