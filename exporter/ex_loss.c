/*
 * ex_loss.c - lost spans said once, and counted at exit (see ex_loss.h).
 *
 * Both lines go through the host's log (the real write() to stderr) at
 * EX_LOG_ERROR, the default level; SPANSHIM_LOG=off silences them.
 */
#define _GNU_SOURCE
#include "ex_loss.h"
#include "ex_host.h"
#include "ex_otlp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

static int ex_said_here;              /* until the first fork */
static int *ex_said = &ex_said_here;  /* then on a page the children share */
static unsigned long long ex_lost[EX_TX_OFF + 1];
static unsigned long long ex_logs_lost[EX_TX_OFF + 1];

static const char *const ex_lost_why[EX_TX_OFF + 1] = {
    [EX_TX_BUSY] = "the collector's socket full",
    [EX_TX_NOCOLLECTOR] = "no collector reached",
    [EX_TX_UNTRUSTED] = "its socket not trusted",
    [EX_TX_FDLIMIT] = "the fd table nearly full",
    [EX_TX_OFF] = "SPANSHIM_SOCKET unusable",
};

/* What the collector is told, by reason (spanshim.spans_dropped.<name>):
 * the transport's reasons counted here, and three of the host's counters,
 * which a fork child inherits and so counts from where they were then. */
static const char *const ex_lost_key[EX_TX_OFF] = {
    [EX_TX_BUSY] = "spanshim.spans_dropped.socket_full",
    [EX_TX_NOCOLLECTOR] = "spanshim.spans_dropped.no_collector",
    [EX_TX_UNTRUSTED] = "spanshim.spans_dropped.untrusted",
    [EX_TX_FDLIMIT] = "spanshim.spans_dropped.fd_limit",
};
/* Log records the same way (spanshim.logs_dropped.<name>), from the log
 * counts and the host's records too large to encode. */
static const char *const ex_logs_lost_key[EX_TX_OFF] = {
    [EX_TX_BUSY] = "spanshim.logs_dropped.socket_full",
    [EX_TX_NOCOLLECTOR] = "spanshim.logs_dropped.no_collector",
    [EX_TX_UNTRUSTED] = "spanshim.logs_dropped.untrusted",
    [EX_TX_FDLIMIT] = "spanshim.logs_dropped.fd_limit",
};
static uint64_t ex_unencodable_at_fork, ex_capped_at_fork, ex_busy_exit_at_fork,
    ex_logs_unencodable_at_fork, ex_logs_busy_at_fork;
static char ex_instance[17]; /* this process instance's id, drawn at its first loss */

/* The counts by key, as ex_loss_attrs lays them out: the spans' by
 * transport reason (EX_TX_BUSY..EX_TX_FDLIMIT), their three host counts,
 * then the log records' by transport reason, too large, and the lines
 * not captured because their stream was busy. */
enum {
    EX_LOSS_TOO_LARGE = EX_TX_OFF,
    EX_LOSS_STATE_CAP,
    EX_LOSS_BUSY_AT_EXIT,
    EX_LOSS_LOGS,                                /* + EX_TX_BUSY..EX_TX_FDLIMIT */
    EX_LOSS_LOGS_TOO_LARGE = EX_LOSS_LOGS + EX_TX_OFF,
    EX_LOSS_LOGS_STREAM_BUSY,
    EX_LOSS_KEYS
};
static uint64_t ex_offered[EX_LOSS_KEYS];  /* what ex_loss_attrs gave last */
static uint64_t ex_told[EX_LOSS_KEYS];     /* what a sent datagram carried */
static uint64_t ex_told_ns;                /* when; 0: never */

void ex_loss_note(ex_tx_t res, unsigned n)
{
    int *said = __atomic_load_n(&ex_said, __ATOMIC_ACQUIRE);

    if (res == EX_TX_SENT || res > EX_TX_OFF || n == 0)
        return;
    __atomic_add_fetch(&ex_lost[res], n, __ATOMIC_RELAXED);
    /* An unusable SPANSHIM_SOCKET was said when it was read. */
    if (res != EX_TX_OFF && !__atomic_exchange_n(said, 1, __ATOMIC_RELAXED))
        ex_host.log(EX_LOG_ERROR, "%s; spans are dropped (said once, counted at exit)",
               ex_transport_why());
}

void ex_loss_note_logs(ex_tx_t res, unsigned n)
{
    int *said = __atomic_load_n(&ex_said, __ATOMIC_ACQUIRE);

    if (res == EX_TX_SENT || res > EX_TX_OFF || n == 0)
        return;
    __atomic_add_fetch(&ex_logs_lost[res], n, __ATOMIC_RELAXED);
    if (res != EX_TX_OFF && !__atomic_exchange_n(said, 1, __ATOMIC_RELAXED))
        ex_host.log(EX_LOG_ERROR, "%s; log records are dropped (said once, counted at exit)",
                    ex_transport_why());
}

static void ex_loss_report_of(const unsigned long long *lost, const char *one, const char *many)
{
    char parts[256];
    unsigned long long total = 0;
    int len = 0, r;

    parts[0] = '\0';
    for (r = 0; r <= EX_TX_OFF; r++) {
        if (lost[r] == 0)
            continue;
        total += lost[r];
        if (len < (int)sizeof(parts))
            len += snprintf(parts + len, sizeof(parts) - (size_t)len, "%s%llu with %s",
                            len ? ", " : "", lost[r], ex_lost_why[r]);
    }
    if (total)
        ex_host.log(EX_LOG_ERROR, "%llu %s lost (%s)", total, total == 1 ? one : many, parts);
}

void ex_loss_report(void)
{
    ex_loss_report_of(ex_lost, "span", "spans");
    ex_loss_report_of(ex_logs_lost, "log record", "log records");
}

