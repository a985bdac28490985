"""A real Prometheus against fastfork (issue 10.2): every exported counter series stays monotonic
across reloads and a kill -9, so increase() over a run matches the requests sent, and a reload
with no traffic adds no phantom rate.

Debian's `prometheus` (scripts/install-deps.sh) scrapes the master's /metrics route every second
on loopback, with its storage in a temporary directory; the test asks its HTTP API. Skipped only
when /usr/bin/prometheus is missing (exit 77, CTest SKIP_RETURN_CODE).

Stdlib only.
"""

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port, main, parse_response, scaled  # noqa: E402
from master_harness import MasterProcess, wait_for  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
METRICS_PATH = "/_prom/metrics"  # not the default, so the scrape config must follow fastfork's
SCRAPE_INTERVAL_S = 1
JOB = "fastfork"
# Loopback only, whatever http_proxy says.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _die_with_parent():
    # A CTest timeout SIGKILLs the test: Prometheus must not outlive it.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Prometheus:
    """`prometheus` scraping one target on loopback, storage in a temporary directory."""

    def __init__(self, target_port, metrics_path):
        self.dir = tempfile.mkdtemp(prefix="ff-prom-")
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("global:\n"
                    "  scrape_interval: %ds\n"
                    "  scrape_timeout: %ds\n"
                    "  evaluation_interval: 1m\n"
                    "scrape_configs:\n"
                    "  - job_name: %s\n"
                    "    metrics_path: %s\n"
                    "    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % (SCRAPE_INTERVAL_S, SCRAPE_INTERVAL_S, JOB, metrics_path,
                                                            target_port))
        self.port = None
        self.proc = None
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w+b")

    def start(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.config, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            close_fds=True, cwd=self.dir)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("prometheus exited with %s:\n%s" % (self.proc.returncode, self.output()))
            try:
                with _http.open("http://127.0.0.1:%d/-/ready" % self.port, timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(ready, 15.0, interval=0.1, what="prometheus /-/ready")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def query(self, expr, at):
        """The result list of an instant query of `expr` evaluated at unix time `at`."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({
            "query": expr, "time": "%.3f" % at}))
        with _http.open(url, timeout=scaled(5)) as r:
            doc = json.load(r)
        if doc.get("status") != "success":
            raise AssertionError("query %r failed: %r" % (expr, doc))
        return doc["data"]["result"]

    def scalar(self, expr, at):
        result = self.query(expr, at)
        if len(result) != 1:
            raise AssertionError("query %r at %.3f: expected one series, got %r" % (expr, at, result))
        return float(result[0]["value"][1])

    def scrapes(self):
        """[(timestamp, up)] of every scrape of the fastfork target so far, oldest first."""
        now = time.time()
        result = self.query('up{job="%s"}[10m]' % JOB, now)
        return [(float(t), float(v)) for t, v in result[0]["values"]] if result else []

    def wait_scrapes(self, n, after):
        """Waits until `n` successful scrapes happened after unix time `after`; returns all scrapes."""
        return wait_for(lambda: (lambda s: s if sum(1 for t, up in s if t > after and up == 1) >= n else None)(
            self.scrapes()), n * SCRAPE_INTERVAL_S + 10.0, interval=0.2, what="%d scrapes after %.3f" % (n, after))


class Client(threading.Thread):
    """GET /plaintext in a keep-alive loop until stopped; `ok` counts the 200s received. A closed
    or reset connection (a drain's Connection: close, a worker killed) is reopened; a request
    whose response did not arrive is not counted."""

    REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n"

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port = port
        self.stop = stop
        self.ok = 0
        self.failed = 0  # sent, no complete response
        self.other = 0   # complete responses that were not 200
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    self.serve_connection()
                except OSError:
                    self.failed += 1
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by the test thread
            self.error = e

    def serve_connection(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=scaled(5)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = bytearray()
            while not self.stop.is_set():
                s.sendall(self.REQUEST)
                got = None
                while got is None:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionResetError("closed before the response")
                    buf += chunk
                    got = parse_response(buf)
                r, consumed = got
                del buf[:consumed]
                if r.status == 200:
                    self.ok += 1
                else:
                    self.other += 1
                if r.has_token("Connection", "close"):
                    return


@unittest.skipUnless(os.access(PROMETHEUS, os.X_OK), "%s not installed (Debian package prometheus)" % PROMETHEUS)
class PrometheusCounters(unittest.TestCase):
    def test_increase_over_reloads_and_kill_9_matches_the_requests(self):
        with MasterProcess(config={"metrics_path": METRICS_PATH}, workers=2) as m:
            prom = Prometheus(m.port, METRICS_PATH)
            try:
                prom.start()
                self.run_scenario(m, prom)
            except BaseException:
                sys.stderr.write("prometheus log:\n%s\nfastfork log:\n%s\n" % (prom.output(), m.log()))
                raise
            finally:
                prom.stop()

    def reload_and_settle(self, m):
        """SIGHUP, wait until the new generation is ready and every older process has exited (its
        counters folded into retired_by_index), then give Prometheus a scrape of the new state."""
        result = m.reload()
        self.assertEqual(result["reload_ok"], 1, result)
        gen = m.header()["generation"]
        wait_for(lambda: m.all_ready(gen) and all(s["generation"] == gen for s in m.slots()), 10.0,
                 what="generation %d alone" % gen)
        time.sleep(SCRAPE_INTERVAL_S * 1.2)

    def run_scenario(self, m, prom):
        run_start = time.time()
        # A baseline: two scrapes before any traffic, so the window below starts at ~0 requests.
        prom.wait_scrapes(2, 0)

        stop = threading.Event()
        clients = [Client(m.port, stop) for _ in range(4)]
        for c in clients:
            c.start()
        try:
            time.sleep(1.5)
            for i in range(5):
                self.reload_and_settle(m)
                if i == 2:
                    victim = m.workers_by_index()[0]
                    os.kill(victim, signal.SIGKILL)
                    wait_for(lambda: m.workers_by_index().get(0) not in (None, victim), 5.0,
                             what="worker 0 replaced")
                    time.sleep(SCRAPE_INTERVAL_S * 1.2)
        finally:
            stop.set()
            for c in clients:
                c.join(scaled(10))
        traffic_end = time.time()
        for c in clients:
            self.assertIsNone(c.error, "client failed: %r" % c.error)
            self.assertFalse(c.is_alive(), "client thread still running")
        sent = sum(c.ok for c in clients)
        self.assertEqual(sum(c.other for c in clients), 0, "responses other than 200")
        self.assertGreater(sent, 1000, "too little traffic to measure 2 %")

        # Three scrapes that saw every request.
        scrapes = prom.wait_scrapes(3, traffic_end)
        # Evaluate exactly at the last scrape and let the window reach back before the first one.
        # increase() extrapolates from the first and last samples to the window's edges; here the
        # end edge is a sample (no extrapolation) and at the start the counters sit at ~0, where
        # Prometheus clamps the extrapolation (a counter does not go below 0). So the result is
        # the plain difference last - first, plus every drop of a series read as a counter reset:
        # exactly what issue 10.2 was about.
        at = scrapes[-1][0]
        window = math.ceil(at - run_start) + 5
        increase = prom.scalar('sum(increase(fastfork_requests_total{job="%s"}[%ds]))' % (JOB, window), at)
        # Every scrape is a request too, counted when its head is parsed, so each sample includes
        # its own scrape: the first-to-last difference holds the scrapes after the first.
        in_window = [up for t, up in scrapes if at - window <= t <= at]
        expected = sent + sum(1 for up in in_window if up == 1) - 1
        failed = sum(c.failed for c in clients)
        sys.stderr.write("prometheus: %d requests answered 200 (%d failed, around the kill -9), %d scrapes "
                         "(%d failed); increase over %ds = %.1f, expected %d (%+.3f %%)\n" % (
                             sent, failed, len(in_window), sum(1 for up in in_window if up != 1), window, increase,
                             expected, (increase - expected) * 100.0 / expected))
        self.assertLessEqual(abs(increase - expected), 0.02 * expected,
                             "increase() = %.1f, expected %d within 2 %%" % (increase, expected))

        # No traffic, three reloads: the rate over the quiet phase is the scrapes' own (one
        # request a second), not the ~N/window a series dropping to 0 would add.
        quiet_start = at
        for _ in range(3):
            self.reload_and_settle(m)
        scrapes = prom.wait_scrapes(2, time.time())
        at = scrapes[-1][0]
        quiet = math.floor(at - quiet_start)
        rate = prom.scalar('sum(rate(fastfork_requests_total{job="%s"}[%ds]))' % (JOB, quiet), at)
        sys.stderr.write("prometheus: rate over the %ds with 3 reloads and no traffic = %.3f req/s\n" % (quiet, rate))
        self.assertLess(rate, 2.0 / SCRAPE_INTERVAL_S, "phantom traffic after reloads: %.1f req/s" % rate)


if __name__ == "__main__":
    if not os.access(PROMETHEUS, os.X_OK):
        print("SKIP: %s not installed (Debian package prometheus, scripts/install-deps.sh)" % PROMETHEUS)
        sys.exit(77)
    main()
