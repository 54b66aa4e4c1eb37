/*
 * test_dns.c - name lookups as spans, driven directly with the times and
 * results a hook would pass: a lookup that times out, answers counted
 * once, which lookups make none, gethostbyname_r's ERANGE retries as one
 * lookup, the table of recent lookups (a connection's name, the span that
 * waits for its exchange, sent with the exchange's final context, or for a
 * libcurl transfer, expiry, eviction, exit, fork), and the encoding, read back with the collector's decoder.
 *
 * Spans go to a sink that keeps copies instead of to the exporter.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/ex_otlp.h"
#include "../../preload/ss_dns.h"
#include "unit_config.h"

#define SEC 1000000000ull
#define SUNK_MAX 80

static ss_span_t sunk[SUNK_MAX];
static int nsunk;

static void sink(ss_span_t *s)
{
    if (nsunk < SUNK_MAX) /* beyond: only the last test, which counts none */
        sunk[nsunk++] = *s;
    ss_span_free(s);
}

static int setup(void **state)
{
    unit_config_setup(state);
    ss_dns_sink = sink;
    return 0;
}

/* Each test starts with nothing waiting and nothing sunk. */
static int reset(void **state)
{
    (void)state;
    ss_dns_flush();
    nsunk = 0;
    return 0;
}

static struct sockaddr_in sin4(const char *a)
{
    struct sockaddr_in s;

    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_port = htons(5432);
    assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

/* A getaddrinfo answer: one entry per address and socket type, as glibc
 * gives when the hints name no type. */
typedef struct answer {
    struct addrinfo ai[3 * 12];
    struct sockaddr_in sa[12];
} answer_t;

static const struct addrinfo *answer(answer_t *a, const char *const *addrs, int n)
{
    int i, t, k = 0;

    memset(a, 0, sizeof(*a));
    for (i = 0; i < n; i++) {
        a->sa[i] = sin4(addrs[i]);
        for (t = 0; t < 3; t++, k++) {
            a->ai[k].ai_family = AF_INET;
            a->ai[k].ai_socktype = t + 1;
            a->ai[k].ai_addr = (struct sockaddr *)&a->sa[i];
            a->ai[k].ai_addrlen = sizeof(a->sa[i]);
            a->ai[k].ai_next = k + 1 < 3 * n ? &a->ai[k + 1] : NULL;
        }
    }
    return n ? &a->ai[0] : NULL;
}

/* A lookup of name that gave addr, outside any request, ended at `at`. */
static void resolved(const char *name, const char *addr, uint64_t at)
{
    answer_t a;
    const char *addrs[1] = {addr};

    ss_dns_addrinfo_done(name, at - 1000, at, 0, 0, answer(&a, addrs, 1));
}

static ss_span_t *exchange_span(void)
{
    ss_span_t *s = ss_span_alloc();

    assert_non_null(s);
    s->kind = SS_KIND_CLIENT;
    s->type = SS_SPAN_CONNECT; /* the common part only: always news */
    ss_span_start_ctx(s, NULL, 0);
    return s;
}

static void assert_child_of(const ss_span_t *child, const ss_span_t *parent)
{
    assert_true(child->ctx.valid);
    assert_true(child->has_parent);
    assert_memory_equal(child->ctx.trace_id, parent->ctx.trace_id, 16);
    assert_memory_equal(child->parent_id, parent->ctx.span_id, 8);
}

static void test_a_timeout_is_an_error_with_its_duration(void **state)
{
    uint64_t t0 = ss_now_ns();

    (void)state;
    ss_dns_addrinfo_done("slow.example", t0, t0 + 5 * SEC, EAI_AGAIN, 0, NULL);
    assert_int_equal(nsunk, 0); /* outside any request: it waits */
    ss_dns_flush();
    assert_int_equal(nsunk, 1);
    assert_int_equal(sunk[0].type, SS_SPAN_DNS);
    assert_int_equal(sunk[0].kind, SS_KIND_CLIENT);
    assert_string_equal(sunk[0].dns.name, "slow.example");
    assert_string_equal(sunk[0].error_type, "EAI_AGAIN");
    assert_int_equal(sunk[0].end_ns - sunk[0].start_ns, 5 * SEC);
    assert_int_equal(sunk[0].dns.answers, 0);
    assert_false(sunk[0].has_parent); /* nobody claimed it: a trace of its own */
    assert_true(sunk[0].ctx.valid);
}

static void test_errors_are_named(void **state)
{
    uint64_t t = ss_now_ns();

    (void)state;
    ss_dns_addrinfo_done("a.invalid", t, t + 1, EAI_NONAME, 0, NULL);
    ss_dns_addrinfo_done("b.invalid", t, t + 1, EAI_SYSTEM, ECONNREFUSED, NULL);
    ss_dns_hostent_done(SS_DNS_GETHOSTBYNAME, "c.invalid", t, t + 1, NULL, HOST_NOT_FOUND);
    ss_dns_hostent_done(SS_DNS_GETHOSTBYNAME2_R, "d.invalid", t, t + 1, NULL, TRY_AGAIN);
    ss_dns_flush();
    assert_int_equal(nsunk, 4);
    assert_string_equal(sunk[3].error_type, "EAI_NONAME"); /* the flush sends the newest first */
    assert_string_equal(sunk[2].error_type, "ECONNREFUSED");
    assert_string_equal(sunk[1].error_type, "HOST_NOT_FOUND");
    assert_string_equal(sunk[0].error_type, "TRY_AGAIN");
    assert_int_equal(sunk[0].dns.op, SS_DNS_GETHOSTBYNAME2_R);
}

static void test_answers_are_counted_once_and_listed(void **state)
{
    static const char *const addrs[10] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
                                          "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8",
                                          "10.0.0.9", "10.0.0.10"};
    struct in_addr a[3];
    char *list[4] = {(char *)&a[0], (char *)&a[1], (char *)&a[2], NULL};
    struct hostent h = {"web", NULL, AF_INET, 4, list};
    uint64_t t = ss_now_ns();
    answer_t ans;

