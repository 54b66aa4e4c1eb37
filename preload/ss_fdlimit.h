/*
 * ss_fdlimit.h - the export socket gives way when the program's fd table
 * fills up.
 *
 * The kept export socket sits at fd 600 or above, inside the table of a
 * program with an ordinary limit (1024): a program that opens files until
 * EMFILE would get one fewer than untraced. So every hook that makes an
 * fd compares its number with a threshold cached at start (the soft
 * RLIMIT_NOFILE less a few): one load and one compare, no lock, no system
 * call. An fd that reaches it takes the rare path, which reads the limit
 * again (a program may have raised it: then only the threshold moves) and,
 * if the table is still nearly full, has the transport give its kept
 * socket up for good (ex_transport_give_up): later batches each go on a
 * socket of their own, opened and closed at once.
 */
#ifndef SS_FDLIMIT_H
#define SS_FDLIMIT_H

/* An fd this high or higher takes the rare path (INT_MAX: never). */
extern int ss_fdlimit_near;

/* Cache the threshold from the soft limit (the constructor). */
void ss_fdlimit_init(void);

/* The rare path: fd reached the threshold. Keeps errno. */
void ss_fdlimit_reached(int fd);

/* A hook made fd (or failed: fd < 0, never at the threshold). */
static inline void ss_fdlimit_check(int fd)
{
    if (__builtin_expect(fd >= __atomic_load_n(&ss_fdlimit_near, __ATOMIC_RELAXED), 0))
        ss_fdlimit_reached(fd);
}

#endif
