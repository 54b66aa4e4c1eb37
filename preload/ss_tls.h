/*
 * ss_tls.h - connections followed through their TLS session.
 *
 * Inside TLS the shim sees plaintext at SSL_read and SSL_write, keyed by
 * the session pointer rather than the fd (the socket below carries
 * ciphertext and is let go after its first bytes, as anything not HTTP
 * is). A small hash table maps each session to its connection, from the
 * first read or write until SSL_free.
 */
#ifndef SS_TLS_H
#define SS_TLS_H

#include "ss_conn.h"

/* How a TLS library describes a session: its socket (or -1) and its side
 * (1 server, 0 client, -1 unknown: then the first call decides, a write
 * being a client's). */
typedef void (*ss_tls_describe_t)(void *session, int *fd, int *server);

/* The connection of a session (made on first use, `writing` telling what
 * that use is), with a reference; *fd is the socket under it (or -1).
 * NULL if it cannot be followed. */
ss_conn_t *ss_tls_get(void *ssl, int *fd, ss_tls_describe_t describe, int writing);

/* OpenSSL and GnuTLS sessions. */
void ss_tls_describe_openssl(void *ssl, int *fd, int *server);
void ss_tls_describe_gnutls(void *session, int *fd, int *server);

/* The session is being freed: its exchanges end, the entry goes. */
void ss_tls_free(void *ssl);

void ss_tls_after_fork(void);

#endif
