"""Servers started as root whose workers become another user, under
`spanshim run` (as root in CI): nginx (workers as nobody) and apache2
prefork (children as nobody) give their SERVER spans to the private
collector, and so do a root daemon's short-lived children of other uids;
while processes of other users that `spanshim run` did not start, on the
same socket, get nothing written: their datagrams are refused, counted and
logged with their pid and uid."""
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (APACHE, APACHE_CONF, APACHE_MODULES, NGINX, NGINX_CONF, PRELOAD, PY,
                     SPANSHIM, as_nobody, free_port, read_spans, wait_port)

# Another user cannot run a Python under root's home (pyenv): the system's.
SYSTEM_PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else PY
NOBODY = 65534
HTDOCS = """
DocumentRoot "{dir}/htdocs"
<Directory "{dir}/htdocs">
    Require all granted
</Directory>
"""
STRANGER = 4242  # a uid no process of the traced program has
CURL = ["curl", "-sS", "-o", "/dev/null"]


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("Uid:")][0].split()[1])


def as_stranger():
    os.setgid(STRANGER)
    os.setgroups([])
    os.setuid(STRANGER)


class SpanshimRun:
    """`spanshim run --jsonl FILE -- CMD` as root, in a session of its own
    (apache signals its process group at SIGTERM); the traced program's
    $SPANSHIM_SOCKET is written to a file, and stderr read as it comes."""

    def __init__(self, argv):
        self.dir = tempfile.mkdtemp(prefix="spanshim-workers.")
        os.chmod(self.dir, 0o755)  # the workers read their configuration here
        self.jsonl = os.path.join(self.dir, "spans.jsonl")
        sockfile = os.path.join(self.dir, "socket-path")
        env = dict(os.environ)
        env.pop("SPANSHIM_SOCKET", None)
        env.pop("LD_PRELOAD", None)
        self.proc = subprocess.Popen(
            [SPANSHIM, "run", "--jsonl", self.jsonl, "--", "sh", "-c",
             'echo "$SPANSHIM_SOCKET" > "$0"; exec "$@"', sockfile, *argv(self.dir)],
            env=env, stderr=subprocess.PIPE, start_new_session=True)
        self.lines = []
        self.reader = threading.Thread(target=self.read_stderr)
        self.reader.start()
        deadline = time.time() + 20
        while not (os.path.exists(sockfile) and os.path.getsize(sockfile)):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("spanshim run did not start CMD: %s" % self.lines)
            time.sleep(0.02)
        with open(sockfile) as f:
            self.sock = f.read().strip()

    def read_stderr(self):
        for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace"))

    def wait_line(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [l for l in self.lines if text in l]
            if got:
                return got
            time.sleep(0.05)
        return []

    def wait_spans(self, n, pred, timeout=20):
        deadline = time.time() + timeout
        while True:
            got = [s for s in read_spans(self.jsonl) if pred(s)]
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.05)

    def stop(self, signal_it=True):
        """CMD's exit status, once it ends (at SIGTERM, or by itself)."""
        if signal_it and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=30)
        self.proc.stderr.close()
        self.stderr = "".join(self.lines)
        return rc


def traced_env(sock):
    env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=sock)
    env.pop("OTEL_SERVICE_NAME", None)
    return env


def untraced_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def server_span(query):
    return lambda s: s["kind"] == 2 and s.attrs.get("url.query") == query


# A traced urllib request as another user that is no descendant; it stays
# alive (so the collector judges a live process, not a vanished one) until
# told to go.
OUTSIDER = ("import sys, urllib.request\n"
            "urllib.request.urlopen(sys.argv[1]).read()\n"
            "print('sent', flush=True)\n"
            "sys.stdin.read()\n")


