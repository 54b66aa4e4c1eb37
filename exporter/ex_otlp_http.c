/*
 * ex_otlp_http.c - the HTTP part of a span's encoding (ex_otlp_int.h).
 *
 * Attribute names and the rules for each value follow the stable HTTP
 * semantic conventions; the span record holds raw request bytes, and this
 * file is where they become url.full, server.address and the like, with
 * secrets redacted (userinfo here, query values in ex_redact.c).
 *
 * A request through an app-server protocol (FastCGI, uwsgi, AJP: the
 * record's gateway) is HTTP too, as the web server received it: the same
 * attributes, with the protocol as network.protocol.name, the script as
 * code.file.path, and on the server side the client and host the web
 * server saw (REMOTE_ADDR, HTTP_HOST) rather than the web server itself.
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

#include <stdio.h>

/* Whether the request came over TLS: to this process, or (a gateway's
 * request) to the web server that passed it on. */
static int ex_http_tls(const ss_span_t *s)
{
    return s->http.gateway ? s->http.gw_https : s->is_tls;
}

static ex_str_t ex_gateway_name(unsigned gateway)
{
    static const ex_str_t names[] = {EX_LIT("http"), EX_LIT("fastcgi"), EX_LIT("uwsgi"),
                                     EX_LIT("ajp")};

    return gateway < sizeof(names) / sizeof(names[0]) ? names[gateway] : EX_NONE;
}

/* The method as http.request.method wants it: known ones as they are. */
static int ex_known_method(ex_str_t m)
{
    static const ex_str_t known[] = {EX_LIT("GET"),     EX_LIT("POST"),  EX_LIT("PUT"),
                                     EX_LIT("DELETE"),  EX_LIT("HEAD"),  EX_LIT("PATCH"),
                                     EX_LIT("OPTIONS"), EX_LIT("TRACE"), EX_LIT("CONNECT")};
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].n == m.n && memcmp(known[i].p, m.p, m.n) == 0)
            return 1;
    return 0;
}

/* Split "host", "host:port", "[v6]:port" into address and port (0 if none). */
static ex_str_t ex_split_host(ex_str_t host, int *port)
{
    const char *colon = NULL, *end = host.p + host.n;
    ex_str_t addr = host;

    *port = 0;
    if (host.p[0] == '[') {
        const char *close = memchr(host.p, ']', host.n);

        if (close == NULL)
            return host;
        addr = (ex_str_t){host.p + 1, (size_t)(close - host.p - 1)};
        if (close + 1 < end && close[1] == ':')
            colon = close + 1;
    } else {
        colon = memrchr(host.p, ':', host.n);
        if (colon)
            addr.n = (size_t)(colon - host.p);
    }
    if (colon && colon + 1 < end) {
        int p = 0;
        const char *c;

        for (c = colon + 1; c < end && *c >= '0' && *c <= '9' && p < 65536; c++)
            p = p * 10 + (*c - '0');
        if (c == end && p > 0 && p < 65536)
            *port = p;
    }
    return addr;
}

/* Append s to out (length *n, capacity cap), cutting at the capacity. */
static void ex_append(char *out, size_t cap, size_t *n, ex_str_t s)
{
    size_t k = s.n < cap - *n ? s.n : cap - *n;

    memcpy(out + *n, s.p, k);
    *n += k;
}

static int ex_is_connect(ex_str_t method)
{
    return method.n == 7 && memcmp(method.p, "CONNECT", 7) == 0;
}

/* Append s, the end of a target, and redact the secrets of its query (its
 * '?' on, inside s; EX_NONE if none) where they were copied. Cut by the
 * capacity, s loses its whole query rather than show part of one. */
static void ex_append_target(char *out, size_t cap, size_t *n, ex_str_t s, ex_str_t query)
{
    size_t at = *n + s.n - query.n + 1, m; /* where the query's first byte goes */

    ex_append(out, cap, n, s);
    if (query.n < 2)
        return;
    if (*n != at + query.n - 1)
        *n = at - 1 < *n ? at - 1 : *n;
    else if (ex_redact_query(ex_redact_keys, query.p + 1, query.n - 1, out + at, cap - at, &m))
        *n = at + m;
}

/* An absolute-form target: as sent, credentials and query secrets
 * redacted (the target itself when there are none). The userinfo ends at
 * the authority's last '@', as URL parsers read it: a password with a raw
 * '@' is hidden whole. */
static ex_str_t ex_url_absolute(ex_str_t target, const char *auth, ex_str_t query, char *out,
                                size_t cap)
{
    const char *q = query.n ? query.p : target.p + target.n, *at = NULL, *c;
    size_t n = 0, m, head = (size_t)(q - target.p) + 1;

    for (c = auth; c < q && *c != '/' && *c != '#'; c++)
        if (*c == '@')
            at = c;
    if (at) {
        ex_append(out, cap, &n, (ex_str_t){target.p, (size_t)(auth - target.p)});
        ex_append(out, cap, &n, EX_LIT("REDACTED:REDACTED"));
        ex_append_target(out, cap, &n, (ex_str_t){at, (size_t)(target.p + target.n - at)}, query);
        return (ex_str_t){out, n};
    }
    if (query.n == 0 || head > cap ||
        !ex_redact_query(ex_redact_keys, q + 1, query.n - 1, out + head, cap - head, &m))
        return target;
    memcpy(out, target.p, head);
    return (ex_str_t){out, head + m};
}

