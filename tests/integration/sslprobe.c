/*
 * sslprobe.c - one OpenSSL session object used for two connections, the
 * way long-lived clients reuse them: SSL_clear and SSL_set_fd between.
 * The first request is sent and abandoned (SSL_shutdown without reading
 * the answer); the second is read whole and printed.
 *
 * usage: sslprobe PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"

static int dial(int port)
{
    int fd = probe_dial(port);

    if (fd < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static void request(SSL *ssl, int fd, int port, int n)
{
    char req[256];
    int len = snprintf(req, sizeof(req),
                       "GET /inventory?reuse=%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Connection: close\r\n\r\n", n, port);

    if (SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 || SSL_write(ssl, req, len) != len) {
        fprintf(stderr, "request %d failed\n", n);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0, fd, r;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    char buf[4096];

    fd = dial(port);
    request(ssl, fd, port, 1);
    SSL_shutdown(ssl); /* abandoned: no answer read */
    close(fd);

    SSL_clear(ssl);
    fd = dial(port);
    request(ssl, fd, port, 2);
    while ((r = SSL_read(ssl, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)r, stdout);
    SSL_shutdown(ssl);
    close(fd);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
