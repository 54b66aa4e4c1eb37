/*
 * ss_redis_int.h - what the two halves of the Redis follower share: the
 * kinds of command whose replies are read differently, and the hand-over
 * from the command reader (ss_redis_cmd.c) to the matcher (ss_redis.c).
 */
#ifndef SS_REDIS_INT_H
#define SS_REDIS_INT_H

#include "ss_redis.h"

enum {
    SS_RK_PLAIN = 0,
    SS_RK_AUTH,        /* arguments hidden */
    SS_RK_HELLO,       /* arguments hidden; num: the protocol asked for */
    SS_RK_SELECT,      /* num: the index */
    SS_RK_MULTI,
    SS_RK_EXEC,
    SS_RK_DISCARD,
    SS_RK_RESET,
    SS_RK_MONITOR,     /* replies after it are not replies */
    SS_RK_NOREPLY,     /* CLIENT REPLY OFF / SKIP */
    SS_RK_SUBSCRIBE,   /* the six below: one confirmation per channel */
    SS_RK_PSUBSCRIBE,
    SS_RK_SSUBSCRIBE,
    SS_RK_UNSUBSCRIBE,
    SS_RK_PUNSUBSCRIBE,
    SS_RK_SUNSUBSCRIBE,
};

#define SS_RK_IS_SUB(k) ((k) >= SS_RK_SUBSCRIBE && (k) <= SS_RK_SUNSUBSCRIBE)

/* The command reader: 1 go on, 0 let go (s->why set). */
int ss_redis_cmd_feed(ss_redis_t *s, const uint8_t *p, size_t n, const ss_db_sink_t *sink);
/* The matcher takes a command written whole (s->out.cmd). Inline: the
 * reader hands over every command. */
static inline void ss_redis_written(ss_redis_t *s)
{
    ss_redis_cmd_t *c = s->out.cmd;

    if (c->kind == SS_RK_MONITOR || c->kind == SS_RK_NOREPLY) {
        s->draining = 1;
        s->why = c->kind == SS_RK_MONITOR ? "MONITOR: what follows is not replies"
                                          : "CLIENT REPLY OFF/SKIP: replies may never come";
        if (c->kind == SS_RK_NOREPLY)
            return;                  /* no reply to wait for */
    }
    if (!s->out.traced) {
        if (SS_RK_IS_SUB(c->kind)) {
            s->why = "pipeline past its depth at a command with one reply per channel";
            s->dead = 1;
        }
        s->untraced_pending++;
        s->untraced++;
        return;
    }
    s->count++;                      /* written in its slot (ss_redis_cmd.c) */
}
/* Of avail bytes, how many belong to a payload with *left to go (taken off). */
size_t ss_redis_take(uint64_t *left, size_t avail);
/* The decimal of a header at p (1 to 18 digits, no sign) and its CRLF,
 * all within n bytes: the bytes it takes, 0 when it is not there whole. */
static inline size_t ss_redis_whole_decimal(const uint8_t *p, size_t n, int64_t *v)
{
    size_t i = 0;
    int64_t x = 0;

    if (n >= 3 && (unsigned)(p[0] - '0') < 10 && p[1] == '\r' && p[2] == '\n') {
        *v = p[0] - '0';             /* most headers: one digit */
        return 3;
    }
    while (i < n && i < 18 && p[i] >= '0' && p[i] <= '9')
        x = x * 10 + (p[i++] - '0');
    if (i == 0 || i + 2 > n || p[i] != '\r' || p[i + 1] != '\n')
        return 0;
    *v = x;
    return i + 2;
}

/* Bytes of a key or name as they may be shown: printable ASCII, else '?'. */
char ss_redis_shown(uint8_t c);

#endif
