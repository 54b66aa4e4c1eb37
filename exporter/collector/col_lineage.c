/*
 * col_lineage.c - senders judged by their ancestry (see col_lineage.h).
 *
 * /proc/PID/stat gives a process's parent (field 4) and start time (field
 * 22, clock ticks since boot), after a command name that may hold spaces
 * and parentheses, so fields are counted from its last ')'. /proc/PID/status
 * gives its real uid, the one the kernel puts in SCM_CREDENTIALS.
 *
 * A gone sender's uid may be new to the collector because the traced
 * program's workers of that uid have not sent yet (a CGI's curl ends
 * before the request that ran it). Then the tree is searched from the
 * root down (/proc/PID/task/TID/children), and every uid its live
 * processes run as is learnt: at most COL_LINEAGE_SCAN processes, at most
 * once every COL_LINEAGE_SCAN_MS, so a flood of such datagrams costs
 * little.
 */
#define _GNU_SOURCE
#include "col_lineage.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What a walk found for one process (a pid with its start time). */
typedef struct col_verdict {
    pid_t pid;
    unsigned long long start;
    uid_t uid; /* the sender's uid then */
    int descendant;
} col_verdict_t;

static struct {
    pid_t root;
    uid_t own_uid;
    char proc[256];
    col_verdict_t cache[COL_LINEAGE_CACHE];
    uid_t known[COL_LINEAGE_UIDS];
    unsigned n_known;
    unsigned long long scanned_ms; /* the last search of the tree; 0: none yet */
    pid_t queue[COL_LINEAGE_SCAN]; /* that search's processes */
} col_lin;

void col_lineage_init(pid_t root, uid_t own_uid, const char *proc)
{
    memset(&col_lin, 0, sizeof(col_lin));
    col_lin.root = root;
    col_lin.own_uid = own_uid;
    snprintf(col_lin.proc, sizeof(col_lin.proc), "%s", proc);
}

/* /proc/PID/name into buf; its length, or -1. */
static ssize_t col_read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[320];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%d/%s", col_lin.proc, (int)pid, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* The parent and start time of pid; 0 if it is gone. */
static int col_read_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
    char buf[1024], *p, *end;
    int field;

    if (col_read_proc(pid, "stat", buf, sizeof(buf)) <= 0 || (p = strrchr(buf, ')')) == NULL)
        return 0;
    for (field = 2; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
        if (p && field + 1 == 4)
            *ppid = (pid_t)strtol(p + 1, NULL, 10);
    }
    if (p == NULL)
        return 0;
    *start = strtoull(p + 1, &end, 10);
    return end != p + 1;
}

/* pid's real uid; 0 if it is gone. */
static int col_read_uid(pid_t pid, uid_t *uid)
{
    char buf[2048], *line, *end;
    unsigned long v;

    if (col_read_proc(pid, "status", buf, sizeof(buf)) <= 0 ||
        (line = strstr(buf, "\nUid:")) == NULL)
        return 0;
    v = strtoul(line + 5, &end, 10);
    *uid = (uid_t)v;
    return end != line + 5;
}

/* Is uid pid's real uid now? */
static int col_real_uid_is(pid_t pid, uid_t uid)
{
    uid_t now;

    return col_read_uid(pid, &now) && now == uid;
}

static int col_uid_known(uid_t uid)
{
    unsigned i;

    for (i = 0; i < col_lin.n_known; i++)
        if (col_lin.known[i] == uid)
            return 1;
    return 0;
}

static void col_uid_remember(uid_t uid)
{
    if (!col_uid_known(uid) && col_lin.n_known < COL_LINEAGE_UIDS)
        col_lin.known[col_lin.n_known++] = uid;
}

/* Do pid's parent links (ppid its parent) lead to the root? -1: a link
 * vanished on the way, so it cannot tell. */
static int col_descends(pid_t pid, pid_t ppid)
{
    unsigned long long start;
    unsigned depth;

    for (depth = 0; depth < COL_LINEAGE_DEPTH; depth++) {
        if (pid == col_lin.root)
            return 1;
        if (pid <= 1)
            return 0; /* init or the kernel: the top, without the root */
        pid = ppid;
        if (pid != col_lin.root && pid > 1 && !col_read_stat(pid, &ppid, &start))
            return -1;
    }
    return 0; /* deeper than any real tree: a loop, or not ours */
}

/* pid's children (every thread's) appended to the queue, as room allows. */
static void col_queue_children(pid_t pid, unsigned *n)
{
    char path[320], buf[4096], name[64], *p, *end;
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%d/task", col_lin.proc, (int)pid);
    if ((d = opendir(path)) == NULL)
        return;
    while ((e = readdir(d)) != NULL && *n < COL_LINEAGE_SCAN) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(name, sizeof(name), "task/%.20s/children", e->d_name);
        if (col_read_proc(pid, name, buf, sizeof(buf)) <= 0)
            continue;
        for (p = buf; *n < COL_LINEAGE_SCAN; p = end) {
            long child = strtol(p, &end, 10);

            if (end == p || child <= 0)
                break;
            col_lin.queue[(*n)++] = (pid_t)child;
        }
    }
    closedir(d);
}

static unsigned long long col_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* Learn the uid of every live process of the tree, from the root down. */
static void col_learn_tree_uids(void)
{
    unsigned long long now = col_mono_ms();
    unsigned head = 0, n = 0;

    if (col_lin.scanned_ms && now - col_lin.scanned_ms < COL_LINEAGE_SCAN_MS)
        return;
    col_lin.scanned_ms = now ? now : 1;
    col_lin.queue[n++] = col_lin.root;
    for (; head < n; head++) {
        uid_t uid;

        if (head > 0 && col_read_uid(col_lin.queue[head], &uid))
            col_uid_remember(uid);
        col_queue_children(col_lin.queue[head], &n);
    }
}

/* pid cannot be looked at: only its uid says anything. */
static col_lineage_t col_gone(uid_t uid)
{
    if (!col_uid_known(uid))
        col_learn_tree_uids();
    return col_uid_known(uid) ? COL_LINEAGE_KNOWN_UID : COL_LINEAGE_UNKNOWN;
}

col_lineage_t col_lineage_check(pid_t pid, uid_t uid)
{
    unsigned long long start;
    col_verdict_t *c;
    pid_t ppid = 0;
    int in;

    if (uid == col_lin.own_uid)
        return COL_LINEAGE_OWN_UID;
    if (pid <= 0 || !col_read_stat(pid, &ppid, &start))
        return col_gone(uid);
    c = &col_lin.cache[(unsigned)pid % COL_LINEAGE_CACHE];
    if (c->pid == pid && c->start == start && c->uid == uid)
        return c->descendant ? COL_LINEAGE_DESCENDANT : COL_LINEAGE_OUTSIDE;
    /* The pid names another process than the sender since, if its uid differs. */
    if (!col_real_uid_is(pid, uid))
        return col_gone(uid);
    in = col_descends(pid, ppid);
    /* A parent that exited mid-walk had its children moved: walk again. */
    if (in < 0 && col_read_stat(pid, &ppid, &start))
        in = col_descends(pid, ppid);
    if (in < 0)
        return col_gone(uid);
    c->pid = pid;
    c->start = start;
    c->uid = uid;
    c->descendant = in;
    if (in)
        col_uid_remember(uid);
    return in ? COL_LINEAGE_DESCENDANT : COL_LINEAGE_OUTSIDE;
}
