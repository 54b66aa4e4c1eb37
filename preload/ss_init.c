/*
 * ss_init.c - constructor, fork handlers and exit flush (see ss_init.h).
 *
 * glibc passes argc/argv/envp to constructors of preloaded objects, which
 * is how the resource learns the command line without reading /proc. No
 * thread is started here: the exporter starts its own on the first span.
 */
#define _GNU_SOURCE
#include "ss_init.h"
#include "ss_config.h"
#include "ss_fd.h"
#include "ss_id.h"
#include "ss_inbound.h"
#include "ss_log.h"
#include "ss_real.h"
#include "ss_conn.h"
#include "ss_span.h"
#include "../exporter/ex_batch.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int ss_ready;
__thread int ss_busy __attribute__((tls_model("initial-exec")));
static pid_t ss_pid;

int ss_in_vfork_child(void)
{
    return (pid_t)syscall(SYS_getpid) != ss_pid;
}

static void ss_after_fork_child(void)
{
    ss_pid = (pid_t)syscall(SYS_getpid);
    ss_id_after_fork();
    ss_fd_after_fork();
    ss_inbound_after_fork();
    ss_span_after_fork();
    ex_batch_after_fork();
}

static void ss_at_exit(void)
{
    ss_busy++;
    ex_batch_flush();
    ss_log_counters();
    ss_busy--;
}

/* Libraries unloaded after the exit handler may still make requests: ship
 * what they left. Nothing is freed; hooks keep working after this. */
__attribute__((destructor)) static void ss_fini(void)
{
    if (ss_ready && !ss_busy) {
        ss_busy++;
        ex_batch_flush();
        ss_busy--;
    }
}

void ss_flush_now(void)
{
    if (!ss_ready || ss_busy || ss_in_vfork_child())
        return;
    ss_busy++;
    ex_batch_flush();
    ss_busy--;
}

/* Another copy of the shim (another path, or /etc/ld.so.preload beside
 * LD_PRELOAD) that comes first in the lookup order receives the program's
 * calls; this copy only sees them passed on, and must stand down. */
static int ss_another_copy_first(void)
{
    Dl_info mine, first;
    void *f = dlsym(RTLD_DEFAULT, "__recvfrom_chk");

    if (f == NULL || !dladdr((void *)ss_another_copy_first, &mine) || !dladdr(f, &first))
        return 0;
    return first.dli_fbase != mine.dli_fbase && first.dli_fname &&
           strstr(first.dli_fname, "spanshim") != NULL;
}

__attribute__((constructor)) static void ss_init(int argc, char **argv, char **envp)
{
    (void)envp;
    if (ss_another_copy_first())
        return; /* every hook of this copy passes straight through */
    ss_busy++;
    ss_real_init();
    ss_pid = (pid_t)syscall(SYS_getpid);
    ss_config_load();
    ex_batch_init(argc, argv);
    pthread_atfork(NULL, NULL, ss_after_fork_child);
    atexit(ss_at_exit);
    ss_busy--;
    __atomic_store_n(&ss_ready, 1, __ATOMIC_RELEASE);
    ss_log(SS_LOG_DEBUG, "ready; collector socket %s", ss_cfg.socket_path);
}
