"""The live dashboard (issue 15 item 4): GET /dashboard in a real browser.

Debian's chromium runs headless, driven over the DevTools protocol (cdp.py), against a real
master with two workers. The page must plot what /stats says after a known wrk load (the
numbers it drew are in its hidden #plotted table and data- attributes, written from the same
arrays as the SVG), show every worker the master has, keep polling across a SIGHUP reload (new
pids, the reload result, a failed reload's message) and a worker killed with SIGKILL (a restart
event on the timeline), and fit a 1280 px and a 390 px wide viewport without sideways scrolling.
The route itself (headers, ETag, 304, 405, the dashboard_path / stats_path options) is checked
with http.client. Skipped (77) when chromium is not installed.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FASTFORK_BIN, main, scaled  # noqa: E402
from master_harness import MasterProcess, Wrk, wait_for  # noqa: E402
import cdp  # noqa: E402

POLL_MS = 250  # the page's polling interval in these tests (?interval=)


def fetch(port, path, method="GET", headers=None):
    """(status, {lower-case name: value}, body bytes) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(5))
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def stats(port):
    status, _, body = fetch(port, "/stats")
    assert status == 200, status
    return json.loads(body)


# What the page shows, read from its DOM in one evaluation.
PAGE_STATE = """(() => {
  const d = document.getElementById('dashboard').dataset;
  const rows = [...document.querySelectorAll('#plotted tbody tr')].map(r => ({
    t: +r.dataset.t, requests: +r.dataset.requests, rps: +r.dataset.rps,
    p50: r.dataset.p50 === '' ? null : +r.dataset.p50, p99: r.dataset.p99 === '' ? null : +r.dataset.p99}));
  const workers = [...document.querySelectorAll('#workers tbody tr')].map(r => ({
    pid: +r.dataset.pid, state: r.dataset.state, generation: +r.dataset.generation, index: +r.dataset.index,
    colour: getComputedStyle(r.querySelector('.badge')).backgroundColor,
    cells: [...r.cells].map(c => c.textContent)}));
  const line = document.querySelector('#chart-rps polyline[data-series=rps]');
  const vertices = line ? line.getAttribute('points').trim().split(/\\s+/).map(p => p.split(',').map(Number)) : [];
  const bar = {};
  for (const r of document.querySelectorAll('#bar rect[data-class]')) bar[r.dataset.class] = +r.dataset.count;
  const reload = document.getElementById('reload');
  return {samples: +d.samples, polls: +d.polls, requests: d.requests === '' ? null : +d.requests,
          rows, workers, vertices, bar,
          reload: {count: +(reload.dataset.count || 0), ok: reload.dataset.ok, text: reload.textContent},
          events: [...document.querySelectorAll('#events li[data-kind]')].map(li => ({kind: li.dataset.kind,
                                                                                      text: li.textContent})),
          marks: [...document.querySelectorAll('#chart-rps line.event')].map(l => l.dataset.kind),
          latencyLines: document.querySelectorAll('#chart-latency polyline').length,
          error: document.getElementById('error-panel').hidden ? '' : document.getElementById('error').textContent,
          kpiRequests: document.getElementById('kpi-requests').textContent};
})()"""


class DashboardRoute(unittest.TestCase):
    """The route as a client sees it, without a browser."""

    def test_serves_one_self_contained_page_with_a_strong_etag(self):
        with MasterProcess(workers=1) as m:
            status, h, body = fetch(m.port, "/dashboard")
            self.assertEqual(status, 200)
            self.assertEqual(h["content-type"], "text/html; charset=utf-8")
            self.assertEqual(h["cache-control"], "no-cache")
            self.assertRegex(h["etag"], r'^"[^"]+"$')  # strong: no W/ prefix
            text = body.decode()
            self.assertIn('data-stats-path="/stats"', text)
            self.assertIn("<svg", text)
            # Self-contained: nothing is loaded from elsewhere (the only URL is the SVG namespace).
            self.assertNotRegex(text, r"<link|@import|<script[^>]+src=|url\(")
            self.assertEqual(re.findall(r"https?://[^\s\"'<>]+", text), ["http://www.w3.org/2000/svg",
                                                                         "http://www.w3.org/1999/xhtml"])
            # Revalidation costs a 304 without a body; HEAD has the same validator.
            status, h304, body304 = fetch(m.port, "/dashboard", headers={"If-None-Match": h["etag"]})
            self.assertEqual((status, body304), (304, b""))
            self.assertEqual(h304["etag"], h["etag"])
            status, hhead, bodyhead = fetch(m.port, "/dashboard", method="HEAD")
            self.assertEqual((status, bodyhead, hhead["etag"]), (200, b"", h["etag"]))
            self.assertEqual(int(hhead["content-length"]), len(body))
            status, hpost, _ = fetch(m.port, "/dashboard", method="POST")
            self.assertEqual((status, hpost.get("allow")), (405, "GET, HEAD"))
            # A stale tag gets the page.
            status, _, again = fetch(m.port, "/dashboard", headers={"If-None-Match": '"old"'})
            self.assertEqual((status, again), (200, body))

    def test_dashboard_path_moves_or_turns_it_off_and_follows_stats_path(self):
        with MasterProcess(workers=1, config={"dashboard_path": "/ui", "stats_path": "/s/json"}) as m:
            self.assertEqual(fetch(m.port, "/dashboard")[0], 404)
            status, _, body = fetch(m.port, "/ui")
            self.assertEqual(status, 200)
            self.assertIn(b'data-stats-path="/s/json"', body)
            self.assertEqual(fetch(m.port, "/s/json")[0], 200)
        with MasterProcess(workers=1, config={"dashboard_path": ""}) as m:
            self.assertEqual(fetch(m.port, "/dashboard")[0], 404)
            self.assertEqual(fetch(m.port, "/stats")[0], 200)

    def test_a_bad_dashboard_path_is_a_config_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fastfork.json")
            with open(path, "w") as f:
                f.write('{\n  "dashboard_path": "dash"\n}\n')
            r = subprocess.run([FASTFORK_BIN, "--check-config", "-c", path], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=scaled(10))
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("dashboard_path", r.stderr)
            self.assertIn("expected a path starting with", r.stderr)


class DashboardInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cdp.find_chromium():
            raise unittest.SkipTest("chromium is not installed (scripts/install-deps.sh installs it)")

    def open(self, browser, port, width=1280, height=800, mobile=False):
        page = browser.page()
        page.set_viewport(width, height, mobile=mobile)
        page.navigate("http://127.0.0.1:%d/dashboard?interval=%d" % (port, POLL_MS))
        page.wait_for("+document.getElementById('dashboard').dataset.samples >= 2", timeout=scaled(10),
                      what="two samples on the page")
        return page

    def state(self, page):
        return page.evaluate(PAGE_STATE)

    def wait_state(self, page, predicate, what, timeout=10):
        deadline = time.monotonic() + scaled(timeout)
        s = None
        while time.monotonic() < deadline:
            s = self.state(page)
            if predicate(s):
                return s
            time.sleep(0.1)
        self.fail("page never showed %s; last state: %s" % (what, json.dumps(s)[:3000]))

    def assert_workers_match(self, shown, st):
        want = {w["pid"]: (w["state"], w["generation"], w["worker_index"]) for w in st["workers"]}
        got = {w["pid"]: (w["state"], w["generation"], w["index"]) for w in shown}
        self.assertEqual(got, want)

    def test_plots_a_known_load_and_keeps_working_across_reload_and_restart(self):
        with MasterProcess(workers=2, config={}) as m, cdp.Chromium() as browser:
            page = self.open(browser, m.port)
            before = self.state(page)
            self.assertEqual(before["error"], "")

            load = Wrk(m.port, connections=16, seconds=3).start().result()
            self.assertGreater(load["requests"], 1000, load["text"])
            # Two polls after the load, so the last interval on the page is quiet again.
            polls = self.state(page)["polls"]
            self.wait_state(page, lambda s: s["polls"] >= polls + 3, "three more polls")
            shown = self.state(page)
            st = stats(m.port)

            # The totals shown are /stats' (the page's own polls and this test add a few).
            self.assertLessEqual(shown["requests"], st["totals"]["requests"])
            self.assertLessEqual(st["totals"]["requests"] - shown["requests"], 10)
            self.assertNotEqual(shown["kpiRequests"], "–")
            # The plotted rates add up to the requests the server counted over the window, and
            # that window holds wrk's load: the line is the load, not a guess.
            rows = shown["rows"]
            self.assertGreaterEqual(len(rows), 5)
            integral = sum(r["rps"] * (r["t"] - p["t"]) for p, r in zip(rows, rows[1:]))
            self.assertAlmostEqual(integral, rows[-1]["requests"] - rows[0]["requests"], delta=1.0)
            self.assertGreaterEqual(integral, load["requests"] * 0.99)
            self.assertLessEqual(integral, load["requests"] + 16 + len(rows) + 5)
            peak = max(rows, key=lambda r: r["rps"])
            self.assertGreater(peak["rps"], load["requests"] / 3.0 * 0.5)
            # The SVG line has one vertex per plotted interval, and its highest is the peak.
            self.assertEqual(len(shown["vertices"]), len(rows))
            top = min(range(len(rows)), key=lambda i: shown["vertices"][i][1])
            self.assertEqual(rows[top]["rps"], peak["rps"])
            # Latency of the loaded intervals, from the histogram difference: plausible next to
            # /stats' lifetime percentiles, which the same requests dominate.
            busy = [r for r in rows if r["rps"] > peak["rps"] / 2]
            self.assertTrue(busy and all(r["p50"] is not None and 0 < r["p50"] <= r["p99"] for r in busy), busy)
            life = st["totals"]["latency_us"]
            mid = sorted(r["p50"] for r in busy)[len(busy) // 2]
            self.assertTrue(life["p50"] / 4 <= mid <= life["p50"] * 4, (mid, life))
            self.assertGreaterEqual(shown["latencyLines"], 2)
            # Responses by class: the bar's 2xx is /stats' 2xx (give or take the same polls).
            ok = st["totals"]["responses_by_class"]["2xx"]
            self.assertTrue(ok - 10 <= shown["bar"]["2xx"] <= ok, (shown["bar"], ok))
            # One row per worker process, with its state in colour (ready is green).
            self.assert_workers_match(shown["workers"], st)
            self.assertEqual(len(shown["workers"]), 2)
            self.assertTrue(all(w["colour"] == "rgb(21, 128, 61)" for w in shown["workers"]), shown["workers"])

            # SIGHUP: new pids, the result shown, a reload event on the timeline, still polling.
            old_pids = {w["pid"] for w in st["workers"]}
            result = m.reload()
            self.assertEqual(result["reload_ok"], 1)
            wait_for(lambda: m.all_ready(generation=2), scaled(10), what="generation 2 ready")
            after = self.wait_state(page, lambda s: s["reload"]["count"] == 1 and s["reload"]["ok"] == "true" and
                                    any(w["generation"] == 2 and w["state"] == "ready" for w in s["workers"]) and
                                    "reload" in s["marks"], "the reload")
            self.assertIn("reload #1", after["reload"]["text"])
            new = wait_for(lambda: (lambda s: s if {w["pid"] for w in s["workers"]
                                                    if w["state"] == "ready"}.isdisjoint(old_pids) else None)(
                stats(m.port)), scaled(10), what="old generation gone")
            gen2 = {w["pid"] for w in new["workers"] if w["generation"] == 2}
            self.assertEqual(len(gen2), 2)
            self.wait_state(page, lambda s: gen2 <= {w["pid"] for w in s["workers"]} and
                            not old_pids & {w["pid"] for w in s["workers"] if w["state"] == "ready"},
                            "generation 2's pids")
            kinds = [e["kind"] for e in self.state(page)["events"]]
            self.assertIn("reload", kinds)
            self.assertIn("generation", kinds)

            # A failed reload keeps the workers and shows the master's message.
            m.write_config('{"workers": "many"}')
            result = m.reload()
            self.assertEqual(result["reload_ok"], 0)
            failed = self.wait_state(page, lambda s: s["reload"]["count"] == 2 and s["reload"]["ok"] == "false",
                                     "the failed reload")
            self.assertIn("failed", failed["reload"]["text"])
            self.assertIn("workers", failed["reload"]["text"])  # the message names the key
            self.assertIn("reload-failed", failed["marks"])

            # A worker killed with SIGKILL comes back: a restart event on the chart.
            victim = sorted(gen2)[0]
            os.kill(victim, signal.SIGKILL)
            restarted = self.wait_state(page, lambda s: "restart" in s["marks"] and victim not in
                                        {w["pid"] for w in s["workers"] if w["state"] == "ready"} and
                                        len([w for w in s["workers"] if w["state"] == "ready"]) == 2,
                                        "the restart")
            text = " ".join(e["text"] for e in restarted["events"] if e["kind"] == "restart")
            self.assertIn(str(victim), text)
            self.assert_workers_match(restarted["workers"], stats(m.port))
            self.assertEqual(restarted["error"], "")
            page.close()

    def test_fits_a_desktop_and_a_phone_viewport(self):
        with MasterProcess(workers=2) as m, cdp.Chromium() as browser:
            for width, height, mobile in ((1280, 800, False), (390, 844, True)):
                page = self.open(browser, m.port, width, height, mobile)
                fit = page.evaluate("""(() => {
                  const doc = document.documentElement, wrap = document.querySelector('.table-wrap');
                  const charts = [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect());
                  return {page: doc.scrollWidth, view: doc.clientWidth,
                          table: wrap.scrollWidth, tableView: wrap.clientWidth,
                          charts: charts.map(r => [r.left, r.right, r.height]),
                          font: parseFloat(getComputedStyle(document.querySelector('#workers td')).fontSize)};
                })()""")
                self.assertLessEqual(fit["page"], fit["view"], (width, fit))  # no sideways scrolling
                self.assertLessEqual(fit["table"], fit["tableView"], (width, fit))  # every worker column visible
                for left, right, h in fit["charts"]:
                    self.assertTrue(left >= 0 and right <= width and h >= 120, (width, fit))
                self.assertGreaterEqual(fit["font"], 12)
                page.close()


if __name__ == "__main__":
    if not cdp.find_chromium():
        # CTest reports 77 as skipped: a passing run must mean the page was seen in a browser.
        print("chromium is not installed (scripts/install-deps.sh installs it): skipped")
        sys.exit(77)
    main()
