/*
 * ss_owntable.c - the flush thread leaves the program's fd table (see
 * ss_owntable.h).
 *
 * Why: redis-benchmark makes six calls on an fd per command; with one
 * idle thread more in the process each takes and drops a reference to
 * its file, about 0.2 us a command, 3 % of its throughput. The shim's own
 * thread should cost what its work costs, not a tax on every call.
 *
 * How: close_range(0, ~0U, CLOSE_RANGE_UNSHARE) gives the calling thread
 * a table of its own with nothing in it, in one call: no copy of any of
 * the program's files is ever held, so a pipe or socket the program closes
 * is closed at once, as before. The exporter then opens its own socket in
 * that table (ex_transport_own_table), out of reach of the program's
 * close() and dup2() and of its fd numbers.
 *
 * What the thread then lacks is the program's stderr, where the shim's log
 * lines go. Each line borrows the program's fd 2 as it is at that moment
 * (pidfd_getfd on this very process, which the kernel allows a thread of
 * the process without any privilege), is written, and lets it go: the
 * line goes where it went before, after the program has moved its stderr
 * too. Both calls are tried before the table is left; if either is
 * refused the thread stays in the program's table, as before.
 */
#define _GNU_SOURCE
#include "ss_owntable.h"
#include "ss_log.h"
#include "ss_real.h"

#include <errno.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The flush thread's handle on its own process, in its own table: -1 in
 * every thread of the program's table; -2 if it could not be had after
 * leaving (log lines from the thread are then lost). */
static __thread int ss_own_pidfd __attribute__((tls_model("initial-exec"))) = -1;

static int ss_pidfd_open(void)
{
    return (int)syscall(SYS_pidfd_open, getpid(), 0);
}

static int ss_pidfd_getfd(int pidfd, int fd)
{
    return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* Can this thread borrow the program's fd 2? (It may have none: EBADF.) */
static int ss_owntable_can_borrow(void)
{
    int pidfd = ss_pidfd_open(), fd, ok;

    if (pidfd < 0)
        return 0;
    fd = ss_pidfd_getfd(pidfd, STDERR_FILENO);
    ok = fd >= 0 || errno == EBADF;
    if (fd >= 0)
        ss_real_close(fd);
    ss_real_close(pidfd);
    return ok;
}

int ss_owntable_leave(void)
{
    if (!ss_owntable_can_borrow() ||
        syscall(SYS_close_range, 0U, ~0U, (unsigned)CLOSE_RANGE_UNSHARE) != 0) {
        ss_log(SS_LOG_DEBUG, "the flush thread stays in the program's fd table: %s",
               strerror(errno));
        return 0;
    }
    ss_own_pidfd = ss_pidfd_open();
    if (ss_own_pidfd < 0)
        ss_own_pidfd = -2;
    return 1;
}

int ss_owntable_stderr(int *borrowed)
{
    int saved = errno, fd;

    *borrowed = 0;
    if (ss_own_pidfd == -1)
        return STDERR_FILENO;
    if (ss_own_pidfd < 0)
        return -1;
    fd = ss_pidfd_getfd(ss_own_pidfd, STDERR_FILENO);
    errno = saved;
    *borrowed = fd >= 0;
    return fd;
}
