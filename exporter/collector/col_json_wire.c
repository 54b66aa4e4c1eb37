/*
 * col_json_wire.c - OTLP JSON straight from the protobuf bytes.
 *
 * Decoding a batch with protobuf-c (its descriptors, an allocation per
 * message, the scan of every field) costs three times what writing its
 * JSON does, and the .jsonl file needs nothing but the JSON. So when no
 * sink wants the decoded request, each message is read in place: its
 * fields found in one pass (col_wmsg_scan), then written in the order
 * col_json_request writes them, with the same pieces (col_json.h), so the
 * line is byte for byte the one decoding would give.
 *
 * Only the plain form a well-behaved encoder writes is taken: each field
 * that is not repeated at most once, a repeated field's occurrences one
 * after another, one member of a oneof, values no deeper than the writer
 * descends (16 values), wire types the .proto gives. For anything else
 * (where protobuf-c would merge, let the last one win, or refuse) the
 * walk answers 0 having written nothing, and the caller decodes: the
 * result is still exactly protobuf-c's. Reading follows protobuf-c's
 * limits: tags and length prefixes of at most 5 bytes, varints of at most
 * 10, no groups; unknown fields are skipped. The fuzz target
 * fuzz_collector holds the walk to decoding's result on any input.
 */
#include "col_json.h"
#include "col_jout.h"

#include <string.h>

#define COL_WMAX 16       /* field numbers a message of OTLP's trace uses */
#define COL_WDEPTH 16     /* the writer's depth of values (col_json_value) */

enum { COL_WT_VARINT = 0, COL_WT_I64 = 1, COL_WT_LEN = 2, COL_WT_I32 = 5 };

/* A field's wire type in a col_wdesc_t, plus one: 0 is no such field. */
#define VARINT (COL_WT_VARINT + 1)
#define I64 (COL_WT_I64 + 1)
#define LEN (COL_WT_LEN + 1)
#define I32 (COL_WT_I32 + 1)

/* One field number of the message being read. */
typedef struct col_wfield {
    const uint8_t *p; /* LEN: the value's bytes; I64/I32: its bytes; repeated: the first tag */
    const uint8_t *end; /* repeated: past the last occurrence */
    uint64_t v;       /* VARINT: the value */
    uint32_t len;     /* LEN: bytes; VARINT: not 0 if a bit of it is set */
    uint32_t n;       /* occurrences */
} col_wfield_t;

typedef struct col_wmsg {
    col_wfield_t f[COL_WMAX + 1]; /* by field number */
} col_wmsg_t;

/* A message's fields: wire type per number (-1: none), and which repeat. */
typedef struct col_wdesc {
    unsigned char wt[COL_WMAX + 1]; /* by field number: wire type + 1, 0: none */
    unsigned char top; /* the largest field number */
    uint32_t repeated; /* bit per field number */
    uint32_t oneof;    /* bit per field number: at most one of them */
} col_wdesc_t;

typedef struct col_wctx {
    col_buf_t *b;
    size_t spans;
    int spanshim_res;
    int in_flight; /* an attribute key spanshim.span.in_flight, not a resource's */
} col_wctx_t;

static inline const uint8_t *col_wvarint(const uint8_t *p, const uint8_t *end, unsigned max,
                                         uint64_t *v)
{
    unsigned i;

    if (end - p >= 2 && p[0] < 0x80) { /* one byte or two, as most are */
        *v = p[0];
        return p + 1;
    }
    if (end - p >= 2 && p[1] < 0x80) {
        *v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
        return p + 2;
    }
    *v = 0;
    for (i = 0; i < max && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0)
            return p + i + 1;
    }
    return NULL;
}

/* One field at p: its number, wire type and value; NULL if it cannot be
 * read as protobuf-c reads it. One-byte tags, lengths and varints, which
 * nearly all are, take the short way. */
static inline __attribute__((always_inline)) const uint8_t *
col_wfield_read(const uint8_t *p, const uint8_t *end, uint32_t *num, unsigned *wt,
                col_wfield_t *val)
{
    uint64_t key, len;

    if (p < end && *p < 0x80)
        key = *p++;
    else if ((p = col_wvarint(p, end, 5, &key)) == NULL)
        return NULL;
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
        return NULL;
    *num = (uint32_t)(key >> 3);
    *wt = (unsigned)(key & 7);
    val->p = p;
    switch (*wt) {
    case COL_WT_VARINT: {
        const uint8_t *q, *i;

        if (p < end && *p < 0x80) {
            val->v = val->len = *p;
            return p + 1;
        }
        q = col_wvarint(p, end, 10, &val->v);
        val->len = 0; /* for a bool: whether any of its bits is set, as protobuf-c reads it */
        for (i = p; q && i < q; i++)
            val->len |= *i & 0x7f;
        return q;
    }
    case COL_WT_I64:
        return end - p >= 8 ? p + 8 : NULL;
    case COL_WT_I32:
        return end - p >= 4 ? p + 4 : NULL;
    case COL_WT_LEN:
        if (p < end && *p < 0x80)
            len = *p++;
        else if ((p = col_wvarint(p, end, 5, &len)) == NULL)
            return NULL;
        if (len > (uint64_t)(end - p))
            return NULL;
        val->p = p;
        val->len = (uint32_t)len;
        return p + len;
    default:
        return NULL; /* groups, and wire types that do not exist */
    }
}

