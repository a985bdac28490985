"""Helpers shared by the packaging tests: temp dirs, commands with deadlines, and a program
run on a free loopback port until it answers one request, then killed by its PID.

Stdlib only; deadlines scale with FF_TEST_TIMEOUT_MULTIPLIER like the integration tests'.
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def scaled(seconds):
    try:
        m = float(os.environ.get("FF_TEST_TIMEOUT_MULTIPLIER") or "1")
    except ValueError:
        m = 1.0
    return seconds * (m if m > 0 else 1.0)


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set (run through ctest)")
    return value


def run(cmd, timeout=120, env=None, cwd=None, shell=False):
    """Runs `cmd`, fails with its output when it exits non-zero; returns stdout."""
    p = subprocess.run(cmd, env=env, cwd=cwd, shell=shell, timeout=scaled(timeout),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        shown = cmd if isinstance(cmd, str) else " ".join(cmd)
        raise AssertionError(f"`{shown}` exited {p.returncode}:\n{p.stdout}")
    return p.stdout


def temp_dir(test, prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, d, True)
    return d


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_once(argv, port, path, env=None, deadline=10):
    """Starts argv (which must listen on 127.0.0.1:port), polls GET path until it answers,
    then stops the process (TERM, then KILL) by its PID. Returns (status, body)."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        end = time.monotonic() + scaled(deadline)
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{argv[0]} exited {proc.returncode}: {proc.stderr.read()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", path)
                r = c.getresponse()
                result = (r.status, r.read())
                c.close()
                return result
            except OSError:
                if time.monotonic() > end:
                    raise AssertionError(f"{argv[0]} did not answer on port {port}")
                time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=scaled(5))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stderr.close()
