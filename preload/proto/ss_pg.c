/*
 * ss_pg.c - PostgreSQL protocol 3.0, client side (ss_pg.h).
 *
 * Each direction is a run of messages: a type byte and a big-endian
 * length that counts itself (the client's first message, and the one after
 * a refused SSLRequest, has no type byte). A header is gathered byte by
 * byte; a body is passed over, keeping a bounded prefix only of the
 * messages whose content matters (Query, Parse, Bind, Close, the
 * StartupMessage, ErrorResponse). Password and SASL messages, parameter
 * values, rows and COPY data are never kept.
 *
 * Commands: a simple Query completes at its ReadyForQuery; an extended
 * group (Parse/Bind/Describe up to Execute) at its CommandComplete,
 * EmptyQueryResponse, PortalSuspended or ErrorResponse; a group closed by
 * Sync without an Execute (a prepare) at the ReadyForQuery. After an error
 * the server skips to the Sync: the Executes it skipped complete then with
 * the same error. When the FIFO is full, commands go untraced (counted)
 * until every traced one has its reply, so a reply is never matched to
 * the wrong command.
 */
#include "ss_pg.h"

#include <string.h>

#include "ss_sql.h"

#define PG_PROTOCOL_3 196608u
#define PG_SSL_REQUEST 80877103u
#define PG_GSSENC_REQUEST 80877104u
#define PG_CANCEL_REQUEST 80877102u
#define PG_STARTUP_MAX 10000u      /* the server's own limit */
#define PG_MESSAGE_MAX 0x40000000u /* 1 GiB: past it, not a message */

enum { E_QUERY, E_EXEC, E_PREPARE, E_SYNC };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ss_pg_init(ss_pg_t *s)
{
    memset(s, 0, sizeof(*s));
    s->dir[SS_DB_OUT].startup = 1;
}

const char *ss_pg_why(const ss_pg_t *s)
{
    return s->why;
}

static int let_go(ss_pg_t *s, const char *why)
{
    s->why = why;
    return 0;
}

/* ---- ops and the FIFO ----------------------------------------------------- */

static void op_clear(const ss_pg_t *s, ss_db_op_t *op)
{
    memset(op, 0, sizeof(*op));
    memcpy(op->namespace_, s->namespace_, sizeof(op->namespace_));
}

static ss_pg_entry_t *fifo_at(ss_pg_t *s, unsigned k)
{
    return &s->fifo[(s->head + k) % SS_PG_FIFO_MAX];
}

/* A new entry at the tail (the caller checked the room). */
static ss_pg_entry_t *fifo_push(ss_pg_t *s, uint8_t kind)
{
    ss_pg_entry_t *e = fifo_at(s, s->count++);

    e->kind = kind;
    e->completions = 0;
    op_clear(s, &e->op);
    return e;
}

static void fifo_pop(ss_pg_t *s)
{
    s->head = (uint8_t)((s->head + 1) % SS_PG_FIFO_MAX);
    s->count--;
}

/* Room for `k` more entries, and not past a full FIFO still draining. */
static int room(ss_pg_t *s, unsigned k)
{
    if (s->untracked && s->count == 0 && s->untracked_z == 0)
        s->untracked = 0;
    return !s->untracked && s->count + k <= SS_PG_FIFO_MAX;
}

/* A ReadyForQuery owed to something untraced: nothing traced until it came. */
static void owe_ready(ss_pg_t *s)
{
    s->untracked = 1;
    s->untracked_z++;
}

/* A command that will not be traced (counted); `z`: answered by a ReadyForQuery. */
static void untrace(ss_pg_t *s, int z)
{
    s->untracked = 1;
    s->untraced++;
    if (z)
        owe_ready(s);
}

static void complete(ss_pg_entry_t *e, const ss_db_sink_t *sink)
{
    if (e->kind == E_QUERY && e->completions > 1)
        e->op.batch_size = e->completions;
    sink->done(sink->arg, &e->op);
}

