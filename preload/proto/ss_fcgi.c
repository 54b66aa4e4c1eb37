/*
 * ss_fcgi.c - reads FastCGI records as they pass (ss_fcgi.h): a header of
 * eight bytes, the content, the padding, in that order in each direction;
 * the content is read by its type: fixed bodies (BEGIN, END) gathered
 * whole, name-value pairs of PARAMS and GET_VALUES read length by length
 * with their values passed on in pieces, the CGI head of STDOUT line by
 * line. Each request keeps its own pair and head state, so that records of
 * multiplexed requests may interleave, and a pair may span records.
 */
#include <string.h>

#include "ss_fcgi.h"

enum { S_HDR, S_BODY, S_PAD };
enum { NV_NLEN, NV_VLEN, NV_NAME, NV_VALUE };
enum { H_KEY, H_OWS, H_DIG, H_REST };

void ss_fcgi_init(ss_fcgi_t *f)
{
    memset(f, 0, sizeof(*f));
}

const char *ss_fcgi_why(const ss_fcgi_t *f)
{
    return f->why ? f->why : "";
}

static int fail(ss_fcgi_t *f, const char *why)
{
    f->why = why;
    return 0;
}

static void tell(const ss_fcgi_sink_t *sink, ss_fcgi_ev_t *ev)
{
    if (sink && sink->on)
        sink->on(sink->arg, ev);
}

/* An event of the current record of s. */
static void ev_init(ss_fcgi_ev_t *ev, const ss_fcgi_stream_t *s, int dir, ss_fcgi_ev_kind_t kind,
                    uint64_t at)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->dir = dir;
    ev->type = s->type;
    ev->id = s->id;
    ev->at = at;
}

static void tell_simple(const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s, int dir,
                        ss_fcgi_ev_kind_t kind, uint64_t at)
{
    ss_fcgi_ev_t ev;

    ev_init(&ev, s, dir, kind, at);
    tell(sink, &ev);
}

/* ---- requests ---------------------------------------------------------- */

static ss_fcgi_req_t *req_find(ss_fcgi_t *f, uint16_t id)
{
    size_t i;

    if (id == 0)
        return NULL;
    for (i = 0; i < SS_FCGI_REQS_MAX; i++)
        if (f->reqs[i].used && f->reqs[i].id == id)
            return &f->reqs[i];
    return NULL;
}

/* A slot for a request beginning (the same id begun again starts over). */
static ss_fcgi_req_t *req_new(ss_fcgi_t *f, uint16_t id)
{
    ss_fcgi_req_t *r = req_find(f, id);
    size_t i;

    for (i = 0; r == NULL && i < SS_FCGI_REQS_MAX; i++)
        if (!f->reqs[i].used)
            r = &f->reqs[i];
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->used = 1;
    return r;
}

static void req_drop(ss_fcgi_t *f, ss_fcgi_req_t *r)
{
    size_t i;

    for (i = 0; i < 2; i++)
        if (f->dir[i].req == r)
            f->dir[i].req = NULL;
    r->used = 0;
}

/* ---- name-value pairs -------------------------------------------------- */

static void nv_param(const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s, int dir,
                     const ss_fcgi_nv_t *nv, uint64_t at, uint64_t rec_left)
{
    ss_fcgi_ev_t ev;

    ev_init(&ev, s, dir, SS_FCGI_EV_PARAM, at);
    ev.name = nv->name;
    ev.name_len = nv->name_kept;
    ev.name_cut = nv->name_len > SS_FCGI_NAME_MAX;
    ev.value_len = nv->value_len;
    ev.value_contig = nv->value_len <= rec_left;
    tell(sink, &ev);
}

/* A length byte: 1 when the length is whole (nv->len). */
static int nv_len_byte(ss_fcgi_nv_t *nv, uint8_t b)
{
    if (nv->lbytes == 0) {
        nv->lwant = b & 0x80 ? 4 : 1;
        nv->len = b & 0x7f;
    } else {
        nv->len = nv->len << 8 | b;
    }
    if (++nv->lbytes < nv->lwant)
        return 0;
    nv->lbytes = 0;
    return 1;
}

/* The pair's name is whole: tell it, and go on to its value. */
static void nv_name_done(ss_fcgi_nv_t *nv, const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s,
                         int dir, uint64_t at, uint64_t rec_left)
{
    nv_param(sink, s, dir, nv, at, rec_left);
    nv->value_left = nv->value_len;
    nv->st = NV_VALUE;
    if (nv->value_len == 0) {
        tell_simple(sink, s, dir, SS_FCGI_EV_PARAM_END, at);
        nv->st = NV_NLEN;
    }
}

/* n bytes of pairs at stream offset at; rest: the record's content bytes
 * after these n. */
