"""The collector's OTLP/HTTP receiver (--otlp-listen), posted to with curl:
protobuf and JSON, gzip, on TCP and on a Unix socket (owner-only); every
answer the OTLP specification names (200 with an ExportTraceServiceResponse,
partial_success for spans with bad ids, 400 with a google.rpc.Status, 404,
405, 413 for bodies too large received, inflated or sent in chunks, 415,
503 with Retry-After when the queue cannot take the request), each in the
request's content type; the spans accepted reach the .jsonl file, --print
and the span metrics like a shim's, and /metrics counts requests and
refusals by reason."""
import gzip
import json
import os
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from crafted import batch, pb_len, span
from harness import COLLECTOR, Collector, free_port, wait_port
from test_metrics import parse, scrape

PB = "application/x-protobuf"
JS = "application/json"
TRACE = 0x5B8EFFF798038103D269B633813FC60C


def post(col, body, ctype=PB, path="/v1/traces", unix=None, headers=(), method="POST"):
    """(status, {header: value}, body) of one request made with curl."""
    bodyfile = os.path.join(col.dir, "body.bin")
    with open(bodyfile, "wb") as f:
        f.write(body)
    argv = ["curl", "-sS", "-o", "-", "-D", os.path.join(col.dir, "head.txt"), "-X", method]
    if method == "POST":
        argv += ["--data-binary", "@" + bodyfile]
    if ctype:
        argv += ["-H", "Content-Type: " + ctype]
    for h in headers:
        argv += ["-H", h]
    if unix:
        argv += ["--unix-socket", unix, "http://localhost" + path]
    else:
        argv += ["http://127.0.0.1:%d%s" % (col.otlp_port, path)]
    r = subprocess.run(argv, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(col.dir, "head.txt"), newline="") as f:
        blocks = f.read().strip().split("\r\n\r\n")
    lines = blocks[-1].split("\r\n")  # after any 100 Continue
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), hdrs, r.stdout


