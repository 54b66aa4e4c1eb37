/*
 * col_file.c - the .jsonl sink (--jsonl FILE): each batch appended as one
 * OTLP JSON line with a single write(), so a reader never sees half a line.
 *
 * A batch the file cannot take whole (a full disk) leaves nothing of itself
 * there: the line is cut back out, and the batch is dropped and counted;
 * the next one tries again. SIGHUP reopens the file (logrotate).
 *
 * The logs file (--logs-jsonl FILE) is a second sink of the same kind:
 * each batch of log records one OTLP JSON line ({"resourceLogs":[...]}),
 * written and undone by the same rules, counted apart.
 */
#define _GNU_SOURCE
#include "col_json.h"
#include "col_log.h"
#include "col_logs.h"
#include "col_options.h"
#include "col_sink.h"
#include "col_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int col_jfd = -1, col_lfd = -1;
static col_buf_t col_jbuf, col_lbuf;

static int col_path_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    if (fd < 0)
        fprintf(stderr, "spanshim-collector: cannot open %s: %s\n", path, strerror(errno));
    return fd;
}

static int col_file_open(void)
{
    return col_path_open(col_opt.jsonl);
}

/* Take back the first `done` bytes of a line that could not be written
 * whole. A file that cannot be cut (a pipe) gets the newline instead, so
 * only that line is broken. */
static void col_write_undo(int fd, const char *path, size_t done)
{
    struct stat st;
    off_t start;

    if (done == 0)
        return;
    /* O_APPEND: the offset is where the last write ended, so the line
     * began `done` bytes before it (asked only now: a write that goes
     * through whole, nearly all of them, needs no lseek). */
    start = lseek(fd, 0, SEEK_CUR);
    if (start >= (off_t)done && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        start -= (off_t)done;
        if (st.st_size <= start || ftruncate(fd, start) == 0)
            return; /* (cut shorter meanwhile: logrotate's copytruncate) */
    }
    (void)!write(fd, "\n", 1);
    if (col_log_allowed())
        fprintf(stderr, "spanshim-collector: a partial line is left in %s: %s\n", path,
                strerror(errno));
}

/* Append b as one line, whole or not at all: a write cut short (a full
 * disk) is undone, so every line in the file is a whole batch and the
 * counters say exactly what can be read. */
static int col_write_line(int fd, const char *path, unsigned long long errors, col_buf_t *b)
{
    size_t off = 0;

    col_buf_put(b, "\n", 1);
    if (b->oom) {
        fprintf(stderr, "spanshim-collector: out of memory formatting a batch; dropped\n");
        return 0;
    }
    while (off < b->len) {
        ssize_t w = write(fd, b->p + off, b->len - off);
        int err = w < 0 ? errno : EIO;

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            col_write_undo(fd, path, off);
            if (col_log_allowed())
                fprintf(stderr, "spanshim-collector: write to %s failed: %s; batch dropped "
                                "(%llu so far)\n", path, strerror(err), errors + 1);
            return 0;
        }
        off += (size_t)w;
    }
    return 1;
}

static int col_file_wanted(void)
{
    return col_opt.jsonl != NULL;
}

static int col_file_start(void)
{
    col_jfd = col_file_open();
    return col_jfd >= 0;
}

static int col_file_take(col_batch_t *b)
{
    col_buf_t *line = b->json;

    if (line == NULL) {
        line = &col_jbuf;
        col_buf_reset(line);
        col_json_request(line, b->r);
    }
    if (col_write_line(col_jfd, col_opt.jsonl, col_count.write_errors, line)) {
        COL_COUNT(written, b->spans);
    } else {
        COL_COUNT(write_errors, 1);
        COL_COUNT(unwritten, b->spans);
    }
    return COL_PASS;
}

/* The JSON from the wire is all it writes. */
static int col_file_needs_request(const col_batch_t *b)
{
    (void)b;
    return 0;
}

static void col_file_reopen(void)
{
    int fd = col_file_open();

    if (fd >= 0) {
        close(col_jfd);
        col_jfd = fd;
    }
}

static int col_file_stop(long left_ms)
{
    (void)left_ms;
    col_buf_free(&col_jbuf);
    return 1;
}

static void col_file_totals(col_buf_t *b)
{
    col_buf_printf(b, "; %llu written to %s", col_count.written, col_opt.jsonl);
    if (col_count.write_errors)
        col_buf_printf(b, ", %llu batches (%llu spans) not written", col_count.write_errors,
                       col_count.unwritten);
}

static int col_file_troubled(void)
{
    return col_count.write_errors != 0;
}

const col_sink_t col_sink_file = {
    .name = "file",
    .wanted = col_file_wanted,
    .start = col_file_start,
    .take = col_file_take,
    .needs_request = col_file_needs_request,
    .takes_json = 1,
    .stop = col_file_stop,
    .reopen = col_file_reopen,
    .totals = col_file_totals,
    .troubled = col_file_troubled,
};

/* ---- --logs-jsonl FILE: the log records' file -------------------------- */

static int col_logfile_wanted(void)
{
    return col_opt.logs_jsonl != NULL;
}

static int col_logfile_start(void)
{
    col_lfd = col_path_open(col_opt.logs_jsonl);
    return col_lfd >= 0;
}

static void col_logfile_take(col_logs_batch_t *b)
{
    col_buf_reset(&col_lbuf);
    col_json_logs(&col_lbuf, b->r);
    if (col_write_line(col_lfd, col_opt.logs_jsonl, col_count.logs_write_errors, &col_lbuf)) {
        COL_COUNT(logs_written, b->records);
    } else {
        COL_COUNT(logs_write_errors, 1);
        COL_COUNT(logs_unwritten, b->records);
    }
}

static void col_logfile_reopen(void)
{
    int fd = col_path_open(col_opt.logs_jsonl);

    if (fd >= 0) {
        close(col_lfd);
        col_lfd = fd;
    }
}

static int col_logfile_stop(long left_ms)
{
    (void)left_ms;
    col_buf_free(&col_lbuf);
    return 1;
}

static void col_logfile_totals(col_buf_t *b)
{
    col_buf_printf(b, "; %llu log records written to %s", col_count.logs_written,
                   col_opt.logs_jsonl);
    if (col_count.logs_write_errors)
        col_buf_printf(b, ", %llu batches (%llu log records) not written",
                       col_count.logs_write_errors, col_count.logs_unwritten);
}

static int col_logfile_troubled(void)
{
    return col_count.logs_write_errors != 0;
}

const col_sink_t col_sink_logfile = {
    .name = "logfile",
    .wanted = col_logfile_wanted,
    .start = col_logfile_start,
    .take_logs = col_logfile_take,
    .stop = col_logfile_stop,
    .reopen = col_logfile_reopen,
    .totals = col_logfile_totals,
    .troubled = col_logfile_troubled,
};
