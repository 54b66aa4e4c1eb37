"""The collector forwards OTLP/HTTP to a receiver that decodes with the
OpenTelemetry JavaScript SDK's generated decoders (@opentelemetry/otlp-
transformer 0.216.0, tests/integration/otlp): the spans it gets equal the
spans the collector wrote to its .jsonl, none lost and none twice, through
a receiver down at start, 503 with Retry-After, 400 (dropped, not retried),
a receiver slower than the timeout, a receiver restarted mid-stream, gzip,
headers from OTEL_EXPORTER_OTLP_HEADERS, and a partial success."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from harness import Collector, free_port, read_lines, start_app

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "otlp", "receiver.js")
DECODERS = os.path.join(HERE, "otlp", "node_modules", "@opentelemetry", "otlp-transformer")


def key(s):
    """A span's identity and times, as both sides see them."""
    return (s["traceId"], s["spanId"], s.get("parentSpanId", ""), s["name"], s["kind"],
            str(s["startTimeUnixNano"] if "startTimeUnixNano" in s else s["start"]),
            str(s["endTimeUnixNano"] if "endTimeUnixNano" in s else s["end"]))


class Receiver:
    def __init__(self, d, port=0, script="", env=None):
        self.record = os.path.join(d, "otlp.record")
        port_file = os.path.join(d, "receiver.%d.port" % time.monotonic_ns())
        self.proc = subprocess.Popen(["node", RECEIVER, port_file, self.record, str(port), script],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=dict(os.environ, **(env or {})))
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("receiver did not start: %s" % self.proc.stderr.read())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=10)

    def requests(self):
        return [json.loads(l) for l in read_lines(self.record)] if os.path.exists(self.record) else []

    def spans(self):
        return [s for r in self.requests() if 200 <= r["status"] < 300 for s in r["spans"]]


@unittest.skipUnless(shutil.which("node") and os.path.isdir(DECODERS),
                     "needs Node.js and the receiver's npm packages (scripts/setup)")
