"""Test certificates made with the openssl CLI at test time (no committed private key): a CA,
leaves with chosen names, key types, serials and validity dates (through `openssl ca`, which
can back-date), for the TLS integration tests. Stdlib only."""

import os
import shutil
import subprocess
import tempfile
import unittest

OPENSSL = shutil.which("openssl")

_CA_CONF = """[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[any]
commonName = supplied
"""


def _run(args, cwd):
    r = subprocess.run([OPENSSL] + args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def _key_args(kind):
    return ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


class TestCA:
    """ca = TestCA(); ca.issue("site", ["site.test"]) -> (cert_path, key_path); ca.cleanup()."""

    def __init__(self):
        if not OPENSSL:
            raise unittest.SkipTest("the openssl CLI is not installed")
        self.dir = tempfile.mkdtemp(prefix="ff-tls-pki-")
        with open(os.path.join(self.dir, "ca.cnf"), "w") as f:
            f.write(_CA_CONF)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        _run(["req", "-x509"] + _key_args("ecdsa") + ["-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                                                      "-subj", "/CN=fastfork test CA"], self.dir)
        self.certificate = os.path.join(self.dir, "ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, stem, names, kind="ecdsa", start=None, end=None, key=None):
        """Issues stem.pem (the leaf, then the CA) for DNS `names`; `start`/`end` are
        YYYYMMDDHHMMSSZ (default: valid now for 30 days); `key` reuses an existing key file."""
        key_path = key or self.path(stem + ".key")
        req = ["req", "-new", "-nodes", "-subj", "/CN=%s" % names[0],
               "-addext", "subjectAltName=" + ",".join("DNS:" + n for n in names), "-out", stem + ".csr"]
        if key:
            req += ["-key", key]
        else:
            req += _key_args(kind) + ["-keyout", key_path]
        _run(req, self.dir)
        ca = ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", stem + ".csr",
              "-out", stem + ".leaf", "-notext"]
        ca += ["-startdate", start] if start else []
        ca += ["-enddate", end] if end else ["-days", "30"]
        _run(ca, self.dir)
        with open(self.path(stem + ".leaf")) as leaf, open(self.certificate) as root:
            chain = leaf.read() + root.read()
        with open(self.path(stem + ".pem"), "w") as f:
            f.write(chain)
        return self.path(stem + ".pem"), key_path

    def serial_of(self, cert_path):
        return _run(["x509", "-in", cert_path, "-noout", "-serial"], self.dir).strip().split("=", 1)[1]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
