/*
 * col_dgram.c - who reads the shims' datagram socket (see col_dgram.h):
 * the main thread itself while it keeps up, the receiving thread while a
 * sink holds the main thread, and the receiving thread alone at a stop.
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

/* Whether a received datagram may be handled: not from a sender refused,
 * not oversized (said, rate-limited, and counted if not). */
static int col_dgram_accepted(ssize_t n, const struct ucred *who)
{
    const char *refused = col_sender_refused(who);

    if (refused) {
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: refused a datagram from pid %d uid %u: %s\n",
                    (int)who->pid, (unsigned)who->uid, refused);
        return 0;
    }
    if (n > COL_DGRAM_MAX) {
        COL_COUNT(oversized, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: ignored an oversized datagram (%zd bytes) from "
                            "pid %d uid %u\n", n, (int)who->pid, (unsigned)who->uid);
        return 0;
    }
    return 1;
}

static void col_dgram_enqueue(const uint8_t *data, ssize_t n, const struct ucred *who)
{
    if (col_dgram_accepted(n, who) &&
        !col_queue_put(data, (size_t)n, COL_FROM_DGRAM, who->pid, who->uid)) {
        if (COL_COUNT(queue_full, 1) == 1)
            fprintf(stderr, "spanshim-collector: falling behind; dropping batches\n");
    }
}

/* Datagrams taken from the kernel in one call: its queue holds only a few
 * (net.unix.max_dgram_qlen, 10 by default), and a sender that finds it
 * full must keep or drop its batch, so the socket is emptied with as few
 * calls as it holds datagrams, not two (poll, recvmsg) for each. The main
 * thread takes fewer at a time: it handles them before it reads again. */
#define COL_RX_BATCH 16
#define COL_MAIN_BATCH 4

/* The headers of one recvmmsg call; the buffers are the caller's. */
typedef struct col_rxv {
    struct mmsghdr m[COL_RX_BATCH];
    struct iovec v[COL_RX_BATCH];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl[COL_RX_BATCH];
} col_rxv_t;

typedef struct col_rx {
    col_rxv_t v;
    uint8_t buf[COL_RX_BATCH][COL_DGRAM_MAX];
} col_rx_t;

/* The main thread's: each datagram read into an item's data, handled
 * where it lies (no copy). */
typedef struct col_main_rx {
    col_rxv_t v;
    col_item_t *item[COL_MAIN_BATCH];
    uint8_t *buf[COL_MAIN_BATCH];    /* item[i]->data */
} col_main_rx_t;

static col_rx_t *col_rx_bufs; /* allocated before the thread starts: no silent end */
static col_main_rx_t col_main_rx;

/* One reader at a time, so datagrams stay in their order: the receiving
 * thread holds it for a read and the queueing of what it read, the main
 * thread for its look at the queue and its read. The main thread handles
 * what it read before it takes the queue again, and whatever the
 * receiving thread queues after that read came later. */
static pthread_mutex_t col_read_lock = PTHREAD_MUTEX_INITIALIZER;

/* When the main thread began to work without waiting since
 * (CLOCK_MONOTONIC ms); 0 while it waits. */
static uint64_t col_main_since;

/* Up to max datagrams into bufs (each one's full length, even if cut),
 * without waiting: how many, or -1. */
