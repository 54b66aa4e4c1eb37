/*
 * test_tail.c - tail sampling's decisions, driven by a clock the test
 * moves: a trace is held until wait_ms after its last span, then kept for
 * an error, for a slow span, or by the ratio from its trace id's random
 * bits; past max_traces, max_spans or max_bytes the least recently active
 * trace is decided early; a late span follows its trace's decision; a stop
 * decides everything; kept spans say which policy kept them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_tail.h"
#include "otlp_build.h"

#define WAIT 1000
#define LATENCY 500
#define RANDOM_MAX ((1ull << 56) - 1)

/* What the sampler emitted: each span, in order, and each request. */
typedef struct kept {
    uint64_t trace;
    char name[32], service[32], policy[32];
    size_t n_attributes;
} kept_t;

static kept_t kept[64];
static size_t n_kept, n_emits, emit_resources[16];

static void record(const col_resource_spans_t *rs, const col_scope_spans_t *ss,
                   const col_span_t *s, void *arg)
{
    kept_t *k = &kept[n_kept++];
    const col_kv_t *last = s->n_attributes ? s->attributes[s->n_attributes - 1] : NULL;
    size_t i;

    (void)ss, (void)arg;
    assert_true(n_kept < sizeof(kept) / sizeof(kept[0]));
    memset(k, 0, sizeof(*k));
    for (i = 0; i < 8; i++)
        k->trace = k->trace << 8 | s->trace_id.data[i];
    snprintf(k->name, sizeof(k->name), "%s", s->name);
    snprintf(k->service, sizeof(k->service), "%s", col_service(rs) ? col_service(rs) : "");
    if (last && strcmp(last->key, "spanshim.sampling.policy") == 0 &&
        last->value->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        snprintf(k->policy, sizeof(k->policy), "%s", last->value->string_value);
    k->n_attributes = s->n_attributes;
}

/* The emit callback: the spans are copied out now, as their batches may
 * be freed as soon as it returns. */
static void on_emit(const col_request_t *r, size_t spans)
{
    size_t before = n_kept;

    assert_true(n_emits < sizeof(emit_resources) / sizeof(emit_resources[0]));
    emit_resources[n_emits++] = r->n_resource_spans;
    col_each_span(r, record, NULL);
    assert_int_equal(n_kept - before, spans);
}

static col_tail_cfg_t cfg_default(void)
{
    col_tail_cfg_t c = {WAIT, LATENCY, 0.0, 1000, 1000, (size_t)1 << 30};

    return c;
}

static void start(const col_tail_cfg_t *c)
{
    col_tail_reset();
    n_kept = n_emits = 0;
    col_tail_init(c, on_emit);
}

static int teardown(void **state)
{
    (void)state;
    col_tail_reset(); /* frees what a failed test left held */
    return 0;
}

static void add(const tspan_t *t, size_t n, uint64_t now_ms)
{
    col_arena_t *arena;
    col_request_t *r = tb_request(t, n, &arena);

    assert_non_null(r);
    col_tail_add(r, arena, now_ms);
}

/* One span of trace `trace`, quick and fine, named name. */
static void add_one(uint64_t trace, uint64_t id, const char *name, uint64_t now_ms)
{
    tspan_t t = {.service = "svc", .trace = trace, .id = id, .kind = 2, .start = 0,
                 .end = TB_MS, .name = name};

    add(&t, 1, now_ms);
}

static void test_held_until_wait_after_last_span(void **state)
{
    col_tail_cfg_t c = cfg_default();

    (void)state;
    c.ratio = 1.0;
    start(&c);
    add_one(1, 1, "first", 0);
    col_tail_due(WAIT - 1, 0);
    assert_int_equal(n_kept, 0);
    add_one(1, 2, "second", WAIT - 1); /* the wait starts again */
    col_tail_due(WAIT, 0);
    col_tail_due(2 * WAIT - 2, 0);
    assert_int_equal(n_kept, 0);
    col_tail_due(2 * WAIT - 1, 0);
    assert_int_equal(n_emits, 1); /* the whole trace, as one request */
    assert_int_equal(n_kept, 2);
    assert_string_equal(kept[0].name, "first");
    assert_string_equal(kept[1].name, "second");
    assert_string_equal(kept[1].policy, "probabilistic");
    assert_int_equal(col_tail_count.traces_kept_probabilistic, 1);
    assert_int_equal(col_tail_count.spans_kept, 2);
    assert_int_equal(col_tail_count.traces_decided_early, 0);
}

static void test_error_keeps_the_whole_trace(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t failed = {.service = "svc", .trace = 1, .id = 2, .parent = 1, .kind = 3,
                      .end = TB_MS, .error = 1, .name = "failed"};

    (void)state;
    start(&c); /* ratio 0: only errors and slow spans are kept */
    add(&failed, 1, 0);
    add_one(1, 1, "fine", 1); /* after the error: the trace stays an error */
    add_one(2, 3, "other", 0);
    col_tail_due(WAIT + 1, 0);
    assert_int_equal(n_kept, 2);
    assert_int_equal(kept[0].trace, 1);
    assert_string_equal(kept[0].policy, "error");
    assert_string_equal(kept[1].name, "fine");
    assert_string_equal(kept[1].policy, "error"); /* the fine span too */
    assert_int_equal(col_tail_count.traces_kept_error, 1);
    assert_int_equal(col_tail_count.traces_dropped, 1);
    assert_int_equal(col_tail_count.spans_kept, 2);
    assert_int_equal(col_tail_count.spans_dropped, 1);
}

static void test_latency_threshold(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t at = {.service = "svc", .trace = 1, .id = 1, .start = 5 * TB_MS,
                  .end = 5 * TB_MS + LATENCY * TB_MS, .name = "at"};
    tspan_t over = at, both = at;

    (void)state;
    over.trace = 2, over.end += 1, over.name = "over";
    both.trace = 3, both.end += 1, both.error = 1, both.name = "both";
    start(&c);
    add(&at, 1, 0);
    add(&over, 1, 0);
    add_one(2, 2, "quick", 0); /* after the slow one: the trace stays slow */
    add(&both, 1, 0);
    col_tail_due(WAIT, 0);
    assert_int_equal(n_kept, 3); /* exactly the threshold is not slower than it */
    assert_string_equal(kept[0].name, "over");
    assert_string_equal(kept[0].policy, "latency");
    assert_string_equal(kept[1].name, "quick");
    assert_string_equal(kept[1].policy, "latency");
    assert_string_equal(kept[2].name, "both");
    assert_string_equal(kept[2].policy, "error"); /* an error is said first */
    assert_int_equal(col_tail_count.traces_kept_latency, 1);
    assert_int_equal(col_tail_count.traces_kept_error, 1);
    assert_int_equal(col_tail_count.traces_dropped, 1);
}

/* Which of traces with these random bits the ratio keeps: a bit each. */
static unsigned kept_by_ratio(double ratio, const uint64_t *random, size_t n)
{
    col_tail_cfg_t c = cfg_default();
    unsigned mask = 0;
    size_t i;

    c.ratio = ratio;
    start(&c);
    for (i = 0; i < n; i++) {
        tspan_t t = {.service = "svc", .trace = i + 1, .random = random[i], .id = 1,
                     .end = TB_MS};

        add(&t, 1, 0);
    }
    col_tail_due(WAIT, 0);
    for (i = 0; i < n_kept; i++) {
        assert_string_equal(kept[i].policy, "probabilistic");
        mask |= 1u << (kept[i].trace - 1);
    }
    assert_int_equal(col_tail_count.traces_kept_probabilistic + col_tail_count.traces_dropped, n);
    return mask;
}

static void test_ratio_from_random_bits(void **state)
{
    /* 0.25 of 2^56 is 2^54: ids below it are kept, from it on dropped. */
    static const uint64_t random[] = {0, (1ull << 54) - 1, 1ull << 54, RANDOM_MAX};

    (void)state;
    assert_int_equal(kept_by_ratio(0.0, random, 4), 0x0);
    assert_int_equal(kept_by_ratio(1.0, random, 4), 0xf);
    assert_int_equal(kept_by_ratio(0.25, random, 4), 0x3);
    assert_int_equal(kept_by_ratio(0.5, random, 4), 0x7);
}

static void test_early_past_max_traces(void **state)
{
    col_tail_cfg_t c = cfg_default();

    (void)state;
    c.ratio = 1.0;
    c.max_traces = 2;
    start(&c);
    add_one(1, 1, "t1", 0);
    add_one(2, 1, "t2", 1);
    assert_int_equal(n_kept, 0); /* two held: not past the cap */
    add_one(3, 1, "t3", 2);
    assert_int_equal(n_kept, 1);
    assert_int_equal(kept[0].trace, 1); /* the oldest */
    add_one(2, 2, "t2 again", 3); /* now trace 3 is the least recently active */
    add_one(4, 1, "t4", 4);
    assert_int_equal(n_kept, 2);
    assert_int_equal(kept[1].trace, 3);
    assert_int_equal(col_tail_count.traces_decided_early, 2);
    col_tail_due(4, 1);
    assert_int_equal(n_kept, 5);
    assert_int_equal(kept[2].trace, 2);
    assert_int_equal(kept[3].trace, 2);
    assert_int_equal(kept[4].trace, 4);
    assert_int_equal(n_emits, 4);
    assert_int_equal(col_tail_count.traces_decided_early, 2); /* a stop is no early decision */
}

static void test_early_past_max_spans(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t two[] = {
        {.service = "svc", .trace = 1, .id = 1, .end = TB_MS},
        {.service = "svc", .trace = 1, .id = 2, .end = TB_MS},
    };

    (void)state;
    c.ratio = 1.0;
    c.max_spans = 3;
    start(&c);
    add(two, 2, 0);
    add_one(2, 1, "t2", 1);
    assert_int_equal(n_kept, 0); /* three held */
    add_one(2, 2, "t2 again", 2);
    assert_int_equal(n_kept, 2);
    assert_int_equal(kept[0].trace, 1);
    assert_int_equal(kept[1].trace, 1);
    assert_int_equal(col_tail_count.traces_decided_early, 1);
    col_tail_due(2 + WAIT, 0);
    assert_int_equal(n_kept, 4);
    assert_int_equal(col_tail_count.traces_decided_early, 1);
}

static void test_early_past_max_bytes(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t t = {.service = "svc", .trace = 9, .id = 1, .end = TB_MS};
    col_arena_t *arena;
    size_t one;

    (void)state;
    assert_non_null(tb_request(&t, 1, &arena));
    one = col_arena_bytes(arena); /* what each batch below takes, but its record */
    col_arena_free(arena);
    c.ratio = 1.0;
    /* Two batches and their records fit, three do not (a record, the
     * sampler's own, is less than 64 bytes; one arena is 8 KiB or more). */
    c.max_bytes = 2 * (one + 64);
    start(&c);
    add_one(1, 1, "t1", 0);
    add_one(2, 1, "t2", 1);
    assert_int_equal(n_kept, 0);
    add_one(3, 1, "t3", 2);
    assert_int_equal(n_kept, 1);
    assert_int_equal(kept[0].trace, 1);
    assert_int_equal(col_tail_count.traces_decided_early, 1);
}

static void test_late_span_follows_decision(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t err = {.service = "svc", .trace = 1, .id = 1, .end = TB_MS, .error = 1,
                   .name = "failed"};

    (void)state;
    start(&c);
    add(&err, 1, 0);
    add_one(2, 1, "dropped", 0);
    col_tail_due(WAIT, 0);
    assert_int_equal(n_kept, 1);
    add_one(1, 2, "late", 2 * WAIT); /* kept at once, as its trace was */
    assert_int_equal(n_kept, 2);
    assert_string_equal(kept[1].name, "late");
    assert_string_equal(kept[1].policy, "error");
    err.trace = 2, err.id = 2, err.name = "late error";
    add(&err, 1, 2 * WAIT); /* its trace was dropped: so is it, error or not */
    col_tail_due(10 * WAIT, 1);
    assert_int_equal(n_kept, 2);
    assert_int_equal(col_tail_count.late_spans, 2);
    assert_int_equal(col_tail_count.spans_kept, 2);
    assert_int_equal(col_tail_count.spans_dropped, 2);
    assert_int_equal(col_tail_count.traces_kept_error, 1); /* late spans are no traces */
    assert_int_equal(col_tail_count.traces_dropped, 1);
}

static void test_stop_decides_everything(void **state)
{
    col_tail_cfg_t c = cfg_default();

    (void)state;
    c.ratio = 1.0;
    start(&c);
    add_one(1, 1, "t1", 0);
    add_one(2, 1, "t2", WAIT / 2);
    col_tail_due(WAIT / 2 + 1, 0);
    assert_int_equal(n_kept, 0);
    col_tail_due(WAIT / 2 + 1, 1);
    assert_int_equal(n_kept, 2);
    assert_int_equal(col_tail_count.traces_decided_early, 0);
}

/* A clock that moves 1 ms each time it is read. */
static uint64_t ticks;

static uint64_t tick(void)
{
    return ticks++;
}

static void test_stop_writes_until_its_deadline(void **state)
{
    col_tail_cfg_t c = cfg_default();

    (void)state;
    c.ratio = 1.0;
    start(&c);
    add_one(1, 1, "t1", 0);
    add_one(2, 1, "t2", 1);
    add_one(3, 1, "t3", 2);
    add_one(4, 1, "t4", 3);
    ticks = 100;
    col_tail_stop(tick, 102); /* time for two traces, the oldest */
    assert_int_equal(n_kept, 2);
    assert_string_equal(kept[0].name, "t1");
    assert_string_equal(kept[1].name, "t2");
    assert_int_equal(col_tail_count.spans_kept, 2);
    assert_int_equal(col_tail_count.spans_unwritten_at_stop, 2);
    col_tail_due(1000, 1); /* nothing is left held */
    assert_int_equal(n_kept, 2);
}

static void test_policy_attribute_added_last(void **state)
{
    col_tail_cfg_t c = cfg_default();
    tspan_t t[] = {
        {.service = "front", .trace = 1, .id = 1, .kind = 2, .end = TB_MS, .name = "GET",
         .method = "GET", .http_status = 200},
        {.service = "back", .trace = 1, .id = 2, .parent = 1, .end = TB_MS, .name = "db"},
        {.service = "front", .trace = 1, .id = 3, .parent = 1, .end = TB_MS, .name = "render"},
    };
    tspan_t more = {.service = "front", .trace = 1, .id = 4, .parent = 1, .end = TB_MS,
                    .name = "cache"};
    static const char *const order[] = {"GET", "render", "db", "cache"};
    size_t i;

    (void)state;
    c.ratio = 1.0;
    start(&c);
    add(t, 3, 0);
    add(&more, 1, 1);
    col_tail_due(WAIT + 1, 0);
    /* One request; the resources as they came, a batch's spans of one
     * resource together. */
    assert_int_equal(n_emits, 1);
    assert_int_equal(emit_resources[0], 3);
    assert_int_equal(n_kept, 4);
    for (i = 0; i < 4; i++) {
        assert_string_equal(kept[i].name, order[i]);
        assert_string_equal(kept[i].policy, "probabilistic");
    }
    assert_string_equal(kept[2].service, "back");
    assert_int_equal(kept[0].n_attributes, 3); /* its two, then the policy */
    assert_int_equal(kept[1].n_attributes, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_held_until_wait_after_last_span, teardown),
        cmocka_unit_test_teardown(test_error_keeps_the_whole_trace, teardown),
        cmocka_unit_test_teardown(test_latency_threshold, teardown),
        cmocka_unit_test_teardown(test_ratio_from_random_bits, teardown),
        cmocka_unit_test_teardown(test_early_past_max_traces, teardown),
        cmocka_unit_test_teardown(test_early_past_max_spans, teardown),
        cmocka_unit_test_teardown(test_early_past_max_bytes, teardown),
        cmocka_unit_test_teardown(test_late_span_follows_decision, teardown),
        cmocka_unit_test_teardown(test_stop_decides_everything, teardown),
        cmocka_unit_test_teardown(test_stop_writes_until_its_deadline, teardown),
        cmocka_unit_test_teardown(test_policy_attribute_added_last, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
