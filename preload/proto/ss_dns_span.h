/*
 * ss_dns_span.h - the DNS part of a span record: one name lookup the
 * program made through the C library (getaddrinfo, gethostbyname*,
 * getnameinfo), as the encoder reads it (exporter/ex_otlp_dns.c).
 */
#ifndef SS_DNS_SPAN_H
#define SS_DNS_SPAN_H

#include <stdint.h>

#define SS_DNS_NAME_MAX 256 /* a name of up to 253 characters, and its NUL */

typedef struct ss_span_dns {
    char name[SS_DNS_NAME_MAX];   /* dns.question.name, NUL-terminated */
    uint16_t answers;             /* addresses (or names) the lookup gave */
} ss_span_dns_t;

#endif
