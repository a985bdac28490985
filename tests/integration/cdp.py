"""A headless chromium driven over the Chrome DevTools Protocol, stdlib only: the browser for
the dashboard test and for scripts/dashboard-screenshots.sh.

Chromium is started with a throwaway --user-data-dir and --remote-debugging-port=0 on
127.0.0.1; the port it picked is read from DevToolsActivePort in that directory. The client
speaks just enough RFC 6455 (masked text frames out; text, continuation, ping and close frames
in) for CDP's JSON messages. Chromium is killed by its PID (and its process group, so the
renderer and GPU helpers go too) when the `with` block ends.
"""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request


def find_chromium():
    """Path of a chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(AssertionError):
    pass


class WebSocket:
    """One client websocket over a plain TCP socket (ws://127.0.0.1:PORT/PATH)."""

    def __init__(self, url, timeout):
        assert url.startswith("ws://"), url
        hostport, _, path = url[len("ws://"):].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CdpError("websocket handshake: connection closed")
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise CdpError("websocket handshake refused: %r" % head[:200])

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise CdpError("websocket closed by chromium")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_text(self, text):
        payload = text.encode()
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv_text(self):
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            if b1 & 0x80:  # servers do not mask, but be lenient
                mask = self._recv_exact(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._recv_exact(n)))
            else:
                data = self._recv_exact(n)
            if opcode == 0x8:
                raise CdpError("websocket closed by chromium")
            if opcode == 0x9:  # ping: answer with a masked pong carrying the same data
                mask = os.urandom(4)
                self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(data)) + mask +
                                  bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
                continue
            message += data
            if b0 & 0x80:
                return message.decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Chromium:
    """`with Chromium() as browser:` a headless chromium; browser.page() is its first tab."""

    def __init__(self, binary=None, timeout=20.0):
        self.binary = binary or find_chromium()
        self.timeout = timeout
        self.proc = None
        self.profile = None
        self.port = None
        self.log = None

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="ff-chromium-")
        self.log = tempfile.TemporaryFile(mode="w+b")
        cmd = [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--metrics-recording-only",
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--hide-scrollbars", "--user-data-dir=" + self.profile,
               "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"]
        # Its own process group, so the kill reaches the zygote and renderers as well.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError("chromium exited with %s: %s" % (self.proc.returncode, self.output()))
            try:
                with open(port_file) as f:
                    first = f.readline().strip()
                if first:
                    self.port = int(first)
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        else:
            self.close()
            raise CdpError("chromium wrote no DevToolsActivePort within %.0f s" % self.timeout)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def output(self):
        if not self.log:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def page(self):
        """A Page for the first tab (chromium opens one on about:blank)."""
        deadline = time.monotonic() + self.timeout
        while True:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port, timeout=5) as r:
                targets = [t for t in json.load(r) if t.get("type") == "page"]
            if targets:
                return Page(targets[0]["webSocketDebuggerUrl"], self.timeout)
            if time.monotonic() > deadline:
                raise CdpError("chromium has no page target")
            time.sleep(0.1)


class Page:
    """One tab: navigate, evaluate JavaScript, set the viewport, take screenshots."""

    def __init__(self, ws_url, timeout):
        self.ws = WebSocket(ws_url, timeout)
        self.next_id = 0
        self.timeout = timeout

    def call(self, method, **params):
        """Sends a CDP command and returns its result; events received meanwhile are dropped."""
        self.next_id += 1
        my_id = self.next_id
        self.ws.send_text(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv_text())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise CdpError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def navigate(self, url):
        self.call("Page.enable")
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise CdpError("navigate %s: %s" % (url, result["errorText"]))
        self.wait_for("document.readyState === 'complete'", what="the page to load")

    def evaluate(self, expression):
        """The value of a JavaScript expression (awaited when it is a promise), as JSON."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError("JavaScript error in %r: %s" % (expression[:80], result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None, what=None):
        """Polls `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise CdpError("timed out waiting for %s (last value %r)" % (what or expression, value))

    def set_viewport(self, width, height, scale=1, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale,
                  mobile=mobile)

    def screenshot(self, path, full_page=False):
        """Writes a PNG of the viewport (or, with full_page, the whole document) to `path`."""
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
