/*
 * test_logbatch.c - log records through the exporter's batcher
 * (ex_batch_add_log) to a real Unix datagram socket standing in for the
 * collector: a flush sends the logs batch as its own datagram (the frame,
 * the envelope, the records, read back with protobuf-c) beside the spans'
 * one; batches a busy collector left in the backlog leave in the order
 * they were kept, several together only of one kind;
 * with nobody listening they are dropped and counted under the logs
 * counters, and the exit line tells them apart from spans.
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

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../exporter/ex_backlog.h"
#include "../../exporter/ex_batch.h"
#include "../../exporter/ex_host.h"
#include "../../exporter/ex_otlp.h"
#include "../../exporter/ex_transport.h"
#include "logs_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_req_t;

static uint64_t spans_n[EX_TX_OFF + 1], logs_n[EX_TX_OFF + 1], batches, unenc, capped,
    logs_unenc;
static ex_trust_t trust;
static char dir[64], path[128], said[8][256];
static int nsaid, rx = -1;

static void note(int level, const char *fmt, ...)
{
    va_list ap;

    (void)level;
    if (nsaid == 8)
        return;
    va_start(ap, fmt);
    vsnprintf(said[nsaid++], sizeof(said[0]), fmt, ap);
    va_end(ap);
}

static int host_fcntl(int fd, int cmd, void *arg)
{
    return fcntl(fd, cmd, arg);
}

static void start(const char *sock)
{
    ex_host_t h;
    int i;

    memset(&h, 0, sizeof(h));
    h.log = note;
    h.socket = socket;
    h.connect = connect;
    h.sendmsg = sendmsg;
    h.close = close;
    h.fcntl = host_fcntl;
    h.socket_path = sock;
    h.runtime_dir = "";
    h.collector_uids = &trust;
    for (i = 0; i <= EX_TX_OFF; i++) {
        h.spans[i] = &spans_n[i];
        h.logs[i] = &logs_n[i];
    }
    h.batches_sent = &batches;
    h.spans_unencodable = &unenc;
    h.spans_capped = &capped;
    h.logs_unencodable = &logs_unenc;
    ex_batch_init(&h, 0, NULL);
}

static int setup(void **state)
{
    struct sockaddr_un a;

    (void)state;
    strcpy(dir, "/tmp/logbatch.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/c.sock", dir);
    rx = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path);
    assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
    start(path);
    /* As a fork child of a threaded parent: no flush thread, so the tests
     * flush themselves and may start the exporter again. */
    ex_batch_after_fork(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(rx);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void add_log(const char *body)
{
    ss_logrec_t r;

    memset(&r, 0, sizeof(r));
    r.time_ns = 1700000000000000000ull;
    r.source = SS_LOG_STDERR;
    r.body = body;
    r.body_len = (uint32_t)strlen(body);
    r.ctx.valid = 1;
    r.ctx.trace_id[0] = 0x11;
    r.ctx.span_id[0] = 0x22;
    r.ctx.flags = 1;
    ex_batch_add_log(&r);
}

static void add_span(uint8_t id)
{
    ss_span_t s;

    memset(&s, 0, sizeof(s));
    s.ctx.trace_id[0] = 1;
    s.ctx.span_id[0] = id;
    s.kind = SS_KIND_CLIENT;
    s.type = SS_SPAN_CONNECT;
    s.start_ns = 1;
    s.end_ns = 2;
    ex_batch_add(&s);
}

/* The next datagram waiting (-1: none): its bytes in buf. */
static ssize_t next(uint8_t *buf, size_t cap)
{
    return recv(rx, buf, cap, MSG_DONTWAIT);
}

static logs_req_t *logs_of(const uint8_t *d, ssize_t n)
{
    assert_true(n > EX_FRAME_LEN);
    assert_memory_equal(d, EX_FRAME_LOGS, EX_FRAME_LEN);
    return opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
        NULL, (size_t)n - EX_FRAME_LEN, d + EX_FRAME_LEN);
}

