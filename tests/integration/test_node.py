"""Event loops under concurrency: which request an outgoing call belongs to.

Node.js: the shim loads spanshim-node.js, which hints each outgoing call's
inbound request in its traceparent; 70 concurrent requests, each waiting
its own random delay before it calls the backend with http.get and with
fetch, some arriving with a traceparent and some without: every call is
in its own request's trace, a child of that request's SERVER span, and
the backend gets exactly one valid traceparent, the CLIENT span's.

aiohttp (no hint): an outgoing call made while several requests are in
flight on the loop gets no parent (a new trace, marked
spanshim.parent.ambiguous); with one in flight, that one is its parent."""
import base64
import json
import os
import random
import re
import shutil
import subprocess
import unittest

from harness import PY, SHIM_DIR, Collector, python_with, read_lines, start_app

NODE = shutil.which("node") or shutil.which("nodejs") or "node"
TP_LINE = re.compile(rb"\r\ntraceparent: *([^\r]*)\r\n", re.I)
VALID_TP = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$")

# Threads sending one GET each at once; urls on the command line.
CLIENT = ("import sys, threading, urllib.request\n"
          "def get(u):\n    urllib.request.urlopen(u, timeout=60).read()\n"
          "ts = [threading.Thread(target=get, args=(u,)) for u in sys.argv[1:]]\n"
          "[t.start() for t in ts]\n[t.join() for t in ts]\n")


# A server calling the backend once, called once by itself; argv: port.
NODE_ALONE = ("const http = require('http');\n"
              "const s = http.createServer((q, a) => http.get(`http://127.0.0.1:${process.argv[1]}"
              "/alone`, (r) => { r.resume(); r.on('end', () => a.end()); }));\n"
              "s.listen(0, '127.0.0.1', () => http.get(`http://127.0.0.1:${s.address().port}/`,"
              " (r) => { r.resume(); r.on('end', () => process.exit(0)); }));\n")


def backend_tps(record):
    """path -> the traceparent values of each request the backend read."""
    got = {}
    for line in read_lines(record):
        r = json.loads(line)
        raw = base64.b64decode(r["raw"])
        got.setdefault(r["path"], []).append([v.decode() for v in TP_LINE.findall(raw)])
    return got


