"""The same exchange over IPv6 and over a Unix stream socket, keep-alive with
several requests on one connection, 100-continue, and what happens to spans
when no collector listens or the collector cannot keep up: counted, and
said once at the default level with the reason and the socket's path (once
for a process and the children it forks), and at exit how many were lost."""
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (APPS, LIB, PRELOAD, PY, Collector, CollectorTest, as_nobody, read_lines,
                     start_app)

# span(): one CLIENT span, of a refused connection.
SPAN = """
import errno, os, resource, socket, sys, time
def span():
    try:
        socket.create_connection(("127.0.0.1", 1))
    except OSError:
        pass
"""

# A span, then, when the test says so, the soft fd limit raised to argv[2]
# (if given) and sockets opened until EMFILE and their count printed; the
# last argv[1] of them closed (-1: all), and a second span; the rest stay
# open to the end (os._exit: no finalizer closes them before the shim's
# last flush).
FD_TABLE = SPAN + """
span()
sys.stdin.readline()
if len(sys.argv) > 2:
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[2]), int(sys.argv[2])))
socks = []
try:
    while True:
        socks.append(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
except OSError as e:
    assert e.errno == errno.EMFILE, e
print(len(socks), flush=True)
free = int(sys.argv[1])
for s in socks[-free if free >= 0 else 0:]:
    s.close()
span()
sys.stdout.flush()
os._exit(0)
"""


# Two spans in two batches: the first leaves from the flush thread, the
# second at exit.
TWO_BATCHES = SPAN + """
span()
time.sleep(0.6)
span()
"""

# A span, then idle: how often the process's threads slept and woke over
# 2 s of nothing (its own sleep aside), printed; then, told to, a second
# span, and, told again, the end.
IDLE = SPAN + """
span()
time.sleep(1.6)
def sleeps():
    n = 0
    for task in os.listdir("/proc/self/task"):
        with open("/proc/self/task/%s/status" % task) as f:
            n += sum(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
    return n
before = sleeps()
time.sleep(2.0)
print(sleeps() - before - 1, flush=True)
sys.stdin.readline()
span()
sys.stdin.readline()
"""

# A parent that makes no span (or one, with "first") forks four children
# that make one each and exit.
FORKED = SPAN + """
if sys.argv[1:] == ["first"]:
    span()
    time.sleep(0.6)
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        span()
        sys.exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
"""
# A span, then stderr moved to the file argv[1] (as a daemon does once it
# has started), and a wait for the test's word.
MOVED_STDERR = SPAN + """
span()
os.dup2(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 2)
sys.stdin.readline()
"""

SAID = b"; spans are dropped (said once, counted at exit)"
# Another user cannot run a Python under root's home (pyenv): the system's.
SYSTEM_PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else PY


def stuck_socket(path):
    """A "collector" that never reads, its queue already full."""
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.bind(path)
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.connect(path)
    filler.setblocking(False)
    try:
        while True:
            filler.send(b"x" * 512)
    except BlockingIOError:
        pass  # the queue is full
    filler.close()
    return stuck


