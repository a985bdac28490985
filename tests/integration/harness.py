"""Integration harness: starts the real `fastfork` and talks to it over raw sockets.

The server guard follows h2o t/Util.pm spawn_server (STYLE.md 7.12): a free port, poll until
ready, then a teardown that sends TERM, waits, escalates to KILL, and fails the test when the
process died by a signal nobody sent it on purpose. Every deadline is scaled by
FF_TEST_TIMEOUT_MULTIPLIER (sanitizer builds set it higher).

Stdlib only.
"""

import atexit
import http.client
import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import weakref

FASTFORK_BIN = os.environ.get("FASTFORK_BIN") or "/work/main/build-me/master/fastfork"


def _multiplier():
    try:
        m = float(os.environ.get("FF_TEST_TIMEOUT_MULTIPLIER") or "1")
    except ValueError:
        m = 1.0
    return m if m > 0 else 1.0


TIMEOUT_MULTIPLIER = _multiplier()


def scaled(seconds):
    """A deadline in seconds, scaled for slow (sanitizer) builds."""
    return seconds * TIMEOUT_MULTIPLIER


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1 (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile_limit():
    """Raise this process's RLIMIT_NOFILE soft limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- server process

_live_processes = {}  # pid -> Popen; killed at interpreter exit whatever happened
_alias_dir = None


def _server_executable():
    """The binary, run through a symlink with a distinct name.

    Other sessions on a shared machine clean up with `pkill fastfork`; under its own process
    name the server under test is not caught by that and our tests stay deterministic.
    """
    global _alias_dir
    if os.environ.get("FF_TEST_NO_ALIAS"):
        return FASTFORK_BIN
    if _alias_dir is None:
        _alias_dir = tempfile.mkdtemp(prefix="ff-itest-")
        os.symlink(os.path.abspath(FASTFORK_BIN), os.path.join(_alias_dir, "ff-itest-server"))
    return os.path.join(_alias_dir, "ff-itest-server")


@atexit.register
def _kill_leftovers():
    for pid, proc in list(_live_processes.items()):
        if proc.poll() is None:
            try:
                os.kill(pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
    _live_processes.clear()
    if _alias_dir is not None:
        try:
            os.unlink(os.path.join(_alias_dir, "ff-itest-server"))
            os.rmdir(_alias_dir)
        except OSError:
            pass


class ServerError(AssertionError):
    pass


class ManagedProcess:
    """A `with` block around a server: start() on entry; on exit stop(), which returns a problem
    description (or None), and the block fails with it unless it already failed."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        problem = self.stop()
        if problem and exc_type is None:
            raise ServerError(problem)
        return False


class ServerProcess(ManagedProcess):
    """`with ServerProcess(["--concurrency", "10"]) as srv:` runs `fastfork --single-process`.

    srv.port, srv.pid, srv.proc; srv.returncode once it has exited. On exit from the block the
    server gets SIGTERM (if still running), then SIGKILL after 10 s. The block fails when the
    process died of a signal other than the ones listed in `allowed_signals`, or had to be killed.
    """

    def __init__(self, args=(), preexec_fn=None, ready_timeout=10.0, allowed_signals=(), expect_exit_codes=(0,)):
        self.args = list(args)
        self.preexec_fn = preexec_fn
        self.ready_timeout = scaled(ready_timeout)
        self.allowed_signals = set(allowed_signals)
        self.expect_exit_codes = set(expect_exit_codes)
        self.port = None
        self.proc = None
        self.pid = None
        self.returncode = None
        self.killed = False
        self.signalled = False  # the test (or teardown) sent a signal: an exit is expected
        self._log = None
        self._log_text = None

    def start(self):
        if not os.path.exists(FASTFORK_BIN):
            raise unittest.SkipTest("fastfork binary not found at %s (set FASTFORK_BIN)" % FASTFORK_BIN)
        last_error = None
        for _attempt in range(3):  # the free port may be taken by someone else in between
            self.port = free_port()
            self.signalled = False
            self.killed = False
            self._log_text = None
            self._log = tempfile.TemporaryFile(mode="w+b")
            cmd = [_server_executable(), "--single-process", "--listen", "127.0.0.1:%d" % self.port] + self.args
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                         preexec_fn=self._child_setup, close_fds=True)
            self.pid = self.proc.pid
            _live_processes[self.pid] = self.proc
            try:
                self._wait_ready()
                return
            except ServerError as e:
                last_error = e
                self.stop()
                if "Address already in use" not in self.log():
                    raise
        raise last_error

    def _child_setup(self):
        # In the child, before exec: die with the test process even if it is SIGKILLed (a CTest
        # timeout), so no server outlives its test. Best effort: Linux only.
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if self.preexec_fn:
            self.preexec_fn()

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("fastfork exited with %s during startup; log:\n%s" % (self.proc.returncode, self.log()))
            try:
                status, _ = http_get(self.port, "/healthz", timeout=1.0)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        raise ServerError("fastfork did not answer GET /healthz within %.1f s; log:\n%s" % (self.ready_timeout, self.log()))

    def signal(self, signum):
        if self.proc and self.proc.poll() is None:
            self.signalled = True
            os.kill(self.pid, signum)

    def wait(self, timeout):
        """Wait for the process to exit; returns its return code or None on timeout."""
        try:
            self.returncode = self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            return None
        _live_processes.pop(self.pid, None)
        return self.returncode

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """TERM, wait 10 s, KILL. Returns a description of what went wrong, or None."""
        if self.proc is None:
            return None
        exited_by_itself = self.proc.poll() is not None and not self.signalled
        if self.proc.poll() is None:
            self.signalled = True
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
            if self.wait(10.0) is None:
                self.killed = True
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.returncode = self.proc.wait()
        self.returncode = self.proc.returncode
        _live_processes.pop(self.pid, None)
        self._close_log()
        if exited_by_itself:
            return "fastfork (pid %d) exited by itself with %s before the test stopped it; log:\n%s" % (
                self.pid, self._describe(self.returncode), self.log())
        if self.killed:
            return "fastfork (pid %d) did not exit within %.0f s of SIGTERM and was killed; log:\n%s" % (
                self.pid, scaled(10.0), self.log())
        rc = self.returncode
        if rc < 0 and -rc not in self.allowed_signals:
            return "fastfork (pid %d) died of signal %d (%s); log:\n%s" % (
                self.pid, -rc, signal.Signals(-rc).name, self.log())
        if rc >= 0 and rc not in self.expect_exit_codes:
            return "fastfork (pid %d) exited with %d (expected %s); log:\n%s" % (
                self.pid, rc, sorted(self.expect_exit_codes), self.log())
        return None

    @staticmethod
    def _describe(rc):
        if rc is None:
            return "no exit status"
        if rc < 0:
            return "signal %d (%s)" % (-rc, signal.Signals(-rc).name)
        return "exit code %d" % rc

    def _close_log(self):
        if self._log is not None:
            self._log_text = self.log()
            self._log.close()
            self._log = None

    def log(self):
        """The server's stdout and stderr so far (the last 8000 characters)."""
        if self._log is None:
            return self._log_text or ""
        try:
            self._log.flush()
            self._log.seek(0)
            text = self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return text[-8000:]

    # -- conveniences

    def healthz(self):
        status, body = http_get(self.port, "/healthz")
        if status != 200:
            raise AssertionError("GET /healthz answered %d: %r" % (status, body))
        return json.loads(body)

    def cpu_seconds(self):
        """utime + stime of the server process, from /proc/PID/stat."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- clients

def http_get(port, path, timeout=5.0, method="GET", body=None, headers=None):
    """One request on a fresh http.client connection; returns (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(timeout))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_raw(port, data, timeout=5.0):
    """Open a connection, send `data`, return the socket (the caller closes it)."""
    s = connect(port, timeout)
    try:
        if data:
            s.sendall(data)
    except BaseException:
        s.close()
        raise
    return s


