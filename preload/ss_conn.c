/*
 * ss_conn.c - the protocol-neutral core of a followed connection (see
 * ss_conn.h): its life from connect() or accept() to close(), detection of
 * its protocol from the first bytes (the table in proto/ss_protos.def),
 * feeding each direction to that protocol's module (ss_proto.h), the
 * queue of exchanges, and the thread's current server context, which
 * makes what a thread sends while it serves a request that request's
 * children, whatever the protocol. The send path is ss_send.c.
 */
#define _GNU_SOURCE
#include "ss_conn.h"
#include "ss_conn_int.h"
#include "ss_calling.h"
#include "ss_inflight.h"
#include "ss_config.h"
#include "ss_fd.h"
#include "ss_log.h"
#include "ss_logcap.h"
#include "ss_proc.h"
#include "ss_proto.h"
#include "ss_real.h"
#include "ss_serving.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(offsetof(ss_conn_t, refs) == 0 && offsetof(ss_conn_t, fds) == sizeof(int),
               "the fd table counts references at the start of a connection (ss_fd.h)");

/* The protocols, in the order they are asked (proto/ss_protos.def). */
#define SS_PROTO_DB(var, name, prefix, state, system, tls, port) SS_PROTO(var)
#define SS_PROTO(var) extern const ss_proto_t var;
#include "proto/ss_protos.def"
#undef SS_PROTO
static const ss_proto_t *const ss_protos[] = {
#define SS_PROTO(var) &var,
#include "proto/ss_protos.def"
#undef SS_PROTO
};
#undef SS_PROTO_DB
#define SS_NPROTOS (sizeof(ss_protos) / sizeof(ss_protos[0]))

/* The server span this thread last started serving: the parent of what it
 * sends, unless a protocol knows better (HTTP: a copy of another one's
 * traceparent, see ss_inbound.h). */
static __thread struct {
    uint8_t active;
    ss_ctx_t ctx;
    uint16_t ts_len;
    char ts[SS_TS_FORWARD_MAX + 1];
} ss_cur __attribute__((tls_model("initial-exec")));

/* >0 while a library the shim traces at its own level (libcurl) works on
 * this thread: its requests are its spans, not the socket layer's. */
static __thread int ss_lib_depth __attribute__((tls_model("initial-exec")));

void ss_conn_library_enter(void)
{
    ss_lib_depth++;
}

void ss_conn_library_leave(void)
{
    ss_lib_depth--;
}

int ss_conn_in_library(void)
{
    return ss_lib_depth > 0;
}

void ss_conn_serving(const ss_ctx_t *ctx, const char *ts, uint16_t ts_len)
{
    ss_cur.active = ctx->valid;
    ss_cur.ctx = *ctx;
    ss_cur.ts_len = ts_len;
    memcpy(ss_cur.ts, ts, ts_len);
    ss_cur.ts[ts_len] = '\0';
}

int ss_conn_serving_is(const uint8_t span_id[8])
{
    return ss_cur.active && memcmp(ss_cur.ctx.span_id, span_id, 8) == 0;
}

/* The parent of a request this thread sends with nothing better to go
 * by: the server span it serves, if it serves only that one (see
 * ss_serving.h); s, if given, is marked when there were several. Serving
 * none, the process's own span, when it continues a trace it was started
 * in (ss_proc.h). */
const ss_ctx_t *ss_conn_parent_now(ss_span_t *s, const char **ts, uint16_t *ts_len)
{
    if (ts) {
        *ts = ss_cur.ts;
        *ts_len = 0;
    }
    if (!ss_cur.active)
        return ss_proc_parent(ts, ts_len);
    if (ss_serving_alone()) {
        if (ts_len)
            *ts_len = ss_cur.ts_len;
        return &ss_cur.ctx;
    }
    if (s)
        s->parent_ambiguous = 1;
    return NULL;
}

int ss_conn_thread_ctx(ss_ctx_t *out)
{
    if (!ss_cur.active || !ss_serving_alone())
        return 0;
    *out = ss_cur.ctx;
    return 1;
}

