/*
 * ss_tls.c - the table of TLS sessions followed (see ss_tls.h).
 */
#define _GNU_SOURCE
#include "ss_tls.h"
#include "ss_fd.h"
#include "../exporter/ss_lock.h"
#include "ss_real.h"

#include <stdint.h>
#include <stdlib.h>

#define SS_TLS_BUCKETS 1024

typedef struct ss_tls_node {
    void *ssl;
    int fd;
    ss_conn_t *conn;
    struct ss_tls_node *next;
} ss_tls_node_t;

static ss_lock_t ss_tls_lock = SS_LOCK_INIT;
static ss_tls_node_t *ss_tls_table[SS_TLS_BUCKETS];

static unsigned ss_tls_bucket(const void *ssl)
{
    uintptr_t x = (uintptr_t)ssl;

    return (unsigned)((x >> 4) ^ (x >> 14)) % SS_TLS_BUCKETS;
}

void ss_tls_describe_openssl(void *ssl, int *fd, int *server)
{
    *fd = ss_real_SSL_get_fd(ssl);
    *server = ss_real_SSL_is_server(ssl) == 1;
}

void ss_tls_describe_gnutls(void *session, int *fd, int *server)
{
    *fd = ss_real_gnutls_transport_get_int(session);
    *server = -1;
}

ss_conn_t *ss_tls_get(void *ssl, int *fd, ss_tls_describe_t describe, int writing)
{
    unsigned b = ss_tls_bucket(ssl);
    ss_tls_node_t *n;
    ss_conn_t *c = NULL;
    int server;

    ss_lock(&ss_tls_lock);
    for (n = ss_tls_table[b]; n; n = n->next)
        if (n->ssl == ssl)
            break;
    if (n) {
        c = n->conn;
        *fd = n->fd;
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    }
    ss_unlock(&ss_tls_lock);
    if (c)
        return c;

    /* First sight of this session. */
    n = malloc(sizeof(*n));
    if (n == NULL)
        return NULL;
    n->ssl = ssl;
    describe(ssl, &n->fd, &server);
    if (server < 0)
        server = !writing;
    n->conn = ss_conn_new_tls(n->fd, server);
    if (n->conn == NULL) {
        free(n);
        return NULL;
    }
    if (n->fd >= 0)
        ss_conn_forget(n->fd); /* the socket below carries ciphertext */
    c = n->conn;
    *fd = n->fd;
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED); /* the caller's; the table keeps one */
    ss_lock(&ss_tls_lock);
    n->next = ss_tls_table[b];
    ss_tls_table[b] = n;
    ss_unlock(&ss_tls_lock);
    return c;
}

void ss_tls_free(void *ssl)
{
    unsigned b = ss_tls_bucket(ssl);
    ss_tls_node_t **pp, *n = NULL;

    ss_lock(&ss_tls_lock);
    for (pp = &ss_tls_table[b]; *pp; pp = &(*pp)->next) {
        if ((*pp)->ssl == ssl) {
            n = *pp;
            *pp = n->next;
            break;
        }
    }
    ss_unlock(&ss_tls_lock);
    if (n == NULL)
        return;
    ss_conn_end(n->conn);
    ss_conn_put(n->conn);
    free(n);
}

void ss_tls_after_fork(void)
{
    ss_lock_reset(&ss_tls_lock);
}