def fd_limit(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class Transports(CollectorTest):

    def pair(self, client, server):
        """The server span whose parent is the given client span."""
        got = self.col.wait_spans(1, pred=lambda s: s.get("parentSpanId") == client["spanId"])
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["traceId"], client["traceId"])
        self.assertEqual(got[0].service, server)
        return got[0]

    def test_ipv6(self):
        record = os.path.join(self.col.dir, "v6.record")
        _, port = start_app(self.col, "backend.py", [record, "ipv6"], "v6-backend")
        url = "http://[::1]:%d/inventory?v=6" % port
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", url])
        self.assertEqual(r.returncode, 0, r.stderr)
        cli = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full") == url)
        self.assertEqual(len(cli), 1)
        self.assertEqual(cli[0].attrs["server.address"], "::1")
        self.assertEqual(cli[0].attrs["network.peer.address"], "::1")
        srv = self.pair(cli[0], "v6-backend")
        self.assertEqual(srv.attrs["client.address"], "::1")
        self.assertEqual(srv.attrs["url.query"], "v=6")

    def test_unix_socket(self):
        path = os.path.join(self.col.dir, "http.sock")
        record = os.path.join(self.col.dir, "unix.record")
        start_app(self.col, "backend.py", [record, "unix:" + path], "unix-backend")
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "--unix-socket", path,
                          "http://localhost/inventory?over=unix"])
        self.assertEqual(r.returncode, 0, r.stderr)
        cli = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full", "").endswith("over=unix"))
        self.assertEqual(len(cli), 1)
        self.assertEqual(cli[0].attrs["url.full"], "http://localhost/inventory?over=unix")
        self.assertEqual(cli[0].attrs["network.peer.address"], path)
        self.assertNotIn("network.peer.port", cli[0].attrs)
        srv = self.pair(cli[0], "unix-backend")
        self.assertEqual(srv.attrs["url.path"], "/inventory")
        self.assertEqual(len(read_lines(record)), 1)

    def test_keep_alive_and_100_continue(self):
        record = os.path.join(self.col.dir, "ka.record")
        _, port = start_app(self.col, "backend.py", [record], "ka-backend")
        base = "http://127.0.0.1:%d" % port
        # Three requests on one connection (curl reuses it), the last a POST
        # that waits for 100 Continue.
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null", base + "/a?ka=1",
                          base + "/b?ka=2", "-o", "/dev/null", "-H", "Expect: 100-continue",
                          "--data-binary", "x" * 5000, base + "/orders?ka=3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for q in ("ka=1", "ka=2", "ka=3"):
            cli = self.col.wait_spans(1, pred=lambda s: s["kind"] == 3 and
                                      s.attrs.get("url.full", "").endswith(q))
            self.assertEqual(len(cli), 1, q)
            self.assertEqual(cli[0].attrs["http.response.status_code"], 200)
            srv = self.pair(cli[0], "ka-backend")
            self.assertEqual(srv.attrs["http.response.status_code"], 200)
        ports = {s.attrs["network.peer.port"] for s in self.col.spans()
                 if s.service == "ka-backend"}
        self.assertEqual(len(ports), 1, "one client connection for all three")

    @unittest.skipUnless(shutil.which("node"), "node is not installed")
    def test_node(self):
        record = os.path.join(self.col.dir, "node.record")
        _, bport = start_app(self.col, "backend.py", [record], "node-backend")
        port_file = os.path.join(self.col.dir, "node.port")
        self.col.start(["node", os.path.join(APPS, "node_front.js"), port_file, str(bport)],
                       service="node-front")
        port = ""
        deadline = time.time() + 20
        while not port and time.time() < deadline:
            time.sleep(0.05)
            port = "".join(read_lines(port_file))
        for i in range(5):  # keep-alive upstream: later requests reuse the connection
            r = self.col.run(["curl", "-sS", "http://127.0.0.1:%s/node?n=%d" % (port, i)])
            self.assertEqual(r.stdout, b'{"item":42,"stock":7}')
            srv = self.col.wait_spans(1, pred=lambda s: s.service == "node-front" and
                                      s.attrs.get("url.query") == "n=%d" % i)
            self.assertEqual(len(srv), 1)
            trace = self.col.wait_spans(4, pred=lambda s: s["traceId"] == srv[0]["traceId"])
            shape = sorted((s.service, s["kind"]) for s in trace)
            self.assertEqual(shape, [("node-backend", 2), ("node-front", 2), ("node-front", 3),
                                     ("unknown_service:curl", 3)])
            cli = [s for s in trace if s.service == "node-front" and s["kind"] == 3][0]
            self.assertEqual(cli["parentSpanId"], srv[0]["spanId"])
        self.assertEqual(len(read_lines(record)), 5)

    def test_idle_server_ships_its_spans(self):
        # A long-running server that goes idle after one request: its span
        # must leave without waiting for exit (the exporter's flush thread).
        record = os.path.join(self.col.dir, "idle.record")
        proc, port = start_app(self.col, "backend.py", [record], "idle-backend")
        subprocess.run(["curl", "-sS", "-o", "/dev/null",
                        "http://127.0.0.1:%d/idle" % port], check=True)
        got = self.col.wait_spans(1, timeout=3.0, pred=lambda s: s.service == "idle-backend")
        self.assertEqual(len(got), 1)
        self.assertIsNone(proc.poll(), "still running")

    def test_an_idle_process_sleeps(self):
        # Nothing waits to be sent for a second: the flush thread sleeps
        # till the in-flight walk's next tick (a second), not the 50 ms it
        # sleeps while records come (40 wake-ups in 2 s before), and the
        # next span wakes it: it leaves at once, the program still running.
        p = subprocess.Popen([PY, "-c", IDLE], env=self.col.env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        mine = lambda s: s.res["process.pid"] == p.pid  # noqa: E731
        self.assertEqual(len(self.col.wait_spans(1, pred=mine)), 1)
        woke = int(p.stdout.readline())
        self.assertLessEqual(woke, 5, "%d wake-ups in 2 s idle" % woke)
        p.stdin.write(b"\n")
        p.stdin.flush()
        self.assertEqual(len(self.col.wait_spans(2, timeout=2.0, pred=mine)), 2)
        self.assertIsNone(p.poll(), "still running: the span left from the flush thread")
        p.communicate(b"\n", timeout=30)
        self.assertEqual(p.returncode, 0)

    def test_two_copies_of_the_shim(self):
        # Loaded twice from two paths: one copy traces, the other stands down.
        copy_dir = os.path.join(self.col.dir, "copy")
        os.makedirs(copy_dir)
        copy = os.path.join(copy_dir, "libspanshim.so")
        shutil.copy(LIB, copy)
        record = os.path.join(self.col.dir, "twice.record")
        _, port = start_app(self.col, "backend.py", [record], "twice-backend",
                            LD_PRELOAD=PRELOAD + ":" + copy)
        url = "http://127.0.0.1:%d/inventory?twice=1" % port
        r = self.col.run(["curl", "-sS", url], LD_PRELOAD=PRELOAD + ":" + copy)
        self.assertEqual(r.returncode, 0)
        raw = "".join(read_lines(record))
        self.assertEqual(raw.count('"path"'), 1)
        import base64, json
        sent = base64.b64decode(json.loads(read_lines(record)[0])["raw"])
        self.assertEqual(sent.count(b"traceparent"), 1)
        time.sleep(0.6)
        got = [s for s in self.col.spans() if "twice=1" in s.attrs.get("url.full", "") or
               s.attrs.get("url.query") == "twice=1"]
        self.assertEqual(sorted(s["kind"] for s in got), [2, 3])

    def test_no_collector_counts_drops(self):
        record = os.path.join(self.col.dir, "nocol.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_LOG="debug",
                   SPANSHIM_SOCKET=os.path.join(self.col.dir, "nobody.sock"))
        r = subprocess.run(["curl", "-sS", "http://127.0.0.1:%d/x" % port], env=env,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b'{"item":42,"stock":7}')
        self.assertIn(b"spans_dropped_nocollector: 1", r.stderr)
        self.assertIn(b"headers_injected: 1", r.stderr)

    def fd_table(self, traced, free=-1, limit=16, raise_to=None):
        """(sockets the program could open under ulimit -n LIMIT, or under
        the limit it raised to RAISE_TO, its stderr)."""
        env = self.col.env(SPANSHIM_LOG="debug") if traced else dict(os.environ)
        if not traced:
            env.pop("LD_PRELOAD", None)
        args = [str(free)] + ([str(raise_to)] if raise_to else [])
        p = subprocess.Popen([PY, "-c", FD_TABLE] + args, env=env,
                             preexec_fn=fd_limit(limit, raise_to or limit), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if traced:  # its first batch has gone: the export socket was made
            self.assertEqual(len(self.col.wait_spans(1, pred=lambda s: s.res["process.pid"] ==
                                                     p.pid)), 1)
        out, err = p.communicate(b"\n", timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.pid = p.pid
        return int(out), err

    def test_low_fd_limit_leaves_the_program_every_fd(self):
        # ulimit -n 16 leaves no room for the export socket up high: it
        # must not keep one of the program's numbers.
        untraced, _ = self.fd_table(traced=False)
        traced, err = self.fd_table(traced=True)
        self.assertEqual(traced, untraced)
        self.assertIn(b"spans_exported: 2", err)
        got = self.col.wait_spans(2, pred=lambda s: s.res["process.pid"] == self.pid)
        self.assertEqual(len(got), 2)

    def test_full_fd_table_takes_the_kept_socket_back(self):
        # ulimit -n 700 leaves room for the kept socket at 600, inside the
        # program's table: when the program nears the limit, the socket gives
        # way, and the next batch (after the program closed its sockets) goes
        # on one of its own.
        untraced, _ = self.fd_table(traced=False, limit=700)
        traced, err = self.fd_table(traced=True, limit=700)
        self.assertEqual(traced, untraced)
        self.assertIn(b"the export socket gives way", err)
        self.assertIn(b"spans_exported: 2", err)
        got = self.col.wait_spans(2, pred=lambda s: s.res["process.pid"] == self.pid)
        self.assertEqual(len(got), 2)

    def test_raised_fd_limit_moves_the_threshold(self):
        # The program raises its limit from 700 to 1024 after the shim
        # started (as nginx's worker_rlimit_nofile does): the socket gives
        # way near the new limit, not at the old one.
        untraced, _ = self.fd_table(traced=False, limit=700, raise_to=1024)
        traced, err = self.fd_table(traced=True, limit=700, raise_to=1024)
        self.assertEqual(traced, untraced)
        self.assertIn(b"fd 1020 is near the fd limit: the export socket gives way", err)
        self.assertIn(b"spans_exported: 2", err)

    def test_nearly_full_fd_table_drops_the_batch(self):
        # At exit only two numbers are free: sending would take one of the
        # table's last, so that batch is dropped and counted instead.
        _, err = self.fd_table(traced=True, free=2)
        self.assertIn(b"spans_exported: 1", err)
        self.assertIn(b"spans_dropped_fdlimit: 1", err)

    def test_full_collector_counts_drops(self):
        # A "collector" that never reads: its queue fills, sends would block,
        # and the shim drops and counts instead of stalling the program.
        path = os.path.join(self.col.dir, "stuck.sock")
        stuck = stuck_socket(path)
        record = os.path.join(self.col.dir, "full.record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        code = ("import urllib.request, sys\n"
                "for i in range(20):\n"
                "    urllib.request.urlopen(sys.argv[1]).read()\n")
        env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_LOG="debug", SPANSHIM_SOCKET=path)
        r = subprocess.run(["python3", "-c", code, "http://127.0.0.1:%d/x" % port], env=env,
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"spans_dropped_full: 20", r.stderr)
        stuck.close()



class Unreachable(unittest.TestCase):
    """At the default log level: the first loss said once, with the reason
    and the path; at exit, how many spans were lost."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="spanshim-unreachable.")
        os.chmod(cls.dir, 0o755)  # nobody must reach the socket's directory

    def traced(self, path, argv, preexec_fn=None):
        env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=path)
        env.pop("SPANSHIM_LOG", None)
        r = subprocess.run(argv, env=env, capture_output=True, timeout=60,
                           preexec_fn=preexec_fn)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stderr.splitlines()
        return ([l for l in lines if SAID in l],
                [l for l in lines if b" lost (" in l])

    def assert_told(self, path, reason, lost, preexec_fn=None):
        said, exit_line = self.traced(path, [SYSTEM_PY, "-c", TWO_BATCHES], preexec_fn)
        self.assertEqual(len(said), 1, said)
        self.assertIn(reason % path.encode() + SAID, said[0])
        self.assertEqual(len(exit_line), 1, exit_line)
        self.assertIn(b": 2 spans lost (2 with %s)\n" % lost, exit_line[0] + b"\n")

    def test_no_socket(self):
        self.assert_told(os.path.join(self.dir, "absent.sock"),
                         b"cannot reach the collector at %s: No such file or directory",
                         b"no collector reached")

    def test_nobody_listens(self):
        path = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.close()  # the file stays: a collector that died
        self.assert_told(path, b"cannot reach the collector at %s: Connection refused",
                         b"no collector reached")

    @unittest.skipUnless(os.getuid() == 0, "needs root to run as another user")
    def test_socket_of_root_only(self):
        path = os.path.join(self.dir, "root-only.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        os.chmod(path, 0o600)  # nginx's workers, before --socket-group
        try:
            self.assert_told(path, b"cannot reach the collector at %s: Permission denied",
                             b"no collector reached", as_nobody)
        finally:
            s.close()

    def test_full_socket(self):
        stuck = stuck_socket(os.path.join(self.dir, "full.sock"))
        try:
            self.assert_told(stuck.getsockname(),
                             b"the collector at %s is not keeping up: Resource temporarily "
                             b"unavailable", b"the collector's socket full")
        finally:
            stuck.close()

    def test_forked_children_say_it_once(self):
        path = os.path.join(self.dir, "forked.sock")
        for first, exits in (([], 4), (["first"], 5)):
            said, lost = self.traced(path, [PY, "-c", FORKED, *first])
            self.assertEqual(len(said), 1, said)  # not once per worker
            self.assertEqual(len(lost), exits, lost)  # each process its own count
            self.assertEqual(len({l.split(b"]")[0] for l in lost}), exits)
            for l in lost:
                self.assertIn(b": 1 span lost (1 with no collector reached)", l)

    def test_said_where_stderr_is_now(self):
        # The flush thread, in an fd table of its own, says the loss on the
        # program's stderr as it is when it says it: the file, not the pipe.
        path = os.path.join(self.dir, "moved.sock")
        log = os.path.join(self.dir, "moved.log")
        env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=path)
        env.pop("SPANSHIM_LOG", None)
        p = subprocess.Popen([PY, "-c", MOVED_STDERR, log], env=env, stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.exists(log) and
                                              SAID in open(log, "rb").read()):
            time.sleep(0.05)
        _, err = p.communicate(b"\n", timeout=30)  # the flush thread said it, before the exit
        self.assertEqual(p.returncode, 0)
        said = [l for l in open(log, "rb").read().splitlines() if SAID in l]
        self.assertEqual(len(said), 1, said)
        self.assertIn(b"cannot reach the collector at %s" % path.encode(), said[0])
        self.assertNotIn(SAID, err)

    def test_quiet_when_spans_arrive(self):
        col = Collector()
        try:
            said, lost = self.traced(col.sock, [PY, "-c", TWO_BATCHES])
            self.assertEqual((said, lost), ([], []))
            self.assertEqual(len(col.wait_spans(2)), 2)
        finally:
            col.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