static int col_recv_many(int fd, col_rxv_t *rx, uint8_t *const *bufs, int max)
{
    int i;

    memset(rx->m, 0, sizeof(rx->m[0]) * (size_t)max);
    for (i = 0; i < max; i++) {
        rx->v[i].iov_base = bufs[i];
        rx->v[i].iov_len = COL_DGRAM_MAX;
        rx->m[i].msg_hdr.msg_iov = &rx->v[i];
        rx->m[i].msg_hdr.msg_iovlen = 1;
        rx->m[i].msg_hdr.msg_control = &rx->ctl[i];
        rx->m[i].msg_hdr.msg_controllen = sizeof(rx->ctl[i]);
    }
    return recvmmsg(fd, rx->m, (unsigned)max, MSG_DONTWAIT | MSG_TRUNC, NULL);
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

/* Readable, yet not to be read (ENOMEM, ENOBUFS): said, and tried again a
 * little later rather than at once forever. */
static void col_recv_failed(void)
{
    const struct timespec pause = {0, 10 * 1000000L};

    if (col_log_allowed())
        fprintf(stderr, "spanshim-collector: receiving datagrams: %s; trying again\n",
                strerror(errno));
    nanosleep(&pause, NULL);
}

void col_dgram_main_working(int working)
{
    if (!working)
        __atomic_store_n(&col_main_since, 0, __ATOMIC_RELAXED);
    else if (__atomic_load_n(&col_main_since, __ATOMIC_RELAXED) == 0)
        __atomic_store_n(&col_main_since, col_now_ms(), __ATOMIC_RELAXED);
}

/* Whether the main thread has worked COL_STAND_IN_MS without a wait. */
static int col_main_held(void)
{
    uint64_t since = __atomic_load_n(&col_main_since, __ATOMIC_RELAXED);

    return since != 0 && col_now_ms() - since >= COL_STAND_IN_MS;
}

int col_dgram_fd(void)
{
    return col_stopping() ? -1 : col_rx_fd;
}

int col_dgram_take(void (*handle)(const col_item_t *d))
{
    col_main_rx_t *rx = &col_main_rx;
    struct ucred who;
    int n, i;

    if (col_stopping() || col_queue_bytes())
        return 0;
    pthread_mutex_lock(&col_read_lock);
    /* What the receiving thread put in the queue came first. */
    n = col_queue_bytes() ? 0 : col_recv_many(col_rx_fd, &rx->v, rx->buf, COL_MAIN_BATCH);
    pthread_mutex_unlock(&col_read_lock);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            col_recv_failed();
        return 0;
    }
    for (i = 0; i < n; i++) {
        col_item_t *d = rx->item[i];
        ssize_t len = (ssize_t)rx->v.m[i].msg_len;

        col_sender(&rx->v.m[i].msg_hdr, &who);
        if (!col_dgram_accepted(len, &who))
            continue;
        d->next = NULL;
        d->len = (size_t)len;
        d->from = COL_FROM_DGRAM;
        d->pid = who.pid;
        d->uid = who.uid;
        handle(d);
    }
    return n == COL_MAIN_BATCH;
}

/* While the main thread keeps up, look now and then; while a sink holds
 * it, and after a stop, empty the socket into the queue as fast as
 * datagrams come; after a stop, take what is still queued in the kernel,
 * then finish. */
static void *col_dgram_thread(void *arg)
{
    col_rx_t *rx = arg;
    uint8_t *bufs[COL_RX_BATCH];
    struct ucred who;
    int i;

    for (i = 0; i < COL_RX_BATCH; i++)
        bufs[i] = rx->buf[i];
    for (;;) {
        struct pollfd p = {col_rx_fd, POLLIN, 0};
        int stopping = col_stopping(), n;

        if (!stopping && !col_main_held()) {
            /* Soon again while the main thread works; while it waits,
             * as seldom as the poll this thread made before (an idle
             * collector's threads wake 10 times a second each). */
            long ms = __atomic_load_n(&col_main_since, __ATOMIC_RELAXED) ? COL_STAND_IN_MS / 2 : 100;
            const struct timespec nap = {0, ms * 1000000L};

            nanosleep(&nap, NULL);
            continue;
        }
        if (!stopping && poll(&p, 1, COL_STAND_IN_MS) <= 0)
            continue;
        if (stopping && col_stop_handling_over())
            break; /* what still comes is lost with the socket, uncounted */
        pthread_mutex_lock(&col_read_lock);
        n = col_recv_many(col_rx_fd, &rx->v, bufs, COL_RX_BATCH);
        for (i = 0; i < n; i++) {
            col_sender(&rx->v.m[i].msg_hdr, &who);
            col_dgram_enqueue(rx->buf[i], (ssize_t)rx->v.m[i].msg_len, &who);
        }
        pthread_mutex_unlock(&col_read_lock);
        if (n >= 0 || errno == EINTR)
            continue;
        if (stopping)
            break; /* the queue is empty (or cannot be read): done */
        if (errno == EAGAIN)
            continue;
        col_recv_failed();
    }
    __atomic_store_n(&col_rx_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int col_dgram_start(int fd)
{
    int i;

    col_rx_fd = fd;
    if ((col_rx_bufs = malloc(sizeof(*col_rx_bufs))) == NULL) {
        fprintf(stderr, "spanshim-collector: no memory for the receive buffers\n");
        return 0;
    }
    for (i = 0; i < COL_MAIN_BATCH; i++) {
        if ((col_main_rx.item[i] = malloc(sizeof(col_item_t) + COL_DGRAM_MAX)) == NULL) {
            fprintf(stderr, "spanshim-collector: no memory for the receive buffers\n");
            return 0;
        }
        col_main_rx.buf[i] = col_main_rx.item[i]->data;
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
    int i;

    pthread_join(col_rx, NULL);
    free(col_rx_bufs);
    col_rx_bufs = NULL;
    for (i = 0; i < COL_MAIN_BATCH; i++) {
        free(col_main_rx.item[i]);
        col_main_rx.item[i] = NULL;
    }
}
