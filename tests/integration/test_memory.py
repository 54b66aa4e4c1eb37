"""Bounded memory: nginx under the shim holds 10,000 idle connections, one
connection that sends a 1 MiB header block, and one that never finishes
its request. The shim's share of the workers' memory (their RSS beside the
same run without the shim) must stay within its documented caps: 512 bytes
per idle followed connection, one span record per unfinished request, and
a fixed 2 MiB for the process (batch buffer, tables, free lists)."""
import os
import resource
import socket
import time
import unittest

from harness import NGINX, CollectorTest, start_nginx

IDLE = 10000
PER_IDLE = 512
FIXED = 2 << 20
SPAN_RECORD = 4096


def worker_rss(master):
    """Summed RSS (bytes) of the master's child processes."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        if int(st.get("PPid", "0")) == master:
            total += int(st["VmRSS"].split()[0]) * 1024
    return total


def load(port):
    """Open the connections, push the big header and the unfinished request."""
    conns = []
    for i in range(IDLE):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        conns.append(s)
        if i % 500 == 499:
            time.sleep(0.05)
    big = socket.create_connection(("127.0.0.1", port))
    big.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ")
    try:
        for _ in range(256):
            big.sendall(b"a" * 4096)  # nginx answers 400 and closes on its own
    except OSError:
        pass
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.sendall(b"POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it")
    time.sleep(1.5)
    return conns + [big, stuck]


@unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
class Memory(CollectorTest):
    def measure(self, traced):
        nginx, port = start_nginx(self.col, traced=traced,
                                  http="", server="", extra_main="worker_rlimit_nofile 30000;",
                                  connections=16384)
        socket.create_connection(("127.0.0.1", port)).close()
        time.sleep(0.5)
        before = worker_rss(nginx.pid)
        conns = load(port)
        after = worker_rss(nginx.pid)
        for s in conns:
            s.close()
        nginx.terminate()
        nginx.wait(timeout=20)
        return after - before

    def test_rss_within_caps(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 1000), hard))
        plain = self.measure(False)
        traced = self.measure(True)
        cost = traced - plain
        budget = IDLE * PER_IDLE + 2 * SPAN_RECORD + FIXED
        print("nginx workers: +%d KiB without the shim, +%d KiB with it; shim %d KiB of %d"
              % (plain >> 10, traced >> 10, cost >> 10, budget >> 10))
        self.assertLessEqual(cost, budget)


if __name__ == "__main__":
    unittest.main(verbosity=2)
