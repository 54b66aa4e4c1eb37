/*
 * ss_pg.h - the PostgreSQL frontend/backend protocol 3.0 followed from the
 * client's side: one operation per simple Query (to its ReadyForQuery) and
 * one per extended-protocol Execute (from the first Parse/Bind/Describe of
 * its group to its CommandComplete or error), pipelined ones matched to
 * their replies in order (ss_db.h).
 *
 * Fed the bytes as they pass, split anywhere; keeps only bounded prefixes
 * of the messages it reads (a query's text, a statement's name, an error's
 * fields), never a password, parameter value or row. Prepared statements
 * are remembered by name in a small table (parameterized text as is).
 */
#ifndef SS_PG_H
#define SS_PG_H

#include <stddef.h>
#include <stdint.h>

#include "ss_db.h"

#define SS_PG_FIFO_MAX 8   /* commands awaiting their replies */
#define SS_PG_STMT_MAX 8   /* named prepared statements remembered */
#define SS_PG_NAME_MAX 64  /* a statement name longer than this is not remembered */
#define SS_PG_TEXT_MAX 2048 /* bytes of a query's text read (the rest is cut) */
#define SS_PG_ERROR_MAX 256 /* bytes of an ErrorResponse read */

typedef struct {
    uint8_t hdr[8];
    uint8_t hlen, type, startup, nuls;
    uint32_t left, kept;
} ss_pg_dir_t;

typedef struct {
    uint8_t kind; /* query, execute, prepare-only, sync marker */
    uint16_t completions;
    ss_db_op_t op;
} ss_pg_entry_t;

typedef struct {
    char name[SS_PG_NAME_MAX];
    uint32_t age;
    ss_db_op_t op; /* described with its text as is */
} ss_pg_stmt_t;

typedef struct ss_pg {
    const char *why; /* set once the stream is let go */
    ss_pg_dir_t dir[2];
    uint8_t answer;     /* a one-byte reply to SSLRequest/GSSENCRequest awaited */
    uint8_t startup_done;
    char namespace_[SS_DB_NAMESPACE_MAX];
    /* the extended-protocol group being written */
    uint8_t unit_open, unit_traced, unit_bound, query_traced;
    uint64_t unit_tag;
    ss_db_op_t unit, last_bound;
    /* replies awaited, oldest first */
    ss_pg_entry_t fifo[SS_PG_FIFO_MAX];
    uint8_t head, count;
    /* past the FIFO: untraced until the replies of what was traced are in */
    uint8_t untracked;
    uint32_t untracked_z; /* ReadyForQuery replies owed to untraced commands */
    uint32_t untraced;    /* commands not traced for want of room (counter) */
    ss_pg_stmt_t stmt[SS_PG_STMT_MAX + 1]; /* [0]: the unnamed statement */
    uint32_t clock;
    uint8_t out_body[SS_PG_TEXT_MAX + SS_PG_NAME_MAX + 2];
    uint8_t in_body[SS_PG_ERROR_MAX];
} ss_pg_t;

void ss_pg_init(ss_pg_t *s);
/* 1: go on; 0: not (or no longer) followable, see ss_pg_why. */
int ss_pg_feed(ss_pg_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n, const ss_db_sink_t *sink);
/* Why the stream was let go: "tls", "gssenc", "cancel", "corrupt",
 * "protocol" (not protocol 3 / not PostgreSQL); NULL while followed. */
const char *ss_pg_why(const ss_pg_t *s);
/* The first bytes of a connection: 1 PostgreSQL, 0 not, -1 need more. */
int ss_pg_detect(const uint8_t *p, size_t n, ss_db_dir_t dir);

#endif
