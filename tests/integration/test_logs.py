"""Access logs, gzip and routes (issue 6) against the real server: access log lines counted
against the requests sent (combined and JSON), a logrotate-style rename plus SIGUSR1 under load
that loses no line, gzip negotiated with curl --compressed and http.client, and a `routes`
config with two static roots and built-ins at custom prefixes (longest prefix wins).
"""

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FASTFORK_BIN, ServerProcess, connect, main, read_response, scaled  # noqa: E402
from master_harness import MasterProcess  # noqa: E402

COMBINED = re.compile(r'^(\S+) - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] '
                      r'"(?:(\S+) (\S+) (HTTP/1\.[01])|-)" (\d{3}) (\d+) "((?:[^"\\]|\\x[0-9a-f]{2})*)" '
                      r'"((?:[^"\\]|\\x[0-9a-f]{2})*)"$')
JSON_KEYS = ["time", "remote", "method", "target", "version", "status", "bytes", "referer", "user_agent",
             "duration_us", "worker"]


def read_lines(*paths):
    out = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue
        assert not data or data.endswith(b"\n"), "%s ends with a partial line: %r" % (p, data[-80:])
        out += data.decode("utf-8").splitlines()
    return out


def wait_for_lines(paths, predicate, want, timeout):
    """Polls until `want` lines of `paths` satisfy `predicate`; returns the lines that do."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        got = [line for line in read_lines(*paths) if predicate(line)]
        if len(got) >= want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def get(port, path, headers=None, method="GET", body=None, conn=None):
    """(status, headers dict lower-cased, body) on `conn` or a fresh connection."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(5))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            c.close()


class LogDir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ff-logs-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)


