"""A threaded http.server that logs, for SPANSHIM_LOG_ENRICH: each request
is served on a thread of its own (ThreadingHTTPServer) and logs with the
logging module to two handlers at once, stderr as plain text and a log
file through a JSON formatter, and writes two lines of its own to stderr:
one ending in CRLF, and an empty JSON object. Outside any request: the
line it logs at start.

GET /work?id=N -> logs "start id=N" and "done id=N" (both handlers),
                  "crlf id=N\\r\\n" and "{}" on stderr; 200

No times, thread names or pids in the lines: two runs of the same requests
in the same order write the same bytes.

usage: log_enrich.py PORT_FILE LOG_FILE
"""
import json
import logging
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonFormatter(logging.Formatter):
    def format(self, record):
        return json.dumps({"level": record.levelname.lower(), "logger": record.name,
                           "msg": record.getMessage()})


log = logging.getLogger("svc")
log.setLevel(logging.INFO)
err = logging.StreamHandler(sys.stderr)
err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
log.addHandler(err)
fh = logging.FileHandler(sys.argv[2])
fh.setFormatter(JsonFormatter())
log.addHandler(fh)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        ident = self.path.split("id=", 1)[1]
        log.info("start id=%s", ident)
        sys.stderr.write("crlf id=%s\r\n" % ident)
        sys.stderr.flush()
        os.write(2, b"{}\n")
        log.warning("done id=%s", ident)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    s = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    log.info("listening outside any request")
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(s.server_address[1]))
    os.rename(tmp, sys.argv[1])
    s.serve_forever()


if __name__ == "__main__":
    main()
