/*
 * ctorprobe.c - a library whose constructor and destructor make an HTTP
 * request, as libraries that phone home at load or unload time do.
 * Preloaded next to the shim, its calls may come before the shim's
 * constructor has run or after its exit handler and destructor; either way
 * the request must work. CTORPROBE_PORT names the server; the outcome goes
 * to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void ctorprobe_get(const char *who)
{
    char req[128];
    const char *p = getenv("CTORPROBE_PORT");
    struct sockaddr_in sa;
    char buf[512];
    ssize_t n;
    int fd;

    if (p == NULL)
        return;
    snprintf(req, sizeof(req), "GET /inventory?who=%s HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n", who);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(p));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        fprintf(stderr, "ctorprobe: failed\n");
        return;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    fprintf(stderr, "ctorprobe %s: %s\n", who, strncmp(buf, "HTTP/1.1 200", 12) == 0 ? "200" : "bad");
}

__attribute__((constructor)) static void ctorprobe_ctor(void)
{
    ctorprobe_get("ctor");
}

__attribute__((destructor)) static void ctorprobe_dtor(void)
{
    ctorprobe_get("dtor");
}
