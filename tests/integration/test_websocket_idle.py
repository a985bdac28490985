"""10,000 idle WebSockets on one worker (issue 12): the memory each costs (PSS of the worker,
reported) and the fiber count, which stays at the messages in flight, not the connections
open. Plain build only (ASan's allocator never gives memory back); raw sockets, no library."""

import base64
import os
import select
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, http_get, main, raise_nofile_limit, scaled  # noqa: E402
from test_websocket import frame, ws_config  # noqa: E402

COUNT = 10_000


def pss_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise AssertionError("no Pss in smaps_rollup")


def healthz(port):
    import json
    return json.loads(http_get(port, "/healthz")[1])


def upgrade_all(port, n):
    """n WebSockets, handshakes pipelined in batches; returns the sockets once all got 101."""
    key = base64.b64encode(b"0123456789abcdef")
    req = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
    socks = []
    for start in range(0, n, 500):
        batch = []
        for _ in range(min(500, n - start)):
            s = socket.create_connection(("127.0.0.1", port), timeout=scaled(10))
            s.sendall(req)
            batch.append(s)
        for s in batch:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    raise AssertionError("connection closed during the handshake")
                head += chunk
            if not head.startswith(b"HTTP/1.1 101"):
                raise AssertionError(head[:200])
        socks.extend(batch)
    return socks


class IdleWebSockets(unittest.TestCase):
    def test_ten_thousand_idle_websockets(self):
        if raise_nofile_limit() < COUNT + 200:
            self.skipTest("RLIMIT_NOFILE too low for %d sockets" % COUNT)
        with tempfile.TemporaryDirectory() as tmp:
            # No keep-alive ping during the test: idle means idle.
            conf = ws_config(tmp, websocket_ping_interval="0s", max_connections=COUNT + 100)
            with ServerProcess(["-c", conf], preexec_fn=raise_nofile_limit) as srv:
                # Warm up every pool and the code with a few hundred, then measure from there.
                warm = upgrade_all(srv.port, 200)
                for s in warm:
                    s.close()
                time.sleep(0.5)
                before = pss_kib(srv.pid)
                socks = upgrade_all(srv.port, COUNT)
                time.sleep(0.5)
                after = pss_kib(srv.pid)
                h = healthz(srv.port)
                per_ws = (after - before) * 1024 / COUNT
                print("\n%d idle WebSockets: worker PSS %d -> %d KiB, %.0f bytes per idle WebSocket; "
                      "fibers live %d, idle %d" % (COUNT, before, after, per_ws, h["fibers_live"], h["fibers_idle"]))
                # The only fiber bound is the one answering this /healthz.
                self.assertEqual(h["fibers_live"] - h["fibers_idle"], 1, h)
                self.assertLess(h["fibers_live"], 64, "no fiber per WebSocket")
                self.assertLess(per_ws, 4096, "an idle WebSocket costs a small struct, not a stack or buffer")
                # 100 messages in flight at once: every one is echoed, and the fibers they used go
                # back to the pool (live - idle is the in-flight count, here the /healthz again).
                chosen = socks[:100]
                for s in chosen:
                    s.sendall(frame(0x1, b"ping me back"))
                pending = set(chosen)
                deadline = time.monotonic() + scaled(10)
                while pending and time.monotonic() < deadline:
                    ready, _, _ = select.select(list(pending), [], [], 1.0)
                    for s in ready:
                        data = s.recv(100)
                        self.assertEqual(data, b"\x81\x0cping me back")
                        pending.discard(s)
                self.assertFalse(pending, "every message echoed")
                h = healthz(srv.port)
                self.assertEqual(h["fibers_live"] - h["fibers_idle"], 1, h)
                self.assertLess(h["fibers_live"], 120, h)
                for s in socks:
                    s.close()


if __name__ == "__main__":
    main()