/* ---- the client's messages ------------------------------------------------ */

/* A NUL-terminated string at *at in b[0..n), or NULL; *at moves past it. */
static const char *cstring(const uint8_t *b, size_t n, size_t *at, size_t *len)
{
    const uint8_t *nul;

    if (*at >= n || !(nul = memchr(b + *at, '\0', n - *at)))
        return NULL;
    *len = (size_t)(nul - (b + *at));
    *at += *len + 1;
    return (const char *)b + *at - *len - 1;
}

static void startup_params(ss_pg_t *s, const uint8_t *b, size_t n)
{
    size_t at = 0, klen, vlen;
    const char *k, *v;

    while ((k = cstring(b, n, &at, &klen)) && klen && (v = cstring(b, n, &at, &vlen)))
        if (klen == 8 && memcmp(k, "database", 8) == 0 && vlen < sizeof(s->namespace_)) {
            memcpy(s->namespace_, v, vlen);
            s->namespace_[vlen] = '\0';
        }
}

/* The statement called name (len bytes), or NULL. [0] is the unnamed one. */
static ss_pg_stmt_t *stmt_find(ss_pg_t *s, const char *name, size_t len)
{
    unsigned k;

    if (len == 0)
        return &s->stmt[0];
    for (k = 1; k <= SS_PG_STMT_MAX; k++)
        if (s->stmt[k].age && strlen(s->stmt[k].name) == len &&
            memcmp(s->stmt[k].name, name, len) == 0)
            return &s->stmt[k];
    return NULL;
}

/* The slot for a new statement: its own, a free one, or the oldest. */
static ss_pg_stmt_t *stmt_slot(ss_pg_t *s, const char *name, size_t len)
{
    ss_pg_stmt_t *st = stmt_find(s, name, len), *oldest = &s->stmt[1];
    unsigned k;

    if (st)
        return st;
    for (k = 1; k <= SS_PG_STMT_MAX; k++) {
        if (!s->stmt[k].age)
            return &s->stmt[k];
        if (s->stmt[k].age < oldest->age)
            oldest = &s->stmt[k];
    }
    return oldest;
}

/* Parse: name, query, parameter types. */
static void on_parse(ss_pg_t *s, const uint8_t *b, size_t n)
{
    size_t at = 0, nlen, qlen;
    const char *name = cstring(b, n, &at, &nlen), *q;
    ss_pg_stmt_t *st;

    if (!name || nlen >= SS_PG_NAME_MAX)
        return;
    st = stmt_slot(s, name, nlen);
    memcpy(st->name, name, nlen);
    st->name[nlen] = '\0';
    st->age = ++s->clock;
    op_clear(s, &st->op);
    q = (const char *)b + at;
    qlen = memchr(q, '\0', n - at) ? strlen(q) : n - at; /* cut: the prefix read */
    ss_sql_describe(q, qlen, SS_SQL_POSTGRESQL, 1, &st->op);
    memcpy(st->op.namespace_, s->namespace_, sizeof(s->namespace_));
    if (s->unit_open && !s->unit_bound)
        s->unit = st->op;
}

/* Bind: portal, statement, ... (values never read). */
static void on_bind(ss_pg_t *s, const uint8_t *b, size_t n)
{
    size_t at = 0, plen, nlen;
    const char *name = cstring(b, n, &at, &plen) ? cstring(b, n, &at, &nlen) : NULL;
    ss_pg_stmt_t *st = name ? stmt_find(s, name, nlen) : NULL;

    if (st && st->age)
        s->unit = st->op;
    else
        op_clear(s, &s->unit);
    s->unit_bound = 1;
    s->last_bound = s->unit;
}

/* Close 'S' name: the statement forgotten. */
static void on_close(ss_pg_t *s, const uint8_t *b, size_t n)
{
    size_t at = 1, len;
    const char *name;
    ss_pg_stmt_t *st;

    if (n < 1 || b[0] != 'S' || !(name = cstring(b, n, &at, &len)) || len == 0)
        return;
    if ((st = stmt_find(s, name, len)))
        st->age = 0;
}

