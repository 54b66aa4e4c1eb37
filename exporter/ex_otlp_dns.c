/*
 * ex_otlp_dns.c - the DNS part of a span's encoding (ex_otlp_int.h): a
 * name lookup the program made through the C library.
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

static void ex_dns_decide(const ss_span_t *s, ex_facts_t *f)
{
    (void)s;
    f->name = EX_LIT("DNS lookup");
}

static uint8_t *ex_dns_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    (void)f;
    p = ex_kv_str(p, EX_LIT("dns.question.name"), ex_cstr(s->dns.name));
    return ex_kv_int(p, EX_LIT("spanshim.dns.answer_count"), s->dns.answers);
}

#define EX_DNS_WORST (2 * 50 + SS_DNS_NAME_MAX)
_Static_assert(EX_SPAN_COMMON_WORST + EX_DNS_WORST <= EX_SPAN_MAX, "a DNS span fits EX_SPAN_MAX");

const ex_span_enc_t ex_otlp_dns_enc = {EX_DNS_WORST, ex_dns_decide, ex_dns_attrs};
