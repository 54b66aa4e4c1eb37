/*
 * ex_transport.c - the socket to the collector (see ex_transport.h).
 *
 * The export socket is the shim's own: made with the real socket(),
 * moved to a high fd, close-on-exec and non-blocking. If the program
 * closes it or reuses its number, the inode check notices, and the shim
 * never writes into an fd it no longer owns.
 *
 * Who gets the spans: at every connect and reconnect the path is checked
 * (ex_sockpath: a socket of root's, this user's or a configured uid's, in
 * directories nobody else can change), and after connecting it must still
 * be the socket that was checked. A refused socket gets nothing.
 *
 * Every failure leaves a sentence with the reason and the path
 * (ex_transport_why), which ex_loss says once, at the default level, when
 * spans are dropped for it.
 *
 * The program's descriptors: the socket is kept only where the soft
 * RLIMIT_NOFILE leaves room for it at EX_FD_MIN and above. Below that
 * (ulimit -n 16) each batch goes on a socket opened, used and closed at
 * once, so the program can still have every number; and when even that
 * would take one of the table's last EX_FD_SPARE numbers, the batch is
 * dropped instead. A program that fills its table up to those last numbers
 * makes the kept socket give way (ss_fdlimit.h): it is closed, and from
 * then on every batch has a socket of its own.
 *
 * ex_tx_lock is held while a batch is sent (the batcher's lock is held
 * around that too, but a hook that gives the socket up must not reach
 * into the batcher), so the kept socket is never closed under a send.
 *
 * The flush thread in an fd table of its own (ex_transport_own_table)
 * keeps a second socket there, ex_own_fd: where it lands, since no number
 * there is the program's, and out of reach of the program's close() and
 * dup2(), so it needs no inode check nor gives way. The program's threads
 * (sending a batch that fills, and the last at exit) still use the kept
 * socket above. The two never reorder a process's batches: each send is
 * made under ex_tx_lock, and a datagram is in the collector's queue when
 * sendmsg() returns.
 */
#define _GNU_SOURCE
#include "ex_transport.h"
#include "ex_host.h"
#include "ex_sockpath.h"
#include "ss_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define EX_FD_MIN 600   /* where the kept socket is moved to */
#define EX_FD_SPARE 4   /* the table's last numbers are left to the program */

/* The kept socket. A close of that number (the program's, through the
 * hooks: ex_transport_fds_closed) forgets it from any thread without the
 * lock, so every access is atomic, and a locked path reads it once. */
static int ex_fd = -1;
static dev_t ex_fd_dev;
static ino_t ex_fd_ino;
static uint64_t ex_retry_ns;     /* no reconnect attempt before this */
static ex_tx_t ex_retry_why;     /* what the last failed attempt found */
static int ex_keep_off;          /* the kept socket gave way: one per batch from now on */
static size_t ex_room;           /* ex_transport_dgram_room() for the kept socket */
static ss_lock_t ex_tx_lock = SS_LOCK_INIT;
static char ex_path[EX_SOCKPATH_MAX];      /* what the socket is connected to */
static char ex_why[EX_SOCKPATH_MAX + 160]; /* the last failure, said by ex_loss */

/* The flush thread's socket in its own table (only that thread uses it),
 * and which thread that is. */
static int ex_own_fd = -1;
static __thread int ex_in_own_table __attribute__((tls_model("initial-exec")));

static int ex_fd_now(void)
{
    return __atomic_load_n(&ex_fd, __ATOMIC_RELAXED);
}

static void ex_fd_set(int fd)
{
    __atomic_store_n(&ex_fd, fd, __ATOMIC_RELAXED);
}

static void ex_close_fd(void)
{
    int fd = ex_fd_now();

    if (fd >= 0)
        ex_host.close(fd);
    ex_fd_set(-1);
}

/* Is fd (ex_fd, read once) still the socket we opened? */
static int ex_fd_ours(int fd)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == ex_fd_dev && st.st_ino == ex_fd_ino;
}

const char *ex_transport_why(void)
{
    return ex_why;
}

/* Remember why spans cannot go, and log it at debug level: ex_loss says
 * it to the user once. */
