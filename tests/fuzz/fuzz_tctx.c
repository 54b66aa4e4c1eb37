/*
 * fuzz_tctx.c - libFuzzer target for traceparent and tracestate.
 *
 * Whatever parses as a traceparent must format back to a traceparent that
 * parses to the same context; whatever tracestate is forwarded must fit the
 * cap, be forwarded unchanged a second time, and contain only what came in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/ss_tctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_ctx_t a, b;
    char tp[SS_TP_LEN + 1], out[SS_TS_FORWARD_MAX + 1], again[SS_TS_FORWARD_MAX + 1];
    size_t n, m;

    if (ss_tp_parse((const char *)data, size, &a)) {
        ss_tp_format(&a, tp);
        if (!ss_tp_parse(tp, SS_TP_LEN, &b) || memcmp(&a, &b, sizeof(a)) != 0)
            abort();
    }
    n = ss_ts_forward((const char *)data, size, size && (data[0] & 1), out);
    if (n > SS_TS_FORWARD_MAX || (n && out[n] != '\0'))
        abort();
    if (n) {
        m = ss_ts_forward(out, n, 0, again);
        if (m != n || memcmp(out, again, n) != 0)
            abort();
    }
    return 0;
}
