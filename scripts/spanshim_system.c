/*
 * spanshim_system.c - system-wide mode: the /etc/ld.so.preload entry.
 *
 *   spanshim enable-system [--lib PATH]   add the shim to /etc/ld.so.preload
 *   spanshim disable-system               take every copy of it out again
 *   spanshim check-config [FILE]          judge a preload.conf as a process will
 *
 * A line in /etc/ld.so.preload is read by every program that starts on the
 * host, so it is only ever written whole: the new content goes to a file
 * beside it, is synced, and renamed over it. Before the entry is added the
 * library must be root's in root's directories (whoever could change it
 * would run code in every process) and must load: a program is started
 * with it preloaded and the loader must not complain. Other entries of the
 * file are kept as they are. Which programs the shim then traces is
 * /etc/spanshim/preload.conf's business (preload/ss_select.h); a broken
 * one is refused here, with the reason, before it can turn tracing off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../exporter/ex_sockpath.h"
#include "../preload/ss_select.h"
#include "spanshim.h"

#define SR_PRELOAD "/etc/ld.so.preload"
#define SR_PRELOAD_MAX 65536
#define SR_LIB_NAME "libspanshim.so"

/* The whole of SR_PRELOAD into buf (empty if there is none); -1 on error. */
static ssize_t sr_preload_read(char *buf, size_t cap)
{
    ssize_t got = 0;
    int fd = open(SR_PRELOAD, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    for (;;) {
        ssize_t n = read(fd, buf + got, cap - (size_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (got += n) == (ssize_t)cap)
            break;
    }
    close(fd);
    if (got == (ssize_t)cap) {
        errno = EFBIG;
        return -1;
    }
    return got;
}

/* SR_PRELOAD replaced by text (or removed if text has no entry left). */
static int sr_preload_write(const char *text, size_t len)
{
    char tmp[] = SR_PRELOAD ".spanshim-XXXXXX";
    size_t i;
    int fd, dir;

    for (i = 0; i < len && strchr(" \t\r\n", text[i]); i++)
        ;
    if (i == len) {
        if (unlink(SR_PRELOAD) < 0 && errno != ENOENT)
            return -1;
        return 0;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, SR_PRELOAD) < 0) {
        unlink(tmp);
        return -1;
    }
    dir = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return 0;
}

/* Is this line of SR_PRELOAD (len bytes) an entry for a shim? Any path
 * whose file name is libspanshim.so, with or without blanks around it. */
static int sr_line_is_shim(const char *line, size_t len)
{
    const char *name;
    size_t n;

    while (len && strchr(" \t\r", *line))
        line++, len--;
    while (len && strchr(" \t\r", line[len - 1]))
        len--;
    n = strlen(SR_LIB_NAME);
    if (len < n)
        return 0;
    name = line + len - n;
    return memcmp(name, SR_LIB_NAME, n) == 0 && (name == line || name[-1] == '/') &&
           memchr(line, ' ', len) == NULL && memchr(line, '\t', len) == NULL;
}

/* text without the lines that are shim entries; *found if there was one. */
static size_t sr_preload_without(char *text, size_t len, int *found)
{
    size_t in = 0, out = 0;

    *found = 0;
    while (in < len) {
        const char *nl = memchr(text + in, '\n', len - in);
        size_t n = nl ? (size_t)(nl - (text + in)) + 1 : len - in;

        if (sr_line_is_shim(text + in, nl ? n - 1 : n))
            *found = 1;
        else {
            memmove(text + out, text + in, n);
            out += n;
        }
        in += n;
    }
    return out;
}

/* The library may go into every process: root's, in root's directories,
 * and loadable (the loader says nothing when it preloads it). */
static int sr_lib_fit(const char *lib, char *why, size_t cap)
{
    ex_trust_t root_only = {0};
    char dir[PATH_MAX], *slash;
    struct stat st;
    int pipefd[2], status;
    char out[320];
    ssize_t n;
    pid_t pid;

    if (lib[0] != '/' || stat(lib, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s is not a file (an absolute path is needed)", lib);
        return 0;
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(why, cap, "%s must be root's and writable by root only", lib);
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s", lib);
    slash = strrchr(dir, '/');
    *(slash == dir ? slash + 1 : slash) = '\0';
    if (!ex_sockpath_dir_safe(dir, &root_only, why, cap))
        return 0;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(why, cap, "pipe: %s", strerror(errno));
        return 0;
    }
    pid = fork();
    if (pid == 0) {
        char env[PATH_MAX + 16];
        char *envp[] = {env, "OTEL_SDK_DISABLED=true", NULL};
        char *argv[] = {"true", NULL};

        snprintf(env, sizeof(env), "LD_PRELOAD=%s", lib);
        dup2(pipefd[1], 2);
        execve("/bin/true", argv, envp);
        _exit(127);
    }
    close(pipefd[1]);
    n = pid > 0 ? read(pipefd[0], out, sizeof(out) - 1) : -1;
    close(pipefd[0]);
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || n != 0) {
        out[n > 0 ? n : 0] = '\0';
        snprintf(why, cap, "a program preloading %s did not start cleanly%s%.300s", lib,
                 n > 0 ? ": " : "", out);
        return 0;
    }
    return 1;
}

static int sr_check_config(const char *path, int quiet)
{
    char why[SS_SELECT_WHY];
    struct stat st;
    int r = ss_select_file(path, NULL, why, sizeof(why));

    if (r == SS_SELECT_BROKEN) {
        fprintf(stderr, "spanshim: %s\n", why);
        return 1;
    }
    if (stat(path, &st) < 0) {
        if (!quiet)
            fprintf(stderr, "spanshim: %s does not exist: no program is traced system-wide\n",
                    path);
        return 0;
    }
    if (!quiet)
        printf("%s: good\n", path);
    return 0;
}

static int sr_enable(const char *lib_arg)
{
    static char text[SR_PRELOAD_MAX + PATH_MAX + 2];
    char dir[PATH_MAX], lib[PATH_MAX], why[PATH_MAX + 512];
    ssize_t len;
    int found;

    if (lib_arg) {
        if (!realpath(lib_arg, lib)) {
            fprintf(stderr, "spanshim: %s: %s\n", lib_arg, strerror(errno));
            return 1;
        }
    } else {
        sr_self_dir(dir, sizeof(dir));
        if (!sr_find_lib(dir, lib, sizeof(lib))) {
            fprintf(stderr, "spanshim: libspanshim.so not found (--lib PATH)\n");
            return 1;
        }
    }
    if (!sr_lib_fit(lib, why, sizeof(why))) {
        fprintf(stderr, "spanshim: not enabled: %s\n", why);
        return 1;
    }
    if (sr_check_config(SS_SELECT_CONF, 0) != 0) {
        fprintf(stderr, "spanshim: not enabled: fix %s first\n", SS_SELECT_CONF);
        return 1;
    }
    len = sr_preload_read(text, SR_PRELOAD_MAX);
    if (len < 0) {
        fprintf(stderr, "spanshim: %s: %s\n", SR_PRELOAD, strerror(errno));
        return 1;
    }
    /* another copy's entry goes; this one's stays or is added, once */
    len = (ssize_t)sr_preload_without(text, (size_t)len, &found);
    if (len > 0 && text[len - 1] != '\n')
        text[len++] = '\n';
    len += snprintf(text + len, sizeof(text) - (size_t)len, "%s\n", lib);
    if (sr_preload_write(text, (size_t)len) < 0) {
        fprintf(stderr, "spanshim: cannot write %s: %s\n", SR_PRELOAD, strerror(errno));
        return 1;
    }
    printf("spanshim: %s is in %s; %s says which programs are traced\n", lib, SR_PRELOAD,
           SS_SELECT_CONF);
    return 0;
}

static int sr_disable(void)
{
    static char text[SR_PRELOAD_MAX];
    ssize_t len = sr_preload_read(text, sizeof(text));
    int found;

    if (len < 0) {
        fprintf(stderr, "spanshim: %s: %s\n", SR_PRELOAD, strerror(errno));
        return 1;
    }
    len = (ssize_t)sr_preload_without(text, (size_t)len, &found);
    if (!found) {
        printf("spanshim: system-wide mode was not on\n");
        return 0;
    }
    if (sr_preload_write(text, (size_t)len) < 0) {
        fprintf(stderr, "spanshim: cannot write %s: %s\n", SR_PRELOAD, strerror(errno));
        return 1;
    }
    printf("spanshim: taken out of %s; programs started from now on are not traced\n",
           SR_PRELOAD);
    return 0;
}

int sr_system(int argc, char **argv)
{
    const char *verb = argv[0];

    if (strcmp(verb, "check-config") == 0)
        return sr_check_config(argc > 1 ? argv[1] : SS_SELECT_CONF, 0);
    if (geteuid() != 0) {
        fprintf(stderr, "spanshim: %s changes %s: run it as root\n", verb, SR_PRELOAD);
        return 1;
    }
    if (strcmp(verb, "enable-system") == 0) {
        if (argc == 3 && strcmp(argv[1], "--lib") == 0)
            return sr_enable(argv[2]);
        if (argc == 1)
            return sr_enable(NULL);
    } else if (strcmp(verb, "disable-system") == 0 && argc == 1)
        return sr_disable();
    fprintf(stderr, "usage: spanshim enable-system [--lib PATH] | disable-system | "
                    "check-config [FILE]\n");
    return 2;
}