static void nv_feed(ss_fcgi_nv_t *nv, const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s,
                    int dir, const uint8_t *p, size_t n, uint64_t at, uint64_t rest)
{
    size_t i = 0;

    while (i < n) {
        switch (nv->st) {
        case NV_NLEN:
            if (nv_len_byte(nv, p[i++])) {
                nv->name_len = nv->len;
                nv->st = NV_VLEN;
            }
            break;
        case NV_VLEN:
            if (nv_len_byte(nv, p[i++])) {
                nv->value_len = nv->len;
                nv->name_left = nv->name_len;
                nv->name_kept = 0;
                nv->st = NV_NAME;
                if (nv->name_len == 0)
                    nv_name_done(nv, sink, s, dir, at + i, n - i + rest);
            }
            break;
        case NV_NAME: {
            size_t k = n - i < nv->name_left ? n - i : nv->name_left;
            size_t keep = SS_FCGI_NAME_MAX - nv->name_kept;

            if (keep > k)
                keep = k;
            memcpy(nv->name + nv->name_kept, p + i, keep);
            nv->name_kept = (uint8_t)(nv->name_kept + keep);
            nv->name_left -= (uint32_t)k;
            i += k;
            if (nv->name_left == 0)
                nv_name_done(nv, sink, s, dir, at + i, n - i + rest);
            break;
        }
        case NV_VALUE: {
            size_t k = n - i < nv->value_left ? n - i : nv->value_left;
            ss_fcgi_ev_t ev;

            ev_init(&ev, s, dir, SS_FCGI_EV_VALUE, at + i);
            ev.p = (const char *)p + i;
            ev.n = k;
            tell(sink, &ev);
            nv->value_left -= (uint32_t)k;
            i += k;
            if (nv->value_left == 0) {
                tell_simple(sink, s, dir, SS_FCGI_EV_PARAM_END, at + i);
                nv->st = NV_NLEN;
            }
            break;
        }
        }
    }
}

static int nv_between(const ss_fcgi_nv_t *nv)
{
    return nv->st == NV_NLEN && nv->lbytes == 0;
}

/* ---- the CGI head ------------------------------------------------------ */

static void head_tell(ss_fcgi_head_t *h, const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s,
                      int dir, uint64_t at)
{
    ss_fcgi_ev_t ev;

    if (h->told || !h->begun)
        return;
    h->told = 1;
    ev_init(&ev, s, dir, SS_FCGI_EV_STATUS, at);
    ev.status = h->status ? h->status : h->location ? 302 : 200;
    tell(sink, &ev);
}

static int key_is(const ss_fcgi_head_t *h, const char *k)
{
    size_t n = strlen(k), i;

    if (h->key_len != n)
        return 0;
    for (i = 0; i < n; i++)
        if ((h->key[i] | 0x20) != k[i])
            return 0;
    return 1;
}

/* The line's field name ended at its colon. */
static void head_key_end(ss_fcgi_head_t *h)
{
    if (key_is(h, "status")) {
        h->st = H_OWS;
        return;
    }
    if (key_is(h, "location"))
        h->location = 1;
    h->st = H_REST;
}

/* The Status line's code ended: three digits, 100 to 999. */
static void head_code_end(ss_fcgi_head_t *h)
{
    if (h->digits == 3 && h->code >= 100)
        h->status = h->code;
    h->st = H_REST;
}

/* One byte of the head; 1 when it ended the head (an empty line). */
static int head_byte(ss_fcgi_head_t *h, uint8_t b)
{
    if (b == '\n') {
        int empty = h->st == H_KEY && h->key_len == 0;

        if (h->st == H_DIG)
            head_code_end(h);
        h->st = H_KEY;
        h->key_len = 0;
        return empty;
    }
    switch (h->st) {
    case H_KEY:
        if (b == ':')
            head_key_end(h);
        else if (b == '\r' && h->key_len == 0)
            ; /* an empty line's CR */
        else if (h->key_len < sizeof(h->key))
            h->key[h->key_len++] = (char)b;
        else
            h->st = H_REST;
        break;
    case H_OWS:
        if (b >= '0' && b <= '9') {
            h->st = H_DIG;
            h->digits = 1;
            h->code = (uint16_t)(b - '0');
        } else if (b != ' ' && b != '\t') {
            h->st = H_REST;
        }
        break;
    case H_DIG:
        if (b >= '0' && b <= '9' && h->digits < 3) {
            h->digits++;
            h->code = (uint16_t)(h->code * 10 + (b - '0'));
        } else {
            if (b >= '0' && b <= '9')
                h->digits = 4; /* too long: no code */
            head_code_end(h);
        }
        break;
    case H_REST:
        break;
    }
    return 0;
}

