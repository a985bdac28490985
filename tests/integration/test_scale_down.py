"""Lossless scale-down (issue 14.2): 20 SIGTTIN/SIGTTOU cycles under a new-connection-per-request
load reset no connection when net.ipv4.tcp_migrate_req=1 (the kernel moves what is queued on the
closed socket to the rest of the reuseport group), and the master warns once at start when it
is 0. The same cycles with the sysctl at 0 are measured as a contrast (printed, not asserted).

Sets the sysctl through /proc/sys (root, per network namespace) and restores it; skipped with a
message where it is not writable.
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import main  # noqa: E402
from load_clients import Load  # noqa: E402
from master_harness import MasterProcess, wait_for  # noqa: E402

MIGRATE = "/proc/sys/net/ipv4/tcp_migrate_req"
CYCLES = 20


def read_migrate():
    with open(MIGRATE) as f:
        return int(f.read().strip())


def write_migrate(value):
    with open(MIGRATE, "w") as f:
        f.write("%d\n" % value)


class ScaleDown(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        try:
            cls.saved = read_migrate()
            write_migrate(cls.saved)
        except OSError as e:
            raise unittest.SkipTest("%s is not writable here (%s): run as root on Linux 5.14+" % (MIGRATE, e))

    @classmethod
    def tearDownClass(cls):
        write_migrate(cls.saved)

    def cycle(self, m, load):
        """SIGTTIN, wait until 3 workers are ready; SIGTTOU, wait until worker 2 has exited."""
        m.signal(signal.SIGTTIN)
        wait_for(lambda: m.header()["workers"] == 3 and len(m.workers_by_index()) == 3, 10,
                 what="3 ready workers after SIGTTIN")
        time.sleep(0.1)  # let the new socket take a share of the connections
        m.signal(signal.SIGTTOU)
        wait_for(lambda: 2 not in m.workers_by_index(states=("starting", "ready", "draining")), 10,
                 what="worker 2 gone after SIGTTOU")

    def run_cycles(self, migrate):
        write_migrate(migrate)
        with MasterProcess(workers=2) as m:
            log = m.log()  # the start-up lines, before the cycles push them out of the tail
            with Load(m.port, keepalive=0, fresh=8) as load:
                time.sleep(0.3)
                for _ in range(CYCLES):
                    self.cycle(m, load)
                time.sleep(0.3)
        return load, log

    def test_cycles_with_migration_reset_nothing(self):
        load, log = self.run_cycles(1)
        self.assertNotIn("tcp_migrate_req", log, "no warning when migration is on")
        self.assertGreater(load.ok, 500)
        self.assertEqual(load.total_errors(), 0, "with tcp_migrate_req=1: %r: %r" % (dict(load.errors), load.samples))
        sys.stderr.write("\n  tcp_migrate_req=1: %d requests, %d errors over %d TTIN/TTOU cycles\n" % (
            load.ok, load.total_errors(), CYCLES))

    def test_cycles_without_migration_are_measured_and_warned_about(self):
        load, log = self.run_cycles(0)
        self.assertEqual(log.count("net.ipv4.tcp_migrate_req is 0"), 1, log)
        self.assertIn("sysctl -w net.ipv4.tcp_migrate_req=1", log)
        # The contrast, for the record: how many connections the kernel reset without migration.
        sys.stderr.write("\n  tcp_migrate_req=0: %d requests, %d errors %r over %d TTIN/TTOU cycles\n" % (
            load.ok, load.total_errors(), dict(load.errors), CYCLES))


if __name__ == "__main__":
    main()
