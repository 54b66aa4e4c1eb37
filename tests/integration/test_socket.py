"""Who gets the spans. The shim sends only to a socket that root, its own
user or a uid in SPANSHIM_COLLECTOR_UID owns, in directories nobody else
can swap it in: another local user may bind a socket anywhere others can
write. A SPANSHIM_SOCKET that cannot be used turns export off, never falls
back to another path. Without configuration the collector, the shim and
`spanshim run` meet at the default place. The collector never binds over,
nor removes, a file that is not its own socket.

Run as root, as in CI; nobody plays the other local user."""
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import COLLECTOR, PRELOAD, SPANSHIM, Collector, as_nobody, read_spans

NOBODY = pwd.getpwnam("nobody").pw_uid
REFUSED = b"not sending spans to "
# The system's python: nobody may not be able to run a virtualenv's.
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Binds a socket as whoever runs it; at a line on stdin, counts what came.
LISTENER = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
s.setblocking(False)
n = 0
try:
    while True:
        s.recv(1 << 20)
        n += 1
except BlockingIOError:
    pass
print(n, flush=True)
"""

# Two spans, far enough apart that the shim connects (and is refused) twice.
TWO_BATCHES = """
import time, urllib.request
for i in range(2):
    try:
        urllib.request.urlopen("http://127.0.0.1:1/try%d" % i)
    except OSError:
        pass
    time.sleep(1.3)
"""


class Listener:
    """A socket at path, bound by root or (user=as_nobody) by nobody."""

    def __init__(self, path, user=None):
        self.path = path
        self.proc = subprocess.Popen([PY, "-c", LISTENER, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, preexec_fn=user)
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError("listener did not start")

    def received(self):
        """Datagrams received; the listener ends."""
        out, _ = self.proc.communicate(b"\n", timeout=30)
        return int(out)


def url(tag):
    """A request that is refused: curl's client span for it, tagged."""
    return "http://127.0.0.1:1/" + tag


def traced(sock, argv, user=None, cwd=None, **extra):
    """argv under the shim with SPANSHIM_SOCKET=sock (None: unset)."""
    env = dict(os.environ, LD_PRELOAD=PRELOAD)
    env.pop("SPANSHIM_SOCKET", None)
    env.pop("SPANSHIM_LOG", None)
    if sock is not None:
        env["SPANSHIM_SOCKET"] = sock
    env.update(extra)
    return subprocess.run(argv, env=env, capture_output=True, timeout=60, preexec_fn=user,
                          cwd=cwd)


def curl(tag):
    return ["curl", "-s", url(tag)]


def stale_socket(path, user=None):
    """A socket file nobody listens on: its owner bound it and went away."""
    code = "import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])"
    subprocess.run([PY, "-c", code, path], check=True, preexec_fn=user, timeout=30)


def run_collector(args, env=None):
    """(exit status, stderr) of a collector that should refuse to start;
    one that starts is stopped and gives status None."""
    cenv = dict(os.environ)
    cenv.pop("SPANSHIM_SOCKET", None)
    cenv.update(env or {})
    p = subprocess.Popen([COLLECTOR, *args], stderr=subprocess.PIPE, env=cenv)
    try:
        _, err = p.communicate(timeout=10)
        return p.returncode, err
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
        return None, err


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="spanshim-sock.")
        os.chmod(cls.base, 0o755)  # nobody must reach the directories below
        cls.sticky = os.path.join(cls.base, "sticky")  # as /tmp is
        os.mkdir(cls.sticky)
        os.chmod(cls.sticky, 0o1777)

    def mkdir(self, name, mode):
        d = os.path.join(self.base, name)
        os.mkdir(d)
        os.chmod(d, mode)
        return d


