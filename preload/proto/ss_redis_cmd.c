/*
 * ss_redis_cmd.c - reads the commands the program writes to Redis: RESP
 * arrays of bulk strings and inline lines, split anywhere. It keeps the
 * name (and a container's subcommand), the key, and the count of the other
 * arguments; argument bytes are skipped where they pass, never copied
 * except for the key, and never for AUTH and HELLO. A command's first byte
 * asks the sink for a tag when there is room for it in the FIFO.
 */
#include <string.h>
#include <strings.h>

#include "ss_redis_int.h"

enum { O_START, O_COUNT, O_COUNT_LF, O_DOLLAR, O_BLEN, O_BLEN_LF, O_PAYLOAD, O_PAY_CR,
       O_PAY_LF, O_INLINE, O_DRAIN };
enum { R_NAME, R_SUB, R_KEY, R_NUM, R_MODE, R_ARG };

/* The helpers of the one-step readers below, inlined where they are
 * called: a command pays for each call it would make. */
#define INLINE static inline __attribute__((always_inline))

#define RESP_MAX_COUNT (1LL << 31)
#define RESP_MAX_BULK (1LL << 40)

char ss_redis_shown(uint8_t c)
{
    return c > 0x20 && c < 0x7f ? (char)c : '?';
}

size_t ss_redis_take(uint64_t *left, size_t avail)
{
    size_t take = avail < *left ? avail : (size_t)*left;

    *left -= take;
    return take;
}

/* What a command's name says about it: whether its first argument is a
 * key, whether it takes a subcommand (and a key after that), and the kind
 * its reply is read as. Names not here are plain commands keyed by their
 * first argument. */
enum { N_KEYED = 0, N_KEYLESS, N_CONTAINER, N_KEYED_CONTAINER };

typedef struct name_info {
    const char *name;
    uint8_t len;
    uint8_t shape;                   /* N_... */
    uint8_t kind;                    /* SS_RK_... */
} name_info_t;

#define NAME(n, shape, kind) {n, sizeof(n) - 1, shape, kind}
static const name_info_t names[] = {
    /* commands whose first argument is not a key: every argument is shown '?' */
    NAME("PING", N_KEYLESS, 0), NAME("ECHO", N_KEYLESS, 0),
    NAME("SELECT", N_KEYLESS, SS_RK_SELECT), NAME("INFO", N_KEYLESS, 0),
    NAME("DBSIZE", N_KEYLESS, 0), NAME("FLUSHALL", N_KEYLESS, 0),
    NAME("FLUSHDB", N_KEYLESS, 0), NAME("MULTI", N_KEYLESS, SS_RK_MULTI),
    NAME("EXEC", N_KEYLESS, SS_RK_EXEC), NAME("DISCARD", N_KEYLESS, SS_RK_DISCARD),
    NAME("QUIT", N_KEYLESS, 0), NAME("RESET", N_KEYLESS, SS_RK_RESET),
    NAME("TIME", N_KEYLESS, 0), NAME("SAVE", N_KEYLESS, 0), NAME("BGSAVE", N_KEYLESS, 0),
    NAME("BGREWRITEAOF", N_KEYLESS, 0), NAME("LASTSAVE", N_KEYLESS, 0),
    NAME("SHUTDOWN", N_KEYLESS, 0), NAME("MONITOR", N_KEYLESS, SS_RK_MONITOR),
    NAME("SWAPDB", N_KEYLESS, 0), NAME("WAIT", N_KEYLESS, 0), NAME("WAITAOF", N_KEYLESS, 0),
    NAME("KEYS", N_KEYLESS, 0), NAME("SCAN", N_KEYLESS, 0), NAME("RANDOMKEY", N_KEYLESS, 0),
    NAME("EVAL", N_KEYLESS, 0), NAME("EVALSHA", N_KEYLESS, 0), NAME("EVAL_RO", N_KEYLESS, 0),
    NAME("EVALSHA_RO", N_KEYLESS, 0), NAME("FCALL", N_KEYLESS, 0),
    NAME("FCALL_RO", N_KEYLESS, 0), NAME("REPLICAOF", N_KEYLESS, 0),
    NAME("SLAVEOF", N_KEYLESS, 0), NAME("ROLE", N_KEYLESS, 0),
    NAME("READONLY", N_KEYLESS, 0), NAME("READWRITE", N_KEYLESS, 0),
    NAME("ASKING", N_KEYLESS, 0), NAME("LOLWUT", N_KEYLESS, 0),
    NAME("FAILOVER", N_KEYLESS, 0), NAME("PSYNC", N_KEYLESS, 0), NAME("SYNC", N_KEYLESS, 0),
    NAME("REPLCONF", N_KEYLESS, 0), NAME("UNWATCH", N_KEYLESS, 0),
    /* arguments hidden, none a key */
    NAME("AUTH", N_KEYLESS, SS_RK_AUTH), NAME("HELLO", N_KEYLESS, SS_RK_HELLO),
    /* named with their subcommand; these four take a key after it */
    NAME("OBJECT", N_KEYED_CONTAINER, 0), NAME("XINFO", N_KEYED_CONTAINER, 0),
    NAME("XGROUP", N_KEYED_CONTAINER, 0), NAME("MEMORY", N_KEYED_CONTAINER, 0),
    NAME("CLIENT", N_CONTAINER, 0), NAME("CONFIG", N_CONTAINER, 0),
    NAME("CLUSTER", N_CONTAINER, 0), NAME("COMMAND", N_CONTAINER, 0),
    NAME("SCRIPT", N_CONTAINER, 0), NAME("FUNCTION", N_CONTAINER, 0),
    NAME("ACL", N_CONTAINER, 0), NAME("DEBUG", N_CONTAINER, 0), NAME("MODULE", N_CONTAINER, 0),
    NAME("PUBSUB", N_CONTAINER, 0), NAME("LATENCY", N_CONTAINER, 0),
    NAME("SLOWLOG", N_CONTAINER, 0),
    /* one confirmation per channel; the first channel is the key */
    NAME("SUBSCRIBE", N_KEYED, SS_RK_SUBSCRIBE), NAME("PSUBSCRIBE", N_KEYED, SS_RK_PSUBSCRIBE),
    NAME("SSUBSCRIBE", N_KEYED, SS_RK_SSUBSCRIBE),
    NAME("UNSUBSCRIBE", N_KEYED, SS_RK_UNSUBSCRIBE),
    NAME("PUNSUBSCRIBE", N_KEYED, SS_RK_PUNSUBSCRIBE),
    NAME("SUNSUBSCRIBE", N_KEYED, SS_RK_SUNSUBSCRIBE),
};
#undef NAME

