/*
 * procprobe.c - HTTP requests from processes made every way a program makes
 * them. Each request's query names who made it (?who=NAME), and the probe
 * prints "NAME PID" for each, so the test can match spans to processes.
 *
 *   procprobe MODE PORT        MODE: fork forkexec vforkexec spawn daemon
 *                                    closerange dup2shim owntable stalefd starts
 *
 * owntable: the shim's flush thread holds an fd table of its own, with
 * its socket and none of the program's files. dup2shim: a seccomp filter
 * refuses pidfd_getfd (as profiles keeping it for CAP_SYS_PTRACE do), so
 * the thread stays in the program's table, and the program dup2()s a file
 * over the shim's socket there.
 *
 * starts: every way to start a program that the shim hooks (execl, execlp,
 * execle, posix_spawn, posix_spawnp, system, popen), each made to fail and
 * to succeed, its return value and errno checked against what glibc gives;
 * exit 0 if all are as they should be (else the first wrong one is said).
 * Then the calls that reap (wait, waitpid, wait3, wait4, waitid): with no
 * child, with a child still running (WNOHANG), one that exits, one killed
 * by SIGKILL, WNOWAIT then the reap, a NULL status.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int port;

/* One GET with Connection: close; returns 0 on a 200. */
static int get(const char *who)
{
    struct sockaddr_in sa;
    char req[256], buf[4096];
    ssize_t n, total = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return 1;
    n = snprintf(req, sizeof(req),
                 "GET /inventory?who=%s HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n", who);
    if (write(fd, req, (size_t)n) != n)
        return 1;
    while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    close(fd);
    buf[total] = '\0';
    printf("%s %d\n", who, (int)getpid());
    fflush(stdout);
    return strncmp(buf, "HTTP/1.1 200", 12) != 0 && strncmp(buf, "HTTP/1.0 200", 12) != 0;
}

static void url(char *out, size_t cap, const char *who)
{
    snprintf(out, cap, "http://127.0.0.1:%d/inventory?who=%s", port, who);
}

static int wait_child(pid_t pid)
{
    int st = 0;

    while (waitpid(pid, &st, 0) < 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* The shim's export socket: a datagram socket this program did not open. */
static int find_foreign_socket(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;

    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name), type = 0;
        socklen_t len = sizeof(type);

        if (fd > 2 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
            found = fd;
    }
    if (d)
        closedir(d);
    return found;
}

/* pidfd_getfd fails with EPERM from now on, in every thread made after. */
static int refuse_pidfd_getfd(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In the other threads' fd tables (the shim's flush thread's): how many
 * entries, how many sockets, and whether one is the file at path. */
static void other_tables(const char *path, int *entries, int *sockets, int *has_path)
{
    char dir[300], link[600], got[PATH_MAX];
    DIR *tasks = opendir("/proc/self/task"), *fds;
    struct dirent *t, *e;
    ssize_t n;

    *entries = *sockets = *has_path = 0;
    while (tasks && (t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.' || atoi(t->d_name) == (int)gettid())
            continue;
        snprintf(dir, sizeof(dir), "/proc/self/task/%s/fd", t->d_name);
        if ((fds = opendir(dir)) == NULL)
            continue;
        while ((e = readdir(fds)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
            if ((n = readlink(link, got, sizeof(got) - 1)) < 0)
                continue;
            got[n] = '\0';
            (*entries)++;
            *sockets += strncmp(got, "socket:", 7) == 0;
            *has_path |= strcmp(got, path) == 0;
        }
        closedir(fds);
    }
    if (tasks)
        closedir(tasks);
}

#define CHECK(cond, what)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "procprobe starts: %s (errno %d)\n", what, errno);     \
            return 5;                                                              \
        }                                                                          \
    } while (0)

/* A child that exits with code, or (code < 0) waits to be killed. */
static pid_t child(int code)
{
    pid_t pid = fork();

    if (pid == 0) {
        if (code < 0)
            for (;;)
                pause();
        _exit(code);
    }
    return pid;
}

static int waits(void)
{
    struct rusage ru;
    siginfo_t si;
    pid_t pid;
    int st;

    errno = 0;
    CHECK(wait(&st) == -1 && errno == ECHILD, "wait without a child");
    errno = 0;
    CHECK(waitpid(-1, NULL, 0) == -1 && errno == ECHILD, "waitpid without a child");
    errno = 0;
    CHECK(wait3(&st, WNOHANG, &ru) == -1 && errno == ECHILD, "wait3 without a child");
    errno = 0;
    CHECK(wait4(-1, &st, 0, NULL) == -1 && errno == ECHILD, "wait4 without a child");
    errno = 0;
    CHECK(waitid(P_ALL, 0, &si, WEXITED) == -1 && errno == ECHILD, "waitid without a child");
    errno = 0;
    CHECK(waitpid(-1, &st, 12345678) == -1 && errno == EINVAL, "waitpid with bad options");
    pid = child(-1);
    CHECK(waitpid(pid, &st, WNOHANG) == 0, "waitpid WNOHANG of a running child");
    memset(&si, 0, sizeof(si));
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0,
          "waitid WNOHANG of a running child");
    CHECK(kill(pid, SIGKILL) == 0, "kill");
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid &&
          si.si_code == CLD_KILLED && si.si_status == SIGKILL, "waitid WNOWAIT");
    CHECK(wait4(pid, &st, 0, &ru) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
          "wait4 of a killed child");
    pid = child(7);
    CHECK(wait(&st) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7, "wait's status");
    pid = child(0);
    CHECK(waitpid(pid, NULL, 0) == pid, "waitpid with no status");
    pid = child(3);
    CHECK(wait3(&st, 0, NULL) == pid && WEXITSTATUS(st) == 3, "wait3's status");
    pid = child(-1);
    kill(pid, SIGTERM);
    memset(&si, 0, sizeof(si));
    CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0 && si.si_pid == pid &&
          si.si_code == CLD_KILLED && si.si_status == SIGTERM, "waitid of a killed child");
    pid = child(9);
    CHECK(waitid(P_ALL, 0, NULL, WEXITED) == 0, "waitid with no siginfo");
    errno = 0;
    CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD, "reaped once");
    puts("starts ok");
    return 0;
}

