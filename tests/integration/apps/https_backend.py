"""backend.py over TLS: the same service, recording the plaintext of every
request it reads, behind a certificate the test makes.

usage: https_backend.py PORT_FILE RECORD CERT KEY
"""
import os
import ssl
import sys
from http.server import ThreadingHTTPServer

import backend

if __name__ == "__main__":
    port_file, backend.RECORD, cert, key = sys.argv[1:5]
    server = ThreadingHTTPServer(("127.0.0.1", 0), backend.Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