class Forward(unittest.TestCase):
    def collector(self, port, env=None, extra=()):
        e = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % port}
        e.update(env or {})
        return self.serve(Collector(extra=extra, env=e))

    def serve(self, col):
        """Use col, and start the traced backend the traffic goes to."""
        self.col = col
        _, self.backend = start_app(col, "backend.py", [os.path.join(col.dir, "b.record")], "backend")
        return col

    def traffic(self, n, tag):
        """n traced curl requests to the traced backend: 2n spans."""
        self.expected = getattr(self, "expected", 0) + 2 * n
        for i in range(n):
            r = self.col.run(["curl", "-sS", "http://127.0.0.1:%d/inventory?%s=%d" % (self.backend, tag, i)],
                             service="curl")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.col.wait_spans(self.expected)), self.expected)

    def finish(self, receiver):
        """Stop everything; the spans written and the spans received."""
        self.col.stop()
        written = sorted(key(s) for s in self.col.spans())
        got = sorted(key(s) for s in receiver.spans())
        return written, got

    def tearDown(self):
        if hasattr(self, "rx") and self.rx.proc.poll() is None:
            self.rx.stop()

    def test_same_spans_with_gzip_and_headers(self):
        self.rx = Receiver(tempfile_dir())
        # Every sink at once: .jsonl, --print, OTLP, /metrics.
        self.collector(self.rx.port, {"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
                                      "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=blue%20team, x-k=v"},
                       extra=["--print", "--metrics-listen", "127.0.0.1:%d" % free_port()])
        self.traffic(5, "plain")
        written, got = self.finish(self.rx)
        self.assertEqual(len(written), 10)
        self.assertEqual(got, written)
        self.assertEqual(self.col.stdout.count("trace "), 5)  # --print: five trees
        last = self.col.stderr.splitlines()[-1]              # the totals: one line
        self.assertIn("10 spans in", last)
        self.assertIn("10 spans exported in", last)
        reqs = self.rx.requests()
        for r in reqs:
            self.assertEqual(r["path"], "/v1/traces")
            self.assertEqual(r["headers"]["content-type"], "application/x-protobuf")
            self.assertEqual(r["headers"]["content-encoding"], "gzip")
            self.assertTrue(r["headers"]["user-agent"].startswith("spanshim-collector/"))
            self.assertEqual((r["headers"]["x-tenant"], r["headers"]["x-k"]), ("blue team", "v"))
        self.assertLess(len(reqs), 10)  # batched
        services = {s["service"] for s in self.rx.spans()}
        self.assertEqual(services, {"curl", "backend"})

    def test_forwarding_alone(self):
        """No .jsonl and no other sink that reads spans: each batch is only
        read through (counted, checked for what would need decoding) and
        forwarded as it came. Every span arrives once, whole."""
        self.rx = Receiver(tempfile_dir())
        self.serve(Collector(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % self.rx.port},
                             jsonl=False))
        for i in range(5):
            r = self.col.run(["curl", "-sS", "http://127.0.0.1:%d/inventory?alone=%d" % (self.backend, i)],
                             service="curl")
            self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.time() + 15
        while len(self.rx.spans()) < 10 and time.time() < deadline:
            time.sleep(0.1)
        self.col.stop()
        got = self.rx.spans()
        self.assertEqual(len(got), 10)
        self.assertEqual(len({s["spanId"] for s in got}), 10)
        self.assertEqual({s["service"] for s in got}, {"curl", "backend"})
        self.assertEqual(sorted(s["kind"] for s in got), [2] * 5 + [3] * 5)
        self.assertIn("10 spans in", self.col.stderr)
        self.assertIn("10 spans exported in", self.col.stderr)

    def test_receiver_down_at_start_then_restarted(self):
        port = free_port()
        self.collector(port)
        self.traffic(3, "early")          # nobody listens: kept and retried
        time.sleep(1.0)
        self.rx = Receiver(tempfile_dir(), port)
        self.traffic(3, "middle")
        deadline = time.time() + 15
        while len(self.rx.spans()) < 12 and time.time() < deadline:
            time.sleep(0.1)
        self.rx.stop()                    # restarted mid-stream
        self.traffic(3, "late")
        time.sleep(0.5)
        rx2 = Receiver(os.path.dirname(self.rx.record), port)
        self.rx = rx2
        written, got = self.finish(rx2)
        self.assertEqual(len(written), 18)
        self.assertEqual(got, written)    # the same file: both receivers' records
        self.assertIn("retried", self.col.stderr)

    def test_503_with_retry_after(self):
        self.rx = Receiver(tempfile_dir(), script="503:1")
        self.collector(self.rx.port)
        t0 = time.time()
        self.traffic(2, "busy")
        written, got = self.finish(self.rx)
        self.assertEqual(got, written)
        reqs = self.rx.requests()
        self.assertEqual(reqs[0]["status"], 503)
        self.assertEqual(sorted(key(s) for s in reqs[0]["spans"]),
                         sorted(key(s) for s in reqs[1]["spans"]))  # the same batch again
        self.assertGreaterEqual(time.time() - t0, 1.0)

    def test_400_is_dropped_not_retried(self):
        self.rx = Receiver(tempfile_dir(), script="400")
        self.collector(self.rx.port)
        self.traffic(1, "refused")
        time.sleep(0.8)                   # the first batch goes out and is refused
        self.traffic(2, "accepted")
        written, got = self.finish(self.rx)
        reqs = self.rx.requests()
        self.assertEqual(reqs[0]["status"], 400)
        refused = {key(s) for s in reqs[0]["spans"]}
        self.assertIn(len(refused), (1, 2))  # the first batch: one request's spans, or a part
        self.assertEqual(got, sorted(k for k in written if k not in refused))
        self.assertEqual(sum(1 for r in reqs if r["status"] == 400), 1)
        self.assertIn("%d refused" % len(refused), self.col.stderr)

    def test_receiver_slower_than_timeout(self):
        self.rx = Receiver(tempfile_dir(), script="slow:1500")
        self.collector(self.rx.port, {"OTEL_EXPORTER_OTLP_TIMEOUT": "500"})
        self.traffic(2, "slow")
        written, got = self.finish(self.rx)
        self.assertEqual(got, written)    # timed out once, sent again, recorded once

    def test_unix_socket_endpoint(self):
        # As to an OpenTelemetry Collector whose receiver listens on a Unix socket.
        d = tempfile_dir()
        path = os.path.join(d, "otlp.sock")
        self.rx = Receiver(d, path)
        self.serve(Collector(extra=["--otlp-unix-socket", path, "--otlp-endpoint", "http://localhost"]))
        self.traffic(2, "unix")
        written, got = self.finish(self.rx)
        self.assertEqual(len(written), 4)
        self.assertEqual(got, written)
        self.assertEqual(self.rx.requests()[0]["headers"]["host"], "localhost")

    @unittest.skipUnless(shutil.which("openssl"), "openssl is not installed")
    def test_https_endpoint(self):
        d = tempfile_dir()
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.rx = Receiver(d, env={"TLS_CERT": cert, "TLS_KEY": key})
        self.serve(Collector(env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":
                                  "https://127.0.0.1:%d/v1/traces" % self.rx.port,
                                  "OTEL_EXPORTER_OTLP_CERTIFICATE": cert}))
        self.traffic(2, "tls")
        written, got = self.finish(self.rx)
        self.assertEqual(len(written), 4)
        self.assertEqual(got, written)

    def test_partial_success_is_not_retried(self):
        self.rx = Receiver(tempfile_dir(), script="partial:1")
        self.collector(self.rx.port)
        self.traffic(1, "partial")
        written, got = self.finish(self.rx)
        # A retry would send the accepted spans again: got would hold them
        # twice. (The two spans may come in one request or two, as the
        # two processes' datagrams happen to arrive.)
        self.assertEqual(got, written)
        self.assertIn(len(self.rx.requests()), (1, 2))
        self.assertIn("rejected 1 spans of a batch: too old", self.col.stderr)


