"""nginx, unmodified, under the shim: a master and two workers (epoll,
writev, sendfile) serving a static file and proxying to a Python backend
over keep-alive upstream connections, with 8 concurrent client connections.
Every request must give exactly one connected trace:
loadgen CLIENT -> nginx SERVER [-> nginx CLIENT -> backend SERVER],
with no orphan and no wrong parent, and every body must arrive intact."""
import collections
import json
import os
import unittest

from harness import APPS, NGINX, PY, CollectorTest, start_app, start_nginx

THREADS, PER_THREAD = 8, 300  # 2,400 requests: 2,000 proxied, 400 static


@unittest.skipUnless(os.path.exists(NGINX), "nginx is not installed")
class Nginx(CollectorTest):
    def start_nginx(self):
        d = self.col.dir
        os.makedirs(os.path.join(d, "www"))
        self.page = os.path.join(d, "www", "page.html")
        with open(self.page, "wb") as f:
            f.write(b"<html>" + b"spanshim " * 4000 + b"</html>\n")  # ~36 KB: sendfile
        record = os.path.join(d, "backend.record")
        _, bport = start_app(self.col, "backend.py", [record], "backend")
        self.nginx, self.port = start_nginx(
            self.col,
            http="upstream backend { server 127.0.0.1:%d; keepalive 16; }" % bport,
            server="location /static/ { alias %s/www/; }\n"
                   "location /api/ { proxy_pass http://backend/; proxy_http_version 1.1;"
                   " proxy_set_header Connection \"\"; }" % d)

    def test_proxy_and_static_under_load(self):
        self.start_nginx()
        paths = ["/api/inventory?item=%d" % i for i in range(5)] + ["/static/page.html@" + self.page]
        r = self.col.run([PY, os.path.join(APPS, "loadgen.py"), "127.0.0.1", str(self.port),
                          str(THREADS), str(PER_THREAD), *paths], service="loadgen")
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        total = THREADS * PER_THREAD
        self.assertEqual(res, {"ok": total, "failed": 0})
        proxied = sum(1 for k in range(THREADS) for i in range(PER_THREAD) if (k + i) % 6 != 5)
        static = total - proxied
        want = total * 2 + proxied * 2
        spans = self.col.wait_spans(want, timeout=60)
        self.assertEqual(len(spans), want)

        by_id = {s["spanId"]: s for s in spans}
        traces = collections.defaultdict(list)
        for s in spans:
            traces[s["traceId"]].append(s)
            if "parentSpanId" in s:
                self.assertIn(s["parentSpanId"], by_id, "orphan span %s" % s)
                self.assertEqual(by_id[s["parentSpanId"]]["traceId"], s["traceId"])
        self.assertEqual(len(traces), total, "one trace per request")

        shapes = collections.Counter()
        for tid, ts in traces.items():
            root = [s for s in ts if "parentSpanId" not in s]
            self.assertEqual(len(root), 1)
            chain = [root[0]]
            while True:
                kids = [s for s in ts if s.get("parentSpanId") == chain[-1]["spanId"]]
                self.assertLessEqual(len(kids), 1)
                if not kids:
                    break
                chain.append(kids[0])
            self.assertEqual(len(chain), len(ts))
            shape = tuple((s.service, s["kind"]) for s in chain)
            shapes[shape] += 1
            # Each hop saw the very request the client sent (unique query).
            q = chain[0].attrs["url.full"].split("?", 1)[1]
            for s in chain[1:]:
                if s["kind"] == 2:
                    self.assertEqual(s.attrs["url.query"], q)
        self.assertEqual(shapes, {
            (("loadgen", 3), ("nginx", 2), ("nginx", 3), ("backend", 2)): proxied,
            (("loadgen", 3), ("nginx", 2)): static,
        })
        # nginx spans come from its worker processes, not the master.
        master = self.nginx.pid
        pids = {s.res["process.pid"] for s in spans if s.service == "nginx"}
        self.assertNotIn(master, pids)
        for s in spans:
            if s.service == "nginx" and s["kind"] == 2:
                self.assertEqual(s.attrs["http.response.status_code"], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