/* The group being written ends: an Execute's entry, or a prepare's. */
static void unit_close(ss_pg_t *s, uint8_t kind)
{
    if (!s->unit_open)
        return;
    s->unit_open = 0;
    if (s->unit_traced) {
        ss_pg_entry_t *e = fifo_push(s, kind);

        e->op = s->unit_bound || kind == E_PREPARE ? s->unit : s->last_bound;
        e->op.tag = s->unit_tag;
    }
    s->unit_bound = 0;
}

static void unit_open(ss_pg_t *s, const ss_db_sink_t *sink)
{
    if (s->unit_open)
        return;
    s->unit_open = 1;
    s->unit_bound = 0;
    op_clear(s, &s->unit);
    /* the entry, and a Sync's marker after it */
    s->unit_traced = room(s, 2);
    if (s->unit_traced)
        s->unit_tag = sink->start(sink->arg);
    else
        untrace(s, 0);
}

static void sync_marker(ss_pg_t *s)
{
    if (room(s, 1))
        fifo_push(s, E_SYNC);
    else
        owe_ready(s);
}

/* A client message's type byte was read: 1 when known. */
static int client_begin(ss_pg_t *s, uint8_t type, const ss_db_sink_t *sink)
{
    switch (type) {
    case 'Q':
        unit_close(s, E_PREPARE);
        s->query_traced = (uint8_t)room(s, 1);
        if (s->query_traced)
            fifo_push(s, E_QUERY)->op.tag = sink->start(sink->arg);
        else
            untrace(s, 1);
        return 1;
    case 'P':
    case 'B':
    case 'D':
    case 'E':
        unit_open(s, sink);
        return 1;
    case 'F': /* FunctionCall: answered by a ReadyForQuery, not traced */
        unit_close(s, E_PREPARE);
        owe_ready(s);
        return 1;
    case 'S':
        unit_close(s, E_PREPARE);
        sync_marker(s);
        return 1;
    case 'C': case 'H': case 'd': case 'c': case 'f': case 'p': case 'X':
        return 1;
    }
    return 0;
}

/* The simple query just written, when traced (its text follows its start). */
static ss_pg_entry_t *newest_query(ss_pg_t *s)
{
    ss_pg_entry_t *e = s->query_traced && s->count ? fifo_at(s, s->count - 1u) : NULL;

    s->query_traced = 0;
    return e && e->kind == E_QUERY ? e : NULL;
}

static void client_end(ss_pg_t *s, uint8_t type, const uint8_t *b, size_t n)
{
    ss_pg_entry_t *e;

    switch (type) {
    case 'Q':
        if ((e = newest_query(s))) {
            uint64_t tag = e->op.tag;

            ss_sql_describe((const char *)b, n, SS_SQL_POSTGRESQL, 0, &e->op);
            e->op.tag = tag;
        }
        break;
    case 'P':
        on_parse(s, b, n);
        break;
    case 'B':
        on_bind(s, b, n);
        break;
    case 'E':
        unit_close(s, E_EXEC);
        break;
    case 'C':
        on_close(s, b, n);
        break;
    }
}

/* Does this client message's body matter (kept, up to the buffer)? */
static int client_keeps(uint8_t type)
{
    return type == 'Q' || type == 'P' || type == 'B' || type == 'C';
}

/* ---- the server's messages ------------------------------------------------ */

/* ErrorResponse: the SQLSTATE of field 'C'. */
static void error_code(const uint8_t *b, size_t n, ss_db_op_t *op)
{
    size_t at = 0, len;

    op->error = 1;
    while (at < n && b[at]) {
        uint8_t field = b[at++];
        const char *v = cstring(b, n, &at, &len);

        if (!v)
            return;
        if (field == 'C' && len < sizeof(op->status_code)) {
            memcpy(op->status_code, v, len);
            op->status_code[len] = '\0';
        }
    }
}

