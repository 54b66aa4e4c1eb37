"""Context across exec: a process started while a request is served gets
TRACEPARENT (and TRACESTATE) in its environment, and a traced process
started with one continues that trace with a span of its own.

apache2 (prefork, mod_cgi) runs a /bin/sh CGI script that calls the
backend with curl: one trace from the client's CLIENT span through
apache's SERVER span, the script's process span, curl's process span and
CLIENT span, to the backend's SERVER span. A shell pipeline under
`spanshim run` with TRACEPARENT set joins that trace. A Python service
starts curl by system(), popen(), posix_spawn() and subprocess while it
serves: each curl is the request's grandchild through its process span;
a TRACEPARENT it inherited is replaced, never doubled; and what it starts
before serving, or anything started by a process given no context, gets
no TRACEPARENT. fcgiwrap (behind nginx) starts its CGI script with execl:
the script is told fcgiwrap's SERVER span. A process is one span across
exec. A child a signal ends (SIGKILL, SIGTERM: no moment for its shim to
send its span) gets that span, ERROR with the signal's name and 128 + its
number, once, from the process that reaps it: apache2's mod_cgi, the
Python service (subprocess, an exec chain, system, popen, posix_spawn),
`spanshim run` for its command; none when the command's own shim would
have sent none."""
import os
import subprocess
import unittest
import urllib.request

from appservers import Fcgiwrap, docroot, nginx_fastcgi
from harness import LIB, PRELOAD, PY, SPANSHIM, Collector, start_apache, start_app, stop_apache
from test_forked import APACHE_CONF

GIVEN_TRACE = "0af7651916cd43dd8448eb211c80319c"
GIVEN_SPAN = "b7ad6b7169203331"
GIVEN = "00-%s-%s-01" % (GIVEN_TRACE, GIVEN_SPAN)
INTERNAL, SERVER, CLIENT = 1, 2, 3

# mod_cgi gives a script an environment of its own: the shim's variables
# must be passed on for the script to be traced.
CGI_CONF = APACHE_CONF + """
LoadModule env_module {modules}/mod_env.so
PassEnv LD_PRELOAD SPANSHIM_SOCKET
SetEnv OTEL_SERVICE_NAME cgi
"""
CGI_SCRIPT = """#!/bin/sh
body=$(curl -sS "http://127.0.0.1:$QUERY_STRING/from-cgi")
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$body"
"""


