"""The overhead benchmark behind scripts/bench: every workload traced and
untraced, side by side in one run (alternating, RUNS each, medians), then
BENCHMARKS.md and BENCHMARKS.png (gnuplot) in the repository's root.

  (a) nginx `return 200`, keep-alive, wrk -t1 -c10: requests/s, p50, p99
  (b) nginx reverse proxy to a second nginx: client spans and injection too
  (c) redis-benchmark GET and SET, traced: a span per command, without
      pipelining and with -P 16 (redis-server untraced)
  (d) instructions per operation, counted by callgrind (instructions.py), and
      what one code.stacktrace costs in time (stackbench)
  (e) the collector's ingest rate (collector_rate.py)
  (f) memory: RSS of nginx after 1,000,000 requests, and per idle connection
  (g) pgbench -S (select-only), traced: a span per query (the server untraced)
  (h) nginx and php-fpm over FastCGI serving a small PHP page, both traced
  (i) the transport: one traced process making 100,000 spans/s for 60 s
      (shim_rate.py): spans sent, received, dropped, the collector's CPU
  (j) the peer: a Node.js http server untraced, under the shim, and under
      the OpenTelemetry Node SDK
  (k) log capture: nginx logging one error line per request (a file it
      does not have), traced with SPANSHIM_LOGS=off and span: requests/s,
      the CPU per request the records add, the collector's, the records

usage: bench.py [--quick] [--only KEYS]
  --quick      fewer, shorter runs, for a smoke test
  --only KEYS  only these workloads (comma-separated: a, b, c, g, h, f, j, k, d, e, i):
               their rows are printed and the results saved, BENCHMARKS.md is left
               alone (it is written from whole runs only)"""
import json
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import BUILD, COLLECTOR, LIB, NGINX, cpu_seconds, free_port, wait_port  # noqa: E402
import report  # noqa: E402
import benchapp  # noqa: E402
import benchdb  # noqa: E402

QUICK = "--quick" in sys.argv
ONLY = None
if "--only" in sys.argv:
    ONLY = set(sys.argv[sys.argv.index("--only") + 1].split(","))
RUNS = 2 if QUICK else 5
SECONDS = 2 if QUICK else 5
MEM_REQUESTS = 100000 if QUICK else 1000000
IDLE_CONNS = 2000

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {dir}/nginx.{port}.pid;
error_log {dir}/error.{port}.log error;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    upstream back {{ server 127.0.0.1:{back}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ {location} }}
    }}
}}
"""
RETURN_200 = 'default_type text/plain; return 200 "ok\\n";'
PROXY = 'proxy_pass http://back; proxy_http_version 1.1; proxy_set_header Connection "";'


class Env:
    """A collector for the traced side, and how to start programs."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spanshim-bench.")
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.sock = os.path.join(self.dir, "c.sock")
        self.otlp_port = free_port()  # the SDK peer's exporter sends here (j)
        self.col = subprocess.Popen([COLLECTOR, "--socket", self.sock, "--jsonl", os.devnull,
                                     "--otlp-listen", "127.0.0.1:%d" % self.otlp_port, "--quiet"])
        while not os.path.exists(self.sock):
            time.sleep(0.01)
        self.procs = []

    def env(self, traced, service, extra=None):
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
        e.pop("SPANSHIM_LOGS", None)
        if traced:
            e.update(LD_PRELOAD=LIB, SPANSHIM_SOCKET=self.sock, OTEL_SERVICE_NAME=service)
            e.update(extra or {})
        return e

    def start(self, argv, traced, service, cpu=None, extra=None):
        if cpu is not None:
            argv = benchdb.pinned(argv, cpu)
        p = subprocess.Popen(argv, env=self.env(traced, service, extra), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def nginx(self, traced, location, back=0, extra=None):
        port = free_port()
        conf = os.path.join(self.dir, "nginx.%d.conf" % port)
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=port, back=back or port, location=location))
        p = self.start([NGINX, "-p", self.dir, "-c", conf], traced, "nginx-%d" % port, cpu=1,
                       extra=extra)
        wait_port(port)
        return p, port

    def stop(self):
        for p in self.procs + [self.col]:
            p.terminate()
        for p in self.procs + [self.col]:
            p.wait()


def wrk(port, seconds=SECONDS, path="/"):
    """requests/s, p50 ms, p99 ms of wrk -t1 -c10 (on CPU 0)."""
    argv = ["wrk", "-t1", "-c10", "-d%ds" % seconds, "--latency", "http://127.0.0.1:%d%s" % (port, path)]
    out = subprocess.run(benchdb.pinned(argv, 0), capture_output=True, text=True, check=True).stdout

    def ms(label):
        v, unit = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M).groups()
        return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms("50%"), "p99": ms("99%"),
            "requests": int(re.search(r"(\d+) requests in", out).group(1))}


