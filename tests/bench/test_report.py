"""report.py on made-up results of every workload, as bench.py gathers
them: BENCHMARKS.md has the log capture's rows, (k) from the wall clock
(capture off against span: requests/s, latency, the CPU a record adds in
nginx and in the collector, the records against the requests) and (d)'s
callgrind rows of opbench httplog, in the table, every run and how each is
measured; a partial run (bench.py --only) gives the same rows (bench.py
then writes no BENCHMARKS.md); the chart is drawn."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def http_runs(rps, cpu, collector=0.0):
    return [{"rps": rps + i, "p50": 0.2, "p99": 0.5 + i / 10, "cpu_us": cpu, "collector_us": collector,
             "requests": 1000} for i in range(3)]


def db_runs(rps, ops_key):
    return [{"rps": rps, "cpu_us": 10.0, "collector_us": 1.0, "spans": 1000, "dropped": 0,
             ops_key: 1000} for _ in range(3)]


def results():
    r = {"machine": "a test", "runs": 3, "seconds": 5}
    for key in ("a", "b", "h"):
        r[key] = {False: http_runs(50000, 12.0), True: http_runs(45000, 14.0, 3.0)}
    for key in ("c", "c16"):
        r[key] = {False: db_runs(80000, "commands"), True: db_runs(70000, "commands")}
    r["g"] = {False: db_runs(20000, "transactions"), True: db_runs(19500, "transactions")}
    r["f"] = {t: {"start": 3000, "tenth": 3100, "all": 3100 + 500 * t, "per_conn_bytes": 300 + 100 * t,
                  "requests": 100000} for t in (False, True)}
    r["j"] = {v: [{"rps": 9000 - 1000 * i, "p99": 1.0 + i, "cpu_us": 50.0 + 10 * i, "rss_kib": 50000 + 1000 * i,
                   "collector_us": 1.0}] for i, v in enumerate(("untraced", "spanshim", "sdk"))}
    r["k"] = {"off": [dict(x, cpu_us=14.0, collector_us=1.0) for x in http_runs(40000, 0)],
              "span": [dict(x, cpu_us=15.25, collector_us=2.5) for x in http_runs(36000, 0)],
              "records": 230010, "requests_span": 230000, "requests_off": 240000}
    r["d"] = {"opaque_untraced_per_op": 300, "opaque_per_call": 34.5, "http_untraced_per_op": 50000,
              "http_per_request": 9300, "redis_untraced_per_op": 4000, "redis_per_span": 2400,
              "pg_untraced_per_op": 6000, "pg_per_span": 8800, "httplog_untraced_per_op": 51000,
              "http_per_request_log_off": 9605, "http_per_request_log_span": 11731}
    r["e"] = [{"spans_per_second": 800000, "spans_per_datagram": 93}]
    r["i"] = {"rate": 100000, "seconds": 60, "spans_dropped": 0, "spans_sent": 6000000,
              "spans_received": 6000000, "spans_exported": 6000000, "dropped_by_reason": {},
              "datagrams": 60000, "collector_cpu_seconds": 12.0}
    return r


class Report(unittest.TestCase):
    def test_whole_run_has_the_log_capture_rows(self):
        d = tempfile.mkdtemp(prefix="spanshim-report.")
        report.write(results(), d)
        with open(os.path.join(d, "BENCHMARKS.md")) as f:
            md = f.read()
        self.assertTrue(os.path.getsize(os.path.join(d, "BENCHMARKS.png")) > 0)
        self.assertIn("| (k) log capture: nginx logging a line a request |", md)  # the targets
        self.assertIn("| (k) nginx logging a line a request, requests/s: `SPANSHIM_LOGS` off / span "
                      "| 40001 | 36001 | 0.900 | | |", md)
        self.assertIn("| (k) p99 latency, ms, off / span | 0.600 | 0.600 | 1.000 | | |", md)
        self.assertIn("| (k) nginx CPU per request, us, off / span (the record's) | 14.00 | 15.25 | "
                      "+1.25 | | |", md)
        self.assertIn("| (k) collector CPU per request, us, off / span (the record's, written to "
                      "/dev/null) | 1.00 | 2.50 | +1.50 | | |", md)
        self.assertIn("| (k) log records received / requests with capture on (warm-up included) | | "
                      "230010 / 230000 | | one each | yes |", md)
        self.assertIn("| (d) instructions per traced request whose server logs a line, SPANSHIM_LOGS "
                      "off / span (the line a record in its span) | 51000 (the program's own) | "
                      "+9605 / +11731 | | | |", md)
        self.assertIn("| (d) instructions per log record captured (span minus off) | | +2126 | | | |", md)
        self.assertIn("- (k) nginx logging a line a request, SPANSHIM_LOGS=span: requests/s "
                      "36000 / 36001 / 36002;", md)
        self.assertIn("- (k): `wrk -t1 -c10` as in (a) asking nginx", md)
        # In the results table, before the sections after it.
        self.assertLess(md.index("| (k) nginx logging"), md.index("## Every run"))

    def test_records_short_of_the_requests_are_not_met(self):
        r = results()
        r["k"]["records"] = 229000
        self.assertIn("229000 / 230000 | | one each | **no** |", "\n".join(report.logs_rows(r)))

    def test_partial_run_gives_its_rows(self):
        r = results()
        part = {k: r[k] for k in ("machine", "runs", "seconds", "k", "d", "a")}
        out = "\n".join(report.partial(part))
        self.assertIn("BENCHMARKS.md is not written", out)
        self.assertIn("| (k) nginx logging a line a request, requests/s", out)
        self.assertIn("| (d) instructions per log record captured (span minus off) | | +2126", out)
        self.assertIn("- a: in the saved JSON", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
