"""Live stats (issue 5): the shm counters and latency histogram as fastforkctl, GET /stats and
GET /metrics show them; fastforkctl's control commands (reload, signals) and its view of a
stale segment; `stats --watch` under a pty (DESIGN.md "Shared-memory stats").

Each test starts its own master on a free port with its own instance name.
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, connect, http_get, main, read_response, request_bytes, scaled  # noqa: E402
from master_harness import BUILD, CTL, MasterProcess, Segment, alive, ctl, stats_json, wait_for  # noqa: E402


PROMTOOL = shutil.which("promtool")


def instance_name(tag):
    return "stest%d-%s-%d" % (os.getpid(), tag, int(time.monotonic() * 1000) % 100000)


def raw_exchange(port, data, head_request=False):
    """Sends `data` on a fresh connection and returns the parsed response."""
    s = connect(port)
    try:
        s.sendall(data)
        return read_response(s, head_request=head_request)
    finally:
        s.close()


def promtool_check(text):
    """(returncode, output) of `promtool check metrics` on `text`."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=scaled(30))
    return r.returncode, r.stdout + r.stderr


def remove_segment(name):
    try:
        os.unlink("/dev/shm/fastfork." + name)
    except OSError:
        pass


# The known mix: (how many, how to send it, expected status).
PLAIN, NOT_FOUND, BAD, HUGE, HEAD = 20, 5, 4, 3, 6


def send_known_mix(port):
    for _ in range(PLAIN):
        assert http_get(port, "/plaintext")[0] == 200
    for _ in range(NOT_FOUND):
        assert http_get(port, "/no/such/path")[0] == 404
    for _ in range(BAD):  # RFC 9112 §5.1: no whitespace between field name and colon
        r = raw_exchange(port, request_bytes("/plaintext", headers=[("X-Bad ", "1")]))
        assert r.status == 400, r
    for _ in range(HUGE):  # a header section over max_head (16 KiB)
        r = raw_exchange(port, request_bytes("/plaintext", headers=[("X-Big", "a" * 20000)]))
        assert r.status == 431, r
    for _ in range(HEAD):
        r = raw_exchange(port, request_bytes("/plaintext", method="HEAD"), head_request=True)
        assert r.status == 200 and r.body == b"", r


class Counting(unittest.TestCase):
    def check_totals(self, t, extra_requests=0):
        """The totals after send_known_mix (plus `extra_requests` in flight, e.g. GET /stats itself)."""
        self.assertEqual(t["requests"], PLAIN + NOT_FOUND + HEAD + extra_requests)
        self.assertEqual(t["responses_by_class"], {"1xx": 0, "2xx": PLAIN + HEAD, "3xx": 0,
                                                   "4xx": NOT_FOUND + BAD + HUGE, "5xx": 0})
        self.assertEqual(t["responses_by_status"]["400"], BAD)
        self.assertEqual(t["responses_by_status"]["431"], HUGE)
        self.assertEqual(sum(t["responses_by_status"].values()), BAD + HUGE)
        self.assertEqual(t["parse_errors"], BAD + HUGE)
        self.assertEqual(t["parse_errors_by_kind"]["space_before_colon"], BAD)
        self.assertEqual(t["parse_errors_by_kind"]["header_too_large"], HUGE)
        self.assertEqual(t["latency_us"]["count"], PLAIN + NOT_FOUND + HEAD)
        self.assertEqual(t["connections_accepted"], PLAIN + NOT_FOUND + BAD + HUGE + HEAD + extra_requests)
        lat = t["latency_us"]
        self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"], lat)

    def test_totals_match_the_requests_sent(self):
        with MasterProcess(workers=2, name=instance_name("mix")) as m:
            send_known_mix(m.port)
            s = stats_json(m.name)
            self.assertEqual(s["instance"], m.name)
            self.assertEqual(s["master_pid"], m.pid)
            self.assertFalse(s["stale"])
            self.assertTrue(s["consistent"])
            self.assertEqual(len(s["workers"]), 2)
            self.assertEqual(sorted(w["worker_index"] for w in s["workers"]), [0, 1])
            self.check_totals(s["totals"])
            # Totals are the workers' sums plus the retired counts.
            self.assertEqual(s["totals"]["requests"],
                             sum(w["requests"] for w in s["workers"]) + s["retired"]["requests"])

            # GET /stats: the same document, counting the /stats request itself (its response is
            # not serialized yet while it renders).
            status, body = http_get(m.port, "/stats")
            self.assertEqual(status, 200)
            doc = json.loads(body)
            self.assertEqual(set(doc), set(s))
            self.check_totals(doc["totals"], extra_requests=1)

    def test_counters_survive_kill_9_of_a_worker(self):
        with MasterProcess(workers=2, name=instance_name("kill")) as m:
            for _ in range(40):
                self.assertEqual(http_get(m.port, "/plaintext")[0], 200)
            before = stats_json(m.name)
            victim = m.workers_by_index()[0]
            victim_requests = next(w["requests"] for w in before["workers"] if w["pid"] == victim)
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: m.workers_by_index().get(0) not in (None, victim), 5.0, what="worker 0 replaced")
            after = stats_json(m.name)
            self.assertEqual(after["restarts"], 1)
            self.assertEqual(after["totals"]["requests"], before["totals"]["requests"])
            self.assertEqual(after["totals"]["responses_by_class"]["2xx"], before["totals"]["responses_by_class"]["2xx"])
            self.assertEqual(after["totals"]["latency_us"]["count"], before["totals"]["latency_us"]["count"])
            self.assertEqual(after["retired"]["requests"], victim_requests)
            self.assertNotIn(victim, [w["pid"] for w in after["workers"]])
            # And they keep counting on top.
            self.assertEqual(http_get(m.port, "/plaintext")[0], 200)
            self.assertEqual(stats_json(m.name)["totals"]["requests"], before["totals"]["requests"] + 1)


