/*
 * ss_redis.c - follows a Redis connection from the client's side: reads
 * the replies (every RESP2 and RESP3 type, streamed ones included) with an
 * explicit nesting counter, tells pushed frames from replies, and matches
 * each reply to the oldest command waiting for one, reporting it as one
 * operation. Payloads are skipped where they pass; only the first bytes of
 * a reply are kept, to know an error's prefix or a confirmation's kind.
 * The commands are read by ss_redis_cmd.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ss_redis_int.h"

enum { I_TYPE, I_LINE, I_LF, I_PAYLOAD, I_PCR, I_PLF, I_CHUNK };

#define RESP_MAX_LEN (1LL << 40)

static const char *const confirm_word[] = {
    "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
};

void ss_redis_init(ss_redis_t *s)
{
    memset(s, 0, sizeof(*s));
    s->queued_db = -1;
    strcpy(s->ns, "0");
}

const char *ss_redis_why(const ss_redis_t *s)
{
    return s->why ? s->why : "";
}

uint64_t ss_redis_untraced(const ss_redis_t *s)
{
    return s->untraced;
}

static int fail(ss_redis_t *s, const char *why)
{
    s->why = why;
    s->dead = 1;
    return 0;
}

/* ---- the matcher ---- */

static ss_redis_cmd_t *head(ss_redis_t *s)
{
    return s->count ? &s->fifo[s->head] : NULL;
}

/* The follower ends where MONITOR or CLIENT REPLY OFF/SKIP leaves nothing
 * to match (s->why says which). */
static void end_if_drained(ss_redis_t *s)
{
    if (s->draining && !s->count && !s->untraced_pending)
        s->dead = 1;
}

static void pop(ss_redis_t *s)
{
    s->head = (s->head + 1) % SS_REDIS_PENDING_MAX;
    s->count--;
    s->confirmed = 0;
    end_if_drained(s);
}

/* Append m bytes of src to the *len of dst (cap bytes with its NUL),
 * whole or not at all: 0 when it did not fit. */
static int append(char *dst, size_t cap, size_t *len, const char *src, size_t m)
{
    if (*len + m + 1 > cap)
        return 0;
    memcpy(dst + *len, src, m);
    *len += m;
    dst[*len] = '\0';
    return 1;
}

static void query_text(const ss_redis_cmd_t *c, char *q, size_t cap)
{
    uint64_t n = c->nargs;
    size_t len = c->name_len;

    _Static_assert(sizeof(c->name) + sizeof(c->key) + 2 < SS_DB_QUERY_MAX,
                   "the name and the key fit whole");
    memcpy(q, c->name, sizeof(c->name)); /* whole arrays: no length to dispatch on */

    if (c->kind == SS_RK_AUTH || c->kind == SS_RK_HELLO) {
        if (n)
            append(q, cap, &len, " ?", 2); /* not even how many */
        return;
    }
    if (c->has_key) {
        q[len] = ' ';
        /* Most keys are short: their first 16 bytes hold them and their NUL
         * (the bytes after it are the array's, read and left behind). */
        if (c->key_len < 16)
            memcpy(q + len + 1, c->key, 16);
        else
            memcpy(q + len + 1, c->key, sizeof(c->key));
        len += 1 + c->key_len;
    }
    while (n-- && append(q, cap, &len, " ?", 2))
        ;
}

static int cap_is(const ss_redis_in_t *in, const char *word)
{
    return strcmp(in->cap, word) == 0;
}

static int is_error(const ss_redis_in_t *in)
{
    return in->top == '-' || in->top == '!';
}

static int is_aggregate(uint8_t t)
{
    return t == '*' || t == '>' || t == '%' || t == '~';
}

