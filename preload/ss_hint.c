/*
 * ss_hint.c - placeholder traceparents from the Node module (see ss_hint.h).
 */
#include "ss_hint.h"
#include "ss_conn.h"
#include "ss_fd.h"

#include <string.h>

static const uint8_t ss_hint_mark[8] = {'S', 'P', 'A', 'N', 'S', 'H', 'I', 'M'};

static uint32_t ss_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#define SS_HINT_START "00-5350414e5348494d" /* version, then "SPANSHIM" in hex */

int ss_hint_has_prefix(const char *tp, size_t n)
{
    size_t start = sizeof(SS_HINT_START) - 1;

    return memcmp(tp, SS_HINT_START, n < start ? n : start) == 0;
}

int ss_hint_parse(const char *tp, ss_hint_t *h)
{
    ss_ctx_t c;

    if (memcmp(tp, SS_HINT_START, sizeof(SS_HINT_START) - 1) != 0 || !ss_tp_parse(tp, SS_TP_LEN, &c) ||
        memcmp(c.trace_id, ss_hint_mark, 8) != 0 || ss_be32(c.span_id) != 0 || c.flags)
        return 0;
    h->fd = ss_be32(c.trace_id + 8);
    h->peer_port = (uint16_t)(c.trace_id[12] << 8 | c.trace_id[13]);
    h->local_port = (uint16_t)(c.trace_id[14] << 8 | c.trace_id[15]);
    h->seq = ss_be32(c.span_id + 4);
    return 1;
}

/* The open server exchange numbered seq on c (its lock held). */
static const ss_span_t *ss_hint_find(const ss_conn_t *c, uint32_t seq)
{
    const ss_span_t *s;

    for (s = c->q_head; s; s = s->next)
        if (s->kind == SS_KIND_SERVER && s->http.head_done && s->http.seq == seq && s->ctx.valid)
            return s;
    return NULL;
}

int ss_hint_resolve(const ss_hint_t *h, ss_ctx_t *parent, char *ts, uint16_t *ts_len)
{
    const ss_span_t *s;
    ss_conn_t *c;
    int found = 0;

    if (h->fd > 0x7fffffff || (c = ss_fd_get((int)h->fd)) == NULL)
        return 0;
    /* The caller holds its client connection's lock: only a server
     * connection's is taken here (a role never changes), and whoever holds
     * one of those takes no other connection's, so no two wait on each other. */
    if (c->role != SS_ROLE_SERVER) {
        ss_conn_put(c);
        return 0;
    }
    ss_lock(&c->lock);
    /* The ports tell a connection that took over a closed one's fd. */
    if (c->peer_port == h->peer_port && c->local_port == h->local_port &&
        (s = ss_hint_find(c, h->seq)) != NULL) {
        *parent = s->ctx;
        *ts_len = s->ts_len;
        memcpy(ts, s->ts, s->ts_len + 1u);
        found = 1;
    }
    ss_unlock(&c->lock);
    ss_conn_put(c);
    return found;
}
