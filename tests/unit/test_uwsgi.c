/*
 * test_uwsgi.c - the uwsgi request parser fed the requests nginx writes
 * (the vars of Debian's uwsgi_params and the client's headers, as a
 * capture of nginx 1.22 showed them) and broken ones, whole, at every
 * 2-way split and byte by byte: the same events at the same stream
 * offsets; and detection against other protocols' first bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/proto/ss_uwsgi.h"
#include "uwsgi_wire.h"

#define LOG_MAX 8192

/* The log of a run: every event with its stream offset and fields. */
typedef struct rec {
    char log[LOG_MAX];
    size_t n;
    char val[4096];
    size_t val_n;
} rec_t;

static void say(rec_t *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    r->n += (size_t)vsnprintf(r->log + r->n, LOG_MAX - r->n, fmt, ap);
    va_end(ap);
    assert_true(r->n < LOG_MAX);
}

static void note(rec_t *r, const ss_uwsgi_t *p, unsigned ev)
{
    if (ev & SS_UWSGI_EV_BEGIN)
        say(r, "B%llu ", (unsigned long long)p->pkt_pos);
    if (ev & SS_UWSGI_EV_HEADER)
        say(r, "H%u/%u/%u ", p->modifier1, p->datasize, p->modifier2);
    if (ev & SS_UWSGI_EV_KEY) {
        say(r, "K%.*s%s=", p->key_len < SS_UWSGI_KEY_MAX ? p->key_len : SS_UWSGI_KEY_MAX, p->key,
            p->key_trunc ? "~" : "");
        r->val_n = 0;
    }
    if (ev & SS_UWSGI_EV_VALUE) {
        assert_true(r->val_n + p->piece_len <= sizeof(r->val));
        memcpy(r->val + r->val_n, p->piece, p->piece_len);
        r->val_n += p->piece_len;
    }
    if (ev & SS_UWSGI_EV_VAR_END)
        say(r, "%.*s@%llu/%u ", (int)r->val_n, r->val, (unsigned long long)p->val_pos, p->val_len);
    if (ev & SS_UWSGI_EV_VARS_END)
        say(r, "V%llu ", (unsigned long long)p->cl);
    if (ev & SS_UWSGI_EV_END)
        say(r, "E%llu ", (unsigned long long)p->pos);
    if (ev & SS_UWSGI_EV_ERROR)
        say(r, "X%s@%llu", p->why, (unsigned long long)p->pos);
}

/* Feed b[0..n) in pieces [0,cut) and [cut,n) (cut 0: whole), or byte by
 * byte; a NULL-buffer run of `unseen` bytes at the end (sendfile). */
static void run(const uint8_t *b, size_t n, size_t cut, int bytewise, size_t unseen, rec_t *r)
{
    ss_uwsgi_t p;
    size_t bounds[3] = {0, cut ? cut : n, n};
    int dead = 0;

    memset(r, 0, sizeof(*r));
    ss_uwsgi_init(&p);
    for (int k = 0; k < 2 && !dead; k++) {
        size_t i = bounds[k];

        while (i < bounds[k + 1] && !dead) {
            size_t len = bytewise ? 1 : bounds[k + 1] - i;
            unsigned ev;
            size_t used = ss_uwsgi_feed(&p, (const char *)b + i, len, &ev);

            assert_true(used <= len);
            assert_true(used > 0 || ev != 0); /* an event before a byte: it is fed again */
            note(r, &p, ev);
            dead = (ev & SS_UWSGI_EV_ERROR) != 0;
            i += used;
        }
    }
    while (unseen && !dead) {
        unsigned ev;
        size_t used = ss_uwsgi_feed(&p, NULL, unseen, &ev);

        note(r, &p, ev);
        dead = (ev & SS_UWSGI_EV_ERROR) != 0;
        unseen -= used;
        if (!used && !ev)
            break;
    }
    say(r, "|%s", ss_uwsgi_idle(&p) ? "idle" : "busy");
}

/* Whole, then every 2-way split and byte by byte: the same log; the
 * whole run's is `expect` when given. */