void ex_loss_before_fork(void)
{
    int saved = errno;
    void *page;

    if (__atomic_load_n(&ex_said, __ATOMIC_ACQUIRE) != &ex_said_here)
        return;
    page = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) {
        *(int *)page = __atomic_load_n(&ex_said_here, __ATOMIC_RELAXED);
        __atomic_store_n(&ex_said, (int *)page, __ATOMIC_RELEASE);
    }
    errno = saved;
}

static uint64_t ex_host_count(const uint64_t *counter)
{
    return counter ? __atomic_load_n(counter, __ATOMIC_RELAXED) : 0;
}

void ex_loss_after_fork(void)
{
    int r;

    for (r = 0; r <= EX_TX_OFF; r++)
        ex_lost[r] = ex_logs_lost[r] = 0; /* the parent tells its own */
    ex_unencodable_at_fork = ex_host_count(ex_host.spans_unencodable);
    ex_capped_at_fork = ex_host_count(ex_host.spans_capped);
    ex_busy_exit_at_fork = ex_host_count(ex_host.spans_busy_at_exit);
    ex_logs_unencodable_at_fork = ex_host_count(ex_host.logs_unencodable);
    ex_logs_busy_at_fork = ex_host_count(ex_host.logs_busy);
    ex_instance[0] = '\0'; /* another process instance */
    memset(ex_offered, 0, sizeof(ex_offered));
    memset(ex_told, 0, sizeof(ex_told));
    ex_told_ns = 0;
}

/* 64 random bits in hex; the clock and pid if the kernel has none to give. */
static void ex_draw_instance(void)
{
    uint64_t v;

    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
        v = ex_mono_ns() ^ (uint64_t)getpid() << 40;
    snprintf(ex_instance, sizeof(ex_instance), "%016llx", (unsigned long long)v);
}

static size_t ex_loss_kv(uint8_t *buf, size_t len, const char *key, uint64_t n)
{
    return n ? len + ex_otlp_resource_kv(buf + len, key, NULL, (int64_t)n) : len;
}

size_t ex_loss_attrs_at(uint8_t *buf, size_t cap, uint64_t now_ns)
{
    uint64_t c[EX_LOSS_KEYS], any = 0;
    size_t len = 0;
    int r;

    c[0] = c[EX_LOSS_LOGS] = 0; /* EX_TX_SENT: no loss */
    for (r = EX_TX_BUSY; r < EX_TX_OFF; r++) {
        c[r] = __atomic_load_n(&ex_lost[r], __ATOMIC_RELAXED);
        c[EX_LOSS_LOGS + r] = __atomic_load_n(&ex_logs_lost[r], __ATOMIC_RELAXED);
    }
    c[EX_LOSS_TOO_LARGE] = ex_host_count(ex_host.spans_unencodable) - ex_unencodable_at_fork;
    c[EX_LOSS_STATE_CAP] = ex_host_count(ex_host.spans_capped) - ex_capped_at_fork;
    c[EX_LOSS_BUSY_AT_EXIT] = ex_host_count(ex_host.spans_busy_at_exit) - ex_busy_exit_at_fork;
    c[EX_LOSS_LOGS_TOO_LARGE] =
        ex_host_count(ex_host.logs_unencodable) - ex_logs_unencodable_at_fork;
    c[EX_LOSS_LOGS_STREAM_BUSY] = ex_host_count(ex_host.logs_busy) - ex_logs_busy_at_fork;
    for (r = 0; r < EX_LOSS_KEYS; r++)
        any |= c[r];
    /* Thirteen keys under 40 bytes with their varints and the id: within. */
    if (any == 0 || cap < EX_LOSS_ATTRS_MAX)
        return 0;
    if (ex_told_ns && memcmp(c, ex_told, sizeof(c)) == 0 &&
        now_ns - ex_told_ns < EX_LOSS_REFRESH_S * 1000000000ull)
        return 0; /* the collector has these */
    memcpy(ex_offered, c, sizeof(c));
    if (ex_instance[0] == '\0')
        ex_draw_instance();
    len = ex_otlp_resource_kv(buf, "spanshim.loss.instance", ex_instance, 0);
    for (r = EX_TX_BUSY; r < EX_TX_OFF; r++)
        len = ex_loss_kv(buf, len, ex_lost_key[r], c[r]);
    len = ex_loss_kv(buf, len, "spanshim.spans_dropped.too_large", c[EX_LOSS_TOO_LARGE]);
    len = ex_loss_kv(buf, len, "spanshim.spans_dropped.state_cap", c[EX_LOSS_STATE_CAP]);
    len = ex_loss_kv(buf, len, "spanshim.spans_dropped.busy_at_exit", c[EX_LOSS_BUSY_AT_EXIT]);
    for (r = EX_TX_BUSY; r < EX_TX_OFF; r++)
        len = ex_loss_kv(buf, len, ex_logs_lost_key[r], c[EX_LOSS_LOGS + r]);
    len = ex_loss_kv(buf, len, "spanshim.logs_dropped.too_large", c[EX_LOSS_LOGS_TOO_LARGE]);
    return ex_loss_kv(buf, len, "spanshim.logs_dropped.stream_busy", c[EX_LOSS_LOGS_STREAM_BUSY]);
}

size_t ex_loss_attrs(uint8_t *buf, size_t cap)
{
    return ex_loss_attrs_at(buf, cap, ex_mono_ns());
}

void ex_loss_told(void)
{
    memcpy(ex_told, ex_offered, sizeof(ex_told));
    ex_told_ns = ex_mono_ns();
    if (ex_told_ns == 0)
        ex_told_ns = 1;
}
