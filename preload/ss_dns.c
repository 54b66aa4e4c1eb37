/*
 * ss_dns.c - name lookups as spans, and the table of recent lookups (see
 * ss_dns.h).
 *
 * The table is a ring of SS_DNS_TABLE_MAX entries: a lookup takes the
 * entry of an earlier lookup of the same name, else the oldest. An entry
 * maps the addresses a name gave back to it, and holds the lookup's span
 * while it waits for its request. A waiting span has no context yet: it
 * gets its parent's when it is claimed, or a trace of its own when it is
 * pushed out, waited too long, or the process exits. Spans leave after the
 * table's lock is let go (the exporter may write to its socket).
 */
#define _GNU_SOURCE
#include "ss_dns.h"
#include "ss_config.h"
#include "ss_conn.h"
#include "ss_proto.h"
#include "../exporter/ss_lock.h"
#include "ss_log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SS_DNS_SEEN_MAX 32               /* distinct addresses counted exactly */
#define SS_DNS_RETRY_NS (1000000000ull)  /* an ERANGE retry follows within this */

typedef struct ss_dns_addr {
    uint8_t family;                      /* AF_INET or AF_INET6 */
    uint8_t a[16];
} ss_dns_addr_t;

typedef struct ss_dns_entry {
    uint64_t at_ns;                      /* when the lookup ended */
    const char *kept;                    /* name, as connections carry it (or NULL) */
    ss_span_t *waiting;                  /* its span, waiting for its request */
    uint8_t naddrs;
    ss_dns_addr_t addrs[SS_DNS_LISTED_MAX];
    char name[SS_DNS_NAME_MAX];          /* "": a free entry */
} ss_dns_entry_t;

static ss_lock_t ss_dns_lock = SS_LOCK_INIT;
static ss_dns_entry_t ss_dns_table[SS_DNS_TABLE_MAX];
static unsigned ss_dns_next;             /* the entry the next new name takes */
static int ss_dns_used;                  /* an entry was ever filled: connects look */
/* Names connections point to: never freed, so a connection's stays valid
 * however long it lives; bounded, so a program resolving names without
 * end costs at most SS_DNS_NAMES_MAX of them. */
static const char *ss_dns_kept[SS_DNS_NAMES_MAX];
static unsigned ss_dns_nkept;

void (*ss_dns_sink)(ss_span_t *s);

/* The last gethostbyname*_r of this thread that found its buffer short. */
static __thread struct {
    uint64_t hash, t0, t1;
} ss_dns_retry __attribute__((tls_model("initial-exec")));

int ss_dns_wanted(void)
{
    return !ss_cfg.disabled;
}

int ss_dns_is_numeric(const char *name)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[64];
    const char *pct = strchr(name, '%'); /* fe80::1%eth0 */

    if (inet_aton(name, &a4))
        return 1;
    if (pct) {
        size_t n = (size_t)(pct - name);

        if (n >= sizeof(buf))
            return 0;
        memcpy(buf, name, n);
        buf[n] = '\0';
        name = buf;
    }
    return inet_pton(AF_INET6, name, &a6) == 1;
}

/* The question as the span carries it: at most SS_DNS_NAME_MAX - 1 bytes,
 * what is not printable ASCII (and the backslash) escaped as \DDD, as the
 * conventions ask for dns.question.name. */
static void ss_dns_copy_name(char *out, const char *name)
{
    size_t o = 0;

    for (; name && *name; name++) {
        unsigned char c = (unsigned char)*name;

        if (c >= 32 && c < 127 && c != '\\') {
            if (o + 1 >= SS_DNS_NAME_MAX)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= SS_DNS_NAME_MAX)
                break;
            snprintf(out + o, 5, "\\%03u", c);
            o += 4;
        }
    }
    out[o] = '\0';
}

/* An address as the table keys it (a v4-mapped IPv6 one as IPv4). */
static int ss_dns_key(int family, const void *a, ss_dns_addr_t *k)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(k, 0, sizeof(*k));
    if (family == AF_INET6 && memcmp(a, mapped, 12) == 0) {
        family = AF_INET;
        a = (const uint8_t *)a + 12;
    }
    if (family == AF_INET)
        memcpy(k->a, a, 4);
    else if (family == AF_INET6)
        memcpy(k->a, a, 16);
    else
        return 0;
    k->family = (uint8_t)family;
    return 1;
}