# A script that answers, then is killed before it can end its span.
DIE_SCRIPT = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\ndying\\n'
kill -KILL $$
"""


def cgi_bin(d):
    os.makedirs(os.path.join(d, "cgi-bin"))
    os.chmod(os.path.join(d, "cgi-bin"), 0o755)
    for name, text in (("call.sh", CGI_SCRIPT), ("die.sh", DIE_SCRIPT)):
        path = os.path.join(d, "cgi-bin", name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


class Exec(unittest.TestCase):
    def setUp(self):
        self.col = Collector()
        self.record = os.path.join(self.col.dir, "backend.record")
        self.backend, self.port = start_app(self.col, "backend.py", [self.record],
                                            service="backend")

    def tearDown(self):
        self.col.stop()

    def wait(self, pred, n=1):
        got = self.col.wait_spans(n, timeout=30, pred=pred)
        self.assertGreaterEqual(len(got), n, "spans that never came")
        return got

    def one(self, pred, what):
        got = [s for s in self.col.spans() if pred(s)]
        self.assertEqual(len(got), 1, "%s: %r" % (what, [(s["name"], s.service) for s in got]))
        return got[0]

    def backend_server(self, path):
        return self.wait(lambda s: s.service == "backend" and s["kind"] == SERVER
                         and s.attrs.get("url.path") == path)[0]

    def assert_child(self, child, parent):
        self.assertEqual(child["traceId"], parent["traceId"])
        self.assertEqual(child.get("parentSpanId"), parent["spanId"],
                         "%s is not %s's child" % (child["name"], parent["name"]))

    def process_span(self, name, **where):
        def pred(s):
            return (s["kind"] == INTERNAL and s["name"] == name and
                    all(s.get(k) == v for k, v in where.items()))
        return self.one(pred, "process span " + name)

    def test_apache_cgi_script_calls_curl(self):
        p, port = start_apache(self.col, CGI_CONF, cgi_bin)
        try:
            r = self.col.run(["curl", "-sS", "-w", " %{http_code}",
                              "http://127.0.0.1:%d/cgi-bin/call.sh?%d" % (port, self.port)],
                             service="client")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.endswith(b" 200"), r.stdout)
            backend = self.backend_server("/from-cgi")
        finally:
            stop_apache(p)
        self.col.fence()
        client = self.one(lambda s: s.service == "client" and s["kind"] == CLIENT, "client")
        apache = self.one(lambda s: s.service == "apache2" and s["kind"] == SERVER, "apache")
        script = self.process_span("call.sh")
        curl = self.process_span("curl", traceId=client["traceId"])
        curl_client = self.one(lambda s: s.service == "cgi" and s["kind"] == CLIENT,
                               "curl's request")
        self.assert_child(apache, client)
        self.assert_child(script, apache)
        self.assert_child(curl, script)
        self.assert_child(curl_client, curl)
        self.assert_child(backend, curl_client)
        self.assertEqual(script.service, "cgi")
        self.assertEqual(script.attrs.get("process.exit.code"), 0)
        self.assertEqual(script.attrs.get("process.command"), "/bin/sh")
        self.assertNotIn("code", script.get("status", {}))
        self.assertEqual(curl.attrs.get("process.pid"), curl_client.res["process.pid"])
        # The script's span covers curl's.
        self.assertLessEqual(int(script["startTimeUnixNano"]), int(curl["startTimeUnixNano"]))
        self.assertLessEqual(int(curl["endTimeUnixNano"]), int(script["endTimeUnixNano"]))

    def test_apache_cgi_script_killed(self):
        # mod_cgi reaps the script it started (waitpid): the script's span,
        # which SIGKILL kept it from sending, comes from the apache child,
        # the child of the SERVER span.
        p, port = start_apache(self.col, CGI_CONF, cgi_bin)
        try:
            r = self.col.run(["curl", "-sS", "http://127.0.0.1:%d/cgi-bin/die.sh" % port],
                             service="client")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"dying\n")
            apache = self.wait(lambda s: s.service == "apache2" and s["kind"] == SERVER)[0]
            script = self.wait(lambda s: s["kind"] == INTERNAL and
                               s.get("parentSpanId") == apache["spanId"])[0]
        finally:
            stop_apache(p)
        self.assert_child(script, apache)
        self.assertEqual(script["name"], "die.sh")
        # argv[0] as apache gave it to exec (the script's own span would
        # have said its interpreter's, which the kernel put there).
        self.assertTrue(script.attrs.get("process.command").endswith("/cgi-bin/die.sh"))
        self.assertEqual(script.attrs.get("error.type"), "SIGKILL")
        self.assertEqual(script.attrs.get("process.exit.code"), 137)
        self.assertEqual(script["status"].get("code"), 2)
        self.assertEqual(script.service, "apache2")
        self.col.fence()
        self.assertEqual(len([s for s in self.col.spans() if s["spanId"] == script["spanId"]]), 1)

    def test_fcgiwrap_cgi_script(self):
        # fcgiwrap starts the script with execl (which glibc runs on its
        # internal execve): the script is told fcgiwrap's SERVER span.
        wrap = Fcgiwrap(self.col).start()
        try:
            d = docroot(self.col, cgi=True)
            path = os.path.join(d, "cgi-bin", "tp.cgi")
            with open(path, "w") as f:
                f.write("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
                        "echo \"$TRACEPARENT\"\n")
            os.chmod(path, 0o755)
            nginx, port = nginx_fastcgi(self.col, wrap, d)
            with urllib.request.urlopen("http://127.0.0.1:%d/cgi-bin/tp.cgi" % port,
                                        timeout=30) as resp:
                seen = resp.read().decode().strip()
            server = self.wait(lambda s: s.service == "fcgiwrap" and s["kind"] == SERVER)[0]
        finally:
            wrap.stop()
        self.assertEqual(seen, "00-%s-%s-%02x" % (server["traceId"], server["spanId"],
                                                  server["flags"] & 0xff))
        self.col.fence()
        script = self.process_span("tp.cgi")
        self.assert_child(script, server)

    def spanshim_run(self, argv, **env):
        e = dict(os.environ, SPANSHIM_SOCKET=self.col.sock, OTEL_SERVICE_NAME="ci", **env)
        if PRELOAD != LIB:
            e["LD_PRELOAD"] = PRELOAD[: -len(LIB) - 1]
        return subprocess.run([SPANSHIM, "run", "--", *argv], env=e, capture_output=True,
                              timeout=60)

    def test_pipeline_under_spanshim_run_joins_the_given_trace(self):
        url = "http://127.0.0.1:%d/from-pipeline" % self.port
        r = self.spanshim_run(["sh", "-c", "curl -sS %s | cat; exit 3" % url],
                              TRACEPARENT=GIVEN, TRACESTATE="rojo=00f067aa0ba902b7")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b'"item"', r.stdout)
        backend = self.backend_server("/from-pipeline")
        self.col.fence()
        sh = self.process_span("sh")
        self.assertEqual(sh["traceId"], GIVEN_TRACE)
        self.assertEqual(sh["parentSpanId"], GIVEN_SPAN)
        self.assertEqual(sh.get("traceState"), "rojo=00f067aa0ba902b7")
        self.assertEqual(sh.service, "ci")
        # A non-zero exit is an error, with its code.
        self.assertEqual(sh.attrs.get("process.exit.code"), 3)
        self.assertEqual(sh.attrs.get("error.type"), "3")
        self.assertEqual(sh["status"].get("code"), 2)
        curl, cat = self.process_span("curl"), self.process_span("cat")
        self.assert_child(curl, sh)
        self.assert_child(cat, sh)
        self.assertEqual(cat.attrs.get("process.exit.code"), 0)
        curl_client = self.one(lambda s: s.service == "ci" and s["kind"] == CLIENT,
                               "curl's request")
        self.assert_child(curl_client, curl)
        self.assert_child(backend, curl_client)
        # The backend was told the same tracestate.
        self.assertEqual(backend.get("traceState"), "rojo=00f067aa0ba902b7")

    def test_an_image_that_execs_hands_on(self):
        # A wrapper that execs (exec "$@"): one process, one span. The
        # wrapper sends nothing; the program continues its span (same id,
        # parent and start) and ends it with its own name and exit code.
        r = self.spanshim_run(["sh", "-c", "exec /bin/sh -c 'exit 5'"], TRACEPARENT=GIVEN)
        self.assertEqual(r.returncode, 5, r.stderr)
        inner = self.wait(lambda s: s["kind"] == INTERNAL and
                          s.attrs.get("process.exit.code") == 5)[0]
        self.col.fence()
        same_pid = [s for s in self.col.spans() if s["kind"] == INTERNAL and
                    s.attrs.get("process.pid") == inner.attrs["process.pid"]]
        self.assertEqual(len(same_pid), 1, same_pid)
        self.assertEqual(inner["parentSpanId"], GIVEN_SPAN)
        self.assertEqual(inner["traceId"], GIVEN_TRACE)
        self.assertEqual(inner["status"].get("code"), 2)

    def test_command_killed_under_spanshim_run(self):
        # SIGKILL leaves the shim in CMD no moment to send its span: the
        # launcher sends it, with the id CMD was told and CMD's resource.
        r = self.spanshim_run(["sh", "-c", "kill -KILL $$"], TRACEPARENT=GIVEN)
        self.assertEqual(r.returncode, 128 + 9, r.stderr)
        sh = self.wait(lambda s: s["kind"] == INTERNAL and s["name"] == "sh" and
                       s["traceId"] == GIVEN_TRACE)[0]
        self.assertEqual(sh["parentSpanId"], GIVEN_SPAN)
        self.assertEqual(sh.attrs.get("error.type"), "SIGKILL")
        self.assertEqual(sh.attrs.get("process.exit.code"), 137)
        self.assertEqual(sh["status"].get("code"), 2)
        self.assertEqual(sh.service, "ci")
        self.assertEqual(sh.res["process.pid"], sh.attrs["process.pid"])
        self.assertLessEqual(int(sh["startTimeUnixNano"]), int(sh["endTimeUnixNano"]))
        # A command that exits is left to send its own: one span, its own.
        r = self.spanshim_run(["sh", "-c", "exit 4"], TRACEPARENT=GIVEN)
        self.assertEqual(r.returncode, 4, r.stderr)
        mine = self.wait(lambda s: s["kind"] == INTERNAL and
                         s.attrs.get("process.exit.code") == 4)[0]
        self.col.fence()
        self.assertEqual(len([s for s in self.col.spans() if s["spanId"] == mine["spanId"]]), 1)
        self.assertEqual(mine["parentSpanId"], GIVEN_SPAN)

    def test_killed_command_not_traced_sends_nothing(self):
        # A CMD whose shim would not have sent its span (its sampler drops
        # the trace, or the SDK is off) gets none from the launcher either.
        for extra in ({"OTEL_TRACES_SAMPLER": "always_off"}, {"OTEL_SDK_DISABLED": "true"},
                      {"OTEL_PROPAGATORS": "baggage"}):
            r = self.spanshim_run(["sh", "-c", "kill -KILL $$"], TRACEPARENT=GIVEN, **extra)
            self.assertEqual(r.returncode, 128 + 9, r.stderr)
        self.col.fence()
        self.assertEqual([s for s in self.col.spans() if s["traceId"] == GIVEN_TRACE], [])

    def test_children_killed_while_serving(self):
        # A traced server's children that a signal ends: each one's process
        # span comes from the server that reaped it, the child of the
        # request's SERVER span, with the signal; after an exec, once.
        out = os.path.join(self.col.dir, "at-start")
        app, port = start_app(self.col, "spawner.py", [out], service="spawner")
        got = {}
        for way in ("kill", "killexec", "systemkill", "popenkill", "spawnkill"):
            with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (port, way),
                                        timeout=30) as resp:
                got[way] = resp.read().strip()
        self.assertEqual(got, {"kill": b"-15", "killexec": b"-9", "systemkill": b"9",
                               "popenkill": b"15", "spawnkill": b"9"})
        app.terminate()
        self.assertEqual(app.wait(timeout=10), 0)
        servers = {}
        for way in got:
            servers[way] = self.wait(lambda s: s.service == "spawner" and s["kind"] == SERVER
                                     and s.attrs.get("url.path") == "/" + way)[0]
        killed = {}
        for way, sig in (("kill", "SIGTERM"), ("killexec", "SIGKILL"), ("systemkill", "SIGKILL"),
                         ("popenkill", "SIGTERM"), ("spawnkill", "SIGKILL")):
            killed[way] = self.wait(lambda s: s["kind"] == INTERNAL and
                                    s.get("parentSpanId") == servers[way]["spanId"])[0]
            k = killed[way]
            self.assert_child(k, servers[way])
            self.assertEqual(k["name"], "sh")
            self.assertEqual(k.attrs.get("error.type"), sig, way)
            self.assertEqual(k.attrs.get("process.exit.code"), 128 + (15 if sig == "SIGTERM" else 9))
            self.assertEqual(k["status"].get("code"), 2)
            self.assertEqual(k.service, "spawner")  # sent by the server, in its batch
        self.assertIn("process.pid", killed["kill"].attrs)
        self.assertIn("process.pid", killed["spawnkill"].attrs)
        self.assertNotIn("process.pid", killed["systemkill"].attrs)  # system never says it
        self.assertNotIn("process.pid", killed["popenkill"].attrs)
        self.col.fence()
        # Exactly one span for each killed process: the exec'd shell did not
        # send one of its own, and the first shell sent nothing at its exec.
        for way, k in killed.items():
            same = [s for s in self.col.spans() if s["spanId"] == k["spanId"] or
                    (s["kind"] == INTERNAL and s.get("parentSpanId") == servers[way]["spanId"])]
            self.assertEqual(len(same), 1, (way, [(s["name"], s.attrs) for s in same]))

    def test_every_way_to_start_a_program_while_serving(self):
        out = os.path.join(self.col.dir, "at-start")
        # Started with a context of its own, which its children must not
        # see once it serves a request.
        app, port = start_app(self.col, "spawner.py", [out], service="spawner",
                              TRACEPARENT=GIVEN, TRACESTATE="stale=1")
        ways = ("system", "popen", "spawn", "subprocess")
        for way in ways:
            with urllib.request.urlopen("http://127.0.0.1:%d/%s?%d" % (port, way, self.port),
                                        timeout=30) as resp:
                self.assertEqual(resp.read(), b"0\n", way)
        with urllib.request.urlopen("http://127.0.0.1:%d/env" % port, timeout=30) as resp:
            env_seen = resp.read().decode().split()
        app.terminate()
        self.assertEqual(app.wait(timeout=10), 0)
        for way in ways:
            self.backend_server("/from-" + way)
        self.col.fence()
        servers = {s.attrs["url.path"]: s for s in self.col.spans()
                   if s.service == "spawner" and s["kind"] == SERVER}
        def children(parent, name):
            got = [s for s in self.col.spans() if s["kind"] == INTERNAL and s["name"] == name
                   and s.get("parentSpanId") == parent["spanId"]]
            self.assertEqual(len(got), 1, "%s under %s" % (name, parent["name"]))
            self.assert_child(got[0], parent)
            return got[0]

        for way in ways:
            parent = servers["/" + way]
            if way in ("system", "popen"):  # through /bin/sh -c
                parent = children(parent, "sh")
            curl = children(parent, "curl")
            client = self.one(lambda s: s["kind"] == CLIENT and
                              s.get("parentSpanId") == curl["spanId"], way + "'s curl")
            self.assert_child(self.backend_server("/from-" + way), client)
        # The shell saw the request's context, not the inherited one, and
        # no tracestate (the request came with none).
        env_server = servers["/env"]
        self.assertEqual(env_seen, ["00-%s-%s-%02x" % (env_server["traceId"], env_server["spanId"],
                                                       env_server["flags"] & 0xff), "-"])
        # Before serving, its own span was what it passed on.
        with open(out) as f:
            tp, ts = f.read().split()
        self.assertEqual(ts, "stale=1")
        self.assertTrue(tp.startswith("00-%s-" % GIVEN_TRACE), tp)
        self.assertNotEqual(tp.split("-")[2], GIVEN_SPAN)

    def test_no_context_outside_a_request(self):
        # A traced program given no context starts a traced shell: the shell
        # sees no TRACEPARENT and makes no process span. The program's own
        # request is the proof that its spans were exported.
        code = ("import subprocess, sys, urllib.request\n"
                "urllib.request.urlopen(sys.argv[1]).read()\n"
                "sys.stdout.write(subprocess.run(['sh', '-c', 'echo ${TRACEPARENT:--}; exit 1'],"
                " capture_output=True).stdout.decode())\n")
        env = self.col.env("alone")
        env.pop("TRACEPARENT", None)
        env.pop("TRACESTATE", None)
        r = subprocess.run([PY, "-c", code, "http://127.0.0.1:%d/alone" % self.port], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"-\n")
        self.backend_server("/alone")
        self.col.fence()
        self.one(lambda s: s.service == "alone" and s["kind"] == CLIENT, "the proof")
        self.assertEqual([s["name"] for s in self.col.spans() if s["kind"] == INTERNAL], [])

    def test_turned_off(self):
        # A server whose request starts a shell: the shell is told the
        # request's context, unless SPANSHIM_EXEC_PROPAGATION_DISABLED=true.
        code = ("import subprocess, http.server, threading, urllib.request, sys\n"
                "class H(http.server.BaseHTTPRequestHandler):\n"
                "    def log_message(self, *a): pass\n"
                "    def do_GET(self):\n"
                "        b = subprocess.run(['sh', '-c', 'echo ${TRACEPARENT:--}'],"
                " capture_output=True).stdout\n"
                "        self.send_response(200); self.send_header('Content-Length', str(len(b)))\n"
                "        self.end_headers(); self.wfile.write(b)\n"
                "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
                "threading.Thread(target=s.handle_request).start()\n"
                "sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:%d/' %"
                " s.server_address[1]).read().decode())\n")
        r = self.col.run([PY, "-c", code], service="on")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"00-"), r.stdout)
        r = self.col.run([PY, "-c", code], service="off",
                         SPANSHIM_EXEC_PROPAGATION_DISABLED="true")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"-\n")
        self.col.fence()
        self.one(lambda s: s.service == "off" and s["kind"] == SERVER, "the proof")
        self.assertEqual([s.service for s in self.col.spans() if s["kind"] == INTERNAL], ["on"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
