/*
 * ex_otlp_db.c - the database part of a span's encoding (ex_otlp_int.h).
 *
 * The stable database conventions (shared reference semconv-db): the name
 * is the query summary, else "{operation} {target}", else the target, else
 * the system, where the target is the table, else the namespace, else
 * server.address:server.port. Text reaches this file sanitized already
 * (preload/proto/ss_sql.h): nothing here sees a literal.
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

#include <stdio.h>

/* The target of the span's name, in buf if it is made: "" when there is
 * none. */
static ex_str_t ex_db_target(const ss_span_t *s, char *buf, size_t cap)
{
    const ss_db_op_t *op = &s->db.op;
    const char *host = s->server_name[0] ? s->server_name : s->peer_addr;

    if (op->collection[0])
        return ex_cstr(op->collection);
    if (op->namespace_[0]) /* a connection's encoded attributes know its length */
        return s->db.fixed ? (ex_str_t){op->namespace_, s->db.fixed->ns_len}
                           : ex_cstr(op->namespace_);
    if (host[0] && !s->is_unix) {
        int n = snprintf(buf, cap, "%s:%u", host, s->peer_port);

        return (ex_str_t){buf, n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1};
    }
    return EX_NONE;
}

/* src after the at bytes of dst (at < cap), cut as snprintf would; the
 * new length. No printf: every database span's name is made here. */
static size_t ex_db_cat(char *dst, size_t cap, size_t at, ex_str_t src)
{
    size_t n = src.n < cap - 1 - at ? src.n : cap - 1 - at;

    ex_copy((uint8_t *)dst + at, src.p, n);
    dst[at + n] = '\0';
    return at + n;
}

static void ex_db_decide(const ss_span_t *s, ex_facts_t *f)
{
    const ss_db_op_t *op = &s->db.op;
    char *name = f->db.name, buf[SS_DNS_NAME_MAX + 8];
    ex_str_t target, oper;
    size_t cap = sizeof(f->db.name), len;

    f->peer_in_part = 1; /* after server.*, as its connection's tail (ex_db_tail) */
    if (s->db.fixed == NULL)
        f->peer = ex_cstr(s->peer_addr);
    f->db.operation = ex_cstr(op->operation);
    if (f->error_type.n == 0 && op->error)
        f->error_type = op->status_code[0] ? ex_cstr(op->status_code) : EX_LIT("_OTHER");
    if (op->summary[0]) {
        f->name = ex_cstr(op->summary);
        return;
    }
    target = ex_db_target(s, buf, sizeof(buf));
    oper = f->db.operation;
    _Static_assert(SS_DB_OPERATION_MAX + 1 < sizeof(f->db.name), "an operation and its space fit");
    if (oper.n && target.n) {
        len = ex_db_cat(name, cap, 0, oper);
        name[len++] = ' ';
        len = ex_db_cat(name, cap, len, target);
    } else if (target.n) {
        len = ex_db_cat(name, cap, 0, target);
    } else {
        len = ex_db_cat(name, cap, 0, oper.n ? oper : ex_cstr(s->db.system));
    }
    f->name = (ex_str_t){name, len};
}

/* The head of the attributes: what a connection's spans share of them. */
static uint8_t *ex_db_head(uint8_t *p, const ss_span_t *s)
{
    p = ex_kv_str(p, EX_LIT("db.system.name"), ex_cstr(s->db.system));
    return ex_kv_str(p, EX_LIT("db.namespace"), ex_cstr(s->db.op.namespace_));
}

/* The tail: the server, then the peer, which the common attributes would
 * write next (ex_otlp.c) and leave to this part (f->peer_in_part). */
static uint8_t *ex_db_tail(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    p = ex_put_server_peer(p, s, f, s->db.default_port);
    if (f->peer.n) {
        p = ex_kv_str(p, EX_LIT("network.peer.address"), f->peer);
        if (!s->is_unix)
            p = ex_kv_int(p, EX_LIT("network.peer.port"), s->peer_port);
    }
    return p;
}

static uint8_t *ex_db_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    const ss_db_op_t *op = &s->db.op;
    const ss_db_fixed_t *fx = s->db.fixed;

    p = fx ? ex_copy(p, fx->bytes, fx->head_len) : ex_db_head(p, s);
    p = ex_kv_str(p, EX_LIT("db.collection.name"), ex_cstr(op->collection));
    p = ex_kv_str(p, EX_LIT("db.operation.name"), f->db.operation);
    p = ex_kv_str(p, EX_LIT("db.query.summary"), ex_cstr(op->summary));
    p = ex_kv_str(p, EX_LIT("db.query.text"), ex_cstr(op->query_text));
    if (op->error)
        p = ex_kv_str(p, EX_LIT("db.response.status_code"), ex_cstr(op->status_code));
    if (op->batch_size > 1)
        p = ex_kv_int(p, EX_LIT("db.operation.batch.size"), op->batch_size);
    return fx ? ex_copy(p, fx->bytes + fx->head_len, fx->tail_len) : ex_db_tail(p, s, f);
}

int ex_otlp_db_fixed(const ss_span_t *s, ss_db_fixed_t *out)
{
    uint8_t buf[2 * SS_DB_FIXED_MAX + 2 * sizeof(s->peer_addr) + SS_DNS_NAME_MAX + 4 * 50];
    ex_facts_t f;
    size_t head, tail, ns = strlen(s->db.op.namespace_);

    _Static_assert(2 * 50 + 16 + SS_DB_NAMESPACE_MAX < 2 * SS_DB_FIXED_MAX, "a head fits buf");
    f.peer = ex_cstr(s->peer_addr);
    head = (size_t)(ex_db_head(buf, s) - buf);
    if (head > SS_DB_FIXED_MAX)
        return 0;
    tail = (size_t)(ex_db_tail(buf + head, s, &f) - (buf + head));
    if (head + tail > SS_DB_FIXED_MAX || ns > 0xff)
        return 0;
    memcpy(out->bytes, buf, head + tail);
    out->head_len = (uint16_t)head;
    out->tail_len = (uint16_t)tail;
    out->ns_len = (uint8_t)ns;
    return 1;
}

/* At most 10 attributes of at most 50 bytes of framing and key, and their
 * values. */
#define EX_DB_WORST                                                                         \
    (10 * 50 + 16 + SS_DB_NAMESPACE_MAX + SS_DB_COLLECTION_MAX + SS_DB_OPERATION_MAX +      \
     SS_DB_SUMMARY_MAX + SS_DB_QUERY_MAX + SS_DB_STATUS_MAX + SS_DNS_NAME_MAX +             \
     sizeof(ex_db_facts_t))
_Static_assert(EX_SPAN_COMMON_WORST + EX_DB_WORST <= EX_SPAN_MAX, "a database span fits EX_SPAN_MAX");

/* Its peer is measured only when its connection's tail is not at hand. */
const ex_span_enc_t ex_otlp_db_enc = {EX_DB_WORST, 1, ex_db_decide, ex_db_attrs};
