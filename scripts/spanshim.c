/*
 * spanshim.c - the `spanshim` command.
 *
 *   spanshim run [--service NAME] [--jsonl FILE] [--logs-jsonl FILE] [--logs MODE] [--print]
 *                [--ui HOST:PORT] -- CMD [ARGS...]
 *   spanshim view [--ui HOST:PORT] FILE.jsonl [FILE.jsonl...]
 *
 * Runs CMD with libspanshim.so preloaded. The collector is found as the
 * shim finds it (ex_sockpath.h: $SPANSHIM_SOCKET, else the default places,
 * a socket the trust check passes). If none listens, or --jsonl asks for
 * a file of its own, a private collector is started on a socket in a
 * fresh 0700 temporary directory and stopped, after it has written
 * everything, when CMD ends. An unusable SPANSHIM_SOCKET is an error.
 *
 * Run as root, CMD may be a server whose workers become another user
 * (nginx's nobody, apache's www-data): then the directory is 0711, the
 * collector's socket anyone's to reach, and the collector accepts only
 * datagrams from this process's descendants (--allow-descendants-of) and
 * root's. This process is a child subreaper meanwhile, so a descendant
 * whose parent exits (a daemon's double fork) stays one, and is reaped.
 * The exit status is CMD's (128 + signal if it was killed).
 *
 * TRACEPARENT (and TRACESTATE) are passed on to CMD as they came: the shim
 * in CMD continues that trace (preload/ss_proc.h), so a CI step or a cron
 * job run under spanshim joins the trace of what started it. CMD is told
 * its process span's id too (SPANSHIM_PROC_SPAN, preload/ss_envctx.h), so
 * that when a signal ends it (SIGKILL, a crash) before its shim could send
 * that span, this process sends it: the span CMD's shim would have sent,
 * status ERROR, error.type the signal's name, process.exit.code 128 + its
 * number, under CMD's resource (service.name, process.pid), encoded as the
 * shim encodes spans (exporter/ex_otlp.h) and sent as one datagram.
 *
 * --logs MODE sets SPANSHIM_LOGS for CMD (off, span, all: the shim judges
 * it); --logs-jsonl FILE has the private collector write CMD's log records
 * there (and, without --logs, turns capture on as span: a file of log
 * records asked for is a wish for them).
 *
 * --ui HOST:PORT starts the private collector with its trace viewer there
 * (it prints the URL); when CMD has ended the viewer stays up, so the
 * traces can still be looked at, until SIGINT or SIGTERM (Ctrl-C).
 *
 * `spanshim view FILE...` opens saved .jsonl files (--jsonl's and
 * --logs-jsonl's, or any OTLP JSON lines) in the trace viewer: a collector
 * of its own, on a socket in a fresh 0700 directory, reads them in, one
 * after the other (--replay), and serves the viewer (127.0.0.1 and a free
 * port unless --ui says where) until Ctrl-C: a log record lands under its
 * span whichever file came first.
 *
 * It is written to be a container's PID 1 (ENTRYPOINT ["spanshim", "run",
 * "--"]): SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed
 * on to CMD, and orphans are reaped while CMD runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../exporter/ex_otlp.h"
#include "../exporter/ex_sockpath.h"
#include "../preload/ss_envctx.h"
#include "../preload/ss_sample.h"
#include "spanshim.h"

static volatile sig_atomic_t sr_child = -1;
static volatile sig_atomic_t sr_viewer_done; /* a signal after CMD ended */

static void sr_forward(int sig)
{
    if (sr_child > 0)
        kill((pid_t)sr_child, sig);
    else
        sr_viewer_done = 1;
}

static void sr_on_child(int sig)
{
    (void)sig; /* only to wake sigsuspend */
}