    (void)state;
    ss_dns_addrinfo_done("many.example", t, t + 1, 0, 0, answer(&ans, addrs, 10));
    inet_pton(AF_INET, "10.1.0.1", &a[0]);
    inet_pton(AF_INET, "10.1.0.2", &a[1]);
    a[2] = a[0];
    ss_dns_hostent_done(SS_DNS_GETHOSTBYNAME, "web", t, t + 1, &h, 0);
    ss_dns_flush();
    assert_int_equal(nsunk, 2);
    assert_int_equal(sunk[1].dns.answers, 10); /* 30 entries: 10 addresses */
    assert_int_equal(sunk[1].dns.listed, SS_DNS_LISTED_MAX);
    assert_string_equal(sunk[1].dns.answer[0], "10.0.0.1");
    assert_string_equal(sunk[1].dns.answer[7], "10.0.0.8");
    assert_int_equal(sunk[0].dns.answers, 2);
    assert_string_equal(sunk[0].dns.answer[1], "10.1.0.2");
    assert_string_equal(sunk[0].error_type, "");
}

static void test_numeric_names_make_no_lookup(void **state)
{
    (void)state;
    assert_true(ss_dns_is_numeric("10.0.0.1"));
    assert_true(ss_dns_is_numeric("127.1"));
    assert_true(ss_dns_is_numeric("::1"));
    assert_true(ss_dns_is_numeric("fe80::1%eth0"));
    assert_true(ss_dns_is_numeric("::ffff:10.0.0.1"));
    assert_false(ss_dns_is_numeric("localhost"));
    assert_false(ss_dns_is_numeric("db.internal"));
    assert_false(ss_dns_is_numeric("10.0.0.1.example"));
    assert_false(ss_dns_is_numeric(""));
}

