/*
 * ss_real.c - resolve and call the real libc functions (see ss_real.h).
 *
 * The table is filled once, by the first thread that needs it; a recursive
 * entry from the same thread sees the table still empty and uses the raw
 * system call listed in hooks.def.
 */
#define _GNU_SOURCE
#include "ss_real.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

extern char **environ;

#define SS_HOOK(ret, name, params, args, raw) typedef ret (*ss_##name##_fn) params;
#define SS_HOOK_NORET(name, params, args, raw) typedef void (*ss_##name##_fn) params;
#define SS_HOOK_VA(ret, name, proto, params, args, raw) typedef ret (*ss_##name##_fn) proto;
#define SS_HOOK_LIB_VA(ret, name, proto, params, args, fail) typedef ret (*ss_##name##_fn) proto;
#include "hooks.def"

static struct {
#define SS_HOOK(ret, name, params, args, raw) ss_##name##_fn name;
#include "hooks.def"
} ss_real;

static pthread_once_t ss_real_once = PTHREAD_ONCE_INIT;
static __thread int ss_real_resolving __attribute__((tls_model("initial-exec")));

static void ss_real_resolve(void)
{
    ss_real_resolving = 1;
#define SS_HOOK(ret, name, params, args, raw) \
    __atomic_store_n(&ss_real.name, (ss_##name##_fn)dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE);
#define SS_HOOK_LIB(ret, name, params, args, fail) /* looked up when first called */
#define SS_HOOK_LIB_VA(ret, name, proto, params, args, fail)
#include "hooks.def"
    ss_real_resolving = 0;
}

/* A library function, from the copy the program itself loaded. */
void *ss_real_lib_sym(const char *name)
{
    static const char *const libs[] = {"libssl.so.3", "libssl.so.1.1", "libgnutls.so.30",
                                       "libcurl.so.4", "libcurl-gnutls.so.4", "libssl.so",
                                       "libgnutls.so"};
    void *f = dlsym(RTLD_NEXT, name);
    size_t i;

    for (i = 0; f == NULL && i < sizeof(libs) / sizeof(libs[0]); i++) {
        void *h = dlopen(libs[i], RTLD_NOLOAD | RTLD_LAZY);

        if (h)
            f = dlsym(h, name);
    }
    return f;
}

void ss_real_init(void)
{
    if (!ss_real_resolving)
        pthread_once(&ss_real_once, ss_real_resolve);
}

#define SS_LOOKUP(name) ({                                                  \
        ss_##name##_fn f_ = __atomic_load_n(&ss_real.name, __ATOMIC_ACQUIRE); \
        if (!f_) {                                                          \
            ss_real_init();                                                 \
            f_ = __atomic_load_n(&ss_real.name, __ATOMIC_ACQUIRE);          \
        }                                                                   \
        f_; })

/* The fast path is a load, a test and a jump to the real function; the
 * first call (and any before resolution is possible) takes the cold one. */
#define SS_HOOK(ret, name, params, args, raw)                               \
    static __attribute__((noinline, cold)) ret ss_real_cold_##name params   \
    {                                                                       \
        ss_##name##_fn f = SS_LOOKUP(name);                                 \
        if (f)                                                              \
            return f args;                                                  \
        return (ret)(raw);                                                  \
    }                                                                       \
    ret ss_real_##name params                                               \
    {                                                                       \
        ss_##name##_fn f = __atomic_load_n(&ss_real.name, __ATOMIC_ACQUIRE); \
        if (__builtin_expect(f != NULL, 1))                                 \
            return f args;                                                  \
        return ss_real_cold_##name args;                                    \
    }
#define SS_HOOK_LIB(ret, name, params, args, fail)                          \
    ret ss_real_##name params                                               \
    {                                                                       \
        ss_##name##_fn f = __atomic_load_n(&ss_real.name, __ATOMIC_ACQUIRE); \
        if (!f) {                                                           \
            f = (ss_##name##_fn)ss_real_lib_sym(#name);                     \
            __atomic_store_n(&ss_real.name, f, __ATOMIC_RELEASE);           \
        }                                                                   \
        if (f)                                                              \
            return f args;                                                  \
        return (ret)(fail);                                                 \
    }
#define SS_HOOK_NORET(name, params, args, raw)                              \
    _Noreturn void ss_real_##name params                                    \
    {                                                                       \
        ss_##name##_fn f = SS_LOOKUP(name);                                 \
        if (f)                                                              \
            f args;                                                         \
        (void)(raw);                                                        \
        for (;;)                                                            \
            ;                                                               \
    }
#include "hooks.def"
