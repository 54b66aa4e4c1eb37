/*
 * ss_send.c - the send path of a followed connection (see ss_conn.h).
 *
 * On a client connection a write is a plan and a commit: the application's
 * bytes are parsed ahead, the iovec to send is laid out with the armed
 * splices (trace headers to insert, or a copied traceparent to replace)
 * in their places, the real function runs once, and the kernel's count is
 * mapped back to application bytes. Injected bytes the kernel did not take
 * stay armed and go first on the next call. On a server connection the
 * response goes out as it is and only what the kernel took is parsed.
 *
 * A head may come in any number of writes, split anywhere, and must come
 * out as it would written whole. Whether its traceparent is a copy to
 * replace is known when the value's line ends (ss_conn.c); bytes already
 * sent cannot change. So a write that ends inside a traceparent value that
 * may still be a copy (some request being served came with a value that
 * begins so) holds those value bytes back: the program is told they went
 * out, as a kernel's buffer would take them, and they wait in the span's
 * splice, armed, with nothing allowed after them. The line's end releases
 * them, replaced or as they are, to go first on that call. They are at most
 * a value's worth (64 bytes, the parser's cap), and they go out straight
 * when the connection is let go or closed before that.
 */
#define _GNU_SOURCE
#include "ss_conn.h"
#include "ss_conn_int.h"
#include "ss_fd.h"
#include "ss_log.h"
#include "ss_proto.h"
#include "ss_real.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h> /* struct tcp_info up to tcpi_bytes_acked: glibc's stops before it */
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>

/* The server write this thread is inside, between giving up the lock for
 * the real call and taking it back (c NULL: none): the iovec, or for
 * sendfile (iov NULL) the n bytes the shim does not see. */
typedef struct ss_sending {
    ss_conn_t *c;
    int fd;
    int cnt;
    const struct iovec *iov;
    size_t n;
} ss_sending_t;

static __thread ss_sending_t ss_sending __attribute__((tls_model("initial-exec")));

/* Mark the server write about to be made (c's lock held). */
static inline void ss_sending_mark(ss_conn_t *c, int fd, const struct iovec *iov, int cnt,
                                   size_t n)
{
    ss_sending.fd = fd;
    ss_sending.cnt = cnt;
    ss_sending.iov = iov;
    ss_sending.n = n;
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* what a handler on this thread sees */
    ss_sending.c = c;
}

#define SS_PLAN_IOV 64

typedef struct ss_plan {
    struct iovec iov[SS_PLAN_IOV];
    ss_span_t *splice[SS_PLAN_IOV]; /* NULL for application bytes */
    int cnt;
} ss_plan_t;

