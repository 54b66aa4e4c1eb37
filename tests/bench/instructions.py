"""Instructions the shim adds per operation, counted by callgrind (exact and
repeatable on a noisy machine): opbench runs each operation N1 and N2 times,
traced and untraced; the difference of differences, divided by the extra
operations, is the shim's cost per operation, start-up excluded.

  opaque_per_call  a send or a recv on a TCP connection that is not HTTP
  http_per_request one traced HTTP request, client and server side, with
                   its two spans encoded and sent to a collector
  redis_per_span   a Redis GET and its reply: one CLIENT span, encoded and sent
  pg_per_span      a PostgreSQL simple query and its reply (RowDescription,
                   DataRow, CommandComplete, ReadyForQuery): one CLIENT span
  http_per_request_full_heads
                   http_per_request with the heads a browser and nginx send
                   (opbench httpfull): six request and seven response
                   headers no span reads
  http_per_request_stacks_all
                   http_per_request with SPANSHIM_STACKS=all: the client's stack
                   captured and named (from the cache of names) every request
  http_per_request_stacks_off
                   http_per_request with SPANSHIM_STACKS=off (not guarded: the
                   default, slow, is http_per_request)
  http_per_request_log_off
                   http_per_request whose server writes one log line to
                   stderr (a pipe) while it serves it (opbench httplog),
                   SPANSHIM_LOGS unset: the line is not captured
  http_per_request_log_span
                   the same with SPANSHIM_LOGS=span: the line a log record in
                   the request's span, encoded into the logs batch and sent
  http_per_request_log_enrich
                   the same with SPANSHIM_LOG_ENRICH=on alone (no records): the
                   line written with the span's trace fields in it, one writev
  stack_capture    one capture (unw_backtrace, the shim's frames dropped) from
                   a stack 15 frames deep (stackbench)
  stack_text_cached
                   naming a stack of 8 frames whose names are in the cache
  unselected_per_call
                   opaque_per_call in a process the shim does not trace: loaded
                   by the loader, not named in LD_PRELOAD, and not selected by
                   /etc/spanshim/preload.conf (system-wide mode's others)
  unselected_startup
                   what that process pays once: the loader mapping the library
                   and the constructor reading the file (not guarded)
  collector_jsonl_per_span
                   the collector's cost of a span it writes to .jsonl (nothing else
                   asked of it, as under `spanshim run`), in batches of 93 like a
                   shim's: received, checked and written as OTLP JSON

usage: instructions.py [--check BASELINE.json] [--write BASELINE.json]
Prints the figures as JSON. --check fails (exit 1) if one is more than 10%
above the baseline's; --write records them as the new baseline."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from crafted import batch, send_all, span  # noqa: E402
from harness import BUILD, COLLECTOR, LIB  # noqa: E402

OPBENCH = os.path.join(BUILD, "tests", "opbench")
OPBENCH_LINKED = os.path.join(BUILD, "tests", "opbench_linked")
STACKBENCH = os.path.join(BUILD, "tests", "stackbench")
SLACK = 1.10
# opbench's mode, the figure's name, the two run sizes, the figure's units
# per loop, the shim's environment
OPERATIONS = (("opaque", "opaque_per_call", 2000, 4000, 2, {}),
              ("http", "http_per_request", 1000, 2000, 1, {}),
              ("httpfull", "http_per_request_full_heads", 1000, 2000, 1, {}),
              ("http", "http_per_request_stacks_all", 1000, 2000, 1, {"SPANSHIM_STACKS": "all"}),
              ("http", "http_per_request_stacks_off", 1000, 2000, 1, {"SPANSHIM_STACKS": "off"}),
              ("httplog", "http_per_request_log_off", 1000, 2000, 1, {}),
              ("httplog", "http_per_request_log_span", 1000, 2000, 1, {"SPANSHIM_LOGS": "span"}),
              ("httplog", "http_per_request_log_enrich", 1000, 2000, 1,
               {"SPANSHIM_LOG_ENRICH": "on"}),
              ("redis", "redis_per_span", 1000, 2000, 1, {}),
              ("pg", "pg_per_span", 1000, 2000, 1, {}))
UNGUARDED = {"http_per_request_stacks_off", "unselected_startup"}
# Under callgrind an exchange can take 100 ms, the default threshold of a
# call's stack (SPANSHIM_STACK_MIN_MS): a capture in one run size and not the
# other would count some 600,000 instructions as the operations'. The
# threshold is set out of reach: the check is made, as for every fast call.
TRACED_ENV = {"SPANSHIM_STACK_MIN_MS": "600000"}
# stackbench's mode, the figure's name, the two run sizes
STACK_OPERATIONS = (("capture", "stack_capture", 2000, 4000),
                    ("text", "stack_text_cached", 2000, 4000))


def count(mode, n, traced, sock, extra=None, prog=None):
    out = tempfile.mktemp(prefix="spanshim-cg.")
    env = dict(os.environ, SPANSHIM_SOCKET=sock)
    env.pop("LD_PRELOAD", None)
    if traced:
        env["LD_PRELOAD"] = LIB
        env.update(TRACED_ENV)
        env.update(extra or {})
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, prog or OPBENCH,
                    mode, str(n)], env=env, check=True, capture_output=True, timeout=600)
    with open(out) as f:
        total = int(re.search(r"^summary: (\d+)", f.read(), re.M).group(1))
    os.unlink(out)
    return total


COLLECTOR_SPANS = 93  # a datagram's, as a busy shim sends them
COLLECTOR_RUNS = (20, 60)  # datagrams


def collector_batch():
    """A batch like a shim's: HTTP CLIENT spans with their attributes."""
    spans = [span(0x1234 + i, 0x10 + i, b"GET", kind=3, attrs=(
        ("http.request.method", "GET"), ("server.address", "127.0.0.1"), ("server.port", 8080),
        ("url.full", "http://127.0.0.1:8080/inventory?item=%d" % i),
        ("network.protocol.version", "1.1"), ("network.peer.address", "127.0.0.1"),
        ("network.peer.port", 8080), ("http.response.status_code", 200)))
        for i in range(COLLECTOR_SPANS)]
    return batch(spans, b"shop")