/* Find msg's fields in [p, end): 0 if they are not in the plain form. */
static int col_wmsg_scan(const col_wdesc_t *d, const uint8_t *p, const uint8_t *end,
                         col_wmsg_t *m)
{
    uint32_t last = 0, oneofs = 0;

    memset(m->f, 0, (d->top + 1u) * sizeof(m->f[0]));
    while (p < end) {
        const uint8_t *at = p, *q = p + 1;
        col_wfield_t val;
        unsigned k = *p, wt = k & 7;
        uint32_t num = k >> 3;
        col_wfield_t *f;

        /* The usual: a one-byte tag of one of the message's fields, of
         * its wire type, a one-byte length or varint; else the general
         * reading, which takes the same bytes the same way. */
        if (k < 0x80 && d->wt[num] == wt + 1) { /* (no field 0; past top, 0) */
            switch (wt) {
            case COL_WT_LEN:
                if (q == end || *q >= 0x80)
                    goto general;
                val.len = *q;
                val.p = q + 1;
                if (val.len > (size_t)(end - val.p))
                    return 0;
                p = val.p + val.len;
                break;
            case COL_WT_VARINT:
                if (q == end || *q >= 0x80)
                    goto general;
                val.p = q;
                val.v = val.len = *q;
                p = q + 1;
                break;
            case COL_WT_I64:
                if (end - q < 8)
                    return 0;
                val.p = q;
                p = q + 8;
                break;
            default: /* COL_WT_I32: the only other type a field of OTLP's has */
                if (end - q < 4)
                    return 0;
                val.p = q;
                p = q + 4;
                break;
            }
        } else {
        general:
            if ((p = col_wfield_read(at, end, &num, &wt, &val)) == NULL)
                return 0;
            if (num > d->top || d->wt[num] == 0) {
                last = 0; /* unknown: skipped, as protobuf-c keeps it aside */
                continue;
            }
            if (wt + 1 != d->wt[num])
                return 0; /* protobuf-c refuses it: let it say so */
        }
        f = &m->f[num];
        if (d->repeated >> num & 1) {
            if (f->n && last != num)
                return 0; /* not one run */
            if (f->n == 0)
                f->p = at;
            /* The run's next occurrences with the same one-byte tag and a
             * one-byte length, as the reading above would take them, in a
             * loop of their own: a span's attributes are most of its fields.
             * Anything else is left to the reading above. */
            if (k < 0x80 && wt == COL_WT_LEN)
                while (end - p >= 2 && p[0] == k && p[1] < 0x80 && (size_t)(end - p) - 2 >= p[1]) {
                    p += 2 + p[1];
                    f->n++;
                }
            f->end = p;
        } else {
            if (f->n)
                return 0; /* merged or last-wins in protobuf-c */
            if (d->oneof >> num & 1 && oneofs++)
                return 0;
            *f = val; /* (its n is not set: counted below) */
            f->n = 0;
        }
        f->n++;
        last = num;
    }
    return 1;
}

/* The next occurrence of a repeated field, from *at (< f->end): every
 * repeated field is one of messages, its tag and length read once already
 * by the scan, which took them as good. */
static inline const uint8_t *col_wnext(const col_wfield_t *f, const uint8_t **at, uint32_t *len)
{
    const uint8_t *p = *at;
    uint64_t v;

    while (*p & 0x80) /* the tag */
        p++;
    p++;
    if (*p < 0x80)
        v = *p++;
    else
        p = col_wvarint(p, f->end, 5, &v);
    *len = (uint32_t)v;
    *at = p + v;
    return p;
}

static inline uint64_t col_wle(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n == 8) {
        memcpy(&v, p, 8);
        return v;
    }
    if (n == 4) {
        uint32_t w;

        memcpy(&w, p, 4);
        return w;
    }
#endif
    while (n--)
        v = v << 8 | p[n];
    return v;
}