def alternate(measure, variants):
    """RUNS of each variant, interleaved: {variant: [result, ...]}."""
    res = {v: [] for v in variants}
    for _ in range(RUNS):
        for v in variants:
            res[v].append(measure(v))
    return res


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def workload_http(env, proxy):
    """wrk's figures, and the CPU time per request of the nginx processes
    and of the collector over each run: what tracing costs in CPU, which
    does not depend on how the 2 cores happen to be shared."""
    ports, pids = {}, {}
    for traced in (False, True):
        if proxy:
            back, back_port = env.nginx(traced, RETURN_200)
            front, ports[traced] = env.nginx(traced, PROXY, back_port)
            pids[traced] = [back.pid, front.pid]
        else:
            front, ports[traced] = env.nginx(traced, RETURN_200)
            pids[traced] = [front.pid]
        wrk(ports[traced], 1)  # warm up

    def run(traced):
        cpu0 = sum(cpu_seconds(p) for p in pids[traced])
        col0 = cpu_seconds(env.col.pid)
        r = wrk(ports[traced])
        r["cpu_us"] = (sum(cpu_seconds(p) for p in pids[traced]) - cpu0) / r["requests"] * 1e6
        r["collector_us"] = (cpu_seconds(env.col.pid) - col0) / r["requests"] * 1e6
        return r

    return alternate(run, (False, True))


def workload_php(env):
    """wrk against nginx passing every request to php-fpm over FastCGI (a
    new connection each, as nginx does by default), both traced or both
    not: requests/s, latency, and the CPU per request of nginx, php-fpm's
    processes and the collector."""
    fpm, ports, pids = {}, {}, {}
    try:
        for traced in (False, True):
            fpm[traced] = benchapp.PhpFpm(env.env(traced, "php-fpm"), cpu=1)
            front, ports[traced] = env.nginx(traced, fpm[traced].location())
            pids[traced] = [front.pid, fpm[traced].proc.pid]
            wrk(ports[traced], 1)  # warm up: the workers' opcache

        def run(traced):
            procs = pids[traced] + benchapp.children(fpm[traced].proc.pid)
            cpu0 = sum(cpu_seconds(p) for p in procs)
            col0 = cpu_seconds(env.col.pid)
            r = wrk(ports[traced])
            r["cpu_us"] = (sum(cpu_seconds(p) for p in procs) - cpu0) / r["requests"] * 1e6
            r["collector_us"] = (cpu_seconds(env.col.pid) - col0) / r["requests"] * 1e6
            return r

        return alternate(run, (False, True))
    finally:
        for f in fpm.values():
            f.stop()


