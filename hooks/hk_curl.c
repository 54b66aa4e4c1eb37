/*
 * hk_curl.c - libcurl hooks: a CLIENT span per transfer (see ss_curl.h).
 *
 * Only programs that use libcurl ever call these; the real functions come
 * from the libcurl the program loaded. While libcurl runs a transfer the
 * socket and TLS hooks below it stand aside.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_curl.h"

#include <stdarg.h>

#define SS_CURLMSG_DONE 1

struct hk_curlmsg {               /* libcurl's CURLMsg */
    int msg;
    void *easy;
    union {
        void *whatever;
        int result;
    } data;
};

static int hk_curl_on(void)
{
    return ss_busy == 0 && __atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE);
}

/* Run a piece of the shim's bookkeeping, if the shim is on, as the shim. */
#define HK_CURL_DO(call)                                                      \
    do {                                                                      \
        if (hk_curl_on()) {                                                   \
            ss_busy++;                                                        \
            call;                                                             \
            ss_busy--;                                                        \
        }                                                                     \
    } while (0)

/* Every option takes one argument: a long, a pointer or an off_t, all
 * passed the same way on the ABIs spanshim runs on. */
HK_EXPORT int curl_easy_setopt(void *h, int opt, ...)
{
    va_list ap;
    void *arg;
    int r;

    va_start(ap, opt);
    arg = va_arg(ap, void *);
    va_end(ap);
    r = ss_real_curl_easy_setopt(h, opt, arg);
    if (r == 0)
        HK_CURL_DO(ss_curl_setopt(h, opt, arg));
    return r;
}

HK_EXPORT int curl_easy_perform(void *h)
{
    int r;

    HK_CURL_DO(ss_curl_start(h));
    ss_conn_library_enter();
    r = ss_real_curl_easy_perform(h);
    ss_conn_library_leave();
    HK_CURL_DO(ss_curl_end(h, r));
    return r;
}

HK_EXPORT void curl_easy_reset(void *h)
{
    HK_CURL_DO(ss_curl_forget(h));
    ss_real_curl_easy_reset(h);
}

HK_EXPORT void *curl_easy_duphandle(void *h)
{
    void *d = ss_real_curl_easy_duphandle(h);

    if (d)
        HK_CURL_DO(ss_curl_dup(h, d));
    return d;
}

HK_EXPORT void curl_easy_cleanup(void *h)
{
    HK_CURL_DO(ss_curl_forget(h));
    ss_real_curl_easy_cleanup(h);
}

HK_EXPORT int curl_multi_add_handle(void *m, void *h)
{
    int r = ss_real_curl_multi_add_handle(m, h);

    if (r == 0)
        HK_CURL_DO(ss_curl_start(h));
    return r;
}

/* A transfer removed before its DONE message was read ends here. */
HK_EXPORT int curl_multi_remove_handle(void *m, void *h)
{
    HK_CURL_DO(ss_curl_end(h, 0));
    return ss_real_curl_multi_remove_handle(m, h);
}

HK_EXPORT int curl_multi_perform(void *m, int *running)
{
    int r;

    ss_conn_library_enter();
    r = ss_real_curl_multi_perform(m, running);
    ss_conn_library_leave();
    return r;
}

HK_EXPORT int curl_multi_socket_action(void *m, int s, int ev, int *running)
{
    int r;

    ss_conn_library_enter();
    r = ss_real_curl_multi_socket_action(m, s, ev, running);
    ss_conn_library_leave();
    return r;
}

HK_EXPORT void *curl_multi_info_read(void *m, int *left)
{
    struct hk_curlmsg *msg = ss_real_curl_multi_info_read(m, left);

    if (msg && msg->msg == SS_CURLMSG_DONE)
        HK_CURL_DO(ss_curl_end(msg->easy, msg->data.result));
    return msg;
}
