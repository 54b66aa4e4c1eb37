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

/* The connection of session ssl (made on first use), with a reference;
 * *fd is the socket under it (or -1). NULL if it cannot be followed. */
ss_conn_t *ss_tls_get(void *ssl, int *fd);

/* The session is being freed: its exchanges end, the entry goes. */
void ss_tls_free(void *ssl);

void ss_tls_after_fork(void);

#endif
