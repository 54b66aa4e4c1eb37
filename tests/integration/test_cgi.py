"""Responses written partly or wholly by a child through the connection it
inherited.

python3 -m http.server --cgi writes the status line (always "200 Script
output follows") and two headers, forks, and the CGI child it execs writes
the rest of the head and the body straight to the socket; a `Status: 404`
from the script is only one more header line there, so the client gets
200. The parent waits for the child, then closes. A forking server whose
exec'd child writes the whole response (the parent writes nothing) is the
other half. Each request gives one SERVER span, from the process that read
it, child of curl's CLIENT span, never in error, with the status the client
got when the parent wrote the status line, ending after the child's last
byte; no span id appears twice. apache2's mod_cgi reads the script's output
through a pipe and writes the head itself, with the script's Status: the
same scripts give their own codes there."""
import collections
import http.client
import os
import tempfile
import unittest

from harness import PY, Collector, free_port, start_apache, start_app, stop_apache, wait_port
from test_forked import APACHE_CONF

# Each script's body is the time it wrote it (ns since the epoch): the
# server span must end after that.
OK_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$(date +%s%N)"
"""
NOT_FOUND_CGI = """#!/bin/sh
printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\n\\r\\n%s\\n' "$(date +%s%N)"
"""


def cgi_bin(d):
    """The scripts in d/cgi-bin, for servers that run them as nobody."""
    os.makedirs(os.path.join(d, "cgi-bin"))
    os.chmod(os.path.join(d, "cgi-bin"), 0o755)
    for name, text in (("ok.sh", OK_CGI), ("nf.sh", NOT_FOUND_CGI)):
        path = os.path.join(d, "cgi-bin", name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


def ns(span, key):
    return int(span[key + "TimeUnixNano"])


class ChildWrites(unittest.TestCase):
    def setUp(self):
        self.col = Collector()

    def tearDown(self):
        self.col.stop()

    def server_spans(self, service, n):
        def pred(s):
            return s.service == service and s["kind"] == 2
        self.col.wait_spans(n, timeout=30, pred=pred)
        self.col.fence()
        return [s for s in self.col.spans() if pred(s)]

    def assert_ids_unique(self):
        ids = collections.Counter(s["spanId"] for s in self.col.spans())
        self.assertEqual([i for i, n in ids.items() if n > 1], [], "span ids exported twice")

    def assert_whole(self, span, wrote_ns):
        """Not in error, and ended once the child had written its body."""
        self.assertNotIn("error.type", span.attrs)
        self.assertNotEqual(span.get("status", {}).get("code"), 2)
        self.assertGreaterEqual(ns(span, "end"), wrote_ns)
        self.assertLessEqual(ns(span, "start"), ns(span, "end"))

    def curl_scripts(self, port, codes):
        """curl (traced) each script in codes, {script: code}; the time each
        script wrote its body, by script."""
        wrote = {}
        for script, want in codes.items():
            url = "http://127.0.0.1:%d/cgi-bin/%s?by=curl" % (port, script)
            r = self.col.run(["curl", "-sS", "-w", " %{http_code}", url], service="curl")
            self.assertEqual(r.returncode, 0, r.stderr)
            body, code = r.stdout.decode().split()
            self.assertEqual(int(code), want, script)
            wrote[script] = int(body)
        return wrote

    def assert_curls_children(self, spans, codes, wrote):
        """One server span per script, curl's child, with the code curl got."""
        clients = {s["spanId"]: s for s in self.col.spans()
                   if s.service == "curl" and s["kind"] == 3}
        self.assertEqual(sorted(s.attrs["url.path"] for s in spans),
                         sorted("/cgi-bin/" + name for name in codes))
        for s in spans:
            script = os.path.basename(s.attrs["url.path"])
            self.assertEqual(s.attrs.get("http.response.status_code"), codes[script], s.attrs)
            self.assert_whole(s, wrote[script])
            client = clients.get(s.get("parentSpanId"))
            self.assertIsNotNone(client, "the server span is curl's child")
            self.assertEqual(client["traceId"], s["traceId"])
            self.assertEqual(client.attrs.get("http.response.status_code"), codes[script])
            # curl read the end after the server's shutdown, the span's end.
            self.assertLessEqual(ns(client, "start"), ns(s, "start"))
            self.assertLessEqual(ns(s, "end"), ns(client, "end"))
        self.assert_ids_unique()

    def test_http_server_cgi(self):
        d = tempfile.mkdtemp(prefix="www.", dir=self.col.dir)
        os.chmod(d, 0o755)
        cgi_bin(d)
        port = free_port()
        p = self.col.start([PY, "-m", "http.server", "--cgi", "--bind", "127.0.0.1",
                            "--directory", d, str(port)], service="cgi-server")
        wait_port(port, p)
        # http.server's status line is what the client gets, whatever the script says.
        codes = {"ok.sh": 200, "nf.sh": 200}
        wrote = self.curl_scripts(port, codes)
        spans = self.server_spans("cgi-server", 2)
        for s in spans:
            self.assertEqual(s.res["process.pid"], p.pid)
        self.assert_curls_children(spans, codes, wrote)

    def test_apache_mod_cgi(self):
        p, port = start_apache(self.col, APACHE_CONF, cgi_bin)
        codes = {"ok.sh": 200, "nf.sh": 404}
        try:
            wrote = self.curl_scripts(port, codes)
        finally:
            stop_apache(p)
        self.assert_curls_children(self.server_spans("apache2", 2), codes, wrote)

    def test_exec_child_writes_whole_response(self):
        p, port = start_app(self.col, "forkserver.py", ["child-execs"], service="fork-execs")
        wrote = {}
        for code in (203, 404):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/status/%d" % code)
            r = c.getresponse()
            self.assertEqual(r.status, code)
            wrote["/status/%d" % code] = int(r.read())
            c.close()
        spans = self.server_spans("fork-execs", 2)
        self.assertEqual(sorted(s.attrs["url.path"] for s in spans), sorted(wrote))
        for s in spans:
            self.assertEqual(s.res["process.pid"], p.pid)
            # The parent saw no byte of the response: it cannot tell the status.
            self.assertNotIn("http.response.status_code", s.attrs)
            self.assert_whole(s, wrote[s.attrs["url.path"]])
        self.assert_ids_unique()


if __name__ == "__main__":
    unittest.main(verbosity=2)
