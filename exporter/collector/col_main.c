/*
 * col_main.c - spanshim-collector: receive span datagrams, write OTLP JSON.
 *
 *   spanshim-collector --socket PATH [--jsonl FILE] [--print]
 *
 * One Unix datagram socket; each datagram is an OTLP
 * ExportTraceServiceRequest in protobuf. A receiving thread does nothing but
 * empty the socket into a memory queue (the kernel holds only a few
 * datagrams per socket, and a sender that finds it full drops its batch);
 * the main thread decodes with protobuf-c and appends each batch to FILE as
 * one JSON line with a single write(), so a reader never sees half a line.
 * Anything that does not decode is counted and logged, never fatal. The
 * queue is capped (--queue-mb, 256 MiB); past it, datagrams are dropped and
 * counted.
 *
 * Who may write: the socket is owner-only unless --socket-group names a
 * group that may send too (traced programs that drop privileges, like
 * nginx workers). The kernel tells the receiver each sender's pid and uid
 * (SO_PASSCRED); --allow-uid restricts senders to the uids listed, and log
 * lines about bad input name the sender. --allow-descendants-of PID (what
 * `spanshim run` gives its private collector) opens the socket to every
 * uid and accepts only PID's descendants, whatever uid they became, and
 * the collector's own uid (col_lineage.h). Nothing in a datagram is trusted:
 * its nesting is bounded before protobuf-c decodes it (col_wire.c), and
 * what decoding it may take is bounded (col_otlp.h); protobuf-c checks
 * every length against the datagram. A batch the file cannot take (a full
 * disk) leaves nothing of itself there. Where the socket is and what it
 * may replace: col_socket.h.
 *
 * SIGTERM or SIGINT: stop within --stop-timeout (5 s, under Docker's 10),
 * whatever the backlog. The first four fifths of it go to what is queued
 * (in the kernel and in memory), batch by batch; what is left then is
 * counted as unhandled, not handled. Then the traces tail sampling and
 * --print hold are decided and written, forwarding gets what remains of
 * the timeout (spans still unsent then are counted), the totals are
 * printed, the socket removed (if it is still the one bound), and the
 * exit status is 0.
 */
#define _GNU_SOURCE
#include "col_forward.h"
#include "col_json.h"
#include "col_lineage.h"
#include "col_otlp.h"
#include "col_metrics.h"
#include "col_print.h"
#include "col_serve.h"
#include "col_socket.h"
#include "col_stats.h"
#include "col_tail.h"
#include "col_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COL_DGRAM_MAX (256 * 1024)
#define COL_STOP_MS 5000 /* --stop-timeout's default */

static volatile sig_atomic_t col_stop;
static volatile sig_atomic_t col_reopen;
static uint64_t col_stop_at; /* when a stop must be over; 0: none yet */


#define COL_ALLOW_MAX 16

/* Datagrams received and not yet handled, oldest first. */
typedef struct col_dgram {
    struct col_dgram *next;
    size_t len;
    pid_t pid;  /* the sender, as the kernel says */
    uid_t uid;
    uint8_t data[];
} col_dgram_t;

static pthread_mutex_t col_q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t col_q_cond = PTHREAD_COND_INITIALIZER;
static col_dgram_t *col_q_head, **col_q_tail = &col_q_head;
static size_t col_q_bytes;
static int col_rx_done;

static struct {
    const char *socket_path;
    const char *jsonl;
    int print;
    int quiet;
    const char *socket_group; /* may send too; NULL: owner only */
    size_t queue_max;         /* bytes of datagrams waiting to be handled */
    uid_t allow[COL_ALLOW_MAX];
    int n_allow;              /* 0: any uid that can open the socket */
    pid_t descendants_of;     /* accept this process's descendants; 0: no */
    const char *metrics_listen; /* serve /metrics here; NULL: no metrics */
    int tail;                 /* tail sampling, with tail_cfg */
    col_tail_cfg_t tail_cfg;
    col_fwd_cfg_t fwd;        /* fwd.url NULL: no forwarding */
    long stop_ms;             /* a stop is over this long after the signal */
} col_opt;

/* Log a line about bad input: the first ones, then at most one a second,
 * so a flood of garbage cannot flood the log too. */
static int col_log_allowed(void)
{
    static uint64_t last_s;
    static unsigned burst;
    uint64_t now = (uint64_t)time(NULL);

    if (now != last_s) {
        last_s = now;
        burst = 0;
    }
    return burst++ < 3;
}

