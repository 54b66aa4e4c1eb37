"""Application servers for the integration tests, from their Debian
packages: php-fpm and fcgiwrap (FastCGI), and the nginx and Apache
configurations that pass requests to them. Each is started by the test in
a directory of its own under the collector's, in the foreground, on its own
Unix socket or a free loopback port, and always stopped.

As root (CI) they run as the packages run them: php-fpm's master as root
with its workers as nobody (the pool's user), fcgiwrap as nobody; nginx's
workers and Apache's children are nobody too, so the sockets and the
document root are theirs to use."""
import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from dbservers import stop_session
from harness import APPS, free_port, start_apache, start_nginx, wait_port

PHP_FPM = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
FCGIWRAP = shutil.which("fcgiwrap") or "/usr/sbin/fcgiwrap"
PHP_APPS = os.path.join(APPS, "php")

_running = set()


def _stop_all():
    for server in list(_running):
        server.stop()


atexit.register(_stop_all)


def _as_nobody():
    """preexec_fn: nobody when root, as fcgiwrap's service runs it."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.setgid(nobody.pw_gid)
        os.setgroups([])
        os.setuid(nobody.pw_uid)


def docroot(col, cgi=False):
    """A document root anyone can read: the PHP pages, or (cgi) the CGI
    scripts in cgi-bin/."""
    d = tempfile.mkdtemp(prefix="www.", dir=col.dir)
    os.chmod(d, 0o755)
    if cgi:
        os.mkdir(os.path.join(d, "cgi-bin"), 0o755)
        shutil.copy2(os.path.join(APPS, "call.cgi"), os.path.join(d, "cgi-bin", "call.cgi"))
        os.chmod(os.path.join(d, "cgi-bin", "call.cgi"), 0o755)
    else:
        for name in os.listdir(PHP_APPS):
            shutil.copy2(os.path.join(PHP_APPS, name), d)
            os.chmod(os.path.join(d, name), 0o644)
    return d


class AppServer:
    """One app server process in a session of its own (stopping it stops
    its children), listening on a Unix socket in a directory of its own,
    or on a loopback port (tcp)."""
    name = None
    service = None

    def __init__(self, col, tcp=False, traced=True):
        self.col = col
        self.traced = traced
        self.top = tempfile.mkdtemp(prefix=self.name + ".", dir=col.dir)
        os.chmod(self.top, 0o777)  # a server that is nobody makes its socket here
        self.port = free_port() if tcp else None
        self.sock = None if tcp else os.path.join(self.top, "app.sock")
        self.log = os.path.join(self.top, "server.log")
        self.proc = None

    def address(self):
        """What nginx's fastcgi_pass takes."""
        return "127.0.0.1:%d" % self.port if self.port else "unix:" + self.sock

    def env(self):
        if self.traced:
            return self.col.env(self.service)
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return env

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), env=self.env(), cwd=self.top,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=self.preexec())
        _running.add(self)
        try:
            if self.port:
                wait_port(self.port, self.proc, timeout=30)
            else:
                deadline = time.time() + 30
                while not os.path.exists(self.sock):
                    if time.time() > deadline or self.proc.poll() is not None:
                        raise RuntimeError("%s did not start" % self.name)
                    time.sleep(0.02)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s: %s" % (e, self.log_text()[-3000:])) from None
        return self

    def stop(self):
        """stop_signal, then SIGKILL to the session (dbservers.stop_session)."""
        _running.discard(self)
        stop_session(self.proc, self.stop_signal)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    stop_signal = signal.SIGTERM

    def preexec(self):
        return None

    def argv(self):
        raise NotImplementedError


class PhpFpm(AppServer):
    """php-fpm with one static pool of `workers` (as nobody under root)."""
    name = "php-fpm"
    service = "php-fpm"
    stop_signal = signal.SIGQUIT

    def __init__(self, col, tcp=False, traced=True, workers=2):
        super().__init__(col, tcp, traced)
        self.workers = workers

    def argv(self):
        conf = os.path.join(self.top, "php-fpm.conf")
        user = "user = nobody\ngroup = nogroup\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write("[global]\nerror_log = %s/php-fpm.log\ndaemonize = no\n"
                    "[www]\n%slisten = %s\nlisten.mode = 0666\npm = static\n"
                    "pm.max_children = %d\ncatch_workers_output = yes\n"
                    % (self.top, user, self.sock or "127.0.0.1:%d" % self.port, self.workers))
        return [PHP_FPM, "--nodaemonize", "--fpm-config", conf]


class Fcgiwrap(AppServer):
    """fcgiwrap with two preforked processes, as nobody under root."""
    name = "fcgiwrap"
    service = "fcgiwrap"

    def argv(self):
        where = "unix:" + self.sock if self.sock else "tcp:127.0.0.1:%d" % self.port
        return [FCGIWRAP, "-c", "2", "-s", where]

    def preexec(self):
        return _as_nobody


NGINX_PHP = """
root {root};
location ~ \\.php$ {{
    include /etc/nginx/fastcgi_params;
    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    fastcgi_pass {address};
    {extra}
}}
location /cgi-bin/ {{
    include /etc/nginx/fastcgi_params;
    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    fastcgi_pass {address};
}}
"""


def nginx_fastcgi(col, app, root, keep_conn=False):
    """nginx passing *.php and /cgi-bin/ to app; (process, port)."""
    extra = "fastcgi_keep_conn on;" if keep_conn else ""
    http = ""
    address = app.address()
    if keep_conn:
        http = "upstream app { server %s; keepalive 4; }" % address
        address = "app"
    return start_nginx(col, http=http, server=NGINX_PHP.format(root=root, address=address,
                                                                  extra=extra))


APACHE_FCGI = """
LoadModule proxy_module {{modules}}/mod_proxy.so
LoadModule proxy_fcgi_module {{modules}}/mod_proxy_fcgi.so
DocumentRoot "{root}"
<Directory "{root}">
    Require all granted
</Directory>
<FilesMatch "\\.php$">
    SetHandler "proxy:{target}"
</FilesMatch>
"""


def apache_fastcgi(col, app, root):
    """Apache prefork passing *.php to app through mod_proxy_fcgi;
    (process, port), stopped with harness.stop_apache()."""
    if app.sock:
        target = "unix:%s|fcgi://localhost" % app.sock
    else:
        target = "fcgi://127.0.0.1:%d" % app.port
    return start_apache(col, APACHE_FCGI.format(root=root, target=target))
