"""curl -> frontend (http.server + urllib) -> backend (http.server), every
process unmodified under the shim: one trace, four spans, the right parent
for each, the right attributes; and the backend receives exactly the bytes
the frontend sent plus one traceparent line."""
import base64
import json
import os
import re
import unittest

from harness import PY, Collector, read_lines, start_app

# Under the sanitizers the first hop is Python (see tests/CMakeLists.txt).
SANITIZED = bool(os.environ.get("SPANSHIM_PRELOAD_PREFIX"))
GET = ("import sys, urllib.request, urllib.error\n"
       "try:\n    r = urllib.request.urlopen(sys.argv[1]); r.read(); print(r.status, end='')\n"
       "except urllib.error.HTTPError as e:\n    print(e.code, end='')\n")
CLIENT_SERVICE = "unknown_service:" + (os.path.basename(os.path.realpath(PY)) if SANITIZED
                                       else "curl")
CLIENT_UA = "Python-urllib/" if SANITIZED else "curl/"

TP_LINE = re.compile(rb"traceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\r\n")


def recorded(path):
    return [dict(json.loads(l), raw=base64.b64decode(json.loads(l)["raw"]))
            for l in read_lines(path)]


class Chain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.record = os.path.join(cls.col.dir, "backend.record")
        cls.backend, cls.bport = start_app(cls.col, "backend.py", [cls.record], "inventory")
        cls.front, cls.fport = start_app(cls.col, "frontend.py", [cls.bport], "frontend")
        cls.plain, cls.pport = start_app(cls.col, "frontend.py", [cls.bport], traced=False)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def curl(self, port, path, traced=True, **env):
        url = "http://127.0.0.1:%d%s" % (port, path)
        argv = [PY, "-c", GET, url] if SANITIZED else \
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url]
        r = self.col.run(argv, traced=traced, **env)
        return r.stdout.decode()

    def trace_of(self, path, query, n):
        """The spans of the one trace whose frontend server span has this url."""
        servers = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.path") == path
                                      and s.attrs.get("url.query") == query
                                      and s.service == "frontend")
        self.assertEqual(len(servers), 1, "one frontend SERVER span for %s" % path)
        tid = servers[0]["traceId"]
        spans = self.col.wait_spans(n, pred=lambda s: s["traceId"] == tid)
        self.assertEqual(len(spans), n, [(s.service, s["name"], s["kind"]) for s in spans])
        return spans

    def test_one_trace_four_spans(self):
        self.assertEqual(self.curl(self.fport, "/checkout?item=42"), "200")
        spans = self.trace_of("/checkout", "item=42", 4)
        by = {(s.service, s["kind"]): s for s in spans}
        curl = by[(CLIENT_SERVICE, 3)]
        fsrv = by[("frontend", 2)]
        fcli = by[("frontend", 3)]
        bsrv = by[("inventory", 2)]

        self.assertNotIn("parentSpanId", curl)
        self.assertEqual(fsrv["parentSpanId"], curl["spanId"])
        self.assertEqual(fcli["parentSpanId"], fsrv["spanId"])
        self.assertEqual(bsrv["parentSpanId"], fcli["spanId"])
        self.assertEqual(fsrv["flags"], 0x303)   # sampled, random id, remote parent
        self.assertEqual(fcli["flags"], 0x103)   # local parent
        for s in spans:
            self.assertEqual(s["name"], "GET")
            self.assertNotIn("status", s)
            self.assertLessEqual(int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]))
        # Child spans lie within their parents.
        for child, parent in ((fsrv, curl), (fcli, fsrv), (bsrv, fcli)):
            self.assertGreaterEqual(int(child["startTimeUnixNano"]), int(parent["startTimeUnixNano"]))
            self.assertLessEqual(int(child["endTimeUnixNano"]), int(parent["endTimeUnixNano"]))

        a = curl.attrs
        self.assertEqual(a["http.request.method"], "GET")
        self.assertEqual(a["url.full"], "http://127.0.0.1:%d/checkout?item=42" % self.fport)
        self.assertEqual(a["server.address"], "127.0.0.1")
        self.assertEqual(a["server.port"], self.fport)
        self.assertEqual(a["http.response.status_code"], 200)
        self.assertEqual(a["network.peer.address"], "127.0.0.1")
        self.assertEqual(a["network.peer.port"], self.fport)
        self.assertEqual(a["network.protocol.version"], "1.1")

        a = fsrv.attrs
        self.assertEqual(a["url.path"], "/checkout")
        self.assertEqual(a["url.query"], "item=42")
        self.assertEqual(a["url.scheme"], "http")
        self.assertEqual(a["server.address"], "127.0.0.1")
        self.assertEqual(a["server.port"], self.fport)
        self.assertEqual(a["client.address"], "127.0.0.1")
        self.assertTrue(a["user_agent.original"].startswith(CLIENT_UA))
        self.assertEqual(a["http.response.status_code"], 200)

        a = fcli.attrs
        self.assertEqual(a["url.full"], "http://127.0.0.1:%d/inventory?item=42" % self.bport)
        self.assertEqual(a["server.port"], self.bport)
        self.assertEqual(a["http.response.status_code"], 200)

        a = bsrv.attrs
        self.assertEqual(a["url.path"], "/inventory")
        self.assertTrue(a["user_agent.original"].startswith("Python-urllib/"))

        # Resources: one per process, with real pids.
        self.assertEqual(curl.res["telemetry.sdk.name"], "spanshim")
        self.assertEqual(curl.service, CLIENT_SERVICE)
        self.assertEqual(fsrv.res["process.pid"], self.front.pid)
        self.assertEqual(bsrv.res["process.pid"], self.backend.pid)

    def test_bytes_are_the_program_bytes_plus_one_line(self):
        for path in ("/checkout?item=1", "/order"):
            before = len(recorded(self.record))
            self.assertEqual(self.curl(self.pport, path, traced=False), "200")  # baseline
            self.assertEqual(self.curl(self.fport, path), "200")
            got = recorded(self.record)[before:]
            self.assertEqual(len(got), 2)
            plain, traced = got[0]["raw"], got[1]["raw"]
            self.assertEqual(len(TP_LINE.findall(plain)), 0)
            self.assertEqual(len(TP_LINE.findall(traced)), 1)
            # The line sits at the end of the header block; nothing else moved.
            self.assertEqual(TP_LINE.sub(b"", traced), plain)
            head = traced.split(b"\r\n\r\n")[0] + b"\r\n"
            self.assertTrue(TP_LINE.search(head).end() == len(head))

    def test_error_status(self):
        self.assertEqual(self.curl(self.fport, "/fail?x=1"), "502")
        spans = self.trace_of("/fail", "x=1", 4)
        by = {(s.service, s["kind"]): s for s in spans}
        self.assertEqual(by[("inventory", 2)].attrs["http.response.status_code"], 500)
        self.assertEqual(by[("inventory", 2)]["status"]["code"], 2)
        self.assertEqual(by[("frontend", 3)].attrs["error.type"], "500")
        self.assertEqual(by[("frontend", 3)]["status"]["code"], 2)
        # 502 on the frontend: server error; curl's client span also errs.
        self.assertEqual(by[("frontend", 2)]["status"]["code"], 2)
        self.assertEqual(by[(CLIENT_SERVICE, 3)].attrs["error.type"], "502")

    def test_not_sampled_still_propagates(self):
        before = len(recorded(self.record))
        self.assertEqual(self.curl(self.fport, "/checkout?sampled=no",
                                   OTEL_TRACES_SAMPLER="always_off"), "200")
        got = recorded(self.record)
        while len(got) <= before:
            got = recorded(self.record)
        m = TP_LINE.search(got[before]["raw"])
        self.assertIsNotNone(m)
        self.assertEqual(m.group(3), b"02")  # not sampled, random trace id
        # parentbased_always_on downstream: nothing recorded for that trace.
        # A sampled request through the same processes comes after it in each
        # one's batches: once its spans are written, any of the first would be.
        tid = m.group(1).decode()
        self.assertEqual(self.curl(self.fport, "/checkout?sampled=fence"), "200")
        self.trace_of("/checkout", "sampled=fence", 4)
        self.assertEqual([s for s in self.col.spans() if s["traceId"] == tid], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