static uint64_t col_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The stop's deadline, fixed by whichever thread sees the signal first
 * (0 while there is no stop). */
static uint64_t col_stop_deadline(void)
{
    uint64_t at = __atomic_load_n(&col_stop_at, __ATOMIC_ACQUIRE), none = 0;

    if (at || !col_stop)
        return at;
    at = col_now_ms() + (uint64_t)col_opt.stop_ms;
    if (!__atomic_compare_exchange_n(&col_stop_at, &none, at, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        at = none;
    return at;
}

/* Stopping, and the part of the stop for handling what is queued is over:
 * the last fifth is for writing what the sinks hold and for forwarding. */
static int col_stop_handling_over(void)
{
    uint64_t at = col_stop ? col_stop_deadline() : 0;

    return at && col_now_ms() + (uint64_t)col_opt.stop_ms / 5 >= at;
}

/* What is left of the stop's time, in ms. */
static long col_stop_left_ms(void)
{
    uint64_t at = col_stop_deadline(), now = col_now_ms();

    return at > now ? (long)(at - now) : 0;
}

/* --stop-timeout SECONDS: not negative, at most a day. */
static int col_stop_option(const char *v)
{
    char *end;
    double s = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || !(s >= 0 && s <= 86400)) {
        fprintf(stderr, "spanshim-collector: --stop-timeout needs seconds: %s\n", v);
        return 0;
    }
    col_opt.stop_ms = (long)(s * 1000);
    return 1;
}

static void col_on_signal(int sig)
{
    if (sig == SIGHUP)
        col_reopen = 1;
    else
        col_stop = 1;
}

/* A --tail-* value: a number, not negative (the ratio at most 1). */
static int col_tail_option(int c, const char *v)
{
    char *end;
    double x = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || x < 0 || (c == 'R' && x > 1) ||
        (c != 'R' && x != (double)(long)x)) {
        fprintf(stderr, "spanshim-collector: bad value for a --tail option: %s\n", v);
        return 0;
    }
    switch (c) {
    case 'W':
        col_opt.tail_cfg.wait_ms = (long)x;
        break;
    case 'L':
        col_opt.tail_cfg.latency_ms = (long)x;
        break;
    case 'R':
        col_opt.tail_cfg.ratio = x;
        break;
    case 'N':
        col_opt.tail_cfg.max_traces = (size_t)x;
        break;
    case 'M':
        if (x > (double)(SIZE_MAX >> 21)) {
            fprintf(stderr, "spanshim-collector: --tail-max-mb too large: %s\n", v);
            return 0;
        }
        col_opt.tail_cfg.max_bytes = (size_t)x << 20;
        break;
    default:
        col_opt.tail_cfg.max_spans = (size_t)x;
    }
    return 1;
}

/* --allow-uid UID[,UID...] (user names too), repeatable. */
static int col_parse_uids(char *list)
{
    char *save = NULL, *u;

    for (u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        struct passwd *pw = getpwnam(u);
        char *end;
        long v = strtol(u, &end, 10);

        if (col_opt.n_allow == COL_ALLOW_MAX) {
            fprintf(stderr, "spanshim-collector: at most %d --allow-uid values\n", COL_ALLOW_MAX);
            return 0;
        }
        if (pw)
            col_opt.allow[col_opt.n_allow++] = pw->pw_uid;
        else if (*u && *end == '\0' && v >= 0)
            col_opt.allow[col_opt.n_allow++] = (uid_t)v;
        else {
            fprintf(stderr, "spanshim-collector: no user %s\n", u);
            return 0;
        }
    }
    return 1;
}

/* --allow-descendants-of PID: a process that exists now. */
static int col_parse_root(const char *v)
{
    char *end, path[64];
    long pid = strtol(v, &end, 10);

    snprintf(path, sizeof(path), "/proc/%ld", pid);
    if (*v == '\0' || *end != '\0' || pid <= 0 || pid > INT32_MAX || access(path, F_OK) < 0) {
        fprintf(stderr, "spanshim-collector: --allow-descendants-of needs the pid of a running "
                        "process, not %s\n", v);
        return 0;
    }
    col_opt.descendants_of = (pid_t)pid;
    return 1;
}

