/*
 * ss_sql.c - SQL text to span attributes (ss_sql.h): one pass of a
 * tokenizer that knows what each dialect quotes, feeding two writers.
 *
 * The text writer copies every token as written but a literal, which
 * becomes `?`; a comment becomes at most one space (so that the tokens
 * around it never merge into a new one, and the result described again
 * gives itself back). Two rewrites need what follows a token: a typed
 * literal (`DATE '...'`) is held until the next token says whether a
 * string follows, and an `IN (` list is rewound to `IN (?)` when it closes
 * holding only literals. Both rewind the writer's own output, never the
 * input.
 *
 * The summary writer sees only the significant tokens: operation keywords
 * (SELECT, INSERT, ... at any depth; CREATE TABLE, COPY, BEGIN, ... where
 * a statement starts) and the table names that FROM, JOIN, INTO, UPDATE,
 * USING and DDL put after them, in query order. A name followed by `(`
 * after FROM is a function, not a table. Literals never reach it.
 *
 * A literal is hidden whatever happens: an unterminated string, comment
 * or dollar quote runs to the end of the text; MySQL strings always take
 * backslash escapes (hiding more where the server would not). MySQL's `--`
 * is a comment only before a space or control byte (not at the very end,
 * so that a text cut after `--` describes to itself).
 */
#include "ss_sql.h"

#include <string.h>

typedef enum {
    T_SPACE,
    T_COMMENT,
    T_WORD,    /* keyword or unquoted identifier */
    T_QIDENT,  /* quoted identifier */
    T_LITERAL, /* string, number, hex, binary, boolean, typed literal */
    T_PARAM,   /* $1 or ? */
    T_PUNCT,   /* one byte of anything else */
} tok_kind_t;

typedef struct {
    tok_kind_t kind;
    size_t b, e; /* q[b..e) */
} tok_t;

#define DOLLAR_TAG_MAX 64 /* a longer tag is taken as a string to the end */
#define OP_DEPTH_MAX 16

typedef enum { OPK_SELECT, OPK_INSERT, OPK_UPDATE, OPK_DELETE, OPK_MERGE, OPK_OTHER } op_kind_t;

/* A bounded output: past its cap nothing more is written (cut at a token). */
typedef struct {
    char *buf;
    size_t len, cap;
    int full;
} out_t;

typedef struct {
    const char *q;
    size_t n;
    ss_sql_dialect_t dialect;
    int raw; /* parameterized: the text as is */
    out_t text, sum;

    /* held typed-literal keyword (sanitizing only) */
    int typed;
    size_t typed_at;
    tok_t typed_tok;
    /* IN-list collapse */
    int in_state;
    size_t in_at;
    unsigned in_items;

    /* summary */
    unsigned ops, targets;
    char op1[SS_DB_OPERATION_MAX];
    size_t t1b, t1e;
    struct {
        uint8_t kind;
        unsigned depth;
    } stack[OP_DEPTH_MAX];
    unsigned sp, depth;
    int stmt_start, no_subops, explain, ddl;
    long skip_depth; /* -1, or the depth to return to */
    tok_t ddl_verb, prev;
    int want, fn_ok, list_ok; /* a table name is expected next */
    int pending, dot;         /* a name read, maybe continued by .name */
    size_t tb, te;
    int after; /* after a name: 1 alias or ',', 2 after AS, 3 after an alias */
} sql_t;

/* ---- characters --------------------------------------------------------- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

static int ident_start(unsigned char c)
{
    return ((c | 32) >= 'a' && (c | 32) <= 'z') || c == '_' || c >= 0x80;
}

static int ident_char(unsigned char c)
{
    return ident_start(c) || is_digit(c) || c == '$';
}

static int tag_char(unsigned char c)
{
    return ident_start(c) || is_digit(c);
}

/* ---- tokens --------------------------------------------------------------- */

/* Past a run quoted by q[i]: a doubled quote stands for itself, and with
 * `backslash` a \ takes the next byte. Unterminated: the end. */