int ss_conn_request_parent(ss_ctx_t *out, char *ts, uint16_t *ts_len)
{
    const char *t;
    uint16_t n;
    const ss_ctx_t *p = ss_conn_parent_now(NULL, &t, &n);

    *ts_len = 0;
    if (p == NULL)
        return 0;
    *out = *p;
    memcpy(ts, t, n);
    ts[n] = '\0';
    *ts_len = n;
    return 1;
}

/* The call this thread has in flight, if a line written now is about it:
 * the only one, and the thread serves no request or only the one the call
 * was made for (an event loop serving several, or one that is not the
 * call's, may be writing for another request). */
static int ss_conn_log_call(ss_ctx_t *out)
{
    ss_ctx_t call;

    if (!ss_calling_one(&call))
        return 0;
    if (ss_cur.active ? !ss_serving_one() || memcmp(call.trace_id, ss_cur.ctx.trace_id, 16) != 0
                      : !ss_serving_alone())
        return 0;
    *out = call;
    return 1;
}

int ss_conn_log_ctx(ss_ctx_t *out)
{
    const ss_ctx_t *p;

    if (ss_conn_log_call(out))
        return 1; /* a call in flight it sent: the line is about that call */
    if (ss_cur.active && ss_serving_one()) {
        *out = ss_cur.ctx;
        return 1;
    }
    p = ss_proc_parent(NULL, NULL);
    if (p == NULL || !p->valid)
        return 0;
    *out = *p;
    return 1;
}

void ss_conn_thread_reset(void)
{
    ss_cur.active = 0;
}

/* ---- connections ----------------------------------------------------- */

static void ss_conn_peer_from(ss_conn_t *c, const struct sockaddr *sa, socklen_t len);
static uint16_t ss_sockaddr_port(const struct sockaddr_storage *ss);
static void ss_conn_take_from_fd(ss_conn_t *c, int fd);

static ss_conn_t *ss_conn_new(uint8_t role, uint8_t mode)
{
    ss_conn_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    ss_lock_reset(&c->lock);
    c->refs = 1; /* the creator's */
    c->role = role;
    c->mode = mode;
    return c;
}

static void ss_conn_drop_queue(ss_conn_t *c)
{
    while (c->q_head)
        ss_conn_drop(c, c->q_head);
}

/* The protocol's state goes, and what it had queued. */
static void ss_conn_close_proto(ss_conn_t *c)
{
    ss_conn_drop_queue(c);
    if (c->proto) {
        c->proto->close(c);
        c->ps = NULL;
        c->proto = NULL;
    }
}

ss_conn_t *ss_conn_new_tls(int fd, int server)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ss_conn_t *c = ss_conn_new(server ? SS_ROLE_SERVER : SS_ROLE_CLIENT, SS_MODE_DETECT);

    if (c == NULL)
        return NULL;
    c->is_tls = 1;
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        ss_conn_peer_from(c, (struct sockaddr *)&ss, sl);
    sl = sizeof(ss);
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        c->local_port = ss_sockaddr_port(&ss);
    if (fd >= 0)
        ss_conn_take_from_fd(c, fd);
    return c;
}

void ss_conn_end(ss_conn_t *c)
{
    ss_lock(&c->lock);
    ss_conn_send_owed(c, -1);
    ss_conn_fail_all(c, NULL);
    c->mode = SS_MODE_OPAQUE;
    ss_unlock(&c->lock);
}

void ss_conn_free(ss_conn_t *c)
{
    ss_conn_close_proto(c);
    free(c);
}

void ss_conn_put(ss_conn_t *c)
{
    if (ss_fd_unref(c))
        ss_conn_free(c);
}

void ss_conn_after_fork(ss_conn_t *c)
{
    ss_lock_reset(&c->lock);
}

/* ---- the queue of exchanges ---------------------------------------------- */

static void ss_conn_enqueue(ss_conn_t *c, ss_span_t *s)
{
    s->next = NULL;
    if (c->q_tail)
        c->q_tail->next = s;
    else
        c->q_head = s;
    c->q_tail = s;
    c->pending++;
}

void ss_conn_remove(ss_conn_t *c, ss_span_t *s)
{
    ss_span_t **pp = &c->q_head, *prev = NULL;

    while (*pp && *pp != s) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = s->next;
    if (c->q_tail == s)
        c->q_tail = prev;
    if (c->proto && c->proto->forget)
        c->proto->forget(c, s);
    c->pending--;
    s->next = NULL;
}