class AccessLog(LogDir):
    def test_combined_lines_match_the_requests_sent_and_flush_within_a_second(self):
        log = self.path("access.log")
        with ServerProcess(["--access-log", log]) as srv:
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=scaled(5))
            headers = {"User-Agent": "ff-test/1.0", "Referer": "http://ref.example/"}
            for i in range(40):
                status, _, body = get(srv.port, "/plaintext?id=%d" % i, headers=headers, conn=c)
                self.assertEqual((status, body), (200, b"Hello, World!"))
            self.assertEqual(get(srv.port, "/no-such-thing", conn=c)[0], 404)
            self.assertEqual(get(srv.port, "/plaintext?id=head", method="HEAD", conn=c)[0], 200)
            c.close()
            # A request the server refuses itself (no Host): logged without a request line.
            s = connect(srv.port)
            s.sendall(b"GET /x HTTP/1.1\r\n\r\n")
            self.assertEqual(read_response(s).status, 400)
            s.close()
            # No restart, no signal: the sweep writes the buffer out within a second.
            lines = wait_for_lines([log], lambda l: "/plaintext?id=" in l, 41, timeout=1.5)
            self.assertEqual(len(lines), 41, read_lines(log))
            for line in lines:
                m = COMBINED.match(line)
                self.assertIsNotNone(m, line)
                remote, _, method, target, version, status, size, referer, agent = m.groups()
                self.assertEqual(remote, "127.0.0.1")
                self.assertEqual(version, "HTTP/1.1")
                self.assertEqual(int(status), 200)
                if method == "HEAD":
                    self.assertEqual(int(size), 0)
                else:
                    self.assertEqual((method, int(size), referer, agent), ("GET", 13, "http://ref.example/",
                                                                           "ff-test/1.0"))
            ids = sorted(COMBINED.match(l).group(4) for l in lines)
            self.assertEqual(ids, sorted(["/plaintext?id=%d" % i for i in range(40)] + ["/plaintext?id=head"]))
            everything = wait_for_lines([log], lambda l: '" 400 ' in l, 1, timeout=1.5)
            self.assertEqual(len(everything), 1)
            self.assertIn('"-" 400 ', everything[0])
            self.assertTrue(any('"GET /no-such-thing HTTP/1.1" 404 ' in l for l in read_lines(log)))

    def test_lines_buffered_at_exit_are_written(self):
        log = self.path("access.log")
        srv = ServerProcess(["--access-log", log])
        srv.start()
        try:
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=scaled(5))
            for i in range(25):
                self.assertEqual(get(srv.port, "/json?exit=%d" % i, conn=c)[0], 200)
            c.close()
        finally:
            problem = srv.stop()  # SIGTERM right away: the drain's end flushes
        self.assertIsNone(problem)
        self.assertEqual(len([l for l in read_lines(log) if "/json?exit=" in l]), 25)

    def test_json_lines_parse_and_have_the_keys(self):
        log = self.path("access.json")
        with ServerProcess(["--access-log", log, "--access-log-format", "json"]) as srv:
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=scaled(5))
            self.assertEqual(get(srv.port, "/plaintext?fmt=1", headers={"User-Agent": 'quote"and\\back'},
                                 conn=c)[0], 200)
            self.assertEqual(get(srv.port, "/json?fmt=2", method="POST", body=b"x" * 10, conn=c)[0], 200)
            self.assertEqual(get(srv.port, "/sleep?ms=20&fmt=3", conn=c)[0], 200)
            c.close()
            lines = wait_for_lines([log], lambda l: "fmt=" in l, 3, timeout=1.5)
        self.assertEqual(len(lines), 3)
        for line in lines:
            obj = json.loads(line, object_pairs_hook=lambda pairs: pairs)
            self.assertEqual([k for k, _ in obj], JSON_KEYS)
            d = dict(obj)
            self.assertRegex(d["time"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
            self.assertEqual(d["remote"], "127.0.0.1")
            self.assertEqual(d["version"], "HTTP/1.1")
            self.assertEqual(d["status"], 200)
            self.assertEqual(d["worker"], 0)
            for k in ("status", "bytes", "duration_us", "worker"):
                self.assertIsInstance(d[k], int)
        by_target = {dict(json.loads(l))["target"]: json.loads(l) for l in lines}
        self.assertEqual(by_target["/plaintext?fmt=1"]["user_agent"], 'quote"and\\back')
        self.assertEqual(by_target["/plaintext?fmt=1"]["bytes"], 13)
        self.assertEqual(by_target["/json?fmt=2"]["method"], "POST")
        self.assertGreaterEqual(by_target["/sleep?ms=20&fmt=3"]["duration_us"], 20000)

    def test_rename_and_sigusr1_under_load_lose_no_line(self):
        log = self.path("access.log")
        completed = [0]
        failures = []
        stop = threading.Event()
        lock = threading.Lock()

        def load(port):
            n = 0
            conn = None
            while not stop.is_set():
                try:
                    if conn is None or n % 25 == 0:  # new connections now and then: both workers see load
                        if conn is not None:
                            conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(5))
                    status, _, body = get(port, "/plaintext?load=%d" % n, conn=conn)
                    if status != 200 or body != b"Hello, World!":
                        failures.append((status, body))
                        return
                    n += 1
                    with lock:
                        completed[0] += 1
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    return
            if conn is not None:
                conn.close()

        with MasterProcess(["--access-log", log], workers=2) as m:
            threads = [threading.Thread(target=load, args=(m.port,)) for _ in range(4)]
            for t in threads:
                t.start()
            try:
                time.sleep(scaled(0.7))
                os.rename(log, log + ".1")  # logrotate: rename, then tell the master
                m.signal(signal.SIGUSR1)
                time.sleep(scaled(0.8))
                os.rename(log, log + ".2")
                m.signal(signal.SIGUSR1)
                time.sleep(scaled(0.8))
            finally:
                stop.set()
                for t in threads:
                    t.join(scaled(10))
            self.assertEqual(failures, [])
            # Graceful stop: each worker writes what it buffered when its drain ends.
            self.assertIsNone(m.stop())
        files = [log + ".1", log + ".2", log]
        per_file = [len([l for l in read_lines(f) if "/plaintext?load=" in l]) for f in files]
        self.assertGreater(completed[0], 100)
        self.assertEqual(sum(per_file), completed[0], "lines per file %r" % per_file)
        for f, n in zip(files, per_file):
            self.assertGreater(n, 0, "%s got no lines: a worker did not reopen" % f)
        malformed = [l for f in files for l in read_lines(f) if not COMBINED.match(l)]
        self.assertEqual(malformed, [])  # every line whole: no two workers' lines interleaved


class Gzip(unittest.TestCase):
    def test_large_json_is_gzipped_when_accepted_and_plaintext_never(self):
        with ServerProcess([]) as srv:
            status, h, raw = get(srv.port, "/stats", headers={"Accept-Encoding": "gzip"})
            self.assertEqual(status, 200)
            self.assertEqual(h.get("content-encoding"), "gzip")
            self.assertEqual(h.get("vary"), "Accept-Encoding")
            self.assertEqual(int(h["content-length"]), len(raw))
            plain = gzip.decompress(raw)
            self.assertGreaterEqual(len(plain), 1024, "the /stats document is too small to test the default")
            self.assertLess(len(raw), len(plain))
            json.loads(plain)

            status, h, body = get(srv.port, "/stats")  # no Accept-Encoding: identity, but Vary
            self.assertNotIn("content-encoding", h)
            self.assertEqual(h.get("vary"), "Accept-Encoding")
            json.loads(body)

            status, h, body = get(srv.port, "/stats", headers={"Accept-Encoding": "gzip;q=0, br"})
            self.assertNotIn("content-encoding", h)

            for path in ("/plaintext", "/json"):
                status, h, body = get(srv.port, path, headers={"Accept-Encoding": "gzip, deflate"})
                self.assertEqual(status, 200)
                self.assertNotIn("content-encoding", h)
                self.assertNotIn("vary", h)
            self.assertEqual(body, b'{"message":"Hello, World!"}')

            curl = shutil.which("curl")
            if curl:
                r = subprocess.run([curl, "-sS", "--compressed", "-D", "-", "-o", "-",
                                    "http://127.0.0.1:%d/stats" % srv.port],
                                   capture_output=True, timeout=scaled(10))
                self.assertEqual(r.returncode, 0, r.stderr)
                head, _, body = r.stdout.partition(b"\r\n\r\n")
                self.assertRegex(head.decode(), r"(?im)^content-encoding: gzip\r?$")
                json.loads(body)  # curl decompressed it
                r = subprocess.run([curl, "-sS", "--compressed", "-D", "-", "-o", "/dev/null",
                                    "http://127.0.0.1:%d/plaintext" % srv.port],
                                   capture_output=True, timeout=scaled(10))
                self.assertNotRegex(r.stdout.decode(), r"(?im)^content-encoding:")

    def test_gzip_off(self):
        with ServerProcess(["--gzip", "off"]) as srv:
            status, h, body = get(srv.port, "/stats", headers={"Accept-Encoding": "gzip"})
            self.assertEqual(status, 200)
            self.assertNotIn("content-encoding", h)
            json.loads(body)


class Routes(LogDir):
    def write(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def test_two_roots_and_builtins_at_custom_prefixes(self):
        self.write("a/x.txt", "from A\n")
        self.write("a/deep/y.txt", "A's deep y\n")
        self.write("b/y.txt", "B's y\n")
        cfg = {"routes": [
            {"prefix": "/files/", "root": self.path("a")},
            {"prefix": "/files/deep/", "root": self.path("b")},
            {"prefix": "/ping", "handler": "plaintext"},
            {"prefix": "/api/hello", "handler": "json"},
            {"prefix": "/", "handler": "welcome"},
        ]}
        with MasterProcess(config=cfg, workers=2) as m:
            self.assertEqual(get(m.port, "/files/x.txt")[::2], (200, b"from A\n"))
            self.assertEqual(get(m.port, "/files/deep/y.txt")[::2], (200, b"B's y\n"))  # longest prefix wins
            self.assertEqual(get(m.port, "/files/missing.txt")[0], 404)
            self.assertEqual(get(m.port, "/ping")[::2], (200, b"Hello, World!"))
            self.assertEqual(get(m.port, "/api/hello")[::2], (200, b'{"message":"Hello, World!"}'))
            self.assertEqual(get(m.port, "/plaintext")[0], 404)  # not routed in this config
            self.assertEqual(get(m.port, "/healthz")[0], 404)
            self.assertEqual(get(m.port, "/pingpong")[0], 404)  # prefixes match whole segments
            self.assertEqual(get(m.port, "/")[0], 200)

    def test_unknown_handler_fails_check_config_naming_the_route(self):
        cfg = self.path("bad.json")
        with open(cfg, "w") as f:
            f.write('{\n  "routes": [\n    {"prefix": "/", "root": "."},\n'
                    '    {"prefix": "/x", "handler": "plaintxt"}\n  ]\n}\n')
        r = subprocess.run([FASTFORK_BIN, "--check-config", "-c", cfg], capture_output=True, text=True,
                           timeout=scaled(10))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("%s:2:13: key \"routes\": route 1: field \"handler\": unknown handler \"plaintxt\"" % cfg,
                      r.stderr)


if __name__ == "__main__":
    main()
