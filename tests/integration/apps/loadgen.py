"""A small load generator: THREADS threads, each with its own keep-alive
connection, sending N requests that cycle through PATHS. Checks every
response's status and, for paths with an expected body file, the body.

usage: loadgen.py HOST PORT THREADS N PATH[@BODYFILE] ...
Prints one JSON line: {"ok": count, "failed": count}.
"""
import http.client
import json
import sys
import threading

HOST, PORT, THREADS, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
PATHS = []
for arg in sys.argv[5:]:
    path, _, body = arg.partition("@")
    PATHS.append((path, open(body, "rb").read() if body else None))
ok = failed = 0
lock = threading.Lock()


def worker(k):
    global ok, failed
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    good = bad = 0
    for i in range(N):
        path, want = PATHS[(k + i) % len(PATHS)]
        sep = "&" if "?" in path else "?"
        try:
            conn.request("GET", "%s%st=%d&i=%d" % (path, sep, k, i))
            r = conn.getresponse()
            body = r.read()
            if r.status == 200 and (want is None or body == want):
                good += 1
            else:
                bad += 1
        except (OSError, http.client.HTTPException):
            bad += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    conn.close()
    with lock:
        ok += good
        failed += bad


threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"ok": ok, "failed": failed}))
