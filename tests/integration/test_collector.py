"""spanshim-collector under hostile input: garbage, truncated and oversized
datagrams are counted and logged, never a crash; valid batches still become
complete OTLP JSON lines; --print draws the tree. Who may write: the socket
is owner-only unless --socket-group; --allow-uid refuses other senders,
named by the pid and uid the kernel reports; a flood of a million
datagrams keeps memory within --queue-mb; a socket that is readable but
cannot be read (recvmmsg failing with ENOBUFS) is said and tried again,
and the spans still come; a datagram that comes while the collector waits
wakes it once."""
import grp
import json
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from crafted import pb_len
from harness import BUILD, COLLECTOR, PRELOAD, Collector, as_nobody, free_port
from test_metrics import parse, scrape


def capture_datagram():
    """A real batch from the shim: curl's span for a refused connection."""
    d = tempfile.mkdtemp(prefix="spanshim-capture.")
    path = os.path.join(d, "s.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=path)
    subprocess.run(["curl", "-s", "http://127.0.0.1:1/"], env=env, timeout=30)
    s.settimeout(5)
    data = s.recv(1 << 20)
    s.close()
    return data


def span_batch(name, attributes, values=()):
    """An ExportTraceServiceRequest with one span, built by hand, so its
    strings can be any bytes at all; values: (key, encoded AnyValue) too."""
    span = (pb_len(1, bytes(range(1, 17))) + pb_len(2, bytes(range(1, 9))) + pb_len(5, name) +
            bytes([6 << 3, 2]) + bytes([7 << 3 | 1]) + (10 ** 18).to_bytes(8, "little") +
            bytes([8 << 3 | 1]) + (10 ** 18 + 5).to_bytes(8, "little"))
    for key, value in attributes:
        span += pb_len(9, pb_len(1, key) + pb_len(2, pb_len(1, value)))
    for key, value in values:
        span += pb_len(9, pb_len(1, key) + pb_len(2, value))
    return pb_len(1, pb_len(2, pb_len(2, span)))


def nested_arrays(depth):
    """An AnyValue that is an array holding an array... depth times, then "x"."""
    v = pb_len(1, b"x")
    for _ in range(depth):
        v = pb_len(5, pb_len(1, v))
    return v


class Hostile(unittest.TestCase):
    def test_garbage_then_valid(self):
        good = capture_datagram()
        col = Collector()
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        bad = [b"\xff" * 100, os.urandom(3000), b"\x0a\xff\xff\xff\xff\x0f",
               b"GET / HTTP/1.1\r\n\r\n"]
        bad += [good[:n] for n in range(1, len(good), max(1, len(good) // 25))]
        sent_bad = 0
        for b in bad:
            tx.send(b)
        try:
            tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            tx.send(b"\0" * (300 * 1024))
            oversized = 1
        except OSError:
            oversized = 0
        tx.send(b"")
        tx.send(good)
        tx.close()
        got = col.wait_spans(1)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].attrs["error.type"], "ECONNREFUSED")
        self.assertIsNone(col.proc.poll(), "collector still running")
        self.assertEqual(col.stop(), 0)
        # Some truncations still decode (protobuf is prefix-tolerant at field
        # boundaries); whatever did not is counted and logged.
        self.assertIn("not an OTLP ExportTraceServiceRequest", col.stderr)
        self.assertIn("1 spans", col.stderr.splitlines()[-1])
        if oversized:
            self.assertIn("oversized", col.stderr)
        with open(col.jsonl) as f:
            for line in f:
                json.loads(line)

    def refused(self, datagrams, reason, log):
        """Send datagrams, then a good span: the collector is alive, wrote
        the good span (and those of datagrams[i] for i in `keep`), counted
        the others under reason and logged why."""
        port = free_port()
        col = Collector(extra=["--metrics-listen", "127.0.0.1:%d" % port])
        self.addCleanup(col.proc.kill)  # if the test fails half way
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        tx.connect(col.sock)
        for d in datagrams:
            self.assertLess(len(d), 256 * 1024)  # within the datagram cap
            tx.send(d)
        tx.send(span_batch(b"good", [(b"k", b"v")]))
        tx.close()
        got = col.wait_spans(1, timeout=30, pred=lambda s: s.get("name") == "good")
        self.assertEqual([s["name"] for s in got], ["good"])
        self.assertIsNone(col.proc.poll(), "collector still running")
        m = parse(scrape(port)[1])
        dropped = m[("spanshim_collector_datagrams_dropped_total", frozenset({("reason", reason)}))]
        self.assertEqual(col.stop(), 0)
        self.assertIn(log, col.stderr)
        return col, dropped

    def test_deep_nesting_refused(self):
        # 5,000 nested arrays (35 KB) overflowed protobuf-c's stack. An
        # attribute's AnyValue is the 6th message down; each array adds 2,
        # so 29 arrays (64 deep) decode and 30 do not.
        col, dropped = self.refused([span_batch(b"deep", [], [(b"k", nested_arrays(5000))]),
                                     span_batch(b"d30", [], [(b"k", nested_arrays(30))]),
                                     span_batch(b"d29", [], [(b"k", nested_arrays(29))])],
                                    "too_deep", "nests messages more than 64 deep")
        self.assertEqual(dropped, 2)
        self.assertEqual(sorted(s["name"] for s in col.spans()), ["d29", "good"])
        self.assertIn("2 nested too deep", col.stderr.splitlines()[-1])

    def test_decoding_bounded_in_memory(self):
        # A singular message field given again is merged with the one
        # before, its repeated fields copied: 60,000 resources of one
        # attribute each (240 KB) would take 14 GB decoded. 100,000 empty
        # spans (200 KB) take about 20 MB: decoded.
        merges = pb_len(1, pb_len(1, pb_len(1, b"")) * 60000)
        empty = pb_len(1, pb_len(2, pb_len(2, b"") * 100000))
        col, dropped = self.refused([merges, empty], "too_big_decoded",
                                    "would take more than 64 MiB decoded")
        self.assertEqual(dropped, 1)
        self.assertIn("100001 spans in 3 datagrams", col.stderr.splitlines()[-1])

    def test_strings_escaped_and_utf8_checked(self):
        """Quotes, backslashes and control bytes are escaped; valid UTF-8
        goes through; every byte of an invalid sequence becomes U+FFFD, so
        the line is valid JSON whatever the sender wrote."""
        cases = [
            (b'say "hi" \\ back', 'say "hi" \\ back'),
            (b"ctl\x01\x1f\n\t\x7f.", "ctl\x01\x1f\n\t\x7f."),
            ("\u00e9\u20ac\U0001f600".encode(), "\u00e9\u20ac\U0001f600"),
            (b"cut \xc3", "cut \ufffd"),
            (b"a\x80b", "a\ufffdb"),
            (b"\xc0\xaf", "\ufffd\ufffd"),            # overlong '/'
            (b"\xed\xa0\x80", "\ufffd" * 3),            # a surrogate
            (b"\xf4\x90\x80\x80", "\ufffd" * 4),       # above U+10FFFF
            (b"x" * 300 + b'"', "x" * 300 + '"'),        # a long plain run
            (b"", ""),                                    # set, though empty
        ]
        col = Collector()
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(span_batch(b'GET \xff"', [(b"k%d\n" % i, v) for i, (v, _) in enumerate(cases)]))
        tx.close()
        got = col.wait_spans(1)
        self.assertEqual(col.stop(), 0)
        self.assertEqual(got[0]["name"], 'GET \ufffd"')
        a = got[0].attrs
        for i, (_, want) in enumerate(cases):
            self.assertEqual(a["k%d\n" % i], want)

    def test_print_tree(self):
        good = capture_datagram()
        col = Collector(extra=["--print"])
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(good)
        col.wait_spans(1)
        tx.close()
        col.stop()
        lines = col.stdout.splitlines()
        self.assertTrue(lines[0].startswith("trace "), col.stdout)
        self.assertIn("1 span", lines[0])
        self.assertEqual(lines[1].split()[:5],
                         ["unknown_service:curl", "GET", "client", "ERROR", "-"])

    def test_file_is_owner_only(self):
        """Spans hold URLs, addresses and service names: the file is made 0600."""
        col = Collector()
        try:
            self.assertEqual(stat.S_IMODE(os.stat(col.jsonl).st_mode), 0o600)
        finally:
            col.stop()

    def test_socket_permissions(self):
        col = Collector(extra=["--socket-group", "0"])
        st = os.stat(col.sock)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, 0))
        col.stop()
        col = Collector(extra=["--socket-group", "0", "--socket-group", "nogroup"]
                        if os.getuid() == 0 else [])
        if os.getuid() == 0:
            self.assertEqual(os.stat(col.sock).st_gid, grp.getgrnam("nogroup").gr_gid)
        col.stop()
        d = tempfile.mkdtemp(prefix="spanshim-perm.")
        sock = os.path.join(d, "c.sock")
        p = subprocess.Popen([COLLECTOR, "--socket", sock], stderr=subprocess.PIPE)
        while not os.path.exists(sock):
            time.sleep(0.01)
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o600)  # owner-only by default
        p.terminate()
        p.wait(timeout=10)
        r = subprocess.run([COLLECTOR, "--socket", sock, "--socket-group", "no-such-group-x"],
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no group no-such-group-x", r.stderr)

    @unittest.skipUnless(os.getuid() == 0, "needs root to send as another user")
    def test_allow_uid(self):
        good = capture_datagram()
        col = Collector(extra=["--socket-group", "nogroup", "--allow-uid", "root"])
        send = ("import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
                "s.connect(sys.argv[1]); s.send(open(sys.argv[2], 'rb').read())")
        blob = os.path.join(col.dir, "good.bin")
        with open(blob, "wb") as f:
            f.write(good)
        os.chmod(blob, 0o644)
        nobody = pwd.getpwnam("nobody")
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        r = subprocess.run([py, "-c", send, col.sock, blob], preexec_fn=as_nobody,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)  # nobody may open it, but is not allowed
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(good)
        self.assertEqual(len(col.wait_spans(1)), 1)
        time.sleep(0.3)
        self.assertEqual(col.stop(), 0)
        self.assertEqual(len(col.spans()), 1)
        self.assertIn("refused a datagram from pid ", col.stderr)
        self.assertIn("uid %d: not an allowed uid" % nobody.pw_uid, col.stderr)
        self.assertIn("1 from refused uids", col.stderr)

    def test_flood_keeps_memory_bounded(self):
        good = capture_datagram()
        col = Collector(extra=["--queue-mb", "8"])
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.setblocking(False)
        junk = [os.urandom(64), b"\x0a\xff\xff\xff\xff\x0f" + b"x" * 58, good[: len(good) // 2]]
        sent = 0
        for i in range(1000000):
            try:
                tx.send(junk[i % 3])
                sent += 1
            except BlockingIOError:
                time.sleep(0.0002)
        tx.setblocking(True)
        tx.send(good)
        self.assertGreaterEqual(len(col.wait_spans(1, timeout=60)), 1)
        with open("/proc/%d/status" % col.proc.pid) as f:
            hwm = [int(l.split()[1]) for l in f if l.startswith("VmHWM")][0]
        self.assertLess(hwm, 64 * 1024, "peak RSS %d KiB" % hwm)  # 8 MiB queue + the program
        self.assertEqual(col.stop(), 0)
        last = col.stderr.splitlines()[-1]
        self.assertIn("not OTLP", last)
        # A million bad datagrams give a handful of log lines, not a million.
        self.assertLess(len(col.stderr.splitlines()), 400)
        self.assertGreater(sent, 100000)

    def test_sighup_reopens_the_file(self):
        # logrotate moves the file away and sends SIGHUP: the next line
        # goes to a new file of the same name.
        good = capture_datagram()
        col = Collector()
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(good)
        self.assertEqual(len(col.wait_spans(1)), 1)
        os.rename(col.jsonl, col.jsonl + ".1")
        col.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        tx.send(good)
        deadline = time.time() + 10
        while not os.path.exists(col.jsonl) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(col.stop(), 0)
        for path in (col.jsonl, col.jsonl + ".1"):
            with open(path) as f:
                self.assertEqual(len(f.read().splitlines()), 1, path)

    def test_a_datagram_costs_one_wake_up(self):
        """The main thread reads the socket itself while it keeps up: a
        datagram that comes while it waits wakes it once and is handled
        where it was read. Handed over by a receiving thread, each one
        woke two threads (the receiver's poll, then the main thread's
        wait): two sleeps a datagram, counted here by the kernel's
        voluntary context switches of every thread of the collector."""
        col = Collector()
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(span_batch(b"first", [(b"k", b"v")]))
        col.wait_spans(1)

        def sleeps():
            total = 0
            for task in os.listdir("/proc/%d/task" % col.proc.pid):
                with open("/proc/%d/task/%s/status" % (col.proc.pid, task)) as f:
                    total += sum(int(l.split()[1]) for l in f
                                 if l.startswith("voluntary_ctxt_switches"))
            return total

        n = 200
        before = sleeps()
        for i in range(n):
            tx.send(span_batch(b"paced-%d" % i, [(b"k", b"v")]))
            time.sleep(0.004)  # each one handled before the next comes
        col.wait_spans(n + 1)
        per = (sleeps() - before) / n
        self.assertEqual(col.stop(), 0)
        self.assertEqual(len(col.spans()), n + 1)
        # one for the main thread's wait, and the receiving thread's naps
        # (100 ms apart while the main thread waits): about 1.05, against 2
        self.assertLess(per, 1.5, "%.2f sleeps a datagram" % per)

    def test_a_failing_receive_is_said_and_tried_again(self):
        fault = os.path.join(BUILD, "tests", "libfaultinject.so")
        col = Collector(env={"LD_PRELOAD": fault, "FAULT_RATE": "0", "FAULT_RECVMMSG": "30"})
        self.addCleanup(col.proc.kill)
        tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        tx.connect(col.sock)
        tx.send(span_batch(b"after-enobufs", [(b"k", b"v")]))
        tx.close()
        got = col.wait_spans(1, timeout=30)
        self.assertEqual([s["name"] for s in got], ["after-enobufs"])
        self.assertEqual(col.stop(), 0)
        said = [l for l in col.stderr.splitlines() if "receiving datagrams" in l]
        self.assertTrue(said, col.stderr)
        self.assertIn("No buffer space available; trying again", said[0])
        self.assertLess(len(said), 30)  # rate-limited

    def test_refuses_a_second_collector(self):
        col = Collector()
        r = subprocess.run([COLLECTOR, "--socket", col.sock], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"already listens", r.stderr)
        col.stop()


class FullDisk(unittest.TestCase):
    """The .jsonl file on a full disk: a tmpfs of 256 KiB, mounted in a
    private mount namespace of the collector's, reached from here through
    /proc/PID/root."""

    def counters(self):
        m = parse(scrape(self.port)[1])
        return lambda name: m[("spanshim_collector_" + name, frozenset())]

    def send(self, first, n):
        """n batches of one 3 KB span each, then until all are handled."""
        for i in range(first, first + n):
            self.tx.send(span_batch(b"span-%d" % i, [(b"pad", b"x" * (3000 + i))]))
        deadline = time.time() + 30
        while self.counters()("datagrams_total") < first + n and time.time() < deadline:
            time.sleep(0.05)
        return self.counters()

    def test_full_disk_leaves_only_whole_batches(self):
        self.assertEqual(os.getuid(), 0, "mounting a tmpfs needs root")
        d = tempfile.mkdtemp(prefix="spanshim-disk.")
        disk = os.path.join(d, "disk")
        os.mkdir(disk)
        sock, jsonl, self.port = os.path.join(d, "c.sock"), os.path.join(disk, "spans.jsonl"), free_port()
        col = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=256k tmpfs "$1" && shift && exec "$@"',
             "sh", disk, COLLECTOR, "--socket", sock, "--jsonl", jsonl,
             "--metrics-listen", "127.0.0.1:%d" % self.port], stderr=subprocess.PIPE)
        self.addCleanup(col.kill)  # if the test fails half way (a no-op once it exited)
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline and col.poll() is None:
            time.sleep(0.01)
        view = "/proc/%d/root" % col.pid  # the collector's mounts: its tmpfs
        with open(view + disk + "/filler", "wb") as f:
            f.write(b"\0" * 65536)
        self.tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.tx.connect(sock)
        full = self.send(0, 100)  # 330 KB of lines for 192 KiB free
        self.assertGreater(full("jsonl_write_errors_total"), 0)
        os.unlink(view + disk + "/filler")  # space again: writing resumes
        c = self.send(100, 10)
        with open(view + jsonl, "rb") as f:
            data = f.read()
        self.tx.close()
        col.send_signal(signal.SIGTERM)
        err = col.communicate(timeout=30)[1].decode()
        self.assertEqual(col.returncode, 0)
        names = []
        for line in data.split(b"\n")[:-1]:  # every line whole OTLP JSON
            req = json.loads(line)
            names += [s["name"] for s in req["resourceSpans"][0]["scopeSpans"][0]["spans"]]
        self.assertTrue(data.endswith(b"\n"))
        written = full("jsonl_spans_total")
        self.assertGreater(written, 20)
        self.assertEqual(written + full("jsonl_spans_not_written_total"), 100)
        self.assertEqual(c("jsonl_spans_total"), written + 10)
        self.assertEqual(len(names), written + 10)
        self.assertEqual(names[-10:], ["span-%d" % i for i in range(100, 110)])
        last = err.splitlines()[-1]  # the totals say what the file holds
        self.assertIn("110 spans in 110 datagrams", last)
        self.assertIn("; %d written to %s" % (written + 10, jsonl), last)
        self.assertIn("%d batches (%d spans) not written" % (100 - written, 100 - written), last)
        self.assertIn("No space left on device", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
