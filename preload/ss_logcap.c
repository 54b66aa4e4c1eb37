/*
 * ss_logcap.c - log lines captured from the program's writes and
 * syslog(3) calls (see ss_logcap.h).
 *
 * Each log fd points at a stream: a line assembler, what it is (stdout,
 * stderr, a file and its path) and a lock. Streams 0 and 1 are fds 1 and
 * 2; files take a free one of the rest. The table is written under one
 * lock (opens, dups and closes of log fds: rare) and read without one; a
 * writer checks, under the stream's lock, that the stream is still its
 * fd's (a close racing in another thread may have given it away).
 *
 * Locks are taken in one order: the table's, a stream's (or the datagram
 * buffer's), the exporter's.
 */
#define _GNU_SOURCE
#include "ss_logcap.h"
#include "ss_conn.h"
#include "ss_init.h"
#include "ss_log.h"
#include "ss_logdgram.h"
#include "ss_logenrich.h"
#include "ss_logline.h"
#include "ss_logrec.h"
#include "ss_logsev.h"
#include "../exporter/ex_batch.h"
#include "../exporter/ss_lock.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct ss_logstream {
    ss_lock_t lock;
    int owner;                    /* the fd + 1; 0: free */
    uint8_t source;               /* SS_LOG_STDOUT, SS_LOG_STDERR, SS_LOG_FILE, SS_LOG_SYSLOG */
    uint8_t dgram;                /* SS_DGRAM_*: a socket, each write one message */
    char path[SS_LOGCAP_PATH_MAX];
    ss_enrich_line_t enrich;      /* SPANSHIM_LOG_ENRICH: the line as its fields need it */
    ss_logline_t line;
} ss_logstream_t;

uint8_t ss_logcap_fds[SS_LOGCAP_FDS];
static ss_logstream_t ss_streams[SS_LOGCAP_STREAMS];
static ss_lock_t ss_logcap_lock = SS_LOCK_INIT; /* the table and the streams' owners */
int ss_logcap_on = SS_LOGS_OFF;
int ss_logcap_enrich;

/* SPANSHIM_LOG_FILES, split at commas; those with a '/' match the whole
 * absolute path, the others the file's name. */
static char ss_globs_buf[1024];
static const char *ss_globs[SS_LOGCAP_GLOBS];
static int ss_nglobs, ss_globs_with_dir;

static const char *ss_syslog_ident;

/* The sockets local logs go to, by path. */
enum { SS_DGRAM_NONE, SS_DGRAM_SYSLOG, SS_DGRAM_JOURNAL };
static const struct {
    const char *path;
    uint8_t kind;
} ss_log_sockets[] = {
    {"/dev/log", SS_DGRAM_SYSLOG},
    {"/run/systemd/journal/dev-log", SS_DGRAM_SYSLOG},
    {"/run/systemd/journal/socket", SS_DGRAM_JOURNAL},
    {"/var/run/systemd/journal/socket", SS_DGRAM_JOURNAL},
};

/* Where a datagram of many pieces is put together (one at a time). */
static ss_lock_t ss_dgram_lock = SS_LOCK_INIT;
static char ss_dgram_buf[SS_LOGLINE_MAX + 1024];

static uint64_t ss_logcap_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ss_logcap_globs(const char *v)
{
    char *p;

    ss_nglobs = ss_globs_with_dir = 0;
    if (strlen(v) >= sizeof(ss_globs_buf))
        return -1;
    strcpy(ss_globs_buf, v);
    for (p = strtok(ss_globs_buf, ","); p; p = strtok(NULL, ",")) {
        if (*p == '\0')
            continue;
        if (ss_nglobs == SS_LOGCAP_GLOBS)
            return -1;
        ss_globs[ss_nglobs++] = p;
        if (strchr(p, '/'))
            ss_globs_with_dir = 1;
    }
    return 0;
}

int ss_logcap_configure(const char *mode, const char *globs)
{
    int rc = 0;

    ss_logcap_on = SS_LOGS_OFF;
    ss_logcap_enrich = 0;
    if (mode && *mode) {
        if (strcmp(mode, "span") == 0)
            ss_logcap_on = SS_LOGS_SPAN;
        else if (strcmp(mode, "all") == 0)
            ss_logcap_on = SS_LOGS_ALL;
        else if (strcmp(mode, "off") != 0)
            rc = -1;
    }
    if (globs == NULL || *globs == '\0')
        globs = "*.log";
    else if (strcmp(globs, "none") == 0)
        globs = "";
    if (ss_logcap_globs(globs) < 0) {
        ss_logcap_globs("*.log");
        rc = -1;
    }
    return rc;
}

