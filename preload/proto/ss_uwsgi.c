/*
 * ss_uwsgi.c - the uwsgi request state machine (see ss_uwsgi.h).
 *
 * One switch over explicit states, a byte at a time for the header and the
 * length fields (two bytes each), a run at a time for keys, values and the
 * body. Every length is checked against what holds it as soon as it is
 * read - a var must fit the vars block, a key and its value's length field
 * too - so a block that does not add up stops at its first wrong byte and
 * nothing is ever waited for beyond what the header announced.
 */
#include "ss_uwsgi.h"

#include <string.h>

enum {
    SS_U_START,     /* before a packet */
    SS_U_MOD1,
    SS_U_SIZE0,
    SS_U_SIZE1,
    SS_U_MOD2,
    SS_U_KLEN0,     /* a var's key length, low byte */
    SS_U_KLEN1,
    SS_U_KEY,
    SS_U_VLEN0,     /* its value's length, low byte */
    SS_U_VLEN1,
    SS_U_VALUE,
    SS_U_BODY,
    SS_U_DEAD,
};

void ss_uwsgi_init(ss_uwsgi_t *p)
{
    memset(p, 0, sizeof(*p));
    p->state = SS_U_START;
}

int ss_uwsgi_idle(const ss_uwsgi_t *p)
{
    return p->state == SS_U_START;
}

int ss_uwsgi_in_header(const ss_uwsgi_t *p)
{
    return p->state >= SS_U_MOD1 && p->state <= SS_U_MOD2;
}

static int ss_uwsgi_key_first(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static int ss_uwsgi_key_byte(uint8_t c)
{
    return ss_uwsgi_key_first(c) || (c >= '0' && c <= '9') || c == '_';
}

/* The names a web server's first var may have: CGI's meta-variables (RFC
 * 3875, and those web servers add), a request header's HTTP_*, uWSGI's own
 * UWSGI_*. A binary protocol whose first bytes happen to read as a uwsgi
 * header must not be taken for one: this module rewrites what it follows. */
static const char *const ss_uwsgi_first_names[] = {
    "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "DOCUMENT_ROOT", "DOCUMENT_URI",
    "GATEWAY_INTERFACE", "HTTPS", "PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING",
    "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT", "REMOTE_PORT", "REMOTE_USER",
    "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME",
    "SERVER_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    "HTTP_*", "UWSGI_*",
};

/* Whether the k bytes of key seen so far (of klen) may begin such a name:
 * 1 it is one, -1 it may be, 0 it is none. */
static int ss_uwsgi_first_name(const uint8_t *key, size_t k, size_t klen)
{
    int may = 0;
    size_t i;

    for (i = 0; i < sizeof(ss_uwsgi_first_names) / sizeof(ss_uwsgi_first_names[0]); i++) {
        const char *name = ss_uwsgi_first_names[i];
        size_t len = strlen(name), fixed = name[len - 1] == '*' ? len - 1 : len;
        size_t cmp = k < fixed ? k : fixed;

        if (memcmp(key, name, cmp) != 0 || (fixed == len ? klen != len : klen <= fixed))
            continue;
        if (k >= fixed)
            return 1;
        may = -1;
    }
    return may;
}

int ss_uwsgi_detect(const uint8_t *p, size_t n)
{
    size_t datasize, klen, i;

    if ((n > 0 && p[0] != 0) || (n > 3 && p[3] != 0))
        return 0;
    if (n < 4)
        return -1;
    datasize = (size_t)p[1] | (size_t)p[2] << 8;
    if (datasize < 2 + 1 + 2)
        return 0; /* no room for one var: a PostgreSQL length, say */
    if (n < 6)
        return -1;
    klen = (size_t)p[4] | (size_t)p[5] << 8;
    if (klen == 0 || klen > SS_UWSGI_KEY_MAX || 2 + klen + 2 > datasize)
        return 0;
    for (i = 0; i < klen && 6 + i < n; i++)
        if (!(i == 0 ? ss_uwsgi_key_first(p[6]) : ss_uwsgi_key_byte(p[6 + i])))
            return 0;
    if (ss_uwsgi_first_name(p + 6, i, klen) == 0)
        return 0;
    return i == klen ? 1 : -1; /* the whole key first: a later byte may rule it out */
}

/* A new packet begins at stream offset at. */
static void ss_uwsgi_begin(ss_uwsgi_t *p, uint64_t at)
{
    p->modifier1 = p->modifier2 = 0;
    p->datasize = p->left = 0;
    p->key_len = p->val_len = p->val_left = 0;
    p->key_trunc = p->is_cl = p->cl_digits = 0;
    p->cl = p->body_left = 0;
    p->pkt_pos = at;
    p->val_pos = 0;
}

/* A var ended (or the header, before the first): what follows it, and the
 * events that brings. */
static unsigned ss_uwsgi_next(ss_uwsgi_t *p)
{
    if (p->left > 0) {
        p->state = SS_U_KLEN0;
        return 0;
    }
    if (p->cl == 0) {
        p->state = SS_U_START;
        return SS_UWSGI_EV_VARS_END | SS_UWSGI_EV_END;
    }
    p->body_left = p->cl;
    p->state = SS_U_BODY;
    return SS_UWSGI_EV_VARS_END;
}

/* The key is whole. */
static unsigned ss_uwsgi_key_done(ss_uwsgi_t *p)
{
    p->is_cl = !p->key_trunc && p->key_len == 14 && memcmp(p->key, "CONTENT_LENGTH", 14) == 0;
    if (p->is_cl) {
        p->cl = 0; /* a repeat counts as it stands */
        p->cl_digits = 0;
    }
    p->state = SS_U_VLEN0;
    return SS_UWSGI_EV_KEY;
}

/* CONTENT_LENGTH's value bytes: decimal digits, 19 at most. Returns how
 * many of the n are (n: all). */
static size_t ss_uwsgi_cl_bytes(ss_uwsgi_t *p, const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || p->cl_digits == 19)
            return i;
        p->cl = p->cl * 10 + (uint64_t)(s[i] - '0');
        p->cl_digits++;
    }
    return n;
}

