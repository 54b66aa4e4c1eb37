/*
 * ex_batch.c - batching spans and log records into datagrams (see
 * ex_batch.h); the socket they leave on is ex_transport's. It keeps the host the exporter was
 * started with (ex_host.h).
 */
#define _GNU_SOURCE
#include "ex_batch.h"
#include "ex_backlog.h"
#include "ex_host.h"
#include "ex_loss.h"
#include "ex_otlp.h"
#include "ex_transport.h"
#include "ss_lock.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(EX_BATCH_MAX <= EX_DGRAM_SPANS_MAX, "a batch fits a datagram the collector takes");

ex_host_t ex_host;

static ss_lock_t ex_lock = SS_LOCK_INIT;

/* A batch being filled: spans, or log records. */
typedef struct ex_buf {
    size_t len;
    unsigned n;
    uint64_t oldest_ns;      /* monotonic: the flush thread's test */
    uint64_t oldest_end;     /* spans: its end (wall clock), a span's own test */
    size_t rec_max;          /* the largest record of its kind, encoded */
    uint8_t *data;           /* EX_BATCH_MAX bytes */
} ex_buf_t;

static uint8_t ex_spans_data[EX_BATCH_MAX], ex_logs_data[EX_BATCH_MAX];
static ex_buf_t ex_bufs[2] = {
    [EX_BATCH_SPANS] = {0, 0, 0, 0, EX_SPAN_MAX, ex_spans_data},
    [EX_BATCH_LOGS] = {0, 0, 0, 0, EX_LOG_MAX, ex_logs_data},
};
static uint8_t ex_resource[EX_RESOURCE_MAX];
static size_t ex_resource_len;
static int ex_thread_started;
static int ex_thread_running;   /* the flush thread exists in this process */
/* 1 while the flush thread sleeps long, nothing having come for
 * EX_IDLE_MS: the next record wakes it (set and read under ex_lock; the
 * futex word it waits on). */
static int ex_flusher_asleep;

#define EX_IDLE_MS 1000

static int ex_argc;
static char **ex_argv;

static void ex_encode_resource(void)
{
    static char exe_path[PATH_MAX], host[256], extra[4096], service[512];
    ex_process_t p;
    ssize_t n;
    const char *v, *e;

    memset(&p, 0, sizeof(p));
    p.pid = (int)getpid();
    n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
    exe_path[n > 0 ? n : 0] = '\0';
    p.exe_path = exe_path;
    p.exe_name = strrchr(exe_path, '/') ? strrchr(exe_path, '/') + 1 : exe_path;
    p.command = ex_argv && ex_argc > 0 ? ex_argv[0] : NULL;
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        p.host_name = host;
    }
    if (ex_host.command_args && ex_argv) {
        p.argv = ex_argv;
        p.argc = ex_argc;
    }
    v = getenv("OTEL_RESOURCE_ATTRIBUTES");
    if (v && *v && !ex_otlp_parse_resource_attrs(v, extra, sizeof(extra)))
        ex_host.log(EX_LOG_WARN, "OTEL_RESOURCE_ATTRIBUTES could not be decoded; ignored");
    p.extra = extra;
    v = getenv("OTEL_SERVICE_NAME");
    if (v == NULL || *v == '\0') {
        v = NULL;
        for (e = extra; *e; e += strlen(e) + 1, e += strlen(e) + 1)
            if (strcmp(e, "service.name") == 0)
                v = e + strlen(e) + 1;
    }
    if (v == NULL || *v == '\0') {
        snprintf(service, sizeof(service), "unknown_service:%s", p.exe_name);
        v = service;
    }
    p.service_name = v;
    ex_resource_len = ex_otlp_resource(&p, ex_resource, sizeof(ex_resource));
    if (ex_resource_len == 0 && p.argv) {
        p.argv = NULL; /* command line too long: leave it out */
        ex_resource_len = ex_otlp_resource(&p, ex_resource, sizeof(ex_resource));
    }
}

void ex_batch_init(const ex_host_t *host, int argc, char **argv)
{
    ex_host = *host;
    ex_argc = argc;
    ex_argv = argv;
    ex_encode_resource();
}

/* How a flush treats a collector whose queue is full. */
enum {
    EX_KEEP_IF_FULL,   /* keep the batch for a later try (it still has room) */
    EX_DROP_IF_FULL,   /* the batch must go now: to the backlog, else dropped */
    EX_DROP_ALL,       /* the last chance (exit, exec): the backlog too */
};

/* Records of kind (len bytes in iov[1..n_iov]) as one datagram in this
 * process's envelope, which goes into iov[0], with the loss counts when
 * there are some to tell (ex_loss.h), whichever the kind; a logs datagram
 * begins with the frame (ex_otlp.h). */