int ss_logcap_configure_enrich(const char *v)
{
    ss_logcap_enrich = 0;
    if (v == NULL || *v == '\0' || strcmp(v, "off") == 0)
        return 0;
    if (strcmp(v, "on") != 0)
        return -1;
    ss_logcap_enrich = 1;
    if (ss_logcap_on == SS_LOGS_OFF)
        ss_logcap_on = SS_LOGS_FDS; /* log fds followed for the fields alone: no records */
    return 0;
}

int ss_logcap_mode(void)
{
    return ss_logcap_on;
}

/* ---- records ------------------------------------------------------------ */

static void ss_logcap_put(ss_logrec_t *r, const char *line, size_t len, int cut)
{
    if (!ss_conn_log_ctx(&r->ctx)) {
        if (ss_logcap_on != SS_LOGS_ALL) {
            SS_COUNT(logs_outside_span);
            return;
        }
        memset(&r->ctx, 0, sizeof(r->ctx));
    }
    r->body = line;
    r->body_len = (uint32_t)len;
    r->cut = (uint8_t)cut;
    r->observed_ns = ss_logcap_now();
    ex_batch_add_log(r);
    SS_COUNT(logs_captured);
    if (cut)
        SS_COUNT(logs_truncated);
}

/* A line of a stream (ss_logline_fn). */
static void ss_logcap_line(void *arg, const char *line, size_t len, int cut, uint64_t first_ns)
{
    const ss_logstream_t *s = arg;
    ss_logsev_t sev;
    ss_logrec_t r;

    memset(&r, 0, sizeof(r));
    ss_logsev_of(line, len, &sev);
    r.time_ns = first_ns;
    r.severity = sev.number;
    r.severity_text = sev.text;
    r.severity_text_len = sev.text_len;
    r.source = s->source;
    r.path = s->source == SS_LOG_FILE ? s->path : NULL;
    ss_logcap_put(&r, line, len, cut);
}

/* A datagram of kind (n bytes of iov) as the message it holds. */
static void ss_logcap_dgram(int kind, const struct iovec *iov, int cnt, size_t n)
{
    char ident[65];
    ss_logmsg_t m;
    ss_logsev_t sev;
    ss_logrec_t r;
    const char *p;
    size_t len = 0, cap = sizeof(ss_dgram_buf);
    int i, locked = 0, cut = 0;

    if (cnt == 1 || (cnt > 1 && iov[0].iov_len >= n)) {
        p = iov[0].iov_base;
        len = n < iov[0].iov_len ? n : iov[0].iov_len;
    } else {
        ss_lock(&ss_dgram_lock);
        locked = 1;
        for (i = 0; i < cnt && len < n && len < cap; i++) {
            size_t take = iov[i].iov_len;

            if (take > n - len)
                take = n - len;
            if (take > cap - len) {
                take = cap - len;
                cut = 1;
            }
            memcpy(ss_dgram_buf + len, iov[i].iov_base, take);
            len += take;
        }
        p = ss_dgram_buf;
    }
    if (kind == SS_DGRAM_JOURNAL ? ss_logdgram_journal(p, len, &m)
                                 : ss_logdgram_syslog(p, len, &m)) {
        memset(&r, 0, sizeof(r));
        if (m.body_len > SS_LOGLINE_MAX) {
            m.body_len = SS_LOGLINE_MAX;
            cut = 1;
        }
        if (m.pri >= 0) {
            ss_logsev_syslog((unsigned)m.pri, &sev);
        } else {
            ss_logsev_of(m.body, m.body_len, &sev);
        }
        r.time_ns = ss_logcap_now();
        r.severity = sev.number;
        r.severity_text = sev.text;
        r.severity_text_len = sev.text_len;
        r.source = SS_LOG_SYSLOG;
        if (m.ident_len) {
            size_t k = m.ident_len < sizeof(ident) - 1 ? m.ident_len : sizeof(ident) - 1;

            memcpy(ident, m.ident, k);
            ident[k] = '\0';
            r.ident = ident;
        }
        ss_logcap_put(&r, m.body, m.body_len, cut);
    }
    if (locked)
        ss_unlock(&ss_dgram_lock);
}

