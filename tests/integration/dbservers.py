"""Real database servers for the integration tests: PostgreSQL, MariaDB and
Redis from their Debian packages, each started by the test itself in a
directory of its own under the collector's, on a free loopback port, in
the foreground, and always stopped (a test class starts one and shares it).

The servers run as nobody when the suite runs as root (PostgreSQL refuses
root, and CI runs as root), from directories nobody owns; they run traced,
as the host they stand for would, so that what the clients see is what a
traced server sends. With tls, a server also offers TLS, with a
self-signed certificate made at start. Also here: what the tests check of
a database span."""
import atexit
import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from harness import Collector, free_port, python_with, start_app, wait_port

SERVER, CLIENT = 2, 3  # SpanKind
ERROR = 2   # Status code

_running = set()  # started and not stopped: stopped at exit whatever happened


def _stop_all():
    for server in list(_running):
        server.stop()


atexit.register(_stop_all)


def _owner():
    """(uid, gid) the servers run as: nobody under root, else ourselves."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _become_owner():
    """preexec_fn: drop to the servers' user (nothing to do unless root),
    then die with the test (killed at a timeout, its cleanups never run).
    In that order: a change of user clears the parent-death signal."""
    uid, gid = _owner()
    if os.geteuid() == 0:
        os.setgid(gid)
        os.setgroups([])
        os.setuid(uid)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_session(p, sig):
    """Stop process p (started in a session of its own) and whatever it
    started: sig, then after 30 s SIGKILL to the whole session."""
    if p is None or p.returncode is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p.returncode is None:
            p.wait()


def pg_bin(name):
    """A PostgreSQL server program (initdb, postgres, pgbench) of the newest
    installed major version: Debian keeps them out of PATH."""
    root = "/usr/lib/postgresql"
    versions = sorted((d for d in os.listdir(root) if d.isdigit()), key=int) \
        if os.path.isdir(root) else []
    for v in reversed(versions):
        path = os.path.join(root, v, "bin", name)
        if os.path.exists(path):
            return path
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s is not installed (scripts/setup installs postgresql)" % name)
    return found


class Server:
    """One server process in its own session (stopping it stops all its
    children), with a directory only its user can enter."""
    name = None
    service = None
    stop_signal = signal.SIGTERM

    def __init__(self, col, traced=True, tls=False):
        self.col = col
        self.traced = traced
        self.tls = tls
        self.port = free_port()
        self.proc = None
        self.top = tempfile.mkdtemp(prefix=self.name + ".", dir=col.dir)
        os.chmod(self.top, 0o755)
        self.dir = self.private("data")
        self.run_dir = self.private("run")
        self.log = os.path.join(self.top, "server.log")

    def private(self, name):
        """A directory in top that the servers' user owns, mode 0700."""
        path = os.path.join(self.top, name)
        os.mkdir(path, 0o700)
        os.chown(path, *_owner())
        return path

    def env(self):
        if self.traced:  # its log says the shim is there
            return self.col.env(self.service, SPANSHIM_LOG="debug")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return env

    def spawn(self, argv, check=False):
        """Run argv as the servers' user; with check, wait and raise on failure."""
        if check:
            r = subprocess.run(argv, env=self.env(), preexec_fn=_become_owner, cwd=self.top,
                               capture_output=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError("%s failed: %s" % (argv[0], (r.stdout + r.stderr).decode()))
            return r
        with open(self.log, "ab") as log:
            return subprocess.Popen(argv, env=self.env(), preexec_fn=_become_owner,
                                    cwd=self.top, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start(self):
        self.prepare()
        self.proc = self.spawn(self.argv())
        _running.add(self)
        deadline = time.time() + 60
        try:
            wait_port(self.port, self.proc, timeout=60)
            while not self.ready():
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("%s did not become ready" % self.name)
                time.sleep(0.05)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s: %s" % (e, self.log_text()[-3000:])) from None
        return self

    def stop(self):
        """Stop the server and whatever it started (stop_session)."""
        _running.discard(self)
        stop_session(self.proc, self.stop_signal)

    def certificate(self):
        """A self-signed certificate and its key in the data directory, for
        the server's user only: (certificate path, key path)."""
        cert, key = os.path.join(self.dir, "server.crt"), os.path.join(self.dir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", key, "-out", cert],
                       env=self.untraced_env(), check=True, capture_output=True, timeout=60)
        for path in (cert, key):
            os.chown(path, *_owner())
            os.chmod(path, 0o600)
        return cert, key

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def untraced_env(self):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return env

    # for each server
    def prepare(self):
        pass

    def argv(self):
        raise NotImplementedError

    def ready(self):
        return True


class Postgres(Server):
    """PostgreSQL: a fresh cluster (trust authentication, superuser
    `postgres`, fsync off) on 127.0.0.1:port and a Unix socket in run_dir;
    database `shop` made at start."""
    name = "postgres"
    service = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: SIGTERM waits for clients

    def prepare(self):
        self.spawn([pg_bin("initdb"), "-D", self.dir, "-U", "postgres", "-A", "trust",
                    "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"], check=True)

    def argv(self):
        argv = [pg_bin("postgres"), "-D", self.dir, "-h", "127.0.0.1", "-p", str(self.port),
                "-k", self.run_dir, "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=30"]
        if self.tls:
            cert, key = self.certificate()
            argv += ["-c", "ssl=on", "-c", "ssl_cert_file=" + cert, "-c", "ssl_key_file=" + key]
        return argv

    def ready(self):
        r = subprocess.run(self.psql("postgres") + ["-c", "SELECT 1"], env=self.untraced_env(),
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            return False
        self.sql("CREATE DATABASE shop", db="postgres")
        return True

    def psql(self, db="shop", host="127.0.0.1"):
        """psql's argv (no .psqlrc) for database db, by TCP or by a socket dir."""
        return ["psql", "-X", "-h", host, "-p", str(self.port), "-U", "postgres", "-d", db]

    def pgbench(self, *args):
        return [pg_bin("pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                *args, "shop"]

    def sql(self, query, db="shop"):
        """Run query untraced; its tuples-only output."""
        r = subprocess.run(self.psql(db) + ["-At", "-v", "ON_ERROR_STOP=1", "-c", query],
                           env=self.untraced_env(), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.decode())
        return r.stdout.decode()


class MariaDB(Server):
    """MariaDB: an empty data directory (the server makes InnoDB's files;
    no grant tables, so any user gets in) on 127.0.0.1:port; database
    `shop` made at start."""
    name = "mariadb"
    service = "mariadbd"

    def argv(self):
        return ["mariadbd", "--no-defaults", "--datadir=" + self.dir,
                "--socket=" + os.path.join(self.run_dir, "mysqld.sock"),
                "--pid-file=" + os.path.join(self.run_dir, "mysqld.pid"),
                "--tmpdir=" + self.run_dir, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-name-resolve",
                "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=4M", "--max-connections=30"] + self.tls_options()

    def tls_options(self):
        if not self.tls:
            return []
        cert, key = self.certificate()
        return ["--ssl-cert=" + cert, "--ssl-key=" + key]

    def ready(self):
        r = subprocess.run(self.client() + ["-e", "CREATE DATABASE IF NOT EXISTS shop"],
                           env=self.untraced_env(), capture_output=True, timeout=30)
        return r.returncode == 0

    def client(self, *args):
        """The mariadb client's argv (no option files)."""
        return ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(self.port),
                "-u", "root", *args]

    def sql(self, query, db="shop"):
        r = subprocess.run(self.client("-N", "-B", "-D", db, "-e", query),
                           env=self.untraced_env(), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("mariadb: %s" % r.stderr.decode())
        return r.stdout.decode()


class Redis(Server):
    """redis-server with a password (requirepass), no persistence."""
    name = "redis"
    service = "redis-server"
    password = "s3cret-pass"

    def argv(self):
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--requirepass", self.password, "--unixsocket", "",
                "--databases", "16"]

    def ready(self):
        r = subprocess.run(self.cli("PING"), env=self.untraced_env(), capture_output=True,
                           timeout=30)
        return r.stdout == b"PONG\n"

    def cli(self, *args, auth=True):
        """redis-cli's argv, logged in (AUTH at connect) unless auth=False."""
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        if auth:
            argv += ["-a", self.password, "--no-auth-warning"]
        return argv + list(args)


def db_attrs(system, namespace, operation=None, collection=None, text=None, summary=None,
             status=None, batch=None):
    """The db.* attributes of one operation (None: absent); status, the
    server's error code, is error.type as well."""
    return {"db.system.name": system, "db.namespace": namespace,
            "db.operation.name": operation, "db.collection.name": collection,
            "db.query.text": text, "db.query.summary": summary,
            "db.response.status_code": status, "error.type": status,
            "db.operation.batch.size": batch}


def span_name(a):
    """A database span's name by the conventions: the summary, else
    "{operation} {target}", else the target, else the system; the target
    is the collection, else the namespace, else server.address:port."""
    if a.get("db.query.summary"):
        return a["db.query.summary"]
    target = a.get("db.collection.name") or a.get("db.namespace") or \
        "%s:%s" % (a["server.address"], a["server.port"])
    if a.get("db.operation.name"):
        return "%s %s" % (a["db.operation.name"], target)
    return target or a["db.system.name"]


class ServerTest(unittest.TestCase):
    """A test class sharing one collector and one server (SERVER) across its
    tests; both go at the end even when starting failed halfway."""
    SERVER = None
    TLS = False  # the server offers TLS too

    @classmethod
    def setUpClass(cls):
        cls.col = Collector()
        cls.addClassCleanup(cls.col.stop)
        cls.db = cls.SERVER(cls.col, tls=cls.TLS)
        cls.addClassCleanup(cls.db.stop)
        cls.db.start()

    def run_client(self, argv, service=None, input=None, traced=True, **extra):
        """argv run to its end (traced as service unless traced=False), fed input."""
        env = self.col.env(service, **extra)
        if not traced:
            env.pop("LD_PRELOAD", None)
        return subprocess.run(argv, env=env, input=input, capture_output=True, timeout=120)

    def run_both(self, argv, service, input=None, **extra):
        """argv untraced, then traced as service: both results, the same
        exit status asserted."""
        plain = self.run_client(argv, input=input, traced=False, **extra)
        traced = self.run_client(argv, service, input=input, **extra)
        self.assertEqual(plain.returncode, traced.returncode, (plain.stderr, traced.stderr))
        return plain, traced

    def same_output(self, argv, service, input=None, **extra):
        """argv gives the same stdout and stderr untraced and traced; the
        traced run's result."""
        plain, traced = self.run_both(argv, service, input, **extra)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.stderr, plain.stderr)
        return traced

    def python_client(self, module, code, service, stdout):
        """code run by a Python that has module (a Debian python3-* package),
        untraced and traced: the same output, stdout."""
        python = python_with(module)
        self.assertIsNotNone(python, "no python3 with %s (scripts/setup installs it)" % module)
        r = self.same_output([python, "-c", code], service)
        self.assertEqual((r.returncode, r.stdout), (0, stdout), r.stderr)

    def db_spans(self, service, system, running=0):
        """The database spans of service (of system; None: of any), sorted
        by their start: all of them once the programs of service have
        exited, or at least `running` of a program still running."""
        def wanted(s):
            return s.service == service and "db.system.name" in s.attrs and \
                system in (None, s.attrs["db.system.name"])

        if running:
            got = self.col.wait_spans(running, timeout=15, pred=wanted)
        else:
            self.col.fence()
            got = [s for s in self.col.spans() if wanted(s)]
        # by start; pipelined commands written at once, by end
        return sorted(got, key=lambda s: (int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])))

    def served(self, kind, module, item, *args):
        """apps/db_app.py (traced, with an interpreter that has module) looks
        item up in this server for one request from an untraced client:
        (HTTP status, body, the request's SERVER span, the app's service)."""
        python = python_with(module)
        self.assertIsNotNone(python, "no python3 with %s (scripts/setup installs it)" % module)
        service = "db-app-" + kind
        _, port = start_app(self.col, "db_app.py", [kind, self.db.port, *args],
                            service=service, python=python)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/item?id=%d" % (port, item),
                                        timeout=30) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        got = self.col.wait_spans(1, pred=lambda s: s.service == service and s["kind"] == SERVER)
        self.assertEqual(len(got), 1, "the app's SERVER span never came")
        return status, body, got[0], service

    def assert_children_of(self, spans, parent):
        """Each span a child of parent, in its trace."""
        self.assertTrue(spans)
        for s in spans:
            self.assertEqual((s["traceId"], s.get("parentSpanId")),
                             (parent["traceId"], parent["spanId"]), s)

    def assert_db_spans(self, spans, wants):
        """spans are one each of wants (assert_db_span), in order."""
        self.assertEqual(len(spans), len(wants), [s["name"] for s in spans])
        for span, want in zip(spans, wants):
            self.assert_db_span(span, want)

    def assert_session_spans(self, service, system, wants):
        """The database spans of service (of system; None: of any) are one
        each of wants, each the root of a trace, no `secret-` in them."""
        spans = self.db_spans(service, system)
        self.assert_db_spans(spans, wants)
        self.assert_roots(spans)
        self.assert_no_secret(spans, "secret-")

    def assert_db_span(self, span, want, name=None):
        """span is a CLIENT span to this server whose db.*, server.*,
        network.peer.* and error.type attributes are exactly want over the
        server's own address (a value None: absent), named name (by
        default as the conventions name it); an error status when it has
        error.type."""
        expect = {"server.address": "127.0.0.1", "server.port": self.db.port,
                  "network.peer.address": "127.0.0.1", "network.peer.port": self.db.port}
        expect.update(want)
        expect = {k: v for k, v in expect.items() if v is not None}
        name = name or span_name(expect)
        got = {k: v for k, v in span.attrs.items()
               if k.startswith(("db.", "server.", "network.peer.")) or k == "error.type"}
        self.assertEqual(got, expect, span)
        self.assertEqual(span["kind"], CLIENT, span)
        self.assertEqual(span["name"], name, span)
        if "error.type" in expect:
            self.assertEqual(span.get("status", {}).get("code"), ERROR, span)
        else:
            self.assertNotEqual(span.get("status", {}).get("code"), ERROR, span)

    def assert_roots(self, spans):
        """Spans made outside any request: each the root of a trace of its own."""
        for s in spans:
            self.assertNotIn("parentSpanId", s, s)
        self.assertEqual(len({s["traceId"] for s in spans}), len(spans))

    def assert_no_secret(self, spans, *secrets):
        """No literal value or password anywhere in the spans."""
        text = repr([dict(s) for s in spans])
        for secret in secrets:
            self.assertNotIn(secret, text)
