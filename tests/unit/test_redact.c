/*
 * test_redact.c - query secrets replaced by REDACTED: which keys, how a
 * query is split and decoded, the lists SPANSHIM_REDACT_QUERY_KEYS makes,
 * and the bound on how much a query can grow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/ex_redact.h"

static char pool[EX_REDACT_POOL_MAX];

/* q redacted with k: the result, or q itself if nothing was redacted. */
static const char *redact_with(const ex_redact_keys_t *k, const char *q, size_t n)
{
    static char out[8192];
    size_t len = 12345;

    if (!ex_redact_query(k, q, n, out, sizeof(out), &len)) {
        assert_int_equal(len, 12345); /* nothing written */
        return q;
    }
    assert_true(len <= EX_REDACT_ROOM(n));
    out[len] = '\0';
    return out;
}

static const char *redact(const char *q)
{
    return redact_with(ex_redact_keys, q, strlen(q));
}

/* q comes back as it was: 0 returned, nothing written. */
static void kept(const char *q)
{
    assert_ptr_equal(redact(q), q);
}

static void test_values_replaced_the_rest_exact(void **state)
{
    (void)state;
    assert_string_equal(redact("a=1&token=abc&b=2"), "a=1&token=REDACTED&b=2");
    assert_string_equal(redact("token=abc"), "token=REDACTED");
    assert_string_equal(redact("a=1&password=p%40ss%26w0rd"), "a=1&password=REDACTED");
    assert_string_equal(redact("z=9&token=a&y=8&token=b&x=7"),
                        "z=9&token=REDACTED&y=8&token=REDACTED&x=7");
    assert_string_equal(redact("token=a=b=c&c=d"), "token=REDACTED&c=d");
    assert_string_equal(redact("&&token=x&&"), "&&token=REDACTED&&");
    assert_string_equal(redact("q=a+b&api_key=k&page=2&sort=-date"),
                        "q=a+b&api_key=REDACTED&page=2&sort=-date");
    /* a value runs to the next '&': a fragment or stray '#' goes with it */
    assert_string_equal(redact("token=abc#frag"), "token=REDACTED");
    kept("id=7&x=y");
    kept("");
    kept("token");
}

static void test_opentelemetry_keys(void **state)
{
    (void)state;
    assert_string_equal(redact("AWSAccessKeyId=AKIA&Expires=1&Signature=s%2Bg%3D"),
                        "AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED");
    assert_string_equal(redact("sv=2022&se=2024&sr=b&sp=r&sig=abc%3D"),
                        "sv=2022&se=2024&sr=b&sp=r&sig=REDACTED");
    assert_string_equal(redact("X-Goog-Algorithm=GOOG4&X-Goog-Signature=ff00"),
                        "X-Goog-Algorithm=GOOG4&X-Goog-Signature=REDACTED");
    assert_string_equal(redact("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2024"
                               "&X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=IQo&"
                               "X-Amz-SignedHeaders=host&X-Amz-Signature=abcdef"),
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED"
                        "&X-Amz-Date=20240101T000000Z&X-Amz-Security-Token=REDACTED&"
                        "X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED");
    /* the parameters around a signature are not secrets */
    kept("X-Amz-Date=1&X-Amz-Expires=60&X-Goog-Date=2&Expires=3&se=4&sv=5");
}

static void test_credential_keys(void **state)
{
    static const char *const keys[] = {
        "access_token", "accessToken", "refresh_token", "refreshToken", "id_token",
        "auth_token", "token", "jwt", "auth", "authorization", "client_secret", "secret",
        "password", "passwd", "pwd", "api_key", "apikey", "api-key", "x-api-key", "key",
        "session_id", "sessionid", "phpsessid", "jsessionid"};
    char q[128], want[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(q, sizeof(q), "a=b&%s=s3cr3t&c=d", keys[i]);
        snprintf(want, sizeof(want), "a=b&%s=REDACTED&c=d", keys[i]);
        assert_string_equal(redact(q), want);
    }
    /* whole keys only, not names that contain one */
    kept("monkey=1&keyword=2&tokens=3&mytoken=4&token_type=bearer&passage=5&keys=6");
    /* OAuth's one-time code and state are left: short-lived, and common names */
    kept("code=abc&state=xyz");
}

static void test_case_ignored(void **state)
{
    (void)state;
    assert_string_equal(redact("Token=a&API_KEY=b&PassWord=c&x-amz-signature=d&SIG=e"),
                        "Token=REDACTED&API_KEY=REDACTED&PassWord=REDACTED"
                        "&x-amz-signature=REDACTED&SIG=REDACTED");
}

