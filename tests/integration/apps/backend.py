"""A plain http.server service: the last hop of the test chain.

Records the exact bytes of every request it reads (request line, headers
and body, as consumed from the socket) to RECORD as one JSON line each, and
answers with a small JSON body. /error answers 500; /slow waits 400 ms.

usage: backend.py PORT_FILE RECORD [unix:PATH | ipv6]
"""
import base64
import json
import socket
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Tee:
    """Wraps the request's rfile and keeps every byte the handler reads."""

    def __init__(self, raw):
        self.raw = raw
        self.seen = bytearray()

    def readline(self, *args):
        line = self.raw.readline(*args)
        self.seen += line
        return line

    def read(self, *args):
        data = self.raw.read(*args)
        self.seen += data
        return data

    def __getattr__(self, name):
        return getattr(self.raw, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.rfile = Tee(self.rfile)

    def record(self):
        with open(RECORD, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "raw": base64.b64encode(bytes(self.rfile.seen)).decode()}) + "\n")
        self.rfile.seen.clear()

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.record()
        if self.path.startswith("/error"):
            self.answer(500, b'{"error":"out of stock"}')
        elif self.path.startswith("/slow"):
            time.sleep(0.4)
            self.answer(200, b'{"item":42,"stock":7}')
        else:
            self.answer(200, b'{"item":42,"stock":7}')

    def do_OPTIONS(self):  # `OPTIONS *` as well as a resource's
        self.record()
        self.send_response(200)
        self.send_header("Allow", "GET, POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.record()
        self.answer(200, b'{"received":%d}' % len(body))

    def log_message(self, *args):
        pass


class UnixServer(ThreadingHTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # no host/port to look up
        self.server_name, self.server_port = "localhost", 0

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


if __name__ == "__main__":
    PORT_FILE, RECORD = sys.argv[1], sys.argv[2]
    where = sys.argv[3] if len(sys.argv) > 3 else ""
    if where.startswith("unix:"):
        server = UnixServer(where[5:], Handler)
    elif where == "ipv6":
        server = V6Server(("::1", 0), Handler)
    else:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]) if not where.startswith("unix:") else "0")
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()
