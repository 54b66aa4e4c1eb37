/*
 * ss_logcap.h - log lines a traced program writes, captured as records.
 *
 * What is a log (decided when an fd is born, never per write):
 *   - fds 1 and 2 when they are not sockets (files, pipes, terminals):
 *     looked at once at start, and again when the program puts another
 *     file on them (dup2, dup3, an open that returns 1 or 2); a log file
 *     put there (or opened there) stays that file (apache2 writes its
 *     error log to fd 2);
 *   - files the program opens for writing whose path matches one of the
 *     SPANSHIM_LOG_FILES globs (default "*.log": nginx's and apache2's
 *     error logs, Python's FileHandler files), matched at open time
 *     (open(2) and its kin, and C stdio's fopen and freopen);
 *   - syslog(3) messages (ss_logcap_syslog), from the message and the
 *     priority the program gave, not the datagram glibc formats;
 *   - datagrams a program sends to /dev/log or the journal's socket itself
 *     (connected, or sendto/sendmsg with the path): one message each
 *     (ss_logdgram.h).
 * SPANSHIM_LOGS says what becomes a record: "off" (the default: nothing,
 * and every write costs one table load more), "span" (lines written while
 * a span is current on the writing thread) or "all" (every line, those
 * outside a span without trace context).
 *
 * A write's bytes are fed, after the real call and only as far as the
 * kernel took them, to the fd's line assembler (ss_logline.h): write,
 * writev, pwrite, pwritev, send on a log socket, and the bytes a C stdio
 * call put on a log's stream, at the call (ss_logstdio.h: glibc flushes
 * its buffers through an internal write no hook sees). Each line becomes
 * a record (ss_logrec.h) with the span current on the thread that
 * completed it (the CLIENT span of a call it has in flight, ss_calling.h;
 * else the SERVER span it serves; ss_conn_log_ctx), its severity
 * (ss_logsev.h), and goes to the exporter's logs batch. Nothing is written, delayed or changed: the program's bytes,
 * return values and errno are its own.
 *
 * The one exception, asked for apart: SPANSHIM_LOG_ENRICH=on writes the
 * span's trace_id, span_id and trace_flags into each line a write to a log
 * fd ends while a span is current (ss_logenrich.h says where), through
 * ss_logcap_write: the write goes out as a plan with the fields in it, and
 * the program is told exactly its own bytes that went. It works with
 * SPANSHIM_LOGS off too (the log fds are then followed for it alone:
 * SS_LOGS_FDS, no record made, nothing leaves the host). A record keeps
 * the line as the program wrote it: its trace context is the record's
 * own. Datagrams (syslog and journal sockets) and syslog(3) messages are
 * never changed.
 *
 * Re-entrancy: capture runs with ss_busy raised, so a signal handler that
 * writes while its thread is inside the shim passes straight through
 * (counted as logs_dropped_busy), and the shim's own log lines go out
 * through the real write, never here. Each stream has its own lock, taken
 * after the fd table's check and never while the exporter's is held.
 */
#ifndef SS_LOGCAP_H
#define SS_LOGCAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SS_LOGCAP_FDS 4096        /* fds past this are never logs */
#define SS_LOGCAP_STREAMS 32      /* fds 1 and 2 and 30 log files at once */
#define SS_LOGCAP_GLOBS 16
#define SS_LOGCAP_PATH_MAX 512

enum { SS_LOGS_OFF, SS_LOGS_SPAN, SS_LOGS_ALL, SS_LOGS_FDS };

/* Which stream each fd writes to, +1 (0: not a log). Read by every write
 * hook on an fd nobody follows while capture is on. Hidden: loaded
 * directly, not through the GOT. */
extern uint8_t ss_logcap_fds[SS_LOGCAP_FDS] __attribute__((visibility("hidden")));

/* SPANSHIM_LOGS as read (SS_LOGS_*), or SS_LOGS_FDS when only
 * SPANSHIM_LOG_ENRICH needs the log fds: 0 keeps every hook as it was, but
 * for the load of this one int. */
