/*
 * hk_dl.c - the dlopen hook: libraries opened with RTLD_DEEPBIND are led
 * through the hooks like ones linked at start (see preload/ss_deep.h).
 *
 * Where dlopen searches a bare name (the caller's RPATH and RUNPATH), what
 * $ORIGIN means, and which namespace the object goes to, all depend on the
 * caller, found from dlopen's return address. So on x86_64 and aarch64 the
 * hook is a jump, not a call: every open without RTLD_DEEPBIND reaches the
 * real dlopen with the program's own return address, and an open with it
 * goes through hk_dlopen_deep (whose caller, for the real dlopen, is then
 * the shim: the same for a path, as PHP passes; for a bare name only the
 * program's RPATH, not its RUNPATH or a library's, is searched).
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_deep.h"

#include <dlfcn.h>

void *hk_dlopen_deep(const char *file, int mode);

/* The real dlopen, for the stub to jump to itself: through ss_real_dlopen
 * the caller the real one sees would depend on the compiler making that
 * call a tail call (it does not at -O0). NULL until the shim's constructor
 * ran; until then the stub goes through ss_real_dlopen. */
__attribute__((visibility("hidden"))) void *hk_dlopen_next;

__attribute__((constructor)) static void hk_dl_init(void)
{
    __atomic_store_n(&hk_dlopen_next, dlsym(RTLD_NEXT, "dlopen"), __ATOMIC_RELEASE);
}

void *hk_dlopen_deep(const char *file, int mode)
{
    unsigned before;
    void *h;

    if (ss_busy || !file || (mode & RTLD_NOLOAD))
        return ss_real_dlopen(file, mode); /* nothing new is loaded */
    before = ss_deep_count();
    h = ss_real_dlopen(file, mode);
    if (h) {
        int err = errno;

        ss_deep_patch(before, h);
        errno = err;
    }
    return h;
}

#define HK_STR_(x) #x
#define HK_STR(x) HK_STR_(x)

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen, @function\n"
        ".p2align 4\n"
        "dlopen:\n"
        "    testl $" HK_STR(RTLD_DEEPBIND) ", %esi\n"
        "    jnz hk_dlopen_deep\n"
        "    movq hk_dlopen_next(%rip), %rax\n"
        "    testq %rax, %rax\n"
        "    jz ss_real_dlopen\n"
        "    jmp *%rax\n"
        ".size dlopen, .-dlopen\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen, %function\n"
        ".p2align 2\n"
        "dlopen:\n"
        "    tst w1, #" HK_STR(RTLD_DEEPBIND) "\n"
        "    b.ne hk_dlopen_deep\n"
        "    adrp x16, hk_dlopen_next\n"
        "    ldr x16, [x16, :lo12:hk_dlopen_next]\n"
        "    cbz x16, 1f\n"
        "    br x16\n"
        "1:  b ss_real_dlopen\n"
        ".size dlopen, .-dlopen\n");
#else
/* Elsewhere a call: the caller the real dlopen sees is the shim. */
HK_EXPORT void *dlopen(const char *file, int mode)
{
    if (mode & RTLD_DEEPBIND)
        return hk_dlopen_deep(file, mode);
    return ss_real_dlopen(file, mode);
}
#endif