/* A name is looked up once per command: a hash of its length and first
 * and last letters (case folded) picks a chain of the table's entries,
 * built when the library loads. The multipliers give chains of at most
 * two, and leave the buckets of most common commands (GET, SET, INCR,
 * HSET, ...) empty: most commands are not in the table. */
#define NAME_BUCKETS 128
#define NAME_NONE 0xff
_Static_assert(sizeof(names) / sizeof(names[0]) < NAME_NONE, "entries fit the chains' uint8_t");

static uint8_t name_bucket[NAME_BUCKETS], name_next[sizeof(names) / sizeof(names[0])];

static unsigned name_hash(const char *s, size_t len)
{
    unsigned first = (uint8_t)s[0] | 0x20u, last = (uint8_t)s[len - 1] | 0x20u;

    return ((unsigned)len * 47u + first * 12u + last * 3u) % NAME_BUCKETS;
}

__attribute__((constructor)) static void names_index(void)
{
    memset(name_bucket, NAME_NONE, sizeof(name_bucket));
    for (size_t i = sizeof(names) / sizeof(names[0]); i-- > 0;) {
        unsigned h = name_hash(names[i].name, names[i].len);
        name_next[i] = name_bucket[h];
        name_bucket[h] = (uint8_t)i;
    }
}

static inline const name_info_t *name_find(const char *name, size_t len)
{
    if (len == 0)
        return NULL;
    for (unsigned i = name_bucket[name_hash(name, len)]; i != NAME_NONE; i = name_next[i])
        if (names[i].len == len && strncasecmp(names[i].name, name, len) == 0)
            return &names[i];
    return NULL;
}

/* The command's name is read: its kind and where its key is. */
static void name_read(ss_redis_out_t *o)
{
    const name_info_t *e = name_find(o->cmd->name, o->cmd->name_len);
    uint8_t shape = e ? e->shape : N_KEYED;

    if (e)
        o->cmd->kind = e->kind;
    o->container = shape == N_CONTAINER || shape == N_KEYED_CONTAINER;
    o->key_at = shape == N_KEYED_CONTAINER ? 2 : shape == N_KEYED ? 1 : 0;
}

