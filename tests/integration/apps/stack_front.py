"""A plain http.server service whose handler calls a backend through
functions of its own, for code.stacktrace: the stack the shim sees is the
interpreter's C frames (the _socket module's recv under the evaluation
loop), not these Python names.

GET /price  -> GET backend /slow (400 ms), answers 200
GET /stock  -> GET backend /inventory (fast), answers 200

usage: stack_front.py PORT_FILE BACKEND_PORT
"""
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer


def fetch(path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (BACKEND, path), timeout=10) as r:
        return r.read()


def lookup_price():
    return fetch("/slow")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = lookup_price() if self.path.startswith("/price") else fetch("/inventory")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    PORT_FILE, BACKEND = sys.argv[1], int(sys.argv[2])
    server = HTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()
