"""Apache's mod_proxy_ajp in front of Tomcat 10 over AJP13, both traced.

Tomcat (Debian's, a CATALINA_BASE of its own in a temp dir: one AJP
connector on a free port, no default webapps, a small heap; as nobody when
the test runs as root) serves one servlet (apps/ajp/Page.java, compiled
here) that calls a backend over plain HTTP with HttpURLConnection. Each
request is one trace, parent by parent: the client -> Apache's SERVER span
-> Apache's AJP CLIENT span -> Tomcat's SERVER span -> Java's HTTP CLIENT
span -> the backend's SERVER span; with the client's traceparent and
without one. Requests sent at once go to different Tomcat threads: each
backend call is the child of its own request's SERVER span. The page's 500
shows on both sides of the AJP hop, and Tomcat down gives Apache's 503
with the AJP CLIENT span's connect error. Java's own TLS: an https:// call
from Java is not seen as HTTP (no span, no traceparent), only its name
lookup and a connection passed through."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import PY, Collector, free_port, start_apache, start_app, stop_apache

TOMCAT_HOME = "/usr/share/tomcat10"
APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "ajp")
JAVA = shutil.which("java") or "/usr/bin/java"
JAVAC = shutil.which("javac") or "/usr/bin/javac"

# One AJP connector and one host with the test's application only.
SERVER_XML = """<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector protocol="AJP/1.3" address="127.0.0.1" port="{port}" secretRequired="false"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""
# No jar scanning: the application has no jars, and scanning is slow.
CONTEXT_XML = '<Context><JarScanner scanClassPath="false" scanManifest="false"/></Context>\n'

# Enough children for the requests sent at once to reach Tomcat at once.
APACHE_AJP_CONF = """
StartServers 4
MinSpareServers 4
MaxSpareServers 4
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_ajp_module {modules}/mod_proxy_ajp.so
ProxyPass "/app/" "ajp://127.0.0.1:%d/app/"
"""

CPING = b"\x12\x34\x00\x01\x0a"
CPONG = b"AB\x00\x01\x09"


def as_nobody_argv():
    """The prefix that runs a command as nobody when the test is root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def cpong(port):
    """Whether Tomcat's AJP connector answers a CPING (it does once the
    application is deployed and the connector started)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(CPING)
            got = b""
            while len(got) < len(CPONG):
                b = s.recv(len(CPONG) - len(got))
                if not b:
                    break
                got += b
            return got == CPONG
    except OSError:
        return False


def tomcat_base(d, port):
    """A CATALINA_BASE in d: the configuration, the servlet compiled."""
    classes = os.path.join(d, "webapps", "app", "WEB-INF", "classes")
    for sub in ("conf", "logs", "temp", "work", classes):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "conf", "server.xml"), "w") as f:
        f.write(SERVER_XML.format(port=port))
    with open(os.path.join(d, "conf", "context.xml"), "w") as f:
        f.write(CONTEXT_XML)
    shutil.copy(os.path.join(APP, "web.xml"), os.path.join(d, "webapps", "app", "WEB-INF"))
    subprocess.run([JAVAC, "-cp", os.path.join(TOMCAT_HOME, "lib", "servlet-api.jar"), "-d",
                    classes, os.path.join(APP, "Page.java")], check=True, capture_output=True)
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o777 if name in dirs else 0o666)
    os.chmod(d, 0o777)


def start_tomcat(col, backend_port):
    """Tomcat on a free AJP port, traced, serving /app/page; returns
    (process, port) once it answers a CPING."""
    d = tempfile.mkdtemp(prefix="tomcat.", dir=col.dir)
    port = free_port()
    tomcat_base(d, port)
    bin_ = os.path.join(TOMCAT_HOME, "bin")
    argv = as_nobody_argv() + [
        JAVA, "-Xmx96m", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Dbackend=http://127.0.0.1:%d" % backend_port,
        "-Dcatalina.home=" + TOMCAT_HOME, "-Dcatalina.base=" + d,
        "-Djava.io.tmpdir=" + os.path.join(d, "temp"),
        "-cp", os.path.join(bin_, "bootstrap.jar") + ":" + os.path.join(bin_, "tomcat-juli.jar"),
        "org.apache.catalina.startup.Bootstrap", "start"]
    # Its log to a file: nobody reads its pipes while it runs.
    log = os.path.join(d, "logs", "console.log")
    p = col.start(["sh", "-c", 'exec "$@" >"$0" 2>&1', log] + argv, service="tomcat")
    deadline = time.time() + 90
    while not cpong(port):
        if p.poll() is not None or time.time() > deadline:
            with open(log, errors="replace") as f:
                raise RuntimeError("tomcat did not start: " + f.read())
        time.sleep(0.1)
    return p, port


