/*
 * ss_fd.h - which file descriptors are connections the shim follows.
 *
 * A two-level table indexed by fd holds a pointer to each followed
 * connection. An fd nobody follows costs one atomic load and no lock
 * (the path every non-HTTP, non-socket call takes). Followed connections
 * are reference-counted: a hook holds a reference across its work, so a
 * close() racing in another thread never frees what a hook still uses.
 * The table knows nothing of what a connection is beyond its two counts,
 * which it begins with; what frees one is the connection's (ss_conn_put).
 */
#ifndef SS_FD_H
#define SS_FD_H

struct ss_conn;

/* The start of every connection the table holds. */
typedef struct ss_fd_counts {
    int refs;                    /* fd-table slots + hooks at work */
    int fds;                     /* fd-table slots */
} ss_fd_counts_t;

#define SS_FD_MAX (1 << 20)
#define SS_FD_CHUNK 1024

/* The table's chunks (ss_fd.c); here so the test below is inlined into
 * every hook: it is the whole cost of a call on an fd nobody follows. */
extern struct ss_conn **ss_fd_chunks[SS_FD_MAX / SS_FD_CHUNK];

/* Cheap test, no reference: is fd followed at all? */
static inline int ss_fd_followed(int fd)
{
    struct ss_conn **chunk;

    if ((unsigned)fd >= SS_FD_MAX)
        return 0;
    chunk = __atomic_load_n(&ss_fd_chunks[fd / SS_FD_CHUNK], __ATOMIC_ACQUIRE);
    return chunk && __atomic_load_n(&chunk[fd % SS_FD_CHUNK], __ATOMIC_RELAXED) != 0;
}

/* The connection on fd with a reference taken, or NULL. */
struct ss_conn *ss_fd_get(int fd);

/* Put c on fd (taking a table reference); returns the connection that was
 * there before, whose table reference the caller now owns (or NULL).
 * The table keeps each connection's count of fds (ss_conn_t.fds). */
struct ss_conn *ss_fd_set(int fd, struct ss_conn *c);

/* Remove whatever is on fd; the caller owns the returned table reference. */
struct ss_conn *ss_fd_take(int fd);

/* Drop a reference (c may be NULL): 1 if it was the last, and the caller
 * frees the connection. Inline: every followed call drops one. */
static inline int ss_fd_unref(struct ss_conn *c)
{
    return c && __atomic_sub_fetch(&((ss_fd_counts_t *)(void *)c)->refs, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Call fn for every followed fd in [first, last] (only chunks in use). */
void ss_fd_each(unsigned first, unsigned last, void (*fn)(int fd));

/* In a fork child: other threads' locks are gone with them; `each` runs
 * for every connection in the table. */
void ss_fd_after_fork(void (*each)(struct ss_conn *c));

#endif
