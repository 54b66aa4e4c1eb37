/*
 * col_term.c - escaping for terminals (see col_term.h).
 */
#include "col_term.h"
#include "col_json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Code points that move text or the cursor, or reverse it, though valid. */
static int col_term_hidden(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) ||       /* C1 controls */
           cp == 0x061c ||                     /* Arabic letter mark */
           cp == 0x200e || cp == 0x200f ||     /* LRM, RLM */
           (cp >= 0x2028 && cp <= 0x202e) ||   /* separators; LRE..RLO */
           (cp >= 0x2066 && cp <= 0x2069);     /* LRI..PDI */
}

static uint32_t col_term_cp(const unsigned char *u, size_t len)
{
    static const unsigned char lead[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    uint32_t cp = u[0] & lead[len];
    size_t i;

    for (i = 1; i < len; i++)
        cp = cp << 6 | (u[i] & 0x3f);
    return cp;
}

size_t col_term_text(char *out, size_t cap, const char *s, size_t max_cols)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t used = 0, cols = 0;

    if (cap == 0)
        return 0;
    while (*u) {
        char esc[8];
        const char *piece = esc;
        size_t len, w, step;

        len = col_utf8_len(u);
        step = len ? len : 1;
        if (len == 0) {
            w = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *u);
        } else if (*u == '\\') {
            w = (size_t)snprintf(esc, sizeof(esc), "\\\\");
        } else if (*u == '\t' || *u == '\n' || *u == '\r') {
            w = (size_t)snprintf(esc, sizeof(esc), "\\%c", *u == '\t' ? 't' : *u == '\n' ? 'n' : 'r');
        } else if (*u < 0x20 || *u == 0x7f) {
            w = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *u);
        } else if (len > 1 && col_term_hidden(col_term_cp(u, len))) {
            w = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)col_term_cp(u, len));
        } else {
            piece = (const char *)u; /* plain: one column, len bytes */
            w = 1;
        }
        len = piece == esc ? w : step;
        if (cols + w > max_cols || used + len + 1 > cap)
            break;
        memcpy(out + used, piece, len);
        used += len;
        cols += w;
        u += step;
    }
    out[used] = '\0';
    return cols;
}