static void logs_beside_spans(void **state)
{
    static uint8_t d[256 * 1024];
    logs_req_t *r;
    ssize_t n;
    int logs = 0, spans = 0;

    (void)state;
    add_log("first line");
    add_span(1);
    add_log("second line");
    ex_batch_flush();
    while ((n = next(d, sizeof(d))) > 0) {
        if (d[0] == 0) {
            Opentelemetry__Proto__Logs__V1__ScopeLogs *sl;

            r = logs_of(d, n);
            assert_non_null(r);
            assert_int_equal(r->n_resource_logs, 1);
            assert_non_null(r->resource_logs[0]->resource);
            sl = r->resource_logs[0]->scope_logs[0];
            assert_int_equal(sl->n_log_records, 2);
            assert_string_equal(sl->log_records[0]->body->string_value, "first line");
            assert_string_equal(sl->log_records[1]->body->string_value, "second line");
            assert_int_equal(sl->log_records[1]->span_id.data[0], 0x22);
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(
                r, NULL);
            logs++;
        } else {
            spans++;
        }
    }
    assert_int_equal(logs, 1);
    assert_int_equal(spans, 1);
    assert_int_equal(logs_n[EX_TX_SENT], 2);
    assert_int_equal(spans_n[EX_TX_SENT], 1);
}

/* Kept batches leave oldest first, several together only of one kind. */
static void backlog_keeps_kind_and_order(void **state)
{
    static const uint8_t a[] = "L1", b[] = "L2", c[] = "S3", e[] = "L4";
    struct iovec iov[EX_BACKLOG_JOIN];
    size_t len;
    unsigned n;
    int kind;

    (void)state;
    assert_int_equal(ex_backlog_count(), 0);
    assert_true(ex_backlog_put(a, 2, 1, EX_BATCH_LOGS));
    assert_true(ex_backlog_put(b, 2, 3, EX_BATCH_LOGS));
    assert_true(ex_backlog_put(c, 2, 5, EX_BATCH_SPANS));
    assert_true(ex_backlog_put(e, 2, 7, EX_BATCH_LOGS));
    assert_int_equal(ex_backlog_oldest(iov, EX_BACKLOG_JOIN, 1 << 20, &len, &n, &kind), 2);
    assert_int_equal(kind, EX_BATCH_LOGS);
    assert_int_equal(n, 4);
    assert_memory_equal(iov[1].iov_base, "L2", 2);
    ex_backlog_pop(2);
    assert_int_equal(ex_backlog_oldest(iov, EX_BACKLOG_JOIN, 1 << 20, &len, &n, &kind), 1);
    assert_int_equal(kind, EX_BATCH_SPANS);
    assert_int_equal(n, 5);
    ex_backlog_pop(1);
    assert_int_equal(ex_backlog_oldest(iov, EX_BACKLOG_JOIN, 1 << 20, &len, &n, &kind), 1);
    assert_int_equal(kind, EX_BATCH_LOGS);
    assert_memory_equal(iov[0].iov_base, "L4", 2);
    ex_backlog_pop(1);
    assert_int_equal(ex_backlog_count(), 0);
}

static void nobody_listening_counts_logs_apart(void **state)
{
    char gone[160];
    int i;

    (void)state;
    snprintf(gone, sizeof(gone), "%s/nobody.sock", dir);
    memset(logs_n, 0, sizeof(logs_n));
    memset(spans_n, 0, sizeof(spans_n));
    nsaid = 0;
    start(gone);
    ex_transport_fds_closed(0, ~0u); /* forget the socket test one kept */
    ex_transport_after_fork();
    add_log("lost one");
    add_log("lost two");
    add_span(9);
    ex_batch_flush();
    assert_int_equal(logs_n[EX_TX_NOCOLLECTOR], 2);
    assert_int_equal(spans_n[EX_TX_NOCOLLECTOR], 1);
    ex_batch_tell_losses();
    for (i = 0; i < nsaid; i++)
        if (strstr(said[i], "2 log records lost (2 with no collector reached)"))
            break;
    assert_true(i < nsaid);
    for (i = 0; i < nsaid; i++)
        if (strstr(said[i], "1 span lost"))
            break;
    assert_true(i < nsaid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logs_beside_spans),
        cmocka_unit_test(backlog_keeps_kind_and_order),
        cmocka_unit_test(nobody_listening_counts_logs_apart),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
