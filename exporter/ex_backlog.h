/*
 * ex_backlog.h - full batches a busy collector could not take yet.
 *
 * The kernel queues only a few datagrams on a Unix socket (net.unix.
 * max_dgram_qlen, 10 by default, which only root can change), so a
 * collector that is not scheduled for a few milliseconds while a process
 * sends tens of thousands of spans a second finds its socket full, and a
 * batch with no room left was dropped. Now such a batch is copied here and
 * the batcher goes on filling a fresh one; what is here leaves first, oldest
 * first, as soon as the socket takes it again (the flush thread looks every
 * 2 ms while anything waits), several in one datagram where the socket's
 * send buffer has room for it: the kernel counts datagrams, not bytes, so a
 * collector that is behind is caught up with fewer. Only when all
 * EX_BACKLOG_MAX slots are taken is a batch dropped. The program never
 * waits for the collector.
 *
 * The slots are one anonymous mapping made at the first batch that needs
 * one: a process whose collector keeps up never has it, and its pages are
 * only touched as slots are used. All calls are under the batcher's lock.
 *
 * A slot holds a batch of spans or of log records (EX_BATCH_SPANS,
 * EX_BATCH_LOGS: ex_batch.h); batches leave in the order they were kept,
 * and only batches of one kind leave together (a datagram is one or the
 * other).
 */
#ifndef EX_BACKLOG_H
#define EX_BACKLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define EX_BACKLOG_MAX 32
/* Kept batches that may leave together, as one datagram (see ex_batch.h). */
#define EX_BACKLOG_JOIN 4

/* Keep a copy of a batch (n records of kind in len bytes, at most
 * EX_BATCH_MAX): 1, or 0 when every slot is taken (or there is no memory
 * for them). */
int ex_backlog_put(const uint8_t *spans, size_t len, unsigned n, int kind);
/* The oldest batches kept (at least one, if any; at most max, all of the
 * oldest's kind, and more than one only within room bytes) as iovecs: how
 * many, their bytes in *len, their records in *n and their kind in *kind. */
unsigned ex_backlog_oldest(struct iovec *iov, unsigned max, size_t room, size_t *len,
                           unsigned *n, int *kind);
/* The k oldest are gone (sent or dropped). */
void ex_backlog_pop(unsigned k);
/* Batches kept; may be read without the lock (a hint for the flush thread). */
unsigned ex_backlog_count(void);
/* In a fork child: the parent ships its own. */
void ex_backlog_after_fork(void);

#endif