static void sr_usage(FILE *f)
{
    fprintf(f, "usage: spanshim run [--service NAME] [--jsonl FILE] [--logs-jsonl FILE]\n"
               "                    [--logs off|span|all] [--print] [--ui HOST:PORT] -- CMD [ARGS...]\n"
               "  --service NAME  service.name of the traced program (OTEL_SERVICE_NAME)\n"
               "  --jsonl FILE    write the spans to FILE (a private collector is started)\n"
               "  --logs-jsonl FILE\n"
               "                  write the program's log records to FILE (a private collector\n"
               "                  is started; capture is span unless --logs says otherwise)\n"
               "  --logs MODE     capture the program's log lines (SPANSHIM_LOGS): off, span\n"
               "                  (lines written while a span is current), all\n"
               "  --print         print each trace as a tree as well (log records under their span)\n"
               "  --ui HOST:PORT  serve the trace viewer at http://HOST:PORT/ as well (the URL is\n"
               "                  printed; port 0: a free one); after CMD it stays up until Ctrl-C\n"
               "       spanshim view [--ui HOST:PORT] FILE.jsonl [FILE.jsonl...]\n"
               "                  open saved .jsonl files (spans, log records) in the trace viewer\n"
               "                  (default 127.0.0.1 and a free port; the URL is printed) until\n"
               "                  Ctrl-C\n"
               "       spanshim enable-system [--lib PATH] | disable-system\n"
               "                  add the shim to /etc/ld.so.preload, or take it out (root);\n"
               "                  /etc/spanshim/preload.conf says which programs are traced\n"
               "       spanshim check-config [FILE]\n"
               "                  judge a preload.conf (default /etc/spanshim/preload.conf)\n"
               "Without a trusted collector on $SPANSHIM_SOCKET (default: the first of\n"
               "$XDG_RUNTIME_DIR/spanshim.sock, /tmp/spanshim-UID/spanshim.sock and\n"
               "/run/spanshim/spanshim.sock that holds one), spans go to ./spanshim-traces.jsonl.\n"
               "Trusted: sockets of root, of this user and of the uids in\n"
               "$SPANSHIM_COLLECTOR_UID (UID[,UID...]), in directories only they can change.\n"
               "Run as root, CMD's descendants are traced whatever user they become (nginx,\n"
               "apache workers); the private collector refuses every other process.\n"
               "With $TRACEPARENT set, CMD joins that trace: its process span is the child\n"
               "of the span it names (a CI step, a cron job's caller).\n");
}

void sr_self_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    char *slash;

    out[n > 0 ? n : 0] = '\0';
    slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, cap, ".");
}

static int sr_exists(const char *p)
{
    return access(p, R_OK) == 0;
}

int sr_find_lib(const char *dir, char *out, size_t cap)
{
    const char *env = getenv("SPANSHIM_LIB");
    const char *rel[] = {"/../lib/libspanshim.so", "/../lib64/libspanshim.so",
                         "/../lib/x86_64-linux-gnu/libspanshim.so",
                         "/../lib/aarch64-linux-gnu/libspanshim.so", "/libspanshim.so"};
    size_t i;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return sr_exists(out);
    }
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        char tmp[PATH_MAX + 64];

        snprintf(tmp, sizeof(tmp), "%s%s", dir, rel[i]);
        if (sr_exists(tmp) && realpath(tmp, out))
            return 1;
    }
    return 0;
}

static int sr_collector_listens(const char *path)
{
    struct sockaddr_un sa;
    int fd, ok;

    if (strlen(path) >= sizeof(sa.sun_path))
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* The collector the shim would send to, if one listens there: 1 and its
 * path in out; 0 if none; -1 if SPANSHIM_SOCKET cannot be used. */
static int sr_find_collector(char out[EX_SOCKPATH_MAX])
{
    const char *path = getenv("SPANSHIM_SOCKET"), *bad;
    char why[256];
    ex_trust_t trust;
    int r;

    if (path && *path && (bad = ex_sockpath_unusable(path)) != NULL) {
        fprintf(stderr, "spanshim: SPANSHIM_SOCKET=%.120s cannot be used: %s\n", path, bad);
        return -1;
    }
    if (!ex_trust_parse(&trust, getenv("SPANSHIM_COLLECTOR_UID")))
        fprintf(stderr, "spanshim: SPANSHIM_COLLECTOR_UID takes numeric uids separated by "
                        "commas; the rest is ignored\n");
    r = ex_sockpath_find(path, getenv("XDG_RUNTIME_DIR"), &trust, out, NULL, NULL, why,
                         sizeof(why));
    if (r == EX_SOCK_REFUSED)
        fprintf(stderr, "spanshim: not sending spans to %s: %s\n", out, why);
    return r == EX_SOCK_TRUSTED && sr_collector_listens(out);
}

static pid_t sr_start_collector(const char *dir, const char *sock, const char *jsonl,
                                const char *logs_jsonl, int print, const char *ui,
                                pid_t descendants_of)
{
    char exe[PATH_MAX + 32], root[24];
    pid_t pid;
    int i;

    snprintf(exe, sizeof(exe), "%s/spanshim-collector", dir);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[14];
        int n = 0;

        /* Its own process group: a Ctrl-C for CMD must not stop it early. */
        setpgid(0, 0);
        unsetenv("LD_PRELOAD");
        argv[n++] = exe;
        argv[n++] = "--socket";
        argv[n++] = (char *)sock;
        argv[n++] = "--jsonl";
        argv[n++] = (char *)jsonl;
        if (logs_jsonl) {
            argv[n++] = "--logs-jsonl";
            argv[n++] = (char *)logs_jsonl;
        }
        if (print)
            argv[n++] = "--print";
        if (ui) {
            argv[n++] = "--ui";
            argv[n++] = (char *)ui;
        }
        if (descendants_of > 0) {
            snprintf(root, sizeof(root), "%d", (int)descendants_of);
            argv[n++] = "--allow-descendants-of";
            argv[n++] = root;
        }
        argv[n] = NULL;
        execv(exe, argv);
        execvp("spanshim-collector", argv);
        fprintf(stderr, "spanshim: cannot run spanshim-collector: %s\n", strerror(errno));
        _exit(127);
    }
    for (i = 0; i < 500; i++) { /* up to 5 s for it to bind */
        struct timespec ts = {0, 10 * 1000 * 1000};
        int st;

        if (sr_collector_listens(sock))
            return pid;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM);
    return -1;
}

