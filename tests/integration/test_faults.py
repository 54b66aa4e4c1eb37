"""Partial writes and faults.

- A non-blocking client with the smallest send buffer, against a server
  reading a few hundred bytes at a time, sends bodies from 1 byte to 1 MiB:
  the server receives exactly the request plus one traceparent line, and no
  write ever returns more than it was given (the client aborts if one does).
- A library preloaded after the shim makes socket calls return short
  counts, EINTR and EAGAIN at random, or resets a connection: curl and the
  Python chain behave exactly as they do with the same faults and no shim,
  but for the added header, and the spans record the failures.
- A server that exits while inside the write of a response's last bytes
  (a signal handler's exit(), after the kernel took them: the count never
  reached the shim) still sends that request's span whole, with its status,
  whether they went by write or by sendfile."""
import base64
import json
import os
import re
import time
import unittest

from harness import APPS, BUILD, PRELOAD, PY, CollectorTest, read_lines, start_app

SLOW = os.path.join(BUILD, "tests", "slowprobe")
# One request answered with its head by send and its body by sendfile.
SENDFILE_SERVER = r'''
import os, socket, sys
body = os.path.join(sys.argv[2], "body")
with open(body, "wb") as f:
    f.write(b"x" * 1000)
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(l.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = l.accept()
c.recv(65536)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
with open(body, "rb") as f:
    os.sendfile(c.fileno(), f.fileno(), 0, 1000)
'''
FAULT = os.path.join(BUILD, "tests", "libfaultinject.so")
TP_LINE = re.compile(rb"traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]\r\n")


