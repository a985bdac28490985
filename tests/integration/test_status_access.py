"""Status routes and who may see them (issue 10.6): `status_allow` against the real binary.

A master with its workers, configured by file, is asked from 127.0.0.1 (and ::1 when this host
has IPv6 loopback): outside the list, /metrics, /stats and /dashboard answer 403, /healthz answers only
{"status":"ok"} and the welcome page has no live table; a reload that puts the peer on the list
opens all of them. fastforkctl reads the stats segment, not HTTP, and is not affected.

Stdlib only; each server is stopped by PID by the guard.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ServerProcess, scaled  # noqa: E402
from master_harness import BUILD, MasterProcess, ipv6_loopback_available  # noqa: E402

CTL = os.environ.get("FASTFORKCTL_BIN") or os.path.join(BUILD, "tools", "fastforkctl")
MINIMAL_HEALTHZ = b'{"status":"ok"}\n'


def get(host, port, path, method="GET"):
    """(status, headers dict, body) of one request on a fresh connection to host:port."""
    conn = http.client.HTTPConnection(host, port, timeout=scaled(5))
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class StatusAccess(unittest.TestCase):
    def assert_refused(self, host, port):
        for path in ("/metrics", "/stats", "/dashboard"):
            status, headers, body = get(host, port, path)
            self.assertEqual(status, 403, "%s %s: %r" % (host, path, body))
            self.assertEqual(body, b"403 Forbidden\n", path)
            self.assertNotIn(b"fastfork_", body)
            self.assertEqual(get(host, port, path, method="HEAD")[0], 403, path)
        status, headers, body = get(host, port, "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, MINIMAL_HEALTHZ)
        status, headers, body = get(host, port, "/")
        self.assertEqual(status, 200)
        page = body.decode()
        self.assertIn("Welcome to fastfork", page)
        self.assertNotIn("<table>", page)
        self.assertNotIn("workers running", page)
        self.assertNotIn("this page came from", page)
        self.assertIn("status_allow", page)

    def assert_allowed(self, host, port):
        status, headers, body = get(host, port, "/metrics")
        self.assertEqual(status, 200, body)
        self.assertIn(b"fastfork_requests_total", body)
        status, headers, body = get(host, port, "/stats")
        self.assertEqual(status, 200, body)
        self.assertIn("workers", json.loads(body))
        status, headers, body = get(host, port, "/healthz")
        self.assertEqual(status, 200)
        self.assertIn("pid", json.loads(body))
        status, headers, body = get(host, port, "/dashboard")
        self.assertEqual(status, 200)
        self.assertIn(b"<svg", body)
        status, headers, body = get(host, port, "/")
        self.assertEqual(status, 200)
        self.assertRegex(body.decode(), r"workers running</td><td[^>]*>\d")

    def test_outside_the_list_then_opened_by_a_reload(self):
        with MasterProcess(config={"workers": 2, "status_allow": ["10.9.9.9/32"]}) as m:
            self.assert_refused("127.0.0.1", m.port)
            # The segment is there all the same: fastforkctl reads it, not HTTP.
            if os.path.exists(CTL):
                r = subprocess.run([CTL, "--name", m.name, "stats", "--json"], capture_output=True, text=True,
                                   timeout=scaled(10))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertGreaterEqual(json.loads(r.stdout)["totals"]["requests"], 6)  # the 6 requests above
            m.write_config({"listen": ["127.0.0.1:%d" % m.port], "workers": 2, "status_allow": ["127.0.0.1"]})
            result = m.reload()
            self.assertEqual(result["reload_ok"], 1, result)
            for _ in range(4):  # fresh connections: both new workers are likely to answer one
                self.assert_allowed("127.0.0.1", m.port)

    def test_default_admits_loopback_only(self):
        # The harness and every other test talk to 127.0.0.1 with the default: it must stay open.
        with ServerProcess([]) as srv:
            self.assert_allowed_single(srv.port)

    def assert_allowed_single(self, port):
        self.assertEqual(get("127.0.0.1", port, "/metrics")[0], 200)
        self.assertEqual(get("127.0.0.1", port, "/stats")[0], 200)
        self.assertIn(b'"pid"', get("127.0.0.1", port, "/healthz")[2])

    def test_bad_entries_are_refused_before_start(self):
        from harness import FASTFORK_BIN
        r = subprocess.run([FASTFORK_BIN, "--check-config", "--status-allow", "127.0.0.1,10.0.0.5/8"],
                           capture_output=True, text=True, timeout=scaled(10))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn('key "status_allow": entry 1 "10.0.0.5/8"', r.stderr)
        self.assertIn("the block is 10.0.0.0/8", r.stderr)

    def test_ipv6_loopback(self):
        if not ipv6_loopback_available():
            self.skipTest("no IPv6 loopback on this host")
        with MasterProcess(config={"workers": 1, "status_allow": ["127.0.0.1"]},
                           listen="127.0.0.1:{port},[::1]:{port}") as m:
            self.assert_refused("::1", m.port)
            self.assert_allowed("127.0.0.1", m.port)
        with MasterProcess(config={"workers": 1}, listen="127.0.0.1:{port},[::1]:{port}") as m:
            self.assert_allowed("::1", m.port)  # the default has ::1


if __name__ == "__main__":
    unittest.main(verbosity=2)