class Response:
    def __init__(self, version, status, reason, headers, body, raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) in wire order
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has_token(self, name, token):
        """True when the comma-separated header `name` lists `token` (case-insensitive)."""
        token = token.lower()
        return any(token == t.strip().lower() for v in self.header_all(name) for t in v.split(","))

    def __repr__(self):
        return "<Response %s %d %r headers=%r body=%r>" % (self.version, self.status, self.reason, self.headers,
                                                          self.body[:200])


class IncompleteResponse(Exception):
    pass


def _parse_chunked(buf, start):
    """Decode a chunked body starting at `start`; returns (body, end) or None when incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        size = int(size_text, 16)
        pos = eol + 2
        if size == 0:
            # trailers until an empty line
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                line = buf[pos:eol]
                pos = eol + 2
                if not line:
                    return bytes(body), pos
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos:pos + size]
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError("bad chunk terminator in response")
        pos += size + 2


def parse_response(buf, head_request=False, eof=False):
    """Parse one response at the start of `buf`.

    Returns (Response, bytes consumed), or None when more bytes are needed. With eof=True a
    response delimited by the connection close takes the rest of the buffer.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("bad status line %r" % lines[0])
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError("bad header line %r" % line)
        headers.append((name, value.strip()))
    r = Response(version, status, reason, headers, b"", None)
    body_start = end + 4
    te = r.header("Transfer-Encoding")
    cl = r.header("Content-Length")
    if head_request or 100 <= status < 200 or status in (204, 304):
        consumed = body_start
    elif te is not None and "chunked" in te.lower():
        got = _parse_chunked(buf, body_start)
        if got is None:
            return None
        r.body, consumed = got
    elif cl is not None:
        n = int(cl)
        if len(buf) < body_start + n:
            return None
        r.body = bytes(buf[body_start:body_start + n])
        consumed = body_start + n
    else:
        if not eof:
            return None
        r.body = bytes(buf[body_start:])
        consumed = len(buf)
    r.raw = bytes(buf[:consumed])
    return r, consumed


