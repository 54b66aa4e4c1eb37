/*
 * col_term.h - text from the input made safe to show on a terminal.
 *
 * Span and service names, and anything else a sender chose, may hold
 * escape sequences (set the title, clear the screen), carriage returns
 * and newlines (forge a line), C1 codes (0x9b is CSI on some terminals)
 * and bidirectional overrides (show text reversed). col_term_text copies
 * what is plain and writes the rest as visible escapes, so what a reader
 * sees is what the sender sent, byte for byte.
 */
#ifndef COL_TERM_H
#define COL_TERM_H

#include <stddef.h>

/* Escape s into out (cap bytes, always NUL-terminated when cap > 0), at
 * most max_cols columns (a code point or an escape's character counts
 * one). Printable UTF-8 goes through; a backslash becomes \\; \t \n \r,
 * other C0 controls and DEL (\x1b), bytes that are not valid UTF-8 (\x9b),
 * C1 controls, line and paragraph separators and bidirectional controls
 * (\u202e) are escaped. A code point or an escape that does not fit is
 * left out whole, never cut. Returns the columns written. */
size_t col_term_text(char *out, size_t cap, const char *s, size_t max_cols);

#endif