static int ss_logcap_socket_kind(const struct sockaddr *addr, socklen_t alen)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)(const void *)addr;
    size_t max, i;

    if (addr == NULL || addr->sa_family != AF_UNIX ||
        alen <= offsetof(struct sockaddr_un, sun_path))
        return SS_DGRAM_NONE;
    max = alen - offsetof(struct sockaddr_un, sun_path);
    if (max > sizeof(un->sun_path))
        max = sizeof(un->sun_path);
    for (i = 0; i < sizeof(ss_log_sockets) / sizeof(ss_log_sockets[0]); i++) {
        size_t l = strlen(ss_log_sockets[i].path);

        if (max >= l && memcmp(un->sun_path, ss_log_sockets[i].path, l) == 0 &&
            (max == l || un->sun_path[l] == '\0'))
            return ss_log_sockets[i].kind;
    }
    return SS_DGRAM_NONE;
}

void ss_logcap_sent_to(const struct sockaddr *addr, socklen_t alen, const struct iovec *iov,
                       int cnt, size_t n)
{
    int kind;

    if (!ss_logcap_records() || (kind = ss_logcap_socket_kind(addr, alen)) == 0)
        return;
    ss_logcap_dgram(kind, iov, cnt, n);
}

/* Under s->lock: n bytes of iov from byte skip to the stream's lines. */
static void ss_logcap_feed(ss_logstream_t *s, const struct iovec *iov, int cnt, size_t skip,
                           size_t n, uint64_t now)
{
    int i;

    for (i = 0; i < cnt && n > 0; i++) {
        const char *p = iov[i].iov_base;
        size_t take = iov[i].iov_len;

        if (skip >= take) {
            skip -= take;
            continue;
        }
        p += skip;
        take -= skip;
        skip = 0;
        if (take > n)
            take = n;
        ss_logline_feed(&s->line, p, take, now, ss_logcap_line, s);
        n -= take;
    }
}

void ss_logcap_wrote(int fd, const struct iovec *iov, int cnt, size_t n)
{
    unsigned k = (unsigned)fd < SS_LOGCAP_FDS
                     ? __atomic_load_n(&ss_logcap_fds[fd], __ATOMIC_ACQUIRE) : 0;
    ss_logstream_t *s;
    uint64_t now;
    int kind;

    if (k == 0 || !ss_logcap_records())
        return;
    s = &ss_streams[k - 1];
    kind = __atomic_load_n(&s->dgram, __ATOMIC_RELAXED); /* set before the table pointed here */
    if (kind) {
        ss_logcap_dgram(kind, iov, cnt, n);
        return;
    }
    now = ss_logcap_now();
    ss_lock(&s->lock);
    if (s->owner == fd + 1)
        ss_logcap_feed(s, iov, cnt, 0, n, now);
    ss_unlock(&s->lock);
}

/* ---- the fields written into the lines (SPANSHIM_LOG_ENRICH) ------------ */

static int ss_logcap_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl >= 0 && (fl & O_NONBLOCK);
}

/* Why the loop: a plan is one real call, and the program is told its own
 * bytes that went. The kernel's short write is the program's short write
 * (the rest of a set of fields it cut is owed, ss_logenrich.h). Only where
 * the shim itself made two calls of one (a plan with no room for every
 * line, or a call that took nothing but owed fields) does a blocking fd go
 * on, as the one call untraced would have; a non-blocking one says what
 * went, or EAGAIN. */