# Bytes read past the end of one response, kept for the next read_response on that socket.
_leftovers = weakref.WeakKeyDictionary()


def read_response(sock, timeout=5.0, head_request=False):
    """Read exactly one response from `sock` (bytes past it stay buffered for the next call).

    Raises socket.timeout when no complete response arrives in time, and IncompleteResponse when
    the peer closes first.
    """
    buf = _leftovers.pop(sock, bytearray())
    deadline = time.monotonic() + scaled(timeout)
    eof = False
    while True:
        got = parse_response(buf, head_request=head_request, eof=eof) if buf else None
        if got is not None:
            r, consumed = got
            rest = buf[consumed:]
            if rest:
                _leftovers[sock] = rest
            return r
        if eof:
            raise IncompleteResponse("connection closed after %d bytes: %r" % (len(buf), bytes(buf[:300])))
        left = deadline - time.monotonic()
        if left <= 0:
            _leftovers[sock] = buf
            raise socket.timeout("no complete response within %.1f s; got %r" % (scaled(timeout), bytes(buf[:300])))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            _leftovers[sock] = buf
            raise socket.timeout("no complete response within %.1f s; got %r" % (scaled(timeout), bytes(buf[:300])))
        if not chunk:
            eof = True
        else:
            buf += chunk


def read_until_close(sock, timeout=5.0):
    """Read until the peer's FIN; returns the bytes (including any left from read_response).

    Raises socket.timeout when the connection is still open after `timeout` seconds, and lets
    ConnectionResetError through (an RST instead of a FIN is a failure for the callers).
    """
    buf = bytearray(_leftovers.pop(sock, b""))
    deadline = time.monotonic() + scaled(timeout)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("connection still open after %.1f s; got %r" % (scaled(timeout), bytes(buf[:300])))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise socket.timeout("connection still open after %.1f s; got %r" % (scaled(timeout), bytes(buf[:300])))
        if not chunk:
            return bytes(buf)
        buf += chunk


