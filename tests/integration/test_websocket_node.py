"""WebSocket with a second real client, the npm `ws` package (issue 12): echo 0 B-16 MiB with
and without permessage-deflate, fragments, ping/pong and close codes (ws_node/echo_client.js).
`ws` is installed with `npm ci` from the committed package-lock.json into a directory of the
build tree (FF_NODE_DIR); the test is skipped (77) only when node or npm is missing or npm
cannot reach the registry."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerProcess, main, scaled  # noqa: E402
from test_websocket import ws_config  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "ws_node")


def node_dir():
    """A directory with package.json, package-lock.json and node_modules/ws; SkipTest when npm fails."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise unittest.SkipTest("node/npm not installed")
    target = os.environ.get("FF_NODE_DIR") or os.path.join(tempfile.gettempdir(), "fastfork-ws-node")
    os.makedirs(target, exist_ok=True)
    for name in ("package.json", "package-lock.json", "echo_client.js", "echo_server.js"):
        src = os.path.join(SOURCE, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(target, name))
    if not os.path.exists(os.path.join(target, "node_modules", "ws", "package.json")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                           capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise unittest.SkipTest("npm ci could not install ws (registry unreachable?): " + r.stderr[-500:])
    return target


class NodeWsClient(unittest.TestCase):
    def test_npm_ws_client_echo_ping_close(self):
        d = node_dir()
        with tempfile.TemporaryDirectory() as tmp:
            with ServerProcess(["-c", ws_config(tmp, websocket_max_message="17MiB")]) as srv:
                r = subprocess.run(["node", os.path.join(d, "echo_client.js"), "ws://127.0.0.1:%d/ws" % srv.port],
                                   cwd=d, capture_output=True, text=True, timeout=scaled(120))
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("all ok", r.stdout)


if __name__ == "__main__":
    try:
        node_dir()
    except unittest.SkipTest as e:
        print("skipped:", e)
        sys.exit(77)
    main()
