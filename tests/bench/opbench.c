/*
 * opbench.c - the operations whose instruction counts the benchmark takes
 * with callgrind, traced and untraced, in one process over loopback TCP:
 *
 *   opbench opaque N   N times: send 64 bytes on a connection that is not
 *                      HTTP, recv them on the other end (a send/recv pair);
 *   opbench http N     N times: a client sends an HTTP/1.1 request, the
 *                      server reads it and answers, the client reads the
 *                      answer (one CLIENT and one SERVER span when traced);
 *   opbench redis N    N times: a Redis GET and its bulk reply (one CLIENT
 *                      span when traced: the database is the server);
 *   opbench pg N       after a PostgreSQL start-up, N times: a simple query
 *                      (pgbench -S's) and its row, CommandComplete and
 *                      ReadyForQuery (one CLIENT span when traced);
 *   opbench httpfull N http's exchanges with the heads a browser and nginx
 *                      send (Accept, Accept-Encoding, Accept-Language,
 *                      Cookie, Referer; Server, Date, Content-Type,
 *                      Connection, Last-Modified, ETag): the headers no
 *                      span reads, which http's minimal heads do not have;
 *   opbench httplog N  http's exchanges, the server writing one log line to
 *                      stderr (a pipe, not a socket) while it serves each:
 *                      with SPANSHIM_LOGS=span a log record in its span.
 *
 * The benchmark runs each at two values of N and takes the difference, so
 * start-up (loading, the shim's constructor) cancels out.
 *
 *   opbench http-paced RATE SECONDS
 *                      http's exchanges, RATE spans a second (two an
 *                      exchange) for SECONDS: the load of one process whose
 *                      spans the transport must keep up with (shim_rate.py).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* A connected pair over loopback TCP: *cli connected, *srv accepted. */
