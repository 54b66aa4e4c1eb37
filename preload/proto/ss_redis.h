/*
 * ss_redis.h - the Redis client-side follower (RESP2 and RESP3): one
 * operation per command the program writes, matched in order to the reply
 * it reads, reported through ss_db.h's sink.
 *
 * A leaf module: fixed-size state per connection, no allocation, bytes
 * split anywhere, nothing looked at twice. What the spans carry:
 *  - db.operation.name: the command as written (`GET`, `get`); for the
 *    container commands (CLIENT, CONFIG, CLUSTER, XINFO, OBJECT, ...) the
 *    command and its subcommand as written (`CLIENT SETNAME`).
 *  - db.query.text: the name, then the key as written (up to
 *    SS_REDIS_KEY_MAX - 1 bytes of printable ASCII; space and other bytes
 *    become `?`), every other argument `?`, cut at SS_DB_QUERY_MAX. The key
 *    is the first argument (the first channel for SUBSCRIBE and PUBLISH;
 *    after the subcommand for OBJECT, XINFO, XGROUP, MEMORY); commands
 *    without one (PING, SELECT, EVAL, KEYS, SCAN, CONFIG, CLIENT ...) have
 *    every argument `?`. AUTH and HELLO show at most one `?` whatever
 *    follows: neither their values nor their count are recorded, and their
 *    argument bytes are never copied anywhere.
 *  - db.namespace: the index of the last SELECT the server accepted ("0"
 *    at first; RESET goes back to "0").
 *  - an error reply (`-` or RESP3 `!`): status_code its first word, error=1.
 *  - EXEC: batch_size the commands the server answered +QUEUED (when two
 *    or more), summary `MULTI` or `MULTI <name>` when all had one name.
 *    MULTI and each queued command are spans of their own too.
 *  - SUBSCRIBE and its kin: one span ending at the last confirmation (one
 *    per channel). Pushed messages (RESP3 `>`, RESP2 message arrays while
 *    subscribed) give no span and match no command.
 * Pipelines: SS_REDIS_PENDING_MAX commands wait for their replies; past
 * that, commands go untraced (counted) until every reply before them is
 * read, their replies still consumed in order. MONITOR and CLIENT REPLY
 * OFF/SKIP end the following once the replies before them are read (what
 * follows cannot be matched), so do a nesting past SS_REDIS_DEPTH_MAX and
 * anything that is not RESP: ss_redis_why() says why.
 */
#ifndef SS_REDIS_H
#define SS_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "ss_db.h"

#define SS_REDIS_PENDING_MAX 64
#define SS_REDIS_DEPTH_MAX 32
#define SS_REDIS_KEY_MAX 96
#define SS_REDIS_CAP_MAX 16 /* leading bytes of a reply kept to classify it */

/* One command written whose reply has not been read whole. */
typedef struct ss_redis_cmd {
    uint64_t tag;
    uint64_t nargs;                  /* arguments after name, subcommand and key */
    int64_t num;                     /* SELECT's index, HELLO's version; -1 none */
    uint8_t kind;
    uint8_t has_key;
    uint8_t name_len, key_len;       /* strlen of the two below */
    char name[SS_DB_OPERATION_MAX];
    char key[SS_REDIS_KEY_MAX];
} ss_redis_cmd_t;

/* The command being written. */
typedef struct ss_redis_out {
    uint8_t st;
    uint8_t traced;
    uint8_t role;                    /* what the current argument is for */
    uint8_t quote;                   /* inline: the open quote, 0 none */
    uint8_t word;                    /* inline: inside a word */
    uint8_t container;               /* the name takes a subcommand */
    uint8_t key_at;                  /* argument index of the key, 0 none */
    uint8_t neg;
    int64_t num;                     /* number being read */
    uint32_t digits;
    uint64_t argc;                   /* RESP: arguments announced */
    uint64_t argi;                   /* index of the current argument */
    uint64_t left;                   /* bulk bytes left */
    uint32_t len;                    /* bytes kept of the current argument */
    char sub[8];                     /* CLIENT REPLY's mode */
    ss_redis_cmd_t *cmd;             /* being written: its FIFO slot, or cur when untraced */
    ss_redis_cmd_t cur;
} ss_redis_out_t;

/* One open aggregate of the reply being read. */
typedef struct ss_redis_level {
    int64_t left;                    /* elements left; -1 streamed */
    uint32_t idx;                    /* elements done */
    uint8_t attr;                    /* an attribute, not a value */
} ss_redis_level_t;

/* The reply being read. */
typedef struct ss_redis_in {
    uint8_t st;
    uint8_t type;                    /* of the value being read */
    uint8_t neg;
    uint8_t depth;
    uint8_t top;                     /* type of the reply at depth 0 */
    uint8_t cap_len;
    uint32_t digits;
    int64_t num;
    uint64_t left;                   /* payload bytes left */
    int64_t third;                   /* element 2 of a top aggregate, if an integer */
    char cap[SS_REDIS_CAP_MAX];      /* simple line / error / first element */
    ss_redis_level_t stk[SS_REDIS_DEPTH_MAX];
} ss_redis_in_t;

typedef struct ss_redis {
    ss_redis_out_t out;
    ss_redis_in_t in;
    ss_redis_cmd_t fifo[SS_REDIS_PENDING_MAX];
    uint32_t head, count;            /* the FIFO of traced commands */
    uint64_t untraced_pending;       /* untraced, after every traced one */
    uint64_t untraced;               /* commands never traced (counter) */
    uint64_t confirmed;              /* confirmations seen for the head */
    uint32_t chans, pats, shards;    /* subscriptions, from confirmations */
    uint32_t queued;                 /* +QUEUED since MULTI */
    int64_t queued_db;               /* a SELECT queued in MULTI, -1 none */
    uint8_t multi_mixed;
    uint8_t resp3;
    uint8_t draining;                /* MONITOR / CLIENT REPLY: end when drained */
    uint8_t dead;
    const char *why;
    char multi_name[SS_DB_OPERATION_MAX];
    char ns[SS_DB_NAMESPACE_MAX];
} ss_redis_t;

/* The state points into itself (out.cmd): it is used where it was
 * initialized, never copied. */
void ss_redis_init(ss_redis_t *s);
/* 1: go on; 0: not (or no longer) followable, see ss_redis_why(). */
int ss_redis_feed(ss_redis_t *s, ss_db_dir_t dir, const uint8_t *p, size_t n,
                  const ss_db_sink_t *sink);
const char *ss_redis_why(const ss_redis_t *s);
/* Commands that got no span (pipeline past SS_REDIS_PENDING_MAX). */
uint64_t ss_redis_untraced(const ss_redis_t *s);
/* First bytes written: 1 a RESP command or a known inline one, 0 not, -1
 * more bytes needed. Redis never speaks first: read bytes give 0. */
int ss_redis_detect(const uint8_t *p, size_t n, ss_db_dir_t dir);

#endif
