/*
 * ss_owntable.h - the flush thread's fd table of its own.
 *
 * A thread sharing the program's fd table makes each of the program's
 * calls on an fd take and drop a reference to the file (the kernel skips
 * that only while one task uses the table). The shim's flush thread, which
 * sleeps nearly always, leaves the table when it starts: it gets one of
 * its own, empty, so it holds none of the program's files either.
 */
#ifndef SS_OWNTABLE_H
#define SS_OWNTABLE_H

/* Called by the flush thread at its start: 1 if it now has a table of its
 * own (its sockets are then its own too), 0 if it stayed in the
 * program's (a kernel before 5.9, a seccomp filter refusing the calls). */
int ss_owntable_leave(void);

/* Where this thread writes a log line: STDERR_FILENO in the program's
 * table; in a table of its own, a copy of the program's fd 2 as it is now
 * (*borrowed = 1: close it after), or -1 if there is none. */
int ss_owntable_stderr(int *borrowed);

#endif