static int ss_dns_key_sockaddr(const struct sockaddr *sa, socklen_t len, ss_dns_addr_t *k)
{
    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
        return ss_dns_key(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, k);
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
        return ss_dns_key(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, k);
    return 0;
}

/* ---- the spans ------------------------------------------------------- */

static void ss_dns_send(ss_span_t *s)
{
    if (ss_dns_sink)
        ss_dns_sink(s);
    else
        ss_span_end(s);
}

/* Spans (linked by next) that nothing claimed: each a trace of its own. */
static void ss_dns_send_alone(ss_span_t *list)
{
    while (list) {
        ss_span_t *s = list;

        list = s->next;
        s->next = NULL;
        ss_span_start_ctx(s, NULL, 0);
        ss_dns_send(s);
    }
}

/* A waiting span w was made for p's request: it becomes p's child. */
static void ss_dns_send_child(ss_span_t *w, const ss_span_t *p)
{
    ss_span_start_ctx(w, &p->ctx, 0);
    if (p->ts_len) {
        memcpy(w->ts, p->ts, p->ts_len + 1u);
        w->ts_len = p->ts_len;
    }
    ss_dns_send(w);
}

static ss_span_t *ss_dns_span(int op, const char *question, uint64_t t0, uint64_t t1)
{
    ss_span_t *s = ss_span_alloc();

    if (s == NULL) {
        SS_COUNT(spans_dropped_memory);
        return NULL;
    }
    s->kind = SS_KIND_CLIENT;
    s->type = SS_SPAN_DNS;
    s->start_ns = t0;
    s->end_ns = t1 > t0 ? t1 : t0 + 1;
    memset(&s->dns, 0, offsetof(ss_span_dns_t, answer));
    ss_dns_copy_name(s->dns.name, question);
    s->dns.op = (uint8_t)op;
    return s;
}

/* Count an answer, once per distinct address; list the first ones. */
static void ss_dns_answer(ss_span_t *s, ss_dns_addr_t *seen, unsigned *n, int family,
                          const void *a)
{
    ss_dns_addr_t k;
    unsigned i;

    if (!ss_dns_key(family, a, &k))
        return;
    for (i = 0; i < *n; i++)
        if (memcmp(&seen[i], &k, sizeof(k)) == 0)
            return;
    if (*n < SS_DNS_SEEN_MAX)
        seen[(*n)++] = k;
    if (s->dns.listed < SS_DNS_LISTED_MAX)
        inet_ntop(family, a, s->dns.answer[s->dns.listed++], SS_DNS_ADDR_TEXT);
    if (s->dns.answers < UINT16_MAX)
        s->dns.answers++;
}

static const char *ss_dns_eai_name(int rc, int err, char *buf, size_t cap)
{
    static const struct {
        int rc;
        const char *name;
    } names[] = {
        {EAI_NONAME, "EAI_NONAME"},     {EAI_AGAIN, "EAI_AGAIN"},
        {EAI_FAIL, "EAI_FAIL"},         {EAI_NODATA, "EAI_NODATA"},
        {EAI_FAMILY, "EAI_FAMILY"},     {EAI_ADDRFAMILY, "EAI_ADDRFAMILY"},
        {EAI_SOCKTYPE, "EAI_SOCKTYPE"}, {EAI_SERVICE, "EAI_SERVICE"},
        {EAI_MEMORY, "EAI_MEMORY"},     {EAI_BADFLAGS, "EAI_BADFLAGS"},
        {EAI_OVERFLOW, "EAI_OVERFLOW"}, {EAI_INTR, "EAI_INTR"},
    };
    size_t i;

    if (rc == EAI_SYSTEM)
        return err ? ss_errno_name(err, buf, cap) : "EAI_SYSTEM";
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].rc == rc)
            return names[i].name;
    snprintf(buf, cap, "EAI_%d", rc);
    return buf;
}

static const char *ss_dns_herr_name(int herr, char *buf, size_t cap)
{
    switch (herr) {
    case HOST_NOT_FOUND:
        return "HOST_NOT_FOUND";
    case TRY_AGAIN:
        return "TRY_AGAIN";
    case NO_RECOVERY:
        return "NO_RECOVERY";
    case NO_DATA:
        return "NO_DATA";
    }
    snprintf(buf, cap, "h_errno_%d", herr);
    return buf;
}

