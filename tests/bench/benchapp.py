"""The application server the benchmark measures behind nginx: php-fpm from
Debian's package, in a directory of its own, its master as the caller (root
in CI) and its two workers as nobody under root, as the packaged service
runs, serving one small page on a Unix socket; pinned to a CPU."""
import os
import shutil
import subprocess
import tempfile
import time

from benchdb import pinned

PAGE = "<?php echo \"ok\\n\";\n"

FPM_CONF = """[global]
pid = {dir}/php-fpm.pid
error_log = {dir}/php-fpm.log
daemonize = no
[bench]
{user}listen = {sock}
listen.mode = 0666
pm = static
pm.max_children = 2
pm.max_requests = 0
clear_env = no
"""


def php_fpm():
    """The php-fpm binary Debian installs (php-fpmX.Y)."""
    for d in ("/usr/sbin", "/usr/bin"):
        for name in sorted(os.listdir(d), reverse=True):
            if name.startswith("php-fpm"):
                return os.path.join(d, name)
    raise FileNotFoundError("php-fpm (Debian's php-fpm package)")


class PhpFpm:
    """php-fpm serving {dir}/index.php on {sock}, started with env."""

    def __init__(self, env, cpu=1):
        self.dir = tempfile.mkdtemp(prefix="spanshim-bench-php.")
        os.chmod(self.dir, 0o755)  # the workers (nobody) read the page
        self.sock = os.path.join(self.dir, "php.sock")
        self.script = os.path.join(self.dir, "index.php")
        with open(self.script, "w") as f:
            f.write(PAGE)
        os.chmod(self.script, 0o644)
        conf = os.path.join(self.dir, "php-fpm.conf")
        user = "user = nobody\ngroup = nogroup\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(FPM_CONF.format(dir=self.dir, sock=self.sock, user=user))
        argv = [php_fpm(), "--nodaemonize", "--fpm-config", conf, "-n"]
        if os.geteuid() == 0:
            argv.append("--allow-to-run-as-root")
        self.proc = subprocess.Popen(pinned(argv, cpu), env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("php-fpm did not start: see %s/php-fpm.log" % self.dir)
            time.sleep(0.05)

    def location(self):
        """nginx's location block passing every request to this page."""
        return ("include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME %s; "
                "fastcgi_pass unix:%s;" % (self.script, self.sock))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def children(pid):
    """The pids of pid's children (php-fpm's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []
