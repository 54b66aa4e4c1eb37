/*
 * pb_varint.h - a protobuf varint, for the tests that build messages by
 * hand (the fuzz target's generator, the decoding unit test).
 */
#ifndef PB_VARINT_H
#define PB_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* v as a varint in b; its length. */
static inline size_t pb_varint(uint8_t b[10], uint64_t v)
{
    size_t n = 0;

    do {
        b[n++] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
        v >>= 7;
    } while (v);
    return n;
}

#endif
