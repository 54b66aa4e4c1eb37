"""HTTP/2 on the wire: nginx serving h2c (prior knowledge) and h2 over TLS,
and a Python service on the h2 protocol library, under the shim; called by
curl and a C program on libcurl's easy and multi APIs (libcurl's own spans)
and by nghttp (a libnghttp2 client, so its requests are seen only as frames
on the socket or in TLS plaintext, several multiplexed on one connection).
Every request gives one CLIENT and one SERVER span in the same trace, the
server's decoded header list holds exactly the client span's traceparent,
and through an nginx proxy the next HTTP/1 hop reads exactly one."""
import base64
import json
import os
import re
import shutil
import subprocess
import unittest

from harness import (BUILD, NGINX, PY, CollectorTest, free_port, python_with, read_lines,
                     start_app, start_nginx)

CURLPROBE = os.path.join(BUILD, "tests", "curlprobe")


H2PY = python_with("h2")  # Debian's python3-h2

TP = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]")
TP_LINE = re.compile(rb"traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]\r\n")


@unittest.skipUnless(os.path.exists(NGINX) and shutil.which("nghttp") and shutil.which("openssl"),
                     "needs nginx, nghttp (nghttp2-client) and openssl")
class Http2(CollectorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.col.dir
        cls.cert, cls.key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        cls.key, "-out", cls.cert, "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        os.chmod(cls.key, 0o644)
        cls.record = os.path.join(d, "h2-backend.record")
        _, backend = start_app(cls.col, "backend.py", [cls.record], "py-backend")
        cls.h2c, cls.tls = free_port(), free_port()
        locations = """
                location /echo { default_type text/plain; return 200 "$http_traceparent\\n"; }
                location /secret { default_type text/plain; return 200 "$arg_api_key\\n"; }
                location /proxy { proxy_pass http://127.0.0.1:%d/inventory; }""" % backend
        start_nginx(cls.col, http="""
            server {
                listen 127.0.0.1:%d http2;
                %s
            }
            server {
                listen 127.0.0.1:%d ssl http2;
                ssl_certificate %s;
                ssl_certificate_key %s;
                %s
            }""" % (cls.h2c, locations, cls.tls, cls.cert, cls.key, locations))

    def url(self, tls, path):
        return "%s://127.0.0.1:%d%s" % ("https" if tls else "http", self.tls if tls else self.h2c,
                                        path)

    def pair(self, url):
        """The one CLIENT span for url and the one nginx SERVER span under it."""
        cli = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
        self.assertEqual(len(cli), 1, url)
        self.assertEqual(cli[0].attrs["network.protocol.version"], "2")
        self.assertEqual(cli[0].attrs["http.response.status_code"], 200)
        srv = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == cli[0]["spanId"])
        self.assertEqual(len(srv), 1, url)
        s = srv[0]
        self.assertEqual((s.service, s["kind"], s["traceId"]), ("nginx", 2, cli[0]["traceId"]))
        self.assertEqual(s.attrs["network.protocol.version"], "2")
        self.assertEqual(s.attrs["url.scheme"], "https" if url.startswith("https") else "http")
        self.assertEqual(s.attrs["http.request.method"], "GET")
        self.assertEqual(s.attrs["http.response.status_code"], 200)
        self.assertEqual(s.attrs["url.path"], "/" + url.split("/", 3)[3].split("?")[0])
        return cli[0], s

    def echoed(self, out):
        """The traceparent values nginx saw and echoed, in any order."""
        return sorted(m.group(0) for m in TP.finditer(out.decode()))

    def test_curl_h2c_and_h2(self):
        # libcurl adds the header itself; nginx's side is read from frames.
        for tls, flag in ((False, "--http2-prior-knowledge"), (True, "--http2")):
            url = self.url(tls, "/echo?client=curl&tls=%d" % tls)
            r = self.col.run(["curl", "-sSk", flag, url], service="curl")
            self.assertEqual(r.returncode, 0, r.stderr)
            cli, _ = self.pair(url)
            self.assertEqual(self.echoed(r.stdout), ["00-%s-%s-03" % (cli["traceId"], cli["spanId"])])

    def test_query_secrets_redacted(self):
        # :path read from nghttp's frames and libcurl's URL: REDACTED in
        # the spans, while nginx reads (and echoes) the key itself.
        for tls, flag in ((False, "--http2-prior-knowledge"), (True, "--http2")):
            for client, argv in (("nghttp", ["nghttp"]), ("curl", ["curl", "-sSk", flag])):
                path = "/secret?api_key=k-77&tls=%d&by=%s" % (tls, client)
                r = self.col.run(argv + [self.url(tls, path)], service=client)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, b"k-77\n")
                _, srv = self.pair(self.url(tls, path.replace("k-77", "REDACTED")))
                self.assertEqual(srv.attrs["url.query"], "api_key=REDACTED&tls=%d&by=%s" % (tls, client))

    def test_nghttp_multiplexed(self):
        # Three requests on one connection, header blocks sharing HPACK's
        # dynamic table: each gets its own traceparent inside its HEADERS.
        for tls in (False, True):
            urls = [self.url(tls, "/echo?client=nghttp&tls=%d&n=%d" % (tls, i)) for i in range(3)]
            r = self.col.run(["nghttp", *urls], service="nghttp")
            self.assertEqual(r.returncode, 0, r.stderr)
            want = []
            for url in urls:
                cli, _ = self.pair(url)
                self.assertEqual(cli.service, "nghttp")
                want.append("00-%s-%s-03" % (cli["traceId"], cli["spanId"]))
            self.assertEqual(self.echoed(r.stdout), sorted(want))
            self.assertEqual(len({TP.fullmatch(t).group(1) for t in want}), 3)  # three traces

    @unittest.skipUnless(H2PY, "the h2 library (python3-h2) is not installed")
    def test_h2_service_reads_one_traceparent(self):
        record = os.path.join(self.col.dir, "h2.record")
        _, port = start_app(self.col, "h2_backend.py", [record], "py-h2", python=H2PY)
        base = "http://127.0.0.1:%d/orders?client=" % port
        urls = [base + "curl"] + [base + "nghttp-%d" % i for i in range(3)]
        r = self.col.run(["curl", "-sS", "--http2-prior-knowledge", urls[0]], service="curl")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.col.run(["nghttp", *urls[1:]], service="nghttp")
        self.assertEqual(r.returncode, 0, r.stderr)
        seen = {}
        for line in read_lines(record):
            headers = json.loads(line)
            path = dict(headers)[":path"]
            seen[path] = [v for k, v in headers if k == "traceparent"]
        self.assertEqual(len(seen), 4)
        for url in urls:
            cli = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
            self.assertEqual(len(cli), 1, url)
            srv = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == cli[0]["spanId"])
            self.assertEqual((len(srv), srv[0].service), (1, "py-h2"), url)
            self.assertEqual(srv[0]["traceId"], cli[0]["traceId"])
            self.assertEqual(srv[0].attrs["http.response.status_code"], 200)
            self.assertEqual(seen["/" + url.split("/", 3)[3]],
                             ["00-%s-%s-03" % (cli[0]["traceId"], cli[0]["spanId"])])

    @unittest.skipUnless(os.path.exists(CURLPROBE), "curlprobe was not built (no libcurl headers)")
    def test_libcurl_easy_and_multi_over_h2(self):
        # libcurl negotiates HTTP/2 over TLS by itself (ALPN).
        urls = [self.url(True, "/echo?api=%d" % i) for i in range(2)]
        r = self.col.run([CURLPROBE, *urls], service="curlprobe")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        want = []
        for url in urls:
            got = self.col.wait_spans(2, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
            self.assertEqual(len(got), 2, url)  # one by the easy API, one by the multi API
            for cli in got:
                self.assertEqual(cli.attrs["network.protocol.version"], "2")
                srv = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == cli["spanId"])
                self.assertEqual((len(srv), srv[0].service), (1, "nginx"), url)
                self.assertEqual(srv[0].attrs["network.protocol.version"], "2")
                want.append("00-%s-%s-03" % (cli["traceId"], cli["spanId"]))
        self.assertEqual(self.echoed(r.stdout), sorted(want))

    def test_proxy_chain(self):
        # nghttp -h2/TLS-> nginx -HTTP/1-> backend: four spans, one trace.
        url = self.url(True, "/proxy?chain=1")
        r = self.col.run(["nghttp", url], service="nghttp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'{"item":42', r.stdout)
        cli, srv = self.pair(url)
        out = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == srv["spanId"])
        self.assertEqual((len(out), out[0]["kind"], out[0].service), (1, 3, "nginx"))
        last = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == out[0]["spanId"])
        self.assertEqual((len(last), last[0].service), (1, "py-backend"))
        self.assertEqual({s["traceId"] for s in (cli, srv, out[0], last[0])}, {cli["traceId"]})
        raw = [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(self.record)]
        chain = [q for q in raw if b"chain=1" in q.split(b"\r\n", 1)[0]]
        self.assertEqual(len(chain), 1)
        self.assertEqual(len(TP_LINE.findall(chain[0])), 1, chain[0])
        self.assertIn(("traceparent: 00-%s-%s-03" % (cli["traceId"], out[0]["spanId"])).encode(),
                      chain[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
