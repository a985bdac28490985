"""The .deb (issue 15.2): builds it with cpack, unpacks it with `dpkg -x` into a throwaway
root, checks the files, validates the packaged config with the packaged binary, runs lintian
(when installed: errors fail) and renders the man pages without warnings.

The packaged config's root (/var/www/fastfork) is created by postinst, not shipped; the check
runs on a copy whose paths point into the temp root, created there first, so the check would
not depend on the machine's /var/www either way.
"""

import glob
import json
import os
import shutil
import subprocess
import unittest

import pkgtest

BUILD = pkgtest.env_path("FF_BUILD_DIR")


class deb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        pkgtest.run(["cpack", "-G", "DEB"], cwd=BUILD, timeout=180)
        cls.deb = sorted(glob.glob(os.path.join(BUILD, "fastfork_*.deb")))[-1]
        import tempfile
        cls.root = tempfile.mkdtemp(prefix="ff-deb-")
        pkgtest.run(["dpkg", "-x", cls.deb, cls.root])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, True)

    def test_files(self):
        for rel in ["usr/sbin/fastfork", "usr/bin/fastforkctl", "etc/fastfork/fastfork.json",
                    "etc/logrotate.d/fastfork", "lib/systemd/system/fastfork.service",
                    "lib/systemd/system/fastfork.service.d/package.conf",
                    "usr/share/man/man8/fastfork.8.gz", "usr/share/man/man8/fastforkctl.8.gz",
                    "usr/share/bash-completion/completions/fastforkctl",
                    "usr/share/doc/fastfork/copyright", "usr/share/doc/fastfork/changelog.gz"]:
            self.assertTrue(os.path.isfile(os.path.join(self.root, rel)), rel)
        control = pkgtest.run(["dpkg-deb", "-e", self.deb, os.path.join(self.root, "DEBIAN")])
        del control
        conffiles = open(os.path.join(self.root, "DEBIAN/conffiles")).read().split()
        self.assertEqual(sorted(conffiles), ["/etc/fastfork/fastfork.json", "/etc/logrotate.d/fastfork"])
        self.assertIn("adduser --system --group", open(os.path.join(self.root, "DEBIAN/postinst")).read())
        self.assertIn("fastforkctl --name fastfork reopen",
                      open(os.path.join(self.root, "etc/logrotate.d/fastfork")).read())
        dropin = open(os.path.join(self.root, "lib/systemd/system/fastfork.service.d/package.conf")).read()
        self.assertIn("ExecStart=/usr/sbin/fastfork -c /etc/fastfork/fastfork.json", dropin)

    def test_check_config(self):
        fastfork = os.path.join(self.root, "usr/sbin/fastfork")
        packaged = os.path.join(self.root, "etc/fastfork/fastfork.json")
        cfg = json.load(open(packaged))
        self.assertEqual(cfg["root"], "/var/www/fastfork")
        # As shipped, the root exists once postinst has made it; before that --check-config
        # must say which key and path are wrong (issue 10.4), not accept it.
        p = subprocess.run([fastfork, "--check-config", "-c", packaged], capture_output=True, text=True,
                           timeout=pkgtest.scaled(30))
        if os.path.isdir("/var/www/fastfork"):
            self.assertEqual(p.returncode, 0, p.stderr)
        else:
            self.assertEqual(p.returncode, 1)
            self.assertIn('key "root": "/var/www/fastfork"', p.stderr + p.stdout)
        for key in ["root", "access_log"]:
            cfg[key] = self.root + cfg[key]
        # What postinst makes (dpkg-deb -x runs no maintainer script): the document root and the
        # log directory; --check-config checks that the access log can be opened there.
        os.makedirs(cfg["root"], exist_ok=True)
        os.makedirs(os.path.dirname(cfg["access_log"]), exist_ok=True)
        moved = os.path.join(self.root, "fastfork-moved.json")
        json.dump(cfg, open(moved, "w"))
        self.assertIn("is valid", pkgtest.run([fastfork, "--check-config", "-c", moved]))

    def test_man_pages_render_cleanly(self):
        for name in ["fastfork", "fastforkctl"]:
            page = os.path.join(self.root, f"usr/share/man/man8/{name}.8.gz")
            p = subprocess.run(["man", "-l", page], env=dict(os.environ, MANWIDTH="80"), capture_output=True,
                               text=True, timeout=pkgtest.scaled(30))
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stderr, "", name)
            self.assertIn("SYNOPSIS", p.stdout)
        self.assertIn("header_timeout", pkgtest.run(f"zcat {self.root}/usr/share/man/man8/fastfork.8.gz",
                                                    shell=True))

    @unittest.skipUnless(shutil.which("lintian"), "lintian is not installed")
    def test_lintian(self):
        p = subprocess.run(["lintian", self.deb], capture_output=True, text=True, timeout=pkgtest.scaled(120))
        errors = [l for l in p.stdout.splitlines() if l.startswith("E:")]
        self.assertEqual(errors, [], p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
