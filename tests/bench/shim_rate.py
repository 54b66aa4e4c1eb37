"""Whether the transport keeps up: one traced process making RATE spans a
second for SECONDS (opbench http-paced: HTTP exchanges over loopback, a
client and a server span each), sending to a collector that writes .jsonl
(to /dev/null, so the disk is not what is measured). Counts come from
both ends: the shim's exit counters (SPANSHIM_LOG=debug) and the
collector's exit line; the collector's CPU is read from /proc.

usage: shim_rate.py [RATE [SECONDS [PAUSE_MS]]]   (default 100,000 spans/s for 60 s)
PAUSE_MS: stop the collector (SIGSTOP) for that long every second, as a
machine busy with other work would leave it unscheduled.
Prints one JSON object: spans_sent (made and sampled), spans_exported,
spans_dropped (every reason), dropped_by_reason, spans_received (by the
collector), datagrams, seconds, collector_cpu_seconds."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import BUILD, COLLECTOR, PRELOAD, cpu_seconds  # noqa: E402

OPBENCH = os.path.join(BUILD, "tests", "opbench")


def shim_counters(stderr):
    """The shim's exit counters: {name: value}."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"spanshim\[\d+\]: (\w+): (\d+) \(", stderr)}


def main():
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 100000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    pause_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 0
    d = tempfile.mkdtemp(prefix="spanshim-bench.")
    sock = os.path.join(d, "c.sock")
    col = subprocess.Popen([COLLECTOR, "--socket", sock, "--jsonl", os.devnull],
                           stderr=subprocess.PIPE)
    while not os.path.exists(sock):
        time.sleep(0.01)
    env = dict(os.environ, LD_PRELOAD=PRELOAD, SPANSHIM_SOCKET=sock, SPANSHIM_LOG="debug",
               OTEL_SERVICE_NAME="shim-rate")
    done = threading.Event()

    def pauser():
        while not done.wait(1 - pause_ms / 1000):
            col.send_signal(signal.SIGSTOP)
            time.sleep(pause_ms / 1000)
            col.send_signal(signal.SIGCONT)

    if pause_ms:
        threading.Thread(target=pauser, daemon=True).start()
    t0 = time.time()
    run = subprocess.run([OPBENCH, "http-paced", str(rate), str(seconds)], env=env,
                         capture_output=True, text=True, timeout=seconds * 3 + 60, check=True)
    secs = time.time() - t0
    done.set()
    time.sleep(pause_ms / 1000)
    col.send_signal(signal.SIGCONT)
    time.sleep(0.5)  # what the collector still has queued
    cpu = cpu_seconds(col.pid)
    col.send_signal(signal.SIGTERM)
    _, err = col.communicate(timeout=60)
    err = err.decode(errors="replace")
    got = re.search(r"spanshim-collector: (\d+) spans in (\d+) datagrams", err)
    c = shim_counters(run.stderr)
    dropped = {k[len("spans_dropped_"):]: v for k, v in c.items() if k.startswith("spans_dropped_")}
    print(json.dumps({"rate": rate, "pause_ms": pause_ms, "spans_sent": c.get("spans_recorded", 0),
                      "spans_exported": c.get("spans_exported", 0),
                      "spans_dropped": sum(dropped.values()), "dropped_by_reason": dropped,
                      "spans_received": int(got.group(1)) if got else None,
                      "datagrams": int(got.group(2)) if got else None,
                      "seconds": round(secs, 3), "collector_cpu_seconds": round(cpu, 3),
                      "sender": json.loads(run.stdout)}))


if __name__ == "__main__":
    main()
