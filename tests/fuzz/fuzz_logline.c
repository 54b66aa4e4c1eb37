/*
 * fuzz_logline.c - libFuzzer target for log lines out of writes
 * (ss_logline.h) and their severity (ss_logsev.h).
 *
 * Input: a byte of chunk sizes' seed, then the stream. Fed in the chunks
 * the seed picks, and again whole:
 *   - both give the same lines, each of 1 to SS_LOGLINE_MAX bytes, none
 *     holding a newline, a cut one exactly SS_LOGLINE_MAX long;
 *   - every byte of a line is a byte of the stream, in order;
 *   - each line's severity is 0 to 24, its text (when set) within the line
 *     or a syslog name, and the severity of the whole input is bounded too;
 *   - the whole input read as a syslog and as a journal datagram
 *     (ss_logdgram.h): a message found lies within the input, as does its
 *     ident, and its priority is -1 to 7.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/ss_logdgram.h"
#include "../../preload/ss_logline.h"
#include "../../preload/ss_logsev.h"

#define KEEP 4096

typedef struct seen {
    size_t n, bytes;
    uint64_t hash;
} seen_t;

static void check_sev(const char *line, size_t len)
{
    ss_logsev_t s;

    ss_logsev_of(line, len, &s);
    if (s.number > 24 || (s.number == 0 && (s.text || s.text_len)))
        abort();
    if (s.text && !(s.text >= line && s.text + s.text_len <= line + len) && s.text_len > 7)
        abort(); /* not in the line: then one of the syslog names */
}

static void take(void *arg, const char *line, size_t len, int cut, uint64_t first_ns)
{
    seen_t *s = arg;
    size_t i;

    (void)first_ns;
    if (len == 0 || len > SS_LOGLINE_MAX || (cut && len != SS_LOGLINE_MAX) ||
        memchr(line, '\n', len))
        abort();
    for (i = 0; i < len; i++)
        s->hash = s->hash * 1099511628211ull + (uint8_t)line[i];
    s->hash = s->hash * 31 + len + (uint64_t)cut * 7;
    s->bytes += len;
    s->n++;
    check_sev(line, len);
}

static void check_msg(const char *p, size_t n, int found, const ss_logmsg_t *m)
{
    if (!found)
        return;
    if (m->body == NULL || m->body_len == 0 || m->body < p || m->body + m->body_len > p + n ||
        m->pri < -1 || m->pri > 7)
        abort();
    if (m->ident_len && (m->ident < p || m->ident + m->ident_len > p + n))
        abort();
    check_sev(m->body, m->body_len);
}

static ss_logline_t a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen_t whole = {0, 0, 0}, chunked = {0, 0, 0};
    unsigned seed;
    size_t at = 0;

    if (size < 1)
        return 0;
    seed = data[0] | 1u;
    data++, size--;
    ss_logline_init(&a);
    ss_logline_init(&b);
    ss_logline_feed(&a, (const char *)data, size, 1, take, &whole);
    ss_logline_flush(&a, take, &whole);
    while (at < size) {
        size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 0x3f;

        if (n > size - at)
            n = size - at;
        ss_logline_feed(&b, (const char *)data + at, n, 2, take, &chunked);
        at += n;
    }
    ss_logline_flush(&b, take, &chunked);
    if (whole.n != chunked.n || whole.hash != chunked.hash || whole.bytes > size)
        abort();
    check_sev((const char *)data, size);
    {
        ss_logmsg_t m;
        const char *p = (const char *)data;

        check_msg(p, size, ss_logdgram_syslog(p, size, &m), &m);
        check_msg(p, size, ss_logdgram_journal(p, size, &m), &m);
    }
    return 0;
}
