/*
 * ss_real.h - the table of real libc functions behind every hook.
 *
 * Generated from hooks/hooks.def. ss_real_NAME(...) calls the next
 * definition of NAME (dlsym RTLD_NEXT), resolving the whole table once on
 * first use. A call that arrives while this thread is still resolving
 * (dlsym may allocate, and an allocator may do I/O) goes straight to the
 * system call instead, so there is no recursion and no deadlock.
 */
#ifndef SS_REAL_H
#define SS_REAL_H

#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

struct mmsghdr;

#define SS_HOOK(ret, name, params, args, raw) ret ss_real_##name params;
#define SS_HOOK_NORET(name, params, args, raw) _Noreturn void ss_real_##name params;
#include "hooks.def"

/* What the hook of name calls: the next definition after the shim, or the
 * one in the copy of its library the program loaded (NULL: none). */
void *ss_real_lib_sym(const char *name);

/* Resolve every symbol now (idempotent). */
void ss_real_init(void);

#endif