/* An error ends the head command, and every one the server now skips up
 * to the Sync (they did not run). */
static void on_error(ss_pg_t *s, const uint8_t *b, size_t n, const ss_db_sink_t *sink)
{
    ss_pg_entry_t *e = fifo_at(s, 0);
    ss_db_op_t failed;

    if (e->kind == E_QUERY) {
        e->completions++;
        error_code(b, n, &e->op);
        return;
    }
    if (e->kind == E_SYNC)
        return;
    memset(&failed, 0, sizeof(failed));
    error_code(b, n, &failed);
    while (s->count && (e = fifo_at(s, 0))->kind != E_SYNC && e->kind != E_QUERY) {
        e->op.error = 1;
        memcpy(e->op.status_code, failed.status_code, sizeof(failed.status_code));
        complete(e, sink);
        fifo_pop(s);
    }
}

/* CommandComplete, EmptyQueryResponse, PortalSuspended. */
static void on_completion(ss_pg_t *s, const ss_db_sink_t *sink)
{
    ss_pg_entry_t *e = fifo_at(s, 0);

    if (e->kind == E_QUERY) {
        e->completions++;
    } else if (e->kind == E_EXEC) {
        complete(e, sink);
        fifo_pop(s);
    }
}

/* ReadyForQuery: a Query, or everything up to a Sync, is answered. */
static void on_ready(ss_pg_t *s, const ss_db_sink_t *sink)
{
    while (s->count) {
        ss_pg_entry_t *e = fifo_at(s, 0);
        uint8_t kind = e->kind;

        if (kind != E_SYNC)
            complete(e, sink);
        fifo_pop(s);
        if (kind == E_SYNC || kind == E_QUERY)
            break;
    }
}

static void server_end(ss_pg_t *s, uint8_t type, const uint8_t *b, size_t n,
                       const ss_db_sink_t *sink)
{
    if (s->count == 0) {
        /* replies to untraced commands, or outside any command */
        if (type == 'Z' && s->untracked_z)
            s->untracked_z--;
        room(s, 0);
        return;
    }
    switch (type) {
    case 'E':
        on_error(s, b, n, sink);
        break;
    case 'C':
    case 'I':
    case 's':
        on_completion(s, sink);
        break;
    case 'Z':
        on_ready(s, sink);
        break;
    }
}

/* ---- framing -------------------------------------------------------------- */

/* The client's untyped first message (or the one after a refused request). */
static int startup_header(ss_pg_t *s, ss_pg_dir_t *d)
{
    uint32_t len = be32(d->hdr), code = be32(d->hdr + 4);

    if (len < 8 || len > PG_STARTUP_MAX)
        return let_go(s, "corrupt");
    if (code == PG_CANCEL_REQUEST)
        return let_go(s, "cancel");
    if (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST) {
        if (len != 8)
            return let_go(s, "corrupt");
        s->answer = code == PG_SSL_REQUEST ? 'S' : 'G';
        d->left = 0;
        return 1;
    }
    if (code >> 16 != 3)
        return let_go(s, "protocol");
    d->startup = 0;
    d->type = 0;
    d->left = len - 8;
    return 1;
}

static int typed_header(ss_pg_t *s, ss_pg_dir_t *d)
{
    uint32_t len = be32(d->hdr + 1);

    if (len < 4 || len > PG_MESSAGE_MAX)
        return let_go(s, "corrupt");
    d->left = len - 4;
    return 1;
}

static size_t body_cap(const ss_pg_t *s, ss_db_dir_t dir, const ss_pg_dir_t *d)
{
    if (dir == SS_DB_IN)
        return d->type == 'E' ? sizeof(s->in_body) : 0;
    return d->type == 0 || client_keeps(d->type) ? sizeof(s->out_body) : 0;
}