static void ss_dns_set_error(ss_span_t *s, const char *e)
{
    snprintf(s->error_type, sizeof(s->error_type), "%s", e);
}

/* ---- the table ------------------------------------------------------- */

/* Call with ss_dns_lock held. */
static ss_dns_entry_t *ss_dns_find_name(const char *name)
{
    unsigned i;

    for (i = 0; i < SS_DNS_TABLE_MAX; i++)
        if (ss_dns_table[i].name[0] && strcasecmp(ss_dns_table[i].name, name) == 0)
            return &ss_dns_table[i];
    return NULL;
}

/* The latest lookup that gave k; call with ss_dns_lock held. */
static ss_dns_entry_t *ss_dns_find_addr(const ss_dns_addr_t *k)
{
    ss_dns_entry_t *best = NULL;
    unsigned i, j;

    for (i = 0; i < SS_DNS_TABLE_MAX; i++) {
        ss_dns_entry_t *e = &ss_dns_table[i];

        for (j = 0; j < e->naddrs; j++)
            if (memcmp(&e->addrs[j], k, sizeof(*k)) == 0 && (best == NULL || e->at_ns > best->at_ns))
                best = e;
    }
    return best;
}

/* Unlink the spans that waited longer than SS_DNS_WAIT_NS at now, onto
 * *out; call with ss_dns_lock held. */
static void ss_dns_expire(uint64_t now, ss_span_t **out)
{
    unsigned i;

    for (i = 0; i < SS_DNS_TABLE_MAX; i++) {
        ss_dns_entry_t *e = &ss_dns_table[i];

        if (e->waiting && now > e->at_ns + SS_DNS_WAIT_NS) {
            e->waiting->next = *out;
            *out = e->waiting;
            e->waiting = NULL;
        }
    }
}

/* name, kept for good (NULL: no room); call with ss_dns_lock held. */
static const char *ss_dns_keep(const char *name)
{
    size_t n = strlen(name) + 1;
    unsigned i;
    char *p;

    for (i = 0; i < ss_dns_nkept; i++)
        if (strcasecmp(ss_dns_kept[i], name) == 0)
            return ss_dns_kept[i];
    if (ss_dns_nkept == SS_DNS_NAMES_MAX || (p = malloc(n)) == NULL)
        return NULL;
    memcpy(p, name, n);
    ss_dns_kept[ss_dns_nkept++] = p;
    return p;
}

/* A forward lookup of name gave addrs; waiting is its span when it had
 * no request to belong to. */
static void ss_dns_remember(const char *name, const ss_dns_addr_t *addrs, unsigned n,
                            ss_span_t *waiting, uint64_t at)
{
    ss_span_t *alone = NULL;
    ss_dns_entry_t *e;

    ss_lock(&ss_dns_lock);
    ss_dns_expire(at, &alone);
    e = ss_dns_find_name(name);
    if (e == NULL) {
        e = &ss_dns_table[ss_dns_next];
        ss_dns_next = (ss_dns_next + 1) % SS_DNS_TABLE_MAX;
    }
    if (e->waiting) { /* pushed out, or the name looked up again */
        e->waiting->next = alone;
        alone = e->waiting;
    }
    e->at_ns = at;
    e->waiting = waiting;
    e->naddrs = (uint8_t)(n < SS_DNS_LISTED_MAX ? n : SS_DNS_LISTED_MAX);
    memcpy(e->addrs, addrs, e->naddrs * sizeof(addrs[0]));
    memcpy(e->name, name, strlen(name) + 1);
    e->kept = n ? ss_dns_keep(name) : NULL;
    __atomic_store_n(&ss_dns_used, 1, __ATOMIC_RELAXED);
    ss_unlock(&ss_dns_lock);
    ss_dns_send_alone(alone);
}

/* The span waiting for a request to k (if given), else to name (if
 * given); NULL if none waits, or it waited too long. */
