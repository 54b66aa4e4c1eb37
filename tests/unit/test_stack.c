/*
 * test_stack.c - code.stacktrace's lines and bounds (preload/ss_stack.c):
 * one line's two forms and its escaping, whole lines only within the size,
 * the depth, the calling module's own frames left out (here the test
 * program stands for libspanshim.so: the code is linked into it), and the
 * choice of when a span's stack is taken and kept.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../preload/ss_log.h"
#include "../../preload/ss_span.h"
#include "../../preload/ss_stack.h"

static void test_line_forms(void **state)
{
    char out[128];

    (void)state;
    assert_int_equal(ss_stack_line(out, sizeof(out), "probe_http_get", 0x4f, "stackprobe", 0x1234),
                     strlen("probe_http_get+0x4f (stackprobe)"));
    assert_string_equal(out, "probe_http_get+0x4f (stackprobe)");
    /* No symbol: the module and the offset from its load address. */
    ss_stack_line(out, sizeof(out), NULL, 0, "stackprobe_stripped", 0x11a9);
    assert_string_equal(out, "stackprobe_stripped+0x11a9");
    ss_stack_line(out, sizeof(out), "", 0, NULL, 0x10);
    assert_string_equal(out, "?+0x10");
    /* Names are the modules' bytes: nothing in them breaks a line. */
    ss_stack_line(out, sizeof(out), "f\nx y\x7f", 1, "lib\tz.so", 0);
    assert_string_equal(out, "f?x?y?+0x1 (lib?z.so)");
}

static void test_line_fits_or_nothing(void **state)
{
    char out[64];
    const char *want = "probe_http_get+0x4f (stackprobe)";
    size_t n = strlen(want), cap;

    (void)state;
    for (cap = 0; cap <= n + 1; cap++) {
        memset(out, 'X', sizeof(out));
        if (cap <= n) {
            assert_int_equal(ss_stack_line(out, cap, "probe_http_get", 0x4f, "stackprobe", 0), 0);
            if (cap)
                assert_int_equal(out[0], '\0');
            assert_int_equal(out[cap], 'X'); /* nothing past cap */
        } else {
            assert_int_equal(ss_stack_line(out, cap, "probe_http_get", 0x4f, "stackprobe", 0), n);
            assert_string_equal(out, want);
        }
    }
    for (cap = 0; cap <= 12; cap++) {
        size_t k = ss_stack_line(out, cap, NULL, 0, "mod", 0xabc);

        assert_true(k == 0 || (k == 9 && cap >= 10));
    }
}

__attribute__((noinline)) static int capture_here(void **ips, int max)
{
    int n = ss_stack_capture(ips, max);

    __asm__ volatile("" ::: "memory");
    return n;
}

static void test_capture_and_text(void **state)
{
    void *ips[SS_STACK_DEPTH];
    char text[SS_STACK_TEXT_MAX], small[80];
    size_t len, k;
    int n, lines = 1;

    (void)state;
    n = capture_here(ips, SS_STACK_DEPTH);
    /* The test program is "the shim" here: what is left is libc's start. */
    assert_true(n >= 1);
    assert_true(n <= SS_STACK_DEPTH);
    len = ss_stack_text(ips, n, text, sizeof(text));
    assert_true(len > 0 && len < sizeof(text));
    assert_int_equal(strlen(text), len);
    assert_null(strstr(text, "test_stack"));
    assert_null(strstr(text, "capture_here"));
    assert_non_null(strstr(text, "(libc.so.6)"));
    for (k = 0; k < len; k++)
        lines += text[k] == '\n';
    assert_int_equal(lines, n);
    /* Whole lines only: a buffer too small for the first gets nothing. */
    assert_int_equal(ss_stack_text(ips, n, small, 8), 0);
    assert_string_equal(small, "");
    /* ... and one with room for some gets those, no part of the next. */
    k = ss_stack_text(ips, n, small, sizeof(small));
    assert_true(k < sizeof(small));
    assert_int_equal(strncmp(small, text, k), 0);
    assert_true(text[k] == '\n' || text[k] == '\0');
    /* The depth asked for is the most returned. */
    assert_true(capture_here(ips, 1) <= 1);
}

/* The bound in bytes holds for the deepest stack of the longest lines. */
static void test_text_bound(void **state)
{
    static void *ips[SS_STACK_DEPTH];
    static char text[SS_STACK_TEXT_MAX];
    int i;

    (void)state;
    for (i = 0; i < SS_STACK_DEPTH; i++)
        ips[i] = (void *)(uintptr_t)(0x1000 + i); /* in no module */
    assert_true(ss_stack_text(ips, SS_STACK_DEPTH, text, sizeof(text)) < sizeof(text));
    assert_non_null(strstr(text, "?+0x1001"));
}

static void test_configure(void **state)
{
    (void)state;
    assert_int_equal(ss_stack_configure(NULL, NULL), 0);
    assert_int_equal(ss_stack_mode, SS_STACKS_SLOW);
    assert_true(ss_stack_min_ns == SS_STACK_MIN_MS_DEFAULT * 1000000ull);
    assert_int_equal(ss_stack_configure("ALL", "250"), 0);
    assert_int_equal(ss_stack_mode, SS_STACKS_ALL);
    assert_true(ss_stack_min_ns == 250000000ull);
    assert_int_equal(ss_stack_configure("sometimes", "-3"), -1);
    assert_int_equal(ss_stack_mode, SS_STACKS_ALL); /* kept */
    assert_true(ss_stack_min_ns == 250000000ull);
    assert_int_equal(ss_stack_configure("off", "x"), -1);
    assert_int_equal(ss_stack_mode, SS_STACKS_OFF);
    assert_int_equal(ss_stack_configure("slow", "100"), 0);
}

