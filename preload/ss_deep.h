/*
 * ss_deep.h - libraries opened with RTLD_DEEPBIND, led through the hooks.
 *
 * A library opened with RTLD_DEEPBIND looks its symbols up in itself and
 * its own dependencies first, before the global scope the preloaded shim
 * is in: its calls to connect, send, SSL_write, curl_easy_perform... bind
 * straight to libc, libssl, libcurl. Taking the flag away would change what
 * else the library binds to (the reason it was asked for), so instead every
 * object such a dlopen loaded has its GOT entries for hooked functions that
 * bound to the very definition the hook would call pointed at the hook. An
 * entry bound to anything else (the library's own definition, one of its
 * dependencies') is left alone: its symbol preference is unchanged.
 */
#ifndef SS_DEEP_H
#define SS_DEEP_H

/* How many objects are loaded now: taken before the dlopen, given to
 * ss_deep_patch after it. */
unsigned ss_deep_count(void);

/* Lead the objects loaded after the first `before` (by the dlopen that
 * returned handle) through the hooks. Errors leave an object as it was. */
void ss_deep_patch(unsigned before, void *handle);

/* In a fork child: the lock, which a thread that did not come may hold. */
void ss_deep_after_fork(void);

#endif
