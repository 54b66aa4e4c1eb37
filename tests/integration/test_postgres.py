"""PostgreSQL under the shim with real clients: psql (simple queries, an
error, COPY both ways, a multi-statement query, a Unix socket), pgbench
(simple, extended and prepared query modes), psycopg2 (which interpolates
parameters itself and sends simple queries), and a query made while an
HTTP request is served. Each client sees exactly what it sees untraced;
each operation is one CLIENT span with sanitized text.

Encryption: libpq asks for TLS first (SSLRequest) unless told not to; a
server without TLS answers 'N' and the session goes on in plaintext on
the socket. A server with TLS answers 'S': the session, StartupMessage
first, is then the TLS session's plaintext, which the OpenSSL hooks see,
with the same spans. GSSAPI encryption refused ('N') goes on in plaintext
too."""
import os
import re
import unittest

import dbservers
from dbservers import ServerTest, db_attrs
from harness import APPS, PY


def pg(operation=None, collection=None, text=None, summary=None, status=None, batch=None):
    return db_attrs("postgresql", "shop", operation, collection, text, summary, status, batch)


# One psql session: one Query message per -c, COPY's rows from stdin.
PSQL_SESSION = ["-c", "CREATE TABLE items (id int PRIMARY KEY, name text)",
                "-c", "INSERT INTO items VALUES (1, 'secret-1'), (2, 'two')",
                "-c", "SELECT name FROM items WHERE id = 2",
                "-c", "SELECT * FROM nope",
                "-c", "COPY items FROM STDIN",
                "-c", "COPY items TO STDOUT",
                "-c", "SELECT 1; SELECT 2",
                "-c", "DROP TABLE items"]
COPY_ROWS = b"3\tsecret-3\n4\tfour\n"
PSQL_SPANS = [
    pg("CREATE TABLE", "items", "CREATE TABLE items (id int PRIMARY KEY, name text)",
       "CREATE TABLE items"),
    pg("INSERT", "items", "INSERT INTO items VALUES (?, ?), (?, ?)", "INSERT items"),
    pg("SELECT", "items", "SELECT name FROM items WHERE id = ?", "SELECT items"),
    pg("SELECT", "nope", "SELECT * FROM nope", "SELECT nope", status="42P01"),
    pg("COPY", "items", "COPY items FROM STDIN", "COPY items"),
    pg("COPY", "items", "COPY items TO STDOUT", "COPY items"),
    pg(text="SELECT ?; SELECT ?", summary="SELECT SELECT", batch=2),
    pg("DROP TABLE", "items", "DROP TABLE items", "DROP TABLE items"),
]

# pgbench's own queries on its first connection, before the clients run.
PGBENCH_SETUP = 2

# The statements of pgbench's TPC-B-like transaction, as placeholders.
TPCB = [("BEGIN", None, "BEGIN;", "BEGIN"),
        ("UPDATE", "pgbench_accounts",
         "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
         "UPDATE pgbench_accounts"),
        ("SELECT", "pgbench_accounts", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
         "SELECT pgbench_accounts"),
        ("UPDATE", "pgbench_tellers",
         "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;",
         "UPDATE pgbench_tellers"),
        ("UPDATE", "pgbench_branches",
         "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;",
         "UPDATE pgbench_branches"),
        ("INSERT", "pgbench_history",
         "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
         "CURRENT_TIMESTAMP);", "INSERT pgbench_history"),
        ("END", None, "END;", "END")]

# Whether the session asking is encrypted with TLS, as the server sees it.
SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
SSL_IN_USE_SPAN = pg("SELECT", "pg_stat_ssl", SSL_IN_USE, "SELECT pg_stat_ssl")

# %d the port, %s more connect() arguments
PSYCOPG2 = """
import psycopg2
c = psycopg2.connect(host='127.0.0.1', port=%d, user='postgres', dbname='shop'%s)
cur = c.cursor()
cur.execute('CREATE TEMP TABLE kv (k int PRIMARY KEY, v text)')
cur.executemany('INSERT INTO kv (k, v) VALUES (%%s, %%s)', [(1, 'secret-a'), (2, 'b')])
cur.execute('SELECT v FROM kv WHERE k = %%s AND v <> %%s', (1, 'secret-x'))
print(cur.fetchall())
c.commit()
try:
    cur.execute('INSERT INTO kv (k, v) VALUES (%%s, %%s)', (1, 'secret-dup'))
except psycopg2.Error as e:
    print(e.pgcode)
c.rollback()
c.close()
"""
PSYCOPG2_OUT = b"[('secret-a',)]\n23505\n"
PSYCOPG2_INSERT = pg("INSERT", "kv", "INSERT INTO kv (k, v) VALUES (?, ?)", "INSERT kv")
PSYCOPG2_SPANS = [
    pg("BEGIN", None, "BEGIN", "BEGIN"),
    pg("CREATE TABLE", "kv", "CREATE TEMP TABLE kv (k int PRIMARY KEY, v text)",
       "CREATE TABLE kv"),
    PSYCOPG2_INSERT, PSYCOPG2_INSERT,
    pg("SELECT", "kv", "SELECT v FROM kv WHERE k = ? AND v <> ?", "SELECT kv"),
    pg("COMMIT", None, "COMMIT", "COMMIT"),
    pg("BEGIN", None, "BEGIN", "BEGIN"),
    dict(PSYCOPG2_INSERT, **{"db.response.status_code": "23505", "error.type": "23505"}),
    pg("ROLLBACK", None, "ROLLBACK", "ROLLBACK")]


