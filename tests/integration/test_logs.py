"""Log records through the collector: logs datagrams made as the shim makes
them (tests/integration/logsend.c: the shim's own encoder, ex_otlp_log,
and envelope, after the frame EX_FRAME_LOGS) on the collector's socket,
and OTLP/HTTP POST /v1/logs. Each request is one OTLP JSON line of
--logs-jsonl (ids hex, times as strings, severityNumber an integer, the
body and attributes as AnyValues), SIGHUP reopens the file, a full disk
leaves only whole lines and counts the rest; what does not
decode (garbage, nesting past the bound) is counted and logged, a few
lines a second, never the end of the collector; /v1/logs has /v1/traces'
answers and limits; --print draws each record under its span; forwarding
sends them to the endpoint's /v1/logs, retried as spans are, where the
OpenTelemetry JavaScript SDK's own generated decoder (otlp-transformer
0.214.0, tests/integration/otlp) reads what the shim's encoder and the
collector wrote, field for field."""
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from crafted import batch, pb_len, send_all, span
from harness import BUILD, Collector, free_port, read_lines, read_log_records, wait_port
from test_forward import DECODERS, HERE, Receiver
from test_metrics import parse, scrape
from test_otlp_http import PB, JS, post

LOGSEND = os.path.join(BUILD, "tests", "logsend")
TRACE = 0x4bf92f3577b34da6a3ce929d0e0e4736
T = "%032x" % TRACE
S1, S2 = "00f067aa0ba902b7", "00000000000000b2"
T0 = 1764583200000000000  # a time of the traces below, in ns
MS = 1000000


