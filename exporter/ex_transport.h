/*
 * ex_transport.h - the shim's datagrams to spanshim-collector.
 *
 * One datagram per batch on a Unix socket, never blocking and never
 * raising SIGPIPE, to a collector whose socket passed the trust check
 * (ex_sockpath.h) when it was connected to; what became of it is told so
 * the batcher can keep the batch or count its spans under the right reason.
 */
#ifndef EX_TRANSPORT_H
#define EX_TRANSPORT_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

typedef enum {
    EX_TX_SENT,
    EX_TX_BUSY,         /* the collector's queue is full: try again later */
    EX_TX_NOCOLLECTOR,  /* nobody listens (or the send failed) */
    EX_TX_UNTRUSTED,    /* a socket is there, but not one to trust */
    EX_TX_FDLIMIT,      /* the program's fd table is nearly full */
    EX_TX_OFF,          /* SPANSHIM_SOCKET is unusable: export is off */
} ex_tx_t;

ex_tx_t ex_transport_send(const struct msghdr *msg);
/* Why the last send that failed did: a sentence with the socket's path
 * ("cannot reach the collector at PATH: Connection refused"). */
const char *ex_transport_why(void);
/* Bytes of spans one datagram may carry: what the collector takes
 * (EX_DGRAM_SPANS_MAX) within a quarter of the kept socket's send buffer,
 * so that several are in flight (0 before the first connect: one batch). */
#define EX_DGRAM_SPANS_MAX (240 * 1024)
size_t ex_transport_dgram_room(void);
/* In a fork child: the parent may have been waiting to reconnect. */
void ex_transport_after_fork(void);

/* Called by the flush thread once it has an fd table of its own: its
 * sends go on a socket it keeps there. */
void ex_transport_own_table(void);

/* The program's fd table is nearly full: close the kept socket (waiting
 * for a send under way) and keep none from now on. */
void ex_transport_give_up(void);

/* The program closed fd: if it was the export socket, forget it. */
void ex_transport_fd_closed(int fd);
void ex_transport_fds_closed(unsigned first, unsigned last);

static inline uint64_t ex_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
