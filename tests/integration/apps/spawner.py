"""A service that starts a program per request, every way there is, and
says what the program saw.

GET /WAY?PORT runs curl against the backend on 127.0.0.1:PORT (path
/from-WAY), started by WAY: system (libc's system), popen (libc's popen,
through ctypes), spawn (os.posix_spawn: libc's posix_spawn), subprocess
(Python's fork/vfork and exec). GET /env runs `sh -c 'echo ...'` and
answers the TRACEPARENT and TRACESTATE the shell got, "-" for unset.
GET /kill runs a shell that SIGTERMs itself (subprocess), /killexec one
that execs a shell that SIGKILLs itself, /systemkill one that SIGKILLs
itself through system(), /popenkill one through popen() (pclose reaps
it), /spawnkill one through posix_spawn: each answers the status it got.
At start, before serving, it runs the same shell and writes what it got
to OUT (argv[2]).

usage: spawner.py PORT_FILE OUT
"""
import ctypes
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SHOW = ["sh", "-c", 'echo "${TRACEPARENT:--} ${TRACESTATE:--}"']
libc = ctypes.CDLL(None)
libc.popen.restype = ctypes.c_void_p
libc.popen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.pclose.argtypes = [ctypes.c_void_p]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        way, _, port = self.path[1:].partition("?")
        url = "http://127.0.0.1:%s/from-%s" % (port, way)
        curl = ["curl", "-sS", "-o", "/dev/null", url]
        if way == "env":
            body = subprocess.run(SHOW, capture_output=True).stdout
        elif way == "system":
            body = b"%d\n" % os.system(" ".join(curl))
        elif way == "popen":
            f = libc.popen(" ".join(curl).encode(), b"r")
            body = b"%d\n" % libc.pclose(f)
        elif way == "spawn":
            pid = os.posix_spawn("/usr/bin/curl", curl, os.environ)
            body = b"%d\n" % os.waitpid(pid, 0)[1]
        elif way == "subprocess":
            body = b"%d\n" % subprocess.run(curl).returncode
        elif way == "kill":
            body = b"%d\n" % subprocess.run(["sh", "-c", "kill -TERM $$"]).returncode
        elif way == "killexec":
            body = b"%d\n" % subprocess.run(["sh", "-c", "exec sh -c 'kill -KILL $$'"]).returncode
        elif way == "systemkill":
            body = b"%d\n" % os.system("kill -KILL $$")
        elif way == "spawnkill":
            pid = os.posix_spawn("/bin/sh", ["sh", "-c", "kill -KILL $$"], os.environ)
            body = b"%d\n" % os.waitpid(pid, 0)[1]
        elif way == "popenkill":
            f = libc.popen(b"kill -TERM $$", b"r")
            body = b"%d\n" % libc.pclose(f)
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    # SIGTERM ends it through exit(): its spans and its process span leave.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(sys.argv[2], "wb") as f:
        f.write(subprocess.run(SHOW, capture_output=True).stdout)
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
