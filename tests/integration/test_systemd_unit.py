"""The systemd units in dist/ (issue 10.3): `systemd-analyze verify` finds no error and no unknown
key in either, `systemd-analyze security --offline=yes` scores each at most 4.0 ("OK"), the two
files differ only in how a reload is driven, and the ExecStart command line is one the server
accepts.

The units name the binaries where a Debian package puts them (/usr/sbin/fastfork,
/usr/bin/fastforkctl); verify refuses an ExecStart= whose binary does not exist, so each unit is
checked as a temporary copy with those paths replaced by the build's binaries. That is simpler
and more faithful than --root (which would need a whole fake root with the libraries the binaries
link). systemd-analyze verify and security --offline need no running systemd: they work on a
machine (or container) where systemd is installed but not PID 1. systemd 252 (Debian 12) does not
know Type=notify-reload and ReloadSignal= (systemd 253), so there the notify-reload unit is
verified with those two lines in their 252 form, and the check that it has no other problem
still holds.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
DIST = os.path.join(SOURCE_DIR, "dist")
FASTFORK_BIN = os.environ.get("FASTFORK_BIN", "")
FASTFORKCTL_BIN = os.environ.get("FASTFORKCTL_BIN", "")
SKIP = 77  # CTest SKIP_RETURN_CODE

UNITS = ["fastfork.service", "fastfork-notify-reload.service"]
MAX_EXPOSURE = 4.0
# What verify prints for a key or value it does not understand, or a command it cannot run.
PROBLEM = re.compile(r"Unknown key|Unknown section|Failed to parse|ignoring|not executable|"
                     r"No such file|Invalid|error|Error|warning|Warning|Missing")


def analyze():
    return shutil.which("systemd-analyze")


def systemd_version():
    out = subprocess.run([analyze(), "--version"], capture_output=True, text=True, check=True).stdout
    m = re.match(r"systemd (\d+)", out)
    return int(m.group(1)) if m else 0


def localized(name, text):
    """The unit with the build's binaries in place of the packaged paths, for this systemd."""
    text = text.replace("/usr/sbin/fastfork", FASTFORK_BIN).replace("/usr/bin/fastforkctl", FASTFORKCTL_BIN)
    if name == "fastfork-notify-reload.service" and systemd_version() < 253:
        text = text.replace("Type=notify-reload\n", "Type=notify\n").replace("ReloadSignal=SIGHUP\n", "")
    return text


def directives(text, drop=()):
    """Key=value lines, comments and blank lines left out."""
    return [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#") and not line.startswith(drop)]


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ff-unit-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name):
        with open(os.path.join(DIST, name)) as f:
            text = f.read()
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(localized(name, text))
        return path

    def test_verify_reports_nothing(self):
        for name in UNITS:
            with self.subTest(unit=name):
                r = subprocess.run([analyze(), "verify", "--man=no", self.write(name)],
                                   capture_output=True, text=True, timeout=60)
                out = r.stdout + r.stderr
                self.assertEqual(r.returncode, 0, out)
                problems = [line for line in out.splitlines() if PROBLEM.search(line)]
                self.assertEqual(problems, [], out)

    def test_security_exposure_is_ok(self):
        for name in UNITS:
            with self.subTest(unit=name):
                r = subprocess.run([analyze(), "security", "--offline=yes", "--no-pager", self.write(name)],
                                   capture_output=True, text=True, timeout=60)
                m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?) (\w+)", r.stdout)
                self.assertIsNotNone(m, r.stdout + r.stderr)
                print(f"{name}: exposure {m.group(1)} {m.group(2)}", file=sys.stderr)
                self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE, r.stdout)

    def test_units_differ_only_in_reload(self):
        with open(os.path.join(DIST, UNITS[0])) as f:
            notify = directives(f.read(), drop=("Type=", "ExecReload="))
        with open(os.path.join(DIST, UNITS[1])) as f:
            notify_reload = directives(f.read(), drop=("Type=", "ReloadSignal="))
        self.assertEqual(notify, notify_reload)

    def test_exec_start_is_accepted_by_the_server(self):
        with open(os.path.join(DIST, UNITS[0])) as f:
            text = f.read()
        line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
        config = os.path.join(self.tmp, "fastfork.json")
        with open(config, "w") as f:
            f.write('{"listen": ["127.0.0.1:8080"]}\n')
        argv = line[len("ExecStart="):].split()
        argv = [FASTFORK_BIN if a == "/usr/sbin/fastfork" else config if a.endswith(".json") else a for a in argv]
        r = subprocess.run(argv + ["--check-config"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The pid file and logs go where RuntimeDirectory= and LogsDirectory= make them writable.
        self.assertIn("--pid-file /run/fastfork/fastfork.pid", line)
        self.assertIn("RuntimeDirectory=fastfork", text)
        self.assertIn("LogsDirectory=fastfork", text)


if __name__ == "__main__":
    if not analyze():
        print("SKIP: systemd-analyze not found (Debian: apt-get install systemd); "
              "the units in dist/ were not checked")
        sys.exit(SKIP)
    if not (os.access(FASTFORK_BIN, os.X_OK) and os.access(FASTFORKCTL_BIN, os.X_OK)):
        print("FASTFORK_BIN and FASTFORKCTL_BIN must name the built binaries", file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