/* As root, CMD's workers may become any user: the directory lets them
 * reach the socket (nobody but root can change it), and the collector
 * checks that each sender descends from this process. Its pid, or 0. */
static pid_t sr_open_to_descendants(const char *tmpdir)
{
    if (geteuid() != 0)
        return 0;
    if (chmod(tmpdir, 0711) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        fprintf(stderr, "spanshim: cannot open %s to CMD's other users (%s); only root's "
                        "processes will be traced\n", tmpdir, strerror(errno));
        chmod(tmpdir, 0700);
        return 0;
    }
    return getpid();
}

/* CMD's process span, chosen here when CMD is traced and given a context. */
typedef struct sr_proc {
    int on;
    ss_ctx_t parent;
    char ts[SS_TS_FORWARD_MAX + 1];
    uint16_t ts_len;
    uint8_t span_id[8];
    uint64_t start_ns;
    char env[SS_ENVCTX_PS_ENTRY];
} sr_proc_t;

static uint64_t sr_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether CMD's shim will continue a TRACEPARENT and send its span, as
 * its configuration says (preload/ss_config.c reads the same variables):
 * not with OTEL_SDK_DISABLED=true, nor with OTEL_PROPAGATORS lacking
 * tracecontext, nor when its sampler drops the trace. */
static int sr_proc_traced(const ss_ctx_t *parent)
{
    const char *v = getenv("OTEL_SDK_DISABLED");
    char buf[256], *tok, *save = NULL;
    ss_sampler_t sampler;
    int tc = 1;

    if (v && strcasecmp(v, "true") == 0)
        return 0;
    if ((v = getenv("OTEL_PROPAGATORS")) != NULL && *v) {
        snprintf(buf, sizeof(buf), "%s", v);
        tc = 0;
        for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
            tc |= strcasecmp(tok, "tracecontext") == 0;
    }
    ss_sampler_parse(&sampler, getenv("OTEL_TRACES_SAMPLER"), getenv("OTEL_TRACES_SAMPLER_ARG"));
    return tc && ss_sample(&sampler, parent->trace_id, 1, parent->flags & SS_FLAG_SAMPLED);
}

/* A valid TRACEPARENT that CMD will continue: CMD's span id is chosen now
 * (SPANSHIM_PROC_SPAN). */
static void sr_proc_assign(sr_proc_t *p)
{
    const char *tp = getenv("TRACEPARENT"), *ts = getenv("TRACESTATE");
    ss_envctx_ps_t ps;

    memset(p, 0, sizeof(*p));
    if (tp == NULL || !ss_tp_parse(tp, strnlen(tp, SS_TP_LEN + 1), &p->parent) ||
        !sr_proc_traced(&p->parent) || getrandom(p->span_id, 8, 0) != 8)
        return;
    if (memcmp(p->span_id, "\0\0\0\0\0\0\0\0", 8) == 0)
        p->span_id[7] = 1;
    if (ts) {
        size_t n = strnlen(ts, 1024);

        p->ts_len = (uint16_t)ss_ts_forward(ts, n, ts[n] != '\0', p->ts);
    }
    p->ts[p->ts_len] = '\0';
    p->start_ns = sr_now_ns();
    memcpy(ps.span_id, p->span_id, 8);
    memcpy(ps.parent_id, p->parent.span_id, 8);
    ps.start_ns = p->start_ns;
    ps.ppid = (uint32_t)getpid();
    ss_envctx_ps_format(&ps, p->env);
    p->on = 1;
}

/* CMD (pid) was ended by signal sig: its process span, to the collector
 * on sock. */
static void sr_proc_killed(const sr_proc_t *p, const char *sock, pid_t pid, int sig,
                           const char *cmd, const char *service)
{
    static uint8_t res[EX_RESOURCE_MAX], buf[EX_ENVELOPE_MAX + EX_SPAN_MAX];
    uint8_t body[EX_SPAN_MAX];
    char host[256], svc[300];
    const char *base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd, *abbrev;
    struct sockaddr_un sa;
    ex_process_t pr;
    ss_span_t *s;
    size_t n, res_len, env;
    int fd;

    if (!p->on || strlen(sock) >= sizeof(sa.sun_path) ||
        (s = calloc(1, sizeof(*s))) == NULL)
        return;
    s->kind = SS_KIND_INTERNAL;
    s->type = SS_SPAN_PROC;
    memcpy(s->ctx.trace_id, p->parent.trace_id, 16);
    memcpy(s->ctx.span_id, p->span_id, 8);
    s->ctx.flags = (uint8_t)((p->parent.flags & SS_FLAG_RANDOM) | SS_FLAG_SAMPLED);
    s->ctx.valid = 1;
    memcpy(s->parent_id, p->parent.span_id, 8);
    s->has_parent = s->parent_remote = 1;
    s->sampled = 1;
    s->start_ns = p->start_ns;
    s->end_ns = sr_now_ns();
    s->ts_len = p->ts_len;
    memcpy(s->ts, p->ts, p->ts_len + 1u);
    snprintf(s->proc.name, sizeof(s->proc.name), "%s", *base ? base : "process");
    snprintf(s->proc.command, sizeof(s->proc.command), "%s", cmd);
    s->proc.pid = pid;
    s->proc.exited = 1;
    s->proc.exit_code = 128 + sig;
    abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(s->error_type, sizeof(s->error_type), "SIG%s", abbrev);
    else
        snprintf(s->error_type, sizeof(s->error_type), "signal %d", sig);
    n = ex_otlp_span(s, body, sizeof(body));
    free(s);
    memset(&pr, 0, sizeof(pr));
    pr.pid = (int)pid;
    if (service == NULL || *service == '\0') {
        snprintf(svc, sizeof(svc), "unknown_service:%.255s", base);
        service = svc;
    }
    pr.service_name = service;
    pr.exe_name = pr.exe_path = base;
    pr.command = cmd;
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        pr.host_name = host;
    }
    res_len = ex_otlp_resource(&pr, res, sizeof(res));
    if (n == 0 || res_len == 0)
        return;
    env = ex_otlp_envelope(res, res_len, n, buf, sizeof(buf) - n);
    if (env == 0)
        return;
    memcpy(buf + env, body, n);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sock);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, buf, env + n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fprintf(stderr, "spanshim: the span of %s, ended by a signal, was not sent: %s\n", base,
                strerror(errno));
    close(fd);
}

static int sr_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

/* After CMD: the collector (and its viewer) stays until a signal, or
 * until it exits itself (then 1: it is reaped); orphans are still reaped. */
static int sr_keep_viewer(pid_t collector)
{
    sigset_t wake, old;
    struct sigaction sa;
    int st;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sr_on_child;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&wake);
    sigaddset(&wake, SIGCHLD);
    sigaddset(&wake, SIGINT);
    sigaddset(&wake, SIGTERM);
    sigaddset(&wake, SIGHUP);
    sigaddset(&wake, SIGQUIT);
    sigprocmask(SIG_BLOCK, &wake, &old);
    sr_child = -1;
    fprintf(stderr, "spanshim: the command has ended; the trace viewer stays up until Ctrl-C\n");
    while (!sr_viewer_done) {
        pid_t w;

        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == collector) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return 1;
            }
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}

