"""Libraries opened with RTLD_DEEPBIND bind to libc, libssl and libcurl before
the preloaded shim: PHP loads its extensions that way, so curl_exec went out
untraced. Such a library is traced like one linked at start (a CLIENT span,
and the traceparent the backend reads names it), and keeps its own symbols.
Both the real program (php-cli with php-curl) and a C probe that opens a
library RTLD_DEEPBIND with RTLD_NOW and with RTLD_LAZY."""
import base64
import json
import os
import subprocess
import unittest

from harness import BUILD, CollectorTest, read_lines, start_app

PHP = "/usr/bin/php"
# The probe built plain and with -D_FORTIFY_SOURCE=2 -O2: every test runs both.
PROBES = [os.path.join(BUILD, "tests", p) for p in ("deepprobe", "deepprobe_fortify")]


def service_of(mode, probe):
    return "deep-%s-%s" % (mode, os.path.basename(probe))

# One GET through php-curl; prints the status, the body's length and the
# protections of curl.so's mappings (its RELRO pages read-only again).
PHP_GET = """<?php
$c = curl_init($argv[1]);
curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
$body = curl_exec($c);
echo curl_getinfo($c, CURLINFO_RESPONSE_CODE), " ", strlen($body), "\\n";
foreach (file("/proc/self/maps") as $line)
    if (strpos($line, "/curl.so") !== false)
        echo explode(" ", $line)[1], " ";
"""


def heads(record):
    """The request heads a backend recorded, as bytes."""
    return [base64.b64decode(json.loads(line)["raw"]) for line in read_lines(record)]


def traceparent(head):
    """The traceparent header of a request head, as its fields."""
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"traceparent":
            return value.strip().decode().split("-")
    return None


class DeepBind(CollectorTest):

    def backend(self, name):
        record = os.path.join(self.col.dir, name + ".record")
        _, port = start_app(self.col, "backend.py", [record], traced=False)
        return record, port

    def assert_traced(self, service, record):
        """One CLIENT span of service, and the backend's one request names it
        as its parent in the same trace."""
        cli = self.col.wait_spans(1, pred=lambda s: s.service == service and s["kind"] == 3)
        self.assertEqual(len(cli), 1, [s.service for s in self.col.spans()])
        reqs = heads(record)
        self.assertEqual(len(reqs), 1)
        tp = traceparent(reqs[0])
        self.assertIsNotNone(tp, "the backend got no traceparent")
        self.assertEqual(tp[1], cli[0]["traceId"])
        self.assertEqual(tp[2], cli[0]["spanId"])
        return cli[0]

    def test_php_curl_exec(self):
        mods = subprocess.run([PHP, "-m"], capture_output=True, text=True, check=True).stdout
        self.assertIn("curl", mods.split(), "php-curl is not installed (scripts/setup)")
        script = os.path.join(self.col.dir, "get.php")
        with open(script, "w") as f:
            f.write(PHP_GET)
        plain_record, port = self.backend("php-plain")
        url = "http://127.0.0.1:%d/inventory?from=php" % port
        plain = subprocess.run([PHP, script, url], capture_output=True, timeout=60)
        record, port = self.backend("php")
        url = "http://127.0.0.1:%d/inventory?from=php" % port
        r = self.col.run([PHP, script, url], service="php-curl", SPANSHIM_LOG="debug")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, plain.stdout)
        self.assertTrue(r.stdout.startswith(b"200 "), r.stdout)
        self.assertIn(b"r--p", r.stdout)
        # The extension really came in RTLD_DEEPBIND and was led through.
        self.assertRegex(r.stderr.decode(), r"RTLD_DEEPBIND \S*/curl\.so: [1-9]")
        span = self.assert_traced("php-curl", record)
        self.assertEqual(span.attrs.get("url.full"), url)
        self.assertEqual(span.attrs.get("http.response.status_code"), 200)
        self.assertIsNone(traceparent(heads(plain_record)[0]))

    def probe(self, mode, traced, probe):
        record, port = self.backend("probe-%s-%s-%s" % (mode, traced, os.path.basename(probe)))
        argv = [probe, mode, str(port)]
        if traced:
            r = self.col.run(argv, service=service_of(mode, probe))
        else:
            r = subprocess.run(argv, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return dict(kv.split("=") for kv in r.stdout.decode().split()), record

    def check_deepbind(self, mode):
        for probe in PROBES:
            plain, _ = self.probe(mode, False, probe)
            got, record = self.probe(mode, True, probe)
            # The library's own symbol preference is what RTLD_DEEPBIND gives
            # it: its deep_who over the program's, its dup over libc's (and
            # the shim's).
            self.assertEqual(plain, {"who": "library", "dup": "-42", "status": "200"}, probe)
            self.assertEqual(got, plain, probe)
            span = self.assert_traced(service_of(mode, probe), record)
            self.assertEqual(span.attrs.get("url.full"), "http://deep/deep")

    def test_deepbind_now(self):
        self.check_deepbind("now")

    def test_deepbind_lazy(self):
        self.check_deepbind("lazy")

    def test_bare_name_through_the_callers_runpath(self):
        # Without RTLD_DEEPBIND the real dlopen still sees the program as
        # its caller: a bare name is found through the program's RUNPATH.
        for probe in PROBES:
            plain, _ = self.probe("bare", False, probe)
            got, record = self.probe("bare", True, probe)
            self.assertEqual(plain["who"], "program", probe)
            self.assertEqual((got["who"], got["status"]), ("program", "200"), probe)
            self.assert_traced(service_of("bare", probe), record)


if __name__ == "__main__":
    unittest.main(verbosity=2)