static size_t ss_iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    int i;

    for (i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* Feed the application bytes the protocol has not seen yet. Inlined into
 * the client's send, its one caller. */
static inline __attribute__((always_inline)) int ss_conn_lookahead(ss_conn_t *c,
                                                                   const struct iovec *iov,
                                                                   int cnt)
{
    uint64_t skip = c->fed[SS_DIR_OUT] - c->out_sent;
    int i;

    for (i = 0; i < cnt; i++) {
        const char *p = iov[i].iov_base;
        size_t n = iov[i].iov_len;

        if (skip >= n) {
            skip -= n;
            continue;
        }
        p += skip;
        n -= (size_t)skip;
        skip = 0;
        if (!ss_conn_feed_in(c, SS_DIR_OUT, p, n))
            return 0;
    }
    return 1;
}

static int ss_plan_push(ss_plan_t *pl, const void *base, size_t len, ss_span_t *s)
{
    if (len == 0)
        return 1;
    if (pl->cnt == SS_PLAN_IOV)
        return 0;
    pl->iov[pl->cnt].iov_base = (void *)base;
    pl->iov[pl->cnt].iov_len = len;
    pl->splice[pl->cnt] = s;
    pl->cnt++;
    return 1;
}

/* Lay out the application bytes of iov from byte `skip` up to byte `len`
 * (skip is stream offset out_sent) with every armed splice in its place. A
 * plan may stop early (a splice that replaces bytes beyond this call, held
 * bytes, or no more iovec room): that is a short write. */
static void ss_conn_plan(ss_conn_t *c, const struct iovec *iov, int cnt, size_t skip,
                         size_t len, ss_plan_t *pl)
{
    uint64_t off = c->out_sent, end = c->out_sent + len - skip;
    ss_span_t *s = c->q_head;
    int i = 0;
    size_t in = skip; /* position inside iov[i] */

    while (i < cnt && in >= iov[i].iov_len) {
        in -= iov[i].iov_len;
        i++;
    }
    pl->cnt = 0;
    for (;;) {
        uint64_t stop = end;

        while (s && !(s->splice_armed && s->splice_at >= off && s->splice_at <= end))
            s = s->next;
        if (s)
            stop = s->splice_at;
        /* Application bytes up to the splice (or the end). */
        while (off < stop && i < cnt) {
            size_t n = iov[i].iov_len - in;

            if (n > stop - off)
                n = (size_t)(stop - off);
            if (!ss_plan_push(pl, (const char *)iov[i].iov_base + in, n, NULL))
                return;
            off += n;
            in += n;
            if (in == iov[i].iov_len) {
                i++;
                in = 0;
            }
        }
        if (s == NULL || s->splice_held || s->splice_at + s->splice_del > end)
            return;
        if (!ss_plan_push(pl, s->splice + s->splice_done,
                          (size_t)(s->splice_len - s->splice_done), s))
            return;
        /* Skip the application bytes the splice replaces. */
        {
            size_t del = s->splice_del;

            while (del && i < cnt) {
                size_t n = iov[i].iov_len - in;

                if (n > del)
                    n = del;
                del -= n;
                in += n;
                off += n;
                if (in == iov[i].iov_len) {
                    i++;
                    in = 0;
                }
            }
        }
        s = s->next;
    }
}

/* Map the kernel's count back: how many application bytes went out. */
static size_t ss_conn_commit(ss_conn_t *c, const ss_plan_t *pl, size_t r)
{
    size_t app = 0;
    int i;

    for (i = 0; i < pl->cnt && r; i++) {
        size_t take = pl->iov[i].iov_len < r ? pl->iov[i].iov_len : r;
        ss_span_t *s = pl->splice[i];

        r -= take;
        if (s == NULL) {
            app += take;
        } else {
            s->splice_done = (uint16_t)(s->splice_done + take);
            if (s->splice_done == s->splice_len) {
                app += s->splice_del;
                s->splice_armed = 0;
            }
        }
        if (take < pl->iov[i].iov_len)
            break;
    }
    c->out_sent += app;
    return app;
}

/* How many of this call's last bytes (of total) to hold back, and into
 * which exchange's splice: the protocol's to say (HTTP/1: those of a
 * traceparent value that is still coming and may be a copy). */
static size_t ss_conn_hold_len(ss_conn_t *c, size_t total, ss_span_t **into)
{
    *into = NULL;
    if (c->proto == NULL || c->proto->hold == NULL)
        return 0;
    return c->proto->hold(c, total, into);
}

/* Take the last n of total bytes of iov into s's held splice: they are the
 * program's, told as sent, and wait at out_sent for the value's end. */
static void ss_conn_hold(ss_conn_t *c, ss_span_t *s, const struct iovec *iov, int cnt,
                         size_t total, size_t n)
{
    size_t skip = total - n;
    int i;

    if (!s->splice_held)
        s->splice_len = 0;
    c->out_sent += n;
    for (i = 0; i < cnt && n; i++) {
        size_t k = iov[i].iov_len;

        if (skip >= k) {
            skip -= k;
            continue;
        }
        k -= skip;
        if (k > n)
            k = n;
        memcpy(s->splice + s->splice_len, (const char *)iov[i].iov_base + skip, k);
        s->splice_len = (uint16_t)(s->splice_len + k);
        n -= k;
        skip = 0;
    }
    s->splice_at = c->out_sent;
    s->splice_del = 0;
    s->splice_done = 0;
    s->splice_owed = s->splice_len;
    s->splice_held = 1;
    s->splice_armed = 1;
}

/* Whether a splice is armed (to go, or going) on c. */
static int ss_conn_splicing(const ss_conn_t *c)
{
    const ss_span_t *s;

    for (s = c->q_head; s; s = s->next)
        if (s->splice_armed)
            return 1;
    return 0;
}

/* Held bytes go as they are, first. */
static void ss_conn_unhold(ss_conn_t *c)
{
    ss_span_t *s;

    for (s = c->q_head; s; s = s->next)
        s->splice_held = 0;
}

void ss_conn_send_owed(ss_conn_t *c, int fd)
{
    int err = errno;
    ss_span_t *s;

    for (s = c->q_head; s; s = s->next) {
        if (!ss_span_is_own(s))
            continue; /* a fork child's copy: its parent holds the same bytes */
        while (s->splice_armed && s->splice_done < s->splice_owed) {
            ssize_t r = fd < 0 ? -1
                               : ss_real_send(fd, s->splice + s->splice_done,
                                              (size_t)(s->splice_owed - s->splice_done),
                                              MSG_NOSIGNAL | MSG_DONTWAIT);

            if (r < 0 && fd >= 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                SS_COUNT(held_lost);
                break;
            }
            s->splice_done = (uint16_t)(s->splice_done + r);
        }
    }
    errno = err;
}

static int ss_fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl >= 0 && (fl & O_NONBLOCK);
}

