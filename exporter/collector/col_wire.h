/*
 * col_wire.h - a walk over protobuf wire format, before protobuf-c unpacks
 * it, that bounds how deep messages nest (see col_wire.c).
 */
#ifndef COL_WIRE_H
#define COL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Messages nested deeper than this (the outermost is 1) are refused. OTLP
 * itself needs 6 to reach an attribute's value; each level of an array or
 * key-value list inside a value adds 2. */
#define COL_WIRE_DEPTH_MAX 64

typedef enum {
    COL_WIRE_OK,
    COL_WIRE_MALFORMED, /* a tag, length or varint that cannot be read */
    COL_WIRE_TOO_DEEP,  /* messages nested more than COL_WIRE_DEPTH_MAX deep */
} col_wire_t;

/* Walk data as a message of type desc, descending into every field the
 * descriptors say is a message, as protobuf-c will. Time is linear in len,
 * stack constant. COL_WIRE_OK does not mean protobuf-c will accept it. */
col_wire_t col_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len);

#endif