static size_t skip_quoted(const char *q, size_t n, size_t i, int backslash)
{
    char quote = q[i];

    for (i++; i < n; i++) {
        if (backslash && q[i] == '\\') {
            i++;
            continue;
        }
        if (q[i] == quote) {
            if (i + 1 < n && q[i + 1] == quote) {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    return n;
}

/* The length of the `$tag$` opening a dollar quote at q[i], or 0. */
static size_t dollar_tag(const char *q, size_t n, size_t i)
{
    size_t j = i + 1;

    if (j < n && q[j] == '$')
        return 2;
    if (j >= n || !ident_start((unsigned char)q[j]) || q[j] == '$')
        return 0;
    while (j < n && tag_char((unsigned char)q[j]))
        j++;
    return j < n && q[j] == '$' ? j + 1 - i : 0;
}

/* Past the dollar quote opened by the len-byte tag at q[i]. */
static size_t skip_dollar(const char *q, size_t n, size_t i, size_t len)
{
    size_t j;

    if (len > DOLLAR_TAG_MAX)
        return n;
    for (j = i + len; j + len <= n; j++)
        if (q[j] == '$' && memcmp(q + j, q + i, len) == 0)
            return j + len;
    return n;
}

/* Past a comment starting at q[i], or i when none starts there. */
static size_t skip_comment(const sql_t *s, size_t i)
{
    const char *q = s->q;
    size_t n = s->n, depth = 0;

    if (q[i] == '-' && i + 1 < n && q[i + 1] == '-' &&
        (s->dialect != SS_SQL_MYSQL || (i + 2 < n && (unsigned char)q[i + 2] <= ' '))) {
        while (i < n && q[i] != '\n')
            i++;
        return i;
    }
    if (q[i] == '#' && s->dialect == SS_SQL_MYSQL) {
        while (i < n && q[i] != '\n')
            i++;
        return i;
    }
    if (q[i] != '/' || i + 1 >= n || q[i + 1] != '*')
        return i;
    for (i += 2; i < n; i++) {
        if (s->dialect == SS_SQL_POSTGRESQL && q[i] == '/' && i + 1 < n && q[i + 1] == '*') {
            depth++;
            i++;
        } else if (q[i] == '*' && i + 1 < n && q[i + 1] == '/') {
            if (depth-- == 0)
                return i + 2;
            i++;
        }
    }
    return n;
}

static size_t skip_digits(const char *q, size_t n, size_t i)
{
    while (i < n && (is_digit((unsigned char)q[i]) ||
                     (q[i] == '_' && i + 1 < n && is_digit((unsigned char)q[i + 1]))))
        i++;
    return i;
}

/* Past a number at q[i] (a digit, or '.' then a digit). */
static size_t skip_number(const char *q, size_t n, size_t i)
{
    if (q[i] == '0' && i + 2 < n) {
        char base = (char)(q[i + 1] | 32);
        size_t j = i + 2;

        if (base == 'x' && is_hex((unsigned char)q[j])) {
            while (j < n && is_hex((unsigned char)q[j]))
                j++;
            return j;
        }
        if ((base == 'b' && (q[j] == '0' || q[j] == '1')) ||
            (base == 'o' && q[j] >= '0' && q[j] <= '7')) {
            while (j < n && is_digit((unsigned char)q[j]))
                j++;
            return j;
        }
    }
    i = skip_digits(q, n, i);
    if (i < n && q[i] == '.')
        i = skip_digits(q, n, i + 1);
    if (i < n && (q[i] | 32) == 'e') {
        size_t j = i + 1;

        if (j < n && (q[j] == '+' || q[j] == '-'))
            j++;
        if (j < n && is_digit((unsigned char)q[j]))
            i = skip_digits(q, n, j);
    }
    return i;
}

/* A string with a one- or two-byte prefix (E'', X'', B'', N'', U&''):
 * past it, or 0 when q[i] does not start one. */
static size_t prefixed_string(const sql_t *s, size_t i, tok_kind_t *kind)
{
    const char *q = s->q;
    size_t n = s->n;
    char c = (char)(q[i] | 32);

    if (i + 1 < n && q[i + 1] == '\'') {
        if (c == 'x' || c == 'b' || c == 'n')
            return skip_quoted(q, n, i + 1, s->dialect == SS_SQL_MYSQL);
        if (c == 'e' && s->dialect == SS_SQL_POSTGRESQL)
            return skip_quoted(q, n, i + 1, 1);
    }
    if (c == 'u' && s->dialect == SS_SQL_POSTGRESQL && i + 2 < n && q[i + 1] == '&' &&
        (q[i + 2] == '\'' || q[i + 2] == '"')) {
        *kind = q[i + 2] == '"' ? T_QIDENT : T_LITERAL;
        return skip_quoted(q, n, i + 2, 0);
    }
    return 0;
}

static tok_t next_token(const sql_t *s, size_t i)
{
    const char *q = s->q;
    size_t n = s->n, e;
    unsigned char c = (unsigned char)q[i];
    tok_t t = {T_PUNCT, i, i + 1};

    if (is_space(c)) {
        for (e = i; e < n && is_space((unsigned char)q[e]); e++)
            ;
        t.kind = T_SPACE;
        t.e = e;
    } else if ((e = skip_comment(s, i)) != i) {
        t.kind = T_COMMENT;
        t.e = e;
    } else if (c == '\'') {
        t.kind = T_LITERAL;
        t.e = skip_quoted(q, n, i, s->dialect == SS_SQL_MYSQL);
    } else if (c == '"') {
        t.kind = s->dialect == SS_SQL_MYSQL ? T_LITERAL : T_QIDENT;
        t.e = skip_quoted(q, n, i, s->dialect == SS_SQL_MYSQL);
    } else if (c == '`' && s->dialect == SS_SQL_MYSQL) {
        t.kind = T_QIDENT;
        t.e = skip_quoted(q, n, i, 0);
    } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)q[i + 1]))) {
        t.kind = T_LITERAL;
        t.e = skip_number(q, n, i);
    } else if (c == '$' && i + 1 < n && is_digit((unsigned char)q[i + 1])) {
        for (e = i + 1; e < n && is_digit((unsigned char)q[e]); e++)
            ;
        t.kind = T_PARAM;
        t.e = e;
    } else if (c == '$' && s->dialect == SS_SQL_POSTGRESQL && (e = dollar_tag(q, n, i)) != 0) {
        t.kind = T_LITERAL;
        t.e = skip_dollar(q, n, i, e);
    } else if (c == '?') {
        t.kind = T_PARAM;
    } else if (ident_start(c)) {
        t.kind = T_LITERAL;
        if ((e = prefixed_string(s, i, &t.kind)) == 0) {
            for (e = i; e < n && ident_char((unsigned char)q[e]); e++)
                ;
            t.kind = T_WORD;
        }
        t.e = e;
    }
    return t;
}

