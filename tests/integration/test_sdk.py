"""Services on the OpenTelemetry JavaScript SDK (npm, pinned in sdk/) in one
chain with services under the shim, both sending to one spanshim-collector:
curl -> nginx -> a Node.js service on the SDK -> a Python http.server, the
first two and the last under the shim, the Node service exporting with
@opentelemetry/exporter-trace-otlp-proto to --otlp-listen, and a second one
with @opentelemetry/exporter-trace-otlp-http (JSON). Each request is one
trace of seven spans with the right parent for each, and the service graph
on /metrics has every edge: the client to nginx, nginx to each SDK service,
each SDK service to the backend."""
import os
import subprocess
import time
import unittest

from harness import Collector, free_port, start_app, start_nginx, wait_port
from test_metrics import parse, scrape

SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk")
NODE = "node"


def start_sdk_service(col, name, encoding, backend, otlp):
    port_file = os.path.join(col.dir, name + ".port")
    env = dict(os.environ, OTEL_SERVICE_NAME=name)
    env.pop("LD_PRELOAD", None)  # the SDK traces it, not the shim
    p = subprocess.Popen([NODE, os.path.join(SDK_DIR, "service.js"), port_file, str(backend),
                          encoding, "http://127.0.0.1:%d/v1/traces" % otlp],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    col.procs.append(p)
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if time.time() > deadline or p.poll() is not None:
            raise RuntimeError("%s did not start: %s" % (name, p.stderr.read().decode()))
        time.sleep(0.05)
    with open(port_file) as f:
        return int(f.read())


class SdkChain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(SDK_DIR, "node_modules", "@opentelemetry", "sdk-node")):
            raise RuntimeError("the SDK's npm packages are missing: run scripts/setup")
        otlp, cls.metrics = free_port(), free_port()
        cls.col = Collector(extra=["--otlp-listen", "127.0.0.1:%d" % otlp,
                                   "--metrics-listen", "127.0.0.1:%d" % cls.metrics])
        wait_port(otlp, cls.col.proc)
        _, backend = start_app(cls.col, "backend.py", [os.path.join(cls.col.dir, "b.record")],
                               "backend")
        proto = start_sdk_service(cls.col, "sdk-proto", "proto", backend, otlp)
        json_ = start_sdk_service(cls.col, "sdk-json", "json", backend, otlp)
        _, cls.nginx = start_nginx(cls.col, server=(
            "location /proto { proxy_pass http://127.0.0.1:%d; proxy_http_version 1.1; }\n"
            "location /json { proxy_pass http://127.0.0.1:%d; proxy_http_version 1.1; }"
            % (proto, json_)))

    @classmethod
    def tearDownClass(cls):
        cls.col.stop()

    def chain(self, path, sdk):
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                          "http://127.0.0.1:%d%s" % (self.nginx, path)], service="client")
        self.assertEqual(r.stdout, b"200", r.stderr)
        # the SDK's server span, then every span of its trace
        srv = self.col.wait_spans(1, timeout=30, pred=lambda s: s.service == sdk and
                                  s["kind"] == 2)
        self.assertEqual(len(srv), 1, "one SERVER span from %s" % sdk)
        tid = srv[0]["traceId"]
        self.col.wait_spans(6, timeout=30, pred=lambda s: s["traceId"] == tid)
        self.col.fence()  # whatever the shim's processes still had to send is in too
        spans = [s for s in self.col.spans() if s["traceId"] == tid]
        self.assertEqual(sorted((s.service, s["kind"]) for s in spans), sorted([
            ("client", 3), ("nginx", 2), ("nginx", 3), (sdk, 2), (sdk, 3), ("backend", 2)]),
            [(s.service, s["kind"], s["name"]) for s in spans])
        return {(s.service, s["kind"]): s for s in spans}

    def check_parents(self, by, sdk):
        self.assertNotIn("parentSpanId", by[("client", 3)])
        for child, parent in ((("nginx", 2), ("client", 3)), (("nginx", 3), ("nginx", 2)),
                              ((sdk, 2), ("nginx", 3)), ((sdk, 3), (sdk, 2)),
                              (("backend", 2), (sdk, 3))):
            self.assertEqual(by[child]["parentSpanId"], by[parent]["spanId"], (child, parent))
        self.assertEqual(by[("backend", 2)].attrs.get("url.query"), "via=node")

    def test_proto_exporter(self):
        self.check_parents(self.chain("/proto", "sdk-proto"), "sdk-proto")

    def test_json_exporter(self):
        self.check_parents(self.chain("/json", "sdk-json"), "sdk-json")

    def test_zz_service_graph_every_edge(self):
        """After both chains (the tests above run first): every edge, once
        each trace's client and server spans are paired."""
        want = {"client -> nginx": 2, "nginx -> sdk-proto": 1, "nginx -> sdk-json": 1,
                "sdk-proto -> backend": 1, "sdk-json -> backend": 1}
        deadline = time.time() + 30
        while True:
            code, text = scrape(self.metrics)
            self.assertEqual(code, 200)
            m = parse(text)
            edges = {dict(k[1])["client"] + " -> " + dict(k[1])["server"]: v
                     for k, v in m.items() if k[0] == "traces_service_graph_request_total"}
            if edges == want or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(edges, want, text)
        for enc in ("protobuf", "json"):
            self.assertGreaterEqual(m[("spanshim_collector_otlp_http_requests_total",
                                       frozenset({("encoding", enc)}))], 1)


if __name__ == "__main__":
    unittest.main()
