"""OTLP requests written by hand, for the tests that feed the collector
without the shim: any bytes in any field, any attribute, any kind."""
import socket


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_len(field, data):
    """A length-delimited protobuf field."""
    return bytes([field << 3 | 2]) + varint(len(data)) + data


def fixed64(field, v):
    return bytes([field << 3 | 1]) + v.to_bytes(8, "little")


def key_value(key, value):
    """A KeyValue: a str value is a string, a bool a bool, an int an int."""
    if isinstance(value, bool):
        any_value = bytes([2 << 3, int(value)])
    elif isinstance(value, int):
        any_value = bytes([3 << 3]) + varint(value)
    else:
        any_value = pb_len(1, value.encode() if isinstance(value, str) else value)
    return pb_len(1, key.encode()) + pb_len(2, any_value)


def attribute(key, value):
    """A span's attribute (Span field 9)."""
    return pb_len(9, key_value(key, value))


def span(trace, sid, name, parent=0, start=10 ** 18, dur=5000, kind=2, attrs=(), error=False):
    """A span (SERVER unless kind says otherwise); ids are numbers, 0 leaves
    the parent out; attrs: (key, value) pairs; error: status ERROR."""
    s = pb_len(1, trace.to_bytes(16, "big")) + pb_len(2, sid.to_bytes(8, "big"))
    if parent:
        s += pb_len(4, parent.to_bytes(8, "big"))
    s += (pb_len(5, name) + bytes([6 << 3, kind]) + fixed64(7, start) +
          fixed64(8, start + dur))
    s += b"".join(attribute(k, v) for k, v in attrs)
    if error:
        s += pb_len(15, bytes([3 << 3, 2]))
    return s


def batch(spans, service=None, resource_attrs=()):
    """An ExportTraceServiceRequest: one resource (service.name, then
    resource_attrs: (key, value) pairs), one scope."""
    rs = b""
    if service is not None or resource_attrs:
        res = b""
        if service is not None:
            res += pb_len(1, pb_len(1, b"service.name") + pb_len(2, pb_len(1, service)))
        res += b"".join(pb_len(1, key_value(k, v)) for k, v in resource_attrs)
        rs += pb_len(1, res)
    rs += pb_len(2, b"".join(pb_len(2, s) for s in spans))
    return pb_len(1, rs)


def send_all(col, grams):
    """Every datagram to col, blocking: the kernel makes it wait, not drop."""
    tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    tx.connect(col.sock)
    for g in grams:
        tx.send(g)
    tx.close()