/* Send one call's application bytes with the splices they need. A blocking
 * socket goes on until all are sent, as the kernel would; a non-blocking one
 * returns what went out, or EAGAIN if only injected bytes did. */
static inline __attribute__((always_inline)) ssize_t
ss_conn_send_client(ss_conn_t *c, int fd, const struct iovec *iov, int cnt,
                    int nonblock_flag, ss_sendfn_t fn, void *arg)
{
    size_t total = ss_iov_total(iov, cnt), done = 0, hold = 0, len;
    int nonblock = nonblock_flag ? 1 : -1; /* -1: not asked yet */
    int keep = ss_conn_lookahead(c, iov, cnt);
    ss_span_t *hold_in = NULL;
    ss_plan_t pl;
    ssize_t r;
    int err, straight;

    if (!keep && !ss_conn_splicing(c)) {
        ss_conn_let_go(c, fd);
        ss_unlock(&c->lock);
        return fn(arg, iov, cnt);
    }
    if (keep)
        hold = ss_conn_hold_len(c, total, &hold_in);
    else
        ss_conn_unhold(c); /* let go after all: what is armed goes first */
    len = total - hold;
    /* Nothing to splice in and nothing held: the program's iovec is the
     * plan (ss_conn_plan would copy it as it is), and what the kernel
     * took is all application bytes. Only the first call: another thread
     * may arm a splice while the lock is let go. The bytes count as sent
     * from before the call (they are on their way: nothing may change
     * them), so a write the kernel takes whole, nearly every one, is done
     * without taking the lock again; any other result takes them back. */
    straight = keep && hold == 0 && len > 0 && cnt <= SS_PLAN_IOV && !ss_conn_splicing(c);
    while (len > 0 || hold == 0) {
        if (straight)
            c->out_sent += len;
        else
            ss_conn_plan(c, iov, cnt, done, len, &pl);
        if (!straight && pl.cnt == 0 && len > 0)
            break;
        ss_unlock(&c->lock);
        r = straight ? fn(arg, iov, cnt) : fn(arg, pl.iov, pl.cnt);
        if (straight && r == (ssize_t)len)
            return r;
        err = errno;
        ss_lock(&c->lock);
        if (straight)
            c->out_sent -= len;
        if (r < 0) {
            char buf[24];

            if (done > 0)
                break; /* the error shows on the next call, as it would */
            if (!ss_errno_transient(err))
                ss_conn_fail_all(c, ss_errno_name(err, buf, sizeof(buf)));
            ss_unlock(&c->lock);
            errno = err;
            return r;
        }
        if (straight) {
            c->out_sent += (uint64_t)r;
            done = (size_t)r;
            straight = 0;
        } else {
            done += ss_conn_commit(c, &pl, (size_t)r);
        }
        if (done == len || r == 0)
            break;
        if (nonblock < 0)
            nonblock = ss_fd_nonblocking(fd);
        if (nonblock && done > 0)
            break;
        if (nonblock) {
            ss_unlock(&c->lock);
            errno = EAGAIN;
            return -1;
        }
    }
    if (hold && done == len) {
        ss_conn_hold(c, hold_in, iov, cnt, total, hold);
        done = total;
    }
    if (!keep && !ss_conn_splicing(c))
        ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
    return (ssize_t)done;
}

/* ss_conn_send_on's body, inlined into ss_conn_send too: a plain socket's
 * write is one call into the core, not three. */
static inline __attribute__((always_inline)) ssize_t
ss_conn_send_body(ss_conn_t *c, int fd, const struct iovec *iov, int cnt, int nonblock_flag,
                  ss_sendfn_t fn, void *arg)
{
    ssize_t r;
    int err, keep = 1;

    ss_lock(&c->lock);
    if (c->mode == SS_MODE_OPAQUE) {
        ss_unlock(&c->lock);
        return fn(arg, iov, cnt);
    }
    if (c->mode == SS_MODE_CONNECTING)
        c->mode = SS_MODE_DETECT;
    if (c->role == SS_ROLE_CLIENT)
        return ss_conn_send_client(c, fd, iov, cnt, nonblock_flag, fn, arg);
    /* Server: responses go out as they are; parse what the kernel took. */
    c->write_ns = ss_now_ns();
    ss_sending_mark(c, fd, iov, cnt, 0);
    ss_unlock(&c->lock);
    r = fn(arg, iov, cnt);
    err = errno;
    ss_lock(&c->lock);
    ss_sending.c = NULL;
    if (r > 0) {
        size_t left = (size_t)r;
        int i;

        for (i = 0; i < cnt && left && keep; i++) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

            keep = ss_conn_feed(c, SS_DIR_OUT, iov[i].iov_base, n);
            left -= n;
        }
    } else if (r < 0 && !ss_errno_transient(err)) {
        char buf[24];

        ss_conn_fail_all(c, ss_errno_name(err, buf, sizeof(buf)));
    }
    if (!keep)
        ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
    errno = err;
    return r;
}

