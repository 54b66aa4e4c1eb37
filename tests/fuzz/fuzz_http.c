/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.x parser.
 *
 * Input: byte 0 chooses requests or responses (and HEAD responses), byte 1
 * a chunk size; the rest is the stream. The stream is parsed whole and in
 * chunks: the events, their offsets and the captured fields must agree,
 * every call must consume what it says, and nothing may read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_http.h"

#define MAX_EV 4096

typedef struct run {
    int n;
    uint8_t ev[MAX_EV];
    uint64_t at[MAX_EV];
    ss_http_head_t head;   /* the last request's fields */
    int eof;
} run_t;

static void parse(const uint8_t *d, size_t len, int kind, int head_resp, size_t step, run_t *r)
{
    ss_http_t p;
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    ss_http_init(&p, kind);
    p.want_tp_end = 1;
    while (off < len) {
        size_t end = off + step < len ? off + step : len, used;
        ss_http_ev_t ev;

        used = ss_http_feed(&p, (const char *)d + off, end - off, &ev);
        if (used > end - off)
            abort();
        off += used;
        if (p.pos != off)
            abort();
        if (ev == SS_HTTP_EV_NONE) {
            if (off != end)
                abort(); /* NONE means everything was used */
            continue;
        }
        if (r->n < MAX_EV) {
            r->ev[r->n] = (uint8_t)ev;
            r->at[r->n] = off;
            r->n++;
        }
        if (ev == SS_HTTP_EV_BEGIN) {
            if (kind == SS_HTTP_REQUEST) {
                memset(&r->head, 0, sizeof(r->head));
                p.head = &r->head;
            }
            p.skip_body = (uint8_t)head_resp;
        }
        if (ev == SS_HTTP_EV_ERROR)
            break;
    }
    r->eof = ss_http_eof(&p);
    if (r->head.target_len > sizeof(r->head.target) || r->head.ts_len > sizeof(r->head.ts))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t whole, split;
    int kind, head_resp;
    size_t step;

    if (size < 2)
        return 0;
    kind = data[0] & 1 ? SS_HTTP_RESPONSE : SS_HTTP_REQUEST;
    head_resp = kind == SS_HTTP_RESPONSE && (data[0] & 2);
    step = (size_t)data[1] % 17 + 1;
    parse(data + 2, size - 2, kind, head_resp, size, &whole);
    parse(data + 2, size - 2, kind, head_resp, step, &split);
    if (whole.n != split.n || memcmp(whole.ev, split.ev, (size_t)whole.n) != 0 ||
        memcmp(whole.at, split.at, sizeof(uint64_t) * (size_t)whole.n) != 0 ||
        whole.eof != split.eof || memcmp(&whole.head, &split.head, sizeof(whole.head)) != 0)
        abort();
    return 0;
}
