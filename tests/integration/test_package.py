"""The Debian package, where it cannot hurt this machine: built with CPack,
checked by lintian, and installed into a Debian 12 root made by
debootstrap, entered in mount and pid namespaces of its own.

Each test runs on a fresh overlay of that root (the root itself is made
once per build directory and never changed), so what one installs or
enables no other sees, and nothing here touches the host's /etc: system-
wide mode is only ever switched on inside the root.

- system-wide mode, the systemd-less way: the package's init script starts
  the host collector; nginx (root master, www-data workers) and a Python
  service that /etc/spanshim/preload.conf selects are traced through
  /etc/ld.so.preload; curl, which it does not select, is not;
- a broken preload.conf traces nothing and stops nothing; enable-system
  refuses it;
- removing, upgrading and reinstalling never leave /etc/ld.so.preload
  naming a missing library;
- the unit file passes `systemd-analyze verify`;
- INSTALL.md's Dockerfile, done in the root as a container runtime would:
  its ENTRYPOINT (`spanshim run --`) as PID 1 in new pid and mount
  namespaces, a signal passed on, the exit status returned, and the spans
  reaching a collector outside through a mounted socket."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BUILD, Collector, free_port, read_log_records, read_spans

SUITE = "bookworm"
PACKAGES = ("nginx,python3,curl,procps,adduser,libcurl4,libjson-c5,libmicrohttpd12,"
            "libprotobuf-c1,zlib1g,libunwind8,logrotate,systemd")
ROOT = os.path.join(BUILD, "debootstrap-" + SUITE)
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")


def mirror():
    """The Debian mirror this host's apt uses (SPANSHIM_DEBIAN_MIRROR first)."""
    if os.environ.get("SPANSHIM_DEBIAN_MIRROR"):
        return os.environ["SPANSHIM_DEBIAN_MIRROR"]
    for path in glob.glob("/etc/apt/sources.list.d/*.sources") + ["/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def debian_root():
    """A minimal Debian 12 with the programs the tests run, made once."""
    if os.path.exists(os.path.join(ROOT, ".spanshim-complete")):
        return ROOT
    tmp = ROOT + ".part"
    shutil.rmtree(tmp, ignore_errors=True)
    r = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + PACKAGES, SUITE, tmp,
                        mirror()], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError("debootstrap failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
    open(os.path.join(tmp, ".spanshim-complete"), "w").close()
    shutil.rmtree(ROOT, ignore_errors=True)
    os.rename(tmp, ROOT)
    return ROOT


def package():
    """The .deb, built from this build directory (as the README says)."""
    r = subprocess.run(["cmake", "--build", BUILD, "--target", "package"], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("cmake --target package failed:\n" + r.stdout[-3000:] + r.stderr)
    debs = sorted(glob.glob(os.path.join(BUILD, "spanshim_*.deb")), key=os.path.getmtime)
    return debs[-1]


class Root:
    """A fresh overlay over the Debian root; run() enters it (new mount and
    pid namespaces, /proc of its own, chroot). What the root's programs
    changed is in self.upper, readable from here; files are put in before it
    is entered (write), and while it runs only through /ctl, a directory of
    this side's (self.ctl) mounted there."""

    def __init__(self, deb):
        self.dir = tempfile.mkdtemp(prefix="spanshim-root.")
        self.upper = os.path.join(self.dir, "upper")
        self.work = os.path.join(self.dir, "work")
        self.merged = os.path.join(self.dir, "merged")
        for d in (self.upper, self.work, self.merged):
            os.mkdir(d)
        os.makedirs(os.path.join(self.upper, "tmp"))
        os.chmod(os.path.join(self.upper, "tmp"), 0o1777)
        shutil.copy(deb, os.path.join(self.upper, "tmp", "spanshim.deb"))
        self.ctl = os.path.join(self.dir, "ctl")
        os.mkdir(self.ctl)
        os.chmod(self.ctl, 0o777)
        self.binds = [(self.ctl, "/ctl")]

    def file(self, path):
        """A file of the root as it is now (the overlay's upper layer first)."""
        p = os.path.join(self.upper, path.lstrip("/"))
        return p if os.path.lexists(p) else os.path.join(ROOT, path.lstrip("/"))

    def write(self, path, text, mode=0o644):
        p = os.path.join(self.upper, path.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    def argv(self, inner):
        """The command that enters the root and runs inner (an argv) as PID 1."""
        mounts = "mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s" % (
            ROOT, self.upper, self.work, self.merged)
        for src, dst in self.binds:
            mounts += " && mkdir -p %s%s && mount --bind %s %s%s" % (self.merged, dst, src,
                                                                 self.merged, dst)
        return ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
                mounts + ' && exec unshare --pid --fork --mount-proc="$0"/proc chroot "$0" "$@"',
                self.merged, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                *inner]

    def run(self, script, timeout=120):
        return subprocess.run(self.argv(["/bin/sh", "-ec", script]), capture_output=True,
                              text=True, timeout=timeout)

    def start(self, script):
        return subprocess.Popen(self.argv(["/bin/sh", "-ec", script]), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def spans(self):
        return read_spans(self.file("/var/log/spanshim/spans.jsonl"))

    def wait_spans(self, pred, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [s for s in self.spans() if pred(s)]
            if got:
                return got
            time.sleep(0.1)
        return []

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def log_records(path):
    """(service.name, record) of every log record of a --logs-jsonl file."""
    return [(svc, r) for svc, _, r in read_log_records(path)]


def check(r, what):
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (what, r.returncode, r.stdout, r.stderr))
    return r


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deb = package()
        debian_root()

    def setUp(self):
        self.root = Root(self.deb)

    def tearDown(self):
        self.root.close()

    def install(self):
        check(self.root.run("dpkg -i /tmp/spanshim.deb"), "dpkg -i")

    def test_lintian_passes(self):
        r = subprocess.run(["lintian", "--fail-on", "error,warning", "--tag-display-limit", "0",
                            self.deb], capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_files_in_place(self):
        self.install()
        r = check(self.root.run(
            "dpkg -L spanshim; getent group spanshim; ls -l /usr/lib/*/libspanshim.so; "
            "man -w spanshim 2>/dev/null || ls /usr/share/man/man1/spanshim.1.gz"), "dpkg -L")
        for path in ("/usr/bin/spanshim", "/usr/bin/spanshim-collector",
                     "/usr/lib/x86_64-linux-gnu/libspanshim.so", "/etc/spanshim/collector.conf",
                     "/etc/spanshim/preload.conf", "/etc/logrotate.d/spanshim",
                     "/lib/systemd/system/spanshim-collector.service",
                     "/usr/share/man/man1/spanshim-collector.1.gz"):
            self.assertIn(path + "\n", r.stdout)
        self.assertIn("spanshim:x:", r.stdout)
        # installing switched nothing on
        self.assertFalse(os.path.exists(self.root.file("/etc/ld.so.preload")))

    def test_unit_file_verifies(self):
        self.install()
        unit = "/lib/systemd/system/spanshim-collector.service"
        r = subprocess.run(["unshare", "--mount", "sh", "-ec",
                            "mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s && "
                            "systemd-analyze verify --man=no --root=%s %s" % (
                                ROOT, self.root.upper, self.root.work, self.root.merged,
                                self.root.merged, unit)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("spanshim-collector.service:", r.stderr)

    def test_logrotate_moves_the_files_and_the_collector_reopens_them(self):
        # The packaged collector.conf writes spans.jsonl and logs.jsonl; both
        # are rotated, and after the SIGHUP both are written anew.
        self.install()
        fence = ("import socket, os; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
                 "p = s.getsockname()[1]; s.close(); socket.socket().connect_ex(('127.0.0.1', p));"
                 " os.write(2, b'a line to stderr\\\\n')")
        r = self.root.run(
            "/etc/init.d/spanshim-collector start\n"
            "wait_lines() { for i in $(seq 200); do [ \"$(cat \"$1\" 2>/dev/null | wc -l)\" -ge 1 ]"
            " && return; sleep 0.1; done; return 1; }\n"
            "OTEL_SERVICE_NAME=before spanshim run --logs all -- python3 -c \"%s\"\n"
            "wait_lines /var/log/spanshim/spans.jsonl\n"
            "wait_lines /var/log/spanshim/logs.jsonl\n"
            "logrotate -f /etc/logrotate.d/spanshim\n"
            "test -e /var/log/spanshim/spans.jsonl.1\n"
            "test -e /var/log/spanshim/logs.jsonl.1\n"
            # SIGHUP is taken between datagrams: the files are back once it was
            "for i in $(seq 200); do [ -e /var/log/spanshim/spans.jsonl ] &&"
            " [ -e /var/log/spanshim/logs.jsonl ] && break; sleep 0.1; done\n"
            "OTEL_SERVICE_NAME=after spanshim run --logs all -- python3 -c \"%s\"\n"
            "wait_lines /var/log/spanshim/spans.jsonl\n"
            "wait_lines /var/log/spanshim/logs.jsonl\n" % (fence, fence))
        check(r, "logrotate")
        old = read_spans(self.root.file("/var/log/spanshim/spans.jsonl.1"))
        new = self.root.spans()
        self.assertEqual({s.service for s in old}, {"before"})
        self.assertEqual({s.service for s in new}, {"after"})
        for name, service in (("logs.jsonl.1", "before"), ("logs.jsonl", "after")):
            recs = log_records(self.root.file("/var/log/spanshim/" + name))
            self.assertEqual([(svc, r["body"]["stringValue"]) for svc, r in recs],
                             [(service, "a line to stderr")], name)

    def test_collector_conf_gives_the_options(self):
        self.install()
        self.root.write("/etc/spanshim/collector.conf",
                        'OPTIONS="--jsonl /var/log/spanshim/elsewhere.jsonl --print"\n')
        fence = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
                 "p = s.getsockname()[1]; s.close(); socket.socket().connect_ex(('127.0.0.1', p))")
        check(self.root.run(
            "/etc/init.d/spanshim-collector start\n"
            "OTEL_SERVICE_NAME=conf spanshim run -- python3 -c \"%s\"\n"
            "for i in $(seq 200); do [ -s /var/log/spanshim/elsewhere.jsonl ] && exit 0;"
            " sleep 0.1; done; exit 1\n" % fence), "collector.conf")
        got = read_spans(self.root.file("/var/log/spanshim/elsewhere.jsonl"))
        self.assertEqual({s.service for s in got}, {"conf"})
        self.assertFalse(os.path.exists(self.root.file("/var/log/spanshim/spans.jsonl")))

    def system_mode(self, conf):
        """Install, select with conf, enable; the www-data workers in the group."""
        self.install()
        self.root.write("/etc/spanshim/preload.conf", conf)
        check(self.root.run("adduser --quiet www-data spanshim && spanshim enable-system"),
              "enable-system")
        with open(self.root.file("/etc/ld.so.preload")) as f:
            self.assertEqual(f.read(), "/usr/lib/x86_64-linux-gnu/libspanshim.so\n")

    def test_system_wide_mode_traces_what_preload_conf_selects(self):
        self.system_mode("allow exe /usr/sbin/nginx\nallow service shop\ndeny exe *\n")
        front, back = free_port(), free_port()
        self.root.write("/etc/nginx/sites-enabled/default",
                        "server { listen 127.0.0.1:%d; location / { proxy_pass "
                        "http://127.0.0.1:%d; } }\n" % (front, back))
        self.root.write("/srv/index.txt", "hello\n")
        done = os.path.join(self.root.ctl, "done")
        p = self.root.start(
            "/etc/init.d/spanshim-collector start\n"
            "nginx\n"
            "OTEL_SERVICE_NAME=shop python3 -m http.server %d --bind 127.0.0.1 --directory /srv"
            " >/dev/null 2>&1 &\n"
            "for i in $(seq 100); do curl -sf http://127.0.0.1:%d/index.txt >/ctl/curl.out && break;"
            " sleep 0.1; done\n"
            # a selected client after curl has exited: its span proves export
            "OTEL_SERVICE_NAME=shop python3 -c 'import urllib.request as u; "
            "u.urlopen(\"http://127.0.0.1:%d/index.txt\").read()'\n"
            "while [ ! -e /ctl/done ]; do sleep 0.1; done\n" % (back, front, front))
        try:
            client = self.root.wait_spans(lambda s: s.service == "shop" and s["kind"] == 3)
            self.assertTrue(client, "the selected client's span never came")
            servers = self.root.wait_spans(lambda s: s.service == "shop" and s["kind"] == 2 and
                                           s["traceId"] == client[0]["traceId"])
            self.assertTrue(servers)
        finally:
            open(done, "w").close()
            out, err = p.communicate(timeout=60)
        spans = self.root.spans()
        nginx = [s for s in spans if "nginx" in (s.service or "")]
        self.assertTrue(any(s["kind"] == 2 for s in nginx), spans)   # SERVER, in a worker
        self.assertTrue(any(s["kind"] == 3 for s in nginx), spans)   # CLIENT to the service
        with open(os.path.join(self.root.ctl, "curl.out")) as f:
            self.assertEqual(f.read(), "hello\n")                   # the bytes unchanged
        # curl's request is in the trace through nginx, but curl made no span
        self.assertFalse([s for s in spans if "curl" in (s.service or "")], spans)
        # nginx's SERVER span for curl's request has no parent from curl
        curl_trace = [s for s in nginx if s["kind"] == 2 and not s.get("parentSpanId")]
        self.assertTrue(curl_trace, nginx)

    def test_broken_preload_conf_traces_nothing_and_stops_nothing(self):
        self.system_mode("allow service shop\n")
        self.root.write("/etc/spanshim/preload.conf", "allow service shop\ntrace everything\n")
        done = os.path.join(self.root.ctl, "done")
        fence = ("import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
                 "p = s.getsockname()[1]; s.close(); socket.socket().connect_ex(('127.0.0.1', p));"
                 " print('ran')")
        p = self.root.start(
            "/etc/init.d/spanshim-collector start\n"
            "spanshim check-config && exit 10\n"
            "spanshim enable-system 2>/ctl/refused && exit 11\n"
            "OTEL_SERVICE_NAME=shop OTEL_RESOURCE_ATTRIBUTES=when=broken python3 -c \"%s\" "
            ">/ctl/broken.out\n"
            "printf 'allow service shop\\n' >/etc/spanshim/preload.conf\n"
            "OTEL_SERVICE_NAME=shop OTEL_RESOURCE_ATTRIBUTES=when=fixed python3 -c \"%s\" "
            ">/dev/null\n"
            "while [ ! -e /ctl/done ]; do sleep 0.1; done\n" % (fence, fence))
        try:
            fixed = self.root.wait_spans(lambda s: s.res.get("when") == "fixed")
        finally:
            open(done, "w").close()
            out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, out + err)
        self.assertTrue(fixed, "no span once the file was fixed: is export working?")
        self.assertFalse([s for s in self.root.spans() if s.res.get("when") == "broken"])
        with open(os.path.join(self.root.ctl, "broken.out")) as f:
            self.assertEqual(f.read(), "ran\n")   # the program ran as ever
        with open(os.path.join(self.root.ctl, "refused")) as f:
            self.assertIn("line 2", f.read())
        # still enabled as it was: the refusal changed nothing
        with open(self.root.file("/etc/ld.so.preload")) as f:
            self.assertIn("libspanshim.so", f.read())

    def assert_preload_sound(self):
        """No /etc/ld.so.preload line names a library that is not there, and
        a program starts with nothing from the loader on stderr."""
        r = check(self.root.run("cat /etc/ld.so.preload 2>/dev/null || true; echo ---; "
                                "/bin/true 2>&1; for f in $(cat /etc/ld.so.preload 2>/dev/null); "
                                "do test -f \"$f\" || echo \"missing $f\"; done"), "check")
        self.assertNotIn("missing", r.stdout)
        self.assertNotIn("ld.so", r.stdout + r.stderr)
        return r.stdout.split("---")[0]

    def test_remove_upgrade_and_reinstall_keep_the_preload_sound(self):
        self.system_mode("allow exe /usr/sbin/nginx\n")
        check(self.root.run("dpkg -i /tmp/spanshim.deb"), "upgrade (same version again)")
        self.assertIn("libspanshim.so", self.assert_preload_sound())   # still on
        check(self.root.run("dpkg -r spanshim"), "dpkg -r")
        self.assertNotIn("libspanshim.so", self.assert_preload_sound())
        self.assertFalse(glob.glob(os.path.join(self.root.upper, "usr/lib/*/libspanshim.so")))
        # another program's entry is kept through enable and disable
        check(self.root.run("dpkg -i /tmp/spanshim.deb"), "reinstall")
        self.root.write("/etc/ld.so.preload", "/usr/lib/x86_64-linux-gnu/libc.so.6\n")
        check(self.root.run("spanshim enable-system && spanshim disable-system"), "on, off")
        self.assertEqual(self.assert_preload_sound(), "/usr/lib/x86_64-linux-gnu/libc.so.6\n")
        check(self.root.run("spanshim enable-system && dpkg --purge spanshim"), "purge")
        self.assertEqual(self.assert_preload_sound(), "/usr/lib/x86_64-linux-gnu/libc.so.6\n")
        self.assertFalse(os.path.exists(self.root.file("/var/log/spanshim")))


def install_md_dockerfile():
    """The Dockerfile in INSTALL.md's container section."""
    with open(os.path.join(SOURCE, "INSTALL.md")) as f:
        text = f.read()
    m = re.search(r"```dockerfile\n(.*?)```", text, re.S)
    assert m, "INSTALL.md has no ```dockerfile block"
    return m.group(1).replace("\\\n", " ")


class Container(unittest.TestCase):
    """INSTALL.md's Dockerfile, done in the root as a container runtime would:
    its COPY and RUN are the package's installation (dpkg here, apt-get in an
    image build), then ENV, ENTRYPOINT and CMD make PID 1 of new pid and
    mount namespaces, the collector's socket mounted from outside."""

    def test_entrypoint_as_pid1(self):
        docker = install_md_dockerfile()
        self.assertRegex(docker, r"COPY\s+spanshim_\S*\.deb")
        self.assertRegex(docker, r"RUN\s.*apt-get install.*spanshim_\S*\.deb")
        entry = json.loads(re.search(r"^ENTRYPOINT\s+(\[.*\])", docker, re.M).group(1))
        self.assertEqual(entry, ["spanshim", "run", "--"])
        env = dict(re.findall(r"^ENV\s+(\w+)=(\S+)", docker, re.M))
        # the host's socket, where the shim looks by default
        sock = env.get("SPANSHIM_SOCKET", "/run/spanshim/spanshim.sock")
        root = Root(package())
        debian_root()
        col2 = None
        outside = tempfile.mkdtemp(prefix="spanshim-mount.")
        os.chmod(outside, 0o755)
        try:
            # the collector outside, on a socket in a directory the container mounts
            col2 = Collector(sock=os.path.join(outside, os.path.basename(sock)))
            root.binds.append((outside, os.path.dirname(sock)))
            check(root.run("dpkg -i /tmp/spanshim.deb"), "dpkg -i")
            port = free_port()
            cmd = json.loads(re.search(r"^CMD\s+(\[.*\])", docker, re.M).group(1))
            self.assertIn("8080", cmd)
            cmd[cmd.index("8080")] = str(port)   # the host's network is shared here
            argv = root.argv(["%s=%s" % kv for kv in env.items()] + entry + cmd)
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # PID 1's pid out here: the child of the innermost unshare
            pid1 = None
            deadline = time.time() + 30
            while pid1 is None and time.time() < deadline:
                r = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/" % port],
                                   capture_output=True)
                if r.returncode == 0:
                    for cand in os.listdir("/proc"):
                        if not cand.isdigit():
                            continue
                        try:
                            with open("/proc/%s/status" % cand) as f:
                                status = f.read()
                            with open("/proc/%s/cmdline" % cand) as f:
                                cmdline = f.read()
                        except OSError:
                            continue
                        m = re.search(r"^NSpid:\s+(\d+)\s+1$", status, re.M)
                        if m and cmdline.startswith("spanshim\0run\0"):
                            pid1 = int(m.group(1))
                time.sleep(0.1)
            self.assertIsNotNone(pid1, "spanshim run never ran as PID 1 of its namespace")
            got = col2.wait_spans(1, timeout=30, pred=lambda s: s["kind"] == 2)
            self.assertTrue(got, "no SERVER span reached the collector outside")
            self.assertEqual(got[0].attrs.get("url.path"), "/")
            self.assertEqual(got[0].service, env["OTEL_SERVICE_NAME"])
            os.kill(pid1, signal.SIGTERM)      # as `docker stop` does
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 128 + signal.SIGTERM, out + err)
        finally:
            if col2:
                col2.stop()
            root.close()
            shutil.rmtree(outside, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
