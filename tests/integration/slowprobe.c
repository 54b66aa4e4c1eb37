/*
 * slowprobe.c - a non-blocking client with the smallest send buffer the
 * kernel allows, against a server that reads a few hundred bytes at a time.
 * Writes are short and EAGAIN is frequent, which is where injected header
 * bytes have to be carried from one call to the next.
 *
 *   slowprobe server PORT_FILE OUT   read one request slowly, save its bytes
 *                                    to OUT, answer 200
 *   slowprobe client PORT SIZE       POST a SIZE-byte body; abort if any
 *                                    write returns more than it was given
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void wait_fd(int fd, short ev)
{
    struct pollfd p = {fd, ev, 0};

    poll(&p, 1, 5000);
}

static int server(const char *port_file, const char *out)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, small = 4096;
    size_t cap = 4 << 20, len = 0;
    char *buf = malloc(cap), *end = NULL;
    FILE *f;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        return 1;
    f = fopen(port_file, "w");
    fprintf(f, "%d", ntohs(sa.sin_port));
    fclose(f);
    fd = accept(lfd, NULL, NULL);
    for (;;) {
        ssize_t r = read(fd, buf + len, 300);

        if (r <= 0)
            return 1;
        len += (size_t)r;
        usleep(100);
        if (end == NULL && (end = memmem(buf, len, "\r\n\r\n", 4)) != NULL)
            end += 4;
        if (end) {
            char *cl = strcasestr(buf, "content-length:");
            size_t body = strtoul(cl + 15, NULL, 10);

            if (len >= (size_t)(end - buf) + body)
                break;
        }
    }
    f = fopen(out, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
    close(fd);
    return 0;
}

static int client(int port, size_t size)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), small = 1;
    size_t head_len, len, off = 0, i;
    char *msg = malloc(size + 256), resp[256];
    ssize_t r;

    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)); /* the minimum */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
        return 1;
    wait_fd(fd, POLLOUT);
    head_len = (size_t)sprintf(msg, "POST /upload HTTP/1.1\r\nHost: slow\r\nContent-Length: %zu\r\n\r\n", size);
    for (i = 0; i < size; i++)
        msg[head_len + i] = (char)('a' + i % 26);
    len = head_len + size;
    while (off < len) {
        size_t want = len - off;

        if (off % 3 == 1 && want > 7000)
            want = 7000; /* mix whole-rest and partial writes */
        r = write(fd, msg + off, want);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait_fd(fd, POLLOUT);
            continue;
        }
        if (r < 0 || (size_t)r > want) {
            fprintf(stderr, "write returned %zd for %zu\n", r, want);
            abort();
        }
        off += (size_t)r;
    }
    for (;;) {
        wait_fd(fd, POLLIN);
        r = read(fd, resp, sizeof(resp));
        if (r > 0 || (r < 0 && errno != EAGAIN))
            break;
    }
    printf("sent %zu\n", size);
    return r > 12 && memcmp(resp, "HTTP/1.1 200", 12) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "server") == 0)
        return server(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "client") == 0)
        return client(atoi(argv[2]), strtoul(argv[3], NULL, 10));
    return 2;
}
