/*
 * ss_logsev.c - the severity a log line gives itself (see ss_logsev.h).
 *
 * One function per way of saying it; ss_logsev_of tries them in order.
 */
#include "ss_logsev.h"

#include <string.h>

typedef struct sev_word {
    const char *word;
    uint8_t len, number;
} sev_word_t;

#define W(w, n) {w, sizeof(w) - 1, n}
static const sev_word_t sev_words[] = {
    W("trace", 1), W("debug", 5), W("info", 9), W("information", 9),
    W("informational", 9), W("notice", 10), W("warn", 13), W("warning", 13),
    W("error", 17), W("err", 17), W("severe", 17), W("crit", 18), W("critical", 18),
    W("alert", 19), W("emerg", 21), W("emergency", 21), W("fatal", 21), W("panic", 21),
};
#undef W

static const char *const syslog_names[8] = {"emerg", "alert", "crit", "err",
                                            "warning", "notice", "info", "debug"};
static const uint8_t syslog_numbers[8] = {21, 19, 18, 17, 13, 10, 9, 5};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The level a word names (any case), 0 if none. */
static uint8_t word_number(const char *w, size_t n)
{
    size_t i, k;

    for (i = 0; i < sizeof(sev_words) / sizeof(sev_words[0]); i++) {
        if (sev_words[i].len != n)
            continue;
        for (k = 0; k < n && lower((unsigned char)w[k]) == sev_words[i].word[k]; k++)
            ;
        if (k == n)
            return sev_words[i].number;
    }
    return 0;
}

static int set(ss_logsev_t *out, uint8_t number, const char *text, size_t len)
{
    if (number == 0 || len > 255)
        return 0;
    out->number = number;
    out->text = text;
    out->text_len = (uint8_t)len;
    return 1;
}

void ss_logsev_syslog(unsigned pri, ss_logsev_t *out)
{
    const char *name = syslog_names[pri & 7];

    set(out, syslog_numbers[pri & 7], name, strlen(name));
}

/* 1. "<PRI>" first, PRI at most 191 (facility 23, severity 7). */
static int by_syslog(const char *s, size_t n, ss_logsev_t *out)
{
    unsigned pri = 0;
    size_t i;

    if (n < 3 || s[0] != '<')
        return 0;
    for (i = 1; i < n && i <= 4 && s[i] >= '0' && s[i] <= '9'; i++)
        pri = pri * 10 + (unsigned)(s[i] - '0');
    if (i == 1 || i > 4 || i >= n || s[i] != '>' || pri > 191)
        return 0;
    ss_logsev_syslog(pri, out);
    return 1;
}

/* ---- 2. JSON: the top level of an object, read only as far as needed. */

typedef struct jcur {
    const char *p, *end;
} jcur_t;

static void j_ws(jcur_t *c)
{
    while (c->p < c->end && is_space((unsigned char)*c->p))
        c->p++;
}

/* A string at c->p: its raw contents (escapes left as they are) in *s,
 * *n; 0 if it does not end. */
static int j_string(jcur_t *c, const char **s, size_t *n)
{
    const char *q;

    if (c->p >= c->end || *c->p != '"')
        return 0;
    for (q = c->p + 1; q < c->end && *q != '"'; q++)
        if (*q == '\\' && ++q >= c->end)
            return 0;
    if (q >= c->end)
        return 0;
    *s = c->p + 1;
    *n = (size_t)(q - *s);
    c->p = q + 1;
    return 1;
}

/* Any value, skipped: strings, numbers and words, and nesting counted
 * (strings inside it too); 0 if it does not end within the line. */
static int j_skip(jcur_t *c)
{
    const char *s;
    size_t n, depth = 0;

    do {
        j_ws(c);
        if (c->p >= c->end)
            return 0;
        if (*c->p == '"') {
            if (!j_string(c, &s, &n))
                return 0;
        } else if (*c->p == '{' || *c->p == '[') {
            depth++;
            c->p++;
        } else if (*c->p == '}' || *c->p == ']') {
            if (depth == 0)
                return 0;
            depth--;
            c->p++;
        } else if (*c->p == ',' || *c->p == ':') {
            if (depth == 0)
                return 0;
            c->p++;
        } else {
            const char *at = c->p;

            while (c->p < c->end && (is_alnum((unsigned char)*c->p) || *c->p == '.' ||
                                     *c->p == '-' || *c->p == '+'))
                c->p++;
            if (c->p == at)
                return 0; /* no value starts so */
            if (depth == 0)
                return 1;
        }
    } while (depth > 0);
    return 1;
}

