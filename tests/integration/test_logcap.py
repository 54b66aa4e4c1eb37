"""Log lines a traced program writes become log records tied to their span.

Real programs, their records read back from the datagrams the shim sends
(logsink.py decodes them; the collector's side is not needed):
- a Python service logging with `logging` to stderr from a thread pool,
  40 requests at once: each line written inside a request carries that
  request's SERVER span (trace and span id), its severity from the level
  word, and a line the handler writes in two pieces to a log file is one
  record; the line logged outside any request is none (SPANSHIM_LOGS=span);
- a Python service (a thread per request) logging around the outgoing call
  it makes with http.client: the line written between request() and
  getresponse() carries the call's CLIENT span, the lines before and after
  it the request's SERVER span;
- a C program using syslog(3), plain and fortified (__syslog_chk): the
  message (with %m) and its priority, openlog's ident, the log mask obeyed,
  its lines under its process span (TRACEPARENT); its stdout (errno after
  each call, printf'ed: records too), stderr and log file byte-identical
  traced and untraced; and the same records as spanshim-collector writes
  them (--logs-jsonl);
- a C program writing through every stdio call (stdioprobe.c), plain and
  fortified: its stdout, stderr, an fopen'ed and a freopen'ed file and a
  pwrite'd one byte-identical traced and untraced, return values too, and
  every line one record with its stream and severity, never two; and C++'s
  std::cout and std::cerr;
- nginx's error log: a request for a missing file logs an error line in
  that request's span (the worker writes to the file the master opened);
- apache2's error log (prefork, children as nobody): the line core logs
  for a missing file is in that request's span;
- Node's console.log and console.error in a handler;
- datagrams a Python program sends to the syslog and journal sockets
  itself (SysLogHandler, sendto, sendmsg), in a mount namespace where the
  test's sockets are at those paths;
- a Python program writing awkward pieces (split lines, many lines in one
  write, CRLF, empty lines, a line over 8 KiB, writev) with
  SPANSHIM_LOGS=all: its bytes byte-identical traced and untraced, every
  line one record, the long one cut and marked.
"""
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import (APACHE, BUILD, PY, APPS, Collector, read_log_records, start_apache,
                     start_nginx, stop_apache)
from logsink import SERVER, LogSink, get, wait_file

NODE = shutil.which("node") or shutil.which("nodejs") or "node"


def get_status(url):
    try:
        return get(url)[0]
    except urllib.error.HTTPError as e:
        return e.code


class PythonPool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = LogSink()
        port_file = os.path.join(cls.sink.dir, "pool.port")
        cls.p = cls.sink.start([PY, os.path.join(APPS, "log_pool.py"), port_file, "8"],
                               service="pool")
        cls.port = wait_file(port_file, cls.p)

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()

    def test_each_line_in_its_request_span(self):
        ids = ["r%d" % i for i in range(40)]
        ts = [threading.Thread(target=get, args=("http://127.0.0.1:%d/work?id=%s" %
                                                 (self.port, i),)) for i in ids]
        [t.start() for t in ts]
        [t.join() for t in ts]
        spans = self.sink.wait_spans(40, lambda s: s["kind"] == SERVER and
                                     s["attributes"].get("url.path") == "/work")
        self.assertEqual(len(spans), 40)
        by_id = {s["attributes"]["url.query"][3:]: s for s in spans}
        self.assertEqual(sorted(by_id), sorted(ids))
        recs = self.sink.wait_logs(120, lambda r: " id=r" in r["body"])
        self.assertEqual(len(recs), 120, [r["body"] for r in recs][:10])
        seen = set()
        for r in recs:
            words = r["body"].split()
            ident = [w for w in words if w.startswith("id=")][0][3:]
            srv = by_id[ident]
            self.assertEqual(r["trace_id"], srv["trace_id"], r["body"])
            self.assertEqual(r["span_id"], srv["span_id"], r["body"])
            self.assertEqual(r["flags"] & 1, 1, "sampled")
            self.assertEqual(r["resource"]["service.name"], "pool")
            self.assertGreater(r["time"], 0)
            self.assertGreaterEqual(r["observed"], r["time"])
            if words[0] == "INFO":
                self.assertEqual((r["severity"], r["severity_text"]), (9, "INFO"))
                self.assertEqual(r["attributes"], {"log.iostream": "stderr"})
                seen.add(("start", ident))
            elif words[0] == "WARNING":
                self.assertEqual((r["severity"], r["severity_text"]), (13, "WARNING"))
                seen.add(("working", ident))
            else:
                self.assertEqual(r["body"], "split id=%s end" % ident)
                self.assertEqual(r["attributes"]["log.file.path"],
                                 os.path.join(os.path.realpath(self.sink.dir), "pool-split.log"))
                seen.add(("split", ident))
        self.assertEqual(len(seen), 120)
        # Only after every line came: the one outside any request is none.
        self.assertEqual(self.sink.logs(lambda r: "listening" in r["body"]), [])