static inline __attribute__((always_inline)) void col_wkey(col_buf_t *b, int *first,
                                                        const char *key)
{
    if (!*first)
        col_buf_put(b, ",", 1);
    *first = 0;
    col_buf_put(b, "\"", 1);
    col_buf_puts(b, key);
    col_buf_put(b, "\":", 2);
}

/* A string field written as col_json_optstr: not when absent or empty as
 * a C string. */
static void col_woptstr(col_buf_t *b, int *first, const char *key, const col_wfield_t *f)
{
    if (f->n == 0 || f->len == 0 || f->p[0] == '\0')
        return;
    col_wkey(b, first, key);
    col_json_strn(b, (const char *)f->p, f->len);
}

static void col_wid(col_buf_t *b, int *first, const char *key, const col_wfield_t *f)
{
    if (f->n == 0 || f->len == 0)
        return;
    col_wkey(b, first, key);
    col_json_id(b, f->p, f->len);
}

/* A uint32 count, written when not 0 (protobuf-c keeps the low 32 bits). */
static void col_wcount(col_buf_t *b, int *first, const char *key, const col_wfield_t *f)
{
    uint32_t v = (uint32_t)f->v;

    if (f->n == 0 || v == 0)
        return;
    col_wkey(b, first, key);
    col_buf_u64(b, v);
}

/* A fixed64 time, as a quoted decimal when not 0. */
static void col_wtime(col_buf_t *b, int *first, const char *key, const col_wfield_t *f)
{
    uint64_t v = f->n ? col_wle(f->p, 8) : 0;

    if (v == 0)
        return;
    col_wkey(b, first, key);
    col_buf_put(b, "\"", 1);
    col_buf_u64(b, v);
    col_buf_put(b, "\"", 1);
}

static void col_wfixed32(col_buf_t *b, int *first, const char *key, const col_wfield_t *f)
{
    uint32_t v = f->n ? (uint32_t)col_wle(f->p, 4) : 0;

    if (v == 0)
        return;
    col_wkey(b, first, key);
    col_buf_u64(b, v);
}

static const col_wdesc_t col_wd_value = {
    {[1] = LEN, [2] = VARINT, [3] = VARINT, [4] = I64, [5] = LEN, [6] = LEN, [7] = LEN},
    7, 0, 0xfe};
static const col_wdesc_t col_wd_list = {{[1] = LEN}, 1, 1u << 1, 0};
static const col_wdesc_t col_wd_kv = {{[1] = LEN, [2] = LEN}, 2, 0, 0};

static int col_wkvs(col_wctx_t *c, const col_wfield_t *f, int depth, int resource);

/* An AnyValue's JSON, as col_json_value writes it. */
static int col_wvalue(col_wctx_t *c, const uint8_t *p, uint32_t len, int depth)
{
    col_buf_t *b = c->b;
    col_wmsg_t m;
    const col_wfield_t *f;

    if (depth > COL_WDEPTH || !col_wmsg_scan(&col_wd_value, p, p + len, &m))
        return 0; /* the writer would stop descending here: decode instead */
    col_buf_put(b, "{", 1);
    f = m.f;
    if (f[1].n) {
        col_buf_puts(b, "\"stringValue\":");
        col_json_strn(b, (const char *)f[1].p, f[1].len);
    } else if (f[2].n) {
        col_buf_puts(b, f[2].len ? "\"boolValue\":true" : "\"boolValue\":false");
    } else if (f[3].n) {
        col_json_int_value(b, (int64_t)f[3].v);
    } else if (f[4].n) {
        uint64_t bits = col_wle(f[4].p, 8);
        double d;

        memcpy(&d, &bits, sizeof(d));
        col_json_double_value(b, d);
    } else if (f[5].n || f[6].n) {
        const col_wfield_t *sub = f[5].n ? &f[5] : &f[6];
        col_wmsg_t list;

        if (!col_wmsg_scan(&col_wd_list, sub->p, sub->p + sub->len, &list))
            return 0;
        col_buf_puts(b, f[5].n ? "\"arrayValue\":{" : "\"kvlistValue\":{");
        if (list.f[1].n && f[5].n) {
            const uint8_t *at = list.f[1].p;
            uint32_t i, vlen;

            col_buf_puts(b, "\"values\":[");
            for (i = 0; i < list.f[1].n; i++) {
                const uint8_t *v = col_wnext(&list.f[1], &at, &vlen);

                if (i)
                    col_buf_put(b, ",", 1);
                if (!col_wvalue(c, v, vlen, depth + 1))
                    return 0;
            }
            col_buf_put(b, "]", 1);
        } else if (list.f[1].n) {
            col_buf_puts(b, "\"values\":");
            if (!col_wkvs(c, &list.f[1], depth + 1, 0))
                return 0;
        }
        col_buf_put(b, "}", 1);
    } else if (f[7].n) {
        col_buf_puts(b, "\"bytesValue\":");
        col_json_base64(b, f[7].p, f[7].len);
    }
    col_buf_put(b, "}", 1);
    return 1;
}

