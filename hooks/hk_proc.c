/*
 * hk_proc.c - hooks where a process image ends or starts another: exec,
 * _exit, posix_spawn, system and popen, and the wait calls (and pclose)
 * that reap what it started. Before an image ends its process span ends (or, at an exec,
 * is handed on), open spans end (ss_inflight.h) and buffered ones are
 * shipped, since neither exec nor _exit runs atexit handlers; an exec that
 * fails opens them again. A wait that reaps a child tells preload/ss_proc.h
 * with the status (its own variable when the program passed none), after
 * the call: what the call returns and errno are the C library's. A program started gets the trace context in its
 * environment (preload/ss_proc.h), in a copy: the caller's arrays and
 * environ are left as they were. execl, execlp and execle are gathered
 * into arrays on the stack (as the C library does: they may run in a
 * vfork child) and passed to the others' hooks.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_log.h"
#include "../preload/ss_proc.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

/* The image is about to be replaced, its successor started with env: its
 * span ends or is handed on, open spans end, spans leave. */
static void hk_image_ends(char *const env[])
{
    ss_proc_image_execs(env);
    ss_image_ends("process_exec");
}

/* The exec returned r (it failed): the image goes on. */
static int hk_exec_back(int r)
{
    ss_proc_exec_failed();
    return ss_exec_returned(r);
}

static int hk_execve(const char *path, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e, SS_PROC_EXEC, path, argv);
    int r;

    hk_image_ends(env);
    r = hk_exec_back(ss_real_execve(path, argv, env));
    ss_proc_env_done(&e);
    return r;
}

