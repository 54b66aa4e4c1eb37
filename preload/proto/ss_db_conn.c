/*
 * ss_db_conn.c - database connections: a database module (ss_db.h) behind
 * the protocol interface (ss_proto.h), one span per operation.
 *
 * The module reads the bytes and says when a command began (its first
 * byte was written) and when an operation completed (its reply was read
 * whole). A command's beginning makes an exchange in the connection's
 * queue, a CLIENT span whose parent is what the thread serves right then;
 * the operation's attributes fill it when it completes. Replies come in
 * the order commands went, so the span is found from the queue's head;
 * older ones left before it got no reply of their own (a Redis command
 * after CLIENT REPLY OFF, an extended-protocol message that answers with
 * nothing) and are dropped, never ended with another's reply.
 *
 * The database is the traced program's server, so only client
 * connections are followed. Each line SS_PROTO_DB of ss_protos.def is
 * turned here into the module's ss_proto_t.
 */
#define _GNU_SOURCE
#include "../../exporter/ex_otlp.h"
#include "../ss_log.h"
#include "../ss_proto.h"
#include "ss_db.h"
#include "ss_mysql.h"
#include "ss_pg.h"
#include "ss_redis.h"

#include <stdlib.h>
#include <string.h>

#define SS_DB_SPANS_MAX 64 /* operations awaiting their replies, traced (Redis pipelines as deep) */

/* What every database connection has, before its module's state. */
typedef struct ss_db_conn {
    ss_conn_t *c;
    ss_db_sink_t sink;
    uint64_t tag;             /* the last command's */
    const char *why;          /* why it stopped, when the module did not say */
    const char *(*system)(const void *st); /* db.system.name */
    uint16_t port;            /* the default server.port */
    /* Its spans' shared attributes, encoded once (ss_db.h), and what they
     * were made from: the connection (NULL: none made yet; a TLS session
     * that takes the state over is another), the system and namespace. */
    const ss_conn_t *fixed_c;
    const char *fixed_system;
    char fixed_ns[SS_DB_NAMESPACE_MAX];
    ss_db_fixed_t fixed;
    _Alignas(16) uint8_t st[]; /* the module's state */
} ss_db_conn_t;

#define DB(c) ((ss_db_conn_t *)(c)->ps)

/* An operation that never completed has no attributes of its own: its
 * record may be a reused one, still holding another operation's. */
static void ss_db_op_clear(ss_db_op_t *op)
{
    op->operation[0] = op->collection[0] = op->namespace_[0] = '\0';
    op->query_text[0] = op->summary[0] = op->status_code[0] = '\0';
    op->batch_size = 0;
    op->error = 0;
}

static uint64_t ss_db_start(void *arg)
{
    ss_db_conn_t *d = arg;
    ss_span_t *s = ss_conn_exchange_new_as(d->c, SS_DB_SPANS_MAX, SS_SPAN_DB);

    if (s == NULL)
        return 0;
    /* A reused record holds another span's part: nothing is known yet (an
     * in-flight report of it says so). */
    s->db.system = NULL;
    s->db.default_port = 0;
    s->db.fixed = NULL;
    ss_db_op_clear(&s->db.op);
    s->db.op.tag = ++d->tag;
    return d->tag;
}

/* The record of the operation tagged tag: the queue's head, once older
 * ones (never answered on their own) are dropped; NULL when it has none. */
static ss_span_t *ss_db_find(ss_conn_t *c, uint64_t tag)
{
    ss_span_t *s;

    if (tag == 0)
        return NULL; /* its command got no span */
    while ((s = c->q_head) != NULL && s->db.op.tag < tag)
        ss_conn_drop(c, s);
    return s != NULL && s->db.op.tag == tag ? s : NULL;
}

/* The module fills the span's operation where it lies: no copy. */
static ss_db_op_t *ss_db_op_for(void *arg, uint64_t tag)
{
    ss_span_t *s = ss_db_find(((ss_db_conn_t *)arg)->c, tag);

    return s ? &s->db.op : NULL;
}

/* Whether ns is the namespace (of ns_len bytes) the attributes were made
 * with: a short one (a Redis index) is compared as one word. */
static int ss_db_same(const char *fixed_ns, uint8_t ns_len, const char *ns)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (ns_len < 8) { /* its bytes and its NUL, in the arrays' first word */
        uint64_t a, b;

        memcpy(&a, fixed_ns, 8);
        memcpy(&b, ns, 8);
        return ((a ^ b) & (~0ULL >> (8 * (7 - ns_len)))) == 0;
    }
#endif
    (void)ns_len;
    while (*fixed_ns && *fixed_ns == *ns)
        fixed_ns++, ns++;
    return *fixed_ns == *ns;
}

/* The connection's encoded attributes for s (its system and namespace
 * set), made again when either changed (SELECT, MySQL's greeting); NULL
 * when they do not fit: s is encoded field by field. */
