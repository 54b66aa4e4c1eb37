"""MariaDB under the shim with real clients: the mariadb client (queries,
an error, USE sent as COM_INIT_DB, a multi-statement query), PyMySQL
(which interpolates parameters itself: plain COM_QUERY text, sanitized),
and a query made while an HTTP request is served. Each client sees exactly
what it sees untraced; each command is one CLIENT span, and the server's
greeting says MariaDB, so db.system.name is `mariadb`.

Over TLS (the SSL request after the greeting) the clients give the same
spans: the TLS session's plaintext begins with the HandshakeResponse41,
and the greeting, before it on the socket, still names the system."""
import unittest

import dbservers
from dbservers import ServerTest, db_attrs


def my(namespace, operation=None, collection=None, text=None, summary=None, status=None,
       batch=None):
    return db_attrs("mariadb", namespace, operation, collection, text, summary, status, batch)


# The client splits its input at the delimiter: one COM_QUERY each; `USE`
# is its own command (it asks for the database first); --force goes on
# past the error.
CLIENT_SCRIPT = b"""CREATE TABLE items (id INT PRIMARY KEY, name TEXT);
INSERT INTO items VALUES (1, 'secret-1'), (2, 'two');
SELECT name FROM items WHERE id = 2;
SELECT * FROM nope;
USE other;
SELECT COUNT(*) FROM shop.items;
delimiter //
SELECT 1; SELECT name FROM shop.items WHERE id = 1//
delimiter ;
DROP TABLE shop.items;
"""
CLIENT_SPANS = [
    my("shop", "CREATE TABLE", "items", "CREATE TABLE items (id INT PRIMARY KEY, name TEXT)",
       "CREATE TABLE items"),
    my("shop", "INSERT", "items", "INSERT INTO items VALUES (?, ?), (?, ?)", "INSERT items"),
    my("shop", "SELECT", "items", "SELECT name FROM items WHERE id = ?", "SELECT items"),
    my("shop", "SELECT", "nope", "SELECT * FROM nope", "SELECT nope", status="1146"),
    my("shop", "SELECT", None, "SELECT DATABASE()", "SELECT"),
    my("other", "COM_INIT_DB"),
    my("other", "SELECT", "shop.items", "SELECT COUNT(*) FROM shop.items", "SELECT shop.items"),
    my("other", None, None, "SELECT ?; SELECT name FROM shop.items WHERE id = ?",
       "SELECT SELECT shop.items", batch=2),
    my("other", "DROP TABLE", "shop.items", "DROP TABLE shop.items", "DROP TABLE shop.items"),
]

# %d the port, %s more connect() arguments
PYMYSQL = """
import sys
import pymysql
from pymysql.constants import CLIENT
c = pymysql.connect(host='127.0.0.1', port=%d, user='root', password='secret-pw',
                    database='shop', client_flag=CLIENT.MULTI_STATEMENTS%s)
cur = c.cursor()
cur.execute('CREATE TEMPORARY TABLE kv (k INT PRIMARY KEY, v TEXT)')
cur.executemany('INSERT INTO kv (k, v) VALUES (%%s, %%s)', [(1, 'secret-a'), (2, 'b')])
cur.execute('SELECT v FROM kv WHERE k = %%s AND v <> %%s', (1, 'secret-x'))
print(cur.fetchall())
c.commit()
try:
    cur.execute('INSERT INTO kv (k, v) VALUES (%%s, %%s)', (1, 'secret-dup'))
except pymysql.Error as e:
    print(e.args[0])
try:
    c.select_db('nowhere')
except pymysql.Error as e:
    print(e.args[0])
c.select_db('other')
c.ping(reconnect=False)
cur.execute('SELECT 1; SELECT 2')
print(cur.fetchall())
cur.nextset()
print(cur.fetchall())
c.close()
"""
PYMYSQL_OUT = b"(('secret-a',),)\n1062\n1049\n((1,),)\n((2,),)\n"
# PyMySQL puts the parameters into the text itself (executemany: one
# INSERT of both rows)
PYMYSQL_SPANS = [
    my("shop", "SET", None, "SET AUTOCOMMIT = ?", "SET"),
    my("shop", "CREATE TABLE", "kv", "CREATE TEMPORARY TABLE kv (k INT PRIMARY KEY, v TEXT)",
       "CREATE TABLE kv"),
    my("shop", "INSERT", "kv", "INSERT INTO kv (k, v) VALUES (?, ?),(?, ?)", "INSERT kv"),
    my("shop", "SELECT", "kv", "SELECT v FROM kv WHERE k = ? AND v <> ?", "SELECT kv"),
    my("shop", "COMMIT", None, "COMMIT", "COMMIT"),
    my("shop", "INSERT", "kv", "INSERT INTO kv (k, v) VALUES (?, ?)", "INSERT kv",
       status="1062"),
    my("nowhere", "COM_INIT_DB", status="1049"),
    my("other", "COM_INIT_DB"),
    my("other", "COM_PING"),
    my("other", None, None, "SELECT ?; SELECT ?", "SELECT SELECT", batch=2),
]

