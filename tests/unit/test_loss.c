/*
 * test_loss.c - the shim's lost spans told in band (ex_loss.h): nothing
 * while nothing is lost, then every count so far by reason, cumulative,
 * in the resource of the datagrams that follow (read back with the
 * collector's decoder) until one carrying them is sent, then again when a
 * count changes or EX_LOSS_REFRESH_S has passed, and a fork child that
 * counts from zero as another instance; log records' losses beside the
 * spans', and with them the first loss of either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/ex_host.h"
#include "../../exporter/ex_loss.h"
#include "../../exporter/ex_otlp.h"

static uint64_t unencodable, capped, busy_exit, logs_unencodable, logs_busy;

static void quiet(int level, const char *fmt, ...)
{
    (void)level, (void)fmt;
}

static int setup(void **state)
{
    (void)state;
    memset(&ex_host, 0, sizeof(ex_host));
    ex_host.log = quiet;
    ex_host.spans_unencodable = &unencodable;
    ex_host.spans_capped = &capped;
    ex_host.spans_busy_at_exit = &busy_exit;
    ex_host.logs_unencodable = &logs_unencodable;
    ex_host.logs_busy = &logs_busy;
    unencodable = capped = busy_exit = logs_unencodable = logs_busy = 0;
    ex_loss_after_fork(); /* from zero, as a fresh process */
    return 0;
}

/* A datagram's request as the batcher lays it out, decoded. */
static col_request_t *datagram(void)
{
    static uint8_t buf[EX_ENVELOPE_MAX];
    uint8_t res[EX_RESOURCE_MAX], loss[EX_LOSS_ATTRS_MAX];
    ex_process_t p;
    size_t res_len, loss_len, env_len;

    memset(&p, 0, sizeof(p));
    p.pid = 77;
    p.service_name = "checkout";
    res_len = ex_otlp_resource(&p, res, sizeof(res));
    loss_len = ex_loss_attrs(loss, sizeof(loss));
    env_len = ex_otlp_envelope_more(res, res_len, loss, loss_len, 0, buf, sizeof(buf));
    assert_true(env_len > 0);
    return col_request_unpack(env_len, buf);
}

static col_kv_t **res_attrs(col_request_t *r, size_t *n)
{
    assert_int_equal(r->n_resource_spans, 1);
    *n = r->resource_spans[0]->resource->n_attributes;
    return r->resource_spans[0]->resource->attributes;
}

static int64_t dropped_of(col_request_t *r, const char *kind, const char *reason)
{
    char key[96];
    size_t n;
    col_kv_t **kv = res_attrs(r, &n);

    snprintf(key, sizeof(key), "spanshim.%s_dropped.%s", kind, reason);
    return col_attr_int(kv, n, key);
}

static int64_t dropped(col_request_t *r, const char *reason)
{
    return dropped_of(r, "spans", reason);
}

static const char *instance(col_request_t *r)
{
    size_t n;
    col_kv_t **kv = res_attrs(r, &n);

    return col_attr_str(kv, n, "spanshim.loss.instance");
}

static void nothing_lost_nothing_added(void **state)
{
    uint8_t loss[EX_LOSS_ATTRS_MAX];
    col_request_t *r;
    size_t n;

    (void)state;
    assert_int_equal(ex_loss_attrs(loss, sizeof(loss)), 0);
    r = datagram();
    res_attrs(r, &n);
    assert_int_equal(n, 5); /* service.name, telemetry.sdk.*, process.pid only */
    assert_null(instance(r));
    col_request_free(r);
}

static void counts_are_cumulative_by_reason(void **state)
{
    col_request_t *r;
    char first[17];

    (void)state;
    ex_loss_note(EX_TX_BUSY, 5);
    ex_loss_note(EX_TX_NOCOLLECTOR, 2);
    r = datagram();
    assert_int_equal(dropped(r, "socket_full"), 5);
    assert_int_equal(dropped(r, "no_collector"), 2);
    assert_int_equal(dropped(r, "untrusted"), 0); /* absent: none */
    assert_non_null(instance(r));
    assert_int_equal(strlen(instance(r)), 16);
    strcpy(first, instance(r));
    col_request_free(r);

    ex_loss_note(EX_TX_BUSY, 3);
    ex_loss_note(EX_TX_UNTRUSTED, 1);
    ex_loss_note(EX_TX_FDLIMIT, 4);
    ex_loss_note(EX_TX_OFF, 9); /* never sends: nothing to tell */
    unencodable = 6;
    capped = 7;
    busy_exit = 2;
    r = datagram();
    assert_int_equal(dropped(r, "socket_full"), 8);
    assert_int_equal(dropped(r, "no_collector"), 2);
    assert_int_equal(dropped(r, "untrusted"), 1);
    assert_int_equal(dropped(r, "fd_limit"), 4);
    assert_int_equal(dropped(r, "too_large"), 6);
    assert_int_equal(dropped(r, "state_cap"), 7);
    assert_int_equal(dropped(r, "busy_at_exit"), 2);
    assert_string_equal(instance(r), first); /* the same process */
    col_request_free(r);
}

static void a_fork_child_counts_from_zero_as_another_instance(void **state)
{
    uint8_t loss[EX_LOSS_ATTRS_MAX];
    col_request_t *r;
    char parent[17];

    (void)state;
    ex_loss_note(EX_TX_BUSY, 5);
    capped = 10;
    unencodable = 1;
    r = datagram();
    strcpy(parent, instance(r));
    col_request_free(r);

    ex_loss_after_fork(); /* the host's counters go on from what they were */
    assert_int_equal(ex_loss_attrs(loss, sizeof(loss)), 0);
    capped = 12;
    r = datagram();
    assert_int_equal(dropped(r, "state_cap"), 2);
    assert_int_equal(dropped(r, "socket_full"), 0);
    assert_int_equal(dropped(r, "too_large"), 0);
    assert_string_not_equal(instance(r), parent);
    col_request_free(r);
}