@unittest.skipUnless(PROMTOOL, "promtool not installed")
class Exposition(unittest.TestCase):
    def test_promtool_accepts_metrics_and_ctl_prometheus(self):
        with MasterProcess(workers=2, name=instance_name("prom")) as m:
            send_known_mix(m.port)
            status, body = http_get(m.port, "/metrics")
            self.assertEqual(status, 200)
            text = body.decode()
            rc, out = promtool_check(text)
            self.assertEqual(rc, 0, "promtool check metrics on GET /metrics:\n" + out)
            self.assertRegex(text, r'(?m)^fastfork_responses_by_status_total\{worker="\d",status="431"\} \d+$')
            self.assertIn("fastfork_request_duration_seconds_bucket{le=\"+Inf\"} %d\n" % (PLAIN + NOT_FOUND + HEAD),
                          text)
            total = sum(int(v) for v in re.findall(r'(?m)^fastfork_requests_total\{worker="[^"]+"\} (\d+)$', text))
            self.assertEqual(total, PLAIN + NOT_FOUND + HEAD + 1)  # + GET /metrics itself

            r = ctl("--name", m.name, "stats", "--prometheus")
            self.assertEqual(r.returncode, 0, r.stderr)
            rc, out = promtool_check(r.stdout)
            self.assertEqual(rc, 0, "promtool check metrics on fastforkctl stats --prometheus:\n" + out)

    def test_metrics_content_type_and_configurable_paths(self):
        with MasterProcess(["--metrics-path", "", "--stats-path", "/_stats"], workers=1,
                           name=instance_name("paths")) as m:
            self.assertEqual(http_get(m.port, "/metrics")[0], 404)
            self.assertEqual(http_get(m.port, "/stats")[0], 404)
            status, body = http_get(m.port, "/_stats")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["instance"], m.name)
        with MasterProcess(workers=1, name=instance_name("ctype")) as m:
            s = connect(m.port)
            try:
                s.sendall(request_bytes("/metrics"))
                r = read_response(s)
            finally:
                s.close()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")

    def test_single_process_renders_its_own_counters(self):
        with ServerProcess() as srv:
            for _ in range(3):
                self.assertEqual(http_get(srv.port, "/plaintext")[0], 200)
            status, body = http_get(srv.port, "/stats")
            self.assertEqual(status, 200)
            doc = json.loads(body)
            self.assertEqual(doc["instance"], "single-process")
            self.assertEqual(doc["master_pid"], srv.pid)
            self.assertGreaterEqual(doc["totals"]["responses_by_class"]["2xx"], 3)
            status, body = http_get(srv.port, "/metrics")
            self.assertEqual(status, 200)
            rc, out = promtool_check(body.decode())
            self.assertEqual(rc, 0, out)