# Whether the session asking is encrypted with TLS: the version, or nothing.
SSL_IN_USE = b"SHOW SESSION STATUS LIKE 'Ssl_version'"
SSL_IN_USE_SPAN = my("shop", "SHOW", None, "SHOW SESSION STATUS LIKE ?", "SHOW")


def client_session(test, service, *args):
    """The mariadb client (with args) runs CLIENT_SCRIPT in database shop."""
    r = test.same_output(test.db.client("-D", "shop", "--force", *args), service,
                         input=CLIENT_SCRIPT)
    test.assertEqual(r.stdout, b"name\ntwo\nCOUNT(*)\n2\n1\n1\nname\nsecret-1\n")
    test.assertIn(b"ERROR 1146 (42S02) at line 4", r.stderr)
    return r


class MariaDB(ServerTest):
    SERVER = dbservers.MariaDB

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.sql("CREATE DATABASE other; CREATE TABLE menu (id INT PRIMARY KEY, name TEXT);"
                   "INSERT INTO menu VALUES (7, 'pierogi')")

    def test_client_output_unchanged(self):
        client_session(self, "mariadb-output")
        # an error's exit status, and the same over the server's Unix socket
        self.same_output(self.db.client("-e", "SELECT * FROM shop.nope"), "mariadb-error")
        r = self.same_output(["mariadb", "--no-defaults", "-S",
                              self.db.run_dir + "/mysqld.sock", "-u", "root", "-N", "-e",
                              "SELECT 40 + 2"], "mariadb-unix")
        self.assertEqual(r.stdout, b"42\n")

    def test_client_spans(self):
        client_session(self, "mariadb")
        spans = self.db_spans("mariadb", "mariadb")
        self.assert_db_spans(spans, CLIENT_SPANS)
        self.assertEqual(spans[5]["name"], "COM_INIT_DB other")
        self.assert_roots(spans)
        self.assert_no_secret(spans, "secret-")

    def pymysql(self, service):
        self.python_client("pymysql", PYMYSQL % (self.db.port, ""), service, PYMYSQL_OUT)

    def test_pymysql_output_unchanged(self):
        self.pymysql("pymysql-output")

    def test_pymysql_spans(self):
        # the password is in no span
        self.pymysql("pymysql")
        spans = self.db_spans("pymysql", "mariadb")
        self.assert_db_spans(spans, PYMYSQL_SPANS)
        self.assertEqual(spans[8]["name"], "COM_PING other")
        self.assert_roots(spans)
        self.assert_no_secret(spans, "secret-")

    def test_query_of_a_served_request(self):
        status, body, server, service = self.served("mysql", "pymysql", 7)
        self.assertEqual((status, body), (200, b'{"name": "pierogi"}'))
        spans = self.db_spans(service, "mariadb", running=1)
        self.assertEqual(len(spans), 1, spans)
        self.assert_db_span(spans[0], my("shop", "SELECT", "menu",
                                         "SELECT name FROM menu WHERE id = ?", "SELECT menu"))
        self.assert_children_of(spans, server)


class MariaDBTLS(ServerTest):
    """A server with TLS, and clients that ask for it: the mariadb client's
    session and PyMySQL's give the spans they give in plaintext, `mariadb`
    as well (the spans of any system are taken, so that a wrong one shows)."""
    SERVER = dbservers.MariaDB
    TLS = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.sql("CREATE DATABASE other")

    def test_client_spans(self):
        r = self.same_output(self.db.client("--ssl", "-D", "shop", "-N", "-e", SSL_IN_USE),
                             "mariadb-tls-in-use")
        self.assertRegex(r.stdout, rb"^Ssl_version\tTLSv1\.[0-9]\n$", r.stderr)
        self.assert_db_spans(self.db_spans("mariadb-tls-in-use", None), [SSL_IN_USE_SPAN])
        client_session(self, "mariadb-tls", "--ssl")
        self.assert_session_spans("mariadb-tls", None, CLIENT_SPANS)

    def test_pymysql_spans(self):
        # a certificate nobody vouches for: ssl with neither CA nor host check
        self.python_client("pymysql", PYMYSQL % (self.db.port, ", ssl={'check_hostname': False}"),
                           "pymysql-tls", PYMYSQL_OUT)
        self.assert_session_spans("pymysql-tls", None, PYMYSQL_SPANS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
