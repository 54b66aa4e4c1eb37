/*
 * fuzz_h2.c - libFuzzer target for the HTTP/2 frame follower and the HPACK
 * decoding behind it.
 *
 * Input: byte 0 chooses a chunk size; the rest is one direction's frames
 * (after the preface). The stream is followed whole and in chunks: the
 * events, the offsets they happen at and the fields decoded must agree,
 * every call must use no more than it was given, and nothing may read out
 * of bounds, whatever the frames or header blocks say.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_h2.h"

#define MAX_EV 2048

typedef struct run {
    int n, error;
    uint8_t ev[MAX_EV];
    uint64_t at[MAX_EV];
    uint32_t sum[MAX_EV]; /* a checksum of the field, or the stream */
} run_t;

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
    while (n--)
        h = (h ^ (uint8_t)*p++) * 16777619u;
    return h;
}

static void follow(const uint8_t *d, size_t len, size_t step, run_t *r)
{
    ss_h2_dir_t h;
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    if (!ss_h2_init(&h, 0))
        abort(); /* libnghttp2 must be there */
    while (off < len && !r->error) {
        size_t n = len - off < step ? len - off : step;
        const char *p = (const char *)d + off;
        ss_h2_ev_t ev;

        off += n;
        do {
            size_t used = ss_h2_feed(&h, p, n, &ev);

            if (used > n)
                abort();
            p += used;
            n -= used;
            if (ev == SS_H2_EV_NONE)
                continue;
            if (ev == SS_H2_EV_ERROR) {
                r->error = 1;
                break;
            }
            if (r->n < MAX_EV) {
                r->ev[r->n] = (uint8_t)ev;
                r->at[r->n] = h.pos;
                r->sum[r->n] = ev == SS_H2_EV_FIELD
                    ? fnv(fnv(2166136261u, h.field.name, h.field.name_len), h.field.value,
                          h.field.value_len)
                    : h.stream;
                r->n++;
            }
        } while (n || ev != SS_H2_EV_NONE);
    }
    ss_h2_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t whole, cut;
    size_t step;

    if (size < 1)
        return 0;
    step = (size_t)data[0] % 32 + 1;
    follow(data + 1, size - 1, size, &whole);
    follow(data + 1, size - 1, step, &cut);
    /* Cut up or whole, the same events at the same bytes, and an error
     * (if any) after the same ones. */
    if (whole.error != cut.error || whole.n != cut.n)
        abort();
    if (memcmp(whole.ev, cut.ev, (size_t)whole.n) != 0 ||
        memcmp(whole.at, cut.at, sizeof(whole.at[0]) * (size_t)whole.n) != 0 ||
        memcmp(whole.sum, cut.sum, sizeof(whole.sum[0]) * (size_t)whole.n) != 0)
        abort();
    return 0;
}