/* When: slow mode takes a stack only past the threshold or on a failure,
 * keeps its text only for a span that ended slow or failed. */
static void test_when(void **state)
{
    static ss_span_t s;

    (void)state;
    assert_int_equal(ss_stack_configure("slow", "100"), 0);
    memset(&s, 0, sizeof(s));
    s.kind = SS_KIND_CLIENT;
    s.start_ns = ss_now_ns();
    ss_stack_at_wait(&s, 0, 0);
    assert_int_equal(s.stack_n, 0); /* fast so far */
    /* The caller's clock read is the one looked at (a receive's, ss_recv_ns). */
    ss_stack_at_wait(&s, 0, s.start_ns + 1000);
    assert_int_equal(s.stack_n, 0);
    ss_stack_at_wait(&s, 0, s.start_ns + 200000000ull);
    assert_true(s.stack_n > 0 && s.stack_n != SS_STACK_NONE);
    s.stack_n = 0;
    s.start_ns -= 200000000ull;
    ss_stack_at_wait(&s, 0, 0);
    assert_true(s.stack_n > 0 && s.stack_n != SS_STACK_NONE);
    s.end_ns = s.start_ns + 200000000ull;
    ss_stack_attach(&s);
    assert_non_null(s.stacktrace);
    assert_non_null(strstr(s.stacktrace, "libc.so.6"));
    ss_stack_release(&s);
    assert_null(s.stacktrace);
    /* Captured, but the span ended fast and did not fail: no text. */
    s.end_ns = s.start_ns + 1000;
    ss_stack_attach(&s);
    assert_null(s.stacktrace);
    /* A failure is taken at once, and kept. */
    memset(&s, 0, sizeof(s));
    s.kind = SS_KIND_CLIENT;
    s.start_ns = ss_now_ns();
    ss_stack_at_wait(&s, 1, 0);
    assert_true(s.stack_n > 0);
    strcpy(s.error_type, "ECONNRESET");
    s.end_ns = s.start_ns + 1;
    ss_stack_attach(&s);
    assert_non_null(s.stacktrace);
    ss_stack_release(&s);
    /* A server span never. */
    memset(&s, 0, sizeof(s));
    s.kind = SS_KIND_SERVER;
    s.start_ns = 1;
    ss_stack_at_wait(&s, 1, 0);
    assert_int_equal(s.stack_n, 0);
    /* off: nothing; all: every client span. */
    assert_int_equal(ss_stack_configure("off", NULL), 0);
    s.kind = SS_KIND_CLIENT;
    ss_stack_at_wait(&s, 1, 0);
    assert_int_equal(s.stack_n, 0);
    assert_int_equal(ss_stack_configure("all", NULL), 0);
    s.start_ns = ss_now_ns();
    ss_stack_at_wait(&s, 0, 0);
    assert_true(s.stack_n > 0);
    s.end_ns = s.start_ns + 1;
    ss_stack_attach(&s);
    assert_non_null(s.stacktrace);
    ss_stack_release(&s);
    assert_int_equal(ss_stack_configure("slow", NULL), 0);
}

/* A program failing in a loop: only a burst's worth get a stack, the
 * rest are counted; the spans themselves are not held back. */
static void test_rate(void **state)
{
    static ss_span_t s;
    uint64_t skipped = ss_count.stacks_skipped;
    int i, got = 0;

    (void)state;
    assert_int_equal(ss_stack_configure("slow", NULL), 0);
    for (i = 0; i < 10 * SS_STACK_BURST; i++) {
        memset(&s, 0, sizeof(s));
        s.kind = SS_KIND_CLIENT;
        s.start_ns = ss_now_ns();
        strcpy(s.error_type, "ECONNREFUSED");
        s.end_ns = s.start_ns + 1;
        ss_stack_at_end(&s);
        ss_stack_attach(&s);
        if (s.stacktrace)
            got++;
        ss_stack_release(&s);
    }
    assert_true(got >= 1);
    assert_true(got < 10 * SS_STACK_BURST);
    assert_true(ss_count.stacks_skipped > skipped);
    /* all: every one, no limit. */
    assert_int_equal(ss_stack_configure("all", NULL), 0);
    for (i = 0, got = 0; i < 2 * SS_STACK_BURST; i++) {
        memset(&s, 0, sizeof(s));
        s.kind = SS_KIND_CLIENT;
        s.start_ns = ss_now_ns();
        s.end_ns = s.start_ns + 1;
        ss_stack_at_end(&s);
        ss_stack_attach(&s);
        got += s.stacktrace != NULL;
        ss_stack_release(&s);
    }
    assert_int_equal(got, 2 * SS_STACK_BURST);
    assert_int_equal(ss_stack_configure("slow", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_forms),
        cmocka_unit_test(test_line_fits_or_nothing),
        cmocka_unit_test(test_capture_and_text),
        cmocka_unit_test(test_text_bound),
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_rate),
    };

    return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
