/*
 * ex_batch.c - batching spans into datagrams (see ex_batch.h); the socket
 * they leave on is ex_transport's. It keeps the host the exporter was
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
#include <string.h>
#include <time.h>
#include <unistd.h>

ex_host_t ex_host;

static ss_lock_t ex_lock = SS_LOCK_INIT;
static uint8_t ex_spans[EX_BATCH_MAX];
static size_t ex_spans_len;
static unsigned ex_spans_n;
static uint64_t ex_oldest_ns;   /* monotonic: the flush thread's test */
static uint64_t ex_oldest_end;  /* its span's end (wall clock): a span's own test */
static uint8_t ex_resource[EX_RESOURCE_MAX];
static size_t ex_resource_len;
static int ex_thread_started;
static int ex_thread_running;   /* the flush thread exists in this process */

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

/* Spans (len bytes in iov[1..n_iov]) as one datagram in this process's
 * envelope, which goes into iov[0]. */
static ex_tx_t ex_send_iov(struct iovec *iov, unsigned n_iov, size_t len)
{
    static uint8_t env[EX_ENVELOPE_MAX], loss[EX_LOSS_ATTRS_MAX];
    struct msghdr msg;
    size_t loss_len;
    ex_tx_t res;

    loss_len = ex_loss_attrs(loss, sizeof(loss)); /* 0 until a span is lost */
    iov[0].iov_base = env;
    iov[0].iov_len = ex_otlp_envelope_more(ex_resource, ex_resource_len, loss, loss_len, len,
                                           env, sizeof(env));
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = 1 + n_iov;
    res = ex_transport_send(&msg);
    if (loss_len && res == EX_TX_SENT)
        ex_loss_told();
    return res;
}

static ex_tx_t ex_send_spans(const uint8_t *spans, size_t len)
{
    struct iovec iov[2];

    iov[1].iov_base = (void *)spans;
    iov[1].iov_len = len;
    return ex_send_iov(iov, 1, len);
}

/* What became of n spans, counted. */
static void ex_account(ex_tx_t res, unsigned n)
{
    ex_count(ex_host.spans[res], n);
    if (res == EX_TX_SENT)
        ex_count(ex_host.batches_sent, 1);
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

    while ((k = ex_backlog_oldest(iov + 1, EX_BACKLOG_JOIN, ex_transport_dgram_room(), &len,
                                  &n)) != 0) {
        ex_tx_t res = ex_send_iov(iov, k, len);

        if (res == EX_TX_BUSY && !drop)
            return;
        ex_account(res, n);
        ex_backlog_pop(k);
    }
}

static void ex_batch_reset(void)
{
    ex_spans_len = 0;
    ex_spans_n = 0;
}

/* Send the batch as one datagram, after any left waiting. Returns 0 if
 * something was kept for later (the batch, or the backlog). */
static int ex_flush_locked(int mode)
{
    ex_tx_t res = EX_TX_BUSY;

    if (ex_backlog_count())
        ex_send_backlog(mode == EX_DROP_ALL);
    if (ex_spans_n == 0)
        return ex_backlog_count() == 0;
    if (ex_backlog_count() == 0) /* else the socket is full: the older ones go first */
        res = ex_send_spans(ex_spans, ex_spans_len);
    if (res == EX_TX_BUSY && mode != EX_DROP_ALL) {
        /* The collector is behind: a batch with room left waits for it; a
         * full one waits in the backlog while a new one fills. */
        if (mode == EX_KEEP_IF_FULL && ex_spans_len + EX_SPAN_MAX <= EX_BATCH_MAX)
            return 0;
        if (ex_backlog_put(ex_spans, ex_spans_len, ex_spans_n)) {
            ex_batch_reset();
            return 0;
        }
    }
    ex_account(res, ex_spans_n);
    ex_batch_reset();
    return ex_backlog_count() == 0;
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

static void *ex_flusher(void *arg)
{
    const struct timespec ts = {0, EX_FLUSH_MS * 1000000L / 4}, soon = {0, 2 * 1000000L};
    uint64_t last_tick = ex_mono_ns(), now;

    (void)arg;
    for (;;) {
        /* Batches waiting for a busy collector: look again soon. */
        nanosleep(ex_backlog_count() ? &soon : &ts, NULL);
        if (ex_host.tick && (now = ex_mono_ns()) - last_tick >= ex_host.tick_ms * 1000000ull) {
            last_tick = now;
            ex_host.tick(now);
        }
        ss_lock(&ex_lock);
        if (ex_backlog_count() ||
            (ex_spans_n && ex_mono_ns() - ex_oldest_ns >= EX_FLUSH_MS * 1000000ull))
            ex_flush_locked(EX_KEEP_IF_FULL);
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

/* A batch without room for the largest span (one a busy collector kept
 * waiting): s is encoded on the side, outside the lock, then copied after
 * what a flush left. */
static size_t ex_batch_put_copied(const ss_span_t *s)
{
    uint8_t buf[EX_SPAN_MAX];
    size_t n;

    ss_unlock(&ex_lock);
    n = ex_otlp_span(s, buf, sizeof(buf));
    ss_lock(&ex_lock);
    if (n == 0)
        return 0;
    if (ex_spans_len + n > sizeof(ex_spans))
        ex_flush_locked(EX_DROP_IF_FULL);
    memcpy(ex_spans + ex_spans_len, buf, n);
    return n;
}

void ex_batch_add(const ss_span_t *s)
{
    int saved = errno;
    size_t n;

    ss_lock(&ex_lock);
    /* Nearly always (a batch leaves at half full) the largest span fits
     * at the batch's end: s is encoded there, under the lock as a batch
     * is sent under it, not on the stack and then copied. */
    if (sizeof(ex_spans) - ex_spans_len >= EX_SPAN_MAX)
        n = ex_otlp_span(s, ex_spans + ex_spans_len, EX_SPAN_MAX);
    else
        n = ex_batch_put_copied(s);
    if (n == 0) {
        ss_unlock(&ex_lock);
        ex_count(ex_host.spans_unencodable, 1);
        errno = saved;
        return;
    }
    ex_spans_len += n;
    /* A batch's age is measured from a span's end, which every span has
     * read already: no clock read a span (a clock set back only leaves the
     * test to the flush thread, which reads the monotonic one). */
    if (ex_spans_n++ == 0) {
        ex_oldest_ns = ex_mono_ns();
        ex_oldest_end = s->end_ns;
    } else if (ex_spans_len >= EX_BATCH_MAX / 2 ||
               (int64_t)(s->end_ns - ex_oldest_end) >= (int64_t)EX_FLUSH_MS * 1000000) {
        ex_flush_locked(EX_KEEP_IF_FULL);
    }
    if (!ex_thread_started)
        ex_start_flusher();
    ss_unlock(&ex_lock);
    errno = saved;
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
    ss_lock_reset(&ex_lock);
    ex_batch_reset();          /* the parent ships its own spans */
    ex_backlog_after_fork();
    ex_thread_started = !may_start_thread; /* threads do not survive fork */
    ex_transport_after_fork();
    ex_loss_after_fork();
    ex_encode_resource();      /* a new process.pid */
}