CLIENT = 3


class Upstream:
    """An untraced HTTP/1.1 server in the test: each reply, head and body,
    in one send (the caller's first read after its request has it whole)."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(64)
        self.port = self.s.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _serve(c):
        with c:
            data = b""
            while b"\r\n\r\n" not in data:
                got = c.recv(4096)
                if not got:
                    return
                data += got
            body = b"up"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" %
                      (len(body), body))

    def close(self):
        self.s.close()


class Calls(unittest.TestCase):
    """A line written while the request's outgoing call is in flight is the
    call's (its CLIENT span); before and after it, the request's."""

    def test_line_during_a_call_in_its_client_span(self):
        sink, up = LogSink(), Upstream()
        try:
            port_file = os.path.join(sink.dir, "calls.port")
            p = sink.start([PY, os.path.join(APPS, "log_calls.py"), port_file, str(up.port)],
                           service="calls")
            port = wait_file(port_file, p)
            ids = ["c%d" % i for i in range(10)]
            ts = [threading.Thread(target=get, args=("http://127.0.0.1:%d/call?id=%s" %
                                                     (port, i),)) for i in ids]
            [t.start() for t in ts]
            [t.join() for t in ts]
            servers = self.sink_spans(sink, 10, SERVER)
            clients = self.sink_spans(sink, 10, CLIENT)
            by_id = {s["attributes"]["url.query"][3:]: s for s in servers}
            self.assertEqual(sorted(by_id), sorted(ids))
            call_of = {c["parent"]: c for c in clients}
            recs = sink.wait_logs(40, lambda r: " id=c" in r["body"])
            self.assertEqual(len(recs), 40, [r["body"] for r in recs][:10])
            for r in recs:
                what, ident = r["body"].split()[-2:]
                srv = by_id[ident[3:]]
                call = call_of[srv["span_id"]]
                self.assertTrue(call["attributes"]["url.full"].endswith("/up?id=" + ident[3:]),
                                call["attributes"])
                want = call if what == "calling" else srv
                self.assertEqual((r["trace_id"], r["span_id"]),
                                 (want["trace_id"], want["span_id"]), r["body"])
        finally:
            up.close()
            sink.close()

    @staticmethod
    def sink_spans(sink, n, kind):
        return sink.wait_spans(n, lambda s: s["kind"] == kind and
                               s["resource"]["service.name"] == "calls")


class Syslog(unittest.TestCase):
    TP_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
    TP = "00-%s-00f067aa0ba902b7-01" % TP_TRACE

    def run_probe(self, probe, sink, traced):
        d = tempfile.mkdtemp(dir=sink.dir)
        logfile = os.path.join(d, "probe.log")
        r = sink.run([os.path.join(BUILD, "tests", probe), logfile], service=probe, traced=traced,
                     TRACEPARENT=self.TP)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(logfile, "rb") as f:
            return r.stdout, r.stderr, f.read(), logfile

    def check(self, probe):
        sink = LogSink()
        try:
            plain = self.run_probe(probe, sink, traced=False)
            traced = self.run_probe(probe, sink, traced=True)
            self.assertEqual(traced[:3], plain[:3], "the program's bytes unchanged")
            self.assertIn(b"syslog errno 2\n", traced[0])
            spans = sink.wait_spans(1, lambda s: s["resource"]["service.name"] == probe)
            self.assertEqual(len(spans), 1)
            proc = spans[0]
            self.assertEqual(proc["trace_id"], self.TP_TRACE)
            # its printf lines to stdout are records too (C stdio)
            out = traced[0].decode().splitlines()
            recs = sink.wait_logs(6 + len(out), lambda r: r["resource"]["service.name"] == probe)
            got = {r["body"]: r for r in recs}
            self.assertEqual(len(recs), 6 + len(out))
            self.assertEqual(sorted(got), sorted([
                "cannot open /nonexistent: No such file or directory", "disk 91% full",
                "via vsyslog ok", "stderr: one line in two writes", "and a second",
                "[error] file line"] + out))
            self.assertEqual(got["done"]["attributes"], {"log.iostream": "stdout"})
            for r in recs:
                self.assertEqual((r["trace_id"], r["span_id"]), (self.TP_TRACE, proc["span_id"]))
            sev = lambda b: (got[b]["severity"], got[b]["severity_text"])  # noqa: E731
            self.assertEqual(sev("cannot open /nonexistent: No such file or directory"),
                             (17, "err"))
            self.assertEqual(sev("disk 91% full"), (13, "warning"))
            self.assertEqual(sev("via vsyslog ok"), (10, "notice"))
            self.assertEqual(sev("[error] file line"), (17, "error"))
            self.assertEqual(got["disk 91% full"]["attributes"], {"syslog.appname": "logprobe"})
            self.assertEqual(got["and a second"]["attributes"], {"log.iostream": "stderr"})
            self.assertEqual(got["[error] file line"]["attributes"],
                             {"log.file.path": traced[3]})
            self.assertEqual(sink.logs(lambda r: "masked" in r["body"]), [])
        finally:
            sink.close()

    def test_syslog(self):
        self.check("logprobe")

    def test_syslog_fortified(self):
        self.check("logprobe_fortify")


def lines_of(data, attrs):
    """The records a stream's bytes make: (body, attributes) of each line,
    a line over 8 KiB cut there and marked."""
    out = []
    for line in data.split(b"\n"):
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            continue
        a = dict(attrs)
        if len(line) > 8192:
            line = line[:8192]
            a["spanshim.log.truncated"] = True
        out.append((line.decode(), tuple(sorted(a.items()))))
    return out


class Stdio(unittest.TestCase):
    """A C program's lines through stdio (stdioprobe.c), plain and
    fortified: every line it wrote to stdout, stderr, an fopen'ed x.log, a
    y.log freopen'ed on stdout and a p.log it pwrites is one record, never
    two (glibc's flushes at exit are not captured again), with its stream
    and its severity; what fails on /dev/full (a log here) is none; the
    program's bytes and return values are its own."""

    FILES = ("x.log", "y.log", "p.log")

    def run_probe(self, probe, sink, traced):
        d = os.path.realpath(tempfile.mkdtemp(dir=sink.dir))
        r = sink.run([os.path.join(BUILD, "tests", probe), d], service=probe, traced=traced,
                     TRACEPARENT=Syslog.TP, SPANSHIM_LOG_FILES="*.log,/dev/full")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        files = {}
        for name in self.FILES:
            with open(os.path.join(d, name), "rb") as f:
                files[name] = f.read()
        return r, files, d

    def check(self, probe):
        sink = LogSink()
        try:
            plain, pfiles, _ = self.run_probe(probe, sink, traced=False)
            traced, tfiles, d = self.run_probe(probe, sink, traced=True)
            self.assertEqual((traced.stdout, traced.stderr, tfiles),
                             (plain.stdout, plain.stderr, pfiles), "the program's bytes")
            self.assertIn(b"returns ", traced.stderr)
            want = lines_of(traced.stdout, {"log.iostream": "stdout"})
            want += lines_of(traced.stderr, {"log.iostream": "stderr"})
            for name in self.FILES:
                want += lines_of(tfiles[name], {"log.file.path": os.path.join(d, name)})
            self.assertGreater(len(want), 30)
            spans = sink.wait_spans(1, lambda s: s["resource"]["service.name"] == probe)
            self.assertEqual(len(spans), 1, "the process span: export happened")
            mine = lambda r: r["resource"]["service.name"] == probe  # noqa: E731
            sink.wait_logs(len(want) + 1, mine, timeout=1)  # one more: a line captured twice
            recs = sink.logs(mine)
            got = collections.Counter((r["body"], tuple(sorted(r["attributes"].items())))
                                      for r in recs)
            self.assertEqual(got, collections.Counter(want))
            for r in recs:
                self.assertEqual((r["trace_id"], r["span_id"]),
                                 (Syslog.TP_TRACE, spans[0]["span_id"]), r["body"][:40])
            by = {r["body"]: r for r in recs}
            self.assertEqual(by["ERROR: fprintf to stderr here"]["severity"], 17)
            self.assertEqual(by["WARNING constant to stderr"]["severity"], 13)
            self.assertEqual(by["[warn] fopen line 1"]["severity"], 13)
            self.assertIn("built of & 5 unlocked pieces", by)
            self.assertIn("perror: No such file or directory", by)
            self.assertIn("after freopen to y.log", by)
            self.assertEqual(by["after freopen to y.log"]["attributes"],
                             {"log.file.path": os.path.join(d, "y.log")})
        finally:
            sink.close()

    def test_stdio(self):
        self.check("stdioprobe")

    def test_stdio_fortified(self):
        self.check("stdioprobe_fortify")

    @unittest.skipUnless(shutil.which("g++"), "no C++ compiler")
    def test_cpp_iostreams(self):
        # std::cout and std::cerr go through stdio (sync_with_stdio).
        sink = LogSink()
        try:
            src = os.path.join(sink.dir, "cout.cpp")
            exe = os.path.join(sink.dir, "cout")
            with open(src, "w") as f:
                f.write('#include <iostream>\nint main() {\n'
                        '  std::cout << "cout line " << 42 << std::endl;\n'
                        '  std::cerr << "ERROR cerr line" << std::endl;\n'
                        '  std::cout << "no endl" << \'\\n\' << "last";\n  return 0;\n}\n')
            subprocess.run(["g++", "-O2", "-o", exe, src], check=True)
            plain = sink.run([exe], traced=False)
            traced = sink.run([exe], service="cout", TRACEPARENT=Syslog.TP)
            self.assertEqual((traced.returncode, traced.stdout, traced.stderr),
                             (plain.returncode, plain.stdout, plain.stderr))
            recs = sink.wait_logs(4, lambda r: r["resource"]["service.name"] == "cout")
            self.assertEqual(sorted((r["body"], r["attributes"]["log.iostream"]) for r in recs),
                             [("ERROR cerr line", "stderr"), ("cout line 42", "stdout"),
                              ("last", "stdout"), ("no endl", "stdout")])
        finally:
            sink.close()


class ThroughTheCollector(unittest.TestCase):
    """The records as spanshim-collector writes them (--logs-jsonl), beside
    the span they belong to in its .jsonl."""

    def test_logprobe_records_in_logs_jsonl(self):
        logs = os.path.join(tempfile.mkdtemp(prefix="spanshim-logs."), "logs.jsonl")
        col = Collector(extra=("--logs-jsonl", logs))
        try:
            r = col.run([os.path.join(BUILD, "tests", "logprobe"), os.path.join(col.dir, "p.log")],
                        service="probe-col", SPANSHIM_LOGS="span", TRACEPARENT=Syslog.TP)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            spans = col.wait_spans(1, pred=lambda s: s.service == "probe-col")
            self.assertEqual(len(spans), 1)
            # 6 lines of syslog(3), stderr and its file, and one per line of printf
            want = 6 + len(r.stdout.decode().splitlines())
            recs, deadline = [], time.time() + 15
            while len(recs) < want and time.time() < deadline:
                recs = [r for _, _, r in read_log_records(logs)]
                time.sleep(0.05)
            self.assertEqual(len(recs), want, recs)
            for rec in recs:
                self.assertEqual(rec["traceId"], Syslog.TP_TRACE)
                self.assertEqual(rec["spanId"], spans[0]["spanId"])
            self.assertIn("disk 91% full", [rec["body"]["stringValue"] for rec in recs])
        finally:
            col.stop()


# Pieces that test the assembler, written by a Python program as they are.
PIECES = r"""
import os, sys
os.write(1, b"first ")
os.write(1, b"half\nwhole line\n\n\nthree\r\nin\none\n")
os.writev(2, [b"vec", b"tored ", b"line\nand ", b"more\n"])
os.write(2, b"x" * 9000 + b"\nafter the long one\n")
os.write(1, b"no newline at exit")
"""


class Pieces(unittest.TestCase):
    def test_bytes_unchanged_and_every_line_a_record(self):
        sink = LogSink()
        try:
            plain = sink.run([PY, "-c", PIECES], traced=False)
            traced = sink.run([PY, "-c", PIECES], service="pieces", logs="all")
            self.assertEqual((traced.returncode, traced.stdout, traced.stderr),
                             (plain.returncode, plain.stdout, plain.stderr))
            want = {"first half": "stdout", "whole line": "stdout", "three": "stdout",
                    "in": "stdout", "one": "stdout", "vectored line": "stderr",
                    "and more": "stderr", "x" * 8192: "stderr",
                    "after the long one": "stderr", "no newline at exit": "stdout"}
            recs = sink.wait_logs(len(want), lambda r: r["resource"]["service.name"] == "pieces")
            got = {r["body"]: r for r in recs}
            self.assertEqual(sorted(got), sorted(want))
            self.assertEqual(len(recs), len(want))
            for body, stream in want.items():
                attrs = {"log.iostream": stream}
                if body.startswith("xxx"):
                    attrs["spanshim.log.truncated"] = True
                self.assertEqual(got[body]["attributes"], attrs, body[:20])
                self.assertEqual(got[body]["trace_id"], "", "no span: no context")
        finally:
            sink.close()

    def test_off_by_default(self):
        sink = LogSink()
        try:
            r = sink.run([PY, "-c", PIECES + FENCE_CALL], service="quiet", logs=None)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            spans = sink.wait_spans(1, lambda s: s["resource"]["service.name"] == "quiet")
            self.assertEqual(len(spans), 1, "export works")
            self.assertEqual(sink.logs(), [])
        finally:
            sink.close()


# A span of its own (a refused connection) after the lines: proof that what
# the process sent has come.
FENCE_CALL = ("\nimport socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n"
              "port = s.getsockname()[1]\ns.close()\n"
              "socket.socket().connect_ex(('127.0.0.1', port))\n")


class Nginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = LogSink()
        www = os.path.join(cls.sink.dir, "www", "files")
        os.makedirs(www)
        with open(os.path.join(www, "here.txt"), "w") as f:
            f.write("here\n")
        os.chmod(cls.sink.dir, 0o755)
        cls.p, cls.port = start_nginx(cls.sink, server="location /files/ { root %s; }" %
                                      os.path.join(cls.sink.dir, "www"))

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()

    def test_error_line_in_its_request_span(self):
        for i in range(5):
            self.assertEqual(get_status("http://127.0.0.1:%d/files/missing-%d.txt" %
                                        (self.port, i)), 404)
            self.assertEqual(get("http://127.0.0.1:%d/files/here.txt" % self.port)[0], 200)
        spans = self.sink.wait_spans(5, lambda s: s["kind"] == SERVER and "missing" in
                                     s["attributes"].get("url.path", ""))
        self.assertEqual(len(spans), 5)
        recs = self.sink.wait_logs(5, lambda r: "missing-" in r["body"])
        self.assertEqual(len(recs), 5)
        for s in spans:
            path = s["attributes"]["url.path"]
            mine = [r for r in recs if ('"GET %s HTTP/1.1"' % path) in r["body"]]
            self.assertEqual(len(mine), 1, path)
            r = mine[0]
            self.assertIn("[error]", r["body"])
            self.assertIn("No such file or directory", r["body"])
            self.assertEqual((r["trace_id"], r["span_id"]), (s["trace_id"], s["span_id"]))
            self.assertEqual((r["severity"], r["severity_text"]), (17, "error"))
            self.assertEqual(r["attributes"]["log.file.path"],
                             os.path.join(self.sink.dir, "nginx-error.log"))
            self.assertEqual(r["resource"]["service.name"], "nginx")


# A program that sends its own datagrams to the local log sockets: Python's
# SysLogHandler (connected, "<PRI>msg\0"), a BSD-format line sent with
# sendto, and journal native messages (one plain, one binary-safe with a
# newline in it, sent with sendmsg in pieces).
SOCKETS_APP = r"""
import logging, logging.handlers, socket, struct
h = logging.handlers.SysLogHandler(address="/run/systemd/journal/dev-log")
log = logging.getLogger("app")
log.addHandler(h)
log.error("handler says %s", "hi")
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
u.sendto(b"<30>Dec  2 10:00:00 mydaemon[42]: started", "/run/systemd/journal/dev-log")
j = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
j.sendto(b"PRIORITY=4\nSYSLOG_IDENTIFIER=jprobe\nMESSAGE=journal plain\n",
         "/run/systemd/journal/socket")
msg = b"two\nlines"
j.sendmsg([b"MESSAGE\n", struct.pack("<Q", len(msg)), msg, b"\n", b"PRIORITY=3\n"], [], 0,
          "/run/systemd/journal/socket")
"""

# Run argv with the sink's sockets at the log sockets' paths, in a mount
# namespace of its own (nothing of the host's is touched).
NS = ("mount -t tmpfs none /run/systemd && mkdir /run/systemd/journal && "
      "touch /run/systemd/journal/dev-log /run/systemd/journal/socket && "
      "mount --bind \"$1\" /run/systemd/journal/dev-log && "
      "mount --bind \"$2\" /run/systemd/journal/socket && shift 2 && exec \"$@\"")


def can_unshare():
    return os.geteuid() == 0 and shutil.which("unshare") and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0


@unittest.skipUnless(can_unshare(), "needs root and unshare -m (a mount namespace)")
class LogSockets(unittest.TestCase):
    def test_datagrams_to_syslog_and_journal(self):
        sink = LogSink()
        socks = []
        try:
            for name in ("dev-log", "journal"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.bind(os.path.join(sink.dir, name))
                socks.append(s)
            argv = ["unshare", "-m", "sh", "-c", NS, "ns", os.path.join(sink.dir, "dev-log"),
                    os.path.join(sink.dir, "journal"), PY, "-c", SOCKETS_APP]
            r = sink.run(argv, service="sockets", TRACEPARENT=Syslog.TP)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            got = [s.recv(65536) for s in socks for _ in range(2)]
            self.assertIn(b"<11>handler says hi\x00", got, "the datagrams went as they were")
            recs = sink.wait_logs(4, lambda r: r["resource"]["service.name"] == "sockets")
            by = {r["body"]: r for r in recs}
            self.assertEqual(sorted(by), sorted(["handler says hi", "started", "journal plain",
                                                 "two\nlines"]))
            self.assertEqual((by["handler says hi"]["severity"],
                              by["handler says hi"]["severity_text"]), (17, "err"))
            self.assertEqual(by["handler says hi"]["attributes"], {})
            self.assertEqual(by["started"]["attributes"], {"syslog.appname": "mydaemon"})
            self.assertEqual(by["started"]["severity"], 9)
            self.assertEqual(by["journal plain"]["attributes"], {"syslog.appname": "jprobe"})
            self.assertEqual(by["journal plain"]["severity"], 13)
            self.assertEqual(by["two\nlines"]["severity"], 17)
            for rec in recs:
                self.assertEqual(rec["trace_id"], Syslog.TP_TRACE)
        finally:
            for s in socks:
                s.close()
            sink.close()


APACHE_LOGS_CONF = """
DocumentRoot "{dir}/www"
LogLevel info
"""


def apache_www(d):
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "here.txt"), "w") as f:
        f.write("here\n")