def logsend(col, records, service="logsvc", each=False, out=None):
    """Send records (TRACE_ID, SPAN_ID, SEVERITY, TEXT, BODY[, TIME]) as
    the shim would: one datagram, or one each."""
    lines = "".join("\t".join(str(f) for f in r) + "\n" for r in records)
    argv = [LOGSEND, col.sock, service] + (["--each"] if each else []) + (
        ["--out", out] if out else [])
    r = subprocess.run(argv, input=lines.encode(), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr


def log_lines(path):
    return [json.loads(l) for l in read_lines(path)]


records = read_log_records  # every record of the file: (service, scope name, record)


def wait_records(path, n, timeout=15):
    deadline = time.time() + timeout
    while True:
        got = records(path)
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


def tempfile_dir():
    return tempfile.mkdtemp(prefix="spanshim-test.")


class LogsCollector(Collector):
    """A collector writing log records to a --logs-jsonl file of its own."""

    def __init__(self, extra=(), env=None):
        d = tempfile_dir()
        self.logs = os.path.join(d, "logs.jsonl")
        super().__init__(extra=("--logs-jsonl", self.logs, *extra), env=env)


STDERR = {"key": "log.iostream", "value": {"stringValue": "stderr"}}


class LogsFile(unittest.TestCase):
    def test_records_as_otlp_json_lines(self):
        metrics = free_port()
        col = LogsCollector(extra=("--metrics-listen", "127.0.0.1:%d" % metrics))
        try:
            logsend(col, [(T, S1, 17, "ERROR", 'boom "quoted" \u00e9', T0 + 5 * MS),
                          ("-", "-", 9, "INFO", "written outside any span", T0 + 6 * MS),
                          (T, S2, 0, "-", "no severity said", T0 + 7 * MS)])
            got = wait_records(col.logs, 3)
            wait_port(metrics, col.proc)
            m = parse(scrape(metrics)[1])
        finally:
            col.stop()
        lines = log_lines(col.logs)
        self.assertEqual(len(lines), 1)  # one datagram, one line
        res = {a["key"]: a["value"] for a in lines[0]["resourceLogs"][0]["resource"]["attributes"]}
        self.assertEqual(res["service.name"], {"stringValue": "logsvc"})
        self.assertEqual(res["telemetry.sdk.name"], {"stringValue": "spanshim"})
        self.assertIn("intValue", res["process.pid"])
        self.assertEqual([(s, sc) for s, sc, _ in got], [("logsvc", "spanshim")] * 3)
        self.assertEqual([r for _, _, r in got], [
            {"timeUnixNano": str(T0 + 5 * MS), "observedTimeUnixNano": str(T0 + 5 * MS + 1000),
             "severityNumber": 17, "severityText": "ERROR",
             "body": {"stringValue": 'boom "quoted" \u00e9'}, "attributes": [STDERR],
             "flags": 1, "traceId": T, "spanId": S1},
            {"timeUnixNano": str(T0 + 6 * MS), "observedTimeUnixNano": str(T0 + 6 * MS + 1000),
             "severityNumber": 9, "severityText": "INFO",
             "body": {"stringValue": "written outside any span"}, "attributes": [STDERR]},
            {"timeUnixNano": str(T0 + 7 * MS), "observedTimeUnixNano": str(T0 + 7 * MS + 1000),
             "body": {"stringValue": "no severity said"}, "attributes": [STDERR],
             "flags": 1, "traceId": T, "spanId": S2},
        ])
        self.assertEqual(m[("spanshim_collector_log_datagrams_total", frozenset())], 1)
        self.assertEqual(m[("spanshim_collector_log_datagrams_decoded_total", frozenset())], 1)
        self.assertEqual(m[("spanshim_collector_log_records_total", frozenset())], 3)
        self.assertEqual(m[("spanshim_collector_logs_jsonl_records_total", frozenset())], 3)
        self.assertEqual(m[("spanshim_collector_datagrams_total", frozenset())], 1)
        self.assertEqual(m[("spanshim_collector_spans_total", frozenset())], 0)
        last = col.stderr.splitlines()[-1]
        self.assertIn("0 spans and 3 log records in 1 datagrams", last)
        self.assertIn("3 log records written to " + col.logs, last)
        self.assertEqual(col.spans(), [])  # nothing of it in the traces' file

    def test_one_line_a_datagram_and_sighup_reopens(self):
        col = LogsCollector()
        try:
            logsend(col, [(T, S1, 9, "-", "first %d" % i) for i in range(3)], each=True)
            self.assertEqual(len(wait_records(col.logs, 3)), 3)
            self.assertEqual(len(log_lines(col.logs)), 3)
            os.rename(col.logs, col.logs + ".1")  # logrotate
            col.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 15
            while not os.path.exists(col.logs) and time.time() < deadline:
                time.sleep(0.05)
            logsend(col, [(T, S1, 9, "-", "after the rotation")])
            got = wait_records(col.logs, 1)
        finally:
            col.stop()
        self.assertEqual([r["body"]["stringValue"] for _, _, r in got], ["after the rotation"])
        self.assertEqual(len(records(col.logs + ".1")), 3)

    def test_bad_logs_datagrams_are_counted_not_fatal(self):
        """After the frame: garbage, and a body nested past the bound; then
        a flood of garbage: counted each, logged a few lines a second; the
        next good datagram is written."""
        col = LogsCollector()
        # LogRecord.body: AnyValue > array_value > values: AnyValue ... 100 deep.
        v = pb_len(1, b"deep")
        for _ in range(100):
            v = pb_len(5, pb_len(1, v))
        deep = pb_len(1, pb_len(2, pb_len(2, pb_len(5, v))))
        try:
            send_all(col, [b"\0L\xff\xff\xff", b"\0L" + deep] + [b"\0Lgarbage!"] * 1000)
            logsend(col, [(T, S1, 9, "-", "still here")])
            got = wait_records(col.logs, 1)
        finally:
            col.stop()
        self.assertEqual([r["body"]["stringValue"] for _, _, r in got], ["still here"])
        last = col.stderr.splitlines()[-1]
        self.assertIn("1 log records in 1003 datagrams", last)
        self.assertIn("1001 not OTLP, 1 nested too deep", last)
        said = [l for l in col.stderr.splitlines() if "ignored a logs datagram" in l]
        self.assertTrue(said)
        self.assertIn("that is not an OTLP ExportLogsServiceRequest", said[0])
        self.assertIn("from pid %d" % os.getpid(), said[0])
        self.assertLess(len(said), 100)  # not a line per datagram

    def test_no_logs_file_no_trouble(self):
        """Without --logs-jsonl the records are received and counted; the
        trace file gets none."""
        col = Collector()
        try:
            logsend(col, [(T, S1, 9, "-", "only counted")])
            col.fence()
        finally:
            col.stop()
        self.assertIn("and 1 log records in 2 datagrams", col.stderr.splitlines()[-1])
        self.assertFalse(any(s["traceId"] == T for s in col.spans()))


class LogsFullDisk(unittest.TestCase):
    """--logs-jsonl on a full disk (a tmpfs of 256 KiB in a mount namespace
    of the collector's, as test_collector's FullDisk): only whole lines,
    every record counted written or not, writing resumes with room."""

    def counters(self):
        m = parse(scrape(self.port)[1])
        return lambda name: m[("spanshim_collector_" + name, frozenset())]

    def send(self, first, n):
        logsend(self, [(T, S1, 9, "-", "record-%d " % i + "x" * (3000 + i)) for i in
                       range(first, first + n)], each=True)
        deadline = time.time() + 30
        while self.counters()("log_records_total") < first + n and time.time() < deadline:
            time.sleep(0.05)
        return self.counters()

    def test_full_disk_leaves_only_whole_lines(self):
        from harness import COLLECTOR
        self.assertEqual(os.getuid(), 0, "mounting a tmpfs needs root")
        d = tempfile_dir()
        disk = os.path.join(d, "disk")
        os.mkdir(disk)
        self.sock, self.port = os.path.join(d, "c.sock"), free_port()
        logs = os.path.join(disk, "logs.jsonl")
        col = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=256k tmpfs "$1" && shift && exec "$@"',
             "sh", disk, COLLECTOR, "--socket", self.sock, "--logs-jsonl", logs,
             "--metrics-listen", "127.0.0.1:%d" % self.port], stderr=subprocess.PIPE)
        self.addCleanup(col.kill)
        deadline = time.time() + 10
        while not os.path.exists(self.sock) and time.time() < deadline and col.poll() is None:
            time.sleep(0.01)
        wait_port(self.port, col)
        view = "/proc/%d/root" % col.pid
        with open(view + disk + "/filler", "wb") as f:
            f.write(b"\0" * 65536)
        full = self.send(0, 100)  # some 400 KB of lines for 192 KiB free
        self.assertGreater(full("logs_jsonl_write_errors_total"), 0)
        os.unlink(view + disk + "/filler")
        c = self.send(100, 10)
        with open(view + logs, "rb") as f:
            data = f.read()
        col.send_signal(signal.SIGTERM)
        err = col.communicate(timeout=30)[1].decode()
        self.assertEqual(col.returncode, 0)
        bodies = []
        for line in data.split(b"\n")[:-1]:  # every line whole OTLP JSON
            req = json.loads(line)
            bodies += [r["body"]["stringValue"].split()[0]
                       for r in req["resourceLogs"][0]["scopeLogs"][0]["logRecords"]]
        self.assertTrue(data.endswith(b"\n"))
        written = full("logs_jsonl_records_total")
        self.assertGreater(written, 20)
        self.assertEqual(written + full("logs_jsonl_records_not_written_total"), 100)
        self.assertEqual(c("logs_jsonl_records_total"), written + 10)
        self.assertEqual(bodies[-10:], ["record-%d" % i for i in range(100, 110)])
        self.assertEqual(len(bodies), written + 10)
        last = err.splitlines()[-1]
        self.assertIn("; %d log records written to %s, %d batches (%d log records) not written"
                      % (written + 10, logs, 100 - written, 100 - written), last)
        self.assertIn("No space left on device", err)