static ex_tx_t ex_failed(ex_tx_t res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static ex_tx_t ex_failed(ex_tx_t res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ex_why, sizeof(ex_why), fmt, ap);
    va_end(ap);
    ex_host.log(EX_LOG_DEBUG, "export: %s", ex_why);
    return res;
}

static ex_tx_t ex_refuse(const char *path, const char *why)
{
    return ex_failed(EX_TX_UNTRUSTED, "not sending spans to %s: %s", path, why);
}

/* The collector's path, checked now. */
static ex_tx_t ex_resolve(char path[EX_SOCKPATH_MAX], dev_t *dev, ino_t *ino)
{
    char why[256];
    int r;

    if (ex_host.export_off)
        return EX_TX_OFF;
    r = ex_sockpath_find(ex_host.socket_path, ex_host.runtime_dir, ex_host.collector_uids, path,
                         dev, ino, why, sizeof(why));
    if (r == EX_SOCK_REFUSED)
        return ex_refuse(path, why);
    if (r == EX_SOCK_ABSENT && ex_host.socket_path[0])
        return ex_failed(EX_TX_NOCOLLECTOR, "cannot reach the collector at %s: %s", path,
                         strerror(errno));
    if (r == EX_SOCK_ABSENT)
        return ex_failed(EX_TX_NOCOLLECTOR, "no collector at %s or the other default places",
                         path);
    return EX_TX_SENT;
}

/* fd moved to EX_FD_MIN or above (*keep = 1), else left where it is for
 * one batch if that is not among the table's last numbers; -1 (closed)
 * if it is. In the flush thread's own table: kept where it is. */
static int ex_place(int fd, int *keep)
{
    struct rlimit rl;
    rlim_t limit = RLIM_INFINITY;
    int high;

    *keep = 1;
    if (ex_in_own_table)
        return fd; /* no number of this table is the program's */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        limit = rl.rlim_cur;
    *keep = 0;
    if (!ex_keep_off && (limit == RLIM_INFINITY || limit > EX_FD_MIN + EX_FD_SPARE)) {
        high = ex_host.fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)EX_FD_MIN);
        if (high >= 0) {
            ex_host.close(fd);
            *keep = 1;
            return high;
        }
    }
    if (limit != RLIM_INFINITY && (rlim_t)fd + EX_FD_SPARE >= limit) {
        ex_host.close(fd);
        return -1;
    }
    return fd;
}

/* A datagram's bytes count against its sender's buffer until the
 * collector has read it: the default (208 KiB) holds two batches as they
 * leave (about 100 KiB), fewer than the ten the collector's queue takes
 * (net.unix.max_dgram_qlen). Asked for 1 MiB (the kernel doubles it, and
 * caps it at net.core.wmem_max but for root); only what is in flight is
 * ever taken. */
#define EX_SNDBUF (1 << 20)

static size_t ex_size_sndbuf(int fd)
{
    int size = EX_SNDBUF;
    socklen_t len = sizeof(size);

    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0 || size < 0)
        size = 0;
    return (size_t)size / 4 < EX_DGRAM_SPANS_MAX ? (size_t)size / 4 : EX_DGRAM_SPANS_MAX;
}

size_t ex_transport_dgram_room(void)
{
    return __atomic_load_n(&ex_room, __ATOMIC_RELAXED);
}

/* A socket connected to the collector, checked; -1 and why not. */
static int ex_open(int *keep, ex_tx_t *res, size_t *room)
{
    char path[EX_SOCKPATH_MAX];
    struct sockaddr_un sa;
    struct stat st;
    dev_t dev = 0;
    ino_t ino = 0;
    int fd;

    if ((*res = ex_resolve(path, &dev, &ino)) != EX_TX_SENT)
        return -1;
    fd = ex_host.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0)
        fd = ex_place(fd, keep);
    if (fd < 0) {
        *res = ex_failed(EX_TX_FDLIMIT, "the fd table is nearly full: no socket for %s", path);
        return -1;
    }
    *room = ex_size_sndbuf(fd);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (ex_host.connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        *res = ex_failed(EX_TX_NOCOLLECTOR, "cannot reach the collector at %s: %s", path,
                         strerror(errno));
        ex_host.close(fd);
        return -1;
    }
    /* Connected to what the path held a moment ago: still the one checked? */
    if (lstat(path, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
        ex_host.close(fd);
        *res = ex_refuse(path, "it was replaced while connecting");
        return -1;
    }
    memcpy(ex_path, path, sizeof(ex_path));
    return fd;
}