@unittest.skipUnless(os.path.exists(APACHE), "apache2 is not installed")
class Apache(unittest.TestCase):
    def test_error_log_line_in_its_request_span(self):
        sink = LogSink()
        try:
            p, port = start_apache(sink, APACHE_LOGS_CONF, apache_www)
            try:
                for i in range(5):
                    self.assertEqual(get_status("http://127.0.0.1:%d/missing-%d.txt" %
                                                (port, i)), 404)
                    self.assertEqual(get("http://127.0.0.1:%d/here.txt" % port)[0], 200)
                spans = sink.wait_spans(5, lambda s: s["kind"] == SERVER and "missing" in
                                        s["attributes"].get("url.path", ""))
                recs = sink.wait_logs(5, lambda r: "AH00128" in r["body"])
            finally:
                stop_apache(p)
            self.assertEqual(len(spans), 5)
            self.assertEqual(len(recs), 5, [r["body"] for r in recs])
            for s in spans:
                name = s["attributes"]["url.path"]
                mine = [r for r in recs if r["body"].endswith(name)]
                self.assertEqual(len(mine), 1, name)
                r = mine[0]
                self.assertIn("File does not exist", r["body"])
                self.assertEqual((r["trace_id"], r["span_id"]), (s["trace_id"], s["span_id"]))
                self.assertEqual((r["severity"], r["severity_text"]), (9, "info"))
                self.assertTrue(r["attributes"]["log.file.path"].endswith("/apache-error.log"),
                                r["attributes"])
                self.assertEqual(r["resource"]["service.name"], "apache2")
        finally:
            sink.close()