static void told_counts_ride_again_on_a_change_or_after_the_refresh(void **state)
{
    uint8_t loss[EX_LOSS_ATTRS_MAX];
    const uint64_t t0 = 1000000000ull, s = 1000000000ull;
    col_request_t *r;

    (void)state;
    ex_loss_note(EX_TX_BUSY, 5);
    assert_true(ex_loss_attrs_at(loss, sizeof(loss), t0) > 0);
    /* not sent (the datagram was lost too): offered again */
    assert_true(ex_loss_attrs_at(loss, sizeof(loss), t0 + 1) > 0);
    ex_loss_told();
    r = datagram(); /* the collector has them: the datagram is plain */
    assert_null(instance(r));
    col_request_free(r);
    assert_int_equal(ex_loss_attrs_at(loss, sizeof(loss), ex_mono_ns() + (EX_LOSS_REFRESH_S - 1) * s), 0);

    ex_loss_note(EX_TX_NOCOLLECTOR, 1); /* a change: all the counts again */
    r = datagram();
    assert_int_equal(dropped(r, "socket_full"), 5);
    assert_int_equal(dropped(r, "no_collector"), 1);
    col_request_free(r);
    ex_loss_told();
    assert_int_equal(ex_loss_attrs(loss, sizeof(loss)), 0);

    capped = 3; /* a host counter's change counts too */
    assert_true(ex_loss_attrs(loss, sizeof(loss)) > 0);
    ex_loss_told();
    assert_int_equal(ex_loss_attrs(loss, sizeof(loss)), 0);
    /* a collector that restarted hears them within the refresh */
    assert_true(ex_loss_attrs_at(loss, sizeof(loss), ex_mono_ns() + EX_LOSS_REFRESH_S * s) > 0);
}

static void log_records_lost_are_told_beside_the_spans(void **state)
{
    col_request_t *r;
    char first[17];

    (void)state;
    /* Only log records lost: that is a loss to tell too. */
    ex_loss_note_logs(EX_TX_BUSY, 4);
    ex_loss_note_logs(EX_TX_UNTRUSTED, 1);
    ex_loss_note_logs(EX_TX_OFF, 3); /* never sends: nothing to tell */
    logs_unencodable = 2;
    logs_busy = 7;
    r = datagram();
    assert_int_equal(dropped_of(r, "logs", "socket_full"), 4);
    assert_int_equal(dropped_of(r, "logs", "untrusted"), 1);
    assert_int_equal(dropped_of(r, "logs", "too_large"), 2);
    assert_int_equal(dropped_of(r, "logs", "stream_busy"), 7);
    assert_int_equal(dropped_of(r, "logs", "no_collector"), 0);
    assert_int_equal(dropped(r, "socket_full"), 0); /* no span lost */
    assert_non_null(instance(r));
    strcpy(first, instance(r));
    col_request_free(r);

    /* Then spans too: every key at once, one instance, within the room. */
    ex_loss_note(EX_TX_BUSY, 1);
    ex_loss_note(EX_TX_NOCOLLECTOR, 1);
    ex_loss_note(EX_TX_UNTRUSTED, 1);
    ex_loss_note(EX_TX_FDLIMIT, 1);
    ex_loss_note_logs(EX_TX_NOCOLLECTOR, 0xffffffffu);
    ex_loss_note_logs(EX_TX_FDLIMIT, 0xffffffffu);
    unencodable = capped = busy_exit = logs_unencodable = logs_busy = 0xffffffffffffull;
    r = datagram();
    assert_int_equal(dropped(r, "socket_full"), 1);
    assert_int_equal(dropped(r, "state_cap"), 0xffffffffffffll);
    assert_int_equal(dropped(r, "busy_at_exit"), 0xffffffffffffll);
    assert_int_equal(dropped_of(r, "logs", "socket_full"), 4);
    assert_int_equal(dropped_of(r, "logs", "no_collector"), 0xffffffffll);
    assert_int_equal(dropped_of(r, "logs", "fd_limit"), 0xffffffffll);
    assert_int_equal(dropped_of(r, "logs", "too_large"), 0xffffffffffffll);
    assert_int_equal(dropped_of(r, "logs", "stream_busy"), 0xffffffffffffll);
    assert_string_equal(instance(r), first);
    col_request_free(r);

    /* A fork child: its own, from zero, the host's count from the fork on. */
    ex_loss_after_fork();
    logs_unencodable += 3;
    logs_busy += 2;
    r = datagram();
    assert_int_equal(dropped_of(r, "logs", "too_large"), 3);
    assert_int_equal(dropped_of(r, "logs", "stream_busy"), 2);
    assert_int_equal(dropped_of(r, "logs", "socket_full"), 0);
    col_request_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(nothing_lost_nothing_added, setup),
        cmocka_unit_test_setup(counts_are_cumulative_by_reason, setup),
        cmocka_unit_test_setup(a_fork_child_counts_from_zero_as_another_instance, setup),
        cmocka_unit_test_setup(told_counts_ride_again_on_a_change_or_after_the_refresh, setup),
        cmocka_unit_test_setup(log_records_lost_are_told_beside_the_spans, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
