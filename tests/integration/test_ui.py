"""The trace viewer (--ui) in a real browser: curl -> nginx (proxy) ->
python http.server, every process unmodified under the shim, one request
slow (the backend waits 400 ms) and one failing (500), plus a trace sent by
hand with a span still in flight. Debian's chromium, headless, driven by
playwright-core (tests/integration/ui/drive.js), must show the right spans
nested under their parents, bars as wide as their spans are long, errors
marked, every attribute and the resource on a click, the filters, the
service map; and the in-flight span as such until its whole span replaces
it; log records (sent as the shim sends them, tests/integration/logsend)
in the panel of the span they were written in, in time order, rows that
have some marked, and a record of a span not held under the waterfall. A
screenshot of each view is kept in the build directory. Then the JSON
API's refusals, and `spanshim run --ui`."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from crafted import batch, send_all, span
from harness import (BUILD, NGINX, SPANSHIM, Collector, free_port, start_app, start_nginx,
                     wait_port)

UI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ui")
SHOTS = os.path.join(BUILD, "test_ui")
CRAFTED_TRACE = 0x5eed0000000000000000000000000001
MS = 1000000
os.makedirs(SHOTS, exist_ok=True)


def api(port, path, host=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if host:
        req.add_header("Host", host)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def api_error(port, path, method="GET", host=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    if host:
        req.add_header("Host", host)
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    raise AssertionError("%s %s was not refused" % (method, path))


def wait_for(what, fn, timeout=30):
    deadline = time.time() + timeout
    while True:
        got = fn()
        if got or time.time() > deadline:
            if not got:
                raise AssertionError("never came: " + what)
            return got
        time.sleep(0.1)


def drive(port, steps):
    """Run the steps in chromium; what the DOM showed, by step name."""
    plan = os.path.join(SHOTS, "plan.json")
    with open(plan, "w") as f:
        json.dump({"url": "http://127.0.0.1:%d/" % port, "steps": steps}, f)
    r = subprocess.run(["node", os.path.join(UI_DIR, "drive.js"), plan], capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("drive.js failed: " + r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)


def ns(s, key):
    return int(s.get(key, "0"))


class Viewer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port, cls.metrics = free_port(), free_port()
        cls.col = Collector(extra=("--ui", "127.0.0.1:%d" % cls.port, "--metrics-listen",
                                   "127.0.0.1:%d" % cls.metrics))
        wait_port(cls.port, cls.col.proc)
        record = os.path.join(cls.col.dir, "backend.record")
        cls.backend, bport = start_app(cls.col, "backend.py", [record], "inventory")
        _, nport = start_nginx(cls.col, server="location /api/ { proxy_pass http://127.0.0.1:%d/; }"
                               % bport)
        cls.trace = {}
        cls.spans = {}
        for case, path, code in (("slow", "/api/slow?case=slow", "200"),
                                 ("error", "/api/error?case=error", "500")):
            r = cls.col.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                             "http://127.0.0.1:%d%s" % (nport, path)], service="shopper")
            assert r.stdout.decode() == code, (r.stdout, r.stderr)
            root = cls.col.wait_spans(1, pred=lambda s, p=path: s.attrs.get("url.full", "")
                                      .endswith(p) and s.service == "shopper")
            assert len(root) == 1, root
            tid = root[0]["traceId"]
            got = cls.col.wait_spans(4, pred=lambda s, t=tid: s["traceId"] == t)
            assert len(got) == 4, [(s.service, s["name"]) for s in got]
            cls.trace[case], cls.spans[case] = tid, got
        # A trace sent by hand: its root whole, a child still in flight.
        cls.t0 = time.time_ns() - 10 * 1000 * MS
        cls.root_span = span(CRAFTED_TRACE, 1, b"checkout", start=cls.t0, dur=200 * MS)
        cls.charge = dict(trace=CRAFTED_TRACE, sid=2, name=b"charge card", parent=1, kind=3,
                          start=cls.t0 + 50 * MS)
        # Its resource says what the shim lost before it (col_shimloss).
        send_all(cls.col, [batch([cls.root_span, span(
            **cls.charge, dur=0, attrs=[("spanshim.span.in_flight", True)])], b"payments", (
                ("spanshim.spans_dropped.socket_full", 7),
                ("spanshim.spans_dropped.no_collector", 2),
                ("spanshim.logs_dropped.socket_full", 3),
                ("spanshim.logs_dropped.stream_busy", 1),
                ("spanshim.loss.instance", "00112233445566aa")))])
        cls.crafted = "%032x" % CRAFTED_TRACE
        # Log records of the crafted trace, as a shim sends them: two in
        # checkout (given out of order), one in the charge, one of a span
        # that never comes.
        r = subprocess.run([os.path.join(BUILD, "tests", "logsend"), cls.col.sock, "payments"],
                           input="".join("\t".join(map(str, f)) + "\n" for f in (
                               (cls.crafted, "%016x" % 1, 9, "INFO", "order 42 paid",
                                cls.t0 + 150 * MS),
                               (cls.crafted, "%016x" % 1, 9, "INFO", "order 42 read",
                                cls.t0 + 10 * MS),
                               (cls.crafted, "%016x" % 2, 17, "ERROR", "<b>card</b> declined",
                                cls.t0 + 60 * MS),
                               (cls.crafted, "%016x" % 0x77, 13, "WARN", "of no span here",
                                cls.t0 + 70 * MS))).encode(), capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        for tid, n in ((cls.trace["slow"], 4), (cls.trace["error"], 4), (cls.crafted, 2)):
            wait_for("trace %s in the viewer" % tid, lambda t=tid, n=n: [
                x for x in api(cls.port, "/api/traces?trace_id=" + t)["traces"]
                if x["spanCount"] == n and x["logCount"] == (4 if t == cls.crafted else 0)])
        cls.shown = drive(cls.port, [
            {"goto": "#/"}, {"list": "list"},
            {"screenshot": os.path.join(SHOTS, "list.png")},
            {"goto": "#/trace/" + cls.trace["slow"]}, {"waterfall": "slow"},
            {"goto": "#/trace/" + cls.trace["error"]}, {"waterfall": "error"},
            {"click": cls.span_of("error", "inventory")["spanId"], "detail": "detail"},
            {"screenshot": os.path.join(SHOTS, "trace.png")},
            {"goto": "#/trace/" + cls.crafted}, {"waterfall": "in_flight"},
            {"click": "%016x" % 1, "detail": "checkout_logs"},
            {"click": "%016x" % 2, "detail": "charge_logs"}, {"tracelogs": "loose_logs"},
            {"screenshot": os.path.join(SHOTS, "logs.png")},
            {"goto": "#/trace/" + cls.trace["slow"]},
            {"click": cls.span_of("slow", "inventory")["spanId"], "detail": "no_logs"},
            {"goto": "#/"}, {"filter": {"status": "error"}, "list": "errors"},
            {"goto": "#/"}, {"filter": {"min_ms": "300"}, "list": "slower"},
            {"goto": "#/"}, {"filter": {"service": "inventory"}, "list": "inventory"},
            {"goto": "#/"}, {"filter": {"trace_id": cls.trace["slow"][:12]}, "list": "by_id"},
            {"goto": "#/"}, {"filter": {"max_ms": "250", "status": "ok"}, "list": "short_ok"},
            {"lost": "lost_on_list"},
            {"goto": "#/services"}, {"services": "map"}, {"lost": "lost"},
            {"screenshot": os.path.join(SHOTS, "services.png")},
        ])
        print("\nscreenshots of the viewer: %s/{list,trace,services}.png" % SHOTS)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    @classmethod
    def span_of(cls, case, service, kind=None):
        got = [s for s in cls.spans[case] if s.service == service
               and (kind is None or s["kind"] == kind)]
        assert len(got) == 1 or kind is None and got, got
        return got[0]

    def test_nothing_from_elsewhere_and_no_script_errors(self):
        base = "http://127.0.0.1:%d/" % self.port
        self.assertTrue(self.shown["requests"])
        self.assertEqual([u for u in self.shown["requests"] if not u.startswith(base)], [])
        self.assertEqual([c for c in self.shown["console"]
                          if c.startswith(("error", "pageerror"))], [])

    def test_list(self):
        rows = {r["traceId"]: r for r in self.shown["list"]}
        for case in ("slow", "error"):
            r = rows[self.trace[case]]
            self.assertEqual(r["spans"], 4)
            self.assertIn("shopper", r["root"])
            self.assertEqual(sorted(r["services"]), ["inventory", "nginx", "shopper"])
            self.assertEqual(r["error"], case == "error")
        self.assertGreaterEqual(rows[self.trace["slow"]]["durationMs"], 400)
        self.assertEqual(rows[self.crafted]["spans"], 2)

    def check_waterfall(self, case):
        wf = self.shown[case]
        spans = {s["spanId"]: s for s in self.spans[case]}
        self.assertEqual(wf["traceId"], self.trace[case])
        self.assertEqual(sorted(r["spanId"] for r in wf["rows"]), sorted(spans))
        t0 = min(ns(s, "startTimeUnixNano") for s in spans.values())
        t1 = max(ns(s, "endTimeUnixNano") for s in spans.values())
        self.assertEqual(wf["totalNs"], t1 - t0)
        depth = {}
        for r in wf["rows"]:  # parents come first
            s = spans[r["spanId"]]
            self.assertEqual(r["parentId"], s.get("parentSpanId", ""))
            self.assertEqual(r["service"], s.service)
            self.assertEqual(r["name"], s["name"])
            want = depth[r["parentId"]] + 1 if r["parentId"] in depth else 0
            self.assertEqual(r["depth"], want, r)
            depth[r["spanId"]] = want
            # Bars: as wide as the span is long, where it began, on one time axis.
            track = r["trackWidth"]
            dur = (ns(s, "endTimeUnixNano") - ns(s, "startTimeUnixNano")) / (t1 - t0)
            off = (ns(s, "startTimeUnixNano") - t0) / (t1 - t0)
            self.assertAlmostEqual(r["barWidth"] / track, dur, delta=0.01 + 2 / track)
            self.assertAlmostEqual(r["barLeft"] / track, off, delta=0.01 + 2 / track)
            err = s.get("status", {}).get("code") == 2
            self.assertEqual((r["error"], r["errorMark"], r["barError"]), (err, err, err), r)
            self.assertFalse(r["inFlight"])
        # Nested: curl's client, nginx's server and client, the backend's server.
        self.assertEqual(sorted(depth.values()), [0, 1, 2, 3])
        by_depth = sorted(wf["rows"], key=lambda r: r["depth"])
        self.assertEqual([r["service"] for r in by_depth], ["shopper", "nginx", "nginx", "inventory"])
        self.assertEqual(sorted(r["indent"] for r in by_depth), [r["indent"] for r in by_depth])
        self.assertLess(by_depth[0]["indent"], by_depth[3]["indent"])
        # One colour per service.
        colours = {}
        for r in wf["rows"]:
            self.assertEqual(colours.setdefault(r["service"], r["colour"]), r["colour"])
        self.assertEqual(len(set(colours.values())), 3)
        return by_depth

    def test_waterfall_of_the_slow_request(self):
        rows = self.check_waterfall("slow")
        backend = rows[3]
        self.assertGreater(backend["barWidth"] / backend["trackWidth"], 0.8)  # 400 ms of it
        self.assertFalse(any(r["error"] for r in rows))

    def test_waterfall_of_the_failing_request(self):
        rows = self.check_waterfall("error")
        self.assertTrue(rows[3]["error"])  # the backend's 500

    def test_attributes_and_resource_on_click(self):
        d = self.shown["detail"]
        s = self.span_of("error", "inventory")
        self.assertTrue(d["visible"])
        self.assertEqual(d["name"], s["name"])
        self.assertEqual(d["span"]["service"], "inventory")
        self.assertEqual(d["span"]["span id"], s["spanId"])
        self.assertEqual(d["span"]["status"], "error")
        self.assertEqual(d["span"]["kind"], "server")
        want = {kv["key"]: kv["value"] for kv in s["attributes"]}
        self.assertEqual(sorted(d["attributes"]), sorted(want))
        self.assertEqual(d["attributes"]["http.response.status_code"], "500")
        self.assertEqual(d["attributes"]["url.path"], "/error")
        self.assertEqual(sorted(d["resource"]), sorted(s.res))
        self.assertEqual(d["resource"]["service.name"], "inventory")
        self.assertEqual(d["resource"]["process.pid"], str(self.backend.pid))

    def test_filters(self):
        ids = lambda name: sorted(r["traceId"] for r in self.shown[name])
        slow, err = self.trace["slow"], self.trace["error"]
        self.assertEqual(ids("list"), sorted([slow, err, self.crafted]))
        self.assertEqual(ids("errors"), [err])
        self.assertEqual(ids("slower"), [slow])
        self.assertEqual(ids("inventory"), sorted([slow, err]))
        self.assertEqual(ids("by_id"), [slow])
        self.assertEqual(ids("short_ok"), [self.crafted])

    def test_service_map(self):
        m = self.shown["map"]
        nodes = {n["service"]: n for n in m["nodes"]}
        self.assertEqual(sorted(nodes), ["inventory", "nginx", "payments", "shopper"])
        # A service's requests: the spans it serves or begins a trace with.
        for svc in ("shopper", "nginx", "inventory"):
            asked = [s for c in ("slow", "error") for s in self.spans[c] if s.service == svc
                     and (s["kind"] == 2 or "parentSpanId" not in s)]
            self.assertEqual(len(asked), 2)
            failed = [s for s in asked if s.get("status", {}).get("code") == 2]
            self.assertEqual((nodes[svc]["requests"], nodes[svc]["errors"]), (2, len(failed)))
        self.assertEqual(nodes["inventory"]["errors"], 1)
        inv = [s for c in ("slow", "error") for s in self.spans[c]
               if s.service == "inventory"]
        durs = [(ns(s, "endTimeUnixNano") - ns(s, "startTimeUnixNano")) / MS for s in inv]
        self.assertAlmostEqual(nodes["inventory"]["maxMs"], max(durs), delta=0.002)
        self.assertAlmostEqual(nodes["inventory"]["avgMs"], sum(durs) / 2, delta=0.002)
        self.assertGreaterEqual(nodes["inventory"]["maxMs"], 400)
        edges = {(e["from"], e["to"]): e for e in m["edges"]}
        self.assertEqual(sorted(edges), [("nginx", "inventory"), ("shopper", "nginx")])
        self.assertEqual((edges[("shopper", "nginx")]["calls"], edges[("shopper", "nginx")]["errors"]),
                         (2, 1))
        self.assertEqual((edges[("nginx", "inventory")]["calls"],
                          edges[("nginx", "inventory")]["errors"]), (2, 1))
        self.assertEqual(sorted(g["service"] for g in m["graphNodes"]), sorted(nodes))
        self.assertEqual(sorted((g["from"], g["to"]) for g in m["graphEdges"]), sorted(edges))
        self.assertIn("2 req", [g["text"] for g in m["graphNodes"] if g["service"] == "nginx"][0])

    def test_spans_the_shims_lost(self):
        """A shim's report of lost spans and log records shows on every page
        and, by reason, beside the service map."""
        line = ("9 spans and 4 log records lost before they reached the collector: "
                "payments 9 spans, 4 log records")
        self.assertEqual(self.shown["lost_on_list"]["line"], line)
        self.assertEqual(self.shown["lost"]["line"], line)
        self.assertEqual(sorted(self.shown["lost"]["rows"]),
                         [["payments", "no_collector", "2", "0"],
                          ["payments", "socket_full", "7", "3"],
                          ["payments", "stream_busy", "0", "1"]])
        self.assertEqual(api(self.port, "/api/lost")["lost"], [
            {"service": "payments", "reason": "socket_full", "spans": 7, "records": 3},
            {"service": "payments", "reason": "no_collector", "spans": 2, "records": 0},
            {"service": "payments", "reason": "stream_busy", "spans": 0, "records": 1}])

    def test_in_flight_until_the_whole_span_comes(self):
        wf = self.shown["in_flight"]
        rows = {r["name"]: r for r in wf["rows"]}
        charge = rows["charge card"]
        self.assertTrue(charge["inFlight"])
        self.assertTrue(charge["hatched"])
        self.assertEqual(charge["label"], "in flight")
        self.assertEqual(charge["depth"], 1)
        # Open-ended: from its start to the end of what is known of the trace.
        track = charge["trackWidth"]
        self.assertAlmostEqual(charge["barLeft"] / track, 0.25, delta=0.01 + 2 / track)
        self.assertAlmostEqual((charge["barLeft"] + charge["barWidth"]) / track, 1,
                               delta=0.01 + 2 / track)
        self.assertFalse(rows["checkout"]["inFlight"])

        # The whole span replaces it: 100 ms of the 200.
        send_all(self.col, [batch([span(**self.charge, dur=100 * MS)], b"payments")])
        wait_for("the whole span", lambda: not api(
            self.port, "/api/traces?trace_id=" + self.crafted)["traces"][0]["inFlight"])
        after = drive(self.port, [{"goto": "#/trace/" + self.crafted}, {"waterfall": "wf"}])
        rows = {r["name"]: r for r in after["wf"]["rows"]}
        self.assertEqual(len(after["wf"]["rows"]), 2)
        charge = rows["charge card"]
        self.assertFalse(charge["inFlight"])
        self.assertFalse(charge["hatched"])
        self.assertAlmostEqual(charge["barWidth"] / track, 0.5, delta=0.01 + 2 / track)
        t = api(self.port, "/api/traces?trace_id=" + self.crafted)
        self.assertGreaterEqual(t["counters"]["spans_replaced"], 1)

    def test_log_records_in_their_spans_panel(self):
        rows = {r["name"]: r for r in self.shown["in_flight"]["rows"]}
        self.assertEqual((rows["checkout"]["logCount"], rows["charge card"]["logCount"]), (2, 1))
        d = self.shown["checkout_logs"]
        self.assertTrue(d["visible"])
        self.assertFalse(d["noLogs"])
        self.assertEqual([(l["severity"], l["body"], l["time"], l["service"], l["spanId"])
                          for l in d["logs"]], [
            ("INFO", "order 42 read log.iostream=stderr", "+10.0 ms", "payments", "%016x" % 1),
            ("INFO", "order 42 paid log.iostream=stderr", "+150.0 ms", "payments", "%016x" % 1)])
        c = self.shown["charge_logs"]["logs"]
        self.assertEqual([(l["severity"], l["body"], l["time"]) for l in c],
                         [("ERROR", "<b>card</b> declined log.iostream=stderr", "+10.0 ms")])
        loose = self.shown["loose_logs"]
        self.assertTrue(loose["visible"])
        self.assertEqual([(l["severity"], l["body"], l["time"], l["spanId"]) for l in loose["rows"]],
                         [("WARN", "of no span here log.iostream=stderr", "+70.0 ms",
                           "%016x" % 0x77)])
        none = self.shown["no_logs"]
        self.assertTrue(none["noLogs"])
        self.assertEqual(none["logs"], [])
        t = api(self.port, "/api/trace?id=" + self.crafted)
        self.assertEqual(t["summary"]["logCount"], 4)
        self.assertEqual(sorted(l["record"]["body"]["stringValue"] for l in t["logs"]),
                         ["<b>card</b> declined", "of no span here", "order 42 paid",
                          "order 42 read"])

    def test_counters_on_metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics, timeout=10) as r:
            text = r.read().decode()
        held = api(self.port, "/api/traces")["held"]
        self.assertIn("\nspanshim_collector_view_traces %d\n" % held["traces"], text)
        self.assertIn("\nspanshim_collector_view_spans %d\n" % held["spans"], text)
        self.assertRegex(text, r"\nspanshim_collector_view_spans_kept_total (1[0-9]|[2-9][0-9])\n")
        self.assertIn("\nspanshim_collector_view_traces_evicted_total 0\n", text)

    def test_api_refusals(self):
        self.assertEqual(api_error(self.port, "/api/traces?status=maybe")[0], 400)
        self.assertEqual(api_error(self.port, "/api/traces?min_ms=abc")[0], 400)
        self.assertEqual(api_error(self.port, "/api/traces?limit=0")[0], 400)
        self.assertEqual(api_error(self.port, "/api/trace?id=zz")[0], 400)
        self.assertEqual(api_error(self.port, "/api/trace?id=" + "ab" * 16)[0], 404)
        self.assertEqual(api_error(self.port, "/api/traces", method="POST")[0], 405)
        self.assertEqual(api_error(self.port, "/nothing")[0], 404)
        # A name that is not this server's (DNS rebinding): refused; an address is fine.
        self.assertEqual(api_error(self.port, "/api/traces", host="evil.example")[0], 403)
        self.assertIn("traces", api(self.port, "/api/traces", host="localhost:%d" % self.port))
        self.assertEqual(api(self.port, "/api/trace?id=" + self.trace["slow"].upper())
                         ["summary"]["traceId"], self.trace["slow"])


class RunWithViewer(unittest.TestCase):
    def test_spanshim_run_ui(self):
        port = free_port()
        closed = free_port()
        p = subprocess.Popen([SPANSHIM, "run", "--ui", "127.0.0.1:%d" % port, "--jsonl",
                              os.path.join(SHOTS, "run.jsonl"), "--", "curl", "-s",
                              "http://127.0.0.1:%d/" % closed],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_port(port, p)
            got = wait_for("curl's span in the viewer", lambda: [
                t for t in api(port, "/api/traces")["traces"]
                if t["rootService"] == "unknown_service:curl"])
            self.assertEqual(got[0]["spanCount"], 1)
            # curl has ended; the viewer stays up until SIGINT.
            line = b""
            while b"stays up until Ctrl-C" not in line:
                line = p.stderr.readline()
                self.assertNotEqual(line, b"", "spanshim run said nothing of the viewer")
            self.assertIsNone(p.poll())
            self.assertEqual(len(api(port, "/api/traces")["traces"]), 1)
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=30), 7)  # curl's: could not connect
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        self.assertIn("the viewer kept 1 spans", err)


class RunWithViewerPortTaken(unittest.TestCase):
    def test_spanshim_run_ui_on_a_taken_port(self):
        """--ui's port already taken: the collector never shows a socket
        (it binds the socket after its sinks start), so spanshim run says so,
        runs CMD untraced and returns its status, with no viewer to wait for."""
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            r = subprocess.run([SPANSHIM, "run", "--ui", "127.0.0.1:%d" % busy.getsockname()[1],
                                "--", "sh", "-c", "exit 3"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b"could not start a collector; running untraced", r.stderr)


class ViewFile(unittest.TestCase):
    def test_spanshim_view_opens_a_saved_file(self):
        """spanshim view FILE: the file's traces, as a live collector would
        hold them, until SIGINT; a line that is not OTLP is counted and
        skipped, not the end of the file."""
        col = Collector()
        try:
            r = col.run(["curl", "-sS", "-o", "/dev/null", "http://127.0.0.1:%d/" % free_port()],
                        service="saved")
            self.assertEqual(r.returncode, 7)
            spans = col.wait_spans(1)
        finally:
            col.stop()
        saved = os.path.join(col.dir, "saved.jsonl")
        with open(col.jsonl) as f, open(saved, "w") as out:
            lines = f.read().splitlines()
            out.write(lines[0] + "\nnot json at all\n" + "\n".join(lines[1:]) + "\n")
        port = free_port()
        p = subprocess.Popen([SPANSHIM, "view", "--ui", "127.0.0.1:%d" % port, saved],
                             stderr=subprocess.PIPE)
        try:
            wait_port(port, p)
            got = wait_for("the saved trace in the viewer", lambda: api(
                port, "/api/traces?trace_id=" + spans[0]["traceId"])["traces"])
            self.assertEqual(got[0]["rootService"], "saved")
            self.assertEqual(got[0]["spanCount"], len([s for s in spans
                                                       if s["traceId"] == spans[0]["traceId"]]))
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=30), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = p.stderr.read().decode()
        p.stderr.close()
        self.assertIn("trace viewer at http://127.0.0.1:%d/" % port, err)
        self.assertIn("line 2 is not an OTLP/JSON trace or logs request", err)
        # Its terminal gone (SIGHUP): the collector stops with it, port and all.
        p = subprocess.Popen([SPANSHIM, "view", "--ui", "127.0.0.1:%d" % port, saved],
                             stderr=subprocess.DEVNULL)
        try:
            wait_port(port, p)
            p.send_signal(signal.SIGHUP)
            self.assertEqual(p.wait(timeout=30), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        with socket.socket() as s:
            self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)


    def test_spanshim_view_a_traces_and_a_logs_file(self):
        """spanshim view TRACES LOGS: the log records saved by --logs-jsonl in
        their trace and span, as the live viewer shows them."""
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        col = Collector(extra=("--logs-jsonl", os.path.join(d, "logs.jsonl")))
        try:
            t0 = time.time_ns() - 1000 * MS
            send_all(col, [batch([span(CRAFTED_TRACE, 1, b"checkout", start=t0, dur=200 * MS)],
                                 b"payments")])
            r = subprocess.run([os.path.join(BUILD, "tests", "logsend"), col.sock, "payments"],
                               input=("%032x\t%016x\t9\tINFO\torder 7 paid\t%d\n" % (
                                   CRAFTED_TRACE, 1, t0 + 150 * MS)).encode(),
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            col.wait_spans(1)
            wait_for("the record in the logs file",
                     lambda: os.path.exists(os.path.join(d, "logs.jsonl")) and
                     os.path.getsize(os.path.join(d, "logs.jsonl")))
        finally:
            col.stop()
        port = free_port()
        p = subprocess.Popen([SPANSHIM, "view", "--ui", "127.0.0.1:%d" % port, col.jsonl,
                              os.path.join(d, "logs.jsonl")], stderr=subprocess.DEVNULL)
        try:
            wait_port(port, p)
            tid = "%032x" % CRAFTED_TRACE
            t = wait_for("the saved trace with its record", lambda: (lambda t: t if t.get(
                "logs") else None)(api(port, "/api/trace?id=" + tid)))
            self.assertEqual(t["summary"]["logCount"], 1)
            self.assertEqual([(l["record"]["body"]["stringValue"], l["record"]["spanId"])
                              for l in t["logs"]], [("order 7 paid", "%016x" % 1)])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=30), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


class ViewerUrl(unittest.TestCase):
    def test_url_printed_for_a_free_port(self):
        col = Collector(extra=("--ui", "127.0.0.1:0"))
        try:
            line = col.proc.stderr.readline().decode()
            self.assertRegex(line, r"^spanshim-collector: trace viewer at http://127\.0\.0\.1:\d+/$")
            port = int(line.rsplit(":", 1)[1].strip("/\n"))
            self.assertIn("traces", api(port, "/api/traces"))
        finally:
            col.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
