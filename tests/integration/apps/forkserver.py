"""An HTTP server that forks for every connection, two ways.

parent-serves: the parent reads the request head, forks a helper that
  closes its copy of the connection and exits (as a CGI launcher's child
  closes what it inherited before it execs), then answers itself.
child-serves: inetd style: the parent forks at once and closes its copy;
  the child serves every request on the connection (keep-alive) and exits.
child-execs: the parent reads the request head and forks a child that
  execs a shell writing the whole response to the inherited connection (as
  a non-parsed-header CGI does); the parent writes nothing, waits for the
  child and closes. The body is the time the shell wrote it (ns since the
  epoch) and a newline.

preforked: a daemon's shape: the parent makes a connection that is
  refused (a span of its own) before it forks one worker, which serves every connection from
  then on and never exits; the parent only waits, and stopped (SIGTERM) stops it.

Each response's status is the number in the request's path (/status/201).

usage: forkserver.py PORT_FILE MODE
"""
import os
import signal
import socket
import sys


def read_head(conn, buf):
    """(head, rest) of the next request, or (None, b"") at EOF."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(4096)
        if not data:
            return None, b""
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def answer(conn, head):
    path = head.split(b" ", 2)[1].decode()
    code = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
    conn.sendall(b"HTTP/1.1 %d Whatever\r\nContent-Length: 3\r\n\r\nok\n" % code)


def parent_serves(conn):
    head, _ = read_head(conn, b"")
    pid = os.fork()
    if pid == 0:
        conn.close()
        os._exit(0)
    os.waitpid(pid, 0)
    if head is not None:
        answer(conn, head)
    conn.close()


# The shell's response: the status from argv, the body its clock.
EXEC_RESPONSE = ('printf "HTTP/1.1 %s Whatever\\r\\nContent-Length: 20\\r\\n'
                 'Connection: close\\r\\n\\r\\n%s\\n" "$1" "$(date +%s%N)"')


def child_execs(conn):
    head, _ = read_head(conn, b"")
    if head is None:
        conn.close()
        return
    path = head.split(b" ", 2)[1].decode()
    code = path.rsplit("/", 1)[1] if path.startswith("/status/") else "200"
    pid = os.fork()
    if pid == 0:
        os.dup2(conn.fileno(), 1)
        os.execv("/bin/sh", ["sh", "-c", EXEC_RESPONSE, "sh", code])
    os.waitpid(pid, 0)
    conn.close()


def child_serves(conn):
    if os.fork() != 0:
        conn.close()
        return
    buf = b""
    while True:
        head, buf = read_head(conn, buf)
        if head is None:
            break
        answer(conn, head)
    conn.close()
    os._exit(0)


def preforked(lsock):
    probe = socket.socket()
    try:
        probe.connect(("127.0.0.1", 1))
    except OSError:
        pass
    probe.close()
    pid = os.fork()
    if pid != 0:
        # Stopped, the parent stops its worker: none is left behind.
        signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
        os.waitpid(pid, 0)
        sys.exit(0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        conn, _ = lsock.accept()
        head, _ = read_head(conn, b"")
        if head is not None:
            answer(conn, head)
        conn.close()


def main():
    port_file, mode = sys.argv[1], sys.argv[2]
    serve = {"parent-serves": parent_serves, "child-serves": child_serves,
             "child-execs": child_execs, "preforked": None}[mode]
    signal.signal(signal.SIGCHLD, signal.SIG_IGN if mode == "child-serves" else signal.SIG_DFL)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    if mode == "preforked":
        preforked(lsock)
    while True:
        conn, _ = lsock.accept()
        serve(conn)


if __name__ == "__main__":
    main()