/* The attribute most are, read at once: a key, then a value holding one
 * string or one integer, every length in one byte; written into room made
 * for it once. o, where the list is, is ahead of b->len: the return is
 * where the list is now, or NULL if kv is not that (nothing written; the
 * general way then reads it, with the same result) or there is no room. */
/* Whether the KeyValue in [p, end) is that attribute: 1 with a string
 * (at p + 6 + klen), 2 with an integer (*n), 0 neither. */
static inline int col_wkv_form(const uint8_t *p, const uint8_t *end, uint64_t *n)
{
    const uint8_t *key = p + 2, *v;

    if (end - p < 4 || p[0] != 0x0a || p[1] >= 0x80 || (size_t)(end - key) < p[1] + 2u)
        return 0;
    v = key + p[1];
    if (v[0] != 0x12 || v[1] >= 0x80 || v + 2 + v[1] != end || end - v < 4)
        return 0;
    v += 2;
    if (v[0] == 0x0a && v[1] < 0x80 && v + 2 + v[1] == end)
        return 1;
    if (v[0] == 0x18 && col_wvarint(v + 1, end, 10, n) == end)
        return 2;
    return 0;
}

static char *col_wkv_plain(col_wctx_t *c, char *o, const uint8_t *p, const uint8_t *end,
                           int resource, int *oom)
{
    const uint8_t *key = p + 2, *v;
    size_t klen;
    uint64_t n = 0;
    col_buf_t *b = c->b;
    int form = col_wkv_form(p, end, &n);

    if (form == 0)
        return NULL;
    klen = p[1];
    v = key + klen + 2;
    if (form == 1) {
        /* {"key":K,"value":{"stringValue":V}} and a comma: 6 per byte at most */
        if ((o = col_jo_reserve(b, o, 40 + 6 * (klen + v[1]))) == NULL) {
            *oom = 1;
            return NULL;
        }
        o = COL_JO_LIT(o, "{\"key\":");
        o = col_jo_strn(o, (const char *)key, klen);
        o = COL_JO_LIT(o, ",\"value\":{\"stringValue\":");
        o = col_jo_strn(o, (const char *)v + 2, v[1]);
    } else {
        int64_t i = (int64_t)n;

        if ((o = col_jo_reserve(b, o, 60 + 6 * klen)) == NULL) {
            *oom = 1;
            return NULL;
        }
        o = COL_JO_LIT(o, "{\"key\":");
        o = col_jo_strn(o, (const char *)key, klen);
        o = COL_JO_LIT(o, ",\"value\":{\"intValue\":\"");
        if (i < 0) {
            *o++ = '-';
            o = col_jo_u64(o, 0 - (uint64_t)i);
        } else {
            o = col_jo_u64(o, (uint64_t)i);
        }
        *o++ = '"';
    }
    o = COL_JO_LIT(o, "}}");
    if (resource && klen >= 9 && memcmp(key, "spanshim.", 9) == 0)
        c->spanshim_res = 1;
    return o;
}

/* One KeyValue as col_json_kvs writes it, the general way (b->len is
 * where it goes). */
static int col_wkv(col_wctx_t *c, const uint8_t *p, uint32_t len, int depth, int resource)
{
    col_buf_t *b = c->b;
    col_wmsg_t kv;

    if (!col_wmsg_scan(&col_wd_kv, p, p + len, &kv))
        return 0;
    col_buf_puts(b, "{\"key\":");
    col_json_strn(b, kv.f[1].n ? (const char *)kv.f[1].p : "", kv.f[1].len);
    if (resource && kv.f[1].len >= 9 && memcmp(kv.f[1].p, "spanshim.", 9) == 0)
        c->spanshim_res = 1;
    if (!resource && kv.f[1].len == sizeof(COL_IN_FLIGHT_KEY) - 1 &&
        memcmp(kv.f[1].p, COL_IN_FLIGHT_KEY, sizeof(COL_IN_FLIGHT_KEY) - 1) == 0)
        c->in_flight = 1; /* a bool: never the plain shortcut's */
    col_buf_puts(b, ",\"value\":");
    if (kv.f[2].n == 0)
        col_buf_put(b, "{}", 2);
    else if (!col_wvalue(c, kv.f[2].p, kv.f[2].len, depth))
        return 0;
    col_buf_put(b, "}", 1);
    return 1;
}

