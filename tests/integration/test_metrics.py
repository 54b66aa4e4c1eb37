"""Span metrics and the service graph at --metrics-listen: scraped with curl,
every number checked against the spans the collector wrote (the metrics are
computed from every span received)."""
import collections
import os
import re
import subprocess
import time
import unittest

from crafted import batch, send_all, span
from harness import Collector, free_port, start_app

LINE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')


def scrape(port, path="/metrics"):
    r = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=30)
    body, _, code = r.stdout.decode().rpartition("\n")
    return int(code), body


def parse(text):
    """{(name, frozenset(labels)): value}; checks every line is well formed."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = LINE.match(line)
        assert m, line
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


class Metrics(unittest.TestCase):
    def test_red_metrics_and_service_graph(self):
        port = free_port()
        col = Collector(extra=["--metrics-listen", "127.0.0.1:%d" % port])
        _, backend = start_app(col, "backend.py", [os.path.join(col.dir, "b.record")], "backend")
        for i in range(5):
            self.assertEqual(col.run(["curl", "-sS", "http://127.0.0.1:%d/inventory?i=%d" % (backend, i)],
                                     service="shop").returncode, 0)
        for i in range(2):
            col.run(["curl", "-sS", "http://127.0.0.1:%d/error?i=%d" % (backend, i)], service="shop")
        spans = col.wait_spans(14)
        self.assertEqual(len(spans), 14)
        time.sleep(0.3)
        code, text = scrape(port)
        self.assertEqual(code, 200)
        m = parse(text)

        # RED: one series per (service, kind, status, method, HTTP status).
        want = collections.Counter()
        for s in spans:
            st = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}[
                s.get("status", {}).get("code", 0)]
            kind = {2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT"}[s["kind"]]
            want[(s.service, kind, st, s.attrs.get("http.request.method", ""),
                  str(s.attrs.get("http.response.status_code", "")))] += 1
        got = {}
        for (name, labels), v in m.items():
            if name == "traces_span_metrics_calls_total":
                d = dict(labels)
                got[(d["service_name"], d["span_kind"], d["status_code"],
                     d.get("http_request_method", ""), d.get("http_response_status_code", ""))] = v
        self.assertEqual(got, dict(want))
        self.assertEqual(got[("backend", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", "GET", "500")], 2)
        for key, n in want.items():
            labels = frozenset((k, v) for k, v in zip(  # a label without a value is left out
                ("service_name", "span_kind", "status_code", "http_request_method",
                 "http_response_status_code"), key) if v)
            self.assertEqual(m[("traces_span_metrics_duration_seconds_count", labels)], n)
            self.assertEqual(m[("traces_span_metrics_duration_seconds_bucket", labels | {("le", "+Inf")})], n)
            buckets = sorted((float(dict(l)["le"]), v) for (nm, l), v in m.items()
                             if nm == "traces_span_metrics_duration_seconds_bucket"
                             and labels < l and dict(l)["le"] != "+Inf")
            self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))  # cumulative

        # The service graph: shop -> backend, 7 requests, the 2 errors failed.
        edge = frozenset({("client", "shop"), ("server", "backend")})
        self.assertEqual(m[("traces_service_graph_request_total", edge)], 7)
        self.assertEqual(m[("traces_service_graph_request_failed_total", edge)], 2)
        self.assertEqual(m[("traces_service_graph_request_server_seconds_count", edge)], 7)
        self.assertEqual(m[("traces_service_graph_request_client_seconds_count", edge)], 7)
        self.assertEqual([k for k in m if k[0] == "traces_service_graph_request_total"], [
            ("traces_service_graph_request_total", edge)])

        # The collector's own counters.
        self.assertEqual(m[("spanshim_collector_spans_total", frozenset())], 14)
        self.assertEqual(m[("spanshim_collector_jsonl_spans_total", frozenset())], 14)
        self.assertEqual(m[("spanshim_collector_datagrams_dropped_total",
                            frozenset({("reason", "not_otlp")}))], 0)
        self.assertEqual(scrape(port, "/other")[0], 404)
        self.assertEqual(col.stop(), 0)

    def send_database_spans(self):
        """A collector serving metrics, given a request's spans as the shim
        sends them: its SERVER span, 3 PostgreSQL queries (1 failed), a
        Redis command, a name lookup; and an HTTP CLIENT span no server
        answers. Returns the collector and its metrics' port."""
        port = free_port()
        col = Collector(extra=["--metrics-listen", "127.0.0.1:%d" % port])
        pg = [("db.system.name", "postgresql"), ("db.operation.name", "SELECT"),
              ("db.collection.name", "users"), ("db.namespace", "shop"),
              ("server.address", "pg.internal"), ("network.peer.address", "10.0.0.5"),
              ("network.peer.port", 5432)]
        failed = [("db.response.status_code", "42P01"), ("error.type", "42P01")]
        redis = [("db.system.name", "redis"), ("db.operation.name", "GET"),
                 ("server.address", "cache"), ("server.port", 6380), ("db.namespace", "0")]
        send_all(col, [batch([
            span(1, 1, b"GET /", attrs=[("http.request.method", "GET"),
                                        ("http.response.status_code", 200)]),
            span(1, 2, b"SELECT users", 1, kind=3, dur=2000000, attrs=pg),
            span(1, 3, b"SELECT users", 1, kind=3, attrs=pg),
            span(1, 4, b"SELECT nosuch", 1, kind=3, attrs=pg + failed, error=True),
            span(1, 5, b"GET", 1, kind=3, attrs=redis),
            span(1, 6, b"getaddrinfo", 1, kind=3, attrs=[("dns.question.name", "pg.internal")]),
            span(2, 7, b"GET", 0x99, kind=3, attrs=[("http.request.method", "GET")]),
        ], b"shop")])
        self.assertEqual(len(col.wait_spans(7)), 7)
        return col, port

    def test_database_span_metrics(self):
        """db_system_name and db_operation_name label a database span's
        series, and no http_ label does; an HTTP series has no db_ label."""
        col, port = self.send_database_spans()
        m = parse(scrape(port)[1])

        def calls(**labels):
            return m.get(("traces_span_metrics_calls_total", frozenset(labels.items())))

        client = {"service_name": "shop", "span_kind": "SPAN_KIND_CLIENT"}
        self.assertEqual(calls(**client, status_code="STATUS_CODE_UNSET",
                               db_system_name="postgresql", db_operation_name="SELECT"), 2)
        self.assertEqual(calls(**client, status_code="STATUS_CODE_ERROR",
                               db_system_name="postgresql", db_operation_name="SELECT"), 1)
        self.assertEqual(calls(**client, status_code="STATUS_CODE_UNSET",
                               db_system_name="redis", db_operation_name="GET"), 1)
        self.assertEqual(calls(service_name="shop", span_kind="SPAN_KIND_SERVER",
                               status_code="STATUS_CODE_UNSET", http_request_method="GET",
                               http_response_status_code="200"), 1)
        self.assertEqual(calls(**client, status_code="STATUS_CODE_UNSET"), 1)  # the lookup
        self.assertEqual(sum(v for (name, _), v in m.items()
                             if name == "traces_span_metrics_calls_total"), 7)
        self.assertEqual(col.stop(), 0)

    def test_database_service_graph(self):
        """An edge to the database at once, with its requests, failures and
        durations; neither a database span nor a name lookup waits for a
        SERVER span: once every wait is over, only the lone HTTP CLIENT
        span is unpaired."""
        col, port = self.send_database_spans()
        m = parse(scrape(port)[1])

        def edge(server):
            return frozenset({("client", "shop"), ("server", server),
                              ("connection_type", "database")})

        self.assertEqual(m.get(("traces_service_graph_request_total", edge("pg.internal"))), 3)
        self.assertEqual(m[("traces_service_graph_request_failed_total", edge("pg.internal"))], 1)
        self.assertEqual(m[("traces_service_graph_request_client_seconds_count",
                            edge("pg.internal"))], 3)
        self.assertEqual(m[("traces_service_graph_request_server_seconds_bucket",
                            edge("pg.internal") | {("le", "0.001")})], 2)
        self.assertEqual(m[("traces_service_graph_request_total", edge("cache:6380"))], 1)
        self.assertEqual(len([k for k in m if k[0] == "traces_service_graph_request_total"]), 2)
        time.sleep(10.5)  # every wait over; the next span ends them
        send_all(col, [batch([span(3, 8, b"GET")], b"shop")])
        self.assertEqual(len(col.wait_spans(8)), 8)
        m = parse(scrape(port)[1])
        self.assertEqual(m[("spanshim_collector_graph_unpaired_total", frozenset())], 1)
        self.assertEqual(col.stop(), 0)

if __name__ == "__main__":
    unittest.main(verbosity=2)