def client_run(env, argv, traced, service):
    """argv (a database client, on CPU 0) to its end: its stdout, and its
    CPU time and the collector's over the run (seconds); when traced, the
    spans its shim exported and dropped (its exit counters)."""
    e = env.env(traced, service)
    if traced:
        e["SPANSHIM_LOG"] = "debug"
    before, col = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_seconds(env.col.pid)
    r = subprocess.run(benchdb.pinned(argv, 0), env=e, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = {"cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
           "collector_cpu": cpu_seconds(env.col.pid) - col}
    if traced:
        counters = dict(re.findall(r"spanshim\[\d+\]: (\w+): (\d+)", r.stderr))
        res["spans"] = int(counters.get("spans_exported", 0))
        res["dropped"] = sum(int(v) for k, v in counters.items() if k.startswith("spans_dropped"))
    return r.stdout, res


def per_op_us(res, ops):
    """The client's and the collector's CPU per operation, microseconds."""
    res["cpu_us"] = res.pop("cpu") / ops * 1e6
    res["collector_us"] = res.pop("collector_cpu") / ops * 1e6


REDIS_REQUESTS = 20000 if QUICK else 100000


def workload_redis(env, pipeline):
    """redis-benchmark -t get,set, traced (a span per command) or not, the
    server untraced: requests/s (the mean of GET's and SET's), and the
    spans exported against the commands sent."""
    server = benchdb.Redis(cpu=1)

    def run(traced):
        argv = ["redis-benchmark", "-p", str(server.port), "-n", str(REDIS_REQUESTS), "-c", "10",
                "-P", str(pipeline), "-t", "get,set", "-q"]
        out, res = client_run(env, argv, traced, "redis-benchmark")
        res["rps"] = statistics.mean(float(x) for x in re.findall(r"([\d.]+) requests per second", out))
        res["commands"] = 2 * REDIS_REQUESTS
        per_op_us(res, res["commands"])
        return res

    try:
        return alternate(run, (False, True))
    finally:
        server.stop()


def workload_pgbench(env):
    """pgbench -S (select-only, simple queries), 4 clients for SECONDS,
    traced or not, the server untraced: transactions/s and the spans
    exported against the transactions (one query each)."""
    server = benchdb.Postgres(cpu=1)

    def run(traced):
        out, res = client_run(env, server.pgbench("-S", "-n", "-c", "4", "-j", "1",
                                                  "-T", str(SECONDS)), traced, "pgbench")
        res["rps"] = float(re.search(r"tps = ([\d.]+) \(without initial", out).group(1))
        res["transactions"] = int(re.search(r"transactions actually processed: (\d+)", out).group(1))
        per_op_us(res, res["transactions"])
        return res

    try:
        run(False)  # warm up: the tables in the server's cache
        return alternate(run, (False, True))
    finally:
        server.stop()


SDK_MODULES = os.path.join(HERE, "..", "integration", "sdk", "node_modules")


def workload_peer(env):
    """(j) the same Node.js http server untraced, under spanshim, and under
    the OpenTelemetry Node SDK (peer_sdk.js): wrk's figures, the server's
    CPU per request and its RSS at the end of each run, and the
    collector's CPU per request (the SDK exports to its --otlp-listen)."""
    procs, ports = {}, {}
    for v in ("untraced", "spanshim", "sdk"):
        port_file = os.path.join(env.dir, "peer-%s.port" % v)
        if v == "sdk":
            argv = ["node", os.path.join(HERE, "peer_sdk.js"), port_file,
                    "http://127.0.0.1:%d/v1/traces" % env.otlp_port]
        else:
            argv = ["node", os.path.join(HERE, "peer_server.js"), port_file]
        e = env.env(v == "spanshim", "peer-" + v)
        if v == "sdk":
            e.update(NODE_PATH=SDK_MODULES, OTEL_SERVICE_NAME="peer-sdk")
        p = subprocess.Popen(benchdb.pinned(argv, 1), env=e, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        env.procs.append(p)
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if time.time() > deadline or p.poll() is not None:
                raise RuntimeError("the %s Node.js server did not start" % v)
            time.sleep(0.05)
        with open(port_file) as f:
            ports[v] = int(f.read())
        procs[v] = p
        wrk(ports[v], 1)  # warm up (and the JIT)

    def run(v):
        cpu0, col0 = cpu_seconds(procs[v].pid), cpu_seconds(env.col.pid)
        r = wrk(ports[v])
        r["cpu_us"] = (cpu_seconds(procs[v].pid) - cpu0) / r["requests"] * 1e6
        r["collector_us"] = (cpu_seconds(env.col.pid) - col0) / r["requests"] * 1e6
        r["rss_kib"] = rss_kib(procs[v].pid)
        return r

    return alternate(run, ("untraced", "spanshim", "sdk"))


LOG_MISSING = "/missing.txt"  # no such file: a 404 and an error line a request


def workload_logs(env):
    """(k) log capture: nginx (one worker, on CPU 1) answering every request
    404 for a file it does not have, which writes one line a request to its
    error log (error.PORT.log, a log file by SPANSHIM_LOG_FILES' default
    `*.log`, written while the request's SERVER span is current; an access
    log line comes after the span's end, which span would leave out), both
    traced, one with SPANSHIM_LOGS=off, one with span (a record a request
    in its span), alternating: wrk's figures, nginx's CPU per request and a
    collector's of its own (--jsonl and --logs-jsonl to /dev/null), and, from
    that collector's exit line, the log records it received against the
    requests made with capture on."""
    sock = os.path.join(env.dir, "logs.sock")
    col = subprocess.Popen([COLLECTOR, "--socket", sock, "--jsonl", os.devnull,
                            "--logs-jsonl", os.devnull], stderr=subprocess.PIPE, text=True)
    while not os.path.exists(sock):
        if col.poll() is not None:
            raise RuntimeError("the logs workload's collector did not start")
        time.sleep(0.01)
    os.makedirs(os.path.join(env.dir, "www"), exist_ok=True)
    procs, ports, made = {}, {}, {"off": 0, "span": 0}
    try:
        for mode in ("off", "span"):
            procs[mode], ports[mode] = env.nginx(True, "root %s/www;" % env.dir, extra={
                "SPANSHIM_SOCKET": sock, "SPANSHIM_LOGS": mode})
            made[mode] += wrk(ports[mode], 1, LOG_MISSING)["requests"]  # warm up

        def run(mode):
            log = os.path.join(env.dir, "error.%d.log" % ports[mode])
            os.truncate(log, 0)  # (nginx appends: the file does not grow run after run)
            cpu0, col0 = cpu_seconds(procs[mode].pid), cpu_seconds(col.pid)
            r = wrk(ports[mode], SECONDS, LOG_MISSING)
            r["cpu_us"] = (cpu_seconds(procs[mode].pid) - cpu0) / r["requests"] * 1e6
            r["collector_us"] = (cpu_seconds(col.pid) - col0) / r["requests"] * 1e6
            made[mode] += r["requests"]
            return r

        res = alternate(run, ("off", "span"))
    finally:
        for p in procs.values():  # their shims send what they hold at exit
            p.terminate()
            p.wait()
        col.terminate()
        err = col.communicate(timeout=60)[1]
    m = re.search(r"and (\d+) log records in", err)
    res["records"] = int(m.group(1)) if m else 0
    res["requests_span"] = made["span"]
    res["requests_off"] = made["off"]
    return res


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def workload_memory(env):
    """nginx RSS: after warm-up, after 10% and after all of MEM_REQUESTS
    requests, and with IDLE_CONNS idle connections open."""
    res = {}
    for traced in (False, True):
        p, port = env.nginx(traced, RETURN_200)
        rate = wrk(port, 1)["rps"]
        r = {"start": rss_kib(p.pid), "requests": 0}
        for label, n in (("tenth", MEM_REQUESTS // 10), ("all", MEM_REQUESTS)):
            while r["requests"] < n:  # wrk runs for a time: long enough for n
                secs = max(1, int((n - r["requests"]) / rate * 1.2) + 1)
                r["requests"] += wrk(port, secs)["requests"]
            r[label] = rss_kib(p.pid)
        before = rss_kib(p.pid)
        conns = []
        for _ in range(IDLE_CONNS):
            s = socket.create_connection(("127.0.0.1", port))
            conns.append(s)
        time.sleep(0.5)
        r["per_conn_bytes"] = (rss_kib(p.pid) - before) * 1024 / IDLE_CONNS
        for s in conns:
            s.close()
        res[traced] = r
    return res


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.+)", f.read())
        if m:
            cpu = m.group(1).strip()
    with open("/proc/meminfo") as f:
        mem = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1)) // 1024
    osr = "unknown"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            osr = re.search(r'PRETTY_NAME="(.+)"', f.read()).group(1)
    return "%d vCPUs (%s), %d MiB, Linux %s, %s" % (os.cpu_count(), cpu, mem, platform.release(), osr)


def run_script(name, *args):
    out = subprocess.run([sys.executable, os.path.join(HERE, name), *args], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def wanted(key):
    return ONLY is None or key in ONLY


def main():
    env = Env()
    results = {"machine": machine(), "runs": RUNS, "seconds": SECONDS}
    try:
        for key, fn in (("a", lambda: workload_http(env, proxy=False)),
                        ("b", lambda: workload_http(env, proxy=True)),
                        ("c", lambda: workload_redis(env, 1)),
                        ("c16", lambda: workload_redis(env, 16)),
                        ("g", lambda: workload_pgbench(env)),
                        ("h", lambda: workload_php(env)),
                        ("f", lambda: workload_memory(env)),
                        ("j", lambda: workload_peer(env)),
                        ("k", lambda: workload_logs(env))):
            if wanted(key) or (key == "c16" and wanted("c")):
                results[key] = fn()
    finally:
        env.stop()
    if wanted("d"):
        results["d"] = run_script("instructions.py")
        results["stack_ns"] = json.loads(subprocess.run(
            [os.path.join(BUILD, "tests", "stackbench"), "time"], capture_output=True, text=True,
            check=True).stdout)
    if wanted("e"):
        results["e"] = [run_script("collector_rate.py", "300000" if QUICK else "1000000")
                        for _ in range(1 if QUICK else 3)]
    if wanted("i"):
        results["i"] = run_script("shim_rate.py", "100000", "10" if QUICK else "60")
    name = "spanshim-bench.json" if ONLY is None else "spanshim-bench-partial.json"
    with open(os.path.join(tempfile.gettempdir(), name), "w") as f:
        json.dump(results, f, indent=1, default=str)
    if ONLY is None:
        report.write(results, ROOT)
    else:  # a partial run: its rows only, BENCHMARKS.md left as it is
        print("\n".join(report.partial(results)))


if __name__ == "__main__":
    main()