class Faults(CollectorTest):
    def test_short_writes_from_1_byte_to_1_mib(self):
        for size in (1, 100, 4000, 65536, 1 << 20):
            with self.subTest(size=size):
                port_file = os.path.join(self.col.dir, "slow.%d.port" % size)
                out = os.path.join(self.col.dir, "slow.%d.out" % size)
                server = self.col.start([SLOW, "server", port_file, out], service="slow-server")
                port = ""
                while not port:
                    self.assertIsNone(server.poll())
                    time.sleep(0.01)
                    port = "".join(read_lines(port_file))
                client = self.col.run([SLOW, "client", port, str(size)], service="slow-client")
                self.assertEqual(client.returncode, 0, client.stderr)
                self.assertEqual(server.wait(timeout=60), 0)
                with open(out, "rb") as f:
                    got = f.read()
                head = b"POST /upload HTTP/1.1\r\nHost: slow\r\nContent-Length: %d\r\n\r\n" % size
                body = bytes((ord("a") + i % 26) for i in range(size))
                self.assertEqual(len(TP_LINE.findall(got)), 1)
                self.assertEqual(TP_LINE.sub(b"", got), head + body)
                self.assertTrue(got.startswith(head[:-2]))

    def chain(self, tag, traced, **env):
        """curl -> frontend -> backend, every process with the fault library."""
        preload = (PRELOAD + ":" if traced else "") + FAULT
        record = os.path.join(self.col.dir, "%s.record" % tag)
        _, bport = start_app(self.col, "backend.py", [record], "backend-" + tag,
                             LD_PRELOAD=preload, **env)
        _, fport = start_app(self.col, "frontend.py", [bport], "frontend-" + tag,
                             LD_PRELOAD=preload, **env)
        outs = []
        for path in ("/checkout?item=1", "/order", "/fail"):
            r = self.col.run(["curl", "-sS", "-w", " %{http_code}", "http://127.0.0.1:%d%s" % (fport, path)],
                             LD_PRELOAD=preload, **env)
            outs.append((r.returncode, r.stdout))
        raw = [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(record)]
        return outs, raw

    def test_random_faults_change_nothing_but_the_header(self):
        for seed in ("1", "2", "3"):
            env = {"FAULT_SEED": seed, "FAULT_RATE": "40"}
            plain_out, plain_raw = self.chain("plain" + seed, False, **env)
            traced_out, traced_raw = self.chain("traced" + seed, True, **env)
            self.assertEqual(traced_out, plain_out)
            self.assertEqual([o[1].split()[-1] for o in plain_out], [b"200", b"200", b"502"])
            self.assertEqual(len(traced_raw), len(plain_raw))
            for t, p in zip(traced_raw, plain_raw):
                self.assertEqual(len(TP_LINE.findall(t)), 1)
                # Host differs (another backend port); everything else is the same.
                self.assertEqual(re.sub(rb"Host: [^\r]*", b"", TP_LINE.sub(b"", t)),
                                 re.sub(rb"Host: [^\r]*", b"", p))
            # And the traces still join up: 4 spans for the checkout.
            fsrv = self.col.wait_spans(1, pred=lambda s: s.service == "frontend-traced" + seed
                                       and s.attrs.get("url.query") == "item=1")
            self.assertEqual(len(fsrv), 1)
            trace = self.col.wait_spans(4, pred=lambda s: s["traceId"] == fsrv[0]["traceId"])
            self.assertEqual(len(trace), 4)

    def test_no_threads_for_the_exporter(self):
        # pthread_create fails: the exporter has no flush thread, and spans
        # still leave (with later ones, or at exit).
        record = os.path.join(self.col.dir, "nothreads.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        url = "http://127.0.0.1:%d/inventory?threads=none" % port
        code = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)"
        r = self.col.run([PY, "-c", code, url], LD_PRELOAD=FAULT + ":" + PRELOAD,
                         FAULT_RATE="0", FAULT_NO_THREADS="1", SPANSHIM_LOG="info")
        self.assertEqual(r.stdout, b"200\n")
        self.assertIn(b"no flush thread", r.stderr)
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1)

    def test_reset_is_recorded(self):
        record = os.path.join(self.col.dir, "reset.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        url = "http://127.0.0.1:%d/inventory?reset=1" % port
        plain = self.col.run(["curl", "-sS", url], LD_PRELOAD=FAULT, FAULT_RATE="0", FAULT_RESET="1")
        traced = self.col.run(["curl", "-sS", url], LD_PRELOAD=PRELOAD + ":" + FAULT,
                              FAULT_RATE="0", FAULT_RESET="1")
        self.assertEqual(plain.returncode, 56)  # curl: receive failure
        self.assertEqual((traced.returncode, traced.stdout, traced.stderr),
                         (plain.returncode, plain.stdout, plain.stderr))
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs["error.type"], "ECONNRESET")
        self.assertEqual(got[0]["status"]["code"], 2)

    def test_exit_inside_the_response_write(self):
        # The kernel took the whole response; exit() ran before the write
        # returned (FAULT_EXIT_AFTER_WRITE). The client has it all, so the
        # span is the request's as it went, not one the exit cut short.
        port_file = os.path.join(self.col.dir, "exit.port")
        out = os.path.join(self.col.dir, "exit.out")
        server = self.col.start([SLOW, "server", port_file, out], service="exit-server",
                                LD_PRELOAD=PRELOAD + ":" + FAULT, FAULT_RATE="0",
                                FAULT_EXIT_AFTER_WRITE="1")
        port = ""
        while not port:
            self.assertIsNone(server.poll())
            time.sleep(0.01)
            port = "".join(read_lines(port_file))
        client = self.col.run([SLOW, "client", port, "100"], traced=False)
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(server.wait(timeout=60), 0)
        got = self.col.wait_spans(1, pred=lambda s: s.service == "exit-server" and s["kind"] == 2)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs.get("http.response.status_code"), 200)
        self.assertNotIn("error.type", got[0].attrs)

    def test_exit_inside_the_response_sendfile(self):
        # The head by send (the first write), the body by sendfile (the
        # second): exit() runs inside sendfile once the kernel took the body.
        port_file = os.path.join(self.col.dir, "sendfile.port")
        server = self.col.start([PY, "-c", SENDFILE_SERVER, port_file, self.col.dir],
                                service="sendfile-server", LD_PRELOAD=PRELOAD + ":" + FAULT,
                                FAULT_RATE="0", FAULT_EXIT_AFTER_WRITE="2")
        port = ""
        while not port:
            self.assertIsNone(server.poll())
            time.sleep(0.01)
            port = "".join(read_lines(port_file))
        r = self.col.run(["curl", "-sS", "http://127.0.0.1:%s/file" % port], traced=False)
        self.assertEqual((r.returncode, r.stdout), (0, b"x" * 1000), r.stderr)
        self.assertEqual(server.wait(timeout=60), 0)
        got = self.col.wait_spans(1, pred=lambda s: s.service == "sendfile-server" and
                                  s["kind"] == 2)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs.get("http.response.status_code"), 200)
        self.assertNotIn("error.type", got[0].attrs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
