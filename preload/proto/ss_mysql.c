/*
 * ss_mysql.c - the MySQL / MariaDB client-side follower (see ss_mysql.h).
 *
 * Two layers. The framing splits each direction into logical packets (a
 * 3-byte length and a sequence id per physical packet; a 0xffffff-long
 * one continues in the next) and calls begin / data / end for each. The
 * conversation reads them: the greeting and the client's answer field by
 * field, then each command written opens an entry in a FIFO and its reply
 * packets, read in order, close it. Of a reply only the first bytes of
 * the packets that say something (OK, ERR, EOF, column count,
 * PREPARE_OK) are kept; column definitions and rows are counted past by
 * their first byte and length alone, so no row data is ever copied.
 */
#include "ss_mysql.h"

#include <stdio.h>
#include <string.h>

#include "ss_mysql_text.h"
#include "ss_sql.h"

/* Capability flags (the MariaDB extended ones are shifted above bit 31). */
#define CLIENT_MYSQL 0x1ull /* MariaDB: set by MySQL, clear by MariaDB */
#define CLIENT_CONNECT_WITH_DB 0x8ull
#define CLIENT_COMPRESS 0x20ull
#define CLIENT_PROTOCOL_41 0x200ull
#define CLIENT_SSL 0x800ull
#define CLIENT_TRANSACTIONS 0x2000ull
#define CLIENT_SECURE_CONNECTION 0x8000ull
#define CLIENT_PLUGIN_AUTH_LENENC 0x200000ull
#define CLIENT_DEPRECATE_EOF 0x1000000ull
#define CLIENT_OPTIONAL_RESULTSET_METADATA 0x2000000ull
#define CLIENT_ZSTD_COMPRESSION 0x4000000ull
#define CLIENT_QUERY_ATTRIBUTES 0x8000000ull
#define MARIADB_CLIENT_CACHE_METADATA (1ull << 36)

#define SERVER_MORE_RESULTS_EXISTS 0x0008
#define SERVER_STATUS_CURSOR_EXISTS 0x0040

#define MAX_PACKET 0xffffffu

enum { COM_SLEEP = 0x00, COM_QUIT = 0x01, COM_INIT_DB = 0x02, COM_QUERY = 0x03,
       COM_FIELD_LIST = 0x04, COM_PROCESS_INFO = 0x0a, COM_CHANGE_USER = 0x11,
       COM_STMT_PREPARE = 0x16, COM_STMT_EXECUTE = 0x17, COM_STMT_SEND_LONG_DATA = 0x18,
       COM_STMT_CLOSE = 0x19, COM_STMT_RESET = 0x1a, COM_STMT_FETCH = 0x1c,
       COM_RESET_CONNECTION = 0x1f, COM_STMT_BULK_EXECUTE = 0xfa };

enum { PH_START = 0, /* nothing seen yet */
       PH_RESPONSE,  /* greeting read: the client's HandshakeResponse next */
       PH_AUTH,      /* auth exchanges until OK or ERR */
       PH_COMMAND,
       PH_QUIT };    /* COM_QUIT sent: nothing more to follow */

/* What the outgoing packet is. */
enum { OUT_SKIP = 0, OUT_RESPONSE, OUT_CMD, OUT_TEXT, OUT_ID, OUT_CHANGE_USER };

/* The shape of a command's reply. */
enum { R_NONE = 0, /* no reply at all */
       R_ONE,      /* one packet: OK, ERR, EOF or a string */
       R_RESULT,   /* OK, ERR, LOCAL INFILE or result sets, while more results exist */
       R_PREPARE,  /* PREPARE_OK and its parameter and column definitions, or ERR */
       R_ROWS,     /* rows up to EOF / OK, or ERR (COM_STMT_FETCH) */
       R_FIELDS,   /* column definitions up to EOF, or ERR (COM_FIELD_LIST) */
       R_AUTH };   /* auth switch / more data until OK or ERR (COM_CHANGE_USER) */

/* Where in a reply. */
enum { RS_FIRST = 0, RS_COLDEF, RS_COLEOF, RS_ROWS, RS_SKIP };

/* The handshake walker's fields. */
enum { W_FIXED = 0, W_USER, W_AUTHLEN, W_AUTHLEN1, W_AUTHLEN_MORE, W_AUTH, W_AUTH_NUL,
       W_DB, W_REST };

static uint32_t le16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t le24(const uint8_t *p) { return le16(p) | (uint32_t)p[2] << 16; }
static uint32_t le32(const uint8_t *p) { return le24(p) | (uint32_t)p[3] << 24; }

/* A length-encoded integer at p (n bytes there): its size, or 0. */
static size_t lenenc(const uint8_t *p, size_t n, uint64_t *v)
{
    size_t size = 1;

    if (n < 1)
        return 0;
    if (p[0] < 0xfb) {
        *v = p[0];
        return 1;
    }
    size = p[0] == 0xfc ? 3 : p[0] == 0xfd ? 4 : p[0] == 0xfe ? 9 : 0;
    if (size == 0 || n < size)
        return 0;
    *v = 0;
    for (size_t i = size - 1; i >= 1; i--)
        *v = *v << 8 | p[i];
    return size;
}

static int fail(ss_mysql_t *s, const char *why)
{
    s->failed = 1;
    s->why = why;
    return 0;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void ss_mysql_init(ss_mysql_t *s)
{
    memset(s, 0, sizeof(*s));
    s->srv_caps = ~0ull; /* until a greeting says otherwise */
}

const char *ss_mysql_why(const ss_mysql_t *s)
{
    return s->failed ? s->why : NULL;
}

const char *ss_mysql_system(const ss_mysql_t *s)
{
    return strstr(s->version, "MariaDB") ? "mariadb" : "mysql";
}

void ss_mysql_tls(ss_mysql_t *s)
{
    if (!s->failed || s->tls_from != PH_RESPONSE)
        return;
    s->failed = 0;
    s->why = NULL;
    s->phase = PH_RESPONSE;
    memset(s->wire, 0, sizeof(s->wire));
}

/* ---- detection ---- */

/* A greeting: payload 0x0a, then a version (a digit first, printable)
 * ending in NUL, and room for what follows it. */
static int detect_greeting(const uint8_t *p, size_t n)
{
    uint32_t len;

    if (n < 6)
        return -1;
    len = le24(p);
    if (p[3] != 0 || p[4] != 0x0a || len < 17 || len > 1024 || p[5] < '0' || p[5] > '9')
        return 0;
    for (size_t i = 6; i < 4 + (size_t)len; i++) {
        if (i >= n)
            return -1;
        if (p[i] == 0)
            return i - 4 + 16 <= len;
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    }
    return 0;
}

/* A HandshakeResponse41 (seq 1, or 2 after the SSL request): 4.1
 * capabilities and 19 zero bytes of filler where they belong. */
static int detect_response(const uint8_t *p, size_t n)
{
    if (n > 3 && p[3] != 1 && p[3] != 2)
        return 0;
    for (size_t i = 4 + 9; i < 4 + 28 && i < n; i++)
        if (p[i] != 0)
            return 0;
    if (n < 4 + 32)
        return -1;
    if (le24(p) < 32 || (p[3] != 1 && p[3] != 2) || !(le32(p + 4) & CLIENT_PROTOCOL_41))
        return 0;
    for (size_t i = 4 + 9; i < 4 + 28; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

int ss_mysql_detect(const uint8_t *p, size_t n, ss_db_dir_t dir)
{
    return dir == SS_DB_IN ? detect_greeting(p, n) : detect_response(p, n);
}

/* ---- the greeting and the client's answer ---- */

static int greeting(ss_mysql_t *s)
{
    const uint8_t *h = s->head, *nul;
    size_t i;

    if (s->head_len < 2 || h[0] != 0x0a)
        return fail(s, "greeting");
    nul = memchr(h + 1, 0, s->head_len - 1);
    if (nul == NULL)
        return fail(s, "greeting");
    copy_str(s->version, sizeof(s->version), (const char *)h + 1, (size_t)(nul - h - 1));
    i = (size_t)(nul - h) + 1; /* connection id, scramble, filler, then capabilities */
    if (s->head_len < i + 15)
        return fail(s, "greeting");
    s->srv_caps = le16(h + i + 13);
    if (s->head_len >= i + 20)
        s->srv_caps |= (uint64_t)le16(h + i + 18) << 16;
    if (!(s->srv_caps & CLIENT_MYSQL) && s->head_len >= i + 31)
        s->srv_caps |= (uint64_t)le32(h + i + 27) << 32;
    s->phase = PH_RESPONSE;
    return 1;
}

static void walk_start(ss_mysql_t *s, uint8_t at)
{
    s->walk = at;
    s->walk_n = 0;
    s->walk_left = 0;
    s->db_len = 0;
    s->db[0] = '\0';
}

/* After the auth data: the database, if the packet holds one. */
static uint8_t walk_after_auth(const ss_mysql_t *s)
{
    if (s->out_kind == OUT_CHANGE_USER)
        return W_DB;
    return (s->cli_caps & CLIENT_CONNECT_WITH_DB) ? W_DB : W_REST;
}

static uint8_t walk_auth_kind(const ss_mysql_t *s)
{
    uint64_t caps = s->out_kind == OUT_CHANGE_USER ? s->caps : s->cli_caps;

    if (s->out_kind != OUT_CHANGE_USER && (caps & CLIENT_PLUGIN_AUTH_LENENC))
        return W_AUTHLEN;
    return (caps & CLIENT_SECURE_CONNECTION) ? W_AUTHLEN1 : W_AUTH_NUL;
}

static void walk_fixed_done(ss_mysql_t *s)
{
    s->cli_caps = le32(s->walk_fixed);
    if (!(s->cli_caps & CLIENT_MYSQL))
        s->cli_caps |= (uint64_t)le32(s->walk_fixed + 28) << 32;
    s->walk = W_USER;
}

static void walk_auth_len(ss_mysql_t *s, uint64_t len)
{
    s->walk_left = len;
    s->walk = len ? W_AUTH : walk_after_auth(s);
}

/* Skip to a NUL: 1 when it was found (used counts it). */
static int skip_to_nul(const uint8_t *p, size_t n, size_t *used)
{
    const uint8_t *z = memchr(p, 0, n);

    *used = z ? (size_t)(z - p) + 1 : n;
    return z != NULL;
}

/* HandshakeResponse41 or COM_CHANGE_USER, bytes p: the fixed part kept,
 * user name and auth data skipped, the database copied. */
static void walk(ss_mysql_t *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t used = 1;

        switch (s->walk) {
        case W_FIXED:
            used = n < 32u - s->walk_n ? n : 32u - s->walk_n;
            memcpy(s->walk_fixed + s->walk_n, p, used);
            s->walk_n = (uint8_t)(s->walk_n + used);
            if (s->walk_n == 32)
                walk_fixed_done(s);
            break;
        case W_USER:
            if (skip_to_nul(p, n, &used))
                s->walk = walk_auth_kind(s);
            break;
        case W_AUTHLEN:
            if (p[0] >= 0xfc && p[0] <= 0xfe) {
                s->walk_n = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : 8;
                s->walk_left = 0;
                s->walk = W_AUTHLEN_MORE;
                s->walk_fixed[0] = 0; /* bytes of the length read */
            } else {
                walk_auth_len(s, p[0] < 0xfb ? p[0] : 0);
            }
            break;
        case W_AUTHLEN1:
            walk_auth_len(s, p[0]);
            break;
        case W_AUTHLEN_MORE:
            s->walk_left |= (uint64_t)p[0] << (8 * s->walk_fixed[0]);
            if (++s->walk_fixed[0] == s->walk_n)
                walk_auth_len(s, s->walk_left);
            break;
        case W_AUTH:
            used = n < s->walk_left ? n : (size_t)s->walk_left;
            s->walk_left -= used;
            if (s->walk_left == 0)
                s->walk = walk_after_auth(s);
            break;
        case W_AUTH_NUL:
            if (skip_to_nul(p, n, &used))
                s->walk = walk_after_auth(s);
            break;
        case W_DB: {
            int end = skip_to_nul(p, n, &used);
            size_t k = used - (size_t)end, room = sizeof(s->db) - 1 - s->db_len;

            memcpy(s->db + s->db_len, p, k < room ? k : room);
            s->db_len = (uint16_t)(s->db_len + (k < room ? k : room));
            s->db[s->db_len] = '\0';
            if (end)
                s->walk = W_REST;
            break;
        }
        default:
            used = n;
            break;
        }
        p += used;
        n -= used;
    }
}

/* The client's answer to the greeting is complete. */
static int response_end(ss_mysql_t *s)
{
    uint32_t len = s->wire[SS_DB_OUT].first_len;

    if (s->walk_n < 32 && s->walk == W_FIXED)
        return fail(s, "handshake");
    if (!(s->cli_caps & CLIENT_PROTOCOL_41))
        return fail(s, "protocol");
    s->caps = s->cli_caps & s->srv_caps;
    if ((s->cli_caps & CLIENT_SSL) && len == 32) {
        s->tls_from = PH_RESPONSE;
        return fail(s, "tls");
    }
    if (s->caps & (CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION))
        return fail(s, "compressed");
    if (s->caps & CLIENT_OPTIONAL_RESULTSET_METADATA)
        return fail(s, "metadata");
    if (s->db_len)
        memcpy(s->namespace_, s->db, s->db_len + 1u);
    s->phase = PH_AUTH;
    return 1;
}

/* ---- prepared statements ---- */

static int stmt_find(const ss_mysql_t *s, uint32_t id)
{
    for (int i = 0; i < SS_MYSQL_STMTS; i++)
        if (s->stmts[i].used && s->stmts[i].id == id)
            return i;
    return -1;
}

/* The slot for id: its own, a free one, or the least recently used. */
static int stmt_slot(const ss_mysql_t *s, uint32_t id)
{
    int at = stmt_find(s, id);

    for (int i = 0; at < 0 && i < SS_MYSQL_STMTS; i++)
        if (!s->stmts[i].used)
            at = i;
    if (at >= 0)
        return at;
    at = 0;
    for (int i = 1; i < SS_MYSQL_STMTS; i++)
        if (s->stmts[i].used < s->stmts[at].used)
            at = i;
    return at;
}

/* What a statement's text says, from one operation to another. */
static void copy_text_attrs(ss_db_op_t *dst, const ss_db_op_t *src)
{
    memcpy(dst->operation, src->operation, sizeof(dst->operation));
    memcpy(dst->collection, src->collection, sizeof(dst->collection));
    memcpy(dst->query_text, src->query_text, sizeof(dst->query_text));
    memcpy(dst->summary, src->summary, sizeof(dst->summary));
}

static void stmt_put(ss_mysql_t *s, uint32_t id, const ss_db_op_t *op)
{
    ss_mysql_stmt_t *st = &s->stmts[stmt_slot(s, id)];

    st->id = id;
    st->used = ++s->clock;
    copy_text_attrs(&st->attrs, op);
    s->last_stmt = id;
}

/* ---- the FIFO of commands awaiting replies ---- */

static ss_mysql_pending_t *fifo_at(ss_mysql_t *s, unsigned i)
{
    return &s->fifo[(s->fifo_head + i) % SS_MYSQL_PENDING];
}

static ss_db_op_t *op_of(ss_mysql_t *s, const ss_mysql_pending_t *e)
{
    return e->slot >= 0 ? &s->ops[e->slot] : NULL;
}

static int push(ss_mysql_t *s, uint8_t cmd, const ss_db_sink_t *sink)
{
    ss_mysql_pending_t *e;

    if (s->fifo_len == SS_MYSQL_PENDING)
        return fail(s, "pipeline");
    e = fifo_at(s, s->fifo_len++);
    memset(e, 0, sizeof(*e));
    e->cmd = cmd;
    e->slot = -1;
    for (int i = 0; i < SS_MYSQL_OPS && e->slot < 0; i++)
        if (!s->ops_used[i])
            e->slot = (int8_t)i;
    if (e->slot < 0) {
        s->untraced++;
        return 1;
    }
    s->ops_used[e->slot] = 1;
    memset(&s->ops[e->slot], 0, sizeof(s->ops[e->slot]));
    s->ops[e->slot].tag = sink->start(sink->arg);
    return 1;
}

static const char *const cmd_names[0x20] = {
    [0x00] = "COM_SLEEP", [0x02] = "COM_INIT_DB", [0x03] = "COM_QUERY",
    [0x04] = "COM_FIELD_LIST", [0x05] = "COM_CREATE_DB", [0x06] = "COM_DROP_DB",
    [0x07] = "COM_REFRESH", [0x08] = "COM_SHUTDOWN", [0x09] = "COM_STATISTICS",
    [0x0a] = "COM_PROCESS_INFO", [0x0b] = "COM_CONNECT", [0x0c] = "COM_PROCESS_KILL",
    [0x0d] = "COM_DEBUG", [0x0e] = "COM_PING", [0x0f] = "COM_TIME",
    [0x10] = "COM_DELAYED_INSERT", [0x11] = "COM_CHANGE_USER", [0x14] = "COM_CONNECT_OUT",
    [0x16] = "COM_STMT_PREPARE", [0x17] = "COM_STMT_EXECUTE", [0x1a] = "COM_STMT_RESET",
    [0x1b] = "COM_SET_OPTION", [0x1c] = "COM_STMT_FETCH", [0x1d] = "COM_DAEMON",
    [0x1f] = "COM_RESET_CONNECTION",
};

static const char *cmd_name(uint8_t cmd)
{
    if (cmd == COM_STMT_BULK_EXECUTE)
        return "COM_STMT_BULK_EXECUTE";
    return cmd < 0x20 ? cmd_names[cmd] : NULL;
}

static void set_operation(ss_db_op_t *op, uint8_t cmd)
{
    const char *name = cmd_name(cmd);

    if (name)
        copy_str(op->operation, sizeof(op->operation), name, strlen(name));
}

static uint8_t reply_kind(uint8_t cmd)
{
    switch (cmd) {
    case COM_QUERY: case COM_STMT_EXECUTE: case COM_STMT_BULK_EXECUTE: case COM_PROCESS_INFO:
        return R_RESULT;
    case COM_STMT_PREPARE:
        return R_PREPARE;
    case COM_STMT_FETCH:
        return R_ROWS;
    case COM_FIELD_LIST:
        return R_FIELDS;
    case COM_CHANGE_USER:
        return R_AUTH;
    case COM_QUIT: case COM_STMT_CLOSE: case COM_STMT_SEND_LONG_DATA:
        return R_NONE;
    default:
        return cmd < 0x20 && cmd_names[cmd] ? R_ONE : 0xff; /* 0xff: cannot follow */
    }
}

/* ---- the command being written ---- */

/* The command byte of a new command packet. */
static int command(ss_mysql_t *s, uint8_t cmd, const ss_db_sink_t *sink)
{
    uint8_t kind = reply_kind(cmd);

    if (kind == 0xff)
        return fail(s, "command");
    s->out_head[0] = cmd;
    s->text_len = 0;
    s->text_cut = 0;
    if (cmd == COM_QUIT) {
        s->phase = PH_QUIT;
        s->out_kind = OUT_SKIP;
        return 1;
    }
    if (kind != R_NONE && !push(s, cmd, sink))
        return 0;
    if (cmd == COM_QUERY || cmd == COM_STMT_PREPARE || cmd == COM_INIT_DB)
        s->out_kind = OUT_TEXT;
    else if (cmd == COM_CHANGE_USER) {
        s->out_kind = OUT_CHANGE_USER;
        walk_start(s, W_USER);
    } else
        s->out_kind = OUT_ID;
    return 1;
}

static void text_add(ss_mysql_t *s, const uint8_t *p, size_t n)
{
    size_t room = sizeof(s->text) - s->text_len;

    if (n > room) {
        s->text_cut = 1;
        n = room;
    }
    memcpy(s->text + s->text_len, p, n);
    s->text_len = (uint16_t)(s->text_len + n);
}

/* Where the SQL starts in the COM_QUERY text (after MySQL's query
 * attributes), or -1 when attributes with values come first. */
static long query_start(const ss_mysql_t *s)
{
    uint64_t params = 0, sets = 0;
    size_t a, b;

    if (!(s->caps & CLIENT_QUERY_ATTRIBUTES))
        return 0;
    a = lenenc((const uint8_t *)s->text, s->text_len, &params);
    b = a ? lenenc((const uint8_t *)s->text + a, s->text_len - a, &sets) : 0;
    return a && b && params == 0 ? (long)(a + b) : -1;
}

/* A text cut at the buffer's end loses the partial UTF-8 character it
 * ends in. */
static size_t text_usable(const ss_mysql_t *s, size_t from)
{
    size_t n = s->text_len;

    if (s->text_cut) {
        size_t k = n;
        while (k > from && ((uint8_t)s->text[k - 1] & 0xc0) == 0x80)
            k--;
        if (k > from && ((uint8_t)s->text[k - 1] & 0x80))
            n = k - 1;
    }
    return n - from;
}

static void describe_query(ss_mysql_t *s, ss_mysql_pending_t *e, ss_db_op_t *op)
{
    long from = query_start(s);
    const char *q;
    size_t n;
    char db[SS_DB_NAMESPACE_MAX];

    if (from < 0) {
        if (op)
            set_operation(op, COM_QUERY);
        return;
    }
    q = s->text + from;
    n = text_usable(s, (size_t)from);
    if (ss_mysql_use_db(q, n, db, sizeof(db))) {
        e->sets_db = 1;
        if (op)
            memcpy(op->namespace_, db, sizeof(db));
    }
    if (op) {
        uint32_t k = ss_mysql_statements(q, n);

        ss_sql_describe(q, n, SS_SQL_MYSQL, 0, op);
        op->batch_size = k > 1 ? k : 0;
    }
}

static void describe_stmt(ss_mysql_t *s, uint8_t cmd, ss_db_op_t *op)
{
    uint32_t id = le32(s->out_head + 1);
    int i;

    if (id == 0xffffffffu) { /* MariaDB: the statement prepared last, maybe still pending */
        for (unsigned k = s->fifo_len; k-- > 0;) {
            ss_mysql_pending_t *e = fifo_at(s, k);
            if (e->cmd == COM_STMT_PREPARE && op_of(s, e)) {
                copy_text_attrs(op, op_of(s, e));
                return;
            }
        }
        id = s->last_stmt;
    }
    i = stmt_find(s, id);
    if (i >= 0) {
        s->stmts[i].used = ++s->clock;
        copy_text_attrs(op, &s->stmts[i].attrs);
        return;
    }
    s->unknown_stmt++;
    set_operation(op, cmd);
}

/* The pending command's packet is whole: its attributes. */
static void describe(ss_mysql_t *s, ss_mysql_pending_t *e)
{
    ss_db_op_t *op = op_of(s, e);
    uint8_t cmd = e->cmd;

    if (s->text_cut)
        s->cut++;
    if (cmd == COM_QUERY) {
        describe_query(s, e, op);
    } else if (cmd == COM_INIT_DB) {
        e->sets_db = 1;
        if (op) {
            set_operation(op, cmd);
            copy_str(op->namespace_, sizeof(op->namespace_), s->text, text_usable(s, 0));
        }
    } else if (cmd == COM_CHANGE_USER) {
        e->sets_db = 1;
        e->drops_stmts = 1;
        if (op) {
            set_operation(op, cmd);
            memcpy(op->namespace_, s->db, sizeof(op->namespace_));
        }
    } else if (op && cmd == COM_STMT_PREPARE) {
        ss_sql_describe(s->text, text_usable(s, 0), SS_SQL_MYSQL, 1, op);
    } else if (op && (cmd == COM_STMT_EXECUTE || cmd == COM_STMT_BULK_EXECUTE ||
                      cmd == COM_STMT_FETCH)) {
        describe_stmt(s, cmd, op);
    } else if (op) {
        set_operation(op, cmd);
    }
    if (cmd == COM_RESET_CONNECTION)
        e->drops_stmts = 1;
}

/* An outgoing command packet with no reply: what it does to the state. */
static void no_reply_end(ss_mysql_t *s)
{
    if (s->out_head[0] == COM_STMT_CLOSE) {
        int i = stmt_find(s, le32(s->out_head + 1));
        if (i >= 0)
            s->stmts[i].used = 0;
    }
}

static int out_end(ss_mysql_t *s)
{
    uint8_t kind = s->out_kind;

    s->out_kind = OUT_SKIP;
    if (kind == OUT_RESPONSE)
        return response_end(s);
    if (s->phase != PH_COMMAND)
        return 1;
    if (s->infile) {
        if (s->wire[SS_DB_OUT].off == 0)
            s->infile = 0; /* the empty packet ends the file */
        return 1;
    }
    if (kind == OUT_CMD)
        return fail(s, "command"); /* an empty command packet */
    if (reply_kind(s->out_head[0]) == R_NONE) {
        no_reply_end(s);
        return 1;
    }
    if (s->fifo_len > 0 && kind != OUT_SKIP)
        describe(s, fifo_at(s, s->fifo_len - 1u));
    return 1;
}

/* ---- the replies ---- */

static void set_namespace(ss_mysql_t *s, const ss_db_op_t *op)
{
    if (op)
        memcpy(s->namespace_, op->namespace_, sizeof(s->namespace_));
    else
        s->namespace_[0] = '\0'; /* untraced: no longer known */
}

/* The head entry's reply is whole: report it, forget it. */
static void finish(ss_mysql_t *s, const ss_db_sink_t *sink, int err, uint32_t code)
{
    ss_mysql_pending_t *e = fifo_at(s, 0);
    ss_db_op_t *op = op_of(s, e);

    if (!err && e->sets_db)
        set_namespace(s, op);
    if (!err && e->drops_stmts)
        memset(s->stmts, 0, sizeof(s->stmts));
    if (op) {
        if (!e->sets_db)
            memcpy(op->namespace_, s->namespace_, sizeof(op->namespace_));
        if (err) {
            op->error = 1;
            snprintf(op->status_code, sizeof(op->status_code), "%u", (unsigned)code);
        }
        sink->done(sink->arg, op);
        s->ops_used[e->slot] = 0;
    }
    s->fifo_head = (uint8_t)((s->fifo_head + 1) % SS_MYSQL_PENDING);
    s->fifo_len--;
    s->rs = RS_FIRST;
    s->rs_left = 0;
}

/* An OK packet's (or DEPRECATE_EOF's OK-with-0xfe) status flags. */
static uint32_t ok_status(const ss_mysql_t *s)
{
    uint64_t v;
    size_t i = 1, k;

    for (int f = 0; f < 2; f++) {
        k = lenenc(s->head + i, s->head_len - i, &v);
        if (k == 0)
            return 0;
        i += k;
    }
    return i + 2 <= s->head_len && (s->caps & (CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS))
               ? le16(s->head + i) : 0;
}

static uint32_t eof_status(const ss_mysql_t *s)
{
    return s->head_len >= 5 ? le16(s->head + 3) : 0;
}

/* The last packet of a result set (EOF, or OK with 0xfe): its status. */
static int is_terminator(const ss_mysql_t *s, uint32_t *status)
{
    uint32_t len = s->wire[SS_DB_IN].first_len;

    if (s->head_len < 1 || s->head[0] != 0xfe || len >= MAX_PACKET)
        return 0;
    if (s->caps & CLIENT_DEPRECATE_EOF)
        *status = ok_status(s);
    else if (len < 9)
        *status = eof_status(s);
    else
        return 0;
    return 1;
}

/* An ERR packet: 1 and its number (MariaDB's progress reports are not). */
static int is_err(const ss_mysql_t *s, uint32_t *code)
{
    if (s->head_len < 3 || s->head[0] != 0xff)
        return 0;
    *code = le16(s->head + 1);
    return *code != 0xffff;
}

static int is_progress(const ss_mysql_t *s)
{
    return s->head_len >= 3 && s->head[0] == 0xff && le16(s->head + 1) == 0xffff;
}

/* One result of a COM_QUERY / COM_STMT_EXECUTE ended with these status
 * flags: the next result, or the end. */
static void result_end(ss_mysql_t *s, const ss_db_sink_t *sink, uint32_t status)
{
    if (status & SERVER_MORE_RESULTS_EXISTS) {
        s->rs = RS_FIRST;
        return;
    }
    finish(s, sink, 0, 0);
}

/* The first packet of a result: OK, ERR, LOCAL INFILE or a column count. */
static int result_first(ss_mysql_t *s, const ss_db_sink_t *sink)
{
    uint64_t cols = 0;
    size_t k;

    switch (s->head[0]) {
    case 0x00:
        result_end(s, sink, ok_status(s));
        return 1;
    case 0xfb:
        s->infile = 1;
        return 1;
    case 0xfe:
        return fail(s, "reply");
    }
    k = lenenc(s->head, s->head_len, &cols);
    if (k == 0 || cols == 0)
        return fail(s, "reply");
    if ((s->caps & MARIADB_CLIENT_CACHE_METADATA) && k < s->head_len && s->head[k] == 0)
        cols = 0; /* the client has the metadata already */
    s->rs_left = cols;
    s->rs = cols ? RS_COLDEF : (s->caps & CLIENT_DEPRECATE_EOF) ? RS_ROWS : RS_COLEOF;
    return 1;
}

static void coldef(ss_mysql_t *s)
{
    if (--s->rs_left == 0)
        s->rs = (s->caps & CLIENT_DEPRECATE_EOF) ? RS_ROWS : RS_COLEOF;
}

static int result_packet(ss_mysql_t *s, const ss_db_sink_t *sink, uint8_t kind)
{
    uint32_t v = 0;

    if (is_err(s, &v)) {
        finish(s, sink, 1, v);
        return 1;
    }
    switch (s->rs) {
    case RS_FIRST:
        return result_first(s, sink);
    case RS_COLDEF:
        coldef(s);
        return 1;
    case RS_COLEOF:
        if (s->head_len < 1 || s->head[0] != 0xfe)
            return fail(s, "reply");
        if (eof_status(s) & SERVER_STATUS_CURSOR_EXISTS)
            finish(s, sink, 0, 0); /* rows come by COM_STMT_FETCH */
        else
            s->rs = RS_ROWS;
        return 1;
    default:
        if (is_terminator(s, &v)) {
            if (kind == R_ROWS)
                finish(s, sink, 0, 0);
            else
                result_end(s, sink, v);
        }
        return 1;
    }
}

static int prepare_packet(ss_mysql_t *s, const ss_db_sink_t *sink)
{
    ss_mysql_pending_t *e = fifo_at(s, 0);
    uint32_t code, cols, params;

    if (s->rs == RS_SKIP) {
        if (--s->rs_left == 0)
            finish(s, sink, 0, 0);
        return 1;
    }
    if (is_err(s, &code)) {
        finish(s, sink, 1, code);
        return 1;
    }
    if (s->head_len < 12 || s->head[0] != 0x00)
        return fail(s, "reply");
    if (op_of(s, e))
        stmt_put(s, le32(s->head + 1), op_of(s, e));
    cols = le16(s->head + 5);
    params = le16(s->head + 7);
    s->rs_left = (uint64_t)cols + params;
    if (!(s->caps & CLIENT_DEPRECATE_EOF))
        s->rs_left += (cols > 0) + (params > 0);
    s->rs = RS_SKIP;
    if (s->rs_left == 0)
        finish(s, sink, 0, 0);
    return 1;
}

/* A reply packet read whole in the command phase. */
static int reply_packet(ss_mysql_t *s, const ss_db_sink_t *sink)
{
    uint32_t code = 0;
    uint8_t kind;

    if (s->fifo_len == 0) {
        if (s->head_len >= 1 && s->head[0] == 0xff)
            return 1; /* the server's last word before it closes */
        return fail(s, "reply");
    }
    if (s->head_len == 0 && s->rs != RS_COLDEF && s->rs != RS_ROWS && s->rs != RS_SKIP)
        return fail(s, "reply");
    if (is_progress(s))
        return 1;
    kind = reply_kind(fifo_at(s, 0)->cmd);
    switch (kind) {
    case R_RESULT: case R_ROWS:
        if (kind == R_ROWS && s->rs == RS_FIRST)
            s->rs = RS_ROWS;
        return result_packet(s, sink, kind);
    case R_PREPARE:
        return prepare_packet(s, sink);
    case R_FIELDS:
        if (is_err(s, &code) || (s->head_len && s->head[0] == 0xfe &&
                                 s->wire[SS_DB_IN].first_len < 9))
            finish(s, sink, s->head[0] == 0xff, code);
        return 1;
    case R_AUTH:
        if (s->head_len && (s->head[0] == 0x00 || is_err(s, &code)))
            finish(s, sink, s->head[0] == 0xff, code);
        return 1; /* auth switch, more data */
    default: {
        int err = is_err(s, &code); /* before code is read: arguments have no order */

        finish(s, sink, err, code);
        return 1;
    }
    }
}

static int in_end(ss_mysql_t *s, const ss_db_sink_t *sink)
{
    switch (s->phase) {
    case PH_START:
        return greeting(s);
    case PH_AUTH:
        if (s->head_len >= 1 && s->head[0] == 0x00) {
            s->phase = PH_COMMAND;
            return 1;
        }
        if (s->head_len >= 1 && s->head[0] == 0xff)
            return fail(s, "auth_error");
        return 1; /* auth switch, more data */
    case PH_COMMAND:
        return reply_packet(s, sink);
    case PH_QUIT:
        return s->fifo_len ? reply_packet(s, sink) : 1; /* replies still owed */
    default:
        return fail(s, "handshake"); /* the server spoke out of turn */
    }
}

/* How much of a reply packet starting with byte b to keep: only packets
 * that can say something; never a row or a column definition. */
static uint16_t head_cap(const ss_mysql_t *s, uint8_t b)
{
    uint8_t kind;

    if (s->phase == PH_START)
        return SS_MYSQL_HEAD_MAX;
    if (s->phase < PH_COMMAND)
        return b == 0x00 || b == 0xff ? 32 : 1;
    kind = s->fifo_len ? reply_kind(s->fifo[s->fifo_head].cmd) : R_NONE;
    if (s->rs == RS_COLDEF || s->rs == RS_SKIP)
        return 1;
    if ((s->rs == RS_ROWS || kind == R_ROWS || kind == R_FIELDS) && b != 0xfe && b != 0xff)
        return 1;
    if (kind == R_AUTH && b != 0x00 && b != 0xff)
        return 1;
    return 32;
}

/* ---- the framing ---- */

static int packet_begin(ss_mysql_t *s, ss_db_dir_t dir)
{
    if (dir == SS_DB_IN) {
        s->head_len = 0;
        s->head_cap = 0;
        return 1;
    }
    s->out_kind = OUT_SKIP;
    if (s->phase == PH_START || s->phase == PH_RESPONSE) {
        if (s->phase == PH_START)
            s->phase = PH_RESPONSE; /* the plaintext after TLS: no greeting seen */
        s->out_kind = OUT_RESPONSE;
        walk_start(s, W_FIXED);
    } else if (s->phase == PH_COMMAND && !s->infile) {
        if (s->wire[SS_DB_OUT].seq == 0)
            s->out_kind = OUT_CMD;
        else if (!(s->fifo_len && reply_kind(fifo_at(s, 0)->cmd) == R_AUTH))
            return fail(s, "sequence"); /* else COM_CHANGE_USER's auth data */
    }
    return 1;
}

static int in_data(ss_mysql_t *s, const uint8_t *p, size_t n)
{
    size_t room;

    if (s->wire[SS_DB_IN].off == 0)
        s->head_cap = head_cap(s, p[0]);
    room = s->head_cap > s->head_len ? (size_t)(s->head_cap - s->head_len) : 0;
    if (n > room)
        n = room;
    memcpy(s->head + s->head_len, p, n);
    s->head_len = (uint16_t)(s->head_len + n);
    return 1;
}

static int out_data(ss_mysql_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    uint64_t off = s->wire[SS_DB_OUT].off;

    if (s->out_kind == OUT_CMD) {
        if (!command(s, p[0], sink))
            return 0;
        p++, n--, off++;
    }
    switch (s->out_kind) {
    case OUT_RESPONSE: case OUT_CHANGE_USER:
        walk(s, p, n);
        break;
    case OUT_TEXT:
        text_add(s, p, n);
        break;
    case OUT_ID:
        for (; n > 0 && off < sizeof(s->out_head); n--, off++)
            s->out_head[off] = *p++;
        break;
    }
    return 1;
}

static int packet_data(ss_mysql_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n,
                       const ss_db_sink_t *sink)
{
    if (n == 0)
        return 1;
    return dir == SS_DB_IN ? in_data(s, p, n) : out_data(s, p, n, sink);
}

static int packet_end(ss_mysql_t *s, ss_db_dir_t dir, const ss_db_sink_t *sink)
{
    return dir == SS_DB_IN ? in_end(s, sink) : out_end(s);
}

/* The header's bytes; at its end a logical packet may begin. */
static size_t header(ss_mysql_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n, int *ok)
{
    ss_mysql_wire_t *w = &s->wire[dir];
    size_t used = n < 4u - w->hlen ? n : 4u - w->hlen;

    memcpy(w->hdr + w->hlen, p, used);
    w->hlen = (uint8_t)(w->hlen + used);
    *ok = 1;
    if (w->hlen < 4)
        return used;
    w->left = le24(w->hdr);
    w->more = w->left == MAX_PACKET;
    if (!w->open) {
        w->open = 1;
        w->seq = w->hdr[3];
        w->first_len = w->left;
        w->off = 0;
        *ok = packet_begin(s, dir);
    }
    return used;
}

int ss_mysql_feed(ss_mysql_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n,
                  const ss_db_sink_t *sink)
{
    ss_mysql_wire_t *w = &s->wire[dir == SS_DB_IN];

    dir = dir == SS_DB_IN ? SS_DB_IN : SS_DB_OUT;
    while (!s->failed && (n > 0 || (w->hlen == 4 && w->left == 0))) {
        int ok = 1;

        if (w->hlen < 4) {
            size_t used = header(s, dir, p, n, &ok);
            p += used;
            n -= used;
        } else if (w->left > 0) {
            size_t k = n < w->left ? n : w->left;
            ok = packet_data(s, dir, p, k, sink);
            w->off += k;
            w->left -= (uint32_t)k;
            p += k;
            n -= k;
        } else {
            w->hlen = 0;
            if (!w->more) {
                w->open = 0;
                ok = packet_end(s, dir, sink);
            }
        }
        if (!ok)
            return 0;
    }
    return !s->failed;
}