ssize_t ss_logcap_write(int fd, const struct iovec *iov, int cnt, ss_logwrite_fn fn, void *arg)
{
    unsigned k = (unsigned)fd < SS_LOGCAP_FDS
                     ? __atomic_load_n(&ss_logcap_fds[fd], __ATOMIC_ACQUIRE) : 0;
    int records = ss_logcap_records(), nonblock = -1, planned, have, err, i;
    size_t total = 0, done = 0;
    ss_enrich_result_t res;
    ss_enrich_plan_t pl;
    ss_logstream_t *s;
    uint64_t now = 0;
    ss_ctx_t ctx;
    ssize_t r;

    s = k ? &ss_streams[k - 1] : NULL;
    for (i = 0; s && i < cnt && i < IOV_MAX; i++) {
        if (iov[i].iov_base == NULL && iov[i].iov_len)
            s = NULL; /* the kernel's EFAULT, not the shim's reading */
        total += iov[i].iov_len;
    }
    /* The kernel's EINVAL, or nothing to write: the call as it was. */
    if (cnt <= 0 || cnt > IOV_MAX || total > SSIZE_MAX)
        s = NULL;
    if (s == NULL || total == 0 || __atomic_load_n(&s->dgram, __ATOMIC_RELAXED)) {
        r = fn(arg, iov, cnt);
        err = errno;
        if (r > 0)
            ss_logcap_wrote(fd, iov, cnt, (size_t)r);
        errno = err;
        return r;
    }
    have = ss_conn_log_ctx(&ctx);
    if (records)
        now = ss_logcap_now();
    for (;;) {
        ss_lock(&s->lock);
        if (s->owner != fd + 1) { /* closed, and the stream given away, meanwhile */
            ss_unlock(&s->lock);
            return done ? (ssize_t)done : fn(arg, iov, cnt);
        }
        planned = ss_enrich_plan(&s->enrich, have ? &ctx : NULL, iov, cnt, done, total - done, &pl);
        ss_unlock(&s->lock);
        r = planned ? fn(arg, pl.iov, pl.cnt) : fn(arg, iov, cnt);
        err = errno;
        ss_lock(&s->lock);
        if (s->owner == fd + 1) {
            ss_enrich_commit(&s->enrich, &pl, planned, iov, cnt, done, r, &res);
            if (records && res.app)
                ss_logcap_feed(s, iov, cnt, done, res.app, now);
        } else {
            ss_enrich_line_t gone;

            ss_enrich_init(&gone);
            ss_enrich_commit(&gone, &pl, planned, iov, cnt, done, r, &res);
        }
        ss_unlock(&s->lock);
        if (res.enriched)
            SS_COUNT_N(logs_enriched, res.enriched);
        if (res.missed)
            SS_COUNT_N(logs_enrich_missed, res.missed);
        if (res.owed)
            SS_COUNT(logs_enrich_owed);
        if (r < 0) {
            if (done)
                return (ssize_t)done; /* the error shows on the next call, as it would */
            errno = err;
            return -1;
        }
        done += res.app;
        if (done == total || (!res.whole && done > 0) || r == 0)
            return (ssize_t)done;
        if (nonblock < 0)
            nonblock = ss_logcap_nonblocking(fd);
        if (nonblock) {
            if (done)
                return (ssize_t)done;
            errno = EAGAIN;
            return -1;
        }
    }
}

/* ---- which fds are logs --------------------------------------------------- */

/* Under ss_logcap_lock. */
static void ss_logcap_attach(int fd, unsigned idx, uint8_t source, uint8_t dgram,
                             const char *path)
{
    ss_logstream_t *s = &ss_streams[idx];

    ss_lock(&s->lock);
    s->owner = fd + 1;
    s->source = source;
    __atomic_store_n(&s->dgram, dgram, __ATOMIC_RELAXED);
    s->path[0] = '\0';
    if (path)
        snprintf(s->path, sizeof(s->path), "%s", path);
    ss_enrich_init(&s->enrich);
    ss_logline_init(&s->line);
    ss_unlock(&s->lock);
    __atomic_store_n(&ss_logcap_fds[fd], (uint8_t)(idx + 1), __ATOMIC_RELEASE);
}

/* Under s->lock: fields a short write left owed that no later write of
 * the program's took out (it closed the fd, or exits). */
static void ss_logcap_owed_lost(ss_logstream_t *s)
{
    if (s->enrich.carry_len)
        SS_COUNT(logs_enrich_lost);
    ss_enrich_init(&s->enrich);
}

/* Under ss_logcap_lock: fd is no log any more; its unfinished line goes
 * out as it is. */
static void ss_logcap_detach(int fd)
{
    unsigned k = ss_logcap_fds[fd];
    ss_logstream_t *s;

    if (k == 0)
        return;
    __atomic_store_n(&ss_logcap_fds[fd], 0, __ATOMIC_RELEASE);
    s = &ss_streams[k - 1];
    ss_lock(&s->lock);
    if (s->owner == fd + 1) {
        ss_logline_flush(&s->line, ss_logcap_line, s);
        ss_logcap_owed_lost(s);
        s->owner = 0;
    }
    ss_unlock(&s->lock);
}