/* ---- words ---------------------------------------------------------------- */

/* t's first byte in upper case (0 for a token that is not a word). */
static inline char word_initial(const sql_t *s, tok_t t)
{
    char c = t.kind == T_WORD && t.e > t.b ? s->q[t.b] : '\0';

    return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

/* The rest of is_kw, once the first bytes matched. */
static int kw_rest(const sql_t *s, tok_t t, const char *kw)
{
    size_t len = t.e - t.b, k;

    for (k = 1; k < len; k++) {
        char c = s->q[t.b + k];

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c != kw[k] || c == '\0')
            return 0;
    }
    return kw[len] == '\0';
}

/* Is t the keyword kw (upper case), in any case? Inline up to the first
 * byte, and no strlen of kw: most words differ from most keywords there. */
static inline int is_kw(const sql_t *s, tok_t t, const char *kw)
{
    char c0 = word_initial(s, t);

    return c0 != '\0' && c0 == kw[0] && kw_rest(s, t, kw);
}

/* Is t one of the keywords of list? */
static int in_list(const sql_t *s, tok_t t, const char *const *list)
{
    char c0 = word_initial(s, t);

    if (c0 == '\0')
        return 0;
    for (; *list; list++)
        if ((*list)[0] == c0 && kw_rest(s, t, *list))
            return 1;
    return 0;
}

static int is_punct(const sql_t *s, tok_t t, char c)
{
    return t.kind == T_PUNCT && s->q[t.b] == c;
}

/* Words that end a table list: never a table name nor an alias. */
static const char *const reserved[] = {
    "WHERE", "SET", "VALUES", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER",
    "CROSS", "NATURAL", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "UNION", "INTERSECT",
    "EXCEPT", "WINDOW", "FOR", "RETURNING", "SELECT", "FROM", "AS", "DEFAULT", "WHEN", "THEN",
    "INTO", "FETCH", "STRAIGHT_JOIN", "TABLESAMPLE", "USE", "FORCE", "AND", "OR", "WITH",
    "ADD", "DROP", "ALTER", "RENAME", "OVERRIDING", "DO", "INSERT", "UPDATE", "DELETE",
    "MERGE", "PARTITION", "LOCK", "IN", "NOT", "IS", "NULL", "BY", "ORDER", "CASCADE",
    "RESTRICT", NULL};

