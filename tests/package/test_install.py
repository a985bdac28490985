"""Install test (issue 15.1): `cmake --install` into a temp prefix, then examples/ built out of
tree against it with find_package(fastfork) (shared and static) and with a plain
`g++ $(pkg-config --cflags --libs fastfork)`; each program answers one request on loopback.

Env: FF_BUILD_DIR, FF_SOURCE_DIR (set by tests/package/CMakeLists.txt).
"""

import os
import shutil
import unittest

import pkgtest

BUILD = pkgtest.env_path("FF_BUILD_DIR")
SOURCE = pkgtest.env_path("FF_SOURCE_DIR")


class install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="ff-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        pkgtest.run(["cmake", "--install", BUILD, "--prefix", cls.prefix])
        # The examples are copied so nothing of the source tree is on any include path.
        cls.examples = os.path.join(cls.tmp, "examples")
        shutil.copytree(os.path.join(SOURCE, "examples"), cls.examples)
        cls.libdir = os.path.dirname(next(
            os.path.join(d, f) for d, _, fs in os.walk(cls.prefix) for f in fs if f == "fastfork.pc"))
        cls.libdir = os.path.dirname(cls.libdir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def test_layout(self):
        for rel in ["sbin/fastfork", "bin/fastforkctl", "include/fastfork/master/fastfork.hpp"]:
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, rel)), rel)
        for rel in ["libfastfork.a", "libfastfork.so", "cmake/fastfork/fastforkConfig.cmake"]:
            self.assertTrue(os.path.exists(os.path.join(self.libdir, rel)), rel)
        soname = pkgtest.run(["readelf", "-d", os.path.join(self.libdir, "libfastfork.so")])
        self.assertRegex(soname, r"SONAME.*\[libfastfork\.so\.\d+(\.\d+)?\]")
        # Internal headers stay out: the worker's runtime, shm, the master's process code.
        for rel in ["worker/server.hpp", "shm/layout.hpp", "master/master.hpp"]:
            self.assertFalse(os.path.exists(os.path.join(self.prefix, "include/fastfork", rel)), rel)

    def serve_one(self, argv, env=None):
        port = pkgtest.free_port()
        status, body = pkgtest.get_once(argv + ["--listen", f"127.0.0.1:{port}"], port, "/hello?name=pkg",
                                        env=env)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"Hello, pkg!\n")

    def test_find_package(self):
        build = os.path.join(self.tmp, "cmake-build")
        pkgtest.run(["cmake", "-S", self.examples, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                     f"-DCMAKE_PREFIX_PATH={self.prefix}"])
        pkgtest.run(["cmake", "--build", build, "-j2"], timeout=300)
        ldd = pkgtest.run(["ldd", os.path.join(build, "hello")])
        self.assertIn(self.libdir + "/libfastfork.so", ldd)
        self.assertNotIn("libfastfork", pkgtest.run(["ldd", os.path.join(build, "hello_static")]))
        self.serve_one([os.path.join(build, "hello"), "--workers", "1"])
        self.serve_one([os.path.join(build, "hello_static"), "--single-process"])

    def test_pkg_config(self):
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.libdir, "pkgconfig"))
        exe = os.path.join(self.tmp, "hello_pc")
        src = os.path.join(self.examples, "hello.cpp")
        pkgtest.run(f"g++ -O1 -o {exe} {src} $(pkg-config --cflags --libs fastfork)", env=env, shell=True,
                    timeout=300)
        self.serve_one([exe, "--single-process"], env=dict(os.environ, LD_LIBRARY_PATH=self.libdir))


if __name__ == "__main__":
    unittest.main(verbosity=2)