/* Bytes that passed unseen (sendfile): only a body can take them. */
static size_t ss_uwsgi_skip(ss_uwsgi_t *p, size_t len, unsigned *ev)
{
    size_t n = len;

    if (p->state != SS_U_BODY) {
        p->state = SS_U_DEAD;
        p->why = "unseen";
        *ev = SS_UWSGI_EV_ERROR;
        return 0;
    }
    if (n > p->body_left)
        n = (size_t)p->body_left;
    p->body_left -= n;
    if (p->body_left == 0) {
        p->state = SS_U_START;
        *ev = SS_UWSGI_EV_END;
    }
    p->pos += n;
    return n;
}

#define SS_U_FAIL(word)   \
    do {                  \
        p->why = (word);  \
        goto dead;        \
    } while (0)

size_t ss_uwsgi_feed(ss_uwsgi_t *p, const char *buf, size_t len, unsigned *ev)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0, n, good;

    *ev = 0;
    p->piece_len = 0;
    if (buf == NULL)
        return ss_uwsgi_skip(p, len, ev);
    while (i < len && *ev == 0) {
        unsigned char c = s[i];

        switch (p->state) {
        case SS_U_START:
            ss_uwsgi_begin(p, p->pos + i);
            p->state = SS_U_MOD1;
            *ev = SS_UWSGI_EV_BEGIN;
            continue;
        case SS_U_MOD1:
            p->modifier1 = c;
            p->state = SS_U_SIZE0;
            break;
        case SS_U_SIZE0:
            p->datasize = c;
            p->state = SS_U_SIZE1;
            break;
        case SS_U_SIZE1:
            p->datasize = (uint16_t)(p->datasize | c << 8);
            p->state = SS_U_MOD2;
            break;
        case SS_U_MOD2:
            p->modifier2 = c;
            p->left = p->datasize;
            *ev = SS_UWSGI_EV_HEADER | ss_uwsgi_next(p);
            break;
        case SS_U_KLEN0:
            if (p->left < 2)
                SS_U_FAIL("vars"); /* a stray byte at the block's end */
            p->key_len = c;
            p->left--;
            p->state = SS_U_KLEN1;
            break;
        case SS_U_KLEN1:
            p->key_len = (uint16_t)(p->key_len | c << 8);
            p->left--;
            if ((size_t)p->key_len + 2 > p->left)
                SS_U_FAIL("vars"); /* the key and its value's length overflow the block */
            p->key_trunc = p->key_len > SS_UWSGI_KEY_MAX;
            p->val_left = p->key_len;
            if (p->key_len == 0)
                *ev = ss_uwsgi_key_done(p);
            else
                p->state = SS_U_KEY;
            break;
        case SS_U_KEY: {
            size_t at = (size_t)(p->key_len - p->val_left);

            n = len - i < p->val_left ? len - i : p->val_left;
            if (at < SS_UWSGI_KEY_MAX)
                memcpy(p->key + at, s + i, n < SS_UWSGI_KEY_MAX - at ? n : SS_UWSGI_KEY_MAX - at);
            p->val_left = (uint16_t)(p->val_left - n);
            p->left = (uint16_t)(p->left - n);
            i += n;
            if (p->val_left == 0)
                *ev = ss_uwsgi_key_done(p);
            continue;
        }
        case SS_U_VLEN0:
            p->val_len = c;
            p->left--;
            p->state = SS_U_VLEN1;
            break;
        case SS_U_VLEN1:
            p->val_len = (uint16_t)(p->val_len | c << 8);
            p->left--;
            if (p->val_len > p->left)
                SS_U_FAIL("vars"); /* the value overflows the block */
            p->val_pos = p->pos + i + 1;
            p->val_left = p->val_len;
            if (p->val_len == 0)
                *ev = SS_UWSGI_EV_VAR_END | ss_uwsgi_next(p);
            else
                p->state = SS_U_VALUE;
            break;
        case SS_U_VALUE:
            n = len - i < p->val_left ? len - i : p->val_left;
            if (p->is_cl && (good = ss_uwsgi_cl_bytes(p, s + i, n)) < n) {
                if (good == 0)
                    SS_U_FAIL("content_length");
                n = good; /* the digits are a piece; the next call stops at what follows */
            }
            p->piece = buf + i;
            p->piece_len = n;
            p->val_left = (uint16_t)(p->val_left - n);
            p->left = (uint16_t)(p->left - n);
            i += n;
            *ev = SS_UWSGI_EV_VALUE;
            if (p->val_left == 0)
                *ev |= SS_UWSGI_EV_VAR_END | ss_uwsgi_next(p);
            continue;
        case SS_U_BODY:
            n = len - i < p->body_left ? len - i : (size_t)p->body_left;
            p->body_left -= n;
            i += n;
            if (p->body_left == 0) {
                p->state = SS_U_START;
                *ev = SS_UWSGI_EV_END;
            }
            continue;
        case SS_U_DEAD:
        default:
            goto dead;
        }
        i++;
    }
    p->pos += i;
    return i;
dead:
    p->state = SS_U_DEAD;
    if (p->why == NULL)
        p->why = "malformed";
    *ev = SS_UWSGI_EV_ERROR;
    p->pos += i;
    return i;
}
