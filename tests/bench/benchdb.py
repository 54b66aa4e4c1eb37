"""The database servers the benchmark measures clients against: a
PostgreSQL cluster and a redis-server from their Debian packages, each in a
directory of its own, on a free loopback port, untraced (the shim follows
database connections from the client's side only), pinned to a CPU.

PostgreSQL refuses to run as root: under root the cluster belongs to, and
runs as, nobody. The integration tests start their servers the same way
(tests/integration/dbservers.py, whose user and paths this takes); this module
keeps only what a benchmark needs: untraced, pinned, no collector of its
own, so the two could share one starter later."""
import os
import shutil
import subprocess
import tempfile
import time

from dbservers import _become_owner, _owner, pg_bin  # the tests' own, shared
from harness import free_port, wait_port


def pinned(argv, cpu):
    """argv run on CPU cpu (when there are several)."""
    return ["taskset", "-c", str(cpu), *argv] if os.cpu_count() > 1 else argv


def _untraced():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


class Postgres:
    """A fresh cluster (trust, superuser postgres, no fsync) with pgbench's
    tables at scale 1 in database `bench`."""

    def __init__(self, cpu=1):
        self.top = tempfile.mkdtemp(prefix="spanshim-bench-pg.")
        os.chmod(self.top, 0o755)  # nobody enters it to reach its own data
        self.data = os.path.join(self.top, "data")
        os.mkdir(self.data, 0o700)
        os.chown(self.data, *_owner())
        self.port = free_port()
        self.log = open(os.path.join(self.top, "server.log"), "wb")
        subprocess.run([pg_bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                        "--no-sync", "-E", "UTF8", "--locale=C"], env=_untraced(),
                       preexec_fn=_become_owner, cwd=self.top, check=True,
                       stdout=subprocess.DEVNULL, stderr=self.log)
        self.proc = subprocess.Popen(
            pinned([pg_bin("postgres"), "-D", self.data, "-h", "127.0.0.1", "-p", str(self.port),
                     "-k", self.data, "-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "max_connections=30"], cpu),
            env=_untraced(), preexec_fn=_become_owner, cwd=self.top, stdout=self.log,
            stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, timeout=60)
            self._until_ready()
            self.sql("CREATE DATABASE bench", "postgres")
            subprocess.run(self.pgbench("-i", "-s", "1", "-q"), env=_untraced(), check=True,
                           capture_output=True, timeout=300)
        except BaseException:
            self.stop()
            raise

    def _until_ready(self):
        deadline = time.time() + 60
        while True:
            try:
                self.sql("SELECT 1", "postgres")
                return
            except subprocess.CalledProcessError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def sql(self, query, db="bench"):
        subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", query],
                       env=_untraced(), check=True, capture_output=True, timeout=60)

    def pgbench(self, *args):
        return [pg_bin("pgbench"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                *args, "bench"]

    def stop(self):
        self.proc.terminate()  # smart shutdown: the benchmark's clients are gone
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.top, ignore_errors=True)


class Redis:
    """redis-server with no persistence."""

    def __init__(self, cpu=1):
        self.top = tempfile.mkdtemp(prefix="spanshim-bench-redis.")
        self.port = free_port()
        self.proc = subprocess.Popen(
            pinned(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", self.top], cpu),
            env=_untraced(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.top, ignore_errors=True)