class Control(unittest.TestCase):
    def test_reload_reports_success_and_failure(self):
        with MasterProcess(config={"workers": 2}, name=instance_name("reload")) as m:
            r = ctl("--name", m.name, "reload", "--timeout", "30")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"^reload #1 ok")
            with open(m.config_path) as f:
                good = json.load(f)
            bad = dict(good, wokers=3)
            m.write_config(bad)
            r = ctl("--name", m.name, "reload", "--timeout", "30")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn('unknown key "wokers"', r.stderr)
            self.assertIn("reload #2 failed", r.stderr)
            s = stats_json(m.name)
            self.assertEqual((s["reloads_ok"], s["reloads_failed"]), (1, 1))
            self.assertEqual(s["last_reload"]["ok"], False)
            self.assertIn("FAILED", ctl("--name", m.name, "status").stdout)
            m.write_config(good)
            self.assertEqual(ctl("--name", m.name, "reload").returncode, 0)

    def test_issue_16_2_a_reload_error_that_is_not_utf8_renders(self):
        # A config key in Latin-1 ("wörkers"): the error quotes the raw byte, and shm used to
        # hand it on to nlohmann's dump(), which threw (fastforkctl rc 134, GET /stats 500).
        with MasterProcess(config={"workers": 1}, name=instance_name("utf8")) as m:
            with open(m.config_path, "wb") as f:
                f.write(b'{"workers": 1, "w\xf6rkers": 2, "' + b"\xe9" * 300 + b'": 1}')
            r = ctl("--name", m.name, "reload", "--timeout", "30")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            s = stats_json(m.name)
            self.assertEqual(s["last_reload"]["ok"], False)
            self.assertTrue(s["last_reload"]["message"])
            status, body = http_get(m.port, "/stats")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["last_reload"]["message"], s["last_reload"]["message"])
            for args in (("stats",), ("status",), ("stats", "--prometheus")):
                r = ctl("--name", m.name, *args)
                self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
            # What the master wrote into shm is valid UTF-8 already (cut at a character boundary).
            seg = Segment(m.name)
            try:
                raw = seg.map[100:356].split(b"\0", 1)[0]
            finally:
                seg.close()
            raw.decode("utf-8")

    def test_signals_scale_reopen_and_stop(self):
        with MasterProcess(workers=2, name=instance_name("sig")) as m:
            r = ctl("--name", m.name, "add-worker")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("SIGTTIN", r.stdout)
            wait_for(lambda: len(m.workers_by_index()) == 3, 10.0, what="3 workers")
            self.assertEqual(ctl("--name", m.name, "remove-worker").returncode, 0)
            wait_for(lambda: len(m.workers_by_index()) == 2, 10.0, what="2 workers")
            self.assertEqual(ctl("--name", m.name, "reopen").returncode, 0)
            st = ctl("--name", m.name, "status")
            self.assertEqual(st.returncode, 0, st.stderr)
            self.assertIn("master %d running" % m.pid, st.stdout)
            m.signalled = True  # the stop below is on purpose
            r = ctl("--name", m.name, "stop")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(m.wait(20.0), 0)

    def test_usage_errors_exit_2(self):
        self.assertEqual(ctl("frobnicate").returncode, 2)
        self.assertEqual(ctl("stats", "--watch", "x").returncode, 2)
        self.assertEqual(ctl("status", "--json").returncode, 2)
        self.assertEqual(ctl().returncode, 2)
        r = ctl("--name", instance_name("missing"), "status")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no fastfork instance named", r.stderr)

    def test_status_and_list_say_stale_after_kill_9(self):
        m = MasterProcess(workers=2, name=instance_name("stale"))
        m.start()
        problem = None
        try:
            st = ctl("--name", m.name, "status")
            self.assertEqual(st.returncode, 0, st.stderr)
            self.assertNotIn("STALE", st.stdout)
            self.assertRegex(ctl("list").stdout, r"(?m)^%s\s+%d\s+alive\s+2$" % (re.escape(m.name), m.pid))
            workers = list(m.workers_by_index().values())
            m.signalled = True
            os.kill(m.pid, signal.SIGKILL)
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            m.wait(10.0)
            wait_for(lambda: not any(alive(p) for p in workers), 5.0, what="workers gone")
            st = ctl("--name", m.name, "status")
            self.assertEqual(st.returncode, 1)
            self.assertIn("STALE", st.stdout)
            self.assertRegex(ctl("list").stdout, r"(?m)^%s\s+%d\s+stale\b" % (re.escape(m.name), m.pid))
            self.assertTrue(stats_json(m.name)["stale"])
            self.assertIn("STALE", ctl("--name", m.name, "stats").stdout)
            r = ctl("--name", m.name, "reload", "--timeout", "2")
            self.assertEqual(r.returncode, 1)
            self.assertIn("stale", r.stderr)
            self.assertEqual(ctl("--name", m.name, "stop").returncode, 1)
        finally:
            problem = m.stop()
            remove_segment(m.name)
        # The master died of the SIGKILL sent above, which the guard reports; nothing else may.
        if problem and "signal 9" not in problem:
            self.fail(problem)