/* A repeated KeyValue field as col_json_kvs writes it. The plain ones go
 * straight into room each makes once; the buffer's length is set when the
 * list ends or another kind comes. */
static int col_wkvs(col_wctx_t *c, const col_wfield_t *f, int depth, int resource)
{
    col_buf_t *b = c->b;
    const uint8_t *at = f->p;
    uint32_t i, len;
    char *o = col_buf_room(b, 2);
    int oom = 0;

    if (o == NULL)
        return 1; /* b->oom: the caller gives up */
    *o++ = '[';
    for (i = 0; i < f->n; i++) {
        const uint8_t *p = col_wnext(f, &at, &len);
        char *next;

        if (i) /* (room: each writer makes one more than it writes) */
            *o++ = ',';
        if (depth <= COL_WDEPTH && (next = col_wkv_plain(c, o, p, p + len, resource, &oom)))
            o = next; /* (deeper, the writer writes {}: col_wvalue leaves it to decoding) */
        else if (oom)
            return 1;
        else {
            col_buf_done(b, o);
            if (!col_wkv(c, p, len, depth, resource))
                return 0;
            if ((o = col_buf_room(b, 1)) == NULL)
                return 1;
        }
    }
    /* room for "]": the last writer's one more, or the room made above */
    *o++ = ']';
    col_buf_done(b, o);
    return 1;
}

/* Attributes (field a) and their dropped count (field d), as col_json_attrs. */
static int col_wattrs(col_wctx_t *c, int *first, const col_wmsg_t *m, int a, int d,
                      int resource)
{
    if (m->f[a].n) {
        col_wkey(c->b, first, "attributes");
        if (!col_wkvs(c, &m->f[a], 0, resource))
            return 0;
    }
    col_wcount(c->b, first, "droppedAttributesCount", &m->f[d]);
    return 1;
}

/* Each occurrence of repeated field f as a message of d, written by fn,
 * inside "key":[...]. */
typedef int (*col_wfn)(col_wctx_t *c, const col_wmsg_t *m);

static int col_wlist(col_wctx_t *c, int *first, const char *key, const col_wfield_t *f,
                     const col_wdesc_t *d, col_wfn fn)
{
    const uint8_t *at = f->p;
    uint32_t i, len;

    if (f->n == 0)
        return 1;
    if (key)
        col_wkey(c->b, first, key);
    col_buf_put(c->b, "[", 1);
    for (i = 0; i < f->n; i++) {
        const uint8_t *p = col_wnext(f, &at, &len);
        col_wmsg_t m;

        if (!col_wmsg_scan(d, p, p + len, &m))
            return 0;
        if (i)
            col_buf_put(c->b, ",", 1);
        if (!fn(c, &m))
            return 0;
    }
    col_buf_put(c->b, "]", 1);
    return 1;
}

static const col_wdesc_t col_wd_event = {
    {[1] = I64, [2] = LEN, [3] = LEN, [4] = VARINT},
    4, 1u << 3, 0};

static int col_wevent(col_wctx_t *c, const col_wmsg_t *m)
{
    int first = 1;

    col_buf_put(c->b, "{", 1);
    col_wtime(c->b, &first, "timeUnixNano", &m->f[1]);
    col_woptstr(c->b, &first, "name", &m->f[2]);
    if (!col_wattrs(c, &first, m, 3, 4, 0))
        return 0;
    col_buf_put(c->b, "}", 1);
    return 1;
}

static const col_wdesc_t col_wd_link = {
    {[1] = LEN, [2] = LEN, [3] = LEN, [4] = LEN, [5] = VARINT, [6] = I32},
    6, 1u << 4, 0};

static int col_wlink(col_wctx_t *c, const col_wmsg_t *m)
{
    int first = 1;

    col_buf_put(c->b, "{", 1);
    col_wid(c->b, &first, "traceId", &m->f[1]);
    col_wid(c->b, &first, "spanId", &m->f[2]);
    col_woptstr(c->b, &first, "traceState", &m->f[3]);
    if (!col_wattrs(c, &first, m, 4, 5, 0))
        return 0;
    col_wfixed32(c->b, &first, "flags", &m->f[6]);
    col_buf_put(c->b, "}", 1);
    return 1;
}

static const col_wdesc_t col_wd_status = {{[2] = LEN, [3] = VARINT}, 3, 0, 0};

