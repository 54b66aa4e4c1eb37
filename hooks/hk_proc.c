/*
 * hk_proc.c - hooks where a process image ends: exec and _exit. Open spans
 * end (ss_inflight.h) and buffered ones are shipped first, since neither
 * runs atexit handlers; an exec that fails opens them again.
 */
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_log.h"

HK_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    ss_image_ends("process_exec");
    return ss_exec_returned(ss_real_execve(path, argv, envp));
}

HK_EXPORT int execv(const char *path, char *const argv[])
{
    ss_image_ends("process_exec");
    return ss_exec_returned(ss_real_execv(path, argv));
}

HK_EXPORT int execvp(const char *file, char *const argv[])
{
    ss_image_ends("process_exec");
    return ss_exec_returned(ss_real_execvp(file, argv));
}

HK_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    ss_image_ends("process_exec");
    return ss_exec_returned(ss_real_execvpe(file, argv, envp));
}

HK_EXPORT _Noreturn void _exit(int status)
{
    ss_image_ends("process_exit");
    if (!ss_in_vfork_child())
        ss_log_counters(); /* atexit will not run: SPANSHIM_LOG=debug shows them here */
    ss_real__exit(status);
}
