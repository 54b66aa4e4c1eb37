/*
 * col_dgram.h - the shims' datagrams: the receiving thread of the Unix
 * datagram socket.
 *
 * It does nothing but empty the socket into the queue (col_queue.h): the
 * kernel holds only a few datagrams per socket, and a sender that finds it
 * full drops its batch. Who may write: the socket is owner-only unless
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

#define COL_DGRAM_MAX (256 * 1024)

/* Start the receiving thread on the bound socket fd: 0 if it cannot. */
int col_dgram_start(int fd);
/* Whether it has finished (only after a stop). */
int col_dgram_finished(void);
void col_dgram_join(void);

#endif
