/*
 * ss_fcgi.h - the FastCGI record follower: both directions of one
 * connection (what the web server writes, what the app server answers)
 * read as they pass and told as events, for ss_fastcgi.c to make spans of.
 *
 * A leaf module: fixed-size state per connection, no allocation, bytes
 * split anywhere, nothing looked at twice. It reads
 *  - the record framing (version 1, type, request id, content length,
 *    padding), every record told by its header (SS_FCGI_EV_RECORD) with the
 *    stream offset of its first byte;
 *  - FCGI_BEGIN_REQUEST (role, flags: FCGI_KEEP_CONN), FCGI_ABORT_REQUEST,
 *    FCGI_END_REQUEST (app status, protocol status);
 *  - the name-value pairs of FCGI_PARAMS (1- and 4-byte lengths, a pair
 *    split across records and writes), and of FCGI_GET_VALUES and its
 *    result: each name whole (cut at SS_FCGI_NAME_MAX, then marked), its
 *    value in pieces with their stream offsets; the empty PARAMS record
 *    ending a request's params, with its header's offset (where a module
 *    inserts a record of its own);
 *  - the CGI response head at the start of FCGI_STDOUT: `Status: 404 Not
 *    Found` gives 404, `Location:` without Status 302, none 200.
 * Up to SS_FCGI_REQS_MAX requests (request ids, multiplexed) are followed
 * at once; past that a request's begin is told untracked and its records
 * are only framed. What is not FastCGI (another version, a length that a
 * type cannot have, a pair cut by the end of its params) ends the following:
 * ss_fcgi_why() says why.
 */
#ifndef SS_FCGI_H
#define SS_FCGI_H

#include <stddef.h>
#include <stdint.h>

#define SS_FCGI_REQS_MAX 16
#define SS_FCGI_NAME_MAX 48   /* name bytes kept; longer names are marked cut */
#define SS_FCGI_HDR_LEN 8u

enum {
    SS_FCGI_BEGIN_REQUEST = 1,
    SS_FCGI_ABORT_REQUEST = 2,
    SS_FCGI_END_REQUEST = 3,
    SS_FCGI_PARAMS = 4,
    SS_FCGI_STDIN = 5,
    SS_FCGI_STDOUT = 6,
    SS_FCGI_STDERR = 7,
    SS_FCGI_DATA = 8,
    SS_FCGI_GET_VALUES = 9,
    SS_FCGI_GET_VALUES_RESULT = 10,
    SS_FCGI_UNKNOWN_TYPE = 11,
};

#define SS_FCGI_KEEP_CONN 1

typedef enum ss_fcgi_ev_kind {
    SS_FCGI_EV_RECORD,      /* a record header is whole: type, id, clen, plen; at its first byte */
    SS_FCGI_EV_BEGIN,       /* BEGIN_REQUEST: role, flags, tracked */
    SS_FCGI_EV_ABORT,       /* ABORT_REQUEST */
    SS_FCGI_EV_END,         /* END_REQUEST: app_status, proto_status (the request is over) */
    SS_FCGI_EV_PARAM,       /* a pair's name is whole: name, name_len, name_cut, value_len,
                             * value_contig; at: the value's first byte */
    SS_FCGI_EV_VALUE,       /* p, n: bytes of the pair's value; at: p's offset */
    SS_FCGI_EV_PARAM_END,   /* the pair's value is whole */
    SS_FCGI_EV_PARAMS_END,  /* the empty PARAMS record: at its header's first byte */
    SS_FCGI_EV_STDIN_END,   /* the empty STDIN record */
    SS_FCGI_EV_STDOUT,      /* the request's first STDOUT content: its answer begins */
    SS_FCGI_EV_STATUS,      /* the CGI head is whole (or STDOUT ended first): status */
    SS_FCGI_EV_STDOUT_END,  /* the empty STDOUT record */
} ss_fcgi_ev_kind_t;

