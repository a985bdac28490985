"""Bounded HTTP load from threads, counting every outcome exactly, for the upgrade and
scale-down tests: keep-alive clients (http.client, reconnecting when the server says
Connection: close) and new-connection-per-request clients (raw sockets). Each success is one
2xx response read in full; everything else is an error, kept with its kind (reset, refused,
eof, timeout, status) so a test can assert 0 and print what went wrong.

Stdlib only.
"""

import collections
import errno
import http.client
import socket
import threading
import time

from harness import scaled


def fresh_request(port, request, timeout, host="127.0.0.1"):
    """Sends `request` on a new connection and reads until the server closes it: the bytes read.
    Connect and read errors (timeouts included) are raised."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()


class Load:
    """`with Load(port, keepalive=4, fresh=4) as load:` runs until the block ends (or
    `seconds`, a cap); then load.ok (2xx count), load.errors (Counter of kinds), load.samples."""

    def __init__(self, port, keepalive=4, fresh=4, path="/plaintext", seconds=50, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.path = path
        self.keepalive = keepalive
        self.fresh = fresh
        self.cap = seconds
        self.ok = 0
        self.errors = collections.Counter()
        self.samples = []  # the first few error descriptions
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def __enter__(self):
        deadline = time.monotonic() + self.cap
        for _ in range(self.keepalive):
            self._threads.append(threading.Thread(target=self._keepalive_loop, args=(deadline,), daemon=True))
        for _ in range(self.fresh):
            self._threads.append(threading.Thread(target=self._fresh_loop, args=(deadline,), daemon=True))
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=scaled(15))
        if any(t.is_alive() for t in self._threads):
            raise AssertionError("load threads did not stop")

    def total_errors(self):
        return sum(self.errors.values())

    def _record(self, ok, kind=None, what=None):
        with self._lock:
            if ok:
                self.ok += 1
            else:
                self.errors[kind] += 1
                if len(self.samples) < 10:
                    self.samples.append("%s: %s" % (kind, what))

    @staticmethod
    def _kind(e):
        if isinstance(e, ConnectionResetError):
            return "reset"
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        if isinstance(e, (socket.timeout, TimeoutError)):
            return "timeout"
        if isinstance(e, (http.client.RemoteDisconnected, http.client.IncompleteRead, BrokenPipeError)):
            return "eof"
        if isinstance(e, OSError) and e.errno == errno.ECONNRESET:
            return "reset"
        return type(e).__name__

    def _keepalive_loop(self, deadline):
        conn = None
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=scaled(10))
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                if 200 <= r.status < 300:
                    self._record(True)
                else:
                    self._record(False, "status", r.status)
                if r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure is counted by kind
                self._record(False, self._kind(e), repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def _fresh_loop(self, deadline):
        request = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % self.path).encode()
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data = fresh_request(self.port, request, scaled(10), self.host)
                if not data:
                    self._record(False, "eof", "no response")
                elif data.startswith(b"HTTP/1.1 2"):
                    self._record(True)
                else:
                    self._record(False, "status", data[:40])
            except Exception as e:  # noqa: BLE001 - every failure is counted by kind
                self._record(False, self._kind(e), repr(e))
