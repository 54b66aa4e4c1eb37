/*
 * curlprobe.c - a small C program using libcurl's easy and multi APIs, as
 * C services do. Each URL is fetched with the easy API, then all of them
 * again at once with the multi API; the application's own header list
 * (X-Probe) must come back unchanged, and every body is printed.
 *
 *   curlprobe URL...
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
    fwrite(p, size, n, (FILE *)arg);
    return size * n;
}

static CURL *handle(const char *url, struct curl_slist *headers)
{
    CURL *h = curl_easy_init();

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, stdout);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    return h;
}

int main(int argc, char **argv)
{
    struct curl_slist *headers = curl_slist_append(NULL, "X-Probe: own-header");
    CURL *hs[16];
    CURLM *m;
    int i, running, rc = 0;

    if (argc < 2 || argc > 17)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (i = 1; i < argc; i++) {
        CURL *h = handle(argv[i], headers);
        long code = 0;

        printf("easy %s: ", argv[i]);
        if (curl_easy_perform(h) != CURLE_OK)
            rc = 1;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        printf(" %ld\n", code);
        curl_easy_cleanup(h);
    }
    m = curl_multi_init();
    for (i = 1; i < argc; i++) {
        hs[i - 1] = handle(argv[i], headers);
        curl_multi_add_handle(m, hs[i - 1]);
    }
    do {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    } while (running);
    printf("\n");
    for (i = 1; i < argc; i++) {
        curl_multi_remove_handle(m, hs[i - 1]);
        curl_easy_cleanup(hs[i - 1]);
    }
    curl_multi_cleanup(m);
    /* The program's own list is untouched. */
    if (strcmp(headers->data, "X-Probe: own-header") != 0 || headers->next != NULL)
        rc = 3;
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return rc;
}