/* Skipped between a keyword and its table: DELETE FROM ONLY t, ... */
static const char *const name_modifiers[] = {
    "ONLY", "LATERAL", "IF", "NOT", "EXISTS", "TABLE", "LOW_PRIORITY", "IGNORE",
    "CONCURRENTLY", "DELAYED", "HIGH_PRIORITY", "QUICK", NULL};

/* Skipped between CREATE/ALTER/DROP and the kind of object. */
static const char *const ddl_modifiers[] = {
    "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE",
    "MATERIALIZED", "RECURSIVE", "FOREIGN", "TRUSTED", "PROCEDURAL", "CONSTRAINT", NULL};

/* DDL whose object is a table (its name is the target). */
static const char *const ddl_tables[] = {"TABLE", "VIEW", NULL};

/* Statements known by their first word only. */
static const char *const statements[] = {
    "BEGIN", "COMMIT", "ROLLBACK", "END", "START", "SAVEPOINT", "RELEASE", "ABORT", "SET",
    "SHOW", "RESET", "CALL", "VACUUM", "ANALYZE", "PREPARE", "EXECUTE", "DEALLOCATE",
    "LISTEN", "NOTIFY", "UNLISTEN", "DISCARD", "CHECKPOINT", "FETCH", "CLOSE", "DECLARE",
    "MOVE", "REFRESH", "DO", "USE", "DESCRIBE", "DESC", "REINDEX", "CLUSTER", "COMMENT",
    "LOAD", "HANDLER", "OPTIMIZE", "KILL", "FLUSH", "RENAME", "VALUES", "TABLE", NULL};

/* After these an INSERT/UPDATE/DELETE is a clause, not an operation
 * (FOR UPDATE, ON CONFLICT DO UPDATE, ON DELETE CASCADE, THEN INSERT, ...). */
static const char *const clause_leads[] = {
    "FOR", "DO", "THEN", "KEY", "ON", "NO", "OR", "BEFORE", "AFTER", "OF", "INSTEAD", NULL};

/* ---- writers -------------------------------------------------------------- */

static void out_init(out_t *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->full = 0;
    buf[0] = '\0';
}

