"""Servers that fork while they hold a connection.

apache2 prefork runs a CGI script through a child it forks while the
request is being served: that child closes its copy of the connection
before it execs. A Python server forks a helper per request the same way
and answers itself (parent serves), or forks per connection inetd style and
lets the child answer every request on it (child serves), or forks one
worker for good after it made a span of its own (a daemon). Each request
gives exactly one SERVER span, from the process that served it, with its
status; no span id appears twice in the whole file."""
import collections
import http.client
import os
import unittest

from harness import APACHE, Collector, start_apache, start_app, stop_apache

# One child (no spares to stop), and a directory of CGI scripts.
APACHE_CONF = """
StartServers 1
MinSpareServers 1
MaxSpareServers 1
LoadModule alias_module {modules}/mod_alias.so
LoadModule cgi_module {modules}/mod_cgi.so
ScriptAlias /cgi-bin/ "{dir}/cgi-bin/"
<Directory "{dir}/cgi-bin">
    Require all granted
</Directory>
"""

# The status comes from the script, so a span with it shows who ended it.
CGI_SCRIPT = """#!/bin/sh
printf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\n\\r\\nmade by cgi\\n'
"""


def cgi_bin(d):
    os.makedirs(os.path.join(d, "cgi-bin"))
    script = os.path.join(d, "cgi-bin", "made.cgi")
    with open(script, "w") as f:
        f.write(CGI_SCRIPT)
    os.chmod(script, 0o755)


def get(port, paths):
    """GET each path on one keep-alive connection; the statuses."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    got = []
    for p in paths:
        c.request("GET", p)
        r = c.getresponse()
        r.read()
        got.append(r.status)
    c.close()
    return got


class Forked(unittest.TestCase):
    # A collector per test: "no span id twice in the file" is about that test's servers.
    def setUp(self):
        self.col = Collector()

    def tearDown(self):
        self.col.stop()

    def server_spans(self, service, n, path_prefix):
        """Every SERVER span of service on path_prefix, once n with a status are in."""
        def pred(s):
            return (s.service == service and s["kind"] == 2
                    and s.attrs.get("url.path", "").startswith(path_prefix))
        self.col.wait_spans(n, timeout=30, pred=lambda s: pred(s) and
                            "http.response.status_code" in s.attrs)
        return [s for s in self.col.spans() if pred(s)]

    def assert_one_span_each(self, spans, want):
        """One span per request, with its status, in error only for a 5xx."""
        got = sorted((s.attrs["url.path"], s.attrs.get("http.response.status_code", 0),
                      s.attrs.get("error.type", "")) for s in spans)
        self.assertEqual(got, sorted((p, code, str(code) if code >= 500 else "")
                                     for p, code in want))

    def assert_ids_unique(self):
        ids = collections.Counter(s["spanId"] for s in self.col.spans())
        self.assertEqual([i for i, n in ids.items() if n > 1], [], "span ids exported twice")

    def forkserver(self, mode):
        return start_app(self.col, "forkserver.py", [mode], service="fork-" + mode)

    def test_parent_serves_child_closes(self):
        p, port = self.forkserver("parent-serves")
        want = [("/status/%d" % c, c) for c in (200, 201, 404)]
        for path, code in want:
            self.assertEqual(get(port, [path]), [code])
        # The helpers closed their copies (and exited) before each answer:
        # a span from a helper would have left before the server's own.
        spans = self.server_spans("fork-parent-serves", 3, "/status/")
        self.assert_one_span_each(spans, want)
        for s in spans:
            self.assertEqual(s.res["process.pid"], p.pid)
        self.assert_ids_unique()

    def test_child_serves_inetd_style(self):
        p, port = self.forkserver("child-serves")
        want = [("/status/%d" % c, c) for c in (202, 200, 500)]
        self.assertEqual(get(port, [w[0] for w in want[:2]]), [202, 200])
        self.assertEqual(get(port, [want[2][0]]), [500])
        spans = self.server_spans("fork-child-serves", 3, "/status/")
        self.assert_one_span_each(spans, want)
        pids = {s.res["process.pid"] for s in spans}
        self.assertEqual(len(pids), 2, "one child per connection")
        self.assertNotIn(p.pid, pids)
        self.assert_ids_unique()

    def test_worker_of_a_parent_that_made_a_span(self):
        """The parent's span started the shim's flush thread before it
        forked: the worker, which never exits, still sends its spans as it
        goes (that thread is the shim's own, so the worker may start one)."""
        p, port = self.forkserver("preforked")
        self.assertTrue(self.col.wait_spans(1, timeout=30, pred=lambda s: s.service ==
                                            "fork-preforked" and s["name"] == "connect"))
        self.assertEqual(get(port, ["/status/203"]), [203])
        spans = self.server_spans("fork-preforked", 1, "/status/")
        self.assert_one_span_each(spans, [("/status/203", 203)])  # before the worker exits
        self.assertNotEqual(spans[0].res["process.pid"], p.pid)
        self.assertIsNone(p.poll(), "the worker still runs")

    @unittest.skipUnless(os.path.exists(APACHE), "apache2 is not installed (apache2-bin)")
    def test_apache_prefork_cgi(self):
        p, port = start_apache(self.col, APACHE_CONF, cgi_bin)
        try:
            self.assertEqual(get(port, ["/cgi-bin/made.cgi?n=1", "/cgi-bin/made.cgi?n=2"]),
                             [201, 201])
            self.assertEqual(get(port, ["/cgi-bin/made.cgi?n=3"]), [201])
            # All three ended before apache is stopped: what this test
            # asks is who ends them. (A child told to stop inside its last
            # response's write still ends that span whole, read at exit:
            # test_faults' test_exit_inside_the_response_write.)
            self.server_spans("apache2", 3, "/cgi-bin/")
        finally:
            stop_apache(p)
        # The CGI children closed their copies and exec'd before the
        # script wrote a byte: a span of theirs left before apache's own;
        # and none came after (apache has exited: the fence has them all).
        self.col.fence()
        spans = self.server_spans("apache2", 3, "/cgi-bin/")
        self.assert_one_span_each(spans, [("/cgi-bin/made.cgi", 201)] * 3)
        self.assertEqual(sorted(s.attrs.get("url.query") for s in spans),
                         ["n=1", "n=2", "n=3"])
        self.assert_ids_unique()


if __name__ == "__main__":
    unittest.main(verbosity=2)
