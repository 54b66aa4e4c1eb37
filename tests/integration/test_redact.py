"""Secrets in query strings, and URLs without a path, through real programs.

curl (libcurl's URL) and Python (urllib and http.client, the request as sent
on the socket) call a Python http.server and nginx under the shim with
tokens, passwords and signatures in the query: the spans show REDACTED in
their place, in url.full and url.query, while the servers still receive and
echo the secrets (the program's bytes are never changed);
SPANSHIM_REDACT_QUERY_KEYS changes the list. `OPTIONS *`, from Python and
from apache's own dummy connections to its children, gives a url.full
without the '*'."""
import base64
import json
import os
import unittest

from harness import (APACHE, NGINX, PY, CollectorTest, read_lines, start_apache, start_app,
                     start_nginx, stop_apache)

QUERY = "user=bob&token=tk-9f8e7d&page=2&Signature=s1g%2Bv%3D&Password=hunter2"
REDACTED = "user=bob&token=REDACTED&page=2&Signature=REDACTED&Password=REDACTED"
SECRETS = ("tk-9f8e7d", "s1g%2Bv%3D", "hunter2")

URLLIB = ("import sys, urllib.request\n"
          "print(urllib.request.urlopen(sys.argv[1]).read().decode(), end='')\n")
# OPTIONS * as RFC 9112 writes it, the way a client asks a server what it can do.
OPTIONS_STAR = ("import http.client, sys\n"
                "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))\n"
                "c.request('OPTIONS', '*')\n"
                "r = c.getresponse(); r.read(); print(r.status, end='')\n")

APACHE_CONF = """
# More children than may stay idle: the parent stops the extra ones, each
# by an `OPTIONS * HTTP/1.0` of its own to the listener.
StartServers 4
MinSpareServers 1
MaxSpareServers 1
DocumentRoot "{dir}/htdocs"
<Directory "{dir}/htdocs">
    Require all granted
</Directory>
"""


def recorded_raw(path):
    return [base64.b64decode(json.loads(l)["raw"]) for l in read_lines(path)]