class ForwardAsItCame(unittest.TestCase):
    def test_a_batch_no_sink_decodes_goes_on_as_it_came(self):
        """With only the file and forwarding, or forwarding alone (the batch
        then only read through, no JSON written), a batch is never decoded:
        the endpoint gets the datagram's own bytes (its fields in the order
        the sender wrote them, a field this collector does not know kept);
        with a sink that decodes (--print), it gets them re-encoded."""
        from http.server import BaseHTTPRequestHandler, HTTPServer
        import threading
        from crafted import attribute, batch, send_all, span, varint

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
        # attributes before the ids, and a field 99 the schema does not have
        odd = (attribute("k", "v") + span(0xabc, 7, b"as it came") +
               varint(99 << 3 | 2) + varint(6) + b"future")
        gram = batch([odd], b"svc")
        try:
            for extra, same, jsonl in (((), True, True), (("--print",), False, True),
                                       ((), True, False)):
                del bodies[:]
                col = Collector(extra=("--otlp-endpoint", "http://127.0.0.1:%d" %
                                       srv.server_address[1]) + extra, jsonl=jsonl)
                try:
                    send_all(col, [gram])
                    if jsonl:
                        self.assertEqual(len(col.wait_spans(1)), 1)
                    deadline = time.time() + 10
                    while not bodies and time.time() < deadline:
                        time.sleep(0.05)
                finally:
                    col.stop()
                self.assertEqual(len(bodies), 1, col.stderr)
                self.assertEqual(bodies[0] == gram, same, (extra, bodies[0], gram))
                self.assertIn(b"future", bodies[0])  # kept either way
        finally:
            srv.shutdown()


def tempfile_dir():
    import tempfile
    d = tempfile.mkdtemp(prefix="spanshim-otlp.")
    return d


if __name__ == "__main__":
    unittest.main(verbosity=2)
