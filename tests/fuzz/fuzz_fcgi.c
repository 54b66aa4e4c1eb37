/*
 * fuzz_fcgi.c - libFuzzer target for the FastCGI record follower.
 *
 * The input is a conversation: each chunk is a header byte (high bit: the
 * direction, low bits: length - 1) and its bytes. Fed whole chunks and fed
 * byte by byte it must tell the same events (kinds, ids, offsets, names,
 * values) and stop at the same place for the same reason; every value
 * piece lies inside what was fed and names stay within their cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_fcgi.h"

typedef struct run {
    uint64_t events, hash;
    uint64_t fed[2];
} run_t;

static void mix(run_t *r, uint64_t v)
{
    r->hash = (r->hash ^ v) * 1099511628211ULL;
}

static void mix_bytes(run_t *r, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mix(r, (uint8_t)p[i]);
}

static void on_ev(void *arg, const ss_fcgi_ev_t *ev)
{
    run_t *r = arg;

    if (ev->at > r->fed[ev->dir])
        abort(); /* an offset past what was fed */
    if (ev->kind == SS_FCGI_EV_VALUE) {
        if (ev->at + ev->n > r->fed[ev->dir])
            abort();
        mix_bytes(r, ev->p, ev->n); /* pieces differ by split: only their bytes count */
        return;
    }
    r->events++;
    mix(r, ev->kind);
    mix(r, (uint64_t)ev->dir << 32 | ev->type << 16 | ev->id);
    switch (ev->kind) {
    case SS_FCGI_EV_RECORD:
        mix(r, ev->at);
        mix(r, (uint64_t)ev->clen << 8 | ev->plen);
        break;
    case SS_FCGI_EV_BEGIN:
        mix(r, (uint64_t)ev->role << 16 | ev->flags << 8 | ev->tracked);
        break;
    case SS_FCGI_EV_END:
        mix(r, (uint64_t)ev->app_status << 8 | ev->proto_status);
        break;
    case SS_FCGI_EV_PARAM:
        if (ev->name_len > SS_FCGI_NAME_MAX)
            abort();
        mix_bytes(r, ev->name, ev->name_len);
        mix(r, (uint64_t)ev->value_len << 8 | ev->name_cut << 1 | ev->value_contig);
        mix(r, ev->at);
        break;
    case SS_FCGI_EV_STATUS:
        mix(r, ev->status);
        break;
    default:
        mix(r, ev->at);
        break;
    }
}

/* Feed the conversation; step 0: each chunk whole, else step bytes at a time. */
static size_t feed(const uint8_t *data, size_t size, size_t step, run_t *r, ss_fcgi_t *f)
{
    ss_fcgi_sink_t sink = {r, on_ev};
    size_t i = 0;

    memset(r, 0, sizeof(*r));
    ss_fcgi_init(f);
    while (i < size) {
        int dir = data[i] & 0x80 ? 1 : 0;
        size_t n = (size_t)(data[i] & 0x7f) + 1;
        i++;
        if (n > size - i)
            n = size - i;
        for (size_t k = 0; k < n;) {
            size_t m = step && step < n - k ? step : n - k;
            r->fed[dir] += m;
            if (!ss_fcgi_feed(f, dir, data + i + k, m, &sink))
                return i + k + m;
            k += m;
        }
        i += n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ss_fcgi_t a, b;
    run_t ra, rb;
    size_t stop_a = feed(data, size, 0, &ra, &a);
    size_t stop_b = feed(data, size, 1, &rb, &b);

    if (ra.hash != rb.hash || ra.events != rb.events)
        abort();
    if ((stop_a == 0) != (stop_b == 0) || strcmp(ss_fcgi_why(&a), ss_fcgi_why(&b)) != 0)
        abort();
    if (stop_b && stop_b > stop_a)
        abort();
    if (a.untracked != b.untracked)
        abort();
    return 0;
}