class _Col:  # what send_all needs of a collector
    def __init__(self, sock):
        self.sock = sock


def count_collector(n):
    """Instructions of a collector that writes n batches to .jsonl, then stops."""
    d = tempfile.mkdtemp(prefix="spanshim-cg.")
    sock, jsonl, out = (os.path.join(d, x) for x in ("c.sock", "c.jsonl", "cg.out"))
    col = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                            COLLECTOR, "--socket", sock, "--jsonl", jsonl, "--quiet"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        send_all(_Col(sock), [collector_batch()] * n)
        while time.time() < deadline:
            if os.path.exists(jsonl):
                with open(jsonl, "rb") as f:
                    if f.read().count(b"\n") >= n:
                        break
            time.sleep(0.05)
        else:
            raise RuntimeError("the collector did not write %d batches" % n)
    finally:
        col.terminate()
        col.wait(timeout=120)
    with open(out) as f:
        total = int(re.search(r"^summary: (\d+)", f.read(), re.M).group(1))
    return total


def measure():
    d = tempfile.mkdtemp(prefix="spanshim-cg.")
    sock = os.path.join(d, "c.sock")
    col = subprocess.Popen([COLLECTOR, "--socket", sock, "--quiet"])
    while not os.path.exists(sock):
        time.sleep(0.01)
    try:
        res = {}
        plains = {}
        for mode, key, n1, n2, per, extra in OPERATIONS:
            if mode not in plains:
                plains[mode] = count(mode, n2, False, sock) - count(mode, n1, False, sock)
            plain = plains[mode]
            traced = count(mode, n2, True, sock, extra) - count(mode, n1, True, sock, extra)
            res[key] = round((traced - plain) / ((n2 - n1) * per), 1)
            res[mode + "_untraced_per_op"] = round(plain / ((n2 - n1) * per), 1)
        n1, n2 = OPERATIONS[0][2:4]
        plain1 = count("opaque", n1, False, sock)
        linked1 = count("opaque", n1, False, sock, prog=OPBENCH_LINKED)
        linked2 = count("opaque", n2, False, sock, prog=OPBENCH_LINKED)
        per = ((linked2 - linked1) - plains["opaque"]) / ((n2 - n1) * 2)
        res["unselected_per_call"] = round(per, 1)
        res["unselected_startup"] = round(linked1 - plain1 - per * n1 * 2)
        for mode, key, n1, n2 in STACK_OPERATIONS:  # the core linked in: not preloaded
            res[key] = round((count(mode, n2, False, sock, prog=STACKBENCH) -
                              count(mode, n1, False, sock, prog=STACKBENCH)) / (n2 - n1), 1)
        n1, n2 = COLLECTOR_RUNS
        res["collector_jsonl_per_span"] = round(
            (count_collector(n2) - count_collector(n1)) / ((n2 - n1) * COLLECTOR_SPANS), 1)
        return res
    finally:
        col.terminate()
        col.wait()


def main():
    args = sys.argv[1:]
    res = measure()
    print(json.dumps(res))
    if args[:1] == ["--write"]:
        with open(args[1], "w") as f:
            json.dump({k: v for k, v in res.items() if "untraced" not in k and k not in UNGUARDED},
                      f, indent=2)
            f.write("\n")
    elif args[:1] == ["--check"]:
        with open(args[1]) as f:
            base = json.load(f)
        bad = [k for k, v in base.items() if res[k] > v * SLACK]
        for k in bad:
            print("%s: %.1f instructions, more than 10%% above the baseline %.1f" % (k, res[k], base[k]))
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
