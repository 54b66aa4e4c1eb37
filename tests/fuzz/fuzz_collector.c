/*
 * fuzz_collector.c - libFuzzer target for the collector's decode path.
 *
 * Input: a mode byte, then one of
 *  0: a datagram, as a traced program (or anyone who can open the socket)
 *     might send it. Whatever decodes then goes through every sink as the
 *     collector runs them: span metrics and the service graph, tail
 *     sampling (its kept spans re-encoded as JSON), the OTLP JSON line,
 *     the --print tree, the viewer's store (caps small enough to be
 *     reached) with its JSON, and the Prometheus text;
 *  1: a type byte and a message of any type of the schema (an AnyValue, a
 *     Span, the forwarder's ExportTraceServiceResponse...), decoded and
 *     packed again;
 *  2: bytes that drive a generator of nested messages (below), whose
 *     output is taken as in mode 0 if it is a request, else as in mode 1.
 * Whatever the input, the JSON written straight from the wire
 * (col_json_wire), when it takes a request, is byte for byte what decoding
 * it and writing its JSON gives, with the same span count; it never
 * takes what does not decode; and the same walk writing nothing
 * (col_json_wire_check) takes what it takes and finds what it finds.
 * Random bytes seldom nest: the generator reaches 10,000 levels (the
 * depth that overflowed protobuf-c's stack) and repeats fields, singular
 * ones too (protobuf-c merges those), from a few bytes. Nothing in the
 * input is trusted: lengths, counts, strings, ids of any size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/collector/col_json.h"
#include "../../exporter/collector/col_metrics.h"
#include "../../exporter/collector/col_print.h"
#include "../../exporter/collector/col_shimloss.h"
#include "../../exporter/collector/col_tail.h"
#include "../../exporter/collector/col_vstore.h"
#include "../pb_varint.h"

#define GEN_MAX (256 * 1024) /* the collector's datagram cap */
#define GEN_DEPTH_MAX 12000