static void col_usage(FILE *f)
{
    fprintf(f, "usage: spanshim-collector [--socket PATH] [--jsonl FILE] [--print] [OPTIONS]\n"
               "  --socket PATH  Unix datagram socket to receive on (default $SPANSHIM_SOCKET,\n"
               "                 else for root /run/spanshim/spanshim.sock, for others\n"
               "                 $XDG_RUNTIME_DIR/spanshim.sock or /tmp/spanshim-UID/spanshim.sock);\n"
               "                 never replaces a file that is not its own stale socket\n"
               "  --jsonl FILE   append each batch as one OTLP JSON line (a batch the file\n"
               "                 cannot take whole, as on a full disk, is cut back out of it,\n"
               "                 dropped and counted; the next one tries again)\n"
               "  --print        print each trace as a tree once it is complete (names\n"
               "                 escaped; at most 1000 spans a trace, 10000 held)\n"
               "  --socket-group GROUP\n"
               "                 members of GROUP may send too (the socket is owner-only)\n"
               "  --allow-uid UID[,UID...]\n"
               "                 accept datagrams only from these users (repeatable)\n"
               "  --allow-descendants-of PID\n"
               "                 any uid may reach the socket, but only datagrams from PID,\n"
               "                 its descendants (whatever user they became) and this\n"
               "                 collector's uid are accepted (how `spanshim run` starts it)\n"
               "  --queue-mb N   hold at most N MiB of datagrams not yet handled (256)\n"
               "  --metrics-listen HOST:PORT\n"
               "                 serve span metrics, the service graph and counters at\n"
               "                 http://HOST:PORT/metrics (Prometheus text)\n"
               "  --tail-sampling\n"
               "                 hold each trace until --tail-wait MS (5000) after its last span,\n"
               "                 then keep it if a span is an error or slower than\n"
               "                 --tail-latency MS (1000), else with probability --tail-ratio R\n"
               "                 (0.1); at most --tail-max-traces N (50000), --tail-max-spans N\n"
               "                 (1000000) and --tail-max-mb N MiB of decoded batches (256)\n"
               "                 held, the oldest decided early past any of them\n"
               "  --otlp-endpoint URL\n"
               "                 forward spans as OTLP/HTTP protobuf to URL/v1/traces (also\n"
               "                 OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT,\n"
               "                 _COMPRESSION=gzip, _CERTIFICATE)\n"
               "  --otlp-unix-socket PATH\n"
               "                 reach the OTLP endpoint through this Unix socket\n"
               "  --stop-timeout SECONDS\n"
               "                 after SIGTERM or SIGINT, exit within this time (5) whatever\n"
               "                 is queued: what is still unhandled or unsent then is counted\n"
               "  --quiet        no totals line at exit\n"
               "Datagrams nested more than " COL_STR(COL_WIRE_DEPTH_MAX) " messages deep or that "
               "would take more than\n" COL_STR(COL_ARENA_MAX_MB) " MiB decoded are refused, "
               "counted and logged, as is anything not OTLP.\n");
}

static int col_open_jsonl(void)
{
    int fd;

    if (col_opt.jsonl == NULL)
        return -1;
    fd = open(col_opt.jsonl, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        fprintf(stderr, "spanshim-collector: cannot open %s: %s\n", col_opt.jsonl,
                strerror(errno));
    return fd;
}

static size_t col_count_spans(const col_request_t *r)
{
    size_t n = 0, i, j;

    for (i = 0; i < r->n_resource_spans; i++)
        for (j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
            n += r->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

/* Take back the first `done` bytes of a line that could not be written
 * whole (the file is O_APPEND: it began at `start`). A file that cannot be
 * cut (a pipe) gets the newline instead, so only that line is broken. */
static void col_write_undo(int fd, off_t start, size_t done)
{
    struct stat st;

    if (done == 0)
        return;
    if (start >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size <= start || ftruncate(fd, start) == 0)
            return; /* (cut shorter meanwhile: logrotate's copytruncate) */
    }
    (void)!write(fd, "\n", 1);
    if (col_log_allowed())
        fprintf(stderr, "spanshim-collector: a partial line is left in %s: %s\n", col_opt.jsonl,
                strerror(errno));
}

/* Append b as one line, whole or not at all: a write cut short (a full
 * disk) is undone, so every line in the file is a whole batch and the
 * counters say exactly what can be read. The next batch tries again. */
static int col_write_line(int fd, col_buf_t *b)
{
    off_t start;
    size_t off = 0;

    col_buf_put(b, "\n", 1);
    if (b->oom) {
        fprintf(stderr, "spanshim-collector: out of memory formatting a batch; dropped\n");
        return 0;
    }
    start = lseek(fd, 0, SEEK_END);
    while (off < b->len) {
        ssize_t w = write(fd, b->p + off, b->len - off);
        int err = w < 0 ? errno : EIO;

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            col_write_undo(fd, start, off);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: write to %s failed: %s; batch dropped "
                                "(%llu so far)\n", col_opt.jsonl, strerror(err),
                        col_count.write_errors + 1);
            return 0;
        }
        off += (size_t)w;
    }
    return 1;
}

