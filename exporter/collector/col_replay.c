/*
 * col_replay.c - saved .jsonl files as a receiver (--replay FILE, repeatable).
 *
 * Each line of a file (one OTLP/JSON ExportTraceServiceRequest, as --jsonl
 * writes them, or an ExportLogsServiceRequest, as --logs-jsonl does, or as
 * any OTLP file exporter does) is decoded (col_otlp_jsonin.h), packed and
 * put into the queue like a datagram (a logs request after the logs frame,
 * col_logs.h), so saved files go through the same sinks live spans and log
 * records do: the viewer (`spanshim view FILE...`), --print, metrics,
 * forwarding to a backend. The files are read one after the other, in the
 * order given; a line is a logs request when it decodes as one with a
 * resourceLogs, else a trace request (a logs line read as a trace request
 * is an empty one: OTLP/JSON ignores unknown keys, so the kind cannot be
 * told from a failed decode). A file waits for room: a full queue holds
 * the reader back instead of dropping lines. A line that does not decode
 * (or is longer than COL_REPLAY_LINE_MAX) is counted and logged, and the
 * next one is read.
 */
#define _GNU_SOURCE
#include "col_replay.h"
#include "col_log.h"
#include "col_logs.h"
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
static FILE *col_rp_files[COL_REPLAY_FILES];
static FILE *col_rp_file;     /* the one being read */
static const char *col_rp_name; /* its name */

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

/* A logs request packed after the frame and queued; 0 if a stop came first. */
static int col_replay_logs(const col_logs_request_t *r, unsigned long lineno)
{
    size_t n = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *pb;
    int ok;

    if (COL_FRAME_LEN + n + sizeof(col_item_t) > col_opt.queue_max) {
        COL_COUNT(replay_bad, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: %s line %lu is a batch larger than --queue-mb; "
                            "skipped\n", col_rp_name, lineno);
        return 1;
    }
    if ((pb = malloc(COL_FRAME_LEN + n)) == NULL)
        return 1;
    memcpy(pb, COL_FRAME_LOGS, COL_FRAME_LEN);
    protobuf_c_message_pack(&r->base, pb + COL_FRAME_LEN);
    ok = col_replay_put(pb, COL_FRAME_LEN + n);
    if (ok)
        COL_COUNT(replayed, 1);
    free(pb);
    return ok;
}

/* One line: decoded, packed and queued; 0 if a stop came first. */
static int col_replay_line(col_arena_t *a, const char *line, size_t len, unsigned long lineno)
{
    col_jsonin_why_t why, lwhy;
    col_request_t *r = col_jsonin_request(a, line, len, &why);
    col_logs_request_t *lr;
    size_t n;
    uint8_t *pb;
    int ok = 1;

    if (r == NULL || r->n_resource_spans == 0) {
        lr = (col_logs_request_t *)col_jsonin_decode(
            &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
            a, line, len, &lwhy);
        if (lr && lr->n_resource_logs > 0)
            return col_replay_logs(lr, lineno);
    }
    if (r == NULL) {
        COL_COUNT(replay_bad, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: %s line %lu is not an OTLP/JSON trace or logs "
                            "request: %s\n", col_rp_name, lineno, why.msg);
        return 1;
    }
    n = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
        r);
    if (n + sizeof(col_item_t) > col_opt.queue_max) { /* could never be queued */
        COL_COUNT(replay_bad, 1);
        if (col_log_allowed())
            fprintf(stderr, "spanshim-collector: %s line %lu is a batch larger than --queue-mb; "
                            "skipped\n", col_rp_name, lineno);
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

/* One file to its end: 0 if a stop came first. */
static int col_replay_file(col_arena_t *a, char **line, size_t *cap)
{
    unsigned long lineno = 0;
    ssize_t len;

    while (!col_stopping() && (len = col_replay_getline(line, cap)) >= 0) {
        lineno++;
        while (len > 0 && (*line)[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        if ((size_t)len > COL_REPLAY_LINE_MAX) {
            COL_COUNT(replay_bad, 1);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: %s line %lu is longer than %d MiB; "
                                "skipped\n", col_rp_name, lineno, COL_REPLAY_LINE_MAX >> 20);
        } else if (!col_replay_line(a, *line, (size_t)len, lineno)) {
            col_arena_reset(a);
            return 0;
        }
        col_arena_reset(a);
    }
    return !col_stopping();
}

static void *col_replay_main(void *arg)
{
    col_arena_t *a = col_arena_new();
    char *line = NULL;
    size_t cap = 0;
    int i, on = a != NULL;

    (void)arg;
    for (i = 0; i < col_opt.n_replay; i++) {
        col_rp_file = col_rp_files[i];
        col_rp_name = col_opt.replay[i];
        if (on)
            on = col_replay_file(a, &line, &cap);
        fclose(col_rp_file);
    }
    free(line);
    col_arena_free(a);
    __atomic_store_n(&col_rp_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int col_replay_start(void)
{
    int i;

    for (i = 0; i < col_opt.n_replay; i++)
        if ((col_rp_files[i] = fopen(col_opt.replay[i], "re")) == NULL) {
            fprintf(stderr, "spanshim-collector: cannot open %s: %s\n", col_opt.replay[i],
                    strerror(errno));
            while (i-- > 0)
                fclose(col_rp_files[i]);
            return 0;
        }
    if (col_opt.n_replay == 0)
        return 1;
    if (pthread_create(&col_rp_thread, NULL, col_replay_main, NULL) != 0) {
        fprintf(stderr, "spanshim-collector: cannot start reading %s\n", col_opt.replay[0]);
        for (i = 0; i < col_opt.n_replay; i++)
            fclose(col_rp_files[i]);
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