class LogsPrinted(unittest.TestCase):
    def test_records_under_their_span(self):
        col = LogsCollector(extra=("--print",))
        try:
            send_all(col, [batch([span(TRACE, int(S1, 16), b"GET", start=T0, dur=10 * MS),
                                  span(TRACE, int(S2, 16), b"SELECT", parent=int(S1, 16), kind=3,
                                       start=T0 + 2 * MS, dur=3 * MS)], b"shop")])
            logsend(col, [(T, S2, 5, "-", "query planned", T0 + 3 * MS),
                          (T, S1, 17, "ERROR", "payment failed \x1b[31m", T0 + 8 * MS),
                          (T, S1, 9, "INFO", "request read", T0 + 1 * MS),
                          (T, "00000000000000cc", 13, "WARN", "of a span not here", T0 + 9 * MS),
                          ("-", "-", 9, "INFO", "outside any request")])
            wait_records(col.logs, 5)
            col.fence()
        finally:
            col.stop()
        out = col.stdout.splitlines()
        self.assertIn("log  logsvc                   INFO   outside any request", out)
        start = [i for i, l in enumerate(out) if l.startswith("trace " + T)]
        self.assertEqual(len(start), 1, col.stdout)
        lines = out[start[0]:start[0] + 7]
        self.assertIn("2 spans  4 log records", lines[0])
        shape = [l.split("|")[0].rstrip() if "|" in l else l for l in lines[1:]]
        self.assertRegex(shape[0], r"^  shop +GET +server ok")
        self.assertEqual(shape[1], "    log INFO      +1.00 ms  request read")
        self.assertEqual(shape[2], "    log ERROR     +8.00 ms  payment failed \\x1b[31m")
        self.assertRegex(shape[3], r"^    shop +SELECT +client ok")
        self.assertEqual(shape[4], "      log DEBUG     +3.00 ms  query planned")
        self.assertEqual(shape[5], "  log WARN      +9.00 ms  of a span not here")


