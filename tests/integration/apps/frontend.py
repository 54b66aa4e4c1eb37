"""A plain http.server service that calls the backend with urllib.

GET /checkout...  -> GET  backend /inventory?item=42, answers 200
GET /fail         -> GET  backend /error (500), answers 502
GET /order        -> POST backend /orders with a JSON body, answers 200

usage: frontend.py PORT_FILE BACKEND_PORT
"""
import json
import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def call(self, path, data=None):
        url = "http://127.0.0.1:%d%s" % (BACKEND, path)
        req = urllib.request.Request(url, data=data)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def do_GET(self):
        if self.path.startswith("/fail"):
            status, _ = self.call("/error")
            code, body = 502, b'{"upstream":%d}' % status
        elif self.path.startswith("/order"):
            status, body = self.call("/orders", json.dumps({"item": 42, "qty": 3}).encode())
            code = 200
        else:
            status, body = self.call("/inventory?item=42")
            code = 200
        self.send_response(code)
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
