/*
 * fuzz_ajp.c - libFuzzer target for the AJP13 reader (ss_ajp.h).
 *
 * The input is a conversation: each chunk is a header byte (high bit: from
 * the container, low bits: length - 1) and its bytes. Fed whole chunks and
 * fed byte by byte it must give the same events, offsets and values, and
 * stop at the same place for the same reason; every call reads at least
 * one byte and no more than it was given, a value's bytes never outrun its
 * length, and offsets never pass what was read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_ajp.h"

typedef struct run {
    uint64_t hash, events;
    size_t val_left;
} run_t;

static void mix(run_t *r, uint64_t v)
{
    r->hash = (r->hash ^ v) * 1099511628211ULL;
}

static void on_event(run_t *r, const ss_ajp_t *a, int dir, const ss_ajp_ev_t *ev)
{
    size_t i;

    if (ev->type == SS_AJP_EV_NONE)
        return;
    if (ev->type != SS_AJP_EV_VALUE_BYTES) { /* a value comes in as many pieces as it was fed */
        mix(r, (uint64_t)ev->type << 8 | (uint64_t)dir);
        r->events++;
    }
    switch (ev->type) {
    case SS_AJP_EV_REQUEST:
        mix(r, a->pkt_at);
        mix(r, a->pkt_len);
        break;
    case SS_AJP_EV_METHOD:
        mix(r, a->method);
        break;
    case SS_AJP_EV_VALUE_BEGIN:
        if (a->val_at > a->d[dir].pos)
            abort();
        mix(r, a->field);
        mix(r, a->val_at);
        r->val_left = a->val_len;
        break;
    case SS_AJP_EV_VALUE_BYTES:
        if (ev->n == 0 || ev->n > r->val_left)
            abort();
        r->val_left -= ev->n;
        for (i = 0; i < ev->n; i++)
            mix(r, (uint8_t)ev->p[i]);
        break;
    case SS_AJP_EV_VALUE_END:
        if (r->val_left)
            abort();
        break;
    case SS_AJP_EV_HEADERS:
        if (a->hdrs_at > a->d[dir].pos)
            abort();
        mix(r, a->hdrs_at);
        mix(r, (uint64_t)a->num_headers << 32 | (uint64_t)a->server_port << 8 | a->is_ssl);
        break;
    case SS_AJP_EV_REQUEST_END:
        mix(r, a->attrs_at);
        mix(r, a->content_length);
        break;
    case SS_AJP_EV_SEND_HEADERS:
        mix(r, a->status);
        break;
    case SS_AJP_EV_END_RESPONSE:
        mix(r, a->reuse);
        break;
    default:
        break;
    }
}

/* Feed the conversation; step 0: each chunk whole, else a byte at a time.
 * Returns where it stopped (0: it read everything). */
static size_t feed(const uint8_t *data, size_t size, int bytewise, run_t *r, ss_ajp_t *a)
{
    size_t i = 0;

    memset(r, 0, sizeof(*r));
    ss_ajp_init(a);
    while (i < size) {
        int dir = data[i] & 0x80 ? SS_AJP_FROM_CONTAINER : SS_AJP_TO_CONTAINER;
        size_t n = (size_t)(data[i] & 0x7f) + 1;

        i++;
        if (n > size - i)
            n = size - i;
        for (size_t k = 0; k < n;) {
            size_t m = bytewise ? 1 : n - k;

            while (m) {
                ss_ajp_ev_t ev;
                size_t used = ss_ajp_feed(a, dir, (const char *)data + i + k, m, &ev);

                on_event(r, a, dir, &ev);
                if (ev.type == SS_AJP_EV_ERROR)
                    return i + k + 1;
                if (used == 0 || used > m)
                    abort();
                k += used;
                m -= used;
            }
        }
        i += n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ss_ajp_t a, b;
    run_t ra, rb;
    size_t stop_a = feed(data, size, 0, &ra, &a);
    size_t stop_b = feed(data, size, 1, &rb, &b);

    if (ra.hash != rb.hash || ra.events != rb.events)
        abort();
    if ((stop_a == 0) != (stop_b == 0) || (stop_a && strcmp(ss_ajp_why(&a), ss_ajp_why(&b)) != 0))
        abort();
    if (a.d[0].pos != b.d[0].pos || a.d[1].pos != b.d[1].pos)
        abort();
    return 0;
}
