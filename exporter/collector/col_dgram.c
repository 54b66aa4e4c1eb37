/*
 * col_dgram.c - the datagram socket's receiving thread (see col_dgram.h).
 */
#define _GNU_SOURCE
#include "col_dgram.h"
#include "col_lineage.h"
#include "col_log.h"
#include "col_options.h"
#include "col_queue.h"
#include "col_stats.h"
#include "col_stop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static pthread_t col_rx;
static int col_rx_fd = -1, col_rx_done;

static int col_uid_allowed(uid_t uid)
{
    int i;

    if (col_opt.n_allow == 0)
        return 1;
    for (i = 0; i < col_opt.n_allow; i++)
        if (col_opt.allow[i] == uid)
            return 1;
    return 0;
}

/* Why the sender may not write; NULL if it may (counted if not). */
static const char *col_sender_refused(const struct ucred *who)
{
    col_lineage_t v;

    if (col_opt.descendants_of == 0) {
        if (col_uid_allowed(who->uid))
            return NULL;
        COL_COUNT(refused_uid, 1);
        return "not an allowed uid";
    }
    if (col_opt.n_allow && col_uid_allowed(who->uid))
        return NULL;
    v = col_lineage_check(who->pid, who->uid);
    if (col_lineage_accepted(v))
        return NULL;
    COL_COUNT(refused_lineage, 1);
    return v == COL_LINEAGE_OUTSIDE ? "not the traced program or a process it started"
                                    : "gone before it could be checked, and no process of the "
                                      "traced program ran as that uid";
}

static void col_dgram_enqueue(const uint8_t *data, ssize_t n, const struct ucred *who)
{
    const char *refused = col_sender_refused(who);

    if (refused) {
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: refused a datagram from pid %d uid %u: %s\n",
                    (int)who->pid, (unsigned)who->uid, refused);
        return;
    }
    if (n > COL_DGRAM_MAX) {
        COL_COUNT(oversized, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: ignored an oversized datagram (%zd bytes) from "
                            "pid %d uid %u\n", n, (int)who->pid, (unsigned)who->uid);
    } else if (!col_queue_put(data, (size_t)n, COL_FROM_DGRAM, who->pid, who->uid)) {
        if (COL_COUNT(queue_full, 1) == 1)
            fprintf(stderr, "spanshim-collector: falling behind; dropping batches\n");
    }
}

/* One datagram (its full length, even if cut) and who sent it. */
static ssize_t col_recv(int fd, uint8_t *buf, struct ucred *who)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec v = {buf, COL_DGRAM_MAX};
    struct msghdr m;
    struct cmsghdr *c;
    ssize_t n;

    memset(&m, 0, sizeof(m));
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    m.msg_control = &ctl;
    m.msg_controllen = sizeof(ctl);
    who->pid = 0;
    who->uid = (uid_t)-1;
    who->gid = (gid_t)-1;
    n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_TRUNC);
    for (c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
            memcpy(who, CMSG_DATA(c), sizeof(*who));
    return n;
}

/* Empty the socket as fast as datagrams come; after a stop, take what is
 * still queued in the kernel, then finish. */
static void *col_dgram_thread(void *arg)
{
    uint8_t *buf = malloc(COL_DGRAM_MAX);
    struct ucred who;

    (void)arg;
    while (buf) {
        struct pollfd p = {col_rx_fd, POLLIN, 0};
        int stopping = col_stopping();
        ssize_t n;

        if (!stopping && poll(&p, 1, 100) <= 0)
            continue;
        if (stopping && col_stop_handling_over())
            break; /* what still comes is lost with the socket, uncounted */
        n = col_recv(col_rx_fd, buf, &who);
        if (n >= 0)
            col_dgram_enqueue(buf, n, &who);
        else if (stopping && errno != EINTR)
            break;
    }
    free(buf);
    __atomic_store_n(&col_rx_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int col_dgram_start(int fd)
{
    col_rx_fd = fd;
    if (pthread_create(&col_rx, NULL, col_dgram_thread, NULL) != 0) {
        fprintf(stderr, "spanshim-collector: cannot start the receiving thread\n");
        return 0;
    }
    return 1;
}

int col_dgram_finished(void)
{
    return __atomic_load_n(&col_rx_done, __ATOMIC_ACQUIRE);
}

void col_dgram_join(void)
{
    pthread_join(col_rx, NULL);
}
