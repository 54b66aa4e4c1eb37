/*
 * hk_socket.c - hooks for the life of a socket: creation, connect, accept,
 * duplication, close. They decide which fds are followed; the data hooks
 * in hk_io.c then only look at those.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_export.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>

HK_EXPORT int socket(int domain, int type, int protocol)
{
    return hk_born(ss_real_socket(domain, type, protocol));
}

static int hk_connected(int fd, const struct sockaddr *addr, socklen_t len, int rc)
{
    int err = errno;

    if (hk_active()) {
        ss_busy++;
        ss_conn_on_connect(fd, addr, len, rc, err);
        if (ss_logcap_on && rc == 0 && addr && addr->sa_family == AF_UNIX)
            ss_logcap_connected(fd, addr, len); /* /dev/log, the journal's socket */
        ss_busy--;
        errno = err;
    }
    return rc;
}

HK_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return hk_connected(fd, addr, len, ss_real_connect(fd, addr, len));
}

HK_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return hk_connected(fd, addr, len, ss_real___connect(fd, addr, len));
}

static int hk_accepted(int fd, struct sockaddr *addr, socklen_t *len)
{
    int err = errno;

    ss_fdlimit_check(fd);
    if (fd >= 0 && hk_active()) {
        ss_busy++;
        ss_conn_on_accept(fd, addr, addr && len ? *len : 0);
        ss_busy--;
        errno = err;
    }
    return fd;
}

HK_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return hk_accepted(ss_real_accept(fd, addr, len), addr, len);
}

HK_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return hk_accepted(ss_real_accept4(fd, addr, len, flags), addr, len);
}

/* The fd is going away: the connection ends with its last fd. */
static void hk_forget(int fd)
{
    int err = errno;

    ss_export_fd_closed(fd);
    if (__builtin_expect(ss_logcap_is_log(fd), 0) && ss_busy == 0 && !ss_in_vfork_child()) {
        ss_busy++;
        ss_logcap_closed(fd);
        ss_busy--;
    }
    if (hk_follows(fd) && !ss_in_vfork_child()) {
        ss_busy++;
        ss_conn_on_close(fd);
        ss_busy--;
    }
    errno = err;
}

HK_EXPORT int close(int fd)
{
    hk_forget(fd);
    return ss_real_close(fd);
}

HK_EXPORT int __close(int fd)
{
    hk_forget(fd);
    return ss_real___close(fd);
}

/* Programs that close everything (daemons, sandboxes) close the export
 * socket too: the exporter reconnects later, on a number of its own. */
static void hk_forget_range(unsigned first, unsigned last)
{
    int err = errno;

    ss_export_fds_closed(first, last);
    if (ss_busy == 0 && !ss_in_vfork_child()) {
        ss_busy++;
        ss_logcap_closed_range(first, last);
        ss_conn_on_close_range(first, last);
        ss_busy--;
    }
    errno = err;
}

HK_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        hk_forget_range(first, last);
    return ss_real_close_range(first, last, flags);
}

HK_EXPORT void closefrom(int lowfd)
{
    hk_forget_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0U);
    ss_real_closefrom(lowfd);
}

HK_EXPORT int shutdown(int fd, int how)
{
    uint64_t at;
    int rc, err;

    if (how == SHUT_RD || !hk_follows(fd) || ss_in_vfork_child())
        return ss_real_shutdown(fd, how);
    at = ss_now_ns(); /* the peer may see the end before shutdown returns */
    rc = ss_real_shutdown(fd, how);
    if (rc == 0) {
        err = errno;
        ss_busy++;
        ss_conn_on_shutdown(fd, at);
        ss_busy--;
        errno = err;
    }
    return rc;
}

static int hk_duped(int oldfd, int newfd)
{
    int err = errno;

    ss_fdlimit_check(newfd);
    if (__builtin_expect(ss_logcap_on, 0) && newfd >= 0 && newfd != oldfd && ss_busy == 0 &&
        !ss_in_vfork_child()) {
        ss_busy++;
        ss_logcap_replaced(oldfd, newfd);
        ss_busy--;
        errno = err;
    }
    if (newfd >= 0 && newfd != oldfd && ss_busy == 0 &&
        (ss_fd_followed(oldfd) || ss_fd_followed(newfd)) && !ss_in_vfork_child()) {
        ss_busy++;
        ss_conn_on_dup(oldfd, newfd);
        ss_busy--;
        errno = err;
    }
    return newfd;
}

HK_EXPORT int dup(int fd)
{
    return hk_duped(fd, ss_real_dup(fd));
}

/* The export socket is forgotten before the real call, so that the
 * exporter never writes into whatever the program puts on that number. */
HK_EXPORT int dup2(int oldfd, int newfd)
{
    if (oldfd != newfd)
        ss_export_fd_closed(newfd);
    return hk_duped(oldfd, ss_real_dup2(oldfd, newfd));
}

HK_EXPORT int __dup2(int oldfd, int newfd)
{
    if (oldfd != newfd)
        ss_export_fd_closed(newfd);
    return hk_duped(oldfd, ss_real___dup2(oldfd, newfd));
}

HK_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd)
        ss_export_fd_closed(newfd);
    return hk_duped(oldfd, ss_real_dup3(oldfd, newfd, flags));
}

HK_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int rc = ss_real_getsockopt(fd, level, name, val, len), err = errno;

    if (rc == 0 && level == SOL_SOCKET && name == SO_ERROR && val && len &&
        *len >= (socklen_t)sizeof(int) && hk_follows(fd)) {
        ss_busy++;
        ss_conn_on_sockerr(fd, *(int *)val);
        ss_busy--;
        errno = err;
    }
    return rc;
}

/* fcntl is variadic; every command takes at most one argument, passed on
 * as it came. F_DUPFD and F_DUPFD_CLOEXEC make a new fd for the same socket. */
#define HK_FCNTL(name)                                                        \
    HK_EXPORT int name(int fd, int cmd, ...)                                  \
    {                                                                         \
        va_list ap;                                                           \
        void *arg;                                                            \
        int r;                                                                \
                                                                              \
        va_start(ap, cmd);                                                    \
        arg = va_arg(ap, void *);                                             \
        va_end(ap);                                                           \
        r = ss_real_##name(fd, cmd, arg);                                     \
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)                         \
            hk_duped(fd, r);                                                  \
        return r;                                                             \
    }
HK_FCNTL(fcntl)
HK_FCNTL(fcntl64)
HK_FCNTL(__fcntl)
