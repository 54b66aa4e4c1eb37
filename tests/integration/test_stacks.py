"""code.stacktrace on CLIENT spans: a C client built with symbols, stripped,
and -O2 without frame pointers, and a Python service, calling a slow
backend; a fast call, a refused connection, and SPANSHIM_STACKS off and all.

The stack is the program's at the call, innermost first, without the shim's
own frames: the C client's functions by name (from its .symtab), or its
module and offset when stripped; for Python the interpreter's C frames."""
import os
import re
import subprocess
import unittest

from harness import BUILD, PY, APPS, Collector, free_port, start_app

PROBES = os.path.join(BUILD, "tests")
LINE = re.compile(r"^(?:(\S+)\+0x([0-9a-f]+) \((\S+)\)|(\S+)\+0x([0-9a-f]+))$")


# Under the sanitizers their runtime is preloaded ahead of the shim: its
# interceptor of recv or connect is a frame between the program's and the
# shim's, which the shim rightly keeps. The checks below are of the program.
SANITIZER = re.compile(r"lib[at]san\.so")


def frames(text):
    """[(function or None, module, offset)] of a code.stacktrace, without a
    sanitizer runtime's frames."""
    out = []
    for line in text.split("\n"):
        m = LINE.match(line)
        if m is None:
            raise AssertionError("not a frame line: %r" % line)
        if m.group(1):
            out.append((m.group(1), m.group(3), int(m.group(2), 16)))
        else:
            out.append((None, m.group(4), int(m.group(5), 16)))
    return [f for f in out if not SANITIZER.match(f[1])]


class Stacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.backend, cls.port = start_app(cls.col, "backend.py",
                                          [os.path.join(cls.col.dir, "rec")], traced=False)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def probe(self, name, paths, service, port=None, **env):
        r = self.col.run([os.path.join(PROBES, name), str(port or self.port), *paths],
                         service=service, **env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def client_spans(self, service, n):
        got = self.col.wait_spans(n, pred=lambda s: s.service == service and s["kind"] == 3)
        self.assertEqual(len(got), n, got)
        return got

    def by_path(self, spans, path):
        [s] = [s for s in spans if s.attrs.get("url.full", "").endswith(path)]
        return s

    def check_named(self, name):
        service = "stack-" + name
        out = self.probe(name, ["/slow", "/inventory"], service)
        self.assertEqual(out, "/slow 200\n/inventory 200\n")
        spans = self.client_spans(service, 2)
        slow = frames(self.by_path(spans, "/slow").attrs["code.stacktrace"])
        self.assertNotIn("code.stacktrace", self.by_path(spans, "/inventory").attrs)  # fast
        names = [f for f, _, _ in slow]
        # Innermost first: the function that called recv, then its callers.
        self.assertEqual(names[:4], ["probe_read_status", "probe_http_get", "probe_fetch_price",
                                     "main"], slow)
        self.assertEqual({m for _, m, _ in slow[:4]}, {name})
        self.assertFalse([m for _, m, _ in slow if "spanshim" in m], slow)
        self.assertIn("libc.so.6", [m for _, m, _ in slow])
        return slow

    def test_with_symbols(self):
        self.check_named("stackprobe")

    def test_o2_without_frame_pointers(self):
        self.check_named("stackprobe_nofp")

    def test_stripped(self):
        name = "stackprobe_stripped"
        self.probe(name, ["/slow", "/inventory"], "stack-stripped")
        spans = self.client_spans("stack-stripped", 2)
        self.assertNotIn("code.stacktrace", self.by_path(spans, "/inventory").attrs)
        slow = frames(self.by_path(spans, "/slow").attrs["code.stacktrace"])
        # No names: the module and offsets into its code, for addr2line.
        text = None
        for line in subprocess.run(["readelf", "-SW", os.path.join(PROBES, name)],
                                   capture_output=True, text=True, check=True).stdout.splitlines():
            parts = line.replace("[ ", "[").split()
            if len(parts) > 5 and parts[1] == ".text":
                text = (int(parts[3], 16), int(parts[5], 16))
        self.assertIsNotNone(text)
        for func, module, off in slow[:4]:
            self.assertIsNone(func, slow)
            self.assertEqual(module, name)
            self.assertTrue(text[0] <= off - 1 < text[0] + text[1], (hex(off), text))
        self.assertFalse([m for _, m, _ in slow if "spanshim" in m], slow)

    def test_refused_connection(self):
        port = free_port()
        out = self.probe("stackprobe", ["/x"], "stack-refused", port=port)
        self.assertEqual(out, "/x -1\n")
        [s] = self.client_spans("stack-refused", 1)
        self.assertEqual(s["name"], "connect")
        self.assertEqual(s.attrs["error.type"], "ECONNREFUSED")
        names = [f for f, _, _ in frames(s.attrs["code.stacktrace"])]
        self.assertEqual(names[:3], ["probe_http_get", "probe_fetch_price", "main"])

    def test_all_gives_every_client_span_one(self):
        self.probe("stackprobe", ["/inventory", "/inventory"], "stack-all", SPANSHIM_STACKS="all")
        for s in self.client_spans("stack-all", 2):
            names = [f for f, _, _ in frames(s.attrs["code.stacktrace"])]
            self.assertEqual(names[:2], ["probe_read_status", "probe_http_get"])

    def test_off_gives_none(self):
        self.probe("stackprobe", ["/slow"], "stack-off", SPANSHIM_STACKS="off")
        self.probe("stackprobe", ["/x"], "stack-off-refused", port=free_port(),
                   SPANSHIM_STACKS="off")
        [s] = self.client_spans("stack-off", 1)
        self.assertNotIn("code.stacktrace", s.attrs)
        [s] = self.client_spans("stack-off-refused", 1)
        self.assertEqual(s.attrs["error.type"], "ECONNREFUSED")
        self.assertNotIn("code.stacktrace", s.attrs)

    def test_threshold(self):
        # Under the threshold a 400 ms call is not slow.
        self.probe("stackprobe", ["/slow"], "stack-min", SPANSHIM_STACK_MIN_MS="5000")
        [s] = self.client_spans("stack-min", 1)
        self.assertNotIn("code.stacktrace", s.attrs)

    def test_libcurl_transfer(self):
        # One span per transfer (easy, then multi): its stack is the
        # caller's, from the hook of the call that ended it.
        url = "http://127.0.0.1:%d/slow" % self.port
        r = self.col.run([os.path.join(PROBES, "curlprobe"), url], service="stack-curl")
        self.assertEqual(r.returncode, 0, r.stderr)
        spans = self.client_spans("stack-curl", 2)
        for s in spans:
            slow = frames(s.attrs["code.stacktrace"])
            self.assertIn(("main", "curlprobe"), [(f, m) for f, m, _ in slow], slow)
            self.assertFalse([m for _, m, _ in slow if "spanshim" in m], slow)

    def test_python_service(self):
        front, port = start_app(self.col, "stack_front.py", [self.port], service="stack-py")
        try:
            for path in ("/price", "/stock"):
                r = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d%s" % (port, path)],
                                   capture_output=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
            spans = self.client_spans("stack-py", 2)
        finally:
            front.terminate()
            front.wait()
        self.assertNotIn("code.stacktrace", self.by_path(spans, "/inventory").attrs)
        slow = frames(self.by_path(spans, "/slow").attrs["code.stacktrace"])
        modules = [m for _, m, _ in slow]
        # The interpreter's C frames: the socket module's receive (a module
        # of its own, or built into the interpreter), under the evaluation
        # loop of python3.x or libpython3.x.
        self.assertTrue([1 for f, m, _ in slow if m.startswith("_socket") or
                         (f or "").startswith("sock_recv")], slow)
        self.assertTrue([m for m in modules if re.match(r"(lib)?python3[\d.]*(\.so[\d.]*)?$", m)],
                        slow)
        self.assertIn("_PyEval_EvalFrameDefault", [f for f, _, _ in slow])
        self.assertFalse([m for m in modules if "spanshim" in m], slow)


if __name__ == "__main__":
    unittest.main(verbosity=2)