/* MULTI ... EXEC: the commands answered +QUEUED make EXEC's batch. */
static void track_multi(ss_redis_t *s, const ss_redis_cmd_t *c, int queued, ss_db_op_t *op)
{
    ss_redis_in_t *in = &s->in;
    int one_name = s->queued && !s->multi_mixed;

    if (queued) {
        if (s->queued++ == 0)
            snprintf(s->multi_name, sizeof(s->multi_name), "%s", c->name);
        else if (strcmp(s->multi_name, c->name) != 0)
            s->multi_mixed = 1;
    }
    if (c->kind == SS_RK_EXEC) {     /* the batch, whether it ran or not */
        if (s->queued >= 2)
            op->batch_size = s->queued;
        snprintf(op->summary, sizeof(op->summary), "MULTI%s%s", one_name ? " " : "",
                 one_name ? s->multi_name : "");
        if (is_aggregate(in->top) && s->queued_db >= 0)
            snprintf(s->ns, sizeof(s->ns), "%lld", (long long)s->queued_db);
    }
    if (c->kind == SS_RK_EXEC || c->kind == SS_RK_DISCARD ||
        (c->kind == SS_RK_MULTI && !is_error(in))) {
        s->queued = 0;
        s->multi_mixed = 0;
        s->queued_db = -1;
    }
}

/* What the reply to a command changes on the connection. */
static void apply(ss_redis_t *s, const ss_redis_cmd_t *c, ss_db_op_t *op)
{
    ss_redis_in_t *in = &s->in;
    int queued = in->top == '+' && cap_is(in, "QUEUED");

    track_multi(s, c, queued, op);
    if (is_error(in))
        return;
    switch (c->kind) {
    case SS_RK_SELECT:
        if (queued)
            s->queued_db = c->num;
        else if (c->num >= 0)
            snprintf(s->ns, sizeof(s->ns), "%lld", (long long)c->num);
        break;
    case SS_RK_HELLO:
        if (!queued && (c->num == 2 || c->num == 3))
            s->resp3 = c->num == 3;
        break;
    case SS_RK_RESET:
        s->queued = 0;
        s->queued_db = -1;
        s->resp3 = 0;
        s->chans = s->pats = s->shards = 0;
        strcpy(s->ns, "0");
        break;
    }
}

/* An error's prefix: its first word, as it may be shown. */
static void status_of(const ss_redis_in_t *in, char *dst, size_t cap)
{
    size_t i;

    for (i = 0; i + 1 < cap && in->cap[i] && in->cap[i] != ' '; i++)
        dst[i] = in->cap[i];
    dst[i] = '\0';
}

static void report(ss_redis_t *s, const ss_redis_cmd_t *c, const ss_db_sink_t *sink)
{
    ss_db_op_t mine, *op = sink && sink->op_for ? sink->op_for(sink->arg, c->tag) : NULL;

    if (op == NULL)
        op = &mine;
    /* Not the whole record cleared: the sink reads its strings up to their
     * NUL (ss_db.h), and each is set here, most to "". */
    op->tag = c->tag;
    op->collection[0] = op->summary[0] = op->status_code[0] = '\0';
    op->batch_size = 0;
    op->error = 0;
    _Static_assert(sizeof(op->operation) == sizeof(c->name), "the name's array is the operation's");
    memcpy(op->operation, c->name, sizeof(op->operation));
    query_text(c, op->query_text, sizeof(op->query_text));
    if (c->kind != SS_RK_PLAIN || s->in.top == '+')
        apply(s, c, op);             /* else it changes nothing: not even +QUEUED */
    /* The index is a decimal (at most 20 characters and its NUL): the
     * array's first 24 bytes hold it. */
    _Static_assert(sizeof(op->namespace_) == sizeof(s->ns) && sizeof(s->ns) >= 24,
                   "the index's array is the namespace's");
    memcpy(op->namespace_, s->ns, 24);
    if (is_error(&s->in)) {
        op->error = 1;
        status_of(&s->in, op->status_code, sizeof(op->status_code));
    }
    if (sink && sink->done)
        sink->done(sink->arg, op);
}

/* A reply with no traced command waiting: one of the untraced ones. */
static void untraced_reply(ss_redis_t *s)
{
    ss_redis_in_t *in = &s->in;

    if (!s->untraced_pending) {
        fail(s, "reply without a command");
        return;
    }
    s->untraced_pending--;
    end_if_drained(s);
    if (in->top == '+' && cap_is(in, "QUEUED"))
        s->queued++;
}

/* Which subscription confirmation the reply is, 0 none (1 + the kind's offset). */
static int confirmation(const ss_redis_in_t *in)
{
    if (in->top != '>' && in->top != '*')
        return 0;
    for (int i = 0; i < 6; i++)
        if (strcmp(in->cap, confirm_word[i]) == 0)
            return i + 1;
    return 0;
}

