"""WebSocket through the real binary (issue 12.4-12.6): the `ws_echo` route with Debian's
python3-websockets client and raw sockets: echo of text and binary from 0 B to 16 MiB with and
without permessage-deflate, fragmented sends, ping/pong, close codes, 1007 / 1002 / 1009, the
handshake's refusals, stats, and drain (SIGTERM, reload) with open WebSockets: 1001 and an old
generation that exits within shutdown_timeout. Runs under /usr/bin/python3 (websockets)."""

import asyncio
import base64
import json
import os
import signal
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, http_get, main, scaled  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError:  # pragma: no cover - the CMake entry runs this under /usr/bin/python3
    websockets = None

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]


def ws_config(tmp, **extra):
    """A config file routing /ws to ws_echo (and /healthz for readiness); returns its path."""
    routes = [{"prefix": "/ws", "handler": "ws_echo"},
              {"prefix": "/proto", "handler": "ws_echo", "subprotocols": ["chat.v2", "chat.v1"],
               "origins": ["https://good.example"]},
              {"prefix": "/healthz", "handler": "healthz"}, {"prefix": "/stats", "handler": "stats"}]
    conf = {"routes": routes}
    conf.update(extra)
    path = os.path.join(tmp, "fastfork.json")
    with open(path, "w") as f:
        json.dump(conf, f)
    return path


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, scaled(timeout)))


# ---------------------------------------------------------------- raw client frames

def handshake(port, path="/ws", extra=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(5))
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n" + extra + b"\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.decode("latin-1"), rest


