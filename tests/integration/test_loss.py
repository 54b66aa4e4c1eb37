"""No silent loss: a traced program loses spans while its collector is
paused (its socket full) and then gone (no collector); once a collector
takes its datagrams again, that collector's /metrics and exit line show the
lost spans for the program's service, by reason, exactly as many as the
shim's own exit counters (SPANSHIM_LOG=debug) say, and the loss counts are
not left in the resources written to the file. Log records the same way:
a program that only logs (SPANSHIM_LOGS=all, no span), its records lost
while no collector listens, tells the next collector in its logs datagrams
(spanshim_shim_logs_dropped_total, the exit line)."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from harness import PRELOAD, PY, Collector, free_port, read_lines, read_log_records
from test_metrics import parse, scrape

# Each line "N PORT": N refused connections to PORT (a span each), then "done".
PROG = r"""
import socket, sys
for line in sys.stdin:
    n, port = map(int, line.split())
    for i in range(n):
        c = socket.socket()
        c.connect_ex(("127.0.0.1", port))
        c.close()
    print("done", flush=True)
"""

SERVICE = "lossy"


class NoSilentLoss(unittest.TestCase):
    def setUp(self):
        self.cols = []

    def tearDown(self):
        for c in self.cols:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGCONT)
                c.stop()

    def collector(self, sock=None):
        port = free_port()
        col = Collector(extra=["--metrics-listen", "127.0.0.1:%d" % port], sock=sock)
        col.metrics_port = port
        self.cols.append(col)
        return col

    def step(self, n):
        """n spans, to a port of their own: a span to that port says they came."""
        port = free_port()
        self.prog.stdin.write(b"%d %d\n" % (n, port))
        self.prog.stdin.flush()
        self.assertEqual(self.prog.stdout.readline(), b"done\n")
        return port

    def arrived(self, col, port, timeout=30):
        """Whether a span of the step to port reached col."""
        return col.wait_spans(1, timeout=timeout, pred=lambda s: s.service == SERVICE and
                              port in s.attrs.values())

    def until_one_arrives(self, col):
        """Steps of one span until one reaches col (the shim retries a
        collector it could not reach once a second)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.arrived(col, self.step(1), timeout=0.5):
                return
        self.fail("no span reached the collector")

    def test_lost_spans_are_counted_per_service(self):
        first = self.collector()
        env = first.env(SERVICE, SPANSHIM_LOG="debug")
        # stderr to a file: at debug level every failed send is a line
        err_path = os.path.join(first.dir, "prog.err")
        with open(err_path, "wb") as err_file:
            self.prog = subprocess.Popen([PY, "-c", PROG], env=env, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err_file)
        self.assertTrue(self.arrived(first, self.step(3)), "export works")

        # Paused: its socket fills, and whole batches are dropped.
        first.proc.send_signal(signal.SIGSTOP)
        self.step(120000)  # more than the kernel queue and the backlog hold
        time.sleep(0.5)
        first.proc.send_signal(signal.SIGCONT)
        self.until_one_arrives(first)
        first.stop()

        # Gone: what leaves before the next one starts is dropped.
        self.step(5)
        time.sleep(0.6)  # the flush thread sends it (EX_FLUSH_MS) and finds no one
        self.step(4)
        time.sleep(0.6)
        second = self.collector(sock=first.sock)
        self.until_one_arrives(second)
        self.until_one_arrives(second)  # nothing the program made is left unsent
        self.prog.stdin.close()
        code = self.prog.wait(timeout=30)
        self.prog.stdout.close()
        with open(err_path, errors="replace") as f:
            err = f.read()
        self.assertEqual(code, 0, err[-2000:])
        full = int(re.search(r"spans_dropped_full: (\d+)", err).group(1))
        nocol = int(re.search(r"spans_dropped_nocollector: (\d+)", err).group(1))
        self.assertGreater(full, 0)
        self.assertGreaterEqual(nocol, 9)
        second.fence()

        code, body = scrape(second.metrics_port)
        self.assertEqual(code, 200)
        m = parse(body)
        name = "spanshim_shim_spans_dropped_total"
        self.assertEqual(m[(name, frozenset({("service_name", SERVICE),
                                             ("reason", "socket_full")}))], full)
        self.assertEqual(m[(name, frozenset({("service_name", SERVICE),
                                             ("reason", "no_collector")}))], nocol)
        for s in second.spans():
            self.assertFalse([k for k in s.res if k.startswith("spanshim.")], s.res)
        second.stop()
        self.assertIn("the shims lost %d spans before they got here: %s %d (socket_full %d, "
                      "no_collector %d)" % (full + nocol, SERVICE, full + nocol, full, nocol),
                      second.stderr)

    def test_a_briefly_paused_collector_costs_no_spans(self):
        # More than the kernel queues for a collector that is not reading
        # (ten datagrams, and what the send buffer holds): the batches that
        # find its socket full wait in the shim's backlog and all arrive.
        # (Before the backlog, some 2,000 of the 3,000 were dropped.)
        col = self.collector()
        err_path = os.path.join(col.dir, "prog.err")
        with open(err_path, "wb") as err_file:
            self.prog = subprocess.Popen([PY, "-c", PROG], env=col.env(SERVICE, SPANSHIM_LOG="debug"),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err_file)
        self.assertTrue(self.arrived(col, self.step(1)), "export works")
        col.proc.send_signal(signal.SIGSTOP)
        self.step(3000)
        time.sleep(0.3)
        col.proc.send_signal(signal.SIGCONT)
        self.assertTrue(self.arrived(col, self.step(1)))
        self.prog.stdin.close()
        self.assertEqual(self.prog.wait(timeout=30), 0)
        self.prog.stdout.close()
        with open(err_path, errors="replace") as f:
            err = f.read()
        counters = dict(re.findall(r"\]: (spans_\w+): (\d+) ", err))
        self.assertEqual(counters, {"spans_recorded": "3002", "spans_exported": "3002"})
        col.fence()
        self.assertEqual(len([s for s in col.spans() if s.service == SERVICE]), 3002)


