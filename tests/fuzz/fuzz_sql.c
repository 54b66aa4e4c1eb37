/*
 * fuzz_sql.c - libFuzzer target for the SQL tokenizer (ss_sql.h).
 *
 * Input: a flags byte (bit 0: MySQL, bit 1: parameterized, bit 2: build
 * the text from tokens), then bytes. Whatever they are:
 *   - every field is NUL-terminated within its cap, the summary within 255;
 *   - the sanitized text described again gives itself back;
 *   - built from tokens (one per byte, each a well-formed piece of the
 *     dialect, separated by spaces), no byte of a string literal's content
 *     (all made of the marker byte 0x01) survives in any field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_sql.h"

#define BUILT_MAX 4096

static void bounded(const char *field, size_t cap)
{
    if (!memchr(field, '\0', cap))
        abort();
}

static void check_fields(const ss_db_op_t *op)
{
    bounded(op->operation, sizeof(op->operation));
    bounded(op->collection, sizeof(op->collection));
    bounded(op->query_text, sizeof(op->query_text));
    bounded(op->summary, sizeof(op->summary));
    if (strlen(op->summary) > 255)
        abort();
}

static void no_marker(const ss_db_op_t *op, int text_too)
{
    if (strchr(op->summary, 1) || strchr(op->operation, 1) || strchr(op->collection, 1) ||
        (text_too && strchr(op->query_text, 1)))
        abort();
}

/* Pieces the builder picks from: literals hold the marker byte. */
static const char *const common[] = {
    "SELECT", "FROM", "t", "s.t", "(", ")", ",", ";", "IN", "INSERT", "INTO", "VALUES",
    "UPDATE", "SET", "=", "WHERE", "JOIN", "ON", "DATE", "TRUE", "NULL", "-", "+", "*", "/",
    "1", "1.5e-3", ".5", "0x1F", "?", "WITH", "AS", "CREATE", "TABLE", "DELETE", "--\x01\n",
    "/*\x01*/", "'\x01'", "'\x01''\x01'", "X'\x01'", "B'\x01'", "N'\x01'", "$", ".", "a$b",
    "FOR", "DO", "EXPLAIN", "COPY", "\n",
};
static const char *const postgresql[] = {
    "\"q\"", "$1", "$$\x01$$", "$a$\x01$a$", "E'\x01\\'\x01'", "/* /*\x01*/ \x01*/",
    "U&'\x01'", "U&\"u\"", "::",
};
static const char *const mysql[] = {
    "`q`", "\"\x01\\\"\x01\"", "'\x01\\'\x01'", "#\x01\n", "-- \x01\n", "_utf8'\x01'", "--",
};
/* Unterminated: only ever the last piece. */
static const char *const open_pg[] = {"'\x01", "$a$\x01", "E'\x01\\'"};
static const char *const open_my[] = {"'\x01\\'", "\"\x01", "/*\x01"};

static size_t build(const uint8_t *data, size_t size, int my, char *out)
{
    size_t len = 0, i, n, nc = sizeof(common) / sizeof(*common);
    const char *const *dial = my ? mysql : postgresql;
    size_t nd = my ? sizeof(mysql) / sizeof(*mysql) : sizeof(postgresql) / sizeof(*postgresql);

    for (i = 0; i < size; i++) {
        size_t k = data[i] % (nc + nd + 1);
        const char *p = k < nc ? common[k] : k < nc + nd ? dial[k - nc] : NULL;

        if (!p) { /* the next byte picks an unterminated piece, the last */
            const char *const *open = my ? open_my : open_pg;

            p = open[i + 1 < size ? data[i + 1] % 3 : 0];
            i = size;
        }
        n = strlen(p);
        if (len + n + 1 >= BUILT_MAX)
            break;
        memcpy(out + len, p, n);
        len += n;
        out[len++] = ' ';
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char built[BUILT_MAX];
    ss_db_op_t op, again;
    ss_sql_dialect_t d;
    int parameterized;
    const char *q;
    size_t n;

    if (size < 1)
        return 0;
    d = (data[0] & 1) ? SS_SQL_MYSQL : SS_SQL_POSTGRESQL;
    parameterized = (data[0] & 2) != 0;
    if (data[0] & 4) {
        n = build(data + 1, size - 1, d == SS_SQL_MYSQL, built);
        q = built;
    } else {
        q = (const char *)data + 1;
        n = size - 1;
    }
    memset(&op, 0xff, sizeof(op));
    ss_sql_describe(q, n, d, parameterized, &op);
    check_fields(&op);
    if (data[0] & 4)
        no_marker(&op, !parameterized);
    if (!parameterized) {
        ss_sql_describe(op.query_text, strlen(op.query_text), d, 0, &again);
        check_fields(&again);
        if (strcmp(again.query_text, op.query_text) != 0)
            abort();
    }
    return 0;
}