typedef struct ss_fcgi_ev {
    ss_fcgi_ev_kind_t kind;
    int dir;                 /* the direction it came in (as fed) */
    uint8_t type;            /* the record's type */
    uint16_t id;             /* the record's request id */
    uint64_t at;             /* stream offset in dir */
    /* RECORD */
    uint16_t clen;
    uint8_t plen;
    /* BEGIN */
    uint16_t role;
    uint8_t flags;
    uint8_t tracked;         /* 0: past SS_FCGI_REQS_MAX, nothing more is told of it */
    /* END */
    uint32_t app_status;
    uint8_t proto_status;
    /* PARAM */
    const char *name;        /* not NUL-terminated */
    uint8_t name_len;
    uint8_t name_cut;        /* the name was longer than SS_FCGI_NAME_MAX */
    uint8_t value_contig;    /* the whole value is inside the current record */
    uint32_t value_len;
    /* VALUE */
    const char *p;
    size_t n;
    /* STATUS */
    uint16_t status;
} ss_fcgi_ev_t;

typedef struct ss_fcgi_sink {
    void *arg;
    void (*on)(void *arg, const ss_fcgi_ev_t *ev);
} ss_fcgi_sink_t;

/* A name-value pair being read (name length, value length, name, value). */
typedef struct ss_fcgi_nv {
    uint8_t st;
    uint8_t lbytes;          /* length bytes read of the current length */
    uint8_t lwant;           /* its size: 1, or 4 (high bit of its first byte) */
    uint8_t name_kept;
    uint32_t len;            /* the length being read */
    uint32_t name_len, name_left;
    uint32_t value_len, value_left;
    char name[SS_FCGI_NAME_MAX];
} ss_fcgi_nv_t;

/* The CGI head at the start of a request's STDOUT. */
typedef struct ss_fcgi_head {
    uint8_t st;
    uint8_t key_len;         /* bytes of the line's start kept */
    uint8_t digits;
    uint8_t location;        /* a Location line was seen */
    uint8_t told;            /* STATUS told */
    uint8_t begun;           /* STDOUT content seen */
    uint16_t status;         /* from a Status line, 0 none */
    uint16_t code;           /* the Status line's code being read */
    char key[10];
} ss_fcgi_head_t;

typedef struct ss_fcgi_req {
    uint16_t id;
    uint8_t used;
    ss_fcgi_nv_t nv;         /* its PARAMS */
    ss_fcgi_head_t head;     /* its STDOUT */
} ss_fcgi_req_t;

/* One direction's records. */
typedef struct ss_fcgi_stream {
    uint8_t st;
    uint8_t hdr_n;           /* header bytes read */
    uint8_t hdr[SS_FCGI_HDR_LEN];
    uint8_t body_n;          /* fixed-size body bytes read (BEGIN, END) */
    uint8_t body[8];
    uint8_t type;
    uint16_t id;
    uint32_t left;           /* content bytes left */
    uint32_t pad;            /* padding bytes left */
    uint64_t pos;            /* bytes of this direction fed */
    uint64_t rec_at;         /* offset of the current record's header */
    ss_fcgi_req_t *req;      /* the current record's request, NULL none */
    ss_fcgi_nv_t mgmt;       /* GET_VALUES pairs (one record each) */
} ss_fcgi_stream_t;

typedef struct ss_fcgi {
    ss_fcgi_stream_t dir[2];
    ss_fcgi_req_t reqs[SS_FCGI_REQS_MAX];
    uint64_t untracked;      /* requests begun past SS_FCGI_REQS_MAX */
    const char *why;
} ss_fcgi_t;

void ss_fcgi_init(ss_fcgi_t *f);
/* n bytes of direction dir (0 or 1). 1: go on; 0: not FastCGI (any more). */
int ss_fcgi_feed(ss_fcgi_t *f, int dir, const uint8_t *p, size_t n, const ss_fcgi_sink_t *sink);
const char *ss_fcgi_why(const ss_fcgi_t *f);
/* Header bytes of dir's next record read so far (0: between records or
 * inside one), the header's offset in *at. */
size_t ss_fcgi_hdr_partial(const ss_fcgi_t *f, int dir, uint64_t *at);
/* Whether dir is inside the value of the pair last told by an
 * SS_FCGI_EV_PARAM (some of its bytes still to come). */
int ss_fcgi_in_value(const ss_fcgi_t *f, int dir);
/* The first bytes of a stream: 1 an FCGI_BEGIN_REQUEST record (version 1,
 * type 1, content length 8, role 1-3), 0 not, -1 more bytes needed. */
int ss_fcgi_detect(const uint8_t *p, size_t n);

#endif
