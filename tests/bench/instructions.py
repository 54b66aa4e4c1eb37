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
from harness import BUILD, COLLECTOR, LIB  # noqa: E402

OPBENCH = os.path.join(BUILD, "tests", "opbench")
SLACK = 1.10
# opbench's mode, the figure's name, the two run sizes, the figure's units per loop
OPERATIONS = (("opaque", "opaque_per_call", 2000, 4000, 2),
              ("http", "http_per_request", 1000, 2000, 1),
              ("redis", "redis_per_span", 1000, 2000, 1),
              ("pg", "pg_per_span", 1000, 2000, 1))


def count(mode, n, traced, sock):
    out = tempfile.mktemp(prefix="spanshim-cg.")
    env = dict(os.environ, SPANSHIM_SOCKET=sock)
    env.pop("LD_PRELOAD", None)
    if traced:
        env["LD_PRELOAD"] = LIB
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, OPBENCH, mode,
                    str(n)], env=env, check=True, capture_output=True, timeout=600)
    with open(out) as f:
        total = int(re.search(r"^summary: (\d+)", f.read(), re.M).group(1))
    os.unlink(out)
    return total


def measure():
    d = tempfile.mkdtemp(prefix="spanshim-cg.")
    sock = os.path.join(d, "c.sock")
    col = subprocess.Popen([COLLECTOR, "--socket", sock, "--quiet"])
    while not os.path.exists(sock):
        time.sleep(0.01)
    try:
        res = {}
        for mode, key, n1, n2, per in OPERATIONS:
            plain = count(mode, n2, False, sock) - count(mode, n1, False, sock)
            traced = count(mode, n2, True, sock) - count(mode, n1, True, sock)
            res[key] = round((traced - plain) / ((n2 - n1) * per), 1)
            res[mode + "_untraced_per_op"] = round(plain / ((n2 - n1) * per), 1)
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
            json.dump({k: v for k, v in res.items() if "untraced" not in k}, f, indent=2)
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
