"""What the shim follows without changing it, or cannot hook, runs exactly
as without the shim: Redis's binary protocol passes untouched both ways
(and makes database spans, test_redis.py has them in detail); a static
binary, a Go program and a setuid program are simply not traced."""
import os
import shutil
import socket
import subprocess
import time
import unittest

from harness import APPS, CollectorTest, free_port, read_lines, start_app


class Opaque(CollectorTest):
    @unittest.skipUnless(shutil.which("redis-server") and shutil.which("redis-benchmark"),
                         "redis is not installed")
    def test_redis(self):
        port = free_port()
        server = self.col.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", self.col.dir],
                                service="redis", SPANSHIM_LOG="debug")
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
        cli = ["redis-cli", "-p", str(port)]
        value = "v\r\nGET / HTTP/1.1\r\n\r\n\xff" * 10  # looks like HTTP inside
        self.assertEqual(self.col.run(cli + ["SET", "k", value]).stdout, b"OK\n")
        plain = self.col.run(cli + ["--no-raw", "GET", "k"], traced=False)
        traced = self.col.run(cli + ["--no-raw", "GET", "k"], service="redis-cli",
                              SPANSHIM_LOG="debug")
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertIn(b"conns_db: 1", traced.stderr)
        bench = self.col.run(["redis-benchmark", "-p", str(port), "-n", "4000", "-c", "8", "-q",
                              "-t", "set,get,lpush,lrange_100"], service="redis-benchmark",
                             SPANSHIM_LOG="debug")
        self.assertEqual(bench.returncode, 0, bench.stderr)
        self.assertIn(b"GET:", bench.stdout)
        self.assertNotIn(b"headers_injected", bench.stderr)
        server.terminate()  # its exit flushes whatever it holds
        _, err = server.communicate(timeout=10)
        self.assertIn(b"spanshim", err)  # the shim was alive in it
        self.col.fence()
        gets = [s for s in self.col.spans() if s.service == "redis-cli"]
        self.assertEqual([s["name"] for s in gets], ["GET 0"])
        self.assertEqual([s for s in self.col.spans() if s.service == "redis"], [])

    @unittest.skipUnless(os.path.exists("/bin/busybox"), "busybox-static is not installed")
    def test_static_binary(self):
        record = os.path.join(self.col.dir, "static.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        url = "http://127.0.0.1:%d/inventory?static=1" % port
        plain = self.col.run(["/bin/busybox", "wget", "-q", "-O", "-", url], traced=False)
        traced = self.col.run(["/bin/busybox", "wget", "-q", "-O", "-", url])
        self.assertEqual(traced.returncode, 0)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertNotIn("traceparent", "".join(read_lines(record)))

    @unittest.skipUnless(shutil.which("go"), "go is not installed")
    def test_go_program(self):
        record = os.path.join(self.col.dir, "go.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        prog = os.path.join(self.col.dir, "goclient")
        env = dict(os.environ, GOCACHE=os.path.join(self.col.dir, "gocache"),
                   HOME=self.col.dir, GO111MODULE="off")
        subprocess.run(["go", "build", "-o", prog, os.path.join(APPS, "goclient.go")],
                       env=env, check=True, capture_output=True, timeout=300)
        url = "http://127.0.0.1:%d/inventory?go=1" % port
        plain = self.col.run([prog, url], traced=False)
        traced = self.col.run([prog, url])
        self.assertEqual(plain.stdout, b'200 {"item":42,"stock":7}\n')
        self.assertEqual((traced.returncode, traced.stdout), (plain.returncode, plain.stdout))
        self.assertNotIn("traceparent", "".join(read_lines(record)))

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_setuid_program(self):
        record = os.path.join(self.col.dir, "setuid.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        prog = os.path.join(self.col.dir, "curl-setuid")
        shutil.copy(shutil.which("curl"), prog)
        os.chmod(prog, 0o4755)
        url = "http://127.0.0.1:%d/inventory?setuid=1" % port
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", prog, "-sS", url]
        plain = self.col.run(argv, traced=False)
        traced = self.col.run(argv)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(traced.returncode, 0, traced.stderr)
        self.assertEqual(traced.stdout, plain.stdout)
        self.col.fence()
        self.assertEqual([s for s in self.col.spans()
                          if "setuid" in s.attrs.get("url.full", "")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
