"""Static files from a root (issue 6): bytes, validators, ranges, precompressed siblings,
directories, path security, the open-file cache, and the welcome page without a root.

Runs against `fastfork --single-process --root DIR` and a master with 2 workers. Stdlib + curl.
"""

import email.utils
import gzip
import json
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ServerProcess, _server_executable, free_port, http_get, main, read_response,  # noqa: E402
                     request_bytes, scaled, send_raw)
from master_harness import MasterProcess  # noqa: E402

BIG_SIZE = 3 * 1024 * 1024


def write(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


class Tree:
    """A document root plus a directory outside it that symlinks point into."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="ff-static-")
        self.root = os.path.join(self.base, "root")
        self.outside = os.path.join(self.base, "outside")
        os.makedirs(self.root)
        os.makedirs(self.outside)
        r = self.root
        now = time.time()
        self.files = {
            "hello.txt": b"Hello, static world!\n",
            "empty.txt": b"",
            "exactly16k.bin": bytes(range(256)) * 64,      # the in-memory / sendfile boundary
            "medium.bin": os.urandom(100 * 1024 + 7),       # sent with sendfile
            "big.bin": os.urandom(BIG_SIZE),
            "with space.txt": b"spaces in the name\n",
            "\u00fcn\u00efc\u00f8d\u00e9 \u20ac.txt": "utf-8 name: \u00fc\u20ac\n".encode(),
            "sub/index.html": b"<!DOCTYPE html><title>sub</title><p>sub index</p>\n",
            "sub/deeper/page.css": b"body { color: red }\n",
            "style.css": b"body { margin: 0 }\n" * 200,
            "app.js": b"console.log('hello');\n" * 300,
            "stale.txt": b"fresh original\n" * 50,
            "noindex/file.txt": b"listed\n",
            "noindex/a<b>&'.txt": b"odd name\n",
        }
        for name, data in self.files.items():
            write(os.path.join(r, name), data, mtime=now - 100)
        self.gz = gzip.compress(self.files["style.css"], mtime=0)
        write(os.path.join(r, "style.css.gz"), self.gz, mtime=now - 50)
        self.js_gz = gzip.compress(self.files["app.js"], mtime=0)
        self.js_br = b"not really brotli, but the server does not look\n"
        write(os.path.join(r, "app.js.gz"), self.js_gz, mtime=now - 50)
        write(os.path.join(r, "app.js.br"), self.js_br, mtime=now - 50)
        # Older than its original: must never be served.
        write(os.path.join(r, "stale.txt.gz"), gzip.compress(b"old content\n"), mtime=now - 1000)
        write(os.path.join(self.outside, "secret.txt"), b"TOP SECRET\n")
        os.symlink(os.path.join(self.outside, "secret.txt"), os.path.join(r, "escape.txt"))
        os.symlink(self.outside, os.path.join(r, "escape-dir"))
        os.symlink("hello.txt", os.path.join(r, "inside-link.txt"))
        self.files["inside-link.txt"] = self.files["hello.txt"]

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)


def url_path(name):
    return "/" + urllib.parse.quote(name)


def fetch(port, path, headers=(), method="GET"):
    s = send_raw(port, request_bytes(path, method=method, headers=list(headers)))
    try:
        return read_response(s, timeout=10.0, head_request=(method == "HEAD"))
    finally:
        s.close()


def curl_sha256(port, path, out_dir):
    out = os.path.join(out_dir, "download")
    r = subprocess.run(["curl", "-sS", "--path-as-is", "--max-time", str(scaled(20)), "-o", out, "-w", "%{http_code}",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, timeout=scaled(30))
    if r.returncode != 0:
        raise AssertionError("curl %s failed: %s" % (path, r.stderr.decode(errors="replace")))
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return int(r.stdout), hashlib.sha256(data).hexdigest(), len(data)


class StaticChecks:
    """Tests shared by the single-process server and the master with 2 workers."""

    tree = None
    server = None

    @property
    def port(self):
        return self.server.port

    # ------------------------------------------------ bytes

    def test_files_byte_for_byte_with_curl(self):
        scratch = tempfile.mkdtemp(prefix="ff-static-dl-")
        try:
            for name, data in self.tree.files.items():
                if name.startswith("noindex/"):
                    continue
                with self.subTest(name=name):
                    status, digest, size = curl_sha256(self.port, url_path(name), scratch)
                    self.assertEqual(status, 200)
                    self.assertEqual(size, len(data))
                    self.assertEqual(digest, hashlib.sha256(data).hexdigest())
            status, digest, _ = curl_sha256(self.port, "/sub/", scratch)
            self.assertEqual(status, 200)
            self.assertEqual(digest, hashlib.sha256(self.tree.files["sub/index.html"]).hexdigest())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def test_keep_alive_and_pipelining_around_sendfile(self):
        big = self.tree.files["big.bin"]
        medium = self.tree.files["medium.bin"]
        hello = self.tree.files["hello.txt"]
        s = send_raw(self.port, request_bytes("/big.bin"))
        try:
            self.assertEqual(read_response(s, timeout=20).body, big)
            s.sendall(request_bytes("/hello.txt"))
            self.assertEqual(read_response(s).body, hello)
            # Three pipelined: memory, sendfile, memory; answered in order on one connection.
            s.sendall(request_bytes("/hello.txt") + request_bytes("/medium.bin") + request_bytes("/empty.txt"))
            self.assertEqual(read_response(s).body, hello)
            self.assertEqual(read_response(s, timeout=20).body, medium)
            r = read_response(s)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("Content-Length"), "0")
        finally:
            s.close()

    def test_head_has_get_headers_and_no_body(self):
        get = fetch(self.port, "/big.bin")
        head = fetch(self.port, "/big.bin", method="HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("Content-Length"), str(BIG_SIZE))
        self.assertEqual(head.header("ETag"), get.header("ETag"))
        self.assertEqual(head.header("Last-Modified"), get.header("Last-Modified"))
        self.assertEqual(head.body, b"")
        # The connection stays usable: nothing of the file leaked after the HEAD response.
        s = send_raw(self.port, request_bytes("/big.bin", method="HEAD") + request_bytes("/hello.txt"))
        try:
            self.assertEqual(read_response(s, head_request=True).body, b"")
            self.assertEqual(read_response(s).body, self.tree.files["hello.txt"])
        finally:
            s.close()

    def test_headers(self):
        r = fetch(self.port, "/hello.txt")
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertRegex(r.header("ETag"), r'^"[0-9a-f]+-[0-9a-f]+"$')
        mtime = os.stat(os.path.join(self.tree.root, "hello.txt")).st_mtime
        self.assertEqual(r.header("Last-Modified"), email.utils.formatdate(int(mtime), usegmt=True))
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertIsNone(r.header("Vary"))  # no sibling: nothing varies
        self.assertEqual(fetch(self.port, "/style.css").header("Content-Type"), "text/css; charset=utf-8")
        self.assertEqual(fetch(self.port, "/sub/").header("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(fetch(self.port, "/big.bin").header("Content-Type"), "application/octet-stream")
        size = len(self.tree.files["medium.bin"])
        self.assertEqual(r.header("ETag"), fetch(self.port, "/inside-link.txt").header("ETag"))
        self.assertTrue(fetch(self.port, "/medium.bin").header("ETag").endswith("-%x\"" % size))

    # ------------------------------------------------ conditional requests

    def test_conditional_requests(self):
        for name in ("hello.txt", "big.bin"):
            with self.subTest(name=name):
                first = fetch(self.port, "/" + name)
                etag, lm = first.header("ETag"), first.header("Last-Modified")
                r = fetch(self.port, "/" + name, [("If-None-Match", etag)])
                self.assertEqual(r.status, 304)
                self.assertEqual(r.header("ETag"), etag)
                self.assertIsNone(r.header("Content-Length"))
                self.assertEqual(fetch(self.port, "/" + name, [("If-None-Match", '"other", ' + etag)]).status, 304)
                self.assertEqual(fetch(self.port, "/" + name, [("If-None-Match", "W/" + etag)]).status, 304)
                self.assertEqual(fetch(self.port, "/" + name, [("If-None-Match", '"other"')]).status, 200)
                self.assertEqual(fetch(self.port, "/" + name, [("If-Modified-Since", lm)]).status, 304)
                older = email.utils.formatdate(time.time() - 10 * 86400, usegmt=True)
                self.assertEqual(fetch(self.port, "/" + name, [("If-Modified-Since", older)]).status, 200)
                # RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since is then ignored.
                r = fetch(self.port, "/" + name, [("If-None-Match", '"other"'), ("If-Modified-Since", lm)])
                self.assertEqual(r.status, 200)
                self.assertEqual(fetch(self.port, "/" + name, [("If-Match", '"other"')]).status, 412)
                self.assertEqual(fetch(self.port, "/" + name, [("If-Match", etag)]).status, 200)
                # A 304 on a kept-alive connection is followed by the next answer intact.
                s = send_raw(self.port, request_bytes("/" + name, headers=[("If-None-Match", etag)]) +
                             request_bytes("/hello.txt"))
                try:
                    self.assertEqual(read_response(s).status, 304)
                    self.assertEqual(read_response(s).body, self.tree.files["hello.txt"])
                finally:
                    s.close()

    # ------------------------------------------------ ranges

    def test_ranges(self):
        big = self.tree.files["big.bin"]
        hello = self.tree.files["hello.txt"]
        cases = [
            ("/big.bin", "bytes=0-99", 0, 100, big),
            ("/big.bin", "bytes=1000-", 1000, BIG_SIZE - 1000, big),
            ("/big.bin", "bytes=-100", BIG_SIZE - 100, 100, big),
            ("/big.bin", "bytes=2000000-2999999", 2000000, 1000000, big),
            ("/hello.txt", "bytes=7-12", 7, 6, hello),
            ("/hello.txt", "bytes=-1", len(hello) - 1, 1, hello),
            ("/hello.txt", "bytes=0-100000", 0, len(hello), hello),
        ]
        for path, spec, offset, length, data in cases:
            with self.subTest(path=path, range=spec):
                r = fetch(self.port, path, [("Range", spec)])
                self.assertEqual(r.status, 206)
                self.assertEqual(r.header("Content-Range"),
                                 "bytes %d-%d/%d" % (offset, offset + length - 1, len(data)))
                self.assertEqual(r.header("Content-Length"), str(length))
                self.assertEqual(r.body, data[offset:offset + length])
        for path, size in (("/big.bin", BIG_SIZE), ("/hello.txt", len(hello)), ("/empty.txt", 0)):
            with self.subTest(path=path, range="unsatisfiable"):
                r = fetch(self.port, path, [("Range", "bytes=%d-" % (size + 10 if size else 0))])
                self.assertEqual(r.status, 416)
                self.assertEqual(r.header("Content-Range"), "bytes */%d" % size)
        # Several ranges: the whole file with 200 (documented).
        r = fetch(self.port, "/hello.txt", [("Range", "bytes=0-1,4-5")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, hello)
        # HEAD ignores Range.
        self.assertEqual(fetch(self.port, "/big.bin", [("Range", "bytes=0-9")], method="HEAD").status, 200)

    def test_if_range(self):
        big = self.tree.files["big.bin"]
        first = fetch(self.port, "/big.bin", method="HEAD")
        etag, lm = first.header("ETag"), first.header("Last-Modified")
        r = fetch(self.port, "/big.bin", [("Range", "bytes=10-19"), ("If-Range", etag)])
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, big[10:20])
        r = fetch(self.port, "/big.bin", [("Range", "bytes=10-19"), ("If-Range", lm)])
        self.assertEqual(r.status, 206)
        r = fetch(self.port, "/big.bin", [("Range", "bytes=10-19"), ("If-Range", '"stale"')])
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), BIG_SIZE)
        older = email.utils.formatdate(time.time() - 10 * 86400, usegmt=True)
        self.assertEqual(fetch(self.port, "/big.bin", [("Range", "bytes=10-19"), ("If-Range", older)]).status, 200)

    # ------------------------------------------------ precompressed siblings

    def test_precompressed_siblings(self):
        t = self.tree
        r = fetch(self.port, "/style.css", [("Accept-Encoding", "gzip")])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.header("Content-Type"), "text/css; charset=utf-8")
        self.assertTrue(r.has_token("Vary", "Accept-Encoding"))
        self.assertEqual(r.body, t.gz)
        self.assertEqual(gzip.decompress(r.body), t.files["style.css"])
        plain = fetch(self.port, "/style.css")
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertTrue(plain.has_token("Vary", "Accept-Encoding"))
        self.assertEqual(plain.body, t.files["style.css"])
        self.assertNotEqual(plain.header("ETag"), r.header("ETag"))
        # br preferred when both are acceptable; q=0 refuses.
        self.assertEqual(fetch(self.port, "/app.js", [("Accept-Encoding", "gzip, deflate, br")]).body, t.js_br)
        r = fetch(self.port, "/app.js", [("Accept-Encoding", "br;q=0, gzip")])
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.body, t.js_gz)
        r = fetch(self.port, "/app.js", [("Accept-Encoding", "gzip;q=0")])
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.body, t.files["app.js"])
        # A sibling older than its original is stale: never served.
        r = fetch(self.port, "/stale.txt", [("Accept-Encoding", "gzip")])
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.body, t.files["stale.txt"])
        # Conditional on the encoded variant's own ETag.
        etag = fetch(self.port, "/style.css", [("Accept-Encoding", "gzip")]).header("ETag")
        self.assertEqual(fetch(self.port, "/style.css", [("Accept-Encoding", "gzip"), ("If-None-Match", etag)]).status,
                         304)

    # ------------------------------------------------ directories and methods

    def test_directories(self):
        r = fetch(self.port, "/sub")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "/sub/")
        self.assertEqual(fetch(self.port, "/sub?x=1").header("Location"), "/sub/?x=1")
        # Never a protocol-relative Location (//host/...: an open redirect).
        self.assertEqual(fetch(self.port, "//sub").header("Location"), "/sub/")
        self.assertEqual(fetch(self.port, "/sub/").body, self.tree.files["sub/index.html"])
        self.assertEqual(fetch(self.port, "/sub/index.html").body, self.tree.files["sub/index.html"])
        self.assertEqual(fetch(self.port, "/sub/deeper/page.css").body, self.tree.files["sub/deeper/page.css"])
        self.assertEqual(fetch(self.port, "/noindex/").status, 403)  # autoindex is off by default
        self.assertEqual(fetch(self.port, "/hello.txt/").status, 404)
        self.assertEqual(fetch(self.port, "/missing.txt").status, 404)

    def test_methods(self):
        r = fetch(self.port, "/hello.txt", method="POST")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("Allow"), "GET, HEAD")

    def test_builtin_routes_still_answer(self):
        self.assertEqual(http_get(self.port, "/plaintext"), (200, b"Hello, World!"))
        self.assertEqual(http_get(self.port, "/healthz")[0], 200)

    # ------------------------------------------------ path security

    TRAVERSALS = [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/%2e%2e/",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/.%2e/etc/passwd",
        "/a/%2e%2e/%2e%2e/etc/passwd",
        "/sub/%2e%2e/%2e%2e/etc/passwd",
        "/sub/../../etc/passwd",
        "/..%2f..%2fetc/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/%2F",
        "/sub%2Findex.html",
        "/%00",
        "/hello.txt%00.html",
        "/%5c..%5cetc%5cpasswd",
        "/....//....//etc/passwd",
        "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        "/%252e%252e/etc/passwd",
        "//etc/passwd",
        "/escape.txt",
        "/escape-dir/secret.txt",
        "/escape-dir/",
        "/escape-dir",
    ]

    def assert_no_path_leak(self, r, what):
        raw = r.raw.decode("latin-1")
        for secret in (self.tree.base, self.tree.root, self.tree.outside, os.path.realpath(self.tree.base),
                       "/etc", "/tmp", "TOP SECRET", "root:"):
            self.assertNotIn(secret, raw, "%s: the response names %r:\n%s" % (what, secret, raw))

    def test_traversal_is_refused(self):
        for path in self.TRAVERSALS:
            with self.subTest(path=path):
                r = fetch(self.port, path)
                self.assertIn(r.status, (403, 404), r)
                self.assert_no_path_leak(r, path)
        # A raw backslash: the request parser or the file server refuses it.
        for path in ("/..\\..\\etc\\passwd", "/sub\\index.html"):
            with self.subTest(path=path):
                r = fetch(self.port, path)
                self.assertIn(r.status, (400, 403, 404), r)
                self.assert_no_path_leak(r, path)

    def test_curl_normalizes_nothing_here(self):
        # The same vectors through curl --path-as-is (a real client on the wire).
        for path in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/escape.txt"):
            with self.subTest(path=path):
                out = subprocess.run(["curl", "-sS", "--path-as-is", "-i", "--max-time", str(scaled(5)),
                                      "http://127.0.0.1:%d%s" % (self.port, path)],
                                     capture_output=True, timeout=scaled(10))
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertRegex(out.stdout.split(b"\r\n", 1)[0], rb"^HTTP/1.1 40[34] ")
                self.assertNotIn(b"TOP SECRET", out.stdout)
                self.assertNotIn(self.tree.base.encode(), out.stdout)


class SingleProcessStatic(StaticChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tree = Tree()
        cls.server = ServerProcess(["--root", cls.tree.root, "--open-file-cache-ttl", "200ms", "--write-timeout", "1s"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        cls.tree.cleanup()
        if problem:
            raise AssertionError(problem)

    def test_cache_notices_changes_after_its_ttl(self):
        path = os.path.join(self.tree.root, "changing.txt")
        write(path, b"version one\n", mtime=time.time() - 100)
        first = fetch(self.port, "/changing.txt")
        self.assertEqual(first.body, b"version one\n")
        write(path, b"version two, longer\n", mtime=time.time())
        deadline = time.monotonic() + scaled(5)
        while fetch(self.port, "/changing.txt").body != b"version two, longer\n":
            self.assertLess(time.monotonic(), deadline, "the change was never seen")
            time.sleep(0.05)
        self.assertNotEqual(fetch(self.port, "/changing.txt").header("ETag"), first.header("ETag"))
        os.unlink(path)
        deadline = time.monotonic() + scaled(5)
        while fetch(self.port, "/changing.txt").status != 404:
            self.assertLess(time.monotonic(), deadline, "the removal was never seen")
            time.sleep(0.05)

    def socket_fds(self):
        n = 0
        for fd in os.listdir("/proc/%d/fd" % self.server.pid):
            try:
                n += os.readlink("/proc/%d/fd/%s" % (self.server.pid, fd)).startswith("socket:")
            except OSError:
                pass
        return n

    def test_slow_readers_hold_no_pool_thread_and_time_out(self):
        # Big enough that neither socket buffer can hold it: sendfile hits EAGAIN and the fiber
        # waits on the loop for writability. More stalled readers than libuv has pool threads (4).
        data = bytes(range(256)) * (64 * 1024)  # 16 MiB
        write(os.path.join(self.tree.root, "huge.bin"), data)
        self.assertEqual(fetch(self.port, "/huge.bin", method="HEAD").status, 200)
        sockets_before = self.socket_fds()
        stalled = []
        try:
            for _ in range(6):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", self.port))
                s.sendall(request_bytes("/huge.bin"))
                stalled.append(s)
            time.sleep(0.3)
            # Cache misses need the thread pool: still quick while six readers stall.
            for i in range(5):
                write(os.path.join(self.tree.root, "fresh%d.txt" % i), b"fresh %d\n" % i)
                started = time.monotonic()
                self.assertEqual(fetch(self.port, "/fresh%d.txt" % i).body, b"fresh %d\n" % i)
                self.assertLess(time.monotonic() - started, scaled(0.5))
            # A slow reader that does read gets every byte.
            self.assertEqual(read_response(stalled[0], timeout=30).body, data)
            # The others never read: after write_timeout (1 s) without progress they are cut.
            stats = {}
            deadline = time.monotonic() + scaled(6)
            while time.monotonic() < deadline:
                stats = json.loads(http_get(self.port, "/stats")[1])
                if stats["totals"]["timeouts"]["write"] >= 5:
                    break
                time.sleep(0.1)
            self.assertGreaterEqual(stats["totals"]["timeouts"]["write"], 5)
        finally:
            for s in stalled:
                s.close()
        # Every dup'd socket (the writability waits) and connection is closed again.
        deadline = time.monotonic() + scaled(5)
        while self.socket_fds() > sockets_before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(self.socket_fds(), sockets_before)

    def test_many_distinct_files_cycle_through_the_cache(self):
        # More files than a small cache holds would matter with open_file_cache_size; here we
        # only check that a burst of distinct misses (each on the thread pool) all answer.
        d = os.path.join(self.tree.root, "many")
        for i in range(200):
            write(os.path.join(d, "f%d.txt" % i), b"%d\n" % i)
        for i in range(200):
            self.assertEqual(fetch(self.port, "/many/f%d.txt" % i).body, b"%d\n" % i)


class MasterStatic(StaticChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tree = Tree()
        cls.server = MasterProcess(["--root", cls.tree.root], workers=2)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = cls.server.stop()
        cls.tree.cleanup()
        if problem:
            raise AssertionError(problem)


class Options(unittest.TestCase):
    """autoindex on, follow_symlinks on, a tiny cache, precompressed off."""

    def test_autoindex_symlinks_and_small_cache(self):
        tree = Tree()
        try:
            args = ["--root", tree.root, "--autoindex", "on", "--follow-symlinks", "on", "--precompressed", "off",
                    "--open-file-cache-size", "2"]
            with ServerProcess(args) as srv:
                r = fetch(srv.port, "/noindex/")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
                html = r.body.decode()
                self.assertIn('href="file.txt"', html)
                self.assertIn("a&lt;b&gt;&amp;&#39;.txt", html)
                self.assertIn('href="a%3Cb%3E%26%27.txt"', html)
                self.assertNotIn(tree.base, html)
                self.assertEqual(fetch(srv.port, "/noindex/a%3Cb%3E%26%27.txt").body, b"odd name\n")
                # Listing the root shows sub/ as a directory.
                self.assertIn('href="sub/"', fetch(srv.port, "/").body.decode())
                # follow_symlinks on: the link out of root is followed.
                self.assertEqual(fetch(srv.port, "/escape.txt").body, b"TOP SECRET\n")
                self.assertEqual(fetch(srv.port, "/escape-dir/secret.txt").status, 200)
                # precompressed off: the sibling is not sent; gzip (on) compresses the original.
                r = fetch(srv.port, "/style.css", [("Accept-Encoding", "gzip")])
                self.assertEqual(r.header("Content-Encoding"), "gzip")
                self.assertNotEqual(r.body, tree.gz)
                self.assertEqual(gzip.decompress(r.body), tree.files["style.css"])
                self.assertTrue(r.has_token("Vary", "Accept-Encoding"))
                self.assertIsNone(fetch(srv.port, "/hello.txt", [("Accept-Encoding", "gzip")]).header("Vary"))
                # A cache of 2 entries under a rotation of 5 files: every answer still right.
                names = ["hello.txt", "big.bin", "medium.bin", "style.css", "app.js"]
                for _ in range(3):
                    for n in names:
                        self.assertEqual(fetch(srv.port, "/" + n).body, tree.files[n])
                # Traversal is still refused with symlinks on.
                self.assertIn(fetch(srv.port, "/../etc/passwd").status, (403, 404))
        finally:
            tree.cleanup()


def spawn(cwd, cmd):
    # The log goes to a file: a pipe nobody reads could fill up and stall the server.
    log = tempfile.TemporaryFile(mode="w+b")
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    proc.log_file = log
    return proc


def log_of(proc):
    proc.log_file.seek(0)
    return proc.log_file.read().decode(errors="replace")[-4000:]


def start_plain(cwd, args):
    """`fastfork ARGS` (master mode) in `cwd`; returns (process, port) once /healthz answers."""
    port = free_port()
    proc = spawn(cwd, [_server_executable(), "--listen", "127.0.0.1:%d" % port, "--workers", "2",
                       "--name", "ststatic%d-%d" % (os.getpid(), port)] + list(args))
    deadline = time.monotonic() + scaled(10)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("fastfork exited with %s: %s" % (proc.returncode, log_of(proc)))
        try:
            if http_get(port, "/healthz", timeout=1.0)[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("fastfork did not become ready")


def stop_plain(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=scaled(10))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        proc.log_file.close()
        raise AssertionError("fastfork did not exit after SIGTERM")
    log = log_of(proc)
    proc.log_file.close()
    if rc != 0:
        raise AssertionError("fastfork exited with %d: %s" % (rc, log))


class DefaultRoot(unittest.TestCase):
    def test_welcome_page_in_an_empty_directory(self):
        empty = tempfile.mkdtemp(prefix="ff-static-empty-")
        try:
            proc, port = start_plain(empty, [])
            try:
                for _ in range(3):  # a few, so both workers are likely to answer one
                    r = fetch(port, "/")
                    self.assertEqual(r.status, 200)
                    self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
                    body = r.body.decode()
                    self.assertIn("Welcome to fastfork", body)
                    self.assertIn('"root"', body)
                    self.assertIn("requests", body)
                    self.assertRegex(body, r"workers running</td><td[^>]*>\d")
                    self.assertNotIn(empty, body)
                self.assertEqual(fetch(port, "/", method="HEAD").status, 200)
                self.assertEqual(fetch(port, "/index.html").status, 404)
            finally:
                stop_plain(proc)
        finally:
            shutil.rmtree(empty, ignore_errors=True)

    def test_public_directory_is_the_default_root(self):
        base = tempfile.mkdtemp(prefix="ff-static-public-")
        try:
            write(os.path.join(base, "public", "index.html"), b"<p>from ./public</p>\n")
            proc, port = start_plain(base, [])
            try:
                self.assertEqual(fetch(port, "/").body, b"<p>from ./public</p>\n")
                self.assertEqual(fetch(port, "/index.html").body, b"<p>from ./public</p>\n")
            finally:
                stop_plain(proc)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def test_no_arguments_at_all_on_8080_when_free(self):
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind(("0.0.0.0", 8080))
        except OSError:
            raise unittest.SkipTest(":8080 is in use")
        finally:
            probe.close()
        empty = tempfile.mkdtemp(prefix="ff-static-8080-")
        proc = spawn(empty, [_server_executable()])
        try:
            deadline = time.monotonic() + scaled(10)
            status = None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    status, body = http_get(8080, "/", timeout=1.0)
                    break
                except OSError:
                    time.sleep(0.05)
            if status is None:
                raise unittest.SkipTest(":8080 was taken before fastfork could bind it")
            self.assertEqual(status, 200)
            self.assertIn(b"Welcome to fastfork", body)
        finally:
            if proc.poll() is None:
                stop_plain(proc)
            shutil.rmtree(empty, ignore_errors=True)


if __name__ == "__main__":
    main()
