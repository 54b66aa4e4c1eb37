"""Shared pieces of the integration tests: a collector, traced processes,
and the spans the collector wrote, read back from its OTLP JSON lines.

The build directory comes from SPANSHIM_BUILD (set by ctest)."""
import atexit
import json
import os
import pwd
import shutil
import socket
import stat
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.environ.get("SPANSHIM_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
BUILD = os.path.abspath(BUILD)


def _others_can_enter(path):
    """Can a user other than the owner reach files below path (every
    directory up to / searchable by others)?"""
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def _shim_dir():
    """Where the shim, the collector and the launcher are run from. Tests run
    some of them as other users (nobody, workers that drop privileges): when
    the build lies in a directory only its owner can enter (a clone under a
    0700 directory), they run from copies in a directory anyone can enter."""
    if os.geteuid() != 0 or _others_can_enter(BUILD):
        return BUILD
    d = tempfile.mkdtemp(prefix="spanshim-build.")
    os.chmod(d, 0o755)
    for name in ("libspanshim.so", "spanshim-collector", "spanshim", "spanshim-node.js"):
        if os.path.exists(os.path.join(BUILD, name)):
            shutil.copy2(os.path.join(BUILD, name), d)
    atexit.register(shutil.rmtree, d, True)
    return d


SHIM_DIR = _shim_dir()
LIB = os.path.join(SHIM_DIR, "libspanshim.so")
# A sanitizer build needs its runtime preloaded ahead of the shim.
PRELOAD = os.environ.get("SPANSHIM_PRELOAD_PREFIX", "") + LIB
COLLECTOR = os.path.join(SHIM_DIR, "spanshim-collector")
SPANSHIM = os.path.join(SHIM_DIR, "spanshim")
APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")
PY = sys.executable

# In CI every test must run: a skipped test there is a failure, with its reason.
if os.environ.get("CI") == "true":
    def _skip_is_failure(result, test, reason):
        try:
            raise AssertionError("skipped in CI: " + reason)
        except AssertionError:
            result.addFailure(test, sys.exc_info())

    unittest.TestResult.addSkip = _skip_is_failure
    unittest.TextTestResult.addSkip = _skip_is_failure


def attrs(kvs):
    """OTLP JSON attributes -> {key: python value}."""
    out = {}
    for kv in kvs or []:
        v = kv.get("value", {})
        if "stringValue" in v:
            out[kv["key"]] = v["stringValue"]
        elif "intValue" in v:
            out[kv["key"]] = int(v["intValue"])
        elif "boolValue" in v:
            out[kv["key"]] = v["boolValue"]
        else:
            out[kv["key"]] = v
    return out


class Span(dict):
    """One span with its resource: span fields plus .res and .attrs."""

    @property
    def attrs(self):
        return attrs(self.get("attributes"))

    @property
    def service(self):
        return self.res.get("service.name")


def read_lines(path):
    """The lines of a file, or [] if it does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.readlines()


def parse_lines(data, spans):
    """Append the spans of complete OTLP JSON lines in data to spans."""
    for line in data.split(b"\n"):
        if not line:
            continue
        req = json.loads(line)  # every line must be complete JSON
        for rs in req["resourceSpans"]:
            res = attrs(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    span = Span(s)
                    span.res = res
                    spans.append(span)
    return spans


def read_log_records(path):
    """(service.name, scope name, record) of every log record in the whole
    lines of a --logs-jsonl file ([] before it exists; a line still being
    written is left for the next read)."""
    out = []
    for line in read_lines(path):
        if not line.endswith("\n"):
            continue
        for rl in json.loads(line)["resourceLogs"]:
            svc = attrs(rl.get("resource", {}).get("attributes")).get("service.name")
            for sl in rl.get("scopeLogs", []):
                scope = sl.get("scope", {}).get("name")
                out += [(svc, scope, r) for r in sl.get("logRecords", [])]
    return out


def read_spans(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return parse_lines(f.read(), [])


# A span and nothing else: a connection to a port nobody listens on.
FENCE = ("import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n"
         "port = s.getsockname()[1]\ns.close()\n"
         "socket.socket().connect_ex(('127.0.0.1', port))\n")


class Launcher:
    """What Collector and logsink.LogSink share: the processes a test
    starts against them, traced (with the sink's env(service, ...)) or not,
    and stopped together at the end."""

    def _env_of(self, service, traced, extra):
        if traced:
            return self.env(service, **extra)
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return env

    def start(self, argv, service=None, traced=True, **extra):
        p = subprocess.Popen(argv, env=self._env_of(service, traced, extra),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def run(self, argv, service=None, traced=True, **extra):
        return subprocess.run(argv, env=self._env_of(service, traced, extra),
                              capture_output=True, timeout=60)

    def stop_procs(self):
        """SIGTERM to those still running, then each waited for (killed
        after 10 s)."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()


class Collector(Launcher):
    """A spanshim-collector on a private socket writing a private .jsonl."""

    def __init__(self, extra=(), env=None, sock=None, jsonl=True):
        self.dir = tempfile.mkdtemp(prefix="spanshim-test.")
        os.chmod(self.dir, 0o755)  # traced programs may drop privileges (nginx workers)
        self.sock = sock or os.path.join(self.dir, "c.sock")
        self.jsonl = os.path.join(self.dir, "spans.jsonl")
        cenv = dict(os.environ)
        cenv.update(env or {})
        if os.getuid() == 0 and "--socket-group" not in extra:
            extra = ("--socket-group", "nogroup", *extra)  # nginx workers run as nobody
        files = ["--jsonl", self.jsonl] if jsonl else []  # (without: spans() stays empty)
        self.proc = subprocess.Popen([COLLECTOR, "--socket", self.sock, *files, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cenv)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("collector did not start")
            time.sleep(0.01)
        self.procs = []

    def env(self, service=None, **extra):
        env = dict(os.environ)
        env["LD_PRELOAD"] = PRELOAD
        env["SPANSHIM_SOCKET"] = self.sock
        env.pop("OTEL_SERVICE_NAME", None)
        if service:
            env["OTEL_SERVICE_NAME"] = service
        env.update(extra)
        return env

    def spans(self):
        """Every span written so far (the file is read incrementally)."""
        if not hasattr(self, "_seen"):
            self._seen, self._offset = [], 0
        if os.path.exists(self.jsonl):
            with open(self.jsonl, "rb") as f:
                f.seek(self._offset)
                data = f.read()
            end = data.rfind(b"\n") + 1  # only whole lines
            parse_lines(data[:end], self._seen)
            self._offset += end
        return list(self._seen)

    def wait_spans(self, n, timeout=10.0, pred=None):
        """Spans once at least n (matching pred) are in the file."""
        deadline = time.time() + timeout
        while True:
            got = [s for s in self.spans() if pred is None or pred(s)]
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.05)

    def fence(self):
        """Return once everything sent before now is written. A traced process
        makes one span (a refused connection) and exits; the collector takes
        datagrams in the order they come, so once that span is in the file so
        is every span a process that already exited sent. (A process still
        running may hold spans in its batch: stop it first, or fence with a
        later request of its own.)"""
        self._fences = getattr(self, "_fences", 0) + 1
        name = "fence-%d" % self._fences
        self.run([PY, "-c", FENCE], service=name)
        got = self.wait_spans(1, timeout=30, pred=lambda s: s.service == name)
        if not got:
            raise AssertionError("the fence span never came: is export working?")

    def stop(self):
        self.stop_procs()
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        self.stdout = out.decode(errors="replace")
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode


def as_nobody():
    """preexec_fn: the child runs as nobody (another local user)."""
    nobody = pwd.getpwnam("nobody")
    os.setgid(nobody.pw_gid)
    os.setgroups([])
    os.setuid(nobody.pw_uid)


def python_with(module):
    """An interpreter that can import module (a Debian python3-* package
    where the test's own Python has no such package), or None."""
    for py in (PY, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-c", "import " + module],
                                                 capture_output=True).returncode == 0:
            return py
    return None


def start_app(col, script, args, service=None, traced=True, python=PY, **extra):
    """Start apps/<script> and return (process, port) once it listens."""
    port_file = os.path.join(col.dir, "%s.%d.port" % (script, len(col.procs)))
    p = col.start([python, os.path.join(APPS, script), port_file, *map(str, args)],
                  service=service, traced=traced, **extra)
    deadline = time.time() + 15
    while not os.path.exists(port_file):
        if time.time() > deadline or p.poll() is not None:
            raise RuntimeError("%s did not start: %s" % (script, p.stderr.read().decode()))
        time.sleep(0.02)
    with open(port_file) as f:
        return p, int(f.read())


class CollectorTest(unittest.TestCase):
    """A test class sharing one collector across its tests."""

    @classmethod
    def setUpClass(cls):
        cls.col = Collector()

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = """
daemon off;
master_process on;
worker_processes 2;
pid {dir}/nginx.{port}.pid;
error_log {dir}/nginx-error.log warn;
{extra_main}
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/nginx-tmp/body;
    proxy_temp_path {dir}/nginx-tmp/proxy;
    fastcgi_temp_path {dir}/nginx-tmp/fastcgi;
    uwsgi_temp_path {dir}/nginx-tmp/uwsgi;
    scgi_temp_path {dir}/nginx-tmp/scgi;
    {http}
    server {{
        listen 127.0.0.1:{port} backlog=16384;
        location /ok {{ default_type text/plain; return 200 "ok\\n"; }}
        {server}
    }}
}}
"""


def cpu_seconds(pid):
    """User plus system CPU time a process has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=15):
    """Until something accepts on 127.0.0.1:port; RuntimeError if nothing
    does in time or proc, the program that should, has exited."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or (proc is not None and proc.poll() is not None):
                raise RuntimeError("nothing listens on %d" % port)
            time.sleep(0.05)


def start_nginx(col, http="", server="", traced=True, extra_main="", connections=1024):
    """nginx (master and 2 workers) on a free port; returns (process, port)."""
    d = col.dir
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    os.chmod(os.path.join(d, "nginx-tmp"), 0o777)
    port = free_port()
    conf = os.path.join(d, "nginx.%d.conf" % port)
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=d, port=port, http=http, server=server,
                                  extra_main=extra_main, connections=connections))
    p = col.start([NGINX, "-p", d, "-c", conf, "-e", os.path.join(d, "nginx-error.log")],
                  service="nginx", traced=traced)
    wait_port(port, p)
    return p, port


APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
APACHE_CONF = """
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}"
PidFile "{dir}/apache.pid"
Mutex file:{dir} default
ErrorLog "{dir}/apache-error.log"
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User nobody
Group nogroup
"""


def start_apache(col, conf, prepare=None):
    """apache2 prefork (children as nobody when started as root) on a free
    port, in a directory of its own that prepare(dir) fills first; conf is
    the rest of its configuration, with {dir} and {modules} filled in.
    Returns (process, port); stop it with stop_apache()."""
    d = tempfile.mkdtemp(prefix="apache.", dir=col.dir)
    os.chmod(d, 0o755)
    if prepare:
        prepare(d)
    port = free_port()
    path = os.path.join(d, "apache.conf")
    with open(path, "w") as f:
        f.write((APACHE_CONF + conf).format(dir=d, port=port, modules=APACHE_MODULES))
    # A session of its own: at SIGTERM apache signals its whole process group.
    p = col.start(["setsid", APACHE, "-f", path, "-DFOREGROUND"], service="apache2")
    wait_port(port, p)
    return p, port


def stop_apache(p):
    """SIGTERM, and wait until every child has gone with the parent."""
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