/* This thread's kept socket (the program table's, or the flush thread's
 * own), -1 if none. */
static int ex_kept(void)
{
    return ex_in_own_table ? ex_own_fd : ex_fd_now();
}

static void ex_close_kept(void)
{
    if (!ex_in_own_table) {
        ex_close_fd();
    } else if (ex_own_fd >= 0) {
        ex_host.close(ex_own_fd);
        ex_own_fd = -1;
    }
}

/* The kept socket, or a fresh one (kept, or for this batch only). */
static int ex_connected(ex_tx_t *res)
{
    struct stat st;
    size_t room;
    int fd, keep;

    if (ex_in_own_table && ex_own_fd >= 0)
        return ex_own_fd;
    if (!ex_in_own_table && (fd = ex_fd_now()) >= 0) {
        if (ex_fd_ours(fd))
            return fd;
        ex_fd_set(-1); /* the program owns that number now: leave it alone */
    }
    if (ex_mono_ns() < ex_retry_ns) {
        ex_host.log(EX_LOG_DEBUG, "export: waiting to reconnect");
        *res = ex_retry_why;
        return -1;
    }
    fd = ex_open(&keep, res, &room);
    if (fd < 0) {
        /* Asked again a second later: a collector may start, a table empty. */
        ex_retry_ns = ex_mono_ns() + 1000000000ull;
        ex_retry_why = *res;
        return -1;
    }
    ex_retry_ns = 0;
    if (ex_in_own_table) {
        ex_own_fd = fd;
    } else if (keep && fstat(fd, &st) == 0) {
        ex_fd_dev = st.st_dev;
        ex_fd_ino = st.st_ino;
        ex_fd_set(fd);
    }
    __atomic_store_n(&ex_room, room, __ATOMIC_RELAXED); /* a batch's own socket is sized alike */
    return fd;
}

static ex_tx_t ex_send_locked(const struct msghdr *msg)
{
    ex_tx_t res = EX_TX_NOCOLLECTOR;
    int attempt;

    /* A collector that restarted has a new socket at the same path: the
     * old connection refuses, so connect again once and resend. */
    for (attempt = 0; attempt < 2; attempt++) {
        int fd = ex_connected(&res), err;
        ssize_t r;

        if (fd < 0)
            return res;
        r = ex_host.sendmsg(fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        err = errno;
        if (fd != ex_kept())
            ex_host.close(fd); /* a socket for this batch only */
        if (r >= 0)
            return EX_TX_SENT;
        if (err == EAGAIN || err == ENOBUFS)
            return ex_failed(EX_TX_BUSY, "the collector at %s is not keeping up: %s", ex_path,
                             strerror(err));
        res = ex_failed(EX_TX_NOCOLLECTOR, "cannot send to the collector at %s: %s", ex_path,
                        strerror(err));
        if (fd == ex_kept())
            ex_close_kept();
        ex_retry_ns = 0;
    }
    return res;
}

ex_tx_t ex_transport_send(const struct msghdr *msg)
{
    ex_tx_t res;

    ss_lock(&ex_tx_lock);
    res = ex_send_locked(msg);
    ss_unlock(&ex_tx_lock);
    return res;
}

void ex_transport_give_up(void)
{
    ss_lock(&ex_tx_lock);
    ex_keep_off = 1;
    if (ex_fd_ours(ex_fd_now()))
        ex_close_fd();
    else
        ex_fd_set(-1); /* the number is the program's already */
    ss_unlock(&ex_tx_lock);
}

void ex_transport_after_fork(void)
{
    ss_lock_reset(&ex_tx_lock);
    ex_retry_ns = 0;  /* the parent may have been mid-connect */
    ex_own_fd = -1;   /* it was in the parent's flush thread's table, not here */
}

void ex_transport_own_table(void)
{
    ex_in_own_table = 1;
}

void ex_transport_fd_closed(int fd)
{
    ex_transport_fds_closed((unsigned)fd, (unsigned)fd);
}

void ex_transport_fds_closed(unsigned first, unsigned last)
{
    int fd = ex_fd_now();

    if (fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last)
        ex_fd_set(-1);
}
