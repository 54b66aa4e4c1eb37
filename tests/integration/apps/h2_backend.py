"""An HTTP/2 service (h2c with prior knowledge) on the h2 protocol library,
which does its own framing and HPACK: the shim sees only frames on the
socket. Records every request's decoded header list to RECORD as one JSON
line, and answers with the traceparent values it received, one per line.

usage: h2_backend.py PORT_FILE RECORD
"""
import json
import os
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events

LOCK = threading.Lock()


def serve(sock, record):
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.RequestReceived):
                with LOCK, open(record, "a") as f:
                    f.write(json.dumps(ev.headers) + "\n")
                body = "".join(v + "\n" for k, v in ev.headers if k == "traceparent").encode()
                conn.send_headers(ev.stream_id, [(":status", "200"),
                                                 ("content-length", str(len(body)))])
                conn.send_data(ev.stream_id, body, end_stream=True)
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    sock.close()


if __name__ == "__main__":
    port_file, record = sys.argv[1:3]
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    while True:
        s, _ = lsock.accept()
        threading.Thread(target=serve, args=(s, record), daemon=True).start()
