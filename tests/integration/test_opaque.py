"""What cannot be hooked runs exactly as without the shim: a static
binary, a Go program and a setuid program are simply not traced. (Redis,
once passed through as opaque here, has spans of its own: test_redis.)"""
import os
import shutil
import subprocess
import unittest

from harness import APPS, CollectorTest, read_lines, start_app


class Opaque(CollectorTest):
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
