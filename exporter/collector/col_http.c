/*
 * col_http.c - starting a libmicrohttpd daemon on HOST:PORT (col_http.h).
 */
#define _GNU_SOURCE
#include "col_http.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The daemon on a resolved address (sa) or a listening socket (fd), with
 * the same limits for every endpoint. */
static struct MHD_Daemon *col_http_start(const struct sockaddr *sa, int fd,
                                         MHD_AccessHandlerCallback cb,
                                         MHD_RequestCompletedCallback done, void *cls)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (sa && sa->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return sa ? MHD_start_daemon(flags, 0, NULL, NULL, cb, cls, MHD_OPTION_SOCK_ADDR, sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, done, cls,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
                                 10u, MHD_OPTION_END)
              : MHD_start_daemon(flags, 0, NULL, NULL, cb, cls, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, done, cls,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
                                 10u, MHD_OPTION_END);
}

struct MHD_Daemon *col_http_listen(const char *addr, const char *option, const char *serves,
                                   MHD_AccessHandlerCallback cb, void *cls,
                                   char host_out[COL_HTTP_HOST_MAX])
{
    return col_http_listen_done(addr, option, serves, cb, NULL, cls, host_out);
}

struct MHD_Daemon *col_http_listen_fd(int fd, const char *where, const char *serves,
                                      MHD_AccessHandlerCallback cb,
                                      MHD_RequestCompletedCallback done, void *cls)
{
    struct MHD_Daemon *d = col_http_start(NULL, fd, cb, done, cls);

    if (d == NULL)
        fprintf(stderr, "spanshim-collector: cannot listen on %s for %s\n", where, serves);
    return d;
}

struct MHD_Daemon *col_http_listen_done(const char *addr, const char *option, const char *serves,
                                        MHD_AccessHandlerCallback cb,
                                        MHD_RequestCompletedCallback done, void *cls,
                                        char host_out[COL_HTTP_HOST_MAX])
{
    char host[COL_HTTP_HOST_MAX];
    const char *colon = strrchr(addr, ':'), *port, *given = addr;
    struct addrinfo hints, *ai = NULL;
    struct MHD_Daemon *d;
    size_t n;
    int rc;

    if (colon == NULL) {
        fprintf(stderr, "spanshim-collector: %s wants HOST:PORT, not %s\n", option, addr);
        return NULL;
    }
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n >= sizeof(host)) {
        fprintf(stderr, "spanshim-collector: %s: the host name is too long\n", option);
        return NULL;
    }
    memcpy(host, addr, n);
    host[n] = '\0';
    port = colon + 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(n ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "spanshim-collector: %s %s: %s\n", option, given, gai_strerror(rc));
        return NULL;
    }
    if (host_out) /* before the daemon's threads may read it */
        memcpy(host_out, host, n + 1);
    d = col_http_start(ai->ai_addr, -1, cb, done, cls);
    freeaddrinfo(ai);
    if (d == NULL)
        fprintf(stderr, "spanshim-collector: cannot listen on %s for %s\n", given, serves);
    return d;
}
