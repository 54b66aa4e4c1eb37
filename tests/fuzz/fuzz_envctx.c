/*
 * fuzz_envctx.c - libFuzzer target for the environment as a carrier: an
 * environment (entries separated by NUL bytes) read as a traced program
 * reads it at start (TRACEPARENT, TRACESTATE), and a child's copy built
 * from it.
 *
 * What parses must format back the same; the copy holds every entry of the
 * input that is not the carrier's, in order, then exactly one TRACEPARENT
 * (which parses) and at most one TRACESTATE (forwarded unchanged again).
 * A SPANSHIM_PROC_SPAN that parses formats back to the same bytes, and the
 * copy holds the new one only, last.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/ss_envctx.h"

#define MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096], *envp[MAX_ENTRIES + 1], *out[MAX_ENTRIES + 4];
    char tp[SS_ENVCTX_TP_ENTRY], ts[SS_ENVCTX_TS_ENTRY], fwd[SS_TS_FORWARD_MAX + 1];
    char ps[SS_ENVCTX_PS_ENTRY];
    ss_envctx_ps_t given;
    size_t n = 0, i, o = 0, len, fwd_len = 0;
    const char *v;
    ss_ctx_t ctx, back;
    long built;

    if (size >= sizeof(buf))
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (i = 0; i <= size && n < MAX_ENTRIES; i++) {
        if (i == 0 || buf[i - 1] == '\0') {
            if (i < size)
                envp[n++] = buf + i;
        }
    }
    envp[n] = NULL;
    v = ss_envctx_get(envp, "TRACEPARENT");
    if (v == NULL || !ss_tp_parse(v, strnlen(v, SS_TP_LEN + 1), &ctx))
        memset(&ctx, 0x11, sizeof(ctx)); /* as a served request's would be */
    ctx.valid = 1;
    if ((v = ss_envctx_get(envp, "TRACESTATE")) != NULL) {
        len = strnlen(v, 1024);
        fwd_len = ss_ts_forward(v, len, v[len] != '\0', fwd);
    }
    ss_envctx_entries(&ctx, fwd, (uint16_t)fwd_len, tp, ts);
    ps[0] = '\0';
    if ((v = ss_envctx_get(envp, "SPANSHIM_PROC_SPAN")) != NULL && ss_envctx_ps_parse(v, &given)) {
        ss_envctx_ps_format(&given, ps);
        if (strcmp(ps + strlen(SS_ENVCTX_PS_NAME), v) != 0)
            abort();
    }
    built = ss_envctx_build(envp, tp, ts, ps, out, sizeof(out) / sizeof(out[0]));
    if (built < 0 || out[built] != NULL)
        abort();
    for (i = 0; i < n; i++) {
        if (strncmp(envp[i], "TRACEPARENT=", 12) == 0 || strncmp(envp[i], "TRACESTATE=", 11) == 0 ||
            strncmp(envp[i], "SPANSHIM_PROC_SPAN=", 19) == 0)
            continue;
        if (out[o++] != envp[i])
            abort();
    }
    if (out[o++] != tp || (ts[0] && out[o++] != ts) || (ps[0] && out[o++] != ps) ||
        (long)o != built)
        abort();
    if (!ss_tp_parse(tp + 12, SS_TP_LEN, &back) || memcmp(back.trace_id, ctx.trace_id, 16) ||
        memcmp(back.span_id, ctx.span_id, 8))
        abort();
    if (ts[0] && ss_ts_forward(ts + 11, fwd_len, 0, fwd) != fwd_len)
        abort();
    return 0;
}