# Each line "N TAG": N lines "TAG i" written to app.log (a log file: the
# shim's own debug lines stay on stderr), then "done".
LOG_PROG = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for line in sys.stdin:
    n, tag = line.split()
    for i in range(int(n)):
        os.write(fd, b"%s %d\n" % (tag.encode(), i))
    print("done", flush=True)
"""


class NoSilentLogLoss(unittest.TestCase):
    def test_lost_log_records_are_counted_per_service(self):
        d = tempfile.mkdtemp(prefix="spanshim-test.")
        sock = os.path.join(d, "c.sock")
        env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=sock, SPANSHIM_LOGS="all",
                   SPANSHIM_LOG="debug", OTEL_SERVICE_NAME="logger")
        err_path = os.path.join(d, "prog.err")
        with open(err_path, "wb") as err_file:
            prog = subprocess.Popen([PY, "-c", LOG_PROG, os.path.join(d, "app.log")], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err_file)
        col = None
        try:
            def step(n, tag):
                prog.stdin.write(b"%d %s\n" % (n, tag.encode()))
                prog.stdin.flush()
                self.assertEqual(prog.stdout.readline(), b"done\n")

            # No collector yet: each batch the flush thread sends is dropped.
            step(5, "lost")
            time.sleep(0.6)
            step(4, "lost")
            time.sleep(0.6)
            metrics = free_port()
            logs = os.path.join(d, "logs.jsonl")
            col = Collector(sock=sock, extra=("--logs-jsonl", logs,
                                              "--metrics-listen", "127.0.0.1:%d" % metrics))

            def bodies():
                return [r["body"]["stringValue"] for _, _, r in read_log_records(logs)]

            # The shim tries a collector it could not reach again once a second.
            deadline, n = time.time() + 60, 0
            while not [b for b in bodies() if b.startswith("kept")] and time.time() < deadline:
                n += 1
                step(1, "kept%d" % n)
                time.sleep(0.3)
            self.assertTrue([b for b in bodies() if b.startswith("kept")], "no record came")
            prog.stdin.close()
            self.assertEqual(prog.wait(timeout=30), 0)
            prog.stdout.close()
            with open(err_path, errors="replace") as f:
                err = f.read()
            lost = int(re.search(r"logs_dropped_nocollector: (\d+)", err).group(1))
            self.assertGreaterEqual(lost, 9)
            self.assertIn("%d log records lost (%d with no collector reached)" % (lost, lost), err)
            self.assertFalse([b for b in bodies() if b.startswith("lost")])
            m = parse(scrape(metrics)[1])
            self.assertEqual(m[("spanshim_shim_logs_dropped_total",
                                frozenset({("service_name", "logger"),
                                           ("reason", "no_collector")}))], lost)
            self.assertFalse([k for k in m if k[0] == "spanshim_shim_spans_dropped_total"])
            for line in read_lines(logs):  # the bookkeeping taken out of the resource
                for rl in json.loads(line)["resourceLogs"]:
                    self.assertFalse([a["key"] for a in rl["resource"]["attributes"]
                                      if a["key"].startswith("spanshim.")])
        finally:
            if prog.poll() is None:
                prog.kill()
                prog.wait()
            if col is not None:
                col.stop()
        self.assertIn("the shims reported no lost spans; the shims lost %d log records before "
                      "they got here: logger %d (no_collector %d)" % (lost, lost, lost),
                      col.stderr)


if __name__ == "__main__":
    unittest.main()
