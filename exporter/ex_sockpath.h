/*
 * ex_sockpath.h - where the collector's socket is, and whether to trust it.
 *
 * Spans carry URLs with their queries, peer addresses and service names:
 * they may only go to a socket that root, this user (real or effective
 * uid) or a uid the user named in SPANSHIM_COLLECTOR_UID owns, in
 * directories nobody else can swap it in. Any local user could bind a
 * socket at a fixed path in /tmp before the collector starts; that socket
 * is refused, and the default location is one others cannot take.
 *
 * Default location (SPANSHIM_SOCKET unset or empty), the first of
 *   $XDG_RUNTIME_DIR/spanshim.sock   the directory absolute, ours, 0700
 *   /tmp/spanshim-UID/spanshim.sock  a 0700 directory of ours (as tmux's)
 *   /run/spanshim/spanshim.sock      a root collector's, for the host
 * that holds a trusted socket. A root collector binds the last; any other
 * collector the first of the user's two.
 *
 * Shared by the shim (checked at every connect), the collector (the
 * directory it binds in) and `spanshim run`: libc's stat family only, no
 * sockets, nothing of the shim's, so each links it as it is.
 */
#ifndef EX_SOCKPATH_H
#define EX_SOCKPATH_H

#include <stddef.h>
#include <sys/types.h>

#define EX_SOCKPATH_MAX 108           /* sizeof(sun_path), with the NUL */
#define EX_SOCKPATH_DEFAULTS 3
#define EX_SOCK_NAME "spanshim.sock"
#define EX_SOCK_HOST_DIR "/run/spanshim"
#define EX_SOCK_TMP_BASE "/tmp"
#define EX_TRUST_MAX 16

/* Uids trusted besides root and this process's own (SPANSHIM_COLLECTOR_UID). */
typedef struct ex_trust {
    unsigned n;
    uid_t uid[EX_TRUST_MAX];
} ex_trust_t;

/* What a check found at a path. */
enum {
    EX_SOCK_REFUSED = -1, /* something is there that must not be trusted */
    EX_SOCK_ABSENT = 0,   /* nothing (yet), or not reachable */
    EX_SOCK_TRUSTED = 1,
};

/* NULL if path can be a Unix socket's address; else why not. */
const char *ex_sockpath_unusable(const char *path);

/* "1000,1001" into t (numeric uids). 0 if a part was not one (the
 * others are kept); NULL or empty is an empty list. */
int ex_trust_parse(ex_trust_t *t, const char *list);

/* Root, this process's real or effective uid, or one listed in t (may be NULL). */
int ex_trust_uid(const ex_trust_t *t, uid_t uid);

/* The default locations for uid, in order; returns how many. runtime_dir
 * ($XDG_RUNTIME_DIR, may be NULL) counts only if it is safe for uid. */
unsigned ex_sockpath_defaults(const char *runtime_dir, uid_t uid,
                              char out[][EX_SOCKPATH_MAX]);

/* May spans go to the socket at path? Every directory up to / is checked
 * too (symlinks in them resolved); the socket itself must not be a link.
 * REFUSED says why in why; TRUSTED gives the socket's dev/ino if asked
 * (to compare after connecting). */
int ex_sockpath_check(const char *path, const ex_trust_t *t, dev_t *dev, ino_t *ino,
                      char *why, size_t cap);

/* Is dir, and every directory above it, changeable by trusted users
 * only (or sticky)? 0 with why if not. */
int ex_sockpath_dir_safe(const char *dir, const ex_trust_t *t, char *why, size_t cap);

/* Where to send: path if not NULL or empty, else the first default with a
 * trusted socket. out holds the path found or refused. */
int ex_sockpath_find(const char *path, const char *runtime_dir, const ex_trust_t *t,
                     char out[EX_SOCKPATH_MAX], dev_t *dev, ino_t *ino, char *why,
                     size_t cap);

/* The collector's default, its directory made if missing (root:
 * /run/spanshim 0755; others /tmp/spanshim-UID 0700 unless the runtime
 * directory is safe). 0 with why if that directory is not safe to use. */
int ex_sockpath_collector_default(const char *runtime_dir, uid_t uid,
                                  char out[EX_SOCKPATH_MAX], char *why, size_t cap);

/* base/spanshim-UID, made 0700 if missing; 0 with why if it exists and
 * is not a directory of uid's that only uid can enter. */
int ex_sockpath_private_dir(const char *base, uid_t uid, char *out, size_t outcap,
                            char *why, size_t cap);

#endif
