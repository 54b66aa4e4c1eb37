/*
 * test_shimloss.c - the shims' lost spans per service (col_shimloss.h):
 * cumulative counts per process instance become per-service totals that
 * repeats and reordering leave alone, fork children and execs add to as
 * instances of their own, every reason (the caps too) apart; the
 * bookkeeping leaves the resource; /metrics, the exit line and the
 * viewer's JSON say the same; bad values and too many instances or
 * services stay bounded; log records' losses (spanshim.logs_dropped.*)
 * counted apart, beside the spans', in the same resources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_shimloss.h"

#define T_ATTRS 12

/* A resource as a shim sends it: service, pid, the loss instance id (NULL:
 * none) and "reason=N" counts (N may be negative, "x" a string; "logs:"
 * before the reason: a log records' count). */
typedef struct tres {
    const char *service, *instance;
    int64_t pid;
    const char *counts[8];
} tres_t;

static col_arena_t *arena;

/* Pack one request of the given resources with protobuf-c, then decode it
 * as the collector decodes what it receives. */
static col_request_t *request(const tres_t *t, size_t n)
{
    col_resource_spans_t rs[4], *rsp[4];
    col_resource_t res[4];
    col_kv_t kv[4][T_ATTRS], *kvp[4][T_ATTRS];
    col_value_t v[4][T_ATTRS];
    char keys[4][T_ATTRS][64];
    col_request_t req;
    col_decode_err_t why;
    uint8_t *buf;
    size_t i, len;
    col_request_t *out;

    assert_true(n <= 4);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    for (i = 0; i < n; i++) {
        size_t a = 0, c;

        opentelemetry__proto__trace__v1__resource_spans__init(&rs[i]);
        opentelemetry__proto__resource__v1__resource__init(&res[i]);
#define T_KV(k, set)                                                      \
    do {                                                                  \
        opentelemetry__proto__common__v1__key_value__init(&kv[i][a]);     \
        opentelemetry__proto__common__v1__any_value__init(&v[i][a]);      \
        snprintf(keys[i][a], sizeof(keys[i][a]), "%s", k);                \
        kv[i][a].key = keys[i][a];                                        \
        kv[i][a].value = &v[i][a];                                        \
        set;                                                              \
        kvp[i][a] = &kv[i][a];                                            \
        a++;                                                              \
    } while (0)
#define T_STR(s) (v[i][a].value_case = TV(STRING), v[i][a].string_value = (char *)(s))
#define T_INT(x) (v[i][a].value_case = TV(INT), v[i][a].int_value = (x))
#define TV(type) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##type##_VALUE
        if (t[i].service)
            T_KV("service.name", T_STR(t[i].service));
        T_KV("process.pid", T_INT(t[i].pid));
        T_KV("host.name", T_STR("box"));
        if (t[i].instance)
            T_KV("spanshim.loss.instance", T_STR(t[i].instance));
        for (c = 0; c < 8 && t[i].counts[c]; c++) {
            char key[64];
            const char *name = t[i].counts[c], *eq = strchr(name, '=');
            int logs = strncmp(name, "logs:", 5) == 0;

            if (logs)
                name += 5;
            snprintf(key, sizeof(key), "spanshim.%s_dropped.%.*s", logs ? "logs" : "spans",
                     (int)(eq - name), name);
            if (strcmp(eq + 1, "x") == 0)
                T_KV(key, T_STR("lots"));
            else
                T_KV(key, T_INT(strtoll(eq + 1, NULL, 10)));
        }
        res[i].attributes = kvp[i];
        res[i].n_attributes = a;
        rs[i].resource = &res[i];
        rsp[i] = &rs[i];
    }
    req.resource_spans = rsp;
    req.n_resource_spans = n;
    len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
    buf = malloc(len + 1);
    assert_non_null(buf);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    col_arena_reset(arena);
    out = col_request_decode(arena, buf, len, &why);
    free(buf);
    assert_non_null(out);
    return out;
}

static void send1(tres_t t, uint64_t now_ms)
{
    col_shimloss_add(request(&t, 1), now_ms);
}

