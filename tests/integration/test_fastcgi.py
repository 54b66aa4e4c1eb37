"""FastCGI between a web server and its application, with the real Debian
stacks (appservers.py): nginx + php-fpm, Apache mod_proxy_fcgi + php-fpm,
nginx + fcgiwrap running a CGI shell script.

Each request is one trace, parent by parent: the client (a traceparent
sent, or none) -> the web server's SERVER span -> its FastCGI CLIENT span
(the context added to the request's params) -> php-fpm's SERVER span -> the
page's calls (curl_exec, file_get_contents, a PDO query: CLIENT spans) ->
the backend's SERVER span. A page answering 500 is an error on every side;
php-fpm down gives nginx's SERVER span 502 and its connect span the
refusal (over TCP) or the missing socket (a Unix socket's path). Under fcgiwrap the CGI script is a program of its own: it passes
on the context it is given (HTTP_TRACEPARENT), so its call is the FastCGI
span's child, beside fcgiwrap's SERVER span."""
import json
import os
import unittest
import urllib.error
import urllib.request
import uuid

from appservers import Fcgiwrap, PhpFpm, apache_fastcgi, docroot, nginx_fastcgi
from dbservers import Postgres
from harness import Collector, start_app, stop_apache

SERVER, CLIENT = 2, 3
ERROR = 2
TP_IN = True  # a client traceparent, a new one for each request (new_tp())


def new_tp():
    """A client's traceparent of a trace of its own."""
    return "00-%s-%s-01" % (uuid.uuid4().hex, uuid.uuid4().hex[:16])


def get(port, path, tp=None):
    """GET path from the web server: (status, body)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 headers={"traceparent": tp} if tp else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def is_error(span):
    return span.get("status", {}).get("code") == ERROR


class FastCGITest(unittest.TestCase):
    """A collector, a traced backend, and helpers to follow one trace."""

    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.backend, cls.backend_port = start_app(
            cls.col, "backend.py", [os.path.join(cls.col.dir, "backend.jsonl")],
            service="backend")
        cls.stops = []

    @classmethod
    def tearDownClass(cls):
        for stop in reversed(cls.stops):
            stop()
        cls.col.stop()

    @classmethod
    def web_server(cls, started):
        """(process, port) of a web server, stopped before the app server
        (whose graceful stop waits for the connections it keeps)."""
        proc, port = started

        def stop():
            proc.terminate()
            proc.wait(timeout=30)
        cls.stops.append(stop)
        return proc, port

    def backend_url(self):
        """A backend URL no other request uses: its SERVER span finds the trace."""
        self.mark = "/m-" + uuid.uuid4().hex
        return "http://127.0.0.1:%d%s" % (self.backend_port, self.mark)

    def wait(self, pred, n=1, what="span"):
        got = self.col.wait_spans(n, timeout=30, pred=pred)
        if len(got) < n:
            self.fail("no %s; spans: %s" % (what, json.dumps(
                [(s.service, s["name"], s["kind"], s.attrs) for s in self.col.spans()])[-4000:]))
        return got

    def one(self, spans, pred, what):
        got = [s for s in spans if pred(s)]
        self.assertEqual(len(got), 1, "%s: %s" % (what, [(s.service, s["name"], s["kind"], s.attrs)
                                                       for s in spans]))
        return got[0]

    def trace_of(self, span, n):
        """The n spans of span's trace (waited for)."""
        return self.wait(lambda s: s["traceId"] == span["traceId"], n, "trace of %d spans" % n)

    def assert_child(self, child, parent):
        self.assertEqual(child["traceId"], parent["traceId"])
        self.assertEqual(child.get("parentSpanId"), parent["spanId"],
                         "%s %s is not the child of %s %s" % (child.service, child["name"],
                                                               parent.service, parent["name"]))

    def assert_client_parent(self, server, tp):
        """The web server's SERVER span continues the client's traceparent, or roots one."""
        if tp:
            self.assertEqual(server["traceId"], tp.split("-")[1])
            self.assertEqual(server.get("parentSpanId"), tp.split("-")[2])
        else:
            self.assertFalse(server.get("parentSpanId"))

    def web_hop(self, spans, web, path):
        """The web server's SERVER span for path and its FastCGI CLIENT child."""
        ws = self.one(spans, lambda s: s.service == web and s["kind"] == SERVER and
                      s.attrs.get("url.path") == path, web + " SERVER")
        wc = self.one(spans, lambda s: s.service == web and s["kind"] == CLIENT and
                      s.attrs.get("network.protocol.name") == "fastcgi", web + " FastCGI CLIENT")
        self.assert_child(wc, ws)
        return ws, wc

    def app_hop(self, spans, app, wc):
        """The app server's SERVER span, the FastCGI span's child."""
        fs = self.one(spans, lambda s: s.service == app and s["kind"] == SERVER, app + " SERVER")
        self.assert_child(fs, wc)
        self.assertEqual(fs.attrs.get("network.protocol.name"), "fastcgi")
        return fs

    def backend_span(self):
        return self.wait(lambda s: s.service == "backend" and s["kind"] == SERVER and
                         s.attrs.get("url.path") == self.mark, what="backend span")[0]

    def assert_php_chain(self, web, port, how, tp):
        """GET call.php calling the backend `how`; the trace, span by span."""
        url = self.backend_url()
        path = "/call.php"
        tp = tp and new_tp()
        status, body = get(port, "%s?how=%s&url=%s" % (path, how, url), tp)
        self.assertEqual(status, 200, body)
        self.assertIn("backend said 200", body)
        b = self.backend_span()
        spans = self.trace_of(b, 5)
        ws, wc = self.web_hop(spans, web, path)
        self.assert_client_parent(ws, tp)
        fs = self.app_hop(spans, "php-fpm", wc)
        call = self.one(spans, lambda s: s.service == "php-fpm" and s["kind"] == CLIENT,
                        "the page's call")
        self.assert_child(call, fs)
        self.assertEqual(call.attrs.get("url.full"), url)
        self.assert_child(b, call)
        for s in (ws, wc, fs, call, b):
            self.assertFalse(is_error(s), s)
        self.assertEqual(fs.attrs.get("url.path"), path)
        self.assertEqual(fs.attrs.get("http.request.method"), "GET")
        self.assertEqual(fs.attrs.get("http.response.status_code"), 200)
        self.assertEqual(wc.attrs.get("http.response.status_code"), 200)
        self.assertTrue(fs.attrs.get("code.file.path", "").endswith("/call.php"), fs.attrs)
        return spans

    def assert_app_error(self, web, port):
        """fail.php's 500: an error on the web server's two spans and php-fpm's."""
        path = "/fail.php"
        status, _ = get(port, path + "?" + uuid.uuid4().hex)
        self.assertEqual(status, 500)
        ws = self.wait(lambda s: s.service == web and s["kind"] == SERVER and
                       s.attrs.get("url.path") == path, what=web + " SERVER for fail.php")[-1]
        spans = self.trace_of(ws, 3)
        ws, wc = self.web_hop(spans, web, path)
        fs = self.app_hop(spans, "php-fpm", wc)
        for s in (ws, wc, fs):
            self.assertEqual(s.attrs.get("http.response.status_code"), 500, s.attrs)
            self.assertTrue(is_error(s), (s.service, s["kind"], s.attrs))


