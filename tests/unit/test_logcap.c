/*
 * test_logcap.c - log capture (preload/ss_logcap.h) and the datagrams of
 * the local log sockets (ss_logdgram.h). The records the capture hands the
 * exporter are caught (ex_batch_add_log is wrapped) and checked: which fds
 * are logs (fds 1 and 2, files by SPANSHIM_LOG_FILES's globs, a log file
 * put on fd 2, the syslog and journal sockets), lines split over writes
 * and many in one, the span current on the thread (and none outside one,
 * as SPANSHIM_LOGS says), a close that sends the unfinished line, a fork
 * child that drops it, syslog(3)'s priority and ident, and the parsers'
 * every form.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "../../exporter/ex_batch.h"
#include "../../preload/ss_calling.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_logcap.h"
#include "../../preload/ss_logdgram.h"
#include "../../preload/ss_logline.h"
#include "../../preload/ss_proto.h"
#include "../../preload/ss_serving.h"
#include "../../preload/ss_span.h"

#define MAXREC 32

typedef struct caught {
    char body[SS_LOGLINE_MAX];
    size_t len;
    ss_logrec_t r;
    char path[SS_LOGCAP_PATH_MAX];
    char ident[80];
} caught_t;

static caught_t got[MAXREC];
static int ngot;

void __wrap_ex_batch_add_log(const ss_logrec_t *r);
void __wrap_ex_batch_add_log(const ss_logrec_t *r)
{
    caught_t *c;

    assert_true(ngot < MAXREC);
    c = &got[ngot++];
    assert_true(r->body_len <= sizeof(c->body));
    memcpy(c->body, r->body, r->body_len);
    c->len = r->body_len;
    c->r = *r;
    c->path[0] = c->ident[0] = '\0';
    if (r->path)
        snprintf(c->path, sizeof(c->path), "%s", r->path);
    if (r->ident)
        snprintf(c->ident, sizeof(c->ident), "%s", r->ident);
}

static void body_is(int i, const char *want)
{
    assert_true(i < ngot);
    assert_int_equal(got[i].len, strlen(want));
    assert_memory_equal(got[i].body, want, got[i].len);
}

static void wr(int fd, const char *s)
{
    struct iovec v = {(void *)s, strlen(s)};

    ss_logcap_wrote(fd, &v, 1, v.iov_len);
}

static int setup_all(void **state)
{
    (void)state;
    ngot = 0;
    assert_int_equal(ss_logcap_configure("all", NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ss_logcap_closed_range(0, SS_LOGCAP_FDS);
    ss_conn_thread_reset();
    return 0;
}

static void configure(void **state)
{
    (void)state;
    assert_int_equal(ss_logcap_configure(NULL, NULL), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_OFF);
    assert_int_equal(ss_logcap_configure("span", ""), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_SPAN);
    assert_int_equal(ss_logcap_configure("all", "*.log"), 0);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_ALL);
    assert_int_equal(ss_logcap_configure("loud", NULL), -1);
    assert_int_equal(ss_logcap_mode(), SS_LOGS_OFF);
    /* the default: files named *.log, wherever they are */
    assert_int_equal(ss_logcap_configure("all", NULL), 0);
    assert_true(ss_logcap_path_matches("/var/log/nginx/error.log"));
    assert_true(ss_logcap_path_matches("error.log"));
    assert_false(ss_logcap_path_matches("/var/lib/redis/appendonly.aof"));
    assert_false(ss_logcap_path_matches("/var/log.d/x"));
    /* globs with a directory match the whole path */
    assert_int_equal(ss_logcap_configure("all", "/srv/logs/*,*.err"), 0);
    assert_true(ss_logcap_path_matches("/srv/logs/app.txt"));
    assert_true(ss_logcap_path_matches("/tmp/x.err"));
    assert_false(ss_logcap_path_matches("/tmp/app.log"));
    assert_int_equal(ss_logcap_configure("all", "none"), 0);
    assert_false(ss_logcap_path_matches("/tmp/app.log"));
    assert_int_equal(ss_logcap_configure("all", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"), -1);
    assert_true(ss_logcap_path_matches("/tmp/app.log")); /* the default instead */
}

static void files_by_glob_at_open(void **state)
{
    (void)state;
    ss_logcap_opened(40, AT_FDCWD, "/tmp/app.log", O_WRONLY | O_APPEND | O_CREAT);
    ss_logcap_opened(41, AT_FDCWD, "/tmp/app.log", O_RDONLY); /* read: no log */
    ss_logcap_opened(42, AT_FDCWD, "/tmp/data.bin", O_WRONLY);
    assert_true(ss_logcap_is_log(40));
    assert_false(ss_logcap_is_log(41));
    assert_false(ss_logcap_is_log(42));
    wr(40, "[error] one\n");
    wr(41, "nothing\n");
    wr(42, "nothing\n");
    assert_int_equal(ngot, 1);
    body_is(0, "[error] one");
    assert_int_equal(got[0].r.source, SS_LOG_FILE);
    assert_string_equal(got[0].path, "/tmp/app.log");
    assert_int_equal(got[0].r.severity, 17);
    assert_false(got[0].r.ctx.valid);
    assert_true(got[0].r.time_ns > 0 && got[0].r.observed_ns >= got[0].r.time_ns);
}

static void relative_path_made_absolute(void **state)
{
    char want[600], cwd[512];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    ss_logcap_opened(43, AT_FDCWD, "logs/error.log", O_WRONLY);
    wr(43, "x\n");
    assert_int_equal(ngot, 1);
    snprintf(want, sizeof(want), "%s/logs/error.log", cwd);
    assert_string_equal(got[0].path, want);
}

static void split_and_many_lines(void **state)
{
    struct iovec v[3] = {{"a ", 2}, {"b\nc\n", 4}, {"d", 1}};

    (void)state;
    ss_logcap_opened(44, AT_FDCWD, "/tmp/s.log", O_WRONLY);
    wr(44, "first ");
    wr(44, "half\nwhole\r\n\n");
    ss_logcap_wrote(44, v, 3, 6); /* the kernel took 6 of 7 bytes: "a b\nc\n" */
    assert_int_equal(ngot, 4);
    body_is(0, "first half");
    body_is(1, "whole");
    body_is(2, "a b");
    body_is(3, "c");
    wr(44, "unfinished");
    assert_int_equal(ngot, 4);
    ss_logcap_closed(44); /* the rest goes out at close */
    assert_int_equal(ngot, 5);
    body_is(4, "unfinished");
    assert_false(ss_logcap_is_log(44));
    wr(44, "after close\n");
    assert_int_equal(ngot, 5);
}

static void lines_in_a_span(void **state)
{
    ss_ctx_t ctx = {{1, 2, 3}, {9, 8, 7}, 1, 1};
    uint16_t slot;
    uint64_t outside = ss_count.logs_outside_span;

    (void)state;
    assert_int_equal(ss_logcap_configure("span", NULL), 0);
    ss_logcap_opened(45, AT_FDCWD, "/tmp/span.log", O_WRONLY);
    wr(45, "outside\n");
    assert_int_equal(ngot, 0);
    assert_int_equal(ss_count.logs_outside_span, outside + 1);
    slot = ss_serving_begin();
    ss_conn_serving(&ctx, "", 0);
    wr(45, "inside\n");
    /* two requests at once on this thread (an event loop): whose is it? none */
    ss_serving_begin();
    wr(45, "ambiguous\n");
    ss_serving_end(slot);
    wr(45, "inside again\n");
    ss_serving_end(slot);
    wr(45, "after the request\n");
    assert_int_equal(ngot, 2);
    body_is(0, "inside");
    body_is(1, "inside again");
    assert_true(got[0].r.ctx.valid);
    assert_memory_equal(got[0].r.ctx.trace_id, ctx.trace_id, 16);
    assert_memory_equal(got[0].r.ctx.span_id, ctx.span_id, 8);
    assert_int_equal(got[0].r.ctx.flags, 1);
}

static ss_span_t *client_span(const ss_ctx_t *parent)
{
    ss_span_t *s = ss_span_alloc();

    assert_non_null(s);
    s->kind = SS_KIND_CLIENT;
    ss_span_start_ctx(s, parent, 0);
    ss_calling_begin(s);
    return s;
}

static void *free_elsewhere(void *arg)
{
    ss_span_free(arg);
    return NULL;
}

static void ctx_is(int i, const ss_ctx_t *want)
{
    assert_true(i < ngot);
    assert_true(got[i].r.ctx.valid);
    assert_memory_equal(got[i].r.ctx.trace_id, want->trace_id, 16);
    assert_memory_equal(got[i].r.ctx.span_id, want->span_id, 8);
}

/* A line written while a call the thread sent is in flight is that call's
 * (its CLIENT span), the SERVER span's again once the call ended, on
 * whichever thread; with two calls open, neither's. */
static void lines_in_a_call(void **state)
{
    ss_ctx_t srv = {{1, 2, 3}, {9, 8, 7}, 1, 1};
    ss_span_t *a, *b;
    ss_ctx_t a_ctx, a2_ctx, b_ctx, b2_ctx, own_ctx;
    pthread_t t;
    uint16_t slot;

    (void)state;
    assert_int_equal(ss_logcap_configure("span", NULL), 0);
    ss_logcap_opened(45, AT_FDCWD, "/tmp/call.log", O_WRONLY);
    slot = ss_serving_begin();
    ss_conn_serving(&srv, "", 0);
    a = client_span(&srv);
    a_ctx = a->ctx;
    assert_memory_equal(a_ctx.trace_id, srv.trace_id, 16);
    wr(45, "calling a\n");
    ss_span_free(a); /* its reply is in */
    wr(45, "after a\n");
    a = client_span(&srv);
    a2_ctx = a->ctx;
    wr(45, "calling a again\n");
    b = client_span(&srv);
    b_ctx = b->ctx;
    wr(45, "two calls open\n");
    assert_int_equal(pthread_create(&t, NULL, free_elsewhere, a), 0); /* a read elsewhere */
    assert_int_equal(pthread_join(t, 0), 0);
    wr(45, "calling b alone\n");
    /* the Node module's hint or a copied traceparent gives b another id */
    ss_span_start_ctx(b, &srv, 0);
    assert_memory_not_equal(b->ctx.span_id, b_ctx.span_id, 8);
    b2_ctx = b->ctx;
    wr(45, "b renamed\n");
    /* an event loop: a second request served meanwhile may be what it writes for */
    ss_serving_begin();
    wr(45, "two requests, one call\n");
    ss_serving_end(slot);
    ss_span_free(b);
    wr(45, "both done\n");
    /* a call of another trace (a request that ended) is not this one's */
    b = client_span(NULL);
    wr(45, "another trace's call\n");
    ss_span_free(b);
    ss_serving_end(slot);
    ss_conn_thread_reset();
    /* no request served: a call's lines are still the call's */
    a = client_span(NULL);
    own_ctx = a->ctx;
    wr(45, "a call of its own\n");
    ss_span_free(a);
    wr(45, "outside\n");
    assert_int_equal(ngot, 9);
    body_is(0, "calling a");
    ctx_is(0, &a_ctx);
    body_is(1, "after a");
    ctx_is(1, &srv);
    body_is(2, "calling a again");
    ctx_is(2, &a2_ctx);
    body_is(3, "two calls open");
    ctx_is(3, &srv);
    body_is(4, "calling b alone");
    ctx_is(4, &b_ctx);
    body_is(5, "b renamed");
    ctx_is(5, &b2_ctx);
    body_is(6, "both done");
    ctx_is(6, &srv);
    body_is(7, "another trace's call");
    ctx_is(7, &srv);
    body_is(8, "a call of its own");
    ctx_is(8, &own_ctx);
}

static void log_file_onto_stderr(void **state)
{
    (void)state;
    ss_logcap_opened(46, AT_FDCWD, "/var/log/nginx/error.log", O_WRONLY);
    ss_logcap_replaced(46, 2); /* dup2(46, 2) */
    wr(2, "via stderr\n");
    wr(46, "via its fd\n");
    assert_int_equal(ngot, 2);
    assert_int_equal(got[0].r.source, SS_LOG_FILE);
    assert_string_equal(got[0].path, "/var/log/nginx/error.log");
    assert_string_equal(got[1].path, "/var/log/nginx/error.log");
    /* close(1); open("x.log") */
    ss_logcap_opened(1, AT_FDCWD, "/tmp/out.log", O_WRONLY | O_CREAT);
    wr(1, "to stdout\n");
    assert_int_equal(ngot, 3);
    assert_string_equal(got[2].path, "/tmp/out.log");
    /* dup(46) gives a new number: no log */
    ss_logcap_replaced(46, 47);
    assert_false(ss_logcap_is_log(47));
}

static void fork_child_drops_unfinished(void **state)
{
    (void)state;
    ss_logcap_opened(48, AT_FDCWD, "/tmp/f.log", O_WRONLY);
    wr(48, "parent's start ");
    ss_logcap_after_fork();
    wr(48, "child's line\n");
    assert_int_equal(ngot, 1);
    body_is(0, "child's line");
    wr(48, "at exit");
    ss_logcap_flush();
    assert_int_equal(ngot, 2);
    body_is(1, "at exit");
}

static void syslog_call(void **state)
{
    (void)state;
    ss_logcap_openlog("probe");
    ss_logcap_syslog(LOG_DAEMON | LOG_ERR, "disk full\n", 10, 0);
    ss_logcap_syslog(LOG_INFO, "", 0, 0); /* empty: none */
    ss_logcap_syslog(LOG_WARNING, "long", 4, 1);
    assert_int_equal(ngot, 2);
    body_is(0, "disk full");
    assert_int_equal(got[0].r.severity, 17);
    assert_memory_equal(got[0].r.severity_text, "err", 3);
    assert_int_equal(got[0].r.source, SS_LOG_SYSLOG);
    assert_string_equal(got[0].ident, "probe");
    assert_int_equal(got[1].r.severity, 13);
    assert_true(got[1].r.cut);
    ss_logcap_openlog(NULL);
    ss_logcap_syslog(LOG_INFO, "x", 1, 0);
    assert_string_equal(got[2].ident, program_invocation_short_name);
}

static socklen_t un(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static void socket_datagrams(void **state)
{
    struct sockaddr_un a;
    socklen_t n;
    struct iovec j[4] = {{"MESSAGE=in ", 11}, {"pieces\n", 7}, {"PRIORITY=2\n", 11},
                         {"SYSLOG_IDENTIFIER=jd\n", 21}};
    struct iovec s1 = {"<13>hello\0", 10};

    (void)state;
    n = un(&a, "/dev/log");
    ss_logcap_sent_to((struct sockaddr *)&a, n, &s1, 1, s1.iov_len);
    n = un(&a, "/run/systemd/journal/socket");
    ss_logcap_sent_to((struct sockaddr *)&a, n, j, 4, 50);
    n = un(&a, "/tmp/other.sock");
    ss_logcap_sent_to((struct sockaddr *)&a, n, &s1, 1, s1.iov_len);
    n = un(&a, "/dev/logx");
    ss_logcap_sent_to((struct sockaddr *)&a, n, &s1, 1, s1.iov_len);
    assert_int_equal(ngot, 2);
    body_is(0, "hello");
    assert_int_equal(got[0].r.severity, 10); /* notice */
    assert_string_equal(got[0].ident, "");
    body_is(1, "in pieces");
    assert_int_equal(got[1].r.severity, 18); /* crit */
    assert_string_equal(got[1].ident, "jd");
    /* connected: each write one message */
    n = un(&a, "/dev/log");
    ss_logcap_connected(50, (struct sockaddr *)&a, n);
    wr(50, "<11>one\ntwo");
    assert_int_equal(ngot, 3);
    body_is(2, "one\ntwo");
    ss_logcap_closed(50);
}

static void dgram_syslog_forms(void **state)
{
    ss_logmsg_t m;
    const char *d;

    (void)state;
    d = "<165>1 2003-10-11T22:14:15.003Z host.example evntslog 42 ID47 "
        "[exampleSDID@32473 iut=\"3\" x=\"a\\]b\"] \xef\xbb\xbf" "An application event";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.pri, 5);
    assert_int_equal(m.body_len, strlen("An application event"));
    assert_memory_equal(m.body, "An application event", m.body_len);
    assert_int_equal(m.ident_len, 8);
    assert_memory_equal(m.ident, "evntslog", 8);
    d = "<34>1 - - - - - - no sd";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.ident_len, 0);
    assert_memory_equal(m.body, "no sd", m.body_len);
    d = "<30>Oct  1 22:14:15 cron[123]: job done\n";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.pri, 6);
    assert_memory_equal(m.ident, "cron", m.ident_len);
    assert_int_equal(m.body_len, 8);
    assert_memory_equal(m.body, "job done", 8);
    d = "<30>Oct 11 22:14:15 sshd: accepted";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_memory_equal(m.ident, "sshd", m.ident_len);
    assert_memory_equal(m.body, "accepted", m.body_len);
    d = "<11>ERROR:root:no tag here";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.ident_len, 0);
    assert_int_equal(m.body_len, strlen("ERROR:root:no tag here"));
    d = "plain text";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.pri, -1);
    assert_int_equal(m.body_len, 10);
    d = "<999>too big";
    assert_true(ss_logdgram_syslog(d, strlen(d), &m));
    assert_int_equal(m.pri, -1);
    assert_int_equal(m.body_len, strlen(d));
    assert_false(ss_logdgram_syslog("<13>", 4, &m));
    assert_false(ss_logdgram_syslog("\0\n", 2, &m));
}

