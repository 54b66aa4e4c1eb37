/*
 * ex_redact.h - secrets in query strings, replaced by REDACTED in the
 * recorded url.query and url.full.
 *
 * Only the recorded attribute changes: the program's bytes on the wire are
 * never touched. The value of a listed key becomes REDACTED
 * (`a=1&token=REDACTED`); the key, the order and every other byte stay as
 * they were. Which keys: OpenTelemetry's list (the signed-URL parameters of
 * S3, CloudFront, Azure SAS and Google Cloud Storage) and credential-like
 * names, or SPANSHIM_REDACT_QUERY_KEYS, which replaces the whole list as
 * the conventions' sensitive_query_parameters does.
 *
 * How a query is read, choosing the reading that hides more where servers
 * differ:
 *   - a key is percent-decoded ('+' a space) and compared ignoring ASCII
 *     case (the conventions ask for exact case; `Token` and `API_KEY` are
 *     secrets too, and redacting a value that was not costs little);
 *   - parameters are separated by '&' or ';' (HTML 4's alternative, still
 *     split by some servers), but a redacted value runs to the next '&', so
 *     a ';' inside a value never leaves the rest of it visible;
 *   - a key without '=' and an empty value have nothing to hide and stay.
 */
#ifndef EX_REDACT_H
#define EX_REDACT_H

#include <stddef.h>
#include <stdint.h>

#define EX_REDACT_KEYS_MAX 64       /* keys in a list */
#define EX_REDACT_KEY_MAX 63        /* bytes of one key */
#define EX_REDACT_POOL_MAX (EX_REDACT_KEYS_MAX * EX_REDACT_KEY_MAX) /* a full list's bytes */

/* The most bytes n bytes of query become: a redacted value of at least one
 * byte becomes 8, and takes at least 4 bytes with its key, '=' and
 * separator (3 for the first parameter). */
#define EX_REDACT_ROOM(n) ((n) + 7 * ((n) + 1) / 4)

typedef struct ex_redact_key {
    const char *p;
    uint8_t n;
} ex_redact_key_t;

typedef struct ex_redact_keys {
    uint64_t lens;                  /* bit n set: some key is n bytes long */
    unsigned n;
    ex_redact_key_t k[EX_REDACT_KEYS_MAX];
} ex_redact_keys_t;

/* The process's keys: the defaults until ex_redact_configure. */
extern const ex_redact_keys_t *ex_redact_keys;

/* Parse a SPANSHIM_REDACT_QUERY_KEYS value into k, its keys copied into
 * pool (which must outlive k): comma-separated keys, blanks around them
 * ignored; `default` stands for the default list, `none` for no key. NULL,
 * empty or only separators: the defaults. Returns 0, or -1 (k then holds
 * the defaults) for more than EX_REDACT_KEYS_MAX keys or a key longer than
 * EX_REDACT_KEY_MAX. */
int ex_redact_parse(ex_redact_keys_t *k, const char *spec, char *pool, size_t pool_cap);

/* ex_redact_parse into the process's own table, made ex_redact_keys. */
int ex_redact_configure(const char *spec);

/* q, n: a query, the bytes after '?'. Returns 0 and writes nothing if no
 * value is redacted; otherwise 1, with the redacted query in out and its
 * length in *len: at most cap bytes, cut there if cap is below
 * EX_REDACT_ROOM(n) (a cut never shows a secret: they are not copied). */
int ex_redact_query(const ex_redact_keys_t *k, const char *q, size_t n, char *out, size_t cap,
                    size_t *len);

#endif
