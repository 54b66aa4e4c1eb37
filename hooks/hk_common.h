/*
 * hk_common.h - what every hook shares: the guard and the hand-offs.
 *
 * The order in every hook is the same: guard (is this fd followed, is the
 * shim ready and not re-entered?), call the real function, hand the result
 * to preload/, return the real result with the real errno. A hook that
 * fails its guard is exactly the real call: one table load, no lock.
 */
#ifndef HK_COMMON_H
#define HK_COMMON_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "../preload/ss_conn.h"
#include "../preload/ss_fd.h"
#include "../preload/ss_fdlimit.h"
#include "../preload/ss_init.h"
#include "../preload/ss_logcap.h"
#include "../preload/ss_real.h"

#define HK_EXPORT __attribute__((visibility("default")))

/* Should this call on fd be looked at? */
static inline int hk_follows(int fd)
{
    return ss_busy == 0 && ss_fd_followed(fd);
}

/* May a call that can create a followed fd be looked at? */
static inline int hk_active(void)
{
    return ss_busy == 0 && __atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE);
}

/* A call made fd (or failed: fd < 0). glibc closes some descriptors where
 * no hook sees it (fclose of an fdopen'ed socket, resolver sockets): if the
 * number was a followed connection, what takes it next must not be taken
 * for it. And the number may be one of the table's last, where the export
 * socket gives way (ss_fdlimit.h). An fd nobody follows costs one table
 * load and one compare. */
static inline int hk_born(int fd)
{
    ss_fdlimit_check(fd);
    if (fd >= 0 && ss_fd_followed(fd)) {
        int err = errno;

        ss_busy++;
        ss_conn_on_new_fd(fd);
        ss_busy--;
        errno = err;
    }
    return fd;
}

/* Hand a finished receive to preload/, keeping errno. */
static inline void hk_recv_done(int fd, const struct iovec *iov, int cnt, ssize_t r, int flags)
{
    int err = errno;

    ss_busy++;
    ss_conn_on_recv(fd, iov, cnt, r, err, flags);
    ss_busy--;
    errno = err;
}

static inline ssize_t hk_recv1(int fd, void *buf, ssize_t r, int flags)
{
    struct iovec v;

    v.iov_base = buf;
    v.iov_len = r > 0 ? (size_t)r : 0;
    hk_recv_done(fd, &v, 1, r, flags);
    return r;
}

/* A write to a log fd (ss_logcap.h) returned r: its bytes to the line
 * assembler, errno kept. Inside the shim (a signal handler) it passes; in a
 * vfork child (the parent's memory) it touches nothing. */
static inline void hk_log_wrote(int fd, const struct iovec *iov, int cnt, ssize_t r)
{
    int err = errno;

    if (r <= 0 || ss_in_vfork_child()) {
        errno = err;
        return;
    }
    if (ss_busy) {
        ss_logcap_busy();
    } else {
        ss_busy++;
        ss_logcap_wrote(fd, iov, cnt, (size_t)r);
        ss_busy--;
    }
    errno = err;
}

/* A send on fd (to addr, if given) returned r: a message to the local
 * syslog or journal socket is a log record (ss_logcap.h). */
static inline void hk_log_sent(int fd, const struct sockaddr *addr, socklen_t alen,
                               const struct iovec *iov, int cnt, ssize_t r)
{
    int err = errno;

    if (r <= 0 || ss_in_vfork_child()) {
        errno = err;
        return;
    }
    if (ss_busy) {
        ss_logcap_busy();
    } else if (addr == NULL) {
        hk_log_wrote(fd, iov, cnt, r);
    } else {
        ss_busy++;
        ss_logcap_sent_to(addr, alen, iov, cnt, (size_t)r);
        ss_busy--;
    }
    errno = err;
}

/* An open made fd (ss_logcap.h decides whether it is a log). */
static inline int hk_log_opened(int fd, int dir, const char *path, int flags)
{
    if (__builtin_expect(ss_logcap_on, 0) && fd >= 0 && hk_active()) {
        int err = errno;

        ss_busy++;
        ss_logcap_opened(fd, dir, path, flags);
        errno = err;
        ss_busy--;
    }
    return fd;
}

/* Send through preload/ (which may splice in trace headers). On success
 * errno is what it was on entry, as after a plain successful call. */
static inline ssize_t hk_send(int fd, const struct iovec *iov, int cnt, int flags,
                              ss_sendfn_t fn, void *arg)
{
    int saved = errno;
    ssize_t r;

    ss_busy++;
    r = ss_conn_send(fd, iov, cnt, flags & MSG_DONTWAIT, fn, arg);
    ss_busy--;
    if (r >= 0)
        errno = saved;
    return r;
}

#endif
