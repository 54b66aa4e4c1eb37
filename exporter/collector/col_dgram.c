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
#include <time.h>

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

/* Datagrams taken from the kernel in one call: its queue holds only a few
 * (net.unix.max_dgram_qlen, 10 by default), and a sender that finds it
 * full must keep or drop its batch, so the socket is emptied with as few
 * calls as it holds datagrams, not two (poll, recvmsg) for each. */
#define COL_RX_BATCH 16

typedef struct col_rx {
    struct mmsghdr m[COL_RX_BATCH];
    struct iovec v[COL_RX_BATCH];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl[COL_RX_BATCH];
    uint8_t buf[COL_RX_BATCH][COL_DGRAM_MAX];
} col_rx_t;

static col_rx_t *col_rx_bufs; /* allocated before the thread starts: no silent end */

/* Up to COL_RX_BATCH datagrams (each one's full length, even if cut),
 * without waiting: how many, or -1. */
static int col_recv_many(int fd, col_rx_t *rx)
{
    int i;

    memset(rx->m, 0, sizeof(rx->m));
    for (i = 0; i < COL_RX_BATCH; i++) {
        rx->v[i].iov_base = rx->buf[i];
        rx->v[i].iov_len = COL_DGRAM_MAX;
        rx->m[i].msg_hdr.msg_iov = &rx->v[i];
        rx->m[i].msg_hdr.msg_iovlen = 1;
        rx->m[i].msg_hdr.msg_control = &rx->ctl[i];
        rx->m[i].msg_hdr.msg_controllen = sizeof(rx->ctl[i]);
    }
    return recvmmsg(fd, rx->m, COL_RX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
}

/* Who sent a datagram, as the kernel says (SO_PASSCRED). */
static void col_sender(struct msghdr *m, struct ucred *who)
{
    struct cmsghdr *c;

    who->pid = 0;
    who->uid = (uid_t)-1;
    who->gid = (gid_t)-1;
    for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
            memcpy(who, CMSG_DATA(c), sizeof(*who));
}

/* Empty the socket as fast as datagrams come; after a stop, take what is
 * still queued in the kernel, then finish. */
static void *col_dgram_thread(void *arg)
{
    col_rx_t *rx = arg;
    struct ucred who;
    const struct timespec pause = {0, 10 * 1000000L};

    for (;;) {
        struct pollfd p = {col_rx_fd, POLLIN, 0};
        int stopping = col_stopping(), n, i;

        if (!stopping && poll(&p, 1, 100) <= 0)
            continue;
        if (stopping && col_stop_handling_over())
            break; /* what still comes is lost with the socket, uncounted */
        n = col_recv_many(col_rx_fd, rx);
        for (i = 0; i < n; i++) {
            col_sender(&rx->m[i].msg_hdr, &who);
            col_dgram_enqueue(rx->buf[i], (ssize_t)rx->m[i].msg_len, &who);
        }
        if (n >= 0 || errno == EINTR)
            continue;
        if (stopping)
            break; /* the queue is empty (or cannot be read): done */
        if (errno == EAGAIN)
            continue;
        /* Readable, yet not to be read (ENOMEM, ENOBUFS): said, and tried
         * again a little later rather than at once forever. */
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: receiving datagrams: %s; trying again\n",
                    strerror(errno));
        nanosleep(&pause, NULL);
    }
    __atomic_store_n(&col_rx_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int col_dgram_start(int fd)
{
    col_rx_fd = fd;
    if ((col_rx_bufs = malloc(sizeof(*col_rx_bufs))) == NULL) {
        fprintf(stderr, "spanshim-collector: no memory for the receive buffers\n");
        return 0;
    }
    if (pthread_create(&col_rx, NULL, col_dgram_thread, col_rx_bufs) != 0) {
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
    free(col_rx_bufs);
    col_rx_bufs = NULL;
}
