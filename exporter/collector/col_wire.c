/*
 * col_wire.c - how deep a datagram nests, found before it is decoded.
 *
 * protobuf-c unpacks a message inside a message by calling itself, with no
 * limit: an AnyValue holding an array holding an AnyValue... 5,000 deep
 * (35 KB) overflows the stack. So every message from outside is walked
 * first, the way protobuf-c will read it: tag by tag, with the generated
 * descriptors saying which field numbers hold a message, keeping the ends
 * of the enclosing messages in a fixed array instead of recursing. The
 * rules for tags and lengths are protobuf-c's (tags and length prefixes
 * at most 5 bytes, varints at most 10, no groups), so the walk sees the
 * nesting protobuf-c would see; where it is stricter, the message is
 * refused, never decoded deeper than checked.
 */
#include "col_wire.h"

typedef struct col_wire_frame {
    const uint8_t *end; /* of the message being walked */
    const ProtobufCMessageDescriptor *desc;
} col_wire_frame_t;

/* A varint of at most max bytes before end; NULL if there is none. */
static const uint8_t *col_wire_varint(const uint8_t *p, const uint8_t *end, unsigned max,
                                      uint64_t *v)
{
    unsigned i;

    *v = 0;
    for (i = 0; i < max && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0)
            return p + i + 1;
    }
    return NULL;
}

/* Past one field's value of wire type wt; NULL if it does not fit. Sets
 * *sub to a length-delimited value's end. */
static const uint8_t *col_wire_skip(const uint8_t *p, const uint8_t *end, unsigned wt,
                                    const uint8_t **sub)
{
    uint64_t v;

    switch (wt) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        return col_wire_varint(p, end, 10, &v);
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        return end - p >= 8 ? p + 8 : NULL;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        return end - p >= 4 ? p + 4 : NULL;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
        if ((p = col_wire_varint(p, end, 5, &v)) == NULL || v > (uint64_t)(end - p))
            return NULL;
        *sub = p + v;
        return p;
    default:
        return NULL; /* groups, and wire types that do not exist */
    }
}

col_wire_t col_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len)
{
    col_wire_frame_t stack[COL_WIRE_DEPTH_MAX];
    const uint8_t *p = data;
    unsigned depth = 1;

    stack[0].end = data + len;
    stack[0].desc = desc;
    while (depth) {
        const col_wire_frame_t *f = &stack[depth - 1];
        const ProtobufCFieldDescriptor *field;
        const uint8_t *sub = NULL;
        uint64_t key;

        if (p == f->end) {
            depth--;
            continue;
        }
        p = col_wire_varint(p, f->end, 5, &key);
        if (p == NULL || key >> 3 == 0 || key >> 3 > 0x1fffffff)
            return COL_WIRE_MALFORMED;
        if ((p = col_wire_skip(p, f->end, (unsigned)(key & 7), &sub)) == NULL)
            return COL_WIRE_MALFORMED;
        if (sub == NULL)
            continue;
        field = protobuf_c_message_descriptor_get_field(f->desc, (unsigned)(key >> 3));
        if (field == NULL || field->type != PROTOBUF_C_TYPE_MESSAGE) {
            p = sub; /* bytes, a string, packed numbers, an unknown field */
            continue;
        }
        if (depth == COL_WIRE_DEPTH_MAX)
            return COL_WIRE_TOO_DEEP;
        stack[depth].end = sub;
        stack[depth].desc = field->descriptor;
        depth++;
    }
    return COL_WIRE_OK;
}
