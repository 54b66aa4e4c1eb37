/*
 * hk_proc.c - hooks where a process image ends or starts another: exec,
 * _exit, posix_spawn, system and popen. Before an image ends its process
 * span ends, open spans end (ss_inflight.h) and buffered ones are shipped,
 * since neither exec nor _exit runs atexit handlers; an exec that fails
 * opens them again. A program started gets the trace context in its
 * environment (preload/ss_proc.h), in a copy: the caller's arrays and
 * environ are left as they were.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_log.h"
#include "../preload/ss_proc.h"

#include <unistd.h>

/* The image is about to be replaced: its span ends, open spans end, spans
 * leave. */
static void hk_image_ends(void)
{
    ss_proc_image_ends(0, 0);
    ss_image_ends("process_exec");
}

HK_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e);
    int r;

    hk_image_ends();
    r = ss_exec_returned(ss_real_execve(path, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int execv(const char *path, char *const argv[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(environ, &e);
    int r;

    hk_image_ends();
    r = ss_exec_returned(env == environ ? ss_real_execv(path, argv)
                                        : ss_real_execve(path, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int execvp(const char *file, char *const argv[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(environ, &e);
    int r;

    hk_image_ends();
    r = ss_exec_returned(env == environ ? ss_real_execvp(file, argv)
                                        : ss_real_execvpe(file, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e);
    int r;

    hk_image_ends();
    r = ss_exec_returned(ss_real_execvpe(file, argv, env));
    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT _Noreturn void _exit(int status)
{
    if (!ss_in_vfork_child())
        ss_proc_image_ends(1, status);
    ss_image_ends("process_exit");
    if (!ss_in_vfork_child())
        ss_log_counters(); /* atexit will not run: SPANSHIM_LOG=debug shows them here */
    ss_real__exit(status);
}

HK_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    int r = ss_real_posix_spawn(pid, path, fa, attr, argv, ss_proc_child_env(envp, &e));

    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    ss_proc_env_t e;
    int r = ss_real_posix_spawnp(pid, file, fa, attr, argv, ss_proc_child_env(envp, &e));

    ss_proc_env_done(&e);
    return r;
}

HK_EXPORT int system(const char *command)
{
    ss_proc_env_t e;
    int r, err;

    ss_proc_environ_swap(&e);
    r = ss_real_system(command);
    err = errno;
    ss_proc_environ_restore(&e);
    errno = err;
    return r;
}

HK_EXPORT FILE *popen(const char *command, const char *type)
{
    ss_proc_env_t e;
    FILE *r;
    int err;

    ss_proc_environ_swap(&e);
    r = ss_real_popen(command, type);
    err = errno;
    ss_proc_environ_restore(&e);
    errno = err;
    return r;
}