static int starts(void)
{
    char *av[] = {"true", NULL}, line[16];
    pid_t pid;
    FILE *f;
    int r;

    errno = 0;
    CHECK(execl("/nonexistent/spanshim-x", "x", (char *)NULL) == -1 && errno == ENOENT, "execl");
    errno = 0;
    CHECK(execlp("spanshim-no-such-program", "x", (char *)NULL) == -1 && errno == ENOENT,
          "execlp");
    errno = 0;
    CHECK(execle("/nonexistent/spanshim-x", "x", (char *)NULL, environ) == -1 && errno == ENOENT,
          "execle");
    CHECK(posix_spawn(&pid, "/nonexistent/spanshim-x", NULL, NULL, av, environ) == ENOENT,
          "posix_spawn of a missing file");
    CHECK(posix_spawnp(&pid, "spanshim-no-such-program", NULL, NULL, av, environ) == ENOENT,
          "posix_spawnp of a missing name");
    CHECK(posix_spawnp(&pid, "true", NULL, NULL, av, environ) == 0 && wait_child(pid) == 0,
          "posix_spawnp of true");
    r = system("exit 3");
    CHECK(WIFEXITED(r) && WEXITSTATUS(r) == 3, "system's status");
    /* outside any request: the child is told no context */
    CHECK(system("test -z \"$TRACEPARENT\"") == 0, "TRACEPARENT outside a request");
    errno = 0;
    CHECK(popen("true", "x") == NULL && errno == EINVAL, "popen with a bad mode");
    f = popen("echo started", "r");
    CHECK(f != NULL && fgets(line, sizeof(line), f) != NULL && strcmp(line, "started\n") == 0,
          "popen's output");
    CHECK(pclose(f) == 0, "pclose");
    return waits();
}