static int hk_execv(const char *path, char *const argv[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(environ, &e, SS_PROC_EXEC, path, argv);
    int r;

    hk_image_ends(env);
    r = hk_exec_back(env == environ ? ss_real_execv(path, argv)
                                    : ss_real_execve(path, argv, env));
    ss_proc_env_done(&e);
    return r;
}

static int hk_execvp(const char *file, char *const argv[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(environ, &e, SS_PROC_EXEC, file, argv);
    int r;

    hk_image_ends(env);
    r = hk_exec_back(env == environ ? ss_real_execvp(file, argv)
                                    : ss_real_execvpe(file, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e, SS_PROC_EXEC, file, argv);
    int r;

    hk_image_ends(env);
    r = hk_exec_back(ss_real_execvpe(file, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return hk_execve(path, argv, envp);
}

HK_EXPORT int execv(const char *path, char *const argv[])
{
    return hk_execv(path, argv);
}

HK_EXPORT int execvp(const char *file, char *const argv[])
{
    return hk_execvp(file, argv);
}

/* glibc declares arg non-null; a program may still pass NULL (no
 * arguments at all), so the check must not be optimised away. */
static const char *hk_opaque(const char *arg)
{
    __asm__("" : "+r"(arg));
    return arg;
}

/* How many arguments: arg (if not NULL) and those after it up to the NULL. */
static size_t hk_argc(const char *arg, va_list ap)
{
    va_list c;
    size_t n = 0;

    if (arg == NULL)
        return 0;
    va_copy(c, ap);
    for (n = 1; va_arg(c, char *) != NULL; n++)
        ;
    va_end(c);
    return n;
}

/* av (n + 1 entries): arg and the n - 1 after it, then NULL; ap is left
 * after the NULL (where execle's envp is). */
static void hk_argv(char **av, size_t n, const char *arg, va_list *ap)
{
    size_t i;

    av[0] = (char *)arg;
    for (i = 1; i < n; i++)
        av[i] = va_arg(*ap, char *);
    if (n > 0)
        (void)va_arg(*ap, char *); /* the NULL */
    av[n] = NULL;
}

/* The l-forms, one line each: their arguments gathered into av, on the
 * stack, for `call` (a v-form); ap is left after the NULL, where execle's
 * envp is. */
#define HK_EXEC_L(name, first, call)                             \
    HK_EXPORT int name(const char *first, const char *arg, ...)  \
    {                                                            \
        const char *a = hk_opaque(arg);                          \
        va_list ap;                                              \
        int r;                                                   \
                                                                 \
        va_start(ap, arg);                                       \
        {                                                        \
            size_t n = hk_argc(a, ap);                           \
            char *av[n + 1];                                     \
                                                                 \
            hk_argv(av, n, a, &ap);                              \
            r = call;                                            \
        }                                                        \
        va_end(ap);                                              \
        return r;                                                \
    }

HK_EXEC_L(execl, path, hk_execv(path, av))
HK_EXEC_L(execlp, file, hk_execvp(file, av))
HK_EXEC_L(execle, path, hk_execve(path, av, va_arg(ap, char *const *)))

HK_EXPORT _Noreturn void _exit(int status)
{
    if (!ss_in_vfork_child())
        ss_proc_image_ends(1, status);
    ss_image_ends("process_exit");
    if (!ss_in_vfork_child())
        ss_log_counters(); /* atexit will not run: SPANSHIM_LOG=debug shows them here */
    ss_real__exit(status);
}

/* A program that passes no pid pointer still has its child kept: the
 * call writes the pid into a variable of the hook's instead. */
HK_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e, SS_PROC_SPAWN, path, argv);
    pid_t mine = 0, *p = pid ? pid : &mine;
    int r = ss_real_posix_spawn(e.assigned ? p : pid, path, fa, attr, argv, env);

    ss_proc_spawned(&e, r, e.assigned ? *p : 0);
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e, SS_PROC_SPAWN, file, argv);
    pid_t mine = 0, *p = pid ? pid : &mine;
    int r = ss_real_posix_spawnp(e.assigned ? p : pid, file, fa, attr, argv, env);

    ss_proc_spawned(&e, r, e.assigned ? *p : 0);
    ss_proc_env_done(&e);
    return r;
}

/* glibc's system reaps its shell itself: the status it returns says
 * whether a signal ended it. */
HK_EXPORT int system(const char *command)
{
    ss_proc_env_t e;
    int r, err;

    ss_proc_environ_swap(&e, command ? SS_PROC_SPAWN : SS_PROC_UNREAPED);
    r = ss_real_system(command);
    err = errno;
    ss_proc_environ_restore(&e);
    ss_proc_system_done(&e, r);
    errno = err;
    return r;
}

HK_EXPORT FILE *popen(const char *command, const char *type)
{
    ss_proc_env_t e;
    FILE *r;
    int err;

    ss_proc_environ_swap(&e, SS_PROC_SPAWN);
    r = ss_real_popen(command, type);
    err = errno;
    ss_proc_environ_restore(&e);
    ss_proc_popened(&e, r);
    errno = err;
    return r;
}

/* pclose reaps popen's shell (glibc's own waitpid, which no hook sees). */
HK_EXPORT int pclose(FILE *f)
{
    int r = ss_real_pclose(f);

    ss_proc_pclosed(f, r);
    return r;
}

/* ---- reaping --------------------------------------------------------------- */

static pid_t hk_reaped(pid_t r, const int *status)
{
    if (r > 0)
        ss_proc_reaped(r, *status);
    return r;
}

HK_EXPORT pid_t wait(int *status)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real_wait(sp), sp);
}

HK_EXPORT pid_t __wait(int *status)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real___wait(sp), sp);
}

HK_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real_waitpid(pid, sp, options), sp);
}

HK_EXPORT pid_t __waitpid(pid_t pid, int *status, int options)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real___waitpid(pid, sp, options), sp);
}

HK_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real_wait3(sp, options, ru), sp);
}

HK_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    int st = 0, *sp = status ? status : &st;

    return hk_reaped(ss_real_wait4(pid, sp, options, ru), sp);
}

/* waitid says how the child ended in si_code; with WNOWAIT it is still
 * there to be reaped, and nothing is done yet. */
HK_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    siginfo_t mine, *ip = info ? info : &mine;
    int r;

    if (!info)
        mine.si_pid = 0;
    r = ss_real_waitid(idtype, id, ip, options);
    if (r == 0 && !(options & WNOWAIT) && ip->si_pid > 0) {
        if (ip->si_code == CLD_EXITED)
            ss_proc_reaped(ip->si_pid, (ip->si_status & 0xff) << 8);
        else if (ip->si_code == CLD_KILLED || ip->si_code == CLD_DUMPED)
            ss_proc_reaped(ip->si_pid, ip->si_status & 0x7f);
    }
    return r;
}