static void message_end(ss_pg_t *s, ss_db_dir_t dir, ss_pg_dir_t *d, const ss_db_sink_t *sink)
{
    const uint8_t *b = dir == SS_DB_OUT ? s->out_body : s->in_body;

    if (dir == SS_DB_IN)
        server_end(s, d->type, b, d->kept, sink);
    else if (d->type == 0)
        startup_params(s, b, d->kept);
    else
        client_end(s, d->type, b, d->kept);
    memset(dir == SS_DB_OUT ? s->out_body : s->in_body, 0, d->kept); /* nothing outlives it */
    d->kept = 0;
    d->nuls = 0;
    d->hlen = 0;
}

/* Bind: only its portal and statement names are kept, never a value. */
static void keep_names(ss_pg_dir_t *d, uint8_t *b, const uint8_t *p, size_t m)
{
    size_t k;

    for (k = 0; k < m && d->nuls < 2 && d->kept < 2 * SS_PG_NAME_MAX + 2; k++) {
        b[d->kept++] = p[k];
        d->nuls += p[k] == '\0';
    }
}

/* The server's one-byte answer to SSLRequest/GSSENCRequest: 1 taken. */
static int answer_byte(ss_pg_t *s, uint8_t c, int *go)
{
    *go = 1;
    if (c == 'N') {
        s->answer = 0;
        return 1;
    }
    if (c == 'S' || c == 'G') {
        *go = let_go(s, c == 'S' ? "tls" : "gssenc");
        return 1;
    }
    s->answer = 0; /* an ErrorResponse from an old server: a message */
    return 0;
}

int ss_pg_feed(ss_pg_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    ss_pg_dir_t *d = &s->dir[dir];
    int go = 1;

    if (s->why)
        return 0;
    while (n && go) {
        if (d->hlen == 0 && d->left == 0 && dir == SS_DB_IN && s->answer &&
            answer_byte(s, *p, &go)) {
            p++, n--;
            continue;
        }
        if (d->left == 0 && d->hlen < (d->startup ? 8 : 5)) {
            d->hdr[d->hlen++] = *p++, n--;
            /* a command begins at its first byte */
            if (d->hlen == 1 && !d->startup && (d->type = d->hdr[0], dir == SS_DB_OUT) &&
                !client_begin(s, d->type, sink)) {
                go = let_go(s, "corrupt");
                continue;
            }
            if (d->hlen < (d->startup ? 8 : 5))
                continue;
            go = d->startup ? startup_header(s, d) : typed_header(s, d);
            if (go && d->left == 0 && !s->answer)
                message_end(s, dir, d, sink);
            else if (go && d->left == 0)
                d->hlen = 0;
            continue;
        }
        {
            size_t m = n < d->left ? n : d->left, cap = body_cap(s, dir, d);
            uint8_t *b = dir == SS_DB_OUT ? s->out_body : s->in_body;

            if (d->type == 'B' && dir == SS_DB_OUT)
                keep_names(d, b, p, m);
            else if (d->kept < cap) {
                size_t k = m < cap - d->kept ? m : cap - d->kept;

                memcpy(b + d->kept, p, k);
                d->kept += (uint32_t)k;
            }
            p += m, n -= m;
            d->left -= (uint32_t)m;
            if (d->left == 0)
                message_end(s, dir, d, sink);
        }
    }
    return go;
}

int ss_pg_detect(const uint8_t *p, size_t n, ss_db_dir_t dir)
{
    uint32_t len, code;

    if (dir == SS_DB_IN) {
        /* the server speaks first only to refuse: ErrorResponse */
        if (n < 5)
            return n && p[0] != 'E' ? 0 : -1;
        len = be32(p + 1);
        return p[0] == 'E' && len >= 4 && len < PG_STARTUP_MAX;
    }
    if (n < 8)
        return n >= 4 && (be32(p) < 8 || be32(p) > PG_STARTUP_MAX) ? 0 : -1;
    len = be32(p);
    code = be32(p + 4);
    if (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST)
        return len == 8;
    if (code == PG_CANCEL_REQUEST)
        return len == 16;
    return code == PG_PROTOCOL_3 && len >= 8 && len <= PG_STARTUP_MAX;
}
