/*
 * ss_sql.h - SQL text to span attributes: a tokenizer that never executes,
 * never allocates and reads each byte once.
 *
 * From a query's text it gives, as the database conventions say (shared
 * reference semconv-db):
 *   - the text sanitized: every literal (string, number, date, boolean,
 *     hex, binary) replaced by `?`, `IN (?, ?, ?)` collapsed to `IN (?)`,
 *     comments dropped, everything else as written;
 *   - the summary `{operation} {target} {operation} {target}...` in query
 *     order, at most 255 characters, no literal;
 *   - db.operation.name and db.collection.name when the query holds one
 *     operation on one table (as written, no case change).
 * Dialects differ in what quotes mean: PostgreSQL's "x" is an identifier
 * and $tag$...$tag$ and E'...' are strings; MySQL's "x" and `x` are a
 * string and an identifier, and # starts a comment.
 */
#ifndef SS_SQL_H
#define SS_SQL_H

#include <stddef.h>

#include "ss_db.h"

typedef enum { SS_SQL_POSTGRESQL, SS_SQL_MYSQL } ss_sql_dialect_t;

/* Fill op's query_text (sanitized, unless `parameterized`: a statement
 * with placeholders, taken as is), summary, operation and collection from
 * the n bytes of q. Fields already set are overwritten; text past a
 * field's cap is cut at a token boundary. */
void ss_sql_describe(const char *q, size_t n, ss_sql_dialect_t dialect, int parameterized,
                     ss_db_op_t *op);

#endif
