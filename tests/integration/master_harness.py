"""Master-mode helpers on top of harness.py: a guard for `fastfork` (or test_app, or an example
program) running as master + N workers, a reader for the stats segment, /proc helpers for
children and listening sockets, a wrk runner and an sd_notify listener.

The guard follows harness.ServerProcess (h2o t/Util.pm spawn_server, STYLE.md 7.12): a free
port, readiness = all N shm slots of the newest generation report `ready` (10 s deadline,
STYLE.md §5), and a teardown that sends TERM, waits, escalates to KILL, checks the exit status,
and then SIGKILLs by PID any worker it saw that is still alive (matched by pid + start time, so
a recycled PID is never hit).

Stdlib only.
"""

import json
import mmap
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from harness import FASTFORK_BIN, ManagedProcess, ServerError, free_port, http_get, scaled

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(FASTFORK_BIN)), ".."))
def ipv6_loopback_available():
    """Whether ::1 can be bound here (containers without IPv6 cannot)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


CTL = os.environ.get("FASTFORKCTL_BIN") or os.path.join(BUILD, "tools", "fastforkctl")


def ctl(*args, timeout=60):
    """Runs fastforkctl; returns the CompletedProcess (text). Skips the test without the binary."""
    if not os.path.exists(CTL):
        raise unittest.SkipTest("fastforkctl not found at %s (set FASTFORKCTL_BIN)" % CTL)
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=scaled(timeout))


def stats_json(name):
    """`fastforkctl --name NAME stats --json`, parsed."""
    r = ctl("--name", name, "stats", "--json")
    if r.returncode != 0:
        raise AssertionError("fastforkctl stats --json exited %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)
TEST_APP = os.environ.get("FF_TEST_APP") or os.path.join(BUILD, "tests", "integration", "test_app")
HELLO = os.environ.get("FF_HELLO") or os.path.join(BUILD, "examples", "hello")

# ---------------------------------------------------------------- the stats segment (shm/layout.hpp)
#
# segment_header (alignas 128):
#   0 u64 magic, 8 u32 version, 12 u32 capacity, 16 u64 size, 24 i64 master_pid,
#   32 u64 start_time_ms, 40 u64 generation, 48 u32 workers, 52 u32 stopping, 56 u64 restarts,
#   64 u64 reloads_ok, 72 u64 reloads_failed, 80 u64 reload_seq, 88 u64 reload_count,
#   96 i32 reload_ok, 100 char reload_message[256], 360 u64 fold_seq, (version 3) 368 u32
#   retired_indexes, 384 worker_counters retired, then (version 2) alignas(128)
#   latency_histogram retired_latency
# worker_slot (alignas 128):
#   0 i64 pid, 8 u32 state, 12 u32 worker_index, 16 u64 generation, 24 u64 start_time_ms,
#   32 u64 heartbeat_ms, 40 u64 restarts, 128 worker_counters, then (version 2) alignas(128)
#   latency_histogram
# segment_layout: header, then slots[capacity], then (version 3) retired_by_index[256] of
# alignas(128) worker_counters, then (version 4) alignas(128) master_events {u64 recycles[3]}
# and slot_notes[256] of char[256].
# worker_counters and latency_histogram are arrays of u64 cells (shm/counters.hpp,
# shm/histogram.hpp); only their cell counts change between layout versions, and new counters
# go at the end, so the first ones below keep their offsets.

SEGMENT_MAGIC = 0x4B524F4654534146
COUNTER_CELLS = {1: 29, 2: 29 + 10 + 32, 3: 29 + 10 + 32, 4: 29 + 10 + 32,  # + by_status[10], by_kind[32]
                 5: 29 + 10 + 32 + 2 + 7 + 3 + 5 + 2 + 10 + 2}  # + streamed_responses(_aborted), the WebSocket block (7), the TLS block (handshakes .. ktls)
HISTOGRAM_CELLS = {1: 0, 2: 64 + 30 * 64 + 1, 3: 64 + 30 * 64 + 1, 4: 64 + 30 * 64 + 1,  # buckets[1984], sum_ns
                   5: 64 + 30 * 64 + 1}
INDEX_CAPACITY = {1: 0, 2: 0, 3: 256, 4: 256, 5: 256}  # retired_by_index entries after the slots
EVENTS_TAIL = {1: 0, 2: 0, 3: 0, 4: 128 + 256 * 256, 5: 128 + 256 * 256}  # master_events, slot_notes after those
COUNTERS_OFFSET = 128
COUNTER_NAMES = (["connections_accepted", "connections_active", "connections_idle"] +
                 ["connections_refused_%s" % k for k in ("max_connections", "per_ip", "concurrency")] +
                 ["accept_errors", "requests"] + ["responses_%dxx" % c for c in range(1, 6)] +
                 ["bytes_in", "bytes_out", "parse_errors"] +
                 ["timeouts_%s" % k for k in ("header", "body", "write", "idle")] +
                 ["handler_exceptions", "fibers_live", "fibers_idle", "fibers_created", "fibers_freed",
                  "ctx_pool_hits", "ctx_pool_misses", "buffer_pool_hits", "buffer_pool_misses"])


def _align(n, a=128):
    return (n + a - 1) // a * a


def layout_sizes(version):
    """(sizeof(segment_header), sizeof(worker_slot)) of layout `version`, by x86-64 alignment rules."""
    counters = COUNTER_CELLS[version] * 8
    histogram = HISTOGRAM_CELLS[version] * 8
    header = 384 + counters
    slot = COUNTERS_OFFSET + counters
    if histogram:
        header = _align(header) + histogram
        slot = _align(slot) + histogram
    return _align(header), _align(slot)


STATES = {0: "empty", 1: "starting", 2: "ready", 3: "draining", 4: "exited"}


class Segment:
    """Read-only view of /dev/shm/fastfork.NAME."""

    def __init__(self, name):
        self.path = "/dev/shm/fastfork." + name
        fd = os.open(self.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            self.map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)
        magic, version, capacity, total = struct.unpack_from("<QIIQ", self.map, 0)
        if magic != SEGMENT_MAGIC or version not in COUNTER_CELLS:
            raise AssertionError("%s: magic %#x version %d: not a fastfork stats segment of a layout this "
                                 "harness knows (%s): update master_harness.py" % (
                                     self.path, magic, version, sorted(COUNTER_CELLS)))
        self.header_size, self.slot_size = layout_sizes(version)
        tail = INDEX_CAPACITY[version] * _align(COUNTER_CELLS[version] * 8) + EVENTS_TAIL[version]
        if total != self.header_size + capacity * self.slot_size + tail or size < total:
            raise AssertionError("%s: size %d (file %d) does not match header %d + %d slots of %d bytes of layout "
                                 "%d: shm/layout.hpp changed, update master_harness.py" % (
                                     self.path, total, size, self.header_size, capacity, self.slot_size, version))
        self.version = version
        self.capacity = capacity

    def close(self):
        self.map.close()

    def header(self):
        (master_pid, start_time_ms, generation, workers, stopping, restarts, reloads_ok,
         reloads_failed) = struct.unpack_from("<qQQIIQQQ", self.map, 24)
        h = dict(master_pid=master_pid, start_time_ms=start_time_ms, generation=generation, workers=workers,
                 stopping=stopping, restarts=restarts, reloads_ok=reloads_ok, reloads_failed=reloads_failed)
        h.update(self.reload_result())
        return h

    def reload_result(self):
        """The last reload result, read under its sequence lock: reload_count, reload_ok, reload_message."""
        for _ in range(10000):
            seq1 = struct.unpack_from("<Q", self.map, 80)[0]
            if seq1 % 2:
                continue
            count, ok = struct.unpack_from("<Qi", self.map, 88)
            raw = self.map[100:356]
            seq2 = struct.unpack_from("<Q", self.map, 80)[0]
            if seq1 == seq2:
                msg = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
                return dict(reload_seq=seq1, reload_count=count, reload_ok=ok, reload_message=msg)
        raise AssertionError("reload_seq never settled")

    def slots(self):
        """Every non-empty slot: dicts with pid, state, index, generation, heartbeat_ms, restarts, counters."""
        out = []
        for i in range(self.capacity):
            off = self.header_size + i * self.slot_size
            pid, state, index, generation, start_ms, beat, restarts = struct.unpack_from("<qIIQQQQ", self.map, off)
            if pid == 0 and state == 0:
                continue
            counters = dict(zip(COUNTER_NAMES, struct.unpack_from("<%dQ" % len(COUNTER_NAMES), self.map,
                                                                  off + COUNTERS_OFFSET)))
            out.append(dict(slot=i, pid=pid, state=STATES.get(state, state), index=index, generation=generation,
                            start_time_ms=start_ms, heartbeat_ms=beat, restarts=restarts, counters=counters))
        return out


# ---------------------------------------------------------------- /proc

def children(pid):
    """PIDs of the direct children of `pid` (every thread's children file)."""
    out = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    out.update(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def start_time(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listen_inodes(port):
    """Socket inodes of the TCP sockets in LISTEN state on `port` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(int(inode))
        except OSError:
            pass
    return inodes


def socket_inodes(pid):
    """Inodes of the sockets `pid` has open."""
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            out.add(int(m.group(1)))
    return out


def listening_sockets_held(pid, port):
    """How many LISTEN sockets on `port` `pid` holds."""
    return len(socket_inodes(pid) & listen_inodes(port))


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    """Poll `predicate` until it returns something truthy; returns it, or raises after `timeout` (scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    last = None
    while True:
        try:
            last = predicate()
        except (OSError, ValueError, AssertionError) as e:
            last = e
            if time.monotonic() >= deadline:
                raise AssertionError("%s not reached within %.1f s (last error: %r)" % (what, scaled(timeout), e))
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("%s not reached within %.1f s (last value: %r)" % (what, scaled(timeout), last))
        time.sleep(interval)


def healthz(port, host="127.0.0.1", timeout=5.0):
    """GET /healthz on a fresh connection, decoded."""
    if host == "127.0.0.1":
        status, body = http_get(port, "/healthz", timeout=timeout)
    else:
        import http.client
        conn = http.client.HTTPConnection(host, port, timeout=scaled(timeout))
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            status, body = r.status, r.read()
        finally:
            conn.close()
    if status != 200:
        raise AssertionError("GET /healthz answered %d: %r" % (status, body))
    return json.loads(body)


# ---------------------------------------------------------------- the master guard

_alias_dir = tempfile.mkdtemp(prefix="ff-mtest-")


def _alias(binary):
    """Run `binary` through a symlink named ff-mtest-<name>, so a `pkill fastfork` elsewhere misses it."""
    link = os.path.join(_alias_dir, "ff-mtest-" + os.path.basename(binary))
    if not os.path.lexists(link):
        os.symlink(os.path.abspath(binary), link)
    return link


def _cleanup_alias_dir():
    for name in os.listdir(_alias_dir):
        try:
            os.unlink(os.path.join(_alias_dir, name))
        except OSError:
            pass
    try:
        os.rmdir(_alias_dir)
    except OSError:
        pass


_live_processes = {}  # master pid -> Popen; SIGKILLed at interpreter exit whatever happened


def _kill_live_processes():
    for pid, proc in list(_live_processes.items()):
        if proc.poll() is None:
            try:
                os.kill(pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
    _live_processes.clear()


_seen_workers = {}  # pid -> start time, of every worker any guard saw; SIGKILLed at exit if still there


def _kill_seen_workers():
    for pid, started in list(_seen_workers.items()):
        if started is not None and start_time(pid) == started and alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    _seen_workers.clear()


import atexit  # noqa: E402

atexit.register(_cleanup_alias_dir)
atexit.register(_kill_seen_workers)
atexit.register(_kill_live_processes)  # atexit runs in reverse: the masters go first


class MasterProcess(ManagedProcess):
    """`with MasterProcess(["--workers", "3"]) as m:` runs a master with its workers.

    `binary` defaults to fastfork; `config` (a dict) is written to m.config_path and passed
    with -c, and then `listen` is only added as a flag when the dict has no "listen" key.
    m.port, m.pid, m.name (the shm segment), m.segment (a Segment once ready). The block fails
    when the master died of a signal not in `allowed_signals` or exited with a code not in
    `expect_exit_codes`.
    """

    def __init__(self, args=(), binary=None, config=None, env=None, workers=None, listen=None, wait_ready=True,
                 ready_timeout=10.0, expect_exit_codes=(0,), port=None, name=None, ready="shm", allowed_signals=()):
        self.args = list(args)
        self.binary = binary or FASTFORK_BIN
        self.config = config
        self.env = env
        self.workers = workers
        self.listen = listen  # a format string with {port}, default "127.0.0.1:{port}"
        self.wait_ready = wait_ready
        self.ready_timeout = ready_timeout
        self.expect_exit_codes = set(expect_exit_codes)
        self.allowed_signals = set(allowed_signals)
        self.port = port
        self.name = name
        self._name_given = name is not None
        self.ready = ready
        self.proc = None
        self.pid = None
        self.returncode = None
        self.segment = None
        self.attach_error = None
        self.signalled = False
        self.tmpdir = tempfile.mkdtemp(prefix="ff-mtest-run-")
        self.config_path = os.path.join(self.tmpdir, "fastfork.json")
        self._log = None
        self._log_text = None

    def command(self):
        cmd = [_alias(self.binary)]
        listen = (self.listen or "127.0.0.1:{port}").format(port=self.port)
        if self.config is not None:
            cfg = dict(self.config)
            cfg.setdefault("listen", [x for x in listen.split(",")])
            self.write_config(cfg)
            cmd += ["-c", self.config_path]
        else:
            cmd += ["--listen", listen]
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        if self.name is not None:
            cmd += ["--name", self.name]
        return cmd + self.args

    def write_config(self, cfg):
        """Replace the -c file (atomically) with `cfg`: a dict, or raw text."""
        text = cfg if isinstance(cfg, str) else json.dumps(cfg, indent=2) + "\n"
        os.makedirs(self.tmpdir, exist_ok=True)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def start(self):
        if not os.path.exists(self.binary):
            raise unittest.SkipTest("%s not found (build it first)" % self.binary)
        fixed_port = self.port is not None
        last_error = None
        for _attempt in range(3):
            if not fixed_port:
                self.port = free_port()
            if not self._name_given:
                self.name = "mtest%d-%d" % (os.getpid(), self.port)
            self.signalled = False
            self._log_text = None
            self._log = tempfile.TemporaryFile(mode="w+b")
            env = dict(os.environ)
            env.pop("NOTIFY_SOCKET", None)
            env.update(self.env or {})
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, close_fds=True, env=env)
            self.pid = self.proc.pid
            _live_processes[self.pid] = self.proc
            if not self.wait_ready:
                return
            try:
                self._wait_ready()
                return
            except ServerError as e:
                last_error = e
                self.stop()
                if "Address already in use" not in self.log() or fixed_port:
                    raise
        raise last_error

    def _wait_ready(self):
        deadline = time.monotonic() + scaled(self.ready_timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("%s exited with %s during startup; log:\n%s" % (
                    os.path.basename(self.binary), self.proc.returncode, self.log()))
            if self.ready == "http":  # --single-process: no stats segment to read
                try:
                    if http_get(self.port, "/healthz", timeout=1.0)[0] == 200:
                        return
                except Exception:  # noqa: BLE001 - refused, reset, half a response: not up yet
                    pass
                time.sleep(0.02)
                continue
            if self.attach() and self.all_ready():
                # The master itself notices readiness at its next 50 ms tick (and only then sends
                # READY=1 and takes a SIGHUP): give it three ticks. A SIGHUP sent before that is
                # lost (test_master.Reload.test_sighup_during_startup_is_not_lost).
                time.sleep(scaled(0.15))
                return
            time.sleep(0.02)
        raise ServerError("%s: the workers were not ready within %.1f s; slots %r (%s); log:\n%s" % (
            os.path.basename(self.binary), scaled(self.ready_timeout),
            self.segment.slots() if self.segment else None,
            "attached" if self.segment else "segment: %r" % (self.attach_error,), self.log()))

    def attach(self):
        """Map the stats segment once the master has created it; True when attached."""
        if self.segment is None:
            try:
                seg = Segment(self.name)
            except (OSError, ValueError, AssertionError) as e:
                self.attach_error = e  # reported if the master never gets ready
                return False
            if seg.header()["master_pid"] == self.pid:
                self.segment = seg
            else:
                seg.close()
        return self.segment is not None

    def all_ready(self, generation=None):
        """True when `workers` (header) slots of `generation` (default: the header's) are ready."""
        h = self.segment.header()
        gen = h["generation"] if generation is None else generation
        ready = [s for s in self.slots() if s["generation"] == gen and s["state"] == "ready"]
        return h["workers"] > 0 and len(ready) >= h["workers"] and len({s["index"] for s in ready}) >= h["workers"]

    def slots(self):
        slots = self.segment.slots()
        for s in slots:
            if s["pid"] > 0 and s["pid"] not in _seen_workers:
                _seen_workers[s["pid"]] = start_time(s["pid"])
        return slots

    def header(self):
        return self.segment.header()

    def workers_by_index(self, generation=None, states=("ready",)):
        """{index: pid} of the live worker slots (of `generation`, default the header's)."""
        gen = self.header()["generation"] if generation is None else generation
        return {s["index"]: s["pid"] for s in self.slots() if s["generation"] == gen and s["state"] in states}

    def children(self):
        kids = children(self.pid)
        for pid in kids:
            if pid not in _seen_workers:
                _seen_workers[pid] = start_time(pid)
        return kids

    def signal(self, signum):
        if self.proc and self.proc.poll() is None:
            if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                self.signalled = True
            os.kill(self.pid, signum)

    def reload(self, timeout=10.0):
        """SIGHUP, then wait until the master has recorded the result; returns reload_result()."""
        before = self.segment.reload_result()["reload_count"]
        self.signal(signal.SIGHUP)
        try:
            return wait_for(lambda: (lambda r: r if r["reload_count"] > before else None)(
                self.segment.reload_result()), timeout, what="a recorded reload result")
        except AssertionError as e:
            raise AssertionError("%s; log:\n%s" % (e, self.log())) from None

    def wait(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            return None
        _live_processes.pop(self.pid, None)
        return self.returncode

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """TERM, wait 10 s, KILL; then SIGKILL any worker still alive. Returns a problem or None."""
        if self.proc is None:
            return None
        if self.segment is not None and self.proc.poll() is None:
            try:
                self.slots()
                self.children()
            except (OSError, ValueError):
                pass
        exited_by_itself = self.proc.poll() is not None and not self.signalled
        killed = False
        if self.proc.poll() is None:
            self.signalled = True
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
            if self.wait(10.0) is None:
                killed = True
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
        self.returncode = self.proc.returncode
        _live_processes.pop(self.pid, None)
        # Workers die with the master (PR_SET_PDEATHSIG); give them a moment, then make sure.
        leftovers = []
        deadline = time.monotonic() + scaled(3.0)
        for pid, started in list(_seen_workers.items()):
            while started is not None and start_time(pid) == started and alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if started is not None and start_time(pid) == started and alive(pid):
                leftovers.append(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            _seen_workers.pop(pid, None)
        if self.segment is not None:
            self.segment.close()
            self.segment = None
        self._close_log()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        rc = self.returncode
        if exited_by_itself and rc not in self.expect_exit_codes:
            return "master (pid %d) exited by itself with %s; log:\n%s" % (self.pid, rc, self.log())
        if killed:
            return "master (pid %d) did not exit within %.0f s of SIGTERM and was killed; log:\n%s" % (
                self.pid, scaled(10.0), self.log())
        if rc < 0 and -rc not in self.allowed_signals:
            return "master (pid %d) died of signal %d (%s); log:\n%s" % (
                self.pid, -rc, signal.Signals(-rc).name, self.log())
        if rc >= 0 and rc not in self.expect_exit_codes:
            return "master (pid %d) exited with %d (expected %s); log:\n%s" % (
                self.pid, rc, sorted(self.expect_exit_codes), self.log())
        if leftovers:
            return "workers %r outlived their master (pid %d) by 3 s and were killed; log:\n%s" % (
                leftovers, self.pid, self.log())
        return None

    def _close_log(self):
        if self._log is not None:
            self._log_text = self.log()
            self._log.close()
            self._log = None

    def log(self):
        """The master's and workers' stdout and stderr so far (the last 8000 characters)."""
        if self._log is None:
            return self._log_text or ""
        try:
            self._log.flush()
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")[-8000:]
        except (OSError, ValueError):
            return ""


# ---------------------------------------------------------------- wrk

class Wrk:
    """`wrk -t1 -cN -dS http://127.0.0.1:PORT/PATH` in the background; .result() parses its report."""

    def __init__(self, port, connections=64, seconds=6, path="/plaintext", threads=1, host="127.0.0.1"):
        self.cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
                    "http://%s:%d%s" % (host, port, path)]
        self.seconds = seconds
        self.proc = None
        self.out = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return False

    def start(self):
        if shutil.which("wrk") is None:
            raise unittest.SkipTest("wrk not installed")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        return self

    def result(self):
        """Waits for wrk; returns dict(requests, connect, read, write, timeout, non2xx, text)."""
        try:
            out, _ = self.proc.communicate(timeout=self.seconds + scaled(30))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("wrk did not finish: %s" % out.decode("utf-8", "replace"))
        return parse_wrk(out.decode("utf-8", "replace"), self.proc.returncode)


def parse_wrk(text, returncode=0):
    if returncode != 0:
        raise AssertionError("wrk exited with %d:\n%s" % (returncode, text))
    r = dict(connect=0, read=0, write=0, timeout=0, non2xx=0, text=text)
    m = re.search(r"(\d+) requests in", text)
    if not m:
        raise AssertionError("no request count in wrk's output:\n%s" % text)
    r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["connect"], r["read"], r["write"], r["timeout"] = (int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    r["socket_errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


# ---------------------------------------------------------------- sd_notify

class NotifySocket:
    """A unix datagram socket that plays systemd's NOTIFY_SOCKET; .messages() drains it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ff-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # SO_PASSCRED: the kernel tells each datagram's sender, as systemd checks for NotifyAccess=main.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.received = []  # (monotonic time, message)
        self.senders = []  # the pid that sent each message of `received`

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def poll(self, timeout=0.0):
        """Receive what is queued (waiting up to `timeout` for the first datagram)."""
        self.sock.settimeout(timeout if timeout > 0 else None)
        if timeout <= 0:
            self.sock.setblocking(False)
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except (BlockingIOError, socket.timeout):
                break
            sender = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    sender = struct.unpack("iII", payload[:12])[0]
            self.received.append((time.monotonic(), data.decode("utf-8", "replace")))
            self.senders.append(sender)
            self.sock.setblocking(False)
        return self.received

    def wait_for(self, predicate, timeout, what, sender=None):
        """Wait until some message received after the call satisfies `predicate` (and came from
        pid `sender`, when given); returns its position."""
        start = len(self.received)
        deadline = time.monotonic() + scaled(timeout)
        while True:
            for i in range(start, len(self.received)):
                if predicate(self.received[i][1]) and sender in (None, self.senders[i]):
                    return i
            start = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.1f s; got %r" % (what, scaled(timeout),
                                                                      [m for _, m in self.received]))
            self.poll(min(left, 0.1))