class ShimTrust(Base):

    def test_another_users_socket_gets_nothing(self):
        evil = Listener(os.path.join(self.sticky, "spanshim.sock"), as_nobody)
        col = Collector(sock=os.path.join(self.sticky, "trusted.sock"))  # root's, beside it
        try:
            r = traced(evil.path, [PY, "-c", TWO_BATCHES])
            self.assertEqual(r.returncode, 0, r.stderr)
            said = [l for l in r.stderr.splitlines() if REFUSED in l]
            self.assertEqual(len(said), 1, r.stderr)  # once, at the default level
            self.assertIn(b"spanshim.sock: owned by uid %d, not root or this user (set "
                          b"SPANSHIM_COLLECTOR_UID to trust it)" % NOBODY, said[0])
            r = traced(evil.path, [PY, "-c", TWO_BATCHES], SPANSHIM_LOG="debug")
            self.assertIn(b"spans_dropped_untrusted: 2", r.stderr)
            self.assertNotIn(b"spans_exported", r.stderr)
            # The same program's spans reach a trusted collector next to it.
            r = traced(col.sock, [PY, "-c", TWO_BATCHES], SPANSHIM_LOG="debug")
            self.assertIn(b"spans_exported: 2", r.stderr)
            self.assertEqual(len(col.wait_spans(2)), 2)
        finally:
            col.stop()
        self.assertEqual(evil.received(), 0)

    def test_collector_uid_trusts_a_user(self):
        evil = Listener(os.path.join(self.sticky, "theirs.sock"), as_nobody)
        r = traced(evil.path, curl("trusted-uid"), SPANSHIM_LOG="debug",
                   SPANSHIM_COLLECTOR_UID="12345,%d" % NOBODY)
        self.assertNotIn(REFUSED, r.stderr)
        self.assertIn(b"spans_exported: 1", r.stderr)
        self.assertEqual(evil.received(), 1)

    def test_writable_directory_refused(self):
        for mode in (0o777, 0o770, 0o722):
            d = self.mkdir("open%o" % mode, mode)
            sock = Listener(os.path.join(d, "s.sock"))  # root's own socket
            r = traced(sock.path, curl("open"), SPANSHIM_LOG="debug")
            self.assertIn(b"directory %s is writable by others and not sticky" % d.encode(),
                          r.stderr)
            self.assertIn(b"spans_dropped_untrusted: 1", r.stderr)
            os.chmod(d, 0o755)  # the same socket, once the directory is safe
            r = traced(sock.path, curl("closed"), SPANSHIM_LOG="debug")
            self.assertIn(b"spans_exported: 1", r.stderr)
            self.assertEqual(sock.received(), 1, oct(mode))

    def test_directory_of_another_user_refused(self):
        d = self.mkdir("theirs", 0o755)
        os.chown(d, NOBODY, -1)
        sock = Listener(os.path.join(d, "s.sock"))
        r = traced(sock.path, curl("their-dir"), SPANSHIM_LOG="debug")
        self.assertIn(b"directory %s is owned by uid %d" % (d.encode(), NOBODY), r.stderr)
        self.assertIn(b"spans_dropped_untrusted: 1", r.stderr)
        os.chown(d, 0, -1)  # the same socket, once the directory is root's
        r = traced(sock.path, curl("root-dir"), SPANSHIM_LOG="debug")
        self.assertIn(b"spans_exported: 1", r.stderr)
        self.assertEqual(sock.received(), 1)

    def test_symlinks(self):
        d = self.mkdir("links", 0o755)
        sock = Listener(os.path.join(d, "real.sock"))
        link = os.path.join(d, "link.sock")
        os.symlink(sock.path, link)
        r = traced(link, curl("link"), SPANSHIM_LOG="debug")
        self.assertIn(REFUSED + link.encode() + b": it is a symbolic link", r.stderr)
        self.assertIn(b"spans_dropped_untrusted: 1", r.stderr)
        # A link among the directories is resolved (as /var/run -> /run).
        os.symlink(d, os.path.join(self.base, "dirlink"))
        r = traced(os.path.join(self.base, "dirlink", "real.sock"), curl("dirlink"),
                   SPANSHIM_LOG="debug")
        self.assertIn(b"spans_exported: 1", r.stderr)
        self.assertEqual(sock.received(), 1)

    def test_unusable_socket_turns_export_off(self):
        xdg = tempfile.mkdtemp(prefix="spanshim-xdg.")  # 0700, root's
        col = Collector(sock=os.path.join(xdg, "spanshim.sock"))  # the default place
        try:
            for bad, why in (("/" + "x" * 120 + ".sock", b"longer than a Unix socket address"),
                             ("relative.sock", b"not an absolute path"),
                             (self.base + "/", b"names a directory")):
                r = traced(bad, curl("bad"), XDG_RUNTIME_DIR=xdg, cwd=xdg)
                said = [l for l in r.stderr.splitlines() if b"cannot be used" in l]
                self.assertEqual(len(said), 1, r.stderr)
                self.assertIn(b"SPANSHIM_SOCKET=", said[0])
                self.assertIn(why, said[0])
                r = traced(bad, curl("bad"), XDG_RUNTIME_DIR=xdg, cwd=xdg, SPANSHIM_LOG="debug")
                self.assertIn(b"spans_dropped_off: 1", r.stderr)
            # Without the bad value, the same program finds the collector there.
            r = traced(None, curl("good"), XDG_RUNTIME_DIR=xdg)
            self.assertEqual(r.stderr, b"")
            got = col.wait_spans(1)
            self.assertEqual([s.attrs["url.full"] for s in got], [url("good")])
        finally:
            col.stop()


