/*
 * ex_host.h - what the exporter needs from the program it runs in, handed
 * to it once at start (ex_batch_init).
 *
 * Dependencies point one way: hooks -> preload -> exporter (the lock,
 * ss_lock.h, at the bottom). So the exporter includes nothing of
 * preload/ but the records it encodes (ss_span.h, ss_logrec.h); whatever else it
 * needs of its host is given to it here, filled in by preload/ss_export.c:
 * - the log line: the shim's (real write() to stderr, at SPANSHIM_LOG's
 *   level), with the levels below;
 * - the real socket calls, never the hooks: a datagram sent through the
 *   program's interposed sendmsg would be followed, traced and recurse;
 * - the configuration it uses, read from the environment by the host;
 * - the host's counters, by what became of the spans.
 * None of it is on the per-span path: these are used per batch or per
 * (re)connect, and the counters are plain atomics reached through a
 * pointer, not a call.
 */
#ifndef EX_HOST_H
#define EX_HOST_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ex_sockpath.h"
#include "ex_transport.h"

/* Log levels (the host checks they are its own). */
enum { EX_LOG_ERROR = 1, EX_LOG_WARN, EX_LOG_INFO, EX_LOG_DEBUG };

typedef struct ex_host {
    void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

    int (*socket)(int domain, int type, int protocol);
    int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
    ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
    int (*close)(int fd);
    int (*fcntl)(int fd, int cmd, void *arg);

    const char *socket_path;          /* SPANSHIM_SOCKET; "": the default places */
    const char *runtime_dir;          /* XDG_RUNTIME_DIR, one of those places */
    const ex_trust_t *collector_uids; /* SPANSHIM_COLLECTOR_UID */
    int export_off;                   /* SPANSHIM_SOCKET unusable: nothing is sent */
    int command_args;                 /* SPANSHIM_COMMAND_ARGS: argv in the resource */

    /* Called from the flush thread every tick_ms (NULL: never): the host's
     * periodic work (preload: reporting spans still open, ss_inflight.h).
     * It may add spans (ex_batch_add); no exporter lock is held. */
    unsigned (*tick)(uint64_t mono_ns);
    unsigned tick_ms;

    /* Called by the flush thread at its start (NULL: never): 1 if it has
     * left the program's fd table for one of its own, where the host's
     * log line still reaches the program's stderr (preload: ss_owntable.h).
     * The thread's sends then go on a socket of its own. */
    int (*leave_fd_table)(void);

    uint64_t *spans[EX_TX_OFF + 1];   /* spans by what the send came to (EX_TX_SENT: exported) */
    uint64_t *batches_sent;           /* datagrams sent */
    uint64_t *spans_unencodable;      /* spans too large to encode */
    uint64_t *spans_capped;           /* spans the host dropped at its state cap (read only) */
    uint64_t *spans_busy_at_exit;     /* open spans the image's end left to a busy owner (read only) */
    uint64_t *logs[EX_TX_OFF + 1];    /* log records by what the send came to */
    uint64_t *logs_unencodable;       /* log records that could not be encoded */
    uint64_t *logs_busy;              /* log lines not captured: their stream was in use
                                       * (the host's count, read only) */
} ex_host_t;

/* The host, as ex_batch_init was given it. */
extern ex_host_t ex_host;

static inline void ex_count(uint64_t *counter, uint64_t n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

#endif
