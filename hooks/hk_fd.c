/*
 * hk_fd.c - hooks where fd numbers are born outside the socket calls.
 *
 * Every call that creates an fd (a file, a pipe, an eventfd) hands it to
 * hk_born (hk_common.h): the table forgets what it held for that number,
 * and the export socket gives way if the number is one of the last. An
 * open may also make a log file (hk_log_opened, preload/ss_logcap.h).
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_stack.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

static int hk_born2(int rc, const int fds[2])
{
    if (rc == 0) {
        hk_born(fds[0]);
        hk_born(fds[1]);
    }
    return rc;
}

/* open's mode is only there when the flags ask for one. */
#define HK_MODE(flags, last)                                                  \
    mode_t mode = 0;                                                          \
    if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {          \
        va_list ap;                                                           \
        va_start(ap, last);                                                   \
        mode = (mode_t)va_arg(ap, int);                                       \
        va_end(ap);                                                           \
    }

#define HK_OPEN(name)                                                         \
    HK_EXPORT int name(const char *path, int flags, ...)                      \
    {                                                                         \
        HK_MODE(flags, flags)                                                 \
        return hk_log_opened(hk_born(ss_real_##name(path, flags, mode)),      \
                             AT_FDCWD, path, flags);                          \
    }
HK_OPEN(open)
HK_OPEN(open64)
HK_OPEN(__open)
HK_OPEN(__open64)

#define HK_OPENAT(name)                                                       \
    HK_EXPORT int name(int dir, const char *path, int flags, ...)             \
    {                                                                         \
        HK_MODE(flags, flags)                                                 \
        return hk_log_opened(hk_born(ss_real_##name(dir, path, flags, mode)), \
                             dir, path, flags);                               \
    }
HK_OPENAT(openat)
HK_OPENAT(openat64)

HK_EXPORT int __open_2(const char *path, int flags)
{
    return hk_log_opened(hk_born(ss_real___open_2(path, flags)), AT_FDCWD, path, flags);
}

HK_EXPORT int __open64_2(const char *path, int flags)
{
    return hk_log_opened(hk_born(ss_real___open64_2(path, flags)), AT_FDCWD, path, flags);
}

HK_EXPORT int __openat_2(int dir, const char *path, int flags)
{
    return hk_log_opened(hk_born(ss_real___openat_2(dir, path, flags)), dir, path, flags);
}

HK_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
    return hk_log_opened(hk_born(ss_real___openat64_2(dir, path, flags)), dir, path, flags);
}

HK_EXPORT int creat(const char *path, mode_t mode)
{
    return hk_log_opened(hk_born(ss_real_creat(path, mode)), AT_FDCWD, path,
                         O_CREAT | O_WRONLY | O_TRUNC);
}

HK_EXPORT int creat64(const char *path, mode_t mode)
{
    return hk_log_opened(hk_born(ss_real_creat64(path, mode)), AT_FDCWD, path,
                         O_CREAT | O_WRONLY | O_TRUNC);
}

HK_EXPORT int pipe(int fds[2])
{
    return hk_born2(ss_real_pipe(fds), fds);
}

HK_EXPORT int __pipe(int fds[2])
{
    return hk_born2(ss_real___pipe(fds), fds);
}

HK_EXPORT int pipe2(int fds[2], int flags)
{
    if (__builtin_expect(ss_stack_unwinding, 0)) /* libunwind's own (preload/ss_stack.c) */
        return ss_stack_pipe2(fds, flags);
    return hk_born2(ss_real_pipe2(fds, flags), fds);
}

HK_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    return hk_born2(ss_real_socketpair(domain, type, protocol, sv), sv);
}

HK_EXPORT int eventfd(unsigned int count, int flags)
{
    return hk_born(ss_real_eventfd(count, flags));
}

HK_EXPORT int epoll_create(int size)
{
    return hk_born(ss_real_epoll_create(size));
}

HK_EXPORT int epoll_create1(int flags)
{
    return hk_born(ss_real_epoll_create1(flags));
}

HK_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    return hk_born(ss_real_signalfd(fd, mask, flags));
}

HK_EXPORT int timerfd_create(int clock, int flags)
{
    return hk_born(ss_real_timerfd_create(clock, flags));
}

HK_EXPORT int inotify_init(void)
{
    return hk_born(ss_real_inotify_init());
}

HK_EXPORT int inotify_init1(int flags)
{
    return hk_born(ss_real_inotify_init1(flags));
}

HK_EXPORT int memfd_create(const char *name, unsigned int flags)
{
    return hk_born(ss_real_memfd_create(name, flags));
}