/* Under ss_logcap_lock: fd 1 or 2 as it is now (not a socket: a log). */
static void ss_logcap_std(int fd)
{
    struct stat st;

    ss_logcap_detach(fd);
    if (fstat(fd, &st) == 0 && !S_ISSOCK(st.st_mode))
        ss_logcap_attach(fd, (unsigned)fd - 1, fd == 1 ? SS_LOG_STDOUT : SS_LOG_STDERR, 0,
                          NULL);
}

void ss_logcap_init(void)
{
    int saved = errno;

    if (ss_logcap_on == SS_LOGS_OFF)
        return;
    ss_lock(&ss_logcap_lock);
    ss_logcap_std(1);
    ss_logcap_std(2);
    ss_unlock(&ss_logcap_lock);
    errno = saved;
}

int ss_logcap_path_matches(const char *path)
{
    const char *base = strrchr(path, '/');
    int i;

    base = base ? base + 1 : path;
    for (i = 0; i < ss_nglobs; i++)
        if (fnmatch(ss_globs[i], strchr(ss_globs[i], '/') ? path : base, 0) == 0)
            return 1;
    return 0;
}

/* path opened relative to dir, made absolute into out. 0 if it cannot. */
static int ss_logcap_abspath(int dir, const char *path, char *out, size_t cap)
{
    char at[SS_LOGCAP_PATH_MAX], link[32];
    size_t n;
    ssize_t r;

    if (path[0] == '/')
        return snprintf(out, cap, "%s", path) < (int)cap;
    if (dir == AT_FDCWD) {
        if (getcwd(at, sizeof(at)) == NULL)
            return 0;
    } else {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", dir);
        r = readlink(link, at, sizeof(at) - 1);
        if (r <= 0)
            return 0;
        at[r] = '\0';
    }
    n = strlen(at);
    return snprintf(out, cap, "%s%s%s", at, n && at[n - 1] == '/' ? "" : "/", path) < (int)cap;
}

void ss_logcap_opened(int fd, int dir, const char *path, int flags)
{
    char abs[SS_LOGCAP_PATH_MAX];
    int saved = errno, want;
    unsigned i;

    if (fd < 0 || fd >= SS_LOGCAP_FDS || ss_logcap_on == SS_LOGS_OFF)
        return;
    if (fd > 2 && !ss_logcap_fds[fd] && ((flags & O_ACCMODE) == O_RDONLY || path == NULL))
        return; /* the open of nearly every file: nothing to do */
    if (ss_in_vfork_child())
        return; /* the parent's memory */
    want = fd > 0 && path && (flags & O_ACCMODE) != O_RDONLY;
    if (want && !ss_globs_with_dir) {
        /* name-only globs: matched before any path is made */
        want = ss_logcap_path_matches(path);
    }
    if (want)
        want = ss_logcap_abspath(dir, path, abs, sizeof(abs)) && ss_logcap_path_matches(abs);
    ss_lock(&ss_logcap_lock);
    if (fd <= 2) {
        if (fd >= 1 && want) { /* close(2); open("error.log"): that file */
            ss_logcap_detach(fd);
            ss_logcap_attach(fd, (unsigned)fd - 1, SS_LOG_FILE, 0, abs);
        } else if (fd >= 1) {
            ss_logcap_std(fd);
        }
    } else {
        ss_logcap_detach(fd);
        for (i = 2; want && i < SS_LOGCAP_STREAMS; i++)
            if (ss_streams[i].owner == 0) {
                ss_logcap_attach(fd, i, SS_LOG_FILE, 0, abs);
                break;
            }
    }
    ss_unlock(&ss_logcap_lock);
    errno = saved;
}

void ss_logcap_connected(int fd, const struct sockaddr *addr, socklen_t alen)
{
    int kind = ss_logcap_socket_kind(addr, alen), saved = errno;
    unsigned i;

    if (fd < 3 || fd >= SS_LOGCAP_FDS || kind == SS_DGRAM_NONE || !ss_logcap_records())
        return;
    ss_lock(&ss_logcap_lock);
    ss_logcap_detach(fd);
    for (i = 2; i < SS_LOGCAP_STREAMS; i++)
        if (ss_streams[i].owner == 0) {
            ss_logcap_attach(fd, i, SS_LOG_SYSLOG, (uint8_t)kind, NULL);
            break;
        }
    ss_unlock(&ss_logcap_lock);
    errno = saved;
}

