"""--print, tail sampling and the stop, against what a sender may do: a
burst of distinct traces costs each span a bounded amount of work (SIGTERM
right after 200,000 of them ends in seconds, every span accounted for); a
trace of many spans still prints as its tree, up to its cap; tail sampling
writes a trace of 150,000 spans from as many datagrams in seconds;
--stop-timeout bounds a stop whatever is queued, and a forwarding endpoint
that never answers; a span and service name full of terminal controls
print as visible escapes, one line per span, and so does an endpoint's
message quoted in the log."""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

from crafted import batch, pb_len, send_all, span
from harness import Collector, free_port
from test_metrics import parse, scrape

TOTALS = re.compile(r"spanshim-collector: (\d+) spans in (\d+) datagrams")
UNHANDLED = re.compile(r"(\d+) datagrams not handled within the stop timeout")


def stop_within(col, seconds):
    """SIGTERM now; the collector must have exited within seconds."""
    col.proc.send_signal(signal.SIGTERM)
    try:
        out, err = col.proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        col.proc.kill()
        col.proc.communicate()
        raise AssertionError("the collector was still running %d s after SIGTERM" % seconds)
    col.stdout, col.stderr = out.decode(errors="replace"), err.decode(errors="replace")
    return col.proc.returncode


def totals(col):
    """(spans, datagrams handled, datagrams unhandled) from the exit line."""
    last = col.stderr.splitlines()[-1]
    m, u = TOTALS.search(last), UNHANDLED.search(last)
    return int(m.group(1)), int(m.group(2)), int(u.group(1)) if u else 0


def tree(spans):
    """(depth, name) in the order --print draws them: roots (no parent,
    or a parent not held) and then each span's children by start, ties by
    arrival."""
    ids = {s["id"] for s in spans}
    order = sorted(range(len(spans)), key=lambda i: (spans[i]["start"], i))
    kids = {}
    for i in order:
        kids.setdefault(spans[i]["parent"], []).append(i)
    out, done = [], set()

    def walk(i, depth):
        stack = [(i, depth)]
        while stack:
            i, depth = stack.pop()
            if i in done:
                continue
            done.add(i)
            out.append((depth, spans[i]["name"]))
            stack.extend((c, depth + 1) for c in reversed(kids.get(spans[i]["id"], [])))

    for i in order:
        if not spans[i]["parent"] or spans[i]["parent"] not in ids:
            walk(i, 0)
    return out


