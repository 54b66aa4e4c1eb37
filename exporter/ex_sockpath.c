/*
 * ex_sockpath.c - the collector socket's location and trust (see ex_sockpath.h).
 *
 * A socket is trusted when it is a socket (not a link to one) owned by a
 * trusted uid, and every directory from its own up to / is owned by a
 * trusted uid and writable by nobody else, or sticky: in a sticky
 * directory only an entry's owner can remove or rename it, and every entry
 * on the way down is itself checked to be a trusted uid's. So
 * /tmp/spanshim.sock owned by root or by this user passes; owned by
 * anyone else it does not. The checks are a few stat calls, made when a
 * sender connects, never per span.
 */
#define _GNU_SOURCE
#include "ex_sockpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ex_sockpath_unusable(const char *path)
{
    size_t len = path ? strlen(path) : 0;

    if (len == 0)
        return "it is empty";
    if (path[0] != '/')
        return "it is not an absolute path";
    if (len >= EX_SOCKPATH_MAX)
        return "it is longer than a Unix socket address can be (107 bytes)";
    if (path[len - 1] == '/')
        return "it names a directory, not a socket";
    return NULL;
}

int ex_trust_parse(ex_trust_t *t, const char *list)
{
    const char *p = list;
    int ok = 1;

    t->n = 0;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        unsigned long long v = 0;
        size_t i;

        for (i = 0; i < len && p[i] >= '0' && p[i] <= '9' && v < UINT_MAX; i++)
            v = v * 10 + (unsigned)(p[i] - '0');
        if (len == 0 || i != len || v >= UINT_MAX || t->n == EX_TRUST_MAX)
            ok = 0;
        else
            t->uid[t->n++] = (uid_t)v;
        p = end ? end + 1 : NULL;
    }
    return ok;
}

int ex_trust_uid(const ex_trust_t *t, uid_t uid)
{
    unsigned i;

    if (uid == 0 || uid == getuid() || uid == geteuid())
        return 1;
    for (i = 0; t && i < t->n; i++)
        if (t->uid[i] == uid)
            return 1;
    return 0;
}

/* Is the runtime directory one only uid can enter? */
static int ex_runtime_dir_ok(const char *dir, uid_t uid)
{
    struct stat st;

    return dir && dir[0] == '/' &&
           strlen(dir) + sizeof("/" EX_SOCK_NAME) <= EX_SOCKPATH_MAX &&
           stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
           (st.st_mode & 077) == 0;
}

unsigned ex_sockpath_defaults(const char *runtime_dir, uid_t uid,
                              char out[][EX_SOCKPATH_MAX])
{
    unsigned n = 0;

    if (ex_runtime_dir_ok(runtime_dir, uid))
        snprintf(out[n++], EX_SOCKPATH_MAX, "%s/%s", runtime_dir, EX_SOCK_NAME);
    snprintf(out[n++], EX_SOCKPATH_MAX, "%s/spanshim-%u/%s", EX_SOCK_TMP_BASE,
             (unsigned)uid, EX_SOCK_NAME);
    snprintf(out[n++], EX_SOCKPATH_MAX, "%s/%s", EX_SOCK_HOST_DIR, EX_SOCK_NAME);
    return n;
}

/* real (resolved, absolute) and each directory above it; real is cut
 * down as the walk goes up. */
static int ex_dir_chain_safe(char *real, const ex_trust_t *t, char *why, size_t cap)
{
    struct stat st;

    for (;;) {
        char *slash;

        if (lstat(real, &st) < 0) {
            snprintf(why, cap, "cannot check directory %s: %s", real, strerror(errno));
            return 0;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(why, cap, "%s is not a directory", real);
            return 0;
        }
        if (!ex_trust_uid(t, st.st_uid)) {
            snprintf(why, cap, "directory %s is owned by uid %u, not root or this user",
                     real, (unsigned)st.st_uid);
            return 0;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
            snprintf(why, cap, "directory %s is writable by others and not sticky", real);
            return 0;
        }
        if (real[1] == '\0')
            return 1; /* that was / */
        slash = strrchr(real, '/');
        if (slash == real)
            slash[1] = '\0'; /* up to / itself */
        else
            slash[0] = '\0';
    }
}

int ex_sockpath_dir_safe(const char *dir, const ex_trust_t *t, char *why, size_t cap)
{
    char real[PATH_MAX];

    if (realpath(dir, real) == NULL) {
        snprintf(why, cap, "cannot resolve directory %s: %s", dir, strerror(errno));
        return 0;
    }
    return ex_dir_chain_safe(real, t, why, cap);
}

