"""The collector's ingest rate: spans per second received on its socket and
written to .jsonl, on one core (the collector is pinned to CPU 0; the
sender runs elsewhere). The batches are real ones: a traced curl fetching
many URLs from a traced nginx, captured from the shim's socket (under load,
so the shim's batches are full, as they are when throughput matters).

usage: collector_rate.py [SPANS] [--against COLLECTOR [--runs N]]
   (SPANS default 1,000,000)
Prints one JSON object: spans, seconds, spans_per_second, cpu_seconds (and
its user and system parts), spans_per_cpu_second, datagrams,
spans_per_datagram. With --against, the same batches go to this build's
collector and to COLLECTOR (another build's) in turn, N runs each (5),
alternating; each run is printed, then one object with the medians of
both ("this", "against"): on a shared machine only a comparison made side
by side says anything.

Before each measurement the page cache is warmed: as many bytes as the run
will write are written to a file beside the .jsonl and the file removed.
On a freshly booted virtual machine the first write to each page of memory
the guest never used costs a fault in the host: measured here, 1.4 GB
written to tmpfs took 3.1 s of system time the first time and 0.5 s the
next, and the collector's system time a span fell from 1.4 us to 0.4 us.
A host that has run for a while has used its memory; the warm figure is
the one a long-running collector sees. Without --against, a run without
the warm-up comes first and its figures are printed beside the warm one
(`unwarmed_spans_per_second`, `unwarmed_cpu_system_seconds`): on a fresh
machine, the first such run is the cold figure."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import COLLECTOR, NGINX, PRELOAD, free_port, wait_port  # noqa: E402


def cpu_times(pid):
    """User and system CPU time a process has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick

NGINX_CONF = """daemon off;
master_process off;
pid %s/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %s/tmp;
    server {
        listen 127.0.0.1:%d;
        location / { default_type application/json; return 200 '{"item":42,"stock":7}'; }
    }
}
"""


def capture_batches():
    """Datagrams the shim sent for 200 requests (client and server spans)."""
    d = tempfile.mkdtemp(prefix="spanshim-bench.")
    path = os.path.join(d, "s.sock")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    out = []
    rx.settimeout(0.5)

    def drain():  # the kernel queues only a few datagrams: read as they come
        while True:
            try:
                out.append(rx.recv(1 << 20))
            except socket.timeout:
                if done:
                    return

    done = False
    reader = threading.Thread(target=drain)
    reader.start()
    env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=path, OTEL_SERVICE_NAME="nginx")
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % (d, d, port))
    srv = subprocess.Popen([NGINX, "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")], env=env)
    wait_port(port, srv)
    urls = ["http://127.0.0.1:%d/inventory?item=%d" % (port, i) for i in range(2000)]
    subprocess.run(["curl", "-s", *urls], check=True, stdout=subprocess.DEVNULL,
                   env=dict(env, OTEL_SERVICE_NAME="shop"))
    time.sleep(0.5)
    srv.terminate()
    srv.wait()
    done = True
    reader.join()
    return out


def spans_in(datagrams):
    """Count spans by decoding with the collector itself (--print off)."""
    d = tempfile.mkdtemp(prefix="spanshim-bench.")
    sock, jsonl = os.path.join(d, "c.sock"), os.path.join(d, "c.jsonl")
    col = subprocess.Popen([COLLECTOR, "--socket", sock, "--jsonl", jsonl, "--quiet"])
    while not os.path.exists(sock):
        time.sleep(0.01)
    tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tx.connect(sock)
    counts = []
    for g in datagrams:
        tx.send(g)
        time.sleep(0.05)
        with open(jsonl) as f:
            total = sum(len(ss.get("spans", [])) for line in f for rs in json.loads(line)["resourceSpans"]
                        for ss in rs["scopeSpans"])
        counts.append(total - sum(counts))
    col.terminate()
    col.wait()
    return counts


WARM_CHUNK = 1 << 20


