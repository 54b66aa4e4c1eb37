/*
 * ss_conn.h - one followed connection: HTTP both ways, spans, injection.
 *
 * The hooks in hooks/ call these functions around the real libc call; all
 * protocol logic lives here so it can be driven directly by unit tests.
 * A connection is followed from connect() (client role: we send requests)
 * or accept() (server role: we receive them) until its first bytes show it
 * is not HTTP, when it is dropped and costs nothing more.
 *
 * A connection that opens with the HTTP/2 preface is followed frame by
 * frame instead (ss_conn_h2.c), one exchange per stream.
 *
 * Sending on a client connection is a plan and a commit: ss_conn_send()
 * parses the application's bytes ahead, lays out the iovec to send with the
 * trace headers spliced in, calls the real function once, and maps the
 * kernel's count back to application bytes, so the program only ever sees
 * counts of its own bytes. Injected bytes the kernel did not take are sent
 * first on the next call.
 */
#ifndef SS_CONN_H
#define SS_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto/ss_http.h"
#include "ss_lock.h"
#include "ss_span.h"

enum { SS_ROLE_CLIENT = 1, SS_ROLE_SERVER = 2 };
enum { SS_MODE_CONNECTING = 1, SS_MODE_DETECT, SS_MODE_HTTP, SS_MODE_OPAQUE };

#define SS_CONN_PENDING_MAX 8    /* HTTP/1 exchanges in flight on one connection */

typedef struct ss_conn_h2 ss_conn_h2_t; /* HTTP/2 state (ss_conn_h2.c) */

typedef struct ss_conn {
    int refs;                    /* fd-table slots + hooks at work */
    int fds;                     /* fd-table slots */
    ss_lock_t lock;
    uint8_t role;
    uint8_t mode;
    uint8_t is_unix;
    uint8_t is_tls;              /* followed by its TLS session, not its fd */
    uint8_t pending;             /* exchanges in the queue */
    uint32_t req_seq;            /* server: HTTP/1 requests begun so far */
    uint16_t peer_port;
    uint16_t local_port;
    char peer_addr[108];
    ss_http_t req;               /* the request direction */
    ss_http_t resp;              /* the response direction */
    ss_span_t *q_head, *q_tail;  /* exchanges in order, oldest first */
    ss_span_t *req_cur;          /* exchange whose request is being parsed */
    uint64_t out_sent;           /* client: application bytes the kernel took */
    uint64_t connect_ns;         /* client: when connect() was called */
    uint64_t write_ns;           /* server: when the current write started */
    size_t tls_skip;             /* TLS: bytes of a failed SSL_write already sent */
    ss_conn_h2_t *h2;            /* HTTP/2: set once the preface was seen */
    uint8_t h2_pre;              /* preface bytes matched so far (SS_CONN_NOT_H2: ruled out) */
} ss_conn_t;

/* Sends an iovec for real: writev, or sendmsg with the caller's flags. */
typedef ssize_t (*ss_sendfn_t)(void *arg, const struct iovec *iov, int cnt);

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

/* Test hooks: the thread's current server context. */
int ss_conn_thread_ctx(ss_ctx_t *out);
void ss_conn_thread_reset(void);

#endif