static void head_feed(ss_fcgi_head_t *h, const ss_fcgi_sink_t *sink, const ss_fcgi_stream_t *s,
                      int dir, const uint8_t *p, size_t n, uint64_t at)
{
    size_t i;

    if (!h->begun) {
        h->begun = 1;
        tell_simple(sink, s, dir, SS_FCGI_EV_STDOUT, at);
    }
    for (i = 0; i < n && !h->told; i++)
        if (head_byte(h, p[i]))
            head_tell(h, sink, s, dir, at + i + 1);
}

/* ---- records ----------------------------------------------------------- */

/* The content length a type must have, -1 any. */
static int fixed_len(uint8_t type)
{
    switch (type) {
    case SS_FCGI_BEGIN_REQUEST:
    case SS_FCGI_END_REQUEST:
    case SS_FCGI_UNKNOWN_TYPE:
        return 8;
    case SS_FCGI_ABORT_REQUEST:
        return 0;
    default:
        return -1;
    }
}

static int is_management(uint8_t type)
{
    return type == SS_FCGI_GET_VALUES || type == SS_FCGI_GET_VALUES_RESULT ||
           type == SS_FCGI_UNKNOWN_TYPE;
}

/* A record with no content ended (or an empty one began). */
static int record_empty(ss_fcgi_t *f, ss_fcgi_stream_t *s, int dir, const ss_fcgi_sink_t *sink)
{
    ss_fcgi_req_t *r = s->req;

    switch (s->type) {
    case SS_FCGI_PARAMS:
        if (r && !nv_between(&r->nv))
            return fail(f, "a parameter cut by the end of the params");
        tell_simple(sink, s, dir, SS_FCGI_EV_PARAMS_END, s->rec_at);
        break;
    case SS_FCGI_STDIN:
        tell_simple(sink, s, dir, SS_FCGI_EV_STDIN_END, s->rec_at);
        break;
    case SS_FCGI_STDOUT:
        if (r)
            head_tell(&r->head, sink, s, dir, s->rec_at);
        tell_simple(sink, s, dir, SS_FCGI_EV_STDOUT_END, s->rec_at);
        break;
    case SS_FCGI_ABORT_REQUEST:
        tell_simple(sink, s, dir, SS_FCGI_EV_ABORT, s->rec_at);
        break;
    }
    return 1;
}

static int record_begin(ss_fcgi_t *f, ss_fcgi_stream_t *s, int dir, const ss_fcgi_sink_t *sink)
{
    const uint8_t *h = s->hdr;
    int fixed;
    ss_fcgi_ev_t ev;

    if (h[0] != 1)
        return fail(f, "not FastCGI version 1");
    s->type = h[1];
    s->id = (uint16_t)(h[2] << 8 | h[3]);
    s->left = (uint32_t)(h[4] << 8 | h[5]);
    s->pad = h[6];
    s->body_n = 0;
    fixed = fixed_len(s->type);
    if (s->type == 0)
        return fail(f, "record type 0");
    if (fixed >= 0 && s->left != (uint32_t)fixed)
        return fail(f, "a record length its type cannot have");
    if (is_management(s->type) != (s->id == 0) && s->type <= SS_FCGI_UNKNOWN_TYPE)
        return fail(f, "a request id its type cannot have");
    s->req = req_find(f, s->id);
    if (s->type == SS_FCGI_GET_VALUES || s->type == SS_FCGI_GET_VALUES_RESULT)
        memset(&s->mgmt, 0, sizeof(s->mgmt));
    ev_init(&ev, s, dir, SS_FCGI_EV_RECORD, s->rec_at);
    ev.clen = (uint16_t)s->left;
    ev.plen = (uint8_t)s->pad;
    tell(sink, &ev);
    if (s->left == 0) {
        s->st = s->pad ? S_PAD : S_HDR;
        return record_empty(f, s, dir, sink);
    }
    s->st = S_BODY;
    return 1;
}

static void begin_request(ss_fcgi_t *f, ss_fcgi_stream_t *s, int dir, const ss_fcgi_sink_t *sink)
{
    ss_fcgi_ev_t ev;

    s->req = req_new(f, s->id);
    if (s->req == NULL)
        f->untracked++;
    ev_init(&ev, s, dir, SS_FCGI_EV_BEGIN, s->rec_at);
    ev.role = (uint16_t)(s->body[0] << 8 | s->body[1]);
    ev.flags = s->body[2];
    ev.tracked = s->req != NULL;
    tell(sink, &ev);
}

static void end_request(ss_fcgi_t *f, ss_fcgi_stream_t *s, int dir, const ss_fcgi_sink_t *sink)
{
    ss_fcgi_ev_t ev;

    if (s->req)
        head_tell(&s->req->head, sink, s, dir, s->rec_at);
    ev_init(&ev, s, dir, SS_FCGI_EV_END, s->rec_at);
    ev.app_status = (uint32_t)s->body[0] << 24 | (uint32_t)s->body[1] << 16 |
                    (uint32_t)s->body[2] << 8 | s->body[3];
    ev.proto_status = s->body[4];
    if (s->req)
        req_drop(f, s->req);
    tell(sink, &ev);
}