static void arg_begin(ss_redis_out_t *o)
{
    uint8_t k = o->cmd->kind;

    o->len = 0;
    o->neg = 0;
    o->digits = 0;
    if (o->argi == 0)
        o->role = R_NAME;
    else if (o->argi == 1 && o->container)
        o->role = R_SUB;
    else if (o->argi == 1 && (k == SS_RK_SELECT || k == SS_RK_HELLO))
        o->role = R_NUM;
    else if (o->argi == 2 && o->container && strcasecmp(o->cmd->name, "CLIENT REPLY") == 0)
        o->role = R_MODE;
    else if (o->key_at && o->argi == o->key_at)
        o->role = R_KEY;
    else
        o->role = R_ARG;
    if (o->role == R_NUM)
        o->cmd->num = 0;
    if (o->role == R_SUB) {
        size_t l = o->cmd->name_len;
        if (l + 1 < sizeof(o->cmd->name)) {
            o->cmd->name[l] = ' ';
            o->cmd->name[l + 1] = '\0';
        }
        o->len = (uint32_t)l + 1;
    }
    if (o->role == R_MODE || o->role == R_ARG || o->role == R_NUM)
        o->cmd->nargs++;
}

/* The 8 bytes of w are all printable ASCII (0x21 to 0x7e), the bytes
 * ss_redis_shown() leaves as they are. */
static int all_shown(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t high = w & highs;                       /* a byte >= 0x80 */
    uint64_t below = (w - 0x21 * ones) & ~w & highs; /* else: a byte < 0x21 */
    uint64_t del = (w + ones) & highs;               /* else: a byte 0x7f */

    return (high | below | del) == 0;
}

/* The n bytes at p to dst when all are shown as they are (1), a word or
 * two overlapping words at a time; else 0, dst's bytes undefined. */
static inline int copy_shown(char *dst, const uint8_t *p, size_t n)
{
    uint64_t w, last;
    uint32_t a, b;
    size_t i;

    if (n >= 8) {
        for (i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            if (!all_shown(w))
                return 0;
            memcpy(dst + i, &w, 8);
        }
        memcpy(&last, p + n - 8, 8);
        if (!all_shown(last))
            return 0;
        memcpy(dst + n - 8, &last, 8);
        return 1;
    }
    if (n >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        if (!all_shown((uint64_t)a << 32 | b))
            return 0;
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
        return 1;
    }
    if (n > 0) {                     /* 1 to 3: the first, middle and last */
        a = (uint32_t)p[0] | (uint32_t)p[n / 2] << 8 | (uint32_t)p[n - 1] << 16 | 0x41u << 24;
        if (!all_shown((uint64_t)a << 32 | a))
            return 0;
        dst[0] = (char)p[0];
        dst[n / 2] = (char)p[n / 2];
        dst[n - 1] = (char)p[n - 1];
    }
    return 1;
}

/* The n bytes at p to dst as they may be shown. */
INLINE void shown_copy(char *dst, const uint8_t *p, size_t n)
{
    if (!copy_shown(dst, p, n))
        for (size_t i = 0; i < n; i++)
            dst[i] = ss_redis_shown(p[i]);
}

/* Keep what the argument's role asks for from bytes of it. */
static void arg_take(ss_redis_out_t *o, const uint8_t *p, size_t n)
{
    char *dst = NULL;
    size_t cap = 0;

    switch (o->role) {
    case R_NAME: case R_SUB: dst = o->cmd->name; cap = sizeof(o->cmd->name); break;
    case R_KEY: dst = o->cmd->key; cap = sizeof(o->cmd->key); break;
    case R_MODE: dst = o->sub; cap = sizeof(o->sub); break;
    case R_NUM:
        for (size_t i = 0; i < n && o->cmd->num >= 0; i++) {
            if (p[i] < '0' || p[i] > '9' || o->cmd->num > 100000000)
                o->cmd->num = -1;
            else
                o->cmd->num = o->cmd->num * 10 + (p[i] - '0');
        }
        return;
    default: return;
    }
    size_t len = o->len, room = len + 1 < cap ? cap - 1 - len : 0;

    if (n > room)
        n = room;
    shown_copy(dst + len, p, n);
    len += n;
    o->len = (uint32_t)len;
    dst[len < cap ? len : cap - 1] = '\0';
}

/* The length of what arg_take kept in a field of cap bytes. */
static uint8_t kept(const ss_redis_out_t *o, size_t cap)
{
    return (uint8_t)(o->len < cap ? o->len : cap - 1);
}