static char *render(void (*fn)(col_buf_t *))
{
    static col_buf_t b;

    col_buf_reset(&b);
    fn(&b);
    assert_false(b.oom);
    return b.p ? b.p : "";
}

static unsigned long long metric_of(const char *kind, const char *service, const char *reason)
{
    char want[256];
    const char *m = render(col_shimloss_render), *at;

    snprintf(want, sizeof(want), "spanshim_shim_%s_dropped_total{service_name=\"%s\","
             "reason=\"%s\"} ", kind, service, reason);
    at = strstr(m, want);
    return at ? strtoull(at + strlen(want), NULL, 10) : 0;
}

static unsigned long long metric(const char *service, const char *reason)
{
    return metric_of("spans", service, reason);
}

static int setup(void **state)
{
    (void)state;
    col_shimloss_reset();
    if (arena == NULL)
        arena = col_arena_new();
    return 0;
}

static void repeats_and_reordering_count_once(void **state)
{
    (void)state;
    send1((tres_t){"checkout", "aaaa", 10, {"socket_full=5"}}, 1);
    send1((tres_t){"checkout", "aaaa", 10, {"socket_full=5"}}, 2); /* a repeat */
    send1((tres_t){"checkout", "aaaa", 10, {"socket_full=9"}}, 3);
    send1((tres_t){"checkout", "aaaa", 10, {"socket_full=7"}}, 4); /* late: an older one */
    assert_int_equal(metric("checkout", "socket_full"), 9);
    send1((tres_t){"checkout", "aaaa", 10, {"socket_full=12", "no_collector=3"}}, 5);
    assert_int_equal(metric("checkout", "socket_full"), 12);
    assert_int_equal(metric("checkout", "no_collector"), 3);
    assert_int_equal(col_shimloss_total(), 15);
    assert_int_equal(col_shimloss_count.reports, 5);
}

static void instances_add_up_per_service(void **state)
{
    (void)state;
    /* A parent, its fork children (new pid, new id, from zero), an exec
     * of one pid (same pid, new id): four instances of one service. */
    send1((tres_t){"web", "p000", 100, {"socket_full=4"}}, 1);
    send1((tres_t){"web", "c001", 101, {"socket_full=2"}}, 2);
    send1((tres_t){"web", "c002", 102, {"socket_full=1", "state_cap=6"}}, 3);
    send1((tres_t){"web", "e003", 100, {"socket_full=1"}}, 4);
    send1((tres_t){"api", "q000", 200, {"too_large=2", "untrusted=1", "fd_limit=8"}}, 5);
    assert_int_equal(metric("web", "socket_full"), 8);
    assert_int_equal(metric("web", "state_cap"), 6);
    assert_int_equal(metric("api", "too_large"), 2);
    assert_int_equal(metric("api", "untrusted"), 1);
    assert_int_equal(metric("api", "fd_limit"), 8);
    assert_int_equal(metric("web", "too_large"), 0);
    assert_int_equal(col_shimloss_total(), 25);
    assert_string_equal(render(col_shimloss_totals),
                        "the shims lost 25 spans before they got here: "
                        "web 14 (socket_full 8, state_cap 6), "
                        "api 11 (untrusted 1, fd_limit 8, too_large 2)");
    assert_string_equal(render(col_loss_json),
                        "[{\"service\":\"web\",\"reason\":\"socket_full\",\"spans\":8,\"records\":0},"
                        "{\"service\":\"web\",\"reason\":\"state_cap\",\"spans\":6,\"records\":0},"
                        "{\"service\":\"api\",\"reason\":\"untrusted\",\"spans\":1,\"records\":0},"
                        "{\"service\":\"api\",\"reason\":\"fd_limit\",\"spans\":8,\"records\":0},"
                        "{\"service\":\"api\",\"reason\":\"too_large\",\"spans\":2,\"records\":0}]");
}