static ex_tx_t ex_send_iov(struct iovec *iov, unsigned n_iov, size_t len, int kind)
{
    static uint8_t env[EX_FRAME_LEN + EX_ENVELOPE_MAX], loss[EX_LOSS_ATTRS_MAX];
    struct msghdr msg;
    size_t loss_len = 0, at = 0;
    ex_tx_t res;

    if (kind == EX_BATCH_LOGS) {
        memcpy(env, EX_FRAME_LOGS, EX_FRAME_LEN);
        at = EX_FRAME_LEN;
    }
    loss_len = ex_loss_attrs(loss, sizeof(loss)); /* 0 until a span or record is lost */
    iov[0].iov_base = env;
    iov[0].iov_len = at + ex_otlp_envelope_more(ex_resource, ex_resource_len, loss, loss_len,
                                                len, env + at, sizeof(env) - at);
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = 1 + n_iov;
    res = ex_transport_send(&msg);
    if (loss_len && res == EX_TX_SENT)
        ex_loss_told();
    return res;
}

static ex_tx_t ex_send_buf(const ex_buf_t *b, int kind)
{
    struct iovec iov[2];

    iov[1].iov_base = b->data;
    iov[1].iov_len = b->len;
    return ex_send_iov(iov, 1, b->len, kind);
}

/* What became of n records of kind, counted. */
static void ex_account(ex_tx_t res, unsigned n, int kind)
{
    if (res == EX_TX_SENT)
        ex_count(ex_host.batches_sent, 1);
    if (kind == EX_BATCH_LOGS) {
        if (ex_host.logs[res])
            ex_count(ex_host.logs[res], n);
        ex_loss_note_logs(res, n);
        return;
    }
    ex_count(ex_host.spans[res], n);
    ex_loss_note(res, n);
}

/* The batches a busy collector left waiting, oldest first (several a
 * datagram where the send buffer has room), until it is busy again (then,
 * if drop, they are dropped). */
static void ex_send_backlog(int drop)
{
    struct iovec iov[1 + EX_BACKLOG_JOIN];
    size_t len;
    unsigned k, n;
    int kind;

    while ((k = ex_backlog_oldest(iov + 1, EX_BACKLOG_JOIN, ex_transport_dgram_room(), &len,
                                  &n, &kind)) != 0) {
        ex_tx_t res = ex_send_iov(iov, k, len, kind);

        if (res == EX_TX_BUSY && !drop)
            return;
        ex_account(res, n, kind);
        ex_backlog_pop(k);
    }
}

static void ex_buf_reset(ex_buf_t *b)
{
    b->len = 0;
    b->n = 0;
}

/* Send one batch as one datagram (the backlog has been tried). Returns 0
 * if it was kept for later (in place, or in the backlog). */
static int ex_flush_buf(int kind, int mode)
{
    ex_buf_t *b = &ex_bufs[kind];
    ex_tx_t res = EX_TX_BUSY;

    if (b->n == 0)
        return 1;
    if (mode == EX_DROP_IF_FULL && b->len + b->rec_max <= EX_BATCH_MAX)
        mode = EX_KEEP_IF_FULL; /* the other kind's batch is the full one */
    if (ex_backlog_count() == 0) /* else the socket is full: the older ones go first */
        res = ex_send_buf(b, kind);
    if (res == EX_TX_BUSY && mode != EX_DROP_ALL) {
        /* The collector is behind: a batch with room left waits for it; a
         * full one waits in the backlog while a new one fills. */
        if (mode == EX_KEEP_IF_FULL && b->len + b->rec_max <= EX_BATCH_MAX)
            return 0;
        if (ex_backlog_put(b->data, b->len, b->n, kind)) {
            ex_buf_reset(b);
            return 0;
        }
    }
    ex_account(res, b->n, kind);
    ex_buf_reset(b);
    return 1;
}

/* Send both batches, after any left waiting. Returns 0 if something was
 * kept for later (a batch, or the backlog). */
static int ex_flush_locked(int mode)
{
    int spans, logs;

    if (ex_backlog_count())
        ex_send_backlog(mode == EX_DROP_ALL);
    spans = ex_flush_buf(EX_BATCH_SPANS, mode);
    logs = ex_flush_buf(EX_BATCH_LOGS, mode);
    return spans && logs && ex_backlog_count() == 0;
}

