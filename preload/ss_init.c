/*
 * ss_init.c - constructor, fork handlers and exit flush (see ss_init.h).
 *
 * glibc passes argc/argv/envp to constructors of preloaded objects, which
 * is how the resource learns the command line without reading /proc. No
 * thread is started here: the exporter starts its own on the first span.
 */
#define _GNU_SOURCE
#include "ss_init.h"
#include "ss_stack.h"
#include "ss_config.h"
#include "ss_fd.h"
#include "ss_fdlimit.h"
#include "ss_id.h"
#include "ss_inbound.h"
#include "ss_inflight.h"
#include "ss_log.h"
#include "ss_logcap.h"
#include "ss_node.h"
#include "ss_proc.h"
#include "ss_real.h"
#include "ss_select.h"
#include "ss_conn.h"
#include "ss_span.h"
#include "ss_tls.h"
#include "ss_curl.h"
#include "ss_dns.h"
#include "ss_deep.h"
#include "ss_export.h"
#include "../exporter/ex_batch.h"
#include "../exporter/ex_loss.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int ss_ready;
__thread int ss_busy __attribute__((tls_model("initial-exec")));
static pid_t ss_pid;

int ss_in_vfork_child(void)
{
    return (pid_t)syscall(SYS_getpid) != ss_pid;
}

static int ss_fork_threads; /* threads in the process that forked */

/* How many threads the process has (1 if it cannot tell). */
static int ss_thread_count(void)
{
    char buf[512], *p;
    ssize_t n;
    int fd, field;

    fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
    syscall(SYS_close, fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    for (field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? atoi(p + 1) : 1;
}

int ss_program_threads(void)
{
    return ss_thread_count() - ex_batch_threads();
}

static void ss_before_fork(void)
{
    ss_fork_threads = ss_program_threads();
    ex_loss_before_fork(); /* "said once" is for the children too */
}

static void ss_after_fork_parent(void)
{
    ss_span_forked();
}

static void ss_after_fork_child(void)
{
    ss_pid = (pid_t)syscall(SYS_getpid);
    ss_id_after_fork();
    ss_fd_after_fork(ss_conn_after_fork);
    ss_inbound_after_fork();
    ss_span_after_fork();
    ss_tls_after_fork();
    ss_curl_after_fork();
    ss_dns_after_fork();
    ss_deep_after_fork();
    ss_stack_after_fork();
    ss_logcap_after_fork();
    /* A child of a multi-threaded program must not start threads (pitfall:
     * locks held by threads that did not come along); its spans leave with
     * later ones, and at exit or exec. The shim's own flush thread does not
     * count: the locks it takes are reset here, so a daemon whose master
     * made spans before forking its workers still has them flush. */
    ex_batch_after_fork(ss_fork_threads <= 1);
}

static void ss_at_exit(void)
{
    ss_busy++;
    if (!ss_in_vfork_child()) {
        ss_conn_send_interrupted();
        ss_inflight_end_all("process_exit");
    }
    ss_logcap_flush();
    ss_dns_flush();
    ex_batch_flush();
    ex_batch_tell_losses();
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
    ss_dns_flush();
    ex_batch_flush();
    ss_busy--;
}

void ss_image_ends(const char *why)
{
    if (!ss_ready || ss_busy || ss_in_vfork_child())
        return;
    ss_busy++;
    ss_inflight_end_all(why);
    ss_logcap_flush();
    ss_dns_flush();
    ex_batch_flush();
    ss_busy--;
}

int ss_exec_returned(int r)
{
    int saved = errno;

    if (ss_ready && !ss_busy && !ss_in_vfork_child()) {
        ss_busy++;
        ss_inflight_reopen();
        ss_busy--;
    }
    errno = saved;
    return r;
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

/* A broken preload.conf is told to the host's log, once per process: in
 * system-wide mode stderr belongs to the program, not to us. */
static void ss_select_say(const char *why)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    char line[SS_SELECT_WHY + 96];
    int n = snprintf(line, sizeof(line),
                     "<28>spanshim[%ld]: %s; this program is not traced", syscall(SYS_getpid),
                     why);
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return;
    if (n > (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 1;
    (void)syscall(SYS_sendto, fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, &a, sizeof(a));
    syscall(SYS_close, fd);
}

/* The runtime linked into a program itself (the unit tests, the bench's
 * probes) is no preloaded library: nobody's system-wide choice. */
static int ss_in_main_program(const Dl_info *mine)
{
    Dl_info main_prog;
    unsigned long entry = getauxval(AT_ENTRY);

    return entry && dladdr((void *)entry, &main_prog) && main_prog.dli_fbase == mine->dli_fbase;
}

/* Loaded by /etc/ld.so.preload rather than named in LD_PRELOAD: trace
 * this program only if /etc/spanshim/preload.conf selects it (ss_select.h). */
static int ss_selected(void)
{
    static char exe[4096], cgroup[2048];
    char service[256], unit[256], why[SS_SELECT_WHY];
    ss_select_who_t who = {0};
    Dl_info mine;
    long n, fd;
    int r;

    if (!dladdr((void *)ss_selected, &mine) || mine.dli_fname == NULL ||
        ss_in_main_program(&mine) || ss_select_named(getenv("LD_PRELOAD"), mine.dli_fname))
        return 1;
    n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        who.exe = exe;
    }
    who.service = ss_select_service(getenv("OTEL_SERVICE_NAME"),
                                    getenv("OTEL_RESOURCE_ATTRIBUTES"), service, sizeof(service));
    fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = syscall(SYS_read, fd, cgroup, sizeof(cgroup));
        if (n > 0)
            who.unit = ss_select_unit(cgroup, (size_t)n, unit, sizeof(unit));
        syscall(SYS_close, fd);
    }
    r = ss_select_file(SS_SELECT_CONF, &who, why, sizeof(why));
    if (r == SS_SELECT_BROKEN)
        ss_select_say(why);
    return r == SS_SELECT_YES;
}

__attribute__((constructor)) static void ss_init(int argc, char **argv, char **envp)
{
    if (ss_another_copy_first() || !ss_selected())
        return; /* every hook of this copy passes straight through */
    ss_busy++;
    ss_real_init();
    ss_pid = (pid_t)syscall(SYS_getpid);
    ss_config_load();
    ss_export_init(argc, argv);
    ss_logcap_init();
    ss_fdlimit_init();
    ss_node_setup();
    pthread_atfork(ss_before_fork, ss_after_fork_parent, ss_after_fork_child);
    atexit(ss_at_exit);
    ss_proc_init(argc, argv, envp);
    ss_busy--;
    __atomic_store_n(&ss_ready, 1, __ATOMIC_RELEASE);
    ss_log(SS_LOG_DEBUG, "ready; collector socket %s",
           ss_cfg.export_off ? "(none: export is off)"
           : ss_cfg.socket_path[0] ? ss_cfg.socket_path : "(the default places)");
}