ss_span_t *ss_conn_dequeue(ss_conn_t *c)
{
    ss_span_t *s = c->q_head;

    if (s)
        ss_conn_remove(c, s);
    return s;
}

void ss_conn_drop(ss_conn_t *c, ss_span_t *s)
{
    ss_conn_remove(c, s);
    ss_span_free(s);
}

void ss_conn_finish(ss_conn_t *c, ss_span_t *s)
{
    ss_conn_remove(c, s);
    /* A fork child's copy ending (a CGI child closing the connection it
     * inherited before it execs) ends nothing: the child still works for
     * that request, and what it starts is the request's (ss_proc.h). */
    if (s->kind == SS_KIND_SERVER && ss_cur.active && ss_span_is_own(s) &&
        memcmp(ss_cur.ctx.span_id, s->ctx.span_id, 8) == 0)
        ss_cur.active = 0;
    ss_span_end(s);
}

/* Both exchange_new's body, inlined: type SS_SPAN_HTTP has its part reset. */
static inline __attribute__((always_inline)) ss_span_t *ss_conn_exchange(ss_conn_t *c,
                                                                         unsigned cap,
                                                                         uint8_t type)
{
    ss_span_t *s = NULL;

    if (c->pending >= cap ||
        (s = type == SS_SPAN_HTTP ? ss_span_alloc() : ss_span_alloc_bare()) == NULL) {
        SS_COUNT(spans_dropped_memory);
        return NULL;
    }
    s->type = type;
    s->kind = c->role == SS_ROLE_CLIENT ? SS_KIND_CLIENT : SS_KIND_SERVER;
    s->start_ns = ss_now_ns();
    s->is_unix = c->is_unix;
    s->is_tls = c->is_tls;
    s->peer_port = c->peer_port;
    s->local_port = c->local_port;
    memcpy(s->peer_addr, c->peer_addr, sizeof(s->peer_addr));
    if (s->kind == SS_KIND_CLIENT) {
        /* The parent is what this thread is serving right now, if one. */
        const char *ts;
        uint16_t ts_len;
        const ss_ctx_t *parent = ss_conn_parent_now(s, &ts, &ts_len);

        if (ss_cfg.disabled) {
            if (parent)
                s->ctx = *parent; /* propagate the inbound context as is */
        } else {
            ss_span_start_ctx(s, parent, 0);
            /* Sent from here: the thread's lines are this call's until its
             * reply is in (a library's own span covers it there: ss_curl.c). */
            if (__builtin_expect(ss_logcap_on, 0) && ss_lib_depth == 0)
                ss_calling_begin(s);
        }
        if (ts_len) {
            memcpy(s->ts, ts, ts_len + 1u);
            s->ts_len = ts_len;
        }
    }
    ss_dns_exchange(s, &c->dns);
    ss_conn_enqueue(c, s);
    ss_inflight_owned(s, &c->lock); /* written under it from here on */
    return s;
}

ss_span_t *ss_conn_exchange_new(ss_conn_t *c, unsigned cap)
{
    return ss_conn_exchange(c, cap, SS_SPAN_HTTP);
}

ss_span_t *ss_conn_exchange_new_as(ss_conn_t *c, unsigned cap, uint8_t type)
{
    return ss_conn_exchange(c, cap, type);
}

void ss_conn_fail_all(ss_conn_t *c, const char *error_type)
{
    if (c->proto)
        c->proto->fail(c, error_type);
    ss_conn_drop_queue(c); /* what the protocol did not end is not news */
}

static void ss_conn_peer_from(ss_conn_t *c, const struct sockaddr *sa, socklen_t len)
{
    c->peer_addr[0] = '\0';
    if (sa == NULL)
        return;
    if (c->role == SS_ROLE_CLIENT)
        ss_dns_conn_named(&c->dns, sa, len);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &in->sin_addr, c->peer_addr, sizeof(c->peer_addr));
        c->peer_port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, c->peer_addr, sizeof(c->peer_addr));
        c->peer_port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? len - offsetof(struct sockaddr_un, sun_path) : 0;

        c->is_unix = 1;
        if (n > sizeof(c->peer_addr) - 1)
            n = sizeof(c->peer_addr) - 1;
        if (n && un->sun_path[0] != '\0') {
            memcpy(c->peer_addr, un->sun_path, n);
            c->peer_addr[n] = '\0';
            c->peer_addr[strnlen(c->peer_addr, n)] = '\0';
        }
    }
}