void ex_batch_flush(void)
{
    struct timespec pause = {0, 5 * 1000 * 1000};
    int saved = errno, tries;

    /* Last chance (exit, exec): give a busy collector up to 100 ms. */
    ss_lock(&ex_lock);
    for (tries = 0; tries < 20 && !ex_flush_locked(EX_KEEP_IF_FULL); tries++) {
        ss_unlock(&ex_lock);
        nanosleep(&pause, NULL);
        ss_lock(&ex_lock);
    }
    ex_flush_locked(EX_DROP_ALL);
    ss_unlock(&ex_lock);
    errno = saved;
}

/* A batch whose oldest record has waited EX_FLUSH_MS. */
static int ex_buf_old(const ex_buf_t *b, uint64_t now)
{
    return b->n && now - b->oldest_ns >= EX_FLUSH_MS * 1000000ull;
}

/* Nothing waits to be sent (ex_lock held). */
static int ex_nothing_waits(void)
{
    return ex_bufs[EX_BATCH_SPANS].n == 0 && ex_bufs[EX_BATCH_LOGS].n == 0 &&
           ex_backlog_count() == 0;
}

/* The flush thread's long sleep, once nothing has waited for EX_IDLE_MS:
 * until the host's next tick is due (never, without one: 10 s), or the
 * next record. A traced program that has gone idle wakes it once a second
 * (the in-flight walk's tick), not 20 times. */
static void ex_flusher_idle(void)
{
    unsigned ms = ex_host.tick ? ex_host.tick_ms : 10000;
    struct timespec long_ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    int asleep;

    ss_lock(&ex_lock);
    asleep = ex_nothing_waits();
    __atomic_store_n(&ex_flusher_asleep, asleep, __ATOMIC_RELAXED);
    ss_unlock(&ex_lock);
    if (asleep)
        syscall(SYS_futex, &ex_flusher_asleep, FUTEX_WAIT_PRIVATE, 1, &long_ts, NULL, 0);
    __atomic_store_n(&ex_flusher_asleep, 0, __ATOMIC_RELAXED);
}