static void check(const uint8_t *b, size_t n, size_t unseen, const char *expect)
{
    static rec_t whole, part;

    run(b, n, 0, 0, unseen, &whole);
    if (expect)
        assert_string_equal(whole.log, expect);
    for (size_t cut = 1; cut < n; cut++) {
        run(b, n, cut, 0, unseen, &part);
        if (strcmp(whole.log, part.log) != 0)
            fail_msg("cut %zu:\n%s\nwhole:\n%s", cut, part.log, whole.log);
    }
    run(b, n, 0, 1, unseen, &part);
    assert_string_equal(part.log, whole.log);
}

static void test_nginx_post(void **st)
{
    uint8_t b[1024];
    size_t n = uw_build(b, 0, uw_nginx_post, "abc=1");
    rec_t r;

    (void)st;
    /* The header nginx wrote: modifier1 0, datasize 532, modifier2 0. */
    assert_memory_equal(b, "\x00\x14\x02\x00", 4);
    assert_int_equal(n, 541);
    check(b, n, 0, NULL);
    run(b, n, 0, 0, 0, &r);
    assert_non_null(strstr(r.log, "B0 H0/532/0 KQUERY_STRING=q=1@20/3 "));
    assert_non_null(strstr(r.log, "KCONTENT_LENGTH=5@"));
    assert_non_null(strstr(r.log, "KHTTP_TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-"
                                  "b7ad6b7169203331-01@"));
    /* The vars end at 536, the body's 5 bytes at 541. */
    assert_non_null(strstr(r.log, "application/x-www-form-urlencoded@503/33 V5 E541 |idle"));
}

/* Two requests on one connection, the first without a body, a key past
 * the cap (named by its length only), empty values. */
static void test_two_requests(void **st)
{
    uint8_t b[2048];
    size_t n = uw_build(b, 0, uw_nginx_get, "");

    (void)st;
    n += uw_build(b + n, 0, uw_nginx_post, "abc=1");
    check(b, n, 0, NULL);
    {
        rec_t r;

        run(b, n, 0, 0, 0, &r);
        assert_non_null(strstr(r.log, "KCONTENT_LENGTH=@"));
        assert_non_null(strstr(r.log, "KHTTP_A_HEADER_NAME_LONGER_THAN_T~=v@"));
        assert_non_null(strstr(r.log, "V0 E"));
        assert_non_null(strstr(r.log, " E201 B201 H0/532/0 "));
    }
}

/* A body that went by unseen (sendfile) is counted; unseen bytes before
 * it are an error. */
static void test_unseen_body(void **st)
{
    static const char *const kv[] = {"CONTENT_LENGTH", "100000", NULL};
    uint8_t b[64];
    size_t n = uw_build(b, 0, kv, "xyz");
    rec_t r;

    (void)st;
    check(b, n, 100000 - 3, NULL);
    run(b, n, 0, 0, 100000 - 3, &r);
    assert_non_null(strstr(r.log, "V100000 E100028 |idle"));
    run(b, 3, 0, 0, 10, &r);
    assert_string_equal(r.log, "B0 Xunseen@3|busy");
}

static void test_empty_block(void **st)
{
    static const uint8_t b[] = {0, 0, 0, 0, 0, 0, 0, 0};

    (void)st;
    check(b, sizeof(b), 0, "B0 H0/0/0 V0 E4 B4 H0/0/0 V0 E8 |idle");
}

/* Lengths that do not add up stop at the first byte that shows it. */
static void test_broken(void **st)
{
    static const uint8_t stray[] = {0, 6, 0, 0, 1, 0, 'A', 0, 0, 'x'};
    static const uint8_t key_over[] = {0, 6, 0, 0, 3, 0, 'A', 'B', 'C', 0, 0};
    static const uint8_t val_over[] = {0, 6, 0, 0, 1, 0, 'A', 2, 0, 'x'};
    static const uint8_t cl_bad[] = {0, 19, 0, 0, 14, 0, 'C', 'O', 'N', 'T', 'E', 'N', 'T',
                                     '_', 'L', 'E', 'N', 'G', 'T', 'H', 1, 0, 'x'};
    static const uint8_t cl_long[] = {0, 38, 0, 0, 14, 0, 'C', 'O', 'N', 'T', 'E', 'N', 'T',
                                      '_', 'L', 'E', 'N', 'G', 'T', 'H', 20, 0,
                                      '1', '1', '1', '1', '1', '1', '1', '1', '1', '1',
                                      '1', '1', '1', '1', '1', '1', '1', '1', '1', '1'};

    (void)st;
    check(stray, sizeof(stray), 0, "B0 H0/6/0 KA=@9/0 Xvars@9|busy");
    check(key_over, sizeof(key_over), 0, "B0 H0/6/0 Xvars@5|busy");
    check(val_over, sizeof(val_over), 0, "B0 H0/6/0 KA=Xvars@8|busy");
    check(cl_bad, sizeof(cl_bad), 0, "B0 H0/19/0 KCONTENT_LENGTH=Xcontent_length@22|busy");
    check(cl_long, sizeof(cl_long), 0, NULL);
}