class LogsReplayed(unittest.TestCase):
    def test_saved_files_replayed_records_under_their_span(self):
        # What one collector wrote (--jsonl, --logs-jsonl) read in by another
        # (--replay, once for each file, the logs file first): --print draws
        # each record under its span, as the live collector would have.
        live = LogsCollector()
        try:
            send_all(live, [batch([span(TRACE, int(S1, 16), b"GET", start=T0, dur=10 * MS),
                                   span(TRACE, int(S2, 16), b"SELECT", parent=int(S1, 16),
                                        kind=3, start=T0 + 2 * MS, dur=3 * MS)], b"shop")])
            logsend(live, [(T, S2, 5, "-", "query planned", T0 + 3 * MS),
                           (T, S1, 9, "INFO", "request read", T0 + 1 * MS),
                           ("-", "-", 9, "INFO", "outside any request")])
            wait_records(live.logs, 3)
            live.wait_spans(2)
        finally:
            live.stop()
        again = LogsCollector(extra=("--replay", live.logs, "--replay", live.jsonl, "--print"))
        try:
            self.assertEqual(len(wait_records(again.logs, 3)), 3)
            self.assertEqual(len(again.wait_spans(2)), 2)
        finally:
            again.stop()
        self.assertEqual(records(again.logs), records(live.logs))
        out = again.stdout.splitlines()
        self.assertIn("log  logsvc                   INFO   outside any request", out)
        start = [i for i, l in enumerate(out) if l.startswith("trace " + T)]
        self.assertEqual(len(start), 1, again.stdout)
        lines = out[start[0]:start[0] + 5]
        self.assertIn("2 spans  2 log records", lines[0])
        shape = [l.split("|")[0].rstrip() if "|" in l else l for l in lines[1:]]
        self.assertRegex(shape[0], r"^  shop +GET +server ok")
        self.assertEqual(shape[1], "    log INFO      +1.00 ms  request read")
        self.assertRegex(shape[2], r"^    shop +SELECT +client ok")
        self.assertEqual(shape[3], "      log DEBUG     +3.00 ms  query planned")
        last = again.stderr.splitlines()[-1]
        self.assertIn("and 2 lines of %s and %s" % (live.logs, live.jsonl), last)


class LogsOverHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metrics, port = free_port(), free_port()
        cls.col = LogsCollector(extra=("--otlp-listen", "127.0.0.1:%d" % port,
                                       "--otlp-max-mb", "1",
                                       "--metrics-listen", "127.0.0.1:%d" % cls.metrics))
        cls.col.otlp_port = port
        wait_port(port, cls.col.proc)

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def wait_body(self, text, n=1):
        deadline = time.time() + 15
        while True:
            got = [x for x in records(self.col.logs) if x[2].get("body", {}).get("stringValue") == text]
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.05)

    def test_protobuf_as_the_shim_encodes_it(self):
        """The shim's request (the datagram after its frame), POSTed: the
        same record the datagram gives."""
        payload = os.path.join(self.col.dir, "payload.bin")
        logsend(self.col, [(T, S1, 13, "WARN", "sent twice", T0)], out=payload)
        with open(payload, "rb") as f:
            body = f.read()
        status, hdrs, answer = post(self.col, body, path="/v1/logs")
        self.assertEqual((status, hdrs["content-type"], answer), (200, PB, b""))
        got = self.wait_body("sent twice", 2)
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0], got[1])
        status, _, answer = post(self.col, gzip.compress(body), path="/v1/logs",
                                 headers=["Content-Encoding: gzip"])
        self.assertEqual(status, 200)
        self.assertEqual(len(self.wait_body("sent twice", 3)), 3)

    def test_json(self):
        req = {"resourceLogs": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "sdk-logs"}},
                {"key": "spanshim.spans_dropped.socket_full", "value": {"intValue": "5"}}]},
            "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [{
                "timeUnixNano": "1764583200000000001", "severityNumber": 21,
                "severityText": "FATAL", "body": {"stringValue": "from JSON"},
                "attributes": [{"key": "n", "value": {"intValue": 7}}],
                "traceId": T.upper(), "spanId": S1}]}]}]}
        status, hdrs, answer = post(self.col, json.dumps(req).encode(), ctype=JS, path="/v1/logs")
        self.assertEqual((status, hdrs["content-type"], json.loads(answer)), (200, JS, {}))
        svc, scope, r = self.wait_body("from JSON")[0]
        self.assertEqual((svc, scope), ("sdk-logs", "app"))
        self.assertEqual(r, {"timeUnixNano": "1764583200000000001", "severityNumber": 21,
                             "severityText": "FATAL", "body": {"stringValue": "from JSON"},
                             "attributes": [{"key": "n", "value": {"intValue": "7"}}],
                             "traceId": T, "spanId": S1})
        line = [l for l in log_lines(self.col.logs) if "from JSON" in json.dumps(l)][0]
        keys = [a["key"] for a in line["resourceLogs"][0]["resource"]["attributes"]]
        self.assertEqual(keys, ["service.name"])  # only shims report what shims lost

    def test_refusals(self):
        st, hdrs, body = post(self.col, b"\xff\xff\xff", path="/v1/logs")
        self.assertEqual((st, hdrs["content-type"]), (400, PB))
        self.assertIn(b"not an OTLP ExportLogsServiceRequest", body)
        st, _, body = post(self.col, b'{"resourceLogs": 3}', ctype=JS, path="/v1/logs")
        self.assertEqual(st, 400)
        self.assertIn("ExportLogsServiceRequest", json.loads(body)["message"])
        self.assertEqual(post(self.col, b"x", ctype="text/plain", path="/v1/logs")[0], 415)
        self.assertEqual(post(self.col, b"x", path="/v1/logs",
                              headers=["Content-Encoding: br"])[0], 415)
        st, hdrs, _ = post(self.col, b"", path="/v1/logs", method="GET")
        self.assertEqual((st, hdrs.get("allow")), (405, "POST"))
        self.assertEqual(post(self.col, b"", path="/v1/metrics")[0], 404)
        big = pb_len(1, pb_len(2, pb_len(2, pb_len(5, pb_len(1, b"x" * (1 << 20))))))
        self.assertEqual(post(self.col, big, path="/v1/logs")[0], 413)
        self.assertEqual(post(self.col, gzip.compress(big), path="/v1/logs",
                              headers=["Content-Encoding: gzip"])[0], 413)

    def test_zz_counted(self):
        m = parse(scrape(self.metrics)[1])
        pb = m[("spanshim_collector_otlp_http_log_requests_total",
                frozenset({("encoding", "protobuf")}))]
        self.assertGreaterEqual(pb, 2)
        self.assertGreaterEqual(m[("spanshim_collector_otlp_http_log_records_total", frozenset())], 1)


