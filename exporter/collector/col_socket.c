/*
 * col_socket.c - bind, and at exit remove, the collector's socket (see
 * col_socket.h).
 *
 * Between looking at the path and moving the socket there, only a trusted
 * user could change the directory (its trust check says so), and a
 * socket that appears at an empty path in the meantime is not replaced:
 * the move into an empty path is a link(), which fails if the name exists.
 */
#define _GNU_SOURCE
#include "col_socket.h"
#include "../ex_sockpath.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define COL_TMP_SUFFIX 16 /* ".PID.tmp", the name the socket is bound under */

#define COL_BOUND_MAX 8 /* the datagram socket and the --otlp-listen ones */

static struct {
    char path[EX_SOCKPATH_MAX];
    dev_t dev;
    ino_t ino;
} col_bound[COL_BOUND_MAX];
static int col_n_bound;

const char *col_socket_path(const char *option, int *usage)
{
    static char def[EX_SOCKPATH_MAX];
    const char *path = option, *from = "--socket", *why;
    char err[256];

    *usage = 0;
    if (path == NULL) {
        path = getenv("SPANSHIM_SOCKET");
        from = "SPANSHIM_SOCKET";
    }
    if (option || (path && *path)) {
        why = ex_sockpath_unusable(path);
        if (why == NULL && strlen(path) + COL_TMP_SUFFIX >= EX_SOCKPATH_MAX)
            why = "it leaves no room for the name it is bound under first (at most 91 bytes)";
        if (why == NULL)
            return path;
        fprintf(stderr, "spanshim-collector: %s %.120s cannot be used: %s\n", from, path, why);
        *usage = 1;
        return NULL;
    }
    if (!ex_sockpath_collector_default(getenv("XDG_RUNTIME_DIR"), geteuid(), def, err,
                                       sizeof(err))) {
        fprintf(stderr, "spanshim-collector: no default socket: %s (give --socket PATH)\n",
                err);
        return NULL;
    }
    return def;
}

/* Owner-only, or owner and group (which must exist), or anyone's to
 * reach when the collector itself decides who may write. */
static int col_socket_access(const char *path, const char *group, int anyone)
{
    struct group *g;
    char *end = NULL;
    long gid;

    if (anyone)
        return chmod(path, 0666) == 0;
    if (group == NULL)
        return chmod(path, 0600) == 0;
    g = getgrnam(group);
    gid = g ? (long)g->gr_gid : strtol(group, &end, 10);
    if (g == NULL && (*end != '\0' || gid < 0)) {
        fprintf(stderr, "spanshim-collector: no group %s\n", group);
        return 0;
    }
    if (chown(path, (uid_t)-1, (gid_t)gid) < 0 || chmod(path, 0660) < 0) {
        fprintf(stderr, "spanshim-collector: cannot give group %s the socket: %s\n", group,
                strerror(errno));
        return 0;
    }
    return 1;
}

static int col_listens(const struct sockaddr_un *sa, int type)
{
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0), live;

    if (probe < 0)
        return 0;
    live = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(probe);
    return live;
}

enum { COL_PATH_TAKEN, COL_PATH_EMPTY, COL_PATH_STALE };

/* What is at the path now, and may the socket go there? */
static int col_path_state(const struct sockaddr_un *sa, int type)
{
    const char *path = sa->sun_path;
    struct stat st;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return COL_PATH_EMPTY;
        fprintf(stderr, "spanshim-collector: cannot look at %s: %s\n", path, strerror(errno));
    } else if (!S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "spanshim-collector: %s exists and is not a socket; not replacing it\n",
                path);
    } else if (st.st_uid != geteuid()) {
        fprintf(stderr, "spanshim-collector: %s is taken by uid %u; not replacing it\n", path,
                (unsigned)st.st_uid);
    } else if (col_listens(sa, type)) {
        fprintf(stderr, "spanshim-collector: a collector already listens on %s\n", path);
    } else {
        return COL_PATH_STALE; /* ours, and nobody listens: a collector that died */
    }
    return COL_PATH_TAKEN;
}

/* Senders check the directory; a socket they would refuse is no use. */
static int col_dir_safe(const char *path)
{
    char dir[EX_SOCKPATH_MAX], why[256];
    size_t len = (size_t)(strrchr(path, '/') - path);

    memcpy(dir, path, len);
    dir[len] = '\0';
    if (ex_sockpath_dir_safe(len ? dir : "/", NULL, why, sizeof(why)))
        return 1;
    fprintf(stderr, "spanshim-collector: will not bind %s: %s, so senders would not trust it\n",
            path, why);
    return 0;
}

/* The socket bound at tmp, moved to path: over our stale socket, or into
 * an empty name that must still be empty. */
static int col_put_in_place(const char *tmp, const char *path, int state)
{
    struct stat st;

    if (state == COL_PATH_STALE ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
        fprintf(stderr, "spanshim-collector: cannot put the socket at %s: %s\n", path,
                errno == EEXIST ? "something else appeared there" : strerror(errno));
        return 0;
    }
    if (state == COL_PATH_EMPTY)
        unlink(tmp);
    if (lstat(path, &st) < 0 || col_n_bound == COL_BOUND_MAX)
        return 0;
    snprintf(col_bound[col_n_bound].path, sizeof(col_bound[0].path), "%s", path);
    col_bound[col_n_bound].dev = st.st_dev;
    col_bound[col_n_bound].ino = st.st_ino;
    col_n_bound++;
    return 1;
}

/* A datagram socket ready before anyone can send: every datagram comes
 * with its sender, and the kernel may hold many. */
static void col_dgram_ready(int fd)
{
    int size = 8 << 20;

    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) < 0)
        fprintf(stderr, "spanshim-collector: cannot learn senders' credentials: %s\n",
                strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Bound under a temporary name, given its access, moved into place. */
static int col_socket_make(const char *path, int type, const char *group, int anyone)
{
    struct sockaddr_un sa, tmp;
    int fd, state;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (!col_dir_safe(path) || (state = col_path_state(&sa, type)) == COL_PATH_TAKEN)
        return -1;
    tmp = sa;
    snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.%d.tmp", path, (int)getpid());
    unlink(tmp.sun_path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0 ||
        (type == SOCK_STREAM && listen(fd, 128) < 0)) {
        fprintf(stderr, "spanshim-collector: cannot bind %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp.sun_path);
        return -1;
    }
    if (type == SOCK_DGRAM)
        col_dgram_ready(fd);
    if (!col_socket_access(tmp.sun_path, group, anyone) ||
        !col_put_in_place(tmp.sun_path, path, state)) {
        close(fd);
        unlink(tmp.sun_path);
        return -1;
    }
    return fd;
}

int col_socket_bind(const char *path, const char *group, int anyone)
{
    return col_socket_make(path, SOCK_DGRAM, group, anyone);
}

int col_socket_listen(const char *path, const char *group)
{
    if (strlen(path) + COL_TMP_SUFFIX >= EX_SOCKPATH_MAX) {
        fprintf(stderr, "spanshim-collector: %.120s: at most 91 bytes for a socket path\n",
                path);
        return -1;
    }
    return col_socket_make(path, SOCK_STREAM, group, 0);
}

void col_socket_remove(void)
{
    struct stat st;
    int i;

    for (i = 0; i < col_n_bound; i++)
        if (lstat(col_bound[i].path, &st) == 0 && st.st_dev == col_bound[i].dev &&
            st.st_ino == col_bound[i].ino)
            unlink(col_bound[i].path);
    col_n_bound = 0;
}
