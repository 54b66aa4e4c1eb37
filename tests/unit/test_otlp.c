/*
 * test_otlp.c - the shim's OTLP bytes, decoded by the collector's decoder
 * (protobuf-c, generated from the same field numbers) and compared field by
 * field with the span records they came from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/ex_otlp.h"
#include "../../exporter/ex_redact.h"

static void fill_head(ss_span_t *s, const char *method, const char *target, const char *host,
                      const char *ua)
{
    s->http.head.method_len = (uint16_t)strlen(method);
    memcpy(s->http.head.method, method, s->http.head.method_len);
    s->http.head.target_len = (uint16_t)strlen(target);
    memcpy(s->http.head.target, target, s->http.head.target_len);
    s->http.head.host_len = (uint16_t)strlen(host);
    memcpy(s->http.head.host, host, s->http.head.host_len);
    s->http.head.ua_len = (uint16_t)strlen(ua);
    memcpy(s->http.head.ua, ua, s->http.head.ua_len);
    s->http.head_done = 1;
    s->http.head_minor = 1;
}

/* Encode spans into one request the way the exporter does, then decode. */
static col_request_t *roundtrip(const ss_span_t *spans, int n)
{
    static uint8_t buf[65536];
    uint8_t res[EX_RESOURCE_MAX], body[32768];
    ex_process_t p;
    size_t res_len, body_len = 0, env_len;
    char extra[256];
    int i;

    memset(&p, 0, sizeof(p));
    p.pid = 4242;
    p.service_name = "checkout";
    p.exe_name = "prog";
    p.exe_path = "/usr/bin/prog";
    p.command = "prog";
    p.host_name = "box";
    assert_true(ex_otlp_parse_resource_attrs("deployment.environment=prod,team=a%2Cb", extra,
                                             sizeof(extra)));
    p.extra = extra;
    res_len = ex_otlp_resource(&p, res, sizeof(res));
    assert_true(res_len > 0);
    for (i = 0; i < n; i++) {
        size_t k = ex_otlp_span(&spans[i], body + body_len, sizeof(body) - body_len);

        assert_true(k > 0);
        body_len += k;
    }
    env_len = ex_otlp_envelope(res, res_len, body_len, buf, sizeof(buf));
    assert_true(env_len > 0);
    memcpy(buf + env_len, body, body_len);
    return col_request_unpack(env_len + body_len, buf);
}

static const col_kv_t *attr(const col_span_t *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i];
    return NULL;
}

