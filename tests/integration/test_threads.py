"""Threads, signals, fork and foreign code around the hooks: no deadlock, no
lost or misattributed span.

- 32 threads x 1,000 requests over connections handed between threads
  between each request and its response;
- a 5 kHz signal handler writing to a pipe, interrupting the program inside
  hooks;
- fork while other threads are inside hooks;
- a library whose constructor makes a request before or after the shim's;
- a program running on jemalloc."""
import os
import time
import unittest

from harness import BUILD, NGINX, PRELOAD, CollectorTest, start_app, start_nginx

PROBE = os.path.join(BUILD, "tests", "threadprobe")
# Under ThreadSanitizer the probe and the shim are instrumented; nginx is
# not, so it runs untraced and only the client side is checked.
TSAN = bool(os.environ.get("SPANSHIM_TSAN"))


@unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
class Threads(CollectorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nginx, cls.port = start_nginx(cls.col, traced=not TSAN)

    def pairs(self, service, want, timeout=120):
        """The client spans of service, each with the nginx server span whose
        parent it is (None if missing), once want of them are complete."""
        deadline = time.time() + timeout
        while True:
            spans = self.col.spans()
            clients = [s for s in spans if s["kind"] == 3 and s.service == service]
            ids = {c["spanId"] for c in clients}
            servers = {s["parentSpanId"]: s for s in spans
                       if s.service == "nginx" and s.get("parentSpanId") in ids}
            if TSAN and len(clients) >= want:
                return [(c, c) for c in clients]
            if (len(clients) >= want and len(servers) >= want) or time.time() > deadline:
                return [(c, servers.get(c["spanId"])) for c in clients]
            time.sleep(0.2)

    def test_handoff_32_threads(self):
        threads, n = 32, 1000
        r = self.col.run([PROBE, "handoff", str(self.port), str(threads), str(n)],
                         service="handoff", SPANSHIM_LOG="debug")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"ok %d bad 0" % (threads * n), r.stdout)
        self.assertNotIn(b"dropped", r.stderr)
        want = threads * n
        pairs = self.pairs("handoff", want)
        self.assertEqual(len(pairs), want)
        queries = set()
        for c, s in pairs:
            self.assertIsNotNone(s, "no server span for %s" % c.attrs["url.full"])
            self.assertEqual(c["traceId"], s["traceId"])
            self.assertEqual(c.attrs["http.response.status_code"], 200)
            query = c.attrs["url.full"].split("?", 1)[1]
            if not TSAN:  # the server span is the very request the client sent
                self.assertEqual(s.attrs["url.query"], query)
            queries.add(query)
        self.assertEqual(len(queries), want)  # each request exactly once

    def test_signal_handler_writes_inside_hooks(self):
        r = self.col.run([PROBE, "signals", str(self.port), "3000"], service="signals")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"ok 3000 bad 0", r.stdout)
        pairs = self.pairs("signals", 3000)
        self.assertEqual(len(pairs), 3000)
        self.assertTrue(all(s is not None for _, s in pairs))

    def test_fork_while_threads_are_in_hooks(self):
        r = self.col.run([PROBE, "fork", str(self.port), "40"], service="forker")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        children = {}
        for line in r.stdout.decode().splitlines():
            if line.startswith("child "):
                _, t, pid = line.split()
                children["t=%s&i=0" % t] = int(pid)
        self.assertEqual(len(children), 40)
        for q, pid in children.items():
            got = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and
                                      s.attrs.get("url.full", "").endswith("?" + q))
            self.assertEqual(len(got), 1, q)
            self.assertEqual(got[0].res["process.pid"], pid)

    # Under ThreadSanitizer curl and the other programs are not instrumented:
    # these tests exist only in the other builds (a skip would be a failure).
    if not TSAN:
        def test_library_constructor(self):
            record = os.path.join(self.col.dir, "ctor.record")
            _, port = start_app(self.col, "backend.py", [record], traced=False)
            lib = os.path.join(BUILD, "tests", "libctorprobe.so")
            for order in ("%s:%s" % (PRELOAD, lib), "%s:%s" % (lib, PRELOAD)):
                r = self.col.run(["/bin/true"], LD_PRELOAD=order, CTORPROBE_PORT=str(port))
                self.assertEqual(r.returncode, 0)
                self.assertIn(b"ctorprobe ctor: 200", r.stderr, order)
                self.assertIn(b"ctorprobe dtor: 200", r.stderr, order)

        def test_jemalloc(self):
            jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
            if not os.path.exists(jemalloc):
                self.skipTest("libjemalloc2 is not installed")
            url = "http://127.0.0.1:%d/ok?jemalloc=1" % self.port
            r = self.col.run(["curl", "-sS", url], LD_PRELOAD="%s:%s" % (PRELOAD, jemalloc))
            self.assertEqual(r.stdout, b"ok\n")
            got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
            self.assertEqual(len(got), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