static void the_bookkeeping_leaves_the_resource(void **state)
{
    tres_t t[2] = {{"web", "p000", 100, {"socket_full=4", "future_reason=3"}},
                   {"db", NULL, 7, {NULL}}};
    col_request_t *r = request(t, 2);
    col_resource_t *res0 = r->resource_spans[0]->resource, *res1 = r->resource_spans[1]->resource;
    size_t i;

    (void)state;
    col_shimloss_add(r, 1);
    assert_int_equal(res0->n_attributes, 3); /* service.name, process.pid, host.name */
    for (i = 0; i < res0->n_attributes; i++)
        assert_null(strstr(res0->attributes[i]->key, "spanshim."));
    assert_int_equal(res1->n_attributes, 3); /* nothing lost: left as it came */
    assert_int_equal(metric("web", "socket_full"), 4);
    assert_int_equal(col_shimloss_count.reports, 1);
}

static void nothing_lost_says_so(void **state)
{
    (void)state;
    send1((tres_t){"web", NULL, 1, {NULL}}, 1);
    assert_int_equal(col_shimloss_total(), 0);
    assert_string_equal(render(col_shimloss_totals), "the shims reported no lost spans");
    assert_string_equal(render(col_loss_json), "[]");
    assert_int_equal(col_sink_shimloss.troubled(), 0);
}

static void bad_values_are_ignored(void **state)
{
    (void)state;
    send1((tres_t){"web", "i1", 1, {"socket_full=-5", "no_collector=x", "untrusted=2"}}, 1);
    send1((tres_t){NULL, "i2", 2, {"fd_limit=1"}}, 1);
    assert_int_equal(metric("web", "socket_full"), 0);
    assert_int_equal(metric("web", "no_collector"), 0);
    assert_int_equal(metric("web", "untrusted"), 2);
    assert_int_equal(metric("unknown_service", "fd_limit"), 1);
    assert_true(strstr(render(col_loss_json), "\"service\":\"unknown_service\"") != NULL);
    assert_int_equal(col_sink_shimloss.troubled(), 1);
}

static void the_tables_stay_bounded(void **state)
{
    char id[32], svc[32];
    unsigned i;

    (void)state;
    /* More instances than the table: the oldest is forgotten, totals stay. */
    for (i = 0; i <= COL_SHIMLOSS_INSTANCES; i++) {
        snprintf(id, sizeof(id), "i%u", i);
        send1((tres_t){"web", id, (int64_t)i, {"socket_full=1"}}, i + 1);
    }
    assert_int_equal(col_shimloss_count.instances_forgotten, 1);
    assert_int_equal(metric("web", "socket_full"), COL_SHIMLOSS_INSTANCES + 1);
    /* The newest are still known: a repeat adds nothing. */
    send1((tres_t){"web", id, (int64_t)COL_SHIMLOSS_INSTANCES, {"socket_full=1"}}, 99999);
    assert_int_equal(metric("web", "socket_full"), COL_SHIMLOSS_INSTANCES + 1);

    col_shimloss_reset();
    for (i = 0; i < COL_SHIMLOSS_SERVICES + 3; i++) {
        snprintf(svc, sizeof(svc), "s%u", i);
        send1((tres_t){svc, "x", 1, {"no_collector=2"}}, 1);
    }
    assert_int_equal(col_shimloss_count.services_over, 3);
    assert_int_equal(metric("(other services)", "no_collector"), 6);
    assert_int_equal(col_shimloss_total(), 2 * (COL_SHIMLOSS_SERVICES + 3));
    assert_true(strstr(render(col_shimloss_totals), " and 249 more services (see /metrics)"));
}

