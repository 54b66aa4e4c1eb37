"""An http.server service that looks each request up in a database: the
SERVER span whose children the database spans must be.

GET /item?id=N connects (one connection per request), reads the name of
menu item N with a parameterized query and answers {"name": ...} (404
when there is none). KIND is postgresql (psycopg2), mysql (PyMySQL) or
redis (redis-py: the value of key menu:N).

usage: db_app.py PORT_FILE KIND DB_PORT [PASSWORD]
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def select_name(conn, item):
    """The name of item on conn (a DB-API connection), which it closes."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM menu WHERE id = %s", (item,))
            row = cur.fetchone()
        return row and row[0]
    finally:
        conn.close()


def lookup_postgresql(item):
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=DB_PORT, user="postgres", dbname="shop")
    conn.autocommit = True
    return select_name(conn, item)


def lookup_mysql(item):
    import pymysql
    return select_name(pymysql.connect(host="127.0.0.1", port=DB_PORT, user="root",
                                       database="shop", autocommit=True), item)


def lookup_redis(item):
    import redis
    r = redis.Redis(host="127.0.0.1", port=DB_PORT, password=PASSWORD)
    try:
        value = r.get("menu:%d" % item)
        return value and value.decode()
    finally:
        r.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlparse(self.path)
        item = int(parse_qs(url.query).get("id", ["0"])[0])
        name = LOOKUP(item)
        body = json.dumps({"name": name}).encode()
        self.send_response(200 if name else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    PORT_FILE, KIND, DB_PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
    PASSWORD = sys.argv[4] if len(sys.argv) > 4 else None
    LOOKUP = globals()["lookup_" + KIND]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()