static ss_span_t *ss_dns_claim(const ss_dns_addr_t *k, const char *name, uint64_t now)
{
    ss_span_t *alone = NULL, *w = NULL;
    ss_dns_entry_t *e = NULL;

    ss_lock(&ss_dns_lock);
    ss_dns_expire(now, &alone);
    if (k)
        e = ss_dns_find_addr(k);
    if ((e == NULL || e->waiting == NULL) && name)
        e = ss_dns_find_name(name);
    if (e) {
        w = e->waiting;
        e->waiting = NULL;
    }
    ss_unlock(&ss_dns_lock);
    ss_dns_send_alone(alone);
    return w;
}

/* A lookup's span is complete: it belongs to the request the thread
 * serves, or waits for the one it was made for (forward lookups). */
static void ss_dns_finish(ss_span_t *s, const ss_dns_addr_t *seen, unsigned n, int forward)
{
    ss_ctx_t parent;

    ss_stack_at_end(s); /* still in the lookup's call: a slow or failed one's stack */
    if (ss_conn_thread_ctx(&parent)) {
        ss_span_start_ctx(s, &parent, 0);
        if (forward && n)
            ss_dns_remember(s->dns.name, seen, n, NULL, s->end_ns);
        ss_dns_send(s);
    } else if (forward) {
        ss_dns_remember(s->dns.name, seen, n, s, s->end_ns);
    } else {
        ss_span_start_ctx(s, NULL, 0);
        ss_dns_send(s);
    }
}

/* ---- the lookups ----------------------------------------------------- */