static void log_losses_are_counted_apart(void **state)
{
    (void)state;
    /* One process that lost both, told in a trace datagram and then in a
     * logs datagram (the same cumulative counts, then more). */
    send1((tres_t){"web", "p000", 100, {"socket_full=4", "logs:socket_full=6",
                                         "logs:too_large=1"}}, 1);
    send1((tres_t){"web", "p000", 100, {"socket_full=4", "logs:socket_full=9",
                                         "logs:too_large=1", "logs:no_collector=2",
                                         "logs:stream_busy=3"}}, 2);
    /* One that lost only log records. */
    send1((tres_t){"api", "q000", 200, {"logs:fd_limit=3", "logs:future_reason=7"}}, 3);
    assert_int_equal(metric("web", "socket_full"), 4);
    assert_int_equal(metric_of("logs", "web", "socket_full"), 9);
    assert_int_equal(metric_of("logs", "web", "too_large"), 1);
    assert_int_equal(metric_of("logs", "web", "no_collector"), 2);
    assert_int_equal(metric_of("logs", "api", "fd_limit"), 3);
    assert_int_equal(metric_of("logs", "web", "stream_busy"), 3);
    assert_int_equal(metric("api", "fd_limit"), 0);
    assert_int_equal(col_shimloss_total(), 4);
    assert_int_equal(col_shimloss_logs_total(), 18);
    assert_true(strstr(render(col_shimloss_render),
                       "# TYPE spanshim_shim_logs_dropped_total counter\n") != NULL);
    assert_string_equal(render(col_shimloss_totals),
                        "the shims lost 4 spans before they got here: web 4 (socket_full 4); "
                        "the shims lost 18 log records before they got here: "
                        "web 15 (socket_full 9, no_collector 2, too_large 1, stream_busy 3), "
                        "api 3 (fd_limit 3)");
    /* The viewer's table: both, by service and reason. */
    assert_string_equal(render(col_loss_json),
                        "[{\"service\":\"web\",\"reason\":\"socket_full\",\"spans\":4,\"records\":9},"
                        "{\"service\":\"web\",\"reason\":\"no_collector\",\"spans\":0,\"records\":2},"
                        "{\"service\":\"web\",\"reason\":\"too_large\",\"spans\":0,\"records\":1},"
                        "{\"service\":\"web\",\"reason\":\"stream_busy\",\"spans\":0,\"records\":3},"
                        "{\"service\":\"api\",\"reason\":\"fd_limit\",\"spans\":0,\"records\":3}]");

    col_shimloss_reset();
    send1((tres_t){"api", "q000", 200, {"logs:untrusted=2"}}, 1);
    assert_int_equal(col_sink_shimloss.troubled(), 1); /* log records lost: trouble too */
    assert_string_equal(render(col_shimloss_totals),
                        "the shims reported no lost spans; the shims lost 2 log records before "
                        "they got here: api 2 (untrusted 2)");
    assert_true(col_shimloss_key("spanshim.logs_dropped.socket_full"));
}

static void the_sink_passes_every_batch_on(void **state)
{
    col_batch_t b = {0};
    tres_t t = {"web", "p", 1, {"socket_full=3"}};

    (void)state;
    b.r = request(&t, 1);
    b.now_ms = 1;
    assert_true(col_sink_shimloss.wanted());
    b.spanshim_res = 1; /* the wire walk saw a spanshim.* resource key */
    assert_true(col_sink_shimloss.needs_request(&b));
    assert_int_equal(col_sink_shimloss.take(&b), COL_PASS);
    assert_int_equal(metric("web", "socket_full"), 3);

    /* JSON from the wire, not decoded: nothing to look at, nothing needed. */
    b.r = NULL;
    b.spanshim_res = 0;
    assert_false(col_sink_shimloss.needs_request(&b));
    assert_int_equal(col_sink_shimloss.take(&b), COL_PASS);
    assert_int_equal(metric("web", "socket_full"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(repeats_and_reordering_count_once, setup),
        cmocka_unit_test_setup(instances_add_up_per_service, setup),
        cmocka_unit_test_setup(the_bookkeeping_leaves_the_resource, setup),
        cmocka_unit_test_setup(nothing_lost_says_so, setup),
        cmocka_unit_test_setup(bad_values_are_ignored, setup),
        cmocka_unit_test_setup(the_tables_stay_bounded, setup),
        cmocka_unit_test_setup(log_losses_are_counted_apart, setup),
        cmocka_unit_test_setup(the_sink_passes_every_batch_on, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