NODE_APP = r"""
const http = require('http');
const fs = require('fs');
const s = http.createServer((q, a) => {
  const id = q.url.split('id=')[1];
  console.log(`handling id=${id}`);
  console.error(JSON.stringify({level: 'warn', msg: 'slow path', id: id}));
  a.end('ok');
});
s.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[1] + '.tmp', String(s.address().port));
  fs.renameSync(process.argv[1] + '.tmp', process.argv[1]);
});
"""


@unittest.skipUnless(shutil.which(NODE), "node is not installed")
class Node(unittest.TestCase):
    def test_console_log_in_a_handler(self):
        sink = LogSink()
        try:
            port_file = os.path.join(sink.dir, "node.port")
            p = sink.start([NODE, "-e", NODE_APP, port_file], service="node-logs")
            port = wait_file(port_file, p)
            for i in range(5):
                self.assertEqual(get("http://127.0.0.1:%d/h?id=n%d" % (port, i))[1], b"ok")
            spans = sink.wait_spans(5, lambda s: s["kind"] == SERVER and
                                    s["resource"]["service.name"] == "node-logs")
            self.assertEqual(len(spans), 5)
            recs = sink.wait_logs(10, lambda r: r["resource"]["service.name"] == "node-logs")
            self.assertEqual(len(recs), 10, [r["body"] for r in recs])
            for s in spans:
                ident = s["attributes"]["url.query"][3:]
                mine = [r for r in recs if ident in r["body"]]
                self.assertEqual(len(mine), 2, ident)
                for r in mine:
                    self.assertEqual((r["trace_id"], r["span_id"]), (s["trace_id"], s["span_id"]))
                out = [r for r in mine if r["attributes"] == {"log.iostream": "stdout"}][0]
                self.assertEqual(out["body"], "handling id=%s" % ident)
                err = [r for r in mine if r["attributes"] == {"log.iostream": "stderr"}][0]
                self.assertEqual(json.loads(err["body"])["id"], ident)
                self.assertEqual((err["severity"], err["severity_text"]), (13, "warn"))
        finally:
            sink.close()


if __name__ == "__main__":
    unittest.main()