class Loops(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.record = os.path.join(cls.col.dir, "backend.record")
        cls.backend, cls.bport = start_app(cls.col, "backend.py", [cls.record], "inventory")
        cls.node, cls.nport = start_app(cls.col, "node_loop.js", [cls.bport], "node-front",
                                        python=NODE, NODE_OPTIONS="--no-deprecation")
        cls.aio, cls.aport = start_app(cls.col, "aio_front.py", [cls.bport], "aio-front",
                                      python=python_with("aiohttp") or PY)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def clients(self, urls, traced):
        r = self.col.run([PY, "-c", CLIENT, *urls], service="client", traced=traced)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def server_span(self, service, query):
        got = self.col.wait_spans(1, timeout=30, pred=lambda s: s.service == service and
                                  s["kind"] == 2 and s.attrs.get("url.query") == query)
        self.assertEqual(len(got), 1, "one SERVER span for %s" % query)
        return got[0]

    def client_span(self, service, span_id):
        got = self.col.wait_spans(1, timeout=30, pred=lambda s: s.service == service and
                                  s["kind"] == 3 and s["spanId"] == span_id)
        self.assertEqual(len(got), 1, "the CLIENT span %s" % span_id)
        return got[0]

    def one_tp(self, tps, path):
        self.assertIn(path, tps)
        self.assertEqual(len(tps[path]), 1, path)
        self.assertEqual(len(tps[path][0]), 1, "one traceparent for %s" % path)
        m = VALID_TP.match(tps[path][0][0])
        self.assertTrue(m, tps[path][0][0])
        return m.group(1), m.group(2)

    def test_node_concurrent_calls_in_their_own_traces(self):
        rnd = random.Random(13)
        traced = ["http://127.0.0.1:%d/call?id=t%d&delay=%d" % (self.nport, i, rnd.randrange(400))
                  for i in range(50)]
        plain = ["http://127.0.0.1:%d/call?id=p%d&delay=%d" % (self.nport, i, rnd.randrange(400))
                 for i in range(20)]
        self.clients(traced, traced=True)
        self.clients(plain, traced=False)
        self.col.fence()
        tps = backend_tps(self.record)
        for url in traced + plain:
            query = url.split("?", 1)[1]
            ident = query.split("&")[0][3:]
            srv = self.server_span("node-front", query)
            if ident.startswith("t"):
                self.assertIn("parentSpanId", srv, "the client's traceparent was read")
            else:
                self.assertNotIn("parentSpanId", srv)
            for path in ("/get?id=" + ident, "/fetch?id=" + ident):
                trace, span = self.one_tp(tps, path)
                self.assertEqual(trace, srv["traceId"], "%s in its request's trace" % path)
                cli = self.client_span("node-front", span)
                self.assertEqual(cli["traceId"], srv["traceId"])
                self.assertEqual(cli.get("parentSpanId"), srv["spanId"], path)
                self.assertNotIn("spanshim.parent.ambiguous", cli.attrs)

    def test_node_call_after_its_request_ended_starts_a_trace(self):
        self.clients(["http://127.0.0.1:%d/late?id=l1" % self.nport], traced=True)
        srv = self.server_span("node-front", "id=l1")
        got = self.col.wait_spans(1, timeout=30, pred=lambda s: s.service == "inventory" and
                                  s.attrs.get("url.query") == "id=l1")
        self.assertEqual(len(got), 1)
        trace, span = self.one_tp(backend_tps(self.record), "/late?id=l1")
        cli = self.client_span("node-front", span)
        self.assertNotEqual(trace, srv["traceId"])
        self.assertEqual(cli["traceId"], trace)
        self.assertNotIn("parentSpanId", cli)

    def test_node_options_as_the_user_set_them(self):
        got = self.col.run(["curl", "-s", "http://127.0.0.1:%d/env" % self.nport], traced=False)
        self.assertEqual(json.loads(got.stdout), "--no-deprecation")

    def test_module_without_the_shim_does_nothing(self):
        env = dict(os.environ, NODE_OPTIONS='--require "%s"' % os.path.join(SHIM_DIR,
                                                                           "spanshim-node.js"))
        env.pop("LD_PRELOAD", None)
        r = subprocess.run([NODE, "-e", NODE_ALONE, str(self.bport)], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(backend_tps(self.record).get("/alone"), [[]], "no header added")

    def aio_calls(self, ids, count):
        urls = ["http://127.0.0.1:%d/call?id=%s&count=%d" % (self.aport, i, count) for i in ids]
        self.clients(urls, traced=True)
        tps = backend_tps(self.record)
        out = []
        for i, url in zip(ids, urls):
            srv = self.server_span("aio-front", url.split("?", 1)[1])
            trace, span = self.one_tp(tps, "/aio?id=" + i)
            out.append((srv, self.client_span("aio-front", span), trace))
        return out

    def test_aiohttp_several_in_flight_no_guessed_parent(self):
        ids = ["many%d" % i for i in range(8)]
        got = self.aio_calls(ids, len(ids))
        servers = {srv["traceId"] for srv, _, _ in got}
        for srv, cli, trace in got:
            self.assertNotIn("parentSpanId", cli, "no parent guessed among several")
            self.assertEqual(cli["traceId"], trace)
            self.assertNotIn(trace, servers, "a trace of its own")
            self.assertIs(cli.attrs.get("spanshim.parent.ambiguous"), True)

    def test_aiohttp_one_in_flight_is_the_parent(self):
        [(srv, cli, trace)] = self.aio_calls(["one"], 1)
        self.assertEqual(cli.get("parentSpanId"), srv["spanId"])
        self.assertEqual(trace, srv["traceId"])
        self.assertNotIn("spanshim.parent.ambiguous", cli.attrs)


if __name__ == "__main__":
    unittest.main()