/* A confirmation updates the counts of subscriptions it speaks for. */
static void count_subscriptions(ss_redis_t *s, int which)
{
    int64_t n = s->in.third < 0 ? 0 : s->in.third > 0xffffff ? 0xffffff : s->in.third;
    int kind = (which - 1) % 3;      /* 0 channels, 1 patterns, 2 shard channels */

    if (kind == 2)
        s->shards = (uint32_t)n;
    else if (kind == 0)
        s->chans = n > s->pats ? (uint32_t)(n - s->pats) : 0;
    else
        s->pats = n > s->chans ? (uint32_t)(n - s->chans) : 0;
}

/* The confirmation is the head command's: complete it once all came. */
static void confirm(ss_redis_t *s, int which, const ss_db_sink_t *sink)
{
    ss_redis_cmd_t *c = head(s);
    uint64_t want = c->nargs + c->has_key;
    uint32_t left = which == 4 ? s->chans : which == 5 ? s->pats : s->shards;

    s->confirmed++;
    if (want ? s->confirmed >= want : left == 0) {
        report(s, c, sink);
        pop(s);
    }
}

static int subscribed(const ss_redis_t *s)
{
    return s->chans || s->pats || s->shards;
}

/* A whole value at depth 0: a reply, a push, or a confirmation. */
static void reply_done(ss_redis_t *s, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    ss_redis_cmd_t *c = head(s);
    int which = (in->top == '>' || (in->top == '*' && !s->resp3)) ? confirmation(in) : 0;
    int was_subscribed = subscribed(s);

    if (which)
        count_subscriptions(s, which);
    if (which && c && c->kind == SS_RK_SUBSCRIBE + which - 1) {
        confirm(s, which, sink);
        return;
    }
    if (in->top == '>')
        return;                      /* RESP3 push */
    if (in->top == '*' && !s->resp3 && was_subscribed &&
        (which || cap_is(in, "message") || cap_is(in, "pmessage") || cap_is(in, "smessage")))
        return;                      /* RESP2 push while subscribed */
    if (!c) {
        untraced_reply(s);
        return;
    }
    report(s, c, sink);
    pop(s);
}

/* ---- the reply reader ---- */

static int reading_top_element(const ss_redis_in_t *in, uint32_t idx)
{
    return in->depth == 1 && !in->stk[0].attr && in->stk[0].idx == idx &&
           (in->top == '*' || in->top == '>');
}

/* Keep the first bytes of a top-level line, a top-level blob error, or
 * the first element of a top-level array. */
