/*
 * deeplib.c - the library deepprobe opens (RTLD_DEEPBIND or not): one HTTP
 * request made with socket, connect, send and recv from inside it, and
 * two names it defines itself that the program (deep_who) or the C
 * library (dup) define too. Opened RTLD_DEEPBIND it must keep its own.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"

const char *deep_who(void)
{
    return "library";
}

/* A hooked name the library keeps for itself. */
int dup(int fd)
{
    (void)fd;
    return -42;
}

const char *deeplib_whose(void)
{
    return deep_who();
}

int deeplib_dup(void)
{
    return dup(0);
}

/* GET path from 127.0.0.1:port; the response's status code, or -1. */
int deeplib_get(int port, const char *path)
{
    char req[256], buf[4096];
    size_t got = 0;
    ssize_t n;
    int fd = probe_dial(port), status = -1;

    if (fd < 0)
        return -1;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: deep\r\nConnection: close\r\n\r\n", path);
    if (send(fd, req, strlen(req), 0) != (ssize_t)strlen(req)) {
        close(fd);
        return -1;
    }
    while (got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        status = -1;
    close(fd);
    return status;
}
