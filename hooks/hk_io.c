/*
 * hk_io.c - hooks for reading and writing, glibc's fortified entry points
 * included (a program built with -D_FORTIFY_SOURCE=2 calls __read_chk, not
 * read). Writes on a followed fd go through ss_conn_send() with a function
 * that performs the real call on the iovec it is given; reads hand what
 * arrived to ss_conn_on_recv() after the real call. A write to a log fd
 * (stdout, stderr, a log file: preload/ss_logcap.h), pwrite and pwritev
 * included, hands the bytes the kernel took to the log capture after the
 * real call; with SPANSHIM_LOG_ENRICH on a write goes through
 * ss_logcap_write(), which may send it as a plan with the span's fields in
 * its lines (preload/ss_logenrich.h).
 */
#define _GNU_SOURCE
#include "hk_common.h"

#include <string.h>

/* ---- the real send, for ss_conn_send() --------------------------------- */

/* One buffer (nothing spliced in) goes out as write() would send it: the
 * kernel's writev and sendmsg first copy in an iovec. */
static ssize_t hk_sendfn_writev(void *arg, const struct iovec *iov, int cnt)
{
    if (cnt == 1)
        return ss_real_write(*(int *)arg, iov[0].iov_base, iov[0].iov_len);
    return ss_real_writev(*(int *)arg, iov, cnt);
}

typedef struct hk_sendmsg_arg {
    int fd;
    int flags;
    const struct msghdr *orig;    /* name and control data to keep */
} hk_sendmsg_arg_t;

static ssize_t hk_sendfn_sendmsg(void *arg, const struct iovec *iov, int cnt)
{
    const hk_sendmsg_arg_t *a = arg;
    struct msghdr m;

    if (cnt == 1 && (a->orig == NULL || a->orig->msg_controllen == 0))
        return ss_real_sendto(a->fd, iov[0].iov_base, iov[0].iov_len, a->flags,
                              a->orig ? a->orig->msg_name : NULL,
                              a->orig ? a->orig->msg_namelen : 0);
    memset(&m, 0, sizeof(m));
    if (a->orig) {
        m.msg_name = a->orig->msg_name;
        m.msg_namelen = a->orig->msg_namelen;
        m.msg_control = a->orig->msg_control;
        m.msg_controllen = a->orig->msg_controllen;
    }
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)cnt;
    return ss_real_sendmsg(a->fd, &m, a->flags);
}

/* ---- writing ------------------------------------------------------------ */

/* ---- log fds (preload/ss_logcap.h): out of line, so that a call on any
 * other fd stays one table load and a jump to the real function ---------- */

typedef struct hk_logw {
    int fd;
    ssize_t (*real1)(int, const void *, size_t); /* write's own (NULL: writev) */
    const struct iovec *orig;                    /* the program's iovec */
} hk_logw_t;

/* The program's own call when its bytes go as they are; a plan, writev. */
static ssize_t hk_logfn(void *arg, const struct iovec *iov, int cnt)
{
    const hk_logw_t *a = arg;

    if (iov == a->orig && a->real1)
        return a->real1(a->fd, iov[0].iov_base, iov[0].iov_len);
    return ss_real_writev(a->fd, iov, cnt);
}

/* SPANSHIM_LOG_ENRICH: through preload/, unless inside the shim (a signal
 * handler's write passes, counted) or in a vfork child (the parent's
 * memory). On success errno is what it was on entry. */
static ssize_t hk_write_enrich(int fd, const struct iovec *iov, int cnt,
                               ssize_t (*real1)(int, const void *, size_t))
{
    hk_logw_t a = {fd, real1, iov};
    int saved = errno;
    ssize_t r;

    if (ss_busy || ss_in_vfork_child()) {
        r = hk_logfn(&a, iov, cnt);
        hk_log_wrote(fd, iov, cnt, r);
        return r;
    }
    ss_busy++;
    r = ss_logcap_write(fd, iov, cnt, hk_logfn, &a);
    ss_busy--;
    if (r >= 0)
        errno = saved;
    return r;
}