/* url.full: absolute-form targets as sent (secrets redacted), others put
 * together from the scheme, the Host header and the target. For `OPTIONS
 * *` and CONNECT's authority-form the URL has an empty path (RFC 9112,
 * 3.3): `http://host:port`. */
static ex_str_t ex_url_full(const ss_span_t *s, ex_str_t target, ex_str_t host, ex_str_t peer,
                            char *out, size_t cap)
{
    ex_str_t scheme = ex_http_tls(s) ? EX_LIT("https") : EX_LIT("http");
    const char *q = memchr(target.p, '?', target.n);
    ex_str_t query = q ? (ex_str_t){q, (size_t)(target.p + target.n - q)} : EX_NONE;
    const char *scheme_end = target.n && target.p[0] != '/' ? memmem(target.p, target.n, "://", 3)
                                                             : NULL;
    char port[16];
    size_t n = 0;

    if (scheme_end)
        return ex_url_absolute(target, scheme_end + 3, query, out, cap);
    ex_append(out, cap, &n, scheme);
    ex_append(out, cap, &n, EX_LIT("://"));
    if (ex_is_connect((ex_str_t){s->http.head.method, s->http.head.method_len}) && target.n &&
        target.p[0] != '/') {
        ex_append(out, cap, &n, target);
        return (ex_str_t){out, n};
    }
    if (host.n) { /* the usual case */
        ex_append(out, cap, &n, host);
    } else if (s->is_unix || peer.n == 0) {
        ex_append(out, cap, &n, EX_LIT("localhost"));
    } else {
        int v6 = memchr(peer.p, ':', peer.n) != NULL;

        if (v6)
            ex_append(out, cap, &n, EX_LIT("["));
        ex_append(out, cap, &n, peer);
        ex_append(out, cap, &n, v6 ? EX_LIT("]:") : EX_LIT(":"));
        ex_append(out, cap, &n, (ex_str_t){port, (size_t)snprintf(port, sizeof(port), "%u", s->peer_port)});
    }
    if (target.n == 1 && target.p[0] == '*')
        return (ex_str_t){out, n};
    ex_append_target(out, cap, &n, target, query);
    return (ex_str_t){out, n};
}

/* url.path and url.query of a server span: the target split at '?', an
 * absolute-form target's path taken after its authority, the query's
 * secrets redacted into out. CONNECT's authority-form has no path; `*`
 * (OPTIONS) is kept as the path, as HTTP servers give it. */
static void ex_url_parts(ex_str_t target, int connect, ex_str_t *path, ex_str_t *query, char *out,
                         size_t cap)
{
    const char *q = memchr(target.p, '?', target.n), *end = target.p + target.n;
    size_t m;

    *path = (ex_str_t){target.p, q ? (size_t)(q - target.p) : target.n};
    *query = q ? (ex_str_t){q + 1, (size_t)(end - q - 1)} : EX_NONE;
    if (query->n && ex_redact_query(ex_redact_keys, query->p, query->n, out, cap, &m))
        *query = (ex_str_t){out, m};
    if (target.n && target.p[0] != '/') {
        const char *sep = memmem(target.p, target.n, "://", 3);
        const char *slash = sep ? memchr(sep + 3, '/', (size_t)(end - sep - 3)) : NULL;

        if (sep && (slash == NULL || (q && slash > q)))
            *path = EX_LIT("/");
        else if (sep)
            *path = (ex_str_t){slash, (size_t)((q ? q : end) - slash)};
        else if (connect)
            *path = EX_NONE;
    }
}

/* A status code as error.type: three digits, without printf. */
static ex_str_t ex_status(unsigned code, char out[8])
{
    if (code > 999)
        return (ex_str_t){out, (size_t)snprintf(out, 8, "%u", code)};
    out[0] = (char)('0' + code / 100);
    out[1] = (char)('0' + code / 10 % 10);
    out[2] = (char)('0' + code % 10);
    return (ex_str_t){out, 3};
}

/* The attributes of a client span that are not common to both kinds. */
static uint8_t *ex_http_client_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    const ex_http_facts_t *h = &f->http;

    if (h->addr.n && !s->http.gateway) {
        p = ex_kv_str(p, EX_LIT("server.address"), h->addr);
        p = ex_kv_int(p, EX_LIT("server.port"), h->port ? h->port : s->is_tls ? 443 : 80);
    } else {
        p = ex_put_server_peer(p, s, f, 0); /* a gateway's server is the app server */
    }
    return ex_kv_str(p, EX_LIT("url.full"), h->url);
}

