/*
 * ex_batch.h - the in-process side of export: batch spans, ship datagrams.
 *
 * Spans are encoded as they end and appended to one batch buffer. A batch
 * leaves as one datagram on a Unix socket to spanshim-collector when it is
 * full, when its oldest span is EX_FLUSH_MS old (checked as spans arrive and
 * by a lazily started background thread, so an idle process still ships),
 * at exit, and before exec. Sending never blocks and never raises SIGPIPE.
 * A collector that is behind gets time: a batch that still has room is
 * kept and tried again (and for up to 100 ms at exit) while spans keep
 * arriving; a full one waits in the backlog (ex_backlog.h) while a new one
 * fills; one that finds the backlog full, or still cannot go at exit, is
 * dropped and counted, as is everything when no collector listens
 * (ex_transport.h says where they go and which reason a drop is counted
 * under).
 *
 * Log records (ss_logrec.h) take the same way in a batch of their own:
 * encoded as they are captured, flushed by the same rules (and with the
 * spans: a flush sends both), kept in the same backlog, each datagram the
 * logs frame and the envelope (ex_otlp.h). Their losses are counted apart
 * (the host's logs counters, ex_loss.h's log lines), and told in band as
 * spans' are: every datagram, of either kind, carries the counts of both
 * while there are some to tell (ex_loss.h).
 */
#ifndef EX_BATCH_H
#define EX_BATCH_H

#include "../preload/ss_logrec.h"
#include "../preload/ss_span.h"

#define EX_FLUSH_MS 200
/* A batch leaves when it is half full: about 100 KiB, 300 HTTP spans. The
 * collector's cost a span falls with the size of its datagrams (fewer
 * wake-ups, each one's code and tables less often out of its caches:
 * measured at 30,000 spans/s, 0.67 us a span with 31 KB datagrams, 0.42
 * with 125 KB), and so does the sender's (fewer sends). The batch is
 * static (only its touched pages count) and never larger than a datagram
 * the collector takes (EX_DGRAM_SPANS_MAX, ex_transport.h). */
#define EX_BATCH_MAX (200 * 1024)

/* What a batch holds. */
enum { EX_BATCH_SPANS, EX_BATCH_LOGS };

struct ex_host;

/* Before anything else: what the exporter is given of its host (copied;
 * ex_host.h), and the process identity for the resource (argv may be NULL). */
void ex_batch_init(const struct ex_host *host, int argc, char **argv);
void ex_batch_add(const ss_span_t *s);
/* One log record, encoded at once (its bytes may be gone after the call).
 * Never blocks on the collector; safe from any thread. */
void ex_batch_add_log(const ss_logrec_t *r);
/* Start the flush thread now if it is not yet (the host's tick needs it
 * before any span ends: the first request may never end). */
void ex_batch_start(void);
void ex_batch_flush(void);
/* At exit, after the last flush: how many spans this process lost (ex_loss.h). */
void ex_batch_tell_losses(void);
/* The threads of the exporter's own in this process (the flush thread):
 * they hold no lock of the program's, so a fork child may start its own. */
int ex_batch_threads(void);
/* In a fork child; may_start_thread is 0 when the parent had threads. */
void ex_batch_after_fork(int may_start_thread);

#endif