void ss_dns_addrinfo_done(const char *node, uint64_t t0, uint64_t t1, int rc, int err,
                          const struct addrinfo *res)
{
    ss_dns_addr_t seen[SS_DNS_SEEN_MAX];
    unsigned n = 0;
    char buf[24];
    ss_span_t *s = ss_dns_span(SS_DNS_GETADDRINFO, node, t0, t1);

    if (s == NULL)
        return;
    if (rc != 0)
        ss_dns_set_error(s, ss_dns_eai_name(rc, err, buf, sizeof(buf)));
    for (; rc == 0 && res; res = res->ai_next) {
        const struct sockaddr *sa = res->ai_addr;

        if (sa && sa->sa_family == AF_INET && res->ai_addrlen >= sizeof(struct sockaddr_in))
            ss_dns_answer(s, seen, &n, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
        else if (sa && sa->sa_family == AF_INET6 && res->ai_addrlen >= sizeof(struct sockaddr_in6))
            ss_dns_answer(s, seen, &n, AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
    }
    ss_dns_finish(s, seen, n, 1);
}

void ss_dns_hostent_done(int op, const char *name, uint64_t t0, uint64_t t1,
                         const struct hostent *h, int herr)
{
    ss_dns_addr_t seen[SS_DNS_SEEN_MAX];
    unsigned n = 0, i;
    char buf[24];
    ss_span_t *s;

    ss_dns_retry.hash = 0; /* the lookup is over */
    if ((s = ss_dns_span(op, name, t0, t1)) == NULL)
        return;
    if (h == NULL)
        ss_dns_set_error(s, ss_dns_herr_name(herr, buf, sizeof(buf)));
    for (i = 0; h && h->h_addr_list && h->h_addr_list[i]; i++)
        if ((h->h_addrtype == AF_INET && h->h_length == 4) ||
            (h->h_addrtype == AF_INET6 && h->h_length == 16))
            ss_dns_answer(s, seen, &n, h->h_addrtype, h->h_addr_list[i]);
    ss_dns_finish(s, seen, n, 1);
}

void ss_dns_nameinfo_done(const struct sockaddr *sa, socklen_t len, uint64_t t0, uint64_t t1,
                          int rc, int err, const char *host)
{
    ss_dns_addr_t k;
    char question[SS_DNS_ADDR_TEXT], buf[24];
    ss_span_t *s;

    if (!ss_dns_key_sockaddr(sa, len, &k) ||
        inet_ntop(k.family, k.a, question, sizeof(question)) == NULL ||
        (s = ss_dns_span(SS_DNS_GETNAMEINFO, question, t0, t1)) == NULL)
        return;
    if (rc != 0)
        ss_dns_set_error(s, ss_dns_eai_name(rc, err, buf, sizeof(buf)));
    else if (host && strcmp(host, question) != 0) /* not the address itself: a name */
        s->dns.answers = 1;
    ss_dns_finish(s, NULL, 0, 0);
}

static uint64_t ss_dns_hash(const char *name)
{
    uint64_t h = 1469598103934665603ull;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h | 1; /* never 0: 0 is "none" */
}

void ss_dns_retry_note(const char *name, uint64_t t0, uint64_t t1)
{
    ss_dns_retry.hash = ss_dns_hash(name);
    ss_dns_retry.t0 = t0;
    ss_dns_retry.t1 = t1;
}

uint64_t ss_dns_retry_start(const char *name, uint64_t t0)
{
    if (ss_dns_retry.hash && ss_dns_retry.hash == ss_dns_hash(name) &&
        t0 < ss_dns_retry.t1 + SS_DNS_RETRY_NS)
        return ss_dns_retry.t0;
    return t0;
}

/* ---- what the lookups were for --------------------------------------- */

void ss_dns_conn_named(ss_dns_conn_t *d, const struct sockaddr *sa, socklen_t len)
{
    ss_dns_addr_t k;
    ss_dns_entry_t *e;

    d->name = NULL;
    d->waiting = 0;
    if (!__atomic_load_n(&ss_dns_used, __ATOMIC_RELAXED) || !ss_dns_key_sockaddr(sa, len, &k))
        return;
    ss_lock(&ss_dns_lock);
    if ((e = ss_dns_find_addr(&k)) != NULL && e->kept) {
        d->name = e->kept;
        d->waiting = e->waiting != NULL;
    }
    ss_unlock(&ss_dns_lock);
}

void ss_dns_exchange_named(ss_span_t *s, ss_dns_conn_t *d)
{
    memcpy(s->server_name, d->name, strlen(d->name) + 1);
    if (!d->waiting)
        return;
    d->waiting = 0;
    /* In libcurl its transfer claims it (ss_dns_adopt), not the socket's. */
    if (!s->ctx.valid || s->dns_child || ss_conn_in_library())
        return;
    s->dns_child = ss_dns_claim(NULL, d->name, ss_now_ns());
}

void ss_dns_parent_ends(ss_span_t *s, int exported)
{
    ss_span_t *w = s->dns_child;

    s->dns_child = NULL;
    if (!ss_span_is_own(s)) { /* a fork child's copy: the parent sends the lookup */
        ss_span_free(w);
    } else if (exported) {
        ss_dns_send_child(w, s);
    } else {
        w->next = NULL;
        ss_dns_send_alone(w); /* its parent leaves no span */
    }
}

void ss_dns_adopt(const ss_span_t *parent, const char *name, const char *addr)
{
    char host[SS_DNS_NAME_MAX], *colon;
    ss_dns_addr_t k;
    uint8_t a[16];
    int have = 0;
    ss_span_t *w;

    if (!__atomic_load_n(&ss_dns_used, __ATOMIC_RELAXED) || !parent->ctx.valid)
        return;
    if (addr && inet_pton(AF_INET, addr, a) == 1)
        have = ss_dns_key(AF_INET, a, &k);
    else if (addr && inet_pton(AF_INET6, addr, a) == 1)
        have = ss_dns_key(AF_INET6, a, &k);
    ss_dns_copy_name(host, name);
    if (host[0] != '[' && (colon = strrchr(host, ':')) != NULL)
        *colon = '\0'; /* host:port */
    if ((w = ss_dns_claim(have ? &k : NULL, host[0] ? host : NULL, ss_now_ns())) != NULL)
        ss_dns_send_child(w, parent);
}

void ss_dns_flush(void)
{
    ss_span_t *alone = NULL;
    unsigned i;

    if (!__atomic_load_n(&ss_dns_used, __ATOMIC_RELAXED))
        return;
    ss_lock(&ss_dns_lock);
    for (i = 0; i < SS_DNS_TABLE_MAX; i++)
        if (ss_dns_table[i].waiting) {
            ss_dns_table[i].waiting->next = alone;
            alone = ss_dns_table[i].waiting;
            ss_dns_table[i].waiting = NULL;
        }
    ss_unlock(&ss_dns_lock);
    ss_dns_send_alone(alone);
}

void ss_dns_after_fork(void)
{
    unsigned i;

    ss_lock_reset(&ss_dns_lock);
    for (i = 0; i < SS_DNS_TABLE_MAX; i++) { /* the parent sends them; the names stay */
        ss_span_free(ss_dns_table[i].waiting);
        ss_dns_table[i].waiting = NULL;
    }
}
