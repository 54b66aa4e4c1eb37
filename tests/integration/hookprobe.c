/*
 * hookprobe.c - one HTTP exchange through a chosen pair of libc calls.
 *
 *   hookprobe server PORT_FILE RECV SEND   accept one connection, read a
 *       request with RECV, answer with SEND, print the request bytes to stdout
 *   hookprobe client PORT SEND RECV        send a request with SEND, read the
 *       response with RECV, exit 0 on a complete 200
 *
 * RECV is read, recv, recvfrom, recvmsg or readv; SEND is write, send,
 * sendto, sendmsg or writev. Built twice by the tests, plain and with
 * -O2 -D_FORTIFY_SOURCE=2, where read/recv/recvfrom become glibc's __*_chk
 * entry points, so every hook is exercised both ways.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads go into a buffer of known size first, so that a fortified build
 * calls the __*_chk variants. */
__attribute__((noinline)) static ssize_t probe_recv(const char *how, int fd, char *buf, size_t n)
{
    static char tmp[8192]; /* callers never ask for more */
    ssize_t r = -2;

    if (strcmp(how, "read") == 0)
        r = read(fd, tmp, n);
    else if (strcmp(how, "recv") == 0)
        r = recv(fd, tmp, n, 0);
    else if (strcmp(how, "recvfrom") == 0)
        r = recvfrom(fd, tmp, n, 0, NULL, NULL);
    if (r != -2) {
        if (r > 0)
            memcpy(buf, tmp, (size_t)r);
        return r;
    }
    if (strcmp(how, "recvmsg") == 0 || strcmp(how, "readv") == 0) {
        struct iovec iov[2] = {{buf, n / 3}, {buf + n / 3, n - n / 3}};
        struct msghdr m;

        if (strcmp(how, "readv") == 0)
            return readv(fd, iov, 2);
        memset(&m, 0, sizeof(m));
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        return recvmsg(fd, &m, 0);
    }
    fprintf(stderr, "unknown RECV %s\n", how);
    exit(2);
}

/* Send all of buf, in two pieces so the shim sees a split message. */
static void probe_send(const char *how, int fd, const char *buf, size_t n)
{
    size_t off = 0;

    while (off < n) {
        size_t want = off == 0 ? n / 2 : n - off;
        const char *p = buf + off;
        ssize_t r;

        if (strcmp(how, "write") == 0)
            r = write(fd, p, want);
        else if (strcmp(how, "send") == 0)
            r = send(fd, p, want, 0);
        else if (strcmp(how, "sendto") == 0)
            r = sendto(fd, p, want, 0, NULL, 0);
        else if (strcmp(how, "sendmsg") == 0 || strcmp(how, "writev") == 0) {
            struct iovec iov[2] = {{(void *)p, want / 2}, {(void *)(p + want / 2), want - want / 2}};
            struct msghdr m;

            memset(&m, 0, sizeof(m));
            m.msg_iov = iov;
            m.msg_iovlen = 2;
            r = strcmp(how, "writev") == 0 ? writev(fd, iov, 2) : sendmsg(fd, &m, 0);
        } else {
            fprintf(stderr, "unknown SEND %s\n", how);
            exit(2);
        }
        if (r <= 0 || (size_t)r > want) {
            perror("send");
            exit(1);
        }
        off += (size_t)r;
    }
}

/* Read until the head and Content-Length bytes of body are in. */
static size_t probe_read_message(const char *how, int fd, char *buf, size_t cap)
{
    size_t len = 0;

    for (;;) {
        char *end;
        ssize_t r = probe_recv(how, fd, buf + len, cap - len - 1);

        if (r <= 0)
            return len;
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            char *cl = strcasestr(buf, "content-length:");
            size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;

            if (len >= (size_t)(end - buf) + 4 + body)
                return len;
        }
    }
}

int main(int argc, char **argv)
{
    char buf[8192];
    struct sockaddr_in sa;
    int fd;

    if (argc != 5)
        return 2;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (strcmp(argv[1], "server") == 0) {
        static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        socklen_t sl = sizeof(sa);
        FILE *f;
        size_t n;
        int c;

        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
            return 1;
        f = fopen(argv[2], "w");
        fprintf(f, "%d", ntohs(sa.sin_port));
        fclose(f);
        c = accept(fd, NULL, NULL);
        n = probe_read_message(argv[3], c, buf, sizeof(buf));
        probe_send(argv[4], c, resp, sizeof(resp) - 1);
        fwrite(buf, 1, n, stdout);
        close(c);
        return 0;
    } else {
        static const char req[] = "POST /probe HTTP/1.1\r\nHost: probe\r\nContent-Length: 4\r\n\r\nping";
        size_t n;

        sa.sin_port = htons((uint16_t)atoi(argv[2]));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return 1;
        probe_send(argv[3], fd, req, sizeof(req) - 1);
        n = probe_read_message(argv[4], fd, buf, sizeof(buf));
        close(fd);
        return n > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\r\n\r\nhello") ? 0 : 1;
    }
}
