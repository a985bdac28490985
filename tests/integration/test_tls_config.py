"""TLS configuration checks that need no handshake (issue 13.2): `--check-config` loads every
certificate and key and names the key, the file and the reason; an expired certificate is a
warning with its date; a start with a bad certificate fails; a reload with a bad certificate
keeps the old generation serving and reports why (log, shm, `fastforkctl reload` exit 1), and a
reload with a renewed certificate starts a new generation."""

import os
import shutil
import subprocess
import unittest

from harness import FASTFORK_BIN, free_port, main, scaled
from master_harness import MasterProcess, ctl, healthz, stats_json
from tls_pki import TestCA
import test_upgrade


def tls_listen(port, cert, key):
    return {"address": "127.0.0.1:%d" % port, "tls": {"certificate": cert, "key": key}}


class CheckConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.cert, cls.key = cls.ca.issue("site", ["site.test"])
        cls.other_cert, cls.other_key = cls.ca.issue("other", ["other.test"])
        cls.old_cert, cls.old_key = cls.ca.issue("old", ["old.test"], start="20200101000000Z", end="20200301000000Z")
        cls.junk = cls.ca.path("junk.pem")
        with open(cls.junk, "w") as f:
            f.write("not a certificate\n")

    @classmethod
    def tearDownClass(cls):
        cls.ca.cleanup()

    def check(self, listen_entry, extra=None):
        cfg = dict({"listen": ["127.0.0.1:%d" % free_port(), listen_entry]}, **(extra or {}))
        path = self.ca.path("check.json")
        with open(path, "w") as f:
            import json
            json.dump(cfg, f)
        p = subprocess.run([FASTFORK_BIN, "--check-config", "-c", path], capture_output=True, text=True,
                           timeout=scaled(30))
        return p.returncode, p.stdout + p.stderr

    def test_a_good_pair_is_valid(self):
        rc, out = self.check(tls_listen(free_port(), self.cert, self.key))
        self.assertEqual(rc, 0, out)
        self.assertIn("is valid", out)
        self.assertNotIn("warning", out)

    def test_each_problem_names_the_key_the_file_and_the_reason(self):
        missing = self.ca.path("missing.pem")
        cases = [
            (tls_listen(free_port(), missing, self.key),
             ['key "listen[1].tls.certificate"', missing, "No such file or directory"]),
            (tls_listen(free_port(), self.junk, self.key),
             ['key "listen[1].tls.certificate"', self.junk, "not a PEM certificate", "no start line"]),
            (tls_listen(free_port(), self.cert, self.other_key),
             ['key "listen[1].tls.key"', self.other_key, "does not belong to the certificate", self.cert,
              "key values mismatch"]),
            ({"address": "127.0.0.1:%d" % free_port(),
              "tls": {"certificates": [{"certificate": self.cert, "key": self.key},
                                       {"certificate": self.other_cert, "key": self.junk}]}},
             ['key "listen[1].tls.certificates[1].key"', self.junk, "not a PEM private key"]),
        ]
        for entry, needles in cases:
            rc, out = self.check(entry)
            self.assertEqual(rc, 1, out)
            for needle in needles:
                self.assertIn(needle, out)
        if os.geteuid() != 0:  # root reads a mode-000 file anyway
            locked = self.ca.path("locked.key")
            shutil.copy(self.key, locked)
            os.chmod(locked, 0)
            rc, out = self.check(tls_listen(free_port(), self.cert, locked))
            self.assertEqual(rc, 1, out)
            self.assertIn("Permission denied", out)

    def test_an_expired_certificate_is_a_warning_with_its_date(self):
        rc, out = self.check(tls_listen(free_port(), self.old_cert, self.old_key))
        self.assertEqual(rc, 0, out)
        self.assertIn('warning: key "listen[1].tls.certificate": "%s": the certificate expired on '
                      "2020-03-01 00:00:00 UTC" % self.old_cert, out)

    def test_a_missing_ticket_key_file_is_an_error(self):
        rc, out = self.check(tls_listen(free_port(), self.cert, self.key),
                             {"tls": {"ticket_key_files": [self.ca.path("none.key")]}})
        self.assertEqual(rc, 1, out)
        self.assertIn('key "tls.ticket_key_files[0]": "%s": No such file' % self.ca.path("none.key"), out)

    def test_a_start_with_a_bad_certificate_fails_before_any_worker(self):
        port = free_port()
        with MasterProcess(config={"workers": 2, "listen": ["127.0.0.1:%d" % port,
                                                            tls_listen(free_port(), self.cert, self.other_key)]},
                           port=port, wait_ready=False, expect_exit_codes=(1,)) as m:
            self.assertEqual(m.wait(10.0), 1, m.log())
            self.assertIn("key values mismatch", m.log())
            self.assertNotIn("started worker", m.log())


