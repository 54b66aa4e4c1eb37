"""nginx `uwsgi_pass` to uWSGI (Debian's uwsgi-core with the python3
plugin: a master and two workers, dropped to nobody under root) running a
WSGI app that calls a backend with urllib, over a Unix socket and over TCP.

Each request is one trace, parent by parent:
client CLIENT -> nginx SERVER -> nginx uwsgi CLIENT -> uWSGI SERVER ->
urllib CLIENT -> backend SERVER; with a traced curl (whose traceparent
nginx copies into the vars block: replaced in place) and with an untraced
one sending none (the context added to the vars block). The app sees
HTTP_TRACEPARENT in its environ: the uwsgi CLIENT span's context. The app
answering 500 shows on both sides of the hop; uWSGI down gives nginx's 502
and its failed connect. Behind nginx's HTTP/2 listener uWSGI's status line
says HTTP/2.0: read as HTTP/1.1 on both sides."""
import json
import os
import pwd
import shutil
import tempfile
import time
import unittest

from harness import APPS, NGINX, Collector, free_port, start_app, start_nginx, wait_port

UWSGI = shutil.which("uwsgi") or shutil.which("uwsgi-core") or "/usr/bin/uwsgi"
SERVER, CLIENT = 2, 3


def context_of(span):
    """The traceparent naming span, without its flags (sampled, random)."""
    return "00-%s-%s-" % (span["traceId"], span["spanId"])