static const ProtobufCMessageDescriptor *const types[] = {
    &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
    &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor,
    &opentelemetry__proto__collector__trace__v1__export_trace_partial_success__descriptor,
    &opentelemetry__proto__trace__v1__resource_spans__descriptor,
    &opentelemetry__proto__trace__v1__scope_spans__descriptor,
    &opentelemetry__proto__trace__v1__span__descriptor,
    &opentelemetry__proto__trace__v1__span__event__descriptor,
    &opentelemetry__proto__trace__v1__span__link__descriptor,
    &opentelemetry__proto__trace__v1__status__descriptor,
    &opentelemetry__proto__resource__v1__resource__descriptor,
    &opentelemetry__proto__common__v1__instrumentation_scope__descriptor,
    &opentelemetry__proto__common__v1__key_value__descriptor,
    &opentelemetry__proto__common__v1__any_value__descriptor,
    &opentelemetry__proto__common__v1__array_value__descriptor,
    &opentelemetry__proto__common__v1__key_value_list__descriptor,
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static col_buf_t out;
static FILE *devnull;

static void emit(const col_request_t *r, size_t spans)
{
    (void)spans;
    col_buf_reset(&out);
    col_json_request(&out, r);
}

/* ---- the generator ---------------------------------------------------------- */

/* The way down: at each level, the message field entered and how many
 * times the level holds it; descs[k] is the type at level k. */
static struct {
    const ProtobufCFieldDescriptor *field[GEN_DEPTH_MAX];
    unsigned copies[GEN_DEPTH_MAX];
    const ProtobufCMessageDescriptor *descs[GEN_DEPTH_MAX + 1];
    size_t depth;
} way;

/* Op bytes: below 0xef, enter message field (op & 31) of this type, held
 * 1 + (op >> 5 & 3) times; 0xef, the rest is this level's own bytes;
 * 0xf0..0xff, go round again (op - 0xef) * 64 times the way since this
 * type was last met (AnyValue, array, AnyValue...). */
static size_t gen_way(const uint8_t *in, size_t n)
{
    size_t i = 0;

    while (i < n && way.depth < GEN_DEPTH_MAX) {
        const ProtobufCMessageDescriptor *d = way.descs[way.depth];
        uint8_t op = in[i++];

        if (op == 0xef)
            break;
        if (op > 0xef) {
            size_t k = way.depth, len, r;

            while (k > 0 && way.descs[--k] != d)
                ;
            if (way.descs[k] != d || k == way.depth)
                continue;
            len = way.depth - k;
            for (r = 0; r < (size_t)(op - 0xef) * 64 && way.depth + len <= GEN_DEPTH_MAX; r++) {
                memcpy(way.field + way.depth, way.field + k, len * sizeof(way.field[0]));
                memcpy(way.copies + way.depth, way.copies + k, len * sizeof(way.copies[0]));
                memcpy(way.descs + way.depth + 1, way.descs + k + 1, len * sizeof(way.descs[0]));
                way.depth += len;
            }
            continue;
        }
        {
            const ProtobufCFieldDescriptor *msg[32];
            unsigned f, m = 0;

            for (f = 0; f < d->n_fields && m < 32; f++)
                if (d->fields[f].type == PROTOBUF_C_TYPE_MESSAGE)
                    msg[m++] = &d->fields[f];
            if (m == 0)
                break; /* no message inside: this is the leaf */
            way.field[way.depth] = msg[(op & 31) % m];
            way.copies[way.depth] = 1 + (op >> 5 & 3);
            way.descs[way.depth + 1] = way.field[way.depth]->descriptor;
            way.depth++;
        }
    }
    return i;
}

/* Put n bytes in front of buf[*pos..]; 0 if there is no room. */
static int gen_put(uint8_t *buf, size_t *pos, const void *p, size_t n)
{
    if (*pos < n)
        return 0;
    *pos -= n;
    memmove(buf + *pos, p, n);
    return 1;
}

static int gen_varint(uint8_t *buf, size_t *pos, uint64_t v)
{
    uint8_t b[10];

    return gen_put(buf, pos, b, pb_varint(b, v));
}

/* Encode the way from the inside out: the leaf's bytes, then each level's
 * field around what is inside, `copies` times. The message is buf[pos..]. */
static size_t gen(const uint8_t *in, size_t n, uint8_t *buf, const ProtobufCMessageDescriptor **type)
{
    size_t pos = GEN_MAX, used, k;

    way.depth = 0;
    way.descs[0] = *type = types[in[0] % N_TYPES];
    used = 1 + gen_way(in + 1, n - 1);
    if (!gen_put(buf, &pos, in + used, n - used))
        return 0;
    for (k = way.depth; k-- > 0;) {
        size_t body = GEN_MAX - pos, field;
        unsigned c;

        if (!gen_varint(buf, &pos, body) || !gen_varint(buf, &pos, way.field[k]->id << 3 | 2))
            return 0;
        field = GEN_MAX - pos;
        for (c = 1; c < way.copies[k] && pos >= field; c++)
            gen_put(buf, &pos, buf + pos, field);
    }
    return pos;
}

/* ---- the modes ------------------------------------------------------------------ */

static size_t count_spans(const col_request_t *r)
{
    size_t n = 0, i, j;

    for (i = 0; i < r->n_resource_spans; i++)
        for (j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
            n += r->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

static void through_sinks(const uint8_t *data, size_t size)
{
    static uint64_t now = 1000;
    static col_buf_t wire;
    col_arena_t *arena = col_arena_new();
    col_decode_err_t why;
    col_request_t *r;
    size_t wire_spans = 0, checked_spans = 0;
    int walked, checked, spanshim_res = 0, in_flight = 0, checked_res = 0, checked_flight = 0;

    now += 37;
    col_buf_reset(&wire);
    walked = col_json_wire(&wire, data, size, &wire_spans, &spanshim_res, &in_flight);
    checked = col_json_wire_check(data, size, &checked_spans, &checked_res, &checked_flight);
    if (checked != walked || (walked && (checked_spans != wire_spans ||
                                         checked_res != spanshim_res ||
                                         checked_flight != in_flight)))
        __builtin_trap(); /* the walk that writes nothing says otherwise */
    r = col_request_decode(arena, data, size, &why);
    if (r == NULL) {
        if (walked)
            __builtin_trap(); /* the walk took what protobuf-c refuses */
        col_arena_free(arena);
        return;
    }
    col_metrics_add(r, now);
    col_buf_reset(&out);
    col_json_request(&out, r);
    if (walked && (wire.len != out.len || memcmp(wire.p, out.p, out.len) != 0 ||
                   wire_spans != count_spans(r))) {
        fprintf(stderr, "decoded: %.*s\nwalked:  %.*s\n", (int)out.len, out.p, (int)wire.len,
                wire.p);
        __builtin_trap();
    }
    col_shimloss_add(r, now); /* after the comparison: it takes its keys out of r */
    col_print_add(devnull, r, now);
    col_print_due(devnull, now, size & 1);
    col_vstore_add(r);
    col_tail_add(r, arena, now); /* owns r and the arena now */
    col_tail_due(now, size & 2);
    if ((now / 37) % 64 == 0) {
        col_vstore_filter_t f;

        col_buf_reset(&out);
        col_metrics_render(&out);
        col_shimloss_render(&out);
        col_shimloss_totals(&out);
        col_loss_json(&out);
        col_vstore_filter_init(&f);
        col_buf_reset(&out);
        col_vstore_traces_json(&out, &f);
        col_buf_reset(&out);
        col_vstore_services_json(&out);
    }
}

static void as_type(const ProtobufCMessageDescriptor *type, const uint8_t *data, size_t size)
{
    static col_arena_t *arena;
    col_decode_err_t why;
    ProtobufCMessage *m;

    if (arena == NULL)
        arena = col_arena_new();
    m = col_decode(type, arena, data, size, &why);
    if (m) {
        uint8_t *again = malloc(protobuf_c_message_get_packed_size(m) + 1);

        if (again)
            protobuf_c_message_pack(m, again);
        free(again);
    }
    col_arena_reset(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *buf;
    const ProtobufCMessageDescriptor *type;
    size_t pos;

    if (devnull == NULL) {
        col_tail_cfg_t cfg = {100, 50, 0.5, 64, 1024, 1 << 20};
        col_vstore_cfg_t vcfg = {16, 256, 256 << 10};

        devnull = fopen("/dev/null", "w");
        col_tail_init(&cfg, emit);
        col_vstore_init(&vcfg);
        buf = malloc(GEN_MAX);
    }
    if (size < 2 || size > GEN_MAX)
        return 0;
    switch (data[0] % 3) {
    case 0:
        through_sinks(data + 1, size - 1);
        break;
    case 1:
        as_type(types[data[1] % N_TYPES], data + 2, size - 2);
        break;
    default:
        if ((pos = gen(data + 1, size - 1, buf, &type)) == 0)
            break;
        if (type == types[0])
            through_sinks(buf + pos, GEN_MAX - pos);
        else
            as_type(type, buf + pos, GEN_MAX - pos);
    }
    return 0;
}
