/*
 * hk_tls.c - OpenSSL and GnuTLS hooks: the plaintext of HTTPS.
 *
 * Present in every process but only ever called by programs that use a
 * TLS library; the real functions come from the copy the program loaded.
 * SSL_write keeps OpenSSL's contract: it returns num or a failure, never
 * a part. Injected and application bytes go out as separate SSL_write
 * calls; if one fails after others went out, the failure is returned and
 * the bytes already sent are skipped when the program retries with the
 * same buffer, as OpenSSL requires it to.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_tls.h"

#include <limits.h>

/* One TLS library's record write: bytes written, or <= 0 (its error). */
typedef ssize_t (*hk_tls_write_fn)(void *session, const void *buf, size_t n);

typedef struct hk_tls_arg {
    void *ssl;
    hk_tls_write_fn write;
    ssize_t last;  /* the last write's result, for the library's error state */
} hk_tls_arg_t;

static ssize_t hk_openssl_write(void *ssl, const void *buf, size_t n)
{
    return ss_real_SSL_write(ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
}

static ssize_t hk_tls_sendfn(void *arg, const struct iovec *iov, int cnt)
{
    hk_tls_arg_t *a = arg;
    size_t done = 0;
    int i;

    for (i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0)
            continue;
        a->last = a->write(a->ssl, iov[i].iov_base, iov[i].iov_len);
        if (a->last <= 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)a->last;
        if ((size_t)a->last < iov[i].iov_len)
            break;
    }
    return (ssize_t)done;
}

/* The program's bytes still to send in this call start at tls_skip.
 * Returns num, or the library's failure value. */
static ssize_t hk_tls_write(void *ssl, const void *buf, size_t num, hk_tls_write_fn write,
                            ss_tls_describe_t describe)
{
    hk_tls_arg_t a = {ssl, write, 1};
    ss_conn_t *c;
    int fd, saved = errno;

    if (num == 0 || ss_busy || !__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE))
        return write(ssl, buf, num);
    ss_busy++;
    c = ss_tls_get(ssl, &fd, describe, 1);
    if (c == NULL) {
        ss_busy--;
        return write(ssl, buf, num);
    }
    for (;;) {
        size_t skip = c->tls_skip;
        struct iovec v;
        ssize_t r;

        if (skip > num)
            skip = c->tls_skip = 0; /* not the same buffer after all */
        v.iov_base = (char *)buf + skip;
        v.iov_len = num - skip;
        a.last = 1;
        r = ss_conn_send_on(c, fd, &v, 1, 0, hk_tls_sendfn, &a);
        if (r < 0) {
            ss_conn_put(c);
            ss_busy--;
            return a.last <= 0 ? a.last : -1;
        }
        if (skip + (size_t)r >= num) {
            c->tls_skip = 0;
            break;
        }
        c->tls_skip = skip + (size_t)r; /* a part went out */
        if (a.last <= 0) {
            ss_conn_put(c);
            ss_busy--;
            return a.last;
        }
    }
    ss_conn_put(c);
    ss_busy--;
    errno = saved;
    return num;
}

HK_EXPORT int SSL_write(void *ssl, const void *buf, int num)
{
    if (num <= 0)
        return ss_real_SSL_write(ssl, buf, num);
    return (int)hk_tls_write(ssl, buf, (size_t)num, hk_openssl_write, ss_tls_describe_openssl);
}

HK_EXPORT int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *written)
{
    ssize_t r;

    if (num > INT_MAX || num == 0 || ss_busy)
        return ss_real_SSL_write_ex(ssl, buf, num, written);
    r = hk_tls_write(ssl, buf, num, hk_openssl_write, ss_tls_describe_openssl);
    if (r <= 0)
        return 0;
    if (written)
        *written = (size_t)r;
    return 1;
}

HK_EXPORT ssize_t gnutls_record_send(void *s, const void *data, size_t n)
{
    if (data == NULL || n == 0) /* "flush what is pending" form */
        return ss_real_gnutls_record_send(s, data, n);
    return hk_tls_write(s, data, n, ss_real_gnutls_record_send, ss_tls_describe_gnutls);
}

static void hk_tls_read_done(void *ssl, void *buf, ssize_t r, ss_tls_describe_t describe)
{
    int err = errno, fd;
    ss_conn_t *c;
    struct iovec v;

    if (r < 0 || ss_busy || !__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE))
        return;
    ss_busy++;
    c = ss_tls_get(ssl, &fd, describe, 0);
    if (c) {
        v.iov_base = buf;
        v.iov_len = (size_t)r;
        ss_conn_recv_on(c, fd, &v, 1, r, 0); /* 0: the peer closed the session */
        ss_conn_put(c);
    }
    ss_busy--;
    errno = err;
}

HK_EXPORT int SSL_read(void *ssl, void *buf, int num)
{
    int r = ss_real_SSL_read(ssl, buf, num);

    hk_tls_read_done(ssl, buf, r, ss_tls_describe_openssl);
    return r;
}

HK_EXPORT int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *got)
{
    int r = ss_real_SSL_read_ex(ssl, buf, num, got);

    if (r == 1 && got && *got <= INT_MAX)
        hk_tls_read_done(ssl, buf, (ssize_t)*got, ss_tls_describe_openssl);
    return r;
}

HK_EXPORT ssize_t gnutls_record_recv(void *s, void *data, size_t n)
{
    ssize_t r = ss_real_gnutls_record_recv(s, data, n);

    hk_tls_read_done(s, data, r, ss_tls_describe_gnutls);
    return r;
}

static void hk_tls_free(void *session)
{
    if (session && ss_busy == 0) {
        int err = errno;

        ss_busy++;
        ss_tls_free(session);
        ss_busy--;
        errno = err;
    }
}

HK_EXPORT void SSL_free(void *ssl)
{
    hk_tls_free(ssl);
    ss_real_SSL_free(ssl);
}

/* The session's connection ends (its open exchanges end as on a close),
 * or the session is reused for another connection: forget it, and the
 * next read or write looks at it afresh. */
HK_EXPORT int SSL_shutdown(void *ssl)
{
    hk_tls_free(ssl);
    return ss_real_SSL_shutdown(ssl);
}

HK_EXPORT int SSL_clear(void *ssl)
{
    hk_tls_free(ssl);
    return ss_real_SSL_clear(ssl);
}

HK_EXPORT int SSL_set_fd(void *ssl, int fd)
{
    hk_tls_free(ssl);
    return ss_real_SSL_set_fd(ssl, fd);
}

HK_EXPORT void SSL_set_bio(void *ssl, void *rbio, void *wbio)
{
    hk_tls_free(ssl);
    ss_real_SSL_set_bio(ssl, rbio, wbio);
}

HK_EXPORT int gnutls_bye(void *s, int how)
{
    hk_tls_free(s);
    return ss_real_gnutls_bye(s, how);
}

HK_EXPORT void gnutls_deinit(void *s)
{
    hk_tls_free(s);
    ss_real_gnutls_deinit(s);
}
