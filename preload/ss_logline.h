/*
 * ss_logline.h - log lines out of a stream of writes.
 *
 * A program logs with write(2) in whatever pieces its buffering makes: a
 * line split over several writes (stdio flushing a full buffer, a logger
 * writing the prefix and the message apart), or many lines in one write
 * (a block-buffered stdout). A log record is a line, so the bytes of one
 * stream (an fd: stdout, stderr, a log file) go through one of these,
 * which gives each complete line to a callback and keeps the start of
 * an unfinished one.
 *
 * Bounded: a line longer than SS_LOGLINE_MAX is given at that length with
 * `cut` set, and the rest of it, up to its newline, is skipped (counted
 * by the caller, never kept). A line's end is "\n" (a "\r" before it is
 * not part of the line); empty lines are no records. The assembler never
 * touches the program's bytes: it reads the buffer the program wrote.
 *
 * Not thread-safe: the caller holds its stream's lock. Allocation-free.
 */
#ifndef SS_LOGLINE_H
#define SS_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

#define SS_LOGLINE_MAX 8192

typedef struct ss_logline {
    uint32_t len;            /* bytes of the unfinished line in buf */
    uint8_t skipping;        /* a cut line's rest is passing: ignore to its newline */
    uint64_t first_ns;       /* when the unfinished line's first byte came (0: none) */
    char buf[SS_LOGLINE_MAX];
} ss_logline_t;

/* A complete line (no newline, no trailing "\r"), len > 0; cut: the line
 * was longer and this is its first SS_LOGLINE_MAX bytes. first_ns: when
 * its first byte was written. */
typedef void (*ss_logline_fn)(void *arg, const char *line, size_t len, int cut,
                              uint64_t first_ns);

void ss_logline_init(ss_logline_t *l);

/* n bytes written at now_ns: every line they complete to fn. */
void ss_logline_feed(ss_logline_t *l, const char *p, size_t n, uint64_t now_ns,
                     ss_logline_fn fn, void *arg);

/* The unfinished line, if any, to fn as it is (at exit, at close, or when
 * it has waited too long for its end: see ss_logline_waiting). */
void ss_logline_flush(ss_logline_t *l, ss_logline_fn fn, void *arg);

/* When the unfinished line began, 0 if there is none. */
static inline uint64_t ss_logline_waiting(const ss_logline_t *l)
{
    return l->len ? l->first_ns : 0;
}

#endif
