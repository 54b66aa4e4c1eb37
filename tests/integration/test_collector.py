"""spanshim-collector under hostile input: garbage, truncated and oversized
datagrams are counted and logged, never a crash; valid batches still become
complete OTLP JSON lines; --print draws the tree."""
import json
import os
import socket
import subprocess
import tempfile
import unittest

from harness import COLLECTOR, PRELOAD, Collector


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

    def test_refuses_a_second_collector(self):
        col = Collector()
        r = subprocess.run([COLLECTOR, "--socket", col.sock], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"already listens", r.stderr)
        col.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
