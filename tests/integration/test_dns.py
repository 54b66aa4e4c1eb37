"""Name lookups: a CLIENT span per lookup, where it belongs.

- A server whose handler resolves names: each lookup (getaddrinfo,
  gethostbyname_r, getnameinfo, one that fails) is a child of the request's
  SERVER span; a numeric address makes no lookup and no span.
- A client resolves "localhost" outside any request, then connects: the
  lookup is a child of the exchange it was made for, and the name is the
  exchange's server.address (HTTP without a Host header; a refused connect;
  redis-cli's commands).
- curl and a libcurl program resolve in a thread of their own: the lookup is
  a child of the transfer's span, a failed one of the failed transfer's.
- dnsprobe calls every hooked function: it sees the same results traced and
  untraced, gethostbyname_r's ERANGE retries are one lookup, and lookups
  nobody claimed leave at exit, once even when the process forked.

Offline names only: "localhost", the machine's own name (/etc/hosts), and
names under .invalid, which never resolve (RES_OPTIONS keeps a resolver
that does not answer from taking long)."""
import os
import socket
import subprocess
import time
import unittest
import urllib.request

import dbservers
from harness import BUILD, PY, CollectorTest, free_port, wait_port

DNSPROBES = [os.path.join(BUILD, "tests", n) for n in ("dnsprobe", "dnsprobe_fortify")]
CURLPROBE = os.path.join(BUILD, "tests", "curlprobe")
FAST = {"RES_OPTIONS": "timeout:1 attempts:1"}
FAILED = ("EAI_NONAME", "EAI_AGAIN", "EAI_NODATA")

SERVER = r"""
import http.server, os, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = [socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0],
               socket.gethostbyname_ex("localhost")[2][0]]
        try:
            socket.getaddrinfo("nosuch.invalid", 80)
        except socket.gaierror:
            out.append("failed")
        out.append(socket.getnameinfo(("127.0.0.1", 80), 0)[0])
        socket.getaddrinfo("127.0.0.1", 80)  # numeric: no lookup
        body = " ".join(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
"""

# Resolves, connects, asks without a Host header; then a refused connect.
CLIENT = r"""
import socket, sys
port, refused = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.connect(socket.getaddrinfo("localhost", port, socket.AF_INET, socket.SOCK_STREAM)[0][4])
s.sendall(b"GET /plain HTTP/1.0\r\n\r\n")
while s.recv(65536):
    pass
s.close()
addr = socket.getaddrinfo("localhost", refused, socket.AF_INET, socket.SOCK_STREAM)[0][4]
print(socket.socket().connect_ex(addr))
"""

FORK = r"""
import os, socket
socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
"""


def own_name():
    """The machine's name, which /etc/hosts gives an address."""
    name = socket.gethostname()
    socket.getaddrinfo(name, 80)  # raises if it does not resolve: the test cannot run
    return name


