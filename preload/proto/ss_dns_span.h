/*
 * ss_dns_span.h - the DNS part of a span record: one name lookup the
 * program made through the C library (getaddrinfo, gethostbyname*,
 * getnameinfo), as the encoder reads it (exporter/ex_otlp_dns.c).
 */
#ifndef SS_DNS_SPAN_H
#define SS_DNS_SPAN_H

#include <stdint.h>

#define SS_DNS_NAME_MAX 256   /* a name of up to 253 characters, and its NUL */
#define SS_DNS_LISTED_MAX 8   /* addresses written out in dns.answers */
#define SS_DNS_ADDR_TEXT 46   /* an IPv6 address as text, and its NUL */

/* The C library call that made the lookup: the span's name. */
enum {
    SS_DNS_GETADDRINFO = 0,
    SS_DNS_GETHOSTBYNAME,
    SS_DNS_GETHOSTBYNAME_R,
    SS_DNS_GETHOSTBYNAME2,
    SS_DNS_GETHOSTBYNAME2_R,
    SS_DNS_GETNAMEINFO,       /* reverse: the question is an address */
    SS_DNS_OPS
};

typedef struct ss_span_dns {
    char name[SS_DNS_NAME_MAX];   /* dns.question.name, NUL-terminated */
    uint8_t op;                   /* SS_DNS_* */
    uint8_t listed;               /* addresses in answer[] */
    uint16_t answers;             /* distinct addresses (or names) the lookup gave */
    char answer[SS_DNS_LISTED_MAX][SS_DNS_ADDR_TEXT]; /* the first of them, as text */
} ss_span_dns_t;

#endif
