/*
 * test_logline.c - log lines out of writes (ss_logline.h) and the
 * severity a line gives itself (ss_logsev.h).
 *
 * Lines: a recorded stream of log output fed at every split point (and
 * byte by byte) gives the same lines as fed whole; many lines in one
 * write are many; "\r\n" ends a line too, even split between writes;
 * empty lines are none; a line at the cap is whole, one past it is cut
 * and its rest skipped up to its newline; an unfinished line waits, keeps
 * the time of its first byte, and is given by a flush.
 * Severity: syslog priorities, JSON fields (words and pino numbers),
 * logfmt, and level words as Python's logging, nginx and apache2 write
 * them; words that only look like levels are not taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/ss_logline.h"
#include "../../preload/ss_logsev.h"

#define MAX_GOT 64

typedef struct got {
    int n;
    char line[MAX_GOT][SS_LOGLINE_MAX + 1];
    size_t len[MAX_GOT];
    int cut[MAX_GOT];
    uint64_t first[MAX_GOT];
} got_t;

static got_t got;

static void take(void *arg, const char *line, size_t len, int cut, uint64_t first_ns)
{
    got_t *g = arg;

    assert_true(g->n < MAX_GOT);
    assert_true(len > 0 && len <= SS_LOGLINE_MAX);
    memcpy(g->line[g->n], line, len);
    g->line[g->n][len] = '\0';
    g->len[g->n] = len;
    g->cut[g->n] = cut;
    g->first[g->n] = first_ns;
    g->n++;
}

static ss_logline_t ll;

static void reset(void)
{
    memset(&got, 0, sizeof(got));
    ss_logline_init(&ll);
}

static const char STREAM[] =
    "2026-12-01 10:00:00,001 INFO serving /checkout\n"
    "\n"
    "WARNING:root:slow backend\r\n"
    "a line without its end yet, then its end\n"
    "last\n";
static const char *const LINES[] = {"2026-12-01 10:00:00,001 INFO serving /checkout",
                                    "WARNING:root:slow backend",
                                    "a line without its end yet, then its end", "last"};

static void check_lines(void)
{
    int i;

    assert_int_equal(got.n, 4);
    for (i = 0; i < 4; i++) {
        assert_string_equal(got.line[i], LINES[i]);
        assert_int_equal(got.cut[i], 0);
    }
}

static void every_split_gives_the_same_lines(void **state)
{
    size_t n = sizeof(STREAM) - 1, a, b;

    (void)state;
    for (a = 0; a <= n; a++) {
        for (b = a; b <= n; b += 7) {
            reset();
            ss_logline_feed(&ll, STREAM, a, 1, take, &got);
            ss_logline_feed(&ll, STREAM + a, b - a, 2, take, &got);
            ss_logline_feed(&ll, STREAM + b, n - b, 3, take, &got);
            check_lines();
            assert_int_equal(ss_logline_waiting(&ll), 0);
        }
    }
    reset();
    for (a = 0; a < n; a++)
        ss_logline_feed(&ll, STREAM + a, 1, a + 1, take, &got);
    check_lines();
}

static void an_unfinished_line_waits_with_its_first_time(void **state)
{
    (void)state;
    reset();
    ss_logline_feed(&ll, "one\ntw", 6, 100, take, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.first[0], 100);
    assert_int_equal(ss_logline_waiting(&ll), 100);
    ss_logline_feed(&ll, "o and\r", 6, 200, take, &got);
    ss_logline_feed(&ll, "\nthree", 6, 300, take, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.line[1], "two and"); /* its \r, written apart, is not in it */
    assert_int_equal(got.first[1], 100);
    assert_int_equal(ss_logline_waiting(&ll), 300);
    ss_logline_flush(&ll, take, &got);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.line[2], "three");
    assert_int_equal(ss_logline_waiting(&ll), 0);
    ss_logline_flush(&ll, take, &got); /* nothing left */
    assert_int_equal(got.n, 3);
}

