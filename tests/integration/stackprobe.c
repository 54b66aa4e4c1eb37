/*
 * stackprobe.c - a C client whose call to a backend goes through functions
 * of its own, so a span's code.stacktrace can be checked for them (built
 * with symbols, stripped, and -O2 without frame pointers: CMakeLists).
 *
 *   stackprobe PORT PATH [PATH...]   GET each PATH from 127.0.0.1:PORT on a
 *                                    connection of its own, print its status
 *
 * The functions are not static and not inlined: each is a frame, named in
 * the program's .symtab (not its dynamic symbols: it exports none).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

/* Read the response head's status; -1 if the connection failed. */
NOINLINE int probe_read_status(int fd)
{
    char buf[4096];
    size_t len = 0;
    ssize_t r;

    while (len < sizeof(buf) - 1 && (r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    buf[len] = '\0';
    if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12)
        return -1;
    return atoi(buf + 9);
}

NOINLINE int probe_http_get(int port, const char *path)
{
    struct sockaddr_in sa;
    char req[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n, status;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                 path);
    if (send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return -1;
    }
    status = probe_read_status(fd);
    close(fd);
    return status;
}

NOINLINE int probe_fetch_price(int port, const char *path)
{
    int status = probe_http_get(port, path);

    __asm__ volatile("" ::: "memory"); /* not a tail call: this frame stays */
    return status;
}

int main(int argc, char **argv)
{
    int i, port;

    if (argc < 3) {
        fprintf(stderr, "usage: stackprobe PORT PATH...\n");
        return 2;
    }
    port = atoi(argv[1]);
    for (i = 2; i < argc; i++) {
        printf("%s %d\n", argv[i], probe_fetch_price(port, argv[i]));
        fflush(stdout);
    }
    return 0;
}