static int key_is_level(const char *k, size_t n)
{
    static const char *const keys[] = {"level", "severity", "levelname", "severity_text",
                                       "log.level", "loglevel", "lvl"};
    size_t i, j;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strlen(keys[i]) != n)
            continue;
        for (j = 0; j < n && lower((unsigned char)k[j]) == keys[i][j]; j++)
            ;
        if (j == n)
            return 1;
    }
    return 0;
}

/* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
static uint8_t pino_number(const char *s, size_t n)
{
    static const uint8_t by_ten[7] = {0, 1, 5, 9, 13, 17, 21};

    if (n == 2 && s[0] >= '1' && s[0] <= '6' && s[1] == '0')
        return by_ten[s[0] - '0'];
    return 0;
}

static int by_json(const char *s, size_t n, ss_logsev_t *out)
{
    jcur_t c = {s, s + n};
    const char *k, *v;
    size_t kn, vn;

    j_ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return 0;
    c.p++;
    for (;;) {
        j_ws(&c);
        if (!j_string(&c, &k, &kn))
            return 0;
        j_ws(&c);
        if (c.p >= c.end || *c.p != ':')
            return 0;
        c.p++;
        j_ws(&c);
        if (key_is_level(k, kn) && c.p < c.end) {
            const char *at = c.p;

            if (*c.p == '"' && j_string(&c, &v, &vn))
                return set(out, word_number(v, vn), v, vn);
            while (c.p < c.end && *c.p >= '0' && *c.p <= '9')
                c.p++;
            if (c.p > at)
                return set(out, pino_number(at, (size_t)(c.p - at)), at, (size_t)(c.p - at));
        }
        if (!j_skip(&c))
            return 0;
        j_ws(&c);
        if (c.p >= c.end || *c.p != ',')
            return 0;
        c.p++;
    }
}

/* ---- 3. logfmt: level=warn, lvl="error", severity=INFO */
static int by_logfmt(const char *s, size_t n, ss_logsev_t *out)
{
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {{"level=", 6}, {"lvl=", 4}, {"severity=", 9}};
    size_t i, k;

    for (i = 0; i < n; i++) {
        if (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t')
            continue;
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t at = i + keys[k].len, e;
            int quoted;

            if (n - i < keys[k].len || memcmp(s + i, keys[k].key, keys[k].len) != 0)
                continue;
            quoted = at < n && s[at] == '"';
            at += (size_t)quoted;
            for (e = at; e < n && is_alnum((unsigned char)s[e]); e++)
                ;
            if ((quoted && (e >= n || s[e] != '"')) ||
                (!quoted && e < n && s[e] != ' ' && s[e] != '\t'))
                continue;
            return set(out, word_number(s + at, e - at), s + at, e - at);
        }
    }
    return 0;
}

/* ---- 4. a level word near the start */
static int all_caps(const char *w, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (w[i] < 'A' || w[i] > 'Z')
            return 0;
    return 1;
}

static int by_word(const char *s, size_t n, ss_logsev_t *out)
{
    size_t i = 0, lim = n < SS_LOGSEV_SCAN ? n : SS_LOGSEV_SCAN;

    while (i < lim) {
        size_t b, e;
        uint8_t num;
        int bracketed, leading;

        while (i < lim && !is_alnum((unsigned char)s[i]))
            i++;
        for (b = i; i < n && is_alnum((unsigned char)s[i]); i++)
            ;
        e = i;
        if (e == b || (num = word_number(s + b, e - b)) == 0)
            continue;
        bracketed = b > 0 && (s[b - 1] == '[' || s[b - 1] == ':') && e < n && s[e] == ']';
        if (bracketed && s[b - 1] == ':') { /* "[module:word]": a '[' before, no space */
            size_t j = b - 1;

            while (j > 0 && s[j - 1] != '[' && s[j - 1] != ' ' && s[j - 1] != ']')
                j--;
            bracketed = j > 0 && s[j - 1] == '[';
        }
        leading = b == 0 && e < n && s[e] == ':';
        if (all_caps(s + b, e - b) || bracketed || leading)
            return set(out, num, s + b, e - b);
    }
    return 0;
}

void ss_logsev_of(const char *line, size_t len, ss_logsev_t *out)
{
    out->number = 0;
    out->text = NULL;
    out->text_len = 0;
    if (by_syslog(line, len, out) || by_json(line, len, out) || by_logfmt(line, len, out))
        return;
    by_word(line, len, out);
}
