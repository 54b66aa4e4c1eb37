/*
 * col_main.c - spanshim-collector: receive OTLP span batches, hand them to
 * the sinks.
 *
 *   spanshim-collector --socket PATH [--jsonl FILE] [--print] [OPTIONS]
 *
 * This main thread reads the shims' Unix datagram socket itself while it
 * keeps up (col_dgram.h: a thread of its own stands in while a sink holds
 * it); other receivers (col_otlp_http.c: OTLP/HTTP from SDKs,
 * --otlp-listen) only put what they receive into a bounded queue
 * (col_queue.h), which it takes first. It decodes each
 * ExportTraceServiceRequest with protobuf-c, bounded before and during
 * decoding (col_wire.c, col_otlp.h), and hands each batch to the sinks of
 * col_sinks.def (col_sink.h): metrics, tail sampling, the .jsonl file,
 * --print, forwarding. A logs datagram (or OTLP/HTTP's /v1/logs, queued
 * framed the same way) goes to col_logs.h instead. Anything that does not
 * decode is counted and logged, never fatal. Options: col_options.c. Where
 * the socket is and what it may replace: col_socket.h.
 *
 * SIGTERM or SIGINT: stop within --stop-timeout (5 s, under Docker's 10),
 * whatever the backlog (col_stop.h). The first four fifths of it go to
 * what is queued (in the kernel and in memory), batch by batch; what is
 * left then is counted as unhandled, not handled. Then the sinks write
 * what they hold (tail sampling's and --print's traces), forwarding gets
 * what remains of the timeout (spans still unsent then are counted), the
 * totals are printed, the socket removed (if it is still the one bound),
 * and the exit status is 0. SIGHUP: the sinks reopen their files.
 */
#define _GNU_SOURCE
#include "col_dgram.h"
#include "col_json.h"
#include "col_lineage.h"
#include "col_log.h"
#include "col_logs.h"
#include "col_options.h"
#include "col_otlp_http.h"
#include "col_otlp.h"
#include "col_queue.h"
#include "col_replay.h"
#include "col_sink.h"
#include "col_socket.h"
#include "col_stats.h"
#include "col_stop.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t col_reopen;

static void col_on_signal(int sig)
{
    if (sig == SIGHUP)
        col_reopen = 1;
    else
        col_stop_request();
}