static void tcp_pair(int *cli, int *srv)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) < 0)
        die("listen");
    if ((*cli = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        connect(*cli, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect");
    if ((*srv = accept(l, NULL, NULL)) < 0)
        die("accept");
    setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    close(l);
}

/* Read until `end` has been seen (or n bytes came); returns bytes read. */
static size_t read_until(int fd, char *buf, size_t cap, const char *end, size_t n)
{
    size_t got = 0;

    while (got < cap - 1) {
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);

        if (r <= 0)
            die("recv");
        got += (size_t)r;
        buf[got] = '\0';
        if ((end && strstr(buf, end)) || (n && got >= n))
            break;
    }
    return got;
}

static void opaque(long n)
{
    char buf[64], in[64];
    int cli, srv;
    long i;

    tcp_pair(&cli, &srv);
    memset(buf, 0xab, sizeof(buf)); /* not HTTP: the shim lets it go at once */
    for (i = 0; i < n; i++) {
        if (send(cli, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
            die("send");
        read_until(srv, in, sizeof(in) + 1, NULL, sizeof(in));
    }
}

static int log_each; /* httplog: the server logs a line per request */
static int full_heads; /* httpfull: a browser's request and nginx's response */

static void http_once(int cli, int srv)
{
    static const char line[] = "INFO 127.0.0.1 GET /orders?id=7 served in 0.2 ms\n";
    static const char req[] = "GET /orders?id=7 HTTP/1.1\r\nHost: shop:8080\r\n"
                              "User-Agent: opbench\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    static const char full_req[] =
        "GET /orders?id=7 HTTP/1.1\r\nHost: shop:8080\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
        "Referer: http://shop:8080/cart\r\nCookie: session=8f2a61c0d4; theme=dark\r\n"
        "Connection: keep-alive\r\n\r\n";
    static const char full_resp[] =
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 03 Dec 2026 19:00:00 GMT\r\n"
        "Content-Type: text/html\r\nContent-Length: 2\r\n"
        "Last-Modified: Tue, 01 Dec 2026 08:00:00 GMT\r\nConnection: keep-alive\r\n"
        "ETag: \"6930e2c0-2\"\r\nAccept-Ranges: bytes\r\n\r\nok";
    const char *q = full_heads ? full_req : req, *a = full_heads ? full_resp : resp;
    size_t qn = full_heads ? sizeof(full_req) - 1 : sizeof(req) - 1;
    size_t an = full_heads ? sizeof(full_resp) - 1 : sizeof(resp) - 1;
    char buf[1024];

    if (send(cli, q, qn, 0) != (ssize_t)qn)
        die("send");
    read_until(srv, buf, sizeof(buf), "\r\n\r\n", 0);
    if (log_each && write(2, line, sizeof(line) - 1) != (ssize_t)(sizeof(line) - 1))
        die("write");
    if (send(srv, a, an, 0) != (ssize_t)an)
        die("send");
    read_until(cli, buf, sizeof(buf), NULL, an);
}

static void http(long n)
{
    int cli, srv;
    long i;

    tcp_pair(&cli, &srv);
    for (i = 0; i < n; i++)
        http_once(cli, srv);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exchanges in steps of a millisecond's worth, each step waiting for its
 * time: the rate holds on average and never runs ahead. */
static void http_paced(double rate, double seconds)
{
    double per_ms = rate / 2 / 1000, start = now_s(), done = 0;
    long total = (long)(rate / 2 * seconds);
    int cli, srv;

    tcp_pair(&cli, &srv);
    while (done < (double)total) {
        double due = start + done / (rate / 2), late = due - now_s();
        long i;

        if (late > 0) {
            struct timespec ts = {(time_t)late, (long)((late - (double)(time_t)late) * 1e9)};

            nanosleep(&ts, NULL);
        }
        for (i = 0; i < (long)per_ms + 1 && done < (double)total; i++, done++)
            http_once(cli, srv);
    }
    printf("{\"exchanges\": %ld, \"spans\": %ld, \"seconds\": %.3f}\n", total, 2 * total,
           now_s() - start);
}

/* The client sends req, the server reads it whole and answers resp,
 * the client reads the answer whole. */
static void exchange(int cli, int srv, const void *req, size_t req_len, const void *resp,
                     size_t resp_len)
{
    char buf[1024];

    if (send(cli, req, req_len, 0) != (ssize_t)req_len)
        die("send");
    read_until(srv, buf, sizeof(buf), NULL, req_len);
    if (send(srv, resp, resp_len, 0) != (ssize_t)resp_len)
        die("send");
    read_until(cli, buf, sizeof(buf), NULL, resp_len);
}

static void redis(long n)
{
    static const char get[] = "*2\r\n$3\r\nGET\r\n$7\r\nkey:001\r\n";
    static const char reply[] = "$5\r\nhello\r\n";
    int cli, srv;
    long i;

    tcp_pair(&cli, &srv);
    for (i = 0; i < n; i++)
        exchange(cli, srv, get, sizeof(get) - 1, reply, sizeof(reply) - 1);
}

/* A PostgreSQL message: type (0: none, the start-up message), its body. */
static size_t pg_msg(uint8_t *out, char type, const void *body, size_t len)
{
    size_t at = 0;
    uint32_t be = htonl((uint32_t)(len + 4));

    if (type)
        out[at++] = (uint8_t)type;
    memcpy(out + at, &be, 4);
    memcpy(out + at + 4, body, len);
    return at + 4 + len;
}

static void pg(long n)
{
    static const char startup[] = "\0\3\0\0user\0bench\0database\0shop\0";
    static const char auth_ok[] = "\0\0\0\0", key[] = "\0\0\0\1\0\0\0\2", idle[] = "I";
    static const char query[] = "SELECT abalance FROM pgbench_accounts WHERE aid = 42;";
    static const char row_desc[] = "\0\1abalance\0\0\0\x40\0\0\3\0\0\0\x17\0\4"
                                   "\xff\xff\xff\xff\0\0";
    static const char row[] = "\0\1\0\0\0\1" "0", done[] = "SELECT 1";
    uint8_t req[256], resp[256];
    size_t req_len, resp_len;
    int cli, srv;
    long i;

    tcp_pair(&cli, &srv);
    req_len = pg_msg(req, 0, startup, sizeof(startup));
    resp_len = pg_msg(resp, 'R', auth_ok, 4);
    resp_len += pg_msg(resp + resp_len, 'K', key, 8);
    resp_len += pg_msg(resp + resp_len, 'Z', idle, 1);
    exchange(cli, srv, req, req_len, resp, resp_len);
    req_len = pg_msg(req, 'Q', query, sizeof(query));
    resp_len = pg_msg(resp, 'T', row_desc, sizeof(row_desc) - 1);
    resp_len += pg_msg(resp + resp_len, 'D', row, sizeof(row) - 1);
    resp_len += pg_msg(resp + resp_len, 'C', done, sizeof(done));
    resp_len += pg_msg(resp + resp_len, 'Z', idle, 1);
    for (i = 0; i < n; i++)
        exchange(cli, srv, req, req_len, resp, resp_len);
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 1000;

    if (argc > 1 && strcmp(argv[1], "opaque") == 0)
        opaque(n);
    else if (argc > 3 && strcmp(argv[1], "http-paced") == 0)
        http_paced(atof(argv[2]), atof(argv[3]));
    else if (argc > 1 && strcmp(argv[1], "http") == 0)
        http(n);
    else if (argc > 1 && strcmp(argv[1], "httpfull") == 0) {
        full_heads = 1;
        http(n);
    } else if (argc > 1 && strcmp(argv[1], "httplog") == 0) {
        log_each = 1;
        http(n);
    } else if (argc > 1 && strcmp(argv[1], "redis") == 0)
        redis(n);
    else if (argc > 1 && strcmp(argv[1], "pg") == 0)
        pg(n);
    else {
        fprintf(stderr, "usage: opbench opaque|http|httpfull|httplog|redis|pg N | http-paced RATE SECONDS\n");
        return 2;
    }
    return 0;
}