/* The bytes a TCP socket's kernel has taken from the program so far: the
 * ones the peer acknowledged and the ones still queued (an accepted
 * socket's count begins at its first data byte). 0 when it cannot say. */
static uint64_t ss_tcp_written(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    int queued;

    if (ss_real_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked) ||
        ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0)
        return 0;
    return info.tcpi_bytes_acked + (uint64_t)queued;
}

void ss_conn_send_interrupted(void)
{
    ss_sending_t w = ss_sending;
    uint64_t written, left;
    int err = errno, i;

    ss_sending.c = NULL;
    if (w.c == NULL || w.c->is_unix || w.c->is_tls || !ss_trylock(&w.c->lock))
        return;
    written = ss_tcp_written(w.fd);
    left = written > w.c->fed[SS_DIR_OUT] ? written - w.c->fed[SS_DIR_OUT] : 0;
    if (w.iov == NULL && left) /* sendfile's bytes: counted, not seen */
        ss_conn_feed(w.c, SS_DIR_OUT, NULL, w.n < left ? w.n : (size_t)left);
    for (i = 0; i < w.cnt && left; i++) {
        size_t n = w.iov[i].iov_len < left ? w.iov[i].iov_len : (size_t)left;

        if (!ss_conn_feed(w.c, SS_DIR_OUT, w.iov[i].iov_base, n))
            break;
        left -= n;
    }
    ss_unlock(&w.c->lock);
    errno = err;
}

ssize_t ss_conn_send_on(ss_conn_t *c, int fd, const struct iovec *iov, int cnt,
                        int nonblock_flag, ss_sendfn_t fn, void *arg)
{
    return ss_conn_send_body(c, fd, iov, cnt, nonblock_flag, fn, arg);
}

ssize_t ss_conn_send(int fd, const struct iovec *iov, int cnt, int nonblock_flag,
                     ss_sendfn_t fn, void *arg)
{
    ss_conn_t *c = ss_fd_get(fd);
    ssize_t r;
    int err;

    if (c == NULL)
        return fn(arg, iov, cnt);
    r = ss_conn_send_body(c, fd, iov, cnt, nonblock_flag, fn, arg);
    err = errno;
    ss_conn_put(c);
    errno = err;
    return r;
}

/* ---- sendfile and calls the shim does not follow into ------------------ */

/* Send what is left of injected bytes before the program's own. 1 when
 * nothing is left; 0 with errno set when a non-blocking socket is full. */
static int ss_conn_flush_splice(ss_conn_t *c, int fd)
{
    ss_span_t *s;

    for (s = c->q_head; s; s = s->next) {
        s->splice_held = 0; /* a file is no traceparent value: held bytes go as they are */
        if (!s->splice_armed || s->splice_at != c->out_sent || s->splice_del)
            continue;
        while (s->splice_done < s->splice_len) {
            ssize_t r;

            ss_unlock(&c->lock);
            r = ss_real_write(fd, s->splice + s->splice_done,
                              (size_t)(s->splice_len - s->splice_done));
            ss_lock(&c->lock);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return 0;
            s->splice_done = (uint16_t)(s->splice_done + r);
        }
        s->splice_armed = 0;
    }
    return 1;
}

ssize_t ss_conn_sendfile(int out, int in, off_t *off, size_t n,
                         ssize_t (*real)(int, int, off_t *, size_t))
{
    ss_conn_t *c = ss_fd_get(out);
    ssize_t r;
    int err, keep;

    if (c == NULL)
        return real(out, in, off, n);
    ss_lock(&c->lock);
    if (c->role == SS_ROLE_CLIENT && !ss_conn_flush_splice(c, out)) {
        err = errno;
        ss_unlock(&c->lock);
        ss_conn_put(c);
        errno = err;
        return -1;
    }
    if (c->role == SS_ROLE_SERVER) {
        c->write_ns = ss_now_ns();
        ss_sending_mark(c, out, NULL, 0, n);
    }
    ss_unlock(&c->lock);
    r = real(out, in, off, n);
    err = errno;
    if (r <= 0)
        ss_sending.c = NULL; /* else once the lock is taken back, as a write's */
    if (r > 0) {
        ss_lock(&c->lock);
        ss_sending.c = NULL;
        keep = ss_conn_feed(c, SS_DIR_OUT, NULL, (size_t)r);
        if (c->role == SS_ROLE_CLIENT)
            c->out_sent += (uint64_t)r;
        if (!keep)
            ss_conn_let_go(c, out);
        ss_unlock(&c->lock);
    }
    ss_conn_put(c);
    errno = err;
    return r;
}
