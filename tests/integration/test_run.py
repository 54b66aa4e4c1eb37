"""`spanshim run` and whole programs: exit status, a private collector,
refused connections, wget, and spans flushed before exec and _exit."""
import base64
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (LIB, PRELOAD, PY, SPANSHIM, Collector, read_lines, read_log_records,
                     read_spans, start_app)


def log_records(path):
    """The log records of a --logs-jsonl file, in order."""
    return [rec for _, _, rec in read_log_records(path)]


class Run(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.record = os.path.join(cls.col.dir, "backend.record")
        cls.backend, cls.port = start_app(cls.col, "backend.py", [cls.record], traced=False)
        cls.url = "http://127.0.0.1:%d/inventory" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def spanshim(self, *argv, cwd=None, env_extra=None):
        env = dict(os.environ)
        env.pop("SPANSHIM_LOGS", None)
        env.update(env_extra or {})
        env["SPANSHIM_SOCKET"] = os.path.join(self.col.dir, "nobody-listens.sock")
        if PRELOAD != LIB:
            env["LD_PRELOAD"] = PRELOAD[: -len(LIB) - 1]  # the sanitizer runtime
        return subprocess.run([SPANSHIM, "run", *argv], env=env, capture_output=True,
                              timeout=60, cwd=cwd)

    def test_exit_status_is_the_programs(self):
        jsonl = os.path.join(self.col.dir, "exit.jsonl")
        self.assertEqual(self.spanshim("--jsonl", jsonl, "--", "sh", "-c", "exit 3").returncode, 3)
        self.assertEqual(self.spanshim("--jsonl", jsonl, "--", "sh", "-c", "kill -TERM $$")
                         .returncode, 128 + 15)
        self.assertEqual(self.spanshim("--jsonl", jsonl, "--", "/nonexistent/prog").returncode, 127)

    def test_signals_reach_the_program(self):
        # As a container's PID 1 would be: SIGTERM to spanshim reaches CMD.
        env = dict(os.environ, SPANSHIM_SOCKET=os.path.join(self.col.dir, "nobody-listens.sock"))
        p = subprocess.Popen([SPANSHIM, "run", "--jsonl", os.path.join(self.col.dir, "sig.jsonl"),
                              "--", "sh", "-c",
                              "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"],
                             env=env, stdout=subprocess.PIPE)
        self.assertEqual(p.stdout.readline(), b"ready\n")
        p.send_signal(15)
        self.assertEqual(p.wait(timeout=20), 42)
        p.stdout.close()

    def test_program_stops_reading_the_body(self):
        # The program reads the status line of a 500 and hangs up: the span
        # keeps the status it saw, not a transport error.
        code = ("import sys, urllib.request, urllib.error\n"
                "try:\n    urllib.request.urlopen(sys.argv[1])\n"
                "except urllib.error.HTTPError as e:\n    e.close()\n")
        url = self.url.replace("/inventory", "/error?early=close")
        r = self.col.run([PY, "-c", code, url])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs["http.response.status_code"], 500)
        self.assertEqual(got[0].attrs["error.type"], "500")

    def test_private_collector_and_service_name(self):
        d = tempfile.mkdtemp(dir=self.col.dir)
        r = self.spanshim("--service", "shop-cli", "--", "curl", "-sS", "-o", "/dev/null",
                          self.url, cwd=d)
        self.assertEqual(r.returncode, 0, r.stderr)
        jsonl = os.path.join(d, "spanshim-traces.jsonl")
        self.assertIn(jsonl.encode(), r.stderr)  # it says where the spans went
        spans = read_spans(jsonl)
        self.assertEqual(len(spans), 1)
        self.assertEqual(spans[0].service, "shop-cli")
        self.assertEqual(spans[0]["kind"], 3)
        self.assertEqual(spans[0].attrs["url.full"], self.url)

    def test_logs_jsonl_gets_the_programs_log_lines(self):
        # --logs-jsonl: the private collector writes the records there, and
        # capture is on (span) without --logs: the line CMD writes to stderr
        # while its process span is current (TRACEPARENT) is a record of it.
        d = tempfile.mkdtemp(dir=self.col.dir)
        tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        code = "import sys; sys.stderr.write('hello from under run\\n'); sys.stderr.flush()"
        r = self.spanshim("--jsonl", "t.jsonl", "--logs-jsonl", "l.jsonl", "--", PY, "-c", code,
                          cwd=d, env_extra={"TRACEPARENT": tp})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"hello from under run", r.stderr)  # the program's bytes, its own
        spans = read_spans(os.path.join(d, "t.jsonl"))
        proc = [s for s in spans if s.get("parentSpanId") == "00f067aa0ba902b7"]
        self.assertEqual(len(proc), 1, spans)
        recs = log_records(os.path.join(d, "l.jsonl"))
        self.assertEqual([x["body"]["stringValue"] for x in recs], ["hello from under run"])
        self.assertEqual((recs[0]["traceId"], recs[0]["spanId"]),
                         (proc[0]["traceId"], proc[0]["spanId"]))

    def test_logs_mode_is_the_programs_spanshim_logs(self):
        # --logs all: a line outside any span is a record too (without ids);
        # --logs off: none, even with --logs-jsonl asking for the file.
        d = tempfile.mkdtemp(dir=self.col.dir)
        code = "import os; os.write(2, b'line %s\\n')"
        for mode in ("all", "off"):
            r = self.spanshim("--jsonl", "t.jsonl", "--logs-jsonl", mode + ".jsonl",
                              "--logs", mode, "--", PY, "-c", code % mode, cwd=d,
                              env_extra={"SPANSHIM_LOG": "debug"})
            self.assertEqual(r.returncode, 0, r.stderr)
            # The shim's exit counters: what it captured, whatever reached the file.
            self.assertIn(b"logs_captured: 1" if mode == "all" else b"line off", r.stderr)
        recs = log_records(os.path.join(d, "all.jsonl"))
        self.assertEqual([x["body"]["stringValue"] for x in recs], ["line all"])
        self.assertNotIn("traceId", recs[0])
        self.assertEqual(log_records(os.path.join(d, "off.jsonl")), [])
        self.assertNotIn(b"logs_captured: 1", r.stderr)
        r = self.spanshim("--logs", "some", "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--logs takes off, span or all", r.stderr)

    def test_refused_connect(self):
        jsonl = os.path.join(self.col.dir, "refused.jsonl")
        r = self.spanshim("--jsonl", jsonl, "--", "curl", "-sS", "http://127.0.0.1:1/")
        self.assertEqual(r.returncode, 7)  # curl's own "could not connect"
        spans = read_spans(jsonl)
        self.assertEqual(len(spans), 1)
        s = spans[0]
        self.assertEqual(s["kind"], 3)
        self.assertEqual(s["status"]["code"], 2)
        self.assertEqual(s.attrs["error.type"], "ECONNREFUSED")
        self.assertEqual(s.attrs["server.port"], 1)

    def test_reset_and_truncated_responses(self):
        import socket
        import threading

        def serve(sock, mode):
            conn, _ = sock.accept()
            conn.recv(65536)
            if mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
            conn.close()

        for mode, want in (("reset", "ECONNRESET"), ("truncated", "response_truncated")):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            t = threading.Thread(target=serve, args=(s, mode))
            t.start()
            self.col.run(["curl", "-sS", "http://127.0.0.1:%d/%s" % (s.getsockname()[1], mode)])
            t.join()
            s.close()
            got = self.col.wait_spans(1, pred=lambda x: x.attrs.get("url.full", "").endswith(mode))
            self.assertEqual(len(got), 1, mode)
            self.assertEqual(got[0]["status"]["code"], 2)
            self.assertEqual(got[0].attrs["error.type"], want)

    def test_wget(self):
        r = self.col.run(["wget", "-q", "-O", "/dev/null", self.url + "?by=wget"])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full", "").endswith("by=wget"))
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].res["process.executable.name"].startswith("wget"))
        self.assertEqual(got[0].attrs["http.response.status_code"], 200)

    def test_flush_before_exec_and_exit(self):
        code = ("import os, sys, urllib.request\n"
                "urllib.request.urlopen(sys.argv[1]).read()\n"
                "os.execv('/bin/true', ['true']) if sys.argv[2] == 'exec' else os._exit(0)\n")
        for how in ("exec", "_exit"):
            r = self.col.run([PY, "-c", code, self.url + "?by=" + how, how])
            self.assertEqual(r.returncode, 0, r.stderr)
            got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full", "").endswith(how))
            self.assertEqual(len(got), 1, how)

    def test_sdk_disabled_propagates_inbound_context(self):
        front, fport = start_app(self.col, "frontend.py", [self.port], "quiet-front",
                                 OTEL_SDK_DISABLED="true")
        tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        before = len(read_lines(self.record))
        r = self.col.run(["curl", "-sS", "-H", "traceparent: " + tp,
                          "http://127.0.0.1:%d/checkout?disabled=1" % fport], traced=False)
        self.assertEqual(r.returncode, 0)
        raw = base64.b64decode(json.loads(read_lines(self.record)[before])["raw"])
        # No span of its own, so the inbound context goes on unchanged.
        self.assertIn(b"traceparent: " + tp.encode() + b"\r\n", raw)
        front.send_signal(signal.SIGINT)  # Python exits cleanly: a span it held is flushed
        front.wait(timeout=10)
        self.col.fence()
        self.assertEqual([s for s in self.col.spans() if s.service == "quiet-front"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
