"""A PostgreSQL client that asks for GSSAPI encryption, then for TLS, and
goes on in plaintext when the server refuses both ('N'): what libpq does
with gssencmode=prefer when it has Kerberos credentials and the server
can offer neither (libpq without credentials never sends GSSENCRequest,
so no stock client shows it). PostgreSQL refuses both on a Unix socket.

Prints each answer, then the rows of QUERY, one line each.

usage: pg_refused.py SOCKET_PATH USER DATABASE QUERY
"""
import socket
import struct
import sys

GSSENC_REQUEST, SSL_REQUEST, PROTOCOL_3 = 80877104, 80877103, 196608


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise EOFError("the server closed the connection")
        data += more
    return data


def until_ready(sock):
    """The server's messages up to ReadyForQuery: the rows' first columns."""
    rows = []
    while True:
        kind, length = struct.unpack("!cI", read_exact(sock, 5))
        body = read_exact(sock, length - 4)
        if kind == b"E":
            raise RuntimeError(body.decode(errors="replace"))
        if kind == b"D":  # one column: count, length, value
            rows.append(body[6:].decode())
        if kind == b"Z":
            return rows


def send(sock, kind, body):
    sock.sendall(kind + struct.pack("!I", 4 + len(body)) + body)


def main(path, user, database, query):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        for code in (GSSENC_REQUEST, SSL_REQUEST):
            sock.sendall(struct.pack("!II", 8, code))
            print(read_exact(sock, 1).decode())
        params = b"user\0%s\0database\0%s\0\0" % (user.encode(), database.encode())
        send(sock, b"", struct.pack("!I", PROTOCOL_3) + params)
        until_ready(sock)
        send(sock, b"Q", query.encode() + b"\0")
        for row in until_ready(sock):
            print(row)
        send(sock, b"X", b"")


if __name__ == "__main__":
    main(*sys.argv[1:5])