void ss_logcap_replaced(int oldfd, int fd)
{
    char path[SS_LOGCAP_PATH_MAX];
    unsigned k;
    int saved = errno;

    if (fd < 0 || fd >= SS_LOGCAP_FDS || ss_logcap_on == SS_LOGS_OFF)
        return;
    ss_lock(&ss_logcap_lock);
    if (fd == 1 || fd == 2) {
        /* A log file put on stdout or stderr (nginx, apache2 and daemons
         * do) is that file: its lines say its path. */
        k = oldfd >= 0 && oldfd < SS_LOGCAP_FDS ? ss_logcap_fds[oldfd] : 0;
        if (k && ss_streams[k - 1].source == SS_LOG_FILE) {
            snprintf(path, sizeof(path), "%s", ss_streams[k - 1].path);
            ss_logcap_detach(fd);
            ss_logcap_attach(fd, (unsigned)fd - 1, SS_LOG_FILE, 0, path);
        } else {
            ss_logcap_std(fd);
        }
    } else {
        ss_logcap_detach(fd);
    }
    ss_unlock(&ss_logcap_lock);
    errno = saved;
}

void ss_logcap_closed(int fd)
{
    if (!ss_logcap_is_log(fd))
        return;
    ss_lock(&ss_logcap_lock);
    ss_logcap_detach(fd);
    ss_unlock(&ss_logcap_lock);
}

void ss_logcap_closed_range(unsigned first, unsigned last)
{
    unsigned fd;

    if (ss_logcap_on == SS_LOGS_OFF || first >= SS_LOGCAP_FDS)
        return;
    if (last >= SS_LOGCAP_FDS)
        last = SS_LOGCAP_FDS - 1;
    ss_lock(&ss_logcap_lock);
    for (fd = first; fd <= last; fd++)
        ss_logcap_detach((int)fd);
    ss_unlock(&ss_logcap_lock);
}

/* ---- syslog(3) ------------------------------------------------------------ */

void ss_logcap_openlog(const char *ident)
{
    __atomic_store_n(&ss_syslog_ident, ident, __ATOMIC_RELAXED);
}

void ss_logcap_syslog(int pri, const char *msg, size_t len, int cut)
{
    ss_logsev_t sev;
    ss_logrec_t r;

    if (!ss_logcap_records())
        return;
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--; /* syslog adds none; a message's own end is not part of it */
    if (len == 0)
        return;
    if (len > SS_LOGLINE_MAX) {
        len = SS_LOGLINE_MAX;
        cut = 1;
    }
    memset(&r, 0, sizeof(r));
    ss_logsev_syslog((unsigned)pri & 7, &sev);
    r.time_ns = ss_logcap_now();
    r.severity = sev.number;
    r.severity_text = sev.text;
    r.severity_text_len = sev.text_len;
    r.source = SS_LOG_SYSLOG;
    r.ident = __atomic_load_n(&ss_syslog_ident, __ATOMIC_RELAXED);
    if (r.ident == NULL)
        r.ident = program_invocation_short_name;
    ss_logcap_put(&r, msg, len, cut);
}

void ss_logcap_busy(void)
{
    SS_COUNT(logs_dropped_busy);
}

/* ---- exit, exec, fork -------------------------------------------------- */

void ss_logcap_flush(void)
{
    unsigned i;

    if (ss_logcap_on == SS_LOGS_OFF)
        return;
    for (i = 0; i < SS_LOGCAP_STREAMS; i++) {
        ss_logstream_t *s = &ss_streams[i];

        ss_lock(&s->lock);
        if (s->owner) {
            ss_logline_flush(&s->line, ss_logcap_line, s);
            ss_logcap_owed_lost(s);
        }
        ss_unlock(&s->lock);
    }
}

void ss_logcap_after_fork(void)
{
    unsigned i;

    ss_lock_reset(&ss_logcap_lock);
    ss_lock_reset(&ss_dgram_lock);
    for (i = 0; i < SS_LOGCAP_STREAMS; i++) {
        ss_lock_reset(&ss_streams[i].lock);
        ss_logline_init(&ss_streams[i].line); /* the parent sends its own */
        ss_enrich_init(&ss_streams[i].enrich); /* and owes its own fields */
    }
}
