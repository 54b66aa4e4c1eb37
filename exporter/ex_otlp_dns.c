/*
 * ex_otlp_dns.c - the DNS part of a span's encoding (ex_otlp_int.h): a
 * name lookup the program made through the C library.
 *
 * OpenTelemetry has attributes for DNS (dns.question.name, dns.answers;
 * error.type "should use an error code such as one reported by
 * getaddrinfo") but no span conventions. The span is named after the call
 * and the name it asked for ("getaddrinfo db.internal"), as a database
 * span is after its operation and target; a reverse lookup is named after
 * the call alone (its question is a peer's address: too many names).
 * error.type is the C library's code (EAI_NONAME, EAI_AGAIN - a timeout -,
 * HOST_NOT_FOUND...). spanshim.dns.answer_count is the number of distinct
 * addresses (or, reverse, names) the lookup gave; dns.answers lists the
 * first SS_DNS_LISTED_MAX.
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

#include <stdio.h>

static const char *const ex_dns_ops[SS_DNS_OPS] = {
    [SS_DNS_GETADDRINFO] = "getaddrinfo",
    [SS_DNS_GETHOSTBYNAME] = "gethostbyname",
    [SS_DNS_GETHOSTBYNAME_R] = "gethostbyname_r",
    [SS_DNS_GETHOSTBYNAME2] = "gethostbyname2",
    [SS_DNS_GETHOSTBYNAME2_R] = "gethostbyname2_r",
    [SS_DNS_GETNAMEINFO] = "getnameinfo",
};

static void ex_dns_decide(const ss_span_t *s, ex_facts_t *f)
{
    const char *op = s->dns.op < SS_DNS_OPS ? ex_dns_ops[s->dns.op] : "lookup";
    int n;

    if (s->dns.op == SS_DNS_GETNAMEINFO || s->dns.name[0] == '\0') {
        f->name = ex_cstr(op);
        return;
    }
    n = snprintf(f->dns.name, sizeof(f->dns.name), "%s %s", op, s->dns.name);
    f->name = (ex_str_t){f->dns.name, n < (int)sizeof(f->dns.name) ? (size_t)n : sizeof(f->dns.name) - 1};
}

/* dns.answers: an AnyValue {array_value = 5} of ArrayValue {values = 1}
 * of AnyValue {string_value = 1}. */
static uint8_t *ex_dns_answers(uint8_t *p, const ss_span_dns_t *d)
{
    static const ex_str_t key = EX_LIT("dns.answers");
    size_t arr = 0, any, i;

    if (d->listed == 0)
        return p;
    for (i = 0; i < d->listed; i++) {
        size_t n = strlen(d->answer[i]);

        arr += 1 + ex_len_size(2 + n) + 2 + n;
    }
    any = 1 + ex_len_size(arr) + arr;
    *p++ = EX_KV_TAG;
    p = ex_put_len(p, 2 + key.n + 1 + ex_len_size(any) + any);
    *p++ = 1 << 3 | PB_WT_STRING;
    *p++ = (uint8_t)key.n;
    p = ex_copy(p, key.p, key.n);
    *p++ = 2 << 3 | PB_WT_STRING;
    p = ex_put_len(p, any);
    *p++ = 5 << 3 | PB_WT_STRING;
    p = ex_put_len(p, arr);
    for (i = 0; i < d->listed; i++) {
        size_t n = strlen(d->answer[i]);

        *p++ = 1 << 3 | PB_WT_STRING;
        p = ex_put_len(p, 2 + n);
        p = ex_put_bytes(p, 1, d->answer[i], n);
    }
    return p;
}

static uint8_t *ex_dns_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    p = ex_kv_str(p, EX_LIT("dns.question.name"), ex_cstr(s->dns.name));
    if (f->error_type.n)
        return p;
    p = ex_dns_answers(p, &s->dns);
    return ex_kv_int(p, EX_LIT("spanshim.dns.answer_count"), s->dns.answers);
}

/* The name, dns.question.name, dns.answers, the count. */
#define EX_DNS_WORST \
    (24 + 2 * SS_DNS_NAME_MAX + 3 * 50 + SS_DNS_LISTED_MAX * (SS_DNS_ADDR_TEXT + 6))
_Static_assert(EX_SPAN_COMMON_WORST + EX_DNS_WORST <= EX_SPAN_MAX, "a DNS span fits EX_SPAN_MAX");

const ex_span_enc_t ex_otlp_dns_enc = {EX_DNS_WORST, 0, ex_dns_decide, ex_dns_attrs};