/* Queue the batch for the OTLP endpoint, as this collector understood it. */
static void col_forward(const col_request_t *r, size_t spans)
{
    size_t len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(r);
    uint8_t *pb = malloc(len ? len : 1);

    if (pb == NULL) {
        __atomic_add_fetch(&col_fwd_count.dropped_queue_full, spans, __ATOMIC_RELAXED);
        return;
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(r, pb);
    col_fwd_submit(pb, len, spans);
    free(pb);
}

/* Where spans go once kept: the .jsonl file, --print, the OTLP endpoint. */
static struct {
    int jfd;
    col_buf_t *b;
} col_sink = {-1, NULL};

static void col_emit(const col_request_t *r, size_t n)
{
    if (col_sink.jfd >= 0) {
        col_buf_reset(col_sink.b);
        col_json_request(col_sink.b, r);
        if (col_write_line(col_sink.jfd, col_sink.b)) {
            COL_COUNT(written, n);
        } else {
            COL_COUNT(write_errors, 1);
            COL_COUNT(unwritten, n);
        }
    }
    if (col_opt.print)
        col_print_add(stdout, r, col_now_ms());
    if (col_opt.fwd.url)
        col_forward(r, n);
}

static void col_count_refused(col_decode_err_t why)
{
    if (why == COL_DECODE_TOO_DEEP)
        COL_COUNT(too_deep, 1);
    else if (why == COL_DECODE_TOO_BIG)
        COL_COUNT(too_big, 1);
    else
        COL_COUNT(bad, 1);
}

static void col_handle(const col_dgram_t *d)
{
    static col_arena_t *arena;
    col_decode_err_t why;
    col_request_t *r;
    size_t n;

    COL_COUNT(datagrams, 1);
    if (arena == NULL && (arena = col_arena_new()) == NULL) {
        COL_COUNT(queue_full, 1); /* out of memory: as if the queue were full */
        return;
    }
    r = col_request_decode(arena, d->data, d->len, &why);
    if (r == NULL) {
        col_arena_reset(arena);
        col_count_refused(why);
        if (col_log_allowed())
            fprintf(stderr,
                    "spanshim-collector: ignored a datagram of %zu bytes from pid %d uid %u "
                    "that %s (%llu so far)\n",
                    d->len, (int)d->pid, (unsigned)d->uid, col_decode_reason(why),
                    col_count.bad + col_count.too_deep + col_count.too_big);
        return;
    }
    n = col_count_spans(r);
    COL_COUNT(decoded, 1);
    COL_COUNT(spans, n);
    if (n && col_opt.metrics_listen)
        col_metrics_add(r, col_now_ms()); /* before any sampling: exact */
    if (n && col_opt.tail) {
        col_tail_add(r, arena, col_now_ms()); /* it owns r and its arena now */
        arena = NULL;
        return;
    }
    if (n)
        col_emit(r, n);
    col_arena_reset(arena);
}

static int col_uid_allowed(uid_t uid)
{
    int i;

    if (col_opt.n_allow == 0)
        return 1;
    for (i = 0; i < col_opt.n_allow; i++)
        if (col_opt.allow[i] == uid)
            return 1;
    return 0;
}

/* Why the sender may not write; NULL if it may (counted if not). */
static const char *col_sender_refused(const struct ucred *who)
{
    col_lineage_t v;

    if (col_opt.descendants_of == 0) {
        if (col_uid_allowed(who->uid))
            return NULL;
        COL_COUNT(refused_uid, 1);
        return "not an allowed uid";
    }
    if (col_opt.n_allow && col_uid_allowed(who->uid))
        return NULL;
    v = col_lineage_check(who->pid, who->uid);
    if (col_lineage_accepted(v))
        return NULL;
    COL_COUNT(refused_lineage, 1);
    return v == COL_LINEAGE_OUTSIDE ? "not the traced program or a process it started"
                                    : "gone before it could be checked, and no process of the "
                                      "traced program ran as that uid";
}

static void col_enqueue(const uint8_t *data, ssize_t n, const struct ucred *who)
{
    col_dgram_t *d = NULL;
    const char *refused = col_sender_refused(who);

    if (refused) {
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: refused a datagram from pid %d uid %u: %s\n",
                    (int)who->pid, (unsigned)who->uid, refused);
        return;
    }
    if (n <= COL_DGRAM_MAX)
        d = malloc(sizeof(*d) + (size_t)n);
    pthread_mutex_lock(&col_q_lock);
    if (n > COL_DGRAM_MAX) {
        COL_COUNT(oversized, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: ignored an oversized datagram (%zd bytes) from "
                            "pid %d uid %u\n", n, (int)who->pid, (unsigned)who->uid);
    } else if (d == NULL || col_q_bytes + sizeof(*d) + (size_t)n > col_opt.queue_max) {
        if (COL_COUNT(queue_full, 1) == 1)
            fprintf(stderr, "spanshim-collector: falling behind; dropping batches\n");
        free(d);
    } else {
        d->next = NULL;
        d->len = (size_t)n;
        d->pid = who->pid;
        d->uid = who->uid;
        memcpy(d->data, data, (size_t)n);
        *col_q_tail = d;
        col_q_tail = &d->next;
        col_q_bytes += sizeof(*d) + (size_t)n;
        pthread_cond_signal(&col_q_cond);
    }
    pthread_mutex_unlock(&col_q_lock);
}

