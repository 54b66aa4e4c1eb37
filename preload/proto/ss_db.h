/*
 * ss_db.h - what a database protocol module reports: one operation as the
 * caller sees it, from the first byte of its command written to the last
 * byte of its reply read (reference: shared semconv-db).
 *
 * Each database protocol (ss_pg.c, ss_mysql.c, ss_redis.c) is a leaf
 * module with the same shape: a fixed-size state per connection, fed the
 * bytes the program writes (SS_DB_OUT) and reads (SS_DB_IN) as they pass,
 * split anywhere, never buffering more than its caps, never allocating.
 * It tells the connection core two things through an ss_db_sink_t: a
 * command began (the core stamps the time and the parent context, and
 * hands back a tag), and an operation completed (its attributes, and the
 * tag of its command). Pipelined commands complete in the order sent.
 *
 * Every string is bounded and NUL-terminated; a value longer than its
 * field is cut, never at the cost of a literal left unsanitized (the SQL
 * and Redis text is sanitized before it is stored: ss_sql.h). Passwords,
 * parameter values and row data are never copied.
 */
#ifndef SS_DB_H
#define SS_DB_H

#include <stddef.h>
#include <stdint.h>

#define SS_DB_OPERATION_MAX 32
#define SS_DB_COLLECTION_MAX 64
#define SS_DB_NAMESPACE_MAX 64
#define SS_DB_QUERY_MAX 512
#define SS_DB_SUMMARY_MAX 256 /* 255 characters, as the conventions cap it */
#define SS_DB_STATUS_MAX 16

typedef enum { SS_DB_OUT = 0, SS_DB_IN = 1 } ss_db_dir_t;

/* The attributes of one operation (empty strings are left out). */
typedef struct ss_db_op {
    uint64_t tag;                                /* the sink's, from its command's start */
    char operation[SS_DB_OPERATION_MAX];         /* db.operation.name, as written */
    char collection[SS_DB_COLLECTION_MAX];       /* db.collection.name */
    char namespace_[SS_DB_NAMESPACE_MAX];        /* db.namespace */
    char query_text[SS_DB_QUERY_MAX];            /* db.query.text, sanitized */
    char summary[SS_DB_SUMMARY_MAX];             /* db.query.summary */
    char status_code[SS_DB_STATUS_MAX];          /* db.response.status_code on an error */
    uint32_t batch_size;                         /* db.operation.batch.size; 0: not a batch */
    uint8_t error;                               /* the server answered with an error */
} ss_db_op_t;

/* The attributes every span of a connection has alike, encoded once for
 * the connection (ss_db_conn.c keeps it, the exporter writes it:
 * ex_otlp_db_fixed) and copied into each span as they are: the head
 * (db.system.name, db.namespace) and the tail (server.address,
 * server.port, network.peer.address, network.peer.port) of its
 * attributes, the protobuf bytes the encoder would write for them. */
#define SS_DB_FIXED_MAX 320

typedef struct ss_db_fixed {
    uint16_t head_len, tail_len;                 /* bytes[0..head_len), then the tail's */
    uint8_t ns_len;                              /* strlen of the namespace it was made with */
    uint8_t bytes[SS_DB_FIXED_MAX];
} ss_db_fixed_t;

/* The database part of a span record: which system, and the operation. */
typedef struct ss_span_db {
    const char *system;                          /* db.system.name: a static string */
    uint16_t default_port;                       /* server.port is left out when it is this */
    /* Its connection's encoded attributes, made from this very record's
     * system, namespace and peer, or NULL (encoded field by field). Set
     * only as the span ends, under its connection's lock: never seen by
     * an in-flight copy, which outlives that lock. */
    const ss_db_fixed_t *fixed;
    ss_db_op_t op;
} ss_span_db_t;

typedef struct ss_db_sink {
    void *arg;
    /* The byte just fed begins a command: a tag for it (the core keeps its
     * start time and parent context under it). */
    uint64_t (*start)(void *arg);
    /* An operation completed: its reply was read whole. */
    void (*done)(void *arg, const ss_db_op_t *op);
    /* Optional: the record the operation of the command tagged tag ends
     * in, for the module to fill (every field) and pass to done() rather
     * than copied from one of its own; NULL when there is none. */
    ss_db_op_t *(*op_for)(void *arg, uint64_t tag);
} ss_db_sink_t;

#endif