class DefaultPlace(Base):
    """As a user with a runtime directory: nothing to configure."""

    def test_collector_shim_and_run_meet(self):
        xdg = self.mkdir("xdg", 0o700)
        os.chown(xdg, NOBODY, -1)
        sock = os.path.join(xdg, "spanshim.sock")
        jsonl = os.path.join(xdg, "spans.jsonl")
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg)
        env.pop("SPANSHIM_SOCKET", None)
        col = subprocess.Popen([COLLECTOR, "--jsonl", jsonl], env=env, preexec_fn=as_nobody,
                               stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline and col.poll() is None:
            time.sleep(0.01)
        try:
            self.assertTrue(os.path.exists(sock), "the collector binds the default place")
            r = traced(None, curl("default"), as_nobody, XDG_RUNTIME_DIR=xdg)
            self.assertEqual(r.stderr, b"")
            renv = dict(env)
            renv.pop("LD_PRELOAD", None)
            r = subprocess.run([SPANSHIM, "run", "--", *curl("run-default")], env=renv,
                               capture_output=True, timeout=60, preexec_fn=as_nobody, cwd=xdg)
            self.assertIn(b"spans went to the collector on " + sock.encode(), r.stderr)
            deadline = time.time() + 10
            while len(read_spans(jsonl)) < 2 and time.time() < deadline:
                time.sleep(0.05)
            got = sorted(s.attrs["url.full"] for s in read_spans(jsonl))
            self.assertEqual(got, [url("default"), url("run-default")])
        finally:
            col.send_signal(signal.SIGTERM)
            col.communicate(timeout=30)
        self.assertFalse(os.path.exists(sock), "removed at exit")

    def test_run_refuses_another_users_socket(self):
        evil = Listener(os.path.join(self.sticky, "run.sock"), as_nobody)
        d = tempfile.mkdtemp(dir=self.base)
        env = dict(os.environ, SPANSHIM_SOCKET=evil.path)
        env.pop("LD_PRELOAD", None)
        r = subprocess.run([SPANSHIM, "run", "--", *curl("run-evil")], env=env, cwd=d,
                           capture_output=True, timeout=60)
        self.assertIn(b"spanshim: " + REFUSED + evil.path.encode() + b": owned by uid %d" % NOBODY,
                      r.stderr)
        spans = read_spans(os.path.join(d, "spanshim-traces.jsonl"))  # a private collector's
        self.assertEqual([s.attrs["url.full"] for s in spans], [url("run-evil")])
        self.assertEqual(evil.received(), 0)

    def test_run_with_unusable_socket(self):
        env = dict(os.environ, SPANSHIM_SOCKET="relative.sock")
        r = subprocess.run([SPANSHIM, "run", "--", "true"], env=env, capture_output=True,
                           timeout=60, cwd=self.base)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"SPANSHIM_SOCKET=relative.sock cannot be used: it is not an absolute path",
                      r.stderr)


class CollectorBind(Base):
    """--socket never replaces or removes what is not its own socket."""

    def test_refuses_a_file(self):
        path = os.path.join(self.base, "file.sock")
        with open(path, "w") as f:
            f.write("precious\n")
        rc, err = run_collector(["--socket", path])
        self.assertEqual(rc, 1, err)
        self.assertIn(b"exists and is not a socket; not replacing it", err)
        with open(path) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_refuses_another_users_socket(self):
        path = os.path.join(self.sticky, "taken.sock")
        stale_socket(path, as_nobody)  # nobody listens, but it is not ours
        rc, err = run_collector(["--socket", path])
        self.assertEqual(rc, 1, err)
        self.assertIn(b"is taken by uid %d" % NOBODY, err)
        self.assertEqual(os.lstat(path).st_uid, NOBODY)

    def test_replaces_its_own_stale_socket(self):
        path = os.path.join(self.base, "stale.sock")
        stale_socket(path)
        stale = os.lstat(path).st_ino
        col = Collector(sock=path)  # returns at once: the path exists already
        deadline = time.time() + 10
        while os.lstat(path).st_ino == stale and time.time() < deadline:
            time.sleep(0.01)
        try:
            r = traced(path, curl("stale"))
            self.assertEqual(r.returncode, 7)
            self.assertEqual(len(col.wait_spans(1)), 1)
        finally:
            col.stop()

    def test_exit_leaves_a_file_that_replaced_the_socket(self):
        col = Collector(sock=os.path.join(self.base, "replaced.sock"))
        new = os.path.join(self.base, "replaced.new")
        with open(new, "w") as f:
            f.write("mine now\n")
        os.rename(new, col.sock)
        self.assertEqual(col.stop(), 0)
        with open(col.sock) as f:
            self.assertEqual(f.read(), "mine now\n")

    def test_refuses_an_unsafe_directory(self):
        d = self.mkdir("unsafe", 0o777)
        rc, err = run_collector(["--socket", os.path.join(d, "c.sock")])
        self.assertEqual(rc, 1, err)
        self.assertIn(b"directory %s is writable by others and not sticky" % d.encode(), err)
        self.assertEqual(os.listdir(d), [])

    def test_unusable_paths(self):
        long = "/" + "x" * 100
        for args, env, why in ((["--socket", "rel.sock"], {}, b"not an absolute path"),
                               ([], {"SPANSHIM_SOCKET": long}, b"no room"),
                               (["--socket", long + "y" * 10], {}, b"longer than")):
            rc, err = run_collector(args, env)
            self.assertEqual(rc, 2, err)
            self.assertIn(b"cannot be used: it ", err)
            self.assertIn(why, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
