"""Requests that never end: a plain C service (hungprobe) whose handler asks
a backend that accepts and never answers. With SPANSHIM_INFLIGHT_MS=300 the
collector soon holds the request's SERVER span and the CLIENT span to the
backend as in flight (spanshim.span.in_flight=true, their end the time they
were seen), reported again while they stay open; once the backend answers,
the whole spans come with the same ids and replace them: the viewer's API
shows one span per id, none in flight, the span metrics count one call
each, and the .jsonl holds every record (the last one of an id is the
span). A service that exits or execs with the request open ends its spans
with status ERROR and error.type process_exit / process_exec."""
import json
import os
import socket
import threading
import time
import unittest
import urllib.request

from harness import BUILD, Collector, free_port, wait_port

PROBE = os.path.join(BUILD, "tests", "hungprobe")
WAIT = 30  # a bound on waiting, never a timing assertion
SERVER, CLIENT = 2, 3  # OTLP JSON span kinds


def api(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.read()


class Backend:
    """Accepts, reads the request, and answers only when released."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.requests = threading.Semaphore(0)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                got = c.recv(4096)
                if not got:
                    break
                data += got
            self.conns.append(c)
            self.requests.release()

    def release(self):
        for c in self.conns:
            try:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                c.close()
            except OSError:
                pass
        self.conns = []

    def close(self):
        self.release()
        self.lsock.close()


def ask(port, out):
    """A client (untraced: this test's process) of the service."""
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT * 2)
    s.sendall(b"GET /hang HTTP/1.1\r\nHost: stuck\r\n\r\n")
    data = b""
    while True:
        got = s.recv(4096)
        if not got:
            break
        data += got
    s.close()
    out.append(data)


def start_probe(col, backend, mode, service, **env):
    port_file = os.path.join(col.dir, "%s.port" % service)
    p = col.start([PROBE, port_file, str(backend.port), mode], service=service, **env)
    deadline = time.time() + 15
    while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
        if time.time() > deadline or p.poll() is not None:
            raise RuntimeError("hungprobe did not start")
        time.sleep(0.02)
    with open(port_file) as f:
        return p, int(f.read())


def wait_for(what, fn, timeout=WAIT):
    deadline = time.time() + timeout
    while True:
        got = fn()
        if got or time.time() > deadline:
            if not got:
                raise AssertionError("never came: " + what)
            return got
        time.sleep(0.05)


def kinds(spans):
    return {s["kind"]: s for s in spans}


class HungBackend(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ui, cls.metrics = free_port(), free_port()
        cls.col = Collector(extra=("--ui", "127.0.0.1:%d" % cls.ui,
                                   "--metrics-listen", "127.0.0.1:%d" % cls.metrics))
        wait_port(cls.ui, cls.col.proc)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def test_in_flight_then_whole(self):
        backend = Backend()
        self.addCleanup(backend.close)
        probe, port = start_probe(self.col, backend, "wait", "stuck", SPANSHIM_INFLIGHT_MS="300")
        answer = []
        client = threading.Thread(target=ask, args=(port, answer), daemon=True)
        client.start()
        self.assertTrue(backend.requests.acquire(timeout=WAIT), "the backend was never asked")

        def in_flight():
            return [s for s in self.col.spans()
                    if s.service == "stuck" and s.attrs.get("spanshim.span.in_flight") is True]

        # Both spans in flight, one trace, the CLIENT span the SERVER span's child.
        early = wait_for("in-flight SERVER and CLIENT spans",
                         lambda: len(kinds(in_flight())) == 2 and kinds(in_flight()))
        server, client_span = early[SERVER], early[CLIENT]
        self.assertEqual(server["traceId"], client_span["traceId"])
        self.assertEqual(client_span["parentSpanId"], server["spanId"])
        for s in (server, client_span):
            self.assertNotIn("code", s.get("status", {}))  # open is no error
            self.assertGreaterEqual(int(s["endTimeUnixNano"]), int(s["startTimeUnixNano"]))
        self.assertEqual(server.attrs.get("url.path"), "/hang")
        trace = server["traceId"]
        ids = {server["spanId"], client_span["spanId"]}

        # The viewer shows the trace with both in flight.
        t = json.loads(api(self.ui, "/api/trace?id=" + trace))
        self.assertTrue(t["summary"]["inFlight"])
        self.assertEqual(t["summary"]["inFlightCount"], 2)

        # Reported again while still open: a later end, the same start.
        again = wait_for("a second report of the SERVER span", lambda: [
            s for s in in_flight() if s["spanId"] == server["spanId"]
            and int(s["endTimeUnixNano"]) > int(server["endTimeUnixNano"])])
        self.assertEqual(again[0]["startTimeUnixNano"], server["startTimeUnixNano"])
        reports = len(in_flight())

        backend.release()
        client.join(WAIT)
        self.assertTrue(answer and answer[0].startswith(b"HTTP/1.1 200"), answer)

        def whole():
            return [s for s in self.col.spans() if s["traceId"] == trace and
                    "spanshim.span.in_flight" not in s.attrs]

        done = wait_for("the whole spans", lambda: len(whole()) == 2 and whole())
        self.assertEqual({s["spanId"] for s in done}, ids)
        for s in done:
            self.assertNotIn("code", s.get("status", {}))
        self.assertEqual(kinds(done)[CLIENT].attrs.get("http.response.status_code"),
                         200)
        # The file keeps every record, the whole span last for its id.
        last = {}
        for s in self.col.spans():
            if s["traceId"] == trace:
                last[s["spanId"]] = s
        self.assertEqual(set(last), ids)
        self.assertTrue(all("spanshim.span.in_flight" not in s.attrs for s in last.values()))

        # The viewer: one span per id, none in flight.
        t = wait_for("the viewer's whole spans", lambda: (lambda t: not t["summary"]["inFlight"]
                     and t)(json.loads(api(self.ui, "/api/trace?id=" + trace))))
        spans = [sp for req in t["spans"] for rs in req["resourceSpans"]
                 for ss in rs["scopeSpans"] for sp in ss["spans"]]
        self.assertEqual(sorted(sp["spanId"] for sp in spans), sorted(ids))
        self.assertTrue(all(not any(kv["key"] == "spanshim.span.in_flight"
                                    for kv in sp.get("attributes", [])) for sp in spans))
        self.assertEqual(t["summary"]["spanCount"], 2)
        self.assertEqual(t["summary"]["inFlightCount"], 0)

        # The span metrics: one call each, the reports counted on their own.
        text = api(self.metrics, "/metrics").decode()
        calls = [line for line in text.splitlines()
                 if line.startswith("traces_span_metrics_calls_total{")
                 and 'service_name="stuck"' in line]
        self.assertEqual(sorted(line.rsplit(" ", 1)[1] for line in calls), ["1", "1"], calls)
        flights = [line for line in text.splitlines()
                   if line.startswith("spanshim_collector_metric_in_flight_reports_total ")]
        self.assertGreaterEqual(int(flights[0].split()[1]), reports)
        probe.terminate()
        probe.wait(10)

        # The saved file read back (spanshim view, --replay): the last record of each id.
        port = free_port()
        again = Collector(extra=("--replay", self.col.jsonl, "--ui", "127.0.0.1:%d" % port))
        self.addCleanup(again.stop)
        wait_port(port, again.proc)
        # The file is read as it comes: the reports of the two ids come first,
        # so the trace is whole only once their last records are read too.
        t = wait_for("the replayed trace, whole", lambda: (
            lambda r: r and r[0]["spanCount"] == 2 and not r[0]["inFlight"] and r)(
            json.loads(api(port, "/api/traces?trace_id=" + trace))["traces"]))
        self.assertEqual(t[0]["inFlightCount"], 0)

    def _ends_open(self, mode, service, why):
        backend = Backend()
        self.addCleanup(backend.close)
        # The first report would come long after: what comes is the end.
        probe, port = start_probe(self.col, backend, mode, service, SPANSHIM_INFLIGHT_MS="60000")
        answer = []
        threading.Thread(target=ask, args=(port, answer), daemon=True).start()
        self.assertTrue(backend.requests.acquire(timeout=WAIT), "the backend was never asked")
        probe.wait(WAIT)
        def requests():  # an exec'd image's process span aside (test_exec)
            return [s for s in self.col.spans() if s.service == service and
                    s["kind"] in (SERVER, CLIENT)]
        got = wait_for("the ended spans", lambda: len(kinds(requests())) == 2 and requests())
        self.assertEqual(len(got), 2, got)  # each once: no report, no second end
        server, client_span = kinds(got)[SERVER], kinds(got)[CLIENT]
        self.assertEqual(client_span["parentSpanId"], server["spanId"])
        for s in (server, client_span):
            self.assertEqual(s.get("status", {}).get("code"), 2)  # ERROR
            self.assertEqual(s.attrs.get("error.type"), why)
            self.assertNotIn("spanshim.span.in_flight", s.attrs)
            self.assertGreaterEqual(int(s["endTimeUnixNano"]), int(s["startTimeUnixNano"]))
        if mode == "exec":  # the next image continues the request's trace
            image = wait_for("the next image's span", lambda: [
                s for s in self.col.spans() if s.service == service and s["name"] == "true"])
            self.assertEqual(image[0]["parentSpanId"], server["spanId"])

    def test_exit_with_a_request_open(self):
        self._ends_open("exit", "exiting", "process_exit")

    def test__exit_with_a_request_open(self):
        self._ends_open("_exit", "exiting-now", "process_exit")

    def test_exec_with_a_request_open(self):
        self._ends_open("exec", "execing", "process_exec")


class ForwardInFlight(unittest.TestCase):
    """Forwarding sends whole spans only, unless --otlp-forward-in-flight:
    a batch holding a report is decoded and sent without it, whether or not
    another sink decodes; with the option it goes on as it came."""

    def test_reports_stay_unless_asked(self):
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from crafted import batch, send_all, span

        bodies = []

        class Keep(BaseHTTPRequestHandler):
            def do_POST(self):
                bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        srv = HTTPServer(("127.0.0.1", 0), Keep)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.shutdown)
        report = span(0xfeed, 1, b"still open", attrs=[("spanshim.span.in_flight", True)])
        other = span(0xfeed, 2, b"done already", parent=1, kind=3)
        whole = span(0xfeed, 1, b"now whole", dur=9000)
        first, second = batch([report, other], b"svc"), batch([whole], b"svc")
        for extra, forwarded in (((), False), (("--print",), False),
                                 (("--otlp-forward-in-flight",), True)):
            del bodies[:]
            col = Collector(extra=("--otlp-endpoint", "http://127.0.0.1:%d" %
                                   srv.server_address[1]) + extra)
            try:
                send_all(col, [first, second])
                self.assertEqual(len(col.wait_spans(3)), 3)  # the file has every record
            finally:
                col.stop()
            got = b"".join(bodies)
            self.assertIn(b"done already", got, extra)
            self.assertIn(b"now whole", got, extra)
            self.assertEqual(b"still open" in got, forwarded, extra)
            self.assertEqual(b"spanshim.span.in_flight" in got, forwarded, extra)
            if forwarded:
                self.assertIn(first, got)  # as it came: the wire's own bytes


if __name__ == "__main__":
    unittest.main()