static void arg_end(ss_redis_out_t *o)
{
    if (o->role == R_NAME || o->role == R_SUB)
        o->cmd->name_len = kept(o, sizeof(o->cmd->name));
    if (o->role == R_NAME)
        name_read(o);
    else if (o->role == R_KEY) {
        o->cmd->has_key = 1;
        o->cmd->key_len = kept(o, sizeof(o->cmd->key));
    } else if (o->role == R_MODE &&
             (strcasecmp(o->sub, "OFF") == 0 || strcasecmp(o->sub, "SKIP") == 0))
        o->cmd->kind = SS_RK_NOREPLY;
    o->argi++;
}

/* Whether a command beginning now is traced, and the record it is written
 * in. A traced command is written where the FIFO will hold it: the slot
 * after the last stays free while it is written (a reply read takes the
 * head, head + count stays). */
INLINE ss_redis_cmd_t *cmd_slot(ss_redis_t *s, uint8_t *traced)
{
    *traced = s->count < SS_REDIS_PENDING_MAX && s->untraced_pending == 0;
    return *traced ? &s->fifo[(s->head + s->count) % SS_REDIS_PENDING_MAX] : &s->out.cur;
}

/* A command's first byte. */
static void cmd_begin(ss_redis_t *s, const ss_db_sink_t *sink)
{
    ss_redis_out_t *o = &s->out;

    ss_redis_cmd_t *c;

    c = o->cmd = cmd_slot(s, &o->traced);
    c->tag = 0;
    c->nargs = 0;
    c->num = -1;
    c->kind = SS_RK_PLAIN;
    c->has_key = 0;
    c->name_len = c->key_len = 0;
    c->name[0] = c->key[0] = '\0';
    memset(o->sub, 0, sizeof(o->sub));
    o->argi = 0;
    o->argc = 0;
    o->container = 0;
    o->key_at = 0;
    if (o->traced && sink && sink->start)
        c->tag = sink->start(sink->arg);
}

static void cmd_end(ss_redis_t *s)
{
    s->out.st = O_START;
    if (s->out.argi)
        ss_redis_written(s);
    if (s->draining)
        s->out.st = O_DRAIN;
}

/* A decimal of a RESP header; 0 when it is not one. */
static int digit(ss_redis_out_t *o, uint8_t c)
{
    if (c == '-' && o->digits == 0 && !o->neg) {
        o->neg = 1;
        return 1;
    }
    if (c < '0' || c > '9' || ++o->digits > 19)
        return 0;
    o->num = o->num * 10 + (c - '0');
    return o->num <= RESP_MAX_BULK;
}

static int fail(ss_redis_t *s, const char *why)
{
    s->why = why;
    s->dead = 1;
    return 0;
}

static void inline_word_end(ss_redis_out_t *o)
{
    if (o->word) {
        arg_end(o);
        o->word = 0;
        o->quote = 0;
    }
}

/* One byte of an inline command line (words, "quoted" or 'quoted'). */
static void inline_byte(ss_redis_t *s, uint8_t c)
{
    ss_redis_out_t *o = &s->out;

    if (c == '\n') {
        inline_word_end(o);
        cmd_end(s);
        return;
    }
    if (o->quote == 'e') {          /* the byte after a backslash */
        o->quote = '"';
        arg_take(o, &c, 1);
        return;
    }
    if (o->quote) {
        if (c == '\\' && o->quote == '"')
            o->quote = 'e';
        else if (c == o->quote)
            o->quote = 0;
        else
            arg_take(o, &c, 1);
        return;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
        inline_word_end(o);
        return;
    }
    if (!o->word) {
        o->word = 1;
        arg_begin(o);
    }
    if (c == '"' || c == '\'')
        o->quote = c;
    else
        arg_take(o, &c, 1);
}

static void header_begin(ss_redis_out_t *o, uint8_t st)
{
    o->st = st;
    o->num = 0;
    o->neg = 0;
    o->digits = 0;
}

/* The byte that starts a command: '*' a RESP array, else an inline line. */
static void start_byte(ss_redis_t *s, uint8_t c, const ss_db_sink_t *sink)
{
    ss_redis_out_t *o = &s->out;

    if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
        return;                      /* blank before an inline command */
    cmd_begin(s, sink);
    if (c == '*') {
        header_begin(o, O_COUNT);
        return;
    }
    o->st = O_INLINE;
    o->word = 0;
    o->quote = 0;
    inline_byte(s, c);
}

