"""tinyproxy, unmodified, under the shim: a forward proxy that copies the
inbound headers, traceparent among them, into the request it sends on, one
header line per send() and the empty line that ends the head on its own.
The shim must see that head as one: the copy is replaced by tinyproxy's own
CLIENT span, so the trace reads curl CLIENT -> tinyproxy SERVER -> tinyproxy
CLIENT -> backend SERVER, and apart from that one value the backend reads
the very bytes an untraced tinyproxy sends."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import CollectorTest, free_port, start_app, wait_port

TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
TP_VALUE = re.compile(rb"(?im)^traceparent: (00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})\r$")


def tinyproxy_conf(d, port):
    """A config of its own: a free port, in the foreground, no upstream."""
    path = os.path.join(d, "tinyproxy.%d.conf" % port)
    lines = ["Port %d" % port, "Listen 127.0.0.1", "Timeout 30", "MaxClients 16",
             "LogLevel Info"]
    if os.getuid() == 0:  # it refuses to stay root
        lines += ["User nobody", "Group nogroup"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


@unittest.skipUnless(os.path.exists(TINYPROXY), "tinyproxy is not installed")
class Tinyproxy(CollectorTest):
    def start_tinyproxy(self, traced):
        port = free_port()
        p = self.col.start([TINYPROXY, "-d", "-c", tinyproxy_conf(self.col.dir, port)],
                           service="tinyproxy", traced=traced)
        wait_port(port, p)
        return p, port

    def fetch(self, proxy_port, path):
        """curl, traced, through the proxy to the backend; the raw request
        the backend read."""
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                          "-x", "http://127.0.0.1:%d" % proxy_port,
                          "http://127.0.0.1:%d%s" % (self.bport, path)], service="curl")
        self.assertEqual(r.stdout, b"200", r.stderr)
        with open(self.record) as f:
            for line in f:
                rec = json.loads(line)
                if rec["path"] == path:
                    return base64.b64decode(rec["raw"])
        self.fail("the backend did not record %s" % path)

    def test_copied_traceparent_replaced_by_the_proxys_client_span(self):
        self.record = os.path.join(tempfile.mkdtemp(dir=self.col.dir), "backend.record")
        _, self.bport = start_app(self.col, "backend.py", [self.record], "backend")
        plain, plain_port = self.start_tinyproxy(traced=False)
        traced, traced_port = self.start_tinyproxy(traced=True)

        untraced_raw = self.fetch(plain_port, "/plain")
        raw = self.fetch(traced_port, "/traced")

        # The backend's parent is tinyproxy's CLIENT span, a child of its
        # SERVER span, a child of curl's CLIENT span: one trace.
        def ours(s):
            return s.service in ("curl", "tinyproxy", "backend")
        spans = self.col.wait_spans(1, pred=lambda s: s.service == "backend" and
                                    s.attrs.get("url.path") == "/traced")
        self.assertEqual(len(spans), 1)
        backend = spans[0]
        chain = self.col.wait_spans(4, pred=lambda s: ours(s) and
                                    s["traceId"] == backend["traceId"])
        by = {(s.service, s["kind"]): s for s in chain}
        self.assertEqual(sorted(by), [("backend", 2), ("curl", 3), ("tinyproxy", 2),
                                      ("tinyproxy", 3)], chain)
        self.assertEqual(len(chain), 4, chain)
        tp_client, tp_server, curl = by[("tinyproxy", 3)], by[("tinyproxy", 2)], by[("curl", 3)]
        self.assertEqual(backend["parentSpanId"], tp_client["spanId"])
        self.assertEqual(tp_client["parentSpanId"], tp_server["spanId"])
        self.assertEqual(tp_server["parentSpanId"], curl["spanId"])
        self.assertNotIn("parentSpanId", curl)
        self.assertEqual(tp_client.attrs["http.response.status_code"], 200)

        # What the backend read carries tinyproxy's CLIENT span...
        values = TP_VALUE.findall(raw)
        self.assertEqual(len(values), 1, raw)
        self.assertEqual(values[0][3:35].decode(), backend["traceId"])
        self.assertEqual(values[0][36:52].decode(), tp_client["spanId"])
        # ...and is otherwise what an untraced tinyproxy sends, byte for byte
        # (the path and the value differ, both of the same length).
        masked = TP_VALUE.sub(b"traceparent: " + b"x" * 55 + b"\r", raw)
        plain_masked = TP_VALUE.sub(b"traceparent: " + b"x" * 55 + b"\r", untraced_raw)
        self.assertEqual(masked.replace(b"/traced", b"/plain!"),
                         plain_masked.replace(b"/plain", b"/plain!"))
        self.assertEqual(len(TP_VALUE.findall(untraced_raw)), 1, untraced_raw)


if __name__ == "__main__":
    unittest.main(verbosity=2)