/* p made absolute from the working directory into buf (the collector's
 * working directory is not CMD's concern), or p as it was. */
static const char *sr_absolute(const char *p, char *buf, size_t cap)
{
    if (p[0] == '/' || strlen(p) + 2 >= cap || getcwd(buf, cap - strlen(p) - 2) == NULL)
        return p;
    strcat(buf, "/");
    strcat(buf, p);
    return buf;
}

static int sr_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"service", required_argument, NULL, 's'}, {"jsonl", required_argument, NULL, 'j'},
        {"print", no_argument, NULL, 'p'},         {"help", no_argument, NULL, 'h'},
        {"ui", required_argument, NULL, 'u'},      {"logs-jsonl", required_argument, NULL, 'L'},
        {"logs", required_argument, NULL, 'l'},    {NULL, 0, NULL, 0},
    };
    const char *service = NULL, *jsonl = NULL, *sock, *ui = NULL, *logs_jsonl = NULL;
    const char *logs = NULL;
    char dir[PATH_MAX], lib[PATH_MAX], tmpdir[] = "/tmp/spanshim.XXXXXX";
    char private_sock[PATH_MAX], preload[2 * PATH_MAX + 2], jsonl_abs[PATH_MAX];
    char logs_abs[PATH_MAX];
    char found[EX_SOCKPATH_MAX];
    pid_t collector = -1, child;
    int c, print = 0, status = 0, rc, shared;
    sr_proc_t proc;
    struct sigaction sa;
    const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    size_t i;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+s:j:phu:L:l:", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            service = optarg;
            break;
        case 'j':
            jsonl = optarg;
            break;
        case 'p':
            print = 1;
            break;
        case 'u':
            ui = optarg;
            break;
        case 'L':
            logs_jsonl = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "off") != 0 && strcmp(optarg, "span") != 0 &&
                strcmp(optarg, "all") != 0) {
                fprintf(stderr, "spanshim: --logs takes off, span or all, not %s\n", optarg);
                return 2;
            }
            logs = optarg;
            break;
        case 'h':
            sr_usage(stdout);
            return 0;
        default:
            sr_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        sr_usage(stderr);
        return 2;
    }
    sr_self_dir(dir, sizeof(dir));
    if (!sr_find_lib(dir, lib, sizeof(lib))) {
        fprintf(stderr, "spanshim: libspanshim.so not found (set SPANSHIM_LIB)\n");
        return 127;
    }
    shared = sr_find_collector(found);
    if (shared < 0)
        return 2;
    sock = found;
    if (jsonl || logs_jsonl || print || ui || !shared) {
        shared = 0;
        if (jsonl == NULL)
            jsonl = "spanshim-traces.jsonl";
        jsonl = sr_absolute(jsonl, jsonl_abs, sizeof(jsonl_abs));
        if (logs_jsonl)
            logs_jsonl = sr_absolute(logs_jsonl, logs_abs, sizeof(logs_abs));
        if (mkdtemp(tmpdir) == NULL) {
            fprintf(stderr, "spanshim: cannot make a temporary directory: %s\n", strerror(errno));
            return 1;
        }
        snprintf(private_sock, sizeof(private_sock), "%s/collector.sock", tmpdir);
        collector = sr_start_collector(dir, private_sock, jsonl, logs_jsonl, print, ui,
                                       sr_open_to_descendants(tmpdir));
        if (collector < 0) {
            fprintf(stderr, "spanshim: could not start a collector; running untraced\n");
            rmdir(tmpdir);
        } else {
            sock = private_sock;
        }
    }

    if (getenv("LD_PRELOAD") && *getenv("LD_PRELOAD"))
        snprintf(preload, sizeof(preload), "%s:%s", lib, getenv("LD_PRELOAD"));
    else
        snprintf(preload, sizeof(preload), "%s", lib);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sr_forward;
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
        sigaction(fwd[i], &sa, NULL);

    proc.on = 0;
    if (collector > 0 || shared)
        sr_proc_assign(&proc);
    child = fork();
    if (child < 0) {
        fprintf(stderr, "spanshim: fork: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        sa.sa_handler = SIG_DFL;
        for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
            sigaction(fwd[i], &sa, NULL);
        if (collector > 0 || shared) {
            setenv("LD_PRELOAD", preload, 1);
            setenv("SPANSHIM_SOCKET", sock, 1);
        }
        if (proc.on)
            putenv(proc.env);
        else
            unsetenv("SPANSHIM_PROC_SPAN"); /* one this process was given is not CMD's */
        if (service)
            setenv("OTEL_SERVICE_NAME", service, 1);
        if (logs)
            setenv("SPANSHIM_LOGS", logs, 1);
        else if (logs_jsonl && collector > 0 && !getenv("SPANSHIM_LOGS"))
            setenv("SPANSHIM_LOGS", "span", 1); /* the file asked for: something to put in it */
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "spanshim: %s: %s\n", argv[optind], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    sr_child = child;
    /* Wait for CMD, reaping any orphan handed to us as PID 1. */
    for (;;) {
        pid_t w = waitpid(-1, &status, 0);

        if (w == child)
            break;
        if (w < 0 && errno == ECHILD)
            break;
    }
    rc = sr_status(status);
    if (WIFSIGNALED(status))
        sr_proc_killed(&proc, sock, child, WTERMSIG(status), argv[optind],
                       service ? service : getenv("OTEL_SERVICE_NAME"));
    if (collector > 0) {
        int st;

        if (!ui || !sr_keep_viewer(collector)) {
            kill(collector, SIGTERM);
            while (waitpid(collector, &st, 0) < 0 && errno == EINTR)
                ;
        }
        unlink(private_sock);
        rmdir(tmpdir);
    } else if (shared) {
        fprintf(stderr, "spanshim: spans went to the collector on %s\n", sock);
    }
    return rc;
}

/* view's SIGINT, SIGTERM and SIGHUP (its terminal gone): the collector stops. */
static void sr_view_stop(int sig)
{
    (void)sig;
    if (sr_child > 0)
        kill((pid_t)sr_child, SIGTERM);
}

/* spanshim view [--ui HOST:PORT] FILE...: the collector reads the files in
 * (spans and log records alike) and serves the viewer until a signal; its
 * exit status is view's. */
#define SR_VIEW_FILES 8 /* the collector's --replay files, at most */

static int sr_view(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ui", required_argument, NULL, 'u'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *ui = "127.0.0.1:0";
    char dir[PATH_MAX], exe[PATH_MAX + 32], tmpdir[] = "/tmp/spanshim.XXXXXX", sock[PATH_MAX];
    struct sigaction sa;
    sigset_t stop, old;
    pid_t pid;
    int c, st = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+u:h", opts, NULL)) != -1) {
        if (c == 'u') {
            ui = optarg;
        } else {
            sr_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc || argc - optind > SR_VIEW_FILES) {
        if (argc - optind > SR_VIEW_FILES)
            fprintf(stderr, "spanshim: view takes at most %d files\n", SR_VIEW_FILES);
        sr_usage(stderr);
        return 2;
    }
    for (c = optind; c < argc; c++)
        if (access(argv[c], R_OK) < 0) {
            fprintf(stderr, "spanshim: cannot read %s: %s\n", argv[c], strerror(errno));
            return 1;
        }
    sr_self_dir(dir, sizeof(dir));
    snprintf(exe, sizeof(exe), "%s/spanshim-collector", dir);
    if (mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "spanshim: cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/view.sock", tmpdir);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sr_view_stop; /* no SA_RESTART: the wait below is told */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &old); /* none lost before its pid is known */
    if ((pid = fork()) == 0) {
        char *av[6 + 2 * SR_VIEW_FILES + 2] = {exe, "--socket", sock, "--ui", (char *)ui};
        int n = 5;

        for (c = optind; c < argc; c++) {
            av[n++] = "--replay";
            av[n++] = argv[c];
        }
        av[n++] = "--quiet";
        av[n] = NULL;

        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        unsetenv("LD_PRELOAD");
        execv(exe, av);
        execvp("spanshim-collector", av);
        fprintf(stderr, "spanshim: cannot run spanshim-collector: %s\n", strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        fprintf(stderr, "spanshim: fork: %s\n", strerror(errno));
    sr_child = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    unlink(sock); /* (the collector removes it; not if it was killed) */
    rmdir(tmpdir);
    return pid > 0 ? sr_status(st) : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return sr_run(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "view") == 0)
        return sr_view(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "enable-system") == 0 ||
                      strcmp(argv[1], "disable-system") == 0 ||
                      strcmp(argv[1], "check-config") == 0))
        return sr_system(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sr_usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("spanshim 0.1.0\n");
        return 0;
    }
    sr_usage(stderr);
    return 2;
}