/* One datagram (its full length, even if cut) and who sent it. */
static ssize_t col_recv(int fd, uint8_t *buf, struct ucred *who)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec v = {buf, COL_DGRAM_MAX};
    struct msghdr m;
    struct cmsghdr *c;
    ssize_t n;

    memset(&m, 0, sizeof(m));
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    m.msg_control = &ctl;
    m.msg_controllen = sizeof(ctl);
    who->pid = 0;
    who->uid = (uid_t)-1;
    who->gid = (gid_t)-1;
    n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_TRUNC);
    for (c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
            memcpy(who, CMSG_DATA(c), sizeof(*who));
    return n;
}

/* The receiving thread: empty the socket as fast as datagrams come; after
 * a stop, take what is still queued in the kernel, then finish. */
static void *col_receiver(void *arg)
{
    int fd = *(int *)arg;
    uint8_t *buf = malloc(COL_DGRAM_MAX);
    struct ucred who;

    while (buf) {
        struct pollfd p = {fd, POLLIN, 0};
        int stopping = col_stop;
        ssize_t n;

        if (!stopping && poll(&p, 1, 100) <= 0)
            continue;
        if (stopping && col_stop_handling_over())
            break; /* what still comes is lost with the socket, uncounted */
        n = col_recv(fd, buf, &who);
        if (n >= 0)
            col_enqueue(buf, n, &who);
        else if (stopping && errno != EINTR)
            break;
    }
    free(buf);
    pthread_mutex_lock(&col_q_lock);
    col_rx_done = 1;
    pthread_cond_signal(&col_q_cond);
    pthread_mutex_unlock(&col_q_lock);
    return NULL;
}

/* Wait up to 100 ms for datagrams; return them all (NULL if none). */
static col_dgram_t *col_take(int *done)
{
    struct timespec until;
    col_dgram_t *all;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&col_q_lock);
    if (col_q_head == NULL && !col_rx_done)
        pthread_cond_timedwait(&col_q_cond, &col_q_lock, &until);
    all = col_q_head;
    col_q_head = NULL;
    col_q_tail = &col_q_head;
    col_q_bytes = 0;
    *done = col_rx_done;
    pthread_mutex_unlock(&col_q_lock);
    return all;
}