static uint16_t ss_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

/* Whether c's module stopped because its conversation goes on inside TLS
 * and can be carried there (ss_proto_t.tls). */
static int ss_conn_to_tls(const ss_conn_t *c)
{
    const char *why;

    if (c->proto == NULL || c->proto->tls == NULL || c->is_tls || c->proto->why == NULL)
        return 0;
    why = c->proto->why(c);
    return why && strcmp(why, "tls") == 0;
}

/* Stop following fd: no protocol, or its module can no longer follow. A
 * module whose conversation goes on inside TLS keeps its state on the fd,
 * passing every byte, until the TLS session takes it (ss_conn_new_tls) or
 * the fd closes. */
void ss_conn_let_go(ss_conn_t *c, int fd)
{
    if (!c->is_tls)
        ss_conn_send_owed(c, fd);
    c->mode = SS_MODE_OPAQUE;
    if (ss_conn_to_tls(c)) {
        ss_conn_drop_queue(c);
        return;
    }
    ss_conn_close_proto(c);
    if (!c->is_tls) /* a TLS session is let go where it is kept (ss_tls.c) */
        ss_conn_put(ss_fd_take(fd));
}

/* The TLS session on fd goes on with the conversation its socket's
 * module kept (ss_conn_let_go): its state moves to c. */
static void ss_conn_take_from_fd(ss_conn_t *c, int fd)
{
    ss_conn_t *old = ss_fd_get(fd);

    if (old == NULL)
        return;
    ss_lock(&old->lock);
    if (old->mode == SS_MODE_OPAQUE && ss_conn_to_tls(old)) {
        c->proto = old->proto;
        c->ps = old->ps;
        old->proto = NULL;
        old->ps = NULL;
        c->mode = SS_MODE_FOLLOW;
        if (c->proto->tls(c)) {
            ss_log(SS_LOG_DEBUG, "%s connection to %s goes on inside TLS", c->proto->name,
                   c->peer_addr[0] ? c->peer_addr : "a peer");
        } else {
            ss_conn_close_proto(c);
            c->mode = SS_MODE_DETECT;
        }
    }
    ss_unlock(&old->lock);
    ss_conn_put(old);
}

/* ---- detection and feeding ----------------------------------------------- */

/* The module that follows c, asked in table order about the first n
 * bytes p of direction dir: the first that says yes while none before it
 * still needs more bytes. NULL: none yet (*more set if one may still say
 * yes). `whole`: the other side answered, so what dir sent is a whole
 * message and needing more means no. */
static const ss_proto_t *ss_conn_detect_in(ss_conn_t *c, int dir, const uint8_t *p, size_t n,
                                           int whole, int *more)
{
    size_t i;

    *more = 0;
    for (i = 0; i < SS_NPROTOS; i++) {
        const ss_proto_t *pr = ss_protos[i];
        int r;

        if (!(pr->roles & c->role))
            continue;
        r = pr->detect(c, dir, p, n);
        if (r < 0 && (whole || n >= SS_DETECT_MAX))
            r = 0; /* it had all there is, or all detection keeps */
        if (r > 0 && !*more)
            return pr;
        if (r != 0)
            *more = 1;
    }
    return NULL;
}

/* Start following with pr: the bytes detection kept go first, in the
 * order they passed. 0: let go (a module that stops on them already is
 * counted as one that stops later: how the bytes were split must not
 * change which counter says why). */