static __attribute__((noinline, cold)) ssize_t
hk_write_log(int fd, const void *buf, size_t n, ssize_t (*real)(int, const void *, size_t))
{
    struct iovec v = {(void *)buf, n};
    ssize_t r;

    if (ss_logcap_enrich)
        return hk_write_enrich(fd, &v, 1, real);
    r = real(fd, buf, n);
    hk_log_wrote(fd, &v, 1, r);
    return r;
}

static __attribute__((noinline, cold)) ssize_t hk_writev_log(int fd, const struct iovec *iov,
                                                             int cnt)
{
    ssize_t r;

    if (ss_logcap_enrich)
        return hk_write_enrich(fd, iov, cnt, NULL);
    r = ss_real_writev(fd, iov, cnt);
    hk_log_wrote(fd, iov, cnt, r);
    return r;
}

/* A write at an offset to a log returned r: its bytes are the line's next,
 * wherever they land (a log written with pwrite appends at offsets it
 * keeps). */
static __attribute__((noinline, cold)) ssize_t hk_pwrote(int fd, const struct iovec *iov,
                                                         int cnt, ssize_t r)
{
    hk_log_wrote(fd, iov, cnt, r);
    return r;
}

static __attribute__((noinline, cold)) ssize_t hk_pwrote1(int fd, const void *buf, size_t n,
                                                          ssize_t r)
{
    struct iovec v = {(void *)buf, n};

    hk_log_wrote(fd, &v, 1, r);
    return r;
}

/* A connected /dev/log or journal socket. */
static __attribute__((noinline, cold)) ssize_t
hk_send1_log(int fd, const void *buf, size_t n, int flags,
             ssize_t (*real)(int, const void *, size_t, int))
{
    struct iovec v = {(void *)buf, n};
    ssize_t r = real(fd, buf, n, flags);

    hk_log_wrote(fd, &v, 1, r);
    return r;
}

static __attribute__((noinline, cold)) ssize_t
hk_sendto_log(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
              socklen_t alen)
{
    struct iovec v = {(void *)buf, n};
    ssize_t r = ss_real_sendto(fd, buf, n, flags, addr, alen);

    hk_log_sent(fd, addr, alen, &v, 1, r);
    return r;
}

static __attribute__((noinline, cold)) ssize_t hk_sendmsg_log(int fd, const struct msghdr *msg,
                                                              int flags)
{
    ssize_t r = ss_real_sendmsg(fd, msg, flags);

    hk_log_sent(fd, msg->msg_name, msg->msg_namelen, msg->msg_iov, (int)msg->msg_iovlen, r);
    return r;
}

/* The followed half of write and send, out of line: the other half, every
 * call on an fd nobody follows, is then a few loads and a jump to the real
 * function, with no frame of its own. */
static __attribute__((noinline)) ssize_t hk_write_followed(int fd, const void *buf, size_t n)
{
    struct iovec v = {(void *)buf, n};

    return hk_send(fd, &v, 1, 0, hk_sendfn_writev, &fd);
}

static inline __attribute__((always_inline)) ssize_t
hk_write(int fd, const void *buf, size_t n, ssize_t (*real)(int, const void *, size_t))
{
    if (!hk_follows(fd)) {
        if (__builtin_expect(ss_logcap_is_log(fd), 0))
            return hk_write_log(fd, buf, n, real);
        return real(fd, buf, n);
    }
    return hk_write_followed(fd, buf, n);
}

HK_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    return hk_write(fd, buf, n, ss_real_write);
}

HK_EXPORT ssize_t __write(int fd, const void *buf, size_t n)
{
    return hk_write(fd, buf, n, ss_real___write);
}

HK_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    if (!hk_follows(fd) || cnt < 0) {
        if (__builtin_expect(ss_logcap_is_log(fd), 0) && cnt >= 0)
            return hk_writev_log(fd, iov, cnt);
        return ss_real_writev(fd, iov, cnt);
    }
    return hk_send(fd, iov, cnt, 0, hk_sendfn_writev, &fd);
}