int main(int argc, char **argv)
{
    const char *mode;
    char u[256];
    pid_t pid;
    int rc = 0;

    if (argc != 3)
        return 2;
    mode = argv[1];
    port = atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "starts") == 0)
        return starts();
    if (strcmp(mode, "fork") == 0) {
        rc |= get("parent-before");
        pid = fork();
        if (pid == 0)
            exit(get("child"));
        rc |= get("parent-after");
        rc |= wait_child(pid);
    } else if (strcmp(mode, "forkexec") == 0 || strcmp(mode, "vforkexec") == 0) {
        char *cargv[] = {"curl", "-s", "-o", "/dev/null", u, NULL};

        url(u, sizeof(u), mode);
        pid = strcmp(mode, "vforkexec") == 0 ? vfork() : fork();
        if (pid == 0) {
            execve("/usr/bin/curl", cargv, environ);
            _exit(127);
        }
        rc |= wait_child(pid);
        printf("%s %d\n", mode, (int)pid);
    } else if (strcmp(mode, "spawn") == 0) {
        char *cargv[] = {"curl", "-s", "-o", "/dev/null", u, NULL};

        url(u, sizeof(u), "spawn");
        if (posix_spawn(&pid, "/usr/bin/curl", NULL, NULL, cargv, environ) != 0)
            return 1;
        rc |= wait_child(pid);
        printf("spawn %d\n", (int)pid);
    } else if (strcmp(mode, "daemon") == 0) {
        /* daemon() forks, the parent exits, the child carries on detached. */
        if (daemon(1, 1) < 0)
            return 1;
        rc |= get("daemon");
    } else if (strcmp(mode, "closerange") == 0) {
        rc |= get("before-close-range");
        usleep(400000); /* let the first span leave on the export socket */
        if (close_range(3, ~0U, 0) < 0)
            return 1;
        rc |= get("after-close-range");
    } else if (strcmp(mode, "owntable") == 0) {
        char path[64];
        int fd, entries, sockets, has_path;

        rc |= get("before-own-table");
        usleep(400000); /* the flush thread has sent it */
        snprintf(path, sizeof(path), "/tmp/procprobe.%d", (int)getpid());
        fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        other_tables(path, &entries, &sockets, &has_path);
        fprintf(stderr, "other tables: %d entries, %d sockets, program's file %d\n", entries,
                sockets, has_path);
        /* Its socket, its handle on this process: nothing of the program's. */
        if (fd < 0 || find_foreign_socket() >= 0 || sockets != 1 || entries > 2 || has_path)
            rc = 1;
        close(fd);
        unlink(path);
        rc |= get("after-own-table");
    } else if (strcmp(mode, "dup2shim") == 0) {
        char path[64];
        struct stat st;
        int shim, fd;

        if (refuse_pidfd_getfd() < 0)
            return 1;
        rc |= get("before-dup2");
        usleep(400000);
        shim = find_foreign_socket();
        snprintf(path, sizeof(path), "/tmp/procprobe.%d", (int)getpid());
        fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (shim < 0 || fd < 0 || dup2(fd, shim) != shim)
            return 1;
        rc |= get("after-dup2");
        usleep(400000);
        rc |= get("after-dup2-again");
        /* Nothing of the shim's may have gone into the program's file. */
        if (fstat(shim, &st) < 0 || st.st_size != 0)
            rc = 1;
        unlink(path);
    } else if (strcmp(mode, "stalefd") == 0) {
        /* A connection closed where no hook sees it (a raw system call, as
         * glibc's own closes are): the file that gets its number next must
         * get exactly what is written to it, HTTP-looking or not. */
        static const char text[] = "GET /not-a-request HTTP/1.1\r\nHost: file\r\n\r\n";
        struct sockaddr_in sa;
        char path[64], back[256];
        int sock = socket(AF_INET, SOCK_STREAM, 0), fd;
        ssize_t n;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return 1;
        syscall(SYS_close, sock);
        snprintf(path, sizeof(path), "/tmp/procprobe-stale.%d", (int)getpid());
        fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (fd != sock)
            return 3; /* the number was not reused: the test proves nothing */
        if (write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1)
            return 1;
        n = pread(fd, back, sizeof(back), 0);
        close(fd);
        unlink(path);
        if (n != (ssize_t)sizeof(text) - 1 || memcmp(back, text, (size_t)n) != 0)
            return 4;
        rc |= get("stalefd");
    } else {
        return 2;
    }
    return rc;
}