static void long_lines_are_cut_at_the_cap(void **state)
{
    static char big[3 * SS_LOGLINE_MAX];
    size_t split;

    (void)state;
    memset(big, 'x', sizeof(big));
    for (split = 0; split <= SS_LOGLINE_MAX + 2; split += (split < 4 || split > SS_LOGLINE_MAX - 3) ? 1 : 1021) {
        /* exactly the cap: whole */
        reset();
        big[SS_LOGLINE_MAX] = '\n';
        ss_logline_feed(&ll, big, split < SS_LOGLINE_MAX ? split : SS_LOGLINE_MAX, 1, take, &got);
        if (split < SS_LOGLINE_MAX)
            ss_logline_feed(&ll, big + split, SS_LOGLINE_MAX + 1 - split, 2, take, &got);
        else
            ss_logline_feed(&ll, big + SS_LOGLINE_MAX, 1, 2, take, &got);
        assert_int_equal(got.n, 1);
        assert_int_equal(got.len[0], SS_LOGLINE_MAX);
        assert_int_equal(got.cut[0], 0);
        big[SS_LOGLINE_MAX] = 'x';

        /* twice the cap and more, then a short line: one cut line, then it */
        reset();
        memcpy(big + 2 * SS_LOGLINE_MAX + 5, "\nok\n", 4);
        ss_logline_feed(&ll, big, split, 1, take, &got);
        ss_logline_feed(&ll, big + split, 2 * SS_LOGLINE_MAX + 9 - split, 2, take, &got);
        assert_int_equal(got.n, 2);
        assert_int_equal(got.len[0], SS_LOGLINE_MAX);
        assert_int_equal(got.cut[0], 1);
        assert_string_equal(got.line[1], "ok");
        assert_int_equal(got.cut[1], 0);
        memset(big + 2 * SS_LOGLINE_MAX + 5, 'x', 4);
    }
}

static void many_lines_in_one_write(void **state)
{
    char buf[64 * 4 + 1];
    int i;

    (void)state;
    reset();
    for (i = 0; i < 64; i++)
        memcpy(buf + 4 * i, i % 2 ? "odd\n" : "evn\n", 4);
    ss_logline_feed(&ll, buf, 256, 5, take, &got);
    assert_int_equal(got.n, 64);
    assert_string_equal(got.line[63], "odd");
}

typedef struct sev_case {
    const char *line;
    uint8_t number;
    const char *text;
} sev_case_t;

static void severities(void **state)
{
    static const sev_case_t cases[] = {
        /* syslog(3) and the journal's socket */
        {"<11>Dec  1 10:00:00 app[12]: boom", 17, "err"},
        {"<134>app: hello", 9, "info"},
        {"<0>x", 21, "emerg"},
        {"<192>too big", 0, NULL},
        {"<1a>x", 0, NULL},
        /* JSON */
        {"{\"time\":1,\"level\":\"warning\",\"msg\":\"x\"}", 13, "warning"},
        {"{\"msg\":\"level INFO is a lie\",\"ctx\":{\"level\":\"debug\"},\"severity\":\"ERROR\"}", 17,
         "ERROR"},
        {"{\"level\":50,\"msg\":\"pino\"}", 17, "50"},
        {"{\"levelname\": \"CRITICAL\"}", 18, "CRITICAL"},
        {"{\"level\":\"chatty\"}", 0, NULL},
        {"{\"a\":[1,{\"b\":\"}\"}],\"lvl\":\"fatal\"}", 21, "fatal"},
        {"{\"a\":", 0, NULL},
        /* logfmt */
        {"time=2026-12-01T10:00:00Z level=warn msg=\"slow\"", 13, "warn"},
        {"ts=1 lvl=\"error\" msg=x", 17, "error"},
        /* words, as Python's logging, nginx and apache2 write them */
        {"ERROR:root:boom", 17, "ERROR"},
        {"2026-12-01 10:00:00,123 INFO werkzeug: GET /", 9, "INFO"},
        {"2026/12/01 10:00:00 [error] 12#12: *1 open() failed", 17, "error"},
        {"[Tue Dec 01 10:00:00.123456 2026] [core:warn] [pid 7:tid 8] AH00098: x", 13, "warn"},
        {"[Tue Dec 01 10:00:00 2026] [mpm_event:notice] [pid 7] AH00489: resuming", 10, "notice"},
        {"error: could not open file", 17, "error"},
        {"Warning: deprecated", 13, "Warning"},
        /* words that only look like levels */
        {"information about the order", 0, NULL},
        {"an error happened", 0, NULL},
        {"GET /error 404", 0, NULL},
        {"", 0, NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ss_logsev_t s;

        ss_logsev_of(cases[i].line, strlen(cases[i].line), &s);
        if (s.number != cases[i].number)
            fail_msg("%s: %u, not %u", cases[i].line, s.number, cases[i].number);
        if (cases[i].text) {
            assert_int_equal(s.text_len, strlen(cases[i].text));
            assert_memory_equal(s.text, cases[i].text, s.text_len);
        } else {
            assert_null(s.text);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_split_gives_the_same_lines),
        cmocka_unit_test(an_unfinished_line_waits_with_its_first_time),
        cmocka_unit_test(long_lines_are_cut_at_the_cap),
        cmocka_unit_test(many_lines_in_one_write),
        cmocka_unit_test(severities),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