def pb_fields(data):
    """{field: [values]} of a protobuf message: varints and length-delimited."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        if key & 7 == 0:
            v, i = read_varint(data, i)
        else:
            assert key & 7 == 2, key
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        out.setdefault(key >> 3, []).append(v)
    return out


def read_varint(data, i):
    v, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return v, i


def json_span(sid, name, trace="%032X" % TRACE, parent=""):
    return {"traceId": trace, "spanId": sid, "parentSpanId": parent, "name": name, "kind": 2,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": 1700000000005000000,
            "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}}]}


def json_request(spans, service="sdk-json"):
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]}).encode()


class OtlpHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metrics = free_port()
        port = free_port()
        cls.unix_dir = tempfile.mkdtemp(prefix="spanshim-test.")
        unix = os.path.join(cls.unix_dir, "otlp.sock")
        cls.col = Collector(extra=["--otlp-listen", "127.0.0.1:%d" % port, "--otlp-listen",
                                   "unix:" + unix, "--otlp-max-mb", "1", "--metrics-listen",
                                   "127.0.0.1:%d" % cls.metrics, "--print"])
        cls.col.otlp_port = port
        cls.col.unix = unix
        wait_port(port, cls.col.proc)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()
        os.rmdir(cls.unix_dir)  # the socket was removed at exit

    def spans_named(self, name, n=1):
        return self.col.wait_spans(n, pred=lambda s: s["name"] == name)

    def test_protobuf(self):
        body = batch([span(TRACE, 0x1111, b"pb-root"), span(TRACE, 0x2222, b"pb-child", 0x1111)],
                     b"sdk-pb")
        code, h, resp = post(self.col, body)
        self.assertEqual((code, h["content-type"], resp), (200, PB, b""))  # no partial_success
        got = self.spans_named("pb-child")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].service, "sdk-pb")
        self.assertEqual((got[0]["traceId"], got[0]["parentSpanId"]),
                         ("%032x" % TRACE, "0000000000001111"))
        # an empty request is a success, as the specification says
        self.assertEqual(post(self.col, b"")[:3:2], (200, b""))
        self.assertEqual(post(self.col, b"{}", JS)[:3:2], (200, b"{}"))

    def test_json(self):
        code, h, resp = post(self.col, json_request([
            json_span("00000000000000AA", "json-root"),
            json_span("00000000000000bb", "json-child", parent="00000000000000aa")]), JS)
        self.assertEqual((code, h["content-type"], json.loads(resp)), (200, JS, {}))
        got = self.spans_named("json-child")
        self.assertEqual(len(got), 1)
        s = got[0]
        self.assertEqual((s.service, s["traceId"], s["spanId"], s["parentSpanId"], s["kind"]),
                         ("sdk-json", "%032x" % TRACE, "00000000000000bb", "00000000000000aa", 2))
        self.assertEqual((s["startTimeUnixNano"], s["endTimeUnixNano"]),
                         ("1700000000000000000", "1700000000005000000"))
        self.assertEqual(s.attrs["http.request.method"], "GET")

    def test_gzip(self):
        code, _, resp = post(self.col, gzip.compress(batch([span(TRACE, 0x3333, b"gz-pb")],
                                                           b"gz")),
                             headers=["Content-Encoding: gzip"])
        self.assertEqual((code, resp), (200, b""))
        code, _, resp = post(self.col, gzip.compress(json_request([
            json_span("0000000000003334", "gz-json")])), JS, headers=["Content-Encoding: gzip"])
        self.assertEqual((code, resp), (200, b"{}"))
        self.assertEqual(len(self.spans_named("gz-pb")), 1)
        self.assertEqual(len(self.spans_named("gz-json")), 1)
        code, _, resp = post(self.col, b"not gzip at all", headers=["Content-Encoding: gzip"])
        self.assertEqual(code, 400)
        self.assertIn(b"not gzip", pb_fields(resp)[2][0])

    def test_partial_success(self):
        body = batch([span(TRACE, 0x4444, b"kept"),
                      pb_len(1, b"\x01" * 15) + pb_len(2, b"\x02" * 8) + pb_len(5, b"short-trace"),
                      span(TRACE, 0, b"zero-span-id")], b"partial")
        code, _, resp = post(self.col, body)
        self.assertEqual(code, 200)
        ps = pb_fields(pb_fields(resp)[1][0])
        self.assertEqual(ps[1], [2])  # rejected_spans
        self.assertIn(b"trace_id of 16 bytes", ps[2][0])
        code, _, resp = post(self.col, json_request([
            json_span("0000000000004445", "kept-json"),
            json_span("0000000000004446", "bad-json", trace="00ff")]), JS)
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(resp)["partialSuccess"]["rejectedSpans"], "1")
        self.assertEqual(len(self.spans_named("kept")), 1)
        self.assertEqual(len(self.spans_named("kept-json")), 1)
        self.col.fence()
        self.assertEqual([s for s in self.col.spans()
                          if s["name"] in ("short-trace", "zero-span-id", "bad-json")], [])

    def test_bad_bodies(self):
        code, h, resp = post(self.col, b"\xff\xff\xff\xff")
        self.assertEqual((code, h["content-type"]), (400, PB))
        st = pb_fields(resp)
        self.assertEqual(st[1], [3])  # INVALID_ARGUMENT
        self.assertIn(b"is not an OTLP ExportTraceServiceRequest", st[2][0])
        code, h, resp = post(self.col, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{'
                                       b'"traceId":"xyz"}]}]}]}', JS + "; charset=utf-8")
        self.assertEqual((code, h["content-type"]), (400, JS))
        self.assertIn("traceId: not a hex string", json.loads(resp)["message"])
        code, _, resp = post(self.col, b'{"resourceSpans":', JS)
        self.assertEqual(code, 400)
        self.assertIn("ends early", json.loads(resp)["message"])

    def test_wrong_type_method_path(self):
        code, _, resp = post(self.col, b"{}", "text/plain")
        self.assertEqual(code, 415)
        self.assertIn(b"application/x-protobuf or application/json", resp)
        code, _, _ = post(self.col, b"", PB, headers=["Content-Encoding: br"])
        self.assertEqual(code, 415)
        code, h, _ = post(self.col, b"", None, method="GET")
        self.assertEqual((code, h.get("allow")), (405, "POST"))
        code, h, resp = post(self.col, b"{}", JS, path="/v1/metrics")  # (logs: test_logs)
        self.assertEqual((code, h["content-type"]), (404, JS))
        self.assertIn("/v1/traces", json.loads(resp)["message"])
        self.assertIn("/v1/logs", json.loads(resp)["message"])

    def test_too_large(self):
        big = batch([span(TRACE, 0x5555, b"x" * (1 << 20))])
        code, h, resp = post(self.col, big)
        self.assertEqual((code, h["content-type"]), (413, PB))
        self.assertIn(b"over 1 MiB", pb_fields(resp)[2][0])
        # the same in chunks, with no length said first
        code, _, _ = post(self.col, big, headers=["Transfer-Encoding: chunked"])
        self.assertEqual(code, 413)
        # small received, too large inflated: a gzip bomb
        bomb = gzip.compress(json_request([json_span("0000000000005556", " " * (4 << 20))]))
        self.assertLess(len(bomb), 1 << 20)
        code, _, resp = post(self.col, bomb, JS, headers=["Content-Encoding: gzip"])
        self.assertEqual(code, 413)
        self.assertIn("inflates to more than 1 MiB", json.loads(resp)["message"])

    def test_bodies_held_at_once_are_bounded(self):
        """Many clients sending bodies of the cap at once cannot make the
        collector hold more than four caps' worth: past it a request is
        read and dropped and answered 503 with Retry-After, and the held
        ones are answered as usual."""
        held = []
        chunk = b"\x00" * (1 << 16)
        for _ in range(4):  # each 64 KiB short of the cap (1 MiB), kept open: 3.75 MiB
            c = socket.create_connection(("127.0.0.1", self.col.otlp_port))
            c.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                      b"Content-Length: %d\r\n\r\n" % (PB.encode(), 1 << 20))
            for _ in range(15):
                c.sendall(chunk)
            held.append(c)
        deadline = time.time() + 30
        while True:  # until the collector has read them: 300 KB more is refused
            code, h, _ = post(self.col, batch([span(TRACE, 0x7777, b"x" * 300000)]))
            if code == 503 or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((code, h.get("retry-after")), (503, "1"))
        for c in held:  # the rest of each: a body that is not OTLP, answered 400, not 503
            c.sendall(chunk)
            self.assertIn(b" 400 ", c.recv(4096).split(b"\r\n")[0] + b" ")
            c.close()
        code, _, _ = post(self.col, batch([span(TRACE, 0x7778, b"room again")]))
        self.assertEqual(code, 200)

    def test_a_body_that_trickles_is_cut_off(self):
        """A client sending a byte every 2 s (never idle for libmicrohttpd's
        10 s) cannot hold its part of the bodies' budget for ever: at 30 s
        the connection is closed and counted; the collector serves on."""
        before = parse(scrape(self.metrics)[1]).get(
            ("spanshim_collector_otlp_http_refused_total", frozenset({("reason", "too_slow")})), 0)
        c = socket.create_connection(("127.0.0.1", self.col.otlp_port))
        c.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                  b"Content-Length: 1000\r\n\r\n" % PB.encode())
        start, closed = time.time(), False
        while time.time() - start < 60 and not closed:
            try:
                c.sendall(b"\x00")
                c.settimeout(2)
                closed = c.recv(4096) == b""
            except socket.timeout:
                pass
            except OSError:
                closed = True
        c.close()
        self.assertTrue(closed, "the trickling body was never cut off")
        self.assertGreaterEqual(time.time() - start, 29)
        m = parse(scrape(self.metrics)[1])
        self.assertEqual(m[("spanshim_collector_otlp_http_refused_total",
                            frozenset({("reason", "too_slow")}))], before + 1)
        code, _, _ = post(self.col, batch([span(TRACE, 0x7779, b"after the trickle")]))
        self.assertEqual(code, 200)

    def test_unix_socket(self):
        st = os.stat(self.col.unix)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        # owner-only; as root the harness gives --socket-group nogroup, as to the datagrams'
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid),
                         (0o660 if os.getuid() == 0 else 0o600, os.getuid()))
        code, _, resp = post(self.col, json_request([json_span("0000000000007777", "via-unix")],
                                                    "sdk-unix"), JS, unix=self.col.unix)
        self.assertEqual((code, resp), (200, b"{}"))
        self.assertEqual(self.spans_named("via-unix")[0].service, "sdk-unix")

    def test_no_shim_loss_from_outside(self):
        """A client of the port cannot report what the shims lost: the
        attributes are taken out and counted, the spans kept."""
        body = json.loads(json_request([json_span("000000000000b001", "loss-faker")], "faker"))
        body["resourceSpans"][0]["resource"]["attributes"] += [
            {"key": "spanshim.spans_dropped.socket_full", "value": {"intValue": "5"}},
            {"key": "spanshim.loss.instance", "value": {"stringValue": "1-2"}}]
        code, _, _ = post(self.col, json.dumps(body).encode(), JS)
        self.assertEqual(code, 200)
        got = self.spans_named("loss-faker")
        self.assertEqual(len(got), 1)
        self.assertEqual(sorted(got[0].res), ["service.name"])
        m = parse(scrape(self.metrics)[1])
        self.assertEqual(m[("spanshim_collector_otlp_http_loss_attributes_ignored_total",
                            frozenset())], 2)
        self.assertEqual([k for k in m if k[0] == "spanshim_shim_spans_dropped_total" and
                          ("service_name", "faker") in k[1]], [])

    def test_zz_counted_and_through_every_sink(self):
        post(self.col, json_request([json_span("0000000000008888", "counted")], "sdk-metrics"), JS)
        self.assertEqual(len(self.spans_named("counted")), 1)
        code, text = scrape(self.metrics)
        m = parse(text)
        self.assertGreater(m[("spanshim_collector_otlp_http_spans_total", frozenset())], 0)
        for reason in ("bad_request", "too_large", "media_type", "method", "not_found"):
            self.assertGreater(m[("spanshim_collector_otlp_http_refused_total",
                                  frozenset({("reason", reason)}))], 0, reason)
        self.assertGreater(m[("spanshim_collector_otlp_http_requests_total",
                              frozenset({("encoding", "json")}))], 0)
        # the span metrics count SDK spans as a shim's
        self.assertTrue([k for k in m if k[0] == "traces_span_metrics_calls_total" and
                         ("service_name", "sdk-metrics") in k[1]], text)
        self.assertEqual(self.col.stop(), 0)
        self.assertIn("counted", self.col.stdout)  # --print drew it
        self.assertRegex(self.col.stderr, r"spans in \d+ datagrams and \d+ OTLP/HTTP requests")


class OwnCollector(unittest.TestCase):
    def test_queue_full(self):
        port = free_port()
        col = Collector(extra=["--otlp-listen", "127.0.0.1:%d" % port, "--queue-mb", "1",
                               "--otlp-max-mb", "4"])
        col.otlp_port = port
        wait_port(port, col.proc)
        # under the body cap, more than the queue can hold: refused, to retry
        attrs = [("k%d" % i, "v" * 60000) for i in range(25)]
        code, h, resp = post(col, batch([span(TRACE, 0x6666, b"behind", attrs=attrs)]))
        self.assertEqual((code, h.get("retry-after")), (503, "1"))
        self.assertIn(b"behind", pb_fields(resp)[2][0])
        code, _, _ = post(col, batch([span(TRACE, 0x6667, b"fits")]))
        self.assertEqual(code, 200)
        self.assertEqual(len(col.wait_spans(1, pred=lambda s: s["name"] == "fits")), 1)
        self.assertEqual(col.stop(), 0)
        self.assertIn("1 OTLP/HTTP requests refused behind", col.stderr)

    def test_tail_sampled_and_forwarded_to_another_collector(self):
        """SDK spans go through tail sampling and forwarding as a shim's do,
        here to a second spanshim-collector's --otlp-listen on a Unix socket."""
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        path = os.path.join(d, "otlp.sock")
        hub = Collector(extra=["--otlp-listen", "unix:" + path])
        port = free_port()
        col = Collector(extra=["--otlp-listen", "127.0.0.1:%d" % port, "--tail-sampling",
                               "--tail-wait", "300", "--tail-ratio", "0",
                               "--otlp-unix-socket", path, "--otlp-endpoint", "http://localhost"])
        col.otlp_port = port
        wait_port(port, col.proc)
        ok = json_span("000000000000a001", "fast-ok", trace="%032x" % (TRACE + 1))
        failed = dict(json_span("000000000000a002", "failed"), status={"code": 2})
        self.assertEqual(post(col, json_request([ok]), JS)[0], 200)
        time.sleep(0.5)  # the first trace is decided (dropped) before the second comes
        self.assertEqual(post(col, json_request([failed]), JS)[0], 200)
        got = hub.wait_spans(1, timeout=30, pred=lambda s: s["name"] == "failed")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["status"]["code"], 2)
        self.assertEqual(got[0].service, "sdk-json")
        self.assertEqual([s["name"] for s in hub.spans()], ["failed"])
        self.assertEqual(col.stop(), 0)
        self.assertEqual(hub.stop(), 0)
        os.rmdir(d)

    def test_unix_socket_cannot_bind(self):
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        r = subprocess.run([COLLECTOR, "--socket", os.path.join(d, "c.sock"), "--otlp-listen",
                            "unix:" + os.path.join(d, "no", "x.sock")],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"x.sock", r.stderr)
        self.assertEqual(os.listdir(d), [])  # the datagram socket is not left behind
        os.rmdir(d)

    def test_bad_options(self):
        for argv in (["--otlp-listen", "4318"], ["--otlp-listen", "unix:"],
                     ["--otlp-max-mb", "0"], ["--otlp-max-mb", "x"]):
            r = subprocess.run([COLLECTOR, *argv], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn(argv[0].encode(), r.stderr)


if __name__ == "__main__":
    unittest.main()