/* Every counter in one line, at exit. */
static void col_log_totals(col_buf_t *b)
{
    col_buf_reset(b);
    col_buf_printf(b, "spanshim-collector: %llu spans in %llu datagrams", col_count.spans,
                   col_count.datagrams);
    if (col_opt.jsonl)
        col_buf_printf(b, ", %llu written to %s", col_count.written, col_opt.jsonl);
    col_buf_printf(b, "; %llu not OTLP, %llu nested too deep, %llu too big decoded, "
                      "%llu oversized, %llu dropped behind, %llu from refused uids",
                   col_count.bad, col_count.too_deep, col_count.too_big, col_count.oversized,
                   col_count.queue_full, col_count.refused_uid);
    if (col_opt.descendants_of)
        col_buf_printf(b, ", %llu from outside pid %d's processes", col_count.refused_lineage,
                       (int)col_opt.descendants_of);
    if (col_count.write_errors)
        col_buf_printf(b, ", %llu batches (%llu spans) not written", col_count.write_errors,
                       col_count.unwritten);
    if (col_count.unhandled)
        col_buf_printf(b, ", %llu datagrams not handled within the stop timeout",
                       col_count.unhandled);
    if (col_opt.print && (col_print_count.spans_cut || col_print_count.traces_early))
        col_buf_printf(b, "; --print left out %llu spans (over %d in a trace), printed %llu "
                          "traces early (over %d spans held)",
                       col_print_count.spans_cut, COL_PRINT_TRACE_SPANS,
                       col_print_count.traces_early, COL_PRINT_MAX_SPANS);
    if (col_opt.tail)
        col_buf_printf(b, "; tail sampling kept %llu traces (%llu errors, %llu slow, %llu by "
                          "ratio) and dropped %llu, %llu decided early, %llu spans held unwritten "
                          "at the stop timeout",
                       col_tail_count.traces_kept_error + col_tail_count.traces_kept_latency +
                           col_tail_count.traces_kept_probabilistic,
                       col_tail_count.traces_kept_error, col_tail_count.traces_kept_latency,
                       col_tail_count.traces_kept_probabilistic, col_tail_count.traces_dropped,
                       col_tail_count.traces_decided_early,
                       col_tail_count.spans_unwritten_at_stop);
    if (col_opt.fwd.url)
        col_buf_printf(b, "; forwarded to %s: %llu spans exported in %llu requests (%llu "
                          "retried), dropped %llu refused, %llu after retrying, %llu queue full, "
                          "%llu unsent at exit, %llu rejected in partial successes",
                       col_opt.fwd.url, col_fwd_count.exported_spans, col_fwd_count.requests,
                       col_fwd_count.retries, col_fwd_count.dropped_rejected,
                       col_fwd_count.dropped_retries, col_fwd_count.dropped_queue_full,
                       col_fwd_count.dropped_shutdown, col_fwd_count.partial_rejected);
    col_buf_put(b, "\n", 1);
    if (!b->oom)
        (void)!write(STDERR_FILENO, b->p, b->len);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"jsonl", required_argument, NULL, 'j'},
        {"print", no_argument, NULL, 'p'},        {"quiet", no_argument, NULL, 'q'},
        {"otlp-endpoint", required_argument, NULL, 'e'},
        {"otlp-unix-socket", required_argument, NULL, 'u'},
        {"socket-group", required_argument, NULL, 'g'},
        {"allow-uid", required_argument, NULL, 'a'},
        {"allow-descendants-of", required_argument, NULL, 'D'},
        {"queue-mb", required_argument, NULL, 'Q'},
        {"metrics-listen", required_argument, NULL, 'm'},
        {"tail-sampling", no_argument, NULL, 'T'},
        {"tail-wait", required_argument, NULL, 'W'},
        {"tail-latency", required_argument, NULL, 'L'},
        {"tail-ratio", required_argument, NULL, 'R'},
        {"tail-max-traces", required_argument, NULL, 'N'},
        {"tail-max-spans", required_argument, NULL, 'S'},
        {"tail-max-mb", required_argument, NULL, 'M'},
        {"stop-timeout", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *endpoint = NULL, *unix_socket = NULL;
    struct sigaction sa;
    col_buf_t b = {0};
    pthread_t rx;
    int c, fd, jfd, usage, fwd_done = 1;

    col_opt.queue_max = (size_t)256 << 20;
    col_opt.stop_ms = COL_STOP_MS;
    col_opt.tail_cfg.wait_ms = 5000;
    col_opt.tail_cfg.latency_ms = 1000;
    col_opt.tail_cfg.ratio = 0.1;
    col_opt.tail_cfg.max_traces = 50000;
    col_opt.tail_cfg.max_spans = 1000000;
    col_opt.tail_cfg.max_bytes = (size_t)256 << 20;
    while ((c = getopt_long(argc, argv, "s:j:pqh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            col_opt.socket_path = optarg;
            break;
        case 'j':
            col_opt.jsonl = optarg;
            break;
        case 'p':
            col_opt.print = 1;
            break;
        case 'q':
            col_opt.quiet = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'u':
            unix_socket = optarg;
            break;
        case 'g':
            col_opt.socket_group = optarg;
            break;
        case 'm':
            col_opt.metrics_listen = optarg;
            break;
        case 'T':
            col_opt.tail = 1;
            break;
        case 'W':
        case 'L':
        case 'R':
        case 'N':
        case 'M':
        case 'S':
            if (!col_tail_option(c, optarg))
                return 2;
            break;
        case 'O':
            if (!col_stop_option(optarg))
                return 2;
            break;
        case 'Q':
            col_opt.queue_max = (size_t)strtoul(optarg, NULL, 10) << 20;
            if (col_opt.queue_max == 0) {
                fprintf(stderr, "spanshim-collector: --queue-mb needs a number of MiB\n");
                return 2;
            }
            break;
        case 'a':
            if (!col_parse_uids(optarg))
                return 2;
            break;
        case 'D':
            if (!col_parse_root(optarg))
                return 2;
            break;
        case 'h':
            col_usage(stdout);
            return 0;
        default:
            col_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        col_usage(stderr);
        return 2;
    }
    col_opt.socket_path = col_socket_path(col_opt.socket_path, &usage);
    if (col_opt.socket_path == NULL)
        return usage ? 2 : 1;
    if (!col_fwd_configure(&col_opt.fwd, endpoint))
        return 2;
    col_opt.fwd.unix_socket = unix_socket;
    jfd = col_open_jsonl();
    if (col_opt.jsonl && jfd < 0)
        return 1;
    col_sink.jfd = jfd;
    col_sink.b = &b;
    if (col_opt.tail)
        col_tail_init(&col_opt.tail_cfg, col_emit);
    if (col_opt.descendants_of)
        col_lineage_init(col_opt.descendants_of, geteuid(), "/proc");
    fd = col_socket_bind(col_opt.socket_path, col_opt.socket_group, col_opt.descendants_of != 0);
    if (fd < 0)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = col_on_signal;
    sa.sa_flags = SA_RESTART; /* a signal must not cut a line --print is writing */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    {
        sigset_t all, old;

        /* Signals are for the main thread; the others only receive and send. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (col_opt.metrics_listen && !col_serve_start(col_opt.metrics_listen))
            return 1;
        if (col_opt.fwd.url && !col_fwd_start(&col_opt.fwd)) {
            fprintf(stderr, "spanshim-collector: cannot start forwarding to %s\n",
                    col_opt.fwd.url);
            return 1;
        }
        if (pthread_create(&rx, NULL, col_receiver, &fd) != 0) {
            fprintf(stderr, "spanshim-collector: cannot start the receiving thread\n");
            return 1;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    for (;;) {
        int done;
        col_dgram_t *d = col_take(&done);

        while (d) {
            col_dgram_t *next = d->next;

            if (col_stop_handling_over())
                COL_COUNT(unhandled, 1);
            else
                col_handle(d);
            free(d);
            d = next;
        }
        if (col_reopen) {
            col_reopen = 0;
            if (jfd >= 0) {
                int nfd = col_open_jsonl();

                if (nfd >= 0) {
                    close(jfd);
                    jfd = col_sink.jfd = nfd;
                }
            }
        }
        if (col_opt.tail && done)
            col_tail_stop(col_now_ms, col_stop_deadline()); /* every trace held, in time */
        else if (col_opt.tail)
            col_tail_due(col_now_ms(), 0);
        if (col_opt.print)
            col_print_due(stdout, col_now_ms(), done);
        if (done)
            break;
    }
    pthread_join(rx, NULL);
    col_socket_remove();
    if (col_opt.fwd.url)
        fwd_done = col_fwd_stop(col_stop_left_ms()); /* queued spans go first, within the stop */
    col_serve_stop();
    if (!col_opt.quiet || col_count.bad || col_count.too_deep || col_count.too_big ||
        col_count.oversized || col_count.write_errors || col_count.queue_full ||
        col_count.refused_uid || col_count.refused_lineage || col_count.unhandled)
        col_log_totals(&b);
    col_buf_free(&b);
    if (!fwd_done) { /* the sending thread is still in libcurl: no exit handlers under it */
        fflush(NULL);
        _exit(0);
    }
    return 0;
}