static void test_percent_encoded_keys(void **state)
{
    (void)state;
    assert_string_equal(redact("%74oken=x&a=1"), "%74oken=REDACTED&a=1");
    assert_string_equal(redact("api%5Fkey=x"), "api%5Fkey=REDACTED");
    assert_string_equal(redact("api%5fkey=x"), "api%5fkey=REDACTED");
    assert_string_equal(redact("%54%4F%4B%45%4E=x"), "%54%4F%4B%45%4E=REDACTED");
    /* longer than any key as sent, a key once decoded */
    assert_string_equal(redact("%61%75%74%68%6f%72%69%7a%61%74%69%6f%6e=x"),
                        "%61%75%74%68%6f%72%69%7a%61%74%69%6f%6e=REDACTED");
    /* not an escape: the '%' stays, and so does the parameter */
    kept("%zztoken=x&to%ken=y&token%=z&token%4=w&%=v");
    /* decoded once, as a server does */
    kept("%2574oken=x");
}

static void test_empty_values_and_keys(void **state)
{
    (void)state;
    kept("token=&a=1");
    kept("a=1&token=");
    kept("token&a=1");
    kept("=secret&a=1");
    kept("=");
    kept("&");
    kept("token=&token");
    assert_string_equal(redact("token=&token=x"), "token=&token=REDACTED");
}

static void test_semicolon(void **state)
{
    (void)state;
    /* a key after ';' is found (servers that split there see it)... */
    assert_string_equal(redact("a=1;token=abc&b=2"), "a=1;token=REDACTED&b=2");
    assert_string_equal(redact("a=1;token=abc"), "a=1;token=REDACTED");
    /* ...and a value with a ';' is hidden whole (servers that do not) */
    assert_string_equal(redact("token=abc;def&b=2"), "token=REDACTED&b=2");
    assert_string_equal(redact("token=abc;def=1"), "token=REDACTED");
    kept("a=1;b=2;c");
}

static void test_bytes_of_any_value(void **state)
{
    static const char q[] = "a\0b=1&token=\xff\x01\r\n&\x80=2";
    static const char want[] = "a\0b=1&token=REDACTED&\x80=2";
    char out[64];
    size_t len;

    (void)state;
    assert_true(ex_redact_query(ex_redact_keys, q, sizeof(q) - 1, out, sizeof(out), &len));
    assert_int_equal(len, sizeof(want) - 1);
    assert_memory_equal(out, want, len);
    /* a NUL ends nothing: the query is length-counted */
    assert_true(ex_redact_query(ex_redact_keys, "token=a\0b", 9, out, sizeof(out), &len));
    assert_int_equal(len, 14);
    assert_memory_equal(out, "token=REDACTED", 14);
}

/* The most a query grows: every parameter a one-byte key with a one-byte
 * value, all redacted; EX_REDACT_ROOM is exact for it. */
static void test_growth_bound(void **state)
{
    ex_redact_keys_t k;
    char q[512], out[EX_REDACT_ROOM(512)];
    size_t n, len, i;

    (void)state;
    assert_int_equal(ex_redact_parse(&k, "t", pool, sizeof(pool)), 0);
    for (n = 1; n <= sizeof(q); n++) {
        for (i = 0; i < n; i++)
            q[i] = "t=1&"[i % 4];
        if (!ex_redact_query(&k, q, n, out, sizeof(out), &len)) {
            assert_true(n < 3);
            continue;
        }
        assert_true(len <= EX_REDACT_ROOM(n));
        if (n % 4 == 3) /* whole parameters: the bound is met exactly */
            assert_int_equal(len, EX_REDACT_ROOM(n));
    }
}

/* Cut short by the room given, the result is a prefix of the whole one,
 * and what is cut never shows a secret's byte. */
static void test_cut_at_capacity(void **state)
{
    static const char q[] = "a=1&token=SECRET&b=2&pwd=HIDDEN";
    static const char whole[] = "a=1&token=REDACTED&b=2&pwd=REDACTED";
    char out[64];
    size_t cap, len;

    (void)state;
    for (cap = 0; cap <= sizeof(whole) - 1; cap++) {
        memset(out, '#', sizeof(out));
        assert_true(ex_redact_query(ex_redact_keys, q, sizeof(q) - 1, out, cap, &len));
        assert_int_equal(len, cap);
        assert_memory_equal(out, whole, len);
        assert_int_equal(out[cap], '#');
    }
}

