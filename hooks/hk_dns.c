/*
 * hk_dns.c - name lookup hooks: each lookup the program makes through the
 * C library is timed and handed to preload/ (see ss_dns.h).
 *
 * A call that makes no lookup (a numeric address, AI_NUMERICHOST,
 * NI_NUMERICHOST, no host asked for) or comes while the shim is off or at
 * work is the real call and nothing else. The program gets the real
 * result, errno and h_errno.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_dns.h"

#include <netdb.h>

/* Is this a lookup of name the shim records? */
static int hk_dns_looks_up(const char *name)
{
    return name && hk_active() && ss_dns_wanted() && !ss_dns_is_numeric(name);
}

HK_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res)
{
    uint64_t t0;
    int r, err;

    if ((hints && (hints->ai_flags & AI_NUMERICHOST)) || !hk_dns_looks_up(node))
        return ss_real_getaddrinfo(node, service, hints, res);
    t0 = ss_now_ns();
    r = ss_real_getaddrinfo(node, service, hints, res);
    err = errno;
    ss_busy++;
    ss_dns_addrinfo_done(node, t0, ss_now_ns(), r, err, r == 0 && res ? *res : NULL);
    ss_busy--;
    errno = err;
    return r;
}

/* gethostbyname, gethostbyname2: h (NULL: h_errno says why). */
static struct hostent *hk_hostent(int op, const char *name, uint64_t t0, struct hostent *h)
{
    int err = errno, herr = h_errno;

    ss_busy++;
    ss_dns_hostent_done(op, name, t0, ss_now_ns(), h, herr);
    ss_busy--;
    h_errno = herr;
    errno = err;
    return h;
}

/* The _r variants: rc ERANGE is a buffer too small, retried by the
 * caller as the same lookup. */
static int hk_hostent_r(int op, const char *name, uint64_t t0, int rc, struct hostent **result,
                        int *herr)
{
    int err = errno;

    ss_busy++;
    if (rc == ERANGE)
        ss_dns_retry_note(name, t0, ss_now_ns());
    else
        ss_dns_hostent_done(op, name, t0, ss_now_ns(), rc == 0 && result ? *result : NULL,
                            herr ? *herr : 0);
    ss_busy--;
    errno = err;
    return rc;
}

HK_EXPORT struct hostent *gethostbyname(const char *name)
{
    uint64_t t0;

    if (!hk_dns_looks_up(name))
        return ss_real_gethostbyname(name);
    t0 = ss_now_ns();
    return hk_hostent(SS_DNS_GETHOSTBYNAME, name, t0, ss_real_gethostbyname(name));
}

HK_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
    uint64_t t0;

    if (!hk_dns_looks_up(name))
        return ss_real_gethostbyname2(name, af);
    t0 = ss_now_ns();
    return hk_hostent(SS_DNS_GETHOSTBYNAME2, name, t0, ss_real_gethostbyname2(name, af));
}

HK_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
                              struct hostent **result, int *herr)
{
    uint64_t t0;

    if (!hk_dns_looks_up(name))
        return ss_real_gethostbyname_r(name, ret, buf, len, result, herr);
    t0 = ss_dns_retry_start(name, ss_now_ns());
    return hk_hostent_r(SS_DNS_GETHOSTBYNAME_R, name, t0,
                        ss_real_gethostbyname_r(name, ret, buf, len, result, herr), result, herr);
}

HK_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                               size_t len, struct hostent **result, int *herr)
{
    uint64_t t0;

    if (!hk_dns_looks_up(name))
        return ss_real_gethostbyname2_r(name, af, ret, buf, len, result, herr);
    t0 = ss_dns_retry_start(name, ss_now_ns());
    return hk_hostent_r(SS_DNS_GETHOSTBYNAME2_R, name, t0,
                        ss_real_gethostbyname2_r(name, af, ret, buf, len, result, herr), result,
                        herr);
}

/* Reverse: the question is sa's address. */
HK_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
                          socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
    uint64_t t0;
    int r, err;

    if (host == NULL || hostlen == 0 || (flags & NI_NUMERICHOST) || sa == NULL || !hk_active() ||
        !ss_dns_wanted())
        return ss_real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    t0 = ss_now_ns();
    r = ss_real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    err = errno;
    ss_busy++;
    ss_dns_nameinfo_done(sa, salen, t0, ss_now_ns(), r, err, r == 0 ? host : NULL);
    ss_busy--;
    errno = err;
    return r;
}