static size_t col_count_spans(const col_request_t *r)
{
    size_t n = 0, i, j;

    for (i = 0; i < r->n_resource_spans; i++)
        for (j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
            n += r->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

static void col_count_refused(col_decode_err_t why)
{
    if (why == COL_DECODE_TOO_DEEP)
        COL_COUNT(too_deep, 1);
    else if (why == COL_DECODE_TOO_BIG)
        COL_COUNT(too_big, 1);
    else
        COL_COUNT(bad, 1);
}

/* When no sink needs the decoded request (only the .jsonl file is
 * written, or the batch forwarded as it came), its JSON is written
 * straight from the wire, or, if no sink reads that either, the wire is
 * only read through: a fraction of the cost. 1 if d was handled so. A
 * datagram's bytes bound what decoding it would take far below the
 * arena's cap, so the walk need not check it. */
static int col_handle_wire(const col_item_t *d)
{
    static col_buf_t json;
    col_batch_t b = {.json = &json, .wire = d->data, .wire_len = d->len};
    int ok;

    if (d->len > COL_DGRAM_MAX || !col_sinks_may_skip_decode())
        return 0;
    if (col_sinks_want_json()) {
        col_buf_reset(&json);
        ok = col_json_wire(&json, d->data, d->len, &b.spans, &b.spanshim_res, &b.in_flight);
    } else {
        b.json = NULL;
        ok = col_json_wire_check(d->data, d->len, &b.spans, &b.spanshim_res, &b.in_flight);
    }
    if (!ok || col_sinks_need_request(&b))
        return 0; /* not in the plain form, or wanted decoded: decode it */
    COL_COUNT(decoded, d->from == COL_FROM_DGRAM);
    COL_COUNT(spans, b.spans);
    if (b.spans == 0)
        return 1;
    b.now_ms = col_now_ms();
    col_sinks_take(&b);
    return 1;
}

/* Decode one received request and give it to the sinks. */
static void col_handle(const col_item_t *d)
{
    static col_arena_t *arena;
    col_decode_err_t why;
    col_batch_t b = {0};

    if (d->from == COL_FROM_DGRAM)
        COL_COUNT(datagrams, 1);
    if (col_logs_framed(d->data, d->len)) {
        col_logs_handle(d); /* log records: col_logs.h */
        return;
    }
    if (col_handle_wire(d))
        return;
    if (arena == NULL && (arena = col_arena_new()) == NULL) {
        COL_COUNT(queue_full, 1); /* out of memory: as if the queue were full */
        return;
    }
    b.r = col_request_decode(arena, d->data, d->len, &why);
    if (b.r == NULL) {
        col_arena_reset(arena);
        col_count_refused(why);
        if (col_log_allowed())
            fprintf(stderr,
                    "spanshim-collector: ignored a datagram of %zu bytes from pid %d uid %u "
                    "that %s (%llu so far)\n",
                    d->len, (int)d->pid, (unsigned)d->uid, col_decode_reason(why),
                    col_count.bad + col_count.too_deep + col_count.too_big);
        return;
    }
    b.spans = col_count_spans(b.r);
    COL_COUNT(decoded, d->from == COL_FROM_DGRAM);
    COL_COUNT(spans, b.spans);
    if (b.spans == 0) {
        col_arena_reset(arena);
        return;
    }
    b.arena = arena;
    b.now_ms = col_now_ms();
    col_sinks_take(&b);
    if (b.arena == NULL)
        arena = NULL; /* a sink keeps it: the next batch gets a new one */
}

/* The exit line: what came in, what was dropped, then each sink's part. */
static void col_log_totals(void)
{
    col_buf_t b = {0};

    col_stats_totals(&b);
    col_sinks_totals(&b);
    col_buf_put(&b, "\n", 1);
    if (!b.oom)
        (void)!write(STDERR_FILENO, b.p, b.len);
    col_buf_free(&b);
}

static void col_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = col_on_signal;
    sa.sa_flags = SA_RESTART; /* a signal must not cut a line --print is writing */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The sinks, then the socket, then the receivers: a socket that exists is
 * a collector that runs (`spanshim run` waits for it), so what can still
 * fail (--ui's port, the file) fails first. Threads start with every
 * signal blocked: signals are for the main thread; the others only
 * receive and send. 0 after an error line, the socket gone again. */
static int col_start(void)
{
    sigset_t all, old;
    int ok, fd = -1;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ok = col_sinks_start();
    if (ok) {
        fd = col_socket_bind(col_opt.socket_path, col_opt.socket_group,
                             col_opt.descendants_of != 0);
        ok = fd >= 0 && col_dgram_start(fd) && col_otlp_http_start() && col_replay_start();
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok && fd >= 0)
        col_socket_remove();
    return ok;
}

/* A datagram the main thread read itself (col_dgram.h), or an item taken
 * from the queue; once the stop's time for handling is over, counted. */
static void col_handle_one(const col_item_t *d)
{
    if (col_stop_handling_over())
        COL_COUNT(unhandled, 1);
    else
        col_handle(d);
}

/* Wait up to ms for the socket (while it is the main thread's to read) or
 * the queue. */
static void col_wait(int ms)
{
    struct pollfd p[2] = {{col_queue_fd(), POLLIN, 0}, {col_dgram_fd(), POLLIN, 0}};

    col_dgram_main_working(0);
    (void)poll(p, p[1].fd >= 0 ? 2 : 1, ms); /* a signal cuts it short: the loop looks */
}

/* Handle what comes until a stop has taken everything queued: what the
 * queue holds first, then what waits in the socket. */
static void col_run(void)
{
    int closed = 0, closing = 0;

    while (!closed) {
        col_item_t *d = col_queue_take(&closed);
        int more = d != NULL;

        col_dgram_main_working(1);
        while (d) {
            col_item_t *next = d->next;

            col_handle_one(d);
            col_queue_done(d);
            d = next;
        }
        if (!more && !closed)
            more = col_dgram_take(col_handle_one);
        if (col_reopen) {
            col_reopen = 0;
            col_sinks_reopen();
        }
        col_sinks_tick(col_now_ms(), closed);
        if (!closing && col_stopping() && col_dgram_finished() && col_replay_finished()) {
            col_otlp_http_stop(); /* answers what it accepted into the queue first */
            col_queue_close(); /* the next take returns the last of it */
            closing = 1;
        }
        if (!more && !closed)
            col_wait(100);
    }
}

int main(int argc, char **argv)
{
    int rc = col_options_parse(argc, argv), usage, done;

    if (rc >= 0)
        return rc;
    col_opt.socket_path = col_socket_path(col_opt.socket_path, &usage);
    if (col_opt.socket_path == NULL)
        return usage ? 2 : 1;
    if (!col_queue_init(col_opt.queue_max)) {
        fprintf(stderr, "spanshim-collector: cannot make the queue's eventfd\n");
        return 1;
    }
    if (col_opt.descendants_of)
        col_lineage_init(col_opt.descendants_of, geteuid(), "/proc");
    col_signals();
    if (!col_start())
        return 1;
    col_run();
    col_dgram_join();
    col_replay_join();
    col_socket_remove();
    done = col_sinks_stop(col_stop_left_ms()); /* queued spans go first, within the stop */
    if (!col_opt.quiet || col_stats_troubled() || col_sinks_troubled())
        col_log_totals();
    if (!done) { /* a sending thread is still in libcurl: no exit handlers under it */
        fflush(NULL);
        _exit(0);
    }
    return 0;
}