def request_bytes(path="/plaintext", method="GET", host="localhost", headers=(), body=b"", version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    lines.extend("%s: %s" % (k, v) for k, v in headers)
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ---------------------------------------------------------------- many connections at once

class ConnResult:
    def __init__(self, index):
        self.index = index
        self.responses = []
        self.error = None
        self.started = None
        self.finished = None


def run_connections(port, scripts, timeout=10.0, connect_timeout=None):
    """Drive many connections at once from one thread with selectors.

    `scripts` is a list, one entry per connection, of batches (bytes to send, responses
    expected). Every connection connects, then for each batch sends the bytes in one write and
    reads that many responses. Returns a list of ConnResult (responses, or an error string).
    """
    raise_nofile_limit()
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + scaled(timeout)
    results = [ConnResult(i) for i in range(len(scripts))]
    state = {}
    try:
        for i, script in enumerate(scripts):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            results[i].started = time.monotonic()
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, 115):  # EINPROGRESS
                results[i].error = "connect: %s" % os.strerror(err)
                s.close()
                continue
            st = {"sock": s, "script": list(script), "batch": 0, "out": b"", "want": 0, "buf": bytearray(),
                  "connected": False, "res": results[i]}
            state[s.fileno()] = st
            sel.register(s, selectors.EVENT_WRITE, st)
        while state:
            left = deadline - time.monotonic()
            if left <= 0:
                for st in state.values():
                    st["res"].error = "timeout after %d responses (buffer %r)" % (len(st["res"].responses),
                                                                                  bytes(st["buf"][:200]))
                break
            for key, events in sel.select(timeout=min(left, 0.5)):
                st = key.data
                s = st["sock"]
                done = False
                try:
                    if not st["connected"]:
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise OSError(err, "connect: " + os.strerror(err))
                        st["connected"] = True
                        done = _next_batch(st)
                    if not done and st["out"] and events & selectors.EVENT_WRITE:
                        n = s.send(st["out"])
                        st["out"] = st["out"][n:]
                    if not done and events & selectors.EVENT_READ:
                        chunk = s.recv(262144)
                        if not chunk:
                            raise IncompleteResponse("closed by the server after %d responses (buffer %r)" % (
                                len(st["res"].responses), bytes(st["buf"][:200])))
                        st["buf"] += chunk
                        while st["want"] > 0:
                            got = parse_response(st["buf"])
                            if got is None:
                                break
                            r, consumed = got
                            del st["buf"][:consumed]
                            st["res"].responses.append(r)
                            st["want"] -= 1
                        if st["want"] == 0:
                            done = _next_batch(st)
                    if not done:
                        sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if st["out"] else 0), st)
                except (OSError, ValueError, IncompleteResponse) as e:
                    st["res"].error = "%s: %s" % (type(e).__name__, e)
                    done = True
                if done:
                    st["res"].finished = time.monotonic()
                    sel.unregister(s)
                    del state[s.fileno()]
                    s.close()
    finally:
        for st in state.values():
            try:
                sel.unregister(st["sock"])
            except (KeyError, ValueError):
                pass
            st["sock"].close()
        sel.close()
    return results



class BackgroundConnections(threading.Thread):
    """run_connections(port, scripts, timeout) in a thread: .results (or .exc) once joined."""

    def __init__(self, port, scripts, timeout):
        super().__init__(daemon=True)
        self.args = (port, scripts, timeout)
        self.results = None
        self.exc = None

    def run(self):
        try:
            self.results = run_connections(*self.args)
        except BaseException as e:  # noqa: BLE001 - re-raised by the test thread
            self.exc = e

    def finish(self, timeout):
        """Joins within `timeout` (scaled), re-raises the thread's error, returns the results."""
        self.join(scaled(timeout))
        if self.is_alive():
            raise AssertionError("client thread still running after %.1f s" % scaled(timeout))
        if self.exc:
            raise self.exc
        return self.results

def _next_batch(st):
    """Queue the next batch of a connection; True when the script is finished."""
    if st["batch"] >= len(st["script"]):
        return True
    data, want = st["script"][st["batch"]]
    st["batch"] += 1
    st["out"] = data
    st["want"] = want
    return False


def main():
    """unittest main with verbosity 2; exits non-zero on failure."""
    unittest.main(verbosity=2, buffer=False)


if __name__ == "__main__":
    sys.exit("harness.py is a library; run the test_*.py files")