def drawn(stdout):
    """(depth, name) of each span line of --print."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("trace "):
            continue
        indent = len(line) - len(line.lstrip(" "))
        out.append(((indent - 2) // 2, line.split()[1]))
    return out


class Print(unittest.TestCase):
    def burst(self, col, grams):
        """Send every datagram, then SIGTERM at once: the exit line's totals."""
        send_all(col, grams)
        self.assertEqual(stop_within(col, 20), 0)
        return totals(col)

    def test_burst_of_distinct_traces(self):
        """200,000 traces of one span each, then SIGTERM at once: a list of
        traces searched per span took minutes; a hash table takes seconds."""
        n, per = 200000, 20
        grams = [batch([span(t + 1, t + 1, b"GET") for t in range(i, i + per)])
                 for i in range(0, n, per)]
        col = Collector(extra=["--print"])
        spans, handled, unhandled = self.burst(col, grams)
        self.assertEqual(handled + unhandled, len(grams), col.stderr)  # every datagram
        self.assertEqual(spans, per * handled)
        self.assertEqual(len(col.spans()), spans)  # every span handled is in the file
        lines = col.stdout.splitlines()
        self.assertEqual(sum(1 for l in lines if l.startswith("trace ")), spans)
        self.assertEqual(len(lines), 2 * spans)  # a trace line and a span line each

    def test_large_trace_prints_as_its_tree(self):
        """1,200 spans of one trace in a random tree, in random order:
        the first 1,000 printed as their tree, the rest counted."""
        rnd = random.Random(12)
        spans = []
        for i in range(1200):
            parent = spans[rnd.randrange(len(spans))]["id"] if spans and rnd.random() < 0.97 else 0
            spans.append({"id": i + 1, "parent": parent, "name": "s%d" % i,
                          "start": 10 ** 18 + rnd.randrange(400) * 1000})
        spans[5]["parent"] = 99999  # a parent that never comes: a root
        rnd.shuffle(spans)
        col = Collector(extra=["--print"])
        send_all(col, [batch([span(7, s["id"], s["name"].encode(), s["parent"], s["start"])
                              for s in spans[i:i + 100]], b"svc")
                       for i in range(0, len(spans), 100)])
        col.wait_spans(len(spans))
        self.assertEqual(col.stop(), 0)
        head = col.stdout.splitlines()[0]
        self.assertIn("1000 spans (200 more not shown)", head)
        self.assertEqual(drawn(col.stdout), tree(spans[:1000]))
        self.assertIn("--print left out 200 spans (over 1000 in a trace)",
                      col.stderr.splitlines()[-1])

    def test_stop_timeout_bounds_a_backlog(self):
        """More queued than can be handled in --stop-timeout: the stop ends
        in time and counts what it left. The .jsonl is a pipe read only once
        the stop is asked for: till then the collector's writes wait, and
        every datagram sent waits in its queue, however fast it would have
        kept up (a fast machine once had it handle all 600 within the
        burst)."""
        g = batch([span(1 + i, 1 + i, b"GET") for i in range(3000)])
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        fifo = os.path.join(d, "spans.jsonl")
        os.mkfifo(fifo)
        rx = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the collector's open needs a reader
        col = Collector(extra=["--stop-timeout", "0.2", "--jsonl", fifo], jsonl=False)
        lines = []

        def drain():
            os.set_blocking(rx, True)
            with os.fdopen(rx, "rb") as f:
                lines.extend(f)

        send_all(col, [g] * 600)
        reader = threading.Thread(target=drain)
        col.proc.send_signal(signal.SIGTERM)
        reader.start()
        self.assertEqual(stop_within(col, 20), 0)
        reader.join(20)
        spans, handled, unhandled = totals(col)
        self.assertGreater(unhandled, 0, col.stderr)
        self.assertEqual(handled + unhandled, 600, col.stderr)
        self.assertEqual(spans, 3000 * handled)
        self.assertEqual(sum(l.count(b'"spanId"') for l in lines), spans)
        shutil.rmtree(d)

    def test_stop_bounds_forwarding(self):
        """An endpoint that takes the request and never answers (with a
        60 s request timeout): the stop still ends within its 5 s, and
        the batch is counted as unsent."""
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(16)
        col = Collector(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % hang.getsockname()[1],
                             "OTEL_EXPORTER_OTLP_TIMEOUT": "60000"})
        send_all(col, [batch([span(1 + i, 1 + i, b"GET") for i in range(10)])])
        self.assertEqual(len(col.wait_spans(10)), 10)
        conn, _ = hang.accept()  # the request is in flight
        self.assertEqual(stop_within(col, 20), 0)
        conn.close()
        hang.close()
        self.assertIn("10 unsent at exit", col.stderr.splitlines()[-1])

    def test_tail_sampling_one_trace_from_many_datagrams(self):
        """Tail sampling emits a trace grouped by resource and scope: found
        by sorting, not by a search per span (150,000 spans of one trace,
        each in its own datagram, took most of a minute to write)."""
        n = 150000
        grams = [batch([span(7, i + 1, b"GET")], b"svc") for i in range(n)]
        col = Collector(extra=["--tail-sampling", "--tail-ratio", "1", "--tail-wait", "600000"])
        spans, handled, unhandled = self.burst(col, grams)
        self.assertEqual((handled + unhandled, spans), (n, handled), col.stderr)
        self.assertIn("tail sampling kept 1 traces", col.stderr.splitlines()[-1])
        got = col.spans()
        self.assertEqual(len(got), spans)
        self.assertEqual([s["spanId"] for s in got], ["%016x" % (i + 1) for i in range(spans)])

    def test_stop_bounds_what_tail_sampling_holds(self):
        """200,000 traces held (kept by ratio 1, each waiting ten minutes),
        then a 0.2 s stop: what could not be written in time is counted as
        unwritten, not written late. The .jsonl is a pipe first read half a
        second into the stop: the writes wait past the timeout however fast
        the machine (0.2 s could write them all on a fast one)."""
        n, per = 200000, 50
        grams = [batch([span(t + 1, t + 1, b"GET") for t in range(i, i + per)])
                 for i in range(0, n, per)]
        port = free_port()
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        fifo = os.path.join(d, "spans.jsonl")
        os.mkfifo(fifo)
        rx = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        col = Collector(extra=["--tail-sampling", "--tail-ratio", "1", "--tail-wait", "600000",
                               "--tail-max-traces", "1000000", "--tail-max-spans", "1000000",
                               "--stop-timeout", "0.2", "--metrics-listen", "127.0.0.1:%d" % port,
                               "--jsonl", fifo], jsonl=False)
        lines = []

        def drain():
            time.sleep(0.5)
            os.set_blocking(rx, True)
            with os.fdopen(rx, "rb") as f:
                lines.extend(f)

        send_all(col, grams)
        deadline = time.time() + 60
        while parse(scrape(port)[1]).get(("spanshim_collector_spans_total", frozenset())) != n:
            self.assertLess(time.time(), deadline, "the collector did not take every span")
            time.sleep(0.1)
        reader = threading.Thread(target=drain)
        reader.start()
        self.assertEqual(stop_within(col, 20), 0)
        reader.join(20)
        m = re.search(r"(\d+) spans held unwritten at the stop timeout", col.stderr.splitlines()[-1])
        self.assertIsNotNone(m, col.stderr)
        self.assertGreater(int(m.group(1)), 0)
        self.assertEqual(sum(l.count(b'"spanId"') for l in lines) + int(m.group(1)), n)
        shutil.rmtree(d)

    def test_terminal_controls_escaped(self):
        """Names that would set the title, clear the screen, forge a line or
        reverse the text print as visible escapes."""
        evil = b"\x1b]0;pwned\x07\x1b[2J\r\nfake trace line\x9b1m\xe2\x80\xae\xc2\x9b!"
        col = Collector(extra=["--print"])
        send_all(col, [batch([span(1, 1, evil)], b"svc" + evil),
                       batch([span(2, 2, b"GET")], "caf\u00e9".encode()),
                       batch([span(3, 3, b"GET")], b"cafe")])
        col.wait_spans(3)
        col.proc.send_signal(signal.SIGTERM)
        out, err = col.proc.communicate(timeout=30)
        for bad in (b"\x1b", b"\x07", b"\r", b"\x9b", b"\xe2\x80\xae", b"\xc2\x9b"):
            self.assertNotIn(bad, out)
        lines = out.decode().split("\n")[:-1]
        self.assertEqual(len(lines), 6, out)  # a trace line and a span line each
        self.assertEqual(sum(1 for l in lines if l.startswith("trace ")), 3)
        shown = "\\x1b]0;pwned\\x07\\x1b[2J\\r\\nfake trace line\\x9b1m\\u202e\\u009b!"
        self.assertIn("  svc" + shown + " " + shown + " server", lines[1])
        # Columns line up whatever the bytes: the kind starts at one place.
        self.assertEqual(lines[3].index("server"), lines[5].index("server"))
        self.assertIn("caf\u00e9 ", lines[3])

    def test_database_spans(self):
        """A database span reads like an HTTP one: its name, and when it
        failed its status code where HTTP's status is and its query after
        the duration, on the span's one line, cut, terminal controls
        escaped."""
        pg = [("db.system.name", "postgresql"), ("server.address", "pg.internal")]
        query = "SELECT *\n  FROM nosuch\x1b[2J\r\nWHERE id = ? AND name IN (?)" + " OR x = ?" * 20
        col = Collector(extra=["--print"])
        send_all(col, [batch([
            span(1, 1, b"GET /orders", attrs=[("http.response.status_code", 500)], error=True),
            span(1, 2, b"SELECT users", 1, start=10 ** 18 + 1, kind=3,
                 attrs=pg + [("db.query.text", "SELECT * FROM users WHERE id = ?")]),
            span(1, 3, b"SELECT nosuch", 1, start=10 ** 18 + 2, kind=3, error=True,
                 attrs=pg + [("db.query.text", query), ("db.response.status_code", "42P01"),
                             ("error.type", "42P01")]),
            span(1, 4, b"GET", 1, start=10 ** 18 + 3, kind=3, error=True,
                 attrs=[("db.system.name", "redis"), ("db.query.text", "GET ?"),
                        ("error.type", "ECONNRESET")]),
        ], b"shop")])
        col.wait_spans(4)
        col.proc.send_signal(signal.SIGTERM)
        out, _ = col.proc.communicate(timeout=30)
        self.assertNotIn(b"\x1b", out)
        lines = out.decode().split("\n")[:-1]
        self.assertEqual(len(lines), 5, out)  # the trace, then one line per span
        bar = r" +\|[ =]{40}\|"  # on the trace's time axis
        self.assertRegex(lines[1], r"^  shop +GET /orders server ERROR 500 +0\.01 ms" + bar + "$")
        self.assertRegex(lines[2], r"^    shop +SELECT users client ok +- +0\.01 ms" + bar + "$")
        self.assertRegex(lines[3], r"^    shop +SELECT nosuch client ERROR 42P01 +0\.01 ms" + bar +
                         "  ")
        shown = lines[3].split("|  ", 1)[1]  # on one line, blanks run together, cut
        self.assertTrue(shown.startswith("SELECT * FROM nosuch\\x1b[2J WHERE id = ? AND"), shown)
        self.assertTrue(shown.endswith("..."), shown)
        self.assertLessEqual(len(shown), 60)
        self.assertRegex(lines[4], r"^    shop +GET +client ERROR ECONNRESET +0\.01 ms" + bar +
                         r"  GET \?$")

    def test_log_lines_escape_the_endpoint_message(self):
        """An OTLP endpoint's partial-success message is quoted in the log:
        escaped like a name."""
        body = pb_len(1, bytes([1 << 3, 1]) + pb_len(2, b"\x1b]0;pwned\x07\r\nforged line"))

        class Partial(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = HTTPServer(("127.0.0.1", 0), Partial)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        col = Collector(env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % srv.server_port})
        send_all(col, [batch([span(1, 1, b"GET")])])
        col.wait_spans(1)
        col.proc.send_signal(signal.SIGTERM)
        _, err = col.proc.communicate(timeout=30)
        srv.shutdown()
        self.assertIn(b"rejected 1 spans of a batch: \\x1b]0;pwned\\x07\\r\\nforged line\n", err)
        for bad in (b"\x1b", b"\x07", b"\r"):
            self.assertNotIn(bad, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
