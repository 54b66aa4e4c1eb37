/*
 * test_gw.c - CGI variables into an exchange's HTTP part (preload/proto/
 * ss_gw.c): which variable fills what, values in pieces, stand-ins, caps,
 * and the server side's context from HTTP_TRACEPARENT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_gw.h"
#include "../../preload/ss_span.h"
#include "unit_config.h"

#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

/* The thread serves nothing again (a span's end does that in the shim). */
static void serve_nothing(void)
{
    static const ss_ctx_t none;

    ss_conn_serving(&none, "", 0);
}

static void var(ss_span_t *s, const char *name, const char *val)
{
    ss_gw_var(s, name, strlen(name), val, strlen(val));
}

#define FIELD_EQ(s, f, want)                                         \
    do {                                                             \
        assert_int_equal((s)->http.head.f##_len, strlen(want));      \
        assert_memory_equal((s)->http.head.f, want, strlen(want));   \
    } while (0)

static void test_variables_fill_the_request(void **state)
{
    ss_span_t *s = ss_span_alloc();

    (void)state;
    var(s, "QUERY_STRING", "q=1");
    var(s, "REQUEST_METHOD", "POST");
    var(s, "SCRIPT_NAME", "/index.php");
    var(s, "REQUEST_URI", "/shop/cart?q=1");
    var(s, "SCRIPT_FILENAME", "/srv/www/index.php");
    var(s, "SERVER_NAME", "fallback.example");
    var(s, "SERVER_PORT", "8443");
    var(s, "HTTPS", "on");
    var(s, "REMOTE_ADDR", "203.0.113.9");
    var(s, "HTTP_HOST", "shop.example");
    var(s, "HTTP_USER_AGENT", "curl/8.0");
    var(s, "SERVER_NAME", "late.example"); /* HTTP_HOST was given: it stays */
    FIELD_EQ(s, method, "POST");
    FIELD_EQ(s, target, "/shop/cart?q=1");
    FIELD_EQ(s, script, "/srv/www/index.php");
    FIELD_EQ(s, host, "shop.example");
    FIELD_EQ(s, client, "203.0.113.9");
    FIELD_EQ(s, ua, "curl/8.0");
    assert_int_equal(s->http.gw_server_port, 8443);
    assert_int_equal(s->http.gw_https, 1);
    ss_span_free(s);
}

static void test_stand_ins(void **state)
{
    ss_span_t *s = ss_span_alloc();

    (void)state;
    var(s, "SCRIPT_NAME", "/cgi-bin/hello.sh");
    var(s, "SERVER_NAME", "www.example");
    var(s, "HTTPS", "off");
    var(s, "SERVER_PORT", "99999"); /* not a port */
    FIELD_EQ(s, target, "/cgi-bin/hello.sh");
    FIELD_EQ(s, host, "www.example");
    assert_int_equal(s->http.gw_https, 0);
    assert_int_equal(s->http.gw_server_port, 0);
    var(s, "HTTPS", "1");
    assert_int_equal(s->http.gw_https, 1);
    var(s, "HTTPS", "onward");
    assert_int_equal(s->http.gw_https, 0);
    ss_span_free(s);
}

/* A value in pieces is the value whole; one longer than its field is cut
 * and marked so. */
static void test_pieces_and_caps(void **state)
{
    char big[SS_HTTP_SCRIPT_MAX + 40];
    ss_span_t *s = ss_span_alloc();
    ss_gw_var_t v;
    size_t i;

    (void)state;
    ss_gw_var_begin(&v, s, "REQUEST_URI", 11);
    ss_gw_var_bytes(&v, "/a", 2);
    ss_gw_var_bytes(&v, "", 0);
    ss_gw_var_bytes(&v, "b?c", 3);
    ss_gw_var_end(&v);
    FIELD_EQ(s, target, "/ab?c");
    ss_gw_var_begin(&v, s, "SERVER_PORT", 11);
    ss_gw_var_bytes(&v, "80", 2);
    ss_gw_var_bytes(&v, "80", 2);
    ss_gw_var_end(&v);
    assert_int_equal(s->http.gw_server_port, 8080);
    memset(big, 'x', sizeof(big));
    ss_gw_var_begin(&v, s, "SCRIPT_FILENAME", 15);
    for (i = 0; i < sizeof(big); i += 7)
        ss_gw_var_bytes(&v, big + i, sizeof(big) - i < 7 ? sizeof(big) - i : 7);
    ss_gw_var_end(&v);
    assert_int_equal(s->http.head.script_len, SS_HTTP_SCRIPT_MAX);
    assert_int_equal(s->http.head.script_trunc, 1);
    ss_gw_var_begin(&v, s, "X_NOT_KEPT", 10);
    assert_false(ss_gw_var_is_tp(&v));
    ss_gw_var_bytes(&v, "zzz", 3);
    ss_gw_var_end(&v);
    ss_gw_var_begin(&v, s, "HTTP_TRACEPARENT", 16);
    assert_true(ss_gw_var_is_tp(&v));
    ss_gw_var_end(&v);
    ss_span_free(s);
}

/* The server side continues the first valid traceparent, whatever comes
 * before or after it, with its tracestate. */
static void test_server_context(void **state)
{
    static const char *const orders[][2] = {
        {TP, NULL}, {"garbage", TP}, {TP, "00-11111111111111111111111111111111-2222222222222222-01"}};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        ss_span_t *s = ss_span_alloc();
        ss_ctx_t want;

        s->kind = SS_KIND_SERVER;
        var(s, "REQUEST_METHOD", "GET");
        var(s, "HTTP_TRACEPARENT", orders[i][0]);
        if (orders[i][1])
            var(s, "HTTP_TRACEPARENT", orders[i][1]);
        var(s, "HTTP_TRACESTATE", "k=v");
        ss_gw_server_request(s);
        assert_true(ss_tp_parse(TP, SS_TP_LEN, &want));
        assert_int_equal(s->http.head_done, 1);
        assert_true(s->has_parent);
        assert_memory_equal(s->ctx.trace_id, want.trace_id, 16);
        assert_memory_equal(s->parent_id, want.span_id, 8);
        assert_int_equal(s->ts_len, 3);
        assert_memory_equal(s->ts, "k=v", 3);
        serve_nothing();
        ss_span_free(s);
    }
}

static void test_server_new_trace(void **state)
{
    ss_span_t *s = ss_span_alloc();

    (void)state;
    s->kind = SS_KIND_SERVER;
    var(s, "HTTP_TRACEPARENT", "00-zz");
    var(s, "HTTP_TRACESTATE", "k=v");
    ss_gw_server_request(s);
    assert_true(s->ctx.valid);
    assert_false(s->has_parent);
    assert_int_equal(s->ts_len, 0);
    serve_nothing();
    ss_span_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables_fill_the_request),
        cmocka_unit_test(test_stand_ins),
        cmocka_unit_test(test_pieces_and_caps),
        cmocka_unit_test(test_server_context),
        cmocka_unit_test(test_server_new_trace),
    };

    return cmocka_run_group_tests(tests, unit_config_setup, NULL);
}