static const ss_db_fixed_t *ss_db_fixed_for(ss_db_conn_t *d, const ss_span_t *s)
{
    const char *ns = s->db.op.namespace_;

    if (d->fixed_c == d->c && d->fixed_system == s->db.system &&
        ss_db_same(d->fixed_ns, d->fixed.ns_len, ns))
        return &d->fixed;
    d->fixed_c = NULL;
    if (!ex_otlp_db_fixed(s, &d->fixed))
        return NULL;
    memcpy(d->fixed_ns, ns, (size_t)d->fixed.ns_len + 1);
    d->fixed_system = s->db.system;
    d->fixed_c = d->c;
    return &d->fixed;
}

static void ss_db_done(void *arg, const ss_db_op_t *op)
{
    ss_db_conn_t *d = arg;
    ss_conn_t *c = d->c;
    ss_span_t *s = ss_db_find(c, op->tag);

    if (s == NULL)
        return;
    if (op != &s->db.op)
        s->db.op = *op; /* filled by the module in a record of its own */
    s->db.system = d->system(d->st);
    s->db.default_port = d->port;
    s->db.fixed = ss_db_fixed_for(d, s);
    ss_conn_finish(c, s);
}

static int ss_db_open(ss_conn_t *c, size_t size, void (*init)(void *st),
                      const char *(*system)(const void *st), uint16_t port)
{
    ss_db_conn_t *d = malloc(sizeof(*d) + size);

    if (d == NULL)
        return 0;
    d->c = c;
    d->sink.arg = d;
    d->sink.start = ss_db_start;
    d->sink.done = ss_db_done;
    d->sink.op_for = ss_db_op_for;
    d->tag = 0;
    d->why = NULL;
    d->fixed_c = NULL;
    d->system = system;
    d->port = port;
    init(d->st);
    c->ps = d;
    SS_COUNT(conns_db);
    return 1;
}

/* An operation still open when the connection failed (a reset, the
 * server's close) ends with that error; when the program closed it, an
 * answer not read is not known missing: dropped. */
static void ss_db_fail(ss_conn_t *c, const char *error_type)
{
    ss_span_t *s;

    while ((s = ss_conn_dequeue(c)) != NULL) {
        if (error_type == NULL || error_type[0] == '\0') {
            ss_span_free(s);
            continue;
        }
        ss_db_op_clear(&s->db.op);
        s->db.system = DB(c)->system(DB(c)->st);
        s->db.default_port = DB(c)->port;
        strncpy(s->error_type, error_type, sizeof(s->error_type) - 1);
        ss_conn_finish(c, s);
    }
}

static void ss_db_eof(ss_conn_t *c)
{
    ss_db_fail(c, "no_response");
}

static void ss_db_close(ss_conn_t *c)
{
    free(c->ps);
}

/* ---- the table's database lines ------------------------------------------ */

#define SS_PROTO(var)
#define SS_PROTO_DB(var, pname, prefix, type, system_expr, tls_expr, port)                      \
    static int var##_detect(const ss_conn_t *c, int dir, const uint8_t *p, size_t n)          \
    {                                                                                          \
        (void)c;                                                                               \
        return prefix##_detect(p, n, (ss_db_dir_t)dir);                                        \
    }                                                                                          \
    static void var##_init(void *st)                                                           \
    {                                                                                          \
        prefix##_init((type *)st);                                                             \
    }                                                                                          \
    static const char *var##_system(const void *vst)                                           \
    {                                                                                          \
        const type *st = vst;                                                                  \
        (void)st;                                                                              \
        return system_expr;                                                                    \
    }                                                                                          \
    static int var##_tls(ss_conn_t *c)                                                         \
    {                                                                                          \
        type *st = (type *)DB(c)->st;                                                          \
        (void)st;                                                                              \
        DB(c)->c = c;                                                                          \
        return tls_expr;                                                                       \
    }                                                                                          \
    static int var##_open(ss_conn_t *c)                                                        \
    {                                                                                          \
        return ss_db_open(c, sizeof(type), var##_init, var##_system, port);                    \
    }                                                                                          \
    static int var##_feed(ss_conn_t *c, int dir, const char *p, size_t n)                     \
    {                                                                                          \
        ss_db_conn_t *d = DB(c);                                                               \
        if (p == NULL) {                                                                       \
            d->why = "sendfile";                                                               \
            return 0;                                                                          \
        }                                                                                      \
        return prefix##_feed((type *)d->st, (ss_db_dir_t)dir, (const uint8_t *)p, n, &d->sink); \
    }                                                                                          \
    static const char *var##_why(const ss_conn_t *c)                                          \
    {                                                                                          \
        const char *w = prefix##_why((const type *)DB(c)->st);                                 \
        return w ? w : DB(c)->why;                                                             \
    }                                                                                          \
    const ss_proto_t var = {                                                                   \
        .name = pname,                                                                         \
        .roles = SS_ROLE_CLIENT,                                                               \
        .detect = var##_detect,                                                                \
        .open = var##_open,                                                                    \
        .feed = var##_feed,                                                                    \
        .eof = ss_db_eof,                                                                      \
        .fail = ss_db_fail,                                                                    \
        .why = var##_why,                                                                      \
        .tls = var##_tls,                                                                      \
        .close = ss_db_close,                                                                  \
    };
#include "ss_protos.def"
#undef SS_PROTO
#undef SS_PROTO_DB
