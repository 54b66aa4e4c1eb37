/*
 * test_term.c - col_term_text: what a sender wrote is shown, never obeyed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_term.h"

static void expect(const char *in, size_t max_cols, const char *want, size_t want_cols)
{
    char out[512];
    size_t cols = col_term_text(out, sizeof(out), in, max_cols);

    assert_string_equal(out, want);
    assert_int_equal(cols, want_cols);
}

static void test_plain_text_unchanged(void **state)
{
    (void)state;
    expect("GET /inventory", 64, "GET /inventory", 14);
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 64, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 8);
    expect("", 64, "", 0);
    expect(NULL, 64, "", 0);
}

static void test_controls_escaped(void **state)
{
    (void)state;
    expect("\x1b]0;pwned\x07", 64, "\\x1b]0;pwned\\x07", 16);
    expect("\x1b[2J", 64, "\\x1b[2J", 7);
    expect("a\rb\nfake trace line\tc", 64, "a\\rb\\nfake trace line\\tc", 24);
    expect("\x01\x1f\x7f", 64, "\\x01\\x1f\\x7f", 12);
    expect("back\\slash", 64, "back\\\\slash", 11);
}

static void test_c1_bidi_and_invalid_escaped(void **state)
{
    (void)state;
    expect("\xc2\x9b" "31m", 64, "\\u009b31m", 9);      /* CSI as UTF-8 */
    expect("\x9b" "31m", 64, "\\x9b31m", 7);            /* CSI as a raw byte */
    expect("abc\xe2\x80\xae" "fed", 64, "abc\\u202efed", 12); /* RLO */
    expect("\xe2\x80\xaa\xe2\x80\xac\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 64,
           "\\u202a\\u202c\\u2066\\u2069\\u200e\\u200f\\u061c", 42);
    expect("\xe2\x80\xa8", 64, "\\u2028", 6);
    expect("cut \xc3", 64, "cut \\xc3", 8);
    expect("\xc0\xaf", 64, "\\xc0\\xaf", 8);              /* overlong */
    expect("\xed\xa0\x80", 64, "\\xed\\xa0\\x80", 12);     /* a surrogate */
}

static void test_cut_whole(void **state)
{
    char small[5];

    (void)state;

    expect("abcdef", 4, "abcd", 4);
    expect("ab\x1b" "cd", 4, "ab", 2);                     /* \x1b would not fit */
    expect("\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xc3\xa9", 2);
    /* The byte cap: a 4-byte sequence that does not fit is left out. */
    assert_int_equal(col_term_text(small, sizeof(small), "a\xf0\x9f\x98\x80" "b", 64), 1);
    assert_string_equal(small, "a");
    assert_int_equal(col_term_text(small, sizeof(small), "\x1b\x1b", 64), 4);
    assert_string_equal(small, "\\x1b");
    assert_int_equal(col_term_text(small, 0, "x", 64), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_unchanged),
        cmocka_unit_test(test_controls_escaped),
        cmocka_unit_test(test_c1_bidi_and_invalid_escaped),
        cmocka_unit_test(test_cut_whole),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
