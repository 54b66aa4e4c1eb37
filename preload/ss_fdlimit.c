/*
 * ss_fdlimit.c - the threshold and the rare path (see ss_fdlimit.h).
 *
 * The threshold leaves SS_FDLIMIT_SPARE numbers below the limit, as the
 * transport does for its per-batch sockets: once a program is that close,
 * the next few fds it asks for are the ones the kept socket would take.
 * Nothing is done in a vfork child (its memory is the parent's, its fds
 * are not) nor inside the shim (a signal handler interrupting a flush that
 * holds the transport's lock): the threshold stays, and the next new fd
 * takes the rare path again.
 */
#define _GNU_SOURCE
#include "ss_fdlimit.h"
#include "ss_init.h"
#include "ss_log.h"
#include "ss_stack.h"
#include "../exporter/ex_transport.h"

#include <errno.h>
#include <limits.h>
#include <sys/resource.h>

#define SS_FDLIMIT_SPARE 4

int ss_fdlimit_near = INT_MAX;

/* The soft limit less the spare numbers (INT_MAX if there is no limit). */
static int ss_fdlimit_threshold(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= (rlim_t)INT_MAX)
        return INT_MAX;
    return rl.rlim_cur > SS_FDLIMIT_SPARE ? (int)(rl.rlim_cur - SS_FDLIMIT_SPARE) : 0;
}

void ss_fdlimit_init(void)
{
    __atomic_store_n(&ss_fdlimit_near, ss_fdlimit_threshold(), __ATOMIC_RELAXED);
}

void ss_fdlimit_reached(int fd)
{
    int err = errno, near;

    if (ss_busy || ss_in_vfork_child()) {
        errno = err;
        return;
    }
    near = ss_fdlimit_threshold();
    if (fd < near) {
        __atomic_store_n(&ss_fdlimit_near, near, __ATOMIC_RELAXED); /* the limit was raised */
    } else {
        ss_busy++;
        ex_transport_give_up();
        ss_log(SS_LOG_DEBUG, "fd %d is near the fd limit: the export socket gives way", fd);
        ss_stack_give_up(); /* and so does libunwind's pipe, if there is one */
        ss_busy--;
        __atomic_store_n(&ss_fdlimit_near, INT_MAX, __ATOMIC_RELAXED);
    }
    errno = err;
}