static const col_wdesc_t col_wd_span = {
    {[1] = LEN, [2] = LEN, [3] = LEN, [4] = LEN, [5] = LEN, [6] = VARINT, [7] = I64, [8] = I64,
     [9] = LEN, [10] = VARINT, [11] = LEN, [12] = VARINT, [13] = LEN, [14] = VARINT, [15] = LEN,
     [16] = I32},
    16, 1u << 9 | 1u << 11 | 1u << 13, 0};

/* A span's key after the first: its comma, then "key": */
#define COL_WKEY(o, first, k) \
    ((first) ? ((first) = 0, COL_JO_LIT(o, "\"" k "\":")) : COL_JO_LIT(o, ",\"" k "\":"))

static int col_wspan(col_wctx_t *c, const col_wmsg_t *m)
{
    col_buf_t *b = c->b;
    int first = 1;
    int32_t kind = (int32_t)(uint32_t)m->f[6].v;
    const col_wfield_t *f = m->f;
    /* Everything up to the attributes, in room made once: each field at
     * most once (the scan saw to it), a key of at most 22 bytes, the ids in
     * hex (base64 past 64 bytes is shorter), two strings 6 bytes a byte. */
    char *o = col_buf_room(b, 300 + 2 * (f[1].len + f[2].len + f[4].len) +
                                  6 * (f[3].len + f[5].len));

    if (o == NULL)
        return 1; /* b->oom: the caller gives up */
    c->spans++;
    *o++ = '{';
    if (f[1].n && f[1].len) {
        o = COL_WKEY(o, first, "traceId");
        o = col_jo_id(o, f[1].p, f[1].len);
    }
    if (f[2].n && f[2].len) {
        o = COL_WKEY(o, first, "spanId");
        o = col_jo_id(o, f[2].p, f[2].len);
    }
    if (f[3].n && f[3].len && f[3].p[0] != '\0') {
        o = COL_WKEY(o, first, "traceState");
        o = col_jo_strn(o, (const char *)f[3].p, f[3].len);
    }
    if (f[4].n && f[4].len) {
        o = COL_WKEY(o, first, "parentSpanId");
        o = col_jo_id(o, f[4].p, f[4].len);
    }
    if (f[16].n) {
        uint32_t v = (uint32_t)col_wle(f[16].p, 4);

        if (v) {
            o = COL_WKEY(o, first, "flags");
            o = col_jo_u64(o, v);
        }
    }
    if (f[5].n && f[5].len && f[5].p[0] != '\0') {
        o = COL_WKEY(o, first, "name");
        o = col_jo_strn(o, (const char *)f[5].p, f[5].len);
    }
    if (f[6].n && kind) {
        o = COL_WKEY(o, first, "kind");
        o = col_jo_i32(o, kind); /* not a kind at all if negative, but as sent */
    }
    if (f[7].n) {
        uint64_t v = col_wle(f[7].p, 8);

        if (v) {
            o = COL_WKEY(o, first, "startTimeUnixNano");
            *o++ = '"';
            o = col_jo_u64(o, v);
            *o++ = '"';
        }
    }
    if (f[8].n) {
        uint64_t v = col_wle(f[8].p, 8);

        if (v) {
            o = COL_WKEY(o, first, "endTimeUnixNano");
            *o++ = '"';
            o = col_jo_u64(o, v);
            *o++ = '"';
        }
    }
    col_buf_done(b, o);
    if (!col_wattrs(c, &first, m, 9, 10, 0) ||
        !col_wlist(c, &first, "events", &m->f[11], &col_wd_event, col_wevent))
        return 0;
    col_wcount(b, &first, "droppedEventsCount", &m->f[12]);
    if (!col_wlist(c, &first, "links", &m->f[13], &col_wd_link, col_wlink))
        return 0;
    col_wcount(b, &first, "droppedLinksCount", &m->f[14]);
    if (m->f[15].n) {
        col_wmsg_t st;
        int sf = 1;
        int32_t code;

        if (!col_wmsg_scan(&col_wd_status, m->f[15].p, m->f[15].p + m->f[15].len, &st))
            return 0;
        code = (int32_t)(uint32_t)st.f[3].v;
        col_wkey(b, &first, "status");
        col_buf_put(b, "{", 1);
        col_woptstr(b, &sf, "message", &st.f[2]);
        if (st.f[3].n && code) {
            col_wkey(b, &sf, "code");
            col_buf_printf(b, "%d", code);
        }
        col_buf_put(b, "}", 1);
    }
    col_buf_put(b, "}", 1);
    return 1;
}

static const col_wdesc_t col_wd_scope = {
    {[1] = LEN, [2] = LEN, [3] = LEN, [4] = VARINT},
    4, 1u << 3, 0};
