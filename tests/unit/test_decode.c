/*
 * test_decode.c - the collector's bounded decoding: nesting up to
 * COL_WIRE_DEPTH_MAX decodes and one more level does not; what cannot be
 * walked is refused; fields that are not messages are not descended; an
 * arena refuses what would take more than COL_ARENA_MAX; a small message
 * takes a small arena, and one arena reused settles on one block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/collector/col_wire.h"
#include "../pb_varint.h"

#define ANY (&opentelemetry__proto__common__v1__any_value__descriptor)
#define ARRAY (&opentelemetry__proto__common__v1__array_value__descriptor)
#define BUF_MAX (256 * 1024)

typedef struct {
    uint8_t b[BUF_MAX];
    size_t pos; /* the message is b[pos..]: built from the inside out */
} msg_t;

static void put(msg_t *m, const void *p, size_t n)
{
    assert_true(m->pos >= n);
    m->pos -= n;
    memmove(m->b + m->pos, p, n);
}

static void put_varint(msg_t *m, uint64_t v)
{
    uint8_t b[10];

    put(m, b, pb_varint(b, v));
}

/* The message so far becomes field `field` (length-delimited) of a new one. */
static void wrap(msg_t *m, unsigned field)
{
    put_varint(m, BUF_MAX - m->pos);
    put_varint(m, (uint64_t)field << 3 | 2);
}

/* An AnyValue "x" inside `levels` messages more: arrays and values in turn. */
static msg_t *nested(unsigned levels, const ProtobufCMessageDescriptor **root)
{
    msg_t *m = malloc(sizeof(*m));
    unsigned i;

    m->pos = BUF_MAX;
    put(m, "\x0a\x01x", 3);
    for (i = 0; i < levels; i++)
        wrap(m, i % 2 ? 5 : 1); /* values of an ArrayValue; array_value of an AnyValue */
    *root = levels % 2 ? ARRAY : ANY;
    return m;
}

static void test_depth_limit_exact(void **state)
{
    const ProtobufCMessageDescriptor *root;
    col_arena_t *a = col_arena_new();
    col_decode_err_t why;
    msg_t *m;

    (void)state;
    m = nested(COL_WIRE_DEPTH_MAX - 1, &root); /* 64 messages */
    assert_int_equal(col_wire_check(root, m->b + m->pos, BUF_MAX - m->pos), COL_WIRE_OK);
    assert_non_null(col_decode(root, a, m->b + m->pos, BUF_MAX - m->pos, &why));
    assert_int_equal(why, COL_DECODE_OK);
    col_arena_reset(a);
    free(m);
    m = nested(COL_WIRE_DEPTH_MAX, &root); /* 65 */
    assert_int_equal(col_wire_check(root, m->b + m->pos, BUF_MAX - m->pos), COL_WIRE_TOO_DEEP);
    assert_null(col_decode(root, a, m->b + m->pos, BUF_MAX - m->pos, &why));
    assert_int_equal(why, COL_DECODE_TOO_DEEP);
    free(m);
    m = nested(10000, &root); /* the stack overflow, refused in constant stack */
    assert_int_equal(col_wire_check(root, m->b + m->pos, BUF_MAX - m->pos), COL_WIRE_TOO_DEEP);
    free(m);
    col_arena_free(a);
}

static void test_malformed_refused(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\x2a\x05\x0a\x01", 4},     /* array_value longer than the message */
        {"\x2a\x02\x0a\x05", 4},     /* a value longer than its array */
        {"\x0b\x0c", 2},             /* a group */
        {"\x0e", 1},                 /* wire type 6 */
        {"\x02\x00", 2},             /* field 0 */
        {"\x18\xff", 2},             /* a varint cut short */
        {"\x21\x00\x00", 3},         /* 64 bits cut short */
        {"\x2a\x80\x80\x80\x80\x80\x01", 7}, /* a length of more than 5 bytes */
        {"\xf8\xff\xff\xff\xff\x01", 6},     /* a tag of more than 5 bytes */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(col_wire_check(ANY, (const uint8_t *)bad[i].bytes, bad[i].len),
                         COL_WIRE_MALFORMED);
}

static void test_only_messages_descended(void **state)
{
    /* bytes_value (7), string_value (1) and an unknown field 99 hold what
     * would be a 100-deep message: not messages, so not walked into. */
    static const unsigned fields[] = {7, 1, 99};
    const ProtobufCMessageDescriptor *root;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        msg_t *m = nested(100, &root);

        wrap(m, fields[i]);
        assert_int_equal(col_wire_check(ANY, m->b + m->pos, BUF_MAX - m->pos), COL_WIRE_OK);
        free(m);
    }
}

static void test_arena_bounded(void **state)
{
    /* 60,000 resources of one attribute each in one ResourceSpans: merged,
     * 14 GB of copies; refused past COL_ARENA_MAX. */
    static uint8_t rs[60000 * 4 + 8];
    col_arena_t *a = col_arena_new();
    col_decode_err_t why;
    size_t i, n = 0;

    (void)state;
    for (i = 0; i < 60000; i++) {
        memcpy(rs + n, "\x0a\x02\x0a\x00", 4);
        n += 4;
    }
    assert_null(col_decode(&opentelemetry__proto__trace__v1__resource_spans__descriptor, a, rs, n,
                           &why));
    assert_int_equal(why, COL_DECODE_TOO_BIG);
    col_arena_free(a);
    /* a small message takes a small arena (tail sampling holds many) */
    a = col_arena_new();
    assert_non_null(col_decode(ANY, a, (const uint8_t *)"\x0a\x01x", 3, &why));
    assert_true(col_arena_bytes(a) <= 16 * 1024);
    col_arena_free(a);
    /* one arena for message after message settles on one block */
    a = col_arena_new();
    for (i = 0; i < 3; i++) {
        size_t before = col_arena_bytes(a);

        assert_non_null(col_decode(&opentelemetry__proto__trace__v1__resource_spans__descriptor,
                                   a, rs, 4000, &why));
        col_arena_reset(a);
        if (i > 0)
            assert_int_equal(col_arena_bytes(a), before);
    }
    col_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_limit_exact),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_only_messages_descended),
        cmocka_unit_test(test_arena_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