static void out_put(out_t *o, const char *p, size_t n)
{
    if (o->full)
        return;
    if (n >= o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_rewind(out_t *o, size_t at)
{
    o->len = at;
    o->buf[at] = '\0';
}

/* One summary piece, space-separated; a piece that does not fit ends it. */
static void summary_put(sql_t *s, const char *p, size_t n)
{
    size_t sep = s->sum.len ? 1 : 0;

    if (s->sum.full)
        return;
    if (sep + n >= s->sum.cap - s->sum.len) {
        s->sum.full = 1;
        return;
    }
    out_put(&s->sum, " ", sep);
    out_put(&s->sum, p, n);
}

/* ---- summary -------------------------------------------------------------- */

static void op_begin(sql_t *s, op_kind_t kind, const char *name, size_t len)
{
    if (++s->ops == 1 && len < sizeof(s->op1)) {
        memcpy(s->op1, name, len);
        s->op1[len] = '\0';
    }
    summary_put(s, name, len);
    if (s->sp < OP_DEPTH_MAX) {
        s->stack[s->sp].kind = (uint8_t)kind;
        s->stack[s->sp].depth = s->depth;
        s->sp++;
    }
}

static void op_word(sql_t *s, op_kind_t kind, tok_t t)
{
    op_begin(s, kind, s->q + t.b, t.e - t.b);
}

/* The innermost operation, when it is at this depth and one of kinds. */
static int top_is(const sql_t *s, unsigned kinds)
{
    if (s->sp == 0 || s->stack[s->sp - 1].depth != s->depth)
        return 0;
    return (kinds >> s->stack[s->sp - 1].kind) & 1;
}

#define K(x) (1u << (x))

static void want_name(sql_t *s, int fn_ok, int list_ok)
{
    s->want = 1;
    s->fn_ok = fn_ok;
    s->list_ok = list_ok;
    s->after = 0;
}

static void commit_target(sql_t *s)
{
    s->pending = 0;
    s->dot = 0;
    if (++s->targets == 1) {
        s->t1b = s->tb;
        s->t1e = s->te;
    }
    summary_put(s, s->q + s->tb, s->te - s->tb);
    s->after = 1;
}

/* A name being read: continued by `.name` written tight, dropped when `(`
 * makes it a function, else committed. 1 when t was taken. */
static int name_continues(sql_t *s, tok_t t)
{
    if (!s->dot && is_punct(s, t, '.') && t.b == s->te) {
        s->dot = 1;
        return 1;
    }
    if (s->dot && (t.kind == T_WORD || t.kind == T_QIDENT) && t.b == s->te + 1) {
        s->dot = 0;
        s->te = t.e;
        return 1;
    }
    if (is_punct(s, t, '(') && s->fn_ok) {
        s->pending = 0;
        s->dot = 0;
        return 0;
    }
    commit_target(s);
    return 0;
}

/* A table name expected: modifiers skipped, a name taken. 1 when t was taken. */
static int want_step(sql_t *s, tok_t t)
{
    if (in_list(s, t, name_modifiers))
        return 1;
    s->want = 0;
    if ((t.kind == T_WORD && !in_list(s, t, reserved)) || t.kind == T_QIDENT) {
        s->pending = 1;
        s->tb = t.b;
        s->te = t.e;
        return 1;
    }
    return 0;
}

/* After a table name: [AS] alias, then ',' for another. 1 when t was taken. */
static int alias_step(sql_t *s, tok_t t)
{
    int state = s->after;
    int name = (t.kind == T_WORD && !in_list(s, t, reserved)) || t.kind == T_QIDENT;

    s->after = 0;
    if (is_punct(s, t, ',') && s->list_ok && state != 2) {
        want_name(s, s->fn_ok, 1);
        return 1;
    }
    if (state == 1 && is_kw(s, t, "AS")) {
        s->after = 2;
        return 1;
    }
    if (state != 3 && name) {
        s->after = 3;
        return 1;
    }
    return 0;
}

static void end_statement(sql_t *s)
{
    if (s->pending)
        commit_target(s);
    if (s->ddl)
        op_word(s, OPK_OTHER, s->ddl_verb);
    s->stmt_start = 1;
    s->depth = 0;
    s->sp = 0;
    s->want = s->after = s->ddl = s->explain = s->no_subops = 0;
    s->skip_depth = -1;
}

/* CREATE/ALTER/DROP [modifiers] KIND [IF [NOT] EXISTS] name */
static void ddl_step(sql_t *s, tok_t t)
{
    char name[SS_DB_OPERATION_MAX];
    size_t vlen = s->ddl_verb.e - s->ddl_verb.b, klen = t.e - t.b;

    if (t.kind == T_WORD && in_list(s, t, ddl_modifiers))
        return;
    s->ddl = 0;
    if (t.kind != T_WORD || vlen + 1 + klen >= sizeof(name)) {
        op_word(s, OPK_OTHER, s->ddl_verb);
        return;
    }
    memcpy(name, s->q + s->ddl_verb.b, vlen);
    name[vlen] = ' ';
    memcpy(name + vlen + 1, s->q + t.b, klen);
    op_begin(s, OPK_OTHER, name, vlen + 1 + klen);
    if (in_list(s, t, ddl_tables))
        want_name(s, 0, is_kw(s, s->ddl_verb, "DROP"));
}

/* The first word of a statement: 1 when it was taken. */
static int statement_word(sql_t *s, tok_t t)
{
    if (s->explain && (is_kw(s, t, "ANALYZE") || is_kw(s, t, "VERBOSE")))
        return 1;
    s->stmt_start = 0;
    if (is_kw(s, t, "WITH"))
        return 1;
    if (is_kw(s, t, "CREATE") || is_kw(s, t, "ALTER") || is_kw(s, t, "DROP")) {
        s->ddl = 1;
        s->ddl_verb = t;
        return 1;
    }
    if (is_kw(s, t, "EXPLAIN")) {
        op_word(s, OPK_OTHER, t);
        s->explain = 1;
        s->stmt_start = 1;
        return 1;
    }
    if (is_kw(s, t, "GRANT") || is_kw(s, t, "REVOKE")) {
        op_word(s, OPK_OTHER, t);
        s->no_subops = 1;
        return 1;
    }
    if (is_kw(s, t, "TRUNCATE") || is_kw(s, t, "LOCK") || is_kw(s, t, "COPY")) {
        op_word(s, OPK_OTHER, t);
        want_name(s, 0, !is_kw(s, t, "COPY"));
        return 1;
    }
    if (is_kw(s, t, "REPLACE") && s->dialect == SS_SQL_MYSQL) {
        op_word(s, OPK_INSERT, t);
        return 1;
    }
    if (in_list(s, t, statements)) {
        op_word(s, OPK_OTHER, t);
        return 1;
    }
    return 0;
}

static void word_step(sql_t *s, tok_t t)
{
    int clause = s->prev.kind == T_WORD ? in_list(s, s->prev, clause_leads)
                                        : is_punct(s, s->prev, ',');

    if (s->stmt_start && statement_word(s, t))
        return;
    if (s->ddl) {
        ddl_step(s, t);
        return;
    }
    if (s->no_subops)
        return;
    if (is_kw(s, t, "SELECT")) {
        op_word(s, OPK_SELECT, t);
    } else if (is_kw(s, t, "INSERT") && !clause) {
        op_word(s, OPK_INSERT, t);
    } else if (is_kw(s, t, "UPDATE") && !clause) {
        op_word(s, OPK_UPDATE, t);
        want_name(s, 0, 1);
    } else if (is_kw(s, t, "DELETE") && !clause) {
        op_word(s, OPK_DELETE, t);
    } else if (is_kw(s, t, "MERGE") && !clause) {
        op_word(s, OPK_MERGE, t);
    } else if (is_kw(s, t, "FROM")) {
        if (top_is(s, K(OPK_SELECT) | K(OPK_DELETE) | K(OPK_UPDATE)))
            want_name(s, 1, 1);
    } else if (is_kw(s, t, "JOIN")) {
        if (top_is(s, K(OPK_SELECT) | K(OPK_DELETE) | K(OPK_UPDATE)))
            want_name(s, 1, 0);
    } else if (is_kw(s, t, "INTO")) {
        if (top_is(s, K(OPK_INSERT) | K(OPK_MERGE)))
            want_name(s, 0, 0);
    } else if (is_kw(s, t, "USING")) {
        if (top_is(s, K(OPK_MERGE) | K(OPK_DELETE)))
            want_name(s, 1, 0);
    }
}

static void paren_step(sql_t *s, tok_t t)
{
    if (is_punct(s, t, '(')) {
        if (s->stmt_start && s->explain)
            s->skip_depth = (long)s->depth;
        else
            s->stmt_start = 0;
        s->depth++;
    } else if (s->depth > 0) {
        s->depth--;
        while (s->sp > 0 && s->stack[s->sp - 1].depth > s->depth)
            s->sp--;
    }
    s->want = s->after = 0;
}

/* One significant token (not space, not comment) into the summary. */
static void summary_feed(sql_t *s, tok_t t)
{
    if (s->pending && name_continues(s, t))
        return;
    if (s->skip_depth >= 0) {
        if (is_punct(s, t, '('))
            s->depth++;
        else if (is_punct(s, t, ')') && --s->depth == (unsigned long)s->skip_depth)
            s->skip_depth = -1;
    } else if (is_punct(s, t, ';')) {
        end_statement(s);
    } else if (is_punct(s, t, '(') || is_punct(s, t, ')')) {
        paren_step(s, t);
    } else if (s->after && alias_step(s, t)) {
        ;
    } else if (s->want && want_step(s, t)) {
        ;
    } else if (t.kind == T_WORD) {
        word_step(s, t);
    } else {
        s->stmt_start = 0;
        s->want = 0;
    }
    s->prev = t;
}

/* ---- sanitized text ------------------------------------------------------- */

static void text_raw(sql_t *s, tok_t t)
{
    out_put(&s->text, s->q + t.b, t.e - t.b);
}

/* `IN (` then only literals (each maybe signed) and ',' up to `)`. */
static void in_feed(sql_t *s, tok_t t)
{
    int item = t.kind == T_LITERAL || (t.kind == T_PARAM && s->q[t.b] == '?');

    switch (s->in_state) {
    case 1:
        if (is_punct(s, t, '(')) {
            s->in_state = 2;
            s->in_at = s->text.len;
            s->in_items = 0;
            return;
        }
        break;
    case 2:
    case 3:
        if (item) {
            s->in_items++;
            s->in_state = 4;
            return;
        }
        if (s->in_state == 2 && (is_punct(s, t, '-') || is_punct(s, t, '+'))) {
            s->in_state = 3;
            return;
        }
        break;
    case 4:
        if (is_punct(s, t, ',')) {
            s->in_state = 2;
            return;
        }
        if (is_punct(s, t, ')') && s->in_items > 1 && !s->text.full) {
            out_rewind(&s->text, s->in_at);
            out_put(&s->text, "?)", 2);
        }
        break;
    }
    s->in_state = is_kw(s, t, "IN") ? 1 : 0;
}

/* A significant token after the text writer placed it. */
static void significant(sql_t *s, tok_t t)
{
    if (!s->raw)
        in_feed(s, t);
    summary_feed(s, t);
}

static int typed_keyword(const sql_t *s, tok_t t)
{
    return is_kw(s, t, "DATE") || is_kw(s, t, "TIME") || is_kw(s, t, "TIMESTAMP") ||
           is_kw(s, t, "INTERVAL");
}

/* What a dropped comment leaves: nothing at the start or after a space, a
 * space elsewhere (the tokens around it stay apart), but an empty comment
 * after MySQL's `--` (which a space would turn into a comment). */
static void comment_gap(sql_t *s)
{
    const char *end = s->text.buf + s->text.len;

    if (s->text.len == 0 || is_space((unsigned char)end[-1]))
        return;
    if (s->dialect == SS_SQL_MYSQL && s->text.len >= 2 && end[-1] == '-' && end[-2] == '-')
        out_put(&s->text, "/**/", 4);
    else
        out_put(&s->text, " ", 1);
}

static void sanitize_token(sql_t *s, tok_t t)
{
    if (t.kind == T_SPACE) {
        text_raw(s, t);
        return;
    }
    if (t.kind == T_COMMENT) {
        comment_gap(s);
        return;
    }
    if (s->typed) {
        s->typed = 0;
        if (t.kind == T_LITERAL && (s->q[t.b] == '\'' || s->q[t.b] == '"')) {
            if (!s->text.full)
                out_rewind(&s->text, s->typed_at);
            t.b = s->typed_tok.b;
        } else {
            significant(s, s->typed_tok);
        }
    }
    if (t.kind == T_WORD && (is_kw(s, t, "TRUE") || is_kw(s, t, "FALSE")))
        t.kind = T_LITERAL;
    if (t.kind == T_LITERAL) {
        out_put(&s->text, "?", 1);
    } else if (t.kind == T_WORD && typed_keyword(s, t)) {
        s->typed = 1;
        s->typed_at = s->text.len;
        s->typed_tok = t;
        text_raw(s, t);
        return;
    } else {
        text_raw(s, t);
    }
    significant(s, t);
}

static void raw_token(sql_t *s, tok_t t)
{
    text_raw(s, t);
    if (t.kind != T_SPACE && t.kind != T_COMMENT)
        significant(s, t);
}

/* ---- entry ---------------------------------------------------------------- */

static void copy_field(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        n = 0;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

void ss_sql_describe(const char *q, size_t n, ss_sql_dialect_t dialect, int parameterized,
                     ss_db_op_t *op)
{
    static const sql_t zero;
    const char *nul = n ? memchr(q, '\0', n) : NULL;
    sql_t s = zero;
    size_t i = 0;

    s.q = q;
    s.n = nul ? (size_t)(nul - q) : n;
    s.dialect = dialect;
    s.raw = parameterized;
    s.stmt_start = 1;
    s.skip_depth = -1;
    s.prev.kind = T_SPACE;
    out_init(&s.text, op->query_text, sizeof(op->query_text));
    out_init(&s.sum, op->summary, sizeof(op->summary));
    while (i < s.n) {
        tok_t t = next_token(&s, i);

        if (s.raw)
            raw_token(&s, t);
        else
            sanitize_token(&s, t);
        i = t.e;
    }
    if (s.typed)
        significant(&s, s.typed_tok);
    end_statement(&s);
    copy_field(op->operation, sizeof(op->operation), s.op1, s.ops == 1 ? strlen(s.op1) : 0);
    copy_field(op->collection, sizeof(op->collection), q + s.t1b,
               s.ops == 1 && s.targets == 1 ? s.t1e - s.t1b : 0);
}