/* The array's count is read. */
static int count_read(ss_redis_t *s)
{
    ss_redis_out_t *o = &s->out;

    if (o->neg || o->num == 0) {     /* the server ignores it: no reply */
        o->st = O_START;
        return 1;
    }
    if (o->num > RESP_MAX_COUNT)
        return fail(s, "command with too many arguments");
    o->argc = (uint64_t)o->num;
    o->st = O_DOLLAR;
    return 1;
}

static int resp_byte(ss_redis_t *s, uint8_t c)
{
    ss_redis_out_t *o = &s->out;

    switch (o->st) {
    case O_COUNT:
        if (c == '\r') { o->st = O_COUNT_LF; return 1; }
        return digit(o, c) ? 1 : fail(s, "bad array count in a command");
    case O_COUNT_LF:
        return c == '\n' ? count_read(s) : fail(s, "bad line end in a command");
    case O_DOLLAR:
        if (c != '$')
            return fail(s, "command argument is not a bulk string");
        header_begin(o, O_BLEN);
        return 1;
    case O_BLEN:
        if (c == '\r') { o->st = O_BLEN_LF; return 1; }
        return digit(o, c) && !o->neg ? 1 : fail(s, "bad bulk length in a command");
    case O_BLEN_LF:
        if (c != '\n' || o->digits == 0)
            return fail(s, "bad line end in a command");
        o->left = (uint64_t)o->num;
        arg_begin(o);
        o->st = o->left ? O_PAYLOAD : O_PAY_CR;
        return 1;
    case O_PAY_CR:
        return c == '\r' ? (o->st = O_PAY_LF, 1) : fail(s, "bulk string longer than its length");
    case O_PAY_LF:
        if (c != '\n')
            return fail(s, "bad line end in a command");
        arg_end(o);
        if (o->argi == o->argc)
            cmd_end(s);
        else
            o->st = O_DOLLAR;
        return 1;
    }
    return fail(s, "command reader lost");
}

/* ---- whole pieces: what the byte reader would do, in one step ----
 * A header or a bulk string all in the buffer and well formed is read at
 * once; anything else (a split, a sign, a zero count, a bad byte) is left
 * to the byte reader above, which says what is wrong with it. */

/* "*count\r\n" at a command's start. */
static size_t whole_count(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    int64_t v;
    size_t used = ss_redis_whole_decimal(p + 1, n - 1, &v);

    if (!used || v == 0 || v > RESP_MAX_COUNT)
        return 0;
    cmd_begin(s, sink);
    s->out.num = v;
    s->out.argc = (uint64_t)v;
    s->out.st = O_DOLLAR;
    return used + 1;
}

/* A bulk string "$len\r\n", its len bytes and "\r\n" whole at p: the
 * bytes it takes, its payload's offset in *at and length in *len; 0 when
 * it is not there whole. */
INLINE size_t bulk_at(const uint8_t *p, size_t n, size_t *at, size_t *len)
{
    int64_t v;
    size_t used = n && p[0] == '$' ? ss_redis_whole_decimal(p + 1, n - 1, &v) : 0;
    size_t a = used + 1;

    if (!used || v > RESP_MAX_BULK || (uint64_t)v > n - a || n - a - (size_t)v < 2 ||
        p[a + v] != '\r' || p[a + v + 1] != '\n')
        return 0;
    *at = a;
    *len = (size_t)v;
    return a + (size_t)v + 2;
}

/* "$len\r\n", its len bytes and "\r\n", where an argument is due. */
static size_t whole_bulk(ss_redis_t *s, const uint8_t *p, size_t n)
{
    ss_redis_out_t *o = &s->out;
    size_t at, v, used = bulk_at(p, n, &at, &v);

    if (!used)
        return 0;
    o->num = (int64_t)v;
    o->left = 0;
    arg_begin(o);
    if (v)
        arg_take(o, p + at, v);
    arg_end(o);
    if (o->argi == o->argc)
        cmd_end(s);
    else
        o->st = O_DOLLAR;
    return used;
}

/* The pieces of a whole command: where its key is, how many others. */
typedef struct whole_args {
    const uint8_t *key;           /* NULL: none */
    size_t key_n;
    uint64_t others;
    size_t used;                  /* bytes of the command */
} whole_args_t;

