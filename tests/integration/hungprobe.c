/*
 * hungprobe.c - a plain C HTTP server whose handler asks a backend and
 * waits for its answer: the service stuck on a backend that never answers.
 *
 *   hungprobe PORT_FILE BACKEND_PORT MODE
 *
 * One request at a time: read its head, send GET /work to the backend on
 * 127.0.0.1:BACKEND_PORT, read the backend's whole answer (until it closes),
 * answer 200 (502 if the backend failed), close. MODE says what happens
 * while the backend has not answered after 1 s of waiting in poll():
 *   wait   nothing: wait on (the in-flight reports are the news)
 *   exit   exit(3): atexit handlers run, the request still open
 *   _exit  _exit(4): none run
 *   exec   execv("/bin/true"): the image is replaced, the request open
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *mode;

static void give_up(void)
{
    if (strcmp(mode, "exit") == 0)
        exit(3);
    if (strcmp(mode, "_exit") == 0)
        _exit(4);
    if (strcmp(mode, "exec") == 0) {
        char *const args[] = {"true", NULL};

        execv("/bin/true", args);
        _exit(5);
    }
}

static int ask_backend(int port)
{
    static const char req[] = "GET /work HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n";
    struct sockaddr_in sa;
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), got = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
        return 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;

        if (poll(&p, 1, 1000) == 0) {
            give_up();
            continue;
        }
        r = read(fd, buf, sizeof(buf));
        if (r <= 0)
            break;
        got = 1;
    }
    close(fd);
    return got;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    FILE *f;

    if (argc != 4)
        return 2;
    mode = argv[3];
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        return 1;
    f = fopen(argv[1], "w");
    fprintf(f, "%d", ntohs(sa.sin_port));
    fclose(f);
    for (;;) {
        char buf[4096];
        size_t len = 0;
        int fd = accept(lfd, NULL, NULL), ok;

        if (fd < 0)
            continue;
        while (len < sizeof(buf) - 1) {
            ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

            if (r <= 0)
                break;
            len += (size_t)r;
            buf[len] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        ok = ask_backend(atoi(argv[2]));
        len = (size_t)snprintf(buf, sizeof(buf),
                               "HTTP/1.1 %s\r\nContent-Length: 3\r\nConnection: close\r\n\r\n%s",
                               ok ? "200 OK" : "502 Bad Gateway", ok ? "ok\n" : "no\n");
        if (write(fd, buf, len) != (ssize_t)len)
            return 1;
        close(fd);
    }
}