class Redact(CollectorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.record = os.path.join(cls.col.dir, "backend.record")
        _, cls.port = start_app(cls.col, "backend.py", [cls.record], "py-backend")

    def client_span(self, url, service):
        got = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and s.service == service
                                  and s.attrs.get("url.full") == url)
        self.assertEqual(len(got), 1, "one CLIENT span of %s with url.full %s: %s" % (
            service, url, [s.attrs.get("url.full") for s in self.col.spans()]))
        return got[0]

    def server_span(self, parent):
        got = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == parent["spanId"])
        self.assertEqual(len(got), 1)
        return got[0]

    def assert_no_secret(self):
        """No span attribute anywhere shows one of the secrets."""
        for s in self.col.spans():
            for k, v in s.attrs.items():
                for secret in SECRETS:
                    self.assertNotIn(secret, str(v), "%s of %s" % (k, s.service))

    def test_http1_clients_and_servers(self):
        base = "http://127.0.0.1:%d/inventory?" % self.port
        runs = (("curl", ["curl", "-sS", base + QUERY + "&by=curl"]),
                ("urllib", [PY, "-c", URLLIB, base + QUERY + "&by=urllib"]))
        for by, argv in runs:
            r = self.col.run(argv, service=by)
            self.assertEqual(r.stdout, b'{"item":42,"stock":7}', r.stderr)
            cli = self.client_span(base + REDACTED + "&by=" + by, by)
            srv = self.server_span(cli)
            self.assertEqual(srv.service, "py-backend")
            self.assertEqual(srv.attrs["url.path"], "/inventory")
            self.assertEqual(srv.attrs["url.query"], REDACTED + "&by=" + by)
        # The server read the query as it was sent, secrets and all.
        raw = recorded_raw(self.record)
        for by, _ in runs:
            want = ("GET /inventory?%s&by=%s HTTP/1.1\r\n" % (QUERY, by)).encode()
            self.assertTrue(any(r.startswith(want) for r in raw), raw)
        self.assert_no_secret()

    @unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
    def test_nginx_echoes_what_the_span_hides(self):
        _, port = start_nginx(self.col, server="""
            location /echo { default_type text/plain; return 200 "$arg_token $arg_Signature"; }""")
        url = "http://127.0.0.1:%d/echo?%s" % (port, QUERY)
        r = self.col.run(["curl", "-sS", url], service="curl-nginx")
        self.assertEqual(r.stdout, b"tk-9f8e7d s1g%2Bv%3D", r.stderr)
        cli = self.client_span("http://127.0.0.1:%d/echo?%s" % (port, REDACTED), "curl-nginx")
        srv = self.server_span(cli)
        self.assertEqual((srv.service, srv.attrs["url.query"]), ("nginx", REDACTED))
        self.assert_no_secret()

    def test_keys_from_the_variable(self):
        # A list replaces the defaults; `default` brings them back.
        query = "session=abc123&token=t0k&q=shoes"
        cases = (("session", "session=REDACTED&token=t0k&q=shoes"),
                 ("default, session", "session=REDACTED&token=REDACTED&q=shoes"),
                 ("none", query))
        for i, (keys, want) in enumerate(cases):
            with self.subTest(keys=keys):
                record = os.path.join(self.col.dir, "keys%d.record" % i)
                _, port = start_app(self.col, "backend.py", [record], "py-keys%d" % i,
                                    SPANSHIM_REDACT_QUERY_KEYS=keys)
                base = "http://127.0.0.1:%d/inventory?" % port
                r = self.col.run([PY, "-c", URLLIB, base + query], service="keys%d" % i,
                                 SPANSHIM_REDACT_QUERY_KEYS=keys)
                self.assertEqual(r.returncode, 0, r.stderr)
                cli = self.client_span(base + want, "keys%d" % i)
                self.assertEqual(self.server_span(cli).attrs["url.query"], want)

    def test_bad_variable_keeps_the_defaults(self):
        # A key too long to be one: said once, and the default list is used.
        keys = "session," + "k" * 64
        url = "http://127.0.0.1:%d/inventory?session=abc&token=t0k" % self.port
        r = self.col.run([PY, "-c", URLLIB, url], service="badkeys",
                         SPANSHIM_REDACT_QUERY_KEYS=keys, SPANSHIM_LOG="warn")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.decode().count("SPANSHIM_REDACT_QUERY_KEYS"), 1, r.stderr)
        self.client_span(url.replace("t0k", "REDACTED"), "badkeys")

    def test_options_asterisk(self):
        r = self.col.run([PY, "-c", OPTIONS_STAR, str(self.port)], service="options")
        self.assertEqual(r.stdout, b"200", r.stderr)
        cli = self.client_span("http://127.0.0.1:%d" % self.port, "options")
        self.assertEqual(cli.attrs["http.request.method"], "OPTIONS")
        srv = self.server_span(cli)
        self.assertEqual((srv.service, srv.attrs["url.path"]), ("py-backend", "*"))
        self.assertNotIn("url.query", srv.attrs)

    @unittest.skipUnless(os.path.exists(APACHE), "apache2 is not installed (apache2-bin)")
    def test_apache_dummy_connection(self):
        # apache's parent wakes a child it stops with a request of its own:
        # `OPTIONS * HTTP/1.0`, no Host. Its CLIENT span's url.full is the
        # listener's address and nothing after it.
        p, port = start_apache(self.col, APACHE_CONF,
                               lambda d: os.makedirs(os.path.join(d, "htdocs")))
        try:
            url = "http://127.0.0.1:%d" % port
            got = self.col.wait_spans(1, timeout=30, pred=lambda s: s.service == "apache2"
                                      and s["kind"] == 3 and s["name"] == "OPTIONS")
            self.assertTrue(got, "no CLIENT span of apache's dummy connection")
            self.assertEqual(got[0].attrs["url.full"], url)
            srv = self.server_span(got[0])
            self.assertEqual(srv.attrs["url.path"], "*")
            self.assertIn("(internal dummy connection)", srv.attrs["user_agent.original"])
        finally:
            stop_apache(p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