def js_decode(payload_path):
    """The request in the file, decoded by the SDK's generated logs decoder."""
    script = ("const r = require('otlp-transformer-logs/build/src/generated/root');"
              "const pb = r.opentelemetry.proto.collector.logs.v1;"
              "const m = pb.ExportLogsServiceRequest.decode(require('fs').readFileSync(process.argv[1]));"
              "const o = pb.ExportLogsServiceRequest.toObject(m, {longs: String});"
              "process.stdout.write(JSON.stringify(o, (k, v) => v && v.type === 'Buffer' && "
              "Array.isArray(v.data) ? Buffer.from(v.data).toString('hex') : v));")
    r = subprocess.run(["node", "-e", script, payload_path], capture_output=True, timeout=60,
                       cwd=os.path.join(HERE, "otlp"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@unittest.skipUnless(shutil.which("node") and os.path.isdir(os.path.join(
    HERE, "otlp", "node_modules", "otlp-transformer-logs")),
    "needs Node.js and the receiver's npm packages (npm ci in tests/integration/otlp)")
class LogsForwarded(unittest.TestCase):
    def test_the_shims_request_decodes_with_the_sdk(self):
        col = LogsCollector()
        payload = os.path.join(col.dir, "payload.bin")
        try:
            logsend(col, [(T, S1, 17, "ERROR", "decoded in JavaScript", T0 + 42)], out=payload)
            wait_records(col.logs, 1)
        finally:
            col.stop()
        req = js_decode(payload)
        rl = req["resourceLogs"][0]
        svc = [a["value"]["stringValue"] for a in rl["resource"]["attributes"]
               if a["key"] == "service.name"]
        self.assertEqual(svc, ["logsvc"])
        rec = rl["scopeLogs"][0]["logRecords"][0]
        self.assertEqual(rl["scopeLogs"][0]["scope"]["name"], "spanshim")
        self.assertEqual((rec["traceId"], rec["spanId"], rec["timeUnixNano"], rec["severityNumber"],
                          rec["severityText"], rec["body"]["stringValue"], rec["flags"]),
                         (T, S1, str(T0 + 42), 17, "ERROR", "decoded in JavaScript", 1))
        self.assertEqual(rec["attributes"], [{"key": "log.iostream",
                                              "value": {"stringValue": "stderr"}}])

    def test_forwarded_to_v1_logs_retried_and_decoded(self):
        """Records and spans to one endpoint: spans to /v1/traces, records to
        /v1/logs; a 503 is retried, a partial success counted; what the SDK's
        decoder reads is what the collector wrote."""
        d = tempfile_dir()
        rx = Receiver(d, script="503:1,200,200,partial:1")
        col = LogsCollector(extra=("--otlp-endpoint", "http://127.0.0.1:%d" % rx.port))
        try:
            logsend(col, [(T, S1, 17, "ERROR", "forwarded %d" % i, T0 + i) for i in range(3)])
            deadline = time.time() + 20
            while not [r for r in rx.requests() if r["status"] == 200] and time.time() < deadline:
                time.sleep(0.05)
            send_all(col, [batch([span(TRACE, int(S1, 16), b"GET", start=T0, dur=MS)], b"shop")])
            col.wait_spans(1)
            while len(rx.requests()) < 3 and time.time() < deadline:
                time.sleep(0.05)
            logsend(col, [("-", "-", 9, "-", "partly rejected", T0 + 9)])
            while len(rx.requests()) < 4 and time.time() < deadline:
                time.sleep(0.05)
            written = [r for _, _, r in wait_records(col.logs, 4)]
        finally:
            col.stop()
            rx.stop()
        reqs = rx.requests()
        self.assertEqual([(r["path"], r["status"]) for r in reqs],
                         [("/v1/logs", 503), ("/v1/logs", 200), ("/v1/traces", 200),
                          ("/v1/logs", 200)], reqs)
        self.assertEqual(reqs[1]["headers"]["content-type"], "application/x-protobuf")
        got = reqs[1]["logs"] + reqs[3]["logs"]
        self.assertEqual(len(got), 4)
        for w, g in zip(written, got):
            self.assertEqual(g["service"], "logsvc")
            self.assertEqual(g["scope"], "spanshim")
            self.assertEqual(g["traceId"], w.get("traceId", ""))
            self.assertEqual(g["spanId"], w.get("spanId", ""))
            self.assertEqual(g["time"], w["timeUnixNano"])
            self.assertEqual(g["observed"], w["observedTimeUnixNano"])
            self.assertEqual(g["severityNumber"], w["severityNumber"])
            self.assertEqual(g["body"], w["body"]["stringValue"])
            self.assertEqual(g["attributes"], {"log.iostream": "stderr"})
        self.assertEqual([s["spanId"] for s in reqs[2]["spans"]], [S1])
        last = col.stderr.splitlines()[-1]
        self.assertIn("log records forwarded to http://127.0.0.1:%d/v1/logs: 3 exported in 3 "
                      "requests (1 retried), dropped 0 refused, 0 after retrying, 0 queue full, "
                      "0 unsent at exit, 1 rejected in partial successes" % rx.port, last)
        self.assertIn("1 spans exported in 1 requests", last)

    def test_where_the_variables_send_them(self):
        """OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone: records go beside the
        spans, to /v1/logs; OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as it is."""
        for env, path in (({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:%d/v1/traces"},
                           "/v1/logs"),
                          ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d",
                            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:%d/their/logs"},
                           "/their/logs")):
            rx = Receiver(tempfile_dir())
            env = {k: v.replace("%d", str(rx.port)) for k, v in env.items()}
            col = LogsCollector(env=env)
            try:
                logsend(col, [(T, S1, 9, "-", "to " + path)])
                deadline = time.time() + 20
                while not rx.requests() and time.time() < deadline:
                    time.sleep(0.05)
            finally:
                col.stop()
                rx.stop()
            reqs = rx.requests()
            self.assertEqual([(r["path"], [l["body"] for l in r["logs"]]) for r in reqs],
                             [(path, ["to " + path])])


if __name__ == "__main__":
    unittest.main(verbosity=2)
