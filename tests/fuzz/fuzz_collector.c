/*
 * fuzz_collector.c - libFuzzer target for the collector's decode path.
 *
 * Input: one datagram, as a traced program (or anyone who can open the
 * socket) might send it. Whatever protobuf-c accepts then goes through
 * every sink as the collector runs them: span metrics and the service
 * graph, tail sampling (its kept spans re-encoded as JSON), the OTLP JSON
 * line, the --print tree, and the Prometheus text. Nothing in it is
 * trusted: lengths, counts, strings, ids of any size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_metrics.h"
#include "../../exporter/collector/col_print.h"
#include "../../exporter/collector/col_tail.h"

static col_buf_t out;
static FILE *devnull;

static void emit(const col_request_t *r, size_t spans)
{
    (void)spans;
    col_buf_reset(&out);
    col_json_request(&out, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t now = 1000;
    col_request_t *r;

    if (devnull == NULL) {
        col_tail_cfg_t cfg = {100, 50, 0.5, 64, 1024};

        devnull = fopen("/dev/null", "w");
        col_tail_init(&cfg, emit);
    }
    now += 37;
    col_arena_t *arena = col_arena_new();

    r = col_request_decode(arena, data, size);
    if (r == NULL) {
        col_arena_free(arena);
        return 0;
    }
    col_metrics_add(r, now);
    col_buf_reset(&out);
    col_json_request(&out, r);
    col_print_add(r, now);
    col_print_due(devnull, now, size & 1);
    col_tail_add(r, arena, now); /* owns r and the arena now */
    col_tail_due(now, size & 2);
    if ((now / 37) % 64 == 0) {
        col_buf_reset(&out);
        col_metrics_render(&out);
    }
    return 0;
}