static int ss_conn_open(ss_conn_t *c, const ss_proto_t *pr)
{
    int d0 = c->det_first, d1 = !d0;

    if (!pr->open(c)) {
        SS_COUNT(spans_dropped_memory);
        return 0;
    }
    c->proto = pr;
    c->mode = SS_MODE_FOLLOW;
    if ((c->det_len[d0] && !pr->feed(c, d0, (const char *)c->det[d0], c->det_len[d0])) ||
        (c->det_len[d1] && !pr->feed(c, d1, (const char *)c->det[d1], c->det_len[d1]))) {
        ss_conn_stopped(c);
        return 0;
    }
    return 1;
}

/* Bytes of a connection whose protocol is not known yet: kept (a
 * detection's worth) until a module says it is its. 0: none will. The
 * first bytes of a direction are shown where they lie, and copied only if
 * they do not decide: most connections say what they speak in one call. */
int ss_conn_detect(ss_conn_t *c, int dir, const char *p, size_t n)
{
    const ss_proto_t *pr = NULL;
    const uint8_t *seen = (const uint8_t *)p;
    size_t k, had = c->det_len[dir];
    int more = 0;

    if (p == NULL)
        return 0; /* sendfile first: not a protocol the shim follows */
    if (c->det_len[0] == 0 && c->det_len[1] == 0)
        c->det_first = (uint8_t)dir;
    if (c->det_len[!dir]) {
        /* The other side spoke, and this answers it: what it said is whole. */
        pr = ss_conn_detect_in(c, !dir, c->det[!dir], c->det_len[!dir], 1, &more);
        if (pr == NULL && dir == c->det_first) {
            /* This side speaks again after the other's answer: what both
             * said so far is all detection gets (keeping more would give
             * the module the two sides' bytes out of the order they
             * passed, and a verdict that depends on how they were split). */
            pr = ss_conn_detect_in(c, dir, c->det[dir], c->det_len[dir], 1, &more);
            if (pr == NULL) {
                SS_COUNT(conns_opaque);
                return 0;
            }
        }
    }
    k = SS_DETECT_MAX - had;
    if (k > n)
        k = n;
    if (pr == NULL) {
        if (had) {
            memcpy(c->det[dir] + had, p, k);
            seen = c->det[dir];
        }
        pr = ss_conn_detect_in(c, dir, seen, had + k, 0, &more);
        if (pr == NULL) {
            if (!more || k != n) {
                SS_COUNT(conns_opaque);
                return 0;
            }
            if (!had)
                memcpy(c->det[dir], p, k);
            c->det_len[dir] = (uint8_t)(had + k);
            return 1;
        }
    }
    if (!ss_conn_open(c, pr)) /* the bytes kept go first, then this call's whole */
        return 0;
    if (!pr->feed(c, dir, p, n)) {
        ss_conn_stopped(c);
        return 0;
    }
    return 1;
}

/* Why a module stopped: counted, and said at debug level (not when its
 * conversation goes on inside TLS). */
void ss_conn_stopped(ss_conn_t *c)
{
    const char *why = c->proto->why ? c->proto->why(c) : NULL;

    if (ss_conn_to_tls(c))
        return;
    SS_COUNT(conns_let_go);
    ss_log(SS_LOG_DEBUG, "%s connection to %s let go: %s", c->proto->name,
           c->peer_addr[0] ? c->peer_addr : "a peer", why ? why : "unknown");
}

int ss_conn_feed(ss_conn_t *c, int dir, const char *p, size_t n)
{
    return ss_conn_feed_in(c, dir, p, n);
}

/* ---- descriptors ------------------------------------------------------ */

void ss_conn_on_new_fd(int fd)
{
    ss_conn_put(ss_fd_take(fd));
}

void ss_conn_on_close(int fd)
{
    ss_conn_t *c = ss_fd_take(fd);

    if (c == NULL)
        return;
    if (__atomic_load_n(&c->fds, __ATOMIC_ACQUIRE) == 0) {
        ss_lock(&c->lock);
        if (c->mode == SS_MODE_CONNECTING)
            c->mode = SS_MODE_OPAQUE;
        if (!c->is_tls)
            ss_conn_send_owed(c, fd);
        ss_conn_fail_all(c, NULL);
        ss_unlock(&c->lock);
    }
    ss_conn_put(c);
}

/* A server that shuts its write side has sent all it will on the
 * connection, and so has any child holding a copy of it: the client reads
 * the end of a response delimited by the close now, not at the close
 * (python's http.server shuts down, then closes). A client's shutdown is a
 * half-close before the response: it ends nothing. */