/* ... and of a server span. */
static uint8_t *ex_http_server_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    const ex_http_facts_t *h = &f->http;

    p = ex_kv_str(p, EX_LIT("url.path"), h->path);
    p = ex_kv_str(p, EX_LIT("url.query"), h->query);
    p = ex_kv_str(p, EX_LIT("url.scheme"), ex_http_tls(s) ? EX_LIT("https") : EX_LIT("http"));
    if (h->addr.n) {
        p = ex_kv_str(p, EX_LIT("server.address"), h->addr);
        p = ex_kv_int(p, EX_LIT("server.port"), h->port ? h->port : ex_http_tls(s) ? 443 : 80);
    } else if (s->local_port && !s->http.gateway) {
        p = ex_kv_int(p, EX_LIT("server.port"), s->local_port);
    }
    if (s->http.gateway)
        p = ex_kv_str(p, EX_LIT("client.address"),
                      (ex_str_t){s->http.head.client, s->http.head.client_len});
    else if (!s->is_unix)
        p = ex_kv_str(p, EX_LIT("client.address"), f->peer);
    return ex_kv_str(p, EX_LIT("user_agent.original"),
                     (ex_str_t){s->http.head.ua, s->http.head.ua_len});
}

/* The HTTP attributes, in the order the conventions list them. */
static uint8_t *ex_http_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    const ex_http_facts_t *h = &f->http;

    if (s->http.head_done) {
        p = ex_kv_str(p, EX_LIT("http.request.method"), h->known ? h->method : EX_LIT("_OTHER"));
        if (!h->known)
            p = ex_kv_str(p, EX_LIT("http.request.method_original"), h->method);
    }
    p = s->kind == SS_KIND_CLIENT ? ex_http_client_attrs(p, s, f) : ex_http_server_attrs(p, s, f);
    if (s->http.status_code)
        p = ex_kv_int(p, EX_LIT("http.response.status_code"), s->http.status_code);
    if (s->http.gateway) {
        p = ex_kv_str(p, EX_LIT("network.protocol.name"), ex_gateway_name(s->http.gateway));
        p = ex_kv_str(p, EX_LIT("code.file.path"),
                      (ex_str_t){s->http.head.script, s->http.head.script_len});
    } else if (s->http.head_done)
        p = ex_kv_str(p, EX_LIT("network.protocol.version"),
                      s->http.http_version == 20   ? EX_LIT("2")
                      : s->http.http_version == 30 ? EX_LIT("3")
                      : s->http.head_minor         ? EX_LIT("1.1")
                                                   : EX_LIT("1.0"));
    if (s->http.resend_count)
        p = ex_kv_int(p, EX_LIT("http.request.resend_count"), s->http.resend_count);
    return p;
}

static void ex_http_decide(const ss_span_t *s, ex_facts_t *f)
{
    ex_http_facts_t *h = &f->http;
    ex_str_t target = {s->http.head.target, s->http.head.target_len};

    h->method = (ex_str_t){s->http.head.method, s->http.head.method_len};
    h->host = (ex_str_t){s->http.head.host, s->http.head.host_len};
    h->known = ex_known_method(h->method);
    h->port = 0;
    h->addr = h->host.n ? ex_split_host(h->host, &h->port) : EX_NONE;
    if (h->port == 0 && s->http.gateway)
        h->port = s->http.gw_server_port;
    h->url = h->path = h->query = EX_NONE;
    if (s->kind == SS_KIND_CLIENT && s->http.head_done)
        h->url = ex_url_full(s, target, h->host, f->peer, h->url_buf, sizeof(h->url_buf));
    else if (s->kind == SS_KIND_SERVER) /* url_buf: one kind or the other */
        ex_url_parts(target, ex_is_connect(h->method), &h->path, &h->query, h->url_buf,
                     sizeof(h->url_buf));
    if (f->error_type.n == 0 && s->http.status_code >= (s->kind == SS_KIND_CLIENT ? 400 : 500))
        f->error_type = ex_status(s->http.status_code, h->status);
    if (!s->http.head_done)
        f->name = EX_LIT("connect"); /* the connection failed before any request */
    else
        f->name = h->known ? h->method : EX_LIT("HTTP");
}


/* The most bytes an HTTP span's part takes: at most 13 attributes of at
 * most 50 bytes of framing and key, their values (the method twice, the
 * URL, the target's parts, the address, the peer or a gateway's client,
 * the user agent, a gateway's script). A query grows when its values are
 * redacted (EX_REDACT_ROOM). */
#define EX_HTTP_WORST                                                                       \
    (13 * 50 + 2 * SS_HTTP_METHOD_MAX + EX_URL_MAX + EX_REDACT_ROOM(SS_HTTP_TARGET_MAX) +    \
     SS_HTTP_HOST_MAX + sizeof(((ss_span_t *)0)->peer_addr) + SS_DNS_NAME_MAX + SS_HTTP_UA_MAX + \
     SS_HTTP_SCRIPT_MAX)
_Static_assert(EX_SPAN_COMMON_WORST + EX_HTTP_WORST <= EX_SPAN_MAX, "an HTTP span fits EX_SPAN_MAX");

const ex_span_enc_t ex_otlp_http_enc = {EX_HTTP_WORST, 0, ex_http_decide, ex_http_attrs};