/* pwrite and pwritev: only a log's are looked at (a socket has no offset). */
#define HK_PWRITE(name, offt)                                                 \
    HK_EXPORT ssize_t name(int fd, const void *buf, size_t n, offt off)       \
    {                                                                         \
        if (__builtin_expect(ss_logcap_is_log(fd), 0))                        \
            return hk_pwrote1(fd, buf, n, ss_real_##name(fd, buf, n, off));   \
        return ss_real_##name(fd, buf, n, off);                               \
    }
HK_PWRITE(pwrite, off_t)
HK_PWRITE(pwrite64, __off64_t)
HK_PWRITE(__pwrite64, __off64_t)

#define HK_PWRITEV(name, offt)                                                \
    HK_EXPORT ssize_t name(int fd, const struct iovec *iov, int cnt, offt off) \
    {                                                                         \
        if (__builtin_expect(ss_logcap_is_log(fd), 0) && cnt >= 0)            \
            return hk_pwrote(fd, iov, cnt, ss_real_##name(fd, iov, cnt, off)); \
        return ss_real_##name(fd, iov, cnt, off);                             \
    }
HK_PWRITEV(pwritev, off_t)
HK_PWRITEV(pwritev64, __off64_t)

#define HK_PWRITEV2(name, offt)                                               \
    HK_EXPORT ssize_t name(int fd, const struct iovec *iov, int cnt, offt off, int flags) \
    {                                                                         \
        if (__builtin_expect(ss_logcap_is_log(fd), 0) && cnt >= 0)            \
            return hk_pwrote(fd, iov, cnt, ss_real_##name(fd, iov, cnt, off, flags)); \
        return ss_real_##name(fd, iov, cnt, off, flags);                      \
    }
HK_PWRITEV2(pwritev2, off_t)
HK_PWRITEV2(pwritev64v2, __off64_t)

static __attribute__((noinline)) ssize_t hk_send1_followed(int fd, const void *buf, size_t n,
                                                           int flags)
{
    hk_sendmsg_arg_t a = {fd, flags, NULL};
    struct iovec v = {(void *)buf, n};

    return hk_send(fd, &v, 1, flags, hk_sendfn_sendmsg, &a);
}

static inline __attribute__((always_inline)) ssize_t
hk_send1(int fd, const void *buf, size_t n, int flags,
         ssize_t (*real)(int, const void *, size_t, int))
{
    if (!hk_follows(fd)) {
        if (__builtin_expect(ss_logcap_is_log(fd), 0))
            return hk_send1_log(fd, buf, n, flags, real);
        return real(fd, buf, n, flags);
    }
    return hk_send1_followed(fd, buf, n, flags);
}

HK_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return hk_send1(fd, buf, n, flags, ss_real_send);
}

HK_EXPORT ssize_t __send(int fd, const void *buf, size_t n, int flags)
{
    return hk_send1(fd, buf, n, flags, ss_real___send);
}

HK_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
    struct msghdr m;
    hk_sendmsg_arg_t a = {fd, flags, &m};
    struct iovec v;

    if (!hk_follows(fd)) {
        if (__builtin_expect(ss_logcap_is_log(fd) ||
                                 (ss_logcap_on && addr && addr->sa_family == AF_UNIX), 0))
            return hk_sendto_log(fd, buf, n, flags, addr, alen);
        return ss_real_sendto(fd, buf, n, flags, addr, alen);
    }
    memset(&m, 0, sizeof(m));
    m.msg_name = (void *)addr;
    m.msg_namelen = alen;
    v.iov_base = (void *)buf;
    v.iov_len = n;
    return hk_send(fd, &v, 1, flags, hk_sendfn_sendmsg, &a);
}

HK_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    hk_sendmsg_arg_t a = {fd, flags, msg};

    if (!hk_follows(fd) || msg == NULL || msg->msg_iovlen > 1024) {
        if (__builtin_expect(ss_logcap_is_log(fd) || (ss_logcap_on && msg && msg->msg_name), 0) &&
            msg && msg->msg_iovlen <= 1024)
            return hk_sendmsg_log(fd, msg, flags);
        return ss_real_sendmsg(fd, msg, flags);
    }
    return hk_send(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, hk_sendfn_sendmsg, &a);
}