@unittest.skipUnless(os.getuid() == 0, "needs root: the workers switch user")
class Workers(unittest.TestCase):

    def nginx(self, d):
        port = self.port = free_port()
        os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
        os.chmod(os.path.join(d, "nginx-tmp"), 0o777)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=port, http="", server="", connections=64,
                                      extra_main="user nobody nogroup;"))
        return [NGINX, "-p", d, "-c", conf, "-e", os.path.join(d, "nginx-error.log")]

    def get(self, query):
        r = subprocess.run(CURL + ["http://127.0.0.1:%d/ok?%s" % (self.port, query)],
                           env=untraced_env(), capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_nginx_workers_as_nobody_and_other_users_refused(self):
        run = SpanshimRun(self.nginx)
        try:
            wait_port(self.port, run.proc)
            for i in range(3):
                self.get("n=%d" % i)
            got = run.wait_spans(3, lambda s: s["kind"] == 2)
            self.assertEqual(sorted(s.attrs["url.query"] for s in got), ["n=0", "n=1", "n=2"])
            self.assertTrue(all(s.service.startswith("unknown_service:nginx") for s in got))
            self.assertEqual({uid_of(s.res["process.pid"]) for s in got}, {NOBODY})
            # nobody, as the workers are, from outside spanshim run: refused
            # while it is alive to be looked at.
            url = "http://127.0.0.1:%d/ok?by=outsider" % self.port
            out = subprocess.Popen([SYSTEM_PY, "-c", OUTSIDER, url], env=traced_env(run.sock),
                                   preexec_fn=as_nobody, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(out.stdout.readline(), b"sent\n")
            said = run.wait_line("refused a datagram from pid %d uid %d: not the traced "
                                 "program or a process it started" % (out.pid, NOBODY))
            out.communicate(b"", timeout=30)
            self.assertTrue(said, run.lines)
            # Another uid, whose curl is gone by the time it is read, or not.
            r = subprocess.run(CURL + ["http://127.0.0.1:%d/ok?by=stranger" % self.port],
                               env=traced_env(run.sock), preexec_fn=as_stranger,
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(run.wait_line("uid %d: " % STRANGER), run.lines)
            # The requests of both reached the workers, who wrote their spans.
            self.assertEqual(len(run.wait_spans(1, server_span("by=outsider"))), 1)
            self.assertEqual(len(run.wait_spans(1, server_span("by=stranger"))), 1)
        finally:
            self.assertEqual(run.stop(), 0, run.stderr)
        spans = read_spans(run.jsonl)
        self.assertEqual([s for s in spans if s["kind"] != 2], [])  # no CLIENT span got in
        self.assertEqual(len(spans), 5)
        self.assertIn("2 from outside the traced program's processes", run.stderr)
        self.assertNotIn("spanshim[", run.stderr)  # no worker lost a span

    @unittest.skipUnless(os.path.exists(APACHE), "apache2 is not installed (apache2-bin)")
    def test_apache_prefork_children_as_nobody(self):
        def apache(d):
            self.port = free_port()
            os.makedirs(os.path.join(d, "htdocs"))
            with open(os.path.join(d, "htdocs", "ok"), "w") as f:
                f.write("ok\n")
            conf = os.path.join(d, "apache.conf")
            with open(conf, "w") as f:
                f.write((APACHE_CONF + HTDOCS).format(dir=d, port=self.port,
                                                      modules=APACHE_MODULES))
            return [APACHE, "-f", conf, "-DFOREGROUND"]

        run = SpanshimRun(apache)
        try:
            wait_port(self.port, run.proc)
            for i in range(3):
                self.get("a=%d" % i)
            got = run.wait_spans(3, lambda s: s["kind"] == 2 and
                                 s.attrs.get("url.query", "").startswith("a="))
            self.assertEqual(sorted(s.attrs["url.query"] for s in got), ["a=0", "a=1", "a=2"])
            self.assertEqual({uid_of(s.res["process.pid"]) for s in got}, {NOBODY})
            self.assertEqual({s.attrs["http.response.status_code"] for s in got}, {200})
        finally:
            self.assertEqual(run.stop(), 0, run.stderr)
        self.assertIn("; no datagram dropped", run.stderr)

    def test_daemon_children_that_exit_at_once(self):
        # A root daemon runs curl as other users, as cron or a CGI does: one
        # as a uid nothing else in the tree has, exited and not yet reaped;
        # then one as nobody reaped at once, gone before it can be looked at,
        # of a uid the tree has.
        port = free_port()
        backend = subprocess.Popen([PY, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                                   env=untraced_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        daemon = ("import subprocess, sys, time\n"
                  "url, jsonl = sys.argv[1], sys.argv[2]\n"
                  "seen = lambda: open(jsonl).read()\n"
                  "curl = ['curl', '-sS', '-o', '/dev/null']\n"
                  "p = subprocess.Popen(['setpriv', '--reuid=%d', '--regid=%d', '--clear-groups']"
                  " + curl + [url + '?by=zombie'])\n"
                  "deadline = time.time() + 20\n"
                  "while time.time() < deadline and 'by=zombie' not in seen():\n"
                  "    time.sleep(0.05)\n"
                  "p.wait()\n"
                  "sleeper = subprocess.Popen(['setpriv', '--reuid=nobody', '--regid=nogroup',"
                  " '--clear-groups', 'sleep', '60'])\n"
                  "subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup',"
                  " '--clear-groups'] + curl + [url + '?by=reaped'])\n"
                  "deadline = time.time() + 20\n"
                  "while time.time() < deadline and 'by=reaped' not in seen():\n"
                  "    time.sleep(0.05)\n"
                  "sleeper.kill()\n" % (STRANGER, STRANGER))
        try:
            wait_port(port, backend)
            run = SpanshimRun(lambda d: [PY, "-c", daemon, "http://127.0.0.1:%d/" % port,
                                         os.path.join(d, "spans.jsonl")])
            self.assertEqual(run.stop(signal_it=False), 0, run.stderr)
        finally:
            backend.kill()
            backend.wait()
        got = sorted(s.attrs["url.full"].split("?")[1] for s in read_spans(run.jsonl)
                     if s["kind"] == 3)
        self.assertEqual(got, ["by=reaped", "by=zombie"], run.stderr)
        self.assertIn("; no datagram dropped", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