void ss_conn_on_shutdown(int fd, uint64_t at_ns)
{
    ss_conn_t *c = ss_fd_get(fd);
    ss_span_t *s;

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    if (c->role == SS_ROLE_SERVER) {
        for (s = c->q_head; s; s = s->next)
            s->end_ns = at_ns;
        ss_conn_fail_all(c, NULL);
    }
    ss_unlock(&c->lock);
    ss_conn_put(c);
}

void ss_conn_on_dup(int oldfd, int newfd)
{
    ss_conn_t *c;

    ss_conn_on_close(newfd); /* dup2 and dup3 close what newfd was */
    c = ss_fd_get(oldfd);
    if (c == NULL)
        return;
    ss_conn_put(ss_fd_set(newfd, c));
    ss_conn_put(c);
}

static int ss_conn_stream_type(int fd)
{
    int type = 0;
    socklen_t len = sizeof(type);

    if (ss_real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return 0;
    return type == SOCK_STREAM;
}

/* A connect that failed: a CLIENT span named "connect" says so. To a Unix
 * socket, by its path, only while the thread serves a request: an app
 * server that is down behind a web server; a daemon that tries its own
 * socket's path before it binds it (php-fpm) is no news, and an abstract
 * name says nothing to a reader. */
static void ss_conn_connect_failed(ss_conn_t *c, int err)
{
    char buf[24];
    ss_span_t *s;

    if ((c->is_unix && (c->peer_addr[0] == '\0' || !ss_cur.active)) || ss_cfg.disabled ||
        ss_lib_depth > 0 || (s = ss_span_alloc()) == NULL)
        return;
    s->kind = SS_KIND_CLIENT;
    s->type = SS_SPAN_CONNECT;
    s->start_ns = c->connect_ns;
    s->peer_port = c->peer_port;
    s->is_unix = c->is_unix;
    memcpy(s->peer_addr, c->peer_addr, sizeof(s->peer_addr));
    ss_span_start_ctx(s, ss_conn_parent_now(s, NULL, NULL), 0);
    ss_dns_exchange(s, &c->dns);
    if (s->parent_ambiguous)
        SS_COUNT(parents_ambiguous);
    strncpy(s->error_type, ss_errno_name(err, buf, sizeof(buf)), sizeof(s->error_type) - 1);
    ss_stack_at_end(s);
    ss_span_end(s);
}

void ss_conn_on_connect(int fd, const struct sockaddr *addr, socklen_t len, int rc, int err)
{
    ss_conn_t *c;

    if (addr == NULL || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6 &&
                         addr->sa_family != AF_UNIX))
        return;
    if (rc < 0 && err != EINPROGRESS && err != EAGAIN && err != EINTR) {
        if ((addr->sa_family == AF_UNIX && !ss_cur.active) || !ss_conn_stream_type(fd))
            return; /* a Unix socket's failure is news only while serving (below) */
        c = ss_conn_new(SS_ROLE_CLIENT, SS_MODE_OPAQUE);
        if (c) {
            ss_conn_peer_from(c, addr, len);
            c->connect_ns = ss_now_ns();
            ss_conn_connect_failed(c, err);
            ss_conn_free(c);
        }
        return;
    }
    if (!ss_conn_stream_type(fd))
        return;
    c = ss_conn_new(SS_ROLE_CLIENT, rc == 0 ? SS_MODE_DETECT : SS_MODE_CONNECTING);
    if (c == NULL)
        return;
    ss_conn_peer_from(c, addr, len);
    c->connect_ns = ss_now_ns();
    ss_conn_put(ss_fd_set(fd, c)); /* replaces nothing: socket() cleared the slot */
    ss_conn_put(c);                /* the table holds it now */
}

void ss_conn_on_accept(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    ss_conn_t *c = ss_conn_new(SS_ROLE_SERVER, SS_MODE_DETECT);

    if (c == NULL)
        return;
    if (addr == NULL || len == 0) {
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            ss_conn_peer_from(c, (struct sockaddr *)&ss, sl);
    } else {
        ss_conn_peer_from(c, addr, len);
    }
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        c->local_port = ss_sockaddr_port(&ss);
        if (ss.ss_family == AF_UNIX)
            c->is_unix = 1;
    }
    ss_conn_put(ss_fd_set(fd, c));
    ss_conn_put(c);
}

