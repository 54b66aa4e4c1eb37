"""A WSGI app for uWSGI (`--wsgi-file`): calls the backend with urllib and
says what it saw.

GET /call     calls BACKEND_URL + /inventory, answers 200 with JSON: the
              HTTP_TRACEPARENT of its environ (null if none), the worker's
              pid and the backend's body.
GET /error    calls the backend the same way, then answers 500.

BACKEND_URL comes from the environment (uwsgi --env)."""
import json
import os
import urllib.request


def application(environ, start_response):
    url = os.environ["BACKEND_URL"] + "/inventory"
    with urllib.request.urlopen(url, timeout=30) as r:
        backend = r.read().decode()
    body = json.dumps({"traceparent": environ.get("HTTP_TRACEPARENT"),
                       "tracestate": environ.get("HTTP_TRACESTATE"),
                       "pid": os.getpid(), "backend": backend}).encode()
    status = "500 Internal Server Error" if environ["PATH_INFO"] == "/error" else "200 OK"
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]
