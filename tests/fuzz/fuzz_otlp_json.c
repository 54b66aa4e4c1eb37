/*
 * fuzz_otlp_json.c - libFuzzer target for OTLP/JSON from outside (the
 * OTLP/HTTP receiver's application/json bodies, col_otlp_jsonin.c).
 *
 * Input: the body, as any client might send it. Whatever decodes must be
 * what the receiver queues: packed as protobuf, it decodes again with the
 * datagrams' bounds (a message the JSON decoder lets through nested deeper
 * than they allow would be accepted with a 200 and then dropped), and is
 * written as the .jsonl line. Nothing in the input is trusted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_otlp_jsonin.h"

static col_buf_t out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static col_arena_t *a, *again;
    col_jsonin_why_t why;
    col_decode_err_t err;
    col_request_t *r;
    uint8_t *pb;
    size_t n;

    if (a == NULL && ((a = col_arena_new()) == NULL || (again = col_arena_new()) == NULL))
        abort();
    r = col_jsonin_request(a, (const char *)data, size, &why);
    if (r == NULL) {
        if (why.err == COL_JSONIN_OK || why.msg[0] == '\0')
            abort(); /* a refusal always says why */
        col_arena_reset(a);
        return 0;
    }
    n = protobuf_c_message_get_packed_size(&r->base);
    pb = malloc(n ? n : 1);
    protobuf_c_message_pack(&r->base, pb);
    if (col_request_decode(again, pb, n, &err) == NULL && err != COL_DECODE_TOO_BIG)
        abort();
    col_buf_reset(&out);
    col_json_request(&out, r);
    free(pb);
    col_arena_reset(again);
    col_arena_reset(a);
    return 0;
}