/* The first record of a batch: a flush thread asleep long wakes (ex_lock held). */
static void ex_flusher_wake(void)
{
    if (__atomic_load_n(&ex_flusher_asleep, __ATOMIC_RELAXED)) {
        __atomic_store_n(&ex_flusher_asleep, 0, __ATOMIC_RELAXED);
        syscall(SYS_futex, &ex_flusher_asleep, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

static void *ex_flusher(void *arg)
{
    const struct timespec ts = {0, EX_FLUSH_MS * 1000000L / 4}, soon = {0, 2 * 1000000L};
    uint64_t last_tick = ex_mono_ns(), now, quiet_since = 0;

    (void)arg;
    /* Out of the program's fd table, so that its calls on fds are not
     * taxed for a thread that sleeps (ss_owntable.c says how much). */
    if (ex_host.leave_fd_table && ex_host.leave_fd_table())
        ex_transport_own_table();
    for (;;) {
        /* Batches waiting for a busy collector: look again soon; nothing
         * for EX_IDLE_MS: sleep long. */
        if (quiet_since && ex_mono_ns() - quiet_since >= EX_IDLE_MS * 1000000ull)
            ex_flusher_idle();
        else
            nanosleep(ex_backlog_count() ? &soon : &ts, NULL);
        if (ex_host.tick && (now = ex_mono_ns()) - last_tick >= ex_host.tick_ms * 1000000ull) {
            last_tick = now;
            ex_host.tick(now);
        }
        ss_lock(&ex_lock);
        now = ex_mono_ns();
        if (ex_backlog_count() || ex_buf_old(&ex_bufs[EX_BATCH_SPANS], now) ||
            ex_buf_old(&ex_bufs[EX_BATCH_LOGS], now))
            ex_flush_locked(EX_KEEP_IF_FULL);
        if (!ex_nothing_waits())
            quiet_since = 0;
        else if (quiet_since == 0)
            quiet_since = now;
        ss_unlock(&ex_lock);
    }
    return NULL;
}

/* Started on the first span, never in a constructor; signals stay with
 * the program's threads. If it cannot start, spans still leave when the
 * batch fills, when a later span finds it old, and at exit. */
static void ex_start_flusher(void)
{
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;

    __atomic_store_n(&ex_thread_started, 1, __ATOMIC_RELAXED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    if (pthread_create(&t, &attr, ex_flusher, NULL) != 0)
        ex_host.log(EX_LOG_INFO, "no flush thread; spans leave with later ones or at exit");
    else
        __atomic_store_n(&ex_thread_running, 1, __ATOMIC_RELAXED);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A batch without room for the largest record (one a busy collector kept
 * waiting): the record is encoded on the side, outside the lock, then
 * copied after what a flush left. */
static size_t ex_batch_put_copied(ex_buf_t *b, int kind, const void *rec)
{
    uint8_t buf[EX_SPAN_MAX > EX_LOG_MAX ? EX_SPAN_MAX : EX_LOG_MAX];
    size_t n;

    ss_unlock(&ex_lock);
    n = kind == EX_BATCH_LOGS ? ex_otlp_log(rec, buf, EX_LOG_MAX)
                              : ex_otlp_span(rec, buf, EX_SPAN_MAX);
    ss_lock(&ex_lock);
    if (n == 0)
        return 0;
    if (b->len + n > EX_BATCH_MAX) {
        ex_flush_locked(EX_DROP_IF_FULL);
        if (b->len + n > EX_BATCH_MAX) { /* cannot happen: a flush empties it */
            ex_account(EX_TX_BUSY, 1, kind);
            return (size_t)-1;
        }
    }
    memcpy(b->data + b->len, buf, n);
    return n;
}

/* A record of kind into its batch: encoded in place at the batch's end,
 * under the lock as a batch is sent under it, nearly always (a batch leaves
 * at half full), not on the stack and then copied. */
static void ex_batch_put(int kind, const void *rec)
{
    ex_buf_t *b = &ex_bufs[kind];
    int saved = errno;
    size_t n;
    uint64_t now;

    ss_lock(&ex_lock);
    if (EX_BATCH_MAX - b->len >= b->rec_max)
        n = kind == EX_BATCH_LOGS ? ex_otlp_log(rec, b->data + b->len, EX_LOG_MAX)
                                  : ex_otlp_span(rec, b->data + b->len, EX_SPAN_MAX);
    else
        n = ex_batch_put_copied(b, kind, rec);
    if (n == 0 || n == (size_t)-1) {
        ss_unlock(&ex_lock);
        if (n == 0)
            ex_count(kind == EX_BATCH_LOGS ? ex_host.logs_unencodable : ex_host.spans_unencodable,
                     1);
        errno = saved;
        return;
    }
    b->len += n;
    if (kind == EX_BATCH_SPANS) {
        /* A batch of spans is aged from a span's end, which every span has
         * read already: no clock read a span (a clock set back only leaves
         * the test to the flush thread, which reads the monotonic one). */
        uint64_t end = ((const ss_span_t *)rec)->end_ns;

        if (b->n++ == 0) {
            b->oldest_ns = ex_mono_ns();
            b->oldest_end = end;
            ex_flusher_wake();
        } else if (b->len >= EX_BATCH_MAX / 2 ||
                   (int64_t)(end - b->oldest_end) >= (int64_t)EX_FLUSH_MS * 1000000)
            ex_flush_locked(EX_KEEP_IF_FULL);
    } else {
        now = ex_mono_ns();
        if (b->n++ == 0) {
            b->oldest_ns = now;
            ex_flusher_wake();
        } else if (b->len >= EX_BATCH_MAX / 2 || now - b->oldest_ns >= EX_FLUSH_MS * 1000000ull)
            ex_flush_locked(EX_KEEP_IF_FULL);
    }
    if (!ex_thread_started)
        ex_start_flusher();
    ss_unlock(&ex_lock);
    errno = saved;
}

void ex_batch_add(const ss_span_t *s)
{
    ex_batch_put(EX_BATCH_SPANS, s);
}

void ex_batch_add_log(const ss_logrec_t *r)
{
    ex_batch_put(EX_BATCH_LOGS, r);
}

void ex_batch_start(void)
{
    if (__atomic_load_n(&ex_thread_started, __ATOMIC_RELAXED))
        return;
    ss_lock(&ex_lock);
    if (!ex_thread_started)
        ex_start_flusher();
    ss_unlock(&ex_lock);
}

void ex_batch_tell_losses(void)
{
    ss_lock(&ex_lock);
    ex_loss_report();
    ss_unlock(&ex_lock);
}

int ex_batch_threads(void)
{
    return __atomic_load_n(&ex_thread_running, __ATOMIC_RELAXED); /* a fork may come from any thread */
}

void ex_batch_after_fork(int may_start_thread)
{
    ex_thread_running = 0;
    ex_flusher_asleep = 0;     /* the parent's thread, not this process's */
    ss_lock_reset(&ex_lock);
    ex_buf_reset(&ex_bufs[EX_BATCH_SPANS]); /* the parent ships its own spans */
    ex_buf_reset(&ex_bufs[EX_BATCH_LOGS]);  /* and log records */
    ex_backlog_after_fork();
    ex_thread_started = !may_start_thread; /* threads do not survive fork */
    ex_transport_after_fork();
    ex_loss_after_fork();
    ex_encode_resource();      /* a new process.pid */
}