int ex_sockpath_check(const char *path, const ex_trust_t *t, dev_t *dev, ino_t *ino,
                      char *why, size_t cap)
{
    char dir[EX_SOCKPATH_MAX], real[PATH_MAX];
    const char *bad = ex_sockpath_unusable(path);
    struct stat st;

    if (bad) {
        snprintf(why, cap, "%s", bad);
        return EX_SOCK_REFUSED;
    }
    if (lstat(path, &st) < 0)
        return EX_SOCK_ABSENT; /* not there, or not ours to reach */
    if (S_ISLNK(st.st_mode)) {
        snprintf(why, cap, "it is a symbolic link");
        return EX_SOCK_REFUSED;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(why, cap, "it is not a socket");
        return EX_SOCK_REFUSED;
    }
    if (!ex_trust_uid(t, st.st_uid)) {
        snprintf(why, cap, "owned by uid %u, not root or this user (set "
                           "SPANSHIM_COLLECTOR_UID to trust it)", (unsigned)st.st_uid);
        return EX_SOCK_REFUSED;
    }
    memcpy(dir, path, (size_t)(strrchr(path, '/') - path));
    dir[strrchr(path, '/') - path] = '\0';
    if (realpath(dir[0] ? dir : "/", real) == NULL)
        return EX_SOCK_ABSENT;
    if (!ex_dir_chain_safe(real, t, why, cap))
        return EX_SOCK_REFUSED;
    if (dev)
        *dev = st.st_dev;
    if (ino)
        *ino = st.st_ino;
    return EX_SOCK_TRUSTED;
}

int ex_sockpath_find(const char *path, const char *runtime_dir, const ex_trust_t *t,
                     char out[EX_SOCKPATH_MAX], dev_t *dev, ino_t *ino, char *why,
                     size_t cap)
{
    char cand[EX_SOCKPATH_DEFAULTS][EX_SOCKPATH_MAX], later[256];
    unsigned n, i;
    int refused = 0;

    if (path && *path) {
        snprintf(out, EX_SOCKPATH_MAX, "%s", path);
        return ex_sockpath_check(out, t, dev, ino, why, cap);
    }
    n = ex_sockpath_defaults(runtime_dir, getuid(), cand);
    strcpy(out, cand[0]);
    for (i = 0; i < n; i++) {
        int r = ex_sockpath_check(cand[i], t, dev, ino, refused ? later : why,
                                  refused ? sizeof(later) : cap);

        if (r == EX_SOCK_TRUSTED) {
            strcpy(out, cand[i]);
            return r;
        }
        if (r == EX_SOCK_REFUSED && !refused) {
            strcpy(out, cand[i]); /* the first refusal is the one told */
            refused = 1;
        }
    }
    return refused ? EX_SOCK_REFUSED : EX_SOCK_ABSENT;
}

int ex_sockpath_private_dir(const char *base, uid_t uid, char *out, size_t outcap,
                            char *why, size_t cap)
{
    struct stat st;

    snprintf(out, outcap, "%s/spanshim-%u", base, (unsigned)uid);
    if (mkdir(out, 0700) < 0 && errno != EEXIST) {
        snprintf(why, cap, "cannot make %s: %s", out, strerror(errno));
        return 0;
    }
    if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, cap, "%s is not a directory", out);
        return 0;
    }
    if (st.st_uid != uid) {
        snprintf(why, cap, "%s is owned by uid %u, not %u", out, (unsigned)st.st_uid,
                 (unsigned)uid);
        return 0;
    }
    if (st.st_mode & 077) {
        snprintf(why, cap, "%s can be entered by others (mode %03o, not 700)", out,
                 (unsigned)(st.st_mode & 0777));
        return 0;
    }
    return 1;
}

int ex_sockpath_collector_default(const char *runtime_dir, uid_t uid,
                                  char out[EX_SOCKPATH_MAX], char *why, size_t cap)
{
    char dir[64]; /* /tmp/spanshim-UID */

    if (uid == 0) {
        if (mkdir(EX_SOCK_HOST_DIR, 0755) == 0)
            (void)chmod(EX_SOCK_HOST_DIR, 0755); /* whatever the umask */
        else if (errno != EEXIST) {
            snprintf(why, cap, "cannot make %s: %s", EX_SOCK_HOST_DIR, strerror(errno));
            return 0;
        }
        snprintf(out, EX_SOCKPATH_MAX, "%s/%s", EX_SOCK_HOST_DIR, EX_SOCK_NAME);
        return 1;
    }
    if (ex_runtime_dir_ok(runtime_dir, uid)) {
        snprintf(out, EX_SOCKPATH_MAX, "%s/%s", runtime_dir, EX_SOCK_NAME);
        return 1;
    }
    if (!ex_sockpath_private_dir(EX_SOCK_TMP_BASE, uid, dir, sizeof(dir), why, cap))
        return 0;
    snprintf(out, EX_SOCKPATH_MAX, "%s/%s", dir, EX_SOCK_NAME);
    return 1;
}