static void test_parse_lists(void **state)
{
    ex_redact_keys_t k;

    (void)state;
    /* unset, empty, or nothing but separators: the defaults */
    assert_int_equal(ex_redact_parse(&k, NULL, pool, sizeof(pool)), 0);
    assert_int_equal(k.n, ex_redact_keys->n);
    assert_int_equal(ex_redact_parse(&k, "", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, ex_redact_keys->n);
    assert_int_equal(ex_redact_parse(&k, " , ,\t,", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, ex_redact_keys->n);

    /* a list replaces the defaults, OpenTelemetry's keys included */
    assert_int_equal(ex_redact_parse(&k, " session , Code ", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(redact_with(&k, "session=1&code=2&token=3&sig=4", 30),
                        "session=REDACTED&code=REDACTED&token=3&sig=4");

    /* `default` stands for the default list */
    assert_int_equal(ex_redact_parse(&k, "default,session", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, ex_redact_keys->n + 1);
    assert_string_equal(redact_with(&k, "session=1&token=3&sig=4", 23),
                        "session=REDACTED&token=REDACTED&sig=REDACTED");

    /* `none`: nothing is redacted */
    assert_int_equal(ex_redact_parse(&k, "none", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, 0);
    assert_string_equal(redact_with(&k, "token=3&sig=4", 13), "token=3&sig=4");

    /* the same key twice is kept once */
    assert_int_equal(ex_redact_parse(&k, "token,TOKEN, token,default", pool, sizeof(pool)), 0);
    assert_int_equal(k.n, ex_redact_keys->n);

    /* a key with a space matches a '+' or %20 in the query */
    assert_int_equal(ex_redact_parse(&k, "api key", pool, sizeof(pool)), 0);
    assert_string_equal(redact_with(&k, "api+key=1&api%20key=2", 21),
                        "api+key=REDACTED&api%20key=REDACTED");
}

static void test_parse_limits(void **state)
{
    ex_redact_keys_t k;
    char spec[EX_REDACT_POOL_MAX * 2], key[EX_REDACT_KEY_MAX + 2], q[160];
    size_t i, o = 0;

    (void)state;
    /* EX_REDACT_KEYS_MAX keys fit, one more does not */
    for (i = 0; i < EX_REDACT_KEYS_MAX; i++)
        o += (size_t)sprintf(spec + o, "k%zu,", i);
    assert_int_equal(ex_redact_parse(&k, spec, pool, sizeof(pool)), 0);
    assert_int_equal(k.n, EX_REDACT_KEYS_MAX);
    strcpy(spec + o, "one_more");
    assert_int_equal(ex_redact_parse(&k, spec, pool, sizeof(pool)), -1);
    assert_int_equal(k.n, ex_redact_keys->n); /* the defaults */

    /* a key of EX_REDACT_KEY_MAX bytes fits and matches, one longer does not */
    memset(key, 'k', EX_REDACT_KEY_MAX);
    key[EX_REDACT_KEY_MAX] = '\0';
    assert_int_equal(ex_redact_parse(&k, key, pool, sizeof(pool)), 0);
    snprintf(q, sizeof(q), "%s=v", key);
    assert_string_equal(redact_with(&k, q, strlen(q)) + EX_REDACT_KEY_MAX, "=REDACTED");
    snprintf(q, sizeof(q), "%sk=v", key);
    assert_ptr_equal(redact_with(&k, q, strlen(q)), q);
    strcat(key, "k");
    assert_int_equal(ex_redact_parse(&k, key, pool, sizeof(pool)), -1);
    assert_int_equal(k.n, ex_redact_keys->n);

    /* the longest list: every key as long as a key can be */
    for (o = 0, i = 0; i < EX_REDACT_KEYS_MAX; i++)
        o += (size_t)sprintf(spec + o, "%0*zu,", EX_REDACT_KEY_MAX, i);
    assert_int_equal(ex_redact_parse(&k, spec, pool, sizeof(pool)), 0);
    assert_int_equal(k.n, EX_REDACT_KEYS_MAX);

    /* keys that do not fit the pool */
    assert_int_equal(ex_redact_parse(&k, "abcdef,ghijkl", pool, 8), -1);
}

static void test_configure(void **state)
{
    const ex_redact_keys_t *before = ex_redact_keys;

    (void)state;
    assert_int_equal(ex_redact_configure("session"), 0);
    assert_string_equal(redact("session=1&token=2"), "session=REDACTED&token=2");
    assert_int_equal(ex_redact_configure("x,,,,"), 0);
    assert_int_equal(ex_redact_keys->n, 1);
    assert_int_equal(ex_redact_configure(NULL), 0);
    assert_int_equal(ex_redact_keys->n, before->n);
    assert_string_equal(redact("session=1&token=2"), "session=1&token=REDACTED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_replaced_the_rest_exact),
        cmocka_unit_test(test_opentelemetry_keys),
        cmocka_unit_test(test_credential_keys),
        cmocka_unit_test(test_case_ignored),
        cmocka_unit_test(test_percent_encoded_keys),
        cmocka_unit_test(test_empty_values_and_keys),
        cmocka_unit_test(test_semicolon),
        cmocka_unit_test(test_bytes_of_any_value),
        cmocka_unit_test(test_growth_bound),
        cmocka_unit_test(test_cut_at_capacity),
        cmocka_unit_test(test_parse_lists),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_configure),
    };

    return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
