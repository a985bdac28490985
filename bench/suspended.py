#!/usr/bin/env python3
"""Memory per suspended request: N connections (default 10,000) each wait in `GET /sleep?ms=S`
at once, in one serving process (`fastfork --single-process`), for several `stack_size` values.

For each stack size a fresh server is started and serves a mix of built-in routes and a static
file (gzipped on the fly too) one request at a time; the most touched pages of any one stack are
the deepest stack that mix needs ("deepest stack" in the table). Then the
N connections are opened and their requests sent, the script waits until /healthz counts N+1
live fibers (the N sleepers and /healthz's own) and 1 s more, and reads Pss and Rss from
/proc/PID/smaps_rollup and VmPTE (page tables, kernel memory) from /proc/PID/status: after −
before, ÷ N. The sleep is long enough to outlast the measurement; every response is then read
and must be `200` with `slept S ms`, or the script exits 1 (a measurement never counts errors).
An idle connection costs < 0.5 KiB (../shared/bench's idle-memory figure); the rest is what a
request in flight holds: its exchange and read buffer, and its fiber's touched stack pages (the
Pss of the stack mappings alone is reported apart).

Loopback only; each server is stopped by PID; bounded by the sleep (default 10 s) plus about
5 s per stack size. Raises RLIMIT_NOFILE for itself and the server (the hard limit too, with
CAP_SYS_RESOURCE).

usage: bench/suspended.py [--bin build/master/fastfork] [--conns 10000] [--sleep-ms 10000]
                          [--stacks 16KiB,32KiB,64KiB,128KiB] [--port 18390] [--json FILE]
Prints a Markdown table on stdout.
"""
import argparse
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, max(hard, needed)))
    except (ValueError, OSError):  # raising the hard limit needs CAP_SYS_RESOURCE
        sys.exit(f"suspended: need {needed} open files, the hard limit is {hard} (ulimit -Hn; fewer --conns)")


def stack_bytes(text: str) -> int:
    """The usable size stack_pool maps for `stack_size` text (pages, at least 4; the guard apart)."""
    units = {"KiB": 1024, "K": 1024, "MiB": 1 << 20, "M": 1 << 20}
    number = text.rstrip("KMiB")
    size = int(number) * units.get(text[len(number):], 1)
    page = os.sysconf("SC_PAGESIZE")
    return max((size + page - 1) // page * page, 4 * page)


def stack_pss(pid: int, usable: int) -> tuple:
    """(Pss of the fiber stacks, Pss of the deepest one). A stack is an unnamed read-write
    anonymous mapping of exactly the stack's size that starts where a one-page PROT_NONE mapping
    (its guard) ends; the guard keeps the kernel from merging it with a neighbour."""
    page = os.sysconf("SC_PAGESIZE")
    total, deepest, in_stack, prev = 0, 0, False, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(\S*)", line)
            if m:
                lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
                guarded = prev is not None and prev[2] == "---p" and prev[1] == lo and prev[1] - prev[0] == page
                in_stack = perms == "rw-p" and m.group(4) == "0" and not m.group(5) and hi - lo == usable and guarded
                prev = (lo, hi, perms)
            elif in_stack and line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                total += pss
                deepest = max(deepest, pss)
    return total, deepest


def memory(pid: int, usable: int) -> dict:
    out = {}
    out["stack_pss"], out["deepest_stack"] = stack_pss(pid, usable)
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Pss", "Rss"):
                out[key.lower()] = int(rest.split()[0]) * 1024
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmPTE:"):
                out["pte"] = int(line.split()[1]) * 1024
    with open(f"/proc/{pid}/maps") as f:
        out["maps"] = sum(1 for _ in f)
    return out


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        return json.loads(r.read())


def get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.read()


# Built-in routes and a static file, gzipped on the fly where the client allows it: their deepest
# stack is what a smaller stack_size must still hold.
DEPTH_MIX = [("/plaintext", False), ("/json", True), ("/healthz", False), ("/metrics", True), ("/stats", True),
             ("/dashboard", True), ("/words.txt", False), ("/words.txt", True), ("/missing", False),
             ("/sleep?ms=1", False)]


def make_root() -> str:
    root = tempfile.mkdtemp(prefix="ff-suspended.")
    words = ("alpha", "beta", "gamma", "delta")
    with open(os.path.join(root, "words.txt"), "w") as f:
        f.write(" ".join(words[i % 4] + str(i % 997) for i in range(20000)))
    return root


def run_mix(port: int) -> None:
    """One request at a time; the fibers keep the deepest pages they touched (until trimmed)."""
    for path, gzip in DEPTH_MIX:
        headers = {"Accept-Encoding": "gzip"} if gzip else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers),
                                        timeout=5) as r:
                r.read()
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise


def start(binary: str, port: int, stack: str, root: str) -> subprocess.Popen:
    """The server, its error log in ROOT/error.log (a file: a pipe nobody reads could fill)."""
    # concurrency and max_connections stay at their defaults (262144, 100000): both above N.
    proc = subprocess.Popen([binary, "--single-process", "--listen", f"127.0.0.1:{port}", "--stack-size", stack,
                             "--root", root, "--log-level", "warn"], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(root, "error.log"), "ab"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(os.path.join(root, "error.log")) as f:
                sys.exit(f"suspended: fastfork exited ({proc.returncode}): {f.read()}")
        try:
            get(port, "/plaintext")
            return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    sys.exit(f"suspended: nothing answered on 127.0.0.1:{port} within 10 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def open_sleepers(port: int, n: int, request: bytes) -> list:
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)  # ~40 bytes: always fits the send buffer at once
        s.setblocking(False)
        socks.append(s)
    return socks


def read_all(socks: list, expected: bytes, deadline: float) -> tuple:
    """(number of `200 ... expected` responses, a few failure descriptions)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    ok, failures, pending = 0, [], len(socks)

    def finish(s, good, why=""):
        nonlocal ok, pending
        sel.unregister(s)
        s.close()
        pending -= 1
        if good:
            ok += 1
        elif len(failures) < 5:
            failures.append(why)

    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                finish(s, False, f"recv: {e}")
                continue
            bufs[s] += chunk
            head, sep, body = bufs[s].partition(b"\r\n\r\n")
            if not chunk or (sep and body.endswith(b"\n")):
                good = head.startswith(b"HTTP/1.1 200") and body == expected
                finish(s, good, f"got {bufs[s][:80]!r}")
    for key in list(sel.get_map().values()):
        finish(key.fileobj, False, "no response before the deadline")
    return ok, failures


def measure(binary: str, port: int, stack: str, n: int, sleep_ms: int, root: str) -> dict:
    proc = start(binary, port, stack, root)
    try:
        run_mix(port)  # the first fiber and its stack exist before "before"
        time.sleep(0.5)
        before = memory(proc.pid, stack_bytes(stack))
        request = f"GET /sleep?ms={sleep_ms} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        t0 = time.monotonic()
        socks = open_sleepers(port, n, request)
        opened = time.monotonic() - t0
        while True:
            h = healthz(port)
            if h["fibers_live"] >= n + 1:
                break
            if time.monotonic() - t0 > sleep_ms / 1000 * 0.6:
                sys.exit(f"suspended: only {h['fibers_live']} fibers live after {time.monotonic() - t0:.1f} s "
                         f"(raise --sleep-ms)")
            time.sleep(0.1)
        time.sleep(1)
        after = memory(proc.pid, stack_bytes(stack))
        measured_at = time.monotonic() - t0
        if measured_at > sleep_ms / 1000:
            sys.exit(f"suspended: measured after {measured_at:.1f} s, past the {sleep_ms} ms sleep (raise --sleep-ms)")
        ok, failures = read_all(socks, f"slept {sleep_ms} ms\n".encode(), t0 + sleep_ms / 1000 + 30)
        if ok != n:
            sys.exit(f"suspended: {ok} of {n} sleepers answered 200: {failures}")
        if proc.poll() is not None:
            sys.exit(f"suspended: the server died ({proc.returncode})")
        return {"stack_size": stack, "conns": n, "fibers_live": h["fibers_live"], "open_s": round(opened, 2),
                "pss_per_req": (after["pss"] - before["pss"]) / n, "rss_per_req": (after["rss"] - before["rss"]) / n,
                "pte_per_req": (after["pte"] - before["pte"]) / n,
                "mix_stack_depth": before["deepest_stack"],
                "stack_pss_per_req": (after["stack_pss"] - before["stack_pss"]) / n, "maps_per_req": (after["maps"] - before["maps"]) / n,
                "pss_before": before["pss"], "pss_after": after["pss"]}
    finally:
        stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="build/master/fastfork")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--sleep-ms", type=int, default=10000)
    ap.add_argument("--stacks", default="16KiB,32KiB,64KiB,128KiB")
    ap.add_argument("--port", type=int, default=18390)
    ap.add_argument("--json", help="append one JSON line per stack size to this file")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"suspended: {args.bin} is not executable (make build)")
    raise_nofile(args.conns + 1024)
    rows = []
    root = make_root()
    for stack in args.stacks.split(","):
        row = measure(args.bin, args.port, stack, args.conns, args.sleep_ms, root)
        print(f"suspended: {stack}: {row['pss_per_req'] / 1024:.1f} KiB PSS per request", file=sys.stderr)
        rows.append(row)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")
    print(f"{args.conns} × GET /sleep?ms={args.sleep_ms} suspended at once in one process (--single-process):\n")
    print("| stack_size | PSS per suspended request | RSS per request | of it stack pages "
          "| page tables per request | mappings per request | deepest stack of the route mix |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stack_size']} | {r['pss_per_req'] / 1024:.2f} KiB | {r['rss_per_req'] / 1024:.2f} KiB "
              f"| {r['stack_pss_per_req'] / 1024:.2f} KiB | {r['pte_per_req']:.0f} B | {r['maps_per_req']:.2f} "
              f"| {r['mix_stack_depth'] / 1024:.0f} KiB |")
    shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
