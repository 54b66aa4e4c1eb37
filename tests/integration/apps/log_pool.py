"""A service that logs: each connection is served on a thread of a pool,
and each request logs with the logging module to stderr, as services do,
three lines: one when it starts, one after a random pause (WARNING), and
one that the handler writes in two pieces on a stream of its own (a
line split over writes is one record), then answers. Lines outside any
request: one at start.

GET /work?id=N -> logs "start id=N", "working id=N", "split id=N"; 200

usage: log_pool.py PORT_FILE [WORKERS]
"""
import logging
import os
import random
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                    format="%(levelname)s %(threadName)s %(message)s")
log = logging.getLogger("pool")
# A file of its own for the split lines: one writer at a time (a lock), two writes a line.
split_lock = threading.Lock()
split_fd = os.open(os.path.join(os.path.dirname(sys.argv[1]), "pool-split.log"),
                   os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # no access log: only the lines the test counts

    def do_GET(self):
        ident = self.path.split("id=", 1)[1]
        log.info("start id=%s", ident)
        time.sleep(random.random() / 50)
        log.warning("working id=%s", ident)
        with split_lock:
            os.write(split_fd, ("split id=%s " % ident).encode())
            time.sleep(0.001)
            os.write(split_fd, b"end\n")
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(conn, addr):
    try:
        Handler(conn, addr, None)
    finally:
        conn.close()


def main():
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(256)
    pool = ThreadPoolExecutor(max_workers=workers)
    log.info("listening outside any request")
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(tmp, sys.argv[1])
    while True:
        conn, addr = s.accept()
        pool.submit(serve, conn, addr)


if __name__ == "__main__":
    main()
