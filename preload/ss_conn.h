/*
 * ss_conn.h - one followed connection: a descriptor, references, a lock,
 * and a queue of exchanges; what its bytes mean is its protocol's.
 *
 * The hooks in hooks/ call these functions around the real libc call; the
 * logic lives here so it can be driven directly by unit tests. A
 * connection is followed from connect() (client role) or accept() (server
 * role). Its first bytes, in either direction, pick its protocol from the
 * table (proto/ss_protos.def, the interface in ss_proto.h): every byte is
 * then fed to that protocol's module, which turns exchanges into spans.
 * Bytes no protocol recognises let the connection go: it costs nothing
 * more. Detection only looks: it never delays, holds or alters a byte.
 *
 * Sending on a client connection is a plan and a commit (ss_send.c): the
 * application's bytes are fed ahead, the iovec to send is laid out with
 * the splices the protocol armed (HTTP's trace headers) in their places,
 * the real function runs once, and the kernel's count is mapped back to
 * application bytes, so the program only ever sees counts of its own
 * bytes. Injected bytes the kernel did not take are sent first on the
 * next call.
 */
#ifndef SS_CONN_H
#define SS_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ss_dns.h"
#include "../exporter/ss_lock.h"
#include "ss_span.h"

enum { SS_ROLE_CLIENT = 1, SS_ROLE_SERVER = 2 };
/* CONNECTING: connect() is under way; DETECT: no protocol yet; FOLLOW:
 * c->proto follows it; OPAQUE: let go (no protocol, or it stopped). */
enum { SS_MODE_CONNECTING = 1, SS_MODE_DETECT, SS_MODE_FOLLOW, SS_MODE_OPAQUE };
/* The two directions, as the program sees them. */
enum { SS_DIR_OUT = 0, SS_DIR_IN = 1 };

#define SS_DETECT_MAX 64         /* first bytes of a direction kept while detecting */

typedef struct ss_proto ss_proto_t; /* a protocol's module (ss_proto.h) */

typedef struct ss_conn {
    int refs;                    /* fd-table slots + hooks at work (first: ss_fd.h) */
    int fds;                     /* fd-table slots */
    ss_lock_t lock;
    uint8_t role;
    uint8_t mode;
    uint8_t is_unix;
    uint8_t is_tls;              /* followed by its TLS session, not its fd */
    uint8_t pending;             /* exchanges in the queue */
    uint16_t peer_port;
    uint16_t local_port;
    char peer_addr[108];
    ss_dns_conn_t dns;           /* client: the name the program resolved for the peer */
    ss_span_t *q_head, *q_tail;  /* exchanges in order, oldest first */
    uint64_t fed[2];             /* bytes of each direction fed (detection included) */
    uint64_t out_sent;           /* client: application bytes the kernel took */
    uint64_t connect_ns;         /* client: when connect() was called */
    uint64_t write_ns;           /* server: when the current write started */
    size_t tls_skip;             /* TLS: bytes of a failed SSL_write already sent */
    const ss_proto_t *proto;     /* FOLLOW: the protocol */
    void *ps;                    /* FOLLOW: its state */
    uint8_t det_len[2];          /* DETECT: first bytes of each direction kept */
    uint8_t det_first;           /* DETECT: the direction that spoke first */
    uint8_t det[2][SS_DETECT_MAX];
} ss_conn_t;

/* Sends an iovec for real: writev, or sendmsg with the caller's flags. */
typedef ssize_t (*ss_sendfn_t)(void *arg, const struct iovec *iov, int cnt);

/* Drop a reference (c may be NULL); the last one frees the connection. */
void ss_conn_put(ss_conn_t *c);
void ss_conn_free(ss_conn_t *c);
void ss_conn_after_fork(ss_conn_t *c);

/* A new fd number appeared (socket, accept, dup...): forget the old one. */
void ss_conn_on_new_fd(int fd);
void ss_conn_on_close(int fd);
/* The program shut fd's write side (SHUT_WR, SHUT_RDWR) at at_ns. */
void ss_conn_on_shutdown(int fd, uint64_t at_ns);
void ss_conn_on_dup(int oldfd, int newfd);
void ss_conn_on_connect(int fd, const struct sockaddr *addr, socklen_t len, int rc, int err);
void ss_conn_on_accept(int fd, const struct sockaddr *addr, socklen_t len);
void ss_conn_on_sockerr(int fd, int err);

/* A connection followed through its TLS session (plaintext), on socket fd. */
ss_conn_t *ss_conn_new_tls(int fd, int server);
/* The session ended: open exchanges end as on a close. */
void ss_conn_end(ss_conn_t *c);

/* The same on a connection the caller holds a reference to (TLS). */
ssize_t ss_conn_send_on(ss_conn_t *c, int fd, const struct iovec *iov, int cnt,
                        int nonblock_flag, ss_sendfn_t fn, void *arg);
void ss_conn_recv_on(ss_conn_t *c, int fd, const struct iovec *iov, int cnt, ssize_t r, int err);

/* The full send path for a followed fd. Returns what the program sees. */
ssize_t ss_conn_send(int fd, const struct iovec *iov, int cnt, int nonblock_flag,
                     ss_sendfn_t fn, void *arg);

/* At exit, on the thread that called it: a server write it interrupted
 * (a signal handler's exit()) is read as far as the kernel took it, and
 * the exchange it ends ends as it would have (ss_send.c). */
void ss_conn_send_interrupted(void);

/* After a real receive on a followed fd returned r (errno err if r < 0). */
void ss_conn_on_recv(int fd, const struct iovec *iov, int cnt, ssize_t r, int err, int flags);

/* sendfile on a followed fd: the bytes are not seen, only counted (fine
 * inside a body, where sendfile is used; anywhere else the fd is let go). */
ssize_t ss_conn_sendfile(int out, int in, off_t *off, size_t n,
                         ssize_t (*real)(int, int, off_t *, size_t));

/* Stop following fd (a call the shim does not follow into, like sendmmsg). */
void ss_conn_forget(int fd);

/* close_range() / closefrom(): every followed fd in [first, last] closes. */
void ss_conn_on_close_range(unsigned first, unsigned last);

/* Around calls into a library traced at its own level (libcurl). */
void ss_conn_library_enter(void);
void ss_conn_library_leave(void);

/* The parent of a request this thread makes now, by the rule of
 * ss_conn_parent_now (ss_proto.h): 1, *out and its tracestate (ts:
 * SS_TS_FORWARD_MAX + 1 bytes), or 0 for none. */
int ss_conn_request_parent(ss_ctx_t *out, char *ts, uint16_t *ts_len);

/* Test hooks: the thread's current server context. */
int ss_conn_thread_ctx(ss_ctx_t *out);
/* The span a log line written now on this thread belongs to: the CLIENT
 * span of the call it sent while that call is in flight and the only one
 * (ss_calling.h), if the thread serves no request or only the call's; else
 * the SERVER span it serves while that one is in flight and the only one
 * (an event loop's lines with several requests open belong to none), else
 * the process's own span (TRACEPARENT at start); 0 if none. */
int ss_conn_log_ctx(ss_ctx_t *out);
void ss_conn_thread_reset(void);

#endif