static void test_a_name_is_bounded_and_escaped(void **state)
{
    char long_name[600];
    uint64_t t = ss_now_ns();

    (void)state;
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    ss_dns_addrinfo_done("we\x01ird\\\xc3\xa9", t, t + 1, EAI_NONAME, 0, NULL);
    ss_dns_addrinfo_done(long_name, t, t + 1, EAI_NONAME, 0, NULL);
    ss_dns_flush();
    assert_int_equal(nsunk, 2);
    assert_string_equal(sunk[1].dns.name, "we\\001ird\\092\\195\\169");
    assert_int_equal(strlen(sunk[0].dns.name), SS_DNS_NAME_MAX - 1);
}

static void test_erange_retries_are_one_lookup(void **state)
{
    uint64_t t0 = ss_now_ns();

    (void)state;
    assert_int_equal(ss_dns_retry_start("big.example", t0), t0);
    ss_dns_retry_note("big.example", t0, t0 + 100);
    assert_int_equal(ss_dns_retry_start("big.example", t0 + 200), t0);
    ss_dns_retry_note("big.example", t0, t0 + 300); /* retried: still too small */
    assert_int_equal(ss_dns_retry_start("big.example", t0 + 400), t0);
    assert_int_equal(ss_dns_retry_start("other.example", t0 + 400), t0 + 400);
    assert_int_equal(ss_dns_retry_start("big.example", t0 + 2 * SEC), t0 + 2 * SEC); /* given up */
    ss_dns_hostent_done(SS_DNS_GETHOSTBYNAME_R, "big.example", t0, t0 + 500, NULL, HOST_NOT_FOUND);
    assert_int_equal(ss_dns_retry_start("big.example", t0 + 600), t0 + 600); /* it is over */
    ss_dns_flush();
    assert_int_equal(nsunk, 1);
    assert_int_equal(sunk[0].start_ns, t0);
}

static void test_a_connection_gets_the_name_and_its_exchange_the_lookup(void **state)
{
    struct sockaddr_in sa = sin4("10.9.0.1");
    ss_dns_conn_t d;
    ss_span_t *s = exchange_span(), *next = exchange_span(), parent;

    (void)state;
    resolved("db.internal", "10.9.0.1", ss_now_ns());
    assert_int_equal(nsunk, 0);
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_string_equal(d.name, "db.internal");
    assert_true(d.waiting);
    ss_dns_exchange(s, &d);
    assert_string_equal(s->server_name, "db.internal");
    assert_int_equal(nsunk, 0); /* it leaves with the exchange */
    ss_span_start_ctx(s, NULL, 0); /* the exchange took another parent (a hint) */
    parent = *s;
    ss_span_end(s);
    assert_int_equal(nsunk, 1);
    assert_string_equal(sunk[0].dns.name, "db.internal");
    assert_child_of(&sunk[0], &parent);
    ss_dns_exchange(next, &d); /* the next exchange: the name, no lookup */
    assert_string_equal(next->server_name, "db.internal");
    ss_span_end(next);
    assert_int_equal(nsunk, 1);
}

static void test_a_dropped_exchange_lets_its_lookup_leave_alone(void **state)
{
    struct sockaddr_in sa = sin4("10.9.0.4");
    ss_dns_conn_t d;
    ss_span_t *s = exchange_span();

    (void)state;
    resolved("dropped.internal", "10.9.0.4", ss_now_ns());
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    ss_dns_exchange(s, &d);
    ss_span_free(s); /* never ended: no span of its own */
    assert_int_equal(nsunk, 1);
    assert_string_equal(sunk[0].dns.name, "dropped.internal");
    assert_false(sunk[0].has_parent);
}

static void test_a_v4_mapped_peer_is_its_v4_address(void **state)
{
    struct sockaddr_in6 sa;
    ss_dns_conn_t d;

    (void)state;
    resolved("cache.internal", "10.9.0.2", ss_now_ns());
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.9.0.2", &sa.sin6_addr);
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_string_equal(d.name, "cache.internal");
}

