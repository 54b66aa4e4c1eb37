"""A service that logs around the calls it makes: a thread per request
(ThreadingHTTPServer), and each request calls an upstream with
http.client, logging one line before the call, one between sending the
request and reading the reply (the call is in flight: the line is the
CLIENT span's), one once getresponse() has read the whole reply, and one
after the body was read; then answers.

GET /call?id=N -> logs "start id=N", "calling id=N", "called id=N",
"done id=N"; 200

usage: log_calls.py PORT_FILE UPSTREAM_PORT
"""
import http.client
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                    format="%(levelname)s %(threadName)s %(message)s")
log = logging.getLogger("calls")
UPSTREAM = int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # no access log: only the lines the test counts

    def do_GET(self):
        ident = self.path.split("id=", 1)[1]
        log.info("start id=%s", ident)
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        conn.request("GET", "/up?id=%s" % ident)
        log.info("calling id=%s", ident)
        resp = conn.getresponse()
        log.info("called id=%s", ident)
        up = resp.read()
        conn.close()
        log.info("done id=%s", ident)
        body = b"ok " + up
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