void ss_conn_on_sockerr(int fd, int err)
{
    ss_conn_t *c = ss_fd_get(fd);

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    if (c->mode == SS_MODE_CONNECTING) {
        if (err == 0) {
            c->mode = SS_MODE_DETECT;
        } else {
            ss_conn_connect_failed(c, err);
            ss_conn_let_go(c, fd);
        }
    }
    ss_unlock(&c->lock);
    ss_conn_put(c);
}

/* ---- receiving -------------------------------------------------------- */

int ss_errno_transient(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* ss_conn_recv_on's body, inlined into ss_conn_on_recv too: a plain
 * socket's read is one call into the core. */
static inline __attribute__((always_inline)) void
ss_conn_recv_body(ss_conn_t *c, int fd, const struct iovec *iov, int cnt, ssize_t r, int err)
{
    int keep = 1, i;
    char buf[24];

    ss_lock(&c->lock);
    if (c->mode == SS_MODE_OPAQUE)
        goto out;
    if (c->mode == SS_MODE_CONNECTING) {
        if (r < 0) {
            ss_conn_connect_failed(c, err);
            keep = 0;
            goto out;
        }
        c->mode = SS_MODE_DETECT;
    }
    /* An exchange waits for its reply: the call returned now, which is
     * when what ends in it ends (ss_recv_ns). The program waited in this
     * call for its reply, or it failed: its frames are below the hook now
     * (ss_stack.h). */
    if (c->role == SS_ROLE_CLIENT && c->q_head) {
        ss_recv_ns = ss_now_ns();
        if (ss_stack_mode)
            ss_stack_at_wait(c->q_head, r <= 0, ss_recv_ns);
    }
    if (r > 0) {
        size_t left = (size_t)r;

        for (i = 0; i < cnt && left && keep; i++) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

            keep = ss_conn_feed_in(c, SS_DIR_IN, iov[i].iov_base, n);
            left -= n;
        }
    } else if (r == 0 && c->proto) {
        c->proto->eof(c);
    } else if (r < 0) {
        ss_conn_fail_all(c, ss_errno_name(err, buf, sizeof(buf)));
    }
out:
    ss_recv_ns = 0;
    if (!keep)
        ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
}

/* A read that would block: the thread is about to wait for a reply. */
static void ss_conn_stack_would_block(int fd)
{
    ss_conn_t *c = ss_fd_get(fd);

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    if (c->role == SS_ROLE_CLIENT && c->mode == SS_MODE_FOLLOW && c->q_head)
        ss_stack_at_wait(c->q_head, 0, 0);
    ss_unlock(&c->lock);
    ss_conn_put(c);
}

void ss_conn_recv_on(ss_conn_t *c, int fd, const struct iovec *iov, int cnt, ssize_t r, int err)
{
    ss_conn_recv_body(c, fd, iov, cnt, r, err);
}

void ss_conn_on_recv(int fd, const struct iovec *iov, int cnt, ssize_t r, int err, int flags)
{
    ss_conn_t *c;

    if (flags & MSG_PEEK)
        return;
    if (r < 0 && ss_errno_transient(err)) {
        if (ss_stack_mode)
            ss_conn_stack_would_block(fd);
        return;
    }
    c = ss_fd_get(fd);
    if (c == NULL)
        return;
    ss_conn_recv_body(c, fd, iov, cnt, r, err);
    ss_conn_put(c);
}

void ss_conn_forget(int fd)
{
    ss_conn_t *c = ss_fd_get(fd);

    if (c == NULL)
        return;
    ss_lock(&c->lock);
    ss_conn_let_go(c, fd);
    ss_unlock(&c->lock);
    ss_conn_put(c);
}

static void ss_conn_close_one(int fd)
{
    ss_conn_on_close(fd);
}

void ss_conn_on_close_range(unsigned first, unsigned last)
{
    ss_fd_each(first, last, ss_conn_close_one);
}
