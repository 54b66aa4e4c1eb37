"""HTTPS through OpenSSL and GnuTLS: spans and trace context inside TLS.

A Python HTTPS service and an nginx HTTPS server (self-signed certificate
made here), each under the shim, called by curl (libcurl on OpenSSL), by
Python's urllib over TLS and by wget (GnuTLS): every request gives one CLIENT and one SERVER
span in the same trace with https URLs, and the server reads exactly the
request plus one traceparent line."""
import base64
import json
import os
import re
import shutil
import subprocess
import time
import unittest

from harness import BUILD, NGINX, PY, CollectorTest, free_port, read_lines, start_app, start_nginx

CURLPROBE = os.path.join(BUILD, "tests", "curlprobe")
SSLPROBE = os.path.join(BUILD, "tests", "sslprobe")

TP_LINE = re.compile(rb"traceparent: 00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]\r\n")
URLLIB = ("import ssl, sys, urllib.request\n"
          "c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE\n"
          "print(urllib.request.urlopen(sys.argv[1], context=c).read().decode())\n")


@unittest.skipUnless(shutil.which("openssl"), "openssl is not installed")
class Tls(CollectorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert = os.path.join(cls.col.dir, "cert.pem")
        cls.key = os.path.join(cls.col.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        cls.key, "-out", cls.cert, "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        os.chmod(cls.key, 0o644)

    def pair(self, url, server):
        cli = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
        self.assertEqual(len(cli), 1, url)
        srv = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == cli[0]["spanId"])
        self.assertEqual(len(srv), 1, url)
        self.assertEqual(srv[0].service, server)
        self.assertEqual(srv[0]["traceId"], cli[0]["traceId"])
        self.assertEqual(srv[0].attrs["url.scheme"], "https")
        self.assertEqual(cli[0].attrs["http.response.status_code"], 200)
        return cli[0], srv[0]

    def test_python_https_service(self):
        record = os.path.join(self.col.dir, "https.record")
        _, port = start_app(self.col, "https_backend.py", [record, self.cert, self.key], "py-https")
        urls = ["https://127.0.0.1:%d/inventory?by=%s" % (port, by)
                for by in ("curl", "urllib", "wget")]
        r = self.col.run(["curl", "-sSk", urls[0]])  # libcurl on OpenSSL
        self.assertEqual(r.stdout, b'{"item":42,"stock":7}')
        r = self.col.run([PY, "-c", URLLIB, urls[1]])  # Python's ssl on OpenSSL
        self.assertEqual(r.stdout, b'{"item":42,"stock":7}\n', r.stderr)
        r = self.col.run(["wget", "-q", "--no-check-certificate", "-O", "-", urls[2]])  # GnuTLS
        self.assertEqual(r.stdout, b'{"item":42,"stock":7}', r.stderr)
        for url in urls:
            cli, srv = self.pair(url, "py-https")
            self.assertEqual(srv.attrs["server.port"], port)
        raw = [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(record)]
        self.assertEqual(len(raw), 3)
        for req in raw:
            self.assertEqual(len(TP_LINE.findall(req)), 1, req)
            self.assertTrue(TP_LINE.sub(b"", req).startswith(b"GET /inventory?by="))

    def test_query_secrets_redacted(self):
        # REDACTED in the spans of libcurl's transfer, of urllib's SSL_write
        # and of wget's gnutls_record_send; the service reads the secrets.
        record = os.path.join(self.col.dir, "secrets.record")
        _, port = start_app(self.col, "https_backend.py", [record, self.cert, self.key], "py-secrets")
        query = "access_token=at-5e4d&X-Amz-Signature=9a8b&by=%s"
        hidden = "access_token=REDACTED&X-Amz-Signature=REDACTED&by=%s"
        clients = {"curl": ["curl", "-sSk"], "urllib": [PY, "-c", URLLIB],
                   "wget": ["wget", "-q", "--no-check-certificate", "-O", "-"]}
        for by, argv in clients.items():
            url = "https://127.0.0.1:%d/inventory?" % port
            r = self.col.run(argv + [url + query % by])
            self.assertEqual(r.returncode, 0, r.stderr)
            _, srv = self.pair(url + hidden % by, "py-secrets")
            self.assertEqual(srv.attrs["url.query"], hidden % by)
        raw = [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(record)]
        self.assertEqual(sorted(TP_LINE.sub(b"", r).split(b" HTTP/1.1")[0] for r in raw),
                         sorted(b"GET /inventory?" + (query % by).encode() for by in clients))

    @unittest.skipUnless(os.path.exists(SSLPROBE), "sslprobe was not built (no OpenSSL headers)")
    def test_session_reused_for_another_connection(self):
        # SSL_shutdown ends what was open on the session; SSL_clear and
        # SSL_set_fd give it a new connection, which starts afresh. The
        # probe is built plain and with -D_FORTIFY_SOURCE=2 -O2.
        for build in (SSLPROBE, SSLPROBE + "_fortify"):
            with self.subTest(build=os.path.basename(build)):
                self.check_session_reused(build)

    def check_session_reused(self, probe):
        name = os.path.basename(probe)
        record = os.path.join(self.col.dir, name + ".record")
        _, port = start_app(self.col, "https_backend.py", [record, self.cert, self.key], "py-" + name)
        r = self.col.run([probe, str(port)], service=name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith(b'{"item":42,"stock":7}'), r.stdout)
        spans = {}
        for n in (1, 2):
            url = "https://127.0.0.1:%d/inventory?reuse=%d" % (port, n)
            got = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
            self.assertEqual(len(got), 1, url)
            spans[n] = got[0]
        self.assertEqual(spans[1].attrs.get("error.type"), "no_response")
        self.assertNotIn("http.response.status_code", spans[1].attrs)
        self.assertEqual(spans[2].attrs["http.response.status_code"], 200)
        self.assertNotIn("error.type", spans[2].attrs)
        self.assertNotEqual(spans[1]["traceId"], spans[2]["traceId"])

    @unittest.skipUnless(os.path.exists(CURLPROBE), "curlprobe was not built (no libcurl headers)")
    def test_libcurl_easy_and_multi(self):
        # The probe is built plain and with -D_FORTIFY_SOURCE=2 -O2.
        for build in (CURLPROBE, CURLPROBE + "_fortify"):
            with self.subTest(build=os.path.basename(build)):
                self.check_libcurl(build)

    def check_libcurl(self, probe):
        name = os.path.basename(probe)
        record = os.path.join(self.col.dir, name + ".record")
        _, port = start_app(self.col, "https_backend.py", [record, self.cert, self.key], "py-s-" + name)
        hrecord = os.path.join(self.col.dir, name + "-http.record")
        _, hport = start_app(self.col, "backend.py", [hrecord], "py-" + name)
        urls = ["https://127.0.0.1:%d/inventory?api=%d" % (port, i) for i in range(3)] + \
               ["http://127.0.0.1:%d/inventory?api=%d" % (hport, i) for i in range(3, 5)]
        r = self.col.run([probe, *urls], service=name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)  # 3: its header list changed
        self.assertEqual(r.stdout.count(b'{"item":42,"stock":7}'), 2 * len(urls))
        for url in urls:
            got = self.col.wait_spans(2, pred=lambda s: s["kind"] == 3 and s.attrs.get("url.full") == url)
            self.assertEqual(len(got), 2, url)  # one by the easy API, one by the multi API
            for cli in got:
                srv = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == cli["spanId"])
                self.assertEqual(len(srv), 1, url)
        raw = [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(record) + read_lines(hrecord)]
        self.assertEqual(len(raw), 2 * len(urls))
        for req in raw:
            self.assertEqual(len(TP_LINE.findall(req)), 1, req)
            self.assertIn(b"X-Probe: own-header\r\n", req)

    @unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
    def test_libcurl_transfers_http2_and_redirects(self):
        # A transfer is one CLIENT span whatever libcurl does underneath:
        # HTTP/2 over TLS (frames the socket layer cannot read) and redirects.
        tls = free_port()
        start_nginx(self.col, http="""
            server {
                listen 127.0.0.1:%d ssl http2;
                ssl_certificate %s;
                ssl_certificate_key %s;
                location /echo { default_type text/plain; return 200 "$http_traceparent"; }
                location /moved { return 302 /echo?after=redirect; }
            }""" % (tls, self.cert, self.key))
        url = "https://127.0.0.1:%d/echo?h2=1" % tls
        r = self.col.run(["curl", "-sSk", "--http2", url])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1)
        s = got[0]
        self.assertEqual(s.attrs["network.protocol.version"], "2")
        self.assertEqual(s.attrs["http.response.status_code"], 200)
        # The header went inside the HTTP/2 request: nginx echoes it.
        self.assertEqual(r.stdout.decode(), "00-%s-%s-03" % (s["traceId"], s["spanId"]))

        url = "https://127.0.0.1:%d/moved?n=1" % tls
        r = self.col.run(["curl", "-sSkL", "--http1.1", url])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs["http.request.resend_count"], 1)
        self.assertEqual(got[0].attrs["http.response.status_code"], 200)
        self.assertEqual(r.stdout.decode(), "00-%s-%s-03" % (got[0]["traceId"], got[0]["spanId"]))
        # Nothing from the layers below for either transfer.
        time.sleep(0.6)
        self.assertEqual([x for x in self.col.spans() if "/echo?after" in x.attrs.get("url.full", "")], [])

    @unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
    def test_nginx_https(self):
        tls = free_port()
        start_nginx(self.col, http="""
            server {
                listen 127.0.0.1:%d ssl;
                ssl_certificate %s;
                ssl_certificate_key %s;
                location /echo { default_type text/plain; return 200 "$http_traceparent"; }
            }""" % (tls, self.cert, self.key))
        for i, how in enumerate(("curl", "urllib")):
            url = "https://127.0.0.1:%d/echo?n=%d" % (tls, i)
            argv = ["curl", "-sSk", url] if how == "curl" else [PY, "-c", URLLIB, url]
            r = self.col.run(argv)
            self.assertEqual(r.returncode, 0, r.stderr)
            cli, srv = self.pair(url, "nginx")
            # nginx saw the traceparent of the client span.
            self.assertEqual(r.stdout.decode().strip(), "00-%s-%s-03" % (cli["traceId"], cli["spanId"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
