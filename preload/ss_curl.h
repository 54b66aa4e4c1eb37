/*
 * ss_curl.h - libcurl transfers as CLIENT spans.
 *
 * libcurl speaks HTTP/2 and HTTP/3 and follows redirects, none of which
 * the socket layer can follow on its own. So a transfer is traced where
 * the program asks for it: a span starts when the transfer starts
 * (curl_easy_perform, curl_multi_add_handle), its traceparent goes into a
 * header list of the shim's own (the program's entries, then ours) that
 * replaces the program's list for the transfer, and the span ends with the
 * transfer, from what curl_easy_getinfo reports. While libcurl works, the
 * socket and TLS layers stand aside (ss_conn_library_enter), so nothing is
 * recorded twice. The program's list is put back and never modified.
 */
#ifndef SS_CURL_H
#define SS_CURL_H

/* The program set an option: remember those the shim needs. */
void ss_curl_setopt(void *h, int opt, void *arg);

/* A transfer starts / ends (result: its CURLcode). */
void ss_curl_start(void *h);
void ss_curl_end(void *h, int result);

/* curl_easy_reset / curl_easy_cleanup / curl_easy_duphandle. */
void ss_curl_forget(void *h);
void ss_curl_dup(void *from, void *to);

void ss_curl_after_fork(void);

#endif
