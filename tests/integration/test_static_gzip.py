"""Static files gzipped on the fly (issue 10.7): with `gzip` on (the default), a compressible file
without a .gz sibling reaches a client that accepts gzip compressed, byte-exact after gunzip, with
its own strong ETag, Vary on both codings, 304 on each tag, HEAD's compressed length, a range of
the original, and a new compression after the file changes on disk. Tiny files and image types
are not compressed; a sibling is still preferred.

Runs `fastfork --single-process --root DIR` (curl --compressed, http.client, raw sockets).
"""

import gzip
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, main, read_response, request_bytes, scaled, send_raw  # noqa: E402

TTL_MS = 200  # the open-file cache re-checks the disk this often


def stylesheet(tag, size):
    """Text that compresses like a real stylesheet: rules that repeat in shape, not in bytes."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += (".%s-%d { margin: %dpx; color: #%06x; }\n" % (tag, i, i % 17, (i * 2654435761) & 0xFFFFFF)).encode()
        i += 1
    return bytes(out[:size])


def write(path, data, mtime=None):
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def fetch(port, path, headers=(), method="GET"):
    s = send_raw(port, request_bytes(path, method=method, headers=list(headers)))
    try:
        return read_response(s, timeout=10.0, head_request=(method == "HEAD"))
    finally:
        s.close()


GZ = [("Accept-Encoding", "gzip")]


class GzipOnTheFly(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="ff-static-gzip-")
        r = cls.root = os.path.join(cls.base, "root")
        os.makedirs(r)
        past = time.time() - 100
        cls.files = {
            "site.css": stylesheet("site", 5500),             # the 5.5 KB stylesheet
            "app.js": stylesheet("app", 200 * 1024),          # above 16 KiB: compressed from the descriptor
            "tiny.css": b"a { color: red }\n",                # below gzip_min_length (1 KiB)
            "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(6000),   # would shrink, but not a text type
            "data.json": b'{"items": [' + b'{"id": 1, "name": "x"}, ' * 300 + b"{}]}",
            "sibling.css": stylesheet("sib", 8000),
            "changing.css": stylesheet("v1", 6000),
        }
        for name, data in cls.files.items():
            write(os.path.join(r, name), data, mtime=past)
        # A sibling made offline: the server must send these bytes, not its own compression.
        cls.sibling_gz = gzip.compress(cls.files["sibling.css"], compresslevel=9, mtime=12345)
        write(os.path.join(r, "sibling.css.gz"), cls.sibling_gz, mtime=past + 10)
        cls.server = ServerProcess(["--root", r, "--open-file-cache-ttl", "%dms" % TTL_MS])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        problem = None
        try:
            cls.server.__exit__(None, None, None)
        except AssertionError as e:
            problem = str(e)
        shutil.rmtree(cls.base, ignore_errors=True)
        if problem:
            raise AssertionError(problem)

    @property
    def port(self):
        return self.server.port

    def test_curl_compressed_is_byte_exact(self):
        out_dir = tempfile.mkdtemp(dir=self.base)
        for name in ("site.css", "app.js", "data.json"):
            with self.subTest(name=name):
                body, head = os.path.join(out_dir, name), os.path.join(out_dir, name + ".head")
                r = subprocess.run(["curl", "-sS", "--compressed", "--max-time", str(scaled(20)), "-D", head, "-o", body,
                                    "http://127.0.0.1:%d/%s" % (self.port, name)],
                                   capture_output=True, timeout=scaled(30))
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(head, "rb") as f:
                    headers = f.read().decode("latin-1").lower()
                self.assertIn("content-encoding: gzip\r\n", headers)
                self.assertIn("vary: accept-encoding\r\n", headers)
                with open(body, "rb") as f:
                    self.assertEqual(f.read(), self.files[name])  # curl gunzipped it

    def test_http_client_gets_gzip_with_its_own_length(self):
        for name in ("site.css", "app.js"):
            with self.subTest(name=name):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(10))
                try:
                    conn.request("GET", "/" + name, headers={"Accept-Encoding": "gzip, deflate, br"})
                    resp = conn.getresponse()
                    raw = resp.read()
                    self.assertEqual(resp.status, 200)
                    self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
                    self.assertEqual(int(resp.getheader("Content-Length")), len(raw))
                    self.assertLess(len(raw), len(self.files[name]) // 2)
                    self.assertEqual(gzip.decompress(raw), self.files[name])
                    self.assertIsNone(resp.getheader("Accept-Ranges"))
                    # The same connection, again: the same bytes (compressed once, kept).
                    conn.request("GET", "/" + name, headers={"Accept-Encoding": "gzip"})
                    again = conn.getresponse()
                    self.assertEqual(again.read(), raw)
                finally:
                    conn.close()

    def test_etags_differ_per_coding_and_each_gives_304(self):
        gz = fetch(self.port, "/site.css", GZ)
        plain = fetch(self.port, "/site.css")
        self.assertEqual(plain.body, self.files["site.css"])
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertTrue(plain.has_token("Vary", "Accept-Encoding"))
        self.assertTrue(gz.has_token("Vary", "Accept-Encoding"))
        self.assertRegex(plain.header("ETag"), r'^"[0-9a-f]+-[0-9a-f]+"$')
        self.assertEqual(gz.header("ETag"), plain.header("ETag")[:-1] + '-gzip"')  # the README's suffix
        for headers, etag in ((GZ, gz.header("ETag")), ([], plain.header("ETag"))):
            with self.subTest(etag=etag):
                r = fetch(self.port, "/site.css", headers + [("If-None-Match", etag)])
                self.assertEqual(r.status, 304)
                self.assertEqual(r.header("ETag"), etag)
                self.assertTrue(r.has_token("Vary", "Accept-Encoding"))
                self.assertEqual(r.body, b"")
        # A tag of the other coding does not validate this one.
        self.assertEqual(fetch(self.port, "/site.css", GZ + [("If-None-Match", plain.header("ETag"))]).status, 200)
        self.assertEqual(fetch(self.port, "/site.css", [("If-None-Match", gz.header("ETag"))]).status, 200)

    def test_head_gives_the_compressed_length(self):
        get = fetch(self.port, "/app.js", GZ)
        head = fetch(self.port, "/app.js", GZ, method="HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("Content-Encoding"), "gzip")
        self.assertEqual(int(head.header("Content-Length")), len(get.body))
        self.assertEqual(head.header("ETag"), get.header("ETag"))
        self.assertEqual(head.body, b"")

    def test_refused_codings_get_the_original(self):
        for ae in ("gzip;q=0", "identity", "br", "deflate"):
            with self.subTest(accept_encoding=ae):
                r = fetch(self.port, "/site.css", [("Accept-Encoding", ae)])
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertEqual(r.body, self.files["site.css"])
        r = fetch(self.port, "/site.css", [("Accept-Encoding", "*")])
        self.assertEqual(r.header("Content-Encoding"), "gzip")

    def test_a_range_is_a_range_of_the_original(self):
        r = fetch(self.port, "/site.css", GZ + [("Range", "bytes=100-199")])
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.header("Content-Range"), "bytes 100-199/%d" % len(self.files["site.css"]))
        self.assertEqual(r.body, self.files["site.css"][100:200])

    def test_tiny_files_and_images_are_not_compressed(self):
        for name in ("tiny.css", "logo.png"):
            with self.subTest(name=name):
                r = fetch(self.port, "/" + name, GZ)
                self.assertEqual(r.status, 200)
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertIsNone(r.header("Vary"))  # nothing varies
                self.assertEqual(r.body, self.files[name])

    def test_a_sibling_is_preferred(self):
        r = fetch(self.port, "/sibling.css", GZ)
        self.assertEqual(r.header("Content-Encoding"), "gzip")
        self.assertEqual(r.body, self.sibling_gz)

    def test_a_modified_file_is_compressed_again(self):
        path = os.path.join(self.root, "changing.css")
        first = fetch(self.port, "/changing.css", GZ)
        self.assertEqual(gzip.decompress(first.body), self.files["changing.css"])
        # Same size, new content and mtime: only the validation of the cache entry can notice.
        v2 = stylesheet("v2", len(self.files["changing.css"]))
        write(path, v2, mtime=time.time() - 50)
        deadline = time.monotonic() + scaled(5)
        while True:
            r = fetch(self.port, "/changing.css", GZ)
            if gzip.decompress(r.body) == v2 or time.monotonic() > deadline:
                break
            time.sleep(TTL_MS / 1000 / 4)
        self.assertEqual(gzip.decompress(r.body), v2)
        self.assertNotEqual(r.header("ETag"), first.header("ETag"))
        self.assertEqual(fetch(self.port, "/changing.css").body, v2)
        # The old gzip tag no longer validates.
        self.assertEqual(fetch(self.port, "/changing.css", GZ + [("If-None-Match", first.header("ETag"))]).status, 200)


class GzipOff(unittest.TestCase):

    def test_gzip_off_sends_static_files_as_they_are(self):
        base = tempfile.mkdtemp(prefix="ff-static-nogzip-")
        try:
            data = stylesheet("off", 5500)
            write(os.path.join(base, "site.css"), data)
            with ServerProcess(["--root", base, "--gzip", "off"]) as srv:
                r = fetch(srv.port, "/site.css", GZ)
                self.assertIsNone(r.header("Content-Encoding"))
                self.assertIsNone(r.header("Vary"))
                self.assertEqual(r.body, data)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