static void capture(ss_redis_in_t *in, const uint8_t *p, size_t n)
{
    int keep = in->depth == 0 ? in->type == '+' || in->type == '-' || in->type == '!'
                              : reading_top_element(in, 0) && (in->type == '+' || in->type == '$');

    for (size_t i = 0; keep && i < n && in->cap_len + 1 < SS_REDIS_CAP_MAX; i++)
        in->cap[in->cap_len++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
}

/* A value is complete: count it in its aggregate, and so on upwards. */
static void value_done(ss_redis_t *s, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;

    for (;;) {
        if (in->depth == 0) {
            reply_done(s, sink);
            return;
        }
        ss_redis_level_t *e = &in->stk[in->depth - 1];
        e->idx++;
        if (e->left < 0 || --e->left > 0)
            return;
        in->depth--;
        if (e->attr)
            return;                  /* an attribute is not a value */
    }
}

/* A streamed aggregate's end marker. */
static int end_marker(ss_redis_t *s, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;

    if (in->depth == 0 || in->stk[in->depth - 1].left >= 0)
        return fail(s, "end marker outside a streamed aggregate");
    in->depth--;
    if (!in->stk[in->depth].attr)
        value_done(s, sink);
    return 1;
}

static int open_aggregate(ss_redis_t *s, int64_t elems, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    int attr = in->type == '|';

    if (elems == 0) {
        if (!attr)
            value_done(s, sink);
        return 1;
    }
    if (in->depth >= SS_REDIS_DEPTH_MAX)
        return fail(s, "reply nested too deep");
    in->stk[in->depth].left = elems;
    in->stk[in->depth].idx = 0;
    in->stk[in->depth].attr = (uint8_t)attr;
    in->depth++;
    return 1;
}

/* A header line is read whole: what it says comes next. */
static int line_read(ss_redis_t *s, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    uint8_t t = in->type;
    int streamed = in->digits == 0 && in->neg == '?';
    int64_t v = in->neg == 1 ? -in->num : in->num;

    in->st = I_TYPE;
    switch (t) {
    case '+': case '-': case ',': case '(': case '#': case '_':
        value_done(s, sink);
        return 1;
    case '.':
        return end_marker(s, sink);
    }
    if (!streamed && in->digits == 0)
        return fail(s, "bad number in a reply");
    if (t == ':') {
        if (reading_top_element(in, 2))
            in->third = v;
        value_done(s, sink);
        return 1;
    }
    if (v > RESP_MAX_LEN)
        return fail(s, "reply length too large");
    if (t == '$' || t == '=' || t == '!' || t == ';') {
        if (streamed && t == '$') {
            in->st = I_CHUNK;
            return 1;
        }
        if (streamed || (v < 0 && t == ';'))
            return fail(s, "bad string length in a reply");
        if (v < 0 || (t == ';' && v == 0)) {
            value_done(s, sink);     /* a null, or the last chunk */
            return 1;
        }
        in->left = (uint64_t)v;
        in->st = I_PAYLOAD;
        return 1;
    }
    if (streamed)
        return open_aggregate(s, -1, sink);
    if (v < 0) {
        value_done(s, sink);         /* a null array */
        return 1;
    }
    return open_aggregate(s, t == '%' || t == '|' ? v * 2 : v, sink);
}

/* A byte of a header line: numbers are read, other lines captured. */
static int line_byte(ss_redis_t *s, uint8_t c)
{
    ss_redis_in_t *in = &s->in;

    if (c == '\r') {
        in->st = I_LF;
        return 1;
    }
    switch (in->type) {
    case '+': case '-':
        capture(in, &c, 1);
        return 1;
    case ',': case '(': case '#': case '_': case '.':
        return 1;
    }
    if (c == '?' && in->digits == 0 && !in->neg) {
        in->neg = '?';
        return 1;
    }
    if (c == '-' && in->digits == 0 && !in->neg) {
        in->neg = 1;
        return 1;
    }
    if (c < '0' || c > '9' || in->neg == '?' || ++in->digits > 19)
        return fail(s, "bad number in a reply");
    if (in->num <= RESP_MAX_LEN)     /* past it, only its being past counts */
        in->num = in->num * 10 + (c - '0');
    return 1;
}

/* A value of type c (a RESP type byte) begins. */
static void type_begin(ss_redis_t *s, uint8_t c)
{
    ss_redis_in_t *in = &s->in;

    if (in->depth == 0) {            /* a reply (or its attribute) begins */
        in->top = c;
        in->cap_len = 0;
        in->third = -1;
        memset(in->cap, 0, sizeof(in->cap));
    }
    in->type = c;
    in->num = 0;
    in->neg = 0;
    in->digits = 0;
    in->st = I_LINE;
}

static int type_byte(ss_redis_t *s, uint8_t c)
{
    if (!strchr("+-:$*_,#!=(%~>|.", c) || c == 0)
        return fail(s, "not a RESP reply");
    type_begin(s, c);
    return 1;
}

static int reply_byte(ss_redis_t *s, uint8_t c, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;

    switch (in->st) {
    case I_TYPE:
        return type_byte(s, c);
    case I_CHUNK:
        if (c != ';')
            return fail(s, "bad chunk in a streamed string");
        in->type = ';';
        in->num = 0;
        in->neg = 0;
        in->digits = 0;
        in->st = I_LINE;
        return 1;
    case I_LINE:
        return line_byte(s, c);
    case I_LF:
        return c == '\n' ? line_read(s, sink) : fail(s, "bad line end in a reply");
    case I_PCR:
        return c == '\r' ? (in->st = I_PLF, 1) : fail(s, "string longer than its length");
    case I_PLF:
        if (c != '\n')
            return fail(s, "bad line end in a reply");
        if (in->type == ';') {
            in->st = I_CHUNK;
            return 1;
        }
        in->st = I_TYPE;
        value_done(s, sink);
        return 1;
    }
    return fail(s, "reply reader lost");
}

/* ---- whole pieces: what the byte reader would do, in one step ----
 * A simple line, or a number's header (and a bulk string's payload after
 * it) all in the buffer and well formed is read at once; anything else is
 * left to the byte reader, which says what is wrong with it. */

/* "+line\r\n" or "-error\r\n". */
static size_t whole_line(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    const uint8_t *cr = memchr(p + 1, '\r', n - 1);

    if (!cr || (size_t)(cr - p) + 2 > n || cr[1] != '\n')
        return 0;
    type_begin(s, p[0]);           /* one of the types it was called for */
    capture(&s->in, p + 1, (size_t)(cr - p) - 1);
    line_read(s, sink);
    return (size_t)(cr - p) + 2;
}

/* ":n\r\n", "*n\r\n", "$n\r\n" (n may be negative: "$-1\r\n" is a null)
 * and then, when it is there whole, the payload and its "\r\n". */
static size_t whole_number(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    int neg = n > 1 && p[1] == '-';
    int64_t v;
    size_t digits = ss_redis_whole_decimal(p + 1 + neg, n - 1 - neg, &v);
    size_t at = 1 + neg + digits;

    if (digits == 0 || v > RESP_MAX_LEN)
        return 0;
    type_begin(s, p[0]);           /* one of the types it was called for */
    in->num = v;
    in->neg = (uint8_t)neg;
    in->digits = (uint32_t)(digits - 2);
    if (p[0] == '$' && !neg) {       /* what line_read() makes of it */
        in->left = (uint64_t)v;
        in->st = I_PAYLOAD;
    } else if (!line_read(s, sink)) {
        return at;
    }
    if (in->st != I_PAYLOAD || in->left > n - at ||
        n - at - (size_t)in->left < 2 || p[at + in->left] != '\r' || p[at + in->left + 1] != '\n')
        return at;                   /* the payload, if any, read as it comes */
    if (in->depth)                   /* a reply's own bulk string keeps nothing */
        capture(in, p + at, (size_t)in->left);
    at += (size_t)in->left + 2;
    in->left = 0;
    in->st = I_TYPE;
    value_done(s, sink);
    return at;
}

/* The length of a bulk string, null or integer reply whole at p: its
 * bytes, 0 when it is not there whole (or is "$-0", an empty string). */
static inline size_t whole_number_reply(const uint8_t *p, size_t n)
{
    int neg = n > 1 && p[1] == '-';
    int64_t v;
    size_t at = ss_redis_whole_decimal(p + 1 + neg, n - 1 - neg, &v);
    size_t end = 1 + neg + at;

    if (at == 0 || v > RESP_MAX_LEN || (p[0] == '$' && neg && v == 0))
        return 0;
    if (p[0] != '$' || neg)
        return end;
    if ((uint64_t)v > n - end || n - end - (size_t)v < 2 || p[end + v] != '\r' ||
        p[end + v + 1] != '\n')
        return 0;
    return end + (size_t)v + 2;
}

/* The commonest replies: a status line, a bulk string, a null or an
 * integer at depth 0, whole, answering the plain command at the FIFO's
 * head (only +QUEUED in them changes the connection). Reported in one
 * step, the reader left as the pieces above would leave it; 0 when it is
 * not one (nothing read). */
static size_t whole_plain_reply(ss_redis_t *s, const uint8_t *p, size_t n,
                                const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    ss_redis_cmd_t *c = head(s);
    const uint8_t *cr = NULL;
    size_t end;

    if (c == NULL || c->kind != SS_RK_PLAIN || in->depth != 0)
        return 0;
    if (p[0] == '+') {
        cr = memchr(p + 1, '\r', n - 1);
        end = cr && (size_t)(cr - p) + 2 <= n && cr[1] == '\n' ? (size_t)(cr - p) + 2 : 0;
    } else {
        end = whole_number_reply(p, n);
    }
    if (end == 0)
        return 0;
    in->top = in->type = p[0];       /* what type_begin() and the reader leave */
    in->cap_len = 0;
    in->cap[0] = '\0';               /* all the reply's checks see of it */
    in->third = -1;
    in->left = 0;
    in->st = I_TYPE;
    if (cr) {
        memset(in->cap, 0, sizeof(in->cap));
        capture(in, p + 1, (size_t)(cr - p) - 1);
    }
    report(s, c, sink);
    pop(s);
    return end;
}

static int reply_feed(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink)
{
    ss_redis_in_t *in = &s->in;
    size_t i = 0;

    while (i < n && !s->dead) {
        if (in->st == I_TYPE) {
            uint8_t t = p[i];
            size_t used = t == '$' || t == ':' || t == '+'
                              ? whole_plain_reply(s, p + i, n - i, sink) : 0;
            if (used == 0)
                used = t == '+' || t == '-' ? whole_line(s, p + i, n - i, sink)
                     : t == '$' || t == '*' || t == ':' ? whole_number(s, p + i, n - i, sink)
                     : 0;
            if (used) {
                i += used;
                continue;
            }
        }
        if (in->st == I_PAYLOAD) {   /* skipped where it passes */
            size_t take = ss_redis_take(&in->left, n - i);
            capture(in, p + i, take);
            i += take;
            if (!in->left)
                in->st = I_PCR;
            continue;
        }
        if (!reply_byte(s, p[i++], sink))
            return 0;
    }
    return !s->dead;
}

int ss_redis_feed(ss_redis_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n,
                  const ss_db_sink_t *sink)
{
    int ok;

    if (s->dead)
        return 0;
    ok = dir == SS_DB_OUT ? ss_redis_cmd_feed(s, p, n, sink) : reply_feed(s, p, n, sink);
    end_if_drained(s);
    return ok && !s->dead;
}

/* ---- detection ---- */

static const char *const inline_words[] = {
    "PING", "AUTH", "HELLO", "SELECT", "INFO", "ECHO", "QUIT", "SET", "GET", "DEL", "EXISTS",
    "INCR", "DECR", "KEYS", "SCAN", "MGET", "MSET", "MULTI", "FLUSHALL", "FLUSHDB", "DBSIZE",
    "SUBSCRIBE", "PSUBSCRIBE", "PUBLISH", "MONITOR", "CLIENT", "CONFIG", "COMMAND", "LPUSH",
    "RPUSH", "LRANGE", "HGET", "HSET", "HGETALL", "SADD", "ZADD", "EXPIRE", "TTL", "TYPE", NULL,
};

/* "GET /x HTTP/1.1" is HTTP, not Redis: a GET line must end without it. */
static int http_like(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);

    if (!nl)
        return n < 256 ? -1 : 1;
    for (const uint8_t *q = p; q + 6 <= nl; q++)
        if (memcmp(q, " HTTP/", 6) == 0)
            return 1;
    return 0;
}