/* nginx's request is detected, with the bytes detection is given; other
 * protocols' first bytes are not. */
static void test_detect(void **st)
{
    uint8_t b[1024];
    size_t n = uw_build(b, 0, uw_nginx_post, "");
    static const struct {
        const char *what;
        const char *bytes;
        size_t n;
    } others[] = {
        {"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27},
        {"h2", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24},
        {"tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11},
        {"redis", "*1\r\n$4\r\nPING\r\n", 14},
        {"pg startup", "\x00\x00\x00\x52\x00\x03\x00\x00user\x00postgres\x00", 22},
        {"pg ssl", "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8},
        {"mysql greeting", "\x4a\x00\x00\x00\x0a" "8.0.36\x00", 12},
        {"mysql 256", "\x00\x01\x00\x01\x8d\xa6\x0f\x00", 8},
        {"fastcgi", "\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 16},
        {"ajp", "\x12\x34\x01\x00\x02\x02\x00\x08HTTP/1.1", 16},
        {"lowercase key", "\x00\x10\x00\x00\x04\x00host\x09\x00localhost", 21},
        {"key past block", "\x00\x06\x00\x00\x04\x00HOST", 10},
        {"modifier1 5", "\x05\x10\x00\x00\x04\x00HOST\x09\x00localhost", 21},
        {"modifier2 1", "\x00\x10\x00\x01\x04\x00HOST\x09\x00localhost", 21},
        {"not a CGI name", "\x00\x10\x00\x00\x04\x00HOST\x09\x00localhost", 21},
        {"one letter", "\x00\x01\x04\x00\x01\x00V\x0fM", 9},
        {"HTTP_ alone", "\x00\x10\x00\x00\x05\x00HTTP_\x01\x00x", 14},
        {"a name's prefix", "\x00\x10\x00\x00\x05\x00QUERY\x01\x00x", 14},
    };

    (void)st;
    assert_int_equal(ss_uwsgi_detect(b, n < 64 ? n : 64), 1);
    assert_int_equal(ss_uwsgi_detect(b, 4 + 2 + 12), 1);
    for (size_t k = 0; k < 4 + 2 + 12; k++)
        assert_int_equal(ss_uwsgi_detect(b, k), -1);
    /* A request header's name, or uWSGI's own, as the first var. */
    assert_int_equal(ss_uwsgi_detect((const uint8_t *)"\x00\x10\x00\x00\x09\x00HTTP_HOST", 15), 1);
    assert_int_equal(ss_uwsgi_detect((const uint8_t *)"\x00\x10\x00\x00\x09\x00HTTP_HO", 13), -1);
    assert_int_equal(ss_uwsgi_detect((const uint8_t *)"\x00\x10\x00\x00\x09\x00HTTP_H\x00", 13), 0);
    assert_int_equal(ss_uwsgi_detect((const uint8_t *)"\x00\x10\x00\x00\x09\x00HTT", 9), -1);
    assert_int_equal(ss_uwsgi_detect((const uint8_t *)"\x00\x10\x00\x00\x0b\x00UWSGI_APPID", 17), 1);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        int d = ss_uwsgi_detect((const uint8_t *)others[i].bytes, others[i].n);

        if (d != 0)
            fail_msg("%s: detected %d", others[i].what, d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_post),
        cmocka_unit_test(test_two_requests),
        cmocka_unit_test(test_unseen_body),
        cmocka_unit_test(test_empty_block),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_detect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