static void test_an_unknown_peer_has_no_name(void **state)
{
    struct sockaddr_in sa = sin4("10.9.9.9");
    ss_dns_conn_t d;
    ss_span_t *s = exchange_span();

    (void)state;
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_null(d.name);
    ss_dns_exchange(s, &d);
    assert_string_equal(s->server_name, "");
    ss_span_free(s);
}

static void test_a_stale_lookup_leaves_alone(void **state)
{
    struct sockaddr_in sa = sin4("10.9.0.3");
    ss_dns_conn_t d;
    ss_span_t *s = exchange_span();

    (void)state;
    resolved("old.internal", "10.9.0.3", ss_now_ns() - SS_DNS_WAIT_NS - SEC);
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    ss_dns_exchange(s, &d);
    assert_string_equal(s->server_name, "old.internal"); /* the name still holds */
    assert_int_equal(nsunk, 1);
    assert_false(sunk[0].has_parent); /* too late to be this exchange's */
    ss_span_free(s);
}

static void test_pushed_out_and_repeated_lookups_are_not_lost(void **state)
{
    uint64_t now = ss_now_ns();
    char name[32];
    int i;

    (void)state;
    for (i = 0; i < SS_DNS_TABLE_MAX + 1; i++) {
        snprintf(name, sizeof(name), "n%d.internal", i);
        resolved(name, "10.8.0.1", now);
    }
    assert_int_equal(nsunk, 1); /* the oldest made room */
    assert_string_equal(sunk[0].dns.name, "n0.internal");
    assert_false(sunk[0].has_parent);
    resolved("n5.internal", "10.8.0.2", now); /* the same name again */
    assert_int_equal(nsunk, 2);
    assert_string_equal(sunk[1].dns.name, "n5.internal");
    ss_dns_flush();
    assert_int_equal(nsunk, 2 + SS_DNS_TABLE_MAX);
}

static void test_libcurl_claims_by_address_or_by_name(void **state)
{
    ss_span_t *t = exchange_span();
    uint64_t now = ss_now_ns();

    (void)state;
    resolved("api.example", "10.7.0.1", now);
    ss_dns_adopt(t, "api.example:8443", "10.7.0.1");
    assert_int_equal(nsunk, 1);
    assert_child_of(&sunk[0], t);
    ss_dns_addrinfo_done("gone.invalid", now, now + 1, EAI_NONAME, 0, NULL);
    ss_dns_adopt(t, "gone.invalid", "");
    assert_int_equal(nsunk, 2);
    assert_string_equal(sunk[1].error_type, "EAI_NONAME");
    assert_child_of(&sunk[1], t);
    ss_dns_adopt(t, "api.example", "10.7.0.1"); /* claimed already */
    assert_int_equal(nsunk, 2);
    ss_span_free(t);
}

static void test_a_fork_child_leaves_the_waiting_to_its_parent(void **state)
{
    struct sockaddr_in sa = sin4("10.6.0.1");
    ss_dns_conn_t d;

    (void)state;
    resolved("forked.internal", "10.6.0.1", ss_now_ns());
    ss_dns_after_fork();
    ss_dns_flush();
    assert_int_equal(nsunk, 0);
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_string_equal(d.name, "forked.internal");
    assert_false(d.waiting);
}

static void test_a_reverse_lookup_asks_for_the_address(void **state)
{
    struct sockaddr_in sa = sin4("10.5.0.1");
    uint64_t t = ss_now_ns();

    (void)state;
    ss_dns_nameinfo_done((struct sockaddr *)&sa, sizeof(sa), t, t + 1, 0, 0, "host5.internal");
    ss_dns_nameinfo_done((struct sockaddr *)&sa, sizeof(sa), t, t + 1, 0, 0, "10.5.0.1");
    assert_int_equal(nsunk, 2); /* nothing to wait for */
    assert_int_equal(sunk[0].dns.op, SS_DNS_GETNAMEINFO);
    assert_string_equal(sunk[0].dns.name, "10.5.0.1");
    assert_int_equal(sunk[0].dns.answers, 1);
    assert_int_equal(sunk[1].dns.answers, 0); /* no name: the address came back */
}