class Postgres(ServerTest):
    SERVER = dbservers.Postgres

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db.spawn(cls.db.pgbench("-i", "-s", "1", "-q"), check=True)
        cls.db.sql("CREATE TABLE menu (id int PRIMARY KEY, name text);"
                   "INSERT INTO menu VALUES (7, 'borscht')")

    def psql_session(self, service):
        return self.same_output(self.db.psql() + PSQL_SESSION, service, input=COPY_ROWS)

    def test_psql_output_unchanged(self):
        r = self.psql_session("psql-output")
        self.assertIn(b"3\tsecret-3\n4\tfour\n", r.stdout)
        self.assertIn(b'relation "nope" does not exist', r.stderr)
        # the same over the server's Unix socket
        r = self.same_output(self.db.psql(host=self.db.run_dir) + ["-c", "SELECT 40 + 2"],
                             "psql-unix")
        self.assertIn(b"42", r.stdout)
        # ON_ERROR_STOP: the exit status of the failure
        r = self.same_output(self.db.psql() + ["-v", "ON_ERROR_STOP=1", "-c", "SELECT 1/0"],
                             "psql-error")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"division by zero", r.stderr)

    def test_psql_spans(self):
        # over TCP: psql's SSLRequest first (sslmode=prefer), refused ('N')
        self.psql_session("psql")
        spans = self.db_spans("psql", "postgresql")
        self.assert_db_spans(spans, PSQL_SPANS)
        self.assertEqual(spans[3]["name"], "SELECT nope")
        self.assertEqual(spans[6]["name"], "SELECT SELECT")
        self.assert_roots(spans)
        self.assert_no_secret(spans, "secret-")

    def pgbench(self, service, *args):
        """pgbench with args, 3 transactions of one client, untraced then
        traced: the same transactions done, none failed."""
        plain, traced = self.run_both(self.db.pgbench("-n", "-c", "1", "-t", "3", *args),
                                      service)
        self.assertEqual(traced.returncode, 0, traced.stderr)
        for r in (plain, traced):
            self.assertIn(b"number of transactions actually processed: 3/3\n", r.stdout)
            self.assertIn(b"number of failed transactions: 0 (0.000%)\n", r.stdout)
        return self.db_spans(service, "postgresql")

    def test_pgbench_output_unchanged(self):
        before = int(self.db.sql("SELECT count(*) FROM pgbench_history"))
        self.pgbench("pgbench-output")
        after = int(self.db.sql("SELECT count(*) FROM pgbench_history"))
        self.assertEqual(after - before, 6)  # 3 transactions each run

    def assert_tpcb(self, spans, text=lambda want, got: want):
        """spans are pgbench's transactions, statement by statement; text
        makes the expected db.query.text from TPCB's and the span's."""
        self.assertEqual(len(spans) % len(TPCB), 0, [s["name"] for s in spans])
        for k, span in enumerate(spans):
            op, coll, t, summary = TPCB[k % len(TPCB)]
            got = span.attrs.get("db.query.text", "")
            self.assert_db_span(span, pg(op, coll, text(t, got), summary))

    def test_pgbench_simple(self):
        spans = self.pgbench("pgbench-simple")
        self.assertEqual(len(spans), PGBENCH_SETUP + 3 * len(TPCB), [s["name"] for s in spans])
        self.assert_db_span(spans[0], pg("select", "pgbench_branches",
                                         "select count(*) from pgbench_branches",
                                         "select pgbench_branches"))

        def sanitized(want, got):
            """Every literal a ?; the random delta may be negative (-?)."""
            want = re.sub(r"\$\d", "?", want)
            return got if got.replace("-?", "?") == want else want

        self.assert_tpcb(spans[PGBENCH_SETUP:], sanitized)
        self.assert_roots(spans)

    def pgbench_select_only(self, service, text, *args):
        """pgbench -S: after its own queries, the SELECT of each transaction."""
        spans = self.pgbench(service, "-S", *args)
        self.assertEqual(len(spans), PGBENCH_SETUP + 3, [s["name"] for s in spans])
        for span in spans[PGBENCH_SETUP:]:
            self.assert_db_span(span, pg("SELECT", "pgbench_accounts", text,
                                         "SELECT pgbench_accounts"))
        self.assert_roots(spans)

    def test_pgbench_select_only(self):
        self.pgbench_select_only("pgbench-select",
                                 "SELECT abalance FROM pgbench_accounts WHERE aid = ?;")

    def test_pgbench_extended(self):
        # Parse, Bind, Describe, Execute, Sync of an unnamed statement each time
        self.pgbench_select_only("pgbench-extended",
                                 "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
                                 "-M", "extended")

    def test_pgbench_prepared(self):
        # each statement prepared (named) in a round trip of its own before
        # its first execution: two spans for each in the first transaction
        spans = self.pgbench("pgbench-prepared", "-M", "prepared")
        clients = spans[PGBENCH_SETUP:]
        self.assertEqual(len(clients), 4 * len(TPCB), [s["name"] for s in spans])
        first = [s for k, s in enumerate(clients[:2 * len(TPCB)]) if k % 2 == 0]
        again = [s for k, s in enumerate(clients[:2 * len(TPCB)]) if k % 2 == 1]
        self.assert_tpcb(first)
        self.assert_tpcb(again)
        self.assert_tpcb(clients[2 * len(TPCB):])
        self.assert_roots(spans)

    def psycopg2(self, service):
        self.python_client("psycopg2", PSYCOPG2 % (self.db.port, ""), service, PSYCOPG2_OUT)

    def test_psycopg2_output_unchanged(self):
        self.psycopg2("psycopg2-output")

    def test_psycopg2_spans(self):
        # psycopg2 interpolates the parameters itself and sends simple
        # queries: the literals are sanitized like any other text
        self.psycopg2("psycopg2")
        spans = self.db_spans("psycopg2", "postgresql")
        self.assert_db_spans(spans, PSYCOPG2_SPANS)
        self.assert_roots(spans)
        self.assert_no_secret(spans, "secret-")

    def test_query_of_a_served_request(self):
        status, body, server, service = self.served("postgresql", "psycopg2", 7)
        self.assertEqual((status, body), (200, b'{"name": "borscht"}'))
        spans = self.db_spans(service, "postgresql", running=1)
        self.assertEqual(len(spans), 1, spans)
        self.assert_db_span(spans[0], pg("SELECT", "menu", "SELECT name FROM menu WHERE id = ?",
                                         "SELECT menu"))
        self.assert_children_of(spans, server)

    def test_tls_refused(self):
        # sslmode=prefer (psql's default) asks, the server has no TLS: 'N',
        # and the session goes on in plaintext
        r = self.same_output(self.db.psql() + ["-At", "-c", SSL_IN_USE], "psql-prefer",
                             PGSSLMODE="prefer")
        self.assertEqual(r.stdout, b"f\n", r.stderr)
        self.assert_db_spans(self.db_spans("psql-prefer", "postgresql"), [SSL_IN_USE_SPAN])

    def test_gssenc_refused(self):
        # GSSENCRequest, then SSLRequest, both refused on the Unix socket
        sock = os.path.join(self.db.run_dir, ".s.PGSQL.%d" % self.db.port)
        r = self.same_output([PY, os.path.join(APPS, "pg_refused.py"), sock, "postgres", "shop",
                              "SELECT 40 + 2"], "pg-refused")
        self.assertEqual((r.returncode, r.stdout), (0, b"N\nN\n42\n"), r.stderr)
        spans = self.db_spans("pg-refused", "postgresql")
        self.assert_db_spans(spans, [dict(pg("SELECT", None, "SELECT ? + ?", "SELECT"), **{
            "server.address": None, "server.port": None, "network.peer.address": sock,
            "network.peer.port": None})])


class PostgresTLS(ServerTest):
    """A server with TLS, and clients that require it: psql's session and
    psycopg2's give the spans they give in plaintext."""
    SERVER = dbservers.Postgres
    TLS = True

    def test_psql_spans(self):
        r = self.same_output(self.db.psql() + ["-At", "-c", SSL_IN_USE], "psql-tls-in-use",
                             PGSSLMODE="require")
        self.assertEqual(r.stdout, b"t\n", r.stderr)
        self.assert_db_spans(self.db_spans("psql-tls-in-use", "postgresql"), [SSL_IN_USE_SPAN])
        r = self.same_output(self.db.psql() + PSQL_SESSION, "psql-tls", input=COPY_ROWS,
                             PGSSLMODE="require")
        self.assertIn(b"3\tsecret-3\n4\tfour\n", r.stdout)
        self.assert_session_spans("psql-tls", "postgresql", PSQL_SPANS)

    def test_psycopg2_spans(self):
        self.python_client("psycopg2", PSYCOPG2 % (self.db.port, ", sslmode='require'"),
                           "psycopg2-tls", PSYCOPG2_OUT)
        self.assert_session_spans("psycopg2-tls", "postgresql", PSYCOPG2_SPANS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
