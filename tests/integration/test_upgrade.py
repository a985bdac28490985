"""Binary upgrade (issue 14.1): SIGUSR2 / `fastforkctl upgrade` under keep-alive and
new-connection-per-request load loses nothing and keeps the stats going; upgrades that cannot
succeed (a binary that exits, one that never gets ready, a bad config, workers that cannot
start) leave the old master serving and report why; the pid file's .oldbin dance; MAINPID for
systemd; and systemd socket activation (LISTEN_FDS) on first start.

Real binary, real signals, loopback only; every master started here is stopped by pid.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FASTFORK_BIN, free_port, http_get, main, scaled  # noqa: E402
from load_clients import Load  # noqa: E402
from master_harness import (BUILD, MasterProcess, NotifySocket, Wrk, alive, healthz, listen_inodes,  # noqa: E402
                            socket_inodes, wait_for)

CTL = os.environ.get("FASTFORKCTL_BIN") or os.path.join(BUILD, "tools", "fastforkctl")
REAL_BINARY = os.path.realpath(FASTFORK_BIN)


def ctl(name, *args, timeout=60):
    return subprocess.run([CTL, "--name", name] + list(args), capture_output=True, text=True,
                          timeout=scaled(timeout))


def total_requests(name):
    r = ctl(name, "stats", "--json")
    if r.returncode != 0:
        raise AssertionError("fastforkctl stats --json failed: %s" % r.stderr)
    return json.loads(r.stdout)["totals"]["requests"]


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


class Upgrading(unittest.TestCase):
    """A master that may be replaced: cleanup stops whichever master serves at the end."""

    def start(self, **kw):
        m = MasterProcess(**kw)
        m.__enter__()
        self.addCleanup(m.__exit__, None, None, None)
        self.addCleanup(self.stop_successors, m)
        return m

    def stop_successors(self, m):
        if m.segment is None:
            return
        m.slots()  # remember the new masters' workers, so the guard makes sure they are gone
        pid = m.header()["master_pid"]
        if pid != m.pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not alive(pid), 15, what="the upgraded master %d to exit" % pid)
            # Not our child: its exit status is in the log it shares with the first master.
            wait_for(lambda: "master %d exits with status 0" % pid in m.log(), 5,
                     what="master %d exiting with status 0" % pid)
        self.assertNotIn("Sanitizer", m.log())

    def upgrade_ok(self, m):
        old = m.header()["master_pid"]
        r = ctl(m.name, "upgrade", "--timeout", "20")
        self.assertEqual(r.returncode, 0, "upgrade failed: %s%s\nlog:\n%s" % (r.stdout, r.stderr, m.log()))
        new = m.header()["master_pid"]
        self.assertNotEqual(new, old, "the master pid did not change")
        self.assertIn("master %d serves" % new, r.stdout)
        # The next upgrade waits for the old master to have gone; so does the guard's teardown.
        wait_for(lambda: not alive(old), 15, what="the old master %d to drain and exit" % old)
        return old, new

    def upgrade_fails(self, m, *why):
        pid = m.header()["master_pid"]
        r = ctl(m.name, "upgrade", "--timeout", "20")
        self.assertEqual(r.returncode, 1, "upgrade should fail: %s%s" % (r.stdout, r.stderr))
        self.assertIn("master %d keeps serving" % pid, r.stderr)
        for text in why:
            self.assertIn(text, r.stderr)
        self.assertEqual(m.header()["master_pid"], pid)
        # Reported only once the new master has gone: the pid file is back already.
        pid_file = (m.config or {}).get("pid_file")
        if pid_file:
            self.assertEqual(read_pid(pid_file), pid)
            self.assertFalse(os.path.exists(pid_file + ".oldbin"))
        return r.stderr


class UpgradeUnderLoad(Upgrading):

    def test_two_upgrades_under_keepalive_and_new_connection_load_lose_nothing(self):
        pid_file = os.path.join(tempfile.mkdtemp(prefix="ff-upg-"), "fastfork.pid")
        m = self.start(workers=2, config={"pid_file": pid_file})
        before = total_requests(m.name)
        with Load(m.port, keepalive=6, fresh=4) as load:
            time.sleep(0.7)
            first_old, first = self.upgrade_ok(m)
            self.assertEqual(first_old, m.pid)
            self.assertEqual(read_pid(pid_file), first, "the new master writes the pid file")
            self.assertFalse(os.path.exists(pid_file + ".oldbin"), "the old master removes .oldbin at exit")
            time.sleep(0.5)
            second_old, second = self.upgrade_ok(m)
            self.assertEqual(second_old, first)
            time.sleep(0.7)
        wait_for(lambda: not alive(first) and m.proc.poll() is not None, 15, what="the old masters to exit")
        self.assertEqual(m.proc.returncode, 0, m.log())
        self.assertEqual(load.total_errors(), 0, "client errors %r: %r" % (dict(load.errors), load.samples))
        self.assertGreater(load.ok, 300)
        # One continuous instance: every request any of the three masters' workers answered,
        # and nothing else (fastforkctl reads shm, it sends no request).
        after = total_requests(m.name)
        self.assertLessEqual(before, after)
        self.assertEqual(after - before, load.ok)
        self.assertEqual(read_pid(pid_file), second)
        self.assertFalse(os.path.exists(pid_file + ".oldbin"), "the old masters remove <pid_file>.oldbin")
        self.assertEqual(healthz(m.port)["generation"], 3)

    def test_upgrade_under_wrk_keepalive(self):
        m = self.start(workers=2)
        before = total_requests(m.name)
        with Wrk(m.port, connections=16, seconds=4) as wrk:
            time.sleep(1.0)
            self.upgrade_ok(m)
            res = wrk.result()
        self.assertEqual(res["socket_errors"], 0, res["text"])
        self.assertEqual(res["non2xx"], 0, res["text"])
        self.assertGreater(res["requests"], 1000, res["text"])
        self.assertGreaterEqual(total_requests(m.name) - before, res["requests"])

    def test_new_master_announces_itself_to_systemd(self):
        with NotifySocket() as notify:
            m = self.start(workers=1, env={"NOTIFY_SOCKET": notify.path})
            notify.wait_for(lambda msg: "READY=1" in msg, 10, "READY=1 from the first master")
            old, new = self.upgrade_ok(m)
            # From the old master: under the default NotifyAccess=main systemd listens to it only.
            notify.wait_for(lambda msg: "MAINPID=%d" % new in msg and "READY=1" in msg, 10,
                            "MAINPID=<new master> with READY=1 from the old master", sender=old)


class FailedUpgrade(Upgrading):

    def test_old_master_keeps_serving_and_reports_why(self):
        tmp = tempfile.mkdtemp(prefix="ff-upg-")
        pid_file = os.path.join(tmp, "fastfork.pid")
        sleeper = os.path.join(tmp, "never-ready.sh")
        with open(sleeper, "w") as f:
            f.write("#!/bin/sh\nexec sleep 60\n")
        os.chmod(sleeper, 0o755)
        base = {"pid_file": pid_file, "workers": 2}
        m = self.start(config=dict(base, upgrade_binary="/bin/false"))
        base["listen"] = ["127.0.0.1:%d" % m.port]
        with Load(m.port, keepalive=2, fresh=2) as load:
            # 1. A binary that exits at once.
            self.upgrade_fails(m, "/bin/false", "exited with exit status 1 before it was ready")
            self.assertEqual(read_pid(pid_file), m.pid)
            self.assertFalse(os.path.exists(pid_file + ".oldbin"))

            # 2. One that never reports ready: the pid file is <pid>.oldbin while it tries.
            m.write_config(dict(base, upgrade_binary=sleeper, reload_timeout="1s"))
            self.assertEqual(ctl(m.name, "reload").returncode, 0, m.log())
            pending = subprocess.Popen([CTL, "--name", m.name, "upgrade", "--timeout", "20"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_for(lambda: os.path.exists(pid_file + ".oldbin") and not os.path.exists(pid_file), 5,
                     what="the pid file moved to .oldbin")
            self.assertEqual(read_pid(pid_file + ".oldbin"), m.pid)
            _, err = pending.communicate(timeout=scaled(20))
            self.assertEqual(pending.returncode, 1, err)
            self.assertIn("was not ready within reload_timeout", err)
            self.assertEqual(read_pid(pid_file), m.pid)
            self.assertFalse(os.path.exists(pid_file + ".oldbin"))

            # 3. The real binary whose configuration is broken, then one whose workers cannot start.
            m.write_config(dict(base, upgrade_binary=REAL_BINARY))
            self.assertEqual(ctl(m.name, "reload").returncode, 0, m.log())
            m.write_config(dict(base, workerz=2))
            self.upgrade_fails(m, 'unknown key "workerz"')
            m.write_config(dict(base, access_log="/nonexistent-ff-dir/access.log"))
            self.upgrade_fails(m)
            self.assertEqual(healthz(m.port)["generation"], 3)  # still the old master's (two reloads)
        self.assertEqual(load.total_errors(), 0, "client errors %r: %r" % (dict(load.errors), load.samples))
        self.assertGreater(load.ok, 100)
        self.assertEqual(read_pid(pid_file), m.pid)
        # Only one master's workers listen: the failed ones are gone.
        wait_for(lambda: len(m.children()) == 2, 10, what="only the old master's two workers left")


class ForgedHandover(Upgrading):

    def test_only_the_parent_master_hands_its_segment_over(self):
        m = self.start(workers=1)
        r, w = os.pipe()
        # A process that is not the master's child claims to be its upgrade (same instance name,
        # another port, so nothing but the trust check can stop it).
        env = dict(os.environ, FASTFORK_UPGRADE="%d:%d:%s:100-110" % (m.pid, w, m.name))
        p = subprocess.run([FASTFORK_BIN, "--listen", "127.0.0.1:%d" % free_port(), "--workers", "1",
                            "--name", m.name], env=env, pass_fds=(w,), capture_output=True, text=True,
                           timeout=scaled(20))
        os.close(w)
        reported = os.read(r, 4096).decode()
        os.close(r)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("only a master upgrading itself hands its segment over", p.stderr)
        self.assertTrue(reported.startswith("error cannot take over stats segment"), reported)
        self.assertEqual(m.header()["master_pid"], m.pid)
        self.assertEqual(healthz(m.port)["generation"], 1)


class SocketActivation(Upgrading):

    def activate(self, reuseport):
        """A master started the way systemd starts a socket-activated service: our listening
        socket as fd 3, LISTEN_FDS=1, LISTEN_PID = the pid that execs fastfork. Returns
        (master, port, inode of our socket)."""
        port = free_port()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        inode = os.fstat(sock.fileno()).st_ino
        wrapper = ("import os, sys; os.dup2(int(sys.argv[1]), 3); "
                   "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); "
                   "os.execv(sys.argv[2], sys.argv[2:])")

        class Activated(MasterProcess):
            def command(self):
                return [sys.executable, "-c", wrapper, str(sock.fileno())] + super().command()

        m = Activated(workers=2, port=port)
        orig_popen = subprocess.Popen

        def popen_passing_fd(*a, **kw):
            kw["pass_fds"] = (sock.fileno(),)
            return orig_popen(*a, **kw)

        subprocess.Popen = popen_passing_fd
        try:
            m.__enter__()
        finally:
            subprocess.Popen = orig_popen
            sock.close()  # ours; the master and its workers hold the socket now
        self.addCleanup(m.__exit__, None, None, None)
        self.assertIn("using inherited socket LISTEN_FDS fd 3", m.log())
        self.assertIn(inode, socket_inodes(m.pid))
        self.assertEqual(http_get(port, "/plaintext")[0], 200)
        return m, port, inode

    def test_listen_fds_without_reuseport_are_shared_by_the_workers(self):
        m, port, inode = self.activate(reuseport=False)
        self.assertEqual(listen_inodes(port), {inode}, "fastfork bound a socket of its own")
        # No socket can join one without SO_REUSEPORT: both workers accept from this one.
        workers = m.children()
        self.assertEqual(len(workers), 2)
        for w in workers:
            self.assertIn(inode, socket_inodes(w))

    def test_listen_fds_with_reuseport_get_a_sibling_per_worker(self):
        m, port, inode = self.activate(reuseport=True)
        inodes = listen_inodes(port)
        self.assertEqual(len(inodes), 2, "one socket per worker, ours first")
        self.assertIn(inode, inodes)
        self.assertEqual(sorted(len(socket_inodes(w) & inodes) for w in m.children()), [1, 1])


if __name__ == "__main__":
    main()