class Load:
    """A client thread sending GET /plaintext at about `rate` requests per second on one
    keep-alive connection; .sent counts the responses received."""

    def __init__(self, port, rate):
        self.port = port
        self.period = 1.0 / rate
        self.sent = 0
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)

    def run(self):
        try:
            s = connect(self.port)
            next_at = time.monotonic()
            while not self.stop.is_set():
                s.sendall(request_bytes("/plaintext"))
                r = read_response(s)
                if r.status != 200:
                    raise AssertionError(r)
                self.sent += 1
                next_at += self.period
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            s.close()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def run_under_pty(argv, timeout, interrupt_after=None):
    """Runs argv with a pty as its terminal; returns (exit status, output). Optionally sends
    SIGINT after `interrupt_after` seconds."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    out = bytearray()
    deadline = time.monotonic() + scaled(timeout)
    interrupt_at = time.monotonic() + interrupt_after if interrupt_after else None
    try:
        while time.monotonic() < deadline:
            if interrupt_at and time.monotonic() >= interrupt_at:
                os.kill(pid, signal.SIGINT)
                interrupt_at = None
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
    end = time.monotonic() + scaled(5)
    got, status = os.waitpid(pid, os.WNOHANG)
    while got == 0 and time.monotonic() < end:
        time.sleep(0.05)
        got, status = os.waitpid(pid, os.WNOHANG)
    if got == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return status, out.decode("utf-8", "replace")


class Watch(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(CTL):
            self.skipTest("fastforkctl not found at %s" % CTL)

    def test_watch_rate_matches_the_load(self):
        with MasterProcess(workers=2, name=instance_name("watch")) as m:
            with Load(m.port, 500) as load:
                time.sleep(1.0)  # let the load settle
                sent0, t0 = load.sent, time.monotonic()
                status, out = run_under_pty([CTL, "--name", m.name, "stats", "--watch", "1", "--count", "3"], 20)
                actual = (load.sent - sent0) / (time.monotonic() - t0)
            self.assertIsNone(load.error)
            self.assertTrue(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "status %r:\n%s" % (status, out))
            frames = [f for f in out.split("\x1b[H\x1b[2J") if f.strip()]
            self.assertEqual(len(frames), 3, out)
            rates = [float(x) for x in re.findall(r"last [0-9.]+ s: ([0-9.]+) req/s", out)]
            self.assertEqual(len(rates), 2, out)
            for name in ("p50", "p90", "p99", "p99.9"):
                self.assertIn(name, frames[-1])
            for rate in rates:
                self.assertGreater(actual, 100, "the load thread managed only %.0f req/s" % actual)
                self.assertLess(abs(rate - actual), 0.4 * actual,
                                "watch showed %.1f req/s, the client sent %.1f req/s:\n%s" % (rate, actual, frames[-1]))

    def test_watch_stops_on_sigint(self):
        with MasterProcess(workers=1, name=instance_name("int")) as m:
            t0 = time.monotonic()
            status, out = run_under_pty([CTL, "--name", m.name, "stats", "--watch", "0.2"], 20, interrupt_after=1.0)
            self.assertLess(time.monotonic() - t0, scaled(5))
            self.assertTrue(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "status %r:\n%s" % (status, out))
            self.assertGreaterEqual(out.count("\x1b[H\x1b[2J"), 2)


if __name__ == "__main__":
    main()
