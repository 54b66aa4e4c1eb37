/*
 * fuzz_uwsgi.c - libFuzzer target for the uwsgi request parser.
 *
 * The input is a stream of requests. Fed whole, in chunks whose sizes the
 * input's first byte picks, and byte by byte, it must give the same events
 * at the same stream offsets and stop at the same byte; a value piece lies
 * inside the bytes fed, a var inside its packet's vars block, and nothing
 * is used beyond what was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_uwsgi.h"

typedef struct run {
    uint64_t hash, events;
} run_t;

static void mix(run_t *r, uint64_t v)
{
    r->hash = (r->hash ^ v) * 1099511628211ULL;
}

static void check_event(const ss_uwsgi_t *p, unsigned ev, const char *buf, size_t used, run_t *r)
{
    if (ev & SS_UWSGI_EV_VALUE) { /* its bytes first: a cut value gives them before its end */
        if (p->piece_len == 0 || p->piece < buf || p->piece + p->piece_len != buf + used)
            abort();
        for (size_t i = 0; i < p->piece_len; i++)
            mix(r, (uint8_t)p->piece[i]);
    }
    if (ev & ~(unsigned)SS_UWSGI_EV_VALUE) { /* a value's pieces are as cut: only their bytes */
        r->events++;
        mix(r, ev & ~(unsigned)SS_UWSGI_EV_VALUE);
        mix(r, p->pos);
    }
    if (ev & SS_UWSGI_EV_HEADER)
        mix(r, (uint64_t)p->modifier1 << 24 | (uint64_t)p->datasize << 8 | p->modifier2);
    if (ev & SS_UWSGI_EV_KEY) {
        mix(r, p->key_len);
        for (size_t i = 0; i < p->key_len && i < SS_UWSGI_KEY_MAX; i++)
            mix(r, (uint8_t)p->key[i]);
    }
    if (ev & SS_UWSGI_EV_VAR_END) {
        if (p->val_pos + p->val_len > p->pkt_pos + SS_UWSGI_HEADER_LEN + p->datasize)
            abort();
        mix(r, p->val_pos);
    }
    if (ev & SS_UWSGI_EV_VARS_END) {
        if (p->pos != p->pkt_pos + SS_UWSGI_HEADER_LEN + p->datasize)
            abort();
        mix(r, p->cl);
    }
}

/* Feed data in pieces of `step` bytes (0: whole); where it stopped (0: not). */
static size_t feed(const uint8_t *data, size_t size, size_t step, run_t *r)
{
    ss_uwsgi_t p;
    size_t i = 0;

    memset(r, 0, sizeof(*r));
    ss_uwsgi_init(&p);
    while (i < size) {
        size_t len = step && step < size - i ? step : size - i;
        unsigned ev;
        size_t used = ss_uwsgi_feed(&p, (const char *)data + i, len, &ev);

        if (used > len || (used == 0 && ev == 0) || p.pos != i + used)
            abort();
        if (ev)
            check_event(&p, ev, (const char *)data + i, used, r);
        i += used;
        if (ev & SS_UWSGI_EV_ERROR)
            return i + 1;
    }
    mix(r, (uint64_t)ss_uwsgi_idle(&p) << 1 | (uint64_t)ss_uwsgi_in_header(&p));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_t a, b, c;
    size_t step = size ? (size_t)(data[0] % 13) + 2 : 2;
    size_t stop_a = feed(data, size, 0, &a);
    size_t stop_b = feed(data, size, 1, &b);
    size_t stop_c = feed(data, size, step, &c);

    if (stop_a != stop_b || stop_a != stop_c || a.hash != b.hash || a.hash != c.hash ||
        a.events != b.events || a.events != c.events)
        abort();
    (void)ss_uwsgi_detect(data, size < 64 ? size : 64);
    return 0;
}
