/*
 * errnoprobe.c - prints every return value and errno a program sees from
 * the hooked calls in ordinary and failing situations. The test runs it
 * with and without the shim: the two outputs must be identical.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SHOW(what, expr)                                                     \
    do {                                                                     \
        long r_;                                                             \
        errno = 1234; /* must survive every successful call */               \
        r_ = (long)(expr);                                                   \
        printf("%-28s -> %ld errno %s\n", what, r_, errno == 1234 ? "kept" : strerrorname_np(errno)); \
    } while (0)

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

int main(void)
{
    static const char req[] = "GET /errno HTTP/1.1\r\nHost: probe\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct sockaddr_in sa = loopback(0);
    socklen_t sl = sizeof(sa);
    char buf[4096];
    int lfd, cfd, sfd, nb, err = 0, dupfd;
    socklen_t el = sizeof(err);

    /* A refused connect, blocking and non-blocking. */
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    sa = loopback(1);
    SHOW("connect refused", connect(cfd, (struct sockaddr *)&sa, sizeof(sa)));
    close(cfd);
    nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW("connect nonblocking", connect(nb, (struct sockaddr *)&sa, sizeof(sa)));
    {
        struct pollfd p = {nb, POLLOUT, 0};
        poll(&p, 1, 2000);
    }
    SHOW("getsockopt SO_ERROR", getsockopt(nb, SOL_SOCKET, SO_ERROR, &err, &el));
    printf("%-28s -> %s\n", "SO_ERROR value", strerrorname_np(err));
    SHOW("send on refused socket", send(nb, req, sizeof(req) - 1, MSG_NOSIGNAL));
    SHOW("close", close(nb));

    /* A real exchange with ourselves. */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    sa = loopback(0);
    bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
    listen(lfd, 4);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("connect", connect(cfd, (struct sockaddr *)&sa, sizeof(sa)));
    sfd = accept(lfd, NULL, NULL);
    printf("%-28s -> %s\n", "accept", sfd >= 0 ? "fd" : "failed");
    fcntl(cfd, F_SETFL, O_NONBLOCK);
    SHOW("recv, nothing yet", recv(cfd, buf, sizeof(buf), 0));
    SHOW("read, nothing yet", read(cfd, buf, sizeof(buf)));
    SHOW("send request", send(cfd, req, sizeof(req) - 1, 0));
    usleep(50000);
    {
        ssize_t n = read(sfd, buf, sizeof(buf));
        printf("%-28s -> %s\n", "server got the request", n >= (ssize_t)sizeof(req) - 1 ? "yes" : "no");
    }
    SHOW("server write response", write(sfd, resp, sizeof(resp) - 1));
    usleep(50000);
    SHOW("recv MSG_PEEK", recv(cfd, buf, 5, MSG_PEEK));
    SHOW("recv response", recv(cfd, buf, sizeof(buf), 0));
    SHOW("recv, drained", recv(cfd, buf, sizeof(buf), 0));
    SHOW("writev zero iovecs", writev(cfd, NULL, 0));
    SHOW("send zero bytes", send(cfd, req, 0, 0));
    dupfd = dup(cfd);
    printf("%-28s -> %s\n", "dup", dupfd >= 0 ? "fd" : "failed");
    SHOW("dup2 onto itself", dup2(cfd, cfd) == cfd);
    SHOW("dup3 same fds", dup3(cfd, cfd, 0));
    SHOW("close server side", close(sfd));
    usleep(50000);
    SHOW("recv after peer close", recv(cfd, buf, sizeof(buf), 0));
    SHOW("send after peer close", send(cfd, req, sizeof(req) - 1, MSG_NOSIGNAL));
    usleep(50000);
    SHOW("send after reset", send(cfd, req, sizeof(req) - 1, MSG_NOSIGNAL));
    SHOW("shutdown", shutdown(cfd, SHUT_RDWR));
    SHOW("close", close(cfd));
    SHOW("close again", close(cfd));
    SHOW("close dup", close(dupfd));
    SHOW("read bad fd", read(cfd, buf, sizeof(buf)));
    SHOW("recv bad fd", recv(-1, buf, sizeof(buf), 0));
    SHOW("dup bad fd", dup(-5));
    SHOW("dup2 bad fd", dup2(-5, 100));
    SHOW("shutdown not a socket", shutdown(0, SHUT_RD));
    SHOW("accept not listening", accept(cfd, NULL, NULL));
    SHOW("close listener", close(lfd));
    return 0;
}