class Uwsgi(unittest.TestCase):
    def setUp(self):
        self.col = Collector()
        self.dir = tempfile.mkdtemp(prefix="uwsgi.", dir=self.col.dir)
        os.chmod(self.dir, 0o755)
        _, self.bport = start_app(self.col, "backend.py",
                                  [os.path.join(self.dir, "backend.record")], "backend")

    def tearDown(self):
        self.col.stop()

    def sock_path(self):
        """Where uWSGI binds its socket: a directory of the user it runs as
        (it drops privileges first), as Debian's /run/uwsgi/app is."""
        d = os.path.join(self.dir, "run")
        os.mkdir(d)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
        return os.path.join(d, "uwsgi.sock")

    def start_uwsgi(self, where):
        """uWSGI on `where` (a socket path, or host:port), as nobody when run
        as root, as Debian's service runs it; the app copied where nobody
        can read it."""
        app = os.path.join(self.dir, "wsgi_app.py")
        shutil.copy(os.path.join(APPS, "wsgi_app.py"), app)
        os.chmod(app, 0o644)
        argv = [UWSGI, "--plugin", "python3", "--master", "--processes", "2",
                "--socket", where, "--chmod-socket=666", "--wsgi-file", app,
                "--env", "BACKEND_URL=http://127.0.0.1:%d" % self.bport,
                "--die-on-term", "--need-app", "--disable-logging"]
        if os.geteuid() == 0:
            argv += ["--uid", "nobody", "--gid", "nogroup"]
        p = self.col.start(argv, service="uwsgi")
        if where.startswith("/"):
            deadline = time.time() + 15
            while not os.path.exists(where):
                if time.time() > deadline or p.poll() is not None:
                    raise RuntimeError("uwsgi did not start: %s" % p.stderr.read().decode())
                time.sleep(0.05)
        else:
            wait_port(int(where.rsplit(":", 1)[1]), p)
        return p

    def start_nginx(self, upstream, http2=False):
        """nginx passing every request to upstream; with http2, on a port
        of its own speaking HTTP/2 (h2c)."""
        location = "location / { include /etc/nginx/uwsgi_params; uwsgi_pass %s; }" % upstream
        if not http2:
            return start_nginx(self.col, server=location)[1]
        port = free_port()
        start_nginx(self.col, http="server { listen 127.0.0.1:%d http2; %s }" % (port, location))
        return port

    def get(self, port, path, traced, http2=False):
        """curl the path (traced: under the shim, so it sends a traceparent;
        http2: h2c with prior knowledge); (status, body)."""
        url = "http://127.0.0.1:%d%s" % (port, path)
        opts = ["--http2-prior-knowledge"] if http2 else []
        r = self.col.run(["curl", "-sS", *opts, "-w", "\n%{http_code}", url], service="curl",
                         traced=traced)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, code = r.stdout.decode().rsplit("\n", 1)
        return int(code), body

    def spans(self, n):
        self.col.wait_spans(n, timeout=30)
        self.col.fence()
        return [s for s in self.col.spans() if not s.service.startswith("fence")]

    def one(self, spans, service, kind, pred=lambda s: True):
        got = [s for s in spans if s.service == service and s["kind"] == kind and pred(s)]
        self.assertEqual(len(got), 1, "%s kind %d: %s" % (service, kind, got))
        return got[0]

    def assert_child(self, child, parent):
        self.assertEqual(child["traceId"], parent["traceId"])
        self.assertEqual(child.get("parentSpanId"), parent["spanId"],
                         "%s's parent is %s" % (child["name"], parent["name"]))

    def chain(self, spans, traced):
        """The spans of the one trace, parent by parent, from nginx's SERVER
        span down (the client's CLIENT span first when traced)."""
        nginx = self.one(spans, "nginx", SERVER)
        gw = self.one(spans, "nginx", CLIENT)
        app = self.one(spans, "uwsgi", SERVER)
        call = self.one(spans, "uwsgi", CLIENT)
        backend = self.one(spans, "backend", SERVER)
        if traced:
            client = self.one(spans, "curl", CLIENT)
            self.assert_child(nginx, client)
        else:
            self.assertNotIn("parentSpanId", nginx)
        self.assert_child(gw, nginx)
        self.assert_child(app, gw)
        self.assert_child(call, app)
        self.assert_child(backend, call)
        self.assertEqual(gw.attrs.get("network.protocol.name"), "uwsgi")
        self.assertEqual(app.attrs.get("network.protocol.name"), "uwsgi")
        for s in (gw, app):
            self.assertEqual(s.attrs.get("http.request.method"), "GET")
        return nginx, gw, app, call, backend

    def request_through(self, upstream, traced):
        """One request through nginx and uWSGI on upstream (unix:PATH or
        host:port), from a traced curl or an untraced one."""
        port = self.start_nginx(upstream)
        code, body = self.get(port, "/call", traced)
        self.assertEqual(code, 200, body)
        seen = json.loads(body)
        nginx, gw, app, call, _ = self.chain(self.spans(6 if traced else 5), traced)
        # What the app read is the hop's context, whether nginx copied the
        # client's (replaced in place) or sent none (added).
        self.assertEqual(seen["traceparent"][:-2], context_of(gw))
        for s in (nginx, gw, app):
            self.assertEqual(s.attrs.get("http.response.status_code"), 200)
            self.assertNotIn("error.type", s.attrs)
        self.assertEqual(app.res["process.pid"], seen["pid"])
        self.assertEqual(app.attrs.get("url.path"), "/call")
        self.assertEqual(gw.attrs.get("url.full"), "http://127.0.0.1/call")
        where = upstream[5:] if upstream.startswith("unix:") else upstream.rsplit(":", 1)[0]
        self.assertEqual(gw.attrs.get("network.peer.address"), where)
        self.assertEqual(call.attrs.get("http.response.status_code"), 200)

    def test_unix_socket_traced_client(self):
        sock = self.sock_path()
        self.start_uwsgi(sock)
        self.request_through("unix:" + sock, traced=True)

    def test_unix_socket_no_traceparent(self):
        sock = self.sock_path()
        self.start_uwsgi(sock)
        self.request_through("unix:" + sock, traced=False)

    def test_tcp_traced_client(self):
        where = "127.0.0.1:%d" % free_port()
        self.start_uwsgi(where)
        self.request_through(where, traced=True)

    def test_tcp_no_traceparent(self):
        where = "127.0.0.1:%d" % free_port()
        self.start_uwsgi(where)
        self.request_through(where, traced=False)

    def test_http2_listener(self):
        """Behind nginx's HTTP/2 listener SERVER_PROTOCOL is HTTP/2.0, and
        uWSGI's status line says so: its answer is read as HTTP/1.1 all the
        same, on both sides."""
        sock = self.sock_path()
        self.start_uwsgi(sock)
        port = self.start_nginx("unix:" + sock, http2=True)
        code, body = self.get(port, "/call", traced=False, http2=True)
        self.assertEqual(code, 200, body)
        _, gw, app, _, _ = self.chain(self.spans(5), traced=False)
        self.assertEqual(json.loads(body)["traceparent"][:-2], context_of(gw))
        for s in (gw, app):
            self.assertEqual(s.attrs.get("http.response.status_code"), 200)

    def test_app_error(self):
        sock = self.sock_path()
        self.start_uwsgi(sock)
        port = self.start_nginx("unix:" + sock)
        code, _ = self.get(port, "/error", traced=True)
        self.assertEqual(code, 500)
        spans = self.spans(6)
        nginx = self.one(spans, "nginx", SERVER)
        gw = self.one(spans, "nginx", CLIENT)
        app = self.one(spans, "uwsgi", SERVER)
        self.assert_child(app, gw)
        self.assert_child(gw, nginx)
        for s in (nginx, gw, app):
            self.assertEqual(s.attrs.get("http.response.status_code"), 500, s.attrs)
            self.assertEqual(s.get("status", {}).get("code"), 2, "%s in error" % s["name"])

    def test_uwsgi_down(self):
        port = self.start_nginx("127.0.0.1:%d" % free_port())
        code, _ = self.get(port, "/call", traced=True)
        self.assertEqual(code, 502)
        spans = self.spans(3)
        nginx = self.one(spans, "nginx", SERVER)
        self.assertEqual(nginx.attrs.get("http.response.status_code"), 502)
        self.assertEqual(nginx.get("status", {}).get("code"), 2)
        connect = self.one(spans, "nginx", CLIENT)
        self.assert_child(connect, nginx)
        self.assertEqual(connect.attrs.get("error.type"), "ECONNREFUSED")
        self.assertEqual([s for s in spans if s.service == "uwsgi"], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