class NginxPhpFpm(FastCGITest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fpm = PhpFpm(cls.col).start()
        cls.stops.append(cls.fpm.stop)
        cls.nginx, cls.port = cls.web_server(nginx_fastcgi(cls.col, cls.fpm, docroot(cls.col)))

    def test_curl_exec_with_traceparent(self):
        """curl_exec (php-curl, libcurl loaded RTLD_DEEPBIND) is php-fpm's
        SERVER span's child, and the client's traceparent the root."""
        self.assert_php_chain("nginx", self.port, "curl", TP_IN)

    def test_curl_exec_without_traceparent(self):
        self.assert_php_chain("nginx", self.port, "curl", None)
        # php-fpm's master tried its socket's path before it bound it: a
        # failed connect while serving nothing, which makes no span.
        self.assertEqual([s for s in self.col.spans() if s.service == "php-fpm" and
                          s["name"] == "connect"], [])

    def test_stream_file_get_contents(self):
        self.assert_php_chain("nginx", self.port, "stream", None)
        self.assert_php_chain("nginx", self.port, "stream", TP_IN)

    def test_app_error_500(self):
        self.assert_app_error("nginx", self.port)


class NginxPhpFpmKeepConn(FastCGITest):
    """fastcgi_keep_conn: FCGI_KEEP_CONN, several requests on one connection
    (each of nginx's two workers keeps one, and a php-fpm worker serves one
    connection at a time: one worker each)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fpm = PhpFpm(cls.col, workers=2).start()
        cls.stops.append(cls.fpm.stop)
        cls.nginx, cls.port = cls.web_server(
            nginx_fastcgi(cls.col, cls.fpm, docroot(cls.col), keep_conn=True))

    def test_requests_on_one_connection(self):
        for tp in (None, TP_IN, None, TP_IN, None):
            self.assert_php_chain("nginx", self.port, "curl", tp)


class NginxPhpFpmPDO(FastCGITest):
    """A query through PDO: php-fpm's PostgreSQL span, its SERVER span's child."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = Postgres(cls.col, traced=False).start()
        cls.stops.append(cls.pg.stop)
        cls.pg.sql("CREATE TABLE items (id int, price int); "
                   "INSERT INTO items VALUES (1, 1), (2, 3), (3, 5)")
        cls.fpm = PhpFpm(cls.col).start()
        cls.stops.append(cls.fpm.stop)
        cls.nginx, cls.port = cls.web_server(nginx_fastcgi(cls.col, cls.fpm, docroot(cls.col)))

    def test_pdo_query(self):
        path = "/pdo.php"
        status, body = get(self.port, "%s?port=%d" % (path, self.pg.port))
        self.assertEqual(status, 200, body)
        self.assertIn("items: 2", body)
        ws = self.wait(lambda s: s.service == "nginx" and s["kind"] == SERVER and
                       s.attrs.get("url.path") == path, what="nginx SERVER")[0]
        spans = self.trace_of(ws, 4)
        ws, wc = self.web_hop(spans, "nginx", path)
        fs = self.app_hop(spans, "php-fpm", wc)
        queries = [s for s in spans if s.attrs.get("db.system.name") == "postgresql" and
                   "items" in s.attrs.get("db.query.text", "")]
        self.assertTrue(queries, "the query's span is in the trace")
        for q in queries:
            self.assert_child(q, fs)
            self.assertEqual(q["kind"], CLIENT)


class NginxPhpFpmDown(FastCGITest):
    """php-fpm not running: nginx answers 502, its SERVER span says so and
    its connect span the refusal (TCP: nothing listens on the port)."""
    tcp = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fpm = PhpFpm(cls.col, tcp=cls.tcp)  # never started
        cls.nginx, cls.port = cls.web_server(nginx_fastcgi(cls.col, cls.fpm, docroot(cls.col)))

    def check_connect(self, conn):
        self.assertEqual(conn.attrs.get("error.type"), "ECONNREFUSED")
        self.assertEqual(conn.attrs.get("network.peer.port"), self.fpm.port)

    def test_502(self):
        path = "/call.php"
        status, _ = get(self.port, path, new_tp())
        self.assertEqual(status, 502)
        ws = self.wait(lambda s: s.service == "nginx" and s["kind"] == SERVER and
                       s.attrs.get("url.path") == path, what="nginx SERVER")[0]
        self.assertEqual(ws.attrs.get("http.response.status_code"), 502)
        self.assertTrue(is_error(ws))
        conn = self.wait(lambda s: s["traceId"] == ws["traceId"] and s["name"] == "connect",
                         what="nginx's connect span")[0]
        self.assert_child(conn, ws)
        self.assertEqual(conn["kind"], CLIENT)
        self.assertTrue(is_error(conn))
        self.check_connect(conn)


class NginxPhpFpmDownUnix(NginxPhpFpmDown):
    """The same behind a Unix socket, the usual set-up: the socket's path is
    gone, and the connect span names the path and the error."""
    tcp = False

    def check_connect(self, conn):
        self.assertEqual(conn.attrs.get("error.type"), "ENOENT")
        self.assertEqual(conn.attrs.get("server.address"), self.fpm.sock)
        self.assertEqual(conn.attrs.get("network.peer.address"), self.fpm.sock)
        self.assertNotIn("network.peer.port", conn.attrs)


class ApachePhpFpm(FastCGITest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fpm = PhpFpm(cls.col).start()
        cls.stops.append(cls.fpm.stop)
        cls.apache, cls.port = apache_fastcgi(cls.col, cls.fpm, docroot(cls.col))
        cls.stops.append(lambda: stop_apache(cls.apache))

    def test_curl_exec(self):
        self.assert_php_chain("apache2", self.port, "curl", TP_IN)
        self.assert_php_chain("apache2", self.port, "curl", None)

    def test_stream(self):
        self.assert_php_chain("apache2", self.port, "stream", None)

    def test_app_error_500(self):
        self.assert_app_error("apache2", self.port)


class NginxFcgiwrap(FastCGITest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wrap = Fcgiwrap(cls.col).start()
        cls.stops.append(cls.wrap.stop)
        cls.nginx, cls.port = cls.web_server(
            nginx_fastcgi(cls.col, cls.wrap, docroot(cls.col, cgi=True)))

    def test_cgi_script_calling_curl(self):
        for tp in (new_tp(), None):
            self.mark = "/from-cgi"
            before = len([s for s in self.col.spans() if s.service == "backend"])
            status, body = get(self.port, "/cgi-bin/call.cgi?%d" % self.backend_port, tp)
            self.assertEqual(status, 200, body)
            self.assertIn("item", body)
            b = self.wait(lambda s: s.service == "backend" and s.attrs.get("url.path") == self.mark,
                          n=before + 1, what="backend span")[-1]
            # Six spans: nginx's two, fcgiwrap's SERVER, the script's and
            # curl's process spans, the backend's. The long-running servers'
            # leave with later batches than the short-lived processes': the
            # trace is waited for whole, fcgiwrap's span and the script's by name.
            in_trace = lambda s: s["traceId"] == b["traceId"]  # noqa: E731
            self.wait(lambda s: in_trace(s) and s.service == "fcgiwrap" and s["kind"] == SERVER,
                      n=1, what="fcgiwrap SERVER span")
            cgi = self.wait(lambda s: in_trace(s) and s["name"] == "call.cgi", n=1,
                            what="the script's process span")[-1]
            spans = self.trace_of(b, 6)
            ws, wc = self.web_hop(spans, "nginx", "/cgi-bin/call.cgi")
            self.assert_client_parent(ws, tp)
            fs = self.app_hop(spans, "fcgiwrap", wc)
            self.assertEqual(fs.attrs.get("http.response.status_code"), 200)
            self.assert_child(cgi, fs)  # the script was started for that request
            self.assert_child(b, wc)  # the script passed HTTP_TRACEPARENT on


if __name__ == "__main__":
    unittest.main()
