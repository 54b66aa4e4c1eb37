/*
 * ex_loss.h - spans that never reached the collector, told to the user.
 *
 * A traced program whose collector cannot be reached (no socket, EACCES,
 * ECONNREFUSED, a full socket, a socket not trusted) would otherwise lose
 * every span in silence. The first loss is said once at the default log
 * level, with the reason and the socket's path (ex_transport_why), and at
 * exit a process that lost spans says how many, by reason (the reason's
 * sentence is the first line's: not repeated).
 *
 * Once means once for a process and the children it forks: prefork
 * servers lose spans in each of their workers, and fifty workers saying
 * the same line is noise. The flag lives on a page shared with the
 * children, mapped at the first fork (nothing for programs that never
 * fork). A program that execs starts over: it is another program.
 *
 * The collector is told too, in band: once this process has lost a span
 * or a log record, the datagrams it sends (trace and logs datagrams alike:
 * a process that only logs tells its losses too) carry its counts so far,
 * by reason, as resource attributes (spanshim.spans_dropped.<reason> and
 * spanshim.logs_dropped.<reason>, integers, and spanshim.loss.instance, a
 * random id of this process instance). The counts
 * are cumulative, so a datagram that is itself lost loses no count: the
 * next one that gets through carries them all, and the collector keeps the
 * largest value it saw per instance and reason (repeats and reordering
 * change nothing). They ride every datagram until one that carries the
 * current counts has been sent, then only when a count changes, and again
 * every EX_LOSS_REFRESH_S seconds for a collector that restarted: a
 * datagram with them costs the collector a full decode (its plain path
 * takes resources without spanshim.* keys), which a shim that lost one
 * span long ago should not make it pay on every batch. The id tells apart
 * two processes of one pid (an exec, a reused pid); a fork child draws its
 * own and counts from zero. Until the first loss nothing is added: the
 * datagrams are as they were.
 */
#ifndef EX_LOSS_H
#define EX_LOSS_H

#include "ex_transport.h"

#include <stddef.h>
#include <stdint.h>

/* n spans were dropped for the reason res (not EX_TX_SENT). */
void ex_loss_note(ex_tx_t res, unsigned n);
/* n log records were dropped for the reason res: said once (the same
 * once as spans'), counted apart, told at exit on a line of their own. */
void ex_loss_note_logs(ex_tx_t res, unsigned n);
/* At exit: the line with the count, if this process lost any (and one for
 * log records). */
void ex_loss_report(void);
/* Before fork: the "said" flag shared with the child from now on. */
void ex_loss_before_fork(void);
/* In a fork child: its own count, from zero. */
void ex_loss_after_fork(void);

#define EX_LOSS_REFRESH_S 10

/* The Resource fields that carry this process's loss counts into buf
 * (EX_LOSS_ATTRS_MAX bytes) for the next datagram: their length; 0 while
 * nothing was lost, or while the counts are those a sent datagram carried
 * less than EX_LOSS_REFRESH_S ago (now_ns: ex_mono_ns()). */
size_t ex_loss_attrs_at(uint8_t *buf, size_t cap, uint64_t now_ns);
size_t ex_loss_attrs(uint8_t *buf, size_t cap);
/* The datagram that carried the counts ex_loss_attrs gave last was sent. */
void ex_loss_told(void);

#endif
