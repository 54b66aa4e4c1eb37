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

long ss_envctx_build(char *const envp[], const char *tp, const char *ts, const char *ps,
                     char **out, size_t cap)
{
    size_t i, n = 0, ours = 2u + (ts[0] != '\0') + (ps[0] != '\0');

    if (cap < ours)
        return -1;
    for (i = 0; envp && envp[i]; i++) {
        if (ss_envctx_is(envp[i], SS_ENVCTX_TP_NAME) || ss_envctx_is(envp[i], SS_ENVCTX_TS_NAME) ||
            ss_envctx_is(envp[i], SS_ENVCTX_PS_NAME))
            continue;
        if (n + ours >= cap)
            return -1;
        out[n++] = envp[i];
    }
    out[n++] = (char *)tp;
    if (ts[0])
        out[n++] = (char *)ts;
    if (ps[0])
        out[n++] = (char *)ps;
    out[n] = NULL;
    return (long)n;
}

static void ss_envctx_hex64(uint64_t v, int digits, char *out)
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 0xf];
}

void ss_envctx_ps_format(const ss_envctx_ps_t *ps, char out[SS_ENVCTX_PS_ENTRY])
{
    char *p = out + sizeof(SS_ENVCTX_PS_NAME) - 1;

    memcpy(out, SS_ENVCTX_PS_NAME, sizeof(SS_ENVCTX_PS_NAME) - 1);
    ss_hex(ps->span_id, 8, p);
    p[16] = '-';
    ss_hex(ps->parent_id, 8, p + 17);
    p[33] = '-';
    ss_envctx_hex64(ps->start_ns, 16, p + 34);
    p[50] = '-';
    ss_envctx_hex64(ps->ppid, 8, p + 51);
    p[59] = '\0';
}

/* digits lowercase hex digits at s into *v; 0 if one is not. */
static int ss_envctx_unhex(const char *s, int digits, uint64_t *v)
{
    int i;

    *v = 0;
    for (i = 0; i < digits; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9')
            *v = *v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v = *v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return 0;
    }
    return 1;
}

static int ss_envctx_unhex_id(const char *s, uint8_t id[8])
{
    uint64_t v;
    int i;

    if (!ss_envctx_unhex(s, 16, &v) || v == 0)
        return 0;
    for (i = 7; i >= 0; i--, v >>= 8)
        id[i] = (uint8_t)(v & 0xff);
    return 1;
}

int ss_envctx_ps_parse(const char *value, ss_envctx_ps_t *ps)
{
    uint64_t v;

    if (strnlen(value, SS_ENVCTX_PS_LEN + 1) != SS_ENVCTX_PS_LEN || value[16] != '-' ||
        value[33] != '-' || value[50] != '-')
        return 0;
    if (!ss_envctx_unhex_id(value, ps->span_id) || !ss_envctx_unhex_id(value + 17, ps->parent_id) ||
        !ss_envctx_unhex(value + 34, 16, &ps->start_ns) || !ss_envctx_unhex(value + 51, 8, &v) ||
        v == 0)
        return 0;
    ps->ppid = (uint32_t)v;
    return 1;
}

const char *ss_envctx_get(char *const envp[], const char *name)
{
    size_t i, len = strlen(name);

    for (i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
            return envp[i] + len + 1;
    return NULL;
}
