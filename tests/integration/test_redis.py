"""Redis under the shim with real clients: redis-cli (commands, an error
reply, SELECT, MULTI/EXEC, SUBSCRIBE), redis-benchmark pipelining 16 deep,
redis-py, and a lookup made while an HTTP request is served. The server
asks for a password: AUTH's argument is never recorded. Each client sees
exactly the bytes and results it sees untraced, the server (traced too)
makes no span, and each command is one CLIENT span: one for SUBSCRIBE and
none for the messages pushed after it, one per pipelined command."""
import re
import subprocess
import time
import unittest

import dbservers
from dbservers import ServerTest, db_attrs


def rd(namespace, operation, text, status=None, batch=None, summary=None):
    return db_attrs("redis", namespace, operation, None, text, summary, status, batch)


AUTH = rd("0", "AUTH", "AUTH ?")

# redis-cli reading commands from its input (it asks for COMMAND DOCS first)
CLI_INPUT = b"SELECT 3\nSET k3 secret-v\nGET k3\nMULTI\nSET a 1\nINCR a\nEXEC\n"
CLI_SPANS = [AUTH, rd("0", "COMMAND DOCS", "COMMAND DOCS"), rd("3", "SELECT", "SELECT ?"),
             rd("3", "SET", "SET k3 ?"), rd("3", "GET", "GET k3"), rd("3", "MULTI", "MULTI"),
             rd("3", "SET", "SET a ?"), rd("3", "INCR", "INCR a"),
             rd("3", "EXEC", "EXEC", batch=2, summary="MULTI")]

REDIS_PY = """
import redis
r = redis.Redis(host='127.0.0.1', port=%d, password=%r, db=2)
r.set('p:1', 'secret-v')
print(r.get('p:1'))
p = r.pipeline(transaction=True)
p.set('p:2', 'x')
p.incr('n')
p.get('p:2')
print(p.execute()[0::2])
ps = r.pubsub()
ps.subscribe('news')
print(ps.get_message(timeout=5)['type'])
r.publish('news', 'secret-m1')
r.publish('news', 'secret-m2')
print(ps.get_message(timeout=5)['data'], ps.get_message(timeout=5)['data'])
ps.unsubscribe('news')
print(ps.get_message(timeout=5)['type'])
ps.close()
try:
    r.lpush('p:1', 'x')
except redis.ResponseError as e:
    print(str(e).split()[0])
"""
REDIS_PY_OUT = (b"b'secret-v'\n[True, b'x']\nsubscribe\nb'secret-m1' b'secret-m2'\n"
                b"unsubscribe\nWRONGTYPE\n")
# by start: the first connection, the one the publishes took, the first
# again (pub/sub), and a new one after close()
REDIS_PY_SPANS = [
    AUTH, rd("2", "SELECT", "SELECT ?"), rd("2", "SET", "SET p:1 ?"), rd("2", "GET", "GET p:1"),
    rd("2", "MULTI", "MULTI"), rd("2", "SET", "SET p:2 ?"), rd("2", "INCRBY", "INCRBY n ?"),
    rd("2", "GET", "GET p:2"), rd("2", "EXEC", "EXEC", batch=3, summary="MULTI"),
    rd("2", "SUBSCRIBE", "SUBSCRIBE news"),
    AUTH, rd("2", "SELECT", "SELECT ?"), rd("2", "PUBLISH", "PUBLISH news ?"),
    rd("2", "PUBLISH", "PUBLISH news ?"),
    rd("2", "UNSUBSCRIBE", "UNSUBSCRIBE news"),
    AUTH, rd("2", "SELECT", "SELECT ?"), rd("2", "LPUSH", "LPUSH p:1 ?", status="WRONGTYPE"),
]


