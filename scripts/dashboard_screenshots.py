"""Takes the README's dashboard screenshots (docs/dashboard-1280.png, docs/dashboard-phone.png):
a real fastfork master with two workers, about 40 s of varied wrk load on loopback (plaintext,
a slower /sleep phase, some 404s), one worker killed with SIGKILL and one SIGHUP reload, so
every panel has something to show; then headless chromium at 1280×800 and 390×844.
Run through scripts/dashboard-screenshots.sh.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def wrk(port, connections, seconds, path):
    return subprocess.Popen(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
                             "http://127.0.0.1:%d%s" % (port, path)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def phase(port, seconds, *loads):
    procs = [wrk(port, c, seconds, path) for c, path in loads]
    try:
        for p in procs:
            p.wait(timeout=seconds + 60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the build directory (holds fastfork/fastfork)")
    ap.add_argument("--out", required=True, help="where the PNGs go (docs/)")
    args = ap.parse_args()
    os.environ.setdefault("FASTFORK_BIN", os.path.join(os.path.abspath(args.build), "master", "fastfork"))

    import cdp
    from master_harness import MasterProcess, wait_for

    with MasterProcess(workers=2, config={}, name="dashboard-shots") as m, cdp.Chromium() as browser:
        page = browser.page()
        page.set_viewport(1280, 800)
        page.navigate("http://127.0.0.1:%d/dashboard?interval=500" % m.port)
        page.wait_for("+document.getElementById('dashboard').dataset.samples >= 2", what="the first samples")
        time.sleep(2)
        phase(m.port, 6, (8, "/plaintext"))
        phase(m.port, 6, (32, "/plaintext"), (2, "/no-such-page"))
        victim = sorted(m.workers_by_index().values())[0]
        os.kill(victim, signal.SIGKILL)
        phase(m.port, 7, (16, "/sleep?ms=2"), (4, "/plaintext"))
        m.reload()
        wait_for(lambda: m.all_ready(generation=2), 10, what="generation 2")
        phase(m.port, 8, (24, "/plaintext"), (2, "/json"))
        phase(m.port, 4, (4, "/plaintext"))
        time.sleep(1.5)
        # A picture with a hole in its lines (a starved browser) is no picture of the page.
        gap = page.evaluate("(() => { const t = [...document.querySelectorAll('#plotted tbody tr')]"
                            ".map(r => +r.dataset.t); let g = 0; for (let i = 1; i < t.length; i++)"
                            " g = Math.max(g, t[i] - t[i - 1]); return g; })()")
        print("longest interval between two samples: %.2f s" % gap)
        page.screenshot(os.path.join(args.out, "dashboard-1280.png"))
        page.set_viewport(390, 844, mobile=True)
        time.sleep(1.5)  # the page redraws its charts for the new width
        page.screenshot(os.path.join(args.out, "dashboard-phone.png"))
        page.close()
    print("wrote %s/dashboard-1280.png and dashboard-phone.png" % args.out)


if __name__ == "__main__":
    main()
