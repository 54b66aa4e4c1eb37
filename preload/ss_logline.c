/*
 * ss_logline.c - log lines out of a stream of writes (see ss_logline.h).
 *
 * A line that arrives whole in one write is given straight from the
 * program's buffer; only the start of an unfinished line is copied.
 */
#include "ss_logline.h"

#include <string.h>

void ss_logline_init(ss_logline_t *l)
{
    l->len = 0;
    l->skipping = 0;
    l->first_ns = 0;
}

static void emit(const char *line, size_t len, int cut, uint64_t first_ns, ss_logline_fn fn,
                 void *arg)
{
    if (!cut && len > 0 && line[len - 1] == '\r')
        len--;
    if (len > 0)
        fn(arg, line, len, cut, first_ns);
}

/* Bytes of the line being held, none of them a newline: kept up to the
 * cap; past it, the held part goes out cut and the rest is skipped. */
static void hold(ss_logline_t *l, const char *p, size_t n, uint64_t now_ns, ss_logline_fn fn,
                 void *arg)
{
    size_t room = SS_LOGLINE_MAX - l->len;

    if (n == 0)
        return;
    if (l->len == 0)
        l->first_ns = now_ns;
    if (n <= room) {
        memcpy(l->buf + l->len, p, n);
        l->len += (uint32_t)n;
        return;
    }
    memcpy(l->buf + l->len, p, room);
    emit(l->buf, SS_LOGLINE_MAX, 1, l->first_ns, fn, arg);
    l->len = 0;
    l->skipping = 1;
}

void ss_logline_feed(ss_logline_t *l, const char *p, size_t n, uint64_t now_ns,
                     ss_logline_fn fn, void *arg)
{
    const char *end = p + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);

        if (l->skipping) {
            if (nl == NULL)
                return;
            l->skipping = 0;
        } else if (nl == NULL) {
            hold(l, p, seg, now_ns, fn, arg);
            return;
        } else if (l->len == 0 && seg <= SS_LOGLINE_MAX) {
            emit(p, seg, 0, now_ns, fn, arg); /* whole in this write: not copied */
        } else if (l->len + seg <= SS_LOGLINE_MAX) {
            memcpy(l->buf + l->len, p, seg);
            emit(l->buf, l->len + seg, 0, l->first_ns, fn, arg);
            l->len = 0;
        } else {
            hold(l, p, seg, now_ns, fn, arg); /* too long: goes out cut */
            l->skipping = 0;                  /* its end is here */
        }
        p = nl + 1;
    }
}

void ss_logline_flush(ss_logline_t *l, ss_logline_fn fn, void *arg)
{
    if (l->len)
        emit(l->buf, l->len, 0, l->first_ns, fn, arg);
    l->len = 0;
}