def get(port, path, headers=None):
    """GET through Apache, untraced (the test's own Python): status, body."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def by_id(spans):
    return {s["spanId"]: s for s in spans}


class ApacheTomcat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.record = os.path.join(cls.col.dir, "backend.jsonl")
        cls.backend, cls.backend_port = start_app(cls.col, "backend.py", [cls.record],
                                                  service="backend")
        cls.tomcat, cls.ajp_port = start_tomcat(cls.col, cls.backend_port)
        cls.apache, cls.port = start_apache(cls.col, APACHE_AJP_CONF % cls.ajp_port)

    @classmethod
    def tearDownClass(cls):
        stop_apache(cls.apache)
        cls.col.stop()

    def spans_of(self, trace_id):
        return [s for s in self.col.spans() if s["traceId"] == trace_id]

    def one(self, spans, service, kind, **attrs):
        got = [s for s in spans if s.service == service and s["kind"] == kind and
               all(s.attrs.get(k) == v for k, v in attrs.items())]
        self.assertEqual(len(got), 1, (service, kind, attrs, [(x.service, x["kind"], x.attrs)
                                                              for x in spans]))
        return got[0]

    def assert_child(self, child, parent):
        self.assertEqual(child["traceId"], parent["traceId"])
        self.assertEqual(child.get("parentSpanId"), parent["spanId"],
                         (child.service, child["name"], parent.service, parent["name"]))

    def wait_chain(self, query, n=5):
        """The spans of the request whose query is `query`, once the backend's
        is in (Tomcat's own are sent with its later ones: wait for them)."""
        def pred(s):
            return s.service == "backend" and s["kind"] == 2 and s.attrs.get("url.query") == query
        got = self.col.wait_spans(1, timeout=30, pred=pred)
        self.assertEqual(len(got), 1, query)
        trace = got[0]["traceId"]
        deadline = time.time() + 30
        while len(self.spans_of(trace)) < n and time.time() < deadline:
            time.sleep(0.1)
        return self.spans_of(trace)

    def chain(self, query, status=200, n=5):
        """Apache SERVER -> AJP CLIENT -> Tomcat SERVER -> Java's CLIENT ->
        backend SERVER for the request with `query` (n spans in its trace);
        the spans, in order."""
        spans = self.wait_chain(query, n)
        front = self.one(spans, "apache2", 2, **{"url.path": "/app/page"})
        ajp_client = self.one(spans, "apache2", 3, **{"network.protocol.name": "ajp"})
        tc_server = self.one(spans, "tomcat", 2, **{"network.protocol.name": "ajp"})
        java_client = self.one(spans, "tomcat", 3)
        back = self.one(spans, "backend", 2)
        self.assert_child(ajp_client, front)
        self.assert_child(tc_server, ajp_client)
        self.assert_child(java_client, tc_server)
        self.assert_child(back, java_client)
        for s in (front, ajp_client, tc_server):
            self.assertEqual(s.attrs.get("http.response.status_code"), status, s.attrs)
            self.assertEqual(s.attrs.get("http.request.method"), "GET")
        self.assertEqual(tc_server.attrs.get("url.path"), "/app/page")
        self.assertEqual(tc_server.attrs.get("url.query"), query)
        self.assertEqual(tc_server.attrs.get("client.address"), "127.0.0.1")
        self.assertEqual(tc_server.attrs.get("server.address"), "127.0.0.1")
        self.assertEqual(tc_server.attrs.get("server.port"), self.port)
        self.assertEqual(ajp_client.attrs.get("network.peer.address"), "127.0.0.1")
        self.assertEqual(ajp_client.attrs.get("server.port"), self.ajp_port)
        self.assertTrue(ajp_client.attrs.get("url.full", "").endswith("/app/page?" + query),
                        ajp_client.attrs)
        self.assertTrue(java_client.attrs.get("url.full", "").endswith("/from-tomcat?" + query))
        self.assertEqual(back.attrs.get("url.path"), "/from-tomcat")
        return front, ajp_client, tc_server, java_client, back

    def test_client_traceparent_through_both_sides(self):
        tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        status, body = get(self.port, "/app/page?case=tp", {"traceparent": tp})
        self.assertEqual(status, 200, body)
        front, ajp_client, tc_server, _, _ = self.chain("case=tp")
        self.assertEqual(front["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(front.get("parentSpanId"), "00f067aa0ba902b7")
        # The copied header was overwritten in place: the servlet saw the
        # AJP client span's context, one traceparent.
        self.assertIn("traceparent 00-%s-%s-" % (ajp_client["traceId"], ajp_client["spanId"]),
                      body)

    def test_no_traceparent_added_as_a_header(self):
        status, body = get(self.port, "/app/page?case=none")
        self.assertEqual(status, 200, body)
        front, ajp_client, _, _, _ = self.chain("case=none")
        self.assertNotIn("parentSpanId", front)
        self.assertIn("traceparent 00-%s-%s-" % (ajp_client["traceId"], ajp_client["spanId"]),
                      body)

    def test_traced_curl_kept_alive(self):
        """Three requests from a traced curl: each its own trace from
        curl's span, over Apache's kept-alive AJP connection."""
        for i in range(3):
            r = self.col.run(["curl", "-sS", "http://127.0.0.1:%d/app/page?curl=%d" % (self.port, i)],
                             service="curl")
            self.assertEqual(r.returncode, 0, r.stderr)
        traces = set()
        for i in range(3):
            front, *_ = self.chain("curl=%d" % i, n=6)
            spans = self.spans_of(front["traceId"])
            curl = self.one(spans, "curl", 3)
            self.assert_child(front, curl)
            traces.add(front["traceId"])
        self.assertEqual(len(traces), 3)

    def test_concurrent_requests_on_tomcat_threads(self):
        """Requests the servlet holds until all are in: Tomcat serves them at
        once on threads of their own, and each backend call is the child of
        its own request's SERVER span."""
        n, results = 3, {}

        def fetch(i):
            results[i] = get(self.port, "/app/page?par=%d&group=g&together=%d" % (i, n))

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(results), list(range(n)))
        servers = []
        for i in range(n):
            self.assertEqual(results[i][0], 200, results[i])
            servers.append(self.chain("par=%d&group=g&together=%d" % (i, n))[2])
        # They were served at once: each began before any ended.
        last_start = max(int(s["startTimeUnixNano"]) for s in servers)
        first_end = min(int(s["endTimeUnixNano"]) for s in servers)
        self.assertLess(last_start, first_end)

    def test_page_error_both_sides(self):
        status, body = get(self.port, "/app/page?fail=1")
        self.assertEqual(status, 500, body)
        front, ajp_client, tc_server, _, _ = self.chain("fail=1", status=500)
        for s in (front, ajp_client, tc_server):
            self.assertEqual(s.get("status", {}).get("code"), 2, (s.service, s["kind"]))

    def test_tomcat_down(self):
        down = free_port()
        p, port = start_apache(self.col, APACHE_AJP_CONF % down)

        def pred(s):
            return s.service == "apache2" and s["kind"] == 2 and s.attrs.get("url.query") == "down=1"
        try:
            status, _ = get(port, "/app/page?down=1")
            # Its spans are in before it stops.
            front = self.col.wait_spans(1, timeout=30, pred=pred)
        finally:
            stop_apache(p)
        self.assertEqual(status, 503)
        self.assertEqual(len(front), 1)
        self.assertEqual(front[0].attrs.get("http.response.status_code"), 503)
        spans = self.spans_of(front[0]["traceId"])
        refused = [s for s in spans if s["kind"] == 3]
        self.assertTrue(refused, [(s.service, s["kind"], s.attrs) for s in spans])
        for s in refused:
            self.assert_child(s, front[0])
            self.assertEqual(s.attrs.get("error.type"), "ECONNREFUSED", s.attrs)
            self.assertEqual(s.attrs.get("server.port"), down)

    def test_java_tls_is_opaque(self):
        """The JDK does TLS itself: the shim sees only ciphertext on the
        socket. The call gives no HTTP span and carries no traceparent; the
        lookup of its host name is the span Java's process sends."""
        cert, key = (os.path.join(self.col.dir, n) for n in ("cert.pem", "key.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        record = os.path.join(self.col.dir, "https.jsonl")
        _, port = start_app(self.col, "https_backend.py", [record, cert, key], service="py-https")
        r = self.col.run([JAVA, os.path.join(APP, "Fetch.java"),
                          "https://localhost:%d/from-java" % port], service="java-https",
                         SPANSHIM_LOG="debug")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode().split(), ["200"])
        self.assertIn("conns_opaque: 1 ", r.stderr.decode())
        self.col.fence()
        java = [s for s in self.col.spans() if s.service == "java-https"]
        self.assertEqual([(s["name"], s.attrs.get("dns.question.name")) for s in java],
                         [("getaddrinfo localhost", "localhost")])
        with open(record) as f:
            raw = [base64.b64decode(json.loads(line)["raw"]).decode() for line in f]
        self.assertEqual(len(raw), 1)
        self.assertNotIn("traceparent", raw[0].lower())
        server = self.col.wait_spans(1, timeout=30,
                                     pred=lambda s: s.service == "py-https" and s["kind"] == 2)
        self.assertEqual(len(server), 1)
        self.assertNotIn("parentSpanId", server[0])

    def test_backend_saw_java_clients_context(self):
        get(self.port, "/app/page?case=rec")
        _, _, _, java_client, _ = self.chain("case=rec")
        with open(self.record) as f:
            reqs = [json.loads(line) for line in f]
        raw = [base64.b64decode(r["raw"]).decode() for r in reqs if "case=rec" in r["path"]]
        self.assertEqual(len(raw), 1)
        self.assertIn("traceparent: 00-%s-%s-" % (java_client["traceId"], java_client["spanId"]),
                      raw[0])


if __name__ == "__main__":
    unittest.main()
