"""Every data hook, plain and fortified: a C client and server exchange one
request through each pair of calls under the shim. Each exchange must give
a CLIENT and a SERVER span in one trace, the server must read exactly the
request plus one traceparent line, and the fortified build must really call
glibc's __read_chk, __recv_chk and __recvfrom_chk."""
import os
import re
import subprocess
import time
import unittest

from harness import BUILD, CollectorTest, read_lines

PAIRS = [("write", "read"), ("send", "recv"), ("sendto", "recvfrom"),
         ("sendmsg", "recvmsg"), ("writev", "readv")]
REQ = b"POST /probe HTTP/1.1\r\nHost: probe\r\nContent-Length: 4\r\n\r\nping"
TP = re.compile(rb"traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]\r\n")


class Hooks(CollectorTest):

    def exchange(self, probe, send, recv):
        port_file = os.path.join(self.col.dir, "%s.%s.%s.port" % (os.path.basename(probe), send, recv))
        server = self.col.start([probe, "server", port_file, recv, send], service="probe-server")
        port = ""
        while not port:
            self.assertIsNone(server.poll())
            time.sleep(0.01)
            port = "".join(read_lines(port_file))
        client = self.col.run([probe, "client", port, send, recv], service="probe-client")
        self.assertEqual(client.returncode, 0, client.stderr)
        got, _ = server.communicate(timeout=10)
        self.assertEqual(server.returncode, 0)
        self.assertEqual(len(TP.findall(got)), 1, got)
        self.assertEqual(TP.sub(b"", got), REQ)
        spans = self.col.wait_spans(1, pred=lambda s: s.res["process.pid"] == server.pid)
        self.assertEqual(len(spans), 1)
        srv = spans[0]
        cli = self.col.wait_spans(1, pred=lambda s: s.get("spanId") == srv.get("parentSpanId"))
        self.assertEqual(len(cli), 1, "the server span's parent is the client span")
        self.assertEqual(srv["traceId"], cli[0]["traceId"])
        self.assertEqual(srv.attrs["url.path"], "/probe")
        self.assertEqual(cli[0].attrs["http.response.status_code"], 200)

    def check_build(self, name):
        probe = os.path.join(BUILD, "tests", name)
        for send, recv in PAIRS:
            with self.subTest(probe=name, send=send, recv=recv):
                self.exchange(probe, send, recv)

    def test_plain(self):
        self.check_build("hookprobe")

    def test_fortified(self):
        probe = os.path.join(BUILD, "tests", "hookprobe_fortify")
        syms = subprocess.run(["nm", "-D", "--undefined-only", probe], capture_output=True,
                              text=True).stdout
        for chk in ("__read_chk", "__recv_chk", "__recvfrom_chk"):
            self.assertIn(chk, syms)
        self.check_build("hookprobe_fortify")

    def test_same_results_and_errno_as_without_the_shim(self):
        for name in ("errnoprobe", "errnoprobe_fortify"):
            probe = os.path.join(BUILD, "tests", name)
            plain = self.col.run([probe], traced=False)
            traced = self.col.run([probe])
            self.assertEqual(plain.returncode, 0)
            self.assertEqual(traced.returncode, 0)
            self.assertIn(b"connect refused              -> -1 errno ECONNREFUSED", plain.stdout)
            self.assertIn(b"send request                 -> 36 errno kept", plain.stdout)
            self.assertEqual(traced.stdout.decode(), plain.stdout.decode(), name)
        # The exchange and the refused connects were seen, not just passed by.
        errs = self.col.wait_spans(2, pred=lambda s: s.attrs.get("error.type") == "ECONNREFUSED")
        self.assertGreaterEqual(len(errs), 2)
        ok = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full", "").endswith("/errno"))
        self.assertTrue(ok)


if __name__ == "__main__":
    unittest.main(verbosity=2)