static const char *astr(const col_span_t *s, const char *key)
{
    const col_kv_t *kv = attr(s, key);

    if (kv == NULL)
        return NULL;
    assert_int_equal(kv->value->value_case,
                     OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    return kv->value->string_value;
}

static int64_t aint(const col_span_t *s, const char *key)
{
    const col_kv_t *kv = attr(s, key);

    assert_non_null(kv);
    assert_int_equal(kv->value->value_case,
                     OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    return kv->value->int_value;
}

static const char *rattr(const col_request_t *r, const char *key)
{
    const col_resource_t *res = r->resource_spans[0]->resource;
    size_t i;

    for (i = 0; i < res->n_attributes; i++)
        if (strcmp(res->attributes[i]->key, key) == 0)
            return res->attributes[i]->value->value_case ==
                           OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
                       ? res->attributes[i]->value->string_value
                       : "(int)";
    return NULL;
}

static void test_server_span(void **state)
{
    ss_span_t s;
    col_request_t *r;
    const col_span_t *d;
    int i;

    (void)state;
    memset(&s, 0, sizeof(s));
    for (i = 0; i < 16; i++)
        s.ctx.trace_id[i] = (uint8_t)(i + 1);
    for (i = 0; i < 8; i++) {
        s.ctx.span_id[i] = (uint8_t)(0xa0 + i);
        s.parent_id[i] = (uint8_t)(0xb0 + i);
    }
    s.ctx.flags = 0x03;
    s.has_parent = 1;
    s.parent_remote = 1;
    s.kind = SS_KIND_SERVER;
    s.start_ns = 1700000000000000001ull;
    s.end_ns = 1700000000000500002ull;
    s.http.status_code = 503;
    s.peer_port = 51234;
    s.local_port = 8080;
    strcpy(s.peer_addr, "10.1.2.3");
    strcpy(s.ts, "vendor=abc");
    s.ts_len = 10;
    fill_head(&s, "GET", "/cart/items?id=7&x=y", "shop.example:8443", "curl/8");

    r = roundtrip(&s, 1);
    assert_non_null(r);
    assert_int_equal(r->n_resource_spans, 1);
    assert_string_equal(rattr(r, "service.name"), "checkout");
    assert_string_equal(rattr(r, "telemetry.sdk.name"), "spanshim");
    assert_string_equal(rattr(r, "telemetry.sdk.language"), "c");
    assert_string_equal(rattr(r, "process.executable.path"), "/usr/bin/prog");
    assert_string_equal(rattr(r, "deployment.environment"), "prod");
    assert_string_equal(rattr(r, "team"), "a,b");
    assert_string_equal(r->resource_spans[0]->scope_spans[0]->scope->name, "spanshim");
    assert_int_equal(r->resource_spans[0]->scope_spans[0]->n_spans, 1);
    d = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_int_equal(d->trace_id.len, 16);
    assert_memory_equal(d->trace_id.data, s.ctx.trace_id, 16);
    assert_memory_equal(d->span_id.data, s.ctx.span_id, 8);
    assert_int_equal(d->parent_span_id.len, 8);
    assert_memory_equal(d->parent_span_id.data, s.parent_id, 8);
    assert_string_equal(d->trace_state, "vendor=abc");
    assert_string_equal(d->name, "GET");
    assert_int_equal(d->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    assert_int_equal(d->start_time_unix_nano, s.start_ns);
    assert_int_equal(d->end_time_unix_nano, s.end_ns);
    assert_int_equal(d->flags, 0x303);
    assert_string_equal(astr(d, "http.request.method"), "GET");
    assert_string_equal(astr(d, "url.path"), "/cart/items");
    assert_string_equal(astr(d, "url.query"), "id=7&x=y");
    assert_string_equal(astr(d, "url.scheme"), "http");
    assert_string_equal(astr(d, "server.address"), "shop.example");
    assert_int_equal(aint(d, "server.port"), 8443);
    assert_string_equal(astr(d, "client.address"), "10.1.2.3");
    assert_string_equal(astr(d, "network.peer.address"), "10.1.2.3");
    assert_int_equal(aint(d, "network.peer.port"), 51234);
    assert_string_equal(astr(d, "network.protocol.version"), "1.1");
    assert_string_equal(astr(d, "user_agent.original"), "curl/8");
    assert_int_equal(aint(d, "http.response.status_code"), 503);
    assert_string_equal(astr(d, "error.type"), "503");
    assert_non_null(d->status);
    assert_int_equal(d->status->code, 2);
    col_request_free(r);
}

static void test_client_spans(void **state)
{
    ss_span_t s[4];
    col_request_t *r;
    const col_span_t *d;

    (void)state;
    memset(s, 0, sizeof(s));
    /* A 404 from a plain request: an error for a client. */
    s[0].kind = SS_KIND_CLIENT;
    s[0].ctx.trace_id[0] = s[0].ctx.span_id[0] = 1;
    s[0].ctx.flags = 1;
    s[0].http.status_code = 404;
    strcpy(s[0].peer_addr, "127.0.0.1");
    s[0].peer_port = 9000;
    fill_head(&s[0], "POST", "/api?q=1", "[::1]:9000", "");
    /* An absolute-form target with credentials, unknown method, HTTP/1.0. */
    s[1] = s[0];
    s[1].http.status_code = 200;
    fill_head(&s[1], "PURGE", "http://user:secret@cache.local/x", "cache.local", "");
    s[1].http.head_minor = 0;
    /* A refused connect: no request. */
    s[2].kind = SS_KIND_CLIENT;
    s[2].ctx.trace_id[0] = s[2].ctx.span_id[0] = 2;
    strcpy(s[2].peer_addr, "127.0.0.1");
    s[2].peer_port = 1;
    strcpy(s[2].error_type, "ECONNREFUSED");
    /* No Host header. */
    s[3] = s[0];
    s[3].http.status_code = 200;
    fill_head(&s[3], "GET", "/", "", "");

    r = roundtrip(s, 4);
    assert_non_null(r);
    assert_int_equal(r->resource_spans[0]->scope_spans[0]->n_spans, 4);
    d = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(d->name, "POST");
    assert_int_equal(d->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
    assert_int_equal(d->parent_span_id.len, 0);
    assert_int_equal(d->flags, 0x101);
    assert_string_equal(astr(d, "url.full"), "http://[::1]:9000/api?q=1");
    assert_string_equal(astr(d, "server.address"), "::1");
    assert_int_equal(aint(d, "server.port"), 9000);
    assert_string_equal(astr(d, "error.type"), "404");
    assert_int_equal(d->status->code, 2);

    d = r->resource_spans[0]->scope_spans[0]->spans[1];
    assert_string_equal(d->name, "HTTP");
    assert_string_equal(astr(d, "http.request.method"), "_OTHER");
    assert_string_equal(astr(d, "http.request.method_original"), "PURGE");
    assert_string_equal(astr(d, "url.full"), "http://REDACTED:REDACTED@cache.local/x");
    assert_string_equal(astr(d, "network.protocol.version"), "1.0");
    assert_int_equal(aint(d, "server.port"), 80);
    assert_null(attr(d, "error.type"));
    assert_null(d->status);

    d = r->resource_spans[0]->scope_spans[0]->spans[2];
    assert_string_equal(d->name, "connect");
    assert_string_equal(astr(d, "error.type"), "ECONNREFUSED");
    assert_string_equal(astr(d, "server.address"), "127.0.0.1");
    assert_int_equal(aint(d, "server.port"), 1);
    assert_null(attr(d, "url.full"));
    assert_int_equal(d->status->code, 2);

    d = r->resource_spans[0]->scope_spans[0]->spans[3];
    assert_string_equal(astr(d, "url.full"), "http://127.0.0.1:9000/");
    col_request_free(r);
}

/* One span of the given kind and request, encoded and decoded. */
static col_request_t *one_span(int kind, const char *method, const char *target, const char *host)
{
    ss_span_t s;

    memset(&s, 0, sizeof(s));
    s.kind = (uint8_t)kind;
    s.ctx.trace_id[0] = s.ctx.span_id[0] = 1;
    s.http.status_code = 200;
    strcpy(s.peer_addr, "127.0.0.1");
    s.peer_port = 28082;
    s.local_port = 28082;
    fill_head(&s, method, target, host, "");
    return roundtrip(&s, 1);
}

#define SPAN0(r) ((r)->resource_spans[0]->scope_spans[0]->spans[0])

/* kind's attribute key for method and target: the string, or NULL. */
static void expect_attr(int kind, const char *method, const char *target, const char *host,
                        const char *key, const char *want)
{
    col_request_t *r = one_span(kind, method, target, host);
    const char *got;

    assert_non_null(r);
    got = astr(SPAN0(r), key);
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
    col_request_free(r);
}

static void test_query_secrets_redacted(void **state)
{
    (void)state;
    /* a server span's url.query; url.path as it was */
    expect_attr(SS_KIND_SERVER, "GET", "/login?user=bob&password=hunter2&next=%2F", "h",
                "url.query", "user=bob&password=REDACTED&next=%2F");
    expect_attr(SS_KIND_SERVER, "GET", "/login?user=bob&password=hunter2&next=%2F", "h",
                "url.path", "/login");
    expect_attr(SS_KIND_SERVER, "GET", "/p?a=1;Token=x;y&b=2", "h", "url.query",
                "a=1;Token=REDACTED&b=2");
    expect_attr(SS_KIND_SERVER, "GET", "/p?q=1&token=", "h", "url.query", "q=1&token=");
    /* a client's url.full, origin-form... */
    expect_attr(SS_KIND_CLIENT, "GET", "/api?api_key=k1&q=1", "h:8080", "url.full",
                "http://h:8080/api?api_key=REDACTED&q=1");
    expect_attr(SS_KIND_CLIENT, "GET", "/api?q=1", "h:8080", "url.full", "http://h:8080/api?q=1");
    /* ...and absolute-form (proxies, libcurl's URL), with credentials too */
    expect_attr(SS_KIND_CLIENT, "GET", "http://u:p@h/x?sig=abc&a=1", "h", "url.full",
                "http://REDACTED:REDACTED@h/x?sig=REDACTED&a=1");
    expect_attr(SS_KIND_CLIENT, "GET",
                "https://b.s3.amazonaws.com/o?X-Amz-Credential=AKIA%2F1&X-Amz-Date=2&"
                "X-Amz-Signature=ff",
                "b.s3.amazonaws.com", "url.full",
                "https://b.s3.amazonaws.com/o?X-Amz-Credential=REDACTED&X-Amz-Date=2&"
                "X-Amz-Signature=REDACTED");
    expect_attr(SS_KIND_CLIENT, "GET", "http://h/x?a=1", "h", "url.full", "http://h/x?a=1");
    expect_attr(SS_KIND_CLIENT, "GET", "http://h?token=t", "h", "url.full",
                "http://h?token=REDACTED");
    /* userinfo ends at the authority's last '@'; one past it is not userinfo */
    expect_attr(SS_KIND_CLIENT, "GET", "http://u:p@ss@h/x", "h", "url.full",
                "http://REDACTED:REDACTED@h/x");
    /* an '@' past the authority is not userinfo */
    expect_attr(SS_KIND_CLIENT, "GET", "http://h/x?mail=a@b&pwd=1", "h", "url.full",
                "http://h/x?mail=a@b&pwd=REDACTED");
}

/* `OPTIONS *` and CONNECT's authority-form: the target URI has an empty
 * path (RFC 9112, 3.3), so url.full is scheme and authority alone; a
 * server span keeps `*` as url.path (what servers hand their handlers) and
 * has none for CONNECT. */
static void test_asterisk_and_authority_forms(void **state)
{
    (void)state;
    expect_attr(SS_KIND_CLIENT, "OPTIONS", "*", "127.0.0.1:28082", "url.full",
                "http://127.0.0.1:28082");
    /* apache's own dummy connection: HTTP/1.0, no Host: from the peer */
    expect_attr(SS_KIND_CLIENT, "OPTIONS", "*", "", "url.full", "http://127.0.0.1:28082");
    expect_attr(SS_KIND_SERVER, "OPTIONS", "*", "127.0.0.1:28082", "url.path", "*");
    expect_attr(SS_KIND_SERVER, "OPTIONS", "*", "127.0.0.1:28082", "url.query", NULL);
    /* OPTIONS of a resource is origin-form as any other */
    expect_attr(SS_KIND_CLIENT, "OPTIONS", "/x", "h", "url.full", "http://h/x");
    expect_attr(SS_KIND_CLIENT, "OPTIONS", "*x", "h", "url.full", "http://h*x");

    expect_attr(SS_KIND_CLIENT, "CONNECT", "example.com:443", "example.com:443", "url.full",
                "http://example.com:443");
    expect_attr(SS_KIND_CLIENT, "CONNECT", "[::1]:8443", "", "url.full", "http://[::1]:8443");
    expect_attr(SS_KIND_SERVER, "CONNECT", "example.com:443", "example.com:443", "url.path", NULL);
    expect_attr(SS_KIND_SERVER, "CONNECT", "example.com:443", "example.com:443",
                "server.address", "example.com");
    /* a method named like it is not it */
    expect_attr(SS_KIND_CLIENT, "CONNECTX", "/a", "h", "url.full", "http://h/a");
}

/* The longest target, every byte of it a parameter to redact, with the
 * longest Host: the span still fits, nothing is cut. */
static void test_redacted_span_worst_case(void **state)
{
    ss_span_t s;
    col_request_t *r;
    uint8_t buf[EX_SPAN_MAX];
    char want[EX_REDACT_ROOM(SS_HTTP_TARGET_MAX) + SS_HTTP_HOST_MAX + 64];
    size_t i, n = 0;
    int kind, gw;

    (void)state;
    assert_int_equal(ex_redact_configure("t"), 0);
    for (gw = SS_GW_NONE; gw <= SS_GW_FASTCGI; gw++)
    for (kind = SS_KIND_SERVER; kind <= SS_KIND_CLIENT; kind++) {
        memset(&s, 0, sizeof(s));
        s.kind = (uint8_t)kind;
        s.http.gateway = (uint8_t)gw;
        memset(s.http.head.script, 'f', SS_HTTP_SCRIPT_MAX);
        s.http.head.script_len = SS_HTTP_SCRIPT_MAX;
        memset(s.http.head.client, 'c', SS_HTTP_CLIENT_MAX);
        s.http.head.client_len = SS_HTTP_CLIENT_MAX;
        s.http.head_done = 1;
        s.http.head.method_len = 3;
        memcpy(s.http.head.method, "GET", 3);
        s.http.head.target[0] = '/';
        s.http.head.target[1] = '?';
        for (i = 2; i < SS_HTTP_TARGET_MAX; i++)
            s.http.head.target[i] = "t=1&"[(i - 2) % 4];
        s.http.head.target_len = SS_HTTP_TARGET_MAX;
        memset(s.http.head.host, 'h', SS_HTTP_HOST_MAX);
        s.http.head.host_len = SS_HTTP_HOST_MAX;
        memset(s.http.head.ua, 'u', SS_HTTP_UA_MAX);
        s.http.head.ua_len = SS_HTTP_UA_MAX;
        memset(s.peer_addr, 'p', sizeof(s.peer_addr) - 1);
        memset(s.error_type, 'e', sizeof(s.error_type) - 1);
        memset(s.ts, 's', SS_TS_FORWARD_MAX);
        s.ts_len = SS_TS_FORWARD_MAX;
        assert_true(ex_otlp_span(&s, buf, sizeof(buf)) > 0);
        r = roundtrip(&s, 1);
        assert_non_null(r);
        n = 0;
        if (kind == SS_KIND_CLIENT) {
            n += (size_t)sprintf(want, "http://");
            memset(want + n, 'h', SS_HTTP_HOST_MAX);
            n += SS_HTTP_HOST_MAX;
            n += (size_t)sprintf(want + n, "/?");
        }
        for (i = 2; i + 3 <= SS_HTTP_TARGET_MAX; i += 4)
            n += (size_t)sprintf(want + n, "%st=REDACTED", i > 2 ? "&" : "");
        if (i < SS_HTTP_TARGET_MAX) /* the last parameter, cut: "t=" or "t" */
            n += (size_t)sprintf(want + n, "&%.*s", (int)(SS_HTTP_TARGET_MAX - i), "t=");
        assert_string_equal(astr(SPAN0(r), kind == SS_KIND_CLIENT ? "url.full" : "url.query"),
                            want);
        col_request_free(r);
    }
    assert_int_equal(ex_redact_configure(NULL), 0);
}

/* A request through FastCGI, as the web server sent it and as the app
 * server received it: HTTP attributes of the request the web server got,
 * the protocol's name, the script, and on the server side the client and
 * host the web server saw. */
static void test_gateway_spans(void **state)
{
    ss_span_t s[2];
    col_request_t *r;
    const col_span_t *d;
    int i;

    (void)state;
    memset(s, 0, sizeof(s));
    for (i = 0; i < 2; i++) {
        fill_head(&s[i], "GET", "/index.php?q=1", "shop.example:8080", "curl/8");
        s[i].http.gateway = SS_GW_FASTCGI;
        s[i].http.gw_https = 1;
        s[i].http.status_code = 404;
        s[i].is_unix = 1;
        strcpy(s[i].peer_addr, "/run/php/php-fpm.sock");
        strcpy(s[i].http.head.script, "/srv/www/index.php");
        s[i].http.head.script_len = 18;
        strcpy(s[i].http.head.client, "203.0.113.9");
        s[i].http.head.client_len = 11;
        s[i].ctx.valid = 1;
        s[i].ctx.trace_id[0] = 1;
        s[i].ctx.span_id[0] = (uint8_t)(i + 1);
        s[i].start_ns = 1;
        s[i].end_ns = 2;
    }
    s[0].kind = SS_KIND_SERVER;
    s[1].kind = SS_KIND_CLIENT;
    s[1].http.gateway = SS_GW_UWSGI;
    s[1].http.gw_https = 0;
    r = roundtrip(s, 2);
    assert_non_null(r);
    d = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(d->name, "GET");
    assert_string_equal(astr(d, "network.protocol.name"), "fastcgi");
    assert_null(attr(d, "network.protocol.version"));
    assert_string_equal(astr(d, "code.file.path"), "/srv/www/index.php");
    assert_string_equal(astr(d, "url.path"), "/index.php");
    assert_string_equal(astr(d, "url.query"), "q=1");
    assert_string_equal(astr(d, "url.scheme"), "https");
    assert_string_equal(astr(d, "server.address"), "shop.example");
    assert_int_equal(aint(d, "server.port"), 8080);
    assert_string_equal(astr(d, "client.address"), "203.0.113.9");
    assert_int_equal(aint(d, "http.response.status_code"), 404);
    assert_null(attr(d, "error.type")); /* a 404 is the client's error */
    d = r->resource_spans[0]->scope_spans[0]->spans[1];
    assert_string_equal(astr(d, "network.protocol.name"), "uwsgi");
    assert_string_equal(astr(d, "url.full"), "http://shop.example:8080/index.php?q=1");
    assert_null(attr(d, "server.address")); /* the app server is a socket: */
    assert_string_equal(astr(d, "network.peer.address"), "/run/php/php-fpm.sock");
    assert_null(attr(d, "client.address"));
    assert_string_equal(astr(d, "error.type"), "404");
    col_request_free(r);
}

static void test_resource_attrs_decoding(void **state)
{
    char out[128];

    (void)state;
    assert_true(ex_otlp_parse_resource_attrs("a=1,b=x%20y", out, sizeof(out)));
    assert_string_equal(out, "a");
    assert_string_equal(out + 2, "1");
    assert_string_equal(out + 4, "b");
    assert_string_equal(out + 6, "x y");
    /* A decode error discards the whole variable. */
    assert_false(ex_otlp_parse_resource_attrs("a=1,b=%zz", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(ex_otlp_parse_resource_attrs("a=1,novalue", out, sizeof(out)));
    assert_false(ex_otlp_parse_resource_attrs("a=1,b=%2", out, sizeof(out)));
}

static void test_span_too_big_for_buffer(void **state)
{
    ss_span_t s;
    uint8_t small[64];

    (void)state;
    memset(&s, 0, sizeof(s));
    s.kind = SS_KIND_SERVER;
    fill_head(&s, "GET", "/a/very/long/path/that/does/not/fit", "host", "agent");
    assert_int_equal(ex_otlp_span(&s, small, sizeof(small)), 0);
}

/* code.stacktrace travels whole, at its largest, beside the other
 * attributes of a failed connect. */
static void test_stacktrace_attribute(void **state)
{
    static ss_span_t s;
    static char text[SS_STACK_TEXT_MAX];
    col_request_t *r;
    const col_span_t *d;
    size_t i;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.kind = SS_KIND_CLIENT;
    s.type = SS_SPAN_CONNECT;
    s.ctx.valid = 1;
    s.ctx.trace_id[0] = s.ctx.span_id[0] = 1;
    s.start_ns = 1;
    s.end_ns = 2;
    s.peer_port = 9;
    strcpy(s.peer_addr, "127.0.0.1");
    strcpy(s.error_type, "ECONNREFUSED");
    for (i = 0; i < sizeof(text) - 1; i++)
        text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    text[sizeof(text) - 1] = '\0';
    s.stacktrace = text;
    r = roundtrip(&s, 1);
    assert_non_null(r);
    d = r->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(astr(d, "code.stacktrace"), text);
    assert_string_equal(astr(d, "error.type"), "ECONNREFUSED");
    col_request_free(r);
    s.stacktrace = NULL; /* none: no attribute */
    r = roundtrip(&s, 1);
    assert_non_null(r);
    assert_null(attr(r->resource_spans[0]->scope_spans[0]->spans[0], "code.stacktrace"));
    col_request_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_span),
        cmocka_unit_test(test_client_spans),
        cmocka_unit_test(test_query_secrets_redacted),
        cmocka_unit_test(test_redacted_span_worst_case),
        cmocka_unit_test(test_asterisk_and_authority_forms),
        cmocka_unit_test(test_gateway_spans),
        cmocka_unit_test(test_resource_attrs_decoding),
        cmocka_unit_test(test_span_too_big_for_buffer),
        cmocka_unit_test(test_stacktrace_attribute),
    };

    return cmocka_run_group_tests_name("otlp", tests, NULL, NULL);
}