class Redis(ServerTest):
    SERVER = dbservers.Redis

    def cli(self, *args):
        return self.db.cli(*args)

    def untraced(self, *args):
        """A command run untraced; its output."""
        r = self.run_client(self.cli(*args), traced=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def commandstats(self):
        """{command: calls} since the last reset (what the server counted)."""
        stats = {}
        for line in self.untraced("INFO", "commandstats").decode().splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+),", line)
            if m:
                stats[m.group(1)] = int(m.group(2))
        stats["auth"] -= 1  # this INFO's own login
        return stats

    def assert_no_server_span(self):
        """The server, traced as well, makes none (it is no client)."""
        self.assertIn("spanshim[", self.db.log_text())
        self.col.fence()
        self.assertEqual([s["name"] for s in self.col.spans()
                          if s.service == self.db.service], [])

    def commands(self, service):
        r1 = self.same_output(self.cli("SET", "k", "secret-v1"), service)
        r2 = self.same_output(self.cli("GET", "k"), service)
        r3 = self.same_output(self.cli("LPUSH", "k", "x"), service)
        r4 = self.same_output(self.cli(), service, input=CLI_INPUT)
        self.assertEqual((r1.stdout, r2.stdout), (b"OK\n", b"secret-v1\n"))
        self.assertIn(b"WRONGTYPE", r3.stdout)
        self.assertEqual(r4.stdout, b"OK\nOK\nsecret-v\nOK\nQUEUED\nQUEUED\nOK\n2\n")

    def test_cli_output_unchanged(self):
        self.commands("redis-cli-output")
        # a wrong password: the error, the same
        r = self.same_output(self.db.cli("-a", "wrong", "--no-auth-warning", "GET", "k",
                                         auth=False), "redis-cli-wrongpass")
        self.assertIn(b"WRONGPASS", r.stdout + r.stderr)

    def test_cli_spans(self):
        self.commands("redis-cli")
        spans = self.db_spans("redis-cli", "redis")
        want = [AUTH, rd("0", "SET", "SET k ?"), AUTH, rd("0", "GET", "GET k"),
                AUTH, rd("0", "LPUSH", "LPUSH k ?", status="WRONGTYPE")] + CLI_SPANS
        self.assert_db_spans(spans, want)
        self.assertEqual([spans[k]["name"] for k in (0, 1, 8, 14)],
                         ["AUTH 0", "SET 0", "SELECT 3", "MULTI"])
        self.assert_roots(spans)
        self.assert_no_secret(spans, self.db.password, "secret-")
        self.assert_no_server_span()

    def subscribe(self, service, traced):
        """redis-cli SUBSCRIBE; two messages published, then the server
        drops the subscriber, which exits: its result."""
        env = self.col.env(service)
        if not traced:
            env.pop("LD_PRELOAD", None)
        p = subprocess.Popen(self.cli("SUBSCRIBE", "news"), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            self.assertEqual(p.stdout.readline(), b"subscribe\n")
            deadline = time.time() + 30
            while b"1" not in self.untraced("PUBSUB", "NUMSUB", "news").split(b"\n")[1:2]:
                self.assertLess(time.time(), deadline, "the subscription never showed")
                time.sleep(0.02)
            self.untraced("PUBLISH", "news", "secret-m1")
            self.untraced("PUBLISH", "news", "secret-m2")
            got = b"".join(p.stdout.readline() for _ in range(8))
            self.assertEqual(got, b"news\n1\nmessage\nnews\nsecret-m1\nmessage\nnews\n"
                             b"secret-m2\n")
            self.untraced("CLIENT", "KILL", "TYPE", "pubsub")
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        return p.returncode, got + out, err

    def test_subscribe(self):
        plain = self.subscribe("redis-sub-plain", traced=False)
        traced = self.subscribe("redis-sub", traced=True)
        self.assertEqual(traced, plain)
        # one span for SUBSCRIBE, none for the messages pushed after it
        spans = self.db_spans("redis-sub", "redis")
        self.assertEqual(len(spans), 2, [s["name"] for s in spans])
        self.assert_db_span(spans[0], AUTH)
        self.assert_db_span(spans[1], rd("0", "SUBSCRIBE", "SUBSCRIBE news"), "SUBSCRIBE 0")
        self.assert_no_secret(spans, "secret-")

    def benchmark(self, service, *args):
        """redis-benchmark with args, untraced then traced: the same tests
        run; the traced run's commands as the server counted them."""
        argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(self.db.port),
                "-a", self.db.password, "-q", *args]
        plain = self.run_client(argv, traced=False)
        self.untraced("CONFIG", "RESETSTAT")
        traced = self.run_client(argv, service, SPANSHIM_LOG="debug")
        stats = self.commandstats()
        for r in (plain, traced):
            self.assertEqual(r.returncode, 0, r.stderr)
        tests = re.compile(rb"([A-Z_0-9]+(?: \([^)]*\))?): \S+ requests per second")
        self.assertEqual(tests.findall(traced.stdout), tests.findall(plain.stdout))
        self.assertTrue(tests.findall(plain.stdout), plain.stdout)
        self.assertNotIn(b"headers_injected", traced.stderr)
        return stats

    def test_benchmark_pipelined(self):
        # 16 commands written at once, their replies matched in order
        stats = self.benchmark("redis-benchmark", "-n", "64", "-c", "2", "-P", "16",
                               "-t", "set,get")
        self.assertEqual((stats.get("set"), stats.get("get")), (64, 64), stats)
        spans = self.db_spans("redis-benchmark", "redis")
        by_op = {}
        for s in spans:
            by_op.setdefault(s.attrs.get("db.operation.name"), []).append(s)
        self.assertEqual({op: len(s) for op, s in by_op.items()},
                         {"AUTH": stats["auth"], "CONFIG GET": stats["config|get"],
                          "SET": 64, "GET": 64})
        for s in by_op["SET"]:
            self.assert_db_span(s, rd("0", "SET", "SET key:__rand_int__ ?"), "SET 0")
        for s in by_op["GET"]:
            self.assert_db_span(s, rd("0", "GET", "GET key:__rand_int__"), "GET 0")
        self.assert_roots(spans)
        self.assert_no_secret(spans, self.db.password)
        self.assert_no_server_span()

    def test_unchanged_bytes_and_spans(self):
        # values that look like HTTP inside: passed as they are, and spans
        # that never show them
        value = "v\r\nGET / HTTP/1.1\r\n\r\n\xff" * 10
        self.assertEqual(self.run_client(self.cli("SET", "look", value), "redis-look").stdout,
                         b"OK\n")
        got = self.same_output(self.cli("--no-raw", "GET", "look"), "redis-look")
        self.assertIn(b"GET / HTTP/1.1", got.stdout)
        for _ in range(3):
            self.untraced("RPUSH", "looks", value)
        got = self.same_output(self.cli("--no-raw", "LRANGE", "looks", "0", "-1"), "redis-look")
        self.assertEqual(got.stdout.count(b"GET / HTTP/1.1"), 30)
        stats = self.benchmark("redis-bench-look", "-n", "200", "-c", "4",
                               "-t", "lpush,lrange_100")
        spans = self.db_spans("redis-look", "redis")
        self.assertEqual(len(spans), 6, [s["name"] for s in spans])
        self.assert_db_span(spans[1], rd("0", "SET", "SET look ?"))
        self.assert_db_span(spans[3], rd("0", "GET", "GET look"))
        self.assert_db_span(spans[5], rd("0", "LRANGE", "LRANGE looks ? ?"))
        bench = self.db_spans("redis-bench-look", "redis")
        ops = [s.attrs.get("db.operation.name") for s in bench]
        self.assertEqual((ops.count("LPUSH"), ops.count("LRANGE")),
                         (stats["lpush"], stats["lrange"]))
        self.assertEqual([s for s in self.col.spans()
                          if s.service.startswith("redis") and "http.request.method" in s.attrs],
                         [])
        self.assert_no_secret(spans + bench, "HTTP/1.1")
        self.assert_no_server_span()

    def redis_py(self, service):
        self.python_client("redis", REDIS_PY % (self.db.port, self.db.password), service,
                           REDIS_PY_OUT)

    def test_redis_py_output_unchanged(self):
        self.redis_py("redis-py-output")

    def test_redis_py_spans(self):
        self.redis_py("redis-py")
        spans = self.db_spans("redis-py", "redis")
        self.assert_db_spans(spans, REDIS_PY_SPANS)
        self.assert_roots(spans)
        self.assert_no_secret(spans, self.db.password, "secret-")

    def test_lookup_of_a_served_request(self):
        self.untraced("SET", "menu:7", "pelmeni")
        status, body, server, service = self.served("redis", "redis", 7, self.db.password)
        self.assertEqual((status, body), (200, b'{"name": "pelmeni"}'))
        spans = self.db_spans(service, "redis", running=2)
        self.assertEqual(len(spans), 2, spans)
        self.assert_db_span(spans[0], AUTH)
        self.assert_db_span(spans[1], rd("0", "GET", "GET menu:7"))
        self.assert_children_of(spans, server)
        self.assert_no_secret(spans, self.db.password)


if __name__ == "__main__":
    unittest.main(verbosity=2)
