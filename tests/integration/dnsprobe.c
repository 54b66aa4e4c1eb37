/*
 * dnsprobe.c - every name lookup call the shim hooks, printing what the
 * program sees (return values, addresses, errno, h_errno), so the output
 * can be compared traced and untraced. gethostbyname_r starts with a
 * buffer far too small and doubles it on ERANGE, as glibc's callers do.
 *
 *   dnsprobe NAME BADNAME
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void show_ai(const char *what, int r, struct addrinfo *res)
{
    char a[INET6_ADDRSTRLEN] = "-";

    if (r == 0 && res && res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, a, sizeof(a));
    printf("%s: %d %s\n", what, r, a);
    if (r == 0)
        freeaddrinfo(res);
}

static void show_h(const char *what, const struct hostent *h, int herr)
{
    char a[INET6_ADDRSTRLEN] = "-";

    if (h && h->h_addr_list[0])
        inet_ntop(h->h_addrtype, h->h_addr_list[0], a, sizeof(a));
    printf("%s: %s %s h_errno=%d\n", what, h ? "found" : "none", a, h ? 0 : herr);
}

static void lookup_r(const char *name, int af)
{
    struct hostent he, *result = NULL;
    size_t size = 8;
    char *buf = malloc(size);
    int r, herr = 0, retries = 0;

    while ((r = af ? gethostbyname2_r(name, af, &he, buf, size, &result, &herr)
                   : gethostbyname_r(name, &he, buf, size, &result, &herr)) == ERANGE) {
        size *= 2;
        buf = realloc(buf, size);
        retries++;
    }
    printf("gethostbyname%s_r(%s): %d retried=%d ", af ? "2" : "", name, r, retries > 0);
    show_h("", r == 0 ? result : NULL, herr);
    free(buf);
}

int main(int argc, char **argv)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_in sin;
    char host[NI_MAXHOST];
    int r;

    if (argc != 3)
        return 2;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(argv[1], "80", &hints, &res);
    show_ai("getaddrinfo(name)", r, res);
    r = getaddrinfo(argv[2], "80", &hints, &res);
    show_ai("getaddrinfo(bad)", r, res);
    r = getaddrinfo("127.0.0.1", "80", &hints, &res); /* numeric: no lookup */
    show_ai("getaddrinfo(numeric)", r, res);
    hints.ai_flags = AI_NUMERICHOST;
    r = getaddrinfo(argv[1], "80", &hints, &res); /* refused without a lookup */
    show_ai("getaddrinfo(name, AI_NUMERICHOST)", r, res);

    show_h("gethostbyname(name)", gethostbyname(argv[1]), h_errno);
    show_h("gethostbyname(bad)", gethostbyname(argv[2]), h_errno);
    show_h("gethostbyname2(name)", gethostbyname2(argv[1], AF_INET), h_errno);
    lookup_r(argv[1], 0);
    lookup_r(argv[2], AF_INET);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host), NULL, 0, 0);
    printf("getnameinfo: %d %s\n", r, r == 0 ? host : "-");
    r = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host), NULL, 0,
                    NI_NUMERICHOST);
    printf("getnameinfo(NI_NUMERICHOST): %d %s errno=%d\n", r, r == 0 ? host : "-", errno);
    return 0;
}