def frame(op, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def read_frame(s, buf=b""):
    """(opcode, payload, rest) of the next server frame; (None, b"", b"") at EOF."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
    try:
        need(2)
        op, n = buf[0] & 0x0F, buf[1] & 0x7F
        at = 2
        if n == 126:
            need(4)
            n, at = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            need(10)
            n, at = struct.unpack("!Q", buf[2:10])[0], 10
        need(at + n)
        return op, buf[at:at + n], buf[at + n:]
    except EOFError:
        return None, b"", b""


def close_code_of(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


def expect_close(test, s, rest, code):
    """Reads until the server's close frame; asserts its code and that the server then closes."""
    deadline = time.monotonic() + scaled(5)
    while time.monotonic() < deadline:
        op, payload, rest = read_frame(s, rest)
        test.assertIsNotNone(op, "connection ended without a close frame")
        if op == 0x8:
            test.assertEqual(close_code_of(payload), code, payload)
            s.settimeout(scaled(5))
            test.assertEqual(s.recv(100), b"", "the server closes TCP after a protocol error")
            s.close()
            return
    test.fail("no close frame")


@unittest.skipIf(websockets is None, "python3-websockets is not installed (run under /usr/bin/python3)")
class WebSocketEcho(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.srv = ServerProcess(["-c", ws_config(cls.tmp.name, websocket_max_message="17MiB")])
        cls.srv.start()
        cls.url = "ws://127.0.0.1:%d/ws" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        problem = cls.srv.stop()
        cls.tmp.cleanup()
        if problem:
            raise AssertionError(problem)

    def echo_all(self, compression):
        async def go():
            async with websockets.connect(self.url, max_size=None, compression=compression) as ws:
                ext = ws.response_headers.get("Sec-WebSocket-Extensions")
                for n in SIZES:
                    b = os.urandom(n)
                    await ws.send(b)
                    self.assertEqual(await ws.recv(), b, "binary %d bytes" % n)
                    t = ("ü" * n)[: max(0, n // 2)]
                    await ws.send(t)
                    self.assertEqual(await ws.recv(), t, "text %d chars" % len(t))
                return ext
        return run(go())

    def test_echo_0_to_16mib_without_deflate(self):
        self.assertIsNone(self.echo_all(None))

    def test_echo_0_to_16mib_with_deflate(self):
        ext = self.echo_all("deflate")
        self.assertIsNotNone(ext)
        self.assertIn("permessage-deflate", ext)

    def test_fragmented_sends_are_reassembled(self):
        async def go():
            async with websockets.connect(self.url, max_size=None, compression=None) as ws:
                await ws.send([b"ab", b"", b"cd" * 40000, b"e"])
                self.assertEqual(await ws.recv(), b"ab" + b"cd" * 40000 + b"e")
                await ws.send(["hé", "llo", " wörld"])
                self.assertEqual(await ws.recv(), "héllo wörld")
        run(go())

    def test_ping_is_answered_and_control_frames_between_fragments(self):
        async def go():
            async with websockets.connect(self.url, compression=None) as ws:
                t0 = time.monotonic()
                await asyncio.wait_for(await ws.ping(b"are you there"), scaled(5))
                return time.monotonic() - t0
        self.assertLess(run(go()), scaled(2))
        # Raw: a ping between two fragments of a message gets its pong first, then the message.
        s, head, rest = handshake(self.srv.port)
        self.assertIn(" 101 ", head.split("\r\n")[0])
        s.sendall(frame(0x1, b"frag", fin=False) + frame(0x9, b"p!") + frame(0x0, b"ment"))
        op, payload, rest = read_frame(s, rest)
        self.assertEqual((op, payload), (0xA, b"p!"))
        op, payload, rest = read_frame(s, rest)
        self.assertEqual((op, payload), (0x1, b"fragment"))
        s.close()

    def test_close_code_is_echoed(self):
        async def go():
            ws = await websockets.connect(self.url, compression=None)
            await ws.close(code=4321, reason="bye")
            return ws.close_code
        self.assertEqual(run(go()), 4321)

    def test_invalid_utf8_gets_1007(self):
        s, head, rest = handshake(self.srv.port)
        s.sendall(frame(0x1, b"ok \xc3\x28 not utf-8"))
        expect_close(self, s, rest, 1007)

    def test_unmasked_client_frame_gets_1002(self):
        s, head, rest = handshake(self.srv.port)
        s.sendall(frame(0x2, b"naked", mask=False))
        expect_close(self, s, rest, 1002)

    def test_oversize_message_gets_1009(self):
        async def go():
            async with websockets.connect(self.url, max_size=None, compression=None) as ws:
                await ws.send(b"x" * (17 << 20) + b"y")
                try:
                    await ws.recv()
                except websockets.exceptions.ConnectionClosed as e:
                    return e.rcvd.code if e.rcvd else None
        self.assertEqual(run(go()), 1009)

    def test_handshake_refusals(self):
        s, head, _ = handshake(self.srv.port, extra=b"")
        s.close()
        self.assertIn(" 101 ", head.split("\r\n")[0])
        self.assertIn("Connection: Upgrade", head)
        # Wrong version: 426 naming the one we speak (RFC 6455 §4.4).
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=scaled(5))
        raw.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        answer = raw.recv(4096).decode("latin-1")
        raw.close()
        self.assertIn(" 426 ", answer.split("\r\n")[0])
        self.assertIn("Sec-WebSocket-Version: 13", answer)
        # A plain GET is not an upgrade.
        status, _ = http_get(self.srv.port, "/ws")
        self.assertEqual(status, 400)

    def test_origin_hook_and_subprotocols(self):
        url = "ws://127.0.0.1:%d/proto" % self.srv.port

        async def go():
            async with websockets.connect(url, origin="https://good.example",
                                          subprotocols=["chat.v1", "chat.v2"]) as ws:
                chosen = ws.subprotocol
                await ws.send("hi")
                self.assertEqual(await ws.recv(), "hi")
            try:
                await websockets.connect(url, origin="https://evil.example")
            except websockets.exceptions.InvalidStatusCode as e:
                return chosen, e.status_code
            return chosen, None
        self.assertEqual(run(go()), ("chat.v2", 403))  # the server's preference wins

    def test_stats_count_websockets(self):
        def stats():
            _, body = http_get(self.srv.port, "/stats")
            return json.loads(body)["totals"]

        before = stats()

        async def go():
            async with websockets.connect(self.url, compression=None) as ws:
                for _ in range(10):
                    await ws.send("0123456789")
                    await ws.recv()
                return stats()
        during = run(go())
        self.assertGreaterEqual(during["websockets_open"], 1)
        self.assertEqual(during["websocket_messages_in"] - before["websocket_messages_in"], 10)
        self.assertEqual(during["websocket_messages_out"] - before["websocket_messages_out"], 10)
        self.assertEqual(during["websocket_bytes_in"] - before["websocket_bytes_in"], 100)


@unittest.skipIf(websockets is None, "python3-websockets is not installed (run under /usr/bin/python3)")
class WebSocketSettings(unittest.TestCase):
    def test_deflate_can_be_disabled(self):
        with tempfile.TemporaryDirectory() as tmp:
            with ServerProcess(["-c", ws_config(tmp, websocket_deflate=False)]) as srv:
                async def go():
                    async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port) as ws:  # offers deflate
                        await ws.send("x" * 5000)
                        self.assertEqual(await ws.recv(), "x" * 5000)
                        return ws.response_headers.get("Sec-WebSocket-Extensions")
                self.assertIsNone(run(go()))

    def test_keepalive_ping_reaches_a_silent_client(self):
        with tempfile.TemporaryDirectory() as tmp:
            with ServerProcess(["-c", ws_config(tmp, websocket_ping_interval="300ms")]) as srv:
                s, head, rest = handshake(srv.port)
                s.settimeout(scaled(3))
                op, payload, rest = read_frame(s, rest)
                self.assertEqual(op, 0x9, "a ping after the interval of silence")
                # No pong (nor anything else) within another interval: the server closes.
                t0 = time.monotonic()
                op, _, _ = read_frame(s, rest)
                self.assertIsNone(op)
                self.assertLess(time.monotonic() - t0, scaled(2))
                s.close()


@unittest.skipIf(websockets is None, "python3-websockets is not installed (run under /usr/bin/python3)")
class WebSocketDrain(unittest.TestCase):
    def test_sigterm_sends_1001_and_exits(self):
        with tempfile.TemporaryDirectory() as tmp:
            srv = ServerProcess(["-c", ws_config(tmp, shutdown_timeout="3s")])
            with srv:
                async def go():
                    conns = [await websockets.connect("ws://127.0.0.1:%d/ws" % srv.port) for _ in range(20)]
                    srv.signal(signal.SIGTERM)
                    codes = []
                    for ws in conns:
                        await ws.wait_closed()
                        codes.append(ws.close_code)
                    return codes
                t0 = time.monotonic()
                codes = run(go())
                self.assertEqual(codes, [1001] * 20)
                self.assertEqual(srv.wait(5), 0)
                self.assertLess(time.monotonic() - t0, scaled(2), "every client answered the close at once")

    def test_a_client_that_never_answers_does_not_hold_the_worker(self):
        with tempfile.TemporaryDirectory() as tmp:
            # Cut by the deadline: the worker exits 2 (exit_reason::shutdown_timeout).
            srv = ServerProcess(["-c", ws_config(tmp, shutdown_timeout="1500ms")], expect_exit_codes=(2,))
            with srv:
                s, head, rest = handshake(srv.port)  # reads nothing, answers nothing
                t0 = time.monotonic()
                srv.signal(signal.SIGTERM)
                rc = srv.wait(10)
                took = time.monotonic() - t0
                self.assertIsNotNone(rc)
                self.assertGreater(took, 1.0)
                self.assertLess(took, scaled(1.5) + 1.0)
                op, payload, _ = read_frame(s, rest)
                self.assertEqual((op, close_code_of(payload)), (0x8, 1001))
                s.close()

    def test_reload_closes_old_generation_websockets_with_1001(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = ws_config(tmp, shutdown_timeout="3s", workers=1)
            srv = ServerProcess(["-c", conf])
            srv.args = ["-c", conf]  # master mode: reloads need generations
            srv.start = _start_master.__get__(srv)
            with srv:
                async def go():
                    conns = [await websockets.connect("ws://127.0.0.1:%d/ws" % srv.port) for _ in range(10)]
                    old = json.loads(http_get(srv.port, "/healthz")[1])["pid"]
                    srv.signal(signal.SIGHUP)
                    srv.signalled = False
                    codes = []
                    for ws in conns:
                        await ws.wait_closed()
                        codes.append(ws.close_code)
                    t0 = time.monotonic()
                    while os.path.exists("/proc/%d" % old) and time.monotonic() - t0 < scaled(5):
                        await asyncio.sleep(0.05)
                    gone = not os.path.exists("/proc/%d/stat" % old) or _is_zombie(old)
                    async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port) as ws:
                        await ws.send("new generation")
                        echoed = await ws.recv()
                    return codes, gone, echoed
                codes, gone, echoed = run(go())
                self.assertEqual(codes, [1001] * 10)
                self.assertTrue(gone, "the old worker exited within shutdown_timeout")
                self.assertEqual(echoed, "new generation")


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _start_master(self):
    """ServerProcess.start without --single-process (the master with its workers)."""
    import subprocess
    from harness import FASTFORK_BIN, _live_processes, free_port
    self.port = free_port()
    self._log = tempfile.TemporaryFile(mode="w+b")
    cmd = [FASTFORK_BIN, "--listen", "127.0.0.1:%d" % self.port] + self.args
    self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                 preexec_fn=self._child_setup, close_fds=True)
    self.pid = self.proc.pid
    _live_processes[self.pid] = self.proc
    self._wait_ready()


if __name__ == "__main__":
    main()