class Dns(CollectorTest):
    def dns_spans(self, service):
        return [s for s in self.col.spans()
                if s.service == service and "dns.question.name" in s.attrs]

    def assert_child(self, child, parent):
        self.assertEqual(child["traceId"], parent["traceId"])
        self.assertEqual(child.get("parentSpanId"), parent["spanId"])

    def start_web(self, bind="127.0.0.1"):
        port = free_port()
        p = subprocess.Popen([PY, "-m", "http.server", str(port), "--bind", bind],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=self.col.dir)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        wait_port(port)
        return port

    def test_lookups_while_serving_are_children_of_the_request(self):
        script = os.path.join(self.col.dir, "dns_server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        port_file = os.path.join(self.col.dir, "dns_server.port")
        self.col.start([PY, script, port_file], service="dns-server", **FAST)
        deadline = time.time() + 30
        while not os.path.exists(port_file) and time.time() < deadline:
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read())
        for _ in range(2):  # the second request's spans come after all of the first's
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=60) as r:
                self.assertEqual(r.read().decode(), "127.0.0.1 127.0.0.1 failed localhost")
        servers = self.col.wait_spans(2, timeout=30, pred=lambda s: s.service == "dns-server"
                                      and s["kind"] == 2)
        self.assertEqual(len(servers), 2)
        first = min(servers, key=lambda s: int(s["startTimeUnixNano"]))
        dns = [s for s in self.dns_spans("dns-server") if s["traceId"] == first["traceId"]]
        by_name = {s["name"]: s for s in dns}
        # Python's gethostbyname_ex calls getaddrinfo, then gethostbyname_r;
        # the numeric address makes no lookup.
        self.assertEqual(sorted(s["name"] for s in dns), [
            "getaddrinfo localhost", "getaddrinfo localhost", "getaddrinfo nosuch.invalid",
            "gethostbyname_r localhost", "getnameinfo"])
        for s in dns:
            self.assertEqual(s["kind"], 3)
            self.assert_child(s, first)
            self.assertGreaterEqual(int(s["startTimeUnixNano"]), int(first["startTimeUnixNano"]))
            self.assertLessEqual(int(s["endTimeUnixNano"]), int(first["endTimeUnixNano"]))
        ok = by_name["getaddrinfo localhost"].attrs
        self.assertEqual(ok["dns.question.name"], "localhost")
        self.assertEqual(ok["spanshim.dns.answer_count"], 1)
        self.assertEqual(ok["dns.answers"], {"arrayValue": {"values": [{"stringValue": "127.0.0.1"}]}})
        self.assertNotIn("error.type", ok)
        bad = by_name["getaddrinfo nosuch.invalid"]
        self.assertIn(bad.attrs["error.type"], FAILED)
        self.assertEqual(bad["status"]["code"], 2)
        rev = by_name["getnameinfo"].attrs
        self.assertEqual(rev["dns.question.name"], "127.0.0.1")
        self.assertEqual(rev["spanshim.dns.answer_count"], 1)

    def test_a_lookup_before_a_request_is_its_child_and_names_its_server(self):
        port, refused = self.start_web(), free_port()
        r = self.col.run([PY, "-c", CLIENT, str(port), str(refused)], service="dns-client")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.col.fence()
        spans = [s for s in self.col.spans() if s.service == "dns-client"]
        http = [s for s in spans if s["name"] == "GET"]
        connect = [s for s in spans if s["name"] == "connect"]
        dns = self.dns_spans("dns-client")
        self.assertEqual((len(http), len(connect), len(dns)), (1, 1, 2), spans)
        self.assertEqual(http[0].attrs["server.address"], "localhost")
        self.assertEqual(http[0].attrs["network.peer.address"], "127.0.0.1")
        self.assertEqual(connect[0].attrs["server.address"], "localhost")
        self.assertEqual(connect[0].attrs["error.type"], "ECONNREFUSED")
        parents = sorted(s["parentSpanId"] for s in dns)
        self.assertEqual(parents, sorted([http[0]["spanId"], connect[0]["spanId"]]))
        for s, parent in ((d, p) for d in dns for p in http + connect
                          if d["parentSpanId"] == p["spanId"]):
            self.assertEqual(s["name"], "getaddrinfo localhost")
            self.assertEqual(s["traceId"], parent["traceId"])
            # made just before the connection
            self.assertLessEqual(int(s["endTimeUnixNano"]), int(parent["endTimeUnixNano"]))

    def test_a_database_client_names_its_server(self):
        db = dbservers.Redis(self.col, traced=False).start()
        self.addCleanup(db.stop)
        argv = ["redis-cli", "-h", "localhost", "-p", str(db.port), "-a", db.password,
                "--no-auth-warning", "PING"]
        r = self.col.run(argv, service="dns-redis-cli")
        self.assertEqual(r.stdout, b"PONG\n", r.stderr)
        self.col.fence()
        spans = [s for s in self.col.spans() if s.service == "dns-redis-cli"]
        commands = [s for s in spans if s.attrs.get("db.system.name") == "redis"]
        self.assertEqual(sorted(s.attrs["db.operation.name"] for s in commands), ["AUTH", "PING"])
        for s in commands:
            self.assertEqual(s.attrs["server.address"], "localhost")
            self.assertEqual(s.attrs["network.peer.address"], "127.0.0.1")
        dns = self.dns_spans("dns-redis-cli")
        self.assertEqual([s["name"] for s in dns], ["getaddrinfo localhost"])
        # the first command, or a connect to another address localhost has (::1)
        self.assertIn(dns[0]["parentSpanId"], [s["spanId"] for s in spans])

    def curl_children(self, service):
        """{transfer span: [its DNS children]} of service's spans."""
        spans = [s for s in self.col.spans() if s.service == service]
        transfers = [s for s in spans if s["name"] == "GET"]
        dns = self.dns_spans(service)
        for s in dns:
            self.assertIn(s.get("parentSpanId"), [t["spanId"] for t in transfers], s)
        return [(t, [d for d in dns if d.get("parentSpanId") == t["spanId"]]) for t in transfers]

    def test_curl_resolving_in_its_thread_shows_in_the_transfer(self):
        name, port = own_name(), self.start_web("0.0.0.0")
        url = "http://%s:%d/" % (name, port)
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url],
                         service="dns-curl")
        self.assertEqual(r.stdout, b"200", r.stderr)
        r = self.col.run(["curl", "-sS", "-o", "/dev/null", "http://nosuch.invalid/"],
                         service="dns-curl-bad", **FAST)
        self.assertEqual(r.returncode, 6, r.stderr)  # CURLE_COULDNT_RESOLVE_HOST
        r = self.col.run([CURLPROBE, url], service="dns-curlprobe")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.col.fence()

        (transfer, dns), = self.curl_children("dns-curl")
        self.assertEqual(len(dns), 1)
        self.assertEqual(dns[0]["name"], "getaddrinfo " + name)
        self.assertGreaterEqual(dns[0].attrs["spanshim.dns.answer_count"], 1)
        self.assertGreaterEqual(int(dns[0]["startTimeUnixNano"]), int(transfer["startTimeUnixNano"]))

        (transfer, dns), = self.curl_children("dns-curl-bad")
        self.assertEqual(transfer.attrs["error.type"], "name_resolution")
        self.assertEqual(len(dns), 1)
        self.assertEqual(dns[0]["name"], "getaddrinfo nosuch.invalid")
        self.assertIn(dns[0].attrs["error.type"], FAILED)

        probe = self.curl_children("dns-curlprobe")
        self.assertEqual(len(probe), 2)  # the easy transfer, then the multi one
        self.assertEqual(len(probe[0][1]) + len(probe[1][1]), 2, probe)

    def test_every_call_same_results_one_span_each(self):
        for probe in DNSPROBES:  # plain, and with -D_FORTIFY_SOURCE=2 -O2
            with self.subTest(probe=os.path.basename(probe)):
                self.check_probe(probe, "dns-" + os.path.basename(probe))

    def check_probe(self, probe, service):
        argv = [probe, "localhost", "nosuch.invalid"]
        plain = subprocess.run(argv, capture_output=True, env=dict(os.environ, **FAST), timeout=60)
        r = self.col.run(argv, service=service, **FAST)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, plain.stdout)
        self.assertIn(b"gethostbyname_r(localhost): 0 retried=1", r.stdout)
        self.col.fence()
        dns = self.dns_spans(service)
        self.assertEqual(sorted(s["name"] for s in dns), [
            "getaddrinfo localhost", "getaddrinfo nosuch.invalid", "gethostbyname localhost",
            "gethostbyname nosuch.invalid", "gethostbyname2 localhost",
            "gethostbyname2_r nosuch.invalid", "gethostbyname_r localhost", "getnameinfo"])
        for s in dns:  # made outside any request, claimed by none: alone, at exit
            self.assertNotIn("parentSpanId", s)
            failed = "nosuch" in s["name"]
            self.assertEqual("error.type" in s.attrs, failed, s)
        by = {s["name"]: s.attrs for s in dns}
        self.assertIn(by["gethostbyname nosuch.invalid"]["error.type"],
                      ("HOST_NOT_FOUND", "TRY_AGAIN", "NO_DATA"))
        self.assertEqual(by["gethostbyname_r localhost"]["spanshim.dns.answer_count"], 1)

    def test_a_waiting_lookup_leaves_once_across_fork(self):
        r = self.col.run([PY, "-c", FORK], service="dns-fork")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.col.fence()
        dns = self.dns_spans("dns-fork")
        self.assertEqual([s["name"] for s in dns], ["getaddrinfo localhost"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