static int detect_inline(const uint8_t *p, size_t n)
{
    size_t w = 0;

    while (w < n && w < 16 && ((p[w] | 0x20) >= 'a' && (p[w] | 0x20) <= 'z'))
        w++;
    if (w == n)
        return w < 16 ? -1 : 0; /* sixteen letters: no command is that long */
    if (w == 0 || (p[w] != ' ' && p[w] != '\r' && p[w] != '\n'))
        return 0;
    for (int i = 0; inline_words[i]; i++) {
        if (strlen(inline_words[i]) != w || strncasecmp(inline_words[i], (const char *)p, w))
            continue;
        if (w == 3 && strncasecmp((const char *)p, "GET", 3) == 0) {
            int h = http_like(p, n);
            return h < 0 ? -1 : !h;
        }
        return 1;
    }
    return 0;
}

int ss_redis_detect(const uint8_t *p, size_t n, ss_db_dir_t dir)
{
    size_t i = 1;

    if (dir != SS_DB_OUT)
        return 0;
    if (n == 0)
        return -1;
    if (p[0] != '*')
        return detect_inline(p, n);
    while (i < n && i < 12 && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == n)
        return i < 12 ? -1 : 0;
    if (i == 1 || p[i] != '\r')
        return 0;
    if (++i == n)
        return -1;
    if (p[i] != '\n')
        return 0;
    if (++i == n)
        return -1;
    return p[i] == '$';
}