def warm_page_cache(d, nbytes):
    """Write nbytes to a file in d and remove it: the page cache's pages
    are then ones the machine has touched (see above)."""
    path = os.path.join(d, "warm")
    chunk = b"\0" * WARM_CHUNK
    with open(path, "wb") as f:
        for _ in range((nbytes + WARM_CHUNK - 1) // WARM_CHUNK):
            f.write(chunk)
    os.unlink(path)


def measure(collector, g, per, n, warm=True):
    """n datagrams g (per spans each) through collector, as fast as it takes them."""
    d = tempfile.mkdtemp(prefix="spanshim-bench.")
    sock, jsonl = os.path.join(d, "c.sock"), os.path.join(d, "c.jsonl")
    col = subprocess.Popen(["taskset", "-c", "0", collector, "--socket", sock, "--jsonl", jsonl,
                            "--quiet"])
    while not os.path.exists(sock):
        time.sleep(0.01)
    tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    tx.connect(sock)
    os.sched_setaffinity(0, {1} if os.cpu_count() > 1 else {0})
    # Every datagram is the same batch, so every line has the same length:
    # the file's size says how many spans are written.
    tx.send(g)
    while not os.path.exists(jsonl) or os.path.getsize(jsonl) == 0:
        time.sleep(0.01)
    line = os.path.getsize(jsonl)
    if warm:
        warm_page_cache(d, line * (n + 1))
    t0 = time.time()
    user0, sys0 = cpu_times(col.pid)
    written = sent = 0
    window = max(1, 200000 // per)  # datagrams ahead of what is written, at most
    while written < n * per and time.time() - t0 < 300:
        while sent < n and (sent - written // per) < window:
            tx.send(g)
            sent += 1
        time.sleep(0.002)
        written = (os.path.getsize(jsonl) // line - 1) * per
    secs = time.time() - t0
    user, system = cpu_times(col.pid)
    user, system = user - user0, system - sys0
    cpu = user + system
    col.terminate()
    col.wait()
    os.unlink(jsonl)
    tx.close()
    return {"spans": written, "seconds": round(secs, 3),
            "spans_per_second": int(written / secs), "cpu_seconds": round(cpu, 3),
            "cpu_user_seconds": round(user, 3), "cpu_system_seconds": round(system, 3),
            "spans_per_cpu_second": int(written / cpu) if cpu else None,
            "datagrams": n, "spans_per_datagram": per}


def medians(runs):
    keys = ("spans_per_second", "cpu_seconds", "cpu_user_seconds", "cpu_system_seconds",
            "spans_per_cpu_second")
    out = {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys}
    out["runs"] = len(runs)
    out["us_cpu_per_span"] = round(out["cpu_seconds"] / runs[0]["spans"] * 1e6, 3)
    return out


def main():
    args = sys.argv[1:]
    against, runs = None, 5
    if "--against" in args:
        i = args.index("--against")
        against = args[i + 1]
        del args[i:i + 2]
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    want = int(args[0]) if args else 1000000
    batches = capture_batches()
    counts = spans_in(batches)
    best = max(range(len(batches)), key=lambda i: counts[i])
    g, per = batches[best], counts[best]
    n = (want + per - 1) // per
    if against is None:
        cold = measure(COLLECTOR, g, per, n, warm=False)  # first: as the machine is
        r = measure(COLLECTOR, g, per, n)
        r["unwarmed_spans_per_second"] = cold["spans_per_second"]
        r["unwarmed_cpu_system_seconds"] = cold["cpu_system_seconds"]
        print(json.dumps(r))
        return
    res = {"this": [], "against": []}
    for _ in range(runs):
        for name, path in (("this", COLLECTOR), ("against", against)):
            r = measure(path, g, per, n)
            res[name].append(r)
            print(name, json.dumps(r), flush=True)
    print(json.dumps({name: medians(rs) for name, rs in res.items()}))


if __name__ == "__main__":
    main()
