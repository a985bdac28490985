"""fastforkctl and the master against segments they must not trust (issue 16.1), and
fastforkctl's frictions (issue 10.8): file paths in errors, several instances, stop waiting,
reload --timeout 0. Runs as root for the forged-segment cases (skipped otherwise).
"""

import os
import signal
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import main, scaled  # noqa: E402
from master_harness import (BUILD, COUNTER_CELLS, EVENTS_TAIL, SEGMENT_MAGIC, MasterProcess, _align,  # noqa: E402
                            alive, layout_sizes)

CTL = os.environ.get("FASTFORKCTL_BIN") or os.path.join(BUILD, "tools", "fastforkctl")
NOBODY = 65534
VERSION = 5


def name_for(tag):
    return "ctest%d-%s-%d" % (os.getpid(), tag, int(time.monotonic() * 1000) % 100000)


def ctl(*args, timeout=60):
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=scaled(timeout))


def forge(name, pid, uid):
    """Creates /dev/shm/fastfork.NAME as `uid` (mode 0644) with a valid header naming `pid`."""
    header, slot = layout_sizes(VERSION)
    size = header + 256 * slot + 256 * _align(COUNTER_CELLS[VERSION] * 8) + EVENTS_TAIL[VERSION]
    child = os.fork()
    if child == 0:
        try:
            if uid:
                os.setgid(uid)
                os.setuid(uid)
            fd = os.open("/dev/shm/fastfork." + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
            os.ftruncate(fd, size)
            os.pwrite(fd, struct.pack("<QIIQq", SEGMENT_MAGIC, VERSION, 256, size, pid), 0)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    assert status == 0, "could not forge the segment"


def remove(name):
    try:
        os.unlink("/dev/shm/fastfork." + name)
    except OSError:
        pass


@unittest.skipUnless(os.geteuid() == 0, "needs root to create a segment as another user")
class Forged(unittest.TestCase):
    def setUp(self):
        self.sleep = subprocess.Popen(["sleep", "60"])
        self.name = name_for("forged")

    def tearDown(self):
        remove(self.name)
        self.sleep.kill()
        self.sleep.wait()

    def test_ctl_refuses_another_users_segment_and_the_pid_survives(self):
        forge(self.name, self.sleep.pid, NOBODY)
        for cmd in ("reopen", "stop", "reload", "status"):
            r = ctl("--name", self.name, cmd)
            self.assertEqual(r.returncode, 1, cmd)
            self.assertIn("uid 65534 (nobody)", r.stderr, cmd)
            self.assertIn("/dev/shm/fastfork." + self.name, r.stderr, cmd)
        time.sleep(0.2)
        self.assertIsNone(self.sleep.poll(), "fastforkctl signalled the pid a forged segment named")

    def test_ctl_signals_no_pid_that_does_not_map_the_segment(self):
        # A trusted (own) segment whose pid is some other live process: stale, pid recycled.
        forge(self.name, self.sleep.pid, 0)
        r = ctl("--name", self.name, "reopen")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a fastfork master of this segment", r.stderr)
        time.sleep(0.2)
        self.assertIsNone(self.sleep.poll())

    def test_master_refuses_another_users_segment_naming_the_owner(self):
        forge(self.name, self.sleep.pid, NOBODY)
        m = MasterProcess(workers=1, name=self.name, wait_ready=False, expect_exit_codes=(1,))
        m.start()
        try:
            self.assertEqual(m.wait(10.0), 1)
            self.assertIn("uid 65534 (nobody)", m.log())
        finally:
            m.stop()
        self.assertTrue(os.path.exists("/dev/shm/fastfork." + self.name))

    def test_master_replaces_its_own_stale_segment(self):
        forge(self.name, self.sleep.pid, 0)
        with MasterProcess(workers=1, name=self.name) as m:
            self.assertEqual(m.header()["master_pid"], m.pid)


class Frictions(unittest.TestCase):
    def test_stop_waits_for_the_exit_and_no_wait_does_not(self):
        with MasterProcess(workers=1, name=name_for("stop")) as m:
            m.signalled = True
            r = ctl("--name", m.name, "stop")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("exited", r.stdout)
            # Exited (a zombie until the harness reaps it): no longer mapping the segment.
            self.assertEqual(m.wait(5.0), 0)
        with MasterProcess(workers=1, name=name_for("nowait")) as m:
            m.signalled = True
            r = ctl("--name", m.name, "stop", "--no-wait")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("exited", r.stdout)
            self.assertEqual(m.wait(20.0), 0)

    def test_stop_timeout_is_a_bound(self):
        with MasterProcess(workers=1, name=name_for("stuck")) as m:
            os.kill(m.pid, signal.SIGSTOP)  # a master that cannot act on SIGTERM
            try:
                t0 = time.monotonic()
                r = ctl("--name", m.name, "stop", "--timeout", "1")
                self.assertEqual(r.returncode, 1)
                self.assertIn("has not exited within 1 s", r.stderr)
                self.assertLess(time.monotonic() - t0, scaled(5))
            finally:
                m.signalled = True
                os.kill(m.pid, signal.SIGCONT)
            self.assertEqual(m.wait(20.0), 0)

    def test_reload_timeout_0_does_not_wait_and_succeeds(self):
        with MasterProcess(config={"workers": 1}, name=name_for("t0")) as m:
            r = ctl("--name", m.name, "reload", "--timeout", "0")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("not waiting", r.stdout)

    def test_errors_name_the_file_and_list_the_instances(self):
        r = ctl("--name", name_for("missing"), "status")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/dev/shm/fastfork.", r.stderr)
        # Two stale segments of our own (one master_harness guard at a time: it tracks workers
        # globally), and a live instance: the error lists each with its state.
        dead = subprocess.Popen(["true"])
        dead.wait()
        stale = [name_for("a"), name_for("b")]
        try:
            for n in stale:
                forge(n, dead.pid, 0)
            with MasterProcess(workers=1, name=name_for("live")) as m:
                r = ctl("status")
                self.assertEqual(r.returncode, 2)
                self.assertIn("choose one with --name", r.stderr)
                self.assertIn("%s (master %d, alive)" % (m.name, m.pid), r.stderr)
                for n in stale:
                    self.assertIn("%s (master %d, stale)" % (n, dead.pid), r.stderr)
        finally:
            for n in stale:
                remove(n)


if __name__ == "__main__":
    main()