extern int ss_logcap_on __attribute__((visibility("hidden")));
/* SPANSHIM_LOG_ENRICH=on: read only by a write to a log fd. */
extern int ss_logcap_enrich __attribute__((visibility("hidden")));

/* Lines become records (SPANSHIM_LOGS span or all). */
static inline int ss_logcap_records(void)
{
    return ss_logcap_on == SS_LOGS_SPAN || ss_logcap_on == SS_LOGS_ALL;
}

static inline int ss_logcap_is_log(int fd)
{
    return __builtin_expect(ss_logcap_on, 0) && (unsigned)fd < SS_LOGCAP_FDS &&
           __atomic_load_n(&ss_logcap_fds[fd], __ATOMIC_RELAXED);
}

/* SPANSHIM_LOGS and SPANSHIM_LOG_FILES: -1 if a value was not understood
 * (the default is used for it). */
int ss_logcap_configure(const char *mode, const char *globs);
/* SPANSHIM_LOG_ENRICH ("off", the default, or "on"), after
 * ss_logcap_configure (which sets it off): -1 if not understood (off). */
int ss_logcap_configure_enrich(const char *v);
int ss_logcap_mode(void);
/* At start, after the configuration: fds 1 and 2 looked at. */
void ss_logcap_init(void);

/* n bytes of iov were written to fd (the kernel's count). */
void ss_logcap_wrote(int fd, const struct iovec *iov, int cnt, size_t n);

/* The real write: cnt pieces of iov (the program's own, or a plan's) to
 * the fd; the kernel's count or -1 with errno. */
typedef ssize_t (*ss_logwrite_fn)(void *arg, const struct iovec *iov, int cnt);

/* A write of iov to log fd with SPANSHIM_LOG_ENRICH on: through fn, with
 * the span's fields in the lines it ends; the bytes that went captured as
 * ss_logcap_wrote would. Returns what the program is to be told: how many
 * of its own bytes went, or -1 with fn's errno when none did. fn gets
 * either iov itself (nothing to add: the program's call as it was) or a
 * plan's iovec. Under ss_busy, not in a vfork child; for any writer of a
 * stream's bytes (a hook of write or writev, or one that writes a FILE's). */
ssize_t ss_logcap_write(int fd, const struct iovec *iov, int cnt, ss_logwrite_fn fn, void *arg);
/* fd was opened at path (relative to dir, AT_FDCWD or an fd) with flags. */
void ss_logcap_opened(int fd, int dir, const char *path, int flags);
/* fd was connected to addr: the syslog or journal socket is a log (each
 * write one message, ss_logdgram.h). */
void ss_logcap_connected(int fd, const struct sockaddr *addr, socklen_t alen);
/* n bytes of iov were sent to addr (sendto, sendmsg with a name). */
void ss_logcap_sent_to(const struct sockaddr *addr, socklen_t alen, const struct iovec *iov,
                       int cnt, size_t n);
/* oldfd's file was put on fd (dup2, dup3, dup, F_DUPFD): what fd was is
 * gone; on 1 or 2 a log file stays one (its path), anything else not a
 * socket is stdout or stderr. */
void ss_logcap_replaced(int oldfd, int fd);
/* fd, or [first, last], closed. */
void ss_logcap_closed(int fd);
void ss_logcap_closed_range(unsigned first, unsigned last);

/* syslog(3): openlog's ident (NULL: the program's name), and a message
 * of priority pri (facility and level), formatted, len bytes; cut: it was
 * longer. */
void ss_logcap_openlog(const char *ident);
void ss_logcap_syslog(int pri, const char *msg, size_t len, int cut);

/* A log fd was written from inside the shim (a signal handler): counted. */
void ss_logcap_busy(void);

/* Lines still unfinished go out as they are (exit, exec). */
void ss_logcap_flush(void);
/* In a fork child: locks reset, the parent's unfinished lines dropped. */
void ss_logcap_after_fork(void);

/* Where a path goes (exposed for the unit tests). */
int ss_logcap_path_matches(const char *path);

#endif
