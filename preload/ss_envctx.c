/*
 * ss_envctx.c - the child's environment with the trace context in it
 * (see ss_envctx.h).
 */
#include "ss_envctx.h"

#include <string.h>

size_t ss_envctx_count(char *const envp[])
{
    size_t n = 0;

    while (envp && envp[n])
        n++;
    return n;
}

void ss_envctx_entries(const ss_ctx_t *ctx, const char *tsv, uint16_t ts_len,
                       char tp[SS_ENVCTX_TP_ENTRY], char ts[SS_ENVCTX_TS_ENTRY])
{
    const size_t tpn = sizeof(SS_ENVCTX_TP_NAME) - 1, tsn = sizeof(SS_ENVCTX_TS_NAME) - 1;

    memcpy(tp, SS_ENVCTX_TP_NAME, tpn);
    ss_tp_format(ctx, tp + tpn);
    ts[0] = '\0';
    if (ts_len == 0 || ts_len > SS_TS_FORWARD_MAX)
        return;
    memcpy(ts, SS_ENVCTX_TS_NAME, tsn);
    memcpy(ts + tsn, tsv, ts_len);
    ts[tsn + ts_len] = '\0';
}

static int ss_envctx_is(const char *entry, const char *name_eq)
{
    return strncmp(entry, name_eq, strlen(name_eq)) == 0;
}

long ss_envctx_build(char *const envp[], const char *tp, const char *ts, char **out, size_t cap)
{
    size_t i, n = 0;

    if (cap < 2 + (ts[0] != '\0'))
        return -1;
    for (i = 0; envp && envp[i]; i++) {
        if (ss_envctx_is(envp[i], SS_ENVCTX_TP_NAME) || ss_envctx_is(envp[i], SS_ENVCTX_TS_NAME))
            continue;
        if (n + 2 + (ts[0] != '\0') >= cap)
            return -1;
        out[n++] = envp[i];
    }
    out[n++] = (char *)tp;
    if (ts[0])
        out[n++] = (char *)ts;
    out[n] = NULL;
    return (long)n;
}

const char *ss_envctx_get(char *const envp[], const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
            return envp[i] + len + 1;
    return NULL;
}