static const col_wdesc_t col_wd_scope_spans = {{[1] = LEN, [2] = LEN, [3] = LEN}, 3, 1u << 2, 0};

static int col_wscope_spans(col_wctx_t *c, const col_wmsg_t *m)
{
    int first = 1;

    col_buf_put(c->b, "{", 1);
    if (m->f[1].n) {
        col_wmsg_t sc;
        int f = 1;

        if (!col_wmsg_scan(&col_wd_scope, m->f[1].p, m->f[1].p + m->f[1].len, &sc))
            return 0;
        col_wkey(c->b, &first, "scope");
        col_buf_put(c->b, "{", 1);
        col_woptstr(c->b, &f, "name", &sc.f[1]);
        col_woptstr(c->b, &f, "version", &sc.f[2]);
        if (!col_wattrs(c, &f, &sc, 3, 4, 0))
            return 0;
        col_buf_put(c->b, "}", 1);
    }
    if (!col_wlist(c, &first, "spans", &m->f[2], &col_wd_span, col_wspan))
        return 0;
    col_woptstr(c->b, &first, "schemaUrl", &m->f[3]);
    col_buf_put(c->b, "}", 1);
    return 1;
}

static const col_wdesc_t col_wd_resource = {{[1] = LEN, [2] = VARINT}, 2, 1u << 1, 0};
static const col_wdesc_t col_wd_resource_spans = {{[1] = LEN, [2] = LEN, [3] = LEN}, 3, 1u << 2, 0};

static int col_wresource_spans(col_wctx_t *c, const col_wmsg_t *m)
{
    int first = 1;

    col_buf_put(c->b, "{", 1);
    if (m->f[1].n) {
        col_wmsg_t res;
        int f = 1;

        if (!col_wmsg_scan(&col_wd_resource, m->f[1].p, m->f[1].p + m->f[1].len, &res))
            return 0;
        col_wkey(c->b, &first, "resource");
        col_buf_put(c->b, "{", 1);
        if (!col_wattrs(c, &f, &res, 1, 2, 1))
            return 0;
        col_buf_put(c->b, "}", 1);
    }
    if (!col_wlist(c, &first, "scopeSpans", &m->f[2], &col_wd_scope_spans, col_wscope_spans))
        return 0;
    col_woptstr(c->b, &first, "schemaUrl", &m->f[3]);
    col_buf_put(c->b, "}", 1);
    return 1;
}

static const col_wdesc_t col_wd_request = {{[1] = LEN}, 1, 1u << 1, 0};

int col_json_wire(col_buf_t *b, const uint8_t *p, size_t n, size_t *spans, int *spanshim_res,
                  int *in_flight)
{
    col_wctx_t c = {b, 0, 0, 0};
    size_t start = b->len;
    col_wmsg_t m;
    int first = 0, ok;

    ok = col_wmsg_scan(&col_wd_request, p, p + n, &m);
    if (ok) {
        col_buf_puts(b, "{\"resourceSpans\":");
        if (m.f[1].n == 0)
            col_buf_put(b, "[]", 2);
        ok = col_wlist(&c, &first, NULL, &m.f[1], &col_wd_resource_spans, col_wresource_spans);
        col_buf_put(b, "}", 1);
    }
    if (!ok || b->oom) {
        b->len = start;
        if (b->p)
            b->p[start] = '\0';
        return 0;
    }
    *spans = c.spans;
    *spanshim_res = c.spanshim_res;
    if (in_flight)
        *in_flight = c.in_flight;
    return 1;
}

/* ---- the same walk, nothing written ---------------------------------------
 * For a collector that writes no JSON (forwarding only): whether the walk
 * above would take the request, and what it would find, for the cost of
 * the scans alone. Each function is its writer's twin, in the same order,
 * refusing what it refuses; fuzz_collector holds the two to each other. */

static int col_dkvs(col_wctx_t *c, const col_wfield_t *f, int depth, int resource);

static int col_dvalue(col_wctx_t *c, const uint8_t *p, uint32_t len, int depth)
{
    col_wmsg_t m;
    const col_wfield_t *f;

    if (depth > COL_WDEPTH || !col_wmsg_scan(&col_wd_value, p, p + len, &m))
        return 0;
    f = m.f;
    if (!f[1].n && !f[2].n && !f[3].n && !f[4].n && (f[5].n || f[6].n)) {
        const col_wfield_t *sub = f[5].n ? &f[5] : &f[6];
        col_wmsg_t list;

        if (!col_wmsg_scan(&col_wd_list, sub->p, sub->p + sub->len, &list))
            return 0;
        if (list.f[1].n && f[5].n) {
            const uint8_t *at = list.f[1].p;
            uint32_t i, vlen;

            for (i = 0; i < list.f[1].n; i++) {
                const uint8_t *v = col_wnext(&list.f[1], &at, &vlen);

                if (!col_dvalue(c, v, vlen, depth + 1))
                    return 0;
            }
        } else if (list.f[1].n && !col_dkvs(c, &list.f[1], depth + 1, 0)) {
            return 0;
        }
    }
    return 1;
}

