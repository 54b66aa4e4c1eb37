/*
 * uwsgi_wire.h - uwsgi requests as nginx writes them, for the tests of
 * the parser (test_uwsgi.c) and of the module (test_uwsgi_conn.c).
 */
#ifndef TEST_UWSGI_WIRE_H
#define TEST_UWSGI_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A request's bytes: header, vars (NULL-terminated key, value pairs), body. */
static inline size_t uw_build(uint8_t *out, uint8_t mod1, const char *const *kv, const char *body)
{
    size_t n = 4, ds;

    for (; kv[0]; kv += 2)
        for (int k = 0; k < 2; k++) {
            size_t l = strlen(kv[k]);

            out[n] = (uint8_t)l;
            out[n + 1] = (uint8_t)(l >> 8);
            memcpy(out + n + 2, kv[k], l);
            n += 2 + l;
        }
    ds = n - 4;
    out[0] = mod1;
    out[1] = (uint8_t)ds;
    out[2] = (uint8_t)(ds >> 8);
    out[3] = 0;
    memcpy(out + n, body, strlen(body));
    return n + strlen(body);
}

/* The vars nginx 1.22 wrote for `curl -d abc=1 -H traceparent:...
 * http://127.0.0.1:18089/x/y?q=1` through uwsgi_params: datasize 532. */
static const char *const uw_nginx_post[] = {
    "QUERY_STRING", "q=1",
    "REQUEST_METHOD", "POST",
    "CONTENT_TYPE", "application/x-www-form-urlencoded",
    "CONTENT_LENGTH", "5",
    "REQUEST_URI", "/x/y?q=1",
    "PATH_INFO", "/x/y",
    "DOCUMENT_ROOT", "/tmp/uwcap/html",
    "SERVER_PROTOCOL", "HTTP/1.1",
    "REQUEST_SCHEME", "http",
    "REMOTE_ADDR", "127.0.0.1",
    "REMOTE_PORT", "49106",
    "SERVER_PORT", "18089",
    "SERVER_NAME", "",
    "HTTP_HOST", "127.0.0.1",
    "HTTP_USER_AGENT", "curl/7.88.1",
    "HTTP_ACCEPT", "*/*",
    "HTTP_TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "HTTP_CONTENT_LENGTH", "5",
    "HTTP_CONTENT_TYPE", "application/x-www-form-urlencoded",
    NULL,
};

static const char *const uw_nginx_get[] = {
    "QUERY_STRING", "",
    "REQUEST_METHOD", "GET",
    "CONTENT_TYPE", "",
    "CONTENT_LENGTH", "",
    "REQUEST_URI", "/",
    "PATH_INFO", "/",
    "SERVER_PROTOCOL", "HTTP/1.0",
    "HTTP_HOST", "localhost",
    "HTTP_A_HEADER_NAME_LONGER_THAN_THE_KEY_CAP", "v",
    NULL,
};

#endif