/* The arguments after the name, from at: 0 when one is not whole. */
INLINE int whole_args(const uint8_t *p, size_t n, size_t at, uint64_t argc, int keyed,
                      whole_args_t *w)
{
    size_t pay, len;

    w->key = NULL;
    w->key_n = 0;
    w->others = 0;
    for (uint64_t i = 1; i < argc; i++) {
        size_t used = bulk_at(p + at, n - at, &pay, &len);

        if (!used)
            return 0;
        if (i == 1 && keyed) {
            w->key = p + at + pay;
            w->key_n = len;
        } else {
            w->others++;
        }
        at += used;
    }
    w->used = at;
    return 1;
}

/* A whole command at a command's start, "*count\r\n" and every bulk
 * string in the buffer, when its arguments ask for nothing but their
 * bytes (not SELECT's or HELLO's number, nor a container's subcommand):
 * read in one step, with the record the pieces above would leave, written
 * where it is kept (its name first: it decides whether this step may
 * read it). 0 when it is not one: nothing read, the pieces read it. */
static size_t whole_command(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    ss_redis_out_t *o = &s->out;
    const name_info_t *e;
    ss_redis_cmd_t *c;
    whole_args_t w;
    int64_t argc;
    size_t at = 1 + ss_redis_whole_decimal(p + 1, n - 1, &argc), pay, len, used;
    size_t name_n;
    uint8_t shape, traced;

    if (at == 1 || argc == 0 || argc > RESP_MAX_COUNT ||
        (used = bulk_at(p + at, n - at, &pay, &len)) == 0)
        return 0;
    c = cmd_slot(s, &traced);        /* free until the command is written */
    name_n = len < sizeof(c->name) - 1 ? len : sizeof(c->name) - 1;
    shown_copy(c->name, p + at + pay, name_n);
    c->name[name_n] = '\0';
    e = name_find(c->name, name_n);
    shape = e ? e->shape : N_KEYED;
    if (shape == N_CONTAINER || shape == N_KEYED_CONTAINER ||
        (e && (e->kind == SS_RK_SELECT || e->kind == SS_RK_HELLO)) ||
        !whole_args(p, n, at + used, (uint64_t)argc, shape == N_KEYED, &w))
        return 0;
    /* What cmd_begin() and the pieces would leave (o->sub is a
     * container's: not read for this one, reset by the next cmd_begin). */
    o->traced = traced;
    o->cmd = c;
    c->tag = traced && sink && sink->start ? sink->start(sink->arg) : 0;
    c->nargs = w.others;
    c->num = -1;
    c->name_len = (uint8_t)name_n;
    c->kind = e ? e->kind : SS_RK_PLAIN;
    if (w.key) {
        size_t k = w.key_n < sizeof(c->key) - 1 ? w.key_n : sizeof(c->key) - 1;
        shown_copy(c->key, w.key, k);
        c->key[k] = '\0';
        c->key_len = (uint8_t)k;
        c->has_key = 1;
    } else {
        c->key[0] = '\0';
        c->key_len = 0;
        c->has_key = 0;
    }
    o->container = 0;
    o->key_at = shape == N_KEYED ? 1 : 0;
    o->argc = o->argi = (uint64_t)argc;
    cmd_end(s);
    return w.used;
}

int ss_redis_cmd_feed(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    ss_redis_out_t *o = &s->out;
    size_t i = 0;

    while (i < n) {
        if (o->st == O_DRAIN)
            return 1;
        if (o->st == O_DOLLAR || (o->st == O_START && p[i] == '*')) {
            size_t used = o->st == O_DOLLAR ? whole_bulk(s, p + i, n - i)
                                            : whole_command(s, p + i, n - i, sink);
            if (used == 0 && o->st == O_START)
                used = whole_count(s, p + i, n - i, sink);
            if (used) {
                i += used;
                if (s->dead)
                    return 0;
                continue;
            }
        }
        if (o->st == O_PAYLOAD) {    /* argument bytes: kept or skipped whole */
            size_t take = ss_redis_take(&o->left, n - i);
            arg_take(o, p + i, take);
            i += take;
            if (!o->left)
                o->st = O_PAY_CR;
            continue;
        }
        uint8_t c = p[i++];
        if (o->st == O_START)
            start_byte(s, c, sink);
        else if (o->st == O_INLINE)
            inline_byte(s, c);
        else if (!resp_byte(s, c))
            return 0;
        if (s->dead)
            return 0;
    }
    return 1;
}
