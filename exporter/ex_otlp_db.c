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
static const char *ex_db_target(const ss_span_t *s, char *buf, size_t cap)
{
    const ss_db_op_t *op = &s->db.op;
    const char *host = s->server_name[0] ? s->server_name : s->peer_addr;

    if (op->collection[0])
        return op->collection;
    if (op->namespace_[0])
        return op->namespace_;
    if (host[0] && !s->is_unix) {
        snprintf(buf, cap, "%s:%u", host, s->peer_port);
        return buf;
    }
    return "";
}

/* src after the at bytes of dst, cut as snprintf would; the new length.
 * No printf: every database span's name is made here, of short parts. */
static size_t ex_db_cat(char *dst, size_t cap, size_t at, const char *src)
{
    while (at + 1 < cap && *src)
        dst[at++] = *src++;
    dst[at] = '\0';
    return at;
}

static void ex_db_decide(const ss_span_t *s, ex_facts_t *f)
{
    const ss_db_op_t *op = &s->db.op;
    char *name = f->db.name, buf[SS_DNS_NAME_MAX + 8];
    const char *target;
    size_t cap = sizeof(f->db.name), len;

    if (f->error_type.n == 0 && op->error)
        f->error_type = op->status_code[0] ? ex_cstr(op->status_code) : EX_LIT("_OTHER");
    if (op->summary[0]) {
        f->name = ex_cstr(op->summary);
        return;
    }
    target = ex_db_target(s, buf, sizeof(buf));
    _Static_assert(SS_DB_OPERATION_MAX + 1 < sizeof(f->db.name), "an operation and its space fit");
    if (op->operation[0] && target[0]) {
        len = ex_db_cat(name, cap, 0, op->operation);
        name[len++] = ' ';
        len = ex_db_cat(name, cap, len, target);
    } else if (target[0]) {
        len = ex_db_cat(name, cap, 0, target);
    } else {
        len = ex_db_cat(name, cap, 0, op->operation[0] ? op->operation : s->db.system);
    }
    f->name = (ex_str_t){name, len};
}

static uint8_t *ex_db_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    const ss_db_op_t *op = &s->db.op;

    p = ex_kv_str(p, EX_LIT("db.system.name"), ex_cstr(s->db.system));
    p = ex_kv_str(p, EX_LIT("db.namespace"), ex_cstr(op->namespace_));
    p = ex_kv_str(p, EX_LIT("db.collection.name"), ex_cstr(op->collection));
    p = ex_kv_str(p, EX_LIT("db.operation.name"), ex_cstr(op->operation));
    p = ex_kv_str(p, EX_LIT("db.query.summary"), ex_cstr(op->summary));
    p = ex_kv_str(p, EX_LIT("db.query.text"), ex_cstr(op->query_text));
    if (op->error)
        p = ex_kv_str(p, EX_LIT("db.response.status_code"), ex_cstr(op->status_code));
    if (op->batch_size > 1)
        p = ex_kv_int(p, EX_LIT("db.operation.batch.size"), op->batch_size);
    return ex_put_server_peer(p, s, f, s->db.default_port);
}

/* At most 10 attributes of at most 50 bytes of framing and key, and their
 * values. */
#define EX_DB_WORST                                                                         \
    (10 * 50 + 16 + SS_DB_NAMESPACE_MAX + SS_DB_COLLECTION_MAX + SS_DB_OPERATION_MAX +      \
     SS_DB_SUMMARY_MAX + SS_DB_QUERY_MAX + SS_DB_STATUS_MAX + SS_DNS_NAME_MAX +             \
     sizeof(ex_db_facts_t))
_Static_assert(EX_SPAN_COMMON_WORST + EX_DB_WORST <= EX_SPAN_MAX, "a database span fits EX_SPAN_MAX");

const ex_span_enc_t ex_otlp_db_enc = {EX_DB_WORST, ex_db_decide, ex_db_attrs};
