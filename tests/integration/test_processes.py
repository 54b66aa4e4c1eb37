"""Processes made every way programs make them: fork without exec, fork then
exec, vfork then exec, posix_spawn, daemon(), a program that closes every fd
and carries on, one that dup2()s over the shim's own socket (where a
seccomp filter keeps the shim's flush thread in the program's fd table),
the flush thread's fd table of its own, and a shell pipeline. The hooked ways to start a program (execl, execlp, execle,
posix_spawn, posix_spawnp, system, popen) and the calls that reap (wait,
waitpid, wait3, wait4, waitid) return exactly what glibc does,
errno too, failing and succeeding, with and without the shim, built with
and without -D_FORTIFY_SOURCE=2 -O2. Each behaves as without the shim, and each request's span comes
from the process that made it, with the right process.pid."""
import os
import time
import unittest

from harness import BUILD, CollectorTest, start_app

PROBE = os.path.join(BUILD, "tests", "procprobe")


class Processes(CollectorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.record = os.path.join(cls.col.dir, "backend.record")
        _, cls.port = start_app(cls.col, "backend.py", [cls.record], traced=False)

    def probe(self, mode, expect):
        r = self.col.run([PROBE, mode, str(self.port)], service="procprobe")
        self.assertEqual(r.returncode, 0, r.stderr)
        made = {}
        deadline = time.time() + 10
        while len(made) < len(expect) and time.time() < deadline:
            for line in r.stdout.decode().splitlines():
                who, pid = line.split()
                made[who] = int(pid)
            if mode == "daemon" and not made:  # the daemon's output comes later
                time.sleep(0.1)
                break
        return made

    def span_of(self, who):
        got = self.col.wait_spans(1, pred=lambda s: s.attrs.get("url.full", "").endswith("who=" + who))
        self.assertEqual(len(got), 1, who)
        return got[0]

    def test_start_calls_return_what_glibc_does(self):
        for build in (PROBE, PROBE + "_fortify"):
            for traced in (False, True):
                with self.subTest(build=os.path.basename(build), traced=traced):
                    r = self.col.run([build, "starts", str(self.port)], service="procprobe",
                                     traced=traced)
                    self.assertEqual((r.returncode, r.stdout), (0, b"starts ok\n"), r.stderr)

    def test_fork_without_exec(self):
        made = self.probe("fork", ["parent-before", "child", "parent-after"])
        self.assertEqual(len(set(made.values())), 2)
        spans = {}
        for who, pid in made.items():
            s = self.span_of(who)
            self.assertEqual(s.res["process.pid"], pid, who)
            spans[who] = s
        # Parent and child never share ids.
        ids = {s["spanId"] for s in spans.values()} | {s["traceId"] for s in spans.values()}
        self.assertEqual(len(ids), 6)

    def test_exec_vfork_and_spawn(self):
        for mode in ("forkexec", "vforkexec", "spawn"):
            made = self.probe(mode, [mode])
            s = self.span_of(mode)
            self.assertEqual(s.res["process.pid"], made[mode], mode)
            self.assertEqual(s.res["process.executable.name"], "curl")

    def test_daemon(self):
        r = self.col.run([PROBE, "daemon", str(self.port)], service="procprobe")
        self.assertEqual(r.returncode, 0)
        s = self.span_of("daemon")
        self.assertNotEqual(s.res["process.pid"], 0)

    def test_close_every_fd_then_carry_on(self):
        made = self.probe("closerange", ["before-close-range", "after-close-range"])
        for who in made:
            self.assertEqual(self.span_of(who).res["process.pid"], made[who])

    def test_dup2_over_the_shims_socket(self):
        made = self.probe("dup2shim", ["before-dup2", "after-dup2", "after-dup2-again"])
        for who in made:
            self.assertEqual(self.span_of(who).res["process.pid"], made[who])

    def test_flush_thread_has_a_table_of_its_own(self):
        made = self.probe("owntable", ["before-own-table", "after-own-table"])
        for who in made:
            self.assertEqual(self.span_of(who).res["process.pid"], made[who])

    def test_fd_closed_behind_the_shims_back(self):
        made = self.probe("stalefd", ["stalefd"])
        self.assertEqual(self.span_of("stalefd").res["process.pid"], made["stalefd"])
        # The same with the open/read/write hooks reached the fortified way.
        r = self.col.run([PROBE + "_fortify", "stalefd", str(self.port)], service="procprobe")
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = int(r.stdout.split()[1])
        got = self.col.wait_spans(2, pred=lambda s: s.attrs.get("url.full", "").endswith("who=stalefd"))
        self.assertEqual(sorted(s.res["process.pid"] for s in got), sorted([made["stalefd"], pid]))

    def test_shell_pipeline(self):
        url = "http://127.0.0.1:%d/inventory?who=" % self.port
        r = self.col.run(["sh", "-c", "curl -s %spipe1 | cat && curl -s %spipe2 | wc -c" % (url, url)])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b'{"item":42'))
        a, b = self.span_of("pipe1"), self.span_of("pipe2")
        self.assertNotEqual(a.res["process.pid"], b.res["process.pid"])
        self.assertNotEqual(a["traceId"], b["traceId"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
