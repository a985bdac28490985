"""The master: workers and their sockets, restarts, reloads, shutdown, scaling, sd_notify,
--check-config, and programs on libfastfork (DESIGN.md "Processes and sockets", "Signals",
"Draining without losing a request").

Each test starts its own master on a free port with its own stats segment name, and every
process it started is cleaned up by PID (master_harness.MasterProcess).
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BackgroundConnections, FASTFORK_BIN, free_port, http_get, main, raise_nofile_limit, request_bytes,  # noqa: E402
                     connect, run_connections, scaled)
from master_harness import (HELLO, TEST_APP, MasterProcess, NotifySocket, Wrk, alive, children, healthz,  # noqa: E402
                            ipv6_loopback_available, listen_inodes, listening_sockets_held, socket_inodes,
                            wait_for)


def refused(port, host="127.0.0.1"):
    """True when a connect to `port` is refused right now."""
    try:
        s = socket.create_connection((host, port), timeout=scaled(0.5))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    s.close()
    return False


class LoadLoop(threading.Thread):
    """Sequential GETs, each on a fresh connection, until stop(); counts answers and failures."""

    def __init__(self, port, path="/plaintext"):
        super().__init__(daemon=True)
        self.port = port
        self.path = path
        self.ok = 0
        self.failures = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                status, _ = http_get(self.port, self.path, timeout=5.0)
                if status == 200:
                    self.ok += 1
                else:
                    self.failures.append("status %d" % status)
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                self.failures.append("%s: %s" % (type(e).__name__, e))
            time.sleep(0.005)

    def stop(self):
        self._halt.set()
        self.join(scaled(10))


def setUpModule():
    raise_nofile_limit()


class Processes(unittest.TestCase):
    def test_workers_are_children_with_one_listening_socket_each(self):
        with MasterProcess(workers=3) as m:
            by_index = m.workers_by_index()
            self.assertEqual(sorted(by_index), [0, 1, 2])
            self.assertEqual(m.children(), set(by_index.values()), "children of the master vs shm slots")
            port_listeners = listen_inodes(m.port)
            self.assertEqual(len(port_listeners), 3, "one SO_REUSEPORT socket per worker slot")
            master_held = socket_inodes(m.pid) & port_listeners
            self.assertEqual(master_held, port_listeners, "the master keeps every slot's socket open")
            held = {}
            for index, pid in by_index.items():
                held[index] = socket_inodes(pid) & port_listeners
                self.assertEqual(len(held[index]), 1, "worker %d holds %r" % (index, held[index]))
            self.assertEqual(len(set().union(*held.values())), 3, "each worker has its own socket")

            seen = {}
            for _ in range(300):
                h = healthz(m.port)
                seen[h["worker"]] = h["pid"]
                if len(seen) == 3:
                    break
            self.assertEqual(seen, by_index, "300 fresh connections reached workers %r" % seen)


class Restarts(unittest.TestCase):
    def test_killed_worker_is_replaced_under_load(self):
        with MasterProcess(workers=2) as m:
            old = m.workers_by_index()
            with Wrk(m.port, connections=64, seconds=6) as wrk:
                time.sleep(1.5)
                victim = old[0]
                os.kill(victim, signal.SIGKILL)
                t0 = time.monotonic()
                new = wait_for(lambda: (lambda p: p if p not in (None, victim) else None)(
                    m.workers_by_index().get(0)), 1.0, what="a new ready worker 0")
                replaced_after = time.monotonic() - t0
                r = wrk.result()
            self.assertNotEqual(new, victim)
            self.assertIn(new, m.children())
            self.assertEqual(m.workers_by_index()[1], old[1], "the other worker was left alone")
            self.assertLess(replaced_after, scaled(1.0))
            self.assertEqual(m.header()["restarts"], 1)
            self.assertGreater(r["requests"], 1000, r["text"])
            self.assertEqual(r["connect"], 0, "connections must queue in the master's socket:\n" + r["text"])
            self.assertLessEqual(r["socket_errors"], 64, r["text"])
            self.assertEqual(r["non2xx"], 0, r["text"])

    def test_stuck_worker_is_killed_and_replaced(self):
        with MasterProcess(["--worker-timeout", "1s"], binary=TEST_APP, workers=2) as m:
            old = m.workers_by_index()
            # Keep-alive connections to both workers, opened before anything gets stuck.
            conns = {}
            for _ in range(100):
                c = http.client.HTTPConnection("127.0.0.1", m.port, timeout=scaled(2))
                c.request("GET", "/healthz")
                idx = json.loads(c.getresponse().read())["worker"]
                if idx in conns:
                    c.close()
                else:
                    conns[idx] = c
                if len(conns) == 2:
                    break
            self.assertEqual(sorted(conns), [0, 1])

            spin_outcome = []

            def spin():
                try:
                    with socket.create_connection(("127.0.0.1", m.port), timeout=scaled(10)) as s:
                        s.sendall(request_bytes("/spin"))
                        spin_outcome.append(("data", s.recv(65536)))
                except OSError as e:
                    spin_outcome.append(("error", e))

            spinner = threading.Thread(target=spin, daemon=True)
            t0 = time.monotonic()
            spinner.start()

            def stuck_index():
                now_ms = time.monotonic() * 1000
                for s in m.slots():
                    if s["pid"] in old.values() and s["state"] == "ready" and now_ms - s["heartbeat_ms"] > 300:
                        return str(s["index"])
                return None

            stuck = int(wait_for(stuck_index, 2.0, what="a worker whose heartbeat stalls"))
            other = 1 - stuck
            served = 0
            while m.workers_by_index().get(stuck) in (None, old[stuck]):
                self.assertLess(time.monotonic() - t0, scaled(3.0), "the stuck worker was not replaced in 3 s; "
                                "log:\n" + m.log())
                conns[other].request("GET", "/plaintext")
                r = conns[other].getresponse()
                self.assertEqual((r.status, r.read()), (200, b"Hello, World!"))
                served += 1
                time.sleep(0.02)
            replaced_after = time.monotonic() - t0
            self.assertGreater(served, 5, "worker %d kept serving while worker %d was stuck" % (other, stuck))
            self.assertLess(replaced_after, scaled(3.0))
            self.assertEqual(m.workers_by_index()[other], old[other])
            spinner.join(scaled(5))
            self.assertTrue(spin_outcome, "the /spin client still waits after its worker was killed")
            kind, what = spin_outcome[0]
            self.assertTrue(kind == "error" or what == b"", "the /spin request got %r" % (what,))
            self.assertEqual(m.header()["restarts"], 1)
            self.assertIn("missed its heartbeat", m.log())
            for c in conns.values():
                c.close()


class Reload(unittest.TestCase):
    def test_twenty_sighups_under_load_lose_nothing(self):
        with MasterProcess(workers=2) as m:
            with Wrk(m.port, connections=64, seconds=10) as wrk:
                time.sleep(0.5)
                for _ in range(20):
                    m.signal(signal.SIGHUP)
                    time.sleep(0.4)
                r = wrk.result()
            self.assertGreater(r["requests"], 1000, r["text"])
            self.assertEqual(r["socket_errors"], 0, "reloads failed requests:\n" + r["text"] + "\n" + m.log())
            self.assertEqual(r["non2xx"], 0, r["text"])
            wait_for(lambda: m.header()["generation"] == 21 and m.all_ready(21), 5.0,
                     what="generation 21 ready (header %r)" % (m.header(),))
            self.assertEqual(m.header()["reloads_ok"], 20)
            self.assertEqual(m.header()["reloads_failed"], 0)
            # The old generations drain and exit.
            wait_for(lambda: len(m.children()) == 2, 5.0, what="only two children left")
            gens = {s["pid"]: s["generation"] for s in m.slots()}
            self.assertEqual({gens.get(p) for p in m.children()}, {21})
            seen = {}
            for _ in range(200):
                h = healthz(m.port)
                seen[h["worker"]] = h["generation"]
                if len(seen) == 2:
                    break
            self.assertEqual(seen, {0: 21, 1: 21})

    def test_sighup_during_startup_is_not_lost(self):
        # A SIGHUP that arrives while the first generation is starting is deferred ("reloading
        # again after it"); it must run once that generation is ready, not be dropped.
        m = MasterProcess(workers=2, wait_ready=False)
        with m:
            wait_for(lambda: os.path.exists("/dev/shm/fastfork." + m.name) and m.attach() and m.slots(), 5.0,
                     interval=0.002, what="the stats segment with a starting worker")
            m.signal(signal.SIGHUP)
            try:
                wait_for(lambda: m.header()["reload_count"] >= 1, 5.0, what="the deferred reload")
            except AssertionError as e:
                self.fail("%s; header %r; log:\n%s" % (e, m.header(), m.log()))
            self.assertEqual(m.header()["reload_ok"], 1, m.header())
            wait_for(lambda: m.all_ready(2), 5.0, what="generation 2 ready")

    def test_reload_with_a_broken_config_keeps_the_workers(self):
        with MasterProcess(config={"workers": 2}) as m:
            old = m.workers_by_index()
            base = {"listen": ["127.0.0.1:%d" % m.port], "workers": 2}
            cases = [
                ('{"listen": ["127.0.0.1:%d"],\n  "workers": 2,\n}\n' % m.port, ["invalid JSON", "fastfork.json:3:"]),
                (dict(base, wokers=3), ['unknown key "wokers"', 'did you mean "workers"', "fastfork.json:"]),
                (dict(base, shutdown_timeout="5 parsecs"), ['"shutdown_timeout"', "5 parsecs"]),
            ]
            for text, needles in cases:
                m.write_config(text)
                r = m.reload()
                self.assertEqual(r["reload_ok"], 0, r)
                for needle in needles:
                    self.assertIn(needle, r["reload_message"])
                self.assertEqual(healthz(m.port)["generation"], 1)
                self.assertEqual(m.workers_by_index(generation=1), old)
                self.assertEqual(m.children(), set(old.values()))
                self.assertEqual(m.header()["generation"], 1)
            self.assertEqual(m.header()["reloads_failed"], 3)

            m.write_config(dict(base, workers=3))
            r = m.reload()
            self.assertEqual(r["reload_ok"], 1, r)
            self.assertEqual(m.header()["generation"], 2)
            self.assertEqual(m.header()["workers"], 3)
            wait_for(lambda: len(m.children()) == 3 and not (m.children() & set(old.values())), 5.0,
                     what="three workers of generation 2 and no old one")
            self.assertEqual(healthz(m.port)["generation"], 2)

    def test_reload_whose_workers_fail_rolls_back(self):
        marker = os.path.join(tempfile.mkdtemp(prefix="ff-marker-"), "fail")
        try:
            with MasterProcess(binary=TEST_APP, workers=2, env={"FF_TEST_FAIL_MARKER": marker}) as m:
                old = m.workers_by_index()
                load = LoadLoop(m.port)
                load.start()
                try:
                    time.sleep(0.2)
                    open(marker, "w").close()
                    r = m.reload()
                    self.assertEqual(r["reload_ok"], 0, r)
                    self.assertIn("exited before it was ready", r["reload_message"])
                    self.assertIn("exit status 3", r["reload_message"])
                    time.sleep(0.3)
                    self.assertEqual(m.header()["generation"], 1)
                    self.assertEqual(m.workers_by_index(generation=1), old)
                    wait_for(lambda: m.children() == set(old.values()), 3.0, what="the failed generation gone")

                    os.unlink(marker)
                    r = m.reload()
                    self.assertEqual(r["reload_ok"], 1, r)
                    self.assertEqual(m.header()["generation"], 2)
                    wait_for(lambda: m.all_ready(2) and len(m.children()) == 2, 5.0, what="generation 2 alone")
                    time.sleep(0.2)
                finally:
                    load.stop()
                self.assertEqual(load.failures, [], m.log())
                self.assertGreater(load.ok, 20)
        finally:
            if os.path.exists(marker):
                os.unlink(marker)
            os.rmdir(os.path.dirname(marker))


class Shutdown(unittest.TestCase):
    def test_sigterm_finishes_fifty_in_flight_requests(self):
        with MasterProcess(["--shutdown-timeout", "5s"], workers=2) as m:
            clients = BackgroundConnections(m.port, [[(request_bytes("/sleep?ms=1000"), 1)]] * 50, timeout=15)
            clients.start()
            wait_for(lambda: sum(s["counters"]["connections_active"] for s in m.slots()) >= 50, 3.0,
                     what="50 open connections")
            time.sleep(0.1)
            t0 = time.monotonic()
            m.signal(signal.SIGTERM)
            wait_for(lambda: refused(m.port), 1.0, what="new connections refused while the 50 are in flight")
            clients.join(scaled(15))
            self.assertFalse(clients.is_alive())
            if clients.exc:
                raise clients.exc
            failures = [(r.index, r.error, [x.status for x in r.responses]) for r in clients.results
                        if r.error or [x.status for x in r.responses] != [200]]
            self.assertEqual(failures, [], m.log())
            for r in clients.results:
                self.assertEqual(r.responses[0].body, b"slept 1000 ms\n")
            self.assertTrue(refused(m.port), "a new connection was accepted after the drain")
            rc = m.wait(5.0)
            self.assertEqual(rc, 0, "master exit %r %.2f s after SIGTERM; log:\n%s" % (
                rc, time.monotonic() - t0, m.log()))
            self.assertLess(time.monotonic() - t0, scaled(5.0))

    def test_issue_10_8_workers_of_a_killed_master_say_so_and_exit_by_the_shutdown_timeout(self):
        # PR_SET_PDEATHSIG delivers the master's death as a SIGTERM: the log must say what
        # happened, and a worker busy with a request must still be gone by shutdown_timeout.
        with MasterProcess(["--shutdown-timeout", "2s"], workers=2, allowed_signals=(signal.SIGKILL,)) as m:
            workers = m.workers_by_index()
            s = connect(m.port)
            try:
                s.sendall(request_bytes("/sleep?ms=30000"))
                busy = wait_for(lambda: [x["pid"] for x in m.slots() if x["counters"]["connections_active"] > 0],
                                3.0, what="the sleep request in a worker")[0]
                idle = next(pid for pid in workers.values() if pid != busy)
                t0 = time.monotonic()
                m.signal(signal.SIGKILL)
                exited = {}
                while len(exited) < 2 and time.monotonic() - t0 < scaled(6.0):
                    for pid in (busy, idle):
                        if pid not in exited and not alive(pid):
                            exited[pid] = time.monotonic() - t0
                    time.sleep(0.02)
            finally:
                s.close()
            log = m.log()
            self.assertEqual(set(exited), {busy, idle}, "workers still alive 6 s after the master's death:\n" + log)
            # The idle one has nothing to finish; the busy one is cut at the 2 s deadline.
            self.assertLess(exited[idle], scaled(1.5), log)
            self.assertGreaterEqual(exited[busy], 1.9, log)
            self.assertLess(exited[busy], 2.0 + scaled(1.0), log)
            self.assertIn("%d: master exited: draining (1 open connection)\n" % busy, log)
            self.assertIn("%d: master exited: draining (0 open connections)\n" % idle, log)
            self.assertIn("%d: shutdown timeout: 1 connection still open, stopping\n" % busy, log)
            self.assertNotIn("SIGTERM: draining", log)

    def test_pid_file_written_and_removed(self):
        d = tempfile.mkdtemp(prefix="ff-pid-")
        path = os.path.join(d, "fastfork.pid")
        try:
            with MasterProcess(["--pid-file", path], workers=1) as m:
                with open(path) as f:
                    self.assertEqual(f.read().strip(), str(m.pid))
            self.assertFalse(os.path.exists(path), "pid file left behind after exit")
            self.assertFalse(os.path.exists("/dev/shm/fastfork." + m.name), "stats segment left behind")
        finally:
            if os.path.exists(path):
                os.unlink(path)
            os.rmdir(d)

    def test_worker_that_cannot_start_fails_the_master(self):
        d = tempfile.mkdtemp(prefix="ff-marker-")
        marker = os.path.join(d, "fail")
        open(marker, "w").close()
        try:
            m = MasterProcess(binary=TEST_APP, workers=2, env={"FF_TEST_FAIL_MARKER": marker}, wait_ready=False,
                              expect_exit_codes=(1,))
            with m:
                rc = m.wait(3.0)
                self.assertEqual(rc, 1, m.log())
                self.assertIn("cannot start", m.log())
                self.assertIn("worker set-up failed on demand", m.log())
            self.assertFalse(os.path.exists("/dev/shm/fastfork." + m.name))
        finally:
            os.unlink(marker)
            os.rmdir(d)


class Scaling(unittest.TestCase):
    def test_sigttin_adds_and_sigttou_removes_a_worker(self):
        with MasterProcess(workers=2) as m:
            before = m.children()
            m.signal(signal.SIGTTIN)
            wait_for(lambda: len(m.children()) == 3 and m.header()["workers"] == 3 and m.all_ready(), 3.0,
                     what="a third worker")
            new = (m.children() - before).pop()
            self.assertEqual(m.workers_by_index()[2], new)
            self.assertEqual(len(listen_inodes(m.port)), 3)
            self.assertEqual(listening_sockets_held(m.pid, m.port), 3)
            self.assertEqual(listening_sockets_held(new, m.port), 1)
            seen = set()
            for _ in range(300):
                seen.add(healthz(m.port)["worker"])
                if len(seen) == 3:
                    break
            self.assertEqual(seen, {0, 1, 2})

            m.signal(signal.SIGTTOU)
            wait_for(lambda: m.children() == before and m.header()["workers"] == 2, 3.0, what="back to two workers")
            self.assertEqual(len(listen_inodes(m.port)), 2)
            self.assertEqual(listening_sockets_held(m.pid, m.port), 2)
            self.assertEqual(healthz(m.port)["status"], "ok")


class SdNotify(unittest.TestCase):
    def test_ready_reloading_status_stopping(self):
        with NotifySocket() as ns:
            with MasterProcess(workers=2, env={"NOTIFY_SOCKET": ns.path}) as m:
                ready = ns.wait_for(lambda x: x == "READY=1", 3.0, "READY=1")
                status = ns.wait_for(lambda x: x.startswith("STATUS="), 2.5, "STATUS=")
                self.assertIn("workers ready", ns.received[status][1])
                m.signal(signal.SIGHUP)
                reloading = ns.wait_for(lambda x: x.startswith("RELOADING=1\n"), 3.0, "RELOADING=1")
                msg = ns.received[reloading][1]
                usec = re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=(\d+)", msg)
                self.assertIsNotNone(usec, msg)
                self.assertLess(abs(int(usec.group(1)) / 1e6 - time.monotonic()), 10.0, "CLOCK_MONOTONIC")
                ready2 = ns.wait_for(lambda x: x == "READY=1", 3.0, "READY=1 after the reload")
                m.signal(signal.SIGTERM)
                stopping = ns.wait_for(lambda x: x == "STOPPING=1", 3.0, "STOPPING=1")
                self.assertEqual(m.wait(5.0), 0)
            self.assertLess(ready, reloading)
            self.assertLess(reloading, ready2)
            self.assertLess(ready2, stopping)
            kinds = [x.split("=", 1)[0] for _, x in ns.received]
            self.assertEqual([k for k in kinds if k != "STATUS"], ["READY", "RELOADING", "READY", "STOPPING"], kinds)


class CheckConfig(unittest.TestCase):
    def check(self, name, text, *args):
        d = tempfile.mkdtemp(prefix="ff-cfg-")
        path = os.path.join(d, name)
        try:
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([FASTFORK_BIN, "--check-config", "-c", path] + list(args), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=scaled(10))
            return p.returncode, p.stdout.decode("utf-8", "replace")
        finally:
            os.unlink(path)
            os.rmdir(d)

    def test_broken_files_are_reported_with_position_and_key(self):
        cases = [
            ("badjson.json", '{"listen": ["127.0.0.1:8080"],\n "workers": 2,\n}\n',
             [r"badjson\.json:3:\d+: invalid JSON"]),
            ("unknown.json", '{"listen": ["127.0.0.1:8080"],\n "wokers": 2\n}\n',
             [r'unknown\.json:2:\d+: unknown key "wokers" \(did you mean "workers"\?\)']),
            ("duration.json", '{"listen": ["127.0.0.1:8080"],\n "shutdown_timeout": "5 parsecs"\n}\n',
             [r'duration\.json:2:\d+: key "shutdown_timeout": ', r"5 parsecs"]),
            ("address.json", '{\n  "listen": "300.1.2.3:80"\n}\n',
             [r'address\.json:2:\d+: key "listen": ', r"300\.1\.2\.3"]),
            ("type.json", '{"listen": ["127.0.0.1:8080"],\n  "workers": [1]\n}\n',
             [r'type\.json:2:\d+: key "workers": ']),
        ]
        for name, text, patterns in cases:
            with self.subTest(name):
                rc, out = self.check(name, text)
                self.assertEqual(rc, 1, out)
                for pattern in patterns:
                    self.assertRegex(out, pattern)
                self.assertNotIn("is valid", out)

    def test_valid_file_passes(self):
        rc, out = self.check("ok.json", '{"listen": ["127.0.0.1:8080"], "workers": 2, "shutdown_timeout": "5s"}\n')
        self.assertEqual(rc, 0, out)
        self.assertIn("is valid", out)

    def test_check_config_beside_a_live_instance_binds_nothing(self):
        # nginx -t is run right before a reload, while the instance serves: it must not open a
        # SO_REUSEPORT socket that would join the live group and take a share of its connections.
        with MasterProcess(workers=2) as m:
            before = listen_inodes(m.port)
            cmd = [FASTFORK_BIN, "--check-config", "--listen", "127.0.0.1:%d" % m.port, "--name", m.name,
                   "--workers", "2"]
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _ = p.communicate(timeout=scaled(10))
            self.assertEqual(p.returncode, 0, out)
            self.assertIn(b"is valid", out)
            self.assertEqual(listen_inodes(m.port), before)
            self.assertEqual(len(before), 2)

    def test_unknown_flag_suggests_the_key(self):
        rc, out = self.check("ok.json", '{"workers": 2}\n', "--wokers", "3")
        self.assertEqual(rc, 1, out)
        self.assertIn("did you mean --workers?", out)


class Listen(unittest.TestCase):
    def test_ipv4_and_ipv6_together(self):
        if not ipv6_loopback_available():
            self.skipTest("::1 is not available")
        with MasterProcess(workers=2, listen="127.0.0.1:{port},[::1]:{port}") as m:
            self.assertEqual(len(listen_inodes(m.port)), 4, "two sockets per worker slot")
            for pid in m.children():
                self.assertEqual(listening_sockets_held(pid, m.port), 2)
            self.assertEqual(healthz(m.port)["status"], "ok")
            self.assertEqual(healthz(m.port, host="::1")["status"], "ok")


def run_fastfork(*args):
    """Runs `fastfork ARGS` to its end (it is expected to refuse to start); (returncode, output)."""
    p = subprocess.run([FASTFORK_BIN] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=scaled(15))
    return p.returncode, p.stdout.decode("utf-8", "replace")


class PortSharing(unittest.TestCase):
    """Issue 10.1: SO_REUSEPORT must not let a second instance join a live instance's group."""

    def test_second_instance_on_a_busy_address_refuses_to_start(self):
        with MasterProcess(workers=2) as m:
            before = listen_inodes(m.port)
            other = "other%d-%d" % (os.getpid(), m.port)
            for listen in ("127.0.0.1:%d" % m.port, "0.0.0.0:%d" % m.port):
                with self.subTest(listen):
                    rc, out = run_fastfork("--listen", listen, "--name", other, "--workers", "1")
                    self.assertNotEqual(rc, 0, out)
                    self.assertIn("cannot listen on %s" % listen, out)
                    self.assertIn('fastfork instance "%s"' % m.name, out)
                    self.assertIn("master pid %d" % m.pid, out)
                    self.assertIn("fastforkctl --name %s stop" % m.name, out)
                    self.assertNotIn("started worker", out)
                    self.assertEqual(listen_inodes(m.port), before)
                    self.assertFalse(os.path.exists("/dev/shm/fastfork." + other))
            self.assertEqual(healthz(m.port)["status"], "ok")

    def test_same_name_elsewhere_names_the_instance_and_does_not_suggest_sharing(self):
        with MasterProcess(workers=1) as m:
            rc, out = run_fastfork("--listen", "127.0.0.1:%d" % free_port(), "--name", m.name, "--workers", "1")
            self.assertNotEqual(rc, 0, out)
            self.assertIn('fastfork instance named "%s" is running (master pid %d' % (m.name, m.pid), out)
            self.assertIn("fastforkctl --name %s stop" % m.name, out)
            self.assertEqual(healthz(m.port)["status"], "ok")

    def test_a_port_held_by_another_program_is_refused(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            port = s.getsockname()[1]
            for listen in ("127.0.0.1:%d" % port, "0.0.0.0:%d" % port):
                for mode in ([], ["--single-process"]):
                    with self.subTest(listen=listen, mode=mode):
                        rc, out = run_fastfork("--listen", listen, "--workers", "1", *mode)
                        self.assertEqual(rc, 1, out)
                        self.assertIn("cannot listen on %s: Address already in use by pid %d" % (listen, os.getpid()),
                                      out)
                        self.assertEqual(len(listen_inodes(port)), 1)

    def test_reload_onto_a_busy_address_keeps_the_old_workers(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            busy = s.getsockname()[1]
            with MasterProcess(config={"workers": 2}) as m:
                old = m.workers_by_index()
                m.write_config({"listen": ["127.0.0.1:%d" % m.port, "127.0.0.1:%d" % busy], "workers": 2})
                r = m.reload()
                self.assertEqual(r["reload_ok"], 0, r)
                self.assertIn("cannot listen on 127.0.0.1:%d: Address already in use" % busy, r["reload_message"])
                self.assertEqual(m.workers_by_index(generation=1), old)
                self.assertEqual(m.children(), set(old.values()))
                self.assertEqual(len(listen_inodes(busy)), 1)
                # Our own sockets overlap the wildcard: moving to 0.0.0.0 on the same port is no conflict.
                m.write_config({"listen": ["0.0.0.0:%d" % m.port], "workers": 2})
                r = m.reload()
                self.assertEqual(r["reload_ok"], 1, r)
                wait_for(lambda: len(m.children()) == 2 and not (m.children() & set(old.values())), 5.0,
                         what="generation 2 alone")
                self.assertEqual(healthz(m.port)["generation"], 2)


def ids_of(pid):
    """(uids, gids) of `pid` from /proc/PID/status: real, effective, saved, filesystem each."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = tuple(int(x) for x in value.split())
    return ids["Uid"], ids["Gid"]


@unittest.skipUnless(os.geteuid() == 0, "needs root: the master drops the workers to another user")
class Privileges(unittest.TestCase):
    """Issue 10.5: the master keeps root to bind; workers run as `user`."""

    def setUp(self):
        import pwd
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        self.dir = tempfile.mkdtemp(prefix="ff-priv-")  # 0700 root: nobody may not create files here
        self.docroot = os.path.join(self.dir, "www")
        os.mkdir(self.docroot)
        os.chmod(self.dir, 0o711)
        os.chmod(self.docroot, 0o755)
        with open(os.path.join(self.docroot, "hello.txt"), "w") as f:
            f.write("hello from nobody\n")
        os.chmod(os.path.join(self.docroot, "hello.txt"), 0o644)
        self.access_log = os.path.join(self.dir, "access.log")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_workers_are_nobody(self, m):
        kids = m.children()
        self.assertEqual(len(kids), 2)
        for pid in kids:
            uids, gids = ids_of(pid)
            self.assertEqual(uids, (self.nobody.pw_uid,) * 4, pid)
            self.assertEqual(gids, (self.nobody.pw_gid,) * 4, pid)
        self.assertEqual(ids_of(m.pid)[0], (0, 0, 0, 0), "the master stays root")

    def test_workers_run_as_nobody_and_serve_stats_reload_and_logs(self):
        cfg = {"workers": 2, "user": "nobody", "root": self.docroot, "access_log": self.access_log}
        with MasterProcess(config=cfg) as m:
            self.assert_workers_are_nobody(m)
            self.assertEqual(http_get(m.port, "/hello.txt"), (200, b"hello from nobody\n"))
            status, body = http_get(m.port, "/stats")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["instance"], m.name)
            self.assertEqual(healthz(m.port)["status"], "ok")
            st = os.stat(self.access_log)
            self.assertEqual((st.st_uid, st.st_gid), (self.nobody.pw_uid, self.nobody.pw_gid))
            r = m.reload()
            self.assertEqual(r["reload_ok"], 1, r)
            wait_for(lambda: m.all_ready(2) and len(m.children()) == 2, 5.0, what="generation 2 alone")
            self.assert_workers_are_nobody(m)
            self.assertEqual(http_get(m.port, "/hello.txt")[0], 200)
            # logrotate: the master makes the new file, hands it to nobody, then the workers reopen it.
            os.rename(self.access_log, self.access_log + ".1")
            m.signal(signal.SIGUSR1)
            wait_for(lambda: os.path.exists(self.access_log), 3.0, what="the reopened access log")
            self.assertEqual(os.stat(self.access_log).st_uid, self.nobody.pw_uid)
            self.assertEqual(http_get(m.port, "/hello.txt")[0], 200)
            wait_for(lambda: os.path.getsize(self.access_log) > 0, 3.0, what="a line in the new access log")
            self.assertNotIn("keep root", m.log())
            self.assertNotIn("cannot drop privileges", m.log())

    def test_root_without_user_warns_once_and_explicit_root_is_silent(self):
        with MasterProcess(workers=1) as m:
            self.assertEqual(m.reload()["reload_ok"], 1)
            self.assertEqual(m.log().count("the workers keep root"), 1, m.log())
            for pid in m.children():
                self.assertEqual(ids_of(pid)[0][1], 0)
        with MasterProcess(workers=1, args=["--user", "root"]) as m:
            self.assertNotIn("keep root", m.log())

    def test_unknown_user_or_group_is_a_config_error_naming_the_key(self):
        for args, needle in ((["--user", "no-such-user-ff"], 'key "user": no such user'),
                             (["--group", "no-such-group-ff"], 'key "group": no such group')):
            rc, out = run_fastfork("--check-config", *args)
            self.assertEqual(rc, 1, out)
            self.assertIn(needle, out)
        path = os.path.join(self.dir, "bad.json")
        with open(path, "w") as f:
            f.write('{"workers": 1,\n "user": "no-such-user-ff"}\n')
        rc, out = run_fastfork("--check-config", "-c", path)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r'bad\.json:2:\d+: key "user": no such user \(got "no-such-user-ff"\)')


class Examples(unittest.TestCase):
    def exercise(self, m):
        status, body = http_get(m.port, "/hello?name=Ada")
        self.assertEqual((status, body), (200, b"Hello, Ada!\n"))
        for payload in (b"ping", bytes(range(256)) * 256):
            status, body = http_get(m.port, "/echo", method="POST", body=payload)
            self.assertEqual(status, 200)
            self.assertEqual(body, payload)

    def test_hello_with_a_master(self):
        with MasterProcess(binary=HELLO, workers=2) as m:
            self.assertEqual(len(m.children()), 2)
            self.exercise(m)

    def test_hello_single_process(self):
        with MasterProcess(["--single-process"], binary=HELLO, ready="http") as m:
            self.assertEqual(children(m.pid), set())
            self.exercise(m)


if __name__ == "__main__":
    main()