static int col_dkvs(col_wctx_t *c, const col_wfield_t *f, int depth, int resource)
{
    const uint8_t *at = f->p;
    uint32_t i, len;

    for (i = 0; i < f->n; i++) {
        const uint8_t *p = col_wnext(f, &at, &len);
        col_wmsg_t kv;
        uint64_t n;

        if (depth <= COL_WDEPTH && col_wkv_form(p, p + len, &n)) {
            if (resource && p[1] >= 9 && memcmp(p + 2, "spanshim.", 9) == 0)
                c->spanshim_res = 1;
            continue;
        }
        if (!col_wmsg_scan(&col_wd_kv, p, p + len, &kv))
            return 0;
        if (resource && kv.f[1].len >= 9 && memcmp(kv.f[1].p, "spanshim.", 9) == 0)
            c->spanshim_res = 1;
        if (!resource && kv.f[1].len == sizeof(COL_IN_FLIGHT_KEY) - 1 &&
            memcmp(kv.f[1].p, COL_IN_FLIGHT_KEY, sizeof(COL_IN_FLIGHT_KEY) - 1) == 0)
            c->in_flight = 1;
        if (kv.f[2].n && !col_dvalue(c, kv.f[2].p, kv.f[2].len, depth))
            return 0;
    }
    return 1;
}

/* Each occurrence of repeated field f as a message of d, its attributes
 * (field a, if any) walked; spans counted when d is a span's. */
static int col_dlist(col_wctx_t *c, const col_wfield_t *f, const col_wdesc_t *d, int a)
{
    const uint8_t *at = f->p;
    uint32_t i, len;

    for (i = 0; i < f->n; i++) {
        const uint8_t *p = col_wnext(f, &at, &len);
        col_wmsg_t m;

        if (!col_wmsg_scan(d, p, p + len, &m))
            return 0;
        if (m.f[a].n && !col_dkvs(c, &m.f[a], 0, 0))
            return 0;
        if (d != &col_wd_span)
            continue;
        c->spans++;
        if (!col_dlist(c, &m.f[11], &col_wd_event, 3) || !col_dlist(c, &m.f[13], &col_wd_link, 4))
            return 0;
        if (m.f[15].n) {
            col_wmsg_t st;

            if (!col_wmsg_scan(&col_wd_status, m.f[15].p, m.f[15].p + m.f[15].len, &st))
                return 0;
        }
    }
    return 1;
}

int col_json_wire_check(const uint8_t *p, size_t n, size_t *spans, int *spanshim_res,
                        int *in_flight)
{
    col_wctx_t c = {NULL, 0, 0, 0};
    col_wmsg_t m, rs, ss, x;
    const uint8_t *at, *sat;
    uint32_t i, j, len, slen;

    if (!col_wmsg_scan(&col_wd_request, p, p + n, &m))
        return 0;
    at = m.f[1].p;
    for (i = 0; i < m.f[1].n; i++) {
        const uint8_t *r = col_wnext(&m.f[1], &at, &len);

        if (!col_wmsg_scan(&col_wd_resource_spans, r, r + len, &rs))
            return 0;
        if (rs.f[1].n) {
            if (!col_wmsg_scan(&col_wd_resource, rs.f[1].p, rs.f[1].p + rs.f[1].len, &x) ||
                (x.f[1].n && !col_dkvs(&c, &x.f[1], 0, 1)))
                return 0;
        }
        sat = rs.f[2].p;
        for (j = 0; j < rs.f[2].n; j++) {
            const uint8_t *s = col_wnext(&rs.f[2], &sat, &slen);

            if (!col_wmsg_scan(&col_wd_scope_spans, s, s + slen, &ss))
                return 0;
            if (ss.f[1].n &&
                (!col_wmsg_scan(&col_wd_scope, ss.f[1].p, ss.f[1].p + ss.f[1].len, &x) ||
                 (x.f[3].n && !col_dkvs(&c, &x.f[3], 0, 0))))
                return 0;
            if (!col_dlist(&c, &ss.f[2], &col_wd_span, 9))
                return 0;
        }
    }
    *spans = c.spans;
    *spanshim_res = c.spanshim_res;
    if (in_flight)
        *in_flight = c.in_flight;
    return 1;
}