class Reload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()

    @classmethod
    def tearDownClass(cls):
        cls.ca.cleanup()

    def test_bad_certificates_keep_the_old_generation_and_a_renewed_one_is_taken(self):
        cert, key = self.ca.issue("live", ["live.test"])
        _, other_key = self.ca.issue("other", ["other.test"])
        serving_cert = self.ca.path("serving.pem")
        serving_key = self.ca.path("serving.key")
        shutil.copy(cert, serving_cert)
        shutil.copy(key, serving_key)
        tls_port = free_port()
        cfg = {"workers": 2}
        port = free_port()
        good = dict(cfg, listen=["127.0.0.1:%d" % port, tls_listen(tls_port, serving_cert, serving_key)])
        with MasterProcess(config=good, port=port) as m:
            self.assertEqual(healthz(m.port)["generation"], 1)
            bad_cases = [
                (dict(good, listen=[good["listen"][0], tls_listen(tls_port, serving_cert, other_key)]),
                 "key values mismatch"),
                (dict(good, listen=[good["listen"][0], tls_listen(tls_port, self.ca.path("gone.pem"), serving_key)]),
                 "No such file or directory"),
            ]
            for n, (bad, reason) in enumerate(bad_cases, start=1):
                m.write_config(bad)
                r = ctl("--name", m.name, "reload", "--timeout", "30")
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(reason, r.stderr)
                self.assertIn('key "listen[1].tls.', r.stderr)
                s = stats_json(m.name)
                self.assertEqual(s["last_reload"]["ok"], False)
                self.assertIn(reason, s["last_reload"]["message"])
                self.assertEqual(s["reloads_failed"], n)
                self.assertIn("reload failed, keeping generation 1", m.log())
                self.assertEqual(healthz(m.port)["generation"], 1)  # the old generation serves on

            # The operator renews the certificate in place (same paths, new serial): a reload takes it.
            renewed, _ = self.ca.issue("renewed", ["live.test"], key=serving_key)
            self.assertNotEqual(self.ca.serial_of(renewed), self.ca.serial_of(cert))
            shutil.copy(renewed, serving_cert)
            m.write_config(good)
            r = ctl("--name", m.name, "reload", "--timeout", "30")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(healthz(m.port)["generation"], 2)


class Upgrade(test_upgrade.Upgrading):
    def test_a_binary_upgrade_takes_the_ticket_keys_over(self):
        ca = TestCA()
        self.addCleanup(ca.cleanup)
        cert, key = ca.issue("site", ["site.test"])
        port = free_port()
        m = self.start(config={"workers": 2, "listen": ["127.0.0.1:%d" % port, tls_listen(free_port(), cert, key)]},
                       port=port)
        self.assertNotIn("taken over", m.log())
        _, new = self.upgrade_ok(m)
        self.assertIn("master %d: session ticket keys taken over from the previous master (1 key)" % new, m.log())
        self.assertEqual(healthz(m.port)["generation"], 2)


if __name__ == "__main__":
    main()
