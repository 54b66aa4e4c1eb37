/*
 * col_dgram.h - the shims' datagrams: who reads the Unix datagram socket.
 *
 * The main thread itself, while it keeps up: it waits on the socket, reads
 * a few datagrams and hands each to the sinks where it lies. A datagram
 * then costs one wake-up and no copy; handed through the queue by a
 * thread of its own, it cost two wake-ups (the receiver's, then the main
 * thread's) and a copy, the collector's largest cost a datagram and, on a
 * virtual machine, more than its spans' JSON at a shim's rate.
 * The receiving thread stands in while a sink holds the main thread (a
 * write to a pipe nobody reads, a flood it has not caught up with:
 * COL_STAND_IN_MS of work without a wait), and after a stop: then it does
 * nothing but empty the socket into the queue (col_queue.h), which the
 * main thread takes before it reads the socket again. The kernel holds
 * only a few datagrams per socket, and a sender that finds it full keeps
 * or drops its batch. One reader at a time, so datagrams stay in order.
 * Who may write: the socket is owner-only unless
 * --socket-group names a group that may send too. The kernel tells the
 * receiver each sender's pid and uid (SO_PASSCRED); --allow-uid restricts
 * senders to the uids listed, and --allow-descendants-of PID accepts only
 * PID's descendants (col_lineage.h) and the collector's own uid. Log lines
 * about bad input name the sender. After a stop, what is still queued in
 * the kernel is taken, within the stop's time for handling.
 */
#ifndef COL_DGRAM_H
#define COL_DGRAM_H

#include <stddef.h>

#include "col_queue.h"

#define COL_DGRAM_MAX (256 * 1024)
/* The main thread worked that long without a wait: the receiving thread
 * stands in. */
#define COL_STAND_IN_MS 10

/* Start the receiving thread on the bound socket fd: 0 if it cannot. */
int col_dgram_start(int fd);
/* The main thread's part. The socket to wait on beside the queue, or -1
 * once stopping (the receiving thread takes what is left). */
int col_dgram_fd(void);
/* When nothing is queued: read up to a few datagrams and hand each one
 * accepted to handle(), in order. 1 if more may be waiting right now. */
int col_dgram_take(void (*handle)(const col_item_t *d));
/* The main thread begins to work (1) or is about to wait (0). */
void col_dgram_main_working(int working);
/* Whether it has finished (only after a stop). */
int col_dgram_finished(void);
void col_dgram_join(void);

#endif
