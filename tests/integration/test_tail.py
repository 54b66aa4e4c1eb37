"""Tail sampling: every error kept, every slow request kept, the rest kept
by the ratio (decided from the trace id, checked here against the trace ids
the backend received); whole traces, with the policy on every kept span;
metrics still count every span; the held traces are bounded and a stop
writes everything held."""
import base64
import json
import os
import re
import socket
import time
import unittest

from harness import Collector, free_port, read_lines, start_app
from test_collector import pb_len
from test_metrics import parse, scrape

TP = re.compile(rb"traceparent: 00-([0-9a-f]{32})-")


def kept_by_ratio(trace_id, ratio):
    return int(trace_id[18:32], 16) < ratio * (1 << 56)


class Tail(unittest.TestCase):
    def setup(self, *args):
        self.port = free_port()
        self.col = Collector(extra=["--tail-sampling", "--metrics-listen", "127.0.0.1:%d" % self.port,
                                    *args])
        self.record = os.path.join(self.col.dir, "b.record")
        _, self.backend = start_app(self.col, "backend.py", [self.record], "backend")

    def get(self, path):
        self.col.run(["curl", "-sS", "http://127.0.0.1:%d%s" % (self.backend, path)], service="shop")

    def traces_sent(self):
        """{trace id: path} from what the backend read."""
        out = {}
        for line in read_lines(self.record):
            r = json.loads(line)
            out[TP.search(base64.b64decode(r["raw"])).group(1).decode()] = r["path"]
        return out

    def test_errors_slow_and_ratio(self):
        self.setup("--tail-wait", "300", "--tail-latency", "300", "--tail-ratio", "0.5")
        for i in range(20):
            self.get("/inventory?i=%d" % i)
        for i in range(2):
            self.get("/error?i=%d" % i)
            self.get("/slow?i=%d" % i)
        sent = self.traces_sent()
        self.assertEqual(len(sent), 24)
        want = {t: ("error" if p.startswith("/error") else "latency" if p.startswith("/slow")
                    else "probabilistic")
                for t, p in sent.items() if not p.startswith("/inventory") or kept_by_ratio(t, 0.5)}
        self.assertGreater(len(want), 4)   # some of the 20 by the ratio...
        self.assertLess(len(want), 24)     # ...not all
        deadline = time.time() + 10
        while len({s["traceId"] for s in self.col.spans()}) < len(want) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        spans = self.col.spans()
        got = {}
        for s in spans:
            got.setdefault(s["traceId"], set()).add(s.attrs["spanshim.sampling.policy"])
        self.assertEqual({t: p.pop() for t, p in got.items()}, want)
        for t in want:  # whole traces: the client span and the server span
            self.assertEqual(sorted(s["kind"] for s in spans if s["traceId"] == t), [2, 3])
        m = parse(scrape(self.port)[1])
        total = sum(v for (n, _), v in m.items() if n == "traces_span_metrics_calls_total")
        self.assertEqual(total, 48)        # counted before sampling
        c = lambda n: m[("spanshim_collector_tail_%s_total" % n, frozenset())]
        self.assertEqual((c("traces_kept_error"), c("traces_kept_latency")), (2, 2))
        self.assertEqual(c("traces_kept_probabilistic"), len(want) - 4)
        self.assertEqual(c("traces_dropped"), 24 - len(want))
        self.assertEqual(c("spans_kept") + c("spans_dropped"), 48)
        self.assertEqual(self.col.stop(), 0)

    def test_bounded_and_flushed_on_stop(self):
        # Traces wait a minute, but only 3 may be held: the oldest are
        # decided early; the stop decides the rest.
        self.setup("--tail-wait", "60000", "--tail-ratio", "1", "--tail-max-traces", "3")
        for i in range(8):
            self.get("/inventory?i=%d" % i)
        time.sleep(0.6)
        m = parse(scrape(self.port)[1])
        self.assertGreaterEqual(m[("spanshim_collector_tail_traces_decided_early_total", frozenset())], 4)
        self.assertEqual(self.col.stop(), 0)
        spans = self.col.spans()
        self.assertEqual(len({s["traceId"] for s in spans}), 8)
        self.assertEqual(len(spans), 16)
        self.assertEqual({s.attrs["spanshim.sampling.policy"] for s in spans}, {"probabilistic"})


    def test_bounded_in_bytes(self):
        # 3,000 traces of one span carrying 200 KB each: 600 MB, within
        # the count caps. --tail-max-mb 16 holds about 80 of them; the
        # others are decided early. The ratio drops them all; the errors
        # are kept and written.
        port = free_port()
        col = Collector(extra=["--tail-sampling", "--tail-wait", "600000", "--tail-ratio", "0",
                               "--tail-max-mb", "16", "--metrics-listen", "127.0.0.1:%d" % port])
        self.addCleanup(col.proc.kill)  # if the test fails half way
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        tx.connect(col.sock)
        pad = pb_len(9, pb_len(1, b"pad") + pb_len(2, pb_len(1, b"x" * 200000)))
        handled = lambda: parse(scrape(port)[1])[("spanshim_collector_datagrams_total", frozenset())]
        for i in range(3000):
            error = pb_len(15, bytes([3 << 3, 2])) if i % 150 == 0 else b""
            span = (pb_len(1, (i + 1).to_bytes(16, "big")) + pb_len(2, (i + 1).to_bytes(8, "big")) +
                    pb_len(5, b"big-%d" % i) + pad + error)
            tx.send(pb_len(1, pb_len(2, pb_len(2, span))))
            if i % 50 == 49:  # at most 10 MB queued at a time
                deadline = time.time() + 60
                while handled() < i + 1 and time.time() < deadline:
                    time.sleep(0.02)
        tx.close()
        with open("/proc/%d/status" % col.proc.pid) as f:
            hwm = [int(l.split()[1]) for l in f if l.startswith("VmHWM")][0]
        self.assertLess(hwm, 200 * 1024, "peak RSS %d KiB" % hwm)
        m = parse(scrape(port)[1])
        c = lambda n: m[("spanshim_collector_tail_%s_total" % n, frozenset())]
        self.assertGreater(c("traces_decided_early"), 2800)
        self.assertEqual(col.stop(), 0)
        spans = col.spans()
        self.assertEqual(sorted(s["name"] for s in spans), sorted("big-%d" % i for i in range(0, 3000, 150)))
        self.assertEqual({s.attrs["spanshim.sampling.policy"] for s in spans}, {"error"})
        self.assertEqual(len(spans[0].attrs["pad"]), 200000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
