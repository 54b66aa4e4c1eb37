/*
 * col_replay.c - a saved .jsonl file as a receiver (--replay FILE).
 *
 * Each line of the file (one OTLP/JSON ExportTraceServiceRequest, as
 * --jsonl writes them, or as any OTLP file exporter does) is decoded
 * (col_otlp_jsonin.h), packed and put into the queue like a datagram, so a
 * saved file goes through the same sinks live spans do: the viewer
 * (`spanshim view FILE`), --print, metrics, forwarding to a backend. A file
 * waits for room: a full queue holds the reader back instead of dropping
 * lines. A line that does not decode (or is longer than
 * COL_REPLAY_LINE_MAX) is counted and logged, and the next one is read.
 */
#define _GNU_SOURCE
#include "col_replay.h"
#include "col_log.h"
#include "col_options.h"
#include "col_otlp_jsonin.h"
#include "col_queue.h"
#include "col_stats.h"
#include "col_stop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t col_rp_thread;
static int col_rp_started, col_rp_done;
static FILE *col_rp_file;

/* Put pb into the queue, waiting while it is full; 0 if a stop came first. */
static int col_replay_put(const uint8_t *pb, size_t n)
{
    struct timespec wait = {0, 10 * 1000 * 1000};

    while (!col_queue_put(pb, n, COL_FROM_REPLAY, getpid(), geteuid())) {
        if (col_stopping())
            return 0;
        nanosleep(&wait, NULL);
    }
    return 1;
}

/* One line: decoded, packed and queued; 0 if a stop came first. */
static int col_replay_line(col_arena_t *a, const char *line, size_t len, unsigned long lineno)
{
    col_jsonin_why_t why;
    col_request_t *r = col_jsonin_request(a, line, len, &why);
    size_t n;
    uint8_t *pb;
    int ok = 1;

    if (r == NULL) {
        COL_COUNT(replay_bad, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: %s line %lu is not an OTLP/JSON trace "
                            "request: %s\n", col_opt.replay, lineno, why.msg);
        return 1;
    }
    n = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
        r);
    if (n + sizeof(col_item_t) > col_opt.queue_max) { /* could never be queued */
        COL_COUNT(replay_bad, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: %s line %lu is a batch larger than --queue-mb; "
                            "skipped\n", col_opt.replay, lineno);
        return 1;
    }
    if ((pb = malloc(n ? n : 1)) == NULL)
        return 1;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(r, pb);
    if (col_replay_put(pb, n))
        COL_COUNT(replayed, 1);
    else
        ok = 0;
    free(pb);
    return ok;
}

/* The next line into *line (its newline not kept), holding at most
 * COL_REPLAY_LINE_MAX + 1 bytes of it (the rest is read and dropped, so a
 * line without end takes no more memory than that): its length, or -1 at
 * the file's end. */
static ssize_t col_replay_getline(char **line, size_t *cap)
{
    size_t n = 0;
    int c, any = 0;

    while ((c = getc_unlocked(col_rp_file)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (n > COL_REPLAY_LINE_MAX)
            continue; /* too long already: only counted */
        if (n + 1 >= *cap) {
            size_t ncap = *cap ? *cap * 2 : 4096;
            char *p = realloc(*line, ncap);

            if (p == NULL)
                continue; /* out of memory: the line is left short, and fails to decode */
            *line = p;
            *cap = ncap;
        }
        (*line)[n++] = (char)c;
    }
    return any ? (ssize_t)n : -1;
}

static void *col_replay_main(void *arg)
{
    col_arena_t *a = col_arena_new();
    unsigned long lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    (void)arg;
    while (a && !col_stopping() && (len = col_replay_getline(&line, &cap)) >= 0) {
        lineno++;
        while (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        if ((size_t)len > COL_REPLAY_LINE_MAX) {
            COL_COUNT(replay_bad, 1);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: %s line %lu is longer than %d MiB; "
                                "skipped\n", col_opt.replay, lineno, COL_REPLAY_LINE_MAX >> 20);
        } else if (!col_replay_line(a, line, (size_t)len, lineno)) {
            break;
        }
        col_arena_reset(a);
    }
    free(line);
    col_arena_free(a);
    fclose(col_rp_file);
    __atomic_store_n(&col_rp_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int col_replay_start(void)
{
    if (col_opt.replay == NULL)
        return 1;
    if ((col_rp_file = fopen(col_opt.replay, "re")) == NULL) {
        fprintf(stderr, "spanshim-collector: cannot open %s: %s\n", col_opt.replay,
                strerror(errno));
        return 0;
    }
    if (pthread_create(&col_rp_thread, NULL, col_replay_main, NULL) != 0) {
        fprintf(stderr, "spanshim-collector: cannot start reading %s\n", col_opt.replay);
        fclose(col_rp_file);
        return 0;
    }
    col_rp_started = 1;
    return 1;
}

int col_replay_finished(void)
{
    return !col_rp_started || __atomic_load_n(&col_rp_done, __ATOMIC_ACQUIRE);
}

void col_replay_join(void)
{
    if (col_rp_started)
        pthread_join(col_rp_thread, NULL);
    col_rp_started = 0;
}