/* ---- the encoding ---------------------------------------------------- */

static Opentelemetry__Proto__Trace__V1__ScopeSpans *encode(const ss_span_t *s)
{
    static uint8_t buf[EX_SPAN_MAX];
    size_t n = ex_otlp_span(s, buf, sizeof(buf));

    assert_true(n > 0);
    return opentelemetry__proto__trace__v1__scope_spans__unpack(NULL, n, buf);
}

static const col_value_t *value(const col_span_t *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i]->value;
    return NULL;
}

static void test_the_encoding(void **state)
{
    static const char *const addrs[2] = {"10.4.0.1", "10.4.0.2"};
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss;
    const col_span_t *sp;
    const col_value_t *v;
    uint64_t t = ss_now_ns();
    answer_t a;

    (void)state;
    ss_dns_addrinfo_done("db.internal", t, t + 7, 0, 0, answer(&a, addrs, 2));
    ss_dns_addrinfo_done("x.invalid", t, t + 5 * SEC, EAI_AGAIN, 0, NULL);
    ss_dns_flush();
    assert_int_equal(nsunk, 2);

    ss = encode(&sunk[1]);
    sp = ss->spans[0];
    assert_string_equal(sp->name, "getaddrinfo db.internal");
    assert_int_equal(sp->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
    assert_string_equal(value(sp, "dns.question.name")->string_value, "db.internal");
    assert_int_equal(value(sp, "spanshim.dns.answer_count")->int_value, 2);
    v = value(sp, "dns.answers");
    assert_non_null(v);
    assert_int_equal(v->value_case, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE);
    assert_int_equal(v->array_value->n_values, 2);
    assert_string_equal(v->array_value->values[1]->string_value, "10.4.0.2");
    assert_null(value(sp, "error.type"));
    assert_null(value(sp, "server.address"));
    assert_int_equal(sp->end_time_unix_nano - sp->start_time_unix_nano, 7);
    opentelemetry__proto__trace__v1__scope_spans__free_unpacked(ss, NULL);

    ss = encode(&sunk[0]);
    sp = ss->spans[0];
    assert_string_equal(sp->name, "getaddrinfo x.invalid");
    assert_string_equal(value(sp, "error.type")->string_value, "EAI_AGAIN");
    assert_int_equal(sp->status->code, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_null(value(sp, "dns.answers"));
    assert_int_equal(sp->end_time_unix_nano - sp->start_time_unix_nano, 5 * SEC);
    opentelemetry__proto__trace__v1__scope_spans__free_unpacked(ss, NULL);
}

static void test_a_reverse_lookup_is_named_by_its_call(void **state)
{
    struct sockaddr_in sa = sin4("10.4.0.9");
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss;
    uint64_t t = ss_now_ns();

    (void)state;
    ss_dns_nameinfo_done((struct sockaddr *)&sa, sizeof(sa), t, t + 1, 0, 0, "h.internal");
    assert_int_equal(nsunk, 1);
    ss = encode(&sunk[0]);
    assert_string_equal(ss->spans[0]->name, "getnameinfo");
    assert_string_equal(value(ss->spans[0], "dns.question.name")->string_value, "10.4.0.9");
    opentelemetry__proto__trace__v1__scope_spans__free_unpacked(ss, NULL);
}

/* Threads resolving, connecting and ending exchanges at once: every
 * lookup leaves exactly once (claimed, pushed out or flushed). */
#define RACERS 4
#define RACES 300

static int raced;

static void count_sink(ss_span_t *s)
{
    __atomic_add_fetch(&raced, 1, __ATOMIC_RELAXED);
    ss_span_free(s);
}

static void *racer(void *arg)
{
    long t = (long)arg;
    char name[32], addr[32];
    int i;

    for (i = 0; i < RACES; i++) {
        struct sockaddr_in sa;
        ss_dns_conn_t d;
        ss_span_t *s = exchange_span();

        snprintf(name, sizeof(name), "r%ld-%d.internal", t, i % 40);
        snprintf(addr, sizeof(addr), "10.2.%ld.%d", t, i % 40 + 1);
        resolved(name, addr, ss_now_ns());
        sa = sin4(addr);
        ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
        ss_dns_exchange(s, &d);
        ss_span_end(s);
    }
    return NULL;
}

static void test_threads_lose_and_double_nothing(void **state)
{
    pthread_t th[RACERS];
    long t;

    (void)state;
    ss_dns_sink = count_sink;
    for (t = 0; t < RACERS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, racer, (void *)t), 0);
    for (t = 0; t < RACERS; t++)
        pthread_join(th[t], NULL);
    ss_dns_flush();
    ss_dns_sink = sink;
    assert_int_equal(raced, RACERS * RACES);
}

/* Last: it fills the names kept for connections. */
static void test_names_kept_for_connections_are_bounded(void **state)
{
    struct sockaddr_in sa;
    ss_dns_conn_t d;
    char name[32], addr[32];
    int i;

    (void)state;
    for (i = 0; i < SS_DNS_NAMES_MAX + 1; i++) {
        snprintf(name, sizeof(name), "k%d.internal", i);
        snprintf(addr, sizeof(addr), "10.3.%d.%d", i / 200, i % 200 + 1);
        resolved(name, addr, ss_now_ns());
    }
    sa = sin4(addr); /* the last: no room was left for its name */
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_null(d.name);
    resolved("db.internal", "10.3.9.9", ss_now_ns()); /* kept before */
    sa = sin4("10.3.9.9");
    ss_dns_conn_named(&d, (struct sockaddr *)&sa, sizeof(sa));
    assert_string_equal(d.name, "db.internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_timeout_is_an_error_with_its_duration, reset),
        cmocka_unit_test_setup(test_errors_are_named, reset),
        cmocka_unit_test_setup(test_answers_are_counted_once_and_listed, reset),
        cmocka_unit_test_setup(test_numeric_names_make_no_lookup, reset),
        cmocka_unit_test_setup(test_a_name_is_bounded_and_escaped, reset),
        cmocka_unit_test_setup(test_erange_retries_are_one_lookup, reset),
        cmocka_unit_test_setup(test_a_connection_gets_the_name_and_its_exchange_the_lookup, reset),
        cmocka_unit_test_setup(test_a_dropped_exchange_lets_its_lookup_leave_alone, reset),
        cmocka_unit_test_setup(test_a_v4_mapped_peer_is_its_v4_address, reset),
        cmocka_unit_test_setup(test_an_unknown_peer_has_no_name, reset),
        cmocka_unit_test_setup(test_a_stale_lookup_leaves_alone, reset),
        cmocka_unit_test_setup(test_pushed_out_and_repeated_lookups_are_not_lost, reset),
        cmocka_unit_test_setup(test_libcurl_claims_by_address_or_by_name, reset),
        cmocka_unit_test_setup(test_a_fork_child_leaves_the_waiting_to_its_parent, reset),
        cmocka_unit_test_setup(test_a_reverse_lookup_asks_for_the_address, reset),
        cmocka_unit_test_setup(test_the_encoding, reset),
        cmocka_unit_test_setup(test_a_reverse_lookup_is_named_by_its_call, reset),
        cmocka_unit_test_setup(test_threads_lose_and_double_nothing, reset),
        cmocka_unit_test_setup(test_names_kept_for_connections_are_bounded, reset),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