static void dgram_journal_forms(void **state)
{
    ss_logmsg_t m;
    const char bin[] = "PRIORITY=6\nMESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\nCODE_LINE=1\n";
    const char shortlen[] = "MESSAGE\n\xff\0\0\0\0\0\0\0abc\n";

    (void)state;
    assert_true(ss_logdgram_journal(bin, sizeof(bin) - 1, &m));
    assert_int_equal(m.pri, 6);
    assert_int_equal(m.body_len, 9);
    assert_memory_equal(m.body, "two\nlines", 9);
    assert_false(ss_logdgram_journal(shortlen, sizeof(shortlen) - 1, &m));
    assert_false(ss_logdgram_journal("PRIORITY=3\n", 11, &m));
    assert_true(ss_logdgram_journal("MESSAGE=x\nPRIORITY=9\n", 21, &m));
    assert_int_equal(m.pri, -1); /* not a priority */
    assert_false(ss_logdgram_journal("MESSAGE=\n", 9, &m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(configure),
        cmocka_unit_test_setup_teardown(files_by_glob_at_open, setup_all, teardown),
        cmocka_unit_test_setup_teardown(relative_path_made_absolute, setup_all, teardown),
        cmocka_unit_test_setup_teardown(split_and_many_lines, setup_all, teardown),
        cmocka_unit_test_setup_teardown(lines_in_a_span, setup_all, teardown),
        cmocka_unit_test_setup_teardown(lines_in_a_call, setup_all, teardown),
        cmocka_unit_test_setup_teardown(log_file_onto_stderr, setup_all, teardown),
        cmocka_unit_test_setup_teardown(fork_child_drops_unfinished, setup_all, teardown),
        cmocka_unit_test_setup_teardown(syslog_call, setup_all, teardown),
        cmocka_unit_test_setup_teardown(socket_datagrams, setup_all, teardown),
        cmocka_unit_test(dgram_syslog_forms),
        cmocka_unit_test(dgram_journal_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
