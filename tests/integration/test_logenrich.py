"""SPANSHIM_LOG_ENRICH=on: the program's own log lines gain the trace_id,
span_id and trace_flags of the span they were written in, in its output.

Real programs, their output read back and compared with the same run
untraced (the fields taken out, the bytes must be the same), their spans
from the datagrams the shim sends (logsink.py):
- a threaded http.server logging with `logging` to stderr (plain) and to a
  log file (a JSON formatter), and writing a CRLF line and an empty JSON
  object itself: each line written while a request is served carries that
  request's SERVER span, once, in the form of its line; the line logged
  outside any request is as it was; alone, the variable makes no records;
  with SPANSHIM_LOGS=span too, 20 requests at once, each line its own
  request's, and each record the line as the program wrote it;
- a C program (plain and _FORTIFY_SOURCE) writing with write and writev
  in every shape (CRLF, JSON in writev pieces, an empty object, a line in
  two writes, a '}' a write before its '\\n', many lines in one write and
  in one writev, a line of 20000 bytes): exactly the expected bytes, each
  call returning its length with errno as it was;
- the same program writing 3000 lines to a non-blocking pipe of one page
  that the test reads slowly (short writes and EAGAIN, a line now and
  then in two calls): nothing lost, nothing reordered, every line with its
  fields once.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import BUILD, PY, APPS
from logsink import SERVER, LogSink, get, wait_file

TP_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TP = "00-%s-00f067aa0ba902b7-01" % TP_TRACE
HEX = rb"[0-9a-f]"
PLAIN = re.compile(rb" trace_id=(" + HEX + rb"{32}) span_id=(" + HEX + rb"{16}) trace_flags=(" +
                   HEX + rb"{2})")
JSONF = re.compile(rb',?"trace_id":"(' + HEX + rb'{32})","span_id":"(' + HEX +
                   rb'{16})","trace_flags":"(' + HEX + rb'{2})"')


def strip(b):
    """The output with the fields taken out: what the program wrote."""
    return JSONF.sub(b"", PLAIN.sub(b"", b))


def fields(line):
    """Every set of fields in a line: (trace_id, span_id, flags, form)."""
    return ([(m.group(1).decode(), m.group(2).decode(), m.group(3).decode(), "plain")
             for m in PLAIN.finditer(line)] +
            [(m.group(1).decode(), m.group(2).decode(), m.group(3).decode(), "json")
             for m in JSONF.finditer(line)])


class PythonServer(unittest.TestCase):
    def serve(self, sink, name, ids, traced=True, at_once=False, **env):
        """Start the server, make the requests, stop it: its stderr and its log file."""
        d = os.path.join(sink.dir, name)
        os.makedirs(d)
        port_file, logfile = os.path.join(d, "port"), os.path.join(d, "app.log")
        p = sink.start([PY, os.path.join(APPS, "log_enrich.py"), port_file, logfile],
                       service=name, traced=traced, logs=env.pop("logs", None), **env)
        port = wait_file(port_file, p)
        urls = ["http://127.0.0.1:%d/work?id=%s" % (port, i) for i in ids]
        if at_once:
            ts = [threading.Thread(target=get, args=(u,)) for u in urls]
            [t.start() for t in ts]
            [t.join() for t in ts]
        else:
            for u in urls:
                self.assertEqual(get(u), (200, b"ok"))
        if traced:
            self.assertEqual(len(sink.wait_spans(len(ids), lambda s: s["kind"] == SERVER and
                                                 s["resource"]["service.name"] == name)),
                             len(ids))
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        with open(logfile, "rb") as f:
            return err, f.read()

    def spans_by_id(self, sink, name):
        return {s["attributes"]["url.query"][3:]: s for s in
                sink.spans(lambda s: s["kind"] == SERVER and
                           s["resource"]["service.name"] == name)}

    def check_line(self, line, span, form):
        got = fields(line)
        self.assertEqual(len(got), 1, line)
        t, s, flags, f = got[0]
        self.assertEqual((t, s, f), (span["trace_id"], span["span_id"], form), line)
        # sampled; a trace the shim began has the random bit too (W3C level 2)
        self.assertIn(flags, ("01", "03"), line)

    def test_each_line_in_its_request_and_the_rest_unchanged(self):
        sink = LogSink()
        try:
            ids = ["s%d" % i for i in range(8)]
            plain = self.serve(sink, "untraced", ids, traced=False)
            traced = self.serve(sink, "enriched", ids, SPANSHIM_LOG_ENRICH="on")
            self.assertEqual(strip(traced[0]), plain[0], "stderr: only the fields added")
            self.assertEqual(strip(traced[1]), plain[1], "the log file: only the fields added")
            self.assertNotEqual(traced[0], plain[0])
            by_id = self.spans_by_id(sink, "enriched")
            self.assertEqual(sorted(by_id), sorted(ids))
            lines = traced[0].split(b"\n")
            self.assertEqual(lines[0], b"INFO svc: listening outside any request")
            self.assertEqual(lines[-1], b"")
            cur, seen = None, 0
            for line in lines[1:-1]:
                m = re.search(rb"id=(s\d+)", line)
                if line.startswith(b"INFO svc: start id="):
                    cur = by_id[m.group(1).decode()]
                self.assertIsNotNone(cur, line)
                if m:
                    self.assertEqual(m.group(1).decode(), cur["attributes"]["url.query"][3:])
                if line.startswith(b"{"):
                    self.check_line(line, cur, "json")
                    self.assertEqual(json.loads(line), {"trace_id": cur["trace_id"],
                                                        "span_id": cur["span_id"],
                                                        "trace_flags": fields(line)[0][2]})
                else:
                    self.check_line(line, cur, "plain")
                if line.startswith(b"crlf"):
                    self.assertTrue(line.endswith(b"\r"), "the fields before the CRLF")
                    self.assertRegex(line, rb" trace_flags=0[13]\r$")
                seen += 1
            self.assertEqual(seen, 4 * len(ids))
            flines = traced[1].split(b"\n")
            self.assertEqual(json.loads(flines[0]), {"level": "info", "logger": "svc",
                                                     "msg": "listening outside any request"})
            for line in flines[1:-1]:
                rec = json.loads(line)
                span = by_id[rec["msg"].split("id=")[1]]
                self.assertEqual((rec["trace_id"], rec["span_id"]),
                                 (span["trace_id"], span["span_id"]))
                self.assertIn(rec["trace_flags"], ("01", "03"))
                self.assertEqual(list(rec)[:3], ["level", "logger", "msg"], "appended at the end")
            self.assertEqual(len(flines), 2 * len(ids) + 2)
            # Alone the variable makes no records (the spans came: export works).
            self.assertEqual(sink.logs(), [])
        finally:
            sink.close()

    def test_at_once_with_records(self):
        sink = LogSink()
        try:
            ids = ["c%d" % i for i in range(20)]
            err, flog = self.serve(sink, "both", ids, at_once=True, logs="span",
                                   SPANSHIM_LOG_ENRICH="on")
            by_id = self.spans_by_id(sink, "both")
            self.assertEqual(sorted(by_id), sorted(ids))
            spans = {s["span_id"]: s for s in by_id.values()}
            lines = err.split(b"\n")[1:-1]
            self.assertEqual(len(lines), 4 * len(ids))
            for line in lines:
                m = re.search(rb"id=(c\d+)", line)
                if m:
                    self.check_line(line, by_id[m.group(1).decode()],
                                    "plain")
                else:
                    self.assertEqual(strip(line), b"{}")
                    got = fields(line)
                    self.assertEqual(len(got), 1, line)
                    self.assertIn(got[0][1], spans, "an empty object's: one request's")
            for line in flog.split(b"\n")[1:-1]:
                rec = json.loads(line)
                span = by_id[rec["msg"].split("id=")[1]]
                self.assertEqual((rec["trace_id"], rec["span_id"]),
                                 (span["trace_id"], span["span_id"]))
            # Records: each line as the program wrote it, in its request's span.
            recs = sink.wait_logs(6 * len(ids), lambda r: r["resource"]["service.name"] == "both")
            self.assertEqual(len(recs), 6 * len(ids), [r["body"] for r in recs][:8])
            for r in recs:
                self.assertNotIn("trace_id", r["body"])
                self.assertIn(r["span_id"], spans, r["body"])
                m = re.search(r"id=(c\d+)", r["body"])
                if m:
                    self.assertEqual(r["span_id"], by_id[m.group(1)]["span_id"], r["body"])
                else:
                    self.assertEqual(r["body"], "{}")
        finally:
            sink.close()


F = " trace_id=%s span_id=%s trace_flags=01"
J = ',"trace_id":"%s","span_id":"%s","trace_flags":"01"'


class CProbe(unittest.TestCase):
    def run_forms(self, sink, probe, traced):
        d = os.path.join(sink.dir, "%s-%s" % (probe, traced))
        os.makedirs(d)
        logfile, report = os.path.join(d, "p.log"), os.path.join(d, "report")
        r = sink.run([os.path.join(BUILD, "tests", probe), "forms", logfile, report],
                     service=probe, traced=traced, logs=None, TRACEPARENT=TP,
                     SPANSHIM_LOG_ENRICH="on")
        with open(report) as f:
            rep = f.read()
        self.assertEqual((r.returncode, rep), (0, "ok 14 calls\n"), r.stderr.decode())
        with open(logfile, "rb") as f:
            return r.stderr, f.read()

    def check(self, probe):
        sink = LogSink()
        try:
            plain = self.run_forms(sink, probe, False)
            traced = self.run_forms(sink, probe, True)
            self.assertEqual(strip(traced[0]), plain[0])
            self.assertEqual(strip(traced[1]), plain[1])
            spans = sink.wait_spans(1, lambda s: s["resource"]["service.name"] == probe)
            self.assertEqual(len(spans), 1)
            ids = (TP_TRACE, spans[0]["span_id"])
            f, j = (F % ids).encode(), (J % ids).encode()
            self.assertEqual(traced[0], b"".join([
                b"plain line", f, b"\n",
                b"crlf line", f, b"\r\n",
                b'{"a":1', j, b"}\n",
                b"{", j[1:], b"}\n",
                b"split line", f, b"\n",
                b'{"late":1}\n',                     # its '}' came a write before its end
                b"a", f, b"\nb", f, b"\nc", f, b"\n"]))
            want = b"".join(b'{"n":%d%s}\n' % (i, j) for i in range(100))
            vec = b"".join((b"v%d\n" if i % 3 == 2 else b"v%d ") % i for i in range(100)) + b"\n"
            want += vec.replace(b"\n", f + b"\n")
            want += b"L" * 19999 + f + b"\n"
            self.assertEqual(traced[1], want)
        finally:
            sink.close()

    def test_forms(self):
        self.check("enrichprobe")

    def test_forms_fortified(self):
        self.check("enrichprobe_fortify")

    def run_nonblock(self, sink, traced, lines):
        report = os.path.join(sink.dir, "nb-%s" % traced)
        env = sink.env("nonblock", None, TRACEPARENT=TP, SPANSHIM_LOG_ENRICH="on",
                       SPANSHIM_LOG="debug") if traced else dict(os.environ)
        if not traced:
            env.pop("LD_PRELOAD", None)
        p = subprocess.Popen([os.path.join(BUILD, "tests", "enrichprobe"), "nonblock", str(lines),
                              report], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        errs = []
        t = threading.Thread(target=lambda: errs.append(p.stderr.read()))
        t.start()
        out, fd = [], p.stdout.fileno()
        while True:
            b = os.read(fd, 700 if traced else 65536)
            if not b:
                break
            out.append(b)
            if traced:
                time.sleep(0.0005)  # slower than it writes: the pipe fills
        p.wait(timeout=60)
        t.join()
        p.stdout.close()
        p.stderr.close()
        with open(report) as f:
            rep = f.read().split()
        self.assertEqual((p.returncode, rep[:3]), (0, ["ok", str(lines), "lines"]), errs)
        return b"".join(out), rep, errs[0]

    def test_nonblocking_full_pipe(self):
        sink = LogSink()
        try:
            n = 3000
            plain = self.run_nonblock(sink, False, n)[0]
            traced, rep, err = self.run_nonblock(sink, True, n)
            self.assertGreater(int(rep[3]), 0, "short writes happened: %s" % rep)
            self.assertGreater(int(rep[5]), 0, "the pipe was full: %s" % rep)
            self.assertEqual(len(plain.split(b"\n")), n + 1)
            self.assertEqual(strip(traced), plain, "nothing lost, nothing reordered")
            lines = traced.split(b"\n")[:-1]
            self.assertEqual(len(lines), n)
            for i, line in enumerate(lines):
                got = fields(line)
                self.assertEqual(len(got), 1, line)
                self.assertEqual(got[0][0], TP_TRACE)
                self.assertEqual(got[0][3], "json" if i % 2 else "plain", line)
            self.assertIn(b"logs_enriched: %d " % n, err)
            # Some of the short writes cut a line's fields (most of a line's bytes
            # here are fields): their rest went first in the next call.
            self.assertRegex(err, rb"logs_enrich_owed: [1-9]")
            self.assertNotIn(b"logs_enrich_missed", err)
            self.assertNotIn(b"logs_enrich_lost", err)
        finally:
            sink.close()


class Stdio(unittest.TestCase):
    """A C program's lines through stdio (stdioprobe.c: printf, fprintf,
    fwrite, fputs, puts, putc and the rest, an fopen'ed x.log, a y.log
    freopen'ed on stdout), plain and fortified, SPANSHIM_LOG_ENRICH=on in
    its process span (TRACEPARENT): each line it ends gets the fields once,
    in the bytes glibc writes out; with them taken out, every file and
    every return value (stderr's last lines) is as untraced."""

    FILES = ("x.log", "y.log")

    def run_probe(self, sink, probe, traced):
        d = os.path.realpath(os.path.join(sink.dir, "%s-%s" % (probe, traced)))
        os.makedirs(d)
        r = sink.run([os.path.join(BUILD, "tests", probe), d], service=probe, traced=traced,
                     logs=None, TRACEPARENT=TP, SPANSHIM_LOG_ENRICH="on",
                     SPANSHIM_LOG_FILES="*.log,/dev/full")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        files = {}
        for name in self.FILES:
            with open(os.path.join(d, name), "rb") as f:
                files[name] = f.read()
        return r.stdout, r.stderr, files

    def check(self, probe):
        sink = LogSink()
        try:
            out, err, files = self.run_probe(sink, probe, False)
            tout, terr, tfiles = self.run_probe(sink, probe, True)
            self.assertEqual((strip(tout), strip(terr), {k: strip(v) for k, v in tfiles.items()}),
                             (out, err, files), "the program's bytes and return values")
            self.assertIn(b"returns ", err)
            spans = sink.wait_spans(1, lambda s: s["resource"]["service.name"] == probe)
            self.assertEqual(len(spans), 1, "the process span")
            ids = (TP_TRACE, spans[0]["span_id"], "01", "plain")
            for name, data in (("stdout", tout), ("stderr", terr)) + tuple(tfiles.items()):
                lines = [ln for ln in data.split(b"\n")[:-1] if ln.strip()]
                self.assertTrue(lines, name)
                for ln in lines:
                    self.assertEqual(fields(ln), [ids], (name, ln[:60]))
            self.assertIn(b"built of & 5 unlocked pieces" + (F % ids[:2]).encode(), tout + terr)
        finally:
            sink.close()

    def test_stdio(self):
        self.check("stdioprobe")

    def test_stdio_fortified(self):
        self.check("stdioprobe_fortify")


if __name__ == "__main__":
    unittest.main()
