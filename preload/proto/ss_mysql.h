/*
 * ss_mysql.h - the client side of the MySQL / MariaDB classic protocol,
 * followed byte by byte as the program writes and reads it, reporting one
 * operation per command through an ss_db_sink_t (ss_db.h).
 *
 * It follows the server's greeting (protocol 10: version, capabilities),
 * the client's HandshakeResponse41 (its database is db.namespace; the auth
 * data is skipped, never copied), the auth exchanges up to OK or ERR, and
 * then the commands: COM_QUERY (multi-statements, multiple result sets,
 * LOCAL INFILE), COM_INIT_DB and `USE db`, COM_STMT_PREPARE / EXECUTE /
 * FETCH / RESET / CLOSE / SEND_LONG_DATA (the statement id giving its
 * text), COM_PING, COM_QUIT, COM_CHANGE_USER and the other one-reply
 * commands. Result sets are counted past, never copied.
 *
 * A command's start() is called at its command byte (the first byte of
 * its payload); commands the server never answers (COM_QUIT,
 * COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA) get none. done() comes when
 * the reply's last packet was read: for COM_QUERY, the last result set
 * (SERVER_MORE_RESULTS_EXISTS clear). db.operation.name is the SQL's, or
 * the command's name (COM_PING, COM_INIT_DB, COM_CHANGE_USER...) when
 * there is no SQL text. Past SS_MYSQL_OPS commands awaiting replies, the
 * next go untraced (counted in `untraced`) and their replies are still
 * read in order.
 *
 * It lets go (ss_mysql_feed returns 0, ss_mysql_why says why) when:
 *   "tls"         the SSL request was sent: the TLS hooks see the
 *                 plaintext, and ss_mysql_tls resumes this state on it;
 *   "compressed"  CLIENT_COMPRESS (or zstd) on both sides: bytes untouched;
 *   "metadata"    MySQL's optional result set metadata was negotiated;
 *   "protocol"    the client speaks the pre-4.1 protocol;
 *   "greeting", "handshake"  not a protocol 10 greeting and answer;
 *   "auth_error"  the server refused the login;
 *   "sequence", "command", "reply"  a frame, command or reply out of
 *                 place (replication and unknown commands included);
 *   "pipeline"    more than SS_MYSQL_PENDING commands awaiting replies.
 */
#ifndef SS_MYSQL_H
#define SS_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "ss_db.h"

#define SS_MYSQL_PENDING 16    /* commands awaiting their reply; past it, let go */
#define SS_MYSQL_OPS 4         /* of them traced; past it, untraced and counted */
#define SS_MYSQL_STMTS 8       /* prepared statements remembered (least recently used goes) */
#define SS_MYSQL_TEXT_MAX 2048 /* bytes of a command's SQL text read; the rest is cut */
#define SS_MYSQL_HEAD_MAX 160  /* bytes of a reply packet kept (the greeting's need) */
#define SS_MYSQL_VERSION_MAX 64

/* One direction's framing: 3-byte little-endian length, sequence id. */
typedef struct ss_mysql_wire {
    uint8_t hdr[4], hlen; /* the current physical packet's header, bytes read */
    uint8_t seq;          /* the logical packet's first sequence id */
    uint8_t more;         /* this physical packet is 0xffffff long: the payload goes on */
    uint8_t open;         /* inside a logical packet */
    uint32_t left;        /* payload bytes left in the physical packet */
    uint32_t first_len;   /* the first physical packet's length */
    uint64_t off;         /* offset in the logical payload */
} ss_mysql_wire_t;

/* A prepared statement's attributes, from its COM_STMT_PREPARE. */
typedef struct ss_mysql_stmt {
    uint32_t id;
    uint32_t used;     /* 0: free; else the clock of its last use */
    ss_db_op_t attrs;  /* operation, collection, query_text, summary */
} ss_mysql_stmt_t;

/* A command sent and not yet answered. */
typedef struct ss_mysql_pending {
    uint8_t cmd;     /* COM_* byte */
    int8_t slot;     /* its ops[] slot; -1: untraced */
    uint8_t sets_db; /* on OK the connection's database becomes op's namespace_ (or unknown) */
    uint8_t drops_stmts; /* on OK the server forgets every prepared statement */
} ss_mysql_pending_t;

typedef struct ss_mysql {
    /* private: */
    uint8_t phase, failed, tls_from;
    const char *why;
    uint64_t srv_caps, cli_caps, caps; /* caps: both (MariaDB's extended ones above bit 31) */
    char version[SS_MYSQL_VERSION_MAX];
    char namespace_[SS_DB_NAMESPACE_MAX];
    ss_mysql_wire_t wire[2];
    /* the reply being read */
    uint8_t head[SS_MYSQL_HEAD_MAX];
    uint16_t head_len, head_cap;
    uint8_t rs;          /* where in the reply */
    uint64_t rs_left;    /* packets left to skip there */
    /* the command being written */
    uint8_t out_kind;    /* what the current outgoing packet is */
    uint8_t out_head[5]; /* its command byte and statement id */
    uint8_t infile;      /* the client is sending LOCAL INFILE contents */
    uint16_t text_len;
    uint8_t text_cut;
    char text[SS_MYSQL_TEXT_MAX];
    /* HandshakeResponse41 / COM_CHANGE_USER, field by field */
    uint8_t walk, walk_fixed[32], walk_n;
    uint64_t walk_left;
    uint16_t db_len;
    char db[SS_DB_NAMESPACE_MAX];
    /* commands awaiting replies, in order */
    ss_mysql_pending_t fifo[SS_MYSQL_PENDING];
    uint8_t fifo_head, fifo_len;
    ss_db_op_t ops[SS_MYSQL_OPS];
    uint8_t ops_used[SS_MYSQL_OPS];
    ss_mysql_stmt_t stmts[SS_MYSQL_STMTS];
    uint32_t clock, last_stmt;
    /* public counters */
    uint32_t untraced;     /* commands past SS_MYSQL_OPS, not reported */
    uint32_t unknown_stmt; /* executions of a statement not remembered (reported without text) */
    uint32_t cut;          /* SQL texts longer than SS_MYSQL_TEXT_MAX */
} ss_mysql_t;

void ss_mysql_init(ss_mysql_t *s);

/* 1: yes, this is the start of a MySQL conversation (a protocol 10
 * greeting read, or a HandshakeResponse41 written: the plaintext after
 * TLS), 0: no, -1: more bytes needed. */
int ss_mysql_detect(const uint8_t *p, size_t n, ss_db_dir_t dir);

/* Follow n more bytes of direction dir. 1: go on; 0: let go (why below),
 * and every later call returns 0 too. */
int ss_mysql_feed(ss_mysql_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n,
                  const ss_db_sink_t *sink);

/* Why the last feed returned 0 (a short word for a counter), else NULL. */
const char *ss_mysql_why(const ss_mysql_t *s);

/* db.system.name: "mariadb" when the greeting's version says so, else "mysql". */
const char *ss_mysql_system(const ss_mysql_t *s);

/* After "tls": the plaintext the TLS hooks see continues this
 * conversation (the client's full HandshakeResponse41 comes next). */
void ss_mysql_tls(ss_mysql_t *s);

#endif
