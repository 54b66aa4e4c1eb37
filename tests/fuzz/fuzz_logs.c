/*
 * fuzz_logs.c - libFuzzer target for the collector's logs path.
 *
 * Input: a mode byte, then
 *  0: a logs datagram's request (the bytes after EX_FRAME_LOGS), as a
 *     traced program (or anyone who can open the socket) might send it:
 *     decoded with the datagrams' bounds (col_logs_request_decode), then
 *     through what the sinks do with it: its OTLP JSON line (which must
 *     be JSON json-c reads back), --print's trees (small caps reached:
 *     records held, printed under their spans, let go), the viewer's store
 *     (caps small enough to be reached) and its /api/trace JSON, and
 *     packed again, which must decode to the same JSON;
 *  1: OTLP/JSON, as POST /v1/logs takes it (col_jsonin_decode with the
 *     logs descriptor), packed as the receiver queues it and decoded
 *     again as the main thread does: the same JSON both times;
 *  2: the same bytes as a framed item through col_logs_handle (no sink
 *     started: the decode and its accounting).
 * Nothing in the input is trusted: lengths, ids of any size, nesting.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_logs.h"
#include "../../exporter/collector/col_otlp_jsonin.h"
#include "../../exporter/collector/col_print.h"
#include "../../exporter/collector/col_vstore.h"

static FILE *devnull;
static col_arena_t *arena, *arena2;

/* The JSON must parse; the request packed and decoded again gives it again. */
static void check_round_trip(const col_logs_request_t *r)
{
    col_buf_t a = {0}, b = {0};
    col_decode_err_t why;
    col_logs_request_t *again;
    size_t n = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *pb = malloc(n ? n : 1);
    json_object *j;

    col_json_logs(&a, r);
    if (!a.oom) {
        j = json_tokener_parse(a.p);
        if (j == NULL)
            abort(); /* the writer wrote what is not JSON */
        json_object_put(j);
    }
    if (pb == NULL)
        goto out;
    protobuf_c_message_pack(&r->base, pb);
    again = col_logs_request_decode(arena2, pb, n, &why);
    if (again) { /* (a merge past the arena's cap may refuse it) */
        col_json_logs(&b, again);
        if (!a.oom && !b.oom && (a.len != b.len || memcmp(a.p, b.p, a.len) != 0))
            abort(); /* packing changed what the request says */
    }
out:
    col_arena_reset(arena2);
    free(pb);
    col_buf_free(&a);
    col_buf_free(&b);
}

static void through_sinks(const col_logs_request_t *r)
{
    col_buf_t t = {0};
    size_t i, j, k;

    check_round_trip(r);
    col_print_add_logs(devnull, r, 0);
    col_print_due(devnull, 1000, 0);
    col_vstore_add_logs(r);
    for (i = 0; i < r->n_resource_logs; i++)
        for (j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
            for (k = 0; k < r->resource_logs[i]->scope_logs[j]->n_log_records; k++) {
                const col_log_t *l = r->resource_logs[i]->scope_logs[j]->log_records[k];
                char hex[33];

                if (!col_log_has_trace(l))
                    continue;
                col_hex(l->trace_id.data, 16, hex);
                col_buf_reset(&t);
                col_vstore_trace_json(&t, hex);
                if (!t.oom && t.len) {
                    json_object *o = json_tokener_parse(t.p);

                    if (o == NULL)
                        abort();
                    json_object_put(o);
                }
            }
    col_buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    col_logs_request_t *r;
    col_decode_err_t why;
    col_jsonin_why_t jw;

    if (devnull == NULL) {
        col_vstore_cfg_t vcfg = {8, 64, 64 << 10};

        devnull = fopen("/dev/null", "w");
        col_vstore_init(&vcfg);
        arena = col_arena_new();
        arena2 = col_arena_new();
    }
    if (size < 1 || size > 256 * 1024)
        return 0;
    switch (data[0] % 3) {
    case 0:
        if ((r = col_logs_request_decode(arena, data + 1, size - 1, &why)) != NULL)
            through_sinks(r);
        break;
    case 1:
        r = (col_logs_request_t *)col_jsonin_decode(
            &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
            arena, (const char *)data + 1, size - 1, &jw);
        if (r)
            through_sinks(r);
        break;
    default: {
        col_item_t *it = malloc(sizeof(*it) + size + 1);

        if (it == NULL)
            break;
        memset(it, 0, sizeof(*it));
        it->len = size + 1;
        memcpy(it->data, "\0L", 2);
        memcpy(it->data + 2, data + 1, size - 1);
        it->len = size + 1;
        col_logs_handle(it);
        free(it);
    }
    }
    col_arena_reset(arena);
    return 0;
}