/* n content bytes at stream offset at (s->left already counts them off). */
static void record_body(ss_fcgi_t *f, ss_fcgi_stream_t *s, int dir, const uint8_t *p, size_t n,
                        uint64_t at, const ss_fcgi_sink_t *sink)
{
    switch (s->type) {
    case SS_FCGI_BEGIN_REQUEST:
    case SS_FCGI_END_REQUEST:
        memcpy(s->body + s->body_n, p, n); /* fixed_len: at most 8 in all */
        s->body_n = (uint8_t)(s->body_n + n);
        if (s->body_n < 8)
            return;
        if (s->type == SS_FCGI_BEGIN_REQUEST)
            begin_request(f, s, dir, sink);
        else
            end_request(f, s, dir, sink);
        return;
    case SS_FCGI_PARAMS:
        if (s->req)
            nv_feed(&s->req->nv, sink, s, dir, p, n, at, s->left);
        return;
    case SS_FCGI_GET_VALUES:
    case SS_FCGI_GET_VALUES_RESULT:
        nv_feed(&s->mgmt, sink, s, dir, p, n, at, s->left);
        return;
    case SS_FCGI_STDOUT:
        if (s->req)
            head_feed(&s->req->head, sink, s, dir, p, n, at);
        return;
    }
}

static int record_end(ss_fcgi_t *f, ss_fcgi_stream_t *s)
{
    s->st = s->pad ? S_PAD : S_HDR;
    if ((s->type == SS_FCGI_GET_VALUES || s->type == SS_FCGI_GET_VALUES_RESULT) &&
        !nv_between(&s->mgmt))
        return fail(f, "a value pair cut by the end of its record");
    return 1;
}

int ss_fcgi_feed(ss_fcgi_t *f, int dir, const uint8_t *p, size_t n, const ss_fcgi_sink_t *sink)
{
    ss_fcgi_stream_t *s = &f->dir[dir & 1];

    if (f->why)
        return 0;
    while (n) {
        size_t k;

        switch (s->st) {
        case S_HDR:
            if (s->hdr_n == 0)
                s->rec_at = s->pos;
            k = SS_FCGI_HDR_LEN - s->hdr_n;
            if (k > n)
                k = n;
            memcpy(s->hdr + s->hdr_n, p, k);
            s->hdr_n = (uint8_t)(s->hdr_n + k);
            s->pos += k;
            p += k;
            n -= k;
            if (s->hdr_n == SS_FCGI_HDR_LEN) {
                s->hdr_n = 0;
                if (!record_begin(f, s, dir & 1, sink))
                    return 0;
            }
            break;
        case S_BODY:
            k = s->left < n ? s->left : n;
            s->left -= (uint32_t)k;
            record_body(f, s, dir & 1, p, k, s->pos, sink);
            s->pos += k;
            p += k;
            n -= k;
            if (s->left == 0 && !record_end(f, s))
                return 0;
            break;
        case S_PAD:
            k = s->pad < n ? s->pad : n;
            s->pad -= (uint32_t)k;
            s->pos += k;
            p += k;
            n -= k;
            if (s->pad == 0)
                s->st = S_HDR;
            break;
        }
    }
    return 1;
}

size_t ss_fcgi_hdr_partial(const ss_fcgi_t *f, int dir, uint64_t *at)
{
    const ss_fcgi_stream_t *s = &f->dir[dir & 1];

    *at = s->rec_at;
    return s->st == S_HDR ? s->hdr_n : 0;
}

int ss_fcgi_in_value(const ss_fcgi_t *f, int dir)
{
    const ss_fcgi_stream_t *s = &f->dir[dir & 1];

    return s->req && s->req->nv.st == NV_VALUE;
}

int ss_fcgi_detect(const uint8_t *p, size_t n)
{
    /* version, type, id (not 0), content length 8, padding, reserved, role. */
    static const uint8_t want[10] = {1, 1, 0, 0, 0, 8, 0, 0, 0, 0};
    size_t i;

    for (i = 0; i < n && i < sizeof(want); i++) {
        if (i == 2 || i == 3 || i == 6 || i == 7)
            continue;
        if (i == 9) {
            if (p[i] < 1 || p[i] > 3)
                return 0;
        } else if (p[i] != want[i]) {
            return 0;
        }
    }
    if (n >= 4 && p[2] == 0 && p[3] == 0)
        return 0;
    return n >= sizeof(want) ? 1 : -1;
}