static ssize_t hk_sendfile(int out, int in, off_t *off, size_t n,
                           ssize_t (*real)(int, int, off_t *, size_t))
{
    int saved = errno;
    ssize_t r;

    if (!hk_follows(out))
        return real(out, in, off, n);
    ss_busy++;
    r = ss_conn_sendfile(out, in, off, n, real);
    ss_busy--;
    if (r >= 0)
        errno = saved;
    return r;
}

HK_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    return hk_sendfile(out, in, off, n, ss_real_sendfile);
}

HK_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
    return hk_sendfile(out, in, off, n, ss_real_sendfile64);
}

/* Message vectors belong to datagram protocols: a followed stream that
 * meets one is let go, and the call is the real one. */
static void hk_let_go(int fd)
{
    int err = errno;

    ss_busy++;
    ss_conn_forget(fd);
    ss_busy--;
    errno = err;
}

HK_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    if (hk_follows(fd))
        hk_let_go(fd);
    return ss_real_sendmmsg(fd, v, n, flags);
}

HK_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
    if (hk_follows(fd))
        hk_let_go(fd);
    return ss_real_recvmmsg(fd, v, n, flags, t);
}

/* ---- reading ------------------------------------------------------------ */

HK_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (!hk_follows(fd))
        return ss_real_read(fd, buf, n);
    return hk_recv1(fd, buf, ss_real_read(fd, buf, n), 0);
}

HK_EXPORT ssize_t __read(int fd, void *buf, size_t n)
{
    if (!hk_follows(fd))
        return ss_real___read(fd, buf, n);
    return hk_recv1(fd, buf, ss_real___read(fd, buf, n), 0);
}

HK_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (!hk_follows(fd))
        return ss_real___read_chk(fd, buf, n, buflen);
    return hk_recv1(fd, buf, ss_real___read_chk(fd, buf, n, buflen), 0);
}

HK_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    ssize_t r;

    if (!hk_follows(fd))
        return ss_real_readv(fd, iov, cnt);
    r = ss_real_readv(fd, iov, cnt);
    hk_recv_done(fd, iov, cnt, r, 0);
    return r;
}

HK_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (!hk_follows(fd))
        return ss_real_recv(fd, buf, n, flags);
    return hk_recv1(fd, buf, ss_real_recv(fd, buf, n, flags), flags);
}

HK_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (!hk_follows(fd))
        return ss_real___recv_chk(fd, buf, n, buflen, flags);
    return hk_recv1(fd, buf, ss_real___recv_chk(fd, buf, n, buflen, flags), flags);
}

HK_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                           socklen_t *alen)
{
    if (!hk_follows(fd))
        return ss_real_recvfrom(fd, buf, n, flags, addr, alen);
    return hk_recv1(fd, buf, ss_real_recvfrom(fd, buf, n, flags, addr, alen), flags);
}

HK_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                 struct sockaddr *addr, socklen_t *alen)
{
    if (!hk_follows(fd))
        return ss_real___recvfrom_chk(fd, buf, n, buflen, flags, addr, alen);
    return hk_recv1(fd, buf, ss_real___recvfrom_chk(fd, buf, n, buflen, flags, addr, alen),
                    flags);
}

HK_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t r;

    if (!hk_follows(fd) || msg == NULL)
        return ss_real_recvmsg(fd, msg, flags);
    r = ss_real_recvmsg(fd, msg, flags);
    hk_recv_done(fd, msg->msg_iov, (int)msg->msg_iovlen, r, flags);
    return r;
}
